"""ENOSPC and EIO at commit and checkpoint: the failing commit is an OperationalError with no
visible effect, and once space returns the same open database keeps working, durably."""

from __future__ import annotations

import errno

import pytest

from sochdb import Database, OperationalError
from sochdb.engine.faults import FaultyFileSystem, SimulatedCrash, abandon


def open_db(path, **config):
    fs = FaultyFileSystem()
    db = Database.open(path, {"sync_mode": "full", **config}, _fs=fs)
    db.execute("CREATE TABLE t (id INT PRIMARY KEY, v TEXT)")
    db.execute("INSERT INTO t VALUES (1, 'one')")
    db.put(b"a", b"1")
    return db, fs


def rows(db):
    return [tuple(r.values()) for r in db.execute("SELECT * FROM t ORDER BY id").fetchall()]


def reopen_after_crash(db, fs, path):
    abandon(db)
    fs.settle(power_loss=True)
    return Database.open(path)


FAULTS = [
    ("write", errno.ENOSPC, "wal"),
    ("write", errno.EIO, "wal"),
    ("fsync", errno.EIO, "wal"),
]


@pytest.mark.parametrize("kind,err,where", FAULTS,
                         ids=[f"{k}-{errno.errorcode[e]}" for k, e, _ in FAULTS])
def test_failed_commit_has_no_effect_and_the_database_recovers(db_path, kind, err, where):
    db, fs = open_db(db_path)
    last = db.stats()["last_lsn"]
    fs.inject(kind, action="error", err=err, path=where)
    txn = db.transaction()
    txn.put(b"a", b"2")
    txn.put(b"b", b"new")
    txn.execute("INSERT INTO t VALUES (2, 'two')")
    txn.execute("UPDATE t SET v = 'uno' WHERE id = 1")
    with pytest.raises(OperationalError, match="failed"):
        txn.commit()
    assert txn.status == "aborted"
    assert db.get(b"a") == b"1" and db.get(b"b") is None
    assert rows(db) == [(1, "one")]
    assert db.stats()["last_lsn"] == last
    assert db.verify() == []
    # No restart: the next commits work and the failed record left nothing in the WAL.
    with db.transaction() as t:
        t.put(b"b", b"later")
        t.execute("INSERT INTO t VALUES (3, 'three')")
    assert db.stats()["last_lsn"] == last + 1
    assert db.verify() == []
    db = reopen_after_crash(db, fs, db_path)
    with db:
        assert db.get(b"a") == b"1" and db.get(b"b") == b"later"
        assert rows(db) == [(1, "one"), (3, "three")]
        assert db.verify() == []


def test_disk_full_until_space_returns(db_path):
    db, fs = open_db(db_path)
    fs.disk_full()
    for i in range(5):
        with pytest.raises(OperationalError, match="No space left"):
            db.put(b"k%d" % i, b"v")
        with pytest.raises(OperationalError, match="No space left"):
            db.execute(f"INSERT INTO t VALUES ({10 + i}, 'x')")
    with pytest.raises(OperationalError):
        db.checkpoint()
    assert db.get(b"k0") is None and rows(db) == [(1, "one")]
    fs.clear()
    db.put(b"k0", b"v")
    db.execute("INSERT INTO t VALUES (10, 'x')")
    assert db.checkpoint() == db.stats()["last_lsn"]
    assert db.verify() == []
    db = reopen_after_crash(db, fs, db_path)
    with db:
        assert db.get(b"k0") == b"v" and rows(db) == [(1, "one"), (10, "x")]
        assert db.verify() == []


def test_a_failed_cut_is_repaired_before_the_next_append(db_path):
    db, fs = open_db(db_path)
    fs.inject("write", err=errno.ENOSPC, path="wal")
    fs.inject("truncate", err=errno.EIO, path="wal")
    with pytest.raises(OperationalError):
        db.put(b"x", b"lost")
    assert db.verify() != []  # the partial record is still at the WAL's end...
    db.put(b"y", b"kept")  # ...until the next append cuts it off first
    assert db.verify() == []
    db = reopen_after_crash(db, fs, db_path)
    with db:
        assert db.get(b"x") is None and db.get(b"y") == b"kept"


