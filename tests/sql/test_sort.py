"""ORDER BY with LIMIT over tables of many chunks: the top-k and row-taking shortcuts agree
with a full sort."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sochdb import Database
from sochdb.sql.operators.relational import take_rows


def test_take_rows_across_batches_keeps_the_requested_order():
    rng = np.random.default_rng(3)
    t = pa.Table.from_batches(pa.table({"a": np.arange(10_000), "b": rng.random(10_000)})
                              .to_batches(max_chunksize=997))
    idx = pa.array(rng.choice(10_000, 100, replace=False))
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
