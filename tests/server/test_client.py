"""Every IpcClient method against a real sochdb-server subprocess."""

from __future__ import annotations

import pytest

from sochdb.errors import (InterfaceError, ProgrammingError, ResourceLimitError,
                           TransactionClosedError)
from sochdb.server import IpcClient, RemoteTransaction


@pytest.fixture
def k(request):
    """A key maker unique to the test, so tests sharing a server do not collide."""
    prefix = request.node.name.encode()
    return lambda s: prefix + b":" + s


def test_put_get_delete(client, k):
    lsn = client.put(k(b"a"), b"1")
    assert isinstance(lsn, int) and lsn > 0
    assert client.get(k(b"a")) == b"1"
    assert client.delete(k(b"a")) > lsn
    assert client.get(k(b"a")) is None


def test_empty_value_is_not_missing(client, k):
    client.put(k(b"empty"), b"")
    assert client.get(k(b"empty")) == b""
    assert client.get(k(b"absent")) is None


def test_binary_and_large_values(client, k):
    big = bytes(range(256)) * 20000  # 5 MB: several reads on both sides
    client.put(k(b"\x00\xff"), big)
    assert client.get(k(b"\x00\xff")) == big
    client.put(bytearray(k(b"ba")), memoryview(b"mv"))
    assert client.get(k(b"ba")) == b"mv"


def test_argument_types_are_checked_client_side(client):
    with pytest.raises(TypeError, match="key must be bytes, not str"):
        client.put("key", b"v")
    with pytest.raises(TypeError, match="value must be bytes"):
        client.put(b"key", 5)


def test_paths(client, k):
    base = k(b"").decode()
    client.put_path(f"{base}users/alice/email", b"alice@example.com")
    client.put_path(f"{base}users/alice/name", b"Alice")
    assert client.get_path(f"{base}users/alice/email") == b"alice@example.com"
    assert client.get(f"{base}users/alice/name".encode()) == b"Alice"
    client.delete_path(f"{base}users/alice/name")
    assert client.get_path(f"{base}users/alice/name") is None
    assert client.get_path(f"{base}nobody") is None


def test_scan_range_and_prefix(client, k):
    for i in range(50):
        client.put(k(b"s%02d" % i), b"%d" % i)
    got = list(client.scan(k(b"s10"), k(b"s15")))
    assert got == [(k(b"s%02d" % i), b"%d" % i) for i in range(10, 15)]
    assert len(list(client.scan_prefix(k(b"s")))) == 50
    assert list(client.scan_prefix(k(b"s4").decode())) == list(client.scan_prefix(k(b"s4")))
    # the guide's IpcClient form: scan(prefix: str)
    assert [kk for kk, _ in client.scan(k(b"s0").decode())] == [k(b"s%02d" % i)
                                                                 for i in range(10)]
    tail = list(client.scan(k(b"s48")))
    assert tail[:2] == [(k(b"s48"), b"48"), (k(b"s49"), b"49")]


def test_scan_streams_results_bigger_than_a_frame(client, k):
    pairs = [(k(b"big%05d" % i), b"x" * 1000) for i in range(3000)]  # ~3 MB in ~3 frames
    client.put_many(pairs)
    assert list(client.scan_prefix(k(b"big"))) == pairs


def test_put_many_and_get_many(client, k):
    pairs = {k(b"m%04d" % i): b"%d" % i for i in range(1000)}
    lsn = client.put_many(pairs)
    assert lsn > 0
    keys = list(pairs) + [k(b"missing")]
    assert client.get_many(keys) == list(pairs.values()) + [None]
    assert client.get_many([]) == []


def test_transaction_reads_its_writes_and_commits_atomically(client, k):
    txn = client.begin_transaction()
    assert isinstance(txn, RemoteTransaction) and isinstance(txn.id, int)
    txn.put(k(b"t1"), b"1")
    txn.put_path(k(b"p").decode() + "/x", b"2")
    assert txn.get(k(b"t1")) == b"1"
    assert txn.get_path(k(b"p").decode() + "/x") == b"2"
    assert client.get(k(b"t1")) is None  # not visible before commit
    assert [kk for kk, _ in txn.scan_prefix(k(b""))] == [k(b"p") + b"/x", k(b"t1")]
    lsn = txn.commit()
    assert lsn > 0 and txn.status == "committed"
    assert client.get(k(b"t1")) == b"1"
    with pytest.raises(TransactionClosedError, match="already committed"):
        txn.put(k(b"t2"), b"x")


