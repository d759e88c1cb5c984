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

import pyarrow as pa

from sochdb.sql.expressions import CExpr, and_exprs, materialize
from sochdb.sql.operators.base import Operator
from sochdb.sql.operators.join import Join
from sochdb.sql.operators.join_pairs import is_unique
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
        self._unique_cache: dict[tuple[int, int], tuple[pa.Table, bool]] = {}
        start = min(range(len(tables)), key=lambda i: (sizes[i], i)) if dynamic else 0
        joined = {start}
        cur = tables[start]
        used: set[int] = set()
        while len(joined) < len(tables):
            nxt = self._best(joined, cur, tables, sizes, base, used, ctx) if dynamic else \
                self._first(joined, used, len(tables))
            lkeys, rkeys, residual = [], [], []
            for k, c in enumerate(self.conjuncts):
                if k in used or not c.items <= joined | {nxt}:
                    continue
                key = c.key_for(joined, nxt)
                if key is not None:
                    lkeys.append(key[0])
                    rkeys.append(key[1])
                else:
                    residual.append(c.pred)
                used.add(k)
            res = and_exprs(residual) if residual else None
            kind = "inner" if lkeys or res is not None else "cross"
            cur = Join(self, self, kind, lkeys, rkeys, res, columns=[], preserve_order=not dynamic
                       ).join_tables(cur, tables[nxt], ctx)
            joined.add(nxt)
        return cur.select([c.field for c in self.columns])

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

    def _best(self, joined: set[int], cur: pa.Table, tables: list[pa.Table], sizes: list[int],
              base: list[int], used: set[int], ctx: "ExecContext") -> int:
        """The input whose join with the rows joined so far is estimated smallest."""
        best, best_est = None, None
        for j in range(len(tables)):
            if j in joined:
                continue
            links = [(c, c.key_for(joined, j)) for k, c in enumerate(self.conjuncts)
                     if k not in used]
            links = [(c, key) for c, key in links if key is not None]
            if not links:
                est = float(cur.num_rows) * sizes[j] * 16  # a cross product: last resort
            else:
                est = float(cur.num_rows) * sizes[j]  # no unique side: rows may multiply
                for c, (lexpr, rexpr) in links:
                    if self._unique(rexpr, tables[j], ctx):
                        est = min(est, cur.num_rows * sizes[j] / base[j])
                    if self._unique(lexpr, cur, ctx):
                        side = c.left_items if c.left is lexpr else c.right_items
                        frac = min(1.0, cur.num_rows / base[next(iter(side))]) \
                            if side is not None and len(side) == 1 else 1.0
                        est = min(est, sizes[j] * frac)
            if best_est is None or est < best_est:
                best, best_est = j, est
        return best  # type: ignore[return-value]


    def _unique(self, e: CExpr, table: pa.Table, ctx: "ExecContext") -> bool:
        """Whether ``e`` has no repeated value in ``table`` (large tables are assumed to
        repeat: checking costs more than a worse join order)."""
        if table.num_rows > UNIQUE_CHECK_ROWS:
            return False
        key = (id(e), id(table))
        hit = self._unique_cache.get(key)
        if hit is None:  # the table is kept with the answer so that its id stays unique
            v = materialize(e.fn(table, ctx), table.num_rows, e.type)
            if isinstance(v, pa.ChunkedArray):
                v = v.combine_chunks()
            if pa.types.is_dictionary(v.type):
                v = v.dictionary_decode()
            hit = self._unique_cache[key] = (table, is_unique(v))
        return hit[1]
