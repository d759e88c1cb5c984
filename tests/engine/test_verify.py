"""Database.verify() and PRAGMA integrity_check: a healthy database reports nothing, a damaged
segment is reported once, by file name, and nothing is changed by looking."""

from __future__ import annotations

import os

from sochdb import Database


def _damage_one_segment(db_path: str) -> str:
    seg_dir = os.path.join(db_path, "segments")
    name = sorted(os.listdir(seg_dir))[0]  # the database holds one table and no KV pairs
    path = os.path.join(seg_dir, name)
    with open(path, "r+b") as f:
        f.seek(os.path.getsize(path) // 2)
        b = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([b[0] ^ 0xFF]))
    return name


def test_healthy_database_has_no_problems(db_path):
    with Database.open(db_path) as db:
        db.execute_sql("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT)")
        db.execute_sql("INSERT INTO t VALUES (1, 'a'), (2, 'b')")
        db.put(b"k", b"v")
        db.checkpoint()
        assert db.verify() == []
        assert db.execute_sql("PRAGMA integrity_check").rows() == [("ok",)]


def test_damaged_segment_is_reported_once(db_path):
    with Database.open(db_path) as db:
        db.execute_sql("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT)")
        db.execute_sql("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')")
        db.checkpoint()
    name = _damage_one_segment(db_path)
    with Database.open(db_path) as db:  # segments load lazily: opening still works
        problems = db.verify()
        assert len(problems) == 1, problems
        assert name in problems[0] and "checksum" in problems[0]
        rows = db.execute_sql("PRAGMA integrity_check").rows()
        assert rows == [(problems[0],)]