def test_transaction_snapshot_isolation(client, shared_server, k):
    client.put(k(b"x"), b"old")
    txn = client.begin_transaction()
    other = shared_server.connect()
    try:
        other.put(k(b"x"), b"new")
        assert txn.get(k(b"x")) == b"old"
        assert dict(txn.scan(k(b"x"), k(b"y")))[k(b"x")] == b"old"
    finally:
        other.close()
        txn.abort()
    assert txn.status == "aborted"


def test_transaction_delete_and_abort(client, k):
    client.put(k(b"d"), b"1")
    with client.begin_transaction() as txn:
        txn.delete(k(b"d"))
        txn.delete_path(k(b"d").decode())
        assert txn.get(k(b"d")) is None
    assert client.get(k(b"d")) is None
    txn = client.transaction()
    txn.put(k(b"never"), b"x")
    txn.abort()
    assert client.get(k(b"never")) is None
    with pytest.raises(TransactionClosedError):
        txn.commit()


def test_transaction_context_manager_aborts_on_exception(client, k):
    with pytest.raises(RuntimeError), client.begin_transaction() as txn:
        txn.put(k(b"boom"), b"1")
        raise RuntimeError("boom")
    assert txn.status == "aborted"
    assert client.get(k(b"boom")) is None


def test_transaction_with_many_pipelined_writes(client, k):
    with client.begin_transaction() as txn:
        for i in range(3000):
            txn.put(k(b"w%05d" % i), b"%d" % i)
    assert len(list(client.scan_prefix(k(b"w")))) == 3000


def test_transaction_batched_scan(client, k):
    client.put_many([(k(b"b%04d" % i), b"v") for i in range(2500)])
    txn = client.begin_transaction()
    assert sum(1 for _ in txn.scan_batched(k(b"b"), k(b"c"), batch_size=1000)) == 2500
    assert [len(b) for b in txn.scan_batches(k(b"b"), k(b"c"), 1000)] == [1000, 1000, 500]
    txn.abort()


def test_serializable_isolation_is_passed_through(client, k):
    txn = client.begin_transaction(isolation="serializable")
    txn.get(k(b"z"))
    txn.abort()
    with pytest.raises(ProgrammingError, match="isolation must be"):
        client.begin_transaction(isolation="bogus")


def test_transaction_of_another_connection_is_not_usable(client, shared_server, k):
    txn = client.begin_transaction()
    other = shared_server.connect()
    try:
        stolen = RemoteTransaction(other, txn.id)
        with pytest.raises(TransactionClosedError, match="not open on this connection"):
            stolen.get(k(b"a"))
    finally:
        other.close()
        txn.abort()


def test_abandoned_transaction_is_aborted_with_the_next_request(client, k):
    before = client.stats()["active_transactions"]
    txn = client.begin_transaction()
    assert client.stats()["active_transactions"] == before + 1
    del txn
    client.ping()
    assert client.stats()["active_transactions"] == before


def test_execute_sql_returns_the_embedded_result_type(client):
    from sochdb.sql.result import Result
    r = client.execute_sql("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, age INT)")
    assert isinstance(r, Result) and str(r) == "Table 'users' created"
    r = client.execute("INSERT INTO users VALUES (?, ?, ?), (2, 'Bob', 25)", [1, "Alice", 30])
    assert r.rowcount == 2
    r = client.execute_sql("SELECT name, age FROM users WHERE age > :a ORDER BY age",
                           {"a": 20})
    assert list(r) == [{"name": "Bob", "age": 25}, {"name": "Alice", "age": 30}]
    assert r.columns == ["name", "age"]
    assert r.arrow().num_rows == 2


def test_sql_errors_keep_their_class(client):
    from sochdb.errors import BindError, ParseError
    with pytest.raises(ParseError):
        client.execute_sql("SELEKT 1")
    with pytest.raises(BindError, match="no_such_table"):
        client.execute_sql("SELECT * FROM no_such_table")


def test_sql_and_kv_in_one_remote_transaction(client, k):
    client.execute_sql("CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, item TEXT)")
    txn = client.begin_transaction()
    txn.execute("INSERT INTO orders VALUES (1, 'book')")
    txn.put(k(b"order:1"), b"pending")
    assert txn.execute("SELECT count(*) AS n FROM orders").scalar() == 1
    assert client.execute_sql("SELECT count(*) AS n FROM orders").scalar() == 0
    txn.abort()
    assert client.get(k(b"order:1")) is None
    with client.begin_transaction() as txn:
        txn.execute_sql("INSERT INTO orders VALUES (2, 'pen')")
        txn.put(k(b"order:2"), b"paid")
    assert client.execute_sql("SELECT item FROM orders").fetchall() == [{"item": "pen"}]
    assert client.get(k(b"order:2")) == b"paid"


