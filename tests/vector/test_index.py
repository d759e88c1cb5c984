"""VectorIndex: exactness against numpy brute force, ids, removal, filters, .hnsw files, cache."""

from __future__ import annotations

import os
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from usearch.index import Index

from sochdb.errors import (CorruptionError, DataError, IntegrityError, OperationalError,
                           ProgrammingError)
from sochdb.vector import hnsw_file
from sochdb.vector.index import (DTYPES, VectorIndex, clear_index_cache, normalize_dtype,
                                 open_index)
from sochdb.vector.metrics import METRICS, get_metric, metric_names

METRIC_NAMES = list(METRICS)


def _data(n=600, d=24, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)).astype(np.float32)


def _lowrank(n=1500, d=48, rank=8, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, rank)).astype(np.float32)
    b = rng.standard_normal((rank, d)).astype(np.float32)
    return (a @ b + 0.05 * rng.standard_normal((n, d))).astype(np.float32)


def _brute(metric, queries, x, k):
    d = get_metric(metric).pairwise(queries, x)
    order = np.argsort(d, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(d, order, 1)


# -- metrics ----------------------------------------------------------------------------------

def test_metric_names_and_aliases():
    assert get_metric("euclidean") is METRICS["l2"]
    assert get_metric("dot") is get_metric("inner_product") is METRICS["ip"]
    assert get_metric("COSINE") is METRICS["cosine"]
    with pytest.raises(ProgrammingError) as ei:
        get_metric("hamming")
    for name in metric_names():
        assert name in str(ei.value)


def test_metric_definitions_on_known_vectors():
    q = np.array([[1.0, 0.0]], np.float32)
    x = np.array([[1, 0], [0, 2], [-3, 0], [0, 0]], np.float32)
    np.testing.assert_allclose(get_metric("cosine").pairwise(q, x), [[0, 1, 2, 1]], atol=1e-6)
    np.testing.assert_allclose(get_metric("l2").pairwise(q, x),
                               [[0, np.sqrt(5), 4, 1]], atol=1e-6)
    np.testing.assert_allclose(get_metric("ip").pairwise(q, x), [[0, 1, 4, 1]], atol=1e-6)
    for m in METRIC_NAMES:   # rowwise (re-ranking) agrees with pairwise
        np.testing.assert_allclose(get_metric(m).rowwise(q, x[None]),
                                   get_metric(m).pairwise(q, x), atol=1e-6)


def test_dtype_names():
    assert normalize_dtype(None) == "i8"
    assert normalize_dtype("float16") == "f16" and normalize_dtype("int8") == "i8"
    with pytest.raises(ProgrammingError, match="valid dtypes: f32, f16, bf16, i8"):
        normalize_dtype("f64")


# -- exactness --------------------------------------------------------------------------------

@pytest.mark.parametrize("metric", METRIC_NAMES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_exact_search_matches_numpy(metric, dtype):
    x, q = _data(), _data(8, seed=1)
    idx = VectorIndex(24, metric, dtype=dtype)
    idx.add(x)
    res = idx.search(q, k=7, exact=True)
    ids, dist = _brute(metric, q, x, 7)
    np.testing.assert_array_equal(res.ids, ids)
    np.testing.assert_allclose(res.distances, dist, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("metric", METRIC_NAMES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_graph_search_finds_true_neighbours(metric, dtype):
    """On a small index a wide search is (nearly) exact, and distances are the metric's own."""
    x, q = _lowrank(), _lowrank(20, seed=5)
    idx = VectorIndex(48, metric, dtype=dtype)
    idx.add(x, threads=1)  # a one-thread build is deterministic; parallel ones vary a little
    res = idx.search(q, k=10, ef=200)
    ids, _ = _brute(metric, q, x, 10)
    hits = sum(len(set(res.ids[i]) & set(ids[i])) for i in range(len(q)))
    assert hits >= 0.95 * 10 * len(q), (metric, dtype, hits)  # counted: no float rounding
    exact = np.take_along_axis(get_metric(metric).pairwise(q, x), res.ids, 1)
    tol = 1e-4 if dtype == "f32" or idx.info()["rerank"] else 1e-2
    np.testing.assert_allclose(res.distances, exact, rtol=tol, atol=tol)
    assert (np.diff(res.distances, axis=1) >= -1e-6).all()     # best first


def test_default_recall_on_embedding_like_data():
    x, q = _lowrank(3000, 64, rank=16), _lowrank(50, 64, rank=16, seed=9)
    idx = VectorIndex(64)                       # cosine, i8 graph, re-ranked
    idx.add(x)
    res = idx.search(q, k=10)                   # ef 64
    ids, _ = _brute("cosine", q, x, 10)
    hits = sum(len(set(res.ids[i]) & set(ids[i])) for i in range(len(q)))
    assert hits >= 0.95 * 10 * len(q)


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 60), d=st.integers(1, 12), k=st.integers(1, 12),
       metric=st.sampled_from(METRIC_NAMES), dtype=st.sampled_from(DTYPES),
       seed=st.integers(0, 2**16))
def test_exact_search_property(n, d, k, metric, dtype, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype(np.float32)
    q = rng.standard_normal((3, d)).astype(np.float32)
    ids = rng.permutation(10 * n)[:n] - 5 * n          # arbitrary, some negative
    idx = VectorIndex(d, metric, dtype=dtype)
    idx.add(x, ids)
    res = idx.search(q, k=k, exact=True)
    m = min(k, n)
    all_d = np.sort(get_metric(metric).pairwise(q, x), axis=1)
    assert res.counts.tolist() == [m] * 3
    np.testing.assert_allclose(res.distances[:, :m], all_d[:, :m], rtol=1e-4, atol=1e-4)
    for i in range(3):   # the returned ids really are at those distances
        got = get_metric(metric).pairwise(q[i], idx.get(res.ids[i, :m]))[0]
        np.testing.assert_allclose(got, res.distances[i, :m], rtol=1e-4, atol=1e-4)
        if m < n and all_d[i, m] - all_d[i, m - 1] > 1e-3:   # no tie at the cut
            want_pos, _ = _brute(metric, q[i:i + 1], x, m)
            assert set(ids[want_pos[0]]) == set(res.ids[i, :m])


# -- ids, add, remove ---------------------------------------------------------------------------

def test_custom_ids_round_trip():
    x = _data(50, 8)
    ids = np.arange(50) * -1000 - 7
    idx = VectorIndex(8, "l2")
    assert idx.add(x, ids).tolist() == ids.tolist()
    res = idx.search(x[[3, 17]], k=1, exact=True)
    assert res.ids[:, 0].tolist() == [ids[3], ids[17]]
    np.testing.assert_array_equal(idx.get([ids[5]]), x[5:6])
    assert ids[4] in idx and 12345 not in idx
    assert idx.contains([ids[0], 1]).tolist() == [True, False]
    assert sorted(idx.ids.tolist()) == sorted(ids.tolist())
    with pytest.raises(ProgrammingError, match="not in the index"):
        idx.get([1])


def test_default_ids_continue_and_duplicates_are_errors():
    idx = VectorIndex(4, dtype="f32")
    assert idx.add(_data(3, 4)).tolist() == [0, 1, 2]
    assert idx.add(_data(2, 4, seed=1)).tolist() == [3, 4]
    with pytest.raises(IntegrityError, match="id 4 is already in the index"):
        idx.add(_data(1, 4), ids=[4])
    with pytest.raises(IntegrityError, match="duplicate id 9 at positions 0 and 2"):
        idx.add(_data(3, 4), ids=[9, 8, 9])
    with pytest.raises(ProgrammingError, match="got 2 ids for 3 vectors"):
        idx.add(_data(3, 4), ids=[1, 2])
    with pytest.raises(ProgrammingError, match="integers"):
        idx.add(_data(1, 4), ids=[1.5])
    assert len(idx) == 5


def test_bad_vectors_are_rejected():
    idx = VectorIndex(4)
    with pytest.raises(DataError, match="dimension 5, expected 4"):
        idx.add(_data(2, 5))
    bad = _data(3, 4)
    bad[1, 2] = np.nan
    with pytest.raises(DataError, match="row 1"):
        idx.add(bad)
    with pytest.raises(DataError, match="floating-point"):
        idx.add(np.ones((2, 4), dtype=np.int32))
    idx.add(_data(3, 4))
    with pytest.raises(DataError, match="dimension 3, expected 4"):
        idx.search(_data(1, 3))
    with pytest.raises(ProgrammingError, match="k must be an integer >= 1"):
        idx.search(_data(1, 4), k=0)
    with pytest.raises(ProgrammingError, match="ef must be"):
        idx.search(_data(1, 4), ef=-1)
    for bad_args in ({"dimension": 0}, {"dimension": 4, "m": 1},
                     {"dimension": 4, "ef_construction": 0}):
        with pytest.raises(ProgrammingError):
            VectorIndex(**bad_args)
    with pytest.raises(ProgrammingError, match="unknown metric"):
        VectorIndex(4, "manhattan")


@pytest.mark.parametrize("dtype", ["i8", "f32"])
def test_removed_ids_never_come_back(dtype):
    x = _data(300, 16)
    idx = VectorIndex(16, dtype=dtype)
    idx.add(x, ids=np.arange(300) + 1000)
    gone = np.arange(1000, 1300, 3)
    assert idx.remove(np.concatenate([gone, [5, 6]])) == len(gone)
    assert idx.remove(gone) == 0
    assert len(idx) == 300 - len(gone)
    for exact in (False, True):
        res = idx.search(x[:20], k=50, ef=400, exact=exact)
        assert not np.isin(res.ids, gone).any() and (res.counts == 50).all()
    res = idx.search(x[:20], k=300)             # more than there is: every live vector
    assert (res.counts == len(idx)).all() and not np.isin(res.ids, gone).any()
    idx.add(x[:1], ids=[1000])          # a removed id can be added again
    assert idx.search(x[0], k=1).ids[0, 0] == 1000


@pytest.mark.parametrize("dtype", ["i8", "f32"])
def test_compact_drops_removed_slots_and_refits_the_scale(dtype):
    idx = VectorIndex(16, "l2", dtype=dtype)
    x = _data(400, 16)
    idx.add(x[:2] * 0.01, ids=[-1, -2])        # a tiny first batch fixes a poor int8 scale
    idx.add(x, ids=np.arange(400))
    idx.remove(np.arange(0, 400, 2))
    idx.remove([-1, -2])
    before = idx.search(x[1::2][:10], k=5, exact=True)
    idx.compact()
    assert idx._size == len(idx) == 200
    assert sorted(idx.ids.tolist()) == list(range(1, 400, 2))
    if dtype == "i8":
        assert idx.quantization_scale < 127 / 0.05
    after = idx.search(x[1::2][:10], k=5, exact=True)
    np.testing.assert_array_equal(after.ids, before.ids)
    graph = idx.search(x[1::2][:10], k=1)
    assert graph.ids[:, 0].tolist() == list(range(1, 20, 2))
    idx.add(x[:1], ids=[0])                    # still usable afterwards
    assert 0 in idx


def test_k_larger_than_index_and_empty_index():
    idx = VectorIndex(4)
    res = idx.search(_data(2, 4), k=3)
    assert res.counts.tolist() == [0, 0] and (res.ids == -1).all()
    idx.add(_data(2, 4))
    res = idx.search(_data(2, 4, seed=3), k=5)
    assert res.counts.tolist() == [2, 2]
    assert (res.ids[:, 2:] == -1).all() and np.isinf(res.distances[:, 2:]).all()
    ids, dist = res.row(0)
    assert len(ids) == len(dist) == 2


def test_single_and_batch_queries_agree():
    x = _data(400, 16)
    idx = VectorIndex(16)
    idx.add(x)
    batch = idx.search(x[:5], k=4)
    for i in range(5):
        one = idx.search(x[i], k=4)
        assert one.ids.shape == (1, 4)
        np.testing.assert_array_equal(one.ids[0], batch.ids[i])
    assert idx.search(x[:3], k=4, threads=1).ids.tolist() == batch.ids[:3].tolist()


def test_quantization_scale_clips_later_outliers_but_stays_exact():
    idx = VectorIndex(8, "l2")
    idx.add(_data(100, 8))
    scale = idx.quantization_scale
    far = _data(10, 8, seed=4) * 100            # well outside the first batch's range
    idx.add(far, ids=np.arange(1000, 1010))
    assert idx.quantization_scale == scale
    res = idx.search(far[3], k=1)
    assert res.ids[0, 0] == 1003 and res.distances[0, 0] == pytest.approx(0.0, abs=1e-4)


def test_add_without_copy_keeps_a_reference():
    x = _data(50, 8)
    idx = VectorIndex(8)
    idx.add(x, copy=False)
    assert idx._vectors is x
    idx.add(_data(5, 8, seed=2))                # growing copies into an owned buffer
    assert idx._vectors is not x and len(idx) == 55


def test_progress_callback():
    calls = []
    idx = VectorIndex(8)
    idx.add(_data(5000, 8), progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (5000, 5000) and len(calls) >= 2
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)


# -- filters ----------------------------------------------------------------------------------

def _filtered_truth(metric, q, x, ids, passing, k):
    d = get_metric(metric).pairwise(q, x[passing])
    order = np.argsort(d, axis=1, kind="stable")[:, :k]
    return ids[passing][order], np.take_along_axis(d, order, 1)


@pytest.mark.parametrize("metric", METRIC_NAMES)
def test_allowed_ids_small_set_is_exact(metric):
    x, q = _data(2000, 16), _data(4, 16, seed=8)
    ids = np.arange(2000) * 2
    idx = VectorIndex(16, metric)
    idx.add(x, ids)
    allowed = ids[::37]
    res = idx.search(q, k=5, allowed_ids=set(allowed.tolist()))
    want, dist = _filtered_truth(metric, q, x, ids, np.isin(ids, allowed), 5)
    np.testing.assert_array_equal(res.ids, want)
    np.testing.assert_allclose(res.distances, dist, rtol=1e-5, atol=1e-5)


def test_allowed_ids_large_set_and_predicate_use_the_graph():
    x, q = _lowrank(6000, 32, rank=8), _lowrank(10, 32, rank=8, seed=3)
    idx = VectorIndex(32)
    idx.add(x)
    allowed = np.flatnonzero(np.arange(6000) % 3 != 0)        # 2/3 of the index
    res = idx.search(q, k=10, allowed_ids=allowed)
    assert np.isin(res.ids, allowed).all() and (res.counts == 10).all()
    want, _ = _filtered_truth("cosine", q, x, np.arange(6000), allowed, 10)
    recall = np.mean([len(set(res.ids[i]) & set(want[i])) / 10 for i in range(10)])
    assert recall >= 0.9

    seen = []

    def even(ids):
        seen.append(len(ids))
        return ids % 2 == 0
    res = idx.search(q, k=10, filter=even)
    assert (res.ids % 2 == 0).all() and (res.counts == 10).all()
    assert max(seen) < 6000                                    # never scanned everything
    both = idx.search(q, k=10, filter=even, allowed_ids=allowed)
    assert (both.ids % 2 == 0).all() and np.isin(both.ids, allowed).all()


def test_rare_predicate_falls_back_to_exact_scan():
    x, q = _data(3000, 16), _data(3, 16, seed=2)
    idx = VectorIndex(16, "l2")
    idx.add(x)
    res = idx.search(q, k=5, filter=lambda ids: ids % 1000 == 7)
    want, dist = _filtered_truth("l2", q, x, np.arange(3000), np.arange(3000) % 1000 == 7, 5)
    assert res.counts.tolist() == [3, 3, 3]
    np.testing.assert_array_equal(res.ids[:, :3], want)
    np.testing.assert_allclose(res.distances[:, :3], dist, rtol=1e-5)
    exact = idx.search(q, k=2, filter=lambda ids: ids < 100, exact=True)
    want, _ = _filtered_truth("l2", q, x, np.arange(3000), np.arange(3000) < 100, 2)
    np.testing.assert_array_equal(exact.ids, want)


def test_bad_filter_results_are_errors():
    idx = VectorIndex(4)
    idx.add(_data(200, 4))
    with pytest.raises(ProgrammingError, match="one boolean per id"):
        idx.search(_data(1, 4), filter=lambda ids: True)
    assert idx.search(_data(1, 4), allowed_ids=[]).counts.tolist() == [0]
    assert idx.search(_data(1, 4), allowed_ids=[10**12]).counts.tolist() == [0]


# -- the .hnsw file -----------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
def test_save_and_open_give_the_same_answers(tmp_path, dtype):
    x, q = _data(500, 16), _data(6, 16, seed=1)
    idx = VectorIndex(16, "l2", m=8, ef_construction=40, dtype=dtype, ef_search=32)
    idx.add(x, ids=np.arange(500) + 7)
    idx.remove([7, 8])
    path = tmp_path / "i.hnsw"
    size = idx.save(path)
    assert size == path.stat().st_size and size % hnsw_file.ALIGN == 0
    before = idx.search(q, k=5)
    for mmap in (True, False):
        with VectorIndex.open(path, mmap=mmap) as back:
            assert (back.dimension, back.metric, back.m, back.ef_construction, back.dtype,
                    back.ef_search, len(back)) == (16, "l2", 8, 40, dtype, 32, 498)
            assert back.read_only is mmap and back.path == str(path)
            after = back.search(q, k=5)
            np.testing.assert_array_equal(after.ids, before.ids)
            np.testing.assert_allclose(after.distances, before.distances, rtol=1e-6)
            assert 7 not in back and 9 in back
            np.testing.assert_array_equal(back.get([9]), x[2:3])
    assert os.listdir(tmp_path) == ["i.hnsw"]


def test_mapped_index_is_read_only_loaded_one_can_change(tmp_path):
    idx = VectorIndex(8)
    idx.add(_data(100, 8))
    idx.save(tmp_path / "a.hnsw")
    mapped = VectorIndex.open(tmp_path / "a.hnsw")
    with pytest.raises(ProgrammingError, match="read-only"):
        mapped.add(_data(1, 8), ids=[500])
    with pytest.raises(ProgrammingError, match="read-only"):
        mapped.remove([1])
    loaded = VectorIndex.open(tmp_path / "a.hnsw", mmap=False)
    loaded.add(_data(1, 8, seed=9), ids=[500])
    loaded.remove([0])
    loaded.save(tmp_path / "a.hnsw")
    again = VectorIndex.open(tmp_path / "a.hnsw")
    assert len(again) == 100 and 500 in again and 0 not in again
    assert again.quantization_scale == idx.quantization_scale
    mapped.close()
    assert len(mapped) == 0


def test_header_layout(tmp_path):
    idx = VectorIndex(8, "ip", dtype="f16")
    idx.add(_data(10, 8))
    idx.save(tmp_path / "h.hnsw")
    raw = (tmp_path / "h.hnsw").read_bytes()
    magic, version, meta_len, _crc = struct.unpack("<8sIII", raw[:20])
    assert magic == b"SOCHHNSW" and version == 1
    header = hnsw_file.read_header(tmp_path / "h.hnsw")
    meta = header.meta
    assert meta["format"] == "sochdb-hnsw" and meta_len > 0
    assert (meta["metric"], meta["dimension"], meta["dtype"], meta["count"]) == ("ip", 8, "f16", 10)
    assert set(header.sections) == {"graph", "ids", "live", "vectors"}
    for sec in header.sections.values():
        assert sec["offset"] % hnsw_file.ALIGN == 0
    ids = np.frombuffer(raw, "<i8", 10, header.sections["ids"]["offset"])
    assert ids.tolist() == list(range(10))
    graph = header.sections["graph"]
    alone = Index.restore(raw[graph["offset"]:graph["offset"] + graph["length"]])
    assert len(alone) == 10 and alone.ndim == 8      # usearch reads the graph section alone
    hnsw_file.verify_file(tmp_path / "h.hnsw")


def _saved(tmp_path, name="c.hnsw"):
    idx = VectorIndex(8)
    idx.add(_data(200, 8))
    path = tmp_path / name
    idx.save(path)
    return path


def test_corrupt_files_are_reported(tmp_path):
    path = _saved(tmp_path)
    good = path.read_bytes()
    header = hnsw_file.read_header(path)

    path.write_bytes(good[:len(good) // 2])
    with pytest.raises(CorruptionError, match="truncated .hnsw file: section"):
        VectorIndex.open(path)
    path.write_bytes(b"NOTHNSW!" + good[8:])
    with pytest.raises(CorruptionError, match="not a sochdb .hnsw index file"):
        VectorIndex.open(path)
    path.write_bytes(good[:8] + struct.pack("<I", 99) + good[12:])
    with pytest.raises(CorruptionError, match="format version 99 is not supported"):
        VectorIndex.open(path)
    flipped = bytearray(good)
    flipped[40] ^= 0xFF
    path.write_bytes(bytes(flipped))
    with pytest.raises(CorruptionError, match="metadata checksum mismatch"):
        hnsw_file.read_header(path)
    flipped = bytearray(good)
    flipped[header.sections["vectors"]["offset"] + 5] ^= 0xFF
    path.write_bytes(bytes(flipped))
    VectorIndex.open(path)                       # opening does not read the sections...
    with pytest.raises(CorruptionError, match="section 'vectors' .* fails its checksum"):
        hnsw_file.verify_file(path)              # ...verify does
    path.write_bytes(b"")
    with pytest.raises(CorruptionError, match="bad magic"):
        VectorIndex.open(path)
    with pytest.raises(OperationalError, match="no such file"):
        VectorIndex.open(tmp_path / "missing.hnsw")


def test_inconsistent_metadata_is_corruption(tmp_path):
    path = _saved(tmp_path)
    header = hnsw_file.read_header(path)
    meta = dict(header.meta)
    meta["count"] = 5
    graph = path.read_bytes()[header.sections["graph"]["offset"]:][
        :header.sections["graph"]["length"]]
    sections = [("graph", graph, {}), ("ids", np.arange(200, dtype="<i8"), {}),
                ("live", np.ones(200, np.uint8), {}),
                ("vectors", np.zeros((200, 8), np.float32), {})]
    hnsw_file.write_file(path, meta, sections)
    with pytest.raises(CorruptionError, match="graph holds 200 vectors"):
        VectorIndex.open(path)
    del meta["m"]
    hnsw_file.write_file(path, meta, sections)
    with pytest.raises(CorruptionError, match="metadata is incomplete"):
        VectorIndex.open(path)
    meta["m"], meta["count"] = 16, 200
    hnsw_file.write_file(path, meta, [("graph", b"garbage" * 10, {})] + sections[1:])
    with pytest.raises(CorruptionError, match="graph section cannot be read"):
        VectorIndex.open(path)


def test_open_index_cache(tmp_path):
    clear_index_cache()
    path = _saved(tmp_path)
    a = open_index(path)
    assert open_index(str(path)) is a and a.read_only
    idx = VectorIndex(8)
    idx.add(_data(30, 8, seed=5))
    idx.save(path)                               # rebuilt: new inode, size and mtime
    b = open_index(path)
    assert b is not a and len(b) == 30
    assert len(a) == 200                         # the old mapping keeps answering
    assert a.search(_data(1, 8), k=3).counts.tolist() == [3]
    clear_index_cache()
    assert open_index(path) is not b
    with pytest.raises(OperationalError, match="no such file"):
        open_index(tmp_path / "nope.hnsw")


def test_repr_and_info():
    idx = VectorIndex(8, "euclidean", dtype="bf16")
    idx.add(_data(3, 8))
    assert "metric='l2'" in repr(idx) and "vectors=3" in repr(idx)
    info = idx.info()
    assert info["metric"] == "l2" and info["dtype"] == "bf16" and info["rerank"] is True
    assert VectorIndex(8, dtype="f32").info()["rerank"] is False
