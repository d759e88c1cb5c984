"""IpcClient: talk to a sochdb-server over its Unix socket with the embedded API's calls.

One blocking socket per client, one request/reply round trip per call (guarded by a lock, so
a client may be shared by threads). Remote transactions send their writes pipelined with the
next read or the commit. Imports sochdb.errors, sochdb.transaction's argument checks and the
protocol; pyarrow and the SQL Result class only when SQL is used.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from itertools import islice
from typing import Any

from sochdb.errors import (Error, InterfaceError, OperationalError, ResourceLimitError,
                           TransactionClosedError)
from sochdb.server import protocol as P
from sochdb.transaction import check_bytes

#: The socket file name inside a database directory.
SOCKET_NAME = "sochdb.sock"
#: Where ``sochdb-server`` listens when started without options.
DEFAULT_SOCKET = os.path.join(".", "sochdb_data", SOCKET_NAME)
#: Pipelined requests are sent in groups of at most this many frames / bytes, small enough to
#: sit in the socket buffer, so neither side can block the other on a full buffer.
PIPELINE_FRAMES = 256
PIPELINE_BYTES = 64 * 1024

_pack = P.HEADER.pack
_unpack = P.HEADER.unpack_from
_u32 = P.U32.pack
_u64 = P.U64.pack
_VALUE, _NOT_FOUND, _OK, _ERROR = P.VALUE, P.NOT_FOUND, P.OK, P.ERROR


def socket_path_for(path: str | os.PathLike) -> str:
    """A socket path as given, or ``<dir>/sochdb.sock`` for a database directory."""
    p = os.fspath(path)
    return os.path.join(p, SOCKET_NAME) if os.path.isdir(p) else p


class IpcClient:
    """A connection to a running ``sochdb-server``.

    Methods mirror Database: ``put/get/delete``, ``put_path/get_path/delete_path``,
    ``scan/scan_prefix``, ``query(prefix)``, ``begin_transaction()``, ``execute_sql``,
    ``checkpoint``, plus
    ``stats()`` (the server's counters) and ``ping()`` (round-trip seconds).
    """

    def __init__(self, path: str | os.PathLike, timeout: float | None = None) -> None:
        self.path = socket_path_for(path)
        self.timeout = timeout
        self._lock = threading.Lock()
        self._buf = b""
        self._closed = True
        self._server = None
        self._pending_aborts: list[int] = []
        self._version = 2
        self._max_frame = P.DEFAULT_MAX_FRAME
        self._sock = _open_socket(self.path, timeout)
        self._closed = False
        try:
            op, payload = self._exchange([P.frame(P.HELLO, P.encode_hello())])[1]
            if op != P.HELLO_OK:
                raise self._unexpected(op, payload, "HELLO")
        except BaseException:
            self._drop()
            raise
        self._version, self._max_frame, self.server_pid, self.server_name = \
            P.decode_hello_reply(payload)

    @classmethod
    def connect(cls, path: str | os.PathLike = DEFAULT_SOCKET,
                timeout: float | None = None) -> IpcClient:
        """Connect to the server listening on ``path`` (a socket, or a database directory).

        ``timeout`` bounds each reply wait in seconds (None: wait as long as a request takes).
        Raises InterfaceError when no server answers there, and the server's error (e.g.
        ResourceLimitError at --max-clients) when it refuses the connection."""
        return cls(path, timeout)

    @classmethod
    def spawn(cls, db_path: str | os.PathLike, timeout: float | None = None,
              **server_options: Any) -> IpcClient:
        """Start a ``sochdb-server`` for ``db_path`` and connect to it; ``close()`` stops it.

        ``server_options`` go to :func:`sochdb.server.start` (socket_path, max_clients,
        timeout_ms, log_level, ...)."""
        from sochdb.server.launch import start
        server = start(db_path, **server_options)
        try:
            client = cls(server.socket_path, timeout)
        except BaseException:
            server.stop()
            raise
        client._server = server
        return client

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def server(self):
        """The ServerProcess this client started with spawn(), else None."""
        return self._server

    @property
    def protocol_version(self) -> int:
        return self._version

    def close(self) -> None:
        """Close the connection (the server aborts this connection's open transactions);
        stop the server too when this client spawned it."""
        self._drop()
        if self._server is not None:
            server, self._server = self._server, None
            server.stop()

    def __enter__(self) -> IpcClient:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<sochdb.IpcClient {self.path!r} {'closed' if self._closed else 'open'}>"

    # -- KV --------------------------------------------------------------------------------

    def put(self, key: bytes, value: bytes) -> int:
        """Store ``value`` under ``key`` (one commit on the server); return its LSN."""
        check_bytes(key, "key")
        check_bytes(value, "value")
        return self._lsn(self._call(_pack(P.PUT, 4 + len(key) + len(value)) + _u32(len(key))
                                    + key + value))

    def get(self, key: bytes) -> bytes | None:
        """The value of ``key`` or None (``b""`` is a value)."""
        check_bytes(key, "key")
        op, p = self._call(_pack(P.GET, len(key)) + key)
        if op == _VALUE:
            return p
        if op == _NOT_FOUND:
            return None
        raise self._unexpected(op, p, "GET")

    def delete(self, key: bytes) -> int:
        check_bytes(key, "key")
        return self._lsn(self._call(_pack(P.DELETE, len(key)) + key))

    def put_path(self, path: str, value: bytes) -> int:
        check_bytes(value, "value")
        return self._lsn(self._call(P.frame(P.PUT_PATH, P.encode_path(path) + value)))

    def get_path(self, path: str) -> bytes | None:
        op, p = self._call(P.frame(P.GET_PATH, P.encode_path(path)))
        return self._value(op, p, "GET_PATH")

    def delete_path(self, path: str) -> int:
        return self._lsn(self._call(P.frame(P.DELETE_PATH, P.encode_path(path))))

    def put_many(self, items: Mapping[bytes, bytes] | Sequence[tuple[bytes, bytes]]) -> int:
        """Store many pairs in one commit (one frame); return its LSN."""
        pairs = list(items.items()) if isinstance(items, Mapping) else list(items)
        for k, v in pairs:
            check_bytes(k, "key")
            check_bytes(v, "value")
        payload = P.encode_put_many(pairs)
        if len(payload) > self._max_frame:
            raise ResourceLimitError(
                f"put_many of {len(pairs)} pairs needs a {len(payload)}-byte frame, over the "
                f"server's {self._max_frame}-byte limit; split it or use a transaction")
        return self._lsn(self._call(P.frame(P.PUT_MANY, payload)))

    def get_many(self, keys: Sequence[bytes]) -> list[bytes | None]:
        """Values of ``keys`` (None where absent), fetched with pipelined requests."""
        frames = []
        for k in keys:
            check_bytes(k, "key")
            frames.append(_pack(P.GET, len(k)) + k)
        out: list[bytes | None] = []
        for group in _groups(frames):
            early, last = self._exchange(group)
            early.append(last)
            out += [self._value(op, p, "GET") for op, p in early]
        return out

    def scan(self, start: bytes | str = b"", end: bytes | None = None,
             ) -> Iterator[tuple[bytes, bytes]]:
        """Pairs with ``start <= key < end`` in key order, as Database.scan.

        A str argument is a prefix (``client.scan("users/")``, the original IpcClient form).
        The pairs are read completely before the iterator is returned."""
        if isinstance(start, str):
            if end is not None:
                raise TypeError("scan(prefix: str) takes no end; pass bytes for a range")
            return self.scan_prefix(start)
        check_bytes(start, "start")
        if end is not None:
            check_bytes(end, "end")
        return iter(self._entries(self._stream([P.frame(P.SCAN_RANGE,
                                                        P.encode_range(start, end))])))

    def scan_prefix(self, prefix: bytes | str) -> Iterator[tuple[bytes, bytes]]:
        """Every pair whose key starts with ``prefix`` (a str prefix is UTF-8 encoded)."""
        prefix = _prefix_bytes(prefix)
        return iter(self._entries(self._stream([P.frame(P.SCAN, prefix)])))

    def query(self, prefix: str | bytes):
        """The query builder (``select``/``where``/``limit``/``offset``, results in TOON)
        over the JSON documents under ``prefix``, as Database.query. The documents are read
        with one SCAN (one snapshot) and filtered in this process."""
        from sochdb.kv.query import Query
        return Query(self, prefix)

    # -- transactions, SQL, maintenance ----------------------------------------------------

    def begin_transaction(self, isolation: str | None = None) -> RemoteTransaction:
        """Begin a transaction on the server (snapshot isolation, like Database.transaction)."""
        payload = isolation.encode("utf-8") if isolation else b""
        op, p = self._call(P.frame(P.BEGIN, payload))
        if op != P.TXN_ID or len(p) != 8:
            raise self._unexpected(op, p, "BEGIN")
        return RemoteTransaction(self, P.U64.unpack(p)[0])

    transaction = begin_transaction

    def execute_sql(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None):
        """Run SQL on the server (in this connection's session) and return its Result."""
        return self._result(self._stream([P.frame(P.EXECUTE_SQL, P.encode_sql(sql, params))]))

    execute = execute_sql

    def create_table(self, table: str, columns: Sequence[tuple[str, str]]) -> None:
        """CREATE TABLE through the original CREATE_TABLE request: ``[(name, type), ...]``."""
        body = json.dumps({"table": table, "columns": [list(c) for c in columns]})
        self._ok(self._call(P.frame(P.CREATE_TABLE, body.encode("utf-8"))), "CREATE_TABLE")

    def checkpoint(self) -> int:
        """Checkpoint the server's database; return the LSN it covers."""
        return self._lsn(self._call(P.frame(P.CHECKPOINT)))

    def stats(self, include_database: bool = False) -> dict[str, Any]:
        """Server counters (``connections_active``, ``requests_success``, ``uptime_secs``,
        ``active_transactions``...); ``include_database`` adds the database's stats as
        ``db``."""
        op, p = self._call(P.frame(P.STATS, b"\x01" if include_database else b""))
        if op != P.STATS_REPLY:
            raise self._unexpected(op, p, "STATS")
        return json.loads(p)

    def ping(self) -> float:
        """Round-trip time of one PING, in seconds."""
        t = time.perf_counter()
        op, p = self._call(P.frame(P.PING))
        dt = time.perf_counter() - t
        if op != P.PONG:
            raise self._unexpected(op, p, "PING")
        return dt

    # -- framing ---------------------------------------------------------------------------

    def _call(self, data: bytes) -> tuple[int, bytes]:
        """Send one request frame and read its single reply frame."""
        if self._closed:
            raise InterfaceError(f"the connection to {self.path} is closed")
        with self._lock:
            if self._pending_aborts:
                self._send_aborts()
            try:
                self._sock.sendall(data)
            except OSError as e:
                raise self._lost(e) from None
            return self._read()

    def _exchange(self, frames: list[bytes], stream_last: bool = False):
        """Send ``frames`` in one write; return (replies to all but the last, last reply).

        The last reply is a list of frames when ``stream_last`` (up to END_STREAM)."""
        if self._closed:
            raise InterfaceError(f"the connection to {self.path} is closed")
        with self._lock:
            if self._pending_aborts:
                self._send_aborts()
            try:
                self._sock.sendall(b"".join(frames))
            except OSError as e:
                raise self._lost(e) from None
            early = [self._read() for _ in range(len(frames) - 1)]
            return early, (self._read_stream() if stream_last else self._read())

    def _stream(self, frames: list[bytes]) -> list[tuple[int, bytes]]:
        early, last = self._exchange(frames, stream_last=True)
        for op, p in early:
            if op == _ERROR:
                raise P.decode_error(p, self._version)
        return last

    def _read(self) -> tuple[int, bytes]:
        buf = self._buf
        try:
            while len(buf) < 5:
                chunk = self._sock.recv(65536)
                if not chunk:
                    raise self._lost(None)
                buf += chunk
            op, n = _unpack(buf)
            end = 5 + n
            if len(buf) >= end:
                self._buf = buf[end:] if len(buf) > end else b""
                return op, buf[5:end]
            if n > max(self._max_frame, P.DEFAULT_MAX_FRAME) + 64:
                self._drop()
                raise InterfaceError(f"reply frame of {n} bytes is over the frame limit; "
                                     f"the connection was closed")
            whole = bytearray(end)
            whole[:len(buf)] = buf
            view = memoryview(whole)
            got = len(buf)
            while got < end:
                k = self._sock.recv_into(view[got:end])
                if not k:
                    raise self._lost(None)
                got += k
            self._buf = b""
            return op, view[5:].tobytes()
        except TimeoutError:
            self._drop()
            raise OperationalError(f"no reply from the server at {self.path} within "
                                   f"{self.timeout} s; the connection was closed") from None
        except InterfaceError:
            raise
        except OSError as e:
            raise self._lost(e) from None

    def _read_stream(self) -> list[tuple[int, bytes]]:
        frames = []
        while True:
            op, p = self._read()
            if op == P.END_STREAM or op == _ERROR:
                frames.append((op, p))
                return frames
            frames.append((op, p))
            if op not in (P.ENTRIES, P.RESULT, P.ARROW):  # a single-frame reply (version 1)
                return frames

    def _send_aborts(self) -> None:
        ids, self._pending_aborts[:] = list(self._pending_aborts), []
        try:
            self._sock.sendall(b"".join(P.frame(P.ABORT, _u64(i)) for i in ids))
            for _ in ids:
                self._read()  # TransactionClosedError replies are fine here
        except (OSError, InterfaceError):
            pass

    def _lost(self, e: OSError | None) -> Error:
        """The error to raise when the connection broke: the server's own goodbye (idle
        timeout, frame limit) when it sent one, else a clear InterfaceError."""
        goodbye = None
        try:
            self._sock.setblocking(False)
            data = self._buf + self._sock.recv(65536)
            if len(data) >= 5 and data[0] == _ERROR:
                n = P.U32.unpack_from(data, 1)[0]
                goodbye = P.decode_error(data[5:5 + n], self._version)
        except OSError:
            pass
        self._drop()
        if goodbye is not None:
            return goodbye
        why = f" ({e.strerror or e})" if e is not None else ""
        return InterfaceError(f"the server at {self.path} closed the connection{why}; is it "
                              f"still running? check with `sochdb-server status --db DIR`")

    def _drop(self) -> None:
        if not self._closed:
            self._closed = True
            try:
                self._sock.close()
            except OSError:
                pass

    # -- reply decoding --------------------------------------------------------------------

    def _unexpected(self, op: int, p: bytes, what: str) -> Error:
        if op == _ERROR:
            return P.decode_error(p, self._version)
        return InterfaceError(f"unexpected {P.REPLY_NAMES.get(op, hex(op))} reply to {what}")

    def _value(self, op: int, p: bytes, what: str) -> bytes | None:
        if op == _VALUE:
            return p
        if op == _NOT_FOUND:
            return None
        raise self._unexpected(op, p, what)

    def _lsn(self, reply: tuple[int, bytes]) -> int:
        op, p = reply
        if op != _OK:
            raise self._unexpected(op, p, "write")
        return P.U64.unpack(p)[0] if len(p) == 8 else 0

    def _ok(self, reply: tuple[int, bytes], what: str) -> None:
        if reply[0] != _OK:
            raise self._unexpected(reply[0], reply[1], what)

    def _entries(self, frames: list[tuple[int, bytes]]) -> list[tuple[bytes, bytes]]:
        out: list[tuple[bytes, bytes]] = []
        for op, p in frames:
            if op == P.ENTRIES:
                out += P.decode_entries(p)
            elif op == _VALUE:
                out += P.decode_query_rows(p, key_width=2)
            elif op != P.END_STREAM:
                raise self._unexpected(op, p, "SCAN")
        return out

    def _result(self, frames: list[tuple[int, bytes]]):
        op, p = frames[0]
        if op != P.RESULT:
            raise self._unexpected(op, p, "EXECUTE_SQL")
        meta = json.loads(p)
        table = None
        if meta["has_table"]:
            table = P.decode_arrow(b"".join(q for o, q in frames[1:] if o == P.ARROW))
        from sochdb.sql.result import Result
        return Result(table, meta["columns"], meta["rowcount"], meta["message"],
                      meta["statement"])


class RemoteTransaction:
    """A transaction held by the server for this connection; the embedded Transaction's
    methods. Writes are queued and sent with the next request (one round trip)."""

    def __init__(self, client: IpcClient, txn_id: int) -> None:
        self._client = client
        self._id = txn_id
        self._head = _u64(txn_id)
        self._status = "active"
        self._queued: list[bytes] = []
        self._queued_bytes = 0

    @property
    def id(self) -> int:
        return self._id

    @property
    def status(self) -> str:
        """'active', 'committed' or 'aborted'."""
        return self._status

    def _check_open(self) -> None:
        if self._status != "active":
            raise TransactionClosedError(
                f"transaction {self._id} is already {self._status}; start a new one")

    def _queue(self, op: int, body: bytes) -> None:
        self._check_open()
        f = _pack(P.TXN | op, 8 + len(body)) + self._head + body
        self._queued.append(f)
        self._queued_bytes += len(f)
        if len(self._queued) >= PIPELINE_FRAMES or self._queued_bytes >= PIPELINE_BYTES:
            self._send(None)

    def _send(self, request: bytes | None, stream: bool = False):
        """Send queued writes plus ``request``; raise the first failure among the writes."""
        frames, self._queued, self._queued_bytes = self._queued, [], 0
        if request is not None:
            frames.append(request)
        elif not frames:
            return None
        try:
            early, last = self._client._exchange(frames, stream_last=stream)
        except Error:
            self._status = "aborted"
            raise
        replies = early if request is not None else early + [last]
        for op, p in replies:
            if op != _OK:  # the server has marked the transaction failed: commit will abort
                raise self._client._unexpected(op, p, "transaction write")
        return last

    def _request(self, op: int, body: bytes, stream: bool = False):
        self._check_open()
        return self._send(_pack(P.TXN | op, 8 + len(body)) + self._head + body, stream)

    # -- KV --------------------------------------------------------------------------------

    def put(self, key: bytes, value: bytes) -> None:
        check_bytes(key, "key")
        check_bytes(value, "value")
        self._queue(P.PUT, _u32(len(key)) + key + value)

    def get(self, key: bytes) -> bytes | None:
        check_bytes(key, "key")
        op, p = self._request(P.GET, bytes(key))
        return self._client._value(op, p, "GET")

    def delete(self, key: bytes) -> None:
        check_bytes(key, "key")
        self._queue(P.DELETE, bytes(key))

    def put_path(self, path: str, value: bytes) -> None:
        check_bytes(value, "value")
        self._queue(P.PUT_PATH, P.encode_path(path) + value)

    def get_path(self, path: str) -> bytes | None:
        op, p = self._request(P.GET_PATH, P.encode_path(path))
        return self._client._value(op, p, "GET_PATH")

    def delete_path(self, path: str) -> None:
        self._queue(P.DELETE_PATH, P.encode_path(path))

    def scan(self, start: bytes | str = b"", end: bytes | None = None,
             ) -> Iterator[tuple[bytes, bytes]]:
        """Pairs with ``start <= key < end`` seen by this transaction (a str is a prefix)."""
        if isinstance(start, str):
            if end is not None:
                raise TypeError("scan(prefix: str) takes no end; pass bytes for a range")
            return self.scan_prefix(start)
        check_bytes(start, "start")
        if end is not None:
            check_bytes(end, "end")
        frames = self._request(P.SCAN_RANGE, P.encode_range(bytes(start), end), stream=True)
        return iter(self._client._entries(frames))

    def scan_prefix(self, prefix: bytes | str) -> Iterator[tuple[bytes, bytes]]:
        frames = self._request(P.SCAN, _prefix_bytes(prefix), stream=True)
        return iter(self._client._entries(frames))

    def scan_batched(self, start: bytes = b"", end: bytes | None = None,
                     batch_size: int = 1000) -> Iterator[tuple[bytes, bytes]]:
        """Like ``scan`` (the server already sends pairs in batches)."""
        if not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        return self.scan(start, end)

    def scan_batches(self, start: bytes = b"", end: bytes | None = None,
                     batch_size: int = 1000) -> Iterator[list[tuple[bytes, bytes]]]:
        """Lists of up to ``batch_size`` pairs."""
        it = self.scan_batched(start, end, batch_size)
        while True:
            chunk = list(islice(it, batch_size))
            if not chunk:
                return
            yield chunk

    # -- SQL -------------------------------------------------------------------------------

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None):
        """Run SQL inside this transaction on the server; return its Result."""
        frames = self._request(P.EXECUTE_SQL, P.encode_sql(sql, params), stream=True)
        return self._client._result(frames)

    execute_sql = execute

    # -- end -------------------------------------------------------------------------------

    def commit(self) -> int:
        """Commit on the server; return the LSN. Raises TransactionConflictError when a
        concurrent transaction committed a conflicting write first."""
        self._check_open()
        frames, self._queued, self._queued_bytes = self._queued, [], 0
        frames.append(P.frame(P.COMMIT, self._head))
        try:
            early, (op, p) = self._client._exchange(frames)
        except Error:
            self._status = "aborted"
            raise
        self._status = "aborted"
        for eop, ep in early:
            if eop != _OK:
                raise self._client._unexpected(eop, ep, "transaction write")
        if op != _OK:
            raise self._client._unexpected(op, p, "COMMIT")
        self._status = "committed"
        return P.U64.unpack(p)[0] if len(p) == 8 else 0

    def abort(self) -> None:
        """Abort on the server; queued writes are dropped unsent."""
        self._check_open()
        self._queued, self._queued_bytes = [], 0
        self._status = "aborted"
        op, p = self._client._call(P.frame(P.ABORT, self._head))
        if op != _OK:
            raise self._client._unexpected(op, p, "ABORT")

    rollback = abort

    def __enter__(self) -> RemoteTransaction:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._status != "active":
            return
        if exc_type is None:
            self.commit()
        elif not self._client.closed:
            self.abort()

    def __del__(self) -> None:
        # Never talk to the server from the garbage collector: the abort rides along with
        # the client's next request.
        if getattr(self, "_status", None) == "active":
            client = self._client
            if not client.closed:
                client._pending_aborts.append(self._id)

    def __repr__(self) -> str:
        return f"<RemoteTransaction id={self._id} {self._status}>"


def _prefix_bytes(prefix: bytes | str) -> bytes:
    if isinstance(prefix, str):
        return prefix.encode("utf-8")
    check_bytes(prefix, "prefix")
    return bytes(prefix)


def _groups(frames: list[bytes]) -> Iterator[list[bytes]]:
    group: list[bytes] = []
    size = 0
    for f in frames:
        if group and (len(group) >= PIPELINE_FRAMES or size + len(f) > PIPELINE_BYTES):
            yield group
            group, size = [], 0
        group.append(f)
        size += len(f)
    if group:
        yield group


def _open_socket(path: str, timeout: float | None) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(path)
    except FileNotFoundError:
        sock.close()
        raise InterfaceError(f"no sochdb server at {path}: the socket file does not exist; "
                             f"start one with `sochdb-server --db DIR`") from None
    except ConnectionRefusedError:
        sock.close()
        raise InterfaceError(f"no sochdb server is listening on {path} (a socket left by a "
                             f"server that stopped?); start one with `sochdb-server --db DIR`"
                             ) from None
    except PermissionError:
        sock.close()
        raise InterfaceError(f"permission denied on {path}: the server's socket is owner-only "
                             f"unless it was started with --socket-mode") from None
    except OSError as e:
        sock.close()
        raise InterfaceError(f"cannot connect to {path}: {e.strerror or e}") from None
    return sock


__all__ = ["IpcClient", "RemoteTransaction", "socket_path_for", "SOCKET_NAME"]
