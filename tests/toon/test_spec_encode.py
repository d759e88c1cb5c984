"""Spec encoder behaviour the conformance fixtures do not cover: host types, options, limits."""

from __future__ import annotations

import dataclasses
import datetime as dt
import doctest
import enum
import time
import uuid
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pytest

import sochdb.toon.compact
import sochdb.toon.normalize
import sochdb.toon.scalars
import sochdb.toon.spec_decode
import sochdb.toon.spec_encode
from sochdb.errors import ProgrammingError
from sochdb.toon import ToonEncodeError, decode, encode, to_compact


class Color(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: int
    y: float


@pytest.mark.parametrize(("value", "text"), [
    (-0.0, "0"),
    (float("nan"), "null"),
    (float("inf"), "null"),
    (1e-7, "0.0000001"),
    (1.5e21, "1500000000000000000000"),
    (123.0, "123"),
    (2**70, str(2**70)),
    (Decimal("12.50"), "12.5"),
    (Decimal("-1E-3"), "-0.001"),
    (Decimal("NaN"), "null"),
    (dt.date(2024, 1, 2), "2024-01-02"),
    (dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc), '"2024-01-02T03:04:05+00:00"'),
    (b"hi", "aGk="),
    (uuid.UUID(int=255), "00000000-0000-0000-0000-0000000000ff"),
    (Color.RED, "red"),
    (np.int64(7), "7"),
    (np.float32(0.5), "0.5"),
    (np.bool_(True), "true"),
])
def test_root_primitives_and_host_scalars(value: object, text: str) -> None:
    assert encode(value) == text


def test_host_containers() -> None:
    assert encode({"s": {3, 1, 2}, "t": (1, "a")}) == "s[3]: 1,2,3\nt[2]: 1,a"
    assert encode(np.array([[1, 2], [3, 4]])) == "[2]:\n  - [2]: 1,2\n  - [2]: 3,4"
    assert encode([Point(1, 2.5), Point(3, 4.0)]) == "[2]{x,y}:\n  1,2.5\n  3,4"
    table = pa.table({"id": [1, 2], "name": ["Ada", None]})
    assert encode({"rows": table}) == "rows[2]{id,name}:\n  1,Ada\n  2,null"
    assert encode({1: "a", None: "b", 2.5: "c", False: "d"}) == \
        '"1": a\nnull: b\n"2.5": c\nfalse: d'


def test_unsupported_values_raise_typed_errors() -> None:
    with pytest.raises(ToonEncodeError, match="type object"):
        encode({"a": [object()]})
    with pytest.raises(ToonEncodeError, match="keys must be strings"):
        encode({(1, 2): 1})
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(ToonEncodeError, match="nested too deeply"):
        encode(loop)
    with pytest.raises(ToonEncodeError):
        encode(10 ** 5000)  # beyond Python's int-to-str digit limit


def test_options_are_validated() -> None:
    with pytest.raises(ProgrammingError, match="delimiter"):
        encode([1], delimiter=";")
    with pytest.raises(ProgrammingError, match="indent"):
        encode([1], indent=0)


def test_indent_and_delimiter_apply_everywhere() -> None:
    value = {"a": [{"b": 1, "c": [1, 2]}, "x|y"], "t": [{"k": "p|q"}, {"k": "r"}]}
    text = encode(value, delimiter="|", indent=4)
    assert text == ('a[2|]:\n    - b: 1\n        c[2|]: 1|2\n    - "x|y"\n'
                    't[2|]{k}:\n    "p|q"\n    r')
    assert decode(text, indent=4) == value


def test_large_tabular_result_round_trips() -> None:
    rows = [{"id": i, "name": f"n{i}", "score": i / 7, "ok": i % 2 == 0,
             "note": None if i % 3 else "a,b"} for i in range(2000)]
    text = encode({"rows": rows})
    assert text.startswith("rows[2000]{id,name,score,ok,note}:\n  0,n0,0,true,\"a,b\"\n")
    assert decode(text) == {"rows": rows}


@pytest.mark.parametrize("module", [sochdb.toon.compact, sochdb.toon.normalize,
                                    sochdb.toon.scalars, sochdb.toon.spec_decode,
                                    sochdb.toon.spec_encode])
def test_docstring_examples(module: object) -> None:
    result = doctest.testmod(module)  # type: ignore[arg-type]
    assert result.failed == 0


def test_100k_rows_encode_without_per_cell_slow_paths() -> None:
    """A regression guard with wide headroom: both encoders take ~0.3 s here (docs/toon.md)."""
    rows = [{"id": i, "name": f"user {i}", "email": f"user{i}@example.com", "city": "Oslo",
             "score": i / 8} for i in range(100_000)]
    for fn in (lambda: encode({"rows": rows}), lambda: to_compact("rows", rows)):
        best = float("inf")
        for _ in range(2):
            start = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - start)
        assert best < 5.0
