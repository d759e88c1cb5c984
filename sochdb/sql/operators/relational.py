"""Row-preserving and row-reducing operators: Filter, Project, Distinct, Sort, Limit."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sochdb.errors import ProgrammingError
from sochdb.sql import parallel
from sochdb.sql.expressions import CExpr, materialize
from sochdb.sql.operators.base import Operator
from sochdb.sql.scope import ColumnInfo

if TYPE_CHECKING:
    from sochdb.sql.context import ExecContext


def filter_rows(t: pa.Table, pred: CExpr, ctx: "ExecContext", sliced: bool = False
                ) -> pa.Table:
    """Rows of ``t`` where ``pred`` is TRUE; ``sliced``: evaluate on one slice per core."""
    if t.num_rows == 0:
        return t
    if sliced:
        return parallel.concat(parallel.map_slices(lambda p: filter_rows(p, pred, ctx), t))
    mask = pred.fn(t, ctx)
    if isinstance(mask, pa.Scalar):
        return t if mask.is_valid and mask.as_py() else t.slice(0, 0)
    return t.filter(mask, null_selection_behavior="drop")


class Filter(Operator):
    """Rows for which the predicate is TRUE (NULL and FALSE are dropped)."""

    def __init__(self, child: Operator, predicate: CExpr) -> None:
        self.child = child
        self.children = (child,)
        self.predicate = predicate
        self.columns = child.columns
        self.parallel = False  # the predicate may run on slices in threads (parallel.is_pure)
        self.input_rows: int | None = None  # rows before filtering, last execution

    def execute(self, ctx: "ExecContext") -> pa.Table:
        t = self.child.execute(ctx)
        self.input_rows = t.num_rows
        return filter_rows(t, self.predicate, ctx, self.parallel)

    def describe(self) -> str:
        return f"Filter {self.predicate.sql}"


class Project(Operator):
    """Compute the output columns from the child's rows."""

    def __init__(self, child: Operator, exprs: list[CExpr], columns: list[ColumnInfo]) -> None:
        self.child = child
        self.children = (child,)
        self.exprs = exprs
        self.columns = columns
        self.point = None  # a PointQuery when this is a key lookup of plain columns

    def execute(self, ctx: "ExecContext") -> pa.Table:
        t = self.child.execute(ctx)
        ctx.check_interrupt()
        n = t.num_rows
        arrays = []
        for e, c in zip(self.exprs, self.columns):
            v = materialize(e.fn(t, ctx), n, c.type)
            if v.type != c.type:
                v = v.cast(c.type)
            arrays.append(v)
        if not arrays:
            return t.select([])
        out = pa.table(arrays, names=[c.field for c in self.columns])
        if ctx.memory_limit is not None:
            ctx.check_memory(out.nbytes, "the projected rows")
        return out

    def describe(self) -> str:
        return "Project " + ", ".join(e.sql or c.name for e, c in zip(self.exprs, self.columns))


class Distinct(Operator):
    """Unique rows in order of first appearance (NULLs are equal to each other here).

    With ``keys`` (DISTINCT ON, or DISTINCT ordered by columns it does not return) only those
    fields decide uniqueness and the first row of each group in the current order is kept.
    """

    def __init__(self, child: Operator, keys: list[str] | None = None) -> None:
        self.child = child
        self.children = (child,)
        self.columns = child.columns
        self.keys = keys

    def execute(self, ctx: "ExecContext") -> pa.Table:
        t = self.child.execute(ctx)
        return distinct_rows(t, self.keys)

    def describe(self) -> str:
        return "Distinct" + (" ON" if self.keys else "")


