"""VectorIndexService over a real server and channel: the guide's example, every RPC, the
three metrics' distances, error statuses, a restart, and 8 concurrent clients."""

from __future__ import annotations

import contextlib
import io
import threading

import grpc
import numpy as np
import pytest

from sochdb.grpc import sochdb_pb2 as pb
from sochdb.grpc import sochdb_pb2_grpc as pb_grpc

S = grpc.StatusCode

# The guide's "Python gRPC Client Example", as printed there except: the metric is
# 2 (COSINE; the guide's `metric=1, # COSINE` is L2 on the wire), the address is the test
# server's instead of localhost:50051, and the loop body is indented.
GUIDE_EXAMPLE = '''
import grpc
from sochdb_pb2 import (
CreateIndexRequest, SearchRequest, HnswConfig
)
from sochdb_pb2_grpc import VectorIndexServiceStub

# Connect to gRPC server
channel = grpc.insecure_channel('localhost:50051')
stub = VectorIndexServiceStub(channel)

# Create index
response = stub.CreateIndex(CreateIndexRequest(
name="my_index",
dimension=768,
metric=2, # COSINE
config=HnswConfig(
max_connections=16,
ef_construction=200,
ef_search=50
)
))
print(f"Created: {response.info.name}")

# Search
import numpy as np
query = np.random.randn(768).astype(np.float32)
response = stub.Search(SearchRequest(
index_name="my_index",
query=query.tolist(),
k=10
))
for result in response.results:
    print(f"ID: {result.id}, Distance: {result.distance:.4f}")
'''


def run_guide(target: str, code: str = GUIDE_EXAMPLE) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(code.replace("localhost:50051", target), {})  # noqa: S102 - the guide's code
    return out.getvalue()


@pytest.fixture
def stub(channel):
    return pb_grpc.VectorIndexServiceStub(channel)


@pytest.fixture
def name(request, stub):
    """A fresh index name per test (tests share one server)."""
    n = request.node.name.replace("[", "_").replace("]", "")
    yield n
    with contextlib.suppress(grpc.RpcError):
        stub.DropIndex(pb.DropIndexRequest(name=n))


def create(stub, name, dim=8, metric=pb.DISTANCE_METRIC_L2, **config):
    return stub.CreateIndex(pb.CreateIndexRequest(
        name=name, dimension=dim, metric=metric, config=pb.HnswConfig(**config)))


def insert(stub, name, ids, vectors):
    return stub.InsertBatch(pb.InsertBatchRequest(
        index_name=name, ids=list(map(int, ids)),
        vectors=np.asarray(vectors, np.float32).ravel().tolist()))


def self_hits(stub, name, vectors, ids, k=1):
    """How many of ``vectors`` find their own id first (SearchBatch, ef 256).

    HNSW is approximate: a few nodes of a graph built by incremental inserts can be
    unreachable even at a large ef, so tests ask for nearly all, not all."""
    res = stub.SearchBatch(pb.SearchBatchRequest(
        index_name=name, queries=np.asarray(vectors, np.float32).ravel().tolist(),
        num_queries=len(ids), k=k, ef=256))
    assert len(res.results) == len(ids)
    return sum(q.results[0].id == i for q, i in zip(res.results, ids))


def rpc_error(fn, *args):
    with pytest.raises(grpc.RpcError) as e:
        fn(*args)
    return e.value.code(), e.value.details()


def test_guide_example_with_the_corrected_metric(shared_server, stub):
    try:
        out = run_guide(shared_server.target)
        assert out == "Created: my_index\n"  # the new index is empty: no results yet
        info = stub.GetStats(pb.GetStatsRequest(index_name="my_index")).stats
        assert (info.num_vectors, info.dimension) == (0, 768)
        rng = np.random.default_rng(7)
        insert(stub, "my_index", range(200), rng.standard_normal((200, 768)))
        # The guide's connect and search parts again, now that the index holds vectors.
        head = GUIDE_EXAMPLE[:GUIDE_EXAMPLE.index("# Create index")]
        tail = GUIDE_EXAMPLE[GUIDE_EXAMPLE.index("# Search"):]
        lines = run_guide(shared_server.target, head + tail).splitlines()
        assert len(lines) == 10
        distances = [float(line.split("Distance: ")[1]) for line in lines]
        assert all(line.startswith("ID: ") for line in lines)
        assert distances == sorted(distances) and 0.0 <= distances[0] <= 2.0
    finally:
        stub.DropIndex(pb.DropIndexRequest(name="my_index"))


