"""Every case of the official TOON v4.0 conformance fixtures, encode and decode."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from sochdb.errors import DataError
from sochdb.toon import ToonDecodeError, decode, encode

FIXTURES = Path(__file__).parent / "fixtures"

#: Cases allowed to be skipped: only the optional non-strict leniency cases of
#: decode/objects.json, by name, with the reason. None is skipped: the decoder implements
#: the §6 literal-key fall-through, so all 516 cases run.
SKIPPED: dict[str, str] = {}


def _cases(category: str) -> list[Any]:
    params = []
    for path in sorted((FIXTURES / category).glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        assert data["version"] == "4.0" and data["category"] == category
        for case in data["tests"]:
            case_id = f"{category}/{path.stem}::{case['name']}"
            marks = [pytest.mark.skip(reason=SKIPPED[case_id])] if case_id in SKIPPED else []
            params.append(pytest.param(case, id=case_id, marks=marks))
    return params


ENCODE_CASES = _cases("encode")
DECODE_CASES = _cases("decode")


def same(a: Any, b: Any) -> bool:
    """JSON-model equality: numbers by value, bool apart from int, key order counts."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b or (isinstance(a, float) and isinstance(b, float)
                          and math.isnan(a) and math.isnan(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(same, a, b))
    return type(a) is type(b) and a == b


def test_fixture_set_is_complete() -> None:
    assert len(ENCODE_CASES) == 173
    assert len(DECODE_CASES) == 343
    assert not set(SKIPPED) - {p.id for p in DECODE_CASES}


@pytest.mark.parametrize("case", ENCODE_CASES)
def test_encode(case: dict[str, Any]) -> None:
    options = case.get("options", {})
    out = encode(case["input"], delimiter=options.get("delimiter", ","),
                 indent=options.get("indentSize", 2))
    assert out == case["expected"]


@pytest.mark.parametrize("case", DECODE_CASES)
def test_decode(case: dict[str, Any]) -> None:
    options = case.get("options", {})
    kwargs = {"strict": options.get("strict", True), "indent": options.get("indentSize", 2)}
    if case.get("shouldError"):
        with pytest.raises(ToonDecodeError) as info:
            decode(case["input"], **kwargs)
        assert isinstance(info.value, DataError)
        assert info.value.line is not None and f"line {info.value.line}" in str(info.value)
    else:
        assert same(decode(case["input"], **kwargs), case["expected"])
