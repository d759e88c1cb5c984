"""Window function speed: sochdb against DuckDB on the same 1M-row table.

Run: ``python bench/windows.py`` (about a minute on 2 cores) or ``--rows 100000`` for a quick
look. Both engines build the table with the same SQL (a cross join of a digits table) and run
each query ``--repeat`` times; the table prints the median seconds and the sochdb/DuckDB ratio.
Queries wrap the window in ``SELECT count(*), sum(w)`` so that converting a million result
rows to Python does not hide the window's own cost.
"""

from __future__ import annotations

import argparse
import statistics
import time

import duckdb

import sochdb

QUERIES = {
    "sum rows 10 preceding, 1000 partitions":
        "SUM(x) OVER (PARTITION BY g ORDER BY t ROWS BETWEEN 10 PRECEDING AND CURRENT ROW)",
    "row_number, 1000 partitions": "ROW_NUMBER() OVER (PARTITION BY g ORDER BY t)",
    "row_number, one partition": "ROW_NUMBER() OVER (ORDER BY t)",
    "rank, ties": "RANK() OVER (PARTITION BY g ORDER BY x)",
    "running sum (default frame)": "SUM(x) OVER (PARTITION BY g ORDER BY t)",
    "sum over whole partition": "SUM(x) OVER (PARTITION BY g)",
    "min rows 10 preceding": "MIN(x) OVER (PARTITION BY g ORDER BY t ROWS 10 PRECEDING)",
    "max running": "MAX(x) OVER (PARTITION BY g ORDER BY t)",
    "lag": "LAG(x, 2, 0) OVER (PARTITION BY g ORDER BY t)",
    "avg range 1000 preceding": "AVG(x) OVER (PARTITION BY g ORDER BY t RANGE BETWEEN 1000 "
                                "PRECEDING AND CURRENT ROW)",
}


def build(execute, rows: int) -> None:
    execute("CREATE TABLE digits(n INTEGER)")
    execute("INSERT INTO digits VALUES " + ", ".join(f"({i})" for i in range(10)))
    execute("CREATE TABLE big(i BIGINT, g INTEGER, t BIGINT, x INTEGER)")
    width = len(str(rows - 1))
    parts = " + ".join(f"CAST(d{k}.n AS BIGINT) * {10 ** k}" for k in range(width))
    froms = ", ".join(f"digits AS d{k}" for k in range(width))
    execute(f"INSERT INTO big SELECT i, i % 1000, (i * 7919) % 1000003, (i * 31) % 1000 "
            f"FROM (SELECT {parts} AS i FROM {froms}) AS r WHERE i < {rows}")


def timed(run, sql: str, repeat: int) -> tuple[float, object]:
    times = []
    out = None
    for _ in range(repeat):
        start = time.perf_counter()
        out = run(sql)
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    db = sochdb.Database.open(":memory:")
    con = duckdb.connect()
    con.execute("SET threads = 2")
    start = time.perf_counter()
    build(db.execute_sql, args.rows)
    print(f"sochdb load: {time.perf_counter() - start:.1f}s")
    build(con.execute, args.rows)

    def run_soch(sql: str):
        return db.execute_sql(sql).fetchall()[0]

    def run_duck(sql: str):
        return con.execute(sql).fetchall()[0]

    print(f"{args.rows:,} rows, median of {args.repeat}\n")
    print("| query | sochdb s | DuckDB s | ratio |")
    print("|---|---:|---:|---:|")
    for label, window in QUERIES.items():
        sql = f"SELECT count(*), sum(w) FROM (SELECT {window} AS w FROM big) AS s"
        ts, a = timed(run_soch, sql, args.repeat)
        td, b = timed(run_duck, sql, args.repeat)
        same = [int(v) if v is not None else None for v in a.values()] == \
            [int(v) if v is not None else None for v in b]
        flag = "" if same else f"  MISMATCH {a} vs {b}"
        print(f"| {label} | {ts:.3f} | {td:.3f} | {ts / td:.1f}x |{flag}")


if __name__ == "__main__":
    main()
