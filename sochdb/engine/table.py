"""Versioned columnar tables: row groups of Arrow data with per-row MVCC arrays.

Every row has a stable int64 rowid, the LSN that created it and the LSN that deleted it
(MAX while live). A reader at snapshot ``s`` sees rows with ``created <= s < deleted``; the mask
is computed with numpy per row group and skipped when a group has no versions newer than ``s``.
Writers only append rows and stamp delete LSNs, both larger than any existing snapshot, so
readers never need a lock. Imports pyarrow, numpy, catalog, segment and errors.
"""

from __future__ import annotations

import bisect
import threading
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import pyarrow as pa

from sochdb.engine.catalog import TableDef
from sochdb.engine.segment import SegmentRef

MAX_LSN = np.iinfo(np.int64).max
ROWID = "__rowid"
#: Rows per row group: large enough that per-batch Python overhead vanishes, small enough
#: that a checkpoint after a few deletes rewrites little.
ROW_GROUP_ROWS = 1 << 17
_MAX_CHUNKS = 64


_ALLOC_LOCK = threading.Lock()


class RowGroup:
    """One horizontal slice of a table. ``n`` rows are committed; arrays may have spare room.

    A group read from a segment is loaded lazily, column by column: a scan decompresses only
    the columns it reads (``select``), rowids are read when first needed, and the whole group
    when ``data`` is used. Its version arrays cost no memory until a delete is stamped (the
    created LSNs are untouched zero pages, the deleted LSNs are allocated on first use).
    """

    __slots__ = ("_data", "_cols", "_absent", "n", "_rowids", "created", "_deleted",
                 "ndeleted", "max_created", "segment", "dirty", "sealed", "min_delete_lsn",
                 "_loader", "first_rowid", "_by_name", "stats")

    def __init__(self, data: pa.Table | None, rowids: np.ndarray | None, created_lsn: int,
                 segment: SegmentRef | None = None, n: int | None = None,
                 first_rowid: int | None = None, loader: Callable[[], pa.Table] | None = None,
                 ) -> None:
        n = data.num_rows if data is not None else int(n or 0)
        self._data = data
        self._cols: dict[str, pa.ChunkedArray] = {}
        self._absent: frozenset[str] = frozenset()
        self._by_name: tuple[pa.Table, dict[str, pa.ChunkedArray]] | None = None
        self.n = n
        cap = max(n, 16)
        self._rowids: np.ndarray | None = None
        if rowids is not None:
            self._rowids = np.empty(cap, dtype=np.int64)
            self._rowids[:n] = rowids
        self.first_rowid = int(rowids[0]) if rowids is not None and n else int(first_rowid or 0)
        self.created = np.zeros(cap, dtype=np.int64) if created_lsn == 0 else \
            np.full(cap, created_lsn, dtype=np.int64)
        self._deleted = None if data is None else np.full(cap, MAX_LSN, dtype=np.int64)
        self.ndeleted = 0
        self.min_delete_lsn = MAX_LSN
        self.max_created = created_lsn
        self.segment = segment
        self.dirty = segment is None
        self.sealed = segment is not None
        self._loader = loader
        self.stats: dict[str, tuple[Any, Any]] | None = None  # zone map (zonemap.py)

    @property
    def loaded(self) -> bool:
        return self._data is not None

    @property
    def deleted(self) -> np.ndarray:
        d = self._deleted
        if d is None:
            with _ALLOC_LOCK:  # a reader and the writer must end up with the same array
                d = self._deleted
                if d is None:
                    d = self._deleted = np.full(len(self.created), MAX_LSN, dtype=np.int64)
        return d

    @deleted.setter
    def deleted(self, value: np.ndarray) -> None:
        self._deleted = value

    def _set_rowids(self, table: pa.Table) -> None:
        rids = np.empty(len(self.created), dtype=np.int64)
        rids[:self.n] = table.column(ROWID).to_numpy()
        self._rowids = rids

    def _load(self) -> None:
        table = self._loader()  # type: ignore[misc]
        if self._rowids is None:
            self._set_rowids(table)
        self._data = table.drop_columns([ROWID])
        self._cols = {}

    def select(self, fields: Sequence[str]) -> pa.Table:
        """The stored data with at least those of ``fields`` that it holds (columns added to
        the table after the group was written are left out). An unloaded segment group reads
        just the missing columns; a loaded group returns all of its data."""
        if self._data is not None or self._loader is None:
            return self.data
        cols = self._cols
        missing = [f for f in dict.fromkeys(fields)
                   if f not in cols and f not in self._absent and f != ROWID]
        if missing:
            part = self._loader(missing)
            got = set(part.schema.names)
            cols = {**cols, **{f: part.column(f) for f in missing if f in got}}
            self._absent = self._absent | {f for f in missing if f not in got}
            self._cols = cols
        present = [f for f in dict.fromkeys(fields) if f in cols]
        if not present:
            return pa.table({"_": pa.nulls(self.n)}).select([])
        return pa.table([cols[f] for f in present], names=present)

    def columns_by_name(self, fields: Sequence[str]) -> dict[str, pa.ChunkedArray]:
        """Columns by field name, kept between calls while the data is unchanged (point
        queries read one row at a time, and looking a column up by name costs more)."""
        if self._data is None and self._loader is not None:
            self.select(fields)
            return self._cols
        data = self.data
        hit = self._by_name
        if hit is None or hit[0] is not data:
            hit = self._by_name = (data, dict(zip(data.schema.names, data.columns)))
        return hit[1]

    @property
    def data(self) -> pa.Table:
        if self._data is None:
            self._load()
        return self._data  # type: ignore[return-value]

    @data.setter
    def data(self, value: pa.Table) -> None:
        self._data = value

    @property
    def rowids(self) -> np.ndarray:
        if self._rowids is None:
            if self._data is None and self._loader is not None:
                self._set_rowids(self._loader([ROWID]))
            else:
                self._load()
        return self._rowids  # type: ignore[return-value]

    @rowids.setter
    def rowids(self, value: np.ndarray) -> None:
        self._rowids = value

    def append(self, data: pa.Table, rowids: np.ndarray, lsn: int) -> None:
        """Append committed rows (called under the commit lock)."""
        k = data.num_rows
        n = self.n
        need = n + k
        if need > len(self.rowids):
            cap = max(need, 2 * len(self.rowids))
            for name in ("rowids", "created", "deleted"):
                old = getattr(self, name)
                fill = MAX_LSN if name == "deleted" else 0
                new = np.full(cap, fill, dtype=np.int64)
                new[:n] = old[:n]
                setattr(self, name, new)
        self.stats = None  # the new rows may fall outside the bounds
        self.rowids[n:need] = rowids
        self.created[n:need] = lsn
        self.deleted[n:need] = MAX_LSN
        merged = pa.concat_tables([self.data.slice(0, n), data])
        if merged.num_columns and merged.column(0).num_chunks > _MAX_CHUNKS:
            merged = merged.combine_chunks()
        self.data = merged
        self.max_created = lsn
        self.dirty = True
        self.n = need  # published last: readers take n first, then the arrays

    def visible_mask(self, n: int, snap: int) -> np.ndarray | None:
        """Boolean mask of rows visible at ``snap``, or None when all ``n`` rows are."""
        if self.max_created <= snap and self.min_delete_lsn > snap:
            return None
        mask = (self.created[:n] <= snap) & (self.deleted[:n] > snap)
        return None if mask.all() else mask

    def positions(self, rowids: np.ndarray) -> np.ndarray:
        """Positions of ``rowids`` (which must all be in this group) within it."""
        n = self.n
        first = int(self.rowids[0])
        if int(self.rowids[n - 1]) - first == n - 1:  # dense: no rows vacuumed
            return rowids - first
        return np.searchsorted(self.rowids[:n], rowids)

    def live_table(self, upto_lsn: int) -> tuple[pa.Table, np.ndarray]:
        """Rows not deleted at ``upto_lsn``, with their rowids (for segments and compaction)."""
        n = self.n
        keep = self.deleted[:n] > upto_lsn
        data = self.data.slice(0, n)
        if keep.all():
            return data, self.rowids[:n].copy()
        return data.filter(pa.array(keep)), self.rowids[:n][keep]


