"""GROUP BY and aggregate functions as one hash aggregation over computed key columns."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

from sochdb.sql import parallel
from sochdb.sql.aggregates import AggSpec, run_aggregate
from sochdb.sql.expressions import CExpr, materialize
from sochdb.sql.operators import eager_aggregate
from sochdb.sql.operators.base import Operator
from sochdb.sql.scope import ColumnInfo

if TYPE_CHECKING:
    from sochdb.sql.context import ExecContext


class Aggregate(Operator):
    """Evaluate key and argument expressions, then group and aggregate in Arrow.

    Output: one column per group key (fields ``key_fields``) then one per aggregate.
    ``grouping_sets`` (lists of key positions) run the aggregation once per set and stack
    the results, with NULL for the keys a set leaves out (ROLLUP, CUBE, GROUPING SETS).
    """

    def __init__(self, child: Operator, keys: list[CExpr], key_fields: list[str],
                 inputs: list[tuple[str, CExpr]], specs: list[AggSpec],
                 columns: list[ColumnInfo], grouping_sets: list[list[int]] | None = None,
                 grouping_field: str | None = None) -> None:
        self.child = child
        self.children = (child,)
        self.keys = keys
        self.key_fields = key_fields
        self.inputs = inputs
        self.specs = specs
        self.columns = columns
        self.grouping_sets = grouping_sets
        self.grouping_field = grouping_field
        self.parallel = False  # keys and arguments may be computed on slices in threads
        self.eager = False  # may group the join's large side first (eager_aggregate)

    def describe(self) -> str:
        keys = ", ".join(k.sql for k in self.keys)
        aggs = ", ".join(f"{s.name}({'DISTINCT ' if s.distinct else ''}"
                         f"{'*' if s.arg is None else '…'})" for s in self.specs)
        kind = "HashAggregate" if self.keys else "Aggregate"
        sets = f" sets={self.grouping_sets}" if self.grouping_sets else ""
        return f"{kind} keys=[{keys}] aggs=[{aggs}]{sets}"

    def execute(self, ctx: "ExecContext") -> pa.Table:
        if self.eager:
            done, t = eager_aggregate.execute(self, ctx)
            if done is not None:
                return self._finish(done)
        else:
            t = self.child.execute(ctx)
        exprs, same = self._shared_inputs()  # planning may add inputs after __init__
        nkeys = len(self.keys)

        def evaluate(part: pa.Table) -> pa.Table:
            n = part.num_rows
            arrays = []
            for i, (_f, e) in enumerate(exprs):
                v = materialize(e.fn(part, ctx), n, e.type)
                if i < nkeys and pa.types.is_dictionary(v.type):
                    v = v.dictionary_decode() if isinstance(v, pa.Array) else \
                        pa.chunked_array([c.dictionary_decode() for c in v.chunks])
                arrays.append(v)
            return pa.table(arrays, names=[f for f, _ in exprs])

        if not exprs:
            work = t.select([])
        elif self.parallel and any(e.column is None for _, e in exprs):  # work to share
            work = parallel.concat(parallel.map_slices(evaluate, t))
        else:
            work = evaluate(t)
        if not self.grouping_sets:
            out = run_aggregate(work, list(self.key_fields), self._fresh_specs(same))
            return self._finish(out)
        parts = []
        all_keys = list(self.key_fields)
        for gs in self.grouping_sets:
            keys = [all_keys[i] for i in gs]
            specs = self._fresh_specs(same)
            res = run_aggregate(work, keys, specs)
            # The grand total set () is one row even when nothing is aggregated.
            rows = res.num_rows if keys or specs else 1
            cols = []
            for i, f in enumerate(all_keys):
                if f in keys:
                    cols.append(res.column(f))
                else:
                    cols.append(pa.nulls(rows, self.keys[i].type))
            cols += [res.column(s.out) for s in self.specs]
            mask = sum(1 << (len(all_keys) - 1 - i) for i in range(len(all_keys))
                       if i not in gs)
            cols.append(pa.array([mask] * rows, pa.int64()))
            parts.append(pa.table(cols, names=all_keys + [s.out for s in self.specs]
                                  + [self.grouping_field]))
        return self._finish(pa.concat_tables(parts))

    def _shared_inputs(self) -> tuple[list[tuple[str, CExpr]], dict[str, str]]:
        """The key and input expressions to evaluate, and for each input that reads the
        same plain column as an earlier one, that earlier input's field: SUM(x), AVG(x),
        MIN(x)... read x once (and aggregates.py then shares their work)."""
        exprs = list(zip(self.key_fields, self.keys))
        same: dict[str, str] = {}
        first: dict[str, str] = {}
        pinned = self._fields_beyond_args()
        for f, e in self.inputs:
            if e.column is not None and e.column in first and f not in pinned:
                same[f] = first[e.column]
                continue
            if e.column is not None:
                first[e.column] = f
            exprs.append((f, e))
        return exprs, same

    def _fresh_specs(self, same: dict[str, str]) -> list[AggSpec]:
        """Copies of the specs (run_aggregate rewrites them) reading the shared inputs."""
        return [AggSpec(**{**vars(s), "arg": same.get(s.arg, s.arg)
                           if isinstance(s.arg, str) else s.arg,
                           "extra": dict(s.extra)}) for s in self.specs]

    def _fields_beyond_args(self) -> set[str]:
        """Input fields used other than as an aggregate's argument (FILTER, ORDER BY, second
        arguments): those keep their own column."""
        out: set[str] = set()

        def walk(v) -> None:
            if isinstance(v, str):
                out.add(v)
            elif isinstance(v, (list, tuple)):
                for x in v:
                    walk(x)

        for s in self.specs:
            walk(s.filter)
            walk(list(s.extra.values()))
        return out

    def _finish(self, out: pa.Table) -> pa.Table:
        schema = pa.schema([pa.field(c.field, c.type) for c in self.columns])
        out = out.select([c.field for c in self.columns])
        return out if out.schema == schema else out.cast(schema)
