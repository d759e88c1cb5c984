"""Round-trip properties of both TOON codecs over hostile generated data."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sochdb.toon import decode, encode, from_compact, to_compact

SETTINGS = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

#: Strings that collide with TOON syntax in either form.
HOSTILE = st.sampled_from([
    "", " ", "  x ", "null", "true", "false", "NaN", "Infinity", "-Infinity", "42", "-3.5",
    "1e-6", "05", "+1", ".5", "1.", "-", "- x", "#", "#x", "[]", "[2]: a,b", "{k}", "a,b",
    "a;b", "a|b", "a\tb", "a:b", 'say "hi"', "back\\slash", "line\nbreak", "cr\rx",
    "\x00\x1f", "\u00a0nbsp\u00a0", "\ufeffbom", "café", "你好", "🚀 launch", "x]", "}",
])
TEXT = st.one_of(HOSTILE, st.text(max_size=20))
FLOATS = st.floats(allow_nan=True, allow_infinity=True)
NUMBERS = st.one_of(st.integers(min_value=-(2**130), max_value=2**130), FLOATS,
                    st.sampled_from([0.0, -0.0, 5e-324, 1.7976931348623157e308, 1e-7, 1e21]))
PRIMITIVES = st.one_of(st.none(), st.booleans(), NUMBERS, TEXT)
JSON = st.recursive(PRIMITIVES, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)), max_leaves=20)


def same(a: Any, b: Any, exact: bool) -> bool:
    """Deep equality with NaN == NaN and bool kept apart from int.

    ``exact`` also demands equal number types and the sign of zero (the compact form keeps
    them); otherwise numbers compare by value (the spec writes 1.0 as 1).
    """
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if exact and type(a) is not type(b):
            return False
        if isinstance(a, float) and math.isnan(a):
            return isinstance(b, float) and math.isnan(b)
        return a == b and (not exact or not isinstance(a, float)
                           or math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(same(a[k], b[k], exact) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y, exact) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def spec_model(value: Any) -> Any:
    """What the spec form gives back: NaN and infinities become null (§3)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [spec_model(v) for v in value]
    if isinstance(value, dict):
        return {k: spec_model(v) for k, v in value.items()}
    return value


# -- compact form ---------------------------------------------------------------------------
FIELD_NAMES = st.lists(TEXT, min_size=1, max_size=5, unique=True)


@st.composite
def tables(draw: st.DrawFn) -> tuple[str, list[str], list[dict[str, Any]]]:
    names = draw(FIELD_NAMES)
    cell = st.one_of(PRIMITIVES, st.lists(JSON, max_size=3), st.dictionaries(TEXT, JSON,
                                                                              max_size=3))
    records = draw(st.lists(st.dictionaries(st.sampled_from(names), cell), max_size=8))
    return draw(TEXT), names, records


@SETTINGS
@given(tables())
def test_compact_round_trips_records(table: tuple[str, list[str], list[dict[str, Any]]]) -> None:
    name, _, records = table
    text = to_compact(name, records)
    assert "\n" not in text and "\r" not in text
    back_name, fields, back = from_compact(text)
    union = list(dict.fromkeys(k for r in records for k in r))
    assert back_name == name
    assert fields == union
    assert same(back, [{k: r[k] for k in union if k in r} for r in records], exact=True)


@SETTINGS
@given(tables(), st.data())
def test_compact_projects_the_requested_fields(table: tuple[str, list[str],
                                                             list[dict[str, Any]]],
                                               data: st.DataObject) -> None:
    name, names, records = table
    fields = data.draw(st.permutations(names)).copy()[:data.draw(st.integers(0, len(names)))]
    _, back_fields, back = from_compact(to_compact(name, records, fields))
    assert back_fields == fields
    expected = [{k: r[k] for k in fields if k in r} for r in records]
    assert same(back, expected, exact=True)


# -- spec form ------------------------------------------------------------------------------
@st.composite
def uniform_rows(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Arrays of objects sharing one key set, with nested uniform groups: the tabular path."""
    keys = draw(FIELD_NAMES)
    sub = draw(st.lists(TEXT, min_size=1, max_size=3, unique=True))
    nested = draw(st.booleans())

    def row(draw_: st.DrawFn) -> dict[str, Any]:
        r = {k: draw_(PRIMITIVES) for k in keys}
        if nested:
            r[keys[0]] = {s: draw_(PRIMITIVES) for s in sub}
        return r
    return draw(st.lists(st.composite(lambda d: row(d))(), min_size=1, max_size=6))


DOCUMENTS = st.one_of(
    JSON,
    uniform_rows(),
    st.dictionaries(TEXT, uniform_rows(), max_size=3),
    st.dictionaries(TEXT, st.builds(lambda rows: {f"k{i}": r for i, r in enumerate(rows)},
                                    uniform_rows()), max_size=3),  # keyed tabular candidates
    st.lists(st.dictionaries(TEXT, JSON, max_size=4), max_size=4),
)


@SETTINGS
@given(DOCUMENTS, st.sampled_from([",", "\t", "|"]), st.sampled_from([2, 4]))
def test_spec_round_trips_json_values(value: Any, delimiter: str, indent: int) -> None:
    text = encode(value, delimiter=delimiter, indent=indent)
    assert not any(line != line.rstrip(" ") for line in text.split("\n"))
    assert same(decode(text, indent=indent), spec_model(value), exact=False)
    assert encode(decode(text, indent=indent), delimiter=delimiter, indent=indent) == text
