"""Soak test: a writer process is killed with SIGKILL every few seconds for N minutes, and
after each kill the database is reopened, integrity-checked and compared with what the writer
acknowledged.

The writer runs KV, SQL and mixed transactions (vector writes join once the database stores
vectors), deletes old ones, checkpoints now and then, and -- with ``--io-faults`` -- fails
some of its own commits and checkpoints with injected ENOSPC/EIO through the fault-injecting
file system. It prints one line per outcome: ``A <id> <kind>`` once a commit returned,
``F <id>`` once a commit failed with OperationalError, ``D <lo> <hi>`` once a range was
deleted. After each kill the checker requires: ``verify()`` finds nothing; every
acknowledged transaction is there in full, every failed or deleted one is absent, none is
partly applied; the accounts' total is unchanged; every fifth round a backup verifies too.

    python bench/soak.py --minutes 10 --io-faults
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ACCOUNTS = 16
START_BALANCE = 1000
PARTS = 3  # KV keys per transaction that writes KV
#: At every id divisible by DELETE_EVERY the writer deletes the DELETE_SPAN ids starting
#: 2 * DELETE_EVERY earlier.
DELETE_EVERY = 200
DELETE_SPAN = 100


# -- the writer (child process) ------------------------------------------------------------

def writer(path: str, start: int, seed: int, io_faults: bool, sync_mode: str) -> None:
    from sochdb import Database, OperationalError
    from sochdb.engine.faults import FaultyFileSystem

    fs = FaultyFileSystem() if io_faults else None
    db = Database.open(path, {"sync_mode": sync_mode, "memtable_size_bytes": 256 * 1024},
                       _fs=fs)
    rng = random.Random(seed)

    def say(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    i = start
    while True:
        kind = rng.choice(("kv", "sql", "mixed", "mixed"))
        if fs is not None and rng.random() < 0.03:
            what = "fsync" if sync_mode == "full" and rng.random() < 0.5 else "write"
            fs.inject(what, err=rng.choice((errno.ENOSPC, errno.EIO)), path="wal")
        try:
            with db.transaction() as txn:
                if kind in ("kv", "mixed"):
                    for p in range(PARTS):
                        txn.put(b"txn:%09d:%d" % (i, p), b"%d" % i)
                if kind in ("sql", "mixed"):
                    a, b = rng.sample(range(ACCOUNTS), 2)
                    amount = rng.randint(1, 50)
                    txn.execute(f"UPDATE accounts SET balance = balance - {amount} "
                                f"WHERE id = {a}")
                    txn.execute(f"UPDATE accounts SET balance = balance + {amount} "
                                f"WHERE id = {b}")
                    txn.execute(f"INSERT INTO events VALUES ({i}, '{kind}', {amount})")
            say(f"A {i} {kind}")
        except OperationalError:
            say(f"F {i}")
        if fs is not None:
            fs.clear()
        i += 1
        if i % DELETE_EVERY == 0:  # drop an old range: KV and SQL in one transaction
            lo, hi = i - 2 * DELETE_EVERY, i - 2 * DELETE_EVERY + DELETE_SPAN
            try:
                with db.transaction() as txn:
                    for k, _ in list(txn.scan(b"txn:%09d" % lo, b"txn:%09d" % hi)):
                        txn.delete(k)
                    txn.execute(f"DELETE FROM events WHERE id >= {lo} AND id < {hi}")
                say(f"D {lo} {hi}")
            except OperationalError:
                pass
        if rng.random() < 0.01:
            if fs is not None and rng.random() < 0.3:
                fs.inject("create", err=errno.ENOSPC, path="segments")
            try:
                db.checkpoint()
            except OperationalError:
                pass
            if fs is not None:
                fs.clear()


# -- the checker (parent process) ----------------------------------------------------------

def setup(path: str) -> None:
    from sochdb import Database
    with Database.open(path) as db:
        db.execute("CREATE TABLE accounts (id INT PRIMARY KEY, balance INT NOT NULL)")
        db.execute("INSERT INTO accounts VALUES " + ", ".join(
            f"({a}, {START_BALANCE})" for a in range(ACCOUNTS)))
        db.execute("CREATE TABLE events (id INT PRIMARY KEY, kind TEXT, amount INT)")


def check(path: str, acked: dict[int, str], failed: set[int],
          deleted: list[tuple[int, int]], backup_dir: str | None) -> int:
    """Reopen and compare with the writer's reports; return the next free id. Raises
    AssertionError naming the first violation."""
    from sochdb import Database
    with Database.open(path) as db:
        problems = db.verify()
        if problems:
            raise AssertionError(f"verify() found problems: {problems[:3]}")
        kv: dict[int, int] = {}
        for key, value in db.scan_prefix(b"txn:"):
            n = int(key.split(b":")[1])
            if int(value) != n:
                raise AssertionError(f"key {key!r} holds {value!r}")
            kv[n] = kv.get(n, 0) + 1
        events = {r["id"]: r["kind"] for r in db.execute("SELECT id, kind FROM events")}
        total = db.execute("SELECT sum(balance) AS s FROM accounts").fetchone()["s"]
        if total != ACCOUNTS * START_BALANCE:
            raise AssertionError(f"accounts total {total}, expected "
                                 f"{ACCOUNTS * START_BALANCE}: a transfer was half applied")
        for n in set(kv) | set(events):
            if kv.get(n, PARTS) != PARTS:
                raise AssertionError(f"transaction {n} is partly applied ({kv[n]} KV keys)")
            kind = events.get(n, "kv")
            if (n in kv) != (kind in ("kv", "mixed")) or acked.get(n, kind) != kind:
                raise AssertionError(f"transaction {n} ({acked.get(n, kind)}) is partly "
                                     f"applied: KV {'present' if n in kv else 'absent'}, "
                                     f"SQL {'present' if n in events else 'absent'}")
        for n in failed:
            if n in kv or n in events:
                raise AssertionError(f"transaction {n} failed but is visible")
        for lo, hi in deleted:
            if any(lo <= n < hi for n in kv) or any(lo <= n < hi for n in events):
                raise AssertionError(f"range [{lo}, {hi}) was deleted but is visible")
        # Range deletes are scheduled by id (see writer): one that committed just before
        # the kill was never reported, so a missing id counts as deleted only if its whole
        # range is gone and the writer got far enough to delete it.
        top = max([*kv, *events, *acked, *failed, -1])
        ranges_left = {m - m % DELETE_EVERY for m in (*kv, *events)
                       if m % DELETE_EVERY < DELETE_SPAN}
        for n, kind in acked.items():
            if n in kv or n in events or any(lo <= n < hi for lo, hi in deleted):
                continue
            lo = n - n % DELETE_EVERY
            if (n % DELETE_EVERY < DELETE_SPAN and top >= lo + 2 * DELETE_EVERY - 1
                    and lo not in ranges_left):
                continue
            raise AssertionError(f"acknowledged transaction {n} ({kind}) was lost")
        if backup_dir is not None:
            shutil.rmtree(backup_dir, ignore_errors=True)
            db.backup(backup_dir)
            with Database.open(backup_dir) as copy:
                if copy.verify():
                    raise AssertionError("the backup does not verify")
        return top + 1


def soak(minutes: float, path: str, io_faults: bool, seed: int, min_s: float,
         max_s: float) -> dict:
    rng = random.Random(seed)
    setup(path)
    deadline = time.monotonic() + minutes * 60
    stats = {"crashes_survived": 0, "transactions_acknowledged": 0,
             "transactions_verified": 0, "commits_failed_by_injected_io_errors": 0,
             "range_deletes_verified": 0, "kills": 0, "backups_verified": 0}
    acked: dict[int, str] = {}
    failed: set[int] = set()
    deleted: list[tuple[int, int]] = []
    nxt = rounds = 0
    started = time.monotonic()
    while time.monotonic() < deadline:
        mode = rng.choice(("full", "normal"))
        proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--child", path, str(nxt),
             str(rng.randrange(1 << 30)), mode] + (["--io-faults"] if io_faults else []),
            stdout=subprocess.PIPE, text=True)
        first = proc.stdout.readline()  # the writer is up (imports take a while)
        time.sleep(rng.uniform(min_s, max_s))
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate()
        stats["kills"] += 1
        for line in (first + out).splitlines():
            parts = line.split()
            if parts[:1] == ["A"] and len(parts) == 3:
                acked[int(parts[1])] = parts[2]
                stats["transactions_acknowledged"] += 1
            elif parts[:1] == ["F"] and len(parts) == 2:
                failed.add(int(parts[1]))
                stats["commits_failed_by_injected_io_errors"] += 1
            elif parts[:1] == ["D"] and len(parts) == 3:
                deleted.append((int(parts[1]), int(parts[2])))
                stats["range_deletes_verified"] += 1
        rounds += 1
        backup = os.path.join(os.path.dirname(path), "backup") if rounds % 5 == 0 else None
        nxt = check(path, acked, failed, deleted, backup)
        stats["backups_verified"] += backup is not None
        stats["transactions_verified"] += len(acked) + len(failed)
        stats["crashes_survived"] += 1
    stats["faults_injected"] = stats["kills"] + stats["commits_failed_by_injected_io_errors"]
    stats["distinct_transactions_checked_each_round"] = len(acked) + len(failed)
    stats["elapsed_s"] = round(time.monotonic() - started, 1)
    return stats


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=5.0)
    p.add_argument("--dir", help="work directory (default: a new temporary one, removed)")
    p.add_argument("--io-faults", action="store_true",
                   help="also inject ENOSPC/EIO into some commits and checkpoints")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--min-interval", type=float, default=0.5, help="seconds, at least")
    p.add_argument("--max-interval", type=float, default=3.0, help="seconds, at most")
    p.add_argument("--child", nargs=4, metavar=("PATH", "START", "SEED", "SYNC_MODE"),
                   help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child:
        path, start, seed, mode = a.child
        writer(path, int(start), int(seed), a.io_faults, mode)
        return 0
    work = a.dir or tempfile.mkdtemp(prefix="sochdb-soak-")
    try:
        stats = soak(a.minutes, os.path.join(work, "db"), a.io_faults, a.seed,
                     a.min_interval, a.max_interval)
    finally:
        if not a.dir:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(stats, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
