"""Transactions: context manager and manual use, snapshot isolation, conflicts."""

from __future__ import annotations

import threading

import pytest

from sochdb import TransactionClosedError, TransactionConflictError


def test_guide_automatic_transaction(db):
    with db.transaction() as txn:
        txn.put(b"account:1:balance", b"1000")
        txn.put(b"account:2:balance", b"500")
    assert db.get(b"account:1:balance") == b"1000"
    assert db.get(b"account:2:balance") == b"500"


def test_context_manager_aborts_on_exception(db):
    with pytest.raises(RuntimeError):
        with db.transaction() as txn:
            txn.put(b"a", b"1")
            raise RuntimeError("boom")
    assert db.get(b"a") is None
    assert txn.status == "aborted"


def test_guide_manual_control(db, capsys):
    txn = db.begin_transaction()
    try:
        txn.put(b"key1", b"value1")
        txn.put(b"key2", b"value2")
        for key, value in txn.scan(b"key", b"key~"):
            print(f"{key.decode()}: {value.decode()}")
        txn.commit()
    except Exception:
        txn.abort()
        raise
    assert capsys.readouterr().out == "key1: value1\nkey2: value2\n"
    assert db.get(b"key2") == b"value2"


def test_guide_transaction_advanced(db, capsys):
    txn = db.transaction()
    print(f"Transaction ID: {txn.id}")
    txn.put(b"key", b"value")
    lsn = txn.commit()
    print(f"Committed at LSN: {lsn}")
    out = capsys.readouterr().out
    assert out == f"Transaction ID: {txn.id}\nCommitted at LSN: {lsn}\n"
    assert isinstance(txn.id, int) and lsn == 1


def test_guide_batched_scanning(db, capsys):
    with db.transaction() as txn:
        for i in range(10000):
            txn.put(f"item:{i:05d}".encode(), f"value:{i}".encode())
    txn = db.transaction()
    count = sum(1 for _ in txn.scan(b"item:", b"item;"))
    txn.abort()
    print(f"Regular scan: {count} items")
    txn = db.transaction()
    count = sum(1 for _ in txn.scan_batched(start=b"item:", end=b"item;", batch_size=1000))
    txn.abort()
    print(f"Batched scan: {count} items (much faster!)")
    assert capsys.readouterr().out == ("Regular scan: 10000 items\n"
                                       "Batched scan: 10000 items (much faster!)\n")


def test_scan_batches_and_bad_batch_size(db):
    for i in range(25):
        db.put(b"k%02d" % i, b"v")
    with db.transaction() as txn:
        sizes = [len(b) for b in txn.scan_batches(b"k", b"l", batch_size=10)]
        assert sizes == [10, 10, 5]
        with pytest.raises(ValueError, match="batch_size"):
            txn.scan_batched(b"k", b"l", batch_size=0)


def test_read_your_writes_and_deletes(db):
    db.put(b"a", b"1")
    db.put(b"b", b"2")
    with db.transaction() as txn:
        txn.delete(b"a")
        txn.put(b"c", b"3")
        assert txn.get(b"a") is None
        assert txn.get(b"c") == b"3"
        assert list(txn.scan_prefix(b"")) == [(b"b", b"2"), (b"c", b"3")]
        assert db.get(b"c") is None  # not visible outside before commit
    assert db.get(b"a") is None and db.get(b"c") == b"3"


def test_snapshot_isolation(db):
    db.put(b"x", b"1")
    txn = db.transaction()
    assert txn.get(b"x") == b"1"
    db.put(b"x", b"2")
    db.put(b"y", b"new")
    assert txn.get(b"x") == b"1"
    assert txn.get(b"y") is None
    assert list(txn.scan_prefix(b"")) == [(b"x", b"1")]
    txn.abort()
    assert db.get(b"x") == b"2"


def test_snapshot_survives_large_commits_and_checkpoint(db):
    db.put(b"k0001", b"before")
    txn = db.transaction()
    with db.transaction() as big:
        for i in range(5000):
            big.put(b"k%04d" % i, b"after")
    db.checkpoint()
    assert txn.get(b"k0001") == b"before"
    assert txn.get(b"k0002") is None
    assert list(txn.scan_prefix(b"k")) == [(b"k0001", b"before")]
    txn.abort()
    assert db.get(b"k0001") == b"after"


def test_first_committer_wins(db):
    db.put(b"acct", b"100")
    t1 = db.transaction()
    t2 = db.transaction()
    t1.put(b"acct", b"150")
    t2.put(b"acct", b"50")
    t2.put(b"other", b"x")
    t1.commit()
    with pytest.raises(TransactionConflictError, match="key b'acct' was written"):
        t2.commit()
    assert db.get(b"acct") == b"150"
    assert db.get(b"other") is None  # nothing of the loser applied
    assert t2.status == "aborted"


def test_disjoint_writes_do_not_conflict(db):
    t1 = db.transaction()
    t2 = db.transaction()
    t1.put(b"a", b"1")
    t2.put(b"b", b"2")
    t1.commit()
    t2.commit()
    assert db.get(b"a") == b"1" and db.get(b"b") == b"2"


def test_finished_transaction_is_an_error(db):
    txn = db.transaction()
    txn.put(b"a", b"1")
    txn.commit()
    for call in (lambda: txn.put(b"b", b"2"), lambda: txn.get(b"a"), txn.commit, txn.abort,
                 lambda: txn.scan(b"")):
        with pytest.raises(TransactionClosedError, match="already committed"):
            call()
    t2 = db.transaction()
    t2.abort()
    with pytest.raises(TransactionClosedError, match="already aborted"):
        t2.put(b"x", b"y")


def test_read_only_commit_returns_snapshot_lsn(db):
    db.put(b"a", b"1")
    txn = db.transaction()
    assert txn.get(b"a") == b"1"
    assert txn.commit() == 1


def test_abandoned_transaction_is_released(db):
    txn = db.transaction()
    txn.put(b"a", b"1")
    assert db.stats()["active_transactions"] == 1
    del txn
    assert db.stats()["active_transactions"] == 0
    assert db.get(b"a") is None


def test_concurrent_increments_lose_no_update(db):
    db.put(b"counter", b"0")

    def worker():
        done = 0
        while done < 50:
            txn = db.transaction()
            n = int(txn.get(b"counter"))
            txn.put(b"counter", str(n + 1).encode())
            try:
                txn.commit()
                done += 1
            except TransactionConflictError:
                pass

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert db.get(b"counter") == b"200"
