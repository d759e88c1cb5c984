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

from sochdb.errors import NotSupportedError, ProgrammingError
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
    if any(pa.types.is_nested(c.type) for c in cols):
        # Arrow cannot group by a list or struct: every row is its own combination.
        return ([{**fixed, **{f: c[i] for f, c in zip(local, cols)}} for i in range(n)],
                np.arange(n, dtype=np.int64))
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
    query = node.args["query"]
    if isinstance(node.this, exp.Tuple):
        return _row_in(c, node.this, query, node)
    return compile_quantified(c, node.this, query, "=", "any", node)


def _row_in(c: ExprCompiler, left: exp.Tuple, query: exp.Expression, node) -> CExpr:
    """(a, b) IN (SELECT x, y ...): a hash join of the outer rows with the distinct rows of
    the subquery. A row without a match is NULL only when some subquery row could still
    match it (every pair of fields equal or NULL on a side), else false (DuckDB, PostgreSQL):
    ``(NULL, 5) IN (SELECT 1, 2)`` is false, ``(NULL, 2) IN (SELECT 1, 2)`` is NULL."""
    values = [c.compile(x) for x in left.expressions]
    inner = query.this if isinstance(query, exp.Subquery) else query
    sub = _plan(c, inner)
    if len(sub.op.columns) != len(values):
        raise ProgrammingError(f"{node.sql()}: the subquery returns {len(sub.op.columns)} "
                               f"columns for a row value of {len(values)}")
    if sub.outer_refs:
        raise NotSupportedError("a correlated subquery with a row value IN is not supported")
    types = [T.common_type(v.type, col.type) for v, col in zip(values, sub.op.columns)]
    # Arrow cannot join on the null type; a column of NULLs joins the same as any type.
    types = [pa.int8() if pa.types.is_null(typ) else typ for typ in types]
    names = [f"k{i}" for i in range(len(values))]

    def fn(t, ctx):
        key = ("rowin", id(sub))
        cached = ctx.cache.get(key)
        if cached is None:
            res = sub.op.execute(ctx)
            cols = [T.cast(res.column(i), typ) for i, typ in enumerate(types)]
            right = pa.table(cols, names=names)
            right = right.group_by(names, use_threads=False).aggregate([])
            cached = ctx.cache[key] = (right.append_column("__hit", pa.array(
                np.ones(right.num_rows, dtype=bool))), _by_null_pattern(right, names))
        right, partial = cached
        n = t.num_rows if t is not None else 1
        cols = [T.cast(to_array(materialize(v.fn(t, ctx), n, v.type), n), typ)
                for v, typ in zip(values, types)]
        left_t = pa.table(cols + [pa.array(np.arange(n))], names=names + ["__i"])
        joined = left_t.join(right, keys=names, join_type="left outer")
        hit = np.zeros(n, dtype=bool)
        idx = joined.column("__i").to_numpy()
        hit[idx] = pc.fill_null(joined.column("__hit"), False).to_numpy(zero_copy_only=False)
        maybe = _partial_matches(left_t.filter(pa.array(~hit)), names, partial, n)
        return pa.array(hit, mask=maybe & ~hit)
    return CExpr(fn, BOOL, False, node)


def _null_bits(table: pa.Table, names: list[str]) -> np.ndarray:
    """Per row, a bit mask of the fields that are NULL."""
    bits = np.zeros(table.num_rows, dtype=np.int64)
    for i, name in enumerate(names):
        bits |= table.column(name).is_null().to_numpy(zero_copy_only=False).astype(np.int64) << i
    return bits


def _by_null_pattern(right: pa.Table, names: list[str]) -> dict[int, pa.Table]:
    """The distinct subquery rows grouped by which of their fields are NULL."""
    bits = _null_bits(right, names)
    return {int(q): right.filter(pa.array(bits == q)).select(names) for q in np.unique(bits)}


def _partial_matches(left: pa.Table, names: list[str], partial: dict[int, pa.Table],
                     n: int) -> np.ndarray:
    """Which unmatched outer rows some subquery row could match once NULLs are involved:
    for each pair of NULL patterns, a join on the fields NULL on neither side."""
    maybe = np.zeros(n, dtype=bool)
    if left.num_rows == 0:
        return maybe
    bits = _null_bits(left, names)
    for p in np.unique(bits):
        rows = left.filter(pa.array(bits == p))
        for q, right in partial.items():
            if not p and not q:
                continue  # no NULL on either side: only exact matches, already found
            keys = [name for i, name in enumerate(names) if not (int(p) | q) >> i & 1]
            if not keys:
                maybe[rows.column("__i").to_numpy()] = True  # right is never empty here
                continue
            on = right.select(keys).group_by(keys, use_threads=False).aggregate([])
            found = rows.select(keys + ["__i"]).join(on, keys=keys, join_type="left semi")
            maybe[found.column("__i").to_numpy()] = True
    return maybe


