"""Compile sqlglot expressions into vectorized evaluators over Arrow tables.

Each SQL expression becomes a CExpr: its Arrow result type, known at compile time, and a
closure ``fn(table, ctx)`` returning an Array, ChunkedArray or Scalar computed with
pyarrow.compute. Types are settled once here (casts inserted where SQL coerces), so evaluation
is a straight chain of C++ kernels. NULL semantics (three-valued logic, NULL-propagating
arithmetic, IN with NULLs) live in this module and functions.py only.
"""

from __future__ import annotations

import datetime
import decimal
import re
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from sochdb.errors import BindError, DataError, NotSupportedError, ProgrammingError
from sochdb.sql import types as T
from sochdb.sql.scope import Scope

if TYPE_CHECKING:
    from sochdb.sql.context import ExecContext

Value = Any  # pa.Array | pa.ChunkedArray | pa.Scalar
Fn = Callable[[pa.Table, "ExecContext"], Value]

BOOL = pa.bool_()
NULL = pa.null()


class CExpr:
    """A compiled expression: result type, evaluator, and whether it is constant."""

    __slots__ = ("fn", "type", "const", "_sql", "column", "param")

    def __init__(self, fn: Fn, type: pa.DataType, const: bool = False, sql: Any = "",
                 column: str | None = None, param: Any = None) -> None:
        self.fn = fn
        self.type = type
        self.const = const
        self._sql = sql  # a string, or the sqlglot node rendered only when asked (EXPLAIN)
        self.column = column  # the field read, when the expression is a plain column
        self.param = param  # the parameter key, when the expression is a bare placeholder

    @property
    def sql(self) -> str:
        s = self._sql
        if isinstance(s, exp.Expression):
            s = self._sql = s.sql(dialect="duckdb")
        return s

    def eval(self, table: pa.Table, ctx: "ExecContext") -> Value:
        return self.fn(table, ctx)


def const_expr(value: Any, type: pa.DataType | None = None, sql: str = "") -> CExpr:
    scalar = value if isinstance(value, pa.Scalar) else pa.scalar(value, type=type)
    return CExpr(lambda t, c, s=scalar: s, scalar.type, const=True, sql=sql)


def materialize(value: Value, n: int, type: pa.DataType | None = None) -> pa.Array | pa.ChunkedArray:
    """An Array of length ``n`` for a value that may be a Scalar."""
    if isinstance(value, pa.Scalar):
        if not value.is_valid:
            return pa.nulls(n, type or value.type)
        return pa.repeat(value, n)
    return value


def to_array(value: Value, n: int) -> pa.Array:
    v = materialize(value, n)
    if isinstance(v, pa.ChunkedArray):
        return v.combine_chunks()
    return v


def scalar_value(s: pa.Scalar) -> Any:
    return s.as_py() if s.is_valid else None


def python_scalar(v: Any) -> pa.Scalar:
    """An Arrow scalar for a Python parameter value."""
    if isinstance(v, pa.Scalar):
        return v
    if isinstance(v, bool) or v is None or isinstance(v, (int, float, str, bytes)):
        if isinstance(v, int) and not isinstance(v, bool) and not -2**63 <= v < 2**63:
            return pa.scalar(float(v))
        return pa.scalar(v)
    if isinstance(v, (bytearray, memoryview)):
        return pa.scalar(bytes(v))
    if isinstance(v, decimal.Decimal):
        return pa.scalar(v)
    if isinstance(v, (datetime.date, datetime.datetime, datetime.time, datetime.timedelta)):
        return pa.scalar(v)
    if isinstance(v, np.ndarray):
        if v.ndim == 1 and v.dtype.kind == "f":
            arr = pa.array(v.astype(np.float32))
            return pa.scalar(arr.to_pylist(), type=pa.list_(pa.float32(), len(v)))
        return pa.scalar(v.tolist())
    if isinstance(v, np.generic):
        return pa.scalar(v.item())
    if isinstance(v, (list, tuple)):
        if v and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v):
            return pa.scalar([float(x) for x in v], type=pa.list_(pa.float32(), len(v)))
        return pa.scalar(list(v))
    raise ProgrammingError(f"unsupported parameter type {type(v).__name__}")


