"""Date and time SQL functions: EXTRACT, DATE_TRUNC, DATE_DIFF, MAKE_DATE/MAKE_TIMESTAMP,
LAST_DAY, MONTHNAME/DAYNAME, EPOCH/TO_TIMESTAMP, STRFTIME, INTERVAL.

Registered into the function table of sochdb.sql.functions (which imports this module last);
imports that module, expressions and types. Every function runs as pyarrow.compute kernels
over whole columns; calendar arithmetic without a kernel uses numpy datetime64.
"""

from __future__ import annotations

import datetime
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from sochdb.errors import DataError, NotSupportedError, ProgrammingError
from sochdb.sql import types as T
from sochdb.sql.expressions import CExpr, ExprCompiler, cast_expr, const_expr, to_array
from sochdb.sql.functions import _nargs, _text, positional_args, register, special

_UNITS = {"year": "year", "years": "year", "y": "year", "yr": "year", "yrs": "year",
          "month": "month", "months": "month", "mon": "month", "mons": "month",
          "day": "day", "days": "day", "d": "day", "hour": "hour", "hours": "hour", "h": "hour",
          "hr": "hour", "hrs": "hour", "minute": "minute", "minutes": "minute", "min": "minute",
          "mins": "minute", "m": "minute", "second": "second", "seconds": "second",
          "s": "second", "sec": "second", "secs": "second",
          "millisecond": "millisecond", "milliseconds": "millisecond", "ms": "millisecond",
          "msec": "millisecond", "msecs": "millisecond",
          "microsecond": "microsecond", "microseconds": "microsecond", "us": "microsecond",
          "usec": "microsecond", "usecs": "microsecond",
          "week": "week", "weeks": "week", "w": "week", "quarter": "quarter",
          "quarters": "quarter", "dow": "dow", "dayofweek": "dow", "isodow": "isodow",
          "doy": "doy", "dayofyear": "doy", "epoch": "epoch", "decade": "decade",
          "decades": "decade", "century": "century", "centuries": "century",
          "millennium": "millennium", "millennia": "millennium", "yearweek": "yearweek",
          "isoyear": "isoyear", "day_of_week": "dow", "day_of_year": "doy",
          "dayofmonth": "day", "weekofyear": "week"}


def _unit(node: exp.Expression | str | None) -> str:
    text = node if isinstance(node, str) else (node.name if node is not None else "")
    u = _UNITS.get(text.lower().strip("'"))
    if u is None:
        raise ProgrammingError(f"unknown date part {text!r}")
    return u


def _part(v, unit: str, src: pa.DataType):
    if unit == "year":
        return pc.year(v)
    if unit == "month":
        return pc.month(v)
    if unit == "day":
        return pc.day(v)
    if unit == "hour":
        return pc.hour(v)
    if unit == "minute":
        return pc.minute(v)
    if unit == "second":
        return pc.second(v)
    if unit == "millisecond":
        return pc.add(pc.multiply(pc.second(v), 1000), pc.millisecond(v))
    if unit == "microsecond":
        return pc.add(pc.multiply(pc.second(v), 1_000_000),
                      pc.add(pc.multiply(pc.millisecond(v), 1000), pc.microsecond(v)))
    if unit == "week":
        return pc.iso_week(v)
    if unit == "quarter":
        return pc.quarter(v)
    if unit == "dow":
        return pc.day_of_week(v, count_from_zero=True, week_start=7)
    if unit == "isodow":
        return pc.day_of_week(v, count_from_zero=False, week_start=1)
    if unit == "doy":
        return pc.day_of_year(v)
    if unit == "isoyear":
        return pc.iso_year(v)
    if unit == "decade":
        return pc.divide(pc.year(v), 10)
    if unit == "century":
        return pc.add(pc.divide(pc.subtract(pc.year(v), 1), 100), 1)
    if unit == "millennium":
        return pc.add(pc.divide(pc.subtract(pc.year(v), 1), 1000), 1)
    if unit == "epoch":
        ts = pc.cast(v, pa.timestamp("us")) if T.kind(src) == "date" else v
        return pc.divide(pc.cast(pc.cast(ts, pa.timestamp("us")), pa.int64()), 1_000_000)
    if unit == "yearweek":
        return pc.add(pc.multiply(pc.iso_year(v), 100), pc.iso_week(v))
    raise ProgrammingError(f"unsupported date part {unit}")


