"""Scalar SQL functions, compiled to pyarrow.compute calls.

A function is found by its SQL name (sqlglot's class for known functions, the raw name for
others) and compiled once per statement with its argument types settled. Unknown names are a
BindError that suggests the closest known function.
"""

from __future__ import annotations

import re
from typing import Any, Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from sochdb.errors import BindError, DataError, NotSupportedError, ProgrammingError
from sochdb.sql import types as T
from sochdb.sql.expressions import (BOOL, NULL, CExpr, ExprCompiler, bool_expr, case_when,
                                    cast_expr, coalesce, const_expr, materialize, to_array,
                                    unify)
from sochdb.sql_names import suggest

Handler = Callable[[ExprCompiler, exp.Expression, list[CExpr]], CExpr]
FUNCTIONS: dict[str, Handler] = {}

# sqlglot class name (lowercase) -> our SQL name, where they differ
_CLASS_NAMES = {
    "strposition": "instr", "stddev": "stddev", "pow": "power", "substring": "substr",
    "concatws": "concat_ws", "currentdate": "current_date", "currenttimestamp": "now",
    "currenttime": "current_time", "datetrunc": "date_trunc", "timestamptrunc": "date_trunc",
    "timetostr": "strftime", "strtotime": "strptime", "regexpreplace": "regexp_replace",
    "regexpextract": "regexp_extract", "splitpart": "split_part", "startswith": "starts_with",
    "endswith": "ends_with", "arraysize": "len", "initcap": "initcap", "ln": "ln",
    "log": "log", "dateadd": "date_add", "datediff": "date_diff", "unixtodate": "to_timestamp",
    "unixtotime": "to_timestamp", "tsordsadd": "date_add", "chr": "chr", "unicode": "unicode",
    "lower": "lower", "upper": "upper", "length": "length", "left": "left", "right": "right",
    "md5": "md5", "sha": "sha1", "sha2": "sha256", "anonymous": None, "cosinedistance":
    "array_cosine_distance", "euclideandistance": "array_distance", "dotproduct":
    "array_inner_product", "arraycontains": "list_contains", "typeof": "typeof",
    "rand": "random", "datefromparts": "make_date", "explode": "unnest",
    "dayofweek": "dayofweek", "dayofyear": "dayofyear", "dayofmonth": "dayofmonth",
    "weekofyear": "weekofyear", "dayofweekiso": "isodow", "split": "string_split",
    "arraytostring": "array_to_string",
}


def register(*names: str):
    def deco(f: Handler) -> Handler:
        for n in names:
            FUNCTIONS[n] = f
        return f
    return deco


def function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return node.name.lower()
    cls = type(node).__name__.lower()
    mapped = _CLASS_NAMES.get(cls)
    if mapped:
        return mapped
    try:
        return node.sql_name().lower()
    except Exception:  # pragma: no cover - sqlglot classes without a SQL name
        return cls


def written_name(node: exp.Func) -> str:
    """The function's name as SQL spells it, for messages: sqlglot may have parsed it into a
    class named otherwise (unnest -> Explode), so render the call in DuckDB's dialect."""
    if isinstance(node, exp.Anonymous):
        return node.name.lower()
    m = re.match(r"\s*([A-Za-z_][\w]*)\s*\(", node.sql(dialect="duckdb"))
    return m.group(1).lower() if m else function_name(node)


def positional_args(node: exp.Expression) -> list[exp.Expression]:
    out: list[exp.Expression] = []
    for key in node.arg_types:
        v = node.args.get(key)
        if v is None:
            continue
        if isinstance(v, list):
            out.extend(x for x in v if isinstance(x, exp.Expression))
        elif isinstance(v, exp.Expression):
            out.append(v)
    return out


def compile_function(c: ExprCompiler, node: exp.Func) -> CExpr:
    name = function_name(node)
    handler = FUNCTIONS.get(name)
    if handler is None and not isinstance(node, exp.Anonymous):
        # sqlglot may name its class otherwise than SQL does (epoch -> TimeToUnix)
        name = written_name(node)
        handler = FUNCTIONS.get(name)
    if handler is None:
        from sochdb.sql.aggregates import AGGREGATES
        if name in AGGREGATES:
            raise ProgrammingError(f"aggregate function {name.upper()} is not allowed in "
                                   f"{c.context}: {node.sql()}")
        written = written_name(node)
        raise BindError(f"unknown function {written.upper()}()"
                        f"{suggest(written, list(FUNCTIONS) + list(AGGREGATES), cutoff=0.75)}",
                        function=written)
    special = _SPECIAL_ARGS.get(name)
    if special is not None:
        return handler(c, node, [])
    args = [c.compile(a) for a in positional_args(node)]
    return handler(c, node, args)


_SPECIAL_ARGS: dict[str, bool] = {}


def special(*names: str):
    """Handlers that read their arguments from the node themselves."""
    def deco(f: Handler) -> Handler:
        for n in names:
            FUNCTIONS[n] = f
            _SPECIAL_ARGS[n] = True
        return f
    return deco


def _nargs(node: exp.Expression, args: list[CExpr], lo: int, hi: int | None = None) -> None:
    hi = lo if hi is None else hi
    if not lo <= len(args) <= hi:
        want = str(lo) if lo == hi else f"{lo} to {hi}"
        raise ProgrammingError(f"{function_name(node).upper()}() takes {want} arguments, "
                               f"got {len(args)}: {node.sql()}")