def cast_expr(e: CExpr, to: pa.DataType, what: str = "value") -> CExpr:
    if e.type == to:
        return e
    fn = e.fn
    return CExpr(lambda t, c: T.cast(fn(t, c), to, what=what), to, e.const, e.sql)


def bool_expr(e: CExpr) -> CExpr:
    """Coerce a value to BOOLEAN for WHERE/AND/OR/NOT (numbers are true when non-zero)."""
    k = T.kind(e.type)
    if k == "bool":
        return e
    if k == "null":
        return CExpr(lambda t, c: pa.scalar(None, BOOL), BOOL, True, e.sql)
    if k in ("int", "float", "decimal"):
        fn, src = e.fn, e.type
        return CExpr(lambda t, c: pc.not_equal(fn(t, c), pa.scalar(0, src)), BOOL, e.const, e.sql)
    if k == "str":
        fn = e.fn
        return CExpr(lambda t, c: pc.not_equal(T.cast(fn(t, c), pa.float64(), safe=False),
                                               pa.scalar(0.0)), BOOL, e.const, e.sql)
    raise DataError(f"{e.sql or 'expression'} of type {T.sql_type_name(e.type)} "
                    f"cannot be used as a condition")


def unify(exprs: list[CExpr], values: bool = False) -> tuple[list[CExpr], pa.DataType]:
    """Cast expressions to their common type: for comparisons (``values=False``, a string
    is read as the other type) or for producing one column from several (``values=True``:
    CASE, COALESCE, VALUES, UNION, where text absorbs the others)."""
    target = NULL
    combine = T.union_type if values else T.common_type
    for e in exprs:
        target = combine(target, e.type)
    return [cast_expr(e, target) for e in exprs], target


# --------------------------------------------------------------------------------------
# Selective evaluation: run an expression only on rows that need it (CASE and AND/OR
# short-circuit), falling back to it only when the whole-batch evaluation fails.
# --------------------------------------------------------------------------------------


def eval_where(e: CExpr, table: pa.Table, ctx: "ExecContext",
               mask: Value | Callable[[], Value]) -> Value:
    """Evaluate ``e`` where ``mask`` is true; other rows get NULL. ``mask`` may be a function
    computing it: the mask is needed only when evaluating all rows fails."""
    try:
        return e.fn(table, ctx)
    except (DataError, pa.ArrowInvalid):
        if callable(mask):
            mask = mask()
        if isinstance(mask, pa.Scalar):
            if mask.is_valid and mask.as_py():
                raise
            return pa.scalar(None, e.type)
        n = table.num_rows
        m = to_array(pc.fill_null(mask, False), n).to_numpy(zero_copy_only=False)
        idx = np.nonzero(m)[0]
        if len(idx) == n:
            raise
        sub = table.take(pa.array(idx))
        vals = to_array(e.fn(sub, ctx), len(idx))
        pos = np.full(n, -1, dtype=np.int64)
        pos[idx] = np.arange(len(idx))
        return vals.take(pa.array(pos, mask=pos < 0))


