"""Aggregation pushed below a join: group the large side by its join key first.

``SELECT d.name, SUM(f.x) FROM f JOIN d ON f.k = d.k GROUP BY d.name`` over millions of ``f``
rows and few distinct ``f.k`` is computed as a grouping of ``f`` by ``k`` (partial sums,
counts, minima, maxima), a join of those few partial rows with ``d``, and a final grouping
that combines the partials. That replaces a join producing millions of rows with one
producing a few. It applies to inner equi-joins on plain columns, aggregates that decompose
(COUNT, SUM and AVG of floats, MIN, MAX), plain-column arguments from one side, and plain
group keys; it runs only when a sample shows few distinct keys. Imports pyarrow, numpy and
the aggregation helpers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from sochdb.sql.aggregates import AggSpec, run_aggregate
from sochdb.sql.operators.join import Join

if TYPE_CHECKING:
    from sochdb.sql.context import ExecContext
    from sochdb.sql.operators.aggregate import Aggregate

#: The grouped side must have at least this many rows.
MIN_ROWS = 1 << 20
#: Rows sampled to estimate the number of groups, and the largest share of distinct keys
#: in the sample for which grouping first pays.
SAMPLE_ROWS = 20_000
MAX_DISTINCT_SHARE = 1 / 8

_PLAIN = ("count", "count_star", "min", "max")
_FLOAT_ONLY = ("sum", "avg", "mean")


def applicable(agg: "Aggregate") -> bool:
    """Whether the plan shape allows it (decided once, when planned)."""
    join = agg.child
    if not isinstance(join, Join) or join.kind != "inner" or join.residual is not None or \
            join.coalesce_fields or not join.left_keys or agg.grouping_sets:
        return False
    if any(k.column is None for k in join.left_keys + join.right_keys):
        return False
    if any(e.column != f for f, e in zip(agg.key_fields, agg.keys)):
        return False
    if any(e.column is None for _, e in agg.inputs):
        return False
    args = {f: e for f, e in agg.inputs}
    for s in agg.specs:
        if s.distinct or s.filter is not None or set(s.extra) - {"sql", "skip_nulls"}:
            return False
        if s.name in _FLOAT_ONLY:
            e = args.get(s.arg)
            if e is None or not pa.types.is_floating(e.type):
                return False
        elif s.name not in _PLAIN:
            return False
    sides = {_side(join, e.column) for _, e in agg.inputs}
    return len(sides) <= 1 and None not in sides


def _side(join: Join, field: str) -> str | None:
    if any(c.field == field for c in join.left.columns):
        return "left"
    if any(c.field == field for c in join.right.columns):
        return "right"
    return None


def execute(agg: "Aggregate", ctx: "ExecContext") -> tuple[pa.Table | None, pa.Table | None]:
    """(the aggregated result, None) when grouping first pays; else (None, the join's rows)."""
    join: Join = agg.child  # type: ignore[assignment]
    lt, rt = join.left.execute(ctx), join.right.execute(ctx)
    sides = {_side(join, e.column) for _, e in agg.inputs}
    side = sides.pop() if sides else ("left" if lt.num_rows >= rt.num_rows else "right")
    big = lt if side == "left" else rt
    keys = [e.column for e in (join.left_keys if side == "left" else join.right_keys)]
    fields = {c.field for c in (join.left if side == "left" else join.right).columns}
    groups = list(dict.fromkeys(keys + [f for f in agg.key_fields if f in fields]))
    if big.num_rows < MIN_ROWS or not _few_groups(big, groups):
        return None, join.join_tables(lt, rt, ctx)
    inputs = {f: e.column for f, e in agg.inputs}
    partial_specs, final_specs, averages = [], [], []
    for i, s in enumerate(agg.specs):
        arg = inputs.get(s.arg) if s.arg is not None else None
        p = f"__p{i}"
        if s.name in ("avg", "mean"):
            partial_specs += [AggSpec("sum", arg, s.arg_type, p + "s", out_type=pa.float64()),
                              AggSpec("count", arg, s.arg_type, p + "c")]
            final_specs += [AggSpec("sum", p + "s", pa.float64(), p + "S",
                                    out_type=pa.float64()),
                            AggSpec("sum", p + "c", pa.int64(), p + "C")]
            averages.append((s.out, p + "S", p + "C"))
        elif s.name in ("count", "count_star"):
            partial_specs.append(AggSpec(s.name, arg, s.arg_type, p))
            final_specs.append(AggSpec("sum", p, pa.int64(), s.out, extra={"count": True}))
        else:
            partial_specs.append(AggSpec(s.name, arg, s.arg_type, p, out_type=s.out_type))
            final_specs.append(AggSpec(s.name, p, s.out_type, s.out, out_type=s.out_type))
    used = groups + sorted({a for a in inputs.values()})
    partial = run_aggregate(big.select(used), groups, partial_specs)
    ctx.check_interrupt()
    joined = join.join_tables(partial, rt, ctx) if side == "left" else \
        join.join_tables(lt, partial, ctx)
    out = run_aggregate(joined, list(agg.key_fields), final_specs)
    cols = {name: out.column(name) for name in out.schema.names}
    for s in final_specs:
        if s.extra.get("count"):  # COUNT over no rows at all is 0, not NULL
            cols[s.out] = pc.fill_null(cols[s.out], 0)
    for name, total, count in averages:
        c = cols[count]
        cols[name] = pc.divide(cols[total], pc.if_else(pc.equal(c, 0), None,
                                                       pc.cast(c, pa.float64())))
    names = list(agg.key_fields) + [s.out for s in agg.specs]
    return pa.table([cols[n] for n in names], names=names), None


def _few_groups(t: pa.Table, fields: list[str]) -> bool:
    """Whether a sample (runs of rows spread over the table) has few distinct keys."""
    t = t.select(fields)
    n = t.num_rows
    runs = 20
    step = max(n // runs, 1)
    size = max(SAMPLE_ROWS // runs, 1)
    sample = pa.concat_tables([t.slice(start, size) for start in range(0, n, step)][:runs])
    distinct = sample.group_by(fields, use_threads=False).aggregate([]).num_rows
    return distinct <= sample.num_rows * MAX_DISTINCT_SHARE
