"""Common table expressions: WITH (inlined at each reference) and WITH RECURSIVE."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyarrow as pa
from sqlglot import exp

from sochdb.errors import ProgrammingError, ResourceLimitError
from sochdb.sql import types as T
from sochdb.sql.operators import Materialized, Operator
from sochdb.sql.operators.relational import distinct_rows
from sochdb.sql.scope import ColumnInfo, Scope

if TYPE_CHECKING:
    from sochdb.sql.context import ExecContext
    from sochdb.sql.planner import Planner

#: A recursive CTE that keeps producing rows after this many rounds is stopped.
MAX_RECURSION = 100_000


class CTEDef:
    def __init__(self, name: str, query: exp.Expression, columns: list[str] | None,
                 recursive: bool) -> None:
        self.name = name
        self.query = query
        self.columns = columns
        self.recursive = recursive and _references(query, name)
        self.planning = False  # a body naming itself means the stored table, not the CTE

    def reference(self, planner: "Planner", outer: Scope | None) -> Operator | None:
        if self.planning:
            return None
        self.planning = True
        try:
            if not self.recursive:
                op = planner.plan_query(self.query, None)
                return _rename(op, self.columns, self.name)
            return _plan_recursive(planner, self)
        finally:
            self.planning = False


def _references(query: exp.Expression, name: str) -> bool:
    return any(t.name.lower() == name.lower() for t in query.find_all(exp.Table))


def _rename(op: Operator, names: list[str] | None, cte: str) -> Operator:
    if names:
        if len(names) > len(op.columns):
            raise ProgrammingError(f"WITH {cte}: {len(names)} column names for "
                                   f"{len(op.columns)} columns")
        op.columns = [c.renamed(name=n) for c, n in zip(op.columns, names)] + \
            op.columns[len(names):]
    return op


def push_ctes(planner: "Planner", with_: exp.With, outer: Scope | None) -> dict[str, Any]:
    frame: dict[str, CTEDef] = {}
    recursive = bool(with_.args.get("recursive"))
    for cte in with_.expressions:
        alias = cte.args["alias"]
        cols = [c.name for c in alias.columns] if alias.columns else None
        if alias.name.lower() in frame:
            raise ProgrammingError(f"WITH query name {alias.name!r} is specified more than "
                                   f"once")
        frame[alias.name.lower()] = CTEDef(alias.name, cte.this, cols, recursive)
    return frame


class RecursiveCTE(Operator):
    def __init__(self, name: str, anchor: Operator, step: Operator, columns: list[ColumnInfo],
                 key: str, union_all: bool) -> None:
        self.name = name
        self.anchor = anchor
        self.step = step
        self.children = (anchor, step)
        self.columns = columns
        self.key = key
        self.union_all = union_all

    def describe(self) -> str:
        return f"RecursiveCTE {self.name}{' (UNION ALL)' if self.union_all else ''}"

    def execute(self, ctx: "ExecContext") -> pa.Table:
        schema = pa.schema([pa.field(c.field, c.type) for c in self.columns])
        result = _conform(self.anchor.execute(ctx), schema)
        if not self.union_all:
            result = distinct_rows(result)
        parts = [result]
        seen = result
        working = result
        saved = ctx.ctes.get(self.key)
        try:
            for _ in range(MAX_RECURSION):
                ctx.check_interrupt()
                ctx.ctes[self.key] = working
                ctx.cache.clear()
                new = _conform(self.step.execute(ctx), schema)
                if not self.union_all and new.num_rows:
                    new = _minus(distinct_rows(new), seen)
                    seen = pa.concat_tables([seen, new])
                if new.num_rows == 0:
                    break
                parts.append(new)
                working = new
            else:
                raise ResourceLimitError(f"recursive CTE {self.name} did not finish after "
                                         f"{MAX_RECURSION} rounds")
        finally:
            if saved is None:
                ctx.ctes.pop(self.key, None)
            else:
                ctx.ctes[self.key] = saved
        return pa.concat_tables(parts)


def _conform(t: pa.Table, schema: pa.Schema) -> pa.Table:
    t = t.rename_columns(schema.names)
    if t.schema == schema:
        return t
    return pa.table([T.cast(t.column(i), f.type) for i, f in enumerate(schema)], schema=schema)


def _minus(new: pa.Table, seen: pa.Table) -> pa.Table:
    if seen.num_rows == 0 or new.num_rows == 0:
        return new
    import numpy as np
    names = new.schema.names
    both = pa.concat_tables([seen, new])
    side = np.concatenate([np.zeros(seen.num_rows, np.int64), np.ones(new.num_rows, np.int64)])
    work = both.append_column("__s", pa.array(side)).append_column(
        "__i", pa.array(np.arange(both.num_rows)))
    g = work.group_by(names, use_threads=False).aggregate([("__s", "min"), ("__i", "min")])
    fresh = g.filter(pa.compute.equal(g.column("__s_min"), 1))
    rows = np.sort(fresh.column("__i_min").to_numpy())
    return both.take(pa.array(rows))


def _plan_recursive(planner: "Planner", cte: CTEDef) -> Operator:
    q = cte.query
    if not isinstance(q, exp.Union):
        raise ProgrammingError(f"recursive CTE {cte.name} must be <anchor> UNION [ALL] <step>")
    anchor = planner.plan_query(q.this, None)
    anchor = _rename(anchor, cte.columns, cte.name)
    key = f"cte:{cte.name.lower()}:{planner.fresh()}"
    work_cols = [ColumnInfo(c.name, None, planner.fresh(), c.type) for c in anchor.columns]

    class _WorkingRef:
        recursive = False

        def reference(self, planner_, outer_):
            cols = [ColumnInfo(c.name, None, planner_.fresh(), c.type) for c in work_cols]
            return Materialized(cols, lambda ctx: ctx.ctes[key], f"WorkingTable {cte.name}")

    planner.cte_frames.append({cte.name.lower(): _WorkingRef()})
    try:
        step = planner.plan_query(q.expression, None)
    finally:
        planner.cte_frames.pop()
    if len(step.columns) != len(anchor.columns):
        raise ProgrammingError(f"recursive CTE {cte.name}: the anchor has "
                               f"{len(anchor.columns)} columns, the recursive part "
                               f"{len(step.columns)}")
    cols = []
    for a, b, w in zip(anchor.columns, step.columns, work_cols):
        typ = T.union_type(a.type, b.type)
        cols.append(ColumnInfo(a.name, None, w.field, typ))
    union_all = q.args.get("distinct") is False
    return RecursiveCTE(cte.name, anchor, step, cols, key, union_all)
