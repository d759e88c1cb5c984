"""Engine-level transactions: a snapshot plus a local write buffer, published at commit.

A transaction reads the state captured at its start (LSN, KV state, catalog, table stores)
plus its own writes, which stay in this object until ``Engine.commit`` turns them into one WAL
record. Rows inserted here carry negative temporary rowids until commit assigns real ones.

Under ``isolation="serializable"`` the transaction also records what it read, and commit
validates that nothing of it changed since the snapshot: whole tables for scans, (columns,
key) pairs for index lookups, rowids for fetches by rowid, keys and key ranges for KV reads.
Imports the engine's data structures, never the SQL layer.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import TYPE_CHECKING, Any, Iterator, Sequence

import numpy as np
import pyarrow as pa

from sochdb.engine.catalog import Catalog, TableDef
from sochdb.engine.table import ROWID, HashIndex, TableStore, project, scan_groups
from sochdb.errors import TransactionClosedError
from sochdb.kv.store import KVSnapshot, KVState, merge_sources

if TYPE_CHECKING:
    from sochdb.engine.engine import Engine


class LocalTable:
    """Rows one transaction inserted into, and deleted from, one table."""

    __slots__ = ("inserts", "deleted_local", "deleted_committed", "_deleted_arr", "_indexes")

    def __init__(self) -> None:
        self.inserts: list[tuple[pa.Table, np.ndarray]] = []
        self.deleted_local: set[int] = set()
        self.deleted_committed: list[np.ndarray] = []
        self._deleted_arr: np.ndarray | None = None
        # fields -> (batches indexed so far, key -> local rowids), extended lazily
        self._indexes: dict[tuple[str, ...], tuple[int, dict]] = {}

    def index(self, fields: tuple[str, ...], tdef: TableDef) -> dict:
        """key -> local rowids of the rows this transaction inserted (deleted ones included;
        callers filter with ``deleted_local``)."""
        done, entries = self._indexes.get(fields, (0, {}))
        for data, rids in self.inserts[done:]:
            if not all(f in data.schema.names for f in fields):
                data = project(data, tdef, list(fields))
            keys, valid = HashIndex.keys_of(data, fields)
            for i, (k, r) in enumerate(zip(keys, rids.tolist())):
                if valid is None or valid[i]:
                    entries.setdefault(k, []).append(r)
        self._indexes[fields] = (len(self.inserts), entries)
        return entries

    def committed_deletes(self) -> np.ndarray:
        if self._deleted_arr is None:
            self._deleted_arr = (np.unique(np.concatenate(self.deleted_committed))
                                 if self.deleted_committed else np.empty(0, np.int64))
        return self._deleted_arr

    def add_deletes(self, rowids: np.ndarray) -> None:
        local = rowids < 0
        if local.any():
            self.deleted_local.update(rowids[local].tolist())
            rowids = rowids[~local]
        if len(rowids):
            self.deleted_committed.append(rowids)
            self._deleted_arr = None

    def live_inserts(self) -> Iterator[tuple[pa.Table, np.ndarray]]:
        dl = self.deleted_local
        for data, rids in self.inserts:
            if dl:
                keep = ~np.isin(rids, np.fromiter(dl, np.int64, len(dl)))
                if not keep.all():
                    if not keep.any():
                        continue
                    yield data.filter(pa.array(keep)), rids[keep]
                    continue
            yield data, rids

    @property
    def empty(self) -> bool:
        return not self.inserts and not self.deleted_committed and not self.deleted_local


class PendingRows:
    """Rows buffered by the single-row INSERT fast path, not yet turned into Arrow."""

    __slots__ = ("tdef", "rows", "keys")

    def __init__(self, tdef: TableDef) -> None:
        self.tdef = tdef
        self.rows: list[tuple] = []
        self.keys: dict[tuple[str, ...], set] = {}

    def add(self, row: tuple, keys: list[tuple[tuple[str, ...], tuple]]) -> None:
        self.rows.append(row)
        for fields, key in keys:
            if None not in key:
                self.keys.setdefault(fields, set()).add(key[0] if len(key) == 1 else key)

    def keys_for(self, fields: tuple[str, ...]) -> set:
        return self.keys.get(fields, _EMPTY)

    def table(self) -> pa.Table:
        cols = list(zip(*self.rows))
        return pa.table([pa.array(list(c), type=col.type) for c, col in
                         zip(cols, self.tdef.columns)],
                        names=[c.field for c in self.tdef.columns])


_EMPTY: frozenset = frozenset()


class TxnState:
    """The engine side of one transaction."""

    def __init__(self, engine: "Engine", txn_id: int, snap: int, kv: KVState,
                 catalog: Catalog, stores: dict[int, TableStore]) -> None:
        self.engine = engine
        self.id = txn_id
        self.snap = snap
        self.kv_state = kv
        self.base_catalog = catalog
        self.catalog = catalog
        self.stores = stores
        self.kv_writes: dict[bytes, bytes | None] = {}
        self._kv_sorted: list[bytes] | None = None
        self.tables: dict[int, LocalTable] = {}
        self.catalog_ops: list[dict] = []
        self.status = "active"
        self._temp_rowid = -1
        self.pending: dict[int, PendingRows] = {}
        # Read sets, filled only under serializable isolation (see the module docstring).
        self.serializable = False
        self.kv_reads: set[bytes] | None = None
        self.kv_ranges: list[tuple[bytes | None, bytes | None]] = []
        self.read_tables: set[int] = set()
        self.read_keys: dict[tuple[int, tuple[str, ...]], set] = {}
        self.read_rows: dict[int, list[np.ndarray]] = {}

    def make_serializable(self) -> None:
        self.serializable = True
        self.kv_reads = set()

    def note_key_read(self, table_id: int, fields: tuple[str, ...], key: Any) -> None:
        """Record an index lookup of ``key`` on ``fields`` (a no-op under snapshot isolation)."""
        if self.serializable:
            self.read_keys.setdefault((table_id, fields), set()).add(key)

    # -- lifecycle -----------------------------------------------------------------------

    def check_open(self) -> None:
        if self.status != "active":
            raise TransactionClosedError(
                f"transaction {self.id} is already {self.status}; start a new one")

    @property
    def has_writes(self) -> bool:
        return bool(self.kv_writes or self.catalog_ops or self.pending
                    or any(not t.empty for t in self.tables.values()))

    def pending_rows(self, tdef: TableDef) -> PendingRows:
        p = self.pending.get(tdef.id)
        if p is None or p.tdef is not tdef:
            self.flush(tdef.id)
            p = self.pending[tdef.id] = PendingRows(tdef)
        return p

    def flush(self, table_id: int | None = None) -> None:
        """Turn buffered fast-path rows into an Arrow batch of the transaction."""
        ids = list(self.pending) if table_id is None else [table_id]
        for tid in ids:
            p = self.pending.pop(tid, None)
            if p is not None and p.rows:
                self._insert(p.tdef, p.table())

    # -- KV ------------------------------------------------------------------------------

    def kv_get(self, key: bytes) -> bytes | None:
        w = self.kv_writes
        if key in w:
            return w[key]
        if self.kv_reads is not None:
            self.kv_reads.add(key)
        return KVSnapshot(self.kv_state, self.snap, self.engine.counters).lookup(key)[1]

    def kv_put(self, key: bytes, value: bytes | None) -> None:
        w = self.kv_writes
        if self._kv_sorted is not None and key not in w:
            self._kv_sorted = None
        w[key] = value

    def kv_sources(self, start: bytes | None, end: bytes | None,
                   ) -> list[tuple[list[bytes], list[bytes | None]]]:
        sources = []
        if self.kv_writes:
            if self._kv_sorted is None:
                self._kv_sorted = sorted(self.kv_writes)
            ks = self._kv_sorted
            lo = 0 if start is None else bisect_left(ks, start)
            hi = len(ks) if end is None else bisect_left(ks, end)
            keys = ks[lo:hi]
            sources.append((keys, list(map(self.kv_writes.__getitem__, keys))))
        sources.extend(KVSnapshot(self.kv_state, self.snap).sources(start, end))
        if self.serializable:
            self.kv_ranges.append((start, end))
        return sources

    def kv_scan(self, start: bytes | None, end: bytes | None) -> Iterator[tuple[bytes, bytes]]:
        return merge_sources(self.kv_sources(start, end))

    # -- tables --------------------------------------------------------------------------

    def local(self, table_id: int) -> LocalTable:
        lt = self.tables.get(table_id)
        if lt is None:
            lt = self.tables[table_id] = LocalTable()
        return lt

    def view(self, tdef: TableDef) -> "TableView":
        if self.pending:
            self.flush(tdef.id)
        return TableView(self, tdef)

    def view_for_check(self, tdef: TableDef) -> "TableView":
        """A view that leaves fast-path rows buffered (they are checked separately)."""
        return TableView(self, tdef)

    def insert(self, tdef: TableDef, data: pa.Table) -> np.ndarray:
        """Buffer rows (physical columns of ``tdef``); return their temporary rowids."""
        if self.pending:
            self.flush(tdef.id)
        return self._insert(tdef, data)

    def _insert(self, tdef: TableDef, data: pa.Table) -> np.ndarray:
        n = data.num_rows
        rids = np.arange(self._temp_rowid, self._temp_rowid - n, -1, dtype=np.int64)
        self._temp_rowid -= n
        if n:
            self.local(tdef.id).inserts.append((data, rids))
        return rids

    def delete(self, tdef: TableDef, rowids: np.ndarray) -> None:
        if self.pending:
            self.flush(tdef.id)
        if len(rowids):
            self.local(tdef.id).add_deletes(np.asarray(rowids, dtype=np.int64))

    def set_catalog(self, catalog: Catalog, op: dict) -> None:
        if self.pending:
            self.flush()
        self.catalog = catalog
        self.catalog_ops.append(op)

    def store(self, table_id: int) -> TableStore | None:
        return self.stores.get(table_id)


class TableView:
    """What one transaction sees of one table: committed rows at its snapshot, minus its own
    deletes, plus its own inserts."""

    def __init__(self, txn: TxnState, tdef: TableDef) -> None:
        self.txn = txn
        self.tdef = tdef
        store = txn.stores.get(tdef.id)
        self.store = store
        self.captured = store.capture() if store is not None else []
        self.local = txn.tables.get(tdef.id)

    def fields(self, names: Sequence[str] | None = None) -> list[str]:
        cols = self.tdef.columns if names is None else [self.tdef.column(n) for n in names]
        return [c.field for c in cols]

    def scan(self, fields: Sequence[str], with_rowids: bool = False, prune=None,
             ) -> Iterator[tuple[pa.Table, np.ndarray | None]]:
        """Yield (physical table of ``fields``, rowids or None) for every visible row, but
        for committed row groups whose zone map ``prune`` rejects."""
        local = self.local
        if self.txn.serializable:
            self.txn.read_tables.add(self.tdef.id)
        deletes = local.committed_deletes() if local is not None else None
        need_rids = with_rowids or (deletes is not None and len(deletes) > 0)
        for data, rids in scan_groups(self.captured, self.txn.snap, self.tdef, fields,
                                      need_rids, prune):
            if deletes is not None and len(deletes):
                keep = ~np.isin(rids, deletes)
                if not keep.all():
                    if not keep.any():
                        continue
                    data = data.filter(pa.array(keep))
                    rids = rids[keep]
            yield data, (rids if with_rowids else None)
        if local is not None:
            for data, rids in local.live_inserts():
                yield project(data, self.tdef, fields), (rids if with_rowids else None)

    def to_table(self, fields: Sequence[str], with_rowids: bool = False,
                 ) -> tuple[pa.Table, np.ndarray | None]:
        parts = list(self.scan(fields, with_rowids))
        schema = pa.schema([pa.field(f, self.tdef.column_by_id(int(f[1:])).type)
                            for f in fields])
        if not parts:
            return schema.empty_table(), (np.empty(0, np.int64) if with_rowids else None)
        tables = [p[0] for p in parts]
        table = tables[0] if len(tables) == 1 else pa.concat_tables(
            [t.cast(schema) if t.schema != schema else t for t in tables])
        rids = np.concatenate([p[1] for p in parts]) if with_rowids else None
        return table, rids

    def lookup(self, fields: tuple[str, ...], keys: list[Any],
               ) -> tuple[list[Any], np.ndarray]:
        """Find visible rows whose ``fields`` equal one of ``keys``.

        Returns the matched keys and rowids (parallel). Uses the store's hash index for
        committed rows; local inserts are checked directly.
        """
        out_keys: list[Any] = []
        out_rids: list[int] = []
        store = self.store
        txn = self.txn
        if txn.serializable:
            txn.read_keys.setdefault((self.tdef.id, tuple(fields)), set()).update(keys)
        if store is not None and self.captured:
            idx = store.index(fields)
            cand_keys, cand_rids = [], []
            for k in keys:
                for r in idx.get(k):
                    cand_keys.append(k)
                    cand_rids.append(r)
            if cand_rids:
                rids = np.asarray(cand_rids, dtype=np.int64)
                ok = self._visible_committed(rids)
                for k, r, good in zip(cand_keys, cand_rids, ok.tolist()):
                    if good:
                        out_keys.append(k)
                        out_rids.append(r)
        if self.local is not None and self.local.inserts:
            entries = self.local.index(fields, self.tdef)
            dead = self.local.deleted_local
            for k in keys:
                for r in entries.get(k, ()):
                    if r not in dead:
                        out_keys.append(k)
                        out_rids.append(r)
        return out_keys, np.asarray(out_rids, dtype=np.int64)

    def _visible_committed(self, rowids: np.ndarray) -> np.ndarray:
        ok = np.zeros(len(rowids), dtype=bool)
        snap = self.txn.snap
        captured = {id(g): n for g, n in self.captured}
        for grp, idx, pos in self.store.locate(rowids):  # type: ignore[union-attr]
            n = captured.get(id(grp))
            if n is None:  # group created after our capture: nothing in it is visible
                continue
            inside = pos < n
            vis = inside.copy()
            p = pos[inside]
            vis[inside] = (grp.created[p] <= snap) & (grp.deleted[p] > snap)
            ok[idx] = vis
        if self.local is not None and self.local.deleted_committed:
            ok &= ~np.isin(rowids, self.local.committed_deletes())
        return ok

    def take(self, fields: Sequence[str], rowids: np.ndarray) -> pa.Table:
        """Rows with these rowids (committed or local), in the order given."""
        parts = []
        order = []
        committed = rowids[rowids >= 0]
        if self.txn.serializable and len(committed):
            self.txn.read_rows.setdefault(self.tdef.id, []).append(committed)
        if len(committed) and self.store is not None:
            for grp, idx, pos in self.store.locate(committed):
                data = grp.data
                if len(pos) <= 4:  # a few rows: zero-copy slices beat a gather
                    rows = [data.slice(int(p), 1) for p in pos]
                    picked = rows[0] if len(rows) == 1 else pa.concat_tables(rows)
                else:
                    picked = data.take(pa.array(pos))
                parts.append(project(picked, self.tdef, fields))
                order.append(np.nonzero(rowids >= 0)[0][idx])
        local_ids = rowids[rowids < 0]
        if len(local_ids) and self.local is not None:
            where = np.nonzero(rowids < 0)[0]
            for data, rids in self.local.inserts:
                hit = np.isin(local_ids, rids)
                if hit.any():
                    pos = np.searchsorted(-rids, -local_ids[hit])
                    parts.append(project(data, self.tdef, fields).take(pa.array(pos)))
                    order.append(where[hit])
        schema = pa.schema([pa.field(f, self.tdef.column_by_id(int(f[1:])).type)
                            for f in fields])
        if not parts:
            return schema.empty_table()
        if len(parts) == 1 and len(order[0]) == 1:
            p = parts[0]
            return p if p.schema == schema else p.cast(schema)
        table = pa.concat_tables([p.cast(schema) if p.schema != schema else p for p in parts])
        perm = np.argsort(np.concatenate(order), kind="stable")
        return table.take(pa.array(perm))

    def count(self) -> int:
        return sum(t.num_rows for t, _ in self.scan([]))


__all__ = ["TxnState", "TableView", "LocalTable", "ROWID"]