def distinct_rows(t: pa.Table, keys: list[str] | None = None) -> pa.Table:
    if t.num_rows <= 1 or t.num_columns == 0:
        return t.slice(0, min(t.num_rows, 1)) if t.num_columns == 0 else t
    idx = pa.array(np.arange(t.num_rows, dtype=np.int64))
    keyed = t.append_column("__i", idx)
    names = keys if keys is not None else t.schema.names
    try:
        firsts = keyed.group_by(names, use_threads=False).aggregate([("__i", "min")])
    except pa.ArrowNotImplementedError as e:
        raise ProgrammingError(f"DISTINCT is not supported on these column types: {e}") from None
    order = np.sort(firsts.column("__i_min").to_numpy())
    return t.take(pa.array(order))


class SortKey:
    __slots__ = ("expr", "descending", "nulls_first")

    def __init__(self, expr: CExpr, descending: bool, nulls_first: bool) -> None:
        self.expr = expr
        self.descending = descending
        self.nulls_first = nulls_first


class Sort(Operator):
    """Stable sort by several keys, each with its own direction and NULL placement."""

    def __init__(self, child: Operator, keys: list[SortKey], limit: int | None = None) -> None:
        self.child = child
        self.children = (child,)
        self.keys = keys
        self.columns = child.columns
        self.limit = limit

    def execute(self, ctx: "ExecContext") -> pa.Table:
        t = self.child.execute(ctx)
        if t.num_rows <= 1:
            return t
        ctx.check_interrupt()
        if ctx.memory_limit is not None:
            ctx.check_memory(2 * t.nbytes, f"sorting {t.num_rows:,} rows")
        return take_rows(t, sort_indices(t, self.keys, ctx, self.limit))

    def describe(self) -> str:
        parts = [f"{k.expr.sql} {'DESC' if k.descending else 'ASC'}"
                 f"{' NULLS FIRST' if k.nulls_first else ''}" for k in self.keys]
        return "Sort " + ", ".join(parts) + (f" (top {self.limit})" if self.limit else "")


def take_rows(t: pa.Table, idx: pa.Array) -> pa.Table:
    """``t.take(idx)``; a few rows of a table of many chunks are taken batch by batch
    (Arrow's take on chunked data concatenates every chunk first)."""
    n = len(idx)
    if n * 256 > t.num_rows or t.num_columns == 0 or idx.null_count:
        return t.take(idx)
    batches = t.to_batches()
    if len(batches) <= 1:
        return t.take(idx)
    rows = idx.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    starts = np.cumsum([0] + [b.num_rows for b in batches])
    which = np.searchsorted(starts, rows, side="right") - 1
    order = np.argsort(which, kind="stable")
    bounds = np.searchsorted(which[order], np.arange(len(batches) + 1))
    parts = []
    for b in range(len(batches)):
        lo, hi = bounds[b], bounds[b + 1]
        if lo < hi:
            parts.append(batches[b].take(pa.array(rows[order[lo:hi]] - starts[b])))
    out = pa.Table.from_batches(parts, schema=t.schema)
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = np.arange(n)
    return out.take(pa.array(inverse))


def sort_indices(t: pa.Table, keys: list[SortKey], ctx, limit: int | None = None) -> pa.Array:
    """Stable sort order of ``t``; a NULL flag column before a key places its NULLs."""
    n = t.num_rows
    arrays, names, sort_keys = [], [], []
    for i, k in enumerate(keys):
        v = materialize(k.expr.fn(t, ctx), n, k.expr.type)
        if limit is not None and len(keys) == 1 and n >= THRESHOLD_TOPK_ROWS and \
                limit < n // 64 and not v.null_count and (
                    pa.types.is_integer(v.type) or pa.types.is_floating(v.type)):
            top = _threshold_top_k(v, limit, k.descending)
            if top is not None:
                return top
        if isinstance(v, pa.ChunkedArray):
            v = v.combine_chunks()
        if pa.types.is_dictionary(v.type):
            v = v.dictionary_decode()
        if v.null_count:
            arrays.append(pc.is_null(v))
            names.append(f"n{i}")
            sort_keys.append((f"n{i}", "descending" if k.nulls_first else "ascending"))
        arrays.append(v)
        names.append(f"k{i}")
        sort_keys.append((f"k{i}", "descending" if k.descending else "ascending"))
    table = pa.table(arrays, names=names)
    if limit is not None and limit < n // 4 and len(sort_keys) == 1:
        # Top-k without a full sort; ties are broken by position to stay deterministic.
        # On the bare array Arrow's top-k is several times faster than on a one-column table.
        top = pc.select_k_unstable(arrays[0], k=limit, sort_keys=[("", sort_keys[0][1])])
        sub = table.take(top).append_column("__pos", top)
        order = pc.sort_indices(sub, sort_keys=sort_keys + [("__pos", "ascending")])
        return top.take(order)
    return pc.sort_indices(table, sort_keys=sort_keys)