def _unary(f: Callable, out: pa.DataType | None = None, cast_to: pa.DataType | None = None):
    def h(c: ExprCompiler, node, args):
        _nargs(node, args, 1)
        a = args[0]
        if T.kind(a.type) == "null":
            return const_expr(None, out or pa.float64(), node)
        if cast_to is not None:
            a = cast_expr(a, cast_to)
        typ = out or a.type
        return CExpr(lambda t, ctx: f(a.fn(t, ctx)), typ, a.const, node)
    return h


def _numeric(a: CExpr) -> CExpr:
    if T.kind(a.type) in ("str", "bool"):
        return cast_expr(a, pa.float64())
    return a


# -- math ------------------------------------------------------------------------------

@register("abs")
def _abs(c, node, args):
    _nargs(node, args, 1)
    a = _numeric(args[0])
    if T.kind(a.type) == "null":
        return const_expr(None, pa.int64(), node)
    return CExpr(lambda t, ctx: pc.abs_checked(a.fn(t, ctx)), a.type, a.const, node)


def _float_math(f):
    def h(c, node, args):
        _nargs(node, args, 1)
        a = cast_expr(_numeric(args[0]), pa.float64())

        def run(t, ctx):
            v = a.fn(t, ctx)
            try:
                return f(v)
            except pa.ArrowInvalid as e:
                raise DataError(f"{node.sql()}: {e}") from None
        return CExpr(run, pa.float64(), a.const, node)
    return h


def _nan_to_null(f):
    def g(v):
        r = f(v)
        return pc.if_else(pc.is_nan(r), pa.scalar(None, pa.float64()), r)
    return g


register("sqrt")(_float_math(lambda v: _nan_to_null(pc.sqrt)(v)))
register("ln")(_float_math(lambda v: _log_guard(pc.ln, v)))
register("log10")(_float_math(lambda v: _log_guard(pc.log10, v)))
register("log2")(_float_math(lambda v: _log_guard(pc.log2, v)))
register("exp")(_float_math(pc.exp))
for _n, _f in (("sin", pc.sin), ("cos", pc.cos), ("tan", pc.tan), ("asin", pc.asin),
               ("acos", pc.acos), ("atan", pc.atan)):
    register(_n)(_float_math(_f))
register("cbrt")(_float_math(
    lambda v: pc.multiply(pc.sign(v), pc.power(pc.abs(v), 1.0 / 3.0))))
register("degrees")(_float_math(lambda v: pc.multiply(v, 180.0 / np.pi)))
register("radians")(_float_math(lambda v: pc.multiply(v, np.pi / 180.0)))


def _log_guard(f, v):
    bad = pc.less_equal(v, pa.scalar(0.0))
    safe = pc.if_else(bad, pa.scalar(None, pa.float64()), v)
    return f(safe)


@register("log")
def _log(c, node, args):
    _nargs(node, args, 1, 2)
    if len(args) == 1:
        return _float_math(lambda v: _log_guard(pc.log10, v))(c, node, args)
    base, x = (cast_expr(_numeric(a), pa.float64()) for a in args)
    return CExpr(lambda t, ctx: pc.divide(_log_guard(pc.ln, x.fn(t, ctx)),
                                          _log_guard(pc.ln, base.fn(t, ctx))),
                 pa.float64(), base.const and x.const, node)


@register("pi")
def _pi(c, node, args):
    return const_expr(float(np.pi), pa.float64(), node)


@register("power", "pow")
def _power(c, node, args):
    _nargs(node, args, 2)
    a, b = (cast_expr(_numeric(x), pa.float64()) for x in args)
    return CExpr(lambda t, ctx: pc.power(a.fn(t, ctx), b.fn(t, ctx)), pa.float64(),
                 a.const and b.const, node)


@register("atan2")
def _atan2(c, node, args):
    _nargs(node, args, 2)
    y, x = (cast_expr(_numeric(a), pa.float64()) for a in args)
    return CExpr(lambda t, ctx: pc.atan2(y.fn(t, ctx), x.fn(t, ctx)), pa.float64(),
                 y.const and x.const, node)


def _float_test(f: Callable):
    def h(c, node, args):
        _nargs(node, args, 1)
        a = cast_expr(_numeric(args[0]), pa.float64())
        return CExpr(lambda t, ctx: f(a.fn(t, ctx)), BOOL, a.const, node)
    return h


register("isnan")(_float_test(pc.is_nan))
register("isinf")(_float_test(pc.is_inf))
register("isfinite")(_float_test(pc.is_finite))


def _int_pair(f: Callable):
    """GCD / LCM of two integers, in numpy over the whole column."""
    def h(c, node, args):
        _nargs(node, args, 2)
        for a in args:
            if T.kind(a.type) not in ("int", "null"):
                raise BindError(f"{function_name(node).upper()}() takes integers, not "
                                f"{T.sql_type_name(a.type)}: {node.sql()}")
        x, y = (cast_expr(a, pa.int64()) for a in args)

        def run(t, ctx):
            vx, vy = x.fn(t, ctx), y.fn(t, ctx)
            scalar = isinstance(vx, pa.Scalar) and isinstance(vy, pa.Scalar)
            n = 1 if scalar else t.num_rows
            ax, ay = to_array(vx, n), to_array(vy, n)
            valid = pc.and_(ax.is_valid(), ay.is_valid()).to_numpy(zero_copy_only=False)
            nx = ax.fill_null(0).to_numpy(zero_copy_only=False)
            ny = ay.fill_null(0).to_numpy(zero_copy_only=False)
            out = pa.array(f(nx, ny), pa.int64(), mask=~valid)
            return out[0] if scalar else out
        return CExpr(run, pa.int64(), x.const and y.const, node)
    return h


