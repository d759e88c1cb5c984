"""Request handlers of the IPC server: each turns one decoded request into one Database call.

Quick handlers return one reply frame and run on the event loop; long ones return a list of
frames and run on the worker pool (``Handlers._dispatch_tables`` says which). They see the
connection only through its ``txns``, ``failed``, ``session`` and ``version`` attributes.
Imports sochdb's public API (and the query builder), errors and the protocol.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from itertools import islice
from typing import Any

from sochdb.errors import ProgrammingError, ResourceLimitError, TransactionClosedError
from sochdb.server import protocol as P

log = logging.getLogger("sochdb.server")
_pack = P.HEADER.pack
_unpack_u64 = P.U64.unpack_from
_OK_EMPTY = P.frame(P.OK)
_OK_LSN = _pack(P.OK, 8)
_END = P.frame(P.END_STREAM)
_NOT_FOUND = {1: P.frame(P.VALUE), 2: P.frame(P.NOT_FOUND)}
_TYPE_RE = None  # compiled lazily (CREATE_TABLE only)


class Handlers:
    """Mixed into IpcServer, which provides ``db``, ``max_frame``, ``chunk`` and ``stats``."""

    db: Any
    max_frame: int
    chunk: int

    def _dispatch_tables(self) -> tuple[list, list]:
        inline: list[Callable | None] = [None] * 256
        slow: list[Callable | None] = [None] * 256
        T = P.TXN
        for op, h in ((P.GET, self._get), (P.PUT, self._put), (P.DELETE, self._delete),
                      (P.GET_PATH, self._get_path), (P.PUT_PATH, self._put_path),
                      (P.DELETE_PATH, self._delete_path), (P.BEGIN, self._begin),
                      (P.ABORT, self._abort), (P.PING, self._ping), (P.HELLO, self._hello),
                      (T | P.GET, self._txn_get), (T | P.PUT, self._txn_put),
                      (T | P.DELETE, self._txn_delete), (T | P.GET_PATH, self._txn_get_path),
                      (T | P.PUT_PATH, self._txn_put_path),
                      (T | P.DELETE_PATH, self._txn_delete_path)):
            inline[op] = h
        for op, h in ((P.COMMIT, self._commit), (P.SCAN, self._scan_prefix),
                      (P.SCAN_RANGE, self._scan_range), (P.QUERY, self._query),
                      (P.EXECUTE_SQL, self._sql), (P.CREATE_TABLE, self._create_table),
                      (P.CHECKPOINT, self._checkpoint), (P.STATS, self._stats),
                      (P.PUT_MANY, self._put_many), (T | P.SCAN, self._txn_scan_prefix),
                      (T | P.SCAN_RANGE, self._txn_scan_range), (T | P.QUERY, self._txn_query),
                      (T | P.EXECUTE_SQL, self._txn_sql)):
            slow[op] = h
        if self.db.config.sync_mode == "full":
            for op in (P.PUT, P.DELETE, P.PUT_PATH, P.DELETE_PATH):  # each write waits for fsync
                slow[op] = _as_slow(inline[op])
                inline[op] = None
        return inline, slow

    def _value(self, c: Any, v: bytes | None) -> bytes:
        if v is None:
            return _NOT_FOUND[c.version]
        if len(v) > self.max_frame:
            raise ResourceLimitError(f"value of {len(v)} bytes is over the {self.max_frame}-byte "
                                     f"frame limit (--max-frame-bytes)")
        return _pack(P.VALUE, len(v)) + v

    def _get(self, c: Any, p: bytes) -> bytes:
        return self._value(c, self.db.get(p))

    def _put(self, c: Any, p: bytes) -> bytes:
        k, v = P.decode_put(p)
        return _OK_LSN + P.U64.pack(self.db.put(k, v))

    def _delete(self, c: Any, p: bytes) -> bytes:
        return _OK_LSN + P.U64.pack(self.db.delete(p))

    def _get_path(self, c: Any, p: bytes) -> bytes:
        path, _ = P.decode_path(p, "GET_PATH")
        return self._value(c, self.db.get_path(path))

    def _put_path(self, c: Any, p: bytes) -> bytes:
        path, pos = P.decode_path(p, "PUT_PATH")
        return _OK_LSN + P.U64.pack(self.db.put_path(path, p[pos:]))

    def _delete_path(self, c: Any, p: bytes) -> bytes:
        path, _ = P.decode_path(p, "DELETE_PATH")
        return _OK_LSN + P.U64.pack(self.db.delete_path(path))

    def _ping(self, c: Any, p: bytes) -> bytes:
        return P.frame(P.PONG, bytes(p))

    def _hello(self, c: Any, p: bytes) -> bytes:
        version, client = P.decode_hello(p)
        if version < P.MIN_VERSION:
            raise ProgrammingError(f"protocol version {version} is not supported; this server "
                                   f"speaks versions {P.MIN_VERSION} to {P.VERSION}")
        c.version = min(version, P.VERSION)
        from sochdb import __version__
        log.debug("[Server] Connection %d: client %r, protocol version %d", c.id, client,
                  c.version)
        return P.frame(P.HELLO_OK, P.encode_hello_reply(
            c.version, self.max_frame, os.getpid(), f"sochdb-server {__version__}"))

    def _begin(self, c: Any, p: bytes) -> bytes:
        isolation = bytes(p).decode("utf-8") if p else None
        txn = self.db.transaction(isolation)
        c.txns[txn.id] = txn
        return P.frame(P.TXN_ID, P.U64.pack(txn.id))

    def _abort(self, c: Any, p: bytes) -> bytes:
        txn = self._pop_txn(c, p)
        c.failed.pop(txn.id, None)
        if txn.status == "active":
            txn.abort()
        return _OK_EMPTY

    def _commit(self, c: Any, p: bytes) -> list[bytes]:
        txn = self._pop_txn(c, p)
        failed = c.failed.pop(txn.id, None)
        if failed is not None:
            txn.abort()
            raise failed
        return [_OK_LSN + P.U64.pack(txn.commit())]

    def _pop_txn(self, c: Any, p: bytes):
        if len(p) < 8:
            raise P.malformed("transaction", "missing the 8-byte transaction id")
        tid = _unpack_u64(p)[0]
        txn = c.txns.pop(tid, None)
        if txn is None:
            raise _no_txn(tid)
        return txn

    def _txn(self, c: Any, p: bytes):
        tid, rest = P.txn_split(p)
        txn = c.txns.get(tid)
        if txn is None:
            raise _no_txn(tid)
        return txn, rest

    def _txn_get(self, c: Any, p: bytes) -> bytes:
        txn, k = self._txn(c, p)
        return self._value(c, txn.get(k))

    def _txn_write(self, c: Any, p: bytes, apply: Callable) -> bytes:
        """Apply one pipelined write; a failure marks the transaction so COMMIT aborts it
        (the client may have sent COMMIT before seeing this reply)."""
        txn, rest = self._txn(c, p)
        try:
            apply(txn, rest)
        except Exception as e:
            c.failed.setdefault(txn.id, e)
            raise
        return _OK_EMPTY

    def _txn_put(self, c: Any, p: bytes) -> bytes:
        return self._txn_write(c, p, lambda t, r: t.put(*P.decode_put(r)))

    def _txn_delete(self, c: Any, p: bytes) -> bytes:
        return self._txn_write(c, p, lambda t, r: t.delete(r))

    def _txn_get_path(self, c: Any, p: bytes) -> bytes:
        txn, rest = self._txn(c, p)
        return self._value(c, txn.get_path(P.decode_path(rest, "GET_PATH")[0]))

    def _txn_put_path(self, c: Any, p: bytes) -> bytes:
        def apply(t, r):
            path, pos = P.decode_path(r, "PUT_PATH")
            t.put_path(path, r[pos:])
        return self._txn_write(c, p, apply)

    def _txn_delete_path(self, c: Any, p: bytes) -> bytes:
        return self._txn_write(
            c, p, lambda t, r: t.delete_path(P.decode_path(r, "DELETE_PATH")[0]))

    # long requests (run on the pool; return a list of frames)

    def _entries(self, c: Any, pairs) -> list[bytes]:
        if c.version < 2:
            payload = P.encode_entries_v1(pairs)
            if len(payload) > self.max_frame:
                raise ResourceLimitError(f"scan result of {len(payload)} bytes is over the "
                                         f"frame limit; protocol version 2 streams it")
            return [P.frame(P.VALUE, payload)]
        out = [P.frame(P.ENTRIES, chunk) for chunk in P.entry_chunks(pairs, self.chunk)]
        out.append(_END)
        return out

    def _scan_prefix(self, c: Any, p: bytes) -> list[bytes]:
        return self._entries(c, self.db.scan_prefix(p))

    def _scan_range(self, c: Any, p: bytes) -> list[bytes]:
        return self._entries(c, self.db.scan(*P.decode_range(p)))

    def _txn_scan_prefix(self, c: Any, p: bytes) -> list[bytes]:
        txn, rest = self._txn(c, p)
        return self._entries(c, txn.scan_prefix(rest))

    def _txn_scan_range(self, c: Any, p: bytes) -> list[bytes]:
        txn, rest = self._txn(c, p)
        return self._entries(c, txn.scan(*P.decode_range(rest)))

    def _query_rows(self, source, p: bytes) -> list[bytes]:
        """Without columns: the raw pairs under the prefix; with columns: the query
        builder's ``select`` over the JSON documents there (values are one-row TOON)."""
        prefix, limit, offset, columns = P.decode_query(p)
        if columns:
            from sochdb.kv.query import Query
            q = Query(source, prefix).select(columns).offset(offset)
            pairs = q.limit(limit).to_list() if limit else q.to_list()
        else:
            pairs = islice(source.scan_prefix(prefix.encode("utf-8")), offset,
                           offset + limit if limit else None)
        payload = P.encode_query_rows(pairs)
        if len(payload) > self.max_frame:
            raise ResourceLimitError(f"QUERY result of {len(payload)} bytes is over the "
                                     f"frame limit; pass a limit")
        return [P.frame(P.VALUE, payload)]

    def _query(self, c: Any, p: bytes) -> list[bytes]:
        return self._query_rows(self.db, p)

    def _txn_query(self, c: Any, p: bytes) -> list[bytes]:
        txn, rest = self._txn(c, p)
        return self._query_rows(txn, rest)

    def _session(self, c: Any):
        if c.session is None:
            c.session = self.db.session()
        return c.session

    def _sql(self, c: Any, p: bytes) -> list[bytes]:
        sql, params = P.decode_sql(p)
        return P.result_frames(self._session(c).execute(sql, params), self.chunk)

    def _txn_sql(self, c: Any, p: bytes) -> list[bytes]:
        txn, rest = self._txn(c, p)
        sql, params = P.decode_sql(rest)
        return P.result_frames(self._session(c).execute(sql, params, txn=txn), self.chunk)

    def _create_table(self, c: Any, p: bytes) -> list[bytes]:
        self._session(c).execute(create_table_sql(p))
        return [_OK_EMPTY]

    def _checkpoint(self, c: Any, p: bytes) -> list[bytes]:
        return [_OK_LSN + P.U64.pack(self.db.checkpoint())]

    def _stats(self, c: Any, p: bytes) -> list[bytes]:
        data = json.dumps(self.stats(include_database=bool(p and p[0] & 1)))
        return [P.frame(P.STATS_REPLY, data.encode("utf-8"))]

    def _put_many(self, c: Any, p: bytes) -> list[bytes]:
        return [_OK_LSN + P.U64.pack(self.db.put_many(P.decode_entries(p)))]


