"""Bulk loads that write segment files before their (small) WAL record: replay, cleanup,
visibility and later changes to the loaded rows."""

from __future__ import annotations

import os

import numpy as np
import pyarrow as pa
import pytest

from sochdb import ConstraintError, Database
from sochdb.engine import engine as engine_mod
from sochdb.engine import records, wal
from sochdb.engine.fileio import FileSystem

from test_recovery import crash

N = engine_mod.BULK_ROWS + 12_345  # a few full row groups and a partial one


def data(n: int = N, start: int = 0) -> pa.Table:
    ids = np.arange(start, start + n, dtype=np.int64)
    return pa.table({"id": ids, "v": ids * 0.5, "s": pa.array(np.char.mod("s%d", ids % 7))})


def wal_tags(db_path: str) -> list[int]:
    tags = []
    for rec in wal.replay(FileSystem(), os.path.join(db_path, "wal"), cut_torn_tail=False):
        tags += [tag for tag, _ in records.decode_payload(rec.payload, "test")]
    return tags


def segment_files(db_path: str) -> set[str]:
    return set(os.listdir(os.path.join(db_path, "segments")))


def totals(db: Database, table: str = "t") -> tuple:
    return db.execute_sql(f"SELECT COUNT(*), SUM(id), SUM(v), COUNT(DISTINCT s) FROM {table}"
                          ).rows()[0]


def expected(n: int = N, start: int = 0) -> tuple:
    ids = np.arange(start, start + n)
    return (n, int(ids.sum()), float(ids.sum() * 0.5), min(n, 7))


def test_bulk_rows_go_to_segments_not_the_wal(db_path):
    db = Database.open(db_path)
    db.create_table_from("t", data())
    tags = wal_tags(db_path)
    assert records.TAG_SEGMENTS in tags and records.TAG_INSERT not in tags
    wal_bytes = sum(os.path.getsize(os.path.join(db_path, "wal", f))
                    for f in os.listdir(os.path.join(db_path, "wal")))
    assert wal_bytes < 64 * 1024  # the record names files; it does not hold 600k rows
    assert totals(db) == expected()
    crash(db)
    with Database.open(db_path) as db:
        assert totals(db) == expected()
        db.execute_sql("INSERT INTO t VALUES (-1, 1.0, 'x')")
        assert totals(db)[0] == N + 1
    with Database.open(db_path) as db:
        assert totals(db)[0] == N + 1


def test_rowids_continue_after_replayed_bulk_load(db_path):
    db = Database.open(db_path)
    db.create_table_from("t", data())
    crash(db)
    with Database.open(db_path) as db:
        db.insert_arrow("t", data(10, start=N))
        db.execute_sql("DELETE FROM t WHERE id < 100")
        assert totals(db) == (N + 10 - 100, int(np.arange(100, N + 10).sum()),
                              float(np.arange(100, N + 10).sum() * 0.5), 7)
    with Database.open(db_path) as db:
        assert totals(db)[0] == N + 10 - 100


def test_checkpoint_keeps_bulk_segments_and_rewrites_changed_ones(db_path):
    db = Database.open(db_path)
    db.create_table_from("t", data())
    before = segment_files(db_path)
    db.checkpoint()
    assert before <= segment_files(db_path)  # loaded segments are reused, not rewritten
    db.execute_sql("UPDATE t SET v = -v WHERE id % 100000 = 0")
    db.checkpoint()
    db.close()
    with Database.open(db_path) as db:
        assert db.execute_sql("SELECT COUNT(*) FROM t WHERE v < 0").rows()[0][0] == \
            len(range(100000, N, 100000))
        assert totals(db)[0] == N


def test_files_of_a_failed_bulk_commit_are_removed(db_path, monkeypatch):
    db = Database.open(db_path)
    db.execute_sql("CREATE TABLE t (id BIGINT, v DOUBLE, s VARCHAR)")
    before = segment_files(db_path)

    def failing_append(*_a, **_k):
        raise OSError("disk full")

    monkeypatch.setattr(db._engine._wal, "append", failing_append)
    with pytest.raises(OSError):
        db.insert_arrow("t", data())
    monkeypatch.undo()
    assert segment_files(db_path) - before  # written before the WAL record failed
    assert totals(db)[0] == 0
    crash(db)
    with Database.open(db_path) as db:
        assert totals(db)[0] == 0
    assert segment_files(db_path) <= before | {f for f in segment_files(db_path)
                                               if not f.startswith("t")}


def test_snapshot_started_before_a_bulk_load_does_not_see_it(db_path):
    with Database.open(db_path) as db:
        db.execute_sql("CREATE TABLE t (id BIGINT, v DOUBLE, s VARCHAR)")
        with db.transaction() as old:
            db.insert_arrow("t", data())
            assert old.execute_sql("SELECT COUNT(*) FROM t").rows()[0][0] == 0
        assert totals(db) == expected()


def test_unique_constraint_checked_against_bulk_loaded_rows(db_path):
    with Database.open(db_path) as db:
        db.execute_sql("CREATE TABLE t (id BIGINT PRIMARY KEY, v DOUBLE, s VARCHAR)")
        db.insert_arrow("t", data())
        with pytest.raises(ConstraintError):
            db.execute_sql("INSERT INTO t VALUES (5, 0.0, 'dup')")
        assert db.execute_sql("SELECT v FROM t WHERE id = 500000").rows()[0][0] == 250000.0
    with Database.open(db_path) as db:
        with pytest.raises(ConstraintError):
            db.insert_arrow("t", data(N + 10, start=0).slice(N - 1))
        assert totals(db) == expected()
