"""An HNSW graph over one vector column of an engine table, keyed by rowid.

The table is the source of truth; the graph is derived from it. It is kept in step after each
commit (new rows are found by their created-LSN, deleted rowids come from the committed
transaction), saved to a ``.hnsw`` file stamped with the LSN it covers, and on load reconciled
with the table (or rebuilt when the file is missing, foreign, stale in shape or corrupt).
Searches never trust the graph alone: candidates are checked against the reader's snapshot,
and a reader the graph cannot serve exactly (its own uncommitted writes, or a snapshot older
than a delete already applied to the graph) is answered by an exact scan. Imports numpy,
pyarrow, the engine's table and transaction modules, and the sibling vector modules.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from sochdb.engine.table import project
from sochdb.errors import CorruptionError, DataError, OperationalError, ProgrammingError
from sochdb.vector import hnsw_file
from sochdb.vector.index import SearchResult
from sochdb.vector.index import VectorIndex as HnswGraph
from sochdb.vector.metrics import RunningTopK, get_metric

if TYPE_CHECKING:
    from sochdb.engine.catalog import TableDef
    from sochdb.engine.transaction import TableView, TxnState
    from sochdb.vector.registry import IndexDef, VectorRegistry

__all__ = ["ColumnIndex", "column_matrix"]

#: A changed graph is saved at a checkpoint once its unsaved changes reach this fraction of
#: the size it had when last saved (and always when the database closes); a crash costs at
#: most that much catch-up work on the next open.
SAVE_FRACTION = 0.25
#: Indexes of at most this many rows (row versions) are searched exactly, without the graph.
EXACT_ROWS = 1024
_EXACT_CHUNK = 65536


class _StampedGraph(HnswGraph):
    """The usearch graph plus the identity of its source, written into the file's metadata."""

    stamp: dict[str, Any] | None = None

    def _meta(self) -> dict[str, Any]:
        return {**super()._meta(), "sochdb_source": self.stamp}


