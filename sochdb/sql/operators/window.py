"""The Window operator: window functions computed over sorted rows and appended as columns.

Physical operator layer; imports pyarrow, numpy and the expression, aggregate and sort helpers.
Each distinct (PARTITION BY, ORDER BY) sorts the rows once; partitions and peer groups become
per-row position arrays, and every frame becomes up to three ``[start, end)`` segments per row
(EXCLUDE cuts a hole). Functions read those arrays: prefix sums for SUM/COUNT/AVG, prefix scans
or a sparse table for MIN/MAX, position arithmetic for the ranking and value functions.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sochdb.errors import DataError, NotSupportedError
from sochdb.sql import types as T
from sochdb.sql.aggregates import AggSpec, run_aggregate
from sochdb.sql.expressions import CExpr, materialize
from sochdb.sql.operators.base import Operator
from sochdb.sql.operators.relational import SortKey
from sochdb.sql.scope import ColumnInfo

if TYPE_CHECKING:
    from sochdb.sql.context import ExecContext

I64 = np.int64


@dataclass
class Bound:
    """One end of a frame: ``unbounded``, ``preceding``, ``current`` or ``following``."""

    kind: str
    offset: CExpr | None = None


@dataclass
class Frame:
    unit: str  # rows, range or groups
    start: Bound
    end: Bound
    exclude: str = "no others"  # or "current row", "group", "ties"

    def whole(self) -> bool:
        return (self.start.kind == "unbounded" and self.end.kind == "unbounded"
                and self.exclude == "no others")


WHOLE_PARTITION = Frame("rows", Bound("unbounded"), Bound("unbounded"))
UP_TO_PEERS = Frame("range", Bound("unbounded"), Bound("current"))


@dataclass
class WindowCall:
    """One window function call; ``spec``/``inputs`` run a general aggregate per partition."""

    name: str
    field: str
    type: pa.DataType
    args: list[CExpr]
    frame: Frame
    filter: CExpr | None = None
    ignore_nulls: bool = False
    spec: AggSpec | None = None
    inputs: list[tuple[str, CExpr]] = field(default_factory=list)
    sql: str = ""


@dataclass
class WindowGroup:
    """Calls sharing one PARTITION BY / ORDER BY, computed over one sort."""

    partition: list[CExpr]
    order: list[SortKey]
    calls: list[WindowCall]


class Window(Operator):
    """Append one column per window call to the child's rows.

    Without an outer ORDER BY, rows come out in the order of the last group that sorts
    (PARTITION BY or ORDER BY), as DuckDB returns them; otherwise in the child's order.
    """

    def __init__(self, child: Operator, groups: list[WindowGroup]) -> None:
        self.child = child
        self.children = (child,)
        self.groups = groups

    @property
    def columns(self) -> list[ColumnInfo]:  # the child's may grow while planning continues
        extra = [ColumnInfo(c.sql or c.name, None, c.field, c.type)
                 for g in self.groups for c in g.calls]
        return list(self.child.columns) + extra

    def describe(self) -> str:
        parts = []
        for g in self.groups:
            over = []
            if g.partition:
                over.append("PARTITION BY " + ", ".join(e.sql for e in g.partition))
            if g.order:
                over.append("ORDER BY " + ", ".join(
                    k.expr.sql + (" DESC" if k.descending else "") for k in g.order))
            parts.append(", ".join(c.name for c in g.calls) + f" OVER ({' '.join(over)})")
        return "Window " + "; ".join(parts)

    def execute(self, ctx: ExecContext) -> pa.Table:
        t = self.child.execute(ctx)
        last_order = None
        for g in self.groups:
            if t.num_rows == 0:
                for c in g.calls:
                    t = t.append_column(pa.field(c.field, c.type), pa.nulls(0, c.type))
                continue
            layout = Layout(t, g, ctx)
            if g.partition or g.order:
                last_order = layout.perm
            frames: dict[tuple, list[tuple[np.ndarray, np.ndarray]]] = {}
            results = []
            for c in g.calls:
                ctx.check_interrupt()
                v = evaluate(c, t, layout, ctx, frames)
                if v.type != c.type:
                    v = v.cast(c.type)
                results.append((c, v))
            for c, v in results:
                t = t.append_column(pa.field(c.field, c.type), v)
        # Like DuckDB, rows leave in the order of the last window that sorts them.
        return t.take(pa.array(last_order)) if last_order is not None else t


# ----------------------------------------------------------------------------- layout


def _array(e: CExpr, t: pa.Table, ctx) -> pa.Array:
    v = materialize(e.fn(t, ctx), t.num_rows, e.type)
    if isinstance(v, pa.ChunkedArray):
        v = v.combine_chunks()
    if pa.types.is_dictionary(v.type):
        v = v.dictionary_decode()
    return v


def _changes(a: pa.Array) -> np.ndarray:
    """``a[i] != a[i-1]`` for i >= 1, where NULL equals NULL (and NaN equals NaN)."""
    n = len(a)
    x, y = a.slice(1), a.slice(0, n - 1)
    if pa.types.is_null(a.type):
        return np.zeros(n - 1, dtype=bool)
    ne = pc.not_equal(x, y)
    if pa.types.is_floating(a.type):
        ne = pc.and_(ne, pc.invert(pc.and_(pc.is_nan(x), pc.is_nan(y))))
    if a.null_count:
        xn, yn = pc.is_null(x), pc.is_null(y)
        ne = pc.if_else(pc.or_(xn, yn), pc.not_equal(xn, yn), ne)
    return ne.to_numpy(zero_copy_only=False)


def _int_key(v: pa.Array, descending: bool, nulls_first: bool):
    """Integer-like sort key as (int64 codes, min, max) in sort order, or None.

    Codes of NULLs sit just below or above every value, so equal codes mean equal keys.
    """
    k = T.kind(v.type)
    if k not in ("int", "bool", "date", "timestamp", "time") or len(v) == 0:
        return None
    if k == "bool":
        v = v.cast(pa.int8())
    elif k != "int":
        v = v.view(pa.int64() if v.type.bit_width == 64 else pa.int32())
    if pa.types.is_uint64(v.type):
        return None
    nulls = v.null_count
    x = (pc.fill_null(v, 0) if nulls else v).to_numpy(zero_copy_only=False).astype(
        I64, copy=False)
    valid = v.is_valid().to_numpy(zero_copy_only=False) if nulls else None
    if nulls == len(v):
        return np.zeros(len(v), dtype=I64), 0, 0
    vals = x[valid] if valid is not None else x
    lo, hi = int(vals.min()), int(vals.max())
    if lo <= -2 ** 62 or hi >= 2 ** 62:
        return None
    if descending:
        x = -x
        lo, hi = -hi, -lo
    if valid is not None:
        code = lo - 1 if nulls_first else hi + 1
        x = np.where(valid, x, code)
        lo, hi = min(lo, code), max(hi, code)
    return x, lo, hi


class Layout:
    """One sort of the rows: partitions and peer groups as arrays over sorted positions.

    ``perm[i]`` is the child row at sorted position ``i``. ``ps``/``pe`` bound the row's
    partition, ``peer_s``/``peer_e`` its peer group (rows equal in every ORDER BY key).
    """

    def __init__(self, t: pa.Table, group: WindowGroup, ctx) -> None:
        n = self.n = t.num_rows
        parts = [_array(e, t, ctx) for e in group.partition]
        self.orders = [_array(k.expr, t, ctx) for k in group.order]
        self.order_keys = group.order
        self.perm: np.ndarray | None = None
        self._take: pa.Array | None = None
        self._orders_sorted: list[pa.Array] | None = None
        self.idx = np.arange(n, dtype=I64)
        directions = [(False, False)] * len(parts) + [(k.descending, k.nulls_first)
                                                       for k in group.order]
        ints = []
        for v, (d, f) in zip(parts + self.orders, directions):
            key = _int_key(v, d, f)
            if key is None:
                break
            ints.append(key)
        if len(ints) == len(directions):
            new_part, new_peer = self._sort_ints(ints, len(parts))
        else:
            new_part, new_peer = self._sort_arrow(parts, group.order)
        self.part_id = np.cumsum(new_part, dtype=I64) - 1
        self.starts = np.flatnonzero(new_part).astype(I64, copy=False)
        self.nparts = len(self.starts)
        ends = np.append(self.starts[1:], n).astype(I64, copy=False)
        self.ps = self.starts[self.part_id]
        self.pe = ends[self.part_id]
        self.peer_id = np.cumsum(new_peer, dtype=I64) - 1
        self.peer_starts = np.flatnonzero(new_peer).astype(I64, copy=False)
        self.peer_ends = np.append(self.peer_starts[1:], n).astype(I64, copy=False)
        self.peer_s = self.peer_starts[self.peer_id]
        self.peer_e = self.peer_ends[self.peer_id]

    def _set_perm(self, perm: np.ndarray) -> None:
        if not np.array_equal(perm, self.idx):
            self.perm = perm.astype(I64, copy=False)
            self._take = pa.array(self.perm)

    def _sort_ints(self, keys: list, nparts: int) -> tuple[np.ndarray, np.ndarray]:
        """Integer-like keys: one composite int64 key (or lexsort) and numpy comparisons."""
        n = self.n
        if keys:
            total = 1
            for _, lo, hi in keys:
                total *= hi - lo + 1
            if total < 2 ** 62:
                comp = np.zeros(n, dtype=I64)
                for v, lo, hi in keys:
                    comp *= hi - lo + 1
                    comp += v - lo
                if total * n < 2 ** 62:
                    # Row numbers make every key unique: a plain (SIMD) value sort is stable.
                    comp *= n
                    comp += self.idx
                    self._set_perm(np.sort(comp) % n)
                else:
                    self._set_perm(np.argsort(comp, kind="stable"))
            else:
                self._set_perm(np.lexsort([v for v, _, _ in reversed(keys)]))
        new_part = np.zeros(n, dtype=bool)
        new_part[0] = True
        new_peer = new_part.copy()
        for i, (v, _, _) in enumerate(keys):
            sv = self.sorted_np(v)
            (new_part if i < nparts else new_peer)[1:] |= sv[1:] != sv[:-1]
        new_peer |= new_part
        return new_part, new_peer

    def _sort_arrow(self, parts: list[pa.Array], order: list[SortKey]):
        n = self.n
        cols, names, keys = [], [], []
        for i, v in enumerate(parts):
            cols.append(v)
            names.append(f"p{i}")
            keys.append((f"p{i}", "ascending"))
        for i, (k, v) in enumerate(zip(order, self.orders)):
            if v.null_count:
                cols.append(pc.is_null(v))
                names.append(f"n{i}")
                keys.append((f"n{i}", "descending" if k.nulls_first else "ascending"))
            cols.append(v)
            names.append(f"o{i}")
            keys.append((f"o{i}", "descending" if k.descending else "ascending"))
        self._set_perm(pc.sort_indices(pa.table(cols, names=names), sort_keys=keys).to_numpy())
        new_part = np.zeros(n, dtype=bool)
        new_part[0] = True
        for v in parts:
            new_part[1:] |= _changes(self.sorted_arrow(v))
        new_peer = new_part.copy()
        for v in self.orders_sorted:
            new_peer[1:] |= _changes(v)
        return new_part, new_peer

    @property
    def orders_sorted(self) -> list[pa.Array]:
        if self._orders_sorted is None:
            self._orders_sorted = [self.sorted_arrow(v) for v in self.orders]
        return self._orders_sorted

    def sorted_arrow(self, v: pa.Array) -> pa.Array:
        return v.take(self._take) if self._take is not None else v

    def sorted_np(self, v: np.ndarray) -> np.ndarray:
        return v[self.perm] if self.perm is not None else v

    def unsort(self, v: np.ndarray) -> np.ndarray:
        """Values at sorted positions -> values in the child's row order."""
        if self.perm is None:
            return v
        out = np.empty_like(v)
        out[self.perm] = v
        return out

    def pick(self, values: pa.Array, pos: np.ndarray, ok: np.ndarray) -> pa.Array:
        """``values`` (child order) at sorted positions ``pos`` where ``ok``, else NULL."""
        pos = np.where(ok, pos, 0)
        rows = self.perm[pos] if self.perm is not None else pos
        rows = self.unsort(np.where(ok, rows, -1))
        return values.take(pa.array(rows, mask=rows < 0))