register("gcd", "greatest_common_divisor")(_int_pair(np.gcd))
register("lcm", "least_common_multiple")(_int_pair(np.lcm))


@register("sign")
def _sign(c, node, args):
    _nargs(node, args, 1)
    a = _numeric(args[0])
    out = pa.int64() if T.kind(a.type) == "int" else pa.float64()
    return CExpr(lambda t, ctx: pc.cast(pc.sign(a.fn(t, ctx)), out), out, a.const, node)


@register("mod")
def _mod_fn(c, node, args):
    _nargs(node, args, 2)
    from sochdb.sql.arith import compile_arith
    return compile_arith("Mod", args[0], args[1], c.settings, node)


def _rounding(kind: str):
    def h(c, node, args):
        _nargs(node, args, 1, 2)
        a = _numeric(args[0])
        if T.kind(a.type) == "null":
            return const_expr(None, pa.float64(), node)
        digits = 0
        if len(args) == 2:
            d = args[1]
            if not d.const:
                raise NotSupportedError(f"the precision of {kind.upper()} must be a constant")
            digits = d.fn(None, None).as_py() or 0
        if T.kind(a.type) == "int" and digits >= 0:
            return a
        # Halves round away from zero (DuckDB, PostgreSQL, SQLite): round(-2.5) = -3.
        f = {"round": lambda v: pc.round(v, ndigits=digits, round_mode="half_towards_infinity"),
             "ceil": pc.ceil, "floor": pc.floor, "trunc": pc.trunc}[kind]
        typ = a.type
        if T.kind(typ) == "decimal":
            if kind == "round":
                return CExpr(lambda t, ctx: pc.round(a.fn(t, ctx), ndigits=digits,
                                                     round_mode="half_towards_infinity"),
                             typ, a.const, node)
            typ = pa.decimal128(typ.precision, 0)
            return CExpr(lambda t, ctx: pc.cast(f(a.fn(t, ctx)), typ), typ, a.const, node)
        if kind in ("ceil", "floor", "trunc") and len(args) == 2 and digits:
            scale = 10.0 ** digits
            return CExpr(lambda t, ctx: pc.divide(f(pc.multiply(a.fn(t, ctx), scale)), scale),
                         pa.float64(), a.const, node)
        return CExpr(lambda t, ctx: f(a.fn(t, ctx)), pa.float64(), a.const, node)
    return h


register("round")(_rounding("round"))
register("ceil", "ceiling")(_rounding("ceil"))
register("floor")(_rounding("floor"))
register("trunc")(_rounding("trunc"))


@register("greatest", "least")
def _greatest(c, node, args):
    if not args:
        raise ProgrammingError(f"{node.sql()} needs at least one argument")
    args, typ = unify(args)
    f = pc.max_element_wise if function_name(node) == "greatest" else pc.min_element_wise
    if typ == NULL:
        return const_expr(None, NULL, node)

    def run(t, ctx):
        vals = [a.fn(t, ctx) for a in args]
        return f(*vals, skip_nulls=True)
    return CExpr(run, typ, all(a.const for a in args), node)


@register("random")
def _random(c, node, args):
    return CExpr(lambda t, ctx: pc.random(t.num_rows if t is not None else 1)
                 if t is not None and t.num_rows != 1 else
                 pa.scalar(float(np.random.random())), pa.float64(), False, node)


# -- strings ---------------------------------------------------------------------------

def _text(a: CExpr) -> CExpr:
    k = T.kind(a.type)
    if k == "str":
        return a
    if k == "null":
        return CExpr(a.fn, pa.string(), a.const, a.sql) if False else \
            const_expr(None, pa.string(), a.sql)
    return cast_expr(a, pa.string())


def _string_fn(f: Callable, out: pa.DataType | None = None):
    def h(c, node, args):
        _nargs(node, args, 1)
        a = args[0]
        if T.kind(a.type) == "bytes" and f in (pc.utf8_length, _octets):
            return CExpr(lambda t, ctx: pc.cast(pc.binary_length(a.fn(t, ctx)), pa.int64()),
                         pa.int64(), a.const, node)
        a = _text(a)
        return CExpr(lambda t, ctx: f(a.fn(t, ctx)), out or pa.string(), a.const, node)
    return h


register("lower", "lcase")(_string_fn(pc.utf8_lower))
register("upper", "ucase")(_string_fn(pc.utf8_upper))
register("length", "char_length", "character_length", "len")(
    _string_fn(lambda v: pc.cast(pc.utf8_length(v), pa.int64()), pa.int64()))
register("reverse")(_string_fn(pc.utf8_reverse))
register("initcap")(_string_fn(pc.utf8_title))
def _octets(v):
    return pc.cast(pc.binary_length(v), pa.int64())