def _as_slow(fn: Callable) -> Callable:
    return lambda c, p: [fn(c, p)]


def _no_txn(tid: int) -> TransactionClosedError:
    return TransactionClosedError(f"transaction {tid} is not open on this connection (it was "
                                  f"committed or aborted, or begun on another connection)")


def create_table_sql(p: bytes) -> str:
    """CREATE_TABLE's JSON payload ``{"table": name, "columns": [[name, type], ...]}`` as a
    CREATE TABLE statement, with identifiers quoted and type text checked."""
    global _TYPE_RE
    import re
    if _TYPE_RE is None:
        _TYPE_RE = re.compile(r"[A-Za-z][A-Za-z0-9_ (),]*\Z")
    try:
        spec = json.loads(bytes(p))
        table, columns = spec["table"], spec["columns"]
        cols = [(str(n), str(t)) for n, t in columns]
    except (ValueError, KeyError, TypeError) as e:
        raise P.malformed("CREATE_TABLE", f'expected {{"table": name, "columns": '
                                          f'[[name, type], ...]}} ({e})') from None
    if not isinstance(table, str) or not table or not cols:
        raise P.malformed("CREATE_TABLE", "a table name and at least one column are required")
    for name, typ in cols:
        if not _TYPE_RE.match(typ):
            raise ProgrammingError(f"CREATE_TABLE: column {name!r} has an invalid type "
                                   f"{typ!r}")

    def q(ident: str) -> str:
        return '"' + ident.replace('"', '""') + '"'
    return f"CREATE TABLE {q(table)} ({', '.join(f'{q(n)} {t}' for n, t in cols)})"


__all__ = ["Handlers", "create_table_sql"]
