"""Aggregate functions: SQL names mapped onto Arrow's hash aggregates.

Most aggregates run as one ``Table.group_by(...).aggregate(...)`` call in C++. The few that
Arrow has no exact kernel for (GROUP_CONCAT, SUM/AVG DISTINCT, MEDIAN, QUANTILE, MODE) are
computed from a per-row group id with numpy, still without a Python loop over rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sochdb.errors import DataError, NotSupportedError, ProgrammingError
from sochdb.sql import types as T

#: Hash aggregations of at least this many rows run on all cores. Smaller ones stay on one
#: thread so that their groups come out in order of first appearance.
THREADED_ROWS = 1 << 16

# name -> (arrow hash function or None for a numpy finisher, fixed result type or None)
AGGREGATES: dict[str, str | None] = {
    "count": "count", "count_star": "count_all", "sum": "sum", "avg": "mean", "mean": "mean",
    "min": "min", "max": "max", "first": "first", "any_value": "first", "arbitrary": "first",
    "last": "last", "bool_and": "all", "bool_or": "any", "every": "all",
    "logical_and": "all", "logical_or": "any",
    "stddev": "stddev", "stddev_samp": "stddev", "stddev_pop": "stddev",
    "variance": "variance", "var_samp": "variance", "var_pop": "variance",
    "product": "product", "group_concat": None, "string_agg": None, "listagg": None,
    "median": None, "quantile": None, "quantile_cont": None, "quantile_disc": None,
    "percentile_cont": None, "percentile_disc": None, "mode": None, "list": None,
    "array_agg": None, "count_if": "sum", "countif": "sum", "approx_count_distinct": None,
    "sum_no_overflow": "sum", "fsum": "sum", "kahan_sum": "sum", "total": "sum",
    "covar_pop": None, "covar_samp": None, "corr": None,
    "arg_max": None, "arg_min": None, "max_by": None, "min_by": None,
}

#: Aggregates of two arguments (y, x), both read as DOUBLE.
TWO_ARGUMENTS = ("covar_pop", "covar_samp", "corr")

#: Aggregates of (value, key) that return the value at the row of the largest/smallest key.
BY_KEY = ("arg_max", "arg_min", "max_by", "min_by")

_SQLGLOT_NAMES = {"count": "count", "sum": "sum", "avg": "avg", "min": "min", "max": "max",
                  "groupconcat": "group_concat", "stddev": "stddev", "stddevsamp":
                  "stddev_samp", "stddevpop": "stddev_pop", "variance": "variance",
                  "variancepop": "var_pop", "varsamp": "var_samp", "median": "median",
                  "quantile": "quantile", "percentilecont": "percentile_cont",
                  "percentiledisc": "percentile_disc", "arrayagg": "array_agg",
                  "first": "first", "last": "last", "anyvalue": "any_value",
                  "logicaland": "bool_and", "logicalor": "bool_or", "countif": "count_if",
                  "approxdistinct": "approx_count_distinct", "mode": "mode",
                  "arrayconcatagg": "list", "stringagg": "string_agg", "booland":
                  "bool_and", "boolor": "bool_or", "product": "product",
                  "covarpop": "covar_pop", "covarsamp": "covar_samp", "corr": "corr",
                  "argmax": "arg_max", "argmin": "arg_min"}


def aggregate_name(node) -> str | None:
    """The aggregate's SQL name if ``node`` is an aggregate call, else None."""
    from sqlglot import exp
    if isinstance(node, exp.Anonymous):
        n = node.name.lower()
        return n if n in AGGREGATES else None
    if isinstance(node, exp.AggFunc):
        cls = type(node).__name__.lower()
        return _SQLGLOT_NAMES.get(cls, cls if cls in AGGREGATES else None)
    return None


@dataclass
class AggSpec:
    """One aggregate call: name, input field (None for COUNT(*)), options, output field."""

    name: str
    arg: str | None
    arg_type: pa.DataType | None
    out: str
    distinct: bool = False
    filter: str | None = None
    separator: str = ","
    quantile: float = 0.5
    out_type: pa.DataType = field(default_factory=pa.int64)
    extra: dict[str, Any] = field(default_factory=dict)