class ExprCompiler:
    """Compiles expressions against one scope. ``planner`` plans subqueries."""

    def __init__(self, planner: Any, scope: Scope, replacements: dict | None = None,
                 context: str = "expression") -> None:
        self.planner = planner
        self.scope = scope
        self.settings = planner.settings
        self.replacements = replacements or {}
        self.context = context

    def compile(self, node: exp.Expression) -> CExpr:
        if self.replacements:
            hit = self.replacements.get(node)
            if hit is not None:
                return hit
        method = _DISPATCH.get(type(node))
        if method is None:
            if isinstance(node, exp.AggFunc) and not isinstance(node, exp.Window):
                from sochdb.sql.aggregates import aggregate_name
                if aggregate_name(node) is None:
                    from sochdb.sql.functions import written_name
                    raise BindError(f"unknown aggregate function "
                                    f"{written_name(node).upper()}()")
            if isinstance(node, exp.AggFunc) or isinstance(node, exp.Window):
                what = "window functions" if isinstance(node, exp.Window) else \
                    "aggregate functions"
                raise ProgrammingError(f"{what} are not allowed in {self.context}: {node.sql()}")
            if isinstance(node, exp.Func):
                from sochdb.sql.functions import compile_function
                return compile_function(self, node)
            raise NotSupportedError(f"unsupported expression {node.sql()!r} "
                                    f"({type(node).__name__})")
        return getattr(self, method)(node)

    # -- leaves --------------------------------------------------------------------------

    def _column(self, node: exp.Column) -> CExpr:
        name = node.name
        table = node.table or None
        if isinstance(node.this, exp.Star):
            raise ProgrammingError(f"{node.sql()} is only allowed in a select list or COUNT(*)")
        fixed = node.meta.get("field") if node.meta else None
        info = self.scope.by_field(fixed) if fixed else None
        if info is not None:
            depth = 0
        else:
            info, depth = self.scope.resolve(name, table)
        f = info.field
        if depth == 0:
            return CExpr(lambda t, c: t.column(f), info.type, False, node, column=f)
        typ = info.type
        return CExpr(lambda t, c: c.outer[f], typ, False, node)

    def _literal(self, node: exp.Literal) -> CExpr:
        text = node.this
        if node.is_string:
            return const_expr(text, pa.string(), node)
        if re.fullmatch(r"[+-]?\d+", text):
            v = int(text)
            if -2**63 <= v < 2**63:
                return const_expr(v, pa.int64(), text)
            return const_expr(float(v), pa.float64(), text)
        if text.lower().startswith("0x"):
            return const_expr(int(text, 16), pa.int64(), text)
        return const_expr(float(text), pa.float64(), text)

    def _null(self, node: exp.Null) -> CExpr:
        return const_expr(None, NULL, "NULL")

    def _boolean(self, node: exp.Boolean) -> CExpr:
        return const_expr(bool(node.this), BOOL, node)

    def _placeholder(self, node: exp.Placeholder) -> CExpr:
        key = self.planner.param_key(node)
        value = self.planner.param_value(key)
        scalar = python_scalar(value)
        typ = scalar.type

        def fn(t, c, key=key, typ=typ):
            v = c.params[key]
            s = python_scalar(v)
            return s if s.type == typ else T.cast(s, typ) if typ != NULL else s
        return CExpr(fn, typ, False, node, param=key)

    def _paren(self, node: exp.Paren) -> CExpr:
        return self.compile(node.this)

    def _alias(self, node: exp.Alias) -> CExpr:
        return self.compile(node.this)

    # -- arithmetic ----------------------------------------------------------------------

    def _neg(self, node: exp.Neg) -> CExpr:
        e = self.compile(node.this)
        k = T.kind(e.type)
        if k == "str":
            e = cast_expr(e, pa.float64())
        elif k == "null":
            return e
        elif k == "interval":
            return CExpr(lambda t, c: _neg_interval(e.fn(t, c)), e.type, e.const, node)
        fn = e.fn
        return CExpr(lambda t, c: _checked(pc.negate_checked, fn(t, c)), e.type, e.const,
                     node)

    def _arith(self, node: exp.Binary) -> CExpr:
        from sochdb.sql.arith import compile_arith
        left = self.compile(node.left)
        right = self.compile(node.right)
        return compile_arith(type(node).__name__, left, right, self.settings, node)

    # -- comparison and logic -------------------------------------------------------------

    def _compare(self, node: exp.Binary) -> CExpr:
        if isinstance(node.right, (exp.Any, exp.All)):
            from sochdb.sql.subquery import compile_quantified
            q = node.right
            op = {exp.EQ: "=", exp.NEQ: "<>", exp.GT: ">", exp.GTE: ">=", exp.LT: "<",
                  exp.LTE: "<="}[type(node)]
            return compile_quantified(self, node.left, q.this, op,
                                      "all" if isinstance(q, exp.All) else "any", node)
        if isinstance(node.left, exp.Tuple) or isinstance(node.right, exp.Tuple):
            return self._row_compare(node.left, node.right, type(node), node)
        left = self.compile(node.left)
        right = self.compile(node.right)
        return compare(_CMP[type(node)], left, right, node)

    def _row_compare(self, left: exp.Expression, right: exp.Expression, kind: type,
                     node: exp.Expression) -> CExpr:
        """Row values: (a, b) = (1, 2) element-wise; < <= > >= lexicographically."""
        if not (isinstance(left, exp.Tuple) and isinstance(right, exp.Tuple)):
            raise ProgrammingError(f"a row value can only be compared with a row value: "
                                   f"{node.sql()}")
        ls = [self.compile(x) for x in left.expressions]
        rs = [self.compile(x) for x in right.expressions]
        if len(ls) != len(rs):
            raise ProgrammingError(f"row values of different sizes ({len(ls)} and {len(rs)}) "
                                   f"cannot be compared: {node.sql()}")
        eqs = [compare(pc.equal, a, b, node) for a, b in zip(ls, rs)]
        if kind is exp.EQ:
            return _logic(eqs, pc.and_kleene, node, stop=False)
        if kind is exp.NEQ:
            neqs = [compare(pc.not_equal, a, b, node) for a, b in zip(ls, rs)]
            return _logic(neqs, pc.or_kleene, node, stop=True)
        strict = {exp.LT: pc.less, exp.LTE: pc.less, exp.GT: pc.greater,
                  exp.GTE: pc.greater}[kind]
        last = _CMP[kind]
        # a1 < b1 OR (a1 = b1 AND (a2 < b2 OR (...)))
        acc = compare(last, ls[-1], rs[-1], node)
        for i in range(len(ls) - 2, -1, -1):
            both = _logic([eqs[i], acc], pc.and_kleene, node, stop=False)
            acc = _logic([compare(strict, ls[i], rs[i], node), both], pc.or_kleene, node,
                         stop=True)
        return acc

    def _and(self, node: exp.And) -> CExpr:
        parts = [bool_expr(self.compile(p)) for p in _flatten(node, exp.And)]
        return _logic(parts, pc.and_kleene, node, stop=False)

    def _or(self, node: exp.Or) -> CExpr:
        parts = [bool_expr(self.compile(p)) for p in _flatten(node, exp.Or)]
        return _logic(parts, pc.or_kleene, node, stop=True)

    def _not(self, node: exp.Not) -> CExpr:
        e = bool_expr(self.compile(node.this))
        fn = e.fn
        return CExpr(lambda t, c: pc.invert(fn(t, c)), BOOL, e.const, node)

    def _xor(self, node: exp.Xor) -> CExpr:
        a = bool_expr(self.compile(node.left))
        b = bool_expr(self.compile(node.right))
        return CExpr(lambda t, c: pc.xor(a.fn(t, c), b.fn(t, c)), BOOL, a.const and b.const,
                     node)

    def _is(self, node: exp.Is) -> CExpr:
        e = self.compile(node.this)
        target = node.expression
        fn = e.fn
        if isinstance(target, exp.Null):
            return CExpr(lambda t, c: pc.is_null(fn(t, c)), BOOL, e.const, node)
        if isinstance(target, exp.Boolean):
            b = bool_expr(e).fn
            want = bool(target.this)
            return CExpr(lambda t, c: pc.fill_null(pc.equal(b(t, c), pa.scalar(want)), False),
                         BOOL, e.const, node)
        # IS <expr> is IS NOT DISTINCT FROM (SQLite)
        return distinct_from(e, self.compile(target), False, node)

    def _nullsafe_eq(self, node: exp.NullSafeEQ) -> CExpr:
        return distinct_from(self.compile(node.left), self.compile(node.right), False, node)

    def _nullsafe_neq(self, node: exp.NullSafeNEQ) -> CExpr:
        return distinct_from(self.compile(node.left), self.compile(node.right), True, node)

    def _between(self, node: exp.Between) -> CExpr:
        v = self.compile(node.this)
        lo = compare(pc.greater_equal, v, self.compile(node.args["low"]), node)
        hi = compare(pc.less_equal, v, self.compile(node.args["high"]), node)
        return _logic([lo, hi], pc.and_kleene, node, stop=False)

    def _in(self, node: exp.In) -> CExpr:
        from sochdb.sql.subquery import compile_in_subquery
        if node.args.get("query") is not None:
            return compile_in_subquery(self, node)
        if node.args.get("unnest") or node.args.get("field"):
            raise NotSupportedError(f"unsupported IN form: {node.sql()}")
        if isinstance(node.this, exp.Tuple):
            rows = []
            for item in node.expressions:
                if not isinstance(item, exp.Tuple):
                    raise ProgrammingError(f"{node.sql()}: compare a row value with row "
                                           f"values")
                rows.append(self._row_compare(node.this, item, exp.EQ, node))
            return _logic(rows, pc.or_kleene, node, stop=True)
        value = self.compile(node.this)
        items = [self.compile(x) for x in node.expressions]
        return in_list(value, items, node)

    def _like(self, node: exp.Expression) -> CExpr:
        from sochdb.sql.functions import compile_like
        return compile_like(self, node)

    def _case(self, node: exp.Case) -> CExpr:
        subject = node.this
        branches = []
        subj = self.compile(subject) if subject is not None else None
        for when in node.args.get("ifs") or []:
            if subj is not None:
                cond = compare(pc.equal, subj, self.compile(when.this), when)
            else:
                cond = bool_expr(self.compile(when.this))
            branches.append((cond, self.compile(when.args["true"])))
        default = node.args.get("default")
        else_e = self.compile(default) if default is not None else const_expr(None, NULL)
        return case_when(branches, else_e, node)

    def _if(self, node: exp.If) -> CExpr:
        cond = bool_expr(self.compile(node.this))
        false = node.args.get("false")
        else_e = self.compile(false) if false is not None else const_expr(None, NULL)
        return case_when([(cond, self.compile(node.args["true"]))], else_e, node)

    def _coalesce(self, node: exp.Coalesce) -> CExpr:
        args = [self.compile(node.this)] + [self.compile(x) for x in node.expressions]
        return coalesce(args, node)

    def _nullif(self, node: exp.Nullif) -> CExpr:
        (a, b), typ = unify([self.compile(node.this), self.compile(node.expression)])
        raw = self.compile(node.this)

        def fn(t, c):
            eq = pc.fill_null(pc.equal(a.fn(t, c), b.fn(t, c)), False) \
                if typ != NULL else pa.scalar(False)
            va = a.fn(t, c)
            return pc.if_else(eq, pa.scalar(None, typ), va) if typ != NULL else va
        return CExpr(fn, typ if typ != NULL else raw.type, a.const and b.const, node)

    def _cast(self, node: exp.Cast) -> CExpr:
        to = node.to
        target = T.arrow_type(to)
        text = _number_text(node.this) if T.kind(target) == "decimal" else None
        # A number written in the SQL casts to DECIMAL from its exact text, not a DOUBLE.
        e = self.compile(node.this) if text is None else const_expr(text, pa.string(), text)
        safe = not isinstance(node, exp.TryCast) and not node.args.get("safe")
        truncate = self.settings.integer_division
        fn = e.fn
        what = node.this.sql()

        def run(t, c):
            v = fn(t, c)
            if truncate and T.kind(v.type) == "float" and T.kind(target) == "int":
                v = pc.trunc(v)
            return T.cast(v, target, safe=safe, what=what)
        return CExpr(run, target, e.const, node)

    def _subquery(self, node: exp.Subquery) -> CExpr:
        from sochdb.sql.subquery import compile_scalar_subquery
        return compile_scalar_subquery(self, node)

    def _exists(self, node: exp.Exists) -> CExpr:
        from sochdb.sql.subquery import compile_exists
        return compile_exists(self, node)

    def _interval(self, node: exp.Interval) -> CExpr:
        from sochdb.sql.functions import compile_interval
        return compile_interval(self, node)

    def _dpipe(self, node: exp.DPipe) -> CExpr:
        from sochdb.sql.functions import concat_exprs
        return concat_exprs([self.compile(node.left), self.compile(node.right)], node,
                            null_propagates=True)

    def _bitwise(self, node: exp.Binary) -> CExpr:
        left = cast_expr(self.compile(node.left), pa.int64())
        right = cast_expr(self.compile(node.right), pa.int64())
        f = {exp.BitwiseAnd: pc.bit_wise_and, exp.BitwiseOr: pc.bit_wise_or,
             exp.BitwiseXor: pc.bit_wise_xor, exp.BitwiseLeftShift: pc.shift_left,
             exp.BitwiseRightShift: pc.shift_right}[type(node)]
        return CExpr(lambda t, c: f(left.fn(t, c), right.fn(t, c)), pa.int64(),
                     left.const and right.const, node)

    def _bitwise_not(self, node: exp.BitwiseNot) -> CExpr:
        e = cast_expr(self.compile(node.this), pa.int64())
        return CExpr(lambda t, c: pc.bit_wise_not(e.fn(t, c)), pa.int64(), e.const, node)

    def _tuple(self, node: exp.Tuple) -> CExpr:
        raise NotSupportedError(f"a row value is only supported in comparisons, IN and COUNT: "
                                f"{node.sql()}")

    def _star(self, node: exp.Star) -> CExpr:
        raise ProgrammingError("* is only allowed in a select list or COUNT(*)")

    def _array(self, node: exp.Array) -> CExpr:
        items = [self.compile(x) for x in node.expressions]
        items, typ = unify(items)
        if not items:
            return const_expr([], pa.list_(pa.null()), node)
        if all(i.const for i in items):
            vals = [scalar_value(i.fn(None, None)) for i in items]
            if T.kind(typ) in ("int", "float", "decimal"):
                return const_expr([None if v is None else float(v) for v in vals],
                                  pa.list_(pa.float32(), len(vals)), node)
            return const_expr(vals, pa.list_(typ), node)
        raise NotSupportedError(f"array constructors need constant elements: {node.sql()}")


