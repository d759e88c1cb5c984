"""Cost of Python plugin triggers on SQL INSERT: 100k rows with and without a trigger.

Run: ``python bench/plugins.py [--reps 9] [--rows 100000]``. Cases run round-robin (so machine
noise hits each alike) in fresh in-memory databases; prints medians of wall time and of process
CPU time (steadier on a busy machine), the per-row CPU difference from "no plugins" and the
ratio. The table in docs/plugins.md comes from this script.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable

from sochdb import Database
from sochdb.plugins import PythonPlugin

DDL = ("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT, age INTEGER, "
       "created_at DOUBLE)")
IDENTITY = "def on_{when}_insert(row):\n    return row\n"
GUIDE = '''
import time
def on_before_insert(row: dict) -> dict:
    if "email" in row:
        row["email"] = row["email"].lower().strip()
    if row.get("age", 0) < 0:
        raise TriggerAbort("Age cannot be negative", code="INVALID_AGE")
    row["created_at"] = time.time()
    return row
'''

CASES: dict[str, Callable[[Database], None]] = {
    "no plugins": lambda db: None,
    "trigger on another table": lambda db: db.register_plugin(
        PythonPlugin("p", IDENTITY.format(when="before"), {"other": "BEFORE INSERT"})),
    "AFTER INSERT, returns row": lambda db: db.register_plugin(
        PythonPlugin("p", IDENTITY.format(when="after"), {"users": "AFTER INSERT"})),
    "BEFORE INSERT, returns row": lambda db: db.register_plugin(
        PythonPlugin("p", IDENTITY.format(when="before"), {"users": "BEFORE INSERT"})),
    "BEFORE INSERT, guide's validator": lambda db: db.register_plugin(
        PythonPlugin("p", GUIDE, {"users": "BEFORE INSERT"})),
}


def one_run(setup: Callable[[Database], None], how: str, rows: list[tuple],
            ) -> tuple[float, float]:
    db = Database.open(":memory:")
    db.execute_sql(DDL)
    db.execute_sql("CREATE TABLE other (id INTEGER)")
    if how == "INSERT ... SELECT":
        db.execute_sql(DDL.replace("users", "staging"))
        db.executemany("INSERT INTO staging VALUES (?, ?, ?, ?, ?)", rows)
    setup(db)
    gc.collect()
    t, c = time.perf_counter(), time.process_time()
    if how == "INSERT ... SELECT":
        db.execute_sql("INSERT INTO users SELECT * FROM staging")
    else:
        db.executemany("INSERT INTO users VALUES (?, ?, ?, ?, ?)", rows)
    elapsed = time.perf_counter() - t, time.process_time() - c
    n = db.execute_sql("SELECT count(*) AS n FROM users").fetchone()["n"]
    assert n == len(rows), n
    db.close()
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=9)
    ap.add_argument("--rows", type=int, default=100_000)
    args = ap.parse_args()
    n = args.rows
    rows = [(i, f"user{i}", f" USER{i}@EXAMPLE.COM ", i % 90, None) for i in range(n)]
    print(f"| statement ({n:,} rows) | case | wall ms | CPU ms | CPU per row vs no plugins "
          f"| CPU ratio |")
    print("|---|---|---:|---:|---:|---:|")
    for how in ("executemany INSERT", "INSERT ... SELECT"):
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in CASES}
        for _ in range(args.reps):
            for name, setup in CASES.items():
                times[name].append(one_run(setup, how, rows))
        base = statistics.median(c for _, c in times["no plugins"])
        for name in CASES:
            wall = statistics.median(w for w, _ in times[name])
            cpu = statistics.median(c for _, c in times[name])
            print(f"| {how} | {name} | {wall * 1e3:.0f} | {cpu * 1e3:.0f} "
                  f"| {(cpu - base) / n * 1e6:+.2f} µs | {cpu / base:.2f} |", flush=True)


if __name__ == "__main__":
    main()