class HashIndex:
    """key -> rowid (or list of rowids) for every version not yet vacuumed.

    Keys are Python scalars (one column) or tuples; NULL keys are not indexed since NULL never
    equals anything. Readers filter the candidates by visibility, so no index lookup can see a
    version its snapshot should not.
    """

    __slots__ = ("columns", "entries")

    def __init__(self, columns: tuple[str, ...]) -> None:
        self.columns = columns
        self.entries: dict[Any, Any] = {}

    @staticmethod
    def keys_of(data: pa.Table, columns: Sequence[str]) -> tuple[list[Any], np.ndarray | None]:
        """Python keys of ``data`` and a mask of rows whose key has no NULL (None if all)."""
        cols = [data.column(c) for c in columns]
        valid = None
        for c in cols:
            if c.null_count:
                m = c.is_valid().to_numpy(zero_copy_only=False)
                valid = m if valid is None else valid & m
        if len(cols) == 1:
            keys = cols[0].to_pylist()
        else:
            keys = list(zip(*(c.to_pylist() for c in cols)))
        return keys, valid

    def add(self, data: pa.Table, rowids: np.ndarray) -> None:
        keys, valid = self.keys_of(data, self.columns)
        rids = rowids.tolist()
        if valid is not None:
            keys = [k for k, v in zip(keys, valid.tolist()) if v]
            rids = [r for r, v in zip(rids, valid.tolist()) if v]
        entries = self.entries
        if entries.keys().isdisjoint(keys):
            fresh = dict(zip(keys, rids))
            if len(fresh) == len(keys):
                entries.update(fresh)
                return
        for k, r in zip(keys, rids):
            old = entries.get(k)
            if old is None:
                entries[k] = r
            elif isinstance(old, list):
                old.append(r)
            else:
                entries[k] = [old, r]

    def get(self, key: Any) -> list[int]:
        hit = self.entries.get(key)
        if hit is None:
            return []
        return hit if isinstance(hit, list) else [hit]


