"""Joins of every kind, computed as (left row, right row) index pairs.

Equality conditions go through Arrow's hash join on key columns; other conditions filter the
candidate pairs; outer joins then add the unmatched rows with NULLs. Working with index pairs
keeps one code path for INNER, LEFT, RIGHT, FULL, CROSS, SEMI and ANTI joins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sochdb.errors import ResourceLimitError
from sochdb.sql import types as T
from sochdb.sql.expressions import CExpr, materialize, to_array
from sochdb.sql.operators.base import Operator
from sochdb.sql.operators.join_pairs import Pairs, equi_pairs
from sochdb.sql.scope import ColumnInfo

if TYPE_CHECKING:
    from sochdb.sql.context import ExecContext

#: A cross product larger than this many rows is refused rather than exhausting memory.
MAX_CROSS_ROWS = 200_000_000
#: Join outputs up to this many rows keep the left order (then right order) when the matching
#: did not already produce it; larger ones are not sorted (SQL promises no order, and a sort
#: of millions of pairs costs more than the join).
ORDER_ROWS = 1 << 18


class Join(Operator):
    def __init__(self, left: Operator, right: Operator, kind: str,
                 left_keys: list[CExpr], right_keys: list[CExpr], residual: CExpr | None,
                 columns: list[ColumnInfo] | None = None, preserve_order: bool = True,
                 coalesce_fields: dict[str, tuple[str, str]] | None = None) -> None:
        self.left = left
        self.right = right
        self.children = (left, right)
        self.kind = kind  # inner, left, right, full, cross, semi, anti
        self.left_keys = left_keys
        self.right_keys = right_keys
        self.residual = residual
        if columns is None:
            columns = left.columns if kind in ("semi", "anti") else left.columns + right.columns
        self.columns = columns
        self.preserve_order = preserve_order
        self.coalesce_fields = coalesce_fields or {}

    def describe(self) -> str:
        keys = ", ".join(f"{a.sql} = {b.sql}" for a, b in zip(self.left_keys, self.right_keys))
        algo = "HashJoin" if self.left_keys else "NestedLoopJoin"
        extra = f" filter: {self.residual.sql}" if self.residual is not None else ""
        return f"{algo} {self.kind.upper()}" + (f" on {keys}" if keys else "") + extra

    def execute(self, ctx: "ExecContext") -> pa.Table:
        return self.join_tables(self.left.execute(ctx), self.right.execute(ctx), ctx)

    def join_tables(self, lt: pa.Table, rt: pa.Table, ctx: "ExecContext") -> pa.Table:
        """The join of two computed inputs (the children's results, or tables the run-time
        join ordering produced)."""
        ctx.check_interrupt()
        pairs = self.key_pairs(lt, rt, ctx)
        li, ri, ordered = pairs.left, pairs.right, pairs.ordered
        ctx.check_interrupt()
        if ctx.memory_limit is not None and len(li):
            width = (lt.nbytes / max(lt.num_rows, 1) + rt.nbytes / max(rt.num_rows, 1)
                     + 16)
            ctx.check_memory(int(len(li) * width), f"the join output of {len(li):,} rows")
        if self.residual is not None and len(li):
            both = _combine(_take(lt, pa.array(li)), _take(rt, pa.array(ri)))
            keep = true_rows(self.residual, both, ctx)
            li, ri = li[keep], ri[keep]
        kind = self.kind
        if kind in ("semi", "anti"):
            matched = np.zeros(lt.num_rows, dtype=bool)
            matched[li] = True
            rows = np.nonzero(matched if kind == "semi" else ~matched)[0]
            return _take(lt, pa.array(rows))
        # every left row once, in order: the left side of the output is the left table
        whole_left = pairs.strict and len(li) == lt.num_rows
        if kind in ("left", "full") and not whole_left:
            seen = np.zeros(lt.num_rows, dtype=bool)
            seen[li] = True
            missing = np.nonzero(~seen)[0]
            if len(missing):
                li = np.concatenate([li, missing])
                ri = np.concatenate([ri, np.full(len(missing), -1)])
                ordered = False
        if kind in ("right", "full"):
            seen = np.zeros(rt.num_rows, dtype=bool)
            seen[ri[ri >= 0]] = True
            missing = np.nonzero(~seen)[0]
            if len(missing):
                li = np.concatenate([li, np.full(len(missing), -1)])
                ri = np.concatenate([ri, missing])
        if self.preserve_order and not ordered and 1 < len(li) <= ORDER_ROWS:
            # Left rows in their order, each with its matches in right order; rows with no
            # left side (RIGHT/FULL) at the end in right order.
            lk = np.where(li < 0, lt.num_rows, li)
            order = np.lexsort((ri, lk))
            li, ri = li[order], ri[order]
        if whole_left and len(li) == lt.num_rows:  # no unmatched right rows were added
            left_part = lt
        else:
            left_part = _take(lt, _indices(li))
        right_part = _take(rt, _indices(ri))
        out = _combine(left_part, right_part)
        for target, (a, b) in self.coalesce_fields.items():
            i = out.schema.get_field_index(target)
            out = out.set_column(i, target, pc.coalesce(out.column(a), out.column(b)))
        return out

    def key_pairs(self, lt: pa.Table, rt: pa.Table, ctx) -> Pairs:
        """The (left row, right row) pairs whose join keys are equal (all pairs for a
        cross join); conditions that are not keys are left to the caller."""
        nl, nr = lt.num_rows, rt.num_rows
        if nl == 0 or nr == 0:
            return Pairs(np.empty(0, np.int64), np.empty(0, np.int64), True, True)
        if not self.left_keys:
            if nl * nr > MAX_CROSS_ROWS:
                raise ResourceLimitError(f"a join without equality conditions would produce "
                                         f"{nl * nr:,} rows; add a join condition")
            ctx.check_memory(nl * nr * 16, f"a join without equality conditions "
                                           f"({nl * nr:,} row pairs)")
            return Pairs(np.repeat(np.arange(nl, dtype=np.int64), nr),
                         np.tile(np.arange(nr, dtype=np.int64), nl), True)
        lcols, rcols = [], []
        for i, (a, b) in enumerate(zip(self.left_keys, self.right_keys)):
            typ = T.common_type(a.type, b.type)
            va = T.cast(materialize(a.fn(lt, ctx), nl, a.type), typ)
            vb = T.cast(materialize(b.fn(rt, ctx), nr, b.type), typ)
            lcols.append(va)
            rcols.append(vb)
        return equi_pairs(lcols, rcols, left_outer=self.kind == "left" and
                          self.residual is None)


def true_rows(pred: CExpr, t: pa.Table, ctx: "ExecContext") -> np.ndarray:
    """A boolean mask of the rows of ``t`` where ``pred`` is TRUE (NULL counts as false)."""
    mask = pred.fn(t, ctx)
    if isinstance(mask, pa.Scalar):
        return np.full(t.num_rows, bool(mask.is_valid and mask.as_py()))
    return to_array(pc.fill_null(mask, False), t.num_rows).to_numpy(zero_copy_only=False)


def _indices(rows: np.ndarray) -> pa.Array:
    """Row positions as Arrow take indices; -1 (no matching row) becomes NULL."""
    if not len(rows) or rows.min() >= 0:
        return pa.array(rows)
    return pa.array(rows, mask=rows < 0)


def _take(t: pa.Table, idx: pa.Array) -> pa.Table:
    """``t.take`` that keeps the row count of tables without columns."""
    if t.num_columns == 0:
        return pa.table({"_": pa.nulls(len(idx))}).select([])
    return t.take(idx)


def _combine(a: pa.Table, b: pa.Table) -> pa.Table:
    cols = list(a.columns) + list(b.columns)
    names = a.schema.names + b.schema.names
    if not cols:
        return a
    return pa.table(cols, names=names)
