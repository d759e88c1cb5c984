"""Recovery on open: WAL replay, torn tails, corruption detection."""

from __future__ import annotations

import os

import pytest

from sochdb import CorruptionError, Database
from sochdb.engine import wal


def wal_files(db_path):
    return [p for _, p in wal.list_wal_files(__import__("sochdb.engine.fileio", fromlist=["x"])
                                             .FileSystem(), os.path.join(db_path, "wal"))]


def crash(db):
    """Drop a database without closing it cleanly (no checkpoint), as a killed process."""
    eng = db._engine
    if eng._wal is not None:
        eng._wal.sync()
        eng._wal._stop.set()
        eng._wal.file.close()
    eng._dir_lock.release()
    eng.closed = True


def test_replay_without_checkpoint(db_path):
    db = Database.open(db_path)
    db.put(b"a", b"1")
    with db.transaction() as t:
        t.put(b"b", b"2")
        t.delete(b"a")
    crash(db)
    with Database.open(db_path) as db:
        assert db.get(b"a") is None and db.get(b"b") == b"2"
        assert db.stats()["last_lsn"] == 2


def test_replay_after_checkpoint(db_path):
    db = Database.open(db_path)
    db.put(b"a", b"1")
    assert db.checkpoint() == 1
    db.put(b"b", b"2")
    crash(db)
    with Database.open(db_path) as db:
        assert dict(db.scan()) == {b"a": b"1", b"b": b"2"}


def test_torn_final_record_is_cut_off(db_path):
    db = Database.open(db_path)
    db.put(b"a", b"1")
    db.put(b"b", b"2")
    crash(db)
    path = wal_files(db_path)[-1]
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.truncate(size - 3)
    with Database.open(db_path) as db:
        assert db.get(b"a") == b"1"
        assert db.get(b"b") is None
        db.put(b"c", b"3")  # appending after the cut works
    with Database.open(db_path) as db:
        assert dict(db.scan()) == {b"a": b"1", b"c": b"3"}


def test_torn_header_is_cut_off(db_path):
    db = Database.open(db_path)
    db.put(b"a", b"1")
    crash(db)
    path = wal_files(db_path)[-1]
    with open(path, "ab") as f:
        f.write(b"\x10\x00\x00")  # the start of a header and nothing more
    with Database.open(db_path) as db:
        assert db.get(b"a") == b"1"


def test_flipped_byte_mid_wal_is_corruption(db_path):
    db = Database.open(db_path)
    db.put(b"a", b"1" * 50)
    db.put(b"b", b"2" * 50)
    crash(db)
    path = wal_files(db_path)[-1]
    data = bytearray(open(path, "rb").read())
    data[len(wal.MAGIC) + wal.HEADER_SIZE + 10] ^= 0xFF  # inside the first record's payload
    open(path, "wb").write(bytes(data))
    with pytest.raises(CorruptionError, match=r"WAL file .*0+1\.wal is corrupt at offset 8"):
        Database.open(db_path)


def test_flipped_length_mid_wal_is_corruption(db_path):
    db = Database.open(db_path)
    db.put(b"a", b"1")
    db.put(b"b", b"2")
    crash(db)
    path = wal_files(db_path)[-1]
    data = bytearray(open(path, "rb").read())
    data[len(wal.MAGIC) + 1] ^= 0x40  # the first record's length
    open(path, "wb").write(bytes(data))
    with pytest.raises(CorruptionError, match="corrupt at offset 8"):
        Database.open(db_path)


def test_flipped_byte_in_segment_is_corruption(db_path):
    with Database.open(db_path) as db:
        for i in range(100):
            db.put(b"k%03d" % i, b"v" * 20)
    seg_dir = os.path.join(db_path, "segments")
    (name,) = os.listdir(seg_dir)
    path = os.path.join(seg_dir, name)
    data = bytearray(open(path, "rb").read())
    data[len(data) // 2] ^= 0x01
    open(path, "wb").write(bytes(data))
    with pytest.raises(CorruptionError, match=f"segment file .*{name} failed its checksum"):
        Database.open(db_path)


def test_corrupt_manifest(db_path):
    with Database.open(db_path) as db:
        db.put(b"a", b"1")
    path = os.path.join(db_path, "MANIFEST")
    data = bytearray(open(path, "rb").read())
    data[5] ^= 0x01
    open(path, "wb").write(bytes(data))
    with pytest.raises(CorruptionError, match="manifest .* failed its checksum"):
        Database.open(db_path)


def test_orphan_segments_are_removed(db_path):
    with Database.open(db_path) as db:
        db.put(b"a", b"1")
    orphan = os.path.join(db_path, "segments", "kv-99999999.arrow")
    open(orphan, "wb").write(b"half written")
    with Database.open(db_path) as db:
        assert db.get(b"a") == b"1"
    assert not os.path.exists(orphan)


def test_wal_frame_roundtrip():
    frame = wal.encode_frame(7, b"payload")
    assert len(frame) == wal.HEADER_SIZE + 7