def _number_text(node: exp.Expression) -> str | None:
    """The text of a decimal number literal (optionally negated), else None."""
    sign = ""
    if isinstance(node, exp.Neg):
        sign, node = "-", node.this
    if isinstance(node, exp.Literal) and not node.is_string and \
            re.fullmatch(r"(\d+\.\d*|\.\d+)([eE][+-]?\d+)?", node.this):
        return sign + node.this
    return None


def _neg_interval(v):
    s = v.as_py() if isinstance(v, pa.Scalar) else None
    if s is None:
        return v
    return pa.scalar(pa.MonthDayNano([-s.months, -s.days, -s.nanoseconds]),
                     pa.month_day_nano_interval())


def _checked(f, *args):
    try:
        return f(*args)
    except pa.ArrowInvalid as e:
        if "overflow" in str(e).lower():
            raise DataError(f"numeric overflow: {e}") from None
        raise


def _flatten(node: exp.Expression, kind: type) -> list[exp.Expression]:
    out = []
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, kind):
            stack.append(n.right)
            stack.append(n.left)
        elif isinstance(n, exp.Paren) and isinstance(n.this, kind):
            stack.append(n.this)
        else:
            out.append(n)
    return out


def _logic(parts: list[CExpr], op, sql: str, stop: bool) -> CExpr:
    """AND/OR over many operands with short-circuit retry (see eval_where)."""
    const = all(p.const for p in parts)

    def fn(t, c):
        acc = parts[0].fn(t, c)
        for p in parts[1:]:
            # Rows already decided (false for AND, true for OR) need not evaluate p.
            def undecided(acc=acc):
                return pc.fill_null(pc.invert(pc.equal(acc, pa.scalar(stop))), True)
            acc = op(acc, eval_where(p, t, c, undecided))
        return acc
    return CExpr(fn, BOOL, const, sql)


