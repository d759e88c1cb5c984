"""KV benchmark: sochdb against sqlite3 (WITHOUT ROWID, WAL, synchronous=NORMAL) and LMDB.

    python bench/kv.py [--keys 200000] [--repeat 3]

Each workload runs on a fresh database per engine in the same process; the table shows the
median ops/s of the repeats and the ratio to sqlite3 (higher is better). LMDB is skipped with
a note when the ``lmdb`` package is missing (``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sochdb import Database  # noqa: E402

try:
    import lmdb
except ImportError:  # pragma: no cover - optional
    lmdb = None


def keys_values(n: int) -> tuple[list[bytes], list[bytes]]:
    keys = [b"item:%08d" % i for i in range(n)]
    values = [b"value-%08d-" % i + b"x" * 40 for i in range(n)]
    return keys, values


class SochEngine:
    name = "sochdb"

    def __init__(self, path: str, sync: str = "normal") -> None:
        self.db = Database.open(path, config={"sync_mode": sync})

    def put_txn(self, keys, values):
        with self.db.transaction() as txn:
            put = txn.put
            for k, v in zip(keys, values):
                put(k, v)

    def put_auto(self, keys, values):
        put = self.db.put
        for k, v in zip(keys, values):
            put(k, v)

    def get(self, keys):
        get = self.db.get
        for k in keys:
            get(k)

    def scan(self, prefix):
        return sum(1 for _ in self.db.scan_prefix(prefix))

    def scan_batched(self, prefix):
        txn = self.db.transaction()
        n = sum(1 for _ in txn.scan_batched(prefix, prefix[:-1] + bytes([prefix[-1] + 1]),
                                            batch_size=1000))
        txn.abort()
        return n

    def close(self):
        self.db.close()


class SqliteEngine:
    name = "sqlite3"

    def __init__(self, path: str, sync: str = "normal") -> None:
        self.c = sqlite3.connect(path + ".sqlite", isolation_level=None)
        self.c.execute("PRAGMA journal_mode=WAL")
        self.c.execute(f"PRAGMA synchronous={'FULL' if sync == 'full' else 'NORMAL'}")
        self.c.execute("CREATE TABLE kv (k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID")

    def put_txn(self, keys, values):
        c = self.c
        c.execute("BEGIN")
        ex = c.execute
        for k, v in zip(keys, values):
            ex("INSERT OR REPLACE INTO kv VALUES (?, ?)", (k, v))
        c.execute("COMMIT")

    def put_auto(self, keys, values):
        ex = self.c.execute
        for k, v in zip(keys, values):
            ex("INSERT OR REPLACE INTO kv VALUES (?, ?)", (k, v))

    def get(self, keys):
        ex = self.c.execute
        for k in keys:
            ex("SELECT v FROM kv WHERE k = ?", (k,)).fetchone()

    def scan(self, prefix):
        end = prefix[:-1] + bytes([prefix[-1] + 1])
        return sum(1 for _ in self.c.execute("SELECT k, v FROM kv WHERE k >= ? AND k < ?",
                                             (prefix, end)))

    def scan_batched(self, prefix):
        end = prefix[:-1] + bytes([prefix[-1] + 1])
        cur = self.c.execute("SELECT k, v FROM kv WHERE k >= ? AND k < ?", (prefix, end))
        n = 0
        while True:
            rows = cur.fetchmany(1000)
            if not rows:
                return n
            n += len(rows)

    def close(self):
        self.c.close()


class LmdbEngine:
    name = "lmdb"

    def __init__(self, path: str, sync: str = "normal") -> None:
        self.env = lmdb.open(path + ".lmdb", map_size=1 << 31, sync=sync == "full",
                             metasync=sync == "full")

    def put_txn(self, keys, values):
        with self.env.begin(write=True) as txn:
            put = txn.put
            for k, v in zip(keys, values):
                put(k, v)

    def put_auto(self, keys, values):
        env = self.env
        for k, v in zip(keys, values):
            with env.begin(write=True) as txn:
                txn.put(k, v)

    def get(self, keys):
        with self.env.begin() as txn:
            get = txn.get
            for k in keys:
                get(k)

    def scan(self, prefix):
        n = 0
        with self.env.begin() as txn:
            cur = txn.cursor()
            if cur.set_range(prefix):
                for k, _v in cur:
                    if not k.startswith(prefix):
                        break
                    n += 1
        return n

    def scan_batched(self, prefix):
        n = 0
        with self.env.begin() as txn:
            cur = txn.cursor()
            if cur.set_range(prefix):
                for k, _v in cur.iternext():
                    if not k.startswith(prefix):
                        break
                    n += 1
        return n

    def close(self):
        self.env.close()


def engines():
    out = [SochEngine, SqliteEngine]
    if lmdb is not None:
        out.append(LmdbEngine)
    return out


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def run(n: int, repeat: int) -> list[tuple[str, dict[str, float]]]:
    keys, values = keys_values(n)
    shuffled = keys[:]
    random.Random(7).shuffle(shuffled)
    gets = shuffled[: min(n, 100_000)]
    auto_n = min(n, 20_000)
    sync_n = 500
    rows = []
    workloads = [
        (f"{n // 1000}k puts in one transaction", n),
        (f"{auto_n // 1000}k autocommit puts", auto_n),
        (f"{len(gets) // 1000}k random gets", len(gets)),
        (f"{n // 1000}k-key prefix scan", n),
        (f"{n // 1000}k-key prefix scan, batched", n),
        (f"{sync_n} fsync-per-commit puts", sync_n),
    ]
    results: dict[str, dict[str, list[float]]] = {w: {} for w, _ in workloads}
    for _ in range(repeat):
        for cls in engines():
            tmp = tempfile.mkdtemp(prefix="kvbench-")
            try:
                e = cls(os.path.join(tmp, "db"))
                r = results
                r[workloads[0][0]].setdefault(cls.name, []).append(
                    n / timed(lambda: e.put_txn(keys, values)))
                r[workloads[1][0]].setdefault(cls.name, []).append(
                    auto_n / timed(lambda: e.put_auto([b"auto" + k for k in keys[:auto_n]],
                                                      values[:auto_n])))
                r[workloads[2][0]].setdefault(cls.name, []).append(
                    len(gets) / timed(lambda: e.get(gets)))
                count = e.scan(b"item:")
                assert count == n, (cls.name, count)
                r[workloads[3][0]].setdefault(cls.name, []).append(
                    n / timed(lambda: e.scan(b"item:")))
                r[workloads[4][0]].setdefault(cls.name, []).append(
                    n / timed(lambda: e.scan_batched(b"item:")))
                e.close()
                s = cls(os.path.join(tmp, "sync"), sync="full")
                r[workloads[5][0]].setdefault(cls.name, []).append(
                    sync_n / timed(lambda: s.put_auto(keys[:sync_n], values[:sync_n])))
                s.close()
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    for w, _ in workloads:
        rows.append((w, {name: statistics.median(v) for name, v in results[w].items()}))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description="KV benchmark against sqlite3 and LMDB")
    ap.add_argument("--keys", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    names = [cls.name for cls in engines()]
    rows = run(args.keys, args.repeat)
    head = f"{'workload':<36}" + "".join(f"{n + ' ops/s':>16}" for n in names) + \
        f"{'sochdb/sqlite3':>16}"
    print(head)
    print("-" * len(head))
    for w, res in rows:
        line = f"{w:<36}" + "".join(f"{res.get(n, float('nan')):>16,.0f}" for n in names)
        line += f"{res['sochdb'] / res['sqlite3']:>15.2f}x"
        print(line)
    if lmdb is None:
        print("\nlmdb not installed: pip install -e '.[bench]' to include it")
    print(f"\nmedians of {args.repeat} runs; {os.cpu_count()} CPUs; sochdb sync_mode=normal "
          f"(fsync rows: sync_mode=full, sqlite synchronous=FULL, lmdb sync=True)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
