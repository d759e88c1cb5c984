"""KvService over a real server and channel: every RPC, scan order and limit, namespaces,
error statuses, and data surviving a restart."""

from __future__ import annotations

import grpc
import pytest

from sochdb import Database
from sochdb.grpc import sochdb_pb2 as pb
from sochdb.grpc import sochdb_pb2_grpc as pb_grpc


@pytest.fixture
def kv(channel):
    return pb_grpc.KvServiceStub(channel)


@pytest.fixture
def ns(request):
    """A namespace unique to the test, so tests sharing a server do not collide."""
    return request.node.name


def test_put_get_delete(kv, ns):
    assert kv.Put(pb.KvPutRequest(namespace=ns, key=b"a", value=b"1")).success
    got = kv.Get(pb.KvGetRequest(namespace=ns, key=b"a"))
    assert (got.found, got.value) == (True, b"1")
    assert kv.Put(pb.KvPutRequest(namespace=ns, key=b"a", value=b"2")).success
    assert kv.Get(pb.KvGetRequest(namespace=ns, key=b"a")).value == b"2"
    assert kv.Delete(pb.KvDeleteRequest(namespace=ns, key=b"a")).success
    got = kv.Get(pb.KvGetRequest(namespace=ns, key=b"a"))
    assert (got.found, got.value) == (False, b"")


def test_empty_value_is_found(kv, ns):
    kv.Put(pb.KvPutRequest(namespace=ns, key=b"e", value=b""))
    got = kv.Get(pb.KvGetRequest(namespace=ns, key=b"e"))
    assert got.found and got.value == b""


def test_binary_keys_and_large_values(kv, ns):
    big = bytes(range(256)) * 8192  # 2 MiB, under the default 64 MiB message limit
    kv.Put(pb.KvPutRequest(namespace=ns, key=b"\x00\xff", value=big))
    assert kv.Get(pb.KvGetRequest(namespace=ns, key=b"\x00\xff")).value == big


def test_scan_is_ordered_by_key_bytes_and_limited(kv, ns):
    keys = [b"k%03d" % i for i in (5, 1, 42, 7, 100, 3)] + [b"k\xff", b"k\x00", b"j1", b"l1"]
    kv.BatchPut(pb.KvBatchPutRequest(namespace=ns, entries=[
        pb.KvPutEntry(key=k, value=k[::-1]) for k in keys]))
    got = [(r.key, r.value) for r in kv.Scan(pb.KvScanRequest(namespace=ns, prefix=b"k"))]
    expected = sorted((k, k[::-1]) for k in keys if k.startswith(b"k"))
    assert got == expected
    assert got[0][0] == b"k\x00" and got[-1][0] == b"k\xff"
    limited = [r.key for r in kv.Scan(pb.KvScanRequest(namespace=ns, prefix=b"k", limit=3))]
    assert limited == [k for k, _ in expected[:3]]
    everything = [r.key for r in kv.Scan(pb.KvScanRequest(namespace=ns))]
    assert everything == sorted(keys)
    assert list(kv.Scan(pb.KvScanRequest(namespace=ns, prefix=b"zz"))) == []


def test_namespaces_are_key_prefixes(kv, ns):
    kv.Put(pb.KvPutRequest(namespace=f"{ns}-a", key=b"x", value=b"A"))
    kv.Put(pb.KvPutRequest(namespace=f"{ns}-b", key=b"x", value=b"B"))
    assert kv.Get(pb.KvGetRequest(namespace=f"{ns}-a", key=b"x")).value == b"A"
    assert kv.Get(pb.KvGetRequest(namespace=f"{ns}-b", key=b"x")).value == b"B"
    # The empty namespace sees raw keys: namespace N, key K is the key b"N/K".
    raw = kv.Get(pb.KvGetRequest(key=f"{ns}-a/x".encode()))
    assert raw.found and raw.value == b"A"
    scanned = [(r.key, r.value) for r in kv.Scan(pb.KvScanRequest(prefix=ns.encode()))]
    assert scanned == [(f"{ns}-a/x".encode(), b"A"), (f"{ns}-b/x".encode(), b"B")]


def test_batch_get_keeps_request_order(kv, ns):
    kv.BatchPut(pb.KvBatchPutRequest(namespace=ns, entries=[
        pb.KvPutEntry(key=b"b", value=b"2"), pb.KvPutEntry(key=b"a", value=b"1")]))
    res = kv.BatchGet(pb.KvBatchGetRequest(namespace=ns, keys=[b"b", b"missing", b"a", b"b"]))
    assert [(e.key, e.value, e.found) for e in res.entries] == [
        (b"b", b"2", True), (b"missing", b"", False), (b"a", b"1", True), (b"b", b"2", True)]
    assert len(kv.BatchGet(pb.KvBatchGetRequest(namespace=ns)).entries) == 0


