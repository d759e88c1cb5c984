"""Sliced evaluation in threads gives the same answers as one pass, and only pure
expressions take that path."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
import sqlglot

from sochdb import Database
from sochdb.sql import parallel

QUERIES = [
    "SELECT COUNT(*), SUM(v) FROM t WHERE k < 10 AND v > 0.5",
    "SELECT g, COUNT(*), SUM(v * 2), AVG(v), MIN(v), MAX(v) FROM t GROUP BY g ORDER BY g",
    "SELECT g, SUM(v) FILTER (WHERE k % 2 = 0), COUNT(s) FROM t WHERE s <> 'b' "
    "GROUP BY g ORDER BY g",
    "SELECT s, SUM(CASE WHEN k > 50 THEN v ELSE -v END) FROM t GROUP BY s ORDER BY s",
    "SELECT COUNT(*) FROM t WHERE k IN (1, 2, 3) OR v BETWEEN 0.1 AND 0.2",
    "SELECT g, SUM(v) FROM t WHERE k > (SELECT AVG(k) FROM t) GROUP BY g ORDER BY g",
    "SELECT id FROM t WHERE k = 7 AND v > 0.9 ORDER BY id",
]


@pytest.fixture
def loaded(tmp_path):
    rng = np.random.default_rng(7)
    n = 5_000
    data = pa.table({"id": np.arange(n), "g": rng.integers(0, 13, n, dtype=np.int32),
                     "k": rng.integers(0, 100, n, dtype=np.int32), "v": rng.random(n),
                     "s": pa.array(np.array(["a", "b", "c", None], dtype=object)[
                         rng.integers(0, 4, n)])})
    db = Database.open(str(tmp_path / "db"))
    db.create_table_from("t", data)
    db.register("r", data)  # filtered by a Filter operator, not inside a table scan
    yield db
    db.close()


def answers(db: Database) -> list[list[tuple]]:
    return [db.execute_sql(q).rows() for q in QUERIES] + \
        [db.execute_sql(q.replace("FROM t", "FROM r")).rows() for q in QUERIES[:3]]


def test_sliced_evaluation_matches_one_pass(loaded, monkeypatch):
    serial = answers(loaded)
    calls = []
    real = parallel.map_slices

    def counting(fn, table):
        out = real(fn, table)
        calls.append(len(out))
        return out

    monkeypatch.setattr(parallel, "MIN_ROWS", 16)
    monkeypatch.setattr(parallel, "workers", lambda: 3)
    monkeypatch.setattr(parallel, "map_slices", counting)
    loaded._sql._plans.clear()
    sliced = answers(loaded)
    assert max(calls) == 3  # the sliced path really ran
    for q, a, b in zip(QUERIES + QUERIES[:3], serial, sliced):
        assert len(a) == len(b), q
        for ra, rb in zip(a, b):
            for x, y in zip(ra, rb):
                assert x == (pytest.approx(y, rel=1e-9) if isinstance(y, float) else y), q


def test_errors_inside_slices_reach_the_caller(loaded, monkeypatch):
    monkeypatch.setattr(parallel, "MIN_ROWS", 16)
    monkeypatch.setattr(parallel, "workers", lambda: 2)
    from sochdb import DataError
    with pytest.raises(DataError):
        loaded.execute_sql("SELECT SUM(CAST(s AS INTEGER)) FROM t WHERE k >= 0").rows()


@pytest.mark.parametrize("sql,pure", [
    ("a + 1 > b AND c IN (1, 2)", True),
    ("CAST(d AS DATE) BETWEEN '2020-01-01' AND '2021-01-01'", True),
    ("CASE WHEN a IS NULL THEN 0 ELSE lower(s) END", True),
    ("a > random()", False),
    ("a IN (SELECT x FROM u)", False),
    ("EXISTS (SELECT 1 FROM u)", False),
    ("nextval('seq') > 0", False),
])
def test_is_pure(sql, pure):
    assert parallel.is_pure(sqlglot.parse_one(sql, dialect="duckdb")) is pure


def test_aggregate_calls_are_pure_only_when_asked():
    node = sqlglot.parse_one("SUM(a * 2)", dialect="duckdb")
    assert not parallel.is_pure(node)
    assert parallel.is_pure(node, aggregates=True)
    assert not parallel.is_pure(sqlglot.parse_one("SUM(a) OVER ()", dialect="duckdb"),
                                aggregates=True)