def result_type(name: str, arg_type: pa.DataType | None) -> pa.DataType:
    k = T.kind(arg_type) if arg_type is not None else None
    if name in ("count", "count_star", "count_if", "countif", "approx_count_distinct"):
        return pa.int64()
    if name in ("sum", "sum_no_overflow", "product"):
        if k == "int" or k == "bool":
            return pa.int64()
        if k == "decimal":
            return pa.decimal128(38, arg_type.scale)
        return pa.float64()
    if name in ("fsum", "kahan_sum", "total"):
        return pa.float64()
    if name in ("avg", "mean", "stddev", "stddev_samp", "stddev_pop", "variance", "var_samp",
                "var_pop", "quantile_cont", "percentile_cont") or name in TWO_ARGUMENTS:
        return pa.float64()
    if name in ("median", "quantile", "quantile_disc", "percentile_disc", "min", "max",
                "first", "any_value", "arbitrary", "last", "mode") or name in BY_KEY:
        if name == "median" and k in ("int", "decimal"):
            return pa.float64()
        return arg_type if arg_type is not None else pa.null()
    if name in ("bool_and", "bool_or", "every", "logical_and", "logical_or"):
        return pa.bool_()
    if name in ("group_concat", "string_agg", "listagg"):
        return pa.string()
    if name in ("list", "array_agg"):
        return pa.list_(arg_type)
    raise NotSupportedError(f"unsupported aggregate {name}")


def run_aggregate(table: pa.Table, keys: list[str], specs: list[AggSpec]) -> pa.Table:
    """Group ``table`` by ``keys`` (all rows when empty) and compute ``specs``.

    Returns a table with the key fields followed by each spec's ``out`` field, one row per
    group in order of first appearance (one row in total without keys, even for no input).
    """
    native: list[tuple] = []
    native_out: list[AggSpec] = []
    special: list[AggSpec] = []
    work = table
    for s in specs:
        if s.filter is not None:
            work = _apply_filter(work, s)
        if s.name in ("sum", "sum_no_overflow") and s.arg is not None and \
                pa.types.is_integer(work.column(s.arg).type):
            work = _guard_int_sum(work, s)
        fn = AGGREGATES[s.name]
        if s.extra.get("row_fields"):
            special.append(s)
        elif s.distinct and s.name in ("count",):
            native.append((s.arg, "count_distinct", pc.CountOptions(mode="only_valid")))
            native_out.append(s)
        elif s.distinct and s.name in ("min", "max", "bool_and", "bool_or", "any_value",
                                       "first", "arbitrary"):
            native.append((s.arg, fn, None))
            native_out.append(s)
        elif s.distinct or fn is None or s.extra.get("order"):
            special.append(s)
        else:
            native.append((s.arg if s.arg is not None else [], fn, _options(s)))
            native_out.append(s)
    need_groups = bool(special)
    if not keys:
        out = _scalar_aggregate(work, native, native_out, [s for s in specs if s not in special])
        if not need_groups:
            return out
        gid = np.zeros(work.num_rows, dtype=np.int64)
        cols = {s.out: out.column(s.out) for s in specs if s not in special}
        for s in special:
            cols[s.out] = _special(work, s, gid, 1)
        return pa.table([cols[s.out] for s in specs], names=[s.out for s in specs])
    if need_groups:
        work = work.append_column("__row", pa.array(np.arange(work.num_rows, dtype=np.int64)))
        native.append(("__row", "list", None))
    aggs, plan = _fuse(work, native)
    threads = work.num_rows >= THREADED_ROWS and not need_groups
    work, widths = _short_string_keys(work, keys) if threads else (work, {})
    grouped = work.group_by(keys, use_threads=threads).aggregate(aggs)
    names = grouped.schema.names
    # Arrow names outputs "<field>_<function>"; the native specs come first, in order.
    key_cols = [grouped.column(k) if k not in widths else _strings_of(grouped.column(k),
                                                                      widths[k])
                for k in keys]
    agg_cols = _unfuse([grouped.column(i) for i, n in enumerate(names) if n not in keys], plan)
    out_cols: dict[str, Any] = {}
    for s, col in zip(native_out, agg_cols):
        out_cols[s.out] = _finish_native(s, col)
    if need_groups:
        rows_list = agg_cols[len(native_out)]
        ngroups = grouped.num_rows
        gid = np.empty(work.num_rows, dtype=np.int64)
        flat = pc.list_flatten(rows_list).to_numpy()
        parents = pc.list_parent_indices(rows_list).to_numpy()
        gid[flat] = parents
        for s in special:
            out_cols[s.out] = _special(work, s, gid, ngroups)
    arrays = key_cols + [out_cols[s.out] for s in specs]
    return pa.table(arrays, names=keys + [s.out for s in specs])