def test_batch_put_counts_and_is_all_or_nothing(kv, ns):
    res = kv.BatchPut(pb.KvBatchPutRequest(namespace=ns, entries=[
        pb.KvPutEntry(key=b"k%d" % i, value=b"v%d" % i) for i in range(100)]))
    assert res.success_count == 100
    assert len(list(kv.Scan(pb.KvScanRequest(namespace=ns)))) == 100
    with pytest.raises(grpc.RpcError) as e:  # the bad third entry rejects the whole batch
        kv.BatchPut(pb.KvBatchPutRequest(namespace=ns, entries=[
            pb.KvPutEntry(key=b"new1", value=b"1"), pb.KvPutEntry(key=b"new2", value=b"2"),
            pb.KvPutEntry(key=b"", value=b"3")]))
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "entries[2].key" in e.value.details()
    assert not kv.Get(pb.KvGetRequest(namespace=ns, key=b"new1")).found
    assert kv.BatchPut(pb.KvBatchPutRequest(namespace=ns)).success_count == 0


@pytest.mark.parametrize("call", [
    lambda kv: kv.Put(pb.KvPutRequest(key=b"", value=b"v")),
    lambda kv: kv.Get(pb.KvGetRequest(namespace="n")),
    lambda kv: kv.Delete(pb.KvDeleteRequest()),
    lambda kv: kv.BatchGet(pb.KvBatchGetRequest(keys=[b"a", b""])),
    lambda kv: kv.Put(pb.KvPutRequest(key=b"t", value=b"v", ttl_seconds=60)),
    lambda kv: kv.BatchPut(pb.KvBatchPutRequest(entries=[
        pb.KvPutEntry(key=b"t", value=b"v", ttl_seconds=1)])),
    lambda kv: list(kv.Scan(pb.KvScanRequest(namespace="bad\x00ns"))),
], ids=["put-empty-key", "get-empty-key", "delete-empty-key", "batch-get-empty-key",
        "put-ttl", "batch-put-ttl", "scan-nul-namespace"])
def test_bad_requests_are_invalid_argument(kv, call):
    with pytest.raises(grpc.RpcError) as e:
        call(kv)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert e.value.details()


def test_message_size_limit(launch):
    srv = launch("db", "--max-message-bytes", "65536")
    with srv.channel() as ch:
        kv = pb_grpc.KvServiceStub(ch)
        kv.Put(pb.KvPutRequest(key=b"small", value=b"x" * 60000))
        with pytest.raises(grpc.RpcError) as e:
            kv.Put(pb.KvPutRequest(key=b"big", value=b"x" * 70000))
        assert e.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert kv.Get(pb.KvGetRequest(key=b"small")).found


def test_data_survives_restart_and_a_kill_and_is_the_embedded_kv(launch):
    srv = launch("db")
    with srv.channel() as ch:
        kv = pb_grpc.KvServiceStub(ch)
        kv.BatchPut(pb.KvBatchPutRequest(namespace="users", entries=[
            pb.KvPutEntry(key=b"alice", value=b"A"), pb.KvPutEntry(key=b"bob", value=b"B")]))
        kv.Put(pb.KvPutRequest(key=b"raw", value=b"R"))
        kv.Delete(pb.KvDeleteRequest(namespace="users", key=b"bob"))
    assert srv.stop() == 0
    with Database.open(srv.db) as db:  # the server checkpointed and released the lock
        assert db.get(b"users/alice") == b"A"
        assert db.get_path("users/bob") is None
        db.put(b"users/carol", b"C")
    srv.start()
    with srv.channel() as ch:
        kv = pb_grpc.KvServiceStub(ch)
        got = [(r.key, r.value) for r in kv.Scan(pb.KvScanRequest(namespace="users"))]
        assert got == [(b"alice", b"A"), (b"carol", b"C")]
        assert kv.Get(pb.KvGetRequest(key=b"raw")).value == b"R"
        kv.Put(pb.KvPutRequest(key=b"durable", value=b"yes"))
    srv.kill()  # no checkpoint, no close: the WAL alone must hold the acknowledged write
    srv.start()
    with srv.channel() as ch:
        kv = pb_grpc.KvServiceStub(ch)
        assert kv.Get(pb.KvGetRequest(key=b"durable")).value == b"yes"
        assert kv.Get(pb.KvGetRequest(namespace="users", key=b"carol")).value == b"C"
