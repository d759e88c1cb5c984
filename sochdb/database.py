"""Database: the embedded entry point that routes KV, SQL, transactions and maintenance.

One Database owns one Engine (one directory, one lock). KV calls outside a transaction are
one-operation commits through the engine's commit path; SQL goes to the session of the SQL
layer, created on first use so that KV-only programs never import the SQL machinery.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import Any, Iterator, Mapping, Sequence

from sochdb.config import Config
from sochdb.engine.engine import MEMORY, Engine
from sochdb.engine.fileio import FileSystem
from sochdb.kv.paths import path_key
from sochdb.kv.store import KVSnapshot, merge_sources, prefix_end
from sochdb.transaction import Transaction, as_bytes, check_bytes

#: The directory used when no path is given (as the server and shell do).
DEFAULT_PATH = "./sochdb_data"


class Database:
    """An open sochdb database directory (or ``":memory:"`` for a throwaway one)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sql_session = None
        self._sql_lock = threading.Lock()
        self._plugins = None
        self._vectors = None
        self._registry: dict = {}
        self._sessions: weakref.WeakSet = weakref.WeakSet()  # for interrupt()
        if engine.extra.get("plugins"):  # triggers stored with the database fire from the start
            from sochdb.plugins import PluginRegistry
            self._plugins = PluginRegistry(_store=engine)
        if any(k.startswith("vector_index:") and v for k, v in engine.extra.items()):
            from sochdb.vector.registry import registry_for
            self._vectors = registry_for(engine)  # the SQL planner finds indexes through it

    # -- lifecycle -----------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike = DEFAULT_PATH,
             config: Mapping[str, Any] | None = None, *, _fs: FileSystem | None = None,
             ) -> "Database":
        """Open (creating when ``create_if_missing``) the database at ``path``.

        Raises DatabaseLockedError when another process has it open, CorruptionError when a
        file fails its checksum, ConfigError for an unknown config key or bad value.
        """
        cfg = Config.from_mapping(config)
        p = os.fspath(path)
        db = cls(Engine(p, cfg, fs=_fs).open())
        return db

    @property
    def path(self) -> str:
        return self._engine.path

    @property
    def config(self) -> Config:
        return self._engine.config

    @property
    def closed(self) -> bool:
        return self._engine.closed

    def close(self) -> None:
        """Checkpoint (so the next open is fast) and release the directory lock."""
        if self._engine.closed:
            return
        if self._vectors is not None:
            self._vectors.close()
        from sochdb.vector.registry import close_registry
        close_registry(self._engine)  # also one created by SQL CREATE INDEX ... USING HNSW
        self._engine.close()

    def __enter__(self) -> "Database":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<sochdb.Database {self.path!r} {state}>"

    # -- KV ------------------------------------------------------------------------------

    def put(self, key: bytes, value: bytes) -> int:
        """Store ``value`` under ``key`` (a one-write commit); return the commit LSN."""
        check_bytes(key, "key")
        check_bytes(value, "value")
        return self._engine.commit_kv([as_bytes(key)], [as_bytes(value)])

    def get(self, key: bytes) -> bytes | None:
        """The value of ``key``, or None when it is absent (``b""`` is a value)."""
        check_bytes(key, "key")
        eng = self._engine
        if eng.closed:
            eng._check_open()
        found, value = KVSnapshot(eng.kv, eng.last_lsn).lookup(as_bytes(key))
        c = eng.counters
        c.cache_hits += 1  # served from memory; segment loads count as misses
        if value is not None:
            c.bytes_read += len(value)
        return value

    def delete(self, key: bytes) -> int:
        check_bytes(key, "key")
        return self._engine.commit_kv([as_bytes(key)], [None])

    def put_path(self, path: str, value: bytes) -> int:
        check_bytes(value, "value")
        return self._engine.commit_kv([path_key(path)], [as_bytes(value)])

    def get_path(self, path: str) -> bytes | None:
        return self.get(path_key(path))

    def delete_path(self, path: str) -> int:
        return self._engine.commit_kv([path_key(path)], [None])

    def put_many(self, items: Mapping[bytes, bytes] | Sequence[tuple[bytes, bytes]]) -> int:
        """Store many pairs in one commit."""
        pairs = list(items.items()) if isinstance(items, Mapping) else list(items)
        for k, v in pairs:
            check_bytes(k, "key")
            check_bytes(v, "value")
        if not pairs:
            return self._engine.last_lsn
        keys, values = zip(*pairs)
        return self._engine.commit_kv([as_bytes(k) for k in keys], [as_bytes(v) for v in values])

    def scan(self, start: bytes = b"", end: bytes | None = None) -> Iterator[tuple[bytes, bytes]]:
        """``(key, value)`` pairs with ``start <= key < end`` in key order.

        The view is taken when ``scan`` is called; later writes do not appear in it.
        """
        check_bytes(start, "start")
        if end is not None:
            check_bytes(end, "end")
        return self._scan(as_bytes(start) or None, None if end is None else as_bytes(end))

    def scan_prefix(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        """Every pair whose key starts with ``prefix`` (``b""``: all pairs)."""
        check_bytes(prefix, "prefix")
        p = as_bytes(prefix)
        return self._scan(p or None, prefix_end(p))

    def _scan(self, start: bytes | None, end: bytes | None) -> Iterator[tuple[bytes, bytes]]:
        eng = self._engine
        eng._check_open()
        snap = KVSnapshot(eng.kv, eng.last_lsn)
        eng.counters.cache_hits += 1
        return merge_sources(snap.sources(start, end))

    # -- query builder -------------------------------------------------------------------

    def query(self, prefix: str | bytes):
        """A query over JSON documents stored under a key prefix; results in TOON."""
        from sochdb.kv.query import Query
        return Query(self, prefix)

    # -- transactions --------------------------------------------------------------------

    def transaction(self, isolation: str | None = None) -> Transaction:
        """Begin a transaction: use it with ``with`` or call commit()/abort().

        ``isolation`` is ``"snapshot"`` (the default, or the config's ``isolation``) or
        ``"serializable"``: commit then also fails with TransactionConflictError when
        anything the transaction read (tables it scanned, keys it looked up, KV keys and
        ranges) was written by a transaction that committed after it started, which rules
        out write skew."""
        return Transaction(self, self._engine.begin(isolation=isolation))

    begin_transaction = transaction

    # -- SQL -----------------------------------------------------------------------------

    @property
    def _sql(self):
        if self._sql_session is None:
            with self._sql_lock:
                if self._sql_session is None:
                    from sochdb.sql.session import Session
                    self._sql_session = Session(self)
                    self._sessions.add(self._sql_session)
        return self._sql_session

    def session(self):
        """A separate SQL session (its own BEGIN/COMMIT state and settings), as a connection
        in other databases; servers give one to each client."""
        from sochdb.sql.session import Session
        s = Session(self)
        self._sessions.add(s)
        return s

    def interrupt(self) -> None:
        """Cancel the SQL statements running right now in every session of this database
        (from another thread): each fails with QueryInterruptedError and has no effect."""
        for s in list(self._sessions):
            s.interrupt()

    def execute_sql(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None):
        """Run one SQL statement (or a script of several) and return its Result."""
        return self._sql.execute(sql, params)

    execute = execute_sql

    def executemany(self, sql: str, seq_of_params: Sequence[Sequence[Any]]):
        """Run one statement for each parameter set, in one transaction, batched."""
        return self._sql.executemany(sql, seq_of_params)

    # -- plugins -------------------------------------------------------------------------

    @property
    def plugins(self):
        """This database's PluginRegistry (triggers fired by SQL writes), made on first use."""
        if self._plugins is None:
            with self._sql_lock:
                if self._plugins is None:
                    from sochdb.plugins import PluginRegistry
                    self._plugins = PluginRegistry(_store=self._engine)
        return self._plugins

    def register_plugin(self, plugin, persist: bool = False) -> None:
        """Register a PythonPlugin's triggers; ``persist=True`` stores it in the catalog so
        that it is registered again whenever the database opens."""
        self.plugins.register(plugin, persist=persist)

    def unregister_plugin(self, name: str) -> None:
        """Remove a plugin's triggers (and its stored copy, if it was persisted)."""
        self.plugins.unregister(name)

    # -- Arrow and pandas ----------------------------------------------------------------

    def insert_arrow(self, table: str, data: Any) -> int:
        """Append a pyarrow Table / RecordBatch / reader or pandas DataFrame to ``table``
        (columns matched by name) as one atomic commit; return the number of rows."""
        from sochdb.interop import insert_arrow
        return insert_arrow(self, table, data)

    def create_table_from(self, name: str, data: Any) -> int:
        """Create table ``name`` with the schema of ``data`` and load the rows."""
        from sochdb.interop import create_table_from
        return create_table_from(self, name, data)

    def register(self, name: str, obj: Any) -> None:
        """Make an Arrow table/reader/dataset or pandas DataFrame queryable as ``name``,
        read in place at each query (not copied into storage)."""
        from sochdb.interop import register
        register(self, name, obj)

    def unregister(self, name: str) -> None:
        from sochdb.interop import unregister
        unregister(self, name)

    # -- vector indexes ------------------------------------------------------------------

    def create_vector_index(self, name: str, dimension: int, metric: str = "cosine",
                            m: int = 16, ef_construction: int = 100, dtype: str | None = None):
        """Create a named, durable vector index and return it (a ``VectorIndex``).

        Args:
            name: 1-128 letters, digits, ``_``, ``.`` or ``-``.
            dimension: the length of every vector.
            metric: ``cosine``, ``l2`` (``euclidean``) or ``ip`` (``dot``); distances are
                lower-is-better (docs/vectors.md).
            m, ef_construction: HNSW graph degree and build breadth.
            dtype: graph precision: ``i8``, ``f16``, ``bf16`` or ``f32``; None picks ``i8``
                for cosine and ``f16`` for l2/ip. Results are re-ranked with the stored
                float32 vectors either way.

        Raises AlreadyExistsError when the name is taken.
        """
        from sochdb.vector.collection import create_collection
        self._engine._check_open()
        return create_collection(self._engine, name, dimension, metric, m, ef_construction,
                                 dtype)

    def vector_index(self, name: str):
        """The vector index ``name``; NotFoundError (listing the existing ones) if unknown."""
        from sochdb.vector.collection import open_collection
        self._engine._check_open()
        return open_collection(self._engine, name)

    def drop_vector_index(self, name: str) -> None:
        """Drop a vector index and its vectors (or an SQL ``USING HNSW`` index)."""
        from sochdb.vector.collection import drop_vector_index
        self._engine._check_open()
        drop_vector_index(self._engine, name)

    def vector_indexes(self) -> list[str]:
        """Names of the vector indexes made with ``create_vector_index``."""
        from sochdb.vector.collection import collection_names
        from sochdb.vector.registry import registry_for
        self._engine._check_open()
        return collection_names(registry_for(self._engine))

    # -- maintenance ---------------------------------------------------------------------

    def checkpoint(self) -> int:
        """Write everything to segment files and trim the WAL; return the LSN it covers."""
        return self._engine.checkpoint()

    def verify(self) -> list[str]:
        """Check the database's integrity; return the problems found (an empty list when
        healthy). ``PRAGMA integrity_check`` runs the same checks: WAL and manifest
        checksums, segment checksums and Arrow footers, row counts, index consistency, and
        PRIMARY KEY / UNIQUE / NOT NULL over the visible rows."""
        from sochdb.engine.verify import verify
        return verify(self._engine)

    def backup(self, path: str | os.PathLike) -> int:
        """Write a consistent copy of the database to the new directory ``path`` while
        other threads keep writing; return the LSN the copy holds. The copy opens with
        ``Database.open(path)`` like any database."""
        from sochdb.engine.backup import backup
        return backup(self._engine, os.fspath(path))

    def stats(self) -> dict[str, Any]:
        """Runtime statistics (the guide's keys plus a few more)."""
        eng = self._engine
        c = eng.counters
        return {
            "keys_count": eng.kv_keys_count(),
            "bytes_written": c.bytes_written,
            "bytes_read": c.bytes_read,
            "transactions_committed": c.transactions_committed,
            "transactions_aborted": c.transactions_aborted,
            "conflicts": c.conflicts,
            "cache_hits": c.cache_hits,
            "cache_misses": c.cache_misses,
            "wal_bytes": eng.wal_bytes(),
            "last_lsn": eng.last_lsn,
            "last_checkpoint_lsn": eng.checkpoint_lsn,
            "checkpoints": c.checkpoints,
            "active_transactions": len(eng.active),
            "tables": len(eng.catalog.table_names()),
            "memtable_bytes": eng.kv.mem.nbytes,
        }

    # -- TOON ----------------------------------------------------------------------------

    @staticmethod
    def to_toon(table: str, records: Sequence[Mapping[str, Any]],
                fields: Sequence[str] | None = None) -> str:
        """Records as the one-line TOON form: ``users[2]{name,email}:Alice,a@x;Bob,b@x``."""
        from sochdb.toon import to_compact
        return to_compact(table, records, fields)

    @staticmethod
    def from_toon(text: str) -> tuple[str, list[str], list[dict[str, Any]]]:
        """Parse the one-line TOON form back into ``(table, fields, records)``."""
        from sochdb.toon import from_compact
        return from_compact(text)


def open(path: str | os.PathLike = DEFAULT_PATH,  # noqa: A001 - mirrors Database.open
         config: Mapping[str, Any] | None = None) -> Database:
    return Database.open(path, config)


__all__ = ["Database", "DEFAULT_PATH", "MEMORY", "open"]