_CODE_TYPES = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}
_PADDED = {1: 1, 2: 2, 3: 4, 4: 4, 5: 8, 6: 8, 7: 8, 8: 8}  # value width -> code width


def _short_string_keys(work: pa.Table, keys: list[str]) -> tuple[pa.Table, dict[str, int]]:
    """String keys whose values all have the same byte length, 1 to 8 (flags, codes),
    grouped as unsigned integers made of the string bytes (zero-padded to 4 or 8 bytes):
    Arrow hashes integers about twice as fast as strings. Returns the table and, per
    replaced key, the width (see _strings_of)."""
    widths: dict[str, int] = {}
    for k in keys:
        col = work.column(k)
        if col.type != pa.string() or col.null_count or not len(col):
            continue
        parts, width = [], None
        for ch in col.chunks:
            if not len(ch):
                continue
            offs = np.frombuffer(ch.buffers()[1], dtype=np.int32, count=len(ch) + 1,
                                 offset=ch.offset * 4)
            lengths = np.diff(offs)
            w = int(lengths[0])
            if w not in _PADDED or (width is not None and w != width) or \
                    not (lengths == w).all():
                break
            width = w
            data = np.frombuffer(ch.buffers()[2], dtype=np.uint8)[offs[0]:offs[-1]]
            code = _PADDED[w]
            if code != w:
                padded = np.zeros((len(ch), code), dtype=np.uint8)
                padded[:, :w] = data.reshape(-1, w)
                data = padded.reshape(-1)
            parts.append(pa.array(data.view(_CODE_TYPES[code])))
        else:
            if width is not None:
                widths[k] = width
                work = work.set_column(work.schema.get_field_index(k), k,
                                       pa.chunked_array(parts))
    return work, widths


def _strings_of(codes: pa.ChunkedArray | pa.Array, width: int) -> pa.Array:
    """The strings whose bytes the integer ``codes`` hold (the inverse of the above)."""
    if isinstance(codes, pa.ChunkedArray):
        codes = codes.combine_chunks()
    code = _PADDED[width]
    raw = codes.to_numpy().astype(_CODE_TYPES[code], copy=False).view(np.uint8)
    n = len(codes)
    if code != width:
        raw = np.ascontiguousarray(raw.reshape(n, code)[:, :width])
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets.tobytes()),
                                       pa.py_buffer(raw.tobytes()))


def _fuse(work: pa.Table, native: list[tuple]) -> tuple[list[tuple], list[tuple]]:
    """Arrow hash aggregations for ``native``, sharing work between calls on one column:
    MIN and MAX become one MIN_MAX, and AVG of a float column is SUM / COUNT when both are
    computed anyway. Returns the aggregations and, per native call, how to get its column
    back (see _unfuse): ("col", i), ("field", i, "min"|"max") or ("avg", sum_i, count_i)."""
    aggs: list[tuple] = []
    plan: list[tuple] = []
    where: dict[tuple, int] = {}

    def add(arg, fn, opts) -> int:
        key = (str(arg), fn, repr(opts))
        if key not in where:
            where[key] = len(aggs)
            aggs.append((arg, fn) if opts is None else (arg, fn, opts))
        return where[key]

    calls = {(str(a), f) for a, f, _ in native}
    for arg, fn, opts in native:
        other = {"min": "max", "max": "min"}.get(fn)
        if other is not None and (str(arg), other) in calls:
            plan.append(("field", add(arg, "min_max", opts), fn))
            continue
        if fn == "mean" and (str(arg), "sum") in calls and isinstance(arg, str) and \
                pa.types.is_floating(work.schema.field(arg).type):
            sum_opts = next(o for a, f, o in native if str(a) == str(arg) and f == "sum")
            if work.column(arg).null_count == 0 and ("[]", "count_all") in calls:
                count = add([], "count_all", None)
            else:
                count = add(arg, "count", pc.CountOptions(mode="only_valid"))
            plan.append(("avg", add(arg, "sum", sum_opts), count))
            continue
        plan.append(("col", add(arg, fn, opts)))
    return aggs, plan


