"""What the shell talks to: an embedded database (one SQL session of its own) or a server.

Both targets run SQL and KV calls and report whether an explicit transaction is open; the
embedded one also reads the catalog for ``.tables``, ``.schema`` and completion. Imports
sochdb (Database, errors), sqlglot for re-reading stored CREATE statements, and the IPC
client on ``--connect``.
"""

from __future__ import annotations

import functools
import itertools
import os
from typing import Any, Iterator, Sequence

from sochdb.errors import NotSupportedError

#: Rows per multi-row INSERT when importing through a server.
REMOTE_CHUNK = 500


def quote_ident(name: str) -> str:
    """``name`` as a SQL identifier: bare when it is a plain lower-case word that is not a
    keyword, else double-quoted."""
    if name.isidentifier() and name.isascii() and name == name.lower() and \
            name.upper() not in _keywords():
        return name
    return '"' + name.replace('"', '""') + '"'


@functools.lru_cache(maxsize=1)
def _keywords() -> frozenset[str]:
    from sqlglot.dialects.duckdb import DuckDB
    return frozenset(k for k in DuckDB.Tokenizer.KEYWORDS if k.isalpha())


class LocalTarget:
    """An embedded database opened by the shell, with its own SQL session."""

    remote = False

    def __init__(self, db: Any, owned: bool = True) -> None:
        self.db = db
        self.session = db.session()
        self._owned = owned
        self.label = db.path

    @classmethod
    def open(cls, path: str) -> "LocalTarget":
        from sochdb import Database
        return cls(Database.open(path))

    # -- SQL ---------------------------------------------------------------------------------

    def execute(self, sql: str) -> Any:
        return self.session.execute(sql)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any:
        return self.session.executemany(sql, rows)

    @property
    def in_transaction(self) -> bool:
        return self.session.explicit is not None

    def interrupt(self) -> None:
        self.session.interrupt()

    def warm_up(self) -> None:
        """Run a trivial query on a session of its own, so that the modules the first
        statement needs (loaded lazily, about a second on a slow machine) are loaded while
        the user is still typing."""
        try:
            self.db.session().execute("SELECT 1")
        except Exception:  # noqa: BLE001 - only a head start; the real statement reports
            pass

    # -- catalog -----------------------------------------------------------------------------

    def _catalog(self) -> Any:
        txn = self.session.explicit
        if txn is not None and txn.status == "active":
            return txn.state.catalog  # DDL of the open transaction is visible to its shell
        return self.db._engine.catalog

    def table_names(self) -> list[str]:
        return self._catalog().table_names()

    def view_names(self) -> list[str]:
        return sorted(v.name for v in self._catalog().views.values())

    def columns(self, name: str) -> list[tuple[str, str]] | None:
        """``(column, SQL type)`` pairs of a table or view, or None when there is no such."""
        cat = self._catalog()
        tdef = cat.get(name)
        if tdef is not None and not tdef.hidden:
            return [(c.name, c.sql_type or str(c.type).upper()) for c in tdef.columns]
        if cat.view(name) is not None:
            try:
                r = self.session.execute(f"SELECT * FROM {quote_ident(name)} LIMIT 0")
            except Exception:  # noqa: BLE001 - a broken view simply has no known columns
                return []
            return list(zip(r.columns, r.types))
        return None

    def arrow_types(self, name: str) -> dict[str, Any]:
        """Arrow types of a table's plain (not nested) columns by lower-cased name, so that
        imported files are read as the table's types rather than guessed ones."""
        tdef = self._catalog().get(name)
        if tdef is None:
            return {}
        import pyarrow as pa
        return {c.name.lower(): c.type for c in tdef.columns if not pa.types.is_nested(c.type)}

    def schema(self, name: str | None = None) -> list[str]:
        """CREATE statements of one table or view, or of all of them (tables first)."""
        cat = self._catalog()
        out: list[str] = []
        names = [name] if name is not None else self.table_names() + self.view_names()
        for n in names:
            tdef = cat.get(n)
            if tdef is not None and not tdef.hidden:
                out.append(table_ddl(tdef) + ";")
                for ix in tdef.indexes:
                    unique = "UNIQUE " if ix.unique else ""
                    cols = ", ".join(quote_ident(c) for c in tdef.names_of(ix.columns))
                    out.append(f"CREATE {unique}INDEX {quote_ident(ix.name)} ON "
                               f"{quote_ident(tdef.name)} ({cols});")
                continue
            view = cat.view(n)
            if view is not None:
                cols = f" ({', '.join(quote_ident(c) for c in view.columns)})" \
                    if view.columns else ""
                out.append(f"CREATE VIEW {quote_ident(view.name)}{cols} AS {view.sql};")
        return out

    # -- KV and maintenance ------------------------------------------------------------------

    def kv_get(self, key: bytes) -> bytes | None:
        return self.db.get(key)

    def kv_put(self, key: bytes, value: bytes) -> None:
        self.db.put(key, value)

    def kv_delete(self, key: bytes) -> None:
        self.db.delete(key)

    def kv_scan(self, prefix: bytes, limit: int) -> tuple[list[tuple[bytes, bytes]], bool]:
        """Up to ``limit`` pairs under ``prefix`` in key order, and whether more exist."""
        return _take(self.db.scan_prefix(prefix), limit)

    def stats(self) -> dict[str, Any]:
        return self.db.stats()

    def checkpoint(self) -> int:
        return self.db.checkpoint()

    def close(self) -> None:
        if self.session.explicit is not None:
            try:
                self.session.execute("ROLLBACK")
            except Exception:  # noqa: BLE001 - closing must not fail on a dead transaction
                pass
        if self._owned:
            self.db.close()


