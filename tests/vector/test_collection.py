"""Vector indexes inside the database: API, errors, filters, transactions and durability."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sochdb import Database
from sochdb.errors import (
    AlreadyExistsError,
    DataError,
    IntegrityError,
    NotFoundError,
    ProgrammingError,
    TransactionConflictError,
)
from sochdb.vector.metrics import get_metric


def brute(x: np.ndarray, ids: np.ndarray, q: np.ndarray, k: int, metric: str) -> list[int]:
    d = get_metric(metric).pairwise(q[None, :], x)[0]
    order = np.lexsort((ids, d))[:k]
    return ids[order].tolist()


def data(n: int = 600, dim: int = 16, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, dim)).astype(np.float32)


# -- the API ------------------------------------------------------------------------------

def test_create_insert_search_delete(db):
    idx = db.create_vector_index("docs", 3)
    assert db.vector_indexes() == ["docs"]
    assert idx.insert([1, 2, 3], [[1, 0, 0], [0, 1, 0], [0.5, 0.5, 0]],
                      [{"lang": "en"}, None, {"lang": "de", "year": 2024}]) == 3
    assert len(idx) == 3
    hits = idx.search([1, 0.1, 0], k=2)
    assert [h.id for h in hits] == [1, 3]
    assert hits[0].metadata == {"lang": "en"}
    assert hits[0].distance == pytest.approx(1 - 1 / np.sqrt(1.01), abs=1e-6)
    batch = idx.search(np.array([[1, 0.1, 0], [0, 1, 0]], dtype=np.float32), k=1)
    assert [[h.id for h in row] for row in batch] == [[1], [2]]
    assert idx.delete([1, 99]) == 1
    assert len(idx) == 2
    assert [h.id for h in idx.search([1, 0.1, 0], k=5)] == [3, 2]


def test_info_and_stats(db):
    idx = db.create_vector_index("v", 4, metric="l2", m=8, ef_construction=40, dtype="f32")
    idx.insert([7], [[1, 2, 3, 4]])
    info = idx.info()
    assert {k: info[k] for k in ("name", "dimension", "metric", "m", "ef_construction",
                                 "dtype", "vectors")} == \
        {"name": "v", "dimension": 4, "metric": "l2", "m": 8, "ef_construction": 40,
         "dtype": "f32", "vectors": 1}
    assert idx.stats() == idx.info()


def test_reinsert_replaces_vector_and_metadata(db):
    idx = db.create_vector_index("r", 2, metric="l2")
    idx.insert([1, 2], [[0, 0], [5, 5]], [{"v": 1}, {"v": 2}])
    idx.insert([1], [[10, 10]], [{"v": 3}])
    assert len(idx) == 2
    hits = idx.search([10, 10], k=2)
    assert [(h.id, h.metadata) for h in hits] == [(1, {"v": 3}), (2, {"v": 2})]
    assert idx.search([0, 0], k=1)[0].id == 2
    assert idx.search([0, 0], k=5, filter={"v": 1}) == []


def test_names_and_lookup_errors(db):
    db.create_vector_index("a", 2)
    with pytest.raises(AlreadyExistsError, match="'a' already exists"):
        db.create_vector_index("A", 2)
    with pytest.raises(NotFoundError, match="existing vector indexes: 'a'") as e:
        db.vector_index("b")
    assert e.value.code == "NOT_FOUND" and isinstance(e.value, ProgrammingError)
    with pytest.raises(NotFoundError):
        db.drop_vector_index("b")
    with pytest.raises(ProgrammingError, match="name"):
        db.create_vector_index("bad name", 2)
    with pytest.raises(ProgrammingError, match="dimension must be an integer >= 1"):
        db.create_vector_index("z", 0)
    with pytest.raises(ProgrammingError, match="unknown metric"):
        db.create_vector_index("z", 2, metric="hamming")
    with pytest.raises(ProgrammingError, match="unknown index dtype"):
        db.create_vector_index("z", 2, dtype="f64")
    assert db.vector_indexes() == ["a"]


def test_drop_and_recreate(db):
    idx = db.create_vector_index("d", 2)
    idx.insert([1], [[1, 0]])
    db.drop_vector_index("d")
    assert db.vector_indexes() == []
    with pytest.raises(NotFoundError, match="no longer exists"):
        idx.search([1, 0])
    again = db.create_vector_index("d", 3)
    assert len(again) == 0
    again.insert([1], [[0, 0, 1]])
    assert again.search([0, 0, 1], k=1)[0].id == 1


def test_input_errors(db):
    idx = db.create_vector_index("e", 3)
    with pytest.raises(DataError, match="dimension 3; vectors have dimension 2"):
        idx.insert([1], [[1, 2]])
    with pytest.raises(DataError, match="empty"):
        idx.insert([], np.zeros((0, 3), np.float32))
    with pytest.raises(DataError, match="row 1 holds NaN"):
        idx.insert([1, 2], [[1, 2, 3], [np.nan, 0, 0]])
    with pytest.raises(DataError, match="different lengths"):
        idx.insert([1, 2], [[1, 2, 3], [1, 2]])
    with pytest.raises(ProgrammingError, match="2 ids for 1 vectors"):
        idx.insert([1, 2], [[1, 2, 3]])
    with pytest.raises(ProgrammingError, match="integers"):
        idx.insert(["x"], [[1, 2, 3]])
    with pytest.raises(IntegrityError, match="id 4 appears twice"):
        idx.insert([4, 4], [[1, 2, 3], [1, 2, 3]])
    with pytest.raises(ProgrammingError, match="1 metadata entries for 2 vectors"):
        idx.insert([1, 2], [[1, 2, 3], [1, 2, 3]], [{}])
    with pytest.raises(DataError, match="not JSON"):
        idx.insert([1], [[1, 2, 3]], [{"x": object()}])
    assert len(idx) == 0
    idx.insert([1], [[1, 2, 3]])
    with pytest.raises(ProgrammingError, match="k must be a positive integer"):
        idx.search([1, 2, 3], k=0)
    with pytest.raises(ProgrammingError, match="ef must be"):
        idx.search([1, 2, 3], ef=-1)
    with pytest.raises(DataError, match="query row 0 holds NaN"):
        idx.search([np.nan, 1, 2])
    with pytest.raises(DataError, match="dimension 3; query have dimension 4"):
        idx.search([1, 2, 3, 4])
    with pytest.raises(ProgrammingError, match="filter must be a dict"):
        idx.search([1, 2, 3], filter="lang=en")


# -- correctness against brute force ------------------------------------------------------

@pytest.mark.parametrize("metric", ["cosine", "l2", "ip"])
def test_search_matches_brute_force(db, metric):
    x = data(800, 16, seed=1)
    ids = np.arange(1000, 1800, dtype=np.int64)
    idx = db.create_vector_index("m", 16, metric=metric)
    idx.insert(ids, x)
    q = data(20, 16, seed=2)
    hits = 0
    for row in q:
        got = [h.id for h in idx.search(row, k=10, ef=128)]
        hits += len(set(got) & set(brute(x, ids, row, 10, metric)))
    assert hits >= 0.95 * 10 * len(q)  # counted, so exactly 95% is not lost to rounding


def test_filtered_search_matches_brute_force(db):
    x = data(1500, 12, seed=3)
    ids = np.arange(1500, dtype=np.int64)
    meta = [{"color": ["red", "green", "blue"][i % 3], "rare": i % 97 == 0, "n": float(i % 5)}
            for i in range(1500)]
    idx = db.create_vector_index("f", 12, metric="l2")
    idx.insert(ids, x, meta)
    q = data(10, 12, seed=4)
    for flt in ({"color": "red"}, {"rare": True}, {"color": "blue", "n": 2},
                {"n": 3.0}, {"color": "purple"}):
        keep = np.array([all(m.get(k) == v for k, v in flt.items()) for m in meta])
        for row in q:
            got = [h.id for h in idx.search(row, k=10, filter=flt)]
            want = brute(x[keep], ids[keep], row, 10, "l2")
            assert len(got) == min(10, int(keep.sum()))
            assert len(set(got) & set(want)) >= 0.9 * len(want)
            assert all(all(meta[i].get(k) == v for k, v in flt.items()) for i in got)


def test_deleted_ids_never_come_back(db):
    x = data(400, 8, seed=5)
    ids = np.arange(400, dtype=np.int64)
    idx = db.create_vector_index("del", 8, metric="l2")
    idx.insert(ids, x, [{"g": int(i % 4)} for i in ids])
    gone = ids[::3]
    idx.delete(gone)
    for row in x[:40]:
        for hits in (idx.search(row, k=20), idx.search(row, k=20, filter={"g": 1}),
                     idx.search(row, k=400)):
            assert not {h.id for h in hits} & set(gone.tolist())
    assert len(idx) == 400 - len(gone)
    # deleted at the exact query point: the nearest is now something else
    assert idx.search(x[0], k=1)[0].id != 0


_OPS = st.lists(st.one_of(
    st.tuples(st.just("insert"), st.lists(st.integers(0, 30), min_size=1, max_size=6,
                                          unique=True)),
    st.tuples(st.just("delete"), st.lists(st.integers(0, 30), max_size=4)),
    st.tuples(st.just("checkpoint"), st.just([]))), min_size=1, max_size=25)


@settings(max_examples=20, deadline=None)
@given(ops=_OPS, seed=st.integers(0, 1000))
@example(ops=[("insert", [0, 1, 2, 3]), ("insert", [0, 1, 7, 2, 11]),
              ("insert", [0, 4, 6, 8, 9, 10]), ("insert", [0, 1, 2, 3, 4, 5]),
              ("checkpoint", []), ("insert", [0]), ("insert", [0, 1, 2, 3, 4])],
         seed=0)  # replacements leave more removed graph nodes than live ones
def test_graph_stays_in_step_with_the_table(ops, seed):
    """Any mix of inserts (new and replacing ids), deletes and checkpoints: searches give
    the brute-force answer over the live ids, with their latest vectors (small indexes are
    searched exactly; test_graph_never_returns_stale_vectors forces the graph)."""
    _check_model(ops, seed, graph=False)


@settings(max_examples=20, deadline=None)
@given(ops=_OPS, seed=st.integers(0, 1000))
@example(ops=[("insert", [0]), ("insert", [0, 1]), ("insert", [6, 0, 1, 11, 12]),
              ("insert", [2, 3, 7, 8, 9, 4]), ("insert", [0, 1, 2, 10, 3, 5]),
              ("checkpoint", []), ("insert", [0]), ("insert", [0, 1, 2, 3, 4])],
         seed=0)  # the graph missed a true neighbour here: approximate, but never stale
def test_graph_never_returns_stale_vectors(ops, seed):
    """The same through the HNSW graph, which is approximate: every hit is a live id at
    the distance of its latest vector, hits are ordered, and there are min(k, live) of
    them."""
    from unittest import mock

    from sochdb.vector import column_index
    with mock.patch.object(column_index, "EXACT_ROWS", -1):
        _check_model(ops, seed, graph=True)


def _check_model(ops, seed, graph: bool) -> None:
    rng = np.random.default_rng(seed)
    model: dict[int, np.ndarray] = {}
    with Database.open(":memory:") as db:
        idx = db.create_vector_index("h", 3, metric="l2")
        for kind, ids in ops:
            if kind == "insert":
                vecs = rng.standard_normal((len(ids), 3)).astype(np.float32)
                idx.insert(ids, vecs, [{"odd": i % 2 == 1} for i in ids])
                model.update(zip(ids, vecs))
            elif kind == "delete":
                assert idx.delete(ids) == len(set(ids) & model.keys())
                for i in ids:
                    model.pop(i, None)
            else:
                db.checkpoint()
            assert len(idx) == len(model)
            live = np.array(sorted(model), dtype=np.int64)
            q = rng.standard_normal(3).astype(np.float32)
            got = [h.id for h in idx.search(q, k=3)]
            if not len(live):
                assert got == []
                continue
            x = np.stack([model[i] for i in live])
            if graph:
                hits = idx.search(q, k=3)
                assert len(hits) == min(3, len(live))
                assert {h.id for h in hits} <= set(model)
                latest = np.stack([model[h.id] for h in hits])
                true = get_metric("l2").pairwise(q[None, :], latest)[0]
                assert np.allclose([h.distance for h in hits], true, rtol=1e-4, atol=1e-5)
                assert [h.distance for h in hits] == sorted(h.distance for h in hits)
                continue
            assert got == brute(x, live, q, 3, "l2")
            odd = live % 2 == 1
            got = [h.id for h in idx.search(q, k=3, filter={"odd": True})]
            assert got == (brute(x[odd], live[odd], q, 3, "l2") if odd.any() else [])


# -- transactions -------------------------------------------------------------------------

def test_insert_in_transaction_commits_and_rolls_back(db):
    idx = db.create_vector_index("t", 2, metric="l2")
    idx.insert([1], [[0, 0]])
    with db.transaction() as txn:
        idx.insert([2], [[1, 1]], txn=txn)
        idx.delete([1], txn=txn)
        assert [h.id for h in idx.search([0, 0], k=5, txn=txn)] == [2]
        assert [h.id for h in idx.search([0, 0], k=5)] == [1]  # not committed yet
        db.put(b"k", b"v")
    assert [h.id for h in idx.search([0, 0], k=5)] == [2]
    txn = db.transaction()
    idx.insert([3], [[0, 0]], txn=txn)
    txn.abort()
    assert [h.id for h in idx.search([0, 0], k=5)] == [2]


def test_snapshot_sees_rows_deleted_after_it_began(db):
    idx = db.create_vector_index("s", 2, metric="l2")
    idx.insert(np.arange(50), data(50, 2, seed=6))
    txn = db.transaction()
    before = [h.id for h in idx.search([0, 0], k=50, txn=txn)]
    idx.delete(np.arange(25))
    idx.insert([100], [[0, 0]])
    assert [h.id for h in idx.search([0, 0], k=50, txn=txn)] == before
    assert 100 not in before
    txn.abort()
    assert idx.search([0, 0], k=1)[0].id == 100


def test_concurrent_insert_of_same_new_id_conflicts(db):
    idx = db.create_vector_index("c", 2)
    t1, t2 = db.transaction(), db.transaction()
    idx.insert([1], [[1, 0]], txn=t1)
    idx.insert([1], [[0, 1]], txn=t2)
    t1.commit()
    with pytest.raises(TransactionConflictError):
        t2.commit()
    assert len(idx) == 1


def test_delete_committed_while_the_graph_loads_is_not_returned(db_path):
    x = data(200, 4, seed=11)
    with Database.open(db_path) as db:
        db.create_vector_index("race", 4, metric="l2").insert(np.arange(200), x)
    db = Database.open(db_path)
    idx = db.vector_index("race")
    reg = db._vectors
    ci = reg.column_index(reg.get("race"))
    assert ci.graph is None
    with ci.lock:  # the loader takes its snapshot, then waits for the lock
        loader = threading.Thread(target=ci.ensure)
        loader.start()
        deadline = time.monotonic() + 10
        while not db._engine.active and time.monotonic() < deadline:
            time.sleep(0.001)
        idx.delete([17])  # its commit hook finds no graph yet
    loader.join()
    assert 17 not in [h.id for h in idx.search(x[17], k=5)]
    db.close()


# -- durability ---------------------------------------------------------------------------

def test_reopen_after_close_loads_saved_graph(db_path):
    x = data(500, 8, seed=7)
    with Database.open(db_path) as db:
        idx = db.create_vector_index("p", 8, metric="l2")
        idx.insert(np.arange(500), x, [{"i": i} for i in range(500)])
        idx.delete([3])
    assert os.listdir(os.path.join(db_path, "vectors"))
    with Database.open(db_path) as db:
        idx = db.vector_index("p")
        assert idx.search(x[10], k=1)[0].id == 10
        assert idx.info()["graph_origin"] == "loaded"
        assert 3 not in [h.id for h in idx.search(x[3], k=10)]
        assert idx.search(x[7], k=1)[0].metadata == {"i": 7}


def test_checkpoint_saves_graph_and_later_rows_are_caught_up(db_path):
    x = data(300, 8, seed=8)
    db = Database.open(db_path)
    idx = db.create_vector_index("cp", 8, metric="l2")
    idx.insert(np.arange(200), x[:200])
    lsn = db.checkpoint()
    assert idx.info()["graph_saved_lsn"] == lsn
    idx.insert(np.arange(200, 300), x[200:])
    idx.delete([0])
    # Simulate a crash after the checkpoint: the saved graph covers only the first 200 rows.
    db._engine._wal.close()
    db._engine._dir_lock.release()
    db._engine.closed = True
    with Database.open(db_path) as db2:
        idx2 = db2.vector_index("cp")
        assert idx2.search(x[250], k=1)[0].id == 250
        assert 0 not in [h.id for h in idx2.search(x[0], k=5)]
        assert idx2.info()["graph_origin"].startswith("loaded and caught up")
        assert len(idx2) == 299


@pytest.mark.parametrize("damage", ["corrupt", "foreign", "missing"])
def test_bad_saved_graph_is_rebuilt(db_path, damage):
    x = data(300, 8, seed=9)
    with Database.open(db_path) as db:
        db.create_vector_index("b", 8, metric="l2").insert(np.arange(300), x)
        path = db.vector_index("b").info()["graph_file"]
    if damage == "corrupt":
        with open(path, "r+b") as f:
            f.seek(os.path.getsize(path) // 2)
            f.write(b"\xff" * 64)
    elif damage == "foreign":
        with Database.open(db_path + "2") as other:
            other.create_vector_index("b", 8, metric="cosine").insert([1], x[:1])
            other_path = other.vector_index("b").info()["graph_file"]
        os.replace(other_path, path)
    else:
        os.remove(path)
    with Database.open(db_path) as db:
        idx = db.vector_index("b")
        assert idx.search(x[42], k=1)[0].id == 42
        assert idx.info()["graph_origin"].startswith("rebuilt")
        assert idx.info()["graph_vectors"] == 300


_WRITER = textwrap.dedent("""
    import sys
    import numpy as np
    from sochdb import Database
    db = Database.open(sys.argv[1], config={"sync_mode": "full"})
    idx = db.vector_index("crash")
    rng = np.random.default_rng(0)
    i = int(sys.argv[2])
    while True:
        v = np.full((1, 4), float(i), dtype=np.float32)
        idx.insert([i], v, [{"i": i}])
        if i % 5 == 0:
            idx.delete([i - 1])
        sys.stdout.write(f"{i}\\n")
        sys.stdout.flush()
        if i % 40 == 0:
            db.checkpoint()
        i += 1
""")


def test_crash_recovery_keeps_acknowledged_inserts(db_path, tmp_path):
    writer = tmp_path / "writer.py"
    writer.write_text(_WRITER)
    with Database.open(db_path) as db:
        db.create_vector_index("crash", 4, metric="l2")
    start = 1
    for _round in range(3):
        proc = subprocess.Popen([sys.executable, str(writer), db_path, str(start)],
                                stdout=subprocess.PIPE, text=True)
        acked = [int(proc.stdout.readline())]
        while acked[-1] < start + 60:
            line = proc.stdout.readline()
            assert line, "writer died"
            acked.append(int(line))
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate()
        acked += [int(v) for v in out.split()]
        with Database.open(db_path) as db:
            idx = db.vector_index("crash")
            deleted = {i - 1 for i in acked if i % 5 == 0}
            for i in acked:
                hits = idx.search(np.full(4, float(i), np.float32), k=1)
                if i in deleted:
                    assert not hits or hits[0].id != i
                else:
                    assert hits[0].id == i and hits[0].metadata == {"i": i}
            start = max(acked) + 1