def compile_quantified(c: ExprCompiler, left: exp.Expression, query: exp.Expression, op: str,
                       quantifier: str, node: exp.Expression) -> CExpr:
    """``x op ANY (subquery)`` / ``x op ALL (subquery)`` with SQL's NULL rules (IN is = ANY,
    NOT IN is <> ALL)."""
    value = c.compile(left)
    inner = query.this if isinstance(query, exp.Subquery) else query
    sub = _plan(c, inner)
    if len(sub.op.columns) != 1:
        raise ProgrammingError(f"the subquery of {node.sql()} must return one column, not "
                               f"{len(sub.op.columns)}")
    typ = T.common_type(value.type, sub.op.columns[0].type)

    def values_of(ctx):
        col = sub.op.execute(ctx).column(0)
        col = T.cast(col, typ) if col.type != typ else col
        if isinstance(col, pa.ChunkedArray):
            col = col.combine_chunks()
        return pc.unique(col.drop_null()), col.null_count > 0

    def decide(v, vals: pa.Array, has_null: bool):
        return _quantify(v, vals, has_null, op, quantifier)

    vfn = value.fn

    def fn(t, ctx):
        v = vfn(t, ctx)
        v = T.cast(v, typ) if v.type != typ else v
        if not sub.outer_refs:
            key = ("set", id(sub))
            cached = ctx.cache.get(key)
            if cached is None:
                cached = ctx.cache[key] = values_of(ctx)
            return decide(v, *cached)
        combos, gid = _bindings(sub, t, ctx)
        n = t.num_rows
        varr = to_array(materialize(v, n, typ), n)
        result = pa.nulls(n, BOOL)
        for i, b in enumerate(combos):
            rows = np.nonzero(gid == i)[0]
            part = decide(varr.take(pa.array(rows)), *values_of(ctx.with_outer(b)))
            pos = np.full(n, -1, dtype=np.int64)
            pos[rows] = np.arange(len(rows))
            scattered = to_array(materialize(part, len(rows), BOOL), len(rows)).take(
                pa.array(pos, mask=pos < 0))
            sel = np.zeros(n, dtype=bool)
            sel[rows] = True
            result = pc.if_else(pa.array(sel), scattered, result)
        return result

    return CExpr(fn, BOOL, False, node)


_CMP = {"=": pc.equal, "<>": pc.not_equal, "<": pc.less, "<=": pc.less_equal,
        ">": pc.greater, ">=": pc.greater_equal}


def _quantify(v, vals: pa.Array, has_null: bool, op: str, quantifier: str):
    """Three-valued ``v op ANY/ALL vals`` (vals: distinct non-NULL values)."""
    n_vals = len(vals)
    null = pa.scalar(None, BOOL)
    if n_vals == 0 and not has_null:
        return pa.scalar(quantifier == "all")
    if (op, quantifier) in (("=", "any"), ("<>", "all")):
        hit = pc.is_in(v, value_set=vals, skip_nulls=True)
        res = pc.if_else(hit, True, null if has_null else False)
        res = pc.if_else(pc.is_null(v), null, res)
        return pc.invert(res) if op == "<>" else res
    if op in ("<", "<=", ">", ">="):
        # ANY: compare with the extreme that is easiest to beat; ALL: the hardest one.
        lo, hi = pc.min(vals), pc.max(vals)
        use_min = (op in (">", ">=")) == (quantifier == "any")
        bound = lo if use_min else hi
        res = _CMP[op](v, bound)
        if has_null:
            res = pc.if_else(res, null if quantifier == "all" else True,
                             False if quantifier == "all" else null)
        return res
    # = ALL and <> ANY
    if n_vals > 1:
        res = pa.scalar(quantifier == "any")
        res = pc.if_else(pc.is_null(v), null, res) if not isinstance(v, pa.Scalar) else (
            null if not v.is_valid else res)
        return res
    single = vals[0]
    eq = pc.equal(v, single)
    res = eq if quantifier == "all" else pc.invert(eq)
    if has_null:
        res = pc.if_else(res, null, False) if quantifier == "all" else pc.if_else(res, True, null)
    return res
