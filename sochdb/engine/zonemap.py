"""Zone maps: each row group's per-column minimum and maximum, so that a scan can skip groups
no row of which can satisfy its filter (``ts >= '2024-06-01'`` on time-ordered data reads the
newest segments only, and never decompresses the others).

Kept for integer, floating (without NaN), date, timestamp and short string columns; stored
with each segment in the manifest (or in the WAL record of a bulk load) as JSON. A group's
map stays valid while rows are only deleted (bounds of a superset), and is dropped when rows
are appended to it. Imports pyarrow only.
"""

from __future__ import annotations

import math
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

Stats = dict[str, tuple[Any, Any]]

#: Strings longer than this are not kept as bounds (the map stays small).
MAX_STRING = 64


def _kind(t: pa.DataType) -> str | None:
    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_floating(t):
        return "float"
    if pa.types.is_date(t) or pa.types.is_timestamp(t):
        return "time"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "str"
    return None


def compute(table: pa.Table) -> Stats:
    """Bounds of every column of a supported type that has a non-NULL value."""
    out: Stats = {}
    for name, col in zip(table.schema.names, table.columns):
        kind = _kind(col.type)
        if kind is None or len(col) == col.null_count:
            continue
        mm = pc.min_max(col)
        lo, hi = mm["min"].as_py(), mm["max"].as_py()
        if lo is None or hi is None:
            continue
        if kind == "float" and (math.isnan(lo) or math.isnan(hi) or
                                pc.any(pc.is_nan(col)).as_py()):
            continue  # NaN compares with nothing: no bounds
        if kind == "str" and (len(lo) > MAX_STRING or len(hi) > MAX_STRING):
            continue
        out[name] = (lo, hi)
    return out


def to_json(stats: Stats | None, types: dict[str, pa.DataType]) -> dict | None:
    """JSON form: numbers and strings as they are, dates and timestamps as their integer
    ticks; bounds that JSON cannot hold (infinities) are left out."""
    if not stats:
        return None
    out = {}
    for f, (lo, hi) in stats.items():
        t = types.get(f)
        if t is None:
            continue
        if _kind(t) == "time":
            ticks = pa.int32() if pa.types.is_date32(t) else pa.int64()
            lo, hi = (pa.scalar(v, t).cast(ticks).as_py() for v in (lo, hi))
        elif isinstance(lo, float) and not (math.isfinite(lo) and math.isfinite(hi)):
            continue
        out[f] = [lo, hi]
    return out or None


def from_json(data: dict | None, types: dict[str, pa.DataType]) -> Stats | None:
    if not data:
        return None
    out: Stats = {}
    for f, (lo, hi) in data.items():
        t = types.get(f)
        if t is None or _kind(t) is None:
            continue  # the column is gone or changed type
        if _kind(t) == "time":
            ticks = pa.int32() if pa.types.is_date32(t) else pa.int64()
            lo, hi = (pa.scalar(v, ticks).cast(t).as_py() for v in (lo, hi))
        out[f] = (lo, hi)
    return out or None


def can_match(stats: Stats, constraints: list[tuple[str, str, Any]]) -> bool:
    """False only if some ``(field, op, value)`` (op one of = < <= > >=) holds for no value
    within the field's bounds. Values that do not compare with the bounds prove nothing."""
    for field, op, value in constraints:
        bounds = stats.get(field)
        if bounds is None:
            continue
        lo, hi = bounds
        try:
            if op == "=":
                ok = lo <= value <= hi
            elif op == "<":
                ok = lo < value
            elif op == "<=":
                ok = lo <= value
            elif op == ">":
                ok = hi > value
            else:
                ok = hi >= value
        except TypeError:
            continue
        if not ok:
            return False
    return True
