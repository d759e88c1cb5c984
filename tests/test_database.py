"""Opening, configuring, locking and closing a database directory."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from sochdb import ConfigError, Database, DatabaseLockedError, OperationalError, ProgrammingError


def test_open_creates_directory(db_path):
    with Database.open(db_path) as db:
        assert os.path.isdir(db_path)
        assert db.path == os.path.abspath(db_path)
    assert os.path.exists(os.path.join(db_path, "MANIFEST"))


def test_create_if_missing_false(db_path):
    with pytest.raises(OperationalError, match="does not exist"):
        Database.open(db_path, config={"create_if_missing": False})
    assert not os.path.exists(db_path)


def test_guide_configuration(db_path):
    db = Database.open(db_path, config={
        "create_if_missing": True,
        "wal_enabled": True,
        "sync_mode": "normal",
        "memtable_size_bytes": 64 * 1024 * 1024,
    })
    db.put(b"k", b"v")
    db.close()


@pytest.mark.parametrize("config, message", [
    ({"sync_mod": "full"}, "unknown config key 'sync_mod'"),
    ({"sync_mode": "fast"}, "'sync_mode' must be one of full, normal, off"),
    ({"wal_enabled": "yes"}, "'wal_enabled' must be True or False"),
    ({"memtable_size_bytes": -1}, "'memtable_size_bytes' must be an integer"),
    ("full", "config must be a dict"),
])
def test_bad_config(db_path, config, message):
    with pytest.raises(ConfigError, match=message):
        Database.open(db_path, config=config)


def test_second_open_in_process_is_locked(db_path):
    with Database.open(db_path):
        with pytest.raises(DatabaseLockedError, match=f"locked by process {os.getpid()}"):
            Database.open(db_path)
    with Database.open(db_path):  # released on close
        pass


def test_second_process_is_locked_with_pid(db_path):
    with Database.open(db_path):
        code = ("import sochdb,sys\n"
                "try:\n sochdb.Database.open(sys.argv[1])\n"
                "except sochdb.DatabaseLockedError as e:\n print(type(e).__name__, e.details['pid'], e)\n")
        out = subprocess.run([sys.executable, "-c", code, db_path], capture_output=True,
                             text=True, check=True).stdout
    assert out.startswith(f"DatabaseLockedError {os.getpid()} ")
    assert "sochdb-server" in out


def test_closed_database_raises(db_path):
    db = Database.open(db_path)
    db.close()
    db.close()  # idempotent
    with pytest.raises(ProgrammingError, match="closed"):
        db.put(b"k", b"v")
    with pytest.raises(ProgrammingError, match="closed"):
        db.get(b"k")


@pytest.mark.parametrize("mode", ["full", "normal", "off"])
def test_sync_modes_persist_on_clean_close(db_path, mode):
    with Database.open(db_path, config={"sync_mode": mode}) as db:
        db.put(b"k", mode.encode())
    with Database.open(db_path) as db:
        assert db.get(b"k") == mode.encode()


def test_wal_disabled_persists_at_close(db_path):
    with Database.open(db_path, config={"wal_enabled": False}) as db:
        db.put(b"k", b"v")
        assert not os.listdir(os.path.join(db_path, "wal"))
    with Database.open(db_path, config={"wal_enabled": False}) as db:
        assert db.get(b"k") == b"v"


def test_auto_checkpoint_bounds_the_wal(db_path):
    with Database.open(db_path, config={"memtable_size_bytes": 64 * 1024}) as db:
        for i in range(300):
            db.put(b"k%04d" % i, b"x" * 1000)
        assert db.stats()["checkpoints"] >= 3
        assert db.stats()["wal_bytes"] < 64 * 1024 + 2000
    with Database.open(db_path) as db:
        assert len(list(db.scan_prefix(b"k"))) == 300


def test_memory_database_leaves_no_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with Database.open(":memory:") as db:
        db.put(b"a", b"1")
        assert db.checkpoint() == 1
        assert db.get(b"a") == b"1"
    assert os.listdir(tmp_path) == []
