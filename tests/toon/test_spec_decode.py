"""Spec decoder behaviour the conformance fixtures do not cover: messages, policies, options."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sochdb.errors import DataError, ProgrammingError
from sochdb.toon import ToonDecodeError, decode


@pytest.mark.parametrize(("text", "line", "fragment"), [
    ("a: 1\nitems[3]: x,y", 2, "expected 3 values for 'items'"),
    ("a:\n  rows[2]{x}:\n    1", 2, "expected 2 rows for 'rows'"),
    ("rows[1]{x,y}:\n  1", 2, "row has 1 value but the header declares 2 fields"),
    ("a:\n  b", 2, "missing ':' after key 'b'"),
    ("a: 1\n   b: 2", 2, "not a multiple of 2"),
    ('a: "x', 1, "expected a closing '\"'"),
    ("items[2]:\n  - a\n\n  - b", 3, "blank line inside an array"),
    ("a: 1\n  b: 2", 2, "unexpected indentation: expected depth 0"),
    ("x[1]:\n  y: 1", 2, "expected a list item starting with '- '"),
])
def test_errors_name_the_line_and_what_was_expected(text: str, line: int, fragment: str) -> None:
    with pytest.raises(ToonDecodeError) as info:
        decode(text)
    assert isinstance(info.value, DataError)
    assert info.value.line == line
    assert str(info.value).startswith(f"line {line}")
    assert fragment in str(info.value)


def test_number_policy() -> None:
    assert decode("n: 123456789012345678901234567890") == {"n": 123456789012345678901234567890}
    assert decode("n: 1e400") == {"n": Decimal("1e400")}
    assert decode("n: 1e1000000") == {"n": Decimal("1e1000000")}  # past the default context
    assert decode("n: -1e01000000000000000000") == {"n": float("-inf")}  # past any Decimal
    assert decode("n: -0.0")["n"] == 0.0
    assert type(decode("n: 2.5e2")["n"]) is float


def test_surrogate_pair_escape() -> None:
    assert decode('s: "\\uD83D\\uDE80"') == {"s": "🚀"}
    with pytest.raises(ToonDecodeError, match="lone surrogate"):
        decode('s: "\\uDE80"')


def test_non_strict_tabs_count_as_one_level() -> None:
    assert decode("a:\n\tb: 1", strict=False) == {"a": {"b": 1}}


def test_bad_arguments() -> None:
    with pytest.raises(ProgrammingError):
        decode(b"a: 1")  # type: ignore[arg-type]
    with pytest.raises(ProgrammingError):
        decode("a: 1", indent=0)