# ----------------------------------------------------------------------------- frames

Segments = list[tuple[np.ndarray, np.ndarray]]


def _offsets(e: CExpr, t: pa.Table, L: Layout, ctx, integral: bool) -> np.ndarray:
    v = materialize(e.fn(t, ctx), t.num_rows, e.type)
    if isinstance(v, pa.ChunkedArray):
        v = v.combine_chunks()
    if v.null_count:
        raise DataError(f"window frame offset {e.sql} cannot be NULL")
    k = T.kind(v.type)
    if k not in ("int", "float", "decimal"):
        raise DataError(f"window frame offset {e.sql} must be a number, not "
                        f"{T.sql_type_name(v.type)}")
    arr = v.to_numpy(zero_copy_only=False) if k != "decimal" else \
        v.cast(pa.float64()).to_numpy(zero_copy_only=False)
    if (arr < 0).any():
        raise DataError(f"window frame offset {e.sql} cannot be negative")
    if integral:
        arr = arr.astype(I64, copy=False)
    return L.sorted_np(arr)


def _bound(b: Bound, is_start: bool, unit: str, t, L: Layout, ctx) -> np.ndarray:
    if b.kind == "unbounded":
        return L.ps if is_start else L.pe
    if b.kind == "current":
        if unit == "rows":
            return L.idx if is_start else L.idx + 1
        return L.peer_s if is_start else L.peer_e
    sign = -1 if b.kind == "preceding" else 1
    if unit == "rows":
        off = _offsets(b.offset, t, L, ctx, True)
        pos = L.idx + sign * off + (0 if is_start else 1)
        return np.clip(pos, L.ps, L.pe)
    if unit == "groups":
        off = _offsets(b.offset, t, L, ctx, True)
        g = L.peer_id + sign * off
        first, last = L.peer_id[L.ps], L.peer_id[L.pe - 1]
        inside = L.peer_starts if is_start else L.peer_ends
        gi = np.clip(g, first, last)
        return np.where(g < first, L.ps, np.where(g > last, L.pe, inside[gi]))
    return _range_bound(b, sign, is_start, t, L, ctx)


