"""sochdb.bulk: the guide's examples verbatim, every metric against numpy, ids, batches, errors."""

from __future__ import annotations

import re

import numpy as np
import pytest

from sochdb.bulk import (BuildStats, IndexInfo, Neighbor, bulk_build_index, bulk_info,
                         bulk_query_index)
from sochdb.errors import (CorruptionError, DataError, IntegrityError, OperationalError,
                           ProgrammingError)
from sochdb.vector.index import DTYPES, VectorIndex, clear_index_cache, open_index
from sochdb.vector.metrics import get_metric

# The guide's "Bulk HNSW Index Building" and "Query HNSW Index" examples, as printed there
# (the guide's text lost the indentation of the for-loop body).
GUIDE_BUILD = '''
from sochdb.bulk import bulk_build_index, bulk_query_index
import numpy as np

# Generate embeddings (10K × 768D)
embeddings = np.random.randn(10000, 768).astype(np.float32)

# Build HNSW index at ~1,600 vec/s
stats = bulk_build_index(
embeddings,
output="my_index.hnsw",
m=16,
ef_construction=100,
metric="cosine"
)

print(f"Built {stats.vectors} vectors at {stats.rate:.0f} vec/s")
'''

GUIDE_QUERY = '''
# Single query vector
query = np.random.randn(768).astype(np.float32)

results = bulk_query_index(
index="my_index.hnsw",
query=query,
k=10,
ef_search=64
)

print(f"Top {len(results)} nearest neighbors:")
for i, neighbor in enumerate(results):
    print(f"{i+1}. ID: {neighbor.id}, Distance: {neighbor.distance:.4f}")
'''


def test_guide_examples_verbatim(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(GUIDE_BUILD, "guide-build", "exec"), scope)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and re.fullmatch(r"Built 10000 vectors at \d+ vec/s", out[0])
    stats = scope["stats"]
    assert (stats.vectors, stats.dimension) == (10000, 768)
    assert stats.size_bytes == (tmp_path / "my_index.hnsw").stat().st_size
    assert re.fullmatch(r"Built 10000 vectors at \d+ vec/s\nIndex size: \d+\.\d MB", str(stats))

    exec(compile(GUIDE_QUERY, "guide-query", "exec"), scope)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Top 10 nearest neighbors:"
    assert len(out) == 11
    for i, line in enumerate(out[1:], 1):
        assert re.fullmatch(rf"{i}\. ID: \d+, Distance: \d\.\d{{4}}", line), line
    # The neighbours are the true nearest by cosine distance (the guide's data is random
    # normal: a hard case for any graph, so compare with a wide search instead of ef 64).
    emb, query = scope["embeddings"], scope["query"]
    exact = get_metric("cosine").pairwise(query, emb)[0]
    results = scope["results"]
    np.testing.assert_allclose([n.distance for n in results],
                               exact[[n.id for n in results]], rtol=1e-5, atol=1e-6)
    wide = bulk_query_index("my_index.hnsw", query, k=10, ef_search=2000)
    assert [n.id for n in wide] == np.argsort(exact, kind="stable")[:10].tolist()


def _lowrank(n, d, rank=8, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, rank)).astype(np.float32)
    b = rng.standard_normal((rank, d)).astype(np.float32)
    return (a @ b + 0.05 * rng.standard_normal((n, d))).astype(np.float32)


@pytest.mark.parametrize("metric", ["cosine", "l2", "euclidean", "ip", "dot", "inner_product"])
def test_every_metric_against_numpy(tmp_path, metric):
    x, q = _lowrank(1200, 32), _lowrank(15, 32, seed=4)
    stats = bulk_build_index(x, tmp_path / "m.hnsw", metric=metric)
    assert stats.metric == get_metric(metric).name
    results = bulk_query_index(tmp_path / "m.hnsw", q, k=10, ef_search=128)
    exact = get_metric(metric).pairwise(q, x)
    truth = np.argsort(exact, axis=1, kind="stable")[:, :10]
    hits = 0
    for i, row in enumerate(results):
        assert len(row) == 10 and all(isinstance(n, Neighbor) for n in row)
        dists = [n.distance for n in row]
        assert dists == sorted(dists)
        np.testing.assert_allclose(dists, exact[i, [n.id for n in row]], rtol=1e-5, atol=1e-5)
        hits += len({n.id for n in row} & set(truth[i].tolist()))
    assert hits >= 0.95 * 10 * len(q)


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_dtype_builds_and_answers(tmp_path, dtype):
    x = _lowrank(500, 16)
    stats = bulk_build_index(x, tmp_path / "d.hnsw", dtype=dtype, metric="l2")
    assert stats.dtype == dtype and bulk_info(tmp_path / "d.hnsw").dtype == dtype
    top = bulk_query_index(tmp_path / "d.hnsw", x[42], k=1)
    assert top[0].id == 42 and top[0].distance == pytest.approx(0.0, abs=1e-3)


def test_ids_mapping(tmp_path):
    x = _lowrank(300, 16)
    ids = np.arange(300, dtype=np.int64) * 7 - 1000
    bulk_build_index(x, tmp_path / "ids.hnsw", ids=ids, metric="l2")
    for row in (0, 150, 299):
        assert bulk_query_index(tmp_path / "ids.hnsw", x[row], k=1)[0].id == ids[row]
    assert bulk_query_index(tmp_path / "ids.hnsw", x[5], k=3,
                            allowed_ids=[ids[7], ids[9]])[0].id in (ids[7], ids[9])
    with pytest.raises(IntegrityError, match="duplicate id"):
        bulk_build_index(x[:3], tmp_path / "dup.hnsw", ids=[1, 2, 1])
    with pytest.raises(ProgrammingError, match="got 2 ids for 3 vectors"):
        bulk_build_index(x[:3], tmp_path / "dup.hnsw", ids=[1, 2])