def test_create_reports_the_index_info(stub, name):
    res = create(stub, name, dim=16, metric=pb.DISTANCE_METRIC_COSINE,
                 max_connections=8, ef_construction=64, ef_search=32)
    assert res.success and res.error == ""
    info = res.info
    assert (info.name, info.dimension, info.metric) == (name, 16, pb.DISTANCE_METRIC_COSINE)
    assert (info.config.max_connections, info.config.max_connections_layer0,
            info.config.ef_construction, info.config.ef_search) == (8, 16, 64, 32)
    assert info.created_at > 1_600_000_000


def test_unspecified_config_takes_the_documented_defaults(stub, name):
    info = stub.CreateIndex(pb.CreateIndexRequest(name=name, dimension=4)).info
    assert info.metric == pb.DISTANCE_METRIC_COSINE
    assert (info.config.max_connections, info.config.max_connections_layer0,
            info.config.ef_construction, info.config.ef_search) == (16, 32, 200, 50)


@pytest.mark.parametrize("metric, label", [
    (pb.DISTANCE_METRIC_L2, "euclidean"), (pb.DISTANCE_METRIC_COSINE, "cosine"),
    (pb.DISTANCE_METRIC_DOT_PRODUCT, "dot_product")])
def test_search_distances_follow_the_proto(stub, name, metric, label):
    rng = np.random.default_rng(1)
    vecs = rng.standard_normal((300, 8)).astype(np.float32)
    create(stub, name, dim=8, metric=metric)
    assert insert(stub, name, range(300), vecs).inserted_count == 300
    q = rng.standard_normal(8).astype(np.float32)
    res = stub.Search(pb.SearchRequest(index_name=name, query=q.tolist(), k=5, ef=300))
    ids = np.array([r.id for r in res.results])
    got = np.array([r.distance for r in res.results])
    assert len(ids) == 5 and {r.metric for r in res.results} == {label}
    if metric == pb.DISTANCE_METRIC_L2:
        exact = np.linalg.norm(vecs - q, axis=1)
    elif metric == pb.DISTANCE_METRIC_COSINE:
        exact = 1 - vecs @ q / (np.linalg.norm(vecs, axis=1) * np.linalg.norm(q))
    else:
        exact = -(vecs @ q)  # the proto: the raw inner product, negated
    np.testing.assert_allclose(got, exact[ids], rtol=1e-4, atol=1e-4)
    assert list(got) == sorted(got)
    # HNSW is approximate (ef=300 over 300 vectors is nearly always exact); the distances
    # above are this layer's contract, the neighbours the index's.
    assert len(set(ids) & set(np.argsort(exact)[:5].tolist())) >= 4


def test_insert_search_batch_stats_health_drop(stub, name):
    rng = np.random.default_rng(2)
    vecs = rng.standard_normal((100, 8)).astype(np.float32)
    create(stub, name)
    res = insert(stub, name, range(1000, 1100), vecs)
    assert res.inserted_count == 100 and res.error == ""
    one = stub.Search(pb.SearchRequest(index_name=name, query=vecs[7].tolist(), k=3))
    assert len(one.results) == 3 and one.duration_us > 0
    assert [r.distance for r in one.results] == sorted(r.distance for r in one.results)
    if one.results[0].id == 1007:
        assert one.results[0].distance < 1e-4
    assert self_hits(stub, name, vecs, range(1000, 1100)) >= 97

    batch = stub.SearchBatch(pb.SearchBatchRequest(
        index_name=name, queries=vecs[:3].ravel().tolist(), num_queries=3, k=4))
    assert len(batch.results) == 3
    assert all(len(q.results) == 4 for q in batch.results)
    assert sum(q.results[0].id == 1000 + i for i, q in enumerate(batch.results)) >= 2
    inferred = stub.SearchBatch(pb.SearchBatchRequest(  # num_queries 0: from the length
        index_name=name, queries=vecs[:2].ravel().tolist(), k=1))
    assert len(inferred.results) == 2 and all(len(q.results) == 1 for q in inferred.results)

    stats = stub.GetStats(pb.GetStatsRequest(index_name=name)).stats
    assert (stats.num_vectors, stats.dimension) == (100, 8)
    assert stats.memory_bytes >= 100 * 8 * 4

    health = stub.HealthCheck(pb.HealthCheckRequest())
    assert health.status == pb.HealthCheckResponse.SERVING and name in health.indexes
    assert health.version
    one = stub.HealthCheck(pb.HealthCheckRequest(index_name=name))
    assert one.status == pb.HealthCheckResponse.SERVING
    missing = stub.HealthCheck(pb.HealthCheckRequest(index_name=name + "-missing"))
    assert missing.status == pb.HealthCheckResponse.NOT_SERVING

    assert stub.DropIndex(pb.DropIndexRequest(name=name)).success
    assert name not in stub.HealthCheck(pb.HealthCheckRequest()).indexes
    assert rpc_error(stub.GetStats, pb.GetStatsRequest(index_name=name))[0] == S.NOT_FOUND


