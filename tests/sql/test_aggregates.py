"""Grouping internals: short fixed-width string keys grouped as integers, and the fused
hash aggregations, give the same groups and values as the plain path."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from sochdb.sql import aggregates
from sochdb.sql.aggregates import AggSpec, run_aggregate


def _specs() -> list[AggSpec]:
    return [AggSpec("count_star", None, None, "n"),
            AggSpec("sum", "v", pa.float64(), "s", out_type=pa.float64()),
            AggSpec("avg", "v", pa.float64(), "a", out_type=pa.float64()),
            AggSpec("min", "v", pa.float64(), "lo", out_type=pa.float64()),
            AggSpec("max", "v", pa.float64(), "hi", out_type=pa.float64())]


def _sorted(t: pa.Table, keys: list[str]) -> list[tuple]:
    return sorted(zip(*[t.column(c).to_pylist() for c in t.schema.names]),
                  key=lambda r: tuple(str(x) for x in r[:len(keys)]))


@pytest.mark.parametrize("values", [
    ["A", "N", "R"],                      # one byte
    ["ab", "cd", "é"],                     # two bytes (é is two bytes in UTF-8)
    ["abcd", "wxyz", "0000"],              # four bytes
    ["abcdefgh", "ABCDEFGH"],              # eight bytes
    ["a", "bb", "ccc"],                    # mixed widths: the plain path
    ["abc", "xyz", "a\x00c"],               # three bytes, padded (a NUL byte is data)
    ["abcdefg", "1234567"],                # seven bytes, padded
    ["abcdefghi", "123456789"],            # nine bytes: the plain path
    ["x", None, "y"],                      # NULL keys: the plain path
])
def test_short_string_keys_group_like_strings(values, monkeypatch):
    rng = np.random.default_rng(1)
    n = 5_000
    keys = pa.array([values[i] for i in rng.integers(0, len(values), n)], pa.string())
    other = pa.array(rng.integers(0, 3, n).astype(str).tolist())  # "0".."2": one byte
    t = pa.Table.from_batches(pa.table({"k": keys, "j": other, "v": rng.random(n)})
                              .to_batches(max_chunksize=777))
    t = pa.concat_tables([t.slice(0, 1000), t.slice(1000)])  # chunks with offsets
    monkeypatch.setattr(aggregates, "THREADED_ROWS", 1 << 40)
    plain = run_aggregate(t, ["k", "j"], _specs())
    monkeypatch.setattr(aggregates, "THREADED_ROWS", 1)
    coded = run_aggregate(t, ["k", "j"], _specs())
    assert coded.schema == plain.schema
    a, b = _sorted(plain, ["k", "j"]), _sorted(coded, ["k", "j"])
    assert len(a) == len(b)
    for ra, rb in zip(a, b):
        assert ra[:3] == rb[:3]
        assert rb[3:] == pytest.approx(ra[3:], rel=1e-12)
    _, widths = aggregates._short_string_keys(t, ["k", "j"])
    assert widths.get("j") == 1
    assert ("k" in widths) == (len({len(v.encode()) for v in values if v}) == 1 and
                               None not in values and len(values[0].encode()) <= 8)