def test_batch_queries_are_lists_of_lists(tmp_path):
    x = _lowrank(400, 16)
    bulk_build_index(x, tmp_path / "b.hnsw")
    batch = bulk_query_index(tmp_path / "b.hnsw", x[:6], k=4)
    assert isinstance(batch, list) and len(batch) == 6
    for i, row in enumerate(batch):
        assert row == bulk_query_index(tmp_path / "b.hnsw", x[i], k=4)
        assert row[0].id == i
    one_row = bulk_query_index(tmp_path / "b.hnsw", x[:1], k=2)
    assert len(one_row) == 1 and len(one_row[0]) == 2


def test_stats_and_info(tmp_path):
    x = _lowrank(256, 12)
    stats = bulk_build_index(x, tmp_path / "s.hnsw", m=8, ef_construction=50, metric="dot",
                             threads=1)
    assert isinstance(stats, BuildStats)
    assert (stats.vectors, stats.dimension, stats.m, stats.ef_construction) == (256, 12, 8, 50)
    assert stats.seconds > 0 and stats.rate == pytest.approx(256 / stats.seconds)
    assert stats.size_bytes == (tmp_path / "s.hnsw").stat().st_size
    info = bulk_info(tmp_path / "s.hnsw")
    assert isinstance(info, IndexInfo)
    assert (info.dimension, info.vectors, info.metric, info.m, info.ef_construction,
            info.dtype, info.file_version) == (12, 256, "ip", 8, 50, "i8", 1)
    assert info.size_bytes == stats.size_bytes
    assert str(info).splitlines()[:3] == ["Dimension: 12", "Vectors: 256", "Max connections: 8"]
    assert info.to_dict()["metric"] == "ip"
    opened = bulk_info(open_index(tmp_path / "s.hnsw"))
    assert opened == info


def test_query_accepts_an_open_index_and_reuses_the_cache(tmp_path):
    clear_index_cache()
    x = _lowrank(200, 8)
    bulk_build_index(x, tmp_path / "c.hnsw")
    bulk_query_index(tmp_path / "c.hnsw", x[0])
    idx = open_index(tmp_path / "c.hnsw")
    assert open_index(tmp_path / "c.hnsw") is idx           # no re-open per query
    assert bulk_query_index(idx, x[3], k=1)[0].id == 3
    memory = VectorIndex(8)
    memory.add(x[:10], ids=np.arange(10) + 500)
    assert bulk_query_index(memory, x[3], k=1)[0].id == 503
    bulk_build_index(x[::-1].copy(), tmp_path / "c.hnsw")   # rebuilt in place
    assert bulk_query_index(tmp_path / "c.hnsw", x[0], k=1)[0].id == 199


def test_embeddings_from_a_file_and_progress(tmp_path, capsys):
    x = _lowrank(3000, 8)
    np.save(tmp_path / "e.npy", x)
    calls = []
    stats = bulk_build_index(tmp_path / "e.npy", tmp_path / "p.hnsw",
                             progress=lambda done, total: calls.append((done, total)))
    assert stats.vectors == 3000 and calls[-1] == (3000, 3000)
    bulk_build_index(x, tmp_path / "p.hnsw", progress=True)
    err = capsys.readouterr().err
    assert "Building index 100%" in err and "3000/3000 vectors" in err


def test_bad_inputs(tmp_path):
    x = _lowrank(20, 8)
    out = tmp_path / "bad.hnsw"
    with pytest.raises(ProgrammingError, match="unknown metric 'hamming'; valid metrics"):
        bulk_build_index(x, out, metric="hamming")
    with pytest.raises(ProgrammingError, match="unknown index dtype"):
        bulk_build_index(x, out, dtype="f64")
    with pytest.raises(DataError, match="floating-point"):
        bulk_build_index(x.astype(np.int64), out)
    with pytest.raises(DataError, match="2-D"):
        bulk_build_index(x[0], out)
    with pytest.raises(ProgrammingError, match="no vectors"):
        bulk_build_index(np.zeros((0, 8), np.float32), out)
    nan = x.copy()
    nan[3, 3] = np.nan
    with pytest.raises(DataError, match="row 3"):
        bulk_build_index(nan, out)
    with pytest.raises(ProgrammingError, match="m must be"):
        bulk_build_index(x, out, m=0)
    with pytest.raises(ProgrammingError, match="progress must be"):
        bulk_build_index(x, out, progress="yes")
    with pytest.raises(OperationalError, match="cannot write"):
        bulk_build_index(x, tmp_path / "no" / "dir.hnsw")
    assert not out.exists()

    bulk_build_index(x, out)
    with pytest.raises(DataError, match="dimension 9, expected 8"):
        bulk_query_index(out, np.zeros(9, np.float32))
    with pytest.raises(ProgrammingError, match="k must be"):
        bulk_query_index(out, x[0], k=0)
    with pytest.raises(ProgrammingError, match="one vector or a 2-D batch"):
        bulk_query_index(out, x[None, None, 0])
    with pytest.raises(ProgrammingError, match="path or a VectorIndex"):
        bulk_query_index(42, x[0])
    with pytest.raises(OperationalError, match="no such file"):
        bulk_query_index(tmp_path / "missing.hnsw", x[0])
    with open(tmp_path / "not_index.hnsw", "wb") as f:
        np.save(f, x)
    with pytest.raises(CorruptionError, match="not a sochdb .hnsw index file"):
        bulk_query_index(tmp_path / "not_index.hnsw", x[0])
    with pytest.raises(CorruptionError, match="not a sochdb .hnsw index file"):
        bulk_info(tmp_path / "not_index.hnsw")
