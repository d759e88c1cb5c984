"""The IPC server under concurrency and limits: many processes, conflicts, max clients, idle
timeout, slow clients, graceful stop, and the original (version 1) protocol."""

from __future__ import annotations

import os
import signal
import socket
import struct
import threading
import time

import pytest

from sochdb import Database
from sochdb.errors import (InterfaceError, OperationalError, ResourceLimitError,
                           TransactionConflictError)
from sochdb.server import IpcClient
from sochdb.server import protocol as P

from .workers import FORK, write_keys


def _raw(path: str) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    return s


def _read_frame(s: socket.socket) -> tuple[int, bytes]:
    head = b""
    while len(head) < 5:
        chunk = s.recv(5 - len(head))
        if not chunk:
            raise EOFError
        head += chunk
    op, n = struct.unpack("<BI", head)
    body = b""
    while len(body) < n:
        chunk = s.recv(n - len(body))
        if not chunk:
            raise EOFError
        body += chunk
    return op, body


def test_sixteen_processes_writing_concurrently(launch):
    srv = launch()
    procs = [FORK.Process(target=write_keys, args=(srv.socket_path, f"p{i}", 2000))
             for i in range(16)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0] * 16
    with srv.connect() as c:
        for i in range(16):
            got = dict(c.scan_prefix(f"p{i}:"))
            assert len(got) == 2000
            assert all(got[f"p{i}:{j}".encode()] == f"v:{j}".encode() for j in range(2000))
        st = c.stats()
        assert st["connections_total"] >= 17 and st["requests_error"] == 0


def _conflict_outcome(begin_a, begin_b, read):
    """Two overlapping transactions write the same key: first committer wins."""
    a, b = begin_a(), begin_b()
    a.put(b"acct", b"A")
    b.put(b"acct", b"B")
    lsn = a.commit()
    with pytest.raises(TransactionConflictError):
        b.commit()
    return lsn > 0, a.status, b.status, read(b"acct")


def test_conflicting_remote_transactions_resolve_as_embedded(launch, short_dir):
    srv = launch()
    c1, c2 = srv.connect(), srv.connect()
    remote = _conflict_outcome(c1.begin_transaction, c2.begin_transaction, c1.get)
    with Database.open(os.path.join(short_dir, "embedded")) as db:
        embedded = _conflict_outcome(db.transaction, db.transaction, db.get)
    assert remote == embedded == (True, "committed", "aborted", b"A")
    # disjoint keys do not conflict; the loser's writes were not applied
    a, b = c1.begin_transaction(), c2.begin_transaction()
    a.put(b"x", b"1")
    b.put(b"y", b"2")
    a.commit()
    b.commit()
    assert c1.get_many([b"x", b"y"]) == [b"1", b"2"]
    assert c2.stats()["active_transactions"] == 0
    c1.close()
    c2.close()


def test_max_clients_refusal_names_the_limit(launch):
    srv = launch(max_clients=2)
    a, b = srv.connect(), srv.connect()
    with pytest.raises(ResourceLimitError, match=r"limit of 2 connections \(--max-clients\)"):
        IpcClient.connect(srv.socket_path)
    a.close()
    deadline = time.monotonic() + 5
    while True:  # the server notices the closed connection on its next loop turn
        try:
            c = IpcClient.connect(srv.socket_path)
            break
        except ResourceLimitError:
            assert time.monotonic() < deadline
            time.sleep(0.02)
    st = c.stats()
    assert st["connections_refused"] >= 1 and st["connections_active"] == 2
    b.close()
    c.close()


def test_idle_connections_are_closed_and_their_transactions_aborted(launch):
    srv = launch(timeout_ms=300)
    idle = srv.connect()
    txn = idle.begin_transaction()
    txn.put(b"idle", b"1")
    txn.get(b"idle")  # sends the queued write
    time.sleep(1.0)
    with pytest.raises(OperationalError, match=r"after 300 ms without a request"):
        idle.get(b"idle")
    assert idle.closed
    with pytest.raises(InterfaceError, match="is closed"):
        idle.get(b"idle")
    with srv.connect() as c:
        assert c.stats()["active_transactions"] == 0
        assert c.get(b"idle") is None
        # an active client is not timed out
        for _ in range(6):
            time.sleep(0.1)
            c.ping()


def test_slow_clients_do_not_block_others(launch):
    srv = launch()
    with srv.connect() as c:
        c.put(b"big", b"x" * 1_000_000)
        # 1: sends half a frame and stalls
        half = _raw(srv.socket_path)
        half.sendall(struct.pack("<BI", P.GET, 100) + b"abc")
        # 2: pipelines 64 requests for 1 MB values and never reads the replies
        hog = _raw(srv.socket_path)
        hog.sendall(P.frame(P.GET, b"big") * 64)
        # 3: a long request (a large scan) on its own connection
        c.put_many([(b"scan%06d" % i, b"v" * 100) for i in range(100_000)])
        slow = srv.connect()
        result: list = []
        t = threading.Thread(target=lambda: result.append(len(list(slow.scan_prefix(b"scan")))))
        t.start()
        worst = max(c.ping() for _ in range(50))
        t.join(60)
        assert result == [100_000]
        assert worst < 2.0, worst
        assert c.get(b"big") == b"x" * 1_000_000
        for s in (half, hog):
            s.close()
        slow.close()