class TableStore:
    """The committed row groups of one table, plus its lazily built hash indexes."""

    def __init__(self, table_id: int) -> None:
        self.table_id = table_id
        self.groups: list[RowGroup] = []
        self._firsts: list[int] = []
        self._indexes: dict[tuple[str, ...], HashIndex] = {}
        self._lock = threading.Lock()
        self.schema_version = 0  # bumped by ALTER so the open group is sealed

    # -- reading -------------------------------------------------------------------------

    def capture(self) -> list[tuple[RowGroup, int]]:
        """The groups and committed row counts a reader should use (taken under commit lock)."""
        return [(g, g.n) for g in self.groups]

    @property
    def num_rows_upper(self) -> int:
        return sum(g.n for g in self.groups)

    def locate(self, rowids: np.ndarray) -> list[tuple[RowGroup, np.ndarray, np.ndarray]]:
        """Group rowids by row group: (group, indexes into ``rowids``, positions in group).

        Rowids that are not (or no longer) stored are left out.
        """
        if len(rowids) == 0 or not self.groups:
            return []
        groups = self.groups
        if len(rowids) == 1:  # point lookups: skip the vectorized grouping
            r = int(rowids[0])
            g = bisect.bisect_right(self._firsts, r) - 1
            if g < 0:
                return []
            grp = groups[g]
            n = grp.n
            first = grp.first_rowid
            pos = r - first
            if not (0 <= pos < n and grp.rowids[pos] == r):
                pos = int(np.searchsorted(grp.rowids[:n], r))
                if pos >= n or grp.rowids[pos] != r:
                    return []
            return [(grp, np.zeros(1, dtype=np.int64), np.array([pos], dtype=np.int64))]
        firsts = np.asarray(self._firsts, dtype=np.int64)
        gi = np.searchsorted(firsts, rowids, side="right") - 1
        out = []
        for g in np.unique(gi):
            if g < 0:
                continue
            grp = groups[g]
            idx = np.nonzero(gi == g)[0]
            pos = grp.positions(rowids[idx])
            n = grp.n
            ok = (pos >= 0) & (pos < n)
            ok[ok] = grp.rowids[pos[ok]] == rowids[idx][ok]
            if not ok.all():
                idx, pos = idx[ok], pos[ok]
            if len(idx):
                out.append((grp, idx, pos))
        return out

    def fetch(self, rowid: int, snap: int, tdef: TableDef, fields: Sequence[str],
              ) -> tuple | None:
        """The row ``rowid`` as Python values if visible at ``snap`` (point queries)."""
        loc = self.locate(np.array([rowid], dtype=np.int64))
        if not loc:
            return None
        grp, _, pos = loc[0]
        p = int(pos[0])
        if grp.created[p] > snap or (grp.min_delete_lsn <= snap and grp.deleted[p] <= snap):
            return None
        cols = grp.columns_by_name(fields)
        return tuple(cols[f][p].as_py() if f in cols else tdef.column_by_id(int(f[1:])).fill
                     for f in fields)

    # -- writing (all under the engine's commit lock) ------------------------------------

    def append(self, data: pa.Table, rowids: np.ndarray, lsn: int) -> None:
        start = 0
        total = data.num_rows
        while start < total:
            grp = self.groups[-1] if self.groups else None
            if grp is None or grp.sealed or grp.n >= ROW_GROUP_ROWS \
                    or grp.data.schema != data.schema:
                if grp is not None:
                    grp.sealed = True
                take = min(ROW_GROUP_ROWS, total - start)
                part = data.slice(start, take)
                new = RowGroup(part, rowids[start:start + take], lsn)
                self.groups = [*self.groups, new]
                self._firsts = [*self._firsts, int(rowids[start])]
            else:
                take = min(ROW_GROUP_ROWS - grp.n, total - start)
                grp.append(data.slice(start, take), rowids[start:start + take], lsn)
            start += take
        if self._indexes:
            with self._lock:
                for idx in self._indexes.values():
                    idx.add(data, rowids)

    def append_segments(self, parts, lsn: int) -> None:
        """Attach row groups a bulk load wrote as segments: ``(ref, first_rowid, rows, stats)``
        with ``rows`` either ``(data, rowids)`` still in memory or a loader (WAL replay)."""
        if self.groups:
            self.groups[-1].sealed = True
        new = []
        for ref, first, rows, stats in parts:
            if callable(rows):
                grp = RowGroup(None, None, 0, segment=ref, n=ref.rows, first_rowid=first,
                               loader=rows)
            else:
                grp = RowGroup(rows[0], rows[1], lsn, segment=ref)
            grp.sealed = True
            grp.stats = stats
            new.append(grp)
        self.groups = [*self.groups, *new]
        self._firsts = [*self._firsts, *(g.first_rowid for g in new)]
        if self._indexes:
            with self._lock:
                for g in new:
                    for idx in self._indexes.values():
                        idx.add(g.data.select(list(idx.columns)), g.rowids[:g.n])

    def delete(self, located: list[tuple[RowGroup, np.ndarray, np.ndarray]], lsn: int) -> int:
        count = 0
        for grp, _idx, pos in located:
            grp.deleted[pos] = lsn
            grp.ndeleted += len(pos)
            grp.min_delete_lsn = min(grp.min_delete_lsn, lsn)
            grp.dirty = True
            count += len(pos)
        return count

    def seal(self) -> None:
        if self.groups:
            self.groups[-1].sealed = True

    def add_segment_group(self, ref: SegmentRef, first_rowid: int,
                          loader: Callable[[], pa.Table], stats=None) -> None:
        """Attach a checkpointed row group that is read from its segment on first use."""
        grp = RowGroup(None, None, 0, segment=ref, n=ref.rows, first_rowid=first_rowid,
                       loader=loader)
        grp.stats = stats
        if self.groups:
            self.groups[-1].sealed = True
        grp.sealed = ref.rows >= ROW_GROUP_ROWS
        self.groups.append(grp)
        self._firsts.append(first_rowid)

    def replace_groups(self, groups: list[RowGroup], keep_indexes: bool = True) -> None:
        """Install vacuumed groups. Index entries of vacuumed rows are harmless (lookups skip
        rowids that are gone), so indexes are rebuilt only when many rows went away."""
        self.groups = groups
        self._firsts = [g.first_rowid for g in groups]
        if not keep_indexes:
            with self._lock:
                self._indexes = {}

    # -- indexes -------------------------------------------------------------------------

    def index(self, columns: tuple[str, ...]) -> HashIndex:
        """The hash index on these physical columns, built on first use."""
        idx = self._indexes.get(columns)
        if idx is not None:
            return idx
        with self._lock:
            idx = self._indexes.get(columns)
            if idx is None:
                idx = HashIndex(columns)
                for grp, n in self.capture():
                    if all(c in grp.data.schema.names for c in columns):
                        idx.add(grp.data.slice(0, n).select(list(columns)), grp.rowids[:n])
                self._indexes[columns] = idx
        return idx


