"""SQL benchmark: sochdb against DuckDB and sqlite3 on the same data, in one run.

    python bench/sql.py [--rows 1000000] [--repeat 3]

Workloads (issue targets in brackets):
  * bulk insert of N rows through executemany parameter batches      [>= 500k rows/s]
  * 100k single-row literal INSERT statements in one transaction      [>= 30k/s]
  * primary-key lookup loop, SELECT ... WHERE id = ?                   [>= 20k/s]
  * the guide's GROUP BY, JOIN and top-k queries scaled to N rows     [within 2x DuckDB]
Medians of the repeats; ratios are sochdb time / other time for queries (lower is better)
and sochdb rate / other rate for writes (higher is better).
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
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import duckdb  # noqa: E402

from sochdb import Database  # noqa: E402

USERS = "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT, age INTEGER)"
ORDERS = ("CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER, product TEXT, "
          "amount DOUBLE)")
QUERIES = {
    "group by (guide Aggregations)": (
        "SELECT users.name, COUNT(*) AS order_count, SUM(orders.amount) AS total "
        "FROM users JOIN orders ON users.id = orders.user_id "
        "GROUP BY users.name ORDER BY total DESC LIMIT 10"),
    "join + filter (guide JOIN)": (
        "SELECT COUNT(*), SUM(orders.amount) FROM users JOIN orders "
        "ON users.id = orders.user_id WHERE orders.amount > 50"),
    "top-k (ORDER BY amount DESC LIMIT 10)": (
        "SELECT id, product, amount FROM orders ORDER BY amount DESC LIMIT 10"),
    "group by category": (
        "SELECT product, COUNT(*), AVG(amount), MIN(amount), MAX(amount) FROM orders "
        "GROUP BY product ORDER BY product"),
}
PRODUCTS = ["Laptop", "Mouse", "Keyboard", "Monitor", "Desk", "Chair", "Lamp", "Cable"]


def make_rows(n_orders: int):
    rng = random.Random(42)
    n_users = max(n_orders // 10, 10)
    users = [(i, f"user{i % 5000}", f"u{i}@example.com", 18 + i % 60) for i in range(n_users)]
    orders = [(i, rng.randrange(n_users), PRODUCTS[i % len(PRODUCTS)],
               round(rng.uniform(1, 1000), 2)) for i in range(n_orders)]
    return users, orders


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


class Soch:
    name = "sochdb"

    def __init__(self, path):
        self.db = Database.open(path)

    def setup(self, users, orders):
        self.db.execute_sql(USERS)
        self.db.execute_sql(ORDERS)
        self.db.executemany("INSERT INTO users VALUES (?, ?, ?, ?)", users)
        t = time.perf_counter()
        self.db.executemany("INSERT INTO orders VALUES (?, ?, ?, ?)", orders)
        return time.perf_counter() - t

    def literal_inserts(self, n):
        self.db.execute_sql("CREATE TABLE lit (id INTEGER PRIMARY KEY, name TEXT, v DOUBLE)")
        t = time.perf_counter()
        with self.db.transaction() as txn:
            for i in range(n):
                txn.execute(f"INSERT INTO lit VALUES ({i}, 'name {i}', {i * 0.5})")
        return time.perf_counter() - t

    def lookups(self, ids):
        ex = self.db.execute_sql
        for i in ids:
            ex("SELECT * FROM users WHERE id = ?", (i,)).fetchall()

    def query(self, sql):
        return self.db.execute_sql(sql).rows()

    def close(self):
        self.db.close()


class _Connection:
    """The statement loops of a DB-API style connection ``self.c`` (DuckDB and sqlite3)."""

    c: Any

    def literal_inserts(self, n):
        self.c.execute("CREATE TABLE lit (id INTEGER PRIMARY KEY, name TEXT, v DOUBLE)")
        t = time.perf_counter()
        self.c.execute("BEGIN")
        for i in range(n):
            self.c.execute(f"INSERT INTO lit VALUES ({i}, 'name {i}', {i * 0.5})")
        self.c.execute("COMMIT")
        return time.perf_counter() - t

    def lookups(self, ids):
        ex = self.c.execute
        for i in ids:
            ex("SELECT * FROM users WHERE id = ?", [i]).fetchall()

    def query(self, sql):
        return self.c.execute(sql).fetchall()

    def close(self):
        self.c.close()


class Duck(_Connection):
    name = "duckdb"

    def __init__(self, path):
        self.c = duckdb.connect(path + ".duckdb")

    def setup(self, users, orders):
        self.c.execute(USERS)
        self.c.execute(ORDERS)
        import pyarrow as pa
        # DuckDB finds the Arrow tables u and o by their variable names
        u = pa.table(list(zip(*users)), names=["id", "name", "email", "age"])  # noqa: F841
        self.c.execute("INSERT INTO users SELECT * FROM u")
        t = time.perf_counter()
        o = pa.table(list(zip(*orders)), names=["id", "user_id", "product", "amount"])  # noqa: F841
        self.c.execute("INSERT INTO orders SELECT * FROM o")
        return time.perf_counter() - t



class Lite(_Connection):
    name = "sqlite3"

    def __init__(self, path):
        self.c = sqlite3.connect(path + ".sqlite", isolation_level=None)
        self.c.execute("PRAGMA journal_mode=WAL")
        self.c.execute("PRAGMA synchronous=NORMAL")

    def setup(self, users, orders):
        self.c.execute(USERS)
        self.c.execute(ORDERS)
        self.c.execute("BEGIN")
        self.c.executemany("INSERT INTO users VALUES (?, ?, ?, ?)", users)
        self.c.execute("COMMIT")
        t = time.perf_counter()
        self.c.execute("BEGIN")
        self.c.executemany("INSERT INTO orders VALUES (?, ?, ?, ?)", orders)
        self.c.execute("COMMIT")
        return time.perf_counter() - t



def main() -> int:
    ap = argparse.ArgumentParser(description="SQL benchmark against DuckDB and sqlite3")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--literal", type=int, default=100_000)
    ap.add_argument("--lookups", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    users, orders = make_rows(args.rows)
    ids = [random.Random(1).randrange(len(users)) for _ in range(args.lookups)]
    writes: dict[str, dict[str, float]] = {}
    reads: dict[str, dict[str, float]] = {}
    for cls in (Soch, Duck, Lite):
        tmp = tempfile.mkdtemp(prefix="sqlbench-")
        try:
            e = cls(os.path.join(tmp, "db"))
            w = writes.setdefault(cls.name, {})
            w["bulk insert rows/s"] = args.rows / e.setup(users, orders)
            w["literal INSERTs/s (one txn)"] = args.literal / e.literal_inserts(args.literal)
            w["pk lookups/s"] = args.lookups / median_time(lambda: e.lookups(ids), 1)
            r = reads.setdefault(cls.name, {})
            for label, sql in QUERIES.items():
                e.query(sql)  # warm
                r[label] = median_time(lambda: e.query(sql), args.repeat)
            e.close()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    names = ["sochdb", "duckdb", "sqlite3"]
    print(f"{'write workload':<34}" + "".join(f"{n:>14}" for n in names)
          + f"{'vs duckdb':>11}{'vs sqlite3':>11}")
    for label in writes["sochdb"]:
        vals = [writes[n][label] for n in names]
        print(f"{label:<34}" + "".join(f"{v:>14,.0f}" for v in vals)
              + f"{vals[0] / vals[1]:>10.2f}x{vals[0] / vals[2]:>10.2f}x")
    print()
    print(f"{'query (median seconds)':<40}" + "".join(f"{n:>11}" for n in names)
          + f"{'/duckdb':>9}{'/sqlite3':>10}")
    for label in QUERIES:
        vals = [reads[n][label] for n in names]
        print(f"{label:<40}" + "".join(f"{v:>11.4f}" for v in vals)
              + f"{vals[0] / vals[1]:>8.2f}x{vals[0] / vals[2]:>9.2f}x")
    print(f"\n{args.rows:,} orders, {len(users):,} users; medians of {args.repeat}; "
          f"{os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
