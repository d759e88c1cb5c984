"""ORDER BY with LIMIT over tables of many chunks: the top-k and row-taking shortcuts agree
with a full sort."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from sochdb import Database
from sochdb.sql.operators import relational
from sochdb.sql.operators.relational import take_rows


def test_take_rows_across_batches_keeps_the_requested_order():
    rng = np.random.default_rng(3)
    t = pa.Table.from_batches(pa.table({"a": np.arange(10_000), "b": rng.random(10_000)})
                              .to_batches(max_chunksize=997))
    idx = pa.array(rng.choice(10_000, 30, replace=False))  # few: taken batch by batch
    assert take_rows(t, idx).equals(t.combine_chunks().take(idx))
    assert take_rows(t, pa.array([], pa.int64())).num_rows == 0


def test_top_k_over_many_row_groups_matches_a_full_sort(tmp_path):
    rng = np.random.default_rng(5)
    n = 300_000
    vals = rng.integers(0, 1000, n)  # many ties: they must keep row order
    with Database.open(str(tmp_path / "db")) as db:
        db.create_table_from("t", pa.table({"id": np.arange(n), "v": vals}))
        for direction in ("DESC", "ASC"):
            got = db.execute_sql(f"SELECT id, v FROM t ORDER BY v {direction} LIMIT 50").rows()
            order = np.argsort(-vals if direction == "DESC" else vals, kind="stable")[:50]
            assert got == [(int(i), int(vals[i])) for i in order]


def _expected(vals: np.ndarray, k: int, descending: bool) -> list[int]:
    key = vals.astype(np.float64)
    nan = np.isnan(key)
    order = np.lexsort((np.arange(len(vals)), -key if descending else key, nan))
    return order[:k].tolist()  # NaN last in both directions, ties in row order


@pytest.mark.parametrize("descending", [True, False])
@pytest.mark.parametrize("kind", ["ties", "floats_nan", "sorted", "extremes", "few_values"])
def test_top_k_shortcuts_match_a_stable_sort(kind, descending):
    rng = np.random.default_rng(9)
    n = 200_000
    if kind == "ties":
        vals = rng.integers(0, 50, n)
    elif kind == "floats_nan":
        vals = rng.random(n)
        vals[rng.random(n) < 0.01] = np.nan
    elif kind == "sorted":  # a sample of every chunk misjudges the cut-off
        vals = np.arange(n, dtype=np.int64)
    elif kind == "extremes":
        vals = rng.choice(np.array([np.iinfo(np.int64).min, -1, 0, np.iinfo(np.int64).max]), n)
    else:
        vals = np.repeat(np.array([5, 7]), n // 2)
    chunked = pa.chunked_array([vals[i:i + 7001] for i in range(0, n, 7001)])
    for k in (1, 10, 300):
        want = _expected(vals, k, descending)
        got = relational._threshold_top_k(chunked, k, descending)
        if got is not None:  # declined only when fewer than k numbers pass
            assert got.to_pylist() == want, (kind, k)