def test_graceful_stop_finishes_in_flight_requests(launch, short_dir):
    srv = launch()
    a, b = srv.connect(), srv.connect()
    b.put(b"before", b"1")
    open_txn = b.begin_transaction()
    open_txn.put(b"uncommitted", b"1")
    open_txn.get(b"uncommitted")
    pairs = [(b"bulk%07d" % i, b"v" * 20) for i in range(150_000)]
    result: list = []
    t = threading.Thread(target=lambda: result.append(a.put_many(pairs)))
    t.start()
    deadline = time.monotonic() + 30
    while b.stats()["requests_in_flight"] < 2:  # a's PUT_MANY and this STATS
        assert time.monotonic() < deadline
    os.kill(srv.pid, signal.SIGTERM)
    t.join(60)
    assert len(result) == 1 and result[0] > 0  # acknowledged, not cut off
    assert srv.wait(30) == 0
    assert not os.path.exists(srv.socket_path)
    assert not os.path.exists(os.path.join(srv.db_path, "sochdb.pid"))
    with Database.open(srv.db_path) as db:
        st = db.stats()
        assert st["last_checkpoint_lsn"] == st["last_lsn"]  # checkpointed at shutdown
        assert db.get(b"before") == b"1" and db.get(b"uncommitted") is None
        assert db.get(b"bulk0149999") == b"v" * 20
    a.close()
    b.close()


def test_original_protocol_without_hello(shared_server):
    """A version-1 client (no HELLO): empty VALUE for missing keys, text errors, the
    original PUT/SCAN/QUERY/transaction layouts."""
    s = _raw(shared_server.socket_path)
    s.sendall(P.frame(P.PUT, P.encode_put(b"v1:a", b"1")) + P.frame(P.GET, b"v1:a")
              + P.frame(P.GET, b"v1:missing"))
    assert _read_frame(s)[0] == P.OK
    assert _read_frame(s) == (P.VALUE, b"1")
    assert _read_frame(s) == (P.VALUE, b"")
    s.sendall(P.frame(P.PUT_PATH, P.encode_path("v1/p") + b"pv")
              + P.frame(P.GET_PATH, P.encode_path("v1/p")))
    assert _read_frame(s)[0] == P.OK
    assert _read_frame(s) == (P.VALUE, b"pv")
    s.sendall(P.frame(P.SCAN, b"v1:"))
    op, body = _read_frame(s)
    assert op == P.VALUE and P.decode_query_rows(body, key_width=2) == [(b"v1:a", b"1")]
    s.sendall(P.frame(P.QUERY, P.encode_query("v1", limit=1, offset=0)))
    op, body = _read_frame(s)
    assert op == P.VALUE and P.decode_query_rows(body) == [(b"v1/p", b"pv")]
    s.sendall(P.frame(P.BEGIN))
    op, body = _read_frame(s)
    assert op == P.TXN_ID and len(body) == 8
    s.sendall(P.frame(P.COMMIT, body) + P.frame(P.COMMIT, body))
    assert _read_frame(s)[0] == P.OK
    op, body = _read_frame(s)
    assert op == P.ERROR and b"not open on this connection" in body
    s.sendall(P.frame(P.PING, b"hi") + P.frame(P.STATS))
    assert _read_frame(s) == (P.PONG, b"hi")
    assert _read_frame(s)[0] == P.STATS_REPLY
    s.close()


def test_query_with_offset_and_limit(client):
    client.put_many([(b"q/%02d" % i, b"%d" % i) for i in range(10)])
    s = _raw(client.path)
    s.sendall(P.frame(P.QUERY, P.encode_query("q/", limit=3, offset=2)))
    _, body = _read_frame(s)
    assert [k for k, _ in P.decode_query_rows(body)] == [b"q/02", b"q/03", b"q/04"]
    s.close()


def test_query_with_columns_uses_the_query_builder(client):
    client.put(b"docs/1", b'{"name":"Ann","age":30}')
    client.put(b"docs/2", b'{"name":"Bob","age":25}')
    client.put(b"docs/3", b"not json")
    s = _raw(client.path)
    s.sendall(P.frame(P.QUERY, P.encode_query("docs/", limit=0, offset=1, columns=["name"])))
    op, body = _read_frame(s)
    assert op == P.VALUE
    assert P.decode_query_rows(body) == [(b"docs/2", b"result[1]{name}:Bob")]
    s.close()
