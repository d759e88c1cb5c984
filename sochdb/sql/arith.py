"""Arithmetic operators: + - * / // % over numbers, dates, timestamps and intervals.

Integer arithmetic is overflow-checked (an overflow is a DataError, never a wrapped value).
Division by zero gives NULL, as in SQLite. ``/`` on two integers gives a DOUBLE unless the
``integer_division`` setting asks for SQLite's truncating division.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from sochdb.errors import DataError
from sochdb.sql import types as T
from sochdb.sql.context import Settings
from sochdb.sql.expressions import NULL, CExpr, _checked, cast_expr, const_expr

_OPS = {"Add": pc.add_checked, "Sub": pc.subtract_checked, "Mul": pc.multiply_checked}
_SYMBOL = {"Add": "+", "Sub": "-", "Mul": "*", "Div": "/", "IntDiv": "//", "Mod": "%"}


def compile_arith(op: str, left: CExpr, right: CExpr, settings: Settings, sql: str) -> CExpr:
    kl, kr = T.kind(left.type), T.kind(right.type)
    if kl == "str" and kr not in ("date", "timestamp", "interval"):
        left, kl = cast_expr(left, pa.float64()), "float"
    if kr == "str" and kl not in ("date", "timestamp", "interval"):
        right, kr = cast_expr(right, pa.float64()), "float"
    if kl == "bool":
        left, kl = cast_expr(left, pa.int64()), "int"
    if kr == "bool":
        right, kr = cast_expr(right, pa.int64()), "int"
    const = left.const and right.const
    if kl == "null" or kr == "null":
        other = right.type if kl == "null" else left.type
        typ = other if T.is_numeric(other) or T.kind(other) in ("date", "timestamp") else \
            pa.int64()
        return const_expr(None, typ if typ != NULL else pa.int64(), sql)
    if kl in ("date", "timestamp", "interval") or kr in ("date", "timestamp", "interval"):
        return _temporal(op, left, right, kl, kr, sql)
    if not (T.is_numeric(left.type) and T.is_numeric(right.type)):
        raise DataError(f"cannot apply {_SYMBOL[op]} to {T.sql_type_name(left.type)} and "
                        f"{T.sql_type_name(right.type)} in {sql}")
    if op in _OPS:
        typ = T.numeric_common(left.type, right.type)
        if T.kind(typ) == "decimal":
            return _decimal_arith(op, left, right, sql)
        a, b = cast_expr(left, typ), cast_expr(right, typ)
        f = _OPS[op]
        return CExpr(lambda t, c: _checked(f, a.fn(t, c), b.fn(t, c)), typ, const, sql)
    both_int = kl == "int" and kr == "int"
    if op == "Div" and not (both_int and settings.integer_division) or \
            op == "IntDiv" and not both_int:
        a, b = cast_expr(left, pa.float64()), cast_expr(right, pa.float64())
        trunc = op == "IntDiv"

        def fdiv(t, c):
            y = _nonzero(b.fn(t, c))
            r = pc.divide(a.fn(t, c), y)
            return pc.trunc(r) if trunc else r
        return CExpr(fdiv, pa.float64(), const, sql)
    if op in ("Div", "IntDiv"):
        a, b = cast_expr(left, pa.int64()), cast_expr(right, pa.int64())

        def idiv(t, c):
            y = _nonzero(b.fn(t, c))
            return _checked(pc.divide_checked, a.fn(t, c), y)
        return CExpr(idiv, pa.int64(), const, sql)
    # Mod: the result takes the sign of the dividend (truncated remainder), as C and SQL do.
    typ = T.numeric_common(left.type, right.type)
    if T.kind(typ) == "decimal":
        typ = pa.float64()
    a, b = cast_expr(left, typ), cast_expr(right, typ)

    def mod(t, c):
        y = _nonzero(b.fn(t, c))
        return pc.remainder(a.fn(t, c), y)
    return CExpr(mod, typ, const, sql)


def _nonzero(v):
    """The divisor with zeros replaced by NULL (x / 0 is NULL)."""
    zero = pc.equal(v, pa.scalar(0, v.type))
    if isinstance(zero, pa.Scalar):
        return pa.scalar(None, v.type) if zero.as_py() else v
    return pc.if_else(zero, pa.scalar(None, v.type), v)


def _as_decimal(e: CExpr) -> CExpr:
    """A DECIMAL operand, or an integer as DECIMAL(digits of its type, 0): a constant that
    fits 32 bits counts as an INTEGER's 10 digits (DuckDB), so m * 2 stays narrow."""
    if T.kind(e.type) == "decimal":
        return e
    if e.const:
        v = e.fn(None, None).as_py()
        digits = 10 if v is None or abs(v) < 2**31 else 20
    else:
        digits = {8: 3, 16: 5, 32: 10}.get(e.type.bit_width, 19)
        if pa.types.is_uint64(e.type):
            digits = 20
    return cast_expr(e, pa.decimal128(digits, 0))