register("octet_length", "strlen")(_string_fn(_octets, pa.int64()))


@register("ascii", "unicode")
def _ascii(c, node, args):
    _nargs(node, args, 1)
    a = _text(args[0])
    return _per_value(a, lambda s: ord(s[0]) if s else None, pa.int64(), node)


@register("chr")
def _chr(c, node, args):
    _nargs(node, args, 1)
    a = cast_expr(args[0], pa.int64())
    return _per_value(a, chr, pa.string(), node)


def _per_value(a: CExpr, f: Callable, out: pa.DataType, node) -> CExpr:
    """A function with no Arrow kernel, applied to each distinct value (not each row)."""
    def run(t, ctx):
        v = a.fn(t, ctx)
        if isinstance(v, pa.Scalar):
            return pa.scalar(None if not v.is_valid else f(v.as_py()), out)
        arr = to_array(v, len(v))
        uniq = pc.unique(arr)
        mapped = pa.array([None if x is None else f(x) for x in uniq.to_pylist()], out)
        return mapped.take(pc.index_in(arr, value_set=uniq))
    return CExpr(run, out, a.const, node)


@special("substr", "substring")
def _substr(c, node, args):
    if isinstance(node, exp.Substring):
        if node.args.get("start") is None:
            raise ProgrammingError(f"SUBSTR() takes 2 to 3 arguments (string, start[, "
                                   f"length]), got 1: {node.sql()}")
        s = c.compile(node.this)
        start = c.compile(node.args["start"])
        length = c.compile(node.args["length"]) if node.args.get("length") else None
    else:
        raw = [c.compile(a) for a in positional_args(node)]
        _nargs(node, raw, 2, 3)
        s, start = raw[0], raw[1]
        length = raw[2] if len(raw) > 2 else None
    s = _text(s)
    start = cast_expr(start, pa.int64())
    length = cast_expr(length, pa.int64()) if length is not None else None
    const = s.const and start.const and (length is None or length.const)
    if start.const and (length is None or length.const):
        def fixed(t, ctx):
            st = start.fn(t, ctx).as_py()
            ln = length.fn(t, ctx).as_py() if length is not None else None
            v = s.fn(t, ctx)
            if st is None or (length is not None and ln is None):
                return pa.scalar(None, pa.string()) if isinstance(v, pa.Scalar) else \
                    pa.nulls(len(v), pa.string())
            b, e = _sql_slice(st, ln)
            return pc.utf8_slice_codeunits(v, start=b, stop=e) if e is not None else \
                pc.utf8_slice_codeunits(v, start=b)
        return CExpr(fixed, pa.string(), const, node)

    def varying(t, ctx):
        n = t.num_rows
        vs = to_array(s.fn(t, ctx), n).to_pylist()
        sts = to_array(start.fn(t, ctx), n).to_pylist()
        lns = to_array(length.fn(t, ctx), n).to_pylist() if length is not None else [None] * n
        out = []
        for v, st, ln in zip(vs, sts, lns):
            if v is None or st is None or (length is not None and ln is None):
                out.append(None)
                continue
            b, e = _sql_slice(st, ln)
            out.append(v[b:e] if e is not None else v[b:])
        return pa.array(out, pa.string())
    return CExpr(varying, pa.string(), const, node)


def _sql_slice(start: int, length: int | None) -> tuple[int, int | None]:
    """SQL SUBSTR(s, start, length) (1-based; 0 and negative starts as SQLite/DuckDB) as a
    Python slice."""
    if start > 0:
        b = start - 1
    elif start == 0:
        b = 0
        if length is not None:
            length -= 1
    else:
        b = start
    if length is None:
        return b, None
    if length < 0:  # the characters before the start (DuckDB, SQLite)
        return (max(b + length, 0) if b >= 0 else b + length), b
    e = b + length
    if b < 0 and e >= 0:
        return b, None
    return b, e


@special("trim", "ltrim", "rtrim", "btrim")
def _trim(c, node, args):
    name = function_name(node)
    if isinstance(node, exp.Trim):
        s = _text(c.compile(node.this))
        chars = node.args.get("expression")
        pos = (node.args.get("position") or "BOTH").upper()
    else:
        raw = positional_args(node)
        if not 1 <= len(raw) <= 2:
            raise BindError(f"no function matches {name}() with {len(raw)} arguments; "
                            f"{name.upper()} takes a string and optional characters")
        s = _text(c.compile(raw[0]))
        chars = raw[1] if len(raw) > 1 else None
        pos = {"ltrim": "LEADING", "rtrim": "TRAILING"}.get(name, "BOTH")
    chars_e = _text(c.compile(chars)) if chars is not None else None
    f_ws = {"LEADING": pc.utf8_ltrim_whitespace, "TRAILING": pc.utf8_rtrim_whitespace,
            "BOTH": pc.utf8_trim_whitespace}[pos]
    f_ch = {"LEADING": pc.utf8_ltrim, "TRAILING": pc.utf8_rtrim, "BOTH": pc.utf8_trim}[pos]

    def run(t, ctx):
        v = s.fn(t, ctx)
        if chars_e is None:
            # SQL trims spaces only (not tabs or newlines).
            return f_ch(v, characters=" ")
        ch = chars_e.fn(t, ctx)
        if not isinstance(ch, pa.Scalar):
            n = t.num_rows
            vals = to_array(materialize(v, n, pa.string()), n)
            chs = to_array(ch, n)
            out = pa.nulls(n, pa.string())
            for cv in pc.unique(chs.drop_null()).to_pylist():
                sel = pc.fill_null(pc.equal(chs, pa.scalar(cv)), False)
                out = pc.if_else(sel, f_ch(vals, characters=cv) if cv else vals, out)
            return out
        if not ch.is_valid:
            return pa.scalar(None, pa.string()) if isinstance(v, pa.Scalar) else \
                pa.nulls(len(v), pa.string())
        return f_ch(v, characters=ch.as_py()) if ch.as_py() else v
    del f_ws
    return CExpr(run, pa.string(), s.const and (chars_e is None or chars_e.const), node)


