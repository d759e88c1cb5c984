"""Planning window functions (OVER clauses) into a Window operator (operators/window.py).

Planner layer: imports sqlglot, pyarrow, the expression compiler and the window operator.
Windows are collected from the select list and ORDER BY of one query level (never from nested
subqueries), named windows (``WINDOW w AS (...)``) are resolved, and calls that share PARTITION
BY and ORDER BY form one group, so the rows are sorted once per group. Arguments compile with
the select list's compiler, so after GROUP BY they may use aggregates: SUM(SUM(x)) OVER ().
QUALIFY filters the rows once the windows are computed.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from sqlglot import exp

from sochdb.errors import BindError, NotSupportedError, ProgrammingError
from sochdb.sql import types as T
from sochdb.sql.aggregates import aggregate_name, result_type
from sochdb.sql.expressions import CExpr, ExprCompiler, bool_expr, cast_expr
from sochdb.sql.operators.base import Operator
from sochdb.sql.operators.relational import Filter
from sochdb.sql.operators.window import (
    FRAMED_AGGS,
    RANKING,
    UP_TO_PEERS,
    WHOLE_PARTITION,
    Bound,
    Frame,
    Window,
    WindowCall,
    WindowGroup,
)

if TYPE_CHECKING:
    from sochdb.sql.planner import Planner

_FUNCTIONS = {exp.RowNumber: "row_number", exp.Rank: "rank", exp.DenseRank: "dense_rank",
              exp.PercentRank: "percent_rank", exp.CumeDist: "cume_dist", exp.Ntile: "ntile",
              exp.Lag: "lag", exp.Lead: "lead", exp.FirstValue: "first_value",
              exp.LastValue: "last_value", exp.NthValue: "nth_value"}
_NAMES = set(_FUNCTIONS.values())
# Aggregate spellings that the framed kernels compute, mapped to the kernel's name.
_FRAMED_ALIASES = {"mean": "avg", "every": "bool_and", "logical_and": "bool_and",
                   "logical_or": "bool_or", "countif": "count_if", "arbitrary": "any_value"}
_NESTED = (exp.Select, exp.Subquery, exp.Union, exp.Intersect, exp.Except)


def _walk(node: exp.Expression, out: dict) -> None:
    if isinstance(node, _NESTED):
        return
    if isinstance(node, exp.Window):
        out.setdefault(node, None)
        return
    for child in node.iter_expressions():
        _walk(child, out)


def collect_windows(exprs) -> list[exp.Window]:
    """The distinct window calls of one query level, in order of appearance."""
    out: dict = {}
    for e in exprs:
        if e is not None:
            _walk(e, out)
    return list(out)


def has_windows(items, order_items) -> bool:
    return bool(collect_windows(list(items) + list(order_items)))


def plan_windows(planner: Planner, op: Operator, comp: ExprCompiler, items, order_items,
                 named: list[exp.Window] | None = None) -> tuple[Operator, ExprCompiler]:
    """Put a Window operator over ``op``; the returned compiler reads window results.

    Args:
        comp: the select list's compiler (a PostAggCompiler after GROUP BY).
        named: the query's ``WINDOW`` definitions (found from the calls when not given).

    Returns:
        The Window operator and a copy of ``comp`` whose replacements map each window call
        node to its output column, for the select list and ORDER BY.

    Example: ``SELECT g, SUM(x) OVER (PARTITION BY g ORDER BY t), RANK() OVER (ORDER BY x)
    FROM t`` sorts twice, once per group::

        Project g, SUM(x) OVER (PARTITION BY g ORDER BY t), RANK() OVER (ORDER BY x)
          Window sum OVER (PARTITION BY g ORDER BY t); rank OVER (ORDER BY x)
            TableScan t [g, x, t]
    """
    windows = collect_windows(list(items) + list(order_items))
    if named is None:
        select = windows[0].find_ancestor(exp.Select) if windows else None
        named = select.args.get("windows") if select is not None else None
    definitions = {}
    for d in named or []:
        definitions[d.name.lower()] = d
    groups: dict[Any, WindowGroup] = {}
    replacements: dict = {}
    for w in windows:
        partition, order, spec = _resolve(w, definitions, set())
        _check_nested(w, partition, order, spec)
        keys = [comp.compile(p) for p in partition]
        sort_keys = [planner._sort_key(o, comp.compile(o.this)) for o in order]
        gkey = (tuple(partition), tuple((o.this, k.descending, k.nulls_first)
                                        for o, k in zip(order, sort_keys)))
        group = groups.get(gkey)
        if group is None:
            group = groups[gkey] = WindowGroup(keys, sort_keys, [])
        call = _plan_call(planner, comp, w, order, spec, group)
        group.calls.append(call)
        replacements[w] = CExpr(lambda t, c, f=call.field: t.column(f), call.type, False, w)
    out = copy.copy(comp)
    out.replacements = {**comp.replacements, **replacements}
    return Window(op, list(groups.values())), out


def plan_qualify(planner: Planner, op: Operator, comp: ExprCompiler, cond: exp.Expression,
                 items) -> Operator:
    """QUALIFY: keep the rows whose condition (usually over window results) is TRUE.

    A name that is not a column may be a select-list alias (``QUALIFY rn = 1``), as in DuckDB.
    """
    qualify_comp = copy.copy(comp)
    qualify_comp.context = "QUALIFY"
    try:
        pred = qualify_comp.compile(cond)
    except BindError:
        aliases = {i.alias.lower(): i.this for i in items if isinstance(i, exp.Alias)}

        def swap(n: exp.Expression) -> exp.Expression:
            if isinstance(n, exp.Column) and not n.table and n.name.lower() in aliases:
                return aliases[n.name.lower()].copy()
            return n
        pred = qualify_comp.compile(cond.transform(swap))
    return Filter(op, bool_expr(pred))


def _resolve(w: exp.Window, named: dict, seen: set) -> tuple[list, list, Any]:
    """PARTITION BY, ORDER BY items and frame of ``w``, inheriting from a named window."""
    partition = list(w.args.get("partition_by") or [])
    order_node = w.args.get("order")
    order = list(order_node.expressions) if order_node is not None else []
    spec = w.args.get("spec")
    base = w.args.get("alias")
    if base is not None:
        name = base.name.lower()
        if name in seen:
            raise BindError(f"window {base.name!r} is defined in terms of itself")
        d = named.get(name)
        if d is None:
            raise BindError(f"unknown window {base.name!r}: define it with WINDOW "
                            f"{base.name} AS (...)")
        b_part, b_order, b_spec = _resolve(d, named, seen | {name})
        if partition and b_part:
            raise ProgrammingError(f"window {base.name!r} already has a PARTITION BY")
        if order and b_order:
            raise ProgrammingError(f"window {base.name!r} already has an ORDER BY")
        partition = partition or b_part
        order = order or b_order
        spec = spec if spec is not None else b_spec
    return partition, order, spec


def _check_nested(w: exp.Window, partition, order, spec) -> None:
    roots = [w.this] + list(partition) + [o.this for o in order]
    if spec is not None:
        roots += [v for v in (spec.args.get("start"), spec.args.get("end"))
                  if isinstance(v, exp.Expression)]
    if collect_windows(roots):
        raise ProgrammingError(f"window functions cannot be nested: {w.sql(dialect='duckdb')}")


def _unwrap(fn: exp.Expression) -> tuple[exp.Expression, exp.Expression, Any, bool]:
    """(function, function with its FILTER, FILTER condition, IGNORE NULLS)."""
    ignore = False
    while isinstance(fn, (exp.IgnoreNulls, exp.RespectNulls)):
        ignore = ignore or isinstance(fn, exp.IgnoreNulls)
        fn = fn.this
    with_filter = fn
    cond = None
    if isinstance(fn, exp.Filter):
        cond = fn.expression.this if isinstance(fn.expression, exp.Where) else fn.expression
        fn = fn.this
    while isinstance(fn, (exp.IgnoreNulls, exp.RespectNulls)):
        ignore = ignore or isinstance(fn, exp.IgnoreNulls)
        fn = fn.this
    return fn, with_filter, cond, ignore


def _function_name(fn: exp.Expression) -> str | None:
    name = _FUNCTIONS.get(type(fn))
    if name is not None:
        return name
    if isinstance(fn, exp.Anonymous) and fn.name.lower() in _NAMES:
        return fn.name.lower()
    return None


def _args(fn: exp.Expression, keys: tuple[str, ...]) -> list[exp.Expression | None]:
    if isinstance(fn, exp.Anonymous):
        given = list(fn.expressions)
        return given + [None] * (len(keys) - len(given)) if len(given) <= len(keys) else given
    return [fn.args.get(k) for k in keys]


def _plan_call(planner: Planner, comp: ExprCompiler, w: exp.Window, order, spec,
               group: WindowGroup) -> WindowCall:
    fn, with_filter, cond, ignore = _unwrap(w.this)
    field = planner.fresh()
    sql = w.sql(dialect="duckdb")
    name = _function_name(fn)
    frame = _frame(spec, order, group, comp)
    if name is not None:
        if cond is not None:
            raise ProgrammingError(f"FILTER is only allowed with aggregate functions: {sql}")
        return _plan_builtin(name, fn, comp, field, frame, ignore, sql)
    agg = aggregate_name(fn)
    if agg is None:
        what = fn.sql(dialect="duckdb") if isinstance(fn, exp.Expression) else str(fn)
        raise BindError(f"{what} is not a window function or an aggregate: {sql}")
    filt = bool_expr(comp.compile(cond)) if cond is not None else None
    agg = _FRAMED_ALIASES.get(agg, agg)
    arg = fn.this if not isinstance(fn, exp.Anonymous) else (
        fn.expressions[0] if fn.expressions else None)
    simple = agg in FRAMED_AGGS and not isinstance(arg, (exp.Distinct, exp.Order))
    if agg == "count" and (arg is None or isinstance(arg, exp.Star)):
        agg, arg = "count_star", None
    if simple:
        args = []
        if arg is not None:
            args.append(_agg_arg(agg, comp.compile(arg), sql))
        elif agg != "count_star":
            raise ProgrammingError(f"{agg.upper()}() needs an argument: {sql}")
        arg_type = args[0].type if args else None
        out_type = result_type(agg, arg_type)
        if agg == "avg":
            out_type = pa.float64()
        return WindowCall(agg, field, out_type, args, frame, filt, agg == "any_value", sql=sql)
    if not frame.whole():
        raise NotSupportedError(f"{agg.upper()} over a frame smaller than the whole partition "
                                f"is not supported (drop the window's ORDER BY or use ROWS "
                                f"BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING): {sql}")
    from sochdb.sql.grouping import _agg_spec
    spec_, inputs = _agg_spec(planner, with_filter, comp)
    return WindowCall(agg, field, spec_.out_type, [], frame, None, False, spec_, inputs, sql)


def _agg_arg(name: str, e: CExpr, sql: str) -> CExpr:
    k = T.kind(e.type)
    if name == "avg" and k == "bool":
        raise BindError(f"AVG() is not defined for BOOLEAN: {sql}")
    if k == "null":
        return cast_expr(e, pa.int64())
    if name in ("sum", "avg") and k == "str":
        return cast_expr(e, pa.float64())
    if name in ("sum", "avg") and k not in ("int", "float", "decimal", "bool"):
        raise BindError(f"{name.upper()}() needs numbers, not {T.sql_type_name(e.type)}: {sql}")
    if name in ("bool_and", "bool_or", "count_if"):
        return bool_expr(e)
    if name in ("min", "max") and k in ("list", "other", "interval"):
        raise NotSupportedError(f"{name.upper()} over a window is not supported for "
                                f"{T.sql_type_name(e.type)}: {sql}")
    return e


def _plan_builtin(name: str, fn: exp.Expression, comp: ExprCompiler, field: str,
                  frame: Frame, ignore: bool, sql: str) -> WindowCall:
    if name in RANKING:
        given = [a for a in _args(fn, ("this", "expressions")) if a]
        given = [x for a in given for x in (a if isinstance(a, list) else [a])]
        if name == "ntile":
            if len(given) != 1:
                raise BindError(f"NTILE takes exactly one argument (the number of buckets): "
                                f"{sql}")
            arg = comp.compile(given[0])
            if T.kind(arg.type) not in ("int", "float", "decimal", "null"):
                raise BindError(f"NTILE needs a number of buckets, not "
                                f"{T.sql_type_name(arg.type)}: {sql}")
            return WindowCall(name, field, pa.int64(), [arg], frame, sql=sql)
        if given:
            raise BindError(f"{name.upper()}() takes no arguments: {sql}")
        typ = pa.float64() if name in ("percent_rank", "cume_dist") else pa.int64()
        return WindowCall(name, field, typ, [], frame, sql=sql)
    if name in ("lag", "lead"):
        x_node, off_node, default_node = _args(fn, ("this", "offset", "default"))
        if x_node is None:
            raise BindError(f"{name.upper()} needs an argument: {sql}")
        x = comp.compile(x_node)
        args = [x]
        typ = x.type
        if off_node is not None:
            off = comp.compile(off_node)
            if T.kind(off.type) not in ("int", "float", "decimal", "null"):
                raise BindError(f"the offset of {name.upper()} must be a number: {sql}")
            args.append(off)
        if default_node is not None:
            if off_node is None:
                args.append(CExpr(lambda t, c: pa.scalar(1, pa.int64()), pa.int64(), True, "1"))
            d = comp.compile(default_node)
            if T.kind(typ) == "null":
                typ = d.type
            args.append(cast_expr(d, typ, "the default of " + name.upper()))
        return WindowCall(name, field, typ, args, frame, None, ignore, sql=sql)
    x_node, k_node = _args(fn, ("this", "offset"))
    if x_node is None:
        raise BindError(f"{name.upper()} needs an argument: {sql}")
    x = comp.compile(x_node)
    args = [x]
    if name == "nth_value":
        if k_node is None:
            raise BindError(f"NTH_VALUE needs a position, e.g. NTH_VALUE(x, 2): {sql}")
        if fn.args.get("from_first") is False:
            raise NotSupportedError(f"NTH_VALUE ... FROM LAST is not supported: {sql}")
        k = comp.compile(k_node)
        if T.kind(k.type) not in ("int", "float", "decimal", "null"):
            raise BindError(f"the position of NTH_VALUE must be a number: {sql}")
        args.append(k)
    return WindowCall(name, field, x.type, args, frame, None, ignore, sql=sql)


_EXCLUDE = {"NO OTHERS": "no others", "CURRENT ROW": "current row", "GROUP": "group",
            "TIES": "ties"}


def _frame(spec, order, group: WindowGroup, comp: ExprCompiler) -> Frame:
    if spec is None:
        return UP_TO_PEERS if order else WHOLE_PARTITION
    unit = str(spec.args.get("kind") or "range").lower()
    if unit not in ("rows", "range", "groups"):
        raise NotSupportedError(f"window frames in {unit.upper()} mode are not supported")
    start_v, start_side = spec.args.get("start"), spec.args.get("start_side")
    end_v, end_side = spec.args.get("end"), spec.args.get("end_side")
    start, s_dir = _bound(start_v, start_side, comp)
    end, e_dir = _bound(end_v, end_side, comp) if end_v is not None else (Bound("current"),
                                                                          "current")
    if start.kind == "unbounded" and s_dir == "following":
        raise ProgrammingError("a window frame cannot start at UNBOUNDED FOLLOWING")
    if end.kind == "unbounded" and e_dir == "preceding":
        raise ProgrammingError("a window frame cannot end at UNBOUNDED PRECEDING")
    if start.kind == "current" and e_dir == "preceding":
        raise ProgrammingError("a window frame starting at CURRENT ROW cannot end at "
                               "preceding rows")
    if start.kind == "following" and e_dir in ("preceding", "current"):
        raise ProgrammingError("a window frame starting at following rows cannot end at "
                               "preceding rows or the current row")
    offsets = [b.offset for b in (start, end) if b.offset is not None]
    if unit == "range" and offsets:
        if len(order) != 1:
            raise BindError("a RANGE frame with an offset needs exactly one ORDER BY "
                            "expression")
        key_kind = T.kind(group.order[0].expr.type)
        temporal = key_kind in ("date", "timestamp")
        if key_kind not in ("int", "float", "decimal") and not temporal:
            raise NotSupportedError(f"RANGE frames with an offset need a numeric, DATE or "
                                    f"TIMESTAMP ORDER BY key, not "
                                    f"{T.sql_type_name(group.order[0].expr.type)}")
        for off in offsets:
            if temporal and (T.kind(off.type) != "interval" or not off.const):
                raise NotSupportedError(f"RANGE offsets over a {key_kind.upper()} key must "
                                        f"be constant intervals: {off.sql}")
            if not temporal and T.kind(off.type) not in ("int", "float", "decimal"):
                raise NotSupportedError(f"RANGE frame offsets must be numbers, not "
                                        f"{T.sql_type_name(off.type)}")
    elif any(T.kind(off.type) not in ("int", "float", "decimal") for off in offsets):
        raise NotSupportedError(f"{unit.upper()} frame offsets must be numbers")
    excl = spec.args.get("exclude")
    exclude = "no others"
    if excl is not None:
        text = " ".join(str(excl.name if isinstance(excl, exp.Expression) else excl)
                        .upper().split())
        if text not in _EXCLUDE:
            raise ProgrammingError(f"unknown frame exclusion EXCLUDE {text}")
        exclude = _EXCLUDE[text]
    return Frame(unit, start, end, exclude)


def _bound(value, side, comp: ExprCompiler) -> tuple[Bound, str]:
    direction = str(side or "").lower() or "current"
    if isinstance(value, str):
        text = value.upper()
        if text == "UNBOUNDED":
            return Bound("unbounded"), direction
        if text == "CURRENT ROW":
            return Bound("current"), "current"
        raise ProgrammingError(f"unsupported window frame bound {value}")
    if direction not in ("preceding", "following"):
        raise ProgrammingError(f"a window frame offset needs PRECEDING or FOLLOWING: "
                               f"{value.sql()}")
    offset = comp.compile(value)
    if T.kind(offset.type) not in ("int", "float", "decimal", "interval"):
        raise NotSupportedError(f"window frame offsets must be numbers or intervals: "
                                f"{value.sql()}")
    return Bound(direction, offset), direction


__all__ = ["collect_windows", "has_windows", "plan_qualify", "plan_windows"]