def _unfuse(cols: list, plan: list[tuple]) -> list:
    out = []
    for step in plan:
        if step[0] == "col":
            out.append(cols[step[1]])
        elif step[0] == "field":
            out.append(pc.struct_field(cols[step[1]], step[2]))
        else:  # AVG: NULL where no value was counted, like Arrow's mean
            total, count = cols[step[1]], cols[step[2]]
            out.append(pc.divide(pc.cast(total, pa.float64()),
                                 pc.if_else(pc.equal(count, 0), None, pc.cast(count, pa.float64()))))
    return out


_SCALAR = {"count_all": None, "count": pc.count, "count_distinct": pc.count_distinct,
           "sum": pc.sum, "mean": pc.mean, "min": pc.min, "max": pc.max, "all": pc.all,
           "any": pc.any, "stddev": pc.stddev, "variance": pc.variance, "product": pc.product,
           "first": pc.first, "last": pc.last}


def _scalar_aggregate(work: pa.Table, native, native_out: list[AggSpec], specs) -> pa.Table:
    """Aggregates over all rows (no GROUP BY) with the scalar kernels: one row out."""
    cols = {}
    for (arg, fn, opts), s in zip(native, native_out):
        if fn == "count_all":
            v = pa.scalar(work.num_rows, pa.int64())
        else:
            kernel = _SCALAR[fn]
            col = work.column(arg)
            if fn in ("first", "last") and not _skips_nulls(s):
                v = (col[0] if fn == "first" else col[-1]) if len(col) else \
                    pa.scalar(None, col.type)
            else:
                v = kernel(col, options=opts) if opts is not None else kernel(col)
        arr = pa.array([v.as_py()], type=v.type)
        cols[s.out] = _finish_native(s, pa.chunked_array([arr]))
    return pa.table([cols[s.out] for s in specs], names=[s.out for s in specs])


def _skips_nulls(s: AggSpec) -> bool:
    """FIRST/LAST take the value as it is, NULL included (DuckDB); ANY_VALUE skips NULLs."""
    return s.extra.get("skip_nulls", s.name in ("any_value", "arbitrary"))


def _options(s: AggSpec):
    if s.name in ("stddev", "stddev_samp", "variance", "var_samp"):
        return pc.VarianceOptions(ddof=1)
    if s.name in ("stddev_pop", "var_pop"):
        return pc.VarianceOptions(ddof=0)
    if s.name in ("first", "last", "any_value", "arbitrary"):
        return pc.ScalarAggregateOptions(skip_nulls=_skips_nulls(s))
    if s.name == "count":
        return pc.CountOptions(mode="only_valid")
    if s.name in ("sum", "product", "count_if", "countif", "fsum", "kahan_sum", "total",
                  "sum_no_overflow", "mean", "avg", "min", "max", "bool_and", "bool_or",
                  "every", "logical_and", "logical_or"):
        return pc.ScalarAggregateOptions(skip_nulls=True, min_count=1 if s.name not in (
            "count_if", "countif", "total") else 0)
    return None


def _apply_filter(work: pa.Table, s: AggSpec) -> pa.Table:
    """Implement ``agg(x) FILTER (WHERE cond)`` by nulling x where cond is not true."""
    mask = pc.fill_null(work.column(s.filter), False)
    if s.arg is None:  # COUNT(*) FILTER: count the rows where the condition holds
        name = s.out + "__f"
        s.name, s.arg = "count_if", name
        return work.append_column(name, pc.cast(mask, pa.int64()))
    name = s.out + "__f"
    col = work.column(s.arg)
    work = work.append_column(name, pc.if_else(mask, col, pa.scalar(None, col.type)))
    s.arg = name
    return work


def _guard_int_sum(work: pa.Table, s: AggSpec) -> pa.Table:
    """Arrow's integer sums wrap around on overflow. When the input's magnitude times its
    row count could pass BIGINT, sum exact DECIMAL(38,0) values instead; narrowing the
    result back to BIGINT then reports an overflow (see _finish_native)."""
    col = work.column(s.arg)
    mm = pc.min_max(col)
    lo, hi = mm["min"].as_py(), mm["max"].as_py()
    if lo is None or max(abs(lo), abs(hi)) * (len(col) - col.null_count) < 2**63:
        return work
    name = s.arg + "__dec"
    s.arg = name
    s.extra["checked"] = True
    return work.append_column(name, pc.cast(col, pa.decimal128(38, 0)))