def _temporal_arg(a: CExpr) -> CExpr:
    if T.kind(a.type) == "str":
        return cast_expr(a, pa.timestamp("us"))
    if T.kind(a.type) not in ("date", "timestamp", "time", "null"):
        raise DataError(f"{a.sql} of type {T.sql_type_name(a.type)} is not a date or time")
    return a


def _const_text(c: ExprCompiler, node: exp.Expression, what: str) -> str:
    e = c.compile(node) if not isinstance(node, exp.Var) else None
    if e is None:
        return node.name
    if not e.const:
        raise NotSupportedError(f"the {what} must be a constant")
    v = e.fn(None, None).as_py()
    if v is None:
        raise ProgrammingError(f"the {what} must not be NULL")
    return str(v)


@special("extract", "date_part", "datepart")
def _extract(c, node, args):
    if isinstance(node, exp.Extract):
        unit = _unit(node.this)
        v = c.compile(node.expression)
    else:
        raw = positional_args(node)
        _nargs(node, raw, 2)
        unit = _unit(_const_text(c, raw[0], "date part"))
        v = c.compile(raw[1])
    v = _temporal_arg(v)
    if T.kind(v.type) == "date" and unit in ("hour", "minute", "second", "millisecond",
                                             "microsecond"):
        v = cast_expr(v, pa.timestamp("us"))
    src = v.type
    out = pa.float64() if unit == "epoch" else pa.int64()
    return CExpr(lambda t, ctx: pc.cast(_part(v.fn(t, ctx), unit, src), out), out, v.const,
                 node)


for _u in ("year", "month", "day", "hour", "minute", "second", "quarter", "week", "dayofweek",
           "dayofyear", "dayofmonth", "weekofyear", "isodow"):
    def _mk(unit):
        def h(c, node, args):
            _nargs(node, args, 1)
            v = _temporal_arg(args[0])
            return CExpr(lambda t, ctx: pc.cast(_part(v.fn(t, ctx), _unit(unit), v.type),
                                                pa.int64()), pa.int64(), v.const, node)
        return h
    register(_u)(_mk(_u))


@special("date_trunc", "datetrunc")
def _date_trunc(c, node, args):
    if isinstance(node, (exp.DateTrunc, exp.TimestampTrunc)):
        unit = _unit(node.args.get("unit"))
        v = c.compile(node.this)
    else:
        raw = positional_args(node)
        _nargs(node, raw, 2)
        unit = _unit(_const_text(c, raw[0], "date part"))
        v = c.compile(raw[1])
    v = _temporal_arg(v)
    src = v.type
    arrow_unit = {"quarter": "quarter", "week": "week", "decade": None}.get(unit, unit)
    if arrow_unit is None or unit in ("dow", "doy", "epoch", "isodow"):
        raise NotSupportedError(f"DATE_TRUNC to {unit} is not supported")

    def run(t, ctx):
        return pc.floor_temporal(v.fn(t, ctx), unit=arrow_unit, week_starts_monday=True)
    out = src if T.kind(src) == "timestamp" else (
        pa.date32() if unit in ("year", "quarter", "month", "week", "day") else
        pa.timestamp("us"))
    return CExpr(lambda t, ctx: pc.cast(run(t, ctx), out) if out != src else run(t, ctx), out,
                 v.const, node)


# -- DATE_DIFF -------------------------------------------------------------------------

_US = {"day": 86_400_000_000, "hour": 3_600_000_000, "minute": 60_000_000,
       "second": 1_000_000, "millisecond": 1_000, "microsecond": 1}
_YEAR_DIV = {"decade": 10, "century": 100, "millennium": 1000}


