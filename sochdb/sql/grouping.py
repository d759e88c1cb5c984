"""Planning GROUP BY, aggregates, HAVING, and ROLLUP / CUBE / GROUPING SETS.

Aggregate calls anywhere in the select list, HAVING or ORDER BY are collected, their
arguments computed before grouping, and each call replaced by a reference to its output
column. A group key that is a plain column keeps that column's field name, so expressions
and correlated subqueries above the aggregation read it unchanged. A column that is neither
grouped nor aggregated takes its first value in the group (SQLite's bare columns).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from sochdb.errors import BindError, NotSupportedError, ProgrammingError
from sochdb.sql import types as T
from sochdb.sql.aggregates import BY_KEY, TWO_ARGUMENTS, AggSpec, aggregate_name, result_type
from sochdb.sql.expressions import CExpr, ExprCompiler, bool_expr, cast_expr
from sochdb.sql.functions import positional_args
from sochdb.sql.operators import Aggregate, Filter, Operator, eager_aggregate
from sochdb.sql.parallel import is_pure
from sochdb.sql.scope import ColumnInfo, Scope

if TYPE_CHECKING:
    from sochdb.sql.planner import Planner


def _walk_aggs(node: exp.Expression, out: list[exp.Expression]) -> None:
    if isinstance(node, (exp.Select, exp.Subquery, exp.Union, exp.Intersect, exp.Except)):
        return
    if isinstance(node, exp.Window):
        fn = node.this
        while isinstance(fn, (exp.IgnoreNulls, exp.RespectNulls)):
            fn = fn.this
        if isinstance(fn, exp.Filter):  # SUM(x) FILTER (WHERE ...) OVER (...)
            _walk_aggs(fn.expression, out)
            fn = fn.this
        for child in (fn.iter_expressions() if fn is not None else []):
            _walk_aggs(child, out)
        for key in ("partition_by", "order"):
            v = node.args.get(key)
            for child in (v if isinstance(v, list) else [v] if v is not None else []):
                _walk_aggs(child, out)
        return
    if isinstance(node, exp.Filter) and aggregate_name(node.this):
        out.append(node)
        return
    if aggregate_name(node) or (isinstance(node, (exp.IgnoreNulls, exp.RespectNulls)) and
                                aggregate_name(_without_nulls_clause(node))):
        out.append(node)
        return
    for child in node.iter_expressions():
        _walk_aggs(child, out)


def _without_nulls_clause(node: exp.Expression) -> exp.Expression:
    """The call inside ``agg(x) IGNORE NULLS`` / ``RESPECT NULLS`` (sqlglot's DuckDB reader
    also wraps a plain ANY_VALUE(x) in IGNORE NULLS)."""
    while isinstance(node, (exp.IgnoreNulls, exp.RespectNulls)):
        node = node.this
    return node


def collect_aggregates(exprs) -> list[exp.Expression]:
    out: list[exp.Expression] = []
    for e in exprs:
        if e is not None:
            _walk_aggs(e, out)
    return out


def has_aggregates(items, having, order_items) -> bool:
    return bool(collect_aggregates(list(items) + [having] + list(order_items)))


class PostAggCompiler(ExprCompiler):
    """Compiles expressions over the aggregated rows (see module docstring)."""

    def __init__(self, planner, scope, replacements, agg: Aggregate, context: str) -> None:
        super().__init__(planner, scope, replacements, context)
        self.agg = agg

    aliases: dict[str, exp.Expression] = {}

    def _column(self, node: exp.Column) -> CExpr:
        if isinstance(node.this, exp.Star):
            return super()._column(node)
        fixed = node.meta.get("field") if node.meta else None
        info = self.scope.by_field(fixed) if fixed else None
        depth = 0
        if info is None:
            try:
                info, depth = self.scope.resolve(node.name, node.table or None)
            except BindError:
                target = self.aliases.get(node.name.lower()) if not node.table else None
                if target is None:
                    raise
                return self.compile(target)
        if depth == 0 and info.field not in {c.field for c in self.agg.columns}:
            if not self.settings.loose_group_by:
                raise BindError(f"column {node.sql()} must appear in the GROUP BY clause or be "
                                f"used in an aggregate function (wrap it in FIRST() or "
                                f"ANY_VALUE() to take one value per group)")
            self._add_bare(info)
        return super()._column(node)

    def _add_bare(self, info: ColumnInfo) -> None:
        f = info.field
        self.agg.inputs.append((f + "__in", CExpr(lambda t, c, f=f: t.column(f), info.type,
                                                  False, info.name)))
        self.agg.specs.append(AggSpec("first", f + "__in", info.type, f, out_type=info.type,
                                      extra={"skip_nulls": False}))
        self.agg.columns.append(ColumnInfo(info.name, info.table, f, info.type))


def _resolve_group_item(planner: "Planner", g: exp.Expression, items, scope: Scope):
    """GROUP BY 2 / GROUP BY alias / GROUP BY expression -> the expression grouped on."""
    if isinstance(g, exp.Literal) and not g.is_string and g.this.isdigit():
        pos = int(g.this)
        if not 1 <= pos <= len(items):
            raise BindError(f"GROUP BY position {pos} is not in the select list "
                            f"(1 to {len(items)})")
        it = items[pos - 1]
        return it.this if isinstance(it, exp.Alias) else it
    if isinstance(g, exp.Column) and not g.table:
        try:
            scope.resolve(g.name)
            return g
        except BindError:
            for it in items:
                if isinstance(it, exp.Alias) and it.alias.lower() == g.name.lower():
                    return it.this
            raise
    return g


def _set_items(s: exp.Expression, key_index) -> list[list[int]]:
    """One GROUPING SETS element: (a, b), a, (), or a nested ROLLUP / CUBE."""
    inner = s.this if isinstance(s, exp.Paren) else s
    if isinstance(inner, exp.Tuple):
        return [[key_index(e) for e in inner.expressions]]
    if isinstance(inner, (exp.Rollup, exp.Cube)):
        return _rollup_cube(inner, key_index)
    return [[key_index(inner)]]


def _rollup_cube(g: exp.Expression, key_index) -> list[list[int]]:
    """The grouping sets of ROLLUP / CUBE; a parenthesized tuple counts as one unit."""
    if not g.expressions:
        raise ProgrammingError(f"{type(g).__name__.upper()} column list cannot be empty")
    units = []
    for e in g.expressions:
        inner = e.this if isinstance(e, exp.Paren) else e
        if isinstance(inner, (exp.Rollup, exp.Cube)):
            raise ProgrammingError(f"{type(g).__name__.upper()} cannot be nested")
        items = inner.expressions if isinstance(inner, exp.Tuple) else [inner]
        units.append([key_index(x) for x in items])
    if isinstance(g, exp.Rollup):
        combos = [units[:i] for i in range(len(units), -1, -1)]
    else:
        combos = [list(c) for r in range(len(units), -1, -1)
                  for c in itertools.combinations(units, r)]
    return [[k for unit in combo for k in unit] for combo in combos]


def _grouping_sets(planner, group: exp.Group, items, scope) -> tuple[list[exp.Expression],
                                                                      list[list[int]] | None]:
    keys: list[exp.Expression] = []

    def key_index(e: exp.Expression) -> int:
        e = _resolve_group_item(planner, e, items, scope)
        for i, k in enumerate(keys):
            if k == e:
                return i
        keys.append(e)
        return len(keys) - 1

    factors: list[list[list[int]]] = []
    fancy = False
    if group.args.get("all"):
        # GROUP BY ALL: every select item without an aggregate or window function
        for it in items:
            e = it.this if isinstance(it, exp.Alias) else it
            if not collect_aggregates([e]) and not e.find(exp.Window):
                factors.append([[key_index(e)]])
    for g in group.expressions:
        if isinstance(g, (exp.Rollup, exp.Cube)):
            fancy = True
            factors.append(_rollup_cube(g, key_index))
        elif isinstance(g, exp.GroupingSets):
            fancy = True
            sets = []
            for s in g.expressions:
                sets.extend(_set_items(s, key_index))
            factors.append(sets)
        elif isinstance(g, exp.Tuple):
            fancy = fancy or not g.expressions
            factors.append([[key_index(e) for e in g.expressions]])
        else:
            factors.append([[key_index(g)]])
    for key in ("rollup", "cube"):
        for g in group.args.get(key) or []:
            fancy = True
            if not g.expressions:
                raise ProgrammingError(f"{key.upper()} column list cannot be empty")
            idx = [key_index(e) for e in g.expressions]
            if key == "rollup":
                factors.append([idx[:i] for i in range(len(idx), -1, -1)])
            else:
                factors.append([list(c) for r in range(len(idx), -1, -1)
                                for c in itertools.combinations(idx, r)])
    for g in group.args.get("grouping_sets") or []:
        fancy = True
        factors.append([[key_index(e) for e in (s.expressions if isinstance(s, exp.Tuple)
                                                 else [s])] for s in g.expressions])
    if not fancy:
        return keys, None
    sets = [[]]
    for f in factors:
        sets = [a + [x for x in b if x not in a] for a in sets for b in f]
    return keys, [sorted(set(s)) for s in sets]


def plan_grouping(planner: "Planner", node: exp.Select, op: Operator, scope: Scope, items,
                  having, order_items) -> tuple[Operator, ExprCompiler]:
    group = node.args.get("group")
    pre = planner.compiler(scope, "GROUP BY")
    key_nodes: list[exp.Expression] = []
    sets = None
    if group is not None:
        key_nodes, sets = _grouping_sets(planner, group, items, scope)
    keys: list[CExpr] = []
    key_fields: list[str] = []
    replacements: dict = {}
    agg_cols: list[ColumnInfo] = []
    for k in key_nodes:
        if collect_aggregates([k]):
            raise ProgrammingError(f"aggregate functions are not allowed in GROUP BY: {k.sql()}")
        e = pre.compile(k)
        keys.append(e)
        if isinstance(k, exp.Column) and sets is None:
            info, depth = scope.resolve(k.name, k.table or None)
            if depth == 0 and info.field not in key_fields:
                key_fields.append(info.field)
                agg_cols.append(ColumnInfo(info.name, info.table, info.field, e.type))
                continue
        f = planner.fresh()
        key_fields.append(f)
        agg_cols.append(ColumnInfo(k.sql(), None, f, e.type))
        replacements[k] = CExpr(lambda t, c, f=f: t.column(f), e.type, False, k.sql())
    if sets is not None:
        # With grouping sets a key column is NULL in rows of sets that leave it out, so the
        # plain column must not read through to the ungrouped value: always use replacements.
        for k, f, e in zip(key_nodes, key_fields, keys):
            replacements[k] = CExpr(lambda t, c, f=f: t.column(f), e.type, False, k.sql())
    specs: list[AggSpec] = []
    inputs: list[tuple[str, CExpr]] = []
    arg_comp = planner.compiler(scope, "aggregate arguments")
    aggregates = collect_aggregates(list(items) + [having] + list(order_items))
    pure = all(is_pure(k) for k in key_nodes) and \
        all(is_pure(a, aggregates=True) for a in aggregates)
    for a in aggregates:
        if a in replacements:
            continue
        spec, spec_inputs = _agg_spec(planner, a, arg_comp)
        specs.append(spec)
        inputs.extend(spec_inputs)
        agg_cols.append(ColumnInfo(a.sql(), None, spec.out, spec.out_type))
        replacements[a] = CExpr(lambda t, c, f=spec.out: t.column(f), spec.out_type, False,
                                a.sql())
    grouping_field = planner.fresh() if sets is not None else None
    agg = Aggregate(op, keys, key_fields, inputs, specs, agg_cols, sets, grouping_field)
    agg.parallel = pure
    agg.eager = eager_aggregate.applicable(agg)
    if grouping_field is not None:
        agg.columns.append(ColumnInfo("__grouping", None, grouping_field, pa.int64()))
        _grouping_functions(items, having, order_items, key_nodes, grouping_field,
                            replacements)
    comp = PostAggCompiler(planner, scope, replacements, agg, "SELECT")
    result: Operator = agg
    if having is not None:
        having_comp = PostAggCompiler(planner, scope, replacements, agg, "HAVING")
        having_comp.aliases = {i.alias.lower(): i.this for i in items
                               if isinstance(i, exp.Alias)}
        result = Filter(agg, bool_expr(having_comp.compile(having)))
    return result, comp


def _grouping_functions(items, having, order_items, key_nodes, gfield, replacements) -> None:
    n = len(key_nodes)
    for root in list(items) + [having] + list(order_items):
        if root is None:
            continue
        for g in root.find_all(exp.Grouping):
            idx = []
            for arg in g.expressions:
                pos = next((i for i, k in enumerate(key_nodes) if k == arg), None)
                if pos is None:
                    raise BindError(f"GROUPING() argument {arg.sql()} is not a GROUP BY key")
                idx.append(pos)

            def fn(t, c, idx=tuple(idx)):
                mask = t.column(gfield)
                out = None
                for j, i in enumerate(idx):
                    bit = pc.bit_wise_and(pc.shift_right(mask, n - 1 - i), 1)
                    term = pc.shift_left(bit, len(idx) - 1 - j)
                    out = term if out is None else pc.add(out, term)
                return out
            replacements[g] = CExpr(fn, pa.int64(), False, g.sql())


def _second_argument(planner: "Planner", spec: AggSpec, call: exp.Expression, extra_args,
                     comp: ExprCompiler, inputs: list[tuple[str, CExpr]]) -> None:
    """The x of COVAR_POP(y, x) and friends: both arguments are read as DOUBLE."""
    name = spec.name
    if len(extra_args) != 1:
        raise ProgrammingError(f"{name.upper()}() takes two arguments: {call.sql()}")
    if spec.distinct:
        raise NotSupportedError(f"{name.upper()}(DISTINCT ...) is not supported")
    fields = [(spec.arg, spec.arg_type)]
    e = comp.compile(extra_args[0])
    field = planner.fresh()
    inputs.append((field, e))
    fields.append((field, e.type))
    for i, (f, typ) in enumerate(fields):
        if not (T.is_numeric(typ) or T.kind(typ) == "null"):
            raise BindError(f"{name.upper()}() takes numbers, not {T.sql_type_name(typ)}: "
                            f"{call.sql()}")
        pos = next(j for j, (k, _) in enumerate(inputs) if k == f)
        inputs[pos] = (f, cast_expr(inputs[pos][1], pa.float64()))
    spec.arg_type = pa.float64()
    spec.extra["arg2"] = field


def _key_argument(planner: "Planner", spec: AggSpec, call: exp.Expression, extra_args,
                  comp: ExprCompiler, inputs: list[tuple[str, CExpr]]) -> None:
    """The key of ARG_MAX(value, key) and friends, of any orderable type."""
    name = spec.name
    if len(extra_args) != 1:
        raise ProgrammingError(f"{name.upper()}() takes two arguments (value, key): "
                               f"{call.sql()}")
    if spec.distinct:
        raise NotSupportedError(f"{name.upper()}(DISTINCT ...) is not supported")
    e = comp.compile(extra_args[0])
    if T.kind(e.type) == "null":
        e = cast_expr(e, pa.int64())
    field = planner.fresh()
    inputs.append((field, e))
    spec.extra["arg2"] = field


def _agg_spec(planner: "Planner", node: exp.Expression, comp: ExprCompiler,
              ) -> tuple[AggSpec, list[tuple[str, CExpr]]]:
    inputs: list[tuple[str, CExpr]] = []
    filter_field = None
    skip_nulls = None
    if isinstance(node, (exp.IgnoreNulls, exp.RespectNulls)):
        skip_nulls = isinstance(node, exp.IgnoreNulls)
        node = _without_nulls_clause(node)
    call = node
    if isinstance(node, exp.Filter):
        call = node.this
        cond = node.expression.this if isinstance(node.expression, exp.Where) else \
            node.expression
        filter_field = planner.fresh()
        inputs.append((filter_field, bool_expr(comp.compile(cond))))
    name = aggregate_name(call)
    out = planner.fresh()
    distinct = False
    arg_node = call.this if not isinstance(call, exp.Anonymous) else (
        call.expressions[0] if call.expressions else None)
    extra_args = positional_args(call)[1:] if not isinstance(call, exp.Anonymous) else \
        call.expressions[1:]
    order_node = None
    if isinstance(arg_node, exp.Order):
        order_node = arg_node
        arg_node = arg_node.this
    if isinstance(arg_node, exp.Distinct):
        distinct = True
        if any(isinstance(x, exp.Star) for x in arg_node.expressions):
            raise BindError(f"{name.upper()}(DISTINCT *) is not allowed: name a column")
        if len(arg_node.expressions) != 1:
            raise NotSupportedError(f"{name.upper()}(DISTINCT ...) takes one argument")
        arg_node = arg_node.expressions[0]
    if name == "count" and (arg_node is None or isinstance(arg_node, exp.Star)):
        name = "count_star"
        arg_node = None
    for inner in (arg_node.find_all(exp.AggFunc) if arg_node is not None else []):
        raise ProgrammingError(f"aggregate function calls cannot be nested: {node.sql()}")
    row_fields: list[str] = []
    if isinstance(arg_node, exp.Tuple):
        if name != "count":
            raise NotSupportedError(f"a row value is only supported in comparisons, IN and "
                                    f"COUNT: {node.sql()}")
        # A row value is never NULL, even when its fields are: COUNT((a, b)) counts every
        # row, COUNT(DISTINCT (a, b)) the distinct field combinations (NULLs equal).
        if not distinct:
            name, arg_node = "count_star", None
        else:
            for item in arg_node.expressions:
                f, e = planner.fresh(), comp.compile(item)
                if T.kind(e.type) == "null":
                    e = cast_expr(e, pa.int64())
                inputs.append((f, e))
                row_fields.append(f)
            arg_node = arg_node.expressions[0]
    arg_field = None
    arg_type = None
    if arg_node is not None:
        e = comp.compile(arg_node)
        if T.kind(e.type) == "bool" and name in ("avg", "mean"):
            raise BindError(f"{name.upper()}() is not defined for BOOLEAN: {node.sql()}")
        if T.kind(e.type) == "bool" and name in ("sum", "product"):
            e = cast_expr(e, pa.int64())
        if T.kind(e.type) == "null":
            e = cast_expr(e, pa.int64() if name not in ("group_concat", "string_agg")
                          else pa.string())
        if name in ("bool_and", "bool_or", "every", "logical_and", "logical_or"):
            e = bool_expr(e)
        if name in ("sum", "avg", "mean", "stddev", "variance") and T.kind(e.type) == "str":
            e = cast_expr(e, pa.float64())
        if name in ("avg", "mean") and T.kind(e.type) == "decimal":
            # Arrow's decimal mean keeps the input's scale (AVG of 1.01 and 1.02 is 1.02);
            # the result is DOUBLE anyway.
            e = cast_expr(e, pa.float64())
        arg_field = planner.fresh()
        inputs.append((arg_field, e))
        arg_type = e.type
    elif name not in ("count_star",):
        raise ProgrammingError(f"{name.upper()}() needs an argument: {node.sql()}")
    spec = AggSpec(name, arg_field, arg_type, out, distinct=distinct, filter=filter_field)
    spec.extra["sql"] = call.sql()
    if skip_nulls is not None:
        spec.extra["skip_nulls"] = skip_nulls
    if row_fields:
        spec.extra["row_fields"] = row_fields
    if name in TWO_ARGUMENTS:
        _second_argument(planner, spec, call, extra_args, comp, inputs)
    if name in BY_KEY:
        _key_argument(planner, spec, call, extra_args, comp, inputs)
    if order_node is not None:
        keys = []
        for o in order_node.expressions:
            f = planner.fresh()
            inputs.append((f, comp.compile(o.this)))
            desc = bool(o.args.get("desc"))
            keys.append((f, "descending" if desc else "ascending",
                         planner.settings.nulls_first(desc) if not o.meta.get(
                             "explicit_nulls") else bool(o.args.get("nulls_first"))))
        spec.extra["order"] = keys
        if name not in ("group_concat", "string_agg", "listagg", "list", "array_agg",
                        "first", "last", "any_value"):
            spec.extra.pop("order")
    if name in ("group_concat", "string_agg", "listagg"):
        sep = call.args.get("separator")
        if sep is None and extra_args:
            sep = extra_args[0]
        if sep is not None:
            s = comp.compile(sep)
            if not s.const:
                raise NotSupportedError("the separator of GROUP_CONCAT must be a constant")
            spec.separator = s.fn(None, None).as_py()
    if name in ("quantile", "quantile_cont", "quantile_disc", "percentile_cont",
                "percentile_disc"):
        q = call.args.get("quantile") or (extra_args[0] if extra_args else None)
        if q is None:
            raise ProgrammingError(f"{name.upper()} needs a quantile, e.g. {name}(x, 0.5)")
        qe = comp.compile(q)
        value = qe.fn(None, None).as_py() if qe.const else None
        if not isinstance(value, (int, float)) or isinstance(value, bool) or \
                not 0 <= value <= 1:
            raise ProgrammingError(f"the quantile must be a constant number between 0 and 1, "
                                   f"got {q.sql()}: {call.sql(dialect='duckdb')}")
        spec.quantile = float(value)
    spec.out_type = result_type(name, arg_type)
    if name in ("avg", "mean") and arg_type is not None and T.kind(arg_type) == "decimal":
        spec.out_type = pa.float64()
    return spec, inputs