def test_insert_stream(stub, name):
    rng = np.random.default_rng(3)
    vecs = rng.standard_normal((2500, 8)).astype(np.float32)  # more than one chunk

    def messages():
        yield pb.InsertStreamRequest(index_name=name, id=0, vector=vecs[0].tolist())
        for i in range(1, 2500):
            yield pb.InsertStreamRequest(id=i, vector=vecs[i].tolist())
        yield pb.InsertStreamRequest(id=9999, vector=[1.0, 2.0])  # wrong dimension
        yield pb.InsertStreamRequest(index_name="other", id=9998, vector=vecs[0].tolist())

    create(stub, name)
    res = stub.InsertStream(messages())
    assert res.total_inserted == 2500 and res.duration_us > 0
    assert len(res.errors) == 2
    assert "id 9999" in res.errors[0] and "dimension 2" in res.errors[0]
    assert "id 9998" in res.errors[1] and "'other'" in res.errors[1]
    assert stub.GetStats(pb.GetStatsRequest(index_name=name)).stats.num_vectors == 2500
    assert self_hits(stub, name, vecs[::25], range(0, 2500, 25)) >= 97


def test_error_statuses(stub, name):
    create(stub, name, dim=4)
    insert(stub, name, [1, 2], np.eye(2, 4))
    code, details = rpc_error(create, stub, name, 4)
    assert code == S.ALREADY_EXISTS and name in details
    missing = "no-such-index"
    for fn, req in [
        (stub.DropIndex, pb.DropIndexRequest(name=missing)),
        (stub.InsertBatch, pb.InsertBatchRequest(index_name=missing, ids=[1], vectors=[0] * 4)),
        (stub.Search, pb.SearchRequest(index_name=missing, query=[0] * 4, k=1)),
        (stub.SearchBatch, pb.SearchBatchRequest(index_name=missing, queries=[0] * 4, k=1)),
        (stub.GetStats, pb.GetStatsRequest(index_name=missing)),
    ]:
        code, details = rpc_error(fn, req)
        assert code == S.NOT_FOUND and missing in details and name in details
    code, _ = rpc_error(stub.InsertStream, iter([pb.InsertStreamRequest(
        index_name=missing, id=1, vector=[0] * 4)]))
    assert code == S.NOT_FOUND

    invalid = [
        (stub.InsertBatch, pb.InsertBatchRequest(index_name=name, ids=[5], vectors=[0] * 3)),
        (stub.InsertBatch, pb.InsertBatchRequest(index_name=name, ids=[5, 6], vectors=[0] * 4)),
        (stub.InsertBatch, pb.InsertBatchRequest(index_name=name)),
        (stub.Search, pb.SearchRequest(index_name=name, query=[0] * 3, k=1)),
        (stub.Search, pb.SearchRequest(index_name=name, query=[], k=1)),
        (stub.Search, pb.SearchRequest(index_name=name, query=[0] * 4, k=0)),
        (stub.SearchBatch, pb.SearchBatchRequest(index_name=name, queries=[0] * 6, k=1)),
        (stub.SearchBatch, pb.SearchBatchRequest(index_name=name, queries=[0] * 8,
                                                 num_queries=3, k=1)),
        (stub.SearchBatch, pb.SearchBatchRequest(index_name=name, k=1)),
        (stub.SearchBatch, pb.SearchBatchRequest(index_name=name, queries=[0] * 4, k=0)),
        (stub.CreateIndex, pb.CreateIndexRequest(name=name + "-d0", dimension=0)),
        (stub.CreateIndex, pb.CreateIndexRequest(name="", dimension=4)),
        (stub.CreateIndex, pb.CreateIndexRequest(name=name + "-m", dimension=4, metric=9)),
        (stub.CreateIndex, pb.CreateIndexRequest(name=name + "-m0", dimension=4, config=(
            pb.HnswConfig(max_connections=8, max_connections_layer0=20)))),
        (stub.Search, pb.SearchRequest(query=[0] * 4, k=1)),
    ]
    for fn, req in invalid:
        code, details = rpc_error(fn, req)
        assert code == S.INVALID_ARGUMENT and details, (req, code)
    code, details = rpc_error(stub.Search, pb.SearchRequest(index_name=name, query=[0] * 3, k=1))
    assert "dimension 3" in details and "dimension 4" in details
    code, _ = rpc_error(stub.InsertStream, iter([]))
    assert code == S.INVALID_ARGUMENT
    assert stub.GetStats(pb.GetStatsRequest(index_name=name)).stats.num_vectors == 2


