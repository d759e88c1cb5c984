"""config={"read_only": True}: reads work, every write is a ReadOnlyError, nothing on disk
changes, and several read-only processes may share a directory that no writer holds."""

from __future__ import annotations

import os
import subprocess

import pytest

from sochdb import Database, DatabaseLockedError, OperationalError, ReadOnlyError

RO = {"read_only": True}


@pytest.fixture
def filled(db_path):
    with Database.open(db_path) as db:
        db.put(b"k", b"v")
        db.execute_sql("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT)")
        db.execute_sql("INSERT INTO t VALUES (1, 'one'), (2, 'two')")
    return db_path


def _snapshot(path: str) -> dict[str, bytes]:
    out = {}
    for root, _dirs, files in os.walk(path):
        for f in files:
            if f != "LOCK":
                with open(os.path.join(root, f), "rb") as fh:
                    out[os.path.relpath(os.path.join(root, f), path)] = fh.read()
    return out


def test_reads_work_and_writes_are_refused(filled):
    before = _snapshot(filled)
    with Database.open(filled, config=RO) as db:
        assert db.get(b"k") == b"v"
        assert db.execute_sql("SELECT b FROM t ORDER BY a").rows() == [("one",), ("two",)]
        writes = [lambda: db.put(b"x", b"y"), lambda: db.delete(b"k"),
                  lambda: db.put_path("a/b", b"c"),
                  lambda: db.execute_sql("INSERT INTO t VALUES (3, 'three')"),
                  lambda: db.execute_sql("UPDATE t SET b = 'uno' WHERE a = 1"),
                  lambda: db.execute_sql("CREATE TABLE u (x INTEGER)"),
                  lambda: db.execute_sql("DROP TABLE t")]
        for write in writes:
            with pytest.raises(ReadOnlyError, match="opened read-only"):
                write()
        with pytest.raises(ReadOnlyError):
            with db.transaction() as txn:
                txn.put(b"x", b"y")
        assert db.get(b"x") is None
        assert db.execute_sql("SELECT count(*) FROM t").rows() == [(2,)]
        db.checkpoint()  # nothing to write, not an error
    assert _snapshot(filled) == before


def test_a_torn_wal_tail_is_left_for_the_writer(db_path):
    with Database.open(db_path, config={"memtable_size_bytes": 1 << 30}) as db:
        db.put(b"a", b"1")
        wal_dir = os.path.join(db_path, "wal")
        files = sorted(os.listdir(wal_dir))
        db._engine._wal.file.sync()
        # simulate a crash mid-append: garbage after the last record, and no checkpoint
        with open(os.path.join(wal_dir, files[-1]), "ab") as f:
            f.write(b"\x07torn")
        db._engine.closed = True
        db._engine._dir_lock.release()
    size = os.path.getsize(os.path.join(wal_dir, files[-1]))
    with Database.open(db_path, config=RO) as db:
        assert db.get(b"a") == b"1"
    assert os.path.getsize(os.path.join(wal_dir, files[-1])) == size
    with Database.open(db_path) as db:
        assert db.get(b"a") == b"1"


def test_missing_directory_is_not_created(tmp_path):
    with pytest.raises(OperationalError, match="does not exist and read_only"):
        Database.open(str(tmp_path / "nope"), config=RO)
    assert not (tmp_path / "nope").exists()


def test_readers_share_writers_exclude(filled, python_exe):
    code = ("import sys; from sochdb import Database\n"
            "db = Database.open(sys.argv[1], config={'read_only': True})\n"
            "print(db.get(b'k').decode()); db.close()\n")
    with Database.open(filled, config=RO) as db:
        other = subprocess.run([python_exe, "-c", code, filled], capture_output=True,
                               text=True, timeout=120)
        assert other.returncode == 0, other.stderr
        assert other.stdout.strip() == "v"
        with pytest.raises(DatabaseLockedError, match="read_only"):
            Database.open(filled)
        assert db.get(b"k") == b"v"
    with Database.open(filled) as writer:
        with pytest.raises(DatabaseLockedError):
            Database.open(filled, config=RO)
        writer.put(b"k", b"w")