@register("replace")
def _replace(c, node, args):
    _nargs(node, args, 3)
    s, old, new = (_text(a) for a in args)
    if not (old.const and new.const):
        raise NotSupportedError("REPLACE needs constant search and replacement strings")

    def run(t, ctx):
        o, n = old.fn(t, ctx), new.fn(t, ctx)
        v = s.fn(t, ctx)
        if not o.is_valid or not n.is_valid:
            return pa.scalar(None, pa.string()) if isinstance(v, pa.Scalar) else \
                pa.nulls(len(v), pa.string())
        if o.as_py() == "":
            return v
        return pc.replace_substring(v, pattern=o.as_py(), replacement=n.as_py())
    return CExpr(run, pa.string(), s.const, node)


def concat_exprs(args: list[CExpr], sql: str, null_propagates: bool, sep: CExpr | None = None,
                 ) -> CExpr:
    """String concatenation. ``||`` propagates NULL; CONCAT() skips NULLs (DuckDB, Postgres)."""
    texts = [_text(a) for a in args]
    const = all(a.const for a in texts)
    if any(T.kind(a.type) == "list" for a in args):
        raise NotSupportedError("list concatenation is not supported")

    def run(t, ctx):
        vals = [a.fn(t, ctx) for a in texts]
        separator = sep.fn(t, ctx) if sep is not None else pa.scalar("")
        if all(isinstance(v, pa.Scalar) for v in vals):
            pieces = [v.as_py() for v in vals]
            if null_propagates and any(p is None for p in pieces):
                return pa.scalar(None, pa.string())
            if not separator.is_valid:
                return pa.scalar(None, pa.string())
            return pa.scalar(separator.as_py().join(p for p in pieces if p is not None))
        n = t.num_rows
        arrs = [materialize(v, n, pa.string()) for v in vals]
        mode = "emit_null" if null_propagates else "skip"
        if not null_propagates:
            # Arrow's "skip" mode drops the rows whose pieces are all NULL instead of giving
            # '' for them: make the first piece '' there, which changes nothing else.
            first = to_array(arrs[0], n)
            all_null = first.is_null()
            for a in arrs[1:]:
                all_null = pc.and_(all_null, to_array(a, n).is_null())
            arrs[0] = pc.if_else(all_null, pa.scalar("", pa.string()), first)
        return pc.binary_join_element_wise(*arrs, materialize(separator, n, pa.string()),
                                           null_handling=mode)
    return CExpr(run, pa.string(), const, sql)


@register("concat")
def _concat(c, node, args):
    return concat_exprs(args, node, null_propagates=False)


@register("concat_ws")
def _concat_ws(c, node, args):
    if len(args) < 2:
        raise ProgrammingError("CONCAT_WS needs a separator and at least one value")
    return concat_exprs(args[1:], node, null_propagates=False, sep=_text(args[0]))


@register("instr", "strpos", "position")
def _instr(c, node, args):
    if isinstance(node, exp.StrPosition):
        s = _text(c.compile(node.this))
        sub = _text(c.compile(node.args["substr"]))
    else:
        _nargs(node, args, 2)
        s, sub = (_text(a) for a in args)
    if not sub.const:
        raise NotSupportedError("the substring searched for must be a constant")

    def run(t, ctx):
        needle = sub.fn(t, ctx)
        v = s.fn(t, ctx)
        if not needle.is_valid:
            return pa.scalar(None, pa.int64()) if isinstance(v, pa.Scalar) else \
                pa.nulls(len(v), pa.int64())
        idx = pc.find_substring(v, pattern=needle.as_py())
        # find_substring counts code units (bytes); SQL counts characters.
        if isinstance(idx, pa.Scalar):
            sv = v.as_py()
            return pa.scalar(None if sv is None else sv.find(needle.as_py()) + 1, pa.int64())
        return pc.cast(pc.add(_byte_to_char_index(v, idx), 1), pa.int64())
    return CExpr(run, pa.int64(), s.const, node)


def _byte_to_char_index(v, idx):
    if pc.all(pc.string_is_ascii(v)).as_py() is not False:
        return idx
    arr = to_array(v, len(v)).to_pylist()
    ids = to_array(idx, len(idx)).to_pylist()
    out = [None if s is None else (-1 if i < 0 else len(s.encode()[:i].decode()))
           for s, i in zip(arr, ids)]
    return pa.array(out, pa.int64())


