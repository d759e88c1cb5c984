"""Set-returning functions: ``range(...)`` / ``generate_series(...)`` in FROM and
``unnest(list)`` in the select list (DuckDB semantics).

``exp.GenerateSeries`` becomes a ``SeriesScan`` whose arguments are evaluated once per
execution, built with numpy; ``unnest`` becomes an ``Unnest`` operator that repeats each input
row once per list element. Imports sqlglot, numpy, pyarrow and the sql layer's expressions,
scope and operators.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from sochdb.errors import BindError, DataError, NotSupportedError, ResourceLimitError
from sochdb.sql import types as T
from sochdb.sql.expressions import CExpr, ExprCompiler, materialize, to_array
from sochdb.sql.operators.base import Operator, SingleRow
from sochdb.sql.scope import ColumnInfo, Scope

if TYPE_CHECKING:
    from sochdb.sql.context import ExecContext
    from sochdb.sql.planner import Planner

# Without a memory_limit, a series longer than this is refused rather than exhausting memory.
MAX_ROWS = 1 << 30
_INT = pa.int64()
_TS = pa.timestamp("us")


class SeriesScan(Operator):
    """``range(start, stop, step)`` / ``generate_series(...)``: one column of evenly spaced
    values; ``inclusive`` says whether ``stop`` itself belongs to the series."""

    def __init__(self, column: ColumnInfo, name: str, args: list[CExpr], inclusive: bool,
                 temporal: bool) -> None:
        self.columns = [column]
        self.name = name
        self.args = args  # start, stop, step (None: a step of 1)
        self.inclusive = inclusive
        self.temporal = temporal

    def execute(self, ctx: "ExecContext") -> pa.Table:
        one = SingleRow().execute(ctx)
        vals = [to_array(a.fn(one, ctx), 1)[0] if a is not None else None for a in self.args]
        if any(v is not None and not v.is_valid for v in vals):
            arr = pa.array([], self.columns[0].type)  # a NULL argument gives no rows
        elif self.temporal:
            arr = self._timestamps(ctx, *vals)
        else:
            arr = self._integers(ctx, *(v.as_py() if v is not None else None for v in vals))
        return pa.table([arr], names=[self.columns[0].field])

    def _count(self, ctx: "ExecContext", start: int, stop: int, step: int) -> int:
        if step == 0:
            raise DataError(f"{self.name}(): the step cannot be 0")
        span = stop - start
        if self.inclusive:
            n = span // step + 1 if (span >= 0) == (step > 0) or span == 0 else 0
        else:
            n = -(-span // step) if (span > 0) == (step > 0) and span != 0 else 0
        n = max(n, 0)
        if ctx.memory_limit is not None:
            ctx.check_memory(n * 8, f"{self.name}() with {n:,} rows")
        elif n > MAX_ROWS:
            raise ResourceLimitError(f"{self.name}() would produce {n:,} rows, more than the "
                                     f"{MAX_ROWS:,} allowed without a memory_limit",
                                     limit=MAX_ROWS)
        return n

    def _integers(self, ctx: "ExecContext", start: int, stop: int, step: int | None) -> pa.Array:
        step = 1 if step is None else step
        n = self._count(ctx, start, stop, step)
        # Every value lies between start and stop; numpy's wrapping int64 products still
        # give the right sums when step * k alone would leave the int64 range.
        with np.errstate(over="ignore"):
            ints = np.int64(start) + np.arange(n, dtype=np.int64) * np.int64(step)
        return pa.array(ints, _INT)

    def _timestamps(self, ctx: "ExecContext", start: pa.Scalar, stop: pa.Scalar,
                    step: pa.Scalar | None) -> pa.Array:
        if step is None:
            raise BindError(f"{self.name}() of timestamps needs an INTERVAL step")
        if pa.types.is_duration(step.type):
            months, days, nanos = 0, 0, step.cast(pa.duration("ns")).value
        else:
            months, days, nanos = step.value.months, step.value.days, step.value.nanoseconds
        if months:
            raise NotSupportedError(f"{self.name}() with a step in months or years is not "
                                    f"supported; use days or smaller units")
        step_us = days * 86_400_000_000 + nanos // 1000
        a = start.cast(_TS).value
        b = stop.cast(_TS).value
        n = self._count(ctx, a, b, step_us)
        with np.errstate(over="ignore"):
            ints = np.int64(a) + np.arange(n, dtype=np.int64) * np.int64(step_us)
        return pa.array(ints, _INT).cast(_TS)

    def describe(self) -> str:
        return f"{self.name}()"


def plan_series(planner: "Planner", ref: exp.Table, node: exp.GenerateSeries,
                outer: Scope | None) -> tuple[Operator, str | None]:
    """The operator for a table whose ``this`` is a GenerateSeries, and its qualifier.

    Without a column alias the column is named after the function, or after the table
    alias when one is given (``FROM range(3) AS r`` has a column ``r``), as in DuckDB.
    """
    inclusive = not node.args.get("is_end_exclusive")
    name = "generate_series" if inclusive else "range"
    scope = Scope([], parent=outer)
    comp = planner.compiler(scope, f"{name}()")
    args = [comp.compile(node.args["start"]), comp.compile(node.args["end"])]
    step = node.args.get("step")
    args.append(comp.compile(step) if step is not None else None)
    kinds = [T.kind(a.type) if a is not None else "null" for a in args]
    temporal = any(k in ("date", "timestamp") for k in kinds[:2])
    for i, (a, k) in enumerate(zip(args, kinds)):
        if a is None or k == "null":
            continue
        role = ("start", "stop", "step")[i]
        if temporal:
            ok = k == "interval" if i == 2 else k in ("date", "timestamp")
        else:
            ok = k == "int"
            if ok and a.type != _INT:
                args[i] = _as_int64(a)
        if not ok:
            want = ("an INTERVAL" if i == 2 else "a DATE or TIMESTAMP") if temporal \
                else "an integer"
            raise BindError(f"{name}(): the {role} must be {want}, not {T.sql_type_name(a.type)}")
    alias_node = ref.args.get("alias")
    alias = alias_node.name if alias_node is not None and alias_node.name else None
    col_name = alias or name
    if alias_node is not None and alias_node.args.get("columns"):
        col_name = alias_node.args["columns"][0].name
    col = ColumnInfo(col_name, alias.lower() if alias else None, planner.fresh(),
                     _TS if temporal else _INT)
    return SeriesScan(col, name, args, inclusive, temporal), col.table


def _as_int64(a: CExpr) -> CExpr:
    def fn(t, ctx, f=a.fn):
        v = f(t, ctx)
        return pc.cast(v, _INT)
    return CExpr(fn, _INT, const=a.const, sql=a.sql)


class Unnest(Operator):
    """Each input row once per element of a list expression, the element in a new column
    (a NULL or empty list gives no rows)."""

    def __init__(self, child: Operator, expr: CExpr, column: ColumnInfo) -> None:
        self.child = child
        self.children = (child,)
        self.expr = expr
        self.columns = child.columns + [column]

    def execute(self, ctx: "ExecContext") -> pa.Table:
        t = self.child.execute(ctx)
        n = t.num_rows
        lists = to_array(materialize(self.expr.fn(t, ctx), n, self.expr.type), n)
        elements = pc.list_flatten(lists)
        field = self.columns[-1].field
        if t.num_columns == 0:  # FROM-less: taking rows of a column-less table loses them
            out = pa.table([elements], names=[field])
        else:
            out = t.take(pc.list_parent_indices(lists)).append_column(field, elements)
        if ctx.memory_limit is not None:
            ctx.check_memory(out.nbytes, f"unnest() of {out.num_rows:,} rows")
        return out

    def describe(self) -> str:
        return f"Unnest {self.expr.sql}"


def select_unnests(items: list[exp.Expression]) -> list[exp.Explode]:
    """The ``unnest(...)`` calls of a select list, outside subqueries."""
    out: list[exp.Explode] = []
    stack = list(items)
    while stack:
        node = stack.pop()
        if isinstance(node, exp.Explode):
            out.append(node)
        stack.extend(c for c in node.iter_expressions()
                     if not isinstance(c, (exp.Select, exp.Subquery, exp.Union)))
    return out


def plan_unnest(planner: "Planner", op: Operator, comp: ExprCompiler,
                calls: list[exp.Explode]) -> tuple[Operator, ExprCompiler]:
    """An Unnest over ``op`` and a compiler that reads the element for each call."""
    if any(c.this.find(exp.Explode) is not None for c in calls):
        raise NotSupportedError("nested unnest() calls are not supported")
    first = calls[0]
    if any(c != first for c in calls[1:]):
        raise NotSupportedError("several different unnest() calls in one select list are "
                                "not supported")
    if isinstance(first.this, exp.Array) and first.this.expressions:
        arg = _list_of(comp, first.this)
    else:
        arg = comp.compile(first.this)
    kind = T.kind(arg.type)
    if kind not in ("list", "null"):
        raise BindError(f"unnest() takes a list, not {T.sql_type_name(arg.type)}")
    elem_type = arg.type.value_type if kind == "list" else pa.null()
    if kind == "null":
        arg = CExpr(lambda t, c: pa.scalar(None, pa.list_(pa.null())),
                    pa.list_(pa.null()), True, arg.sql)
    col = ColumnInfo(first.sql(dialect="duckdb"), None, planner.fresh(), elem_type)
    unnest = Unnest(op, arg, col)
    read = CExpr(lambda t, c, f=col.field: t.column(f), elem_type, False, col.name)
    replacements = dict(comp.replacements)
    replacements.update({c: read for c in calls})
    return unnest, planner.compiler(comp.scope, "SELECT", replacements)


def _list_of(comp: ExprCompiler, node: exp.Array) -> CExpr:
    """A list literal as a per-row LIST of its unified elements. (Compiled on its own, a
    bracket literal is a float vector; unnest of ``[1, 2]`` gives integers, as in DuckDB.)"""
    elems = [comp.compile(e) for e in node.expressions]
    typ = elems[0].type
    for e in elems[1:]:
        typ = T.common_type(typ, e.type)
    if pa.types.is_null(typ):
        typ = pa.int32()
    k = len(elems)

    def fn(t, ctx):
        n = t.num_rows if t is not None else 1
        parts = [T.cast(to_array(materialize(e.fn(t, ctx), n, e.type), n), typ) for e in elems]
        # Row-major order: row i holds element j at position i * k + j.
        order = np.arange(n * k, dtype=np.int64).reshape(k, n).T.ravel()
        values = pa.concat_arrays(parts).take(pa.array(order))
        offsets = pa.array(np.arange(0, n * k + 1, k, dtype=np.int32))
        return pa.ListArray.from_arrays(offsets, values)
    return CExpr(fn, pa.list_(typ), False, node)


__all__ = ["SeriesScan", "plan_series", "MAX_ROWS", "Unnest", "plan_unnest", "select_unnests"]
