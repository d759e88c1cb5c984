"""Zone maps: bounds per column, their JSON form, and the test that may rule a group out."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from sochdb.engine import zonemap

OPS = ["=", "<", "<=", ">", ">="]
CHECK = {"=": np.equal, "<": np.less, "<=": np.less_equal, ">": np.greater,
         ">=": np.greater_equal}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-1000, 1000), min_size=1, max_size=50),
       st.sampled_from(OPS), st.integers(-1200, 1200))
def test_a_ruled_out_group_has_no_matching_row(values, op, value):
    stats = zonemap.compute(pa.table({"x": values}))
    if not zonemap.can_match(stats, [("x", op, value)]):
        assert not CHECK[op](np.array(values), value).any()
    else:  # bounds are tight: some row at one of the bounds matches a satisfiable range
        lo, hi = min(values), max(values)
        assert CHECK[op](np.array([lo, hi]), value).any() or op == "="


def test_supported_types_and_what_is_left_out():
    t = pa.table({
        "i": pa.array([3, None, 1], pa.int32()),
        "f": [0.5, 2.5, None],
        "nan": [1.0, float("nan"), 2.0],
        "d": pa.array([dt.date(2024, 1, 2), dt.date(2023, 5, 1), None]),
        "ts": pa.array([dt.datetime(2024, 1, 1, 12), None, dt.datetime(2020, 1, 1)],
                       pa.timestamp("us", tz="UTC")),
        "s": ["b", "a", "c"],
        "long": ["x" * 100, "y", "z"],
        "nulls": pa.nulls(3, pa.int64()),
        "b": [True, False, True],
    })
    stats = zonemap.compute(t)
    assert stats["i"] == (1, 3) and stats["f"] == (0.5, 2.5)
    assert stats["d"] == (dt.date(2023, 5, 1), dt.date(2024, 1, 2))
    assert stats["s"] == ("a", "c")
    assert stats["ts"][1] == dt.datetime(2024, 1, 1, 12, tzinfo=dt.timezone.utc)
    assert not {"nan", "long", "nulls", "b"} & set(stats)
    types = dict(zip(t.schema.names, t.schema.types))
    assert zonemap.from_json(zonemap.to_json(stats, types), types) == stats
    # a column that changed type or went away is dropped, not misread
    assert "i" not in zonemap.from_json(zonemap.to_json(stats, types), {**types, "i": pa.bool_()})


def test_values_that_do_not_compare_prove_nothing():
    stats = {"x": (1, 5), "d": (dt.date(2024, 1, 1), dt.date(2024, 2, 1))}
    assert zonemap.can_match(stats, [("x", "=", "7")])
    assert zonemap.can_match(stats, [("d", "<", dt.datetime(2020, 1, 1))])
    assert not zonemap.can_match(stats, [("x", "<", 1)])
    assert not zonemap.can_match(stats, [("x", ">=", 2), ("x", ">", 5)])
    assert zonemap.can_match(stats, [("unknown", "=", 0)])
    assert zonemap.to_json({"f": (float("-inf"), 1.0)}, {"f": pa.float64()}) is None
