"""Grouping the large side of a join before the join gives the same answers as joining
first, including NULLs, empty joins, repeated dimension keys and either join order."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from sochdb import Database
from sochdb.sql.operators import Aggregate, eager_aggregate

QUERIES = [
    "SELECT name, SUM(val), COUNT(*), COUNT(val), AVG(val), MIN(val), MAX(val) "
    "FROM f JOIN d ON f.grp = d.grp GROUP BY name ORDER BY name",
    "SELECT name, k, SUM(val) FROM f JOIN d ON f.grp = d.grp GROUP BY name, k ORDER BY 1, 2",
    "SELECT k, MIN(tag), MAX(tag), COUNT(*) FROM d JOIN f ON d.grp = f.grp "
    "GROUP BY k ORDER BY k",
    "SELECT SUM(val), COUNT(*), AVG(val) FROM f JOIN d ON f.grp = d.grp",
    "SELECT name, SUM(val), COUNT(*) FROM f JOIN d ON f.grp = d.grp AND f.k = d.k2 "
    "GROUP BY name ORDER BY name",
    "SELECT name, COUNT(*), SUM(val) FROM f JOIN d ON f.grp = d.grp WHERE f.k = -5 "
    "GROUP BY name",
    "SELECT COUNT(*), SUM(val) FROM f JOIN d ON f.grp = d.grp WHERE f.k = -5",
]


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    rng = np.random.default_rng(2)
    n = 20_000
    val = rng.random(n)
    val[rng.random(n) < 0.1] = np.nan
    d = Database.open(str(tmp_path_factory.mktemp("eager") / "db"))
    d.create_table_from("f", pa.table({
        "grp": rng.integers(0, 60, n, dtype=np.int32),
        "k": rng.integers(0, 4, n, dtype=np.int32),
        "val": pa.array(val, from_pandas=True),  # NaN -> NULL
        "tag": pa.array([f"t{i % 97}" for i in range(n)])}))
    # grp 3 twice (each fact row joins two dimension rows); grp 50..59 missing
    grp = list(range(50)) + [3]
    d.create_table_from("d", pa.table({"grp": pa.array(grp, pa.int32()),
                                       "name": [f"n{g % 7}" for g in grp],
                                       "k2": pa.array([g % 4 for g in grp], pa.int32())}))
    yield d
    d.close()


def answers(db: Database) -> list:
    db._sql._plans.clear()
    return [db.execute_sql(q).rows() for q in QUERIES]


def test_grouping_first_gives_the_same_answers(db, monkeypatch):
    monkeypatch.setattr(eager_aggregate, "applicable", lambda agg: False)
    joined_first = answers(db)
    monkeypatch.undo()
    ran = []
    real = eager_aggregate.execute

    def spy(agg, ctx):
        out = real(agg, ctx)
        ran.append(out[0] is not None)
        return out

    monkeypatch.setattr(eager_aggregate, "MIN_ROWS", 1000)
    monkeypatch.setattr(eager_aggregate, "execute", spy)
    grouped_first = answers(db)
    assert sum(ran) >= 5  # the pushed-down path ran for most queries
    for q, a, b in zip(QUERIES, joined_first, grouped_first):
        assert len(a) == len(b), q
        for ra, rb in zip(a, b):
            for x, y in zip(ra, rb):
                assert x == (pytest.approx(y, rel=1e-9) if isinstance(y, float) else y), q
    assert grouped_first[-1] == [(0, None)]


def test_many_distinct_keys_join_first(db, monkeypatch):
    monkeypatch.setattr(eager_aggregate, "MIN_ROWS", 1000)
    monkeypatch.setattr(eager_aggregate, "MAX_DISTINCT_SHARE", 0.0001)
    ran = []
    real = eager_aggregate.execute
    monkeypatch.setattr(eager_aggregate, "execute",
                        lambda agg, ctx: ran.append(1) or real(agg, ctx))
    db._sql._plans.clear()
    assert db.execute_sql(QUERIES[0]).rows()
    assert ran  # considered, then joined first because the sample had too many keys


@pytest.mark.parametrize("sql", [
    "SELECT name, SUM(k) FROM f JOIN d ON f.grp = d.grp GROUP BY name",  # integer sum
    "SELECT name, COUNT(DISTINCT val) FROM f JOIN d ON f.grp = d.grp GROUP BY name",
    "SELECT name, SUM(val * 2) FROM f JOIN d ON f.grp = d.grp GROUP BY name",
    "SELECT name, SUM(val) FROM f LEFT JOIN d ON f.grp = d.grp GROUP BY name",
    "SELECT name, SUM(val) FROM f JOIN d ON f.grp = d.grp AND f.val > d.k2 GROUP BY name",
])
def test_shapes_that_do_not_decompose_are_left_alone(db, sql):
    db._sql._plans.clear()
    db.execute_sql(sql).rows()
    ops = []

    def walk(op):
        ops.append(op)
        for c in op.children:
            walk(c)

    for op, _stmt, _catalog in db._sql._plans.values():
        walk(op)
    aggs = [o for o in ops if isinstance(o, Aggregate)]
    assert aggs and not any(a.eager for a in aggs)


def test_decomposable_shape_is_recognized(db):
    db._sql._plans.clear()
    db.execute_sql(QUERIES[0]).rows()
    (op, _stmt, _catalog), = db._sql._plans.values()
    found = []

    def walk(o):
        found.append(isinstance(o, Aggregate) and o.eager)
        for c in o.children:
            walk(c)

    walk(op)
    assert any(found)