#: A numeric top-k over at least this many rows first tries a sampled cut-off.
THRESHOLD_TOPK_ROWS = 1 << 12


def _threshold_top_k(values, k: int, descending: bool) -> pa.Array | None:
    """Top-k through a cut-off guessed from a sample: one vectorized comparison per chunk
    keeps the rows at or beyond it, and the exact top k is picked among those (ties go to
    the earlier rows, as in a stable sort). A cut-off that keeps fewer than ``k`` rows is
    widened to the sample's extreme once; None if even that keeps too few (then the general
    sort decides). NaN passes no comparison, which matches the order (NaN after every
    number) as long as ``k`` numbers pass."""
    chunks = [c.to_numpy(zero_copy_only=False)
              for c in (values.chunks if isinstance(values, pa.ChunkedArray) else [values])]
    n = sum(len(c) for c in chunks)
    step = max(n // 65536, 1)
    s = np.concatenate([c[::step] for c in chunks])
    if s.dtype.kind == "f":
        s = s[~np.isnan(s)]
    if not len(s):
        return None
    s.sort()
    if descending:
        s = s[::-1]
    margin = min(len(s) - 1, int(k * len(s) / n * 4) + 16)  # a 4x margin, and some rows
    for cut in dict.fromkeys((s[margin], s[-1])):
        cand, vals, start = [], [], 0
        for c in chunks:
            hit = np.flatnonzero(c >= cut if descending else c <= cut)
            cand.append(hit + start)
            vals.append(c[hit])
            start += len(c)
        rows = np.concatenate(cand)
        if len(rows) >= k:
            v = np.concatenate(vals)
            if descending:  # reversed order without overflow: ~x for integers
                v = -v if v.dtype.kind == "f" else ~v
            order = np.argsort(v, kind="stable")[:k]  # candidates are in row order
            return pa.array(rows[order])
    return None


class Limit(Operator):
    def __init__(self, child: Operator, limit: CExpr | None, offset: CExpr | None) -> None:
        self.child = child
        self.children = (child,)
        self.limit = limit
        self.offset = offset
        self.columns = child.columns

    def execute(self, ctx: "ExecContext") -> pa.Table:
        t = self.child.execute(ctx)
        off = _count(self.offset, ctx, "OFFSET") if self.offset is not None else 0
        lim = _count(self.limit, ctx, "LIMIT") if self.limit is not None else None
        if lim is None:
            return t.slice(off)
        return t.slice(off, lim)

    def describe(self) -> str:
        parts = []
        if self.limit is not None:
            parts.append(f"LIMIT {self.limit.sql}")
        if self.offset is not None:
            parts.append(f"OFFSET {self.offset.sql}")
        return "Limit " + " ".join(parts)


def _count(e: CExpr, ctx, what: str) -> int | None:
    v = e.fn(None, ctx)
    if isinstance(v, pa.Scalar):
        if not v.is_valid:
            return None
        x = v.as_py()
    else:
        x = v[0].as_py()
    if isinstance(x, float) and x.is_integer():
        x = int(x)
    if not isinstance(x, int) or x < 0:
        raise ProgrammingError(f"{what} must be a non-negative integer, not {x!r}")
    return x
