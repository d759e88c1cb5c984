"""The KV and path API through the public Database, including the guide's examples."""

from __future__ import annotations

import json

import pytest

from sochdb import Database


def test_guide_quick_start(tmp_path, capsys):
    with Database.open(str(tmp_path / "my_database")) as db:
        db.put(b"user:123", b'{"name":"Alice","age":30}')
        value = db.get(b"user:123")
        print(value.decode())
    assert capsys.readouterr().out == '{"name":"Alice","age":30}\n'


def test_guide_basic_operations(db, capsys):
    db.put(b"key", b"value")
    value = db.get(b"key")
    if value:
        print(value.decode())
    else:
        print("Key not found")
    db.delete(b"key")
    value = db.get(b"key")
    print(value.decode() if value else "Key not found")
    assert capsys.readouterr().out == "value\nKey not found\n"


def test_guide_json_data(db, capsys):
    user = {"name": "Alice", "email": "alice@example.com", "age": 30}
    db.put(b"users/alice", json.dumps(user).encode())
    value = db.get(b"users/alice")
    if value:
        user = json.loads(value.decode())
        print(f"Name: {user['name']}, Age: {user['age']}")
    assert capsys.readouterr().out == "Name: Alice, Age: 30\n"


def test_guide_path_api(db, capsys):
    db.put_path("users/alice/email", b"alice@example.com")
    db.put_path("users/alice/age", b"30")
    db.put_path("users/alice/settings/theme", b"dark")
    email = db.get_path("users/alice/email")
    print(f"Alice's email: {email.decode()}")
    assert capsys.readouterr().out == "Alice's email: alice@example.com\n"
    assert [k for k, _ in db.scan_prefix(b"users/alice/")] == [
        b"users/alice/age", b"users/alice/email", b"users/alice/settings/theme"]
    db.delete_path("users/alice/age")
    assert db.get_path("users/alice/age") is None
    assert db.get(b"users/alice/email") == b"alice@example.com"  # paths are plain keys


def test_guide_prefix_scanning(db, capsys):
    db.put(b"tenants/acme/users/1", b'{"name":"Alice"}')
    db.put(b"tenants/acme/users/2", b'{"name":"Bob"}')
    db.put(b"tenants/acme/orders/1", b'{"total":100}')
    db.put(b"tenants/globex/users/1", b'{"name":"Charlie"}')
    results = list(db.scan(b"tenants/acme/", b"tenants/acme;"))
    print(f"ACME Corp has {len(results)} items:")
    for key, value in results:
        print(f" {key.decode()}: {value.decode()}")
    assert capsys.readouterr().out == (
        "ACME Corp has 3 items:\n"
        " tenants/acme/orders/1: {\"total\":100}\n"
        " tenants/acme/users/1: {\"name\":\"Alice\"}\n"
        " tenants/acme/users/2: {\"name\":\"Bob\"}\n")


def test_empty_value_is_a_value(db):
    db.put(b"empty", b"")
    assert db.get(b"empty") == b""
    assert db.get(b"missing") is None
    assert list(db.scan_prefix(b"empty")) == [(b"empty", b"")]


@pytest.mark.parametrize("call", [
    lambda db: db.put("k", b"v"),
    lambda db: db.put(b"k", "v"),
    lambda db: db.get("k"),
    lambda db: db.delete("k"),
    lambda db: db.scan("a", b"b"),
    lambda db: db.scan_prefix("a"),
    lambda db: db.put_path("p", "v"),
    lambda db: db.put_path(b"p", b"v"),
])
def test_str_instead_of_bytes_is_type_error(db, call):
    with pytest.raises(TypeError, match="must be"):
        call(db)


def test_str_error_message_says_encode(db):
    with pytest.raises(TypeError, match=r"key must be bytes, not str; encode it first"):
        db.put("user:1", b"x")


