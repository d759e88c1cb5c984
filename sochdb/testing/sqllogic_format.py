"""Render result values as sqllogictest text and compare them with expected lines.

Test-tooling layer: standard library and numpy (for ``long double``). The SQLite rules follow
the reference harness (``slt_sqlite.c``: the type letter drives formatting); the DuckDB rules
follow DuckDB's runner (``CAST(value AS VARCHAR)`` text, numeric tolerance, lenient booleans).
FORMAT.md sections 3 and 5 describe both.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import hashlib
import math
import re
import struct
from typing import Any, Iterable, Sequence

import numpy as np

from sochdb.testing.sqllogic_parse import is_hash_line

__all__ = [
    "KINDS", "NUMERIC_KINDS", "sqlite_text", "sqlite_value", "duckdb_value", "duckdb_equal",
    "error_matches", "result_hash", "lines_hash", "sort_values", "sqlite_real_text",
    "interval_text",
]

#: Column kinds an engine adapter reports; they choose the DuckDB rendering and comparison.
KINDS = ("integer", "float", "decimal", "boolean", "text", "date", "timestamp", "time",
         "interval", "blob", "null")
NUMERIC_KINDS = frozenset({"integer", "float", "decimal"})

_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
_LEADING_INT = re.compile(r"\s*([+-]?)0*(\d*)")
_LEADING_REAL = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_AT_TABLE = bytes(c if 0x20 <= c <= 0x7E else 0x40 for c in range(256))


# --------------------------------------------------------------------------- SQLite rules

def _wrap_int32(value: int) -> int:
    """``sqlite3_column_int`` keeps the low 32 bits of the 64-bit value."""
    return ((value + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def _real_to_int64(value: float) -> int:
    """SQLite's double-to-integer conversion: truncate toward zero, clamp to int64."""
    if math.isnan(value):
        return 0
    if value <= _INT64_MIN:
        return _INT64_MIN
    if value >= _INT64_MAX:
        return _INT64_MAX
    return int(value)


def _text_to_int64(text: str) -> int:
    """SQLite reads the leading integer of a text value (``'12abc'`` is 12, ``'x'`` is 0)."""
    m = _LEADING_INT.match(text)
    digits = m.group(2) if m else ""
    if not digits:
        return 0
    value = int(digits)
    if m.group(1) == "-":
        value = -value
    return max(_INT64_MIN, min(_INT64_MAX, value))


def _text_to_real(text: str) -> float:
    m = _LEADING_REAL.match(text)
    return float(m.group(0)) if m else 0.0


_LD = np.longdouble
_ROUNDERS = [_LD(5.0 * 10.0 ** -(i + 1)) for i in range(10)]


def _sqlite_printf(value: float, precision: int, generic: bool, bang: bool) -> str:
    """SQLite's own printf for ``%.Nf`` and ``%!.Ng`` (``printf.c``), digit for digit.

    SQLite does not round like C's printf: it adds a rounder and pulls out at most 16
    significant digits with ``long double`` arithmetic, so its text can differ from Python's
    in the 15th digit. The expected results were produced by it, so it is emulated here.
    """
    if math.isnan(value):
        return "NaN"
    real = _LD(value)
    prefix = ""
    if real < 0:
        real, prefix = -real, "-"
    if generic and precision > 0:
        precision -= 1
    idx = precision & 0xFFF
    rounder = _ROUNDERS[idx % 10]
    while idx >= 10:
        rounder *= _LD(1.0e-10)
        idx -= 10
    if not generic:
        bits = struct.unpack("<Q", struct.pack("<d", float(real)))[0]
        ex = -1023 + ((bits >> 52) & 0x7FF)
        if precision + int(ex / 3) < 15:
            rounder += real * _LD(3e-16)
        real += rounder
    exp = 0
    if real > 0:
        scale = _LD(1.0)
        while real >= _LD(1e100) * scale and exp <= 350:
            scale *= _LD(1e100)
            exp += 100
        while real >= _LD(1e10) * scale and exp <= 350:
            scale *= _LD(1e10)
            exp += 10
        while real >= _LD(10.0) * scale and exp <= 350:
            scale *= _LD(10.0)
            exp += 1
        real /= scale
        while real < _LD(1e-8):
            real *= _LD(1e8)
            exp -= 8
        while real < _LD(1.0):
            real *= _LD(10.0)
            exp -= 1
        if exp > 350:
            return prefix + "Inf"
    use_exp = False
    if generic:
        real += rounder
        if real >= _LD(10.0):
            real *= _LD(0.1)
            exp += 1
        if exp < -4 or exp > precision:
            use_exp = True
        else:
            precision -= exp
        strip = True
    else:
        strip = bang
    e2 = 0 if use_exp else exp
    significant = 16 + (10 if bang else 0)
    out = [prefix]

    def digit() -> str:
        nonlocal real, significant
        if significant <= 0:
            return "0"
        significant -= 1
        d = int(real)
        real = (real - _LD(d)) * _LD(10.0)
        return chr(48 + d)

    if e2 < 0:
        out.append("0")
    else:
        out.extend(digit() for _ in range(e2 + 1))
    dot = precision > 0 or bang
    if dot:
        out.append(".")
    e2 += 1
    while e2 < 0:
        out.append("0")
        precision -= 1
        e2 += 1
    while precision > 0:
        out.append(digit())
        precision -= 1
    text = "".join(out)
    if strip and dot:
        text = text.rstrip("0")
        if text.endswith("."):
            text = text + "0" if bang else text[:-1]
    if use_exp:
        text += f"e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    return text


