"""SQL types <-> Arrow types, the coercion rules between them, and SQL-style casts.

INTEGER is 64-bit (as in SQLite) so arithmetic rarely overflows; REAL/FLOAT/DOUBLE are float64
(so 999.99 stays 999.99); DECIMAL(p,s) is decimal128; FLOAT[n] and VECTOR(n) are fixed-size
lists of float32 for vector search. Imports pyarrow and sqlglot only.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from sochdb.errors import DataError, NotSupportedError

DT = exp.DataType.Type

_SIMPLE: dict[DT, pa.DataType] = {
    DT.BIGINT: pa.int64(), DT.INT: pa.int64(), DT.MEDIUMINT: pa.int64(),
    DT.SMALLINT: pa.int16(), DT.TINYINT: pa.int8(),
    DT.UBIGINT: pa.uint64(), DT.UINT: pa.uint32(), DT.USMALLINT: pa.uint16(),
    DT.UTINYINT: pa.uint8(),
    DT.DOUBLE: pa.float64(), DT.FLOAT: pa.float64(),
    DT.TEXT: pa.string(), DT.VARCHAR: pa.string(), DT.CHAR: pa.string(),
    DT.NCHAR: pa.string(), DT.NVARCHAR: pa.string(), DT.NAME: pa.string(),
    DT.BOOLEAN: pa.bool_(),
    DT.DATE: pa.date32(),
    DT.DATETIME: pa.timestamp("us"), DT.TIMESTAMP: pa.timestamp("us"),
    DT.TIMESTAMPNTZ: pa.timestamp("us"),
    DT.TIMESTAMPTZ: pa.timestamp("us", "UTC"), DT.TIMESTAMPLTZ: pa.timestamp("us", "UTC"),
    DT.TIMESTAMP_S: pa.timestamp("s"), DT.TIMESTAMP_MS: pa.timestamp("ms"),
    DT.TIMESTAMP_NS: pa.timestamp("ns"),
    DT.TIME: pa.time64("us"),
    DT.INTERVAL: pa.month_day_nano_interval(),
    DT.BLOB: pa.binary(), DT.BINARY: pa.binary(), DT.VARBINARY: pa.binary(),
    DT.LONGBLOB: pa.binary(), DT.MEDIUMBLOB: pa.binary(), DT.TINYBLOB: pa.binary(),
    DT.UUID: pa.string(), DT.JSON: pa.string(), DT.NULL: pa.null(),
}

NUMERIC_RANK = {"int": 0, "decimal": 1, "float": 2}


def arrow_type(dt: exp.DataType) -> pa.DataType:
    """The Arrow type of a parsed SQL type, or NotSupportedError naming it."""
    t = dt.this
    if t in _SIMPLE:
        return _SIMPLE[t]
    if t in (DT.DECIMAL, DT.BIGDECIMAL, DT.DECIMAL32, DT.DECIMAL64, DT.DECIMAL128):
        params = [int(e.this.this) if isinstance(e.this, exp.Literal) else int(e.name)
                  for e in dt.expressions]
        precision = params[0] if params else 18
        scale = params[1] if len(params) > 1 else (0 if params else 3)
        if not 1 <= precision <= 38 or not 0 <= scale <= precision:
            raise DataError(f"DECIMAL({precision},{scale}) is out of range: precision 1..38, "
                            f"scale 0..precision")
        return pa.decimal128(precision, scale)
    if t == DT.ARRAY and dt.expressions:
        inner = arrow_type(dt.expressions[0])
        size = dt.args.get("values")
        if size:
            return pa.list_(pa.float32() if pa.types.is_floating(inner) else inner,
                            int(size[0].name))
        return pa.list_(inner)
    if t == DT.VECTOR or dt.this == DT.USERDEFINED and str(dt.args.get("kind", "")).upper() \
            == "VECTOR":
        size = dt.expressions[-1] if dt.expressions else None
        if size is None:
            raise DataError("VECTOR needs a dimension, e.g. VECTOR(768)")
        return pa.list_(pa.float32(), int(size.name))
    raise NotSupportedError(f"unsupported column type {dt.sql()!r}")


def sql_type_name(t: pa.DataType) -> str:
    """A SQL spelling of an Arrow type, for schemas, casts and messages."""
    if pa.types.is_int64(t):
        return "BIGINT"
    if pa.types.is_int32(t):
        return "INTEGER"
    if pa.types.is_int16(t):
        return "SMALLINT"
    if pa.types.is_int8(t):
        return "TINYINT"
    if pa.types.is_unsigned_integer(t):
        return f"U{sql_type_name(pa.int64() if t.bit_width == 64 else pa.int32())}"
    if pa.types.is_float64(t):
        return "DOUBLE"
    if pa.types.is_float32(t) or pa.types.is_float16(t):
        return "FLOAT"
    if pa.types.is_decimal(t):
        return f"DECIMAL({t.precision},{t.scale})"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "VARCHAR"
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    if pa.types.is_date(t):
        return "DATE"
    if pa.types.is_timestamp(t):
        return "TIMESTAMP WITH TIME ZONE" if t.tz else "TIMESTAMP"
    if pa.types.is_time(t):
        return "TIME"
    if pa.types.is_interval(t) or pa.types.is_duration(t):
        return "INTERVAL"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return "BLOB"
    if pa.types.is_fixed_size_list(t):
        return f"{sql_type_name(t.value_type)}[{t.list_size}]"
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return f"{sql_type_name(t.value_type)}[]"
    if pa.types.is_dictionary(t):
        return sql_type_name(t.value_type)
    if pa.types.is_null(t):
        return "NULL"
    return str(t).upper()


def kind(t: pa.DataType) -> str:
    """A coarse class used by the coercion rules."""
    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_floating(t):
        return "float"
    if pa.types.is_decimal(t):
        return "decimal"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "str"
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_null(t):
        return "null"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_timestamp(t):
        return "timestamp"
    if pa.types.is_time(t):
        return "time"
    if pa.types.is_interval(t) or pa.types.is_duration(t):
        return "interval"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return "bytes"
    if pa.types.is_dictionary(t):
        return kind(t.value_type)
    if pa.types.is_list(t) or pa.types.is_fixed_size_list(t) or pa.types.is_large_list(t):
        return "list"
    return "other"


def is_numeric(t: pa.DataType) -> bool:
    return kind(t) in NUMERIC_RANK


def numeric_common(a: pa.DataType, b: pa.DataType) -> pa.DataType:
    ka, kb = kind(a), kind(b)
    if ka == "float" or kb == "float":
        return pa.float64()
    if ka == "decimal" and kb == "decimal":
        scale = max(a.scale, b.scale)
        digits = max(a.precision - a.scale, b.precision - b.scale)
        return pa.decimal128(min(38, digits + scale + 1), scale)
    if ka == "decimal" or kb == "decimal":
        d = a if ka == "decimal" else b
        return pa.decimal128(min(38, max(d.precision, 19 + d.scale)), d.scale)
    if pa.types.is_unsigned_integer(a) and pa.types.is_unsigned_integer(b):
        return a if a.bit_width >= b.bit_width else b
    return pa.int64()


def common_type(a: pa.DataType, b: pa.DataType) -> pa.DataType:
    """The type both sides are cast to for comparison, CASE/COALESCE and set operations."""
    if a == b:
        return a
    ka, kb = kind(a), kind(b)
    if ka == "null":
        return b
    if kb == "null":
        return a
    if ka in NUMERIC_RANK and kb in NUMERIC_RANK:
        return numeric_common(a, b)
    if ka == kb:
        if ka == "timestamp":
            return a if a.tz else b
        if ka in ("str", "bytes"):
            return pa.string() if ka == "str" else pa.binary()
        if ka == "list":
            return a
        return a
    # A string meets a typed value: the string is read as that type (a literal like '2020-01-01'
    # compared with a DATE), as DuckDB does.
    if ka == "str":
        return b
    if kb == "str":
        return a
    if {ka, kb} == {"date", "timestamp"}:
        return a if ka == "timestamp" else b
    if {ka, kb} <= {"bool", "int"}:
        return pa.int64()
    if ka in ("bool",) and kb in NUMERIC_RANK or kb == "bool" and ka in NUMERIC_RANK:
        return pa.float64() if "float" in (ka, kb) else pa.int64()
    raise DataError(f"cannot compare or combine {sql_type_name(a)} with {sql_type_name(b)}")


def union_type(a: pa.DataType, b: pa.DataType) -> pa.DataType:
    """The type of a column fed by both types (UNION, CASE, COALESCE, VALUES): as
    common_type, except that text absorbs other types instead of being read as them."""
    ka, kb = kind(a), kind(b)
    if ka != kb and "str" in (ka, kb) and "null" not in (ka, kb):
        return pa.string()
    return common_type(a, b)


_TRUE = {"true", "t", "yes", "y", "1", "on"}
_FALSE = {"false", "f", "no", "n", "0", "off"}


def cast(value, to: pa.DataType, safe: bool = True, what: str = "value"):
    """Cast an Array/ChunkedArray/Scalar with SQL semantics.

    ``safe=False`` is TRY_CAST: values that do not convert become NULL. Otherwise a value that
    does not convert raises DataError naming it and the target type.
    """
    src = value.type
    if src == to:
        return value
    ks, kt = kind(src), kind(to)
    try:
        if ks == "str" and kt == "bool":
            return _str_to_bool(value, safe, what)
        if kt == "decimal" and ks in ("str", "float", "int", "decimal"):
            return _to_decimal(value, ks, to)
        if ks == "decimal" and kt == "int":
            # SQL rounds to the nearest integer, halves away from zero (DuckDB, PostgreSQL).
            return pc.cast(pc.round(value, round_mode="half_towards_infinity"), to)
        if ks == "str" and kt == "bytes":
            return _str_to_blob(value)
        if ks == "str" and kt in ("int", "float"):
            stripped = pc.utf8_trim_whitespace(value)
            if kt == "int":
                # '12.7' -> 12 would surprise; SQL integer casts of decimal text round.
                try:
                    return pc.cast(stripped, to)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    # '2.5' is an exact decimal: halves round away from zero (DuckDB)
                    as_float = pc.cast(stripped, pa.float64())
                    return pc.cast(pc.round(as_float, round_mode="half_towards_infinity"), to)
            return pc.cast(stripped, to)
        if ks == "float" and kt == "int":
            # SQL rounds to the nearest integer (DuckDB); SQLite truncates, handled by callers.
            return pc.cast(pc.round(value, round_mode="half_to_even"), to)
        if ks in ("int", "float", "decimal", "bool", "date", "timestamp", "time") and kt == "str":
            if ks == "bool":
                return pc.if_else(value, pa.scalar("true"), pa.scalar("false"))
            if ks == "float":
                return _float_to_str(value)
            if ks in ("timestamp", "time"):
                return _clock_to_str(value, to)
            return pc.cast(value, to)
        if ks == "bool" and kt in ("int", "float", "decimal"):
            return pc.cast(pc.cast(value, pa.int8()), to)
        if ks in ("int", "float", "decimal") and kt == "bool":
            return pc.not_equal(value, pa.scalar(0, type=src))
        if ks == "null":
            if isinstance(value, pa.Scalar):
                return pa.scalar(None, type=to)
            return pa.nulls(len(value), to)
        if ks == "str" and kt == "time":
            # Arrow has no string -> time64 cast: read the text as a time of 1970-01-01.
            stamp = pc.binary_join_element_wise("1970-01-01 ", pc.utf8_trim_whitespace(value),
                                                "")
            try:
                return pc.cast(pc.cast(stamp, pa.timestamp("us")), to)
            except pa.ArrowInvalid:
                raise pa.ArrowInvalid("not a time of day (HH:MM[:SS[.fraction]])") from None
        if ks == "str" and kt in ("date", "timestamp"):
            try:
                return pc.cast(_pad_date_text(pc.utf8_trim_whitespace(value)), to)
            except pa.ArrowInvalid:
                shape = "YYYY-MM-DD" if kt == "date" else "YYYY-MM-DD HH:MM:SS[.fraction]"
                raise pa.ArrowInvalid(f"not a valid {sql_type_name(to)} ({shape})") from None
        if ks == "str" and kt == "time":
            return pc.cast(pc.utf8_trim_whitespace(value), to)
        return pc.cast(value, to, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as e:
        if not safe:
            return _try_cast_each(value, to)
        raise DataError(f"cannot cast {what} to {sql_type_name(to)}: "
                        f"{_short_arrow_message(e)}") from None


def _pad_date_text(text):
    """'2024-1-5 3:04' -> '2024-01-05 03:04': DuckDB and PostgreSQL accept one-digit months,
    days and hours."""
    text = pc.replace_substring_regex(text, pattern=r"^(-?\d{4,})-(\d)([-/])",
                                      replacement=r"\1-0\2\3")
    text = pc.replace_substring_regex(text, pattern=r"^(-?\d{4,}-\d\d)-(\d)(\D|$)",
                                      replacement=r"\1-0\2\3")
    return pc.replace_substring_regex(text, pattern=r"^(\S+)([ T])(\d):",
                                      replacement=r"\1\2" + "0" + r"\3:")


def _clock_to_str(value, to: pa.DataType):
    """TIMESTAMP/TIME text as DuckDB writes it: fractional seconds only when there are any,
    without trailing zeros ('10:11:12', '10:11:12.5'); Arrow always prints six digits."""
    text = pc.cast(value, to)
    zoned = pa.types.is_timestamp(value.type) and value.type.tz is not None
    if zoned:  # Arrow writes UTC as a trailing Z; DuckDB as +00
        text = pc.replace_substring_regex(text, r"Z$", "")
    text = pc.replace_substring_regex(text, r"(\.\d*[1-9])0+$", r"\1")
    text = pc.replace_substring_regex(text, r"\.0+$", "")
    return pc.binary_join_element_wise(text, "+00", "") if zoned else text


def _short_arrow_message(e: Exception) -> str:
    text = str(e).split("\n")[0]
    if "does not fit in precision" in text or "Decimal value would cause data loss" in text \
            or "cannot be represented as decimal" in text:
        return "the value does not fit"
    return text.replace("Failed to parse string: ", "could not convert ")


def _decimal(precision: int, scale: int) -> pa.DataType:
    """A decimal type wide enough for ``precision`` digits (decimal256 past 38)."""
    if precision <= 38:
        return pa.decimal128(precision, scale)
    return pa.decimal256(min(precision, 76), scale)


def _to_decimal(value, ks: str, to: pa.DataType):
    """Numbers and text to DECIMAL(p,s), rounding extra fractional digits half away from
    zero (DuckDB, PostgreSQL). A DOUBLE converts through its shortest round-trip text, so
    1.005 becomes 1.01 as written, not 1.00 as its binary value would (PostgreSQL)."""
    if ks == "int":
        # Arrow needs room for every digit of the integer type before narrowing.
        return pc.cast(pc.cast(value, _decimal(20 + to.scale, to.scale)), to)
    if ks == "decimal":
        src = value.type
        if src.scale > to.scale:
            # One more digit of room: rounding 9.995 up gives 10.00.
            value = pc.round(pc.cast(value, _decimal(src.precision + 1, src.scale)),
                             ndigits=to.scale, round_mode="half_towards_infinity")
        return pc.cast(value, to)
    if ks == "float":
        bad = pc.or_(pc.is_nan(value), pc.is_inf(value))
        if (bad.as_py() if isinstance(bad, pa.Scalar) else pc.any(bad).as_py()):
            raise pa.ArrowInvalid("NaN and infinity have no DECIMAL value")
        value = pc.cast(value, pa.string())
    text = pc.utf8_trim_whitespace(value)
    try:
        return pc.cast(text, to)
    except pa.ArrowInvalid:
        pass
    # More fractional digits than the scale: keep one more digit, then round.
    keep = to.scale + 1
    cut = pc.replace_substring_regex(text, pattern=rf"^([+-]?\d*\.\d{{{keep}}})\d+$",
                                     replacement=r"\1")
    wide = pc.cast(cut, _decimal(to.precision + 1, keep))
    return pc.cast(pc.round(wide, ndigits=to.scale, round_mode="half_towards_infinity"), to)


_HEX_ESCAPE = re.compile(rb"\\x([0-9a-fA-F]{2})")


def _str_to_blob(value):
    """Text to BLOB: the UTF-8 bytes, with ``\\xHH`` escapes decoded (DuckDB)."""
    raw = pc.cast(value, pa.binary())
    has = pc.match_substring(value, pattern="\\x")
    if not (has.as_py() if isinstance(has, pa.Scalar) else pc.any(has).as_py()):
        return raw

    def decode(b: bytes | None) -> bytes | None:
        return None if b is None else _HEX_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), b)
    if isinstance(raw, pa.Scalar):
        return pa.scalar(decode(raw.as_py()), pa.binary())
    if isinstance(raw, pa.ChunkedArray):
        raw = raw.combine_chunks()
    # Only distinct values are decoded in Python, each once.
    uniq = pc.unique(raw)
    mapped = pa.array([decode(x) for x in uniq.to_pylist()], pa.binary())
    return mapped.take(pc.index_in(raw, value_set=uniq))


def _str_to_bool(value, safe: bool, what: str):
    low = pc.utf8_lower(pc.utf8_trim_whitespace(value))
    is_true = pc.is_in(low, value_set=pa.array(sorted(_TRUE)))
    is_false = pc.is_in(low, value_set=pa.array(sorted(_FALSE)))
    bad = pc.and_(pc.invert(pc.or_(is_true, is_false)), pc.is_valid(value))
    any_bad = bad.as_py() if isinstance(bad, pa.Scalar) else pc.any(bad).as_py()
    if safe and any_bad:
        raise DataError(f"cannot cast {what} to BOOLEAN: not a truth value")
    out = pc.if_else(is_true, True, pc.if_else(is_false, False, None))
    return out


def _float_to_str(value):
    """Shortest round-trip text of doubles, as DuckDB and Python print them ('2.0',
    '10000000000.0', '0.1', '1e+16', '1e-05'). Arrow prints the same shortest digits but
    switches to exponents at 1e10 and writes integral values without '.0': those rows are
    rewritten with kernels; the rare ones outside [1e-4, 1e16) go through Python's repr."""
    if isinstance(value, pa.Scalar):
        v = value.as_py()
        return pa.scalar(None if v is None else _fmt_float(v), pa.string())
    if isinstance(value, pa.ChunkedArray):
        value = value.combine_chunks()
    x = pc.cast(value, pa.float64())
    arrow_text = text = pc.cast(x, pa.string())
    mag = pc.abs(x)
    plain = pc.and_(pc.greater_equal(mag, 1e-4), pc.less(mag, 1e16))
    whole = pc.and_(plain, pc.equal(pc.floor(x), x))
    # Integral values print as the integer and '.0' (signed zero keeps its sign).
    as_int = pc.cast(pc.if_else(whole, x, 0.0), pa.int64())
    int_text = pc.binary_join_element_wise(pc.cast(as_int, pa.string()), ".0", "")
    text = pc.if_else(whole, int_text, text)
    zero = pc.equal(x, 0.0)
    neg_zero = pc.equal(arrow_text, "-0")
    text = pc.if_else(zero, pc.if_else(neg_zero, pa.scalar("-0.0"), pa.scalar("0.0")), text)
    # Fractions from 1e10 on: move the point back in from Arrow's exponent form.
    big = pc.fill_null(pc.and_(pc.and_(plain, pc.invert(whole)), pc.greater_equal(mag, 1e10)),
                       False)
    if pc.any(big).as_py():
        sub = text.filter(big)
        for e in range(10, 16):
            sub = pc.replace_substring_regex(sub, pattern=rf"^(-?\d)\.(\d{{{e}}})(\d+)e\+{e}$",
                                             replacement=r"\1\2.\3")
        text = _scatter(text, big, sub)
    odd = pc.fill_null(pc.and_(pc.invert(pc.or_(plain, zero)), pc.is_finite(x)), False)
    if pc.any(odd).as_py():
        fixed = pa.array([_fmt_float(v) for v in x.filter(odd).to_pylist()], pa.string())
        text = _scatter(text, odd, fixed)
    return text


def _scatter(base: pa.Array, mask: pa.Array, values: pa.Array) -> pa.Array:
    """``base`` with the rows where ``mask`` holds replaced by ``values``, in order."""
    m = mask.to_numpy(zero_copy_only=False)
    pos = np.full(len(m), -1, dtype=np.int64)
    pos[m] = np.arange(int(m.sum()))
    return pc.if_else(mask, values.take(pa.array(pos, mask=pos < 0)), base)


def _fmt_float(v: float) -> str:
    if v != v:
        return "nan"
    if v in (float("inf"), float("-inf")):
        return "inf" if v > 0 else "-inf"
    text = repr(v)
    if text.endswith(".0") and "e" not in text:
        return text
    return text


def _try_cast_each(value, to: pa.DataType):
    """TRY_CAST fallback: convert value by value, NULL where conversion fails."""
    if isinstance(value, pa.Scalar):
        try:
            return cast(value, to)
        except DataError:
            return pa.scalar(None, type=to)
    if isinstance(value, pa.ChunkedArray):
        value = value.combine_chunks()
    out = []
    for v in value:
        try:
            out.append(cast(v, to).as_py())
        except DataError:
            out.append(None)
    return pa.array(out, type=to)