def _finish_native(s: AggSpec, col: pa.ChunkedArray):
    t = s.out_type
    if s.extra.get("checked"):
        try:
            return pc.cast(col, t)
        except pa.ArrowInvalid:
            raise DataError(f"{s.extra.get('sql') or s.name.upper()}: the sum is out of "
                            f"range for {T.sql_type_name(t)} (integer overflow)") from None
    if s.name in ("total",):
        col = pc.fill_null(col, 0)
    if col.type != t and not pa.types.is_null(t):
        try:
            return pc.cast(col, t)
        except pa.ArrowInvalid:
            return col
    return col


def _special(work: pa.Table, s: AggSpec, gid: np.ndarray, ngroups: int):
    name = s.name
    if name in TWO_ARGUMENTS:
        return _covariance(work, s, gid, ngroups)
    if s.extra.get("row_fields"):
        return _count_distinct_rows(work, s, gid, ngroups)
    if name in BY_KEY:
        return _value_at_extreme_key(work, s, gid, ngroups)
    if name == "approx_count_distinct":
        s2 = AggSpec("count", s.arg, s.arg_type, s.out, distinct=True)
        return _distinct_reduce(work, s2, gid, ngroups)
    if s.distinct and name in ("sum", "avg", "mean", "product", "stddev", "stddev_samp",
                               "stddev_pop", "variance", "var_samp", "var_pop",
                               "sum_no_overflow", "fsum", "kahan_sum", "total", "median"):
        return _distinct_reduce(work, s, gid, ngroups)
    values = work.column(s.arg).combine_chunks() if s.arg is not None else None
    valid = values.is_valid().to_numpy(zero_copy_only=False) if values is not None else None
    if name in ("first", "last", "list", "array_agg") and not _skips_nulls(s):
        valid = np.ones(len(values), dtype=bool)
    if s.distinct and values is not None:
        # Keep the first occurrence of each (group, value) pair.
        pairs = pa.table({"g": pa.array(gid), "v": values, "i": np.arange(len(gid))})
        firsts = pairs.group_by(["g", "v"], use_threads=False).aggregate([("i", "min")])
        keep = np.zeros(len(gid), dtype=bool)
        keep[firsts.column("i_min").to_numpy()] = True
        valid = valid & keep
    idx = np.nonzero(valid)[0]
    keys = s.extra.get("order")
    if keys:
        # Arrow places NULLs the same way for every sort key: sort each key's NULL flag
        # first to honour its own NULLS FIRST / LAST.
        cols, sort_keys = [pa.array(gid[idx])], [("g", "ascending")]
        for i, (f, d, nulls_first) in enumerate(keys):
            k = work.column(f).take(pa.array(idx))
            cols += [k.is_null(), k]
            sort_keys += [(f"n{i}", "descending" if nulls_first else "ascending"), (f"k{i}", d)]
        sub = pa.table(cols, names=[name for name, _ in sort_keys])
        perm = pc.sort_indices(sub, sort_keys=sort_keys).to_numpy()
        order = idx[perm]
    else:
        order = idx[np.argsort(gid[idx], kind="stable")]
    g_sorted = gid[order]
    counts = np.bincount(g_sorted, minlength=ngroups)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    vals = values.take(pa.array(order))
    if name in ("group_concat", "string_agg", "listagg"):
        if T.kind(vals.type) != "str":
            from sochdb.sql.types import cast as sql_cast
            vals = sql_cast(vals, pa.string())
        lists = pa.ListArray.from_arrays(pa.array(offsets), vals)
        joined = pc.binary_join(lists, s.separator)
        return pc.if_else(pc.equal(pa.array(counts), 0), pa.scalar(None, pa.string()), joined)
    if name in ("list", "array_agg"):
        lists = pa.ListArray.from_arrays(pa.array(offsets), vals)
        return pc.if_else(pc.equal(pa.array(counts), 0), pa.scalar(None, lists.type), lists)
    if name in ("median", "quantile", "quantile_cont", "quantile_disc", "percentile_cont",
                "percentile_disc"):
        return _quantiles(vals, g_sorted, offsets, counts, s)
    if name == "mode":
        return _mode(vals, g_sorted, ngroups, s)
    if name in ("first", "any_value", "arbitrary", "last"):
        pick = offsets[:-1] if name != "last" else offsets[1:] - 1
        pos = np.where(counts > 0, pick, -1).astype(np.int64)
        return vals.take(pa.array(pos, mask=pos < 0))
    raise NotSupportedError(f"unsupported aggregate {name.upper()}")