@special("lpad", "rpad", "pad")
def _pad(c, node, args):
    raw = positional_args(node)
    if isinstance(node, exp.Pad):
        left = bool(node.args.get("is_left"))
    else:
        left = function_name(node) == "lpad"
    s = _text(c.compile(raw[0]))
    width = c.compile(raw[1])
    fill = c.compile(raw[2]) if len(raw) > 2 else const_expr(" ")
    if not (width.const and fill.const):
        raise NotSupportedError("LPAD/RPAD need a constant length and fill")
    w = width.fn(None, None).as_py()
    ch = fill.fn(None, None).as_py()

    def pad(x: str) -> str:
        if len(x) >= w:
            return x[:w]
        if not ch:
            return x
        need = w - len(x)
        filler = (ch * (need // len(ch) + 1))[:need]
        return filler + x if left else x + filler
    return _per_value(s, pad, pa.string(), node)


def _edge(left: bool):
    """LEFT(s, n) / RIGHT(s, n): the first / last n characters; a negative n drops that
    many from the other end (DuckDB), and a NULL n gives NULL."""
    def h(c, node, args):
        _nargs(node, args, 2)
        s, n = _text(args[0]), cast_expr(args[1], pa.int64())
        if not n.const:
            raise NotSupportedError(f"{function_name(node).upper()}() needs a constant "
                                    f"length: {node.sql()}")

        def run(t, ctx):
            v, k = s.fn(t, ctx), n.fn(t, ctx).as_py()
            if k is None:
                return pa.scalar(None, pa.string()) if isinstance(v, pa.Scalar) else \
                    pa.nulls(len(v), pa.string())
            if left:
                return pc.utf8_slice_codeunits(v, start=0, stop=k)
            if k == 0:
                return pc.utf8_slice_codeunits(v, start=0, stop=0)
            return pc.utf8_slice_codeunits(v, start=-k)
        return CExpr(run, pa.string(), s.const, node)
    return h


register("left")(_edge(True))
register("right")(_edge(False))


@register("repeat")
def _repeat(c, node, args):
    _nargs(node, args, 2)
    s, n = _text(args[0]), cast_expr(args[1], pa.int64())
    return CExpr(lambda t, ctx: pc.binary_repeat(s.fn(t, ctx), pc.max_element_wise(
        n.fn(t, ctx), pa.scalar(0))), pa.string(), s.const and n.const, node)


def _bool_string_fn(f):
    def h(c, node, args):
        _nargs(node, args, 2)
        s, p = (_text(a) for a in args)
        if not p.const:
            raise NotSupportedError(f"the pattern of {node.sql()} must be a constant")

        def run(t, ctx):
            pat = p.fn(t, ctx)
            v = s.fn(t, ctx)
            if not pat.is_valid:
                return pa.scalar(None, BOOL)
            return f(v, pattern=pat.as_py())
        return CExpr(run, BOOL, s.const, node)
    return h


register("starts_with", "prefix")(_bool_string_fn(pc.starts_with))
register("ends_with", "suffix")(_bool_string_fn(pc.ends_with))
register("contains")(_bool_string_fn(pc.match_substring))
register("regexp_matches", "regexp_like", "regexp")(_bool_string_fn(pc.match_substring_regex))


@register("regexp_replace")
def _regexp_replace(c, node, args):
    _nargs(node, args, 3, 4)
    s, p, r = (_text(a) for a in args[:3])
    flags = args[3].fn(None, None).as_py() if len(args) > 3 else ""
    if not (p.const and r.const):
        raise NotSupportedError("REGEXP_REPLACE needs a constant pattern and replacement")
    pattern = p.fn(None, None).as_py()
    repl = re.sub(r"\\(\d)", r"\\\1", r.fn(None, None).as_py())
    if "i" in (flags or ""):
        pattern = "(?i)" + pattern
    global_ = "g" in (flags or "")
    return CExpr(lambda t, ctx: pc.replace_substring_regex(
        s.fn(t, ctx), pattern=pattern, replacement=repl, max_replacements=None if global_
        else 1), pa.string(), s.const, node)


@register("regexp_extract")
def _regexp_extract(c, node, args):
    s, p = _text(args[0]), _text(args[1])
    group = args[2].fn(None, None).as_py() if len(args) > 2 else 0
    pattern = p.fn(None, None).as_py()
    rx = re.compile(pattern)

    def f(x: str):
        m = rx.search(x)
        return m.group(group) if m else ""
    return _per_value(s, f, pa.string(), node)


@register("split_part")
def _split_part(c, node, args):
    _nargs(node, args, 3)
    s, d, i = _text(args[0]), _text(args[1]), cast_expr(args[2], pa.int64())
    if not (d.const and i.const):
        raise NotSupportedError("SPLIT_PART needs a constant delimiter and index")
    delim = d.fn(None, None).as_py()
    idx = i.fn(None, None).as_py()

    def f(x: str):
        parts = x.split(delim) if delim else [x]
        if idx is None or idx == 0:
            return ""
        k = idx - 1 if idx > 0 else len(parts) + idx
        return parts[k] if 0 <= k < len(parts) else ""
    return _per_value(s, f, pa.string(), node)


@register("string_split", "str_split", "string_to_array", "split")
def _string_split(c, node, args):
    """STRING_SPLIT(text, delimiter) -> list of the pieces (an empty delimiter splits into
    characters, as DuckDB does)."""
    _nargs(node, args, 2)
    s, d = _text(args[0]), _text(args[1])
    if not d.const:
        raise NotSupportedError("STRING_SPLIT needs a constant delimiter")
    delim = d.fn(None, None).as_py()
    out = pa.list_(pa.string())

    def run(t, ctx):
        v = s.fn(t, ctx)
        if delim is None:
            return pa.scalar(None, out) if isinstance(v, pa.Scalar) else \
                pa.nulls(len(v), out)
        if delim == "":
            # Mark each character's start with NUL, drop the first mark, split on the marks.
            marked = pc.replace_substring_regex(v, pattern="(.)", replacement="\x00\\1")
            return pc.split_pattern(pc.utf8_ltrim(marked, characters="\x00"), pattern="\x00")
        return pc.split_pattern(v, pattern=delim)
    return CExpr(run, out, s.const and d.const, node)


@register("array_to_string", "list_to_string")
def _array_to_string(c, node, args):
    """ARRAY_TO_STRING(list, separator): the non-NULL elements as text, joined."""
    _nargs(node, args, 2)
    lst, sep = args[0], _text(args[1])
    if T.kind(lst.type) == "null":
        return const_expr(None, pa.string(), node)
    if T.kind(lst.type) != "list":
        raise BindError(f"ARRAY_TO_STRING() takes a list, not "
                        f"{T.sql_type_name(lst.type)}: {node.sql()}")

    def run(t, ctx):
        v = lst.fn(t, ctx)
        n = t.num_rows if t is not None else 1
        arr = to_array(materialize(v, n, lst.type), n)
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        flat = pc.list_flatten(arr)
        parents = pc.list_parent_indices(arr).to_numpy()
        keep = flat.is_valid().to_numpy(zero_copy_only=False)
        text = T.cast(flat.filter(pa.array(keep)), pa.string())
        offsets = np.concatenate([[0], np.cumsum(np.bincount(parents[keep], minlength=n))])
        lists = pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), text,
                                         mask=arr.is_null())
        out = pc.binary_join(lists, materialize(sep.fn(t, ctx), n, pa.string()))
        return out[0] if t is None else out
    return CExpr(run, pa.string(), lst.const and sep.const, node)


