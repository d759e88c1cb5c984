"""db.backup(path): a consistent copy taken while writers go on, that opens and verifies."""

from __future__ import annotations

import threading

import pytest

from sochdb import Database, OperationalError


def contents(db) -> dict:
    return {"kv": dict(db.scan()),
            "t": [tuple(r.values()) for r in
                  db.execute("SELECT * FROM t ORDER BY id").fetchall()]}


def test_backup_equals_the_source(tmp_path, db):
    db.execute("CREATE TABLE t (id INT PRIMARY KEY, name TEXT UNIQUE, n INT NOT NULL)")
    db.execute("INSERT INTO t VALUES (1, 'a', 1), (2, 'b', 2), (3, 'c', 3)")
    db.put_many([(b"k%04d" % i, b"v%d" % i) for i in range(3000)])  # a sorted run
    db.checkpoint()
    db.execute("DELETE FROM t WHERE id = 2")
    db.execute("UPDATE t SET n = 10 WHERE id = 1")
    db.execute("ALTER TABLE t ADD COLUMN extra TEXT DEFAULT 'x'")
    db.execute("INSERT INTO t VALUES (4, 'd', 4, 'y')")
    db.delete(b"k0001")
    db.put(b"solo", b"1")
    lsn = db.backup(tmp_path / "copy")
    assert lsn == db.stats()["last_lsn"]
    with Database.open(str(tmp_path / "copy")) as copy:
        assert copy.verify() == []
        assert contents(copy) == contents(db)
        assert copy.stats()["last_lsn"] == lsn
        copy.execute("INSERT INTO t VALUES (5, 'e', 5, 'z')")  # rowids continue correctly
        with pytest.raises(Exception, match="name"):
            copy.execute("INSERT INTO t VALUES (6, 'a', 6, 'z')")
    with Database.open(str(tmp_path / "copy")) as copy:
        assert len(contents(copy)["t"]) == 4 and copy.verify() == []


def test_backup_while_writers_commit(tmp_path):
    db = Database.open(str(tmp_path / "db"), {"memtable_size_bytes": 64 * 1024})
    db.execute("CREATE TABLE t (id INT PRIMARY KEY, writer INT, seq INT)")
    commits: list[int] = []  # LSNs of the writers' commits, in commit order
    db._engine.listeners.append(lambda lsn, txn: commits.append(lsn))
    stop = threading.Event()

    def writer(w: int) -> None:
        seq = 0
        while not stop.is_set():
            with db.transaction() as txn:
                txn.put(b"w%d:%06d" % (w, seq), b"x" * 50)
                txn.execute(f"INSERT INTO t VALUES ({w * 1_000_000 + seq}, {w}, {seq})")
                if seq % 7 == 3:
                    txn.execute(f"DELETE FROM t WHERE id = {w * 1_000_000 + seq - 3}")
            seq += 1

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(3)]
    for t in threads:
        t.start()
    copies = []
    try:
        for i in range(3):
            stop.wait(0.3)
            copies.append((tmp_path / f"copy{i}", db.backup(tmp_path / f"copy{i}")))
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert db.stats()["checkpoints"] >= 1  # checkpoints ran during the backups
    for path, lsn in copies:
        with Database.open(str(path)) as copy:
            assert copy.verify() == []
            assert copy.stats()["last_lsn"] == lsn
            keys = [k for k, _ in copy.scan()]
            # Exactly the commits up to the backup's LSN...
            assert len(keys) == sum(1 for c in commits if c <= lsn)
            rows = copy.execute("SELECT writer, seq FROM t").fetchall()
            for w in range(3):
                # ...a prefix of each writer's commits, with KV and SQL writes together.
                seqs = sorted(int(k.split(b":")[1]) for k in keys if k.startswith(b"w%d:" % w))
                n = len(seqs)
                assert seqs == list(range(n)), "a writer's commits have a gap"
                deleted = {s - 3 for s in range(n) if s % 7 == 3}
                assert sorted(r["seq"] for r in rows if r["writer"] == w) == \
                    [s for s in range(n) if s not in deleted]
    db.close()


def test_backup_of_a_memory_database(tmp_path):
    with Database.open(":memory:") as mem:
        mem.execute("CREATE TABLE t (id INT PRIMARY KEY)")
        mem.execute("INSERT INTO t VALUES (1), (2)")
        mem.put(b"a", b"b")
        mem.backup(str(tmp_path / "disk"))
    with Database.open(str(tmp_path / "disk")) as db:
        assert db.verify() == [] and db.get(b"a") == b"b"
        assert db.execute("SELECT count(*) AS n FROM t").fetchone() == {"n": 2}


def test_backup_target_must_be_new(tmp_path, disk_db):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(OperationalError, match="not an empty directory"):
        disk_db.backup(tmp_path / "full")
    with pytest.raises(OperationalError, match="into itself"):
        disk_db.backup(disk_db.path + "/inner")
    disk_db.backup(tmp_path / "ok")
    assert disk_db.stats()["active_transactions"] == 0