def test_short_writes_are_completed(db_path):
    db, fs = open_db(db_path)
    for n in range(1, 7):
        fs.inject("write", nth=n, action="short")
    with db.transaction() as t:
        t.put(b"s", b"x" * 1000)
        t.execute("INSERT INTO t VALUES (5, 'five')")
    db.checkpoint()
    assert fs.faults_fired >= 6
    db = reopen_after_crash(db, fs, db_path)
    with db:
        assert db.get(b"s") == b"x" * 1000 and (5, "five") in rows(db)
        assert db.verify() == []


CHECKPOINT_FAULTS = [
    ("create", "segments"), ("write", "segments"), ("fsync", "segments"),
    ("fsync_dir", "segments"), ("create", "wal"), ("write", "wal"), ("fsync", "wal"),
    ("create", "MANIFEST"), ("fsync", "MANIFEST"), ("rename", "MANIFEST"),
    ("remove", "wal"),
]


@pytest.mark.parametrize("kind,where", CHECKPOINT_FAULTS,
                         ids=[f"{k}-{w}" for k, w in CHECKPOINT_FAULTS])
def test_failed_checkpoint_keeps_every_commit(db_path, kind, where):
    db, fs = open_db(db_path)
    db.execute("DELETE FROM t WHERE id = 1")
    db.execute("INSERT INTO t VALUES (2, 'two')")
    fs.inject(kind, err=errno.EIO, path=where)
    try:
        db.checkpoint()
    except OperationalError:
        pass
    # Commits go on after the failure (into whichever WAL file is current), and a crash
    # then loses none of them.
    db.put(b"after", b"1")
    db.execute("INSERT INTO t VALUES (3, 'three')")
    assert db.verify() == [] or kind == "remove"
    db = reopen_after_crash(db, fs, db_path)
    with db:
        assert db.get(b"a") == b"1" and db.get(b"after") == b"1"
        assert rows(db) == [(2, "two"), (3, "three")]
        assert db.verify() == []
        db.checkpoint()
        assert db.verify() == []


def test_failed_automatic_checkpoint_does_not_fail_the_commit(db_path):
    db, fs = open_db(db_path, memtable_size_bytes=4096)
    fs.inject("create", err=errno.ENOSPC, path="segments", sticky=True)
    lsn = db.put_many([(b"big%04d" % i, b"x" * 16) for i in range(400)])
    assert lsn == db.stats()["last_lsn"]
    assert isinstance(db._engine.checkpoint_error, OperationalError)
    fs.clear()
    db.put(b"more", b"x" * 5000)
    assert db._engine.checkpoint_error is None
    assert db.stats()["last_checkpoint_lsn"] == db.stats()["last_lsn"]
    db = reopen_after_crash(db, fs, db_path)
    with db:
        assert db.get(b"big0399") == b"x" * 16 and db.verify() == []


def test_sql_commit_failure_in_an_explicit_transaction(db_path):
    db, fs = open_db(db_path)
    s = db.session()
    s.execute("BEGIN")
    s.execute("INSERT INTO t VALUES (7, 'seven')")
    fs.inject("fsync", err=errno.EIO, path="wal")
    with pytest.raises(OperationalError):
        s.execute("COMMIT")
    assert rows(db) == [(1, "one")]
    s.execute("BEGIN")
    s.execute("INSERT INTO t VALUES (7, 'seven')")
    s.execute("COMMIT")
    assert rows(db) == [(1, "one"), (7, "seven")]
    db.close()


def test_crash_after_failed_rotation_loses_nothing(db_path):
    """A rotation that fails must not let a later manifest point past live WAL records."""
    db, fs = open_db(db_path)
    fs.inject("create", err=errno.ENOSPC, path="wal")
    with pytest.raises(OperationalError):
        db.checkpoint()
    for i in range(3):
        db.put(b"c%d" % i, b"v")
    fs.crash_at(1, kind="fsync")  # die in the next commit's fsync, after its write
    with pytest.raises(SimulatedCrash):
        db.put(b"unacked", b"v")
    db = reopen_after_crash(db, fs, db_path)
    with db:
        assert [db.get(b"c%d" % i) for i in range(3)] == [b"v"] * 3
        assert db.get(b"unacked") is None  # never synced, lost with the power
        assert db.verify() == []
