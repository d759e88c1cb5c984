"""SQL vector search: exact scans and HNSW indexes against a numpy brute force."""

from __future__ import annotations

import numpy as np
import pytest

from sochdb import Database
from sochdb.errors import (
    AlreadyExistsError,
    BindError,
    NotSupportedError,
    ProgrammingError,
)
from sochdb.vector.metrics import get_metric

N, DIM = 1200, 12
FUNCS = {"cosine": ("array_cosine_distance", "ASC"), "l2": ("array_distance", "ASC"),
         "ip": ("array_inner_product", "DESC")}


def vectors(n: int = N, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)


def brute(x: np.ndarray, ids: np.ndarray, q: np.ndarray, k: int, metric: str) -> list[int]:
    d = get_metric(metric).pairwise(q[None, :], x)[0]
    return ids[np.lexsort((ids, d))[:k]].tolist()


@pytest.fixture
def table(db):
    x = vectors()
    db.execute(f"CREATE TABLE items (id INTEGER PRIMARY KEY, grp INTEGER, tag TEXT, "
               f"emb FLOAT[{DIM}])")
    db.executemany("INSERT INTO items VALUES (?, ?, ?, ?)",
                   [(i, i % 10, "rare" if i % 101 == 0 else "common", x[i].tolist())
                    for i in range(N)])
    return db, x


def knn(db, metric: str, q: np.ndarray, k: int, where: str = "", params: list | None = None):
    fn, direction = FUNCS[metric]
    sql = (f"SELECT id FROM items {where} ORDER BY {fn}(emb, ?) {direction} LIMIT {k}")
    return [r["id"] for r in db.execute(sql, [*(params or []), q.tolist()])]


def plan(db, sql: str, params=None) -> str:
    return "\n".join(r["plan"] for r in db.execute("EXPLAIN " + sql, params))


@pytest.mark.parametrize("metric", ["cosine", "l2", "ip"])
def test_exact_scan_matches_brute_force(table, metric):
    db, x = table
    ids = np.arange(N)
    for q in vectors(5, seed=1):
        assert knn(db, metric, q, 7) == brute(x, ids, q, 7, metric)
        keep = ids % 10 == 3
        assert knn(db, metric, q, 7, "WHERE grp = ?", [3]) == \
            brute(x[keep], ids[keep], q, 7, metric)


@pytest.mark.parametrize("metric", ["cosine", "l2", "ip"])
def test_index_matches_brute_force(table, metric):
    db, x = table
    db.execute(f"CREATE INDEX items_emb ON items USING HNSW (emb) WITH (metric = '{metric}')")
    fn, direction = FUNCS[metric]
    assert "VectorTopK items using HNSW index items_emb" in plan(
        db, f"SELECT id FROM items ORDER BY {fn}(emb, ?) {direction} LIMIT 5",
        [x[0].tolist()])
    ids = np.arange(N)
    hits = total = 0
    for q in vectors(30, seed=2):
        got = knn(db, metric, q, 10)
        want = brute(x, ids, q, 10, metric)
        assert len(got) == 10
        hits += len(set(got) & set(want))
        total += 10
        # the returned rows come back in exact distance order
        d = get_metric(metric).pairwise(q[None, :], x[got])[0]
        assert np.all(np.diff(d) >= -1e-5)
    # HNSW is approximate and a multi-threaded build is not deterministic: recall here is
    # 0.98-1.0 almost always, but one build in many reached only 0.93 under a loaded CI run.
    assert hits / total >= 0.9