def sqlite_real_text(value: float) -> str:
    """A REAL as SQLite prints it in a text context (``%!.15g``): ``1.0``, ``0.1``,
    ``1.0e+20``, ``Inf``."""
    if math.isinf(value):
        return "Inf" if value > 0 else "-Inf"
    return _sqlite_printf(value, 15, generic=True, bang=True)


def sqlite_text(value: Any) -> str:
    """The text SQLite would produce for a value (``sqlite3_column_text``), before escaping."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return sqlite_real_text(value)
    if isinstance(value, decimal.Decimal):
        return sqlite_real_text(float(value))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("latin-1")
    if isinstance(value, _dt.datetime):
        return value.isoformat(sep=" ")
    return str(value)


def sqlite_value(value: Any, letter: str) -> str:
    """Format one value for a ``T``, ``I`` or ``R`` column exactly as ``slt_sqlite.c`` does."""
    if value is None:
        return "NULL"
    if letter == "I":
        if isinstance(value, int):
            number = int(value)
        elif isinstance(value, (float, decimal.Decimal)):
            number = _real_to_int64(float(value))
        else:
            number = _text_to_int64(sqlite_text(value))
        return str(_wrap_int32(number))
    if letter == "R":
        if isinstance(value, (int, float, decimal.Decimal)):
            real = float(value)
        else:
            real = _text_to_real(sqlite_text(value))
        if math.isinf(real):
            return "Inf" if real > 0 else "-Inf"
        return _sqlite_printf(real, 3, generic=False, bang=False)
    if letter == "T":
        if isinstance(value, str):
            raw = value.encode("utf-8", "surrogateescape")
        elif isinstance(value, (bytes, bytearray, memoryview)):
            raw = bytes(value)
        else:
            raw = sqlite_text(value).encode("utf-8")
        raw = raw.split(b"\0", 1)[0]  # C strings stop at the first NUL
        if not raw:
            return "(empty)"
        return raw.translate(_AT_TABLE).decode("ascii")
    raise ValueError(f"unknown type letter {letter!r}; expected T, I or R")


# --------------------------------------------------------------------------- DuckDB rules

def _trim_fraction(micros: int) -> str:
    return ("." + f"{micros:06d}".rstrip("0")) if micros else ""


def _time_text(hour: int, minute: int, second: int, micros: int) -> str:
    return f"{hour:02d}:{minute:02d}:{second:02d}{_trim_fraction(micros)}"


def _offset_text(offset: _dt.timedelta) -> str:
    total = int(offset.total_seconds())
    sign = "-" if total < 0 else "+"
    hours, rest = divmod(abs(total), 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{sign}{hours:02d}"
    if minutes or seconds:
        text += f":{minutes:02d}"
    if seconds:
        text += f":{seconds:02d}"
    return text


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}" + ("" if count in (1, -1) else "s")


def interval_text(months: int, days: int, micros: int) -> str:
    """DuckDB's INTERVAL text: ``1 year 2 months 3 days 04:05:06``, ``00:00:00`` when zero."""
    parts = []
    if months:
        years = int(months / 12)  # C division truncates toward zero
        months -= years * 12
        if years:
            parts.append(_plural(years, "year"))
        if months:
            parts.append(_plural(months, "month"))
    if days:
        parts.append(_plural(days, "day"))
    if micros or not parts:
        sign = "-" if micros < 0 else ""
        micros = abs(micros)
        hours, micros = divmod(micros, 3_600_000_000)
        minutes, micros = divmod(micros, 60_000_000)
        seconds, micros = divmod(micros, 1_000_000)
        parts.append(sign + _time_text(hours, minutes, seconds, micros))
    return " ".join(parts)


def _blob_text(data: bytes) -> str:
    """DuckDB's BLOB text: printable ASCII kept, every other byte as ``\\xHH``."""
    return "".join(chr(b) if 0x20 <= b <= 0x7E and b not in (0x22, 0x27, 0x5C)
                   else f"\\x{b:02X}" for b in data)


def _double_text(value: float) -> str:
    """Shortest round-trip text, as DuckDB prints DOUBLE (``0.1``, ``1e+20``, ``inf``)."""
    if math.isnan(value):
        return "nan"
    return repr(value)