def _decimal_arith(op: str, left: CExpr, right: CExpr, sql: str) -> CExpr:
    """+ - * on DECIMALs with DuckDB's result types. Arrow widens the result by a digit, so
    operands whose result would pass 38 digits are computed in decimal256 and narrowed back,
    an overflow then being a DataError."""
    a, b = _as_decimal(left), _as_decimal(right)
    pa_, sa, pb, sb = a.type.precision, a.type.scale, b.type.precision, b.type.scale
    if op == "Mul":
        need = pa_ + pb + 1
    else:
        need = max(pa_ - sa, pb - sb) + max(sa, sb) + 1
    out = _decimal_result(op, a.type, b.type)
    fa, fb, f = a.fn, b.fn, _OPS[op]
    if need > 38:
        wa, wb = pa.decimal256(min(pa_, 37), sa), pa.decimal256(min(pb, 37), sb)
        fa = (lambda t, c, g=a.fn: T.cast(g(t, c), wa))
        fb = (lambda t, c, g=b.fn: T.cast(g(t, c), wb))
    def run(t, c):
        try:
            return T.cast(_checked(f, fa(t, c), fb(t, c)), out)
        except DataError:
            raise DataError(f"numeric overflow: {sql} does not fit "
                            f"{T.sql_type_name(out)}") from None
    return CExpr(run, out, a.const and b.const, sql)


def _decimal_result(op: str, a: pa.DataType, b: pa.DataType) -> pa.DataType:
    if op == "Mul":
        scale = min(a.scale + b.scale, 38)
        return pa.decimal128(max(scale, min(38, a.precision + b.precision)), scale)
    scale = max(a.scale, b.scale)
    digits = max(a.precision - a.scale, b.precision - b.scale) + 1
    return pa.decimal128(min(38, digits + scale), scale)


_DAY_NS = 86_400_000_000_000


def _temporal(op: str, left: CExpr, right: CExpr, kl: str, kr: str, sql: str) -> CExpr:
    const = left.const and right.const
    if op == "Mul" and {kl, kr} in ({"interval", "int"}, {"interval", "bool"}):
        # n * INTERVAL: each field of a constant interval times a whole number per row
        iv, n = (left, right) if kl == "interval" else (right, left)
        if iv.const:
            from sochdb.sql.temporal import scale_interval
            unit_iv = iv.fn(None, None)
            if not unit_iv.is_valid:
                return const_expr(None, pa.month_day_nano_interval(), sql)
            return scale_interval(n, unit_iv.as_py(), sql)
    if op == "Sub" and kl == kr == "date":
        return CExpr(lambda t, c: pc.days_between(right.fn(t, c), left.fn(t, c)), pa.int64(),
                     const, sql)
    if op == "Sub" and kl in ("date", "timestamp") and kr in ("date", "timestamp"):
        a, b = cast_expr(left, pa.timestamp("us")), cast_expr(right, pa.timestamp("us"))
        return CExpr(lambda t, c: pc.subtract(a.fn(t, c), b.fn(t, c)), pa.duration("us"),
                     const, sql)
    if op in ("Add", "Sub") and kl == "date" and kr == "int" or \
            op == "Add" and kl == "int" and kr == "date":
        d, n = (left, right) if kl == "date" else (right, left)
        sign = -1 if op == "Sub" else 1

        def add_days(t, c):
            days = pc.multiply(pc.cast(n.fn(t, c), pa.int64()), sign)
            as_int = pc.cast(pc.cast(d.fn(t, c), pa.date32()), pa.int32())
            return pc.cast(pc.cast(pc.add(pc.cast(as_int, pa.int64()), days), pa.int32()),
                           pa.date32())
        return CExpr(add_days, pa.date32(), const, sql)
    if op in ("Add", "Sub") and (kl == "interval" or kr == "interval"):
        base, iv = (left, right) if kr == "interval" else (right, left)
        if T.kind(base.type) == "interval":
            raise DataError(f"cannot combine two intervals in {sql}")
        if op == "Sub" and kl == "interval":
            raise DataError(f"cannot subtract a date from an interval in {sql}")
        sign = -1 if op == "Sub" else 1
        out_type = pa.timestamp("us") if T.kind(base.type) == "date" else base.type

        def shift(t, c):
            from sochdb.sql.functions import add_interval
            return add_interval(base.fn(t, c), iv.fn(t, c), sign, base.type)
        # DATE + INTERVAL gives a TIMESTAMP in DuckDB; keep DATE when the interval is whole days.
        return CExpr(shift, out_type if T.kind(base.type) != "date" else pa.timestamp("us"),
                     const, sql)
    raise DataError(f"cannot apply {_SYMBOL[op]} to {T.sql_type_name(left.type)} and "
                    f"{T.sql_type_name(right.type)} in {sql}")