def and_exprs(parts: list[CExpr]) -> CExpr:
    """The conjunction of compiled boolean expressions, short-circuiting like SQL AND."""
    if len(parts) == 1:
        return parts[0]
    return _logic(parts, pc.and_kleene, " AND ".join(p.sql for p in parts), stop=False)


def distinct_from(left: CExpr, right: CExpr, negate: bool, sql: Any) -> CExpr:
    """IS [NOT] DISTINCT FROM: equality where NULL equals NULL."""
    (a, b), typ = unify([left, right])

    def fn(t, c):
        x, y = a.fn(t, c), b.fn(t, c)
        xn, yn = pc.is_null(x), pc.is_null(y)
        eq = pc.fill_null(pc.equal(x, y), False) if T.kind(typ) != "null" else \
            pa.scalar(False)
        same = pc.or_(pc.and_(xn, yn), pc.and_(eq, pc.invert(pc.or_(xn, yn))))
        return pc.invert(same) if negate else same
    return CExpr(fn, BOOL, a.const and b.const, sql)


_CMP = {exp.EQ: pc.equal, exp.NEQ: pc.not_equal, exp.GT: pc.greater,
        exp.GTE: pc.greater_equal, exp.LT: pc.less, exp.LTE: pc.less_equal}


def _narrowed(const: CExpr, other: CExpr) -> CExpr:
    """A constant in the type of the column it is compared with, when that loses nothing:
    ``int32_col < 10`` or ``date_col < DATE '...' + INTERVAL ...`` must not cast the whole
    column to BIGINT or TIMESTAMP."""
    if const.const and not other.const and pa.types.is_timestamp(const.type) and \
            const.type.tz is None and pa.types.is_date32(other.type):
        # DATE '...' + INTERVAL: a midnight timestamp compares with a DATE column as a date
        v = const.fn(None, None)
        x = v.as_py() if v.is_valid else None
        if isinstance(x, datetime.datetime) and x.time() == datetime.time(0):
            return const_expr(x.date(), other.type, const.sql)
        return const
    if not const.const or other.const or not pa.types.is_integer(const.type) or \
            not pa.types.is_integer(other.type) or other.type.bit_width >= const.type.bit_width:
        return const
    v = const.fn(None, None)
    if not v.is_valid:
        return const
    x = v.as_py()
    info = np.iinfo(other.type.to_pandas_dtype())
    if not info.min <= x <= info.max:
        return const
    return const_expr(x, other.type, const.sql)