def test_indexes_survive_a_restart_and_a_kill(launch):
    rng = np.random.default_rng(4)
    vecs = rng.standard_normal((500, 16)).astype(np.float32)
    srv = launch("db")
    queries = vecs[:5].ravel().tolist()
    with srv.channel() as ch:
        stub = pb_grpc.VectorIndexServiceStub(ch)
        create(stub, "keep", dim=16, metric=pb.DISTANCE_METRIC_COSINE, ef_search=80)
        create(stub, "gone", dim=4)
        insert(stub, "keep", range(500), vecs)
        stub.DropIndex(pb.DropIndexRequest(name="gone"))
        before = stub.SearchBatch(pb.SearchBatchRequest(index_name="keep", queries=queries,
                                                        num_queries=5, k=10))
    assert srv.stop() == 0
    srv.start()
    with srv.channel() as ch:
        stub = pb_grpc.VectorIndexServiceStub(ch)
        assert list(stub.HealthCheck(pb.HealthCheckRequest()).indexes) == ["keep"]
        assert stub.GetStats(pb.GetStatsRequest(index_name="keep")).stats.num_vectors == 500
        after = stub.SearchBatch(pb.SearchBatchRequest(index_name="keep", queries=queries,
                                                       num_queries=5, k=10))
        assert [[r.id for r in q.results] for q in after.results] == \
               [[r.id for r in q.results] for q in before.results]
        assert self_hits(stub, "keep", vecs[:100], range(100)) >= 97
        assert rpc_error(create, stub, "keep", 16)[0] == S.ALREADY_EXISTS
        more = rng.standard_normal((100, 16)).astype(np.float32)
        insert(stub, "keep", range(500, 600), more)
    srv.kill()  # no checkpoint: the acknowledged inserts must come back from the WAL
    srv.start()
    with srv.channel() as ch:
        stub = pb_grpc.VectorIndexServiceStub(ch)
        assert stub.GetStats(pb.GetStatsRequest(index_name="keep")).stats.num_vectors == 600
        assert self_hits(stub, "keep", more, range(500, 600)) >= 97


def test_eight_concurrent_clients_insert_and_search(shared_server, stub, name):
    dim, per_client, batch = 16, 400, 100
    create(stub, name, dim=dim)
    rng = np.random.default_rng(5)
    data = rng.standard_normal((8, per_client, dim)).astype(np.float32)
    failures: list[BaseException] = []
    found: list[bool] = []  # whether each in-flight probe found its own vector first
    start = threading.Barrier(8)

    def client(c: int) -> None:
        try:
            with shared_server.channel() as ch:
                s = pb_grpc.VectorIndexServiceStub(ch)
                start.wait()
                for b in range(0, per_client, batch):
                    ids = range(c * per_client + b, c * per_client + b + batch)
                    assert insert(s, name, ids, data[c, b:b + batch]).inserted_count == batch
                    probe = data[c, b]
                    hit = s.Search(pb.SearchRequest(index_name=name, query=probe.tolist(),
                                                    k=3, ef=64))
                    assert len(hit.results) == 3
                    found.append(hit.results[0].id == c * per_client + b)
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            failures.append(e)

    threads = [threading.Thread(target=client, args=(c,)) for c in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not failures, failures
    assert stub.GetStats(pb.GetStatsRequest(index_name=name)).stats.num_vectors == 8 * per_client
    assert len(found) == 32 and sum(found) >= 30
    everything = data.reshape(-1, dim)
    assert self_hits(stub, name, everything[::10], range(0, 8 * per_client, 10)) >= 310
