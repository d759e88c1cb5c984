"""Joins of three or more inputs: the order chosen at run time from input sizes gives the
same rows as FROM order, and it starts from the selective side."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from sochdb import Database
from sochdb.sql.operators import join_order
from sochdb.sql.operators.join_pairs import is_unique

QUERIES = [
    # a star: the filtered small dimension should be joined first
    """SELECT n_name, SUM(l_price) FROM customer, orders, lineitem, nation, region
       WHERE c_custkey = o_custkey AND l_orderkey = o_orderkey AND c_nationkey = n_nationkey
         AND n_regionkey = r_regionkey AND r_name = 'EUROPE' AND o_date >= 100
       GROUP BY n_name ORDER BY n_name""",
    # a key of two columns, one join condition that is not an equality, and a cycle
    """SELECT COUNT(*), SUM(l_price) FROM lineitem, orders, customer, nation
       WHERE l_orderkey = o_orderkey AND o_custkey = c_custkey AND c_nationkey = n_nationkey
         AND n_nationkey = c_nationkey AND l_price > o_date / 10.0""",
    # an input without any equality to the others (cross product) and an ON clause
    """SELECT r_name, COUNT(*) FROM region JOIN nation ON n_regionkey = r_regionkey,
       (SELECT 1 AS one UNION ALL SELECT 2) AS two WHERE one = 2
       GROUP BY r_name ORDER BY r_name""",
    # many-to-many on a non-key column
    """SELECT COUNT(*) FROM customer c1, customer c2, nation
       WHERE c1.c_nationkey = c2.c_nationkey AND c2.c_nationkey = n_nationkey
         AND c1.c_custkey < 40 AND c2.c_custkey < 40""",
]


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    rng = np.random.default_rng(11)
    nc, no, nl = 300, 2_000, 8_000
    d = Database.open(str(tmp_path_factory.mktemp("jo") / "db"))
    d.create_table_from("region", pa.table({"r_regionkey": np.arange(5),
                                            "r_name": ["AFRICA", "AMERICA", "ASIA", "EUROPE",
                                                       "MIDDLE EAST"]}))
    d.create_table_from("nation", pa.table({"n_nationkey": np.arange(25),
                                            "n_name": [f"N{i:02d}" for i in range(25)],
                                            "n_regionkey": np.arange(25) % 5}))
    d.create_table_from("customer", pa.table({"c_custkey": np.arange(nc),
                                              "c_nationkey": rng.integers(0, 25, nc)}))
    d.create_table_from("orders", pa.table({"o_orderkey": np.arange(no) * 3,
                                            "o_custkey": rng.integers(0, nc, no),
                                            "o_date": rng.integers(0, 400, no)}))
    d.create_table_from("lineitem", pa.table({"l_orderkey": rng.integers(0, no, nl) * 3,
                                              "l_price": rng.random(nl) * 100}))
    yield d
    d.close()


def run(db: Database) -> list:
    db._sql._plans.clear()
    return [sorted(db.execute_sql(q).rows(), key=repr) for q in QUERIES]


def same(a: list, b: list) -> None:
    for qa, qb in zip(a, b):
        assert len(qa) == len(qb)
        for ra, rb in zip(qa, qb):
            for x, y in zip(ra, rb):
                assert x == (pytest.approx(y, rel=1e-9) if isinstance(y, float) else y)


def test_size_based_order_gives_the_same_rows_as_from_order(db, monkeypatch):
    from_order = run(db)
    monkeypatch.setattr(join_order, "DYNAMIC_ROWS", 1)
    same(run(db), from_order)
    monkeypatch.setattr(join_order, "UNIQUE_CHECK_ROWS", 10)  # estimates without key checks
    same(run(db), from_order)


def test_size_based_order_starts_at_the_filtered_dimension(db, monkeypatch):
    monkeypatch.setattr(join_order, "DYNAMIC_ROWS", 1)
    picked = []
    real = join_order.JoinGraph._best

    def spy(self, rows, *args):
        j = real(self, rows, *args)
        picked.append((frozenset(rows.joined), j))
        return j

    monkeypatch.setattr(join_order.JoinGraph, "_best", spy)
    db._sql._plans.clear()
    db.execute_sql(QUERIES[0]).rows()
    # FROM order: customer 0, orders 1, lineitem 2, nation 3, region 4
    assert picked[0] == (frozenset({4}), 3)  # region (1 row after its filter), then nation
    assert picked[1][1] == 0  # then customers of those nations, before orders and lineitems


def test_explain_names_the_run_time_order(db):
    plan = "\n".join(r[0] for r in db.execute_sql("EXPLAIN " + QUERIES[0]).rows())
    assert "join order chosen at run time" in plan


@pytest.mark.parametrize("values,unique", [
    ([1, 5, 3], True), ([1, 5, 1], False), ([None, 2, None, 3], True),
    ([2**40, 7, -2**40], True), ([2**40, 7, 2**40], False), (["a", "b"], True),
    (["a", "b", "a"], False), ([], True),
])
def test_is_unique(values, unique):
    assert is_unique(pa.array(values)) is unique