def compare(op, left: CExpr, right: CExpr, sql: str) -> CExpr:
    if T.kind(left.type) == "null" or T.kind(right.type) == "null":
        return const_expr(None, BOOL, sql)
    left, right = _narrowed(left, right), _narrowed(right, left)
    (a, b), _ = unify([left, right])
    fa, fb = a.fn, b.fn
    return CExpr(lambda t, c: op(fa(t, c), fb(t, c)), BOOL, a.const and b.const, sql)


def in_list(value: CExpr, items: list[CExpr], sql: str) -> CExpr:
    """``value IN (items)`` with SQL NULL semantics."""
    if T.kind(value.type) == "null":
        return const_expr(None, BOOL, sql)
    if all(i.const for i in items):
        consts = [i.fn(None, None) for i in items]
        typ = value.type
        for s in consts:
            typ = T.common_type(typ, s.type)
        vals = [T.cast(s, typ) for s in consts]
        has_null = any(not v.is_valid for v in vals)
        value_set = pa.array([v.as_py() for v in vals if v.is_valid], type=typ)
        vfn = cast_expr(value, typ).fn

        def fn(t, c):
            v = vfn(t, c)
            hit = pc.is_in(v, value_set=value_set, skip_nulls=True)
            out = pc.if_else(pc.is_null(v), pa.scalar(None, BOOL), hit)
            if has_null:
                out = pc.if_else(out, pa.scalar(True), pa.scalar(None, BOOL))
            return out
        return CExpr(fn, BOOL, value.const, sql)
    eqs = [compare(pc.equal, value, i, sql) for i in items]
    return _logic(eqs, pc.or_kleene, sql, stop=True)