def column_matrix(col: pa.Array | pa.ChunkedArray, dimension: int,
                  ) -> tuple[np.ndarray, np.ndarray | None]:
    """Rows of a FLOAT[n] column as a float32 matrix, and the mask of rows that hold a finite
    vector (None when all do); rows outside the mask are left out of the matrix."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    keep = None
    if col.null_count:
        keep = col.is_valid().to_numpy(zero_copy_only=False)
        col = col.filter(pa.array(keep))
    flat = col.flatten().to_numpy(zero_copy_only=False)
    x = np.ascontiguousarray(flat, dtype=np.float32).reshape(-1, dimension)
    finite = np.isfinite(x).all(axis=1)
    if not finite.all():
        x = x[finite]
        if keep is None:
            keep = finite
        else:
            keep[np.flatnonzero(keep)[~finite]] = False
    return x, keep


class ColumnIndex:
    """The graph of one vector index definition, loaded on first use."""

    def __init__(self, registry: VectorRegistry, idef: IndexDef) -> None:
        self.registry = registry
        self.engine = registry.engine
        self.idef = idef
        self.metric = get_metric(idef.metric)
        self.graph: _StampedGraph | None = None
        # Every row created at or before applied_lsn (and live then) is in the graph.
        self.applied_lsn = 0
        # The newest commit whose deletes were applied: older snapshots may miss rows.
        self.delete_lsn = 0
        self.changes = 0          # rows added or removed since the last save
        self.saved_size = 0       # graph size at the last save
        self.saved_lsn: int | None = None
        self.origin = ""          # how the graph came to be (info())
        self.save_error: str | None = None
        self.fit_size = 0         # graph size when the int8 scale was last fitted
        self.refits = 0
        self.lock = threading.RLock()

    # -- table access ---------------------------------------------------------------------

    @property
    def field(self) -> str:
        return f"c{self.idef.column_id}"

    def table_def(self, txn: TxnState | None = None) -> TableDef | None:
        catalog = txn.catalog if txn is not None else self.engine.catalog
        tdef = catalog.by_id(self.idef.table_id)
        if tdef is None or not any(c.id == self.idef.column_id for c in tdef.columns):
            return None
        return tdef

    @property
    def path(self) -> str | None:
        return self.registry.graph_path(self.idef)

    # -- loading --------------------------------------------------------------------------

    def ensure(self) -> _StampedGraph:
        """The graph, loaded from its file or built from the table on first use."""
        g = self.graph
        if g is not None:
            return g
        # The snapshot is taken before our lock: a checkpoint holds the engine's lock while
        # it waits for ours, so ours must never be held while waiting for the engine's.
        # Registered, so that no checkpoint vacuums a row deleted after it before _load has
        # seen the delete (a commit landing during the load skips this graph's removal).
        txn = self.engine.begin()
        try:
            with self.lock:
                if self.graph is None:
                    self._load(txn)
                return self.graph  # type: ignore[return-value]
        finally:
            self.engine.end(txn, "committed")

    def _new_graph(self) -> _StampedGraph:
        d = self.idef
        g = _StampedGraph(d.dimension, d.metric, m=d.m, ef_construction=d.ef_construction,
                          dtype=d.dtype)
        g.stamp = self._stamp(0)
        return g

    def _stamp(self, lsn: int) -> dict[str, Any]:
        return {"table_id": self.idef.table_id, "column_id": self.idef.column_id,
                "index": self.idef.name, "lsn": lsn}

    def start_empty(self, lsn: int) -> None:
        """A new index on an empty table: nothing to build."""
        with self.lock:
            self.graph = self._new_graph()
            self.applied_lsn = self.delete_lsn = lsn
            self.origin = "created"

    def _open_file(self) -> tuple[_StampedGraph | None, int | None, str]:
        path = self.path
        if path is None or not os.path.exists(path):
            return None, None, "no saved graph"
        d = self.idef
        try:
            header = hnsw_file.verify_file(path)  # a derived file is cheap to distrust
            meta = header.meta
            src = meta.get("sochdb_source") or {}
            if (src.get("table_id"), src.get("column_id")) != (d.table_id, d.column_id) or \
                    (meta.get("dimension"), meta.get("metric"), meta.get("m"),
                     meta.get("ef_construction"), meta.get("dtype")) != \
                    (d.dimension, self.metric.name, d.m, d.ef_construction, d.dtype):
                return None, None, "saved graph belongs to another index definition"
            graph = _StampedGraph.open(path, mmap=False)
            graph.stamp = dict(src)
            return graph, int(src.get("lsn", -1)), "loaded"
        except (CorruptionError, OperationalError, ProgrammingError, DataError, ValueError,
                KeyError, TypeError) as e:
            return None, None, f"saved graph unreadable ({e})"

    def _load(self, txn: TxnState) -> None:
        snap = txn.snap
        tdef = self.table_def(txn)
        if tdef is None:
            raise ProgrammingError(f"vector index {self.idef.name!r}: its table or column no "
                                   f"longer exists")
        graph, stamp, origin = self._open_file()
        if graph is not None and stamp == snap:
            self.origin = "loaded"
        else:
            view = txn.view(tdef)
            _, live = view.to_table([], with_rowids=True)
            if graph is None:
                graph = self._new_graph()
                self.origin = f"rebuilt: {origin}"
                missing = live
            else:
                held = graph.ids
                gone = held[~np.isin(held, live)]
                if len(gone):
                    graph.remove(gone)
                missing = live[~graph.contains(live)]
                self.origin = f"loaded and caught up from LSN {stamp} to {snap}"
            if len(missing):
                self._add_rows(graph, view, tdef, missing)
        self.graph = graph
        self.fit_size = len(graph)
        self.applied_lsn = self.delete_lsn = snap
        self._remove_deleted_since(snap)
        self.saved_lsn = stamp if self.origin == "loaded" else None
        self.saved_size = len(graph) if self.origin == "loaded" else 0
        self.changes = 0 if self.origin == "loaded" else max(len(graph), 1)

    def _remove_deleted_since(self, snap: int) -> None:
        """Remove rows deleted by commits after ``snap`` that ended while the graph loaded
        (their commit hook found no graph to update)."""
        eng = self.engine
        last = eng.last_lsn
        store = eng.stores.get(self.idef.table_id)
        if last <= snap or store is None or self.graph is None:
            return
        for g in list(store.groups):
            if not g.ndeleted:
                continue
            n = g.n
            d = g.deleted[:n]
            m = (d > snap) & (d <= last)
            if m.any():
                self.graph.remove(g.rowids[:n][m])
        self.delete_lsn = max(self.delete_lsn, last)

    def _add_rows(self, graph: HnswGraph, view: TableView, tdef: TableDef,
                  rowids: np.ndarray) -> None:
        for start in range(0, len(rowids), _EXACT_CHUNK):
            part = rowids[start:start + _EXACT_CHUNK]
            data = view.take([self.field], part)
            x, keep = column_matrix(data.column(0), self.idef.dimension)
            if keep is not None:
                part = part[keep]
            if len(part):
                self._add(graph, x, part)

    def _add(self, graph: HnswGraph, x: np.ndarray, rowids: np.ndarray) -> None:
        """Add rows; refit an int8 graph's scale (a rebuild) when new vectors overflow it.

        The scale is fitted on the first rows added, which for a growing index may be a
        handful: once more than 1% of a batch's values clip and the graph has doubled since
        the last fit, the graph is rebuilt from its own float32 copy, so rebuilds stay
        amortized O(1) per row.
        """
        first = graph.quantization_scale is None
        graph.add(x, rowids)
        if graph.dtype != "i8":
            return
        if first or not self.fit_size:
            self.fit_size = len(graph)
            return
        xs = x
        if self.metric.normalize:
            norms = np.sqrt(np.einsum("ij,ij->i", x, x))[:, None]
            xs = x / np.where(norms > 0, norms, 1.0)
        clipped = float((np.abs(xs) * graph.quantization_scale > 127.5).mean())
        if clipped > 0.01 and len(graph) >= 2 * self.fit_size:
            graph.compact()
            self.fit_size = len(graph)
            self.refits += 1

    # -- keeping in step ------------------------------------------------------------------

    def catch_up(self) -> None:
        """Add the rows committed since ``applied_lsn`` (new rows sit in the newest groups)."""
        if self.graph is None or self.engine.last_lsn <= self.applied_lsn:
            return
        with self.lock:
            graph = self.graph
            if graph is None:
                return
            eng = self.engine
            upto = eng.last_lsn
            applied = self.applied_lsn
            if upto <= applied:
                return
            store = eng.stores.get(self.idef.table_id)
            tdef = eng.catalog.by_id(self.idef.table_id)
            if store is not None and tdef is not None:
                field = self.field
                for g in list(store.groups):
                    if g.max_created <= applied:
                        continue
                    n = g.n
                    created = g.created[:n]
                    m = (created > applied) & (created <= upto) & (g.deleted[:n] > upto)
                    if not m.any():
                        continue
                    pos = np.flatnonzero(m)
                    rowids = g.rowids[:n][pos]
                    stored = g.select([field])
                    col = project(stored.slice(0, n), tdef, [field]).column(0).take(pa.array(pos))
                    x, keep = column_matrix(col, self.idef.dimension)
                    if keep is not None:
                        rowids = rowids[keep]
                    fresh = ~graph.contains(rowids)
                    if not fresh.all():
                        x, rowids = x[fresh], rowids[fresh]
                    if len(rowids):
                        self._add(graph, x, rowids)
                        self.changes += len(rowids)
            self.applied_lsn = upto

    def on_commit(self, lsn: int, txn: TxnState) -> None:
        """Apply one committed transaction's rows; on any failure the graph is dropped and
        rebuilt at its next use, so a commit never fails because of its index."""
        local = txn.tables.get(self.idef.table_id)
        if local is None or self.graph is None:
            return
        with self.lock:
            if self.graph is None:
                return
            try:
                self.catch_up()
                gone = local.committed_deletes()
                if len(gone):
                    self.changes += self.graph.remove(gone)
                    self.delete_lsn = max(self.delete_lsn, lsn)
            except Exception as e:  # noqa: BLE001 - the commit is durable already
                self.release(f"dropped after an error ({type(e).__name__}: {e}); rebuilt on "
                             f"next use")

    def release(self, why: str = "released") -> None:
        with self.lock:
            if self.graph is not None:
                self.graph.close()
            self.graph = None
            self.origin = why

    # -- saving ---------------------------------------------------------------------------

    def save(self, lsn: int, force: bool = False) -> bool:
        """Write the graph stamped with ``lsn`` (the caller guarantees no commit is newer)
        when it changed enough since the last save (or at all, with ``force``)."""
        path = self.path
        with self.lock:
            g = self.graph
            if path is None or g is None or (self.changes == 0 and self.saved_lsn is not None):
                return False
            if not force and self.saved_lsn is not None and \
                    self.changes < SAVE_FRACTION * max(self.saved_size, 1):
                return False
            self.catch_up()
            # A delete whose commit listener has not run yet may still be in the graph: then
            # stamp an older LSN, so that the next open reconciles instead of trusting it.
            g.stamp = self._stamp(lsn if self.registry.done >= lsn else -1)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            g.save(path)
            self.saved_lsn = lsn
            self.saved_size = len(g)
            self.changes = 0
            return True

    # -- searching ------------------------------------------------------------------------

    def can_serve(self, txn: TxnState) -> bool:
        """True when the graph (checked against the snapshot) answers exactly like a scan."""
        local = txn.tables.get(self.idef.table_id)
        if local is not None and not local.empty:
            return False
        if txn.pending and self.idef.table_id in txn.pending:
            return False
        self.ensure()
        return txn.snap >= self.delete_lsn

    def search(self, txn: TxnState, queries: np.ndarray, k: int, ef: int | None = None,
               allowed: np.ndarray | None = None) -> SearchResult:
        """Nearest rows (by rowid) visible to ``txn``; ``allowed`` restricts them to those
        rowids, which must themselves be visible to ``txn``."""
        tdef = self.table_def(txn)
        if tdef is None:
            raise ProgrammingError(f"vector index {self.idef.name!r}: its table or column no "
                                   f"longer exists")
        view = txn.view(tdef)
        if not self.can_serve(txn) or self._small(view):
            return self.exact(view, queries, k, allowed)
        self.catch_up()
        graph = self.ensure()
        if allowed is not None:
            return graph.search(queries, k, ef=ef, allowed_ids=allowed)
        res = graph.search(queries, k, ef=ef)
        if self.applied_lsn == txn.snap and self.registry.done >= txn.snap:
            return res  # the graph holds exactly the rows visible at the snapshot
        valid = np.arange(res.ids.shape[1])[None, :] < res.counts[:, None]
        ids = res.ids[valid]
        if len(ids) and not view._visible_committed(ids).all():
            # Rows committed after the snapshot, or deleted before it but not yet removed.
            res = graph.search(queries, k, ef=ef, filter=view._visible_committed)
        return res

    @staticmethod
    def _small(view: TableView) -> bool:
        """Few enough rows that one exact pass beats the graph (and is exact: a graph this
        small, after many replacements, can miss a true neighbour)."""
        rows = view.store.num_rows_upper if view.store is not None else 0
        if view.local is not None:
            rows += sum(len(r) for _, r in view.local.live_inserts())
        return rows <= EXACT_ROWS

    def exact(self, view: TableView, queries: np.ndarray, k: int,
              allowed: np.ndarray | None = None) -> SearchResult:
        """Exact nearest rows of ``view`` (its snapshot plus the transaction's own writes)."""
        top = RunningTopK(len(queries), k)
        dim = self.idef.dimension
        for data, rids in view.scan([self.field], with_rowids=True):
            if allowed is not None:
                m = np.isin(rids, allowed)
                if not m.any():
                    continue
                data, rids = data.filter(pa.array(m)), rids[m]
            for start in range(0, data.num_rows, _EXACT_CHUNK):
                x, keep = column_matrix(data.column(0).slice(start, _EXACT_CHUNK), dim)
                r = rids[start:start + _EXACT_CHUNK]
                if keep is not None:
                    r = r[keep]
                if len(r):
                    top.add(self.metric.pairwise(queries, x), r)
        ids, dist, counts = top.result(pad_id=-1)
        return SearchResult(ids=ids, distances=dist, counts=counts)

    def info(self) -> dict[str, Any]:
        g = self.graph
        return {"graph_loaded": g is not None,
                "graph_vectors": len(g) if g is not None else None,
                "graph_origin": self.origin or "not loaded",
                "graph_file": self.path,
                "graph_saved_lsn": self.saved_lsn,
                "graph_refits": self.refits,
                "graph_applied_lsn": self.applied_lsn,
                "graph_save_error": self.save_error}