class RemoteTarget:
    """A running ``sochdb-server`` reached through its Unix socket."""

    remote = True

    def __init__(self, client: Any, label: str) -> None:
        self.client = client
        self.label = label
        self._in_txn = False

    @classmethod
    def connect(cls, socket_path: str) -> "RemoteTarget":
        from sochdb.server.client import IpcClient
        return cls(IpcClient.connect(socket_path), os.fspath(socket_path))

    def execute(self, sql: str) -> Any:
        result = self.client.execute_sql(sql)
        kind = (getattr(result, "statement", "") or "").upper()
        if kind == "BEGIN":
            self._in_txn = True
        elif kind in ("COMMIT", "ROLLBACK"):
            self._in_txn = False
        return result

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any:
        """``INSERT ... VALUES (?, ...)`` for many rows: the server has no batched request,
        so rows go as multi-row INSERTs of REMOTE_CHUNK rows (one statement text per chunk
        size, so the server parses it once)."""
        head, sep, tuple_sql = sql.rpartition(" VALUES ")
        if not sep or not tuple_sql.startswith("(") or not tuple_sql.endswith(")"):
            raise NotSupportedError("over --connect only INSERT ... VALUES (?, ...) can run "
                                    "for many rows")
        result = None
        for i in range(0, len(rows), REMOTE_CHUNK):
            chunk = rows[i:i + REMOTE_CHUNK]
            text = head + " VALUES " + ", ".join([tuple_sql] * len(chunk))
            result = self.client.execute_sql(text, [v for row in chunk for v in row])
        return result

    @property
    def in_transaction(self) -> bool:
        return self._in_txn

    def interrupt(self) -> None:
        pass

    def warm_up(self) -> None:
        pass  # the server has its modules loaded

    def _no_catalog(self, what: str) -> NotSupportedError:
        return NotSupportedError(f"{what} is not available over --connect: the server does "
                                 f"not expose its catalog")

    def table_names(self) -> list[str]:
        raise self._no_catalog("listing tables")

    def view_names(self) -> list[str]:
        raise self._no_catalog("listing views")

    def columns(self, name: str) -> list[tuple[str, str]] | None:
        try:
            r = self.client.execute_sql(f"SELECT * FROM {quote_ident(name)} LIMIT 0")
        except Exception:  # noqa: BLE001 - unknown table: no columns to offer
            return None
        return list(zip(r.columns, r.types))

    def schema(self, name: str | None = None) -> list[str]:
        raise self._no_catalog(".schema")

    def kv_get(self, key: bytes) -> bytes | None:
        return self.client.get(key)

    def kv_put(self, key: bytes, value: bytes) -> None:
        self.client.put(key, value)

    def kv_delete(self, key: bytes) -> None:
        self.client.delete(key)

    def kv_scan(self, prefix: bytes, limit: int) -> tuple[list[tuple[bytes, bytes]], bool]:
        return _take(self.client.scan_prefix(prefix), limit)

    def stats(self) -> dict[str, Any]:
        s = dict(self.client.stats(include_database=True))
        db = s.pop("db", None) or {}
        s.update({f"db.{k}": v for k, v in db.items()})
        return s

    def checkpoint(self) -> int:
        return self.client.checkpoint()

    def close(self) -> None:
        self.client.close()


