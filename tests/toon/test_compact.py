"""The guide's one-line TOON form: its examples verbatim and the rules docs/toon.md adds."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest

from sochdb.errors import DataError, ProgrammingError
from sochdb.toon import ToonDecodeError, ToonEncodeError, from_compact, to_compact

GUIDE_RECORDS = [
    {"id": 1, "name": "Alice", "email": "alice@example.com"},
    {"id": 2, "name": "Bob", "email": "bob@example.com"},
]


def test_guide_example_verbatim() -> None:
    toon_str = to_compact("users", GUIDE_RECORDS, ["name", "email"])
    assert toon_str == "users[2]{name,email}:Alice,alice@example.com;Bob,bob@example.com"
    table_name, fields, records = from_compact(toon_str)
    assert table_name == "users"
    assert fields == ["name", "email"]
    assert records == [{"name": "Alice", "email": "alice@example.com"},
                       {"name": "Bob", "email": "bob@example.com"}]


def test_guide_query_builder_lines() -> None:
    assert to_compact("result", [{"name": "Laptop", "price": 999}]) == \
        "result[1]{name,price}:Laptop,999"
    assert to_compact("result", [{"name": "Mouse", "price": 25}]) == \
        "result[1]{name,price}:Mouse,25"


def test_fields_none_is_the_union_in_first_seen_order() -> None:
    records = [{"b": 1, "a": 2}, {"c": 3, "a": 4}, {"d": 5, "b": 6}]
    text = to_compact("t", records)
    assert text == "t[3]{b,a,c,d}:1,2,,;,4,3,;6,,,5"
    assert from_compact(text) == ("t", ["b", "a", "c", "d"], records)


def test_missing_null_and_empty_string_stay_distinct() -> None:
    records = [{"v": None}, {"v": ""}, {}]
    text = to_compact("t", records, ["v"])
    assert text == 't[3]{v}:null;"";'
    assert from_compact(text)[2] == records


@pytest.mark.parametrize(("value", "cell"), [
    ("plain text", "plain text"),
    ("a:b", "a:b"),                      # the header ends at its first ':'
    ("a]b}", "a]b}"),                    # only a leading bracket starts JSON
    ("x,y", '"x,y"'),
    ("x;y", '"x;y"'),
    ('say "hi"', '"say \\"hi\\""'),
    ("back\\slash", '"back\\\\slash"'),
    ("line\nbreak", '"line\\nbreak"'),
    ("tab\there", '"tab\\there"'),
    ("bell\x07", '"bell\\u0007"'),
    (" lead", '" lead"'),
    ("trail ", '"trail "'),
    ("", '""'),
    ("null", '"null"'),
    ("true", '"true"'),
    ("false", '"false"'),
    ("NaN", '"NaN"'),
    ("-Infinity", '"-Infinity"'),
    ("42", '"42"'),
    ("-3.5e7", '"-3.5e7"'),
    ("05", '"05"'),
    ("+1", '"+1"'),
    ("[1,2]", '"[1,2]"'),
    ("{x}", '"{x}"'),
    ("café 👋", "café 👋"),
    ("-", "-"),
    ("#tag", "#tag"),
])
def test_string_quoting(value: str, cell: str) -> None:
    text = to_compact("t", [{"s": value}])
    assert text == "t[1]{s}:" + cell
    assert from_compact(text)[2] == [{"s": value}]


@pytest.mark.parametrize(("value", "cell"), [
    (True, "true"),
    (False, "false"),
    (None, "null"),
    (0, "0"),
    (-17, "-17"),
    (2**100, str(2**100)),
    (1.0, "1.0"),
    (-0.0, "-0.0"),
    (0.1, "0.1"),
    (1e20, "1e+20"),
    (5e-324, "5e-324"),
    (float("inf"), "Infinity"),
    (float("-inf"), "-Infinity"),
    ([1, "a,b", None], '[1,"a,b",null]'),
    ({"k": [1.5, {"x": "y;z"}]}, '{"k":[1.5,{"x":"y;z"}]}'),
    ([], "[]"),
    ({}, "{}"),
])
def test_typed_values_round_trip(value: Any, cell: str) -> None:
    text = to_compact("t", [{"v": value}])
    assert text == "t[1]{v}:" + cell
    back = from_compact(text)[2][0]["v"]
    assert type(back) is type(value) and back == value
    if isinstance(value, float) and value == 0:
        assert math.copysign(1, back) == math.copysign(1, value)


def test_nan_round_trips() -> None:
    back = from_compact(to_compact("t", [{"v": float("nan")}]))[2][0]["v"]
    assert isinstance(back, float) and math.isnan(back)


@pytest.mark.parametrize(("value", "cell", "back"), [
    (Decimal("12.50"), "12.5", 12.5),
    (Decimal("1E+3"), "1000", 1000),
    (Decimal("0.1000000000000000055511151231257827"), "0.1000000000000000055511151231257827",
     0.1),
    (dt.date(2024, 1, 2), "2024-01-02", "2024-01-02"),
    (dt.datetime(2024, 1, 2, 3, 4, 5), "2024-01-02T03:04:05", "2024-01-02T03:04:05"),
    (dt.time(3, 4), "03:04:00", "03:04:00"),
    (b"\x00\xffhi", "AP9oaQ==", "AP9oaQ=="),
    (b"\xd7m\xf8", '"1234"', "1234"),  # base64 that looks like a number is quoted
    (uuid.UUID(int=1), "00000000-0000-0000-0000-000000000001",
     "00000000-0000-0000-0000-000000000001"),
    ((1, 2), "[1,2]", [1, 2]),
    ({3, 1, 2}, "[1,2,3]", [1, 2, 3]),
    ([Decimal("1.5"), dt.date(2024, 1, 2)], '[1.5,"2024-01-02"]', [1.5, "2024-01-02"]),
])
def test_host_types_are_normalized(value: Any, cell: str, back: Any) -> None:
    text = to_compact("t", [{"v": value}])
    assert text == "t[1]{v}:" + cell
    assert from_compact(text)[2] == [{"v": back}]


def test_unsupported_type_is_a_typed_error() -> None:
    with pytest.raises(ToonEncodeError, match="type object"):
        to_compact("t", [{"v": object()}])
    with pytest.raises(ToonEncodeError, match="record 1"):
        to_compact("t", [{"a": 1}, 5])
    with pytest.raises(ToonEncodeError):
        to_compact("t", {"a": 1})
    assert issubclass(ToonEncodeError, DataError)


def test_bad_arguments() -> None:
    with pytest.raises(ProgrammingError, match="listed twice"):
        to_compact("t", [], ["a", "a"])
    with pytest.raises(ProgrammingError):
        to_compact(5, [])  # type: ignore[arg-type]


def test_names_that_need_quotes() -> None:
    records = [{"count(*)": 3, "full name": "Ada", "ok_1.x": 1}]
    text = to_compact("my table", records)
    assert text == '"my table"[1]{"count(*)","full name",ok_1.x}:3,Ada,1'
    assert from_compact(text) == ("my table", ["count(*)", "full name", "ok_1.x"], records)


def test_zero_rows_and_zero_fields() -> None:
    assert to_compact("t", []) == "t[0]{}:"
    assert from_compact("t[0]{}:") == ("t", [], [])
    assert to_compact("t", [], ["a", "b"]) == "t[0]{a,b}:"
    assert from_compact("t[0]{a,b}:") == ("t", ["a", "b"], [])
    assert to_compact("t", [{}, {}, {}]) == "t[3]{}:;;"
    assert from_compact("t[3]{}:;;") == ("t", [], [{}, {}, {}])


def test_pyarrow_table_and_iterables() -> None:
    table = pa.table({"name": ["Alice", None], "score": [1.5, 2.0]})
    assert to_compact("users", table) == "users[2]{name,score}:Alice,1.5;null,2.0"
    assert to_compact("users", table.to_batches()[0], ["score"]) == "users[2]{score}:1.5;2.0"
    assert to_compact("users", (dict(r) for r in GUIDE_RECORDS), ["id"]) == "users[2]{id}:1;2"


def test_surrounding_whitespace_and_spaces_around_cells_are_tolerated() -> None:
    assert from_compact("  t[2]{a,b}: 1 , x ;2,y\n") == \
        ("t", ["a", "b"], [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}])
    assert from_compact('t[2]{a,b}: "x" , [1] ; 2 ,y') == \
        ("t", ["a", "b"], [{"a": "x", "b": [1]}, {"a": 2, "b": "y"}])


@pytest.mark.parametrize(("text", "column", "fragment"), [
    ("", 1, "expected a header"),
    ("users{a}:1", 1, "expected a header"),
    ("users[x]{a}:1", 6, "expected '[count]{'"),
    ("users[01]{a}:1", 6, "expected '[count]{'"),
    ("users[1]{a:1", 13, "expected ',' or '}'"),
    ("users[1]{a}1", 12, "expected ':'"),
    ("users[1]{a,a}:1,2", 12, "listed twice"),
    ("users[1]{a,}:1,2", 12, "empty field name"),
    ("users[2]{a}:1", 14, "expected 2 rows"),
    ("users[1]{a}:1;2", 15, "expected 1 row as"),
    ("users[2]{a,b}:1,2;3", 19, "row has 1 value but the header declares 2 fields"),
    ('users[1]{a}:"open', 13, "unterminated string"),
    ('users[1]{a}:"x" y', 17, "expected ',' or ';'"),
    ('users[1]{a}:"bad \\q"', 18, "invalid escape"),
    ("users[1]{a}:[1,2", 17, "invalid inline JSON"),
    ("users[1]{a}:1\n2", 14, "line break"),
    ("users[0]{a}:1", 13, "expected 0 empty rows"),
    ("  users[1]{a}:1;2", 17, "expected 1 row as"),
])
def test_malformed_input_names_the_position(text: str, column: int, fragment: str) -> None:
    with pytest.raises(ToonDecodeError) as info:
        from_compact(text)
    err = info.value
    assert isinstance(err, DataError)
    assert fragment in str(err)
    assert (err.line, err.column) == (1, column)
    assert f"line 1, column {column}:" in str(err)