def _boundaries(v, unit: str):
    """How many ``unit`` boundaries lie between the epoch and each value (floor), int64."""
    if unit in ("year", "isoyear") or unit in _YEAR_DIV:
        y = pc.cast(pc.iso_year(v) if unit == "isoyear" else pc.year(v), pa.int64())
        d = _YEAR_DIV.get(unit)
        return y if d is None else pc.divide(y, d)
    if unit in ("month", "quarter"):
        y = pc.cast(pc.year(v), pa.int64())
        if unit == "month":
            return pc.add(pc.multiply(y, 12), pc.cast(pc.month(v), pa.int64()))
        return pc.add(pc.multiply(y, 4), pc.cast(pc.quarter(v), pa.int64()))
    arrow_unit = {"day": "day", "hour": "hour", "minute": "minute", "second": "second",
                  "millisecond": "millisecond", "microsecond": "microsecond"}[unit]
    if pa.types.is_date(v.type):
        v = pc.cast(v, pa.timestamp("us"))
    floored = pc.floor_temporal(v, unit=arrow_unit) if unit != "microsecond" else v
    # A multiple of the unit, so the integer division is exact.
    return pc.divide(pc.cast(floored, pa.int64()), _US[unit])


@special("date_diff", "datediff")
def _date_diff(c, node, args):
    """DATE_DIFF(part, start, end): the number of ``part`` boundaries crossed from start to
    end (DuckDB), so a month boundary counts even when less than a month passes. Weeks are
    the days crossed divided by seven."""
    if isinstance(node, exp.DateDiff):
        unit_node = node.args.get("unit")
        unit = _unit(unit_node.name if unit_node is not None else "day")
        start, end = c.compile(node.expression), c.compile(node.this)
    else:
        raw = positional_args(node)
        _nargs(node, raw, 3)
        unit = _unit(_const_text(c, raw[0], "date part"))
        start, end = c.compile(raw[1]), c.compile(raw[2])
    unit = {"dow": "day", "isodow": "day", "doy": "day", "epoch": "second",
            "yearweek": "week"}.get(unit, unit)
    start, end = _temporal_arg(start), _temporal_arg(end)
    kinds = {T.kind(start.type), T.kind(end.type)} - {"null"}
    if "null" in (T.kind(start.type), T.kind(end.type)):
        return const_expr(None, pa.int64(), node)
    if kinds == {"date"}:
        typ = pa.date32()
    elif "time" in kinds:
        raise NotSupportedError(f"DATE_DIFF on TIME values is not supported: {node.sql()}")
    else:
        typ = pa.timestamp("us")
    start, end = cast_expr(start, typ), cast_expr(end, typ)

    def run(t, ctx):
        a, b = start.fn(t, ctx), end.fn(t, ctx)
        if unit == "week":  # whole weeks between the two days, truncated toward zero
            return pc.divide(pc.subtract(_boundaries(b, "day"), _boundaries(a, "day")), 7)
        return pc.subtract(_boundaries(b, unit), _boundaries(a, unit))
    return CExpr(run, pa.int64(), start.const and end.const, node)


# -- MAKE_DATE -------------------------------------------------------------------------

@special("make_date", "date_from_parts")
def _make_date(c, node, args):
    if isinstance(node, exp.DateFromParts):
        raw = [node.args.get(k) for k in ("year", "month", "day")]
        if any(r is None for r in raw):
            raise ProgrammingError(f"MAKE_DATE() takes 3 arguments (year, month, day): "
                                   f"{node.sql()}")
    else:
        raw = positional_args(node)
        _nargs(node, raw, 3)
    parts = []
    for r in raw:
        e = c.compile(r)
        if T.kind(e.type) not in ("int", "null"):
            raise DataError(f"MAKE_DATE() takes integers (year, month, day), not "
                            f"{T.sql_type_name(e.type)}: {node.sql()}")
        parts.append(cast_expr(e, pa.int64()))
    const = all(p.const for p in parts)

    def run(t, ctx):
        vals = [p.fn(t, ctx) for p in parts]
        scalar = all(isinstance(v, pa.Scalar) for v in vals)
        n = 1 if scalar else t.num_rows
        arrs = [to_array(v, n) for v in vals]
        valid = pc.and_(pc.and_(pc.is_valid(arrs[0]), pc.is_valid(arrs[1])),
                        pc.is_valid(arrs[2])).to_numpy(zero_copy_only=False)
        y, m, d = (a.fill_null(1).to_numpy(zero_copy_only=False) for a in arrs)
        out = _civil_days(y, m, d, valid)
        res = pa.array(out.astype("datetime64[D]"), pa.date32(), mask=~valid)
        return res[0] if scalar else res
    return CExpr(run, pa.date32(), const, node)


