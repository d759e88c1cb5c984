"""The public Transaction: KV and SQL in one snapshot, committed or aborted together.

Usable as a context manager (commit on success, abort on an exception) or as a plain object
with ``commit()`` / ``abort()``. Argument checking lives here so the engine's hot paths stay
free of it. Imports the engine's transaction state and, lazily, the SQL session.
"""

from __future__ import annotations

from itertools import islice
from typing import TYPE_CHECKING, Any, Iterator, Sequence

from sochdb.engine.transaction import TxnState
from sochdb.kv.paths import path_key
from sochdb.kv.store import prefix_end

if TYPE_CHECKING:
    from sochdb.database import Database


def check_bytes(value: object, what: str) -> None:
    if type(value) is not bytes:
        if isinstance(value, str):
            raise TypeError(f"{what} must be bytes, not str; encode it first, "
                            f"e.g. {value[:20]!r}.encode()")
        if isinstance(value, (bytearray, memoryview)):
            return
        raise TypeError(f"{what} must be bytes, not {type(value).__name__}")


def as_bytes(value: Any) -> bytes:
    return value if type(value) is bytes else bytes(value)


class Transaction:
    """A snapshot-isolated transaction over KV data and SQL tables."""

    __slots__ = ("_db", "_state", "__weakref__")

    def __init__(self, db: "Database", state: TxnState) -> None:
        self._db = db
        self._state = state

    @property
    def id(self) -> int:
        return self._state.id

    @property
    def state(self) -> TxnState:
        return self._state

    @property
    def status(self) -> str:
        """'active', 'committed' or 'aborted'."""
        return self._state.status

    # -- KV ------------------------------------------------------------------------------

    def put(self, key: bytes, value: bytes) -> None:
        check_bytes(key, "key")
        check_bytes(value, "value")
        st = self._state
        st.check_open()
        st.kv_put(as_bytes(key), as_bytes(value))

    def get(self, key: bytes) -> bytes | None:
        check_bytes(key, "key")
        st = self._state
        st.check_open()
        return st.kv_get(as_bytes(key))

    def delete(self, key: bytes) -> None:
        check_bytes(key, "key")
        st = self._state
        st.check_open()
        st.kv_put(as_bytes(key), None)

    def put_path(self, path: str, value: bytes) -> None:
        check_bytes(value, "value")
        self._state.check_open()
        self._state.kv_put(path_key(path), as_bytes(value))

    def get_path(self, path: str) -> bytes | None:
        self._state.check_open()
        return self._state.kv_get(path_key(path))

    def delete_path(self, path: str) -> None:
        self._state.check_open()
        self._state.kv_put(path_key(path), None)

    def scan(self, start: bytes = b"", end: bytes | None = None) -> Iterator[tuple[bytes, bytes]]:
        """Pairs with ``start <= key < end`` in key order (``end=None``: to the last key)."""
        check_bytes(start, "start")
        if end is not None:
            check_bytes(end, "end")
        self._state.check_open()
        return self._state.kv_scan(as_bytes(start) or None, None if end is None else as_bytes(end))

    def scan_prefix(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        check_bytes(prefix, "prefix")
        self._state.check_open()
        p = as_bytes(prefix)
        return self._state.kv_scan(p or None, prefix_end(p))

    def scan_batched(self, start: bytes = b"", end: bytes | None = None,
                     batch_size: int = 1000) -> Iterator[tuple[bytes, bytes]]:
        """Like ``scan``. ``batch_size`` is the number of pairs fetched per round trip over
        IPC; in process the transaction's snapshot already keeps the scan stable, so pairs
        stream straight from it (batching them here would only add a step per pair)."""
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        return self.scan(start, end)

    def scan_batches(self, start: bytes = b"", end: bytes | None = None,
                     batch_size: int = 1000) -> Iterator[list[tuple[bytes, bytes]]]:
        """Lists of up to ``batch_size`` pairs, for callers that process a batch at once."""
        it = self.scan(start, end)
        while True:
            chunk = list(islice(it, batch_size))
            if not chunk:
                return
            yield chunk

    # -- SQL -----------------------------------------------------------------------------

    def execute(self, sql: str, params: Sequence[Any] | dict | None = None):
        """Run one SQL statement inside this transaction."""
        self._state.check_open()
        return self._db._sql.execute(sql, params, txn=self)

    execute_sql = execute

    # -- end -----------------------------------------------------------------------------

    def commit(self) -> int:
        """Commit; return the LSN. Raises TransactionConflictError if a concurrent
        transaction committed a conflicting write first (nothing of this one is applied)."""
        return self._db._engine.commit(self._state)

    def abort(self) -> None:
        self._db._engine.abort(self._state)

    rollback = abort

    def __enter__(self) -> "Transaction":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._state.status != "active":
            return
        if exc_type is None:
            self.commit()
        else:
            self.abort()

    def __del__(self) -> None:
        st = getattr(self, "_state", None)
        if st is not None and st.status == "active":
            try:
                st.engine.end(st, "aborted")
            except Exception:
                pass

    def __repr__(self) -> str:
        return f"<Transaction id={self.id} {self.status}>"