def project(data: pa.Table, tdef: TableDef, fields: Sequence[str]) -> pa.Table:
    """Select physical ``fields`` from stored data, filling columns added after it was written."""
    names = data.schema.names
    arrays = []
    for f in fields:
        if f in names:
            arrays.append(data.column(f))
        elif f == ROWID:
            raise KeyError(f)
        else:
            col = tdef.column_by_id(int(f[1:]))
            arrays.append(pa.nulls(data.num_rows, col.type) if col.fill is None
                          else pa.repeat(pa.scalar(col.fill, type=col.type), data.num_rows))
    if not arrays:
        return data.select([])
    return pa.table(arrays, names=list(fields))


def scan_groups(captured: list[tuple[RowGroup, int]], snap: int, tdef: TableDef,
                fields: Sequence[str], with_rowids: bool = False,
                prune: Callable[[dict], bool] | None = None,
                ) -> Iterator[tuple[pa.Table, np.ndarray | None]]:
    """Yield visible rows of each captured group as (table of ``fields``, rowids or None).
    Groups whose zone map ``prune`` rejects (no row can pass the scan's filter) are skipped
    without being read."""
    for grp, n in captured:
        if n == 0:
            continue
        if prune is not None and grp.stats is not None and prune(grp.stats):
            continue
        mask = grp.visible_mask(n, snap)
        stored = grp.select(fields)
        data = project(stored.slice(0, n) if stored.num_rows != n else stored, tdef, fields)
        rowids = grp.rowids[:n] if with_rowids else None
        if mask is not None:
            if not mask.any():
                continue
            data = data.filter(pa.array(mask))
            if rowids is not None:
                rowids = rowids[mask]
        yield data, rowids