@register("md5")
def _md5(c, node, args):
    import hashlib
    a = _text(args[0])
    return _per_value(a, lambda x: hashlib.md5(x.encode()).hexdigest(), pa.string(), node)


# -- conditional -----------------------------------------------------------------------

@register("ifnull", "nvl")
def _ifnull(c, node, args):
    _nargs(node, args, 2)
    return coalesce(args, node)


@register("iif")
def _iif(c, node, args):
    _nargs(node, args, 3)
    return case_when([(bool_expr(args[0]), args[1])], args[2], node)


@register("typeof")
def _typeof(c, node, args):
    _nargs(node, args, 1)
    return const_expr(T.sql_type_name(args[0].type), pa.string(), node)


# -- LIKE, GLOB, regex -----------------------------------------------------------------

def _like_to_arrow(pattern: str, escape: str | None) -> str:
    """Translate a SQL LIKE pattern (optional ESCAPE char) to Arrow's backslash syntax."""
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if escape is not None and ch == escape:
            i += 1
            if i >= len(pattern):
                raise DataError("LIKE pattern ends with its escape character")
            nxt = pattern[i]
            out.append("\\" + nxt if nxt in "%_\\" else nxt)
        elif ch == "\\":
            out.append("\\\\")
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def _glob_to_regex(pattern: str) -> str:
    out = ["^"]
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        elif ch == "[":
            j = pattern.find("]", i + 1)
            if j == -1:
                out.append(re.escape(ch))
            else:
                body = pattern[i + 1:j]
                if body.startswith("^"):
                    body = "^" + body[1:]
                out.append("[" + body + "]")
                i = j
        else:
            out.append(re.escape(ch))
        i += 1
    out.append("$")
    return "".join(out)


def compile_like(c: ExprCompiler, node: exp.Expression) -> CExpr:
    escape = None
    if isinstance(node, exp.Escape):
        esc = c.compile(node.expression)
        escape = esc.fn(None, None).as_py() if esc.const else None
        node_inner = node.this
    else:
        node_inner = node
    negate = bool(node_inner.args.get("negate"))
    kind = type(node_inner)
    value = _text(c.compile(node_inner.this))
    pat = _text(c.compile(node_inner.expression))
    ignore_case = kind is exp.ILike

    def matcher(p: str):
        if kind is exp.Glob:
            rx = _glob_to_regex(p)
            return lambda v: pc.match_substring_regex(v, pattern=rx)
        if kind in (exp.RegexpLike, exp.SimilarTo):
            rx = p if kind is exp.RegexpLike else "^(?:" + _similar_to_regex(p) + ")$"
            return lambda v: pc.match_substring_regex(v, pattern=rx)
        lp = _like_to_arrow(p, escape)
        return lambda v: pc.match_like(v, pattern=lp, ignore_case=ignore_case)

    def apply(v, p):
        r = matcher(p)(v)
        return pc.invert(r) if negate else r

    if pat.const:
        def run(t, ctx):
            p = pat.fn(t, ctx)
            v = value.fn(t, ctx)
            if not p.is_valid:
                return pa.scalar(None, BOOL)
            return apply(v, p.as_py())
        return CExpr(run, BOOL, value.const, node)

    def varying(t, ctx):
        n = t.num_rows
        v = to_array(value.fn(t, ctx), n)
        p = to_array(pat.fn(t, ctx), n)
        out = pa.nulls(n, BOOL)
        uniq = pc.unique(p.drop_null())
        for pv in uniq.to_pylist():
            sel = pc.fill_null(pc.equal(p, pa.scalar(pv)), False)
            part = apply(v, pv)
            out = pc.if_else(sel, part, out)
        return out
    return CExpr(varying, BOOL, False, node)