def case_when(branches: list[tuple[CExpr, CExpr]], else_e: CExpr, sql: str) -> CExpr:
    values, typ = unify([v for _, v in branches] + [else_e], values=True)
    conds = [c for c, _ in branches]
    const = all(c.const for c in conds) and all(v.const for v in values)

    def fn(t, c):
        result = values[-1]
        remaining = pa.scalar(True)
        pairs = []
        for cond, val in zip(conds, values[:-1]):
            cv = pc.fill_null(eval_where(cond, t, c, remaining), False)
            take = pc.and_(cv, remaining)
            pairs.append((take, eval_where(val, t, c, take)))
            remaining = pc.and_(remaining, pc.invert(cv))
        out = eval_where(result, t, c, remaining)
        for take, val in reversed(pairs):
            out = pc.if_else(take, val, out)
        return out
    if typ == NULL:
        return CExpr(lambda t, c: pa.scalar(None, NULL), NULL, True, sql)
    return CExpr(fn, typ, const, sql)


def coalesce(args: list[CExpr], sql: str) -> CExpr:
    args, typ = unify(args, values=True)
    if typ == NULL:
        return const_expr(None, NULL, sql)
    const = all(a.const for a in args)

    def fn(t, c):
        vals = [a.fn(t, c) for a in args]
        if all(isinstance(v, pa.Scalar) for v in vals):
            for v in vals:
                if v.is_valid:
                    return v
            return vals[-1]
        n = t.num_rows
        return pc.coalesce(*[materialize(v, n, typ) for v in vals])
    return CExpr(fn, typ, const, sql)


