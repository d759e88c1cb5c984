"""Snapshot and serializable isolation, with concurrent threads: the bank-transfer invariant,
write skew (allowed by snapshot isolation, rejected by serializable), phantoms, and no lost
updates under either level."""

from __future__ import annotations

import random
import threading
import time

import pytest

from sochdb import ConfigError, Database, ProgrammingError, TransactionConflictError

LEVELS = ["snapshot", "serializable"]


@pytest.fixture
def mem():
    d = Database.open(":memory:")
    yield d
    d.close()


def doctors(db):
    db.execute("CREATE TABLE doctors (name TEXT PRIMARY KEY, on_call BOOLEAN NOT NULL)")
    db.execute("INSERT INTO doctors VALUES ('alice', true), ('bob', true)")


def go_off_call(txn, name):
    """The write-skew transaction: leave only if someone else stays on call."""
    n = txn.execute("SELECT count(*) AS n FROM doctors WHERE on_call").fetchone()["n"]
    if n >= 2:
        txn.execute(f"UPDATE doctors SET on_call = false WHERE name = '{name}'")
    return n


def on_call(db):
    return db.execute("SELECT count(*) AS n FROM doctors WHERE on_call").fetchone()["n"]


@pytest.mark.parametrize("level", LEVELS)
def test_write_skew_with_threads(db, level):
    """Both doctors check the rota at the same time, then both leave: snapshot isolation
    lets both commit (nobody is on call), serializable aborts the second committer."""
    doctors(db)
    barrier = threading.Barrier(2)
    outcome = {}

    def doctor(name):
        txn = db.transaction(isolation=level)
        go_off_call(txn, name)
        barrier.wait()  # both have read before either commits
        try:
            txn.commit()
            outcome[name] = "committed"
        except TransactionConflictError:
            outcome[name] = "conflict"

    threads = [threading.Thread(target=doctor, args=(n,)) for n in ("alice", "bob")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if level == "snapshot":
        assert sorted(outcome.values()) == ["committed", "committed"]
        assert on_call(db) == 0  # the anomaly snapshot isolation permits
    else:
        assert sorted(outcome.values()) == ["committed", "conflict"]
        assert on_call(db) == 1


def test_write_skew_over_kv_keys(mem):
    mem.put(b"x", b"1")
    mem.put(b"y", b"1")
    for level, expect_conflict in (("snapshot", False), ("serializable", True)):
        mem.put(b"x", b"1")
        mem.put(b"y", b"1")
        t1 = mem.transaction(isolation=level)
        t2 = mem.transaction(isolation=level)
        if int(t1.get(b"x")) + int(t1.get(b"y")) == 2:
            t1.put(b"x", b"0")
        if int(t2.get(b"x")) + int(t2.get(b"y")) == 2:
            t2.put(b"y", b"0")
        t1.commit()
        if expect_conflict:
            with pytest.raises(TransactionConflictError, match="key b'x' was written"):
                t2.commit()
        else:
            t2.commit()


def test_kv_range_phantom_is_a_conflict(mem):
    mem.put(b"task/1", b"open")
    reader = mem.transaction(isolation="serializable")
    count = sum(1 for _ in reader.scan_prefix(b"task/"))
    reader.put(b"summary", str(count).encode())
    mem.put(b"task/2", b"open")  # a new key inside the scanned range
    with pytest.raises(TransactionConflictError, match="range it scanned"):
        reader.commit()
    outside = mem.transaction(isolation="serializable")
    sum(1 for _ in outside.scan_prefix(b"task/"))
    outside.put(b"summary", b"2")
    mem.put(b"zzz", b"unrelated")  # outside the range: no conflict
    outside.commit()
    assert mem.get(b"summary") == b"2"


def test_sql_phantom_is_a_conflict(mem):
    mem.execute("CREATE TABLE orders (id INT PRIMARY KEY, customer INT, total INT)")
    mem.execute("CREATE TABLE invoices (customer INT PRIMARY KEY, total INT)")
    mem.execute("INSERT INTO orders VALUES (1, 7, 10)")
    txn = mem.transaction(isolation="serializable")
    total = txn.execute("SELECT sum(total) AS s FROM orders WHERE customer = 7").fetchone()["s"]
    txn.execute(f"INSERT INTO invoices VALUES (7, {total})")
    mem.execute("INSERT INTO orders VALUES (2, 7, 5)")  # would change the sum it read
    with pytest.raises(TransactionConflictError, match="'orders' that it read was written"):
        txn.commit()
    assert mem.execute("SELECT count(*) AS n FROM invoices").fetchone()["n"] == 0


def test_key_lookups_only_conflict_on_the_keys_read(mem):
    mem.execute("CREATE TABLE acct (id INT PRIMARY KEY, bal INT)")
    mem.execute("INSERT INTO acct VALUES (1, 100), (2, 100), (3, 100), (4, 100)")
    t1 = mem.transaction(isolation="serializable")
    t2 = mem.transaction(isolation="serializable")
    for t, (a, b) in ((t1, (1, 2)), (t2, (3, 4))):
        bal = t.execute(f"SELECT bal FROM acct WHERE id = {a}").fetchone()["bal"]
        t.execute(f"UPDATE acct SET bal = {bal - 10} WHERE id = {a}")
        t.execute(f"UPDATE acct SET bal = bal + 10 WHERE id = {b}")
    t1.commit()
    t2.commit()  # disjoint keys: no conflict even though both touched the table
    t3 = mem.transaction(isolation="serializable")
    t3.execute("SELECT bal FROM acct WHERE id = 1").fetchone()
    t3.execute("UPDATE acct SET bal = 0 WHERE id = 4")
    mem.execute("UPDATE acct SET bal = 1 WHERE id = 1")  # the key t3 read
    with pytest.raises(TransactionConflictError, match="looked up were written"):
        t3.commit()
    t4 = mem.transaction(isolation="serializable")
    assert t4.execute("SELECT bal FROM acct WHERE id = 9").fetchall() == []
    t4.execute("UPDATE acct SET bal = 5 WHERE id = 4")
    mem.execute("INSERT INTO acct VALUES (9, 1)")  # a phantom for the missing key t4 read
    with pytest.raises(TransactionConflictError):
        t4.commit()


def test_isolation_config_and_bad_levels(tmp_path):
    with pytest.raises(ConfigError, match="isolation"):
        Database.open(str(tmp_path / "x"), {"isolation": "chaos"})
    with Database.open(str(tmp_path / "db"), {"isolation": "serializable"}) as db:
        doctors(db)
        assert db.transaction().state.serializable
        assert not db.transaction(isolation="snapshot").state.serializable
        with pytest.raises(ProgrammingError, match="isolation"):
            db.transaction(isolation="read uncommitted")
        s1, s2 = db.session(), db.session()
        s1.execute("BEGIN")
        s2.execute("BEGIN")
        go_off_call(s1, "alice")
        go_off_call(s2, "bob")
        s1.execute("COMMIT")
        with pytest.raises(TransactionConflictError):
            s2.execute("COMMIT")
        assert on_call(db) == 1


# -- concurrent workloads ----------------------------------------------------------------

def run_threads(n, fn):
    errors = []

    def wrap(i):
        try:
            fn(i)
        except BaseException as e:  # noqa: BLE001 - reported by the assertion below
            errors.append(e)

    threads = [threading.Thread(target=wrap, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


@pytest.mark.parametrize("level", LEVELS)
def test_bank_transfers_keep_the_total(db, level):
    accounts, start = 6, 100
    db.execute("CREATE TABLE bank (id INT PRIMARY KEY, balance INT NOT NULL)")
    db.execute("INSERT INTO bank VALUES " + ", ".join(f"({i}, {start})"
                                                      for i in range(accounts)))
    for i in range(accounts):
        db.put(b"acct:%d" % i, b"%d" % start)
    committed = [0] * 4
    retries = [0] * 4
    audits = []

    def worker(w):
        rng = random.Random(w)
        while committed[w] < 25:
            a, b = rng.sample(range(accounts), 2)
            amount = rng.randint(1, 30)
            txn = db.transaction(isolation=level)
            try:
                bal = txn.execute(f"SELECT balance FROM bank WHERE id = {a}").fetchone()
                if bal["balance"] >= amount:
                    txn.execute(f"UPDATE bank SET balance = balance - {amount} WHERE id = {a}")
                    txn.execute(f"UPDATE bank SET balance = balance + {amount} WHERE id = {b}")
                ka, kb = b"acct:%d" % a, b"acct:%d" % b
                va, vb = int(txn.get(ka)), int(txn.get(kb))
                if va >= amount:
                    txn.put(ka, b"%d" % (va - amount))
                    txn.put(kb, b"%d" % (vb + amount))
                txn.commit()
                committed[w] += 1
            except TransactionConflictError:
                retries[w] += 1
            if committed[w] % 5 == 0:  # a concurrent auditor's consistent reads
                with db.transaction(isolation=level) as audit:
                    sql = audit.execute("SELECT sum(balance) AS s FROM bank").fetchone()["s"]
                    kv = sum(int(v) for _, v in audit.scan_prefix(b"acct:"))
                    audits.append((sql, kv))

    run_threads(4, worker)
    total = accounts * start
    assert db.execute("SELECT sum(balance) AS s FROM bank").fetchone()["s"] == total
    assert sum(int(v) for _, v in db.scan_prefix(b"acct:")) == total
    assert all(a == (total, total) for a in audits)
    assert db.execute("SELECT min(balance) AS m FROM bank").fetchone()["m"] >= 0
    assert sum(committed) == 100
    assert db.verify() == []


@pytest.mark.parametrize("level", LEVELS)
def test_no_lost_updates(db, level):
    db.execute("CREATE TABLE counter (id INT PRIMARY KEY, n INT)")
    db.execute("INSERT INTO counter VALUES (1, 0)")
    db.put(b"n", b"0")
    done = [0] * 4

    def worker(w):
        while done[w] < 30:
            txn = db.transaction(isolation=level)
            try:
                n = txn.execute("SELECT n FROM counter WHERE id = 1").fetchone()["n"]
                txn.execute(f"UPDATE counter SET n = {n + 1} WHERE id = 1")
                txn.put(b"n", b"%d" % (int(txn.get(b"n")) + 1))
                txn.commit()
                done[w] += 1
            except TransactionConflictError:
                pass

    run_threads(4, worker)
    assert db.execute("SELECT n FROM counter WHERE id = 1").fetchone()["n"] == 120
    assert db.get(b"n") == b"120"


def test_serializable_writers_behave_as_a_serial_order(mem):
    """Random read-modify-write transactions over a few keys: under serializable isolation
    the committed results equal replaying the committed transactions one by one in commit
    order (each sees exactly the state its predecessors left)."""
    keys = [b"a", b"b", b"c"]
    for k in keys:
        mem.put(k, b"0")
    log = []
    lock = threading.Lock()
    conflicts = []

    def worker(w):
        rng = random.Random(100 + w)
        for _ in range(40):
            txn = mem.transaction(isolation="serializable")
            src = rng.sample(keys, 2)
            dst = rng.choice(keys)
            seen = {k: int(txn.get(k)) for k in src}
            value = sum(seen.values()) + 1
            txn.put(dst, b"%d" % value)
            time.sleep(0.0005)  # let the others interleave between the reads and the commit
            try:
                with lock:  # commit and record under one lock: the log is the commit order
                    lsn = txn.commit()
                    log.append((lsn, seen, dst, value))
            except TransactionConflictError:
                conflicts.append(w)

    run_threads(3, worker)
    assert conflicts, "the transactions overlapped"
    state = {k: 0 for k in keys}
    for _lsn, seen, dst, value in sorted(log, key=lambda e: e[0]):
        assert all(state[k] == v for k, v in seen.items()), "a read was not serializable"
        state[dst] = value
    assert {k: int(mem.get(k)) for k in keys} == state