def test_filtered_index_search_is_exact_top_k_of_matching_rows(table):
    db, x = table
    db.execute("CREATE INDEX items_emb ON items USING HNSW (emb) WITH (metric = 'l2')")
    ids = np.arange(N)
    tags = np.array(["rare" if i % 101 == 0 else "common" for i in ids])
    sql = "SELECT id FROM items WHERE tag = ? ORDER BY array_distance(emb, ?) LIMIT 5"
    assert "VectorTopK" in plan(db, sql, ["rare", x[0].tolist()])
    for q in vectors(10, seed=3):
        # selective: 12 rows match, answered exactly
        got = knn(db, "l2", q, 5, "WHERE tag = ?", ["rare"])
        assert got == brute(x[tags == "rare"], ids[tags == "rare"], q, 5, "l2")
        # fewer matches than k: all of them
        got = knn(db, "l2", q, 50, "WHERE tag = ?", ["rare"])
        assert sorted(got) == ids[tags == "rare"].tolist()
        # broad filter through the graph
        keep = (ids % 10) < 7
        got = knn(db, "l2", q, 10, "WHERE grp < ?", [7])
        want = brute(x[keep], ids[keep], q, 10, "l2")
        assert len(got) == 10 and all(g % 10 < 7 for g in got)
        assert len(set(got) & set(want)) >= 9


def test_query_vector_as_literal_and_select_alias(table):
    db, x = table
    db.execute("CREATE INDEX items_emb ON items USING HNSW (emb) WITH (metric = 'cosine')")
    lit = "[" + ", ".join(repr(float(v)) for v in x[17]) + "]"
    sql = (f"SELECT id, array_cosine_distance(emb, {lit}::FLOAT[{DIM}]) AS d FROM items "
           f"ORDER BY d LIMIT 3")
    assert "VectorTopK" in plan(db, sql)
    rows = db.execute(sql).fetchall()
    assert rows[0]["id"] == 17 and rows[0]["d"] == pytest.approx(0, abs=1e-6)


def test_index_not_used_when_it_cannot_answer(table):
    db, x = table
    db.execute("CREATE INDEX items_emb ON items USING HNSW (emb) WITH (metric = 'cosine')")
    q = [x[0].tolist()]
    assert "TableScan" in plan(db, "SELECT id FROM items ORDER BY array_distance(emb, ?) "
                                   "LIMIT 3", q)  # another metric
    assert "TableScan" in plan(db, "SELECT id FROM items ORDER BY array_cosine_distance(emb, "
                                   "?) DESC LIMIT 3", q)  # farthest first
    assert "TableScan" in plan(db, "SELECT id FROM items ORDER BY array_cosine_distance(emb, "
                                   "?)", q)  # no LIMIT
    assert "TableScan" in plan(db, "SELECT grp, count(*) FROM items GROUP BY grp ORDER BY "
                                   "grp LIMIT 3")


def test_writes_are_kept_in_step(table):
    db, x = table
    db.execute("CREATE INDEX items_emb ON items USING HNSW (emb) WITH (metric = 'l2')")
    q = x[5]
    assert knn(db, "l2", q, 1) == [5]
    db.execute("DELETE FROM items WHERE id = 5")
    assert 5 not in knn(db, "l2", q, 20)
    target = (q + 0.001).tolist()
    db.execute("UPDATE items SET emb = ? WHERE id = 9", [target])
    assert knn(db, "l2", q, 1) == [9]
    db.execute("INSERT INTO items VALUES (5000, 1, 'new', ?)", [q.tolist()])
    assert knn(db, "l2", q, 2) == [5000, 9]
    db.execute("UPDATE items SET grp = 99 WHERE id = 5000")  # a new row version, same vector
    assert knn(db, "l2", q, 1, "WHERE grp = ?", [99]) == [5000]


def test_own_uncommitted_writes_are_seen(table):
    db, x = table
    db.execute("CREATE INDEX items_emb ON items USING HNSW (emb) WITH (metric = 'l2')")
    q = x[3]
    with db.transaction() as txn:
        txn.execute("INSERT INTO items VALUES (7000, 0, 'x', ?)", [q.tolist()])
        txn.execute("DELETE FROM items WHERE id = 3")
        rows = txn.execute("SELECT id FROM items ORDER BY array_distance(emb, ?) LIMIT 2",
                           [q.tolist()]).fetchall()
        assert rows[0]["id"] == 7000 and 3 not in [r["id"] for r in rows]
        assert knn(db, "l2", q, 1) == [3]
    assert knn(db, "l2", q, 1) == [7000]