def _distinct_reduce(work: pa.Table, s: AggSpec, gid: np.ndarray, ngroups: int):
    values = work.column(s.arg)
    pairs = pa.table({"g": pa.array(gid), "v": values}).filter(pc.is_valid(values))
    uniq = pairs.group_by(["g", "v"], use_threads=False).aggregate([])
    fn = AGGREGATES[s.name] or "sum"
    if s.name == "median":
        fn = "approximate_median"
    if s.name == "count":
        fn = "count"
    opts = _options(AggSpec(s.name, "v", s.arg_type, "x"))
    agg = uniq.group_by(["g"], use_threads=False).aggregate([("v", fn, opts) if opts else
                                                              ("v", fn)])
    out = pa.nulls(ngroups, agg.column(1).type) if s.name != "count" else \
        pa.array(np.zeros(ngroups, dtype=np.int64))
    pos = np.full(ngroups, -1, dtype=np.int64)
    pos[agg.column("g").to_numpy()] = np.arange(agg.num_rows)
    res = agg.column(1).combine_chunks().take(pa.array(pos, mask=pos < 0))
    if s.name == "count":
        res = pc.fill_null(res, 0)
    del out
    return pc.cast(res, s.out_type) if res.type != s.out_type else res


def _value_at_extreme_key(work: pa.Table, s: AggSpec, gid: np.ndarray,
                          ngroups: int) -> pa.Array:
    """ARG_MAX(value, key) / ARG_MIN: per group, the value of the first row with the largest
    (smallest) non-NULL key; NULL when a group has no such row."""
    values = work.column(s.arg).combine_chunks()
    keys = work.column(s.extra["arg2"]).combine_chunks()
    idx = np.nonzero(keys.is_valid().to_numpy(zero_copy_only=False))[0]
    if s.filter is not None:
        keep = pc.fill_null(work.column(s.filter), False).combine_chunks()
        idx = idx[keep.take(pa.array(idx)).to_numpy(zero_copy_only=False)]
    order = "descending" if s.name in ("arg_max", "max_by") else "ascending"
    rows = pa.table({"g": gid[idx], "k": keys.take(pa.array(idx)), "i": idx})
    perm = pc.sort_indices(rows, sort_keys=[("g", "ascending"), ("k", order),
                                            ("i", "ascending")]).to_numpy()
    g = gid[idx][perm]
    first = np.ones(len(g), dtype=bool)
    first[1:] = g[1:] != g[:-1]
    pos = np.full(ngroups, -1, dtype=np.int64)
    pos[g[first]] = idx[perm][first]
    return values.take(pa.array(pos, mask=pos < 0))


def _count_distinct_rows(work: pa.Table, s: AggSpec, gid: np.ndarray,
                         ngroups: int) -> pa.Array:
    """COUNT(DISTINCT (a, b, ...)): the distinct field combinations per group. A row value is
    never NULL, and its NULL fields compare equal here, as Arrow's grouping keys do."""
    fields = s.extra["row_fields"]
    rows = pa.table([pa.array(gid)] + [work.column(f) for f in fields],
                    names=["g"] + [f"k{i}" for i in range(len(fields))])
    if s.filter is not None:
        rows = rows.filter(pc.fill_null(work.column(s.filter), False))
    uniq = rows.group_by(rows.schema.names, use_threads=False).aggregate([])
    counts = np.bincount(uniq.column("g").to_numpy(), minlength=ngroups)
    return pa.array(counts.astype(np.int64))