def duckdb_value(value: Any, kind: str) -> str:
    """Render one value like DuckDB's runner: NULL, ``1``/``0`` for booleans, otherwise the
    ``CAST(value AS VARCHAR)`` text with ``''`` shown as ``(empty)``."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _double_text(value)
    if isinstance(value, decimal.Decimal):
        text = format(value, "f")
    elif isinstance(value, str):
        text = value
    elif isinstance(value, (bytes, bytearray, memoryview)):
        text = _blob_text(bytes(value))
    elif isinstance(value, _dt.datetime):
        text = (f"{value.date().isoformat()} "
                f"{_time_text(value.hour, value.minute, value.second, value.microsecond)}")
        offset = value.utcoffset()
        if offset is not None:
            text += _offset_text(offset)
    elif isinstance(value, _dt.date):
        text = value.isoformat()
    elif isinstance(value, _dt.time):
        text = _time_text(value.hour, value.minute, value.second, value.microsecond)
    elif isinstance(value, _dt.timedelta):
        text = interval_text(0, value.days, value.seconds * 1_000_000 + value.microseconds)
    elif hasattr(value, "months") and hasattr(value, "nanoseconds"):
        text = interval_text(value.months, value.days, int(value.nanoseconds) // 1000)
    else:
        text = str(value)
    if not text:
        return "(empty)"
    return text.replace("\0", "\\0")


def _parse_number(text: str) -> decimal.Decimal | None:
    try:
        number = decimal.Decimal(text.strip())
    except decimal.InvalidOperation:
        return None
    return number


def _as_float(text: str) -> float | None:
    try:
        return float(text.strip())
    except ValueError:
        return None


def _regex_matches(actual: str, pattern: str) -> bool | None:
    if pattern.startswith("<REGEX>:"):
        return re.fullmatch(pattern[8:], actual, re.DOTALL) is not None
    if pattern.startswith("<!REGEX>:"):
        return re.fullmatch(pattern[9:], actual, re.DOTALL) is None
    return None


def duckdb_equal(actual: str, expected: str, kind: str) -> bool:
    """DuckDB's ``CompareValues`` for one rendered value against one expected value.

    Equal text passes; ``<REGEX>:`` patterns are matched; numeric columns compare as numbers
    (integers and decimals exactly after rounding the expected text to the column's scale,
    floats within 1%); booleans as truth values; everything else must match as text.
    """
    if actual == expected:
        return True
    matched = _regex_matches(actual, expected)
    if matched:
        return True
    if actual == "NULL" or expected == "NULL":
        return False
    if kind == "float":
        left, right = _as_float(actual), _as_float(expected)
        if left is None or right is None:
            return False
        if math.isnan(left) and math.isnan(right):
            return True
        if not (math.isfinite(left) and math.isfinite(right)):
            return left == right
        return abs(left - right) <= abs(right) * 0.01 + 1e-8
    if kind in ("integer", "decimal"):
        left, right = _parse_number(actual), _parse_number(expected)
        if left is None or right is None or not (left.is_finite() and right.is_finite()):
            return False
        exponent = min(left.as_tuple().exponent, 0) if kind == "decimal" else 0
        quantum = decimal.Decimal(1).scaleb(exponent)
        with decimal.localcontext() as ctx:
            ctx.prec = 80
            return left == right.quantize(quantum, decimal.ROUND_HALF_UP)
    if kind == "boolean":
        truth = {"true": 1, "1": 1, "false": 0, "0": 0}
        left_b, right_b = truth.get(actual.lower()), truth.get(expected.lower())
        return left_b is not None and left_b == right_b
    return False


def error_matches(expected: str, message: str) -> bool:
    """Whether an error message satisfies a DuckDB ``statement error`` block: substring, or
    ``<REGEX>:`` (must fully match) / ``<!REGEX>:`` (must not), dot matching newline."""
    if not expected or expected in message:
        return True
    matched = _regex_matches(message, expected)
    return bool(matched)


# --------------------------------------------------------------------------- shared

def sort_values(values: list[str], ncols: int, mode: str) -> list[str]:
    """Apply ``rowsort`` (rows compared column by column as strings) or ``valuesort``."""
    if mode == "valuesort":
        return sorted(values)
    if mode == "rowsort" and ncols > 0 and values:
        rows = [values[i:i + ncols] for i in range(0, len(values), ncols)]
        rows.sort()
        return [v for row in rows for v in row]
    return values


def result_hash(values: Iterable[str]) -> str:
    """MD5 over ``value + "\\n"`` for every value, as both runners hash results."""
    md5 = hashlib.md5()
    for value in values:
        md5.update(value.encode("utf-8", "surrogateescape"))
        md5.update(b"\n")
    return md5.hexdigest()


def lines_hash(lines: Sequence[str]) -> str:
    """The hash an expected block stands for: its own md5 if it is hash-form, else md5 of it."""
    if len(lines) == 1:
        m = is_hash_line(lines[0])
        if m:
            return m.group(2)
    return result_hash(lines)