def test_drop_index_and_drop_table(table):
    db, x = table
    db.execute("CREATE INDEX items_emb ON items USING HNSW (emb)")
    sql = "SELECT id FROM items ORDER BY array_distance(emb, ?) LIMIT 3"
    assert "VectorTopK" in plan(db, sql, [x[0].tolist()])  # l2 is the default metric
    with pytest.raises(AlreadyExistsError):
        db.execute("CREATE INDEX items_emb ON items USING HNSW (emb)")
    db.execute("CREATE INDEX IF NOT EXISTS items_emb ON items USING HNSW (emb)")
    db.execute("DROP INDEX items_emb")
    assert "TableScan" in plan(db, sql, [x[0].tolist()])
    assert knn(db, "l2", x[0], 1) == [0]
    db.execute("CREATE INDEX items_emb ON items USING HNSW (emb)")
    db.execute("DROP TABLE items")
    db.execute(f"CREATE TABLE items (id INTEGER, emb FLOAT[{DIM}])")
    db.execute("INSERT INTO items VALUES (1, ?)", [x[1].tolist()])
    assert "TableScan" in plan(db, sql, [x[0].tolist()])
    db.execute("CREATE INDEX items_emb ON items USING HNSW (emb)")  # the name is free again
    assert knn(db, "l2", x[1], 1) == [1]


def test_create_index_errors(table):
    db, _ = table
    with pytest.raises(ProgrammingError, match="needs a FLOAT"):
        db.execute("CREATE INDEX bad ON items USING HNSW (tag)")
    with pytest.raises(ProgrammingError, match="unknown HNSW option 'lists'"):
        db.execute("CREATE INDEX bad ON items USING HNSW (emb) WITH (lists = 3)")
    with pytest.raises(ProgrammingError, match="unknown metric"):
        db.execute("CREATE INDEX bad ON items USING HNSW (emb) WITH (metric = 'hamming')")
    with pytest.raises(NotSupportedError, match="exactly one column"):
        db.execute("CREATE INDEX bad ON items USING HNSW (emb, grp)")
    with pytest.raises(BindError):
        db.execute("CREATE INDEX bad ON nope USING HNSW (emb)")


def test_index_survives_reopen(db_path):
    x = vectors(300, seed=4)
    with Database.open(db_path) as db:
        db.execute(f"CREATE TABLE v (id INTEGER, emb VECTOR({DIM}))")
        db.executemany("INSERT INTO v VALUES (?, ?)", [(i, x[i].tolist()) for i in range(300)])
        db.execute("CREATE INDEX v_emb ON v USING HNSW (emb) WITH (metric = 'cosine', m = 8, "
                   "ef_construction = 50)")
        db.execute("DELETE FROM v WHERE id = 7")
    with Database.open(db_path) as db:
        sql = "SELECT id FROM v ORDER BY array_cosine_distance(emb, ?) LIMIT 1"
        assert "VectorTopK v using HNSW index v_emb" in plan(db, sql, [x[0].tolist()])
        assert db.execute(sql, [x[42].tolist()]).fetchall() == [{"id": 42}]
        assert db.execute(sql, [x[7].tolist()]).fetchall() != [{"id": 7}]


def test_collection_table_is_searchable_from_sql(db):
    x = vectors(200, seed=5)
    idx = db.create_vector_index("docs", DIM, metric="cosine")
    idx.insert(np.arange(200), x, [{"i": int(i)} for i in range(200)])
    sql = ("SELECT id, metadata FROM __vec_docs ORDER BY array_cosine_distance(vector, ?) "
           "LIMIT 2")
    assert "VectorTopK __vec_docs using HNSW index docs" in plan(db, sql, [x[9].tolist()])
    rows = db.execute(sql, [x[9].tolist()]).fetchall()
    assert rows[0] == {"id": 9, "metadata": '{"i":9}'}
    with pytest.raises(ProgrammingError, match="drop_vector_index"):
        db.execute("DROP INDEX docs")