def _range_bound(b: Bound, sign: int, is_start: bool, t, L: Layout, ctx) -> np.ndarray:
    """RANGE n PRECEDING/FOLLOWING over the single ORDER BY key: binary searches.

    Numbers compare as numbers; DATE and TIMESTAMP keys as microseconds, with a constant
    INTERVAL offset of days and smaller units.
    """
    key_arr = L.orders_sorted[0]
    k0 = L.order_keys[0]
    kind = T.kind(key_arr.type)
    nulls = key_arr.is_null().to_numpy(zero_copy_only=False)
    if kind in ("date", "timestamp"):
        key = _micros(key_arr)
        off = np.full(L.n, _interval_micros(b.offset), dtype=I64)
    else:
        integral = kind == "int" and T.kind(b.offset.type) == "int"
        if integral:
            key = pc.fill_null(key_arr, 0).cast(pa.int64()).to_numpy(zero_copy_only=False)
        else:
            key = pc.fill_null(key_arr.cast(pa.float64()), 0.0).to_numpy(
                zero_copy_only=False)
        off = _offsets(b.offset, t, L, ctx, integral)
    if k0.descending:
        key = -key
    target = key + sign * off
    nnull = np.add.reduceat(nulls.astype(I64), L.starts)[L.part_id] if nulls.any() else 0
    lo = L.ps + nnull if k0.nulls_first else L.ps
    hi = L.pe if k0.nulls_first else L.pe - nnull
    side = "left" if is_start else "right"
    if L.nparts == 1:
        a, z = int(lo[0]), int(hi[0])
        pos = np.searchsorted(key[a:z], target, side=side).astype(I64) + a
    else:
        pos = _segmented_search(key, nulls, L, lo, hi, target, side, k0.nulls_first)
    peer = L.peer_s if is_start else L.peer_e
    return np.where(nulls, peer, pos)


