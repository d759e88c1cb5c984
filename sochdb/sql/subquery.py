"""Subqueries inside expressions: scalar, IN and EXISTS, uncorrelated or correlated.

An uncorrelated subquery runs once per statement execution and its result is cached. A
correlated one runs once per distinct combination of the outer values it references (not once
per row), and the results are scattered back to the rows with numpy.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from sochdb.errors import ProgrammingError
from sochdb.sql import types as T
from sochdb.sql.expressions import BOOL, CExpr, ExprCompiler, materialize, to_array


def _plan(c: ExprCompiler, query: exp.Expression):
    return c.planner.plan_subquery(query, c.scope)


def _bindings(sub, t: pa.Table, ctx) -> tuple[list[dict[str, Any]], np.ndarray]:
    """Distinct outer-value combinations of the rows of ``t`` and each row's combination."""
    fields = list(sub.outer_refs)
    local = [f for f in fields if t is not None and f in t.schema.names]
    fixed = {f: ctx.outer[f] for f in fields if f not in local}
    n = t.num_rows if t is not None else 1
    if not local:
        return [fixed], np.zeros(n, dtype=np.int64)
    cols = [t.column(f) for f in local]
    if n == 1:
        return [{**fixed, **{f: c[0] for f, c in zip(local, cols)}}], np.zeros(1, np.int64)
    keyed = pa.table(cols + [pa.array(np.arange(n, dtype=np.int64))], names=local + ["__i"])
    g = keyed.group_by(local, use_threads=False).aggregate([("__i", "list")])
    rows = g.column("__i_list")
    gid = np.empty(n, dtype=np.int64)
    gid[pc.list_flatten(rows).to_numpy()] = pc.list_parent_indices(rows).to_numpy()
    combos = []
    for i in range(g.num_rows):
        combos.append({**fixed, **{f: g.column(f)[i] for f in local}})
    return combos, gid


def _per_binding(sub, t: pa.Table, ctx, run: Callable[[Any], pa.Scalar],
                 out_type: pa.DataType) -> Any:
    if not sub.outer_refs:
        key = ("sub", id(sub))
        hit = ctx.cache.get(key)
        if hit is None:
            hit = ctx.cache[key] = run(ctx)
        return hit
    combos, gid = _bindings(sub, t, ctx)
    results = [run(ctx.with_outer(b)) for b in combos]
    if t is None or (t.num_rows == 1 and len(results) == 1):
        return results[0]
    vals = pa.array([r.as_py() if r.is_valid else None for r in results], out_type)
    return vals.take(pa.array(gid))


def compile_scalar_subquery(c: ExprCompiler, node: exp.Subquery) -> CExpr:
    sub = _plan(c, node.this)
    if len(sub.op.columns) != 1:
        raise ProgrammingError(f"a subquery used as a value must return one column, not "
                               f"{len(sub.op.columns)}: {node.sql()}")
    typ = sub.op.columns[0].type

    def run(ctx) -> pa.Scalar:
        res = sub.op.execute(ctx)
        if res.num_rows == 0:
            return pa.scalar(None, typ)
        # SQLite's rule: the first row is the value (DuckDB raises for more than one).
        v = res.column(0)[0]
        return v if v.type == typ else v.cast(typ)

    return CExpr(lambda t, ctx: _per_binding(sub, t, ctx, run, typ), typ, False, node)


def compile_exists(c: ExprCompiler, node: exp.Exists) -> CExpr:
    sub = _plan(c, node.this)
    negate = False

    def run(ctx) -> pa.Scalar:
        res = sub.op.execute(ctx)
        return pa.scalar((res.num_rows > 0) != negate)

    return CExpr(lambda t, ctx: _per_binding(sub, t, ctx, run, BOOL), BOOL, False, node)


def compile_in_subquery(c: ExprCompiler, node: exp.In) -> CExpr:
    value = c.compile(node.this)
    query = node.args["query"]
    sub = _plan(c, query.this if isinstance(query, exp.Subquery) else query)
    if len(sub.op.columns) != 1:
        raise ProgrammingError(f"IN (subquery) needs a subquery with one column, not "
                               f"{len(sub.op.columns)}: {node.sql()}")
    styp = sub.op.columns[0].type
    typ = T.common_type(value.type, styp)

    def values_of(ctx):
        res = sub.op.execute(ctx)
        col = res.column(0)
        col = T.cast(col, typ) if col.type != typ else col
        has_null = col.null_count > 0
        return pc.unique(col.combine_chunks().drop_null()), has_null

    def member(v, value_set: pa.Array, has_null: bool):
        hit = pc.is_in(v, value_set=value_set, skip_nulls=True)
        out = pc.if_else(pc.is_null(v), pa.scalar(None, BOOL), hit)
        if len(value_set) == 0 and not has_null:
            return pc.if_else(pc.is_null(v), pa.scalar(False), out) if not isinstance(
                out, pa.Scalar) else pa.scalar(False)
        if has_null:
            out = pc.if_else(out, pa.scalar(True), pa.scalar(None, BOOL))
        return out

    vfn = value.fn

    def fn(t, ctx):
        v = vfn(t, ctx)
        v = T.cast(v, typ) if v.type != typ else v
        if not sub.outer_refs:
            key = ("in", id(sub))
            cached = ctx.cache.get(key)
            if cached is None:
                cached = ctx.cache[key] = values_of(ctx)
            return member(v, *cached)
        combos, gid = _bindings(sub, t, ctx)
        n = t.num_rows
        varr = to_array(materialize(v, n, typ), n)
        out = np.empty(n, dtype=object)
        result = pa.nulls(n, BOOL)
        for i, b in enumerate(combos):
            rows = np.nonzero(gid == i)[0]
            vs, has_null = values_of(ctx.with_outer(b))
            part = member(varr.take(pa.array(rows)), vs, has_null)
            pos = np.full(n, -1, dtype=np.int64)
            pos[rows] = np.arange(len(rows))
            scattered = to_array(materialize(part, len(rows), BOOL), len(rows)).take(
                pa.array(pos, mask=pos < 0))
            sel = np.zeros(n, dtype=bool)
            sel[rows] = True
            result = pc.if_else(pa.array(sel), scattered, result)
        del out
        return result

    return CExpr(fn, BOOL, False, node)