def test_sql_session_transactions_are_per_connection(client, shared_server):
    client.execute_sql("CREATE TABLE IF NOT EXISTS s (x INT)")
    other = shared_server.connect()
    try:
        client.execute_sql("BEGIN")
        client.execute_sql("INSERT INTO s VALUES (1)")
        assert other.execute_sql("SELECT count(*) FROM s").scalar() == 0
        client.execute_sql("COMMIT")
        assert other.execute_sql("SELECT count(*) FROM s").scalar() == 1
        other.execute_sql("BEGIN")
        other.execute_sql("INSERT INTO s VALUES (2)")
    finally:
        other.close()  # the server rolls back the open SQL transaction
    assert client.execute_sql("SELECT count(*) FROM s").scalar() == 1


def test_large_sql_result_is_streamed(client):
    client.execute_sql("CREATE TABLE IF NOT EXISTS wide (id INT, pad TEXT)")
    rows = ", ".join(f"({i}, '{'x' * 200}')" for i in range(200))
    client.execute_sql(f"INSERT INTO wide VALUES {rows}")
    for _ in range(7):
        client.execute_sql("INSERT INTO wide SELECT * FROM wide")
    r = client.execute_sql("SELECT * FROM wide")
    assert r.arrow().num_rows == 200 * 2 ** 7  # ~5 MB: several ARROW frames
    assert r.arrow().column("pad")[0].as_py() == "x" * 200


def test_create_table_request(client):
    client.create_table("ct", [("id", "INTEGER PRIMARY KEY"), ("name", "TEXT")])
    client.execute_sql("INSERT INTO ct VALUES (1, 'a')")
    assert client.execute_sql("SELECT name FROM ct").scalar() == "a"
    with pytest.raises(ProgrammingError, match="invalid type"):
        client.create_table("bad", [("x", "INT); DROP TABLE ct; --")])


def test_checkpoint_stats_ping(client):
    client.put(b"cp", b"1")
    lsn = client.checkpoint()
    assert isinstance(lsn, int) and lsn >= 1
    st = client.stats()
    for key in ("connections_active", "connections_total", "requests_success",
                "requests_error", "bytes_received", "bytes_sent", "uptime_secs",
                "active_transactions"):
        assert isinstance(st[key], int), key
    assert st["connections_active"] >= 1 and st["bytes_received"] > 0
    full = client.stats(include_database=True)
    assert full["db"]["last_checkpoint_lsn"] >= lsn
    rtt = client.ping()
    assert isinstance(rtt, float) and 0 < rtt < 5


def test_stats_count_errors(client):
    before = client.stats()["requests_error"]
    with pytest.raises(ProgrammingError):
        client.execute_sql("SELECT * FROM no_such_table_here")
    assert client.stats()["requests_error"] == before + 1


def test_put_many_over_the_frame_limit_is_refused_client_side(client, monkeypatch):
    monkeypatch.setattr(client, "_max_frame", 1000)
    with pytest.raises(ResourceLimitError, match="split it or use a transaction"):
        client.put_many([(b"k%d" % i, b"x" * 100) for i in range(20)])


def test_context_manager_and_closed_client(shared_server):
    with shared_server.connect() as c:
        c.put(b"cm", b"1")
    assert c.closed
    with pytest.raises(InterfaceError, match="is closed"):
        c.get(b"cm")


def test_connect_accepts_a_database_directory(shared_server):
    with IpcClient.connect(shared_server.db_path) as c:
        assert c.protocol_version == 2 and c.server_pid == shared_server.pid


def test_connect_errors_are_clear(short_dir):
    import os
    import socket
    with pytest.raises(InterfaceError, match="socket file does not exist"):
        IpcClient.connect(os.path.join(short_dir, "none.sock"))
    stale = os.path.join(short_dir, "stale.sock")
    s = socket.socket(socket.AF_UNIX)
    s.bind(stale)
    s.close()  # the file stays, nobody listens
    with pytest.raises(InterfaceError, match="no sochdb server is listening"):
        IpcClient.connect(stale)


def test_query_builder_over_ipc_matches_the_guide(client, capsys):
    client.put(b"qb/products/laptop", b'{"name":"Laptop","price":999,"stock":5}')
    client.put(b"qb/products/mouse", b'{"name":"Mouse","price":25,"stock":20}')
    results = client.query("qb/products/") \
        .select(["name", "price"]) \
        .limit(10) \
        .to_list()
    for key, value in results:
        print(f"{key.decode()}: {value.decode()}")
    assert capsys.readouterr().out == ("qb/products/laptop: result[1]{name,price}:Laptop,999\n"
                                       "qb/products/mouse: result[1]{name,price}:Mouse,25\n")
    q = client.query(b"qb/products/").where("price", ">", 100)
    assert q.to_records() == [{"name": "Laptop", "price": 999, "stock": 5}]
    assert q.count() == 1