_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}


def _micros(v: pa.Array) -> np.ndarray:
    """DATE / TIMESTAMP values as int64 microseconds (NULLs as 0)."""
    if pa.types.is_date32(v.type):
        days = pc.fill_null(v.view(pa.int32()), 0).to_numpy(zero_copy_only=False)
        return days.astype(I64) * 86_400_000_000
    if pa.types.is_date64(v.type):
        ms = pc.fill_null(v.view(pa.int64()), 0).to_numpy(zero_copy_only=False)
        return ms.astype(I64) * 1000
    raw = pc.fill_null(v.view(pa.int64()), 0).to_numpy(zero_copy_only=False).astype(I64)
    per = _PER_SECOND[v.type.unit]
    return raw * (1_000_000 // per) if per <= 1_000_000 else raw // (per // 1_000_000)


def _interval_micros(e: CExpr) -> int:
    s = e.fn(None, None)
    v = s.as_py() if s.is_valid else None
    if v is None:
        raise DataError(f"window frame offset {e.sql} cannot be NULL")
    months, days, nanos = (v.months, v.days, v.nanoseconds) if hasattr(v, "months") else (
        0, v.days, (v.seconds * 1_000_000 + v.microseconds) * 1000)
    if months:
        raise NotSupportedError(f"RANGE offsets in months or years are not supported: "
                                f"{e.sql}; use days")
    micros = days * 86_400_000_000 + nanos // 1000
    if micros < 0:
        raise DataError(f"window frame offset {e.sql} cannot be negative")
    return micros


def _segmented_search(key, nulls, L: Layout, lo, hi, target, side: str,
                      nulls_first: bool) -> np.ndarray:
    """Per-row searchsorted of ``target`` inside the row's own partition range."""
    if key.dtype.kind == "i" and len(key):
        kmin, kmax = int(key.min()), int(key.max())
        tmin, tmax = int(target.min()), int(target.max())
        low, high = min(kmin, tmin), max(kmax, tmax)
        span = high - low + 3
        if span * L.nparts < 2 ** 62:
            # One sorted composite key (partition, value) answers every row with one search.
            base = L.part_id * span
            comp = np.where(nulls, base + (0 if nulls_first else span - 1), base + key - low + 1)
            pos = np.searchsorted(comp, base + target - low + 1, side=side)
            return pos.astype(I64, copy=False)
    lo, hi = lo.copy(), hi.copy()
    while True:
        active = lo < hi
        if not active.any():
            return lo
        mid = (lo + hi) >> 1
        v = key[np.where(active, mid, 0)]
        right = (v <= target) if side == "right" else (v < target)
        lo = np.where(active & right, mid + 1, lo)
        hi = np.where(active & ~right, mid, hi)


def frame_segments(f: Frame, t, L: Layout, ctx, cache: dict) -> Segments:
    key = (f.unit, f.start.kind, id(f.start.offset), f.end.kind, id(f.end.offset), f.exclude)
    hit = cache.get(key)
    if hit is not None:
        return hit
    if f.start.kind == "unbounded" and f.end.kind == "unbounded":
        fs, fe = L.ps, L.pe
    else:
        fs = _bound(f.start, True, f.unit, t, L, ctx)
        fe = np.maximum(_bound(f.end, False, f.unit, t, L, ctx), fs)
    if f.exclude == "no others":
        segs = [(fs, fe)]
    elif f.exclude == "ties":
        inside = (fs <= L.idx) & (L.idx < fe)
        a_end = np.clip(L.peer_s, fs, fe)
        segs = [(fs, a_end), (np.where(inside, L.idx, a_end), np.where(inside, L.idx + 1, a_end)),
                (np.clip(L.peer_e, fs, fe), fe)]
    else:
        xs, xe = (L.idx, L.idx + 1) if f.exclude == "current row" else (L.peer_s, L.peer_e)
        segs = [(fs, np.clip(xs, fs, fe)), (np.clip(xe, fs, fe), fe)]
    cache[key] = segs
    return segs


# ----------------------------------------------------------------------------- functions

RANKING = ("row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile")
VALUE = ("lag", "lead", "first_value", "last_value", "nth_value")
FRAMED_AGGS = ("count", "count_star", "count_if", "sum", "avg", "min", "max", "bool_and",
               "bool_or", "first", "last", "any_value")


def evaluate(c: WindowCall, t: pa.Table, L: Layout, ctx, cache: dict) -> pa.Array:
    if c.spec is not None:
        return _general_aggregate(c, t, L, ctx)
    if c.name in RANKING:
        return _ranking(c, t, L, ctx)
    if c.name in ("lag", "lead"):
        return _lag_lead(c, t, L, ctx)
    segs = frame_segments(c.frame, t, L, ctx, cache)
    if c.name in ("first_value", "last_value", "nth_value"):
        return _nth_value(c, t, L, ctx, segs, c.name, c.ignore_nulls)
    return _framed_aggregate(c, t, L, ctx, segs)


def _int_result(L: Layout, sorted_values: np.ndarray, mask: np.ndarray | None = None):
    v = L.unsort(sorted_values)
    m = L.unsort(mask) if mask is not None else None
    return pa.array(v, mask=m)


def _ranking(c: WindowCall, t, L: Layout, ctx) -> pa.Array:
    name = c.name
    if name == "row_number":
        return _int_result(L, L.idx - L.ps + 1)
    rank = L.peer_s - L.ps + 1
    if name == "rank":
        return _int_result(L, rank)
    if name == "dense_rank":
        return _int_result(L, L.peer_id - L.peer_id[L.ps] + 1)
    size = (L.pe - L.ps).astype(np.float64)
    if name == "percent_rank":
        pr = np.where(size > 1, (rank - 1) / np.maximum(size - 1, 1), 0.0)
        return pa.array(L.unsort(pr))
    if name == "cume_dist":
        return pa.array(L.unsort((L.peer_e - L.ps) / size))
    # ntile
    v = _array(c.args[0], t, ctx)
    if T.kind(v.type) not in ("int", "null", "float", "decimal"):
        raise DataError(f"NTILE needs a number of buckets, not {T.sql_type_name(v.type)}")
    null = L.sorted_np(v.is_null().to_numpy(zero_copy_only=False))
    k = L.sorted_np(pc.fill_null(v.cast(pa.int64()) if T.kind(v.type) != "null" else
                                 pa.nulls(len(v), pa.int64()), 1).to_numpy(zero_copy_only=False))
    if (k[~null] <= 0).any():
        raise DataError("the argument of NTILE must be greater than zero")
    total = L.pe - L.ps
    k = np.minimum(k, total)
    size_small = total // k
    n_large = total - k * size_small
    i_small = n_large * (size_small + 1)
    row = L.idx - L.ps
    bucket = np.where(row < i_small, row // (size_small + 1),
                      n_large + (row - i_small) // np.maximum(size_small, 1)) + 1
    return _int_result(L, bucket, null)


def _valid_prefix(valid: np.ndarray) -> np.ndarray:
    out = np.zeros(len(valid) + 1, dtype=I64)
    np.cumsum(valid, out=out[1:])
    return out


def _lag_lead(c: WindowCall, t, L: Layout, ctx) -> pa.Array:
    x = _array(c.args[0], t, ctx)
    n = L.n
    if len(c.args) > 1:
        ov = _array(c.args[1], t, ctx)
        if T.kind(ov.type) not in ("int", "null", "float", "decimal"):
            raise DataError(f"the offset of {c.name.upper()} must be a number")
        off_null = L.sorted_np(ov.is_null().to_numpy(zero_copy_only=False))
        ov = ov.cast(pa.int64()) if T.kind(ov.type) != "null" else pa.nulls(n, pa.int64())
        off = L.sorted_np(pc.fill_null(ov, 0).to_numpy(zero_copy_only=False).astype(I64))
    else:
        off_null = np.zeros(n, dtype=bool)
        off = np.ones(n, dtype=I64)
    step = -off if c.name == "lag" else off
    if not c.ignore_nulls or x.null_count == 0:
        pos = L.idx + step
        ok = (pos >= L.ps) & (pos < L.pe)
    else:
        valid = L.sorted_np(x.is_valid().to_numpy(zero_copy_only=False))
        C = _valid_prefix(valid)
        nn = np.flatnonzero(valid)
        m = len(nn)
        # The step-th non-NULL value after (or before) the current row within the partition.
        j = np.where(step > 0, C[L.idx + 1] + step - 1, C[L.idx] + step)
        ok = (j >= 0) & (j < m)
        pos = np.where(ok, nn[np.clip(j, 0, max(m - 1, 0))] if m else 0, 0)
        ok &= (pos >= L.ps) & (pos < L.pe)
        same = step == 0
        pos = np.where(same, L.idx, pos)
        ok = np.where(same, True, ok)
    ok &= ~off_null
    out = L.pick(x, pos, ok)
    if len(c.args) > 2:
        default = materialize(c.args[2].fn(t, ctx), n, c.args[2].type)
        use = pa.array(L.unsort(~ok & ~off_null))
        if out.type != c.type:
            out = out.cast(c.type)
        default = default.cast(c.type) if default.type != c.type else default
        out = pc.if_else(use, default, out)
    return out


def _nth_value(c: WindowCall, t, L: Layout, ctx, segs: Segments, name: str,
               ignore_nulls: bool) -> pa.Array:
    x = _array(c.args[0], t, ctx)
    n = L.n
    null_k = np.zeros(n, dtype=bool)
    if name == "nth_value":
        kv = _array(c.args[1], t, ctx)
        if T.kind(kv.type) not in ("int", "null", "float", "decimal"):
            raise DataError("the position of NTH_VALUE must be a number")
        null_k = L.sorted_np(kv.is_null().to_numpy(zero_copy_only=False))
        kv = kv.cast(pa.int64()) if T.kind(kv.type) != "null" else pa.nulls(n, pa.int64())
        k = L.sorted_np(pc.fill_null(kv, 0).to_numpy(zero_copy_only=False).astype(I64))
        null_k |= k <= 0
    else:
        k = np.ones(n, dtype=I64)
    if ignore_nulls and x.null_count:
        valid = L.sorted_np(x.is_valid().to_numpy(zero_copy_only=False))
        C = _valid_prefix(valid)
        nn = np.flatnonzero(valid).astype(I64, copy=False)
    else:
        C = nn = None

    def count(a, b):
        return (C[b] - C[a]) if C is not None else (b - a)

    def at(a, j):  # the j-th (0-based) counted row from position a
        if C is None:
            return a + j
        idx = C[a] + j
        return nn[np.clip(idx, 0, max(len(nn) - 1, 0))] if len(nn) else a

    found = np.zeros(n, dtype=bool)
    pos = np.zeros(n, dtype=I64)
    if name == "last_value":
        for a, b in reversed(segs):
            cnt = count(a, b)
            hit = ~found & (cnt > 0)
            last = (C[b] - 1) if C is not None else b - 1
            p = last if C is None else (nn[np.clip(last, 0, max(len(nn) - 1, 0))]
                                        if len(nn) else last)
            pos = np.where(hit, p, pos)
            found |= hit
    else:
        remaining = k.copy()
        for a, b in segs:
            cnt = count(a, b)
            hit = ~found & (remaining <= cnt) & (remaining > 0)
            pos = np.where(hit, at(a, remaining - 1), pos)
            found |= hit
            remaining = remaining - np.where(found, 0, cnt)
    return L.pick(x, pos, found & ~null_k)


# ----------------------------------------------------------------------------- aggregates


def _framed_aggregate(c: WindowCall, t, L: Layout, ctx, segs: Segments) -> pa.Array:
    name = c.name
    if name in ("first", "last", "any_value"):
        fn = "last_value" if name == "last" else "first_value"
        return _nth_value(c, t, L, ctx, segs, fn, name == "any_value")
    n = L.n
    x = _array(c.args[0], t, ctx) if c.args else None
    valid = np.ones(n, dtype=bool) if x is None else \
        x.is_valid().to_numpy(zero_copy_only=False)
    if c.filter is not None:
        f = materialize(c.filter.fn(t, ctx), n, pa.bool_())
        valid &= pc.fill_null(f, False).to_numpy(zero_copy_only=False)
    if name == "count_if":
        valid &= pc.fill_null(x, False).to_numpy(zero_copy_only=False)
    valid = L.sorted_np(valid)
    C = _valid_prefix(valid)
    cnt = sum(C[b] - C[a] for a, b in segs)
    if name in ("count", "count_star", "count_if"):
        return pa.array(L.unsort(cnt))
    empty = L.unsort(cnt == 0)
    if name in ("sum", "avg"):
        return _sum_avg(c, x, valid, cnt, empty, segs, L)
    return _min_max(c, x, valid, empty, segs, L)


def _sum_avg(c: WindowCall, x: pa.Array, valid, cnt, empty, segs: Segments, L: Layout):
    k = T.kind(x.type)
    scale = None
    if k == "decimal":
        vals, scale = _decimal_unscaled(x)
    elif k in ("int", "bool"):
        vals = pc.fill_null(x.cast(pa.int64()), 0).to_numpy(zero_copy_only=False)
    elif k == "null":
        vals = np.zeros(L.n, dtype=I64)
    else:
        vals = pc.fill_null(x.cast(pa.float64()), 0.0).to_numpy(zero_copy_only=False)
    vals = np.where(valid, L.sorted_np(vals), 0)
    if vals.dtype.kind == "i":
        big = float(np.abs(vals).max()) * len(vals) if len(vals) else 0.0
        if big >= 2 ** 62:
            vals = vals.astype(object)  # exact, slower; the result is checked below
    else:
        vals = vals.astype(np.longdouble)  # prefix differences keep their precision
    P = np.zeros(len(vals) + 1, dtype=vals.dtype)
    np.cumsum(vals, out=P[1:])
    s = sum(P[b] - P[a] for a, b in segs)
    if c.name == "avg":
        avg = np.asarray(s, dtype=np.float64) / np.maximum(cnt, 1)
        if scale is not None:
            avg = avg / 10 ** scale
        return pa.array(L.unsort(avg), mask=empty)
    if scale is not None:
        return _decimal_from_unscaled(L.unsort(np.asarray(s, dtype=I64)), empty, c.type)
    if s.dtype == object:
        try:
            return pa.array(L.unsort(s).tolist(), pa.int64(), mask=empty)
        except (OverflowError, pa.ArrowInvalid):
            raise DataError(f"{c.sql or 'SUM'}: the sum is out of the BIGINT range") from None
    if s.dtype.kind == "f":
        s = s.astype(np.float64)
    return pa.array(L.unsort(s), mask=empty)


def _decimal_unscaled(x: pa.Array) -> tuple[np.ndarray, int]:
    if not pa.types.is_decimal128(x.type):
        raise NotSupportedError("window SUM/AVG supports DECIMAL(38) values or smaller")
    words = np.frombuffer(x.buffers()[1], dtype=I64)[2 * x.offset: 2 * (x.offset + len(x))]
    lo, hi = words[0::2], words[1::2]
    ok = x.is_valid().to_numpy(zero_copy_only=False)
    if ((hi != (lo >> 63)) & ok).any():
        raise NotSupportedError("window SUM/AVG of DECIMAL values beyond 18 digits")
    return np.where(ok, lo, 0), x.type.scale


def _decimal_from_unscaled(v: np.ndarray, empty: np.ndarray, typ: pa.DataType) -> pa.Array:
    words = np.empty((len(v), 2), dtype=I64)
    words[:, 0] = v
    words[:, 1] = v >> 63
    arr = pa.Array.from_buffers(typ, len(v), [None, pa.py_buffer(words.tobytes())])
    return pc.if_else(pa.array(~empty), arr, pa.scalar(None, typ))


def _min_max(c: WindowCall, x: pa.Array, valid, empty, segs: Segments, L: Layout):
    is_max = c.name in ("max", "bool_or")
    k = T.kind(x.type)
    direct = k in ("int", "float", "bool", "date", "timestamp", "time")
    if direct:
        num = x
        if k == "bool":
            num = x.cast(pa.int8())
        elif k in ("date", "timestamp", "time"):
            num = x.view(pa.int64() if x.type.bit_width == 64 else pa.int32())
        vals = num.to_numpy(zero_copy_only=False) if not num.null_count else \
            pc.fill_null(num, 0).to_numpy(zero_copy_only=False)
        if vals.dtype.kind == "f":
            ident = -np.inf if is_max else np.inf
        else:
            vals = vals.astype(I64, copy=False)
            ident = np.iinfo(I64).min if is_max else np.iinfo(I64).max
    else:
        if k == "null":
            return pa.nulls(L.n, c.type)
        ranks = pc.rank(x, sort_keys="ascending", tiebreaker="dense")  # NULLs last
        vals = ranks.to_numpy(zero_copy_only=False).astype(I64, copy=False)
        ident = np.iinfo(I64).min if is_max else np.iinfo(I64).max
    codes = np.where(valid, L.sorted_np(vals), ident)
    op = np.maximum if is_max else (np.fmin if codes.dtype.kind == "f" else np.minimum)
    best = None
    for a, b in segs:
        r = range_reduce(codes, a, b, L, op, ident)
        best = r if best is None else op(best, r)
    best = L.unsort(best)
    if direct:
        out = pa.array(best, mask=empty)
        if k == "bool":
            return out.cast(pa.bool_())
        if k in ("date", "timestamp", "time"):
            return out.cast(num.type).view(x.type)
        return out.cast(x.type)
    # A rank back to a row holding that value.
    row_of = np.zeros(int(vals.max()) + 2 if len(vals) else 1, dtype=I64)
    xv = x.is_valid().to_numpy(zero_copy_only=False)
    row_of[vals[xv]] = np.flatnonzero(xv)
    rows = np.where(empty, -1, row_of[np.clip(best, 0, len(row_of) - 1)])
    return x.take(pa.array(rows, mask=rows < 0))


def range_reduce(codes: np.ndarray, a: np.ndarray, b: np.ndarray, L: Layout, op,
                 ident) -> np.ndarray:
    """``op`` over ``codes[a[i]:b[i]]`` per row (``ident`` when empty).

    Short ranges (up to the longest one that neither starts at the partition start nor ends
    at its end, and at least 64) read a sparse table; longer ones are running scans from the
    partition start or end.
    """
    length = b - a
    nonempty = length > 0
    if not nonempty.any():
        return np.full(len(codes), ident, dtype=codes.dtype)
    inner = nonempty & (a != L.ps) & (b != L.pe)
    cap = max(64, int(length[inner].max()) if inner.any() else 0)
    if int(length.max()) <= cap:
        if nonempty.all():
            return _sparse_query(codes, a, b, op)
        res = _sparse_query(codes, np.where(nonempty, a, 0), np.where(nonempty, b, 1), op)
        return np.where(nonempty, res, ident)
    out = np.full(len(codes), ident, dtype=codes.dtype)
    short = nonempty & (length <= cap)
    prefix = nonempty & ~short & (a == L.ps)
    suffix = nonempty & ~short & ~prefix
    if short.any():
        out[short] = _sparse_query(codes, a[short], b[short], op)
    if prefix.any():
        acc = _scan(codes, L, op, ident, reverse=False)
        out[prefix] = acc[b[prefix] - 1]
    if suffix.any():
        acc = _scan(codes, L, op, ident, reverse=True)
        out[suffix] = acc[a[suffix]]
    return out


def _scan(codes: np.ndarray, L: Layout, op, ident, reverse: bool) -> np.ndarray:
    """Running ``op`` inside each partition (from its end when ``reverse``)."""
    v = codes[::-1] if reverse else codes
    if L.nparts == 1:
        acc = op.accumulate(v)
    elif L.nparts <= 64:
        acc = np.empty_like(v)
        bounds = np.append(L.starts, L.n)
        if reverse:
            bounds = (L.n - bounds)[::-1]
        for s, e in itertools.pairwise(bounds):
            acc[s:e] = op.accumulate(v[s:e])
    else:
        pid = L.part_id[::-1] if reverse else L.part_id
        acc = _scan_offset(v, pid, L.nparts, op is np.maximum, ident, reverse) \
            if v.dtype.kind == "i" else None
        if acc is None:
            acc = _scan_doubling(v, L, op, reverse)
    return acc[::-1] if reverse else acc


def _scan_offset(v: np.ndarray, pid: np.ndarray, nparts: int, is_max: bool, ident,
                 reverse: bool) -> np.ndarray | None:
    """Integers: lift each partition into its own value band, then one plain accumulate."""
    valid = v != ident
    if not valid.any():
        return v.copy()
    lo, hi = int(v[valid].min()), int(v[valid].max())
    span = hi - lo + 3
    if span * nparts >= 2 ** 62:
        return None
    empty = 0 if is_max else span - 1
    w = np.where(valid, v - (lo - 1), empty)
    # Along the scan, bands rise for MAX and fall for MIN, so no partition sees an earlier one.
    ascending_pid = is_max != reverse  # partition ids rise along a forward scan
    off = (pid if ascending_pid else (nparts - 1 - pid)) * span
    acc = (np.maximum if is_max else np.minimum).accumulate(w + off) - off
    return np.where(acc == empty, ident, acc + (lo - 1))


def _scan_doubling(v: np.ndarray, L: Layout, op, reverse: bool) -> np.ndarray:
    """After step d every row holds ``op`` over the 2d rows up to it in its partition."""
    start = (L.n - L.pe[::-1]) if reverse else L.ps
    acc = v.copy()
    d = 1
    longest = int((L.pe - L.ps).max())
    while d < longest:
        ok = L.idx[d:] - d >= start[d:]
        acc[d:] = np.where(ok, op(acc[d:], acc[:-d]), acc[d:])
        d *= 2
    return acc


def _sparse_query(codes: np.ndarray, a: np.ndarray, b: np.ndarray, op) -> np.ndarray:
    """Range ``op`` from a sparse table: level k holds ``op`` over ``codes[i:i + 2**k]``."""
    n = len(codes)
    length = b - a
    top = int(length.max()).bit_length() - 1
    if n * (top + 1) > 2 ** 26:
        return _tree_query(codes, a, b, op)
    flat = np.empty(n * (top + 1), dtype=codes.dtype)
    flat[:n] = codes
    for k in range(1, top + 1):
        h = 1 << (k - 1)
        prev = flat[(k - 1) * n:k * n]
        level = flat[k * n:(k + 1) * n]
        op(prev[:n - h], prev[h:], out=level[:n - h])
    lg = np.zeros(len(length), dtype=I64)
    for k in range(1, top + 1):
        lg += length >= (1 << k)
    base = lg * n
    return op(flat[base + a], flat[base + b - (1 << lg)])


def _tree_query(codes: np.ndarray, a: np.ndarray, b: np.ndarray, op) -> np.ndarray:
    """The same answer from a segment tree: O(n) memory for very long frames."""
    n = len(codes)
    size = 1 << max(1, (n - 1).bit_length())
    ident = op.reduce(codes)  # any value works as padding for an idempotent op over ranges
    tree = np.full(2 * size, ident, dtype=codes.dtype)
    tree[size:size + n] = codes
    width = size
    while width > 1:
        half = width // 2
        tree[half:width] = op(tree[width:2 * width:2], tree[width + 1:2 * width:2])
        width = half
    lo, hi = a + size, b + size
    out = np.full(len(a), ident, dtype=codes.dtype)
    first = np.ones(len(a), dtype=bool)
    while True:
        act = lo < hi
        if not act.any():
            return out
        left = act & ((lo & 1) == 1)
        node = tree[np.where(left, lo, 0)]
        out = np.where(left, np.where(first, node, op(out, node)), out)
        first &= ~left
        lo = lo + left
        right = act & ((hi & 1) == 1)
        hi = hi - right
        node = tree[np.where(right, hi, 0)]
        out = np.where(right, np.where(first, node, op(out, node)), out)
        first &= ~right
        lo >>= 1
        hi >>= 1


def _general_aggregate(c: WindowCall, t, L: Layout, ctx) -> pa.Array:
    """Any aggregate over the whole partition: one hash aggregation keyed by partition."""
    n = L.n
    arrays, names = [], []
    for f, e in c.inputs:
        arrays.append(materialize(e.fn(t, ctx), n, e.type))
        names.append(f)
    part = L.unsort(L.part_id)
    arrays.append(pa.array(part))
    names.append("__part")
    work = pa.table(arrays, names=names)
    spec = AggSpec(**{**vars(c.spec), "extra": dict(c.spec.extra)})
    res = run_aggregate(work, ["__part"], [spec])
    where = np.empty(L.nparts, dtype=I64)
    where[res.column("__part").to_numpy()] = np.arange(res.num_rows)
    out = res.column(spec.out).combine_chunks().take(pa.array(where[part]))
    return out


__all__ = [
    "FRAMED_AGGS",
    "RANKING",
    "UP_TO_PEERS",
    "VALUE",
    "WHOLE_PARTITION",
    "Bound",
    "Frame",
    "Window",
    "WindowCall",
    "WindowGroup",
]