def _covariance(work: pa.Table, s: AggSpec, gid: np.ndarray, ngroups: int) -> pa.Array:
    """COVAR_POP / COVAR_SAMP / CORR of (y, x) per group over rows where both are non-NULL,
    in two passes (group means first) so large offsets do not cancel precision."""
    y = work.column(s.arg).combine_chunks()
    x = work.column(s.extra["arg2"]).combine_chunks()
    both = pc.and_(pc.is_valid(y), pc.is_valid(x)).to_numpy(zero_copy_only=False)
    g = gid[both]
    yv = y.filter(pa.array(both)).to_numpy(zero_copy_only=False).astype(np.float64)
    xv = x.filter(pa.array(both)).to_numpy(zero_copy_only=False).astype(np.float64)
    n = np.bincount(g, minlength=ngroups).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        my = np.bincount(g, weights=yv, minlength=ngroups) / n
        mx = np.bincount(g, weights=xv, minlength=ngroups) / n
        dy, dx = yv - my[g], xv - mx[g]
        sxy = np.bincount(g, weights=dx * dy, minlength=ngroups)
        if s.name == "covar_pop":
            out, null = sxy / n, n < 1
        elif s.name == "covar_samp":
            out, null = sxy / (n - 1), n < 2
        else:
            sxx = np.bincount(g, weights=dx * dx, minlength=ngroups)
            syy = np.bincount(g, weights=dy * dy, minlength=ngroups)
            out, null = sxy / np.sqrt(sxx * syy), n < 1
    return pa.array(out, pa.float64(), mask=null)


def _quantiles(vals: pa.Array, g_sorted: np.ndarray, offsets: np.ndarray,
               counts: np.ndarray, s: AggSpec):
    """QUANTILE/MEDIAN per group: one sort by (group, value), then index arithmetic."""
    q = s.quantile
    # QUANTILE is QUANTILE_DISC (DuckDB): it returns a value of the column.
    disc = s.name in ("quantile", "quantile_disc", "percentile_disc")
    numeric = T.kind(vals.type) in ("int", "float", "decimal")
    if not disc and not numeric:
        raise DataError(f"{s.name.upper()}() interpolates numbers, not "
                        f"{T.sql_type_name(vals.type)}; use QUANTILE_DISC")
    perm = pc.sort_indices(pa.table({"g": pa.array(g_sorted), "v": vals}),
                           sort_keys=[("g", "ascending"), ("v", "ascending")])
    ordered = vals.take(perm)
    empty = counts == 0
    start = offsets[:-1].astype(np.int64)
    if disc:
        # The first value whose cumulative share reaches q (SQL's PERCENTILE_DISC).
        k = np.maximum(np.ceil(q * counts).astype(np.int64) - 1, 0)
        pos = np.where(empty, -1, start + k)
        return ordered.take(pa.array(pos, mask=empty))
    x = pc.cast(ordered, pa.float64()).to_numpy(zero_copy_only=False)
    p = q * np.maximum(counts - 1, 0)
    lo, hi = np.floor(p).astype(np.int64), np.ceil(p).astype(np.int64)
    lo_v = x[np.where(empty, 0, start + lo)] if len(x) else np.zeros(len(counts))
    hi_v = x[np.where(empty, 0, start + hi)] if len(x) else np.zeros(len(counts))
    return pa.array(lo_v + (hi_v - lo_v) * (p - lo), pa.float64(), mask=empty)


def _mode(vals: pa.Array, g_sorted: np.ndarray, ngroups: int, s: AggSpec):
    """The most frequent value per group; ties go to the value seen first."""
    t = pa.table({"g": pa.array(g_sorted), "v": vals,
                  "i": pa.array(np.arange(len(g_sorted), dtype=np.int64))})
    counts = t.group_by(["g", "v"], use_threads=False).aggregate(
        [("i", "min"), ([], "count_all")])
    perm = pc.sort_indices(counts, sort_keys=[("g", "ascending"), ("count_all", "descending"),
                                              ("i_min", "ascending")])
    best = counts.take(perm)
    g = best.column("g").to_numpy()
    first = np.ones(len(g), dtype=bool)
    first[1:] = g[1:] != g[:-1]
    pos = np.full(ngroups, -1, dtype=np.int64)
    pos[g[first]] = np.nonzero(first)[0]
    return best.column("v").combine_chunks().take(pa.array(pos, mask=pos < 0))


def check_nested(node, name: str) -> None:
    from sqlglot import exp
    for inner in node.find_all(exp.AggFunc):
        if inner is not node:
            raise ProgrammingError(f"aggregate function calls cannot be nested: {node.sql()}")
    del name