def _civil_days(y: np.ndarray, m: np.ndarray, d: np.ndarray, valid: np.ndarray,
                what: str = "MAKE_DATE") -> np.ndarray:
    """Days since 1970-01-01 of (year, month, day); DataError names the first invalid date."""
    ok = ~valid | ((m >= 1) & (m <= 12) & (d >= 1) & (y >= -290000) & (y <= 290000))
    mm = np.where(ok & valid, m, 1)
    months = (np.where(ok & valid, y, 1970) - 1970) * 12 + (mm - 1)
    first = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    nxt = (months + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    ok &= ~valid | (d <= nxt - first)
    if not ok.all():
        i = int(np.nonzero(~ok)[0][0])
        raise DataError(f"{what}(): {y[i]}-{m[i]}-{d[i]} is not a valid date")
    return first + np.where(valid, d, 1) - 1


# -- current date and time -------------------------------------------------------------

@register("current_date", "today")
def _current_date(c, node, args):
    return CExpr(lambda t, ctx: pa.scalar(datetime.date.today(), pa.date32()), pa.date32(),
                 False, node)


@register("now", "current_timestamp", "get_current_timestamp", "localtimestamp")
def _now(c, node, args):
    return CExpr(lambda t, ctx: pa.scalar(datetime.datetime.now(), pa.timestamp("us")),
                 pa.timestamp("us"), False, node)


@register("current_time")
def _current_time(c, node, args):
    return CExpr(lambda t, ctx: pa.scalar(datetime.datetime.now().time(), pa.time64("us")),
                 pa.time64("us"), False, node)


# -- STRFTIME / STRPTIME ---------------------------------------------------------------

_FRACTION = {"f": (1_000_000, 6), "g": (1_000, 3), "n": (1_000_000_000, 9)}
_FORMAT_TOKEN = re.compile(r"%%|%[fgn]")


@special("strftime")
def _strftime(c, node, args):
    """STRFTIME with DuckDB's specifiers: %S is whole seconds; %f, %g and %n give the
    fraction as microseconds, milliseconds and nanoseconds."""
    if isinstance(node, exp.TimeToStr):
        v, fmt = c.compile(node.this), c.compile(node.args["format"])
    else:
        raw = [c.compile(a) for a in positional_args(node)]
        _nargs(node, raw, 2)
        # SQLite writes strftime(format, value); DuckDB strftime(value, format).
        v, fmt = (raw[1], raw[0]) if T.kind(raw[0].type) == "str" and T.kind(
            raw[1].type) != "str" else (raw[0], raw[1])
    v = _temporal_arg(v)
    if not fmt.const:
        raise NotSupportedError("the STRFTIME format must be a constant")
    f = fmt.fn(None, None).as_py()
    if T.kind(v.type) == "null" or f is None:
        return const_expr(None, pa.string(), node)
    pieces = _split_format(f)
    src = v.type

    def run(t, ctx):
        x = v.fn(t, ctx)
        if T.kind(src) == "date":
            whole = pc.cast(x, pa.timestamp("s"))
        else:
            whole = pc.cast(pc.floor_temporal(x, unit="second"), pa.timestamp("s", src.tz))
        out = []
        for kind, text in pieces:
            if kind == "text":
                out.append(pc.strftime(whole, format=text))
            else:
                out.append(_fraction_text(x, src, text))
        if len(out) == 1:
            return out[0]
        if all(isinstance(o, pa.Scalar) for o in out):
            if not all(o.is_valid for o in out):
                return pa.scalar(None, pa.string())
            return pa.scalar("".join(o.as_py() for o in out))
        n = t.num_rows
        arrs = [to_array(o, n) for o in out]
        return pc.binary_join_element_wise(*arrs, "", null_handling="emit_null")
    return CExpr(run, pa.string(), v.const, node)


def _split_format(f: str) -> list[tuple[str, str]]:
    """The format as runs of Arrow strftime text and fraction specifiers (%f, %g, %n)."""
    pieces: list[tuple[str, str]] = []
    pos = 0
    for m in _FORMAT_TOKEN.finditer(f):
        if m.group() == "%%":
            continue
        if m.start() > pos:
            pieces.append(("text", f[pos:m.start()]))
        pieces.append(("fraction", m.group()[1]))
        pos = m.end()
    if pos < len(f) or not pieces:
        pieces.append(("text", f[pos:]))
    return pieces


def _fraction_text(x, src: pa.DataType, spec: str):
    per_second, width = _FRACTION[spec]
    if T.kind(src) == "date":
        ns = pc.multiply(pc.cast(pc.is_valid(x), pa.int64()), 0)
    else:
        ts = pc.cast(x, pa.timestamp("ns", src.tz), safe=False)
        floored = pc.cast(pc.floor_temporal(ts, unit="second"), pa.int64())
        ns = pc.subtract(pc.cast(ts, pa.int64()), floored)
    value = pc.divide(ns, 1_000_000_000 // per_second)
    return pc.utf8_lpad(pc.cast(value, pa.string()), width=width, padding="0")


@special("strptime")
def _strptime(c, node, args):
    raw = [c.compile(a) for a in positional_args(node)]
    _nargs(node, raw, 2)
    s, fmt = _text(raw[0]), raw[1]
    if not fmt.const:
        raise NotSupportedError("the STRPTIME format must be a constant")
    f = fmt.fn(None, None).as_py()
    return CExpr(lambda t, ctx: pc.strptime(s.fn(t, ctx), format=f, unit="us"),
                 pa.timestamp("us"), s.const, node)


# -- INTERVAL --------------------------------------------------------------------------

_INTERVAL_PART = re.compile(r"\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*([a-z_]+)", re.IGNORECASE)
_CLOCK = re.compile(r"\s*([+-]?)(\d+):(\d+)(?::(\d+(?:\.\d*)?))?\s*$")


def compile_interval(c: ExprCompiler, node: exp.Interval) -> CExpr:
    amount = c.compile(node.this)
    unit_node = node.args.get("unit")
    unit = unit_node.name if unit_node is not None else None
    if not amount.const:
        # INTERVAL (n) DAY with n from each row: whole numbers of one unit.
        if unit is None or not (T.is_numeric(amount.type) or
                                T.kind(amount.type) in ("null", "bool")):
            raise NotSupportedError(f"INTERVAL needs a constant amount or a number of one "
                                    f"unit: {node.sql()}")
        return scale_interval(amount, parse_interval("1", unit), node)
    text = amount.fn(None, None).as_py()
    if text is None:
        return const_expr(None, pa.month_day_nano_interval(), node)
    return const_expr(parse_interval(str(text), unit), pa.month_day_nano_interval(), node)


_MDN = np.dtype([("months", "<i4"), ("days", "<i4"), ("nanos", "<i8")])


def interval_array(months: np.ndarray, days: np.ndarray, nanos: np.ndarray,
                   valid: np.ndarray) -> pa.Array:
    """A month-day-nano interval array built from numpy fields (no per-row objects)."""
    data = np.zeros(len(valid), _MDN)
    data["months"], data["days"], data["nanos"] = months, days, nanos
    bitmap = pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(pa.month_day_nano_interval(), len(valid),
                                 [bitmap, pa.py_buffer(data.tobytes())])


def interval_fields(iv: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(months, days, nanoseconds, valid) of a month-day-nano interval array."""
    if isinstance(iv, pa.ChunkedArray):
        iv = iv.combine_chunks()
    data = np.frombuffer(iv.buffers()[1], dtype=_MDN)[iv.offset:iv.offset + len(iv)]
    valid = iv.is_valid().to_numpy(zero_copy_only=False)
    return (data["months"].astype(np.int64), data["days"].astype(np.int64),
            data["nanos"].astype(np.int64), valid)


def scale_interval(count: CExpr, unit_iv: pa.MonthDayNano, node) -> CExpr:
    """``count * interval`` per row, each field multiplied by the count; a fractional count
    is truncated toward zero first (DuckDB's INTERVAL (1.5) DAY is 1 day)."""
    if T.kind(count.type) in ("float", "decimal"):
        frac = count
        count = CExpr(lambda t, ctx: pc.trunc(frac.fn(t, ctx)), pa.float64(), frac.const,
                      frac.sql)
    count = cast_expr(count, pa.int64())
    m1, d1, n1 = unit_iv.months, unit_iv.days, unit_iv.nanoseconds
    typ = pa.month_day_nano_interval()

    def run(t, ctx):
        v = count.fn(t, ctx)
        scalar = isinstance(v, pa.Scalar)
        arr = to_array(v, 1 if scalar else len(v))
        valid = arr.is_valid().to_numpy(zero_copy_only=False)
        n = arr.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
        out = interval_array(n * m1, n * d1, n * n1, valid)
        return out[0] if scalar else out
    return CExpr(run, typ, count.const, node)


def parse_interval(text: str, unit: str | None = None) -> pa.MonthDayNano:
    """An INTERVAL's value from its text: ``'2'`` with a separate unit, or a list of amounts
    with units and an optional clock part (``'1 year 2 months 3 days 04:05:06'``)."""
    if unit is not None:
        try:
            n = float(text)
        except ValueError:
            raise DataError(f"invalid INTERVAL amount {text!r} for unit {unit}") from None
        return _interval_value(n, _interval_unit(unit))
    months = days = nanos = 0
    pos = 0
    rest = text
    while True:
        m = _INTERVAL_PART.match(text, pos)
        if m is None:
            rest = text[pos:]
            break
        mo, d, ns = _interval_parts(float(m.group(1)), _interval_unit(m.group(2)))
        months, days, nanos = months + mo, days + d, nanos + ns
        pos = m.end()
    if rest.strip():
        clock = _CLOCK.match(rest)
        if clock is not None:
            sign = -1 if clock.group(1) == "-" else 1
            secs = int(clock.group(2)) * 3600 + int(clock.group(3)) * 60 + \
                float(clock.group(4) or 0)
            nanos += sign * round(secs * 1e9)
        elif pos == 0 and re.fullmatch(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*", rest):
            days = int(float(rest))  # a bare number counts days
        else:
            raise DataError(f"invalid INTERVAL {text!r}: expected amounts with units, e.g. "
                            f"'1 day 2 hours'")
    return pa.MonthDayNano([months, days, nanos])


def _interval_unit(text: str) -> str:
    u = _UNITS.get(text.lower())
    if u not in ("year", "quarter", "month", "week", "day", "hour", "minute", "second",
                 "millisecond", "microsecond", "decade", "century", "millennium"):
        raise DataError(f"invalid INTERVAL unit {text!r}")
    return u


def _interval_parts(n: float, unit: str) -> tuple[int, int, int]:
    """(months, days, nanoseconds) of ``n`` units; fractions carry to the next smaller part
    (a month counts 30 days, a day 24 hours), as DuckDB and PostgreSQL do."""
    years = {"year": 1, "decade": 10, "century": 100, "millennium": 1000}.get(unit)
    if years is not None or unit in ("quarter", "month"):
        total = n * 12 * years if years is not None else n * (3 if unit == "quarter" else 1)
        months = int(total)
        rest_days = (total - months) * 30
        days = int(round(rest_days, 9))
        return months, days, round((rest_days - days) * 86_400e9)
    if unit in ("week", "day"):
        total = n * (7 if unit == "week" else 1)
        days = int(total)
        return 0, days, round((total - days) * 86_400e9)
    scale = {"hour": 3600e9, "minute": 60e9, "second": 1e9, "millisecond": 1e6,
             "microsecond": 1e3}[unit]
    return 0, 0, round(n * scale)


def _interval_value(n: float, unit: str) -> pa.MonthDayNano:
    return pa.MonthDayNano(list(_interval_parts(n, unit)))


def add_interval(base, iv, sign: int, base_type: pa.DataType):
    """``base + sign * iv`` for dates/timestamps and month-day-nano intervals."""
    if not isinstance(iv, pa.Scalar):
        return _add_interval_array(base, iv, sign, base_type)
    if not iv.is_valid:
        return pa.scalar(None, pa.timestamp("us"))
    v = iv.as_py()
    months, days, nanos = v.months * sign, v.days * sign, v.nanoseconds * sign
    ts = pc.cast(base, pa.timestamp("us")) if T.kind(base_type) == "date" else base
    if months:
        ts = _add_months(ts, months)
    if days or nanos:
        delta = pa.scalar(days * 86_400_000_000 + nanos // 1000, pa.duration("us"))
        unit = ts.type.unit if hasattr(ts.type, "unit") else "us"
        ts = pc.add(ts, pc.cast(delta, pa.duration(unit)))
    return ts


def _add_interval_array(base, iv, sign: int, base_type: pa.DataType):
    """``base + sign * iv`` with a different interval on each row."""
    months, days, nanos, valid = interval_fields(iv)
    n = len(valid)
    ts = pc.cast(base, pa.timestamp("us")) if T.kind(base_type) == "date" else base
    ts = to_array(ts, n) if isinstance(ts, pa.Scalar) else ts
    if isinstance(ts, pa.ChunkedArray):
        ts = ts.combine_chunks()
    if months.any():
        ts = _add_months(ts, np.where(valid, months * sign, 0))
    unit = ts.type.unit
    per_us = {"s": 1_000_000, "ms": 1_000, "us": 1, "ns": 0}[unit]
    micros = days * 86_400_000_000 + nanos // 1000
    delta = micros * sign // per_us if per_us else (days * 86_400_000_000_000 + nanos) * sign
    ts = pc.add(ts, pa.array(delta, pa.int64()).cast(pa.duration(unit)))
    return pc.if_else(pa.array(valid), ts, pa.scalar(None, ts.type))


def _add_months(ts, months):
    """Shift timestamps by whole months in numpy, clamping the day to the target month's
    length (Jan 31 + 1 month = Feb 29 in a leap year), keeping the time of day."""
    scalar = isinstance(ts, pa.Scalar)
    arr = pa.array([ts.as_py()], ts.type) if scalar else to_array(ts, len(ts))
    typ = arr.type
    step = f"datetime64[{typ.unit}]"
    t = pc.fill_null(pc.cast(arr, pa.int64()), 0).to_numpy(zero_copy_only=False).view(step)
    day0 = t.astype("datetime64[D]")
    time_of_day = t - day0.astype(step)
    month0 = day0.astype("datetime64[M]")
    day_index = (day0 - month0.astype("datetime64[D]")).astype(np.int64)
    target = month0 + np.asarray(months, dtype=np.int64).astype("timedelta64[M]")
    first = target.astype("datetime64[D]")
    length = ((target + 1).astype("datetime64[D]") - first).astype(np.int64)
    shifted = (first + np.minimum(day_index, length - 1)).astype(step) + time_of_day
    out = pa.array(shifted.view(np.int64), pa.int64(), mask=arr.is_null().to_numpy(
        zero_copy_only=False)).cast(typ)
    return out[0] if scalar else out


def _cast_fn(target: pa.DataType):
    def h(c, node, args):
        _nargs(node, args, 1)
        return cast_expr(args[0], target)
    return h


register("date")(_cast_fn(pa.date32()))
register("datetime", "timestamp")(_cast_fn(pa.timestamp("us")))


@register("last_day")
def _last_day(c, node, args):
    """The last day of the month of a DATE or TIMESTAMP."""
    _nargs(node, args, 1)
    v = _temporal_arg(args[0])
    if T.kind(v.type) == "time":
        raise DataError(f"LAST_DAY() takes a date or timestamp: {node.sql()}")

    def run(t, ctx):
        x = v.fn(t, ctx)
        scalar = isinstance(x, pa.Scalar)
        arr = pa.array([x.as_py()], x.type) if scalar else to_array(x, len(x))
        day = pc.cast(pc.cast(arr, pa.timestamp("us")) if T.kind(arr.type) == "timestamp"
                      else arr, pa.date32())
        d = pc.fill_null(day, 0).to_numpy(zero_copy_only=False).astype("datetime64[D]")
        last = (d.astype("datetime64[M]") + 1).astype("datetime64[D]") - 1
        out = pa.array(last, pa.date32(), mask=arr.is_null().to_numpy(zero_copy_only=False))
        return out[0] if scalar else out
    return CExpr(run, pa.date32(), v.const, node)


def _name_fn(fmt: str):
    def h(c, node, args):
        _nargs(node, args, 1)
        v = _temporal_arg(args[0])
        if T.kind(v.type) == "null":
            return const_expr(None, pa.string(), node)
        if T.kind(v.type) == "time":
            raise DataError(f"{node.sql()} takes a date or timestamp, not a TIME")
        if T.kind(v.type) == "date":
            v = cast_expr(v, pa.timestamp("us"))
        return CExpr(lambda t, ctx: pc.strftime(v.fn(t, ctx), format=fmt, locale="C"),
                     pa.string(), v.const, node)
    return h


register("monthname")(_name_fn("%B"))
register("dayname")(_name_fn("%A"))


@register("epoch")
def _epoch(c, node, args):
    """Seconds since 1970-01-01 as a DOUBLE (DuckDB's EPOCH)."""
    _nargs(node, args, 1)
    v = _temporal_arg(args[0])
    if T.kind(v.type) == "null":
        return const_expr(None, pa.float64(), node)
    return CExpr(lambda t, ctx: pc.cast(_part(v.fn(t, ctx), "epoch", v.type), pa.float64()),
                 pa.float64(), v.const, node)


@register("to_timestamp")
def _to_timestamp(c, node, args):
    """TO_TIMESTAMP(seconds since the epoch) -> TIMESTAMP (sochdb has no zoned type; the
    value is the UTC time DuckDB shows in a UTC session)."""
    _nargs(node, args, 1)
    a = args[0]
    if not (T.is_numeric(a.type) or T.kind(a.type) == "null"):
        raise DataError(f"TO_TIMESTAMP() takes seconds as a number, not "
                        f"{T.sql_type_name(a.type)}: {node.sql()}")
    a = cast_expr(a, pa.float64())
    out = pa.timestamp("us")

    def run(t, ctx):
        micros = pc.round(pc.multiply(a.fn(t, ctx), 1_000_000.0))
        return pc.cast(pc.cast(micros, pa.int64()), out)
    return CExpr(run, out, a.const, node)


@register("make_timestamp")
def _make_timestamp(c, node, args):
    """MAKE_TIMESTAMP(year, month, day, hour, minute, seconds): seconds may have a fraction."""
    _nargs(node, args, 6)
    for a in args:
        if not (T.is_numeric(a.type) or T.kind(a.type) == "null"):
            raise DataError(f"MAKE_TIMESTAMP() takes numbers, not {T.sql_type_name(a.type)}: "
                            f"{node.sql()}")
    parts = [cast_expr(a, pa.int64()) for a in args[:5]] + [cast_expr(args[5], pa.float64())]
    out = pa.timestamp("us")

    def run(t, ctx):
        vals = [p.fn(t, ctx) for p in parts]
        scalar = all(isinstance(v, pa.Scalar) for v in vals)
        n = 1 if scalar else t.num_rows
        arrs = [to_array(v, n) for v in vals]
        valid = np.ones(n, dtype=bool)
        for a in arrs:
            valid &= a.is_valid().to_numpy(zero_copy_only=False)
        y, mo, d, h, mi = (a.fill_null(1).to_numpy(zero_copy_only=False) for a in arrs[:5])
        sec = arrs[5].fill_null(0.0).to_numpy(zero_copy_only=False)
        days = _civil_days(y, mo, d, valid, "MAKE_TIMESTAMP").astype(np.int64)
        micros = days * 86_400_000_000 + (h * 3600 + mi * 60) * 1_000_000 + \
            np.round(sec * 1_000_000).astype(np.int64)
        res = pa.array(micros, pa.int64(), mask=~valid).cast(out)
        return res[0] if scalar else res
    return CExpr(run, out, all(p.const for p in parts), node)


@register("date_add")
def _date_add(c, node, args):
    _nargs(node, args, 2)
    from sochdb.sql.arith import compile_arith
    return compile_arith("Add", args[0], args[1], c.settings, node)


__all__ = ["compile_interval", "parse_interval", "add_interval"]