_DISPATCH: dict[type, str] = {
    exp.Column: "_column",
    exp.Literal: "_literal",
    exp.Null: "_null",
    exp.Boolean: "_boolean",
    exp.Placeholder: "_placeholder",
    exp.Paren: "_paren",
    exp.Alias: "_alias",
    exp.Neg: "_neg",
    exp.Add: "_arith", exp.Sub: "_arith", exp.Mul: "_arith",
    exp.Div: "_arith", exp.IntDiv: "_arith", exp.Mod: "_arith",
    exp.EQ: "_compare", exp.NEQ: "_compare",
    exp.GT: "_compare", exp.GTE: "_compare",
    exp.LT: "_compare", exp.LTE: "_compare",
    exp.And: "_and", exp.Or: "_or", exp.Not: "_not",
    exp.Xor: "_xor",
    exp.Is: "_is",
    exp.NullSafeEQ: "_nullsafe_eq", exp.NullSafeNEQ: "_nullsafe_neq",
    exp.Between: "_between",
    exp.In: "_in",
    exp.Like: "_like", exp.ILike: "_like", exp.Glob: "_like",
    exp.Escape: "_like", exp.RegexpLike: "_like",
    exp.SimilarTo: "_like",
    exp.Case: "_case",
    exp.If: "_if",
    exp.Coalesce: "_coalesce",
    exp.Nullif: "_nullif",
    exp.Cast: "_cast", exp.TryCast: "_cast",
    exp.Subquery: "_subquery",
    exp.Exists: "_exists",
    exp.Interval: "_interval",
    exp.DPipe: "_dpipe",
    exp.BitwiseAnd: "_bitwise", exp.BitwiseOr: "_bitwise",
    exp.BitwiseXor: "_bitwise", exp.BitwiseLeftShift: "_bitwise",
    exp.BitwiseRightShift: "_bitwise", exp.BitwiseNot: "_bitwise_not",
    exp.Tuple: "_tuple",
    exp.Star: "_star",
    exp.Array: "_array",
}

__all__ = ["CExpr", "ExprCompiler", "const_expr", "materialize", "to_array", "cast_expr",
           "bool_expr", "unify", "compare", "in_list", "case_when", "coalesce", "BindError"]