def _take(pairs: Iterator[tuple[bytes, bytes]], limit: int,
          ) -> tuple[list[tuple[bytes, bytes]], bool]:
    it = iter(pairs)
    got = list(itertools.islice(it, limit))
    more = next(it, None) is not None
    return got, more


def table_ddl(tdef: Any) -> str:
    """The table's CREATE statement: as written when it still matches the table's columns
    (it may not after ALTER TABLE, or when it was written as CREATE TABLE AS), else rebuilt
    from the catalog."""
    written = (tdef.sql or "").strip().rstrip(";").strip()
    if written and _written_columns(written) == [c.name.lower() for c in tdef.columns]:
        return written
    parts = []
    pk = tdef.primary_key
    single_pk = pk.columns[0] if pk is not None and len(pk.columns) == 1 else None
    for c in tdef.columns:
        s = f"{quote_ident(c.name)} {c.sql_type or str(c.type).upper()}"
        if c.id == single_pk:
            s += " PRIMARY KEY"
        elif c.not_null:
            s += " NOT NULL"
        if c.default is not None:
            s += f" DEFAULT {c.default}"
        parts.append(s)
    for u in tdef.uniques:
        if u.primary and single_pk is not None:
            continue
        cols = ", ".join(quote_ident(n) for n in tdef.names_of(u.columns))
        parts.append(f"{'PRIMARY KEY' if u.primary else 'UNIQUE'} ({cols})")
    for chk in tdef.checks:
        parts.append(f"CHECK ({chk.sql})")
    for fk in tdef.foreign_keys:
        cols = ", ".join(quote_ident(n) for n in tdef.names_of(fk.columns))
        refs = ", ".join(quote_ident(n) for n in fk.ref_columns)
        on_delete = f" ON DELETE {fk.on_delete}" if fk.on_delete != "RESTRICT" else ""
        parts.append(f"FOREIGN KEY ({cols}) REFERENCES {quote_ident(fk.ref_table)} "
                     f"({refs}){on_delete}")
    return f"CREATE TABLE {quote_ident(tdef.name)} (" + ", ".join(parts) + ")"


def _written_columns(sql: str) -> list[str] | None:
    """Lower-cased column names of a single ``CREATE TABLE name (...)`` statement, else None."""
    import sqlglot
    from sqlglot import exp
    try:
        stmts = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except Exception:  # noqa: BLE001 - unreadable text is simply not reused
        return None
    if len(stmts) != 1 or not isinstance(stmts[0], exp.Create):
        return None
    schema = stmts[0].this
    if not isinstance(schema, exp.Schema) or stmts[0].expression is not None:
        return None
    return [c.name.lower() for c in schema.expressions if isinstance(c, exp.ColumnDef)]