def test_scan_bounds_are_half_open_and_sorted(db):
    for k in [b"b", b"a", b"c", b"ab", b"b\x00", b"\xff\xff"]:
        db.put(k, k.upper())
    assert [k for k, _ in db.scan(b"a", b"c")] == [b"a", b"ab", b"b", b"b\x00"]
    assert [k for k, _ in db.scan(b"b")] == [b"b", b"b\x00", b"c", b"\xff\xff"]
    assert [k for k, _ in db.scan_prefix(b"\xff")] == [b"\xff\xff"]
    assert len(list(db.scan_prefix(b""))) == 6
    assert list(db.scan(b"z", b"a")) == []


def test_scan_is_a_snapshot(db):
    db.put(b"k1", b"1")
    it = db.scan_prefix(b"k")
    db.put(b"k2", b"2")
    db.delete(b"k1")
    assert list(it) == [(b"k1", b"1")]


def test_overwrite_and_delete_across_runs(db):
    # A large write set becomes a sorted run; small writes go to the memtable above it.
    with db.transaction() as txn:
        for i in range(5000):
            txn.put(b"k%05d" % i, b"old")
    db.put(b"k00010", b"new")
    db.delete(b"k00011")
    with db.transaction() as txn:
        for i in range(0, 5000, 2):
            txn.put(b"k%05d" % i, b"even")
    assert db.get(b"k00010") == b"even"
    assert db.get(b"k00011") is None
    assert db.get(b"k00013") == b"old"
    got = dict(db.scan_prefix(b"k"))
    assert len(got) == 4999
    assert got[b"k04999"] == b"old" and got[b"k04998"] == b"even"
    db.checkpoint()
    assert dict(db.scan_prefix(b"k")) == got


def test_put_many(db):
    db.put_many({b"a": b"1", b"b": b"2"})
    db.put_many([(b"c", b"3")])
    assert dict(db.scan()) == {b"a": b"1", b"b": b"2", b"c": b"3"}


def test_guide_statistics(db, capsys):
    for i in range(1000):
        db.put(f"key:{i}".encode(), f"value:{i}".encode())
    db.get(b"key:1")
    stats = db.stats()
    print(f"Keys: {stats['keys_count']:,}")
    print(f"Transactions: {stats['transactions_committed']}")
    hits, misses = stats["cache_hits"], stats["cache_misses"]
    hit_rate = (hits / (hits + misses) * 100) if (hits + misses) > 0 else 0
    print(f"Cache hit rate: {hit_rate:.1f}%")
    out = capsys.readouterr().out
    assert "Keys: 1,000\n" in out and "Transactions: 1000\n" in out
    assert "Cache hit rate: 100.0%" in out
    for key in ("keys_count", "bytes_written", "bytes_read", "transactions_committed",
                "cache_hits", "cache_misses", "wal_bytes", "last_checkpoint_lsn"):
        assert isinstance(stats[key], int)
    assert stats["bytes_read"] >= len(b"value:1")


def test_stats_on_disk_reflect_io(disk_db, db_path):
    for i in range(100):
        disk_db.put(b"k%d" % i, b"v" * 100)
    s = disk_db.stats()
    assert s["bytes_written"] > 100 * 100
    assert s["wal_bytes"] > 100 * 100
    lsn = disk_db.checkpoint()
    s = disk_db.stats()
    assert s["last_checkpoint_lsn"] == lsn == 100
    assert s["wal_bytes"] < 100
    disk_db.close()
    with Database.open(db_path) as db2:
        assert db2.stats()["cache_misses"] >= 1
        assert db2.get(b"k5") == b"v" * 100


def test_guide_manual_checkpoint(tmp_path, capsys):
    with Database.open(str(tmp_path / "my_db")) as db:
        print("Importing 10K records...")
        with db.transaction() as txn:
            for i in range(10000):
                txn.put(f"bulk:{i}".encode(), f"data:{i}".encode())
        lsn = db.checkpoint()
        print(f"Checkpoint complete at LSN {lsn}")
    assert capsys.readouterr().out == "Importing 10K records...\nCheckpoint complete at LSN 1\n"
    with Database.open(str(tmp_path / "my_db")) as db:
        assert db.get(b"bulk:9999") == b"data:9999"
