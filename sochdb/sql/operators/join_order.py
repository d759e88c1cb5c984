"""Inner joins of three or more inputs, in an order chosen at run time from their sizes.

Small inputs are joined in FROM order (each next input is the first one an equality links to
those joined), which keeps the order of results predictable. Large ones are joined greedily:
start at the smallest input, then add the input whose join is estimated to give the fewest
rows. A unique key on one side bounds a join by the other side (key / foreign key), scaled by
the fraction of the key side that its filters kept; a join with no unique side may multiply
rows and comes last. Imports pyarrow and the join operator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from sochdb.sql.expressions import CExpr, and_exprs, materialize
from sochdb.sql.operators.base import Operator
from sochdb.sql.operators.join import ORDER_ROWS, Join, true_rows
from sochdb.sql.operators.join_pairs import is_unique, key_array
from sochdb.sql.operators.relational import take_rows
from sochdb.sql.scope import ColumnInfo

if TYPE_CHECKING:
    from sochdb.sql.context import ExecContext

#: Inputs of at least this many rows in total are joined in estimated-size order.
DYNAMIC_ROWS = 1 << 17
#: Joined results are checked for a unique key only up to this many rows.
UNIQUE_CHECK_ROWS = 1 << 21


@dataclass
class Conjunct:
    """A WHERE / ON condition over several inputs. An equality whose sides read disjoint
    inputs (``left_items`` = ``right_items``) can serve as a hash key; any conjunct can be
    evaluated as a filter on the joined rows (``pred``) once all of ``items`` are joined."""

    items: frozenset[int]
    pred: CExpr
    left_items: frozenset[int] | None = None
    right_items: frozenset[int] | None = None
    left: CExpr | None = None
    right: CExpr | None = None

    def key_for(self, joined: set[int], nxt: int) -> tuple[CExpr, CExpr] | None:
        """(expression on the joined rows, expression on input ``nxt``), if this links them."""
        if self.left_items is None:
            return None
        if self.left_items <= joined and self.right_items == {nxt}:
            return self.left, self.right  # type: ignore[return-value]
        if self.right_items <= joined and self.left_items == {nxt}:
            return self.right, self.left  # type: ignore[return-value]
        return None


class JoinGraph(Operator):
    def __init__(self, inputs: list[Operator], conjuncts: list[Conjunct],
                 columns: list[ColumnInfo]) -> None:
        self.inputs = inputs
        self.children = tuple(inputs)
        self.conjuncts = conjuncts
        self.columns = columns

    def describe(self) -> str:
        conds = " AND ".join(c.pred.sql for c in self.conjuncts)
        return "HashJoin INNER (join order chosen at run time)" + (
            f" on {conds}" if conds else "")

    def execute(self, ctx: "ExecContext") -> pa.Table:
        tables = [op.execute(ctx) for op in self.inputs]
        sizes = [t.num_rows for t in tables]
        base = [max(getattr(op, "input_rows", None) or 0, n, 1)
                for op, n in zip(self.inputs, sizes)]
        dynamic = sum(sizes) >= DYNAMIC_ROWS
        start = min(range(len(tables)), key=lambda i: (sizes[i], i)) if dynamic else 0
        rows = _Rows(tables, self.inputs, start)
        used: set[int] = set()
        while len(rows.joined) < len(tables):
            joined = rows.joined
            nxt = self._best(rows, sizes, base, used, ctx) if dynamic else \
                self._first(joined, used, len(tables))
            lkeys, rkeys, lsides, residual = [], [], [], []
            for k, c in enumerate(self.conjuncts):
                if k in used or not c.items <= joined | {nxt}:
                    continue
                key = c.key_for(joined, nxt)
                if key is not None:
                    lkeys.append(key[0])
                    rkeys.append(key[1])
                    lsides.append(c.left_items if c.left is key[0] else c.right_items)
                else:
                    residual.append(c)
                used.add(k)
            kind = "inner" if lkeys or residual else "cross"
            join = Join(self, self, kind, lkeys, rkeys, None, columns=[])
            ltab = rows.narrow([(e, side) for e, side in zip(lkeys, lsides)])
            pairs = join.key_pairs(ltab, tables[nxt], ctx)
            li, ri = pairs.left, pairs.right
            ctx.check_interrupt()
            if residual and len(li):
                both = rows.narrow([(None, c.items - {nxt}) for c in residual], li)
                right = tables[nxt].take(pa.array(ri))
                both = pa.table(list(both.columns) + list(right.columns),
                                names=both.schema.names + right.schema.names)
                keep = true_rows(and_exprs([c.pred for c in residual]), both, ctx)
                li, ri = li[keep], ri[keep]
            elif not dynamic and not pairs.ordered and 1 < len(li) <= ORDER_ROWS:
                order = np.lexsort((ri, li))  # FROM order joins keep the rows in order
                li, ri = li[order], ri[order]
            if ctx.memory_limit is not None and len(li):
                ctx.check_memory(int(len(li) * 8 * (len(rows.joined) + 1)),
                                 f"the join output of {len(li):,} rows")
            rows.extend(li, nxt, ri, whole=pairs.strict and len(li) == rows.n)
        return rows.materialize([c.field for c in self.columns])

    def _first(self, joined: set[int], used: set[int], n: int) -> int:
        """The first input (in FROM order) an unused equality links to the joined ones."""
        best = None
        for k, c in enumerate(self.conjuncts):
            if k in used or c.left_items is None:
                continue
            for a, b in ((c.left_items, c.right_items), (c.right_items, c.left_items)):
                if len(b) == 1 and a <= joined:
                    j = next(iter(b))
                    if j not in joined and (best is None or j < best):
                        best = j
        return best if best is not None else min(j for j in range(n) if j not in joined)

    def _best(self, rows: "_Rows", sizes: list[int], base: list[int], used: set[int],
              ctx: "ExecContext") -> int:
        """The input whose join with the rows joined so far is estimated smallest."""
        joined, n = rows.joined, rows.n
        best, best_est = None, None
        for j in range(len(sizes)):
            if j in joined:
                continue
            links = [(c, c.key_for(joined, j)) for k, c in enumerate(self.conjuncts)
                     if k not in used]
            links = [(c, key) for c, key in links if key is not None]
            if not links:
                est = float(n) * sizes[j] * 16  # a cross product: last resort
            else:
                est = float(n) * sizes[j]  # no unique side: rows may multiply
                for c, (lexpr, rexpr) in links:
                    if rows.unique(rexpr, rows.tables[j], ctx):
                        est = min(est, n * sizes[j] / base[j])
                        continue  # bounded by the joined rows: skip checking them
                    side = c.left_items if c.left is lexpr else c.right_items
                    if n <= UNIQUE_CHECK_ROWS and rows.unique(
                            lexpr, rows.narrow([(lexpr, side)]), ctx):
                        frac = min(1.0, n / base[next(iter(side))]) \
                            if side is not None and len(side) == 1 else 1.0
                        est = min(est, sizes[j] * frac)
            if best_est is None or est < best_est:
                best, best_est = j, est
        return best  # type: ignore[return-value]


class _Rows:
    """Joined rows as positions into each joined input: columns are taken only when a join
    key, a condition or the final output needs them (late materialization)."""

    def __init__(self, tables: list[pa.Table], inputs: list[Operator], start: int) -> None:
        self.tables = tables
        self.owner = {c.field: i for i, op in enumerate(inputs) for c in op.columns}
        self.joined = {start}
        self.pos: dict[int, np.ndarray | None] = {start: None}  # None: every row, in order
        self.n = tables[start].num_rows
        self._taken: dict[tuple[int, str], pa.Array] = {}
        self._unique_cache: dict[tuple, tuple[pa.Table, bool]] = {}

    def column(self, field: str) -> pa.Array | pa.ChunkedArray:
        i = self.owner[field]
        p = self.pos[i]
        col = self.tables[i].column(field)
        if p is None:
            return col
        hit = self._taken.get((i, field))
        if hit is None:
            hit = take_rows(pa.table({"c": col}), pa.array(p)).column(0)
            self._taken[(i, field)] = hit
        return hit

    def unique(self, e: CExpr, table: pa.Table, ctx: "ExecContext") -> bool:
        """Whether ``e`` has no repeated value in ``table`` (large tables are assumed to
        repeat: checking costs more than a worse join order)."""
        if table.num_rows > UNIQUE_CHECK_ROWS:
            return False
        key = (id(e), table.num_rows, tuple(id(c) for c in table.columns))
        hit = self._unique_cache.get(key)
        if hit is None:  # the table is kept with the answer so that the ids stay unique
            v = key_array(materialize(e.fn(table, ctx), table.num_rows, e.type))
            hit = self._unique_cache[key] = (table, is_unique(v))
        return hit[1]

    def narrow(self, needs: list[tuple[CExpr | None, frozenset[int] | None]],
               rows: np.ndarray | None = None) -> pa.Table:
        """A table of the fields the expressions read (all fields of their inputs unless an
        expression is a plain column), at the current rows or at ``rows`` of them."""
        fields: list[str] = []
        for e, side in needs:
            if e is not None and e.column is not None:
                fields.append(e.column)
            else:
                fields += [f for f, i in self.owner.items() if side is None or i in side]
        fields = [f for f in dict.fromkeys(fields) if self.owner.get(f) in self.joined]
        cols = [self.column(f) for f in fields]
        if rows is not None:
            idx = pa.array(rows)
            cols = [c.take(idx) for c in cols]
        if not cols:
            return pa.table({"_": pa.nulls(self.n if rows is None else len(rows))}).select([])
        return pa.table(cols, names=fields)

    def extend(self, li: np.ndarray, nxt: int, ri: np.ndarray, whole: bool) -> None:
        """Keep the pairs (current row ``li``, row ``ri`` of input ``nxt``)."""
        if not whole:
            self.pos = {i: (li if p is None else p[li]) for i, p in self.pos.items()}
            self._taken = {}
        self.pos[nxt] = ri
        self.joined = self.joined | {nxt}
        self.n = len(li)

    def materialize(self, fields: list[str]) -> pa.Table:
        if not fields:  # COUNT(*) over the join: rows without columns
            return pa.table({"_": pa.nulls(self.n)}).select([])
        return pa.table([self.column(f) for f in fields], names=fields)