def _similar_to_regex(p: str) -> str:
    return p.replace("%", ".*").replace("_", ".")


# -- vectors ---------------------------------------------------------------------------

def _vector_args(node, args):
    _nargs(node, args, 2)
    a, b = args
    for x in (a, b):
        if T.kind(x.type) not in ("list", "null"):
            raise DataError(f"{node.sql()}: {x.sql} is not a vector (FLOAT[n])")
    return a, b


def _as_matrix(v, n: int, node) -> np.ndarray | None:
    """The vectors as rows of a float32 matrix; NULL rows become zero rows (their result is
    masked to NULL by the caller), None for a NULL constant."""
    if isinstance(v, pa.Scalar):
        if not v.is_valid:
            return None
        return np.asarray(v.as_py(), dtype=np.float32)[None, :]
    arr = to_array(v, n)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    valid = None
    if arr.null_count:
        valid = arr.is_valid().to_numpy(zero_copy_only=False)
        arr = arr.filter(pa.array(valid))
    lengths = pc.list_value_length(arr).to_numpy(zero_copy_only=False) if len(arr) else \
        np.zeros(0, np.int64)
    if len(lengths) and (lengths != lengths[0]).any():
        raise DataError(f"{node.sql()}: vectors of different dimensions "
                        f"({int(lengths.min())} and {int(lengths.max())}) in one column")
    dim = int(lengths[0]) if len(lengths) else 0
    flat = pc.list_flatten(arr).to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
    m = flat.reshape(len(arr), dim)
    if valid is None:
        return m
    full = np.zeros((len(valid), dim), np.float32)
    full[valid] = m
    return full


def _vector_fn(kind: str):
    def h(c, node, args):
        a, b = _vector_args(node, args)

        def run(t, ctx):
            n = t.num_rows if t is not None else 1
            va, vb = a.fn(t, ctx), b.fn(t, ctx)
            ma, mb = _as_matrix(va, n, node), _as_matrix(vb, n, node)
            if ma is None or mb is None or 0 in (ma.shape[1], mb.shape[1]):
                # a NULL constant, or a column of NULL (or no) vectors: every result is NULL
                both_const = isinstance(va, pa.Scalar) and isinstance(vb, pa.Scalar)
                return pa.scalar(None, pa.float64()) if both_const else \
                    pa.nulls(n, pa.float64())
            if ma.shape[1] != mb.shape[1]:
                raise DataError(f"{node.sql()}: vectors of dimension {ma.shape[1]} and "
                                f"{mb.shape[1]} cannot be compared")
            if kind == "cosine":
                na = np.linalg.norm(ma, axis=1)
                nb = np.linalg.norm(mb, axis=1)
                r = 1.0 - (ma * mb).sum(axis=1) / np.maximum(na * nb, 1e-30)
            elif kind == "l2":
                r = np.sqrt(((ma - mb) ** 2).sum(axis=1))
            else:
                r = (ma * mb).sum(axis=1)
            out = pa.array(r.astype(np.float64))
            if isinstance(va, pa.Scalar) and isinstance(vb, pa.Scalar):
                return out[0]
            nulls = pc.or_(pc.is_null(materialize(va, n)), pc.is_null(materialize(vb, n)))
            return pc.if_else(nulls, pa.scalar(None, pa.float64()), out)
        return CExpr(run, pa.float64(), a.const and b.const, node)
    return h


register("array_cosine_distance", "cosine_distance")(_vector_fn("cosine"))
register("array_distance", "l2_distance", "euclidean_distance")(_vector_fn("l2"))
register("array_inner_product", "inner_product", "dot_product", "array_dot_product")(
    _vector_fn("ip"))


_string_length = FUNCTIONS["length"]


@register("length", "len")
def _length(c, node, args):
    """LENGTH/LEN of text counts characters, of a list its elements (DuckDB)."""
    if len(args) == 1 and T.kind(args[0].type) == "list":
        return _array_length(c, node, args)
    return _string_length(c, node, args)


@register("array_length", "vector_dims")
def _array_length(c, node, args):
    _nargs(node, args, 1)
    a = args[0]
    return CExpr(lambda t, ctx: pc.cast(pc.list_value_length(a.fn(t, ctx)), pa.int64()),
                 pa.int64(), a.const, node)


# Date and time functions register themselves into FUNCTIONS.
from sochdb.sql.temporal import add_interval, compile_interval  # noqa: E402

__all__ = ["FUNCTIONS", "compile_function", "compile_like", "concat_exprs", "compile_interval",
           "add_interval", "function_name", "positional_args", "Any"]
