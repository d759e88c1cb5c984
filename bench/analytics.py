"""Analytics benchmark: sochdb against DuckDB, polars and sqlite3 on the same data, in one run.

    python bench/analytics.py [--rows 10000000] [--sf 1] [--repeat 5] [--sqlite-rows 1000000]
                              [--only A1,Q6] [--skip-tpch] [--skip-memory] [--json out.json]

Workloads, on ``--rows`` rows of t(id int64, grp int32 0..999, k int32 0..99, val float64,
s 5-valued string) and dim(grp, name):
  A1 GROUP BY grp with COUNT/SUM/AVG/MIN/MAX;  A2 filtered COUNT/SUM;
  A3 t JOIN dim GROUP BY name ORDER BY 2 DESC LIMIT 10;  A4 ORDER BY val DESC LIMIT 100;
and TPC-H Q1, Q3, Q5, Q6, Q10 at scale factor ``--sf`` generated with ``tpchgen-cli`` (DECIMAL
columns are loaded as DOUBLE for every system, see TPCH_NOTE).

Systems: sochdb on a persistent database reopened from disk (cached after the first run),
sochdb on the same data registered from memory (``db.register``), DuckDB on native tables
and on the Arrow tables, polars (SQLContext over the same Arrow data), and sqlite3 on the
first ``--sqlite-rows`` rows (A1-A4 only; the time is also given per row). Every result is
checked against DuckDB's. Times are medians of ``--repeat`` runs after one warm-up; ratios
are time / DuckDB-native time (lower is better).

Also measured: bulk load of the rows from Arrow into a persistent database (target >= 5M
rows/s), peak memory of A1 on the persisted data in a fresh process via /usr/bin/time -v
(target < 2x the data's in-memory size), and the persisted / registered time ratio once
cached (target <= 1.2x).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402

from sochdb import Database  # noqa: E402

A_QUERIES = {
    "A1": "SELECT grp, COUNT(*), SUM(val), AVG(val), MIN(val), MAX(val) FROM t GROUP BY grp",
    "A2": "SELECT COUNT(*), SUM(val) FROM t WHERE k < 10 AND val > 0.5",
    "A3": ("SELECT name, SUM(val) FROM t JOIN dim ON t.grp = dim.grp "
           "GROUP BY name ORDER BY 2 DESC LIMIT 10"),
    "A4": "SELECT id, val FROM t ORDER BY val DESC LIMIT 100",
}
ORDERED = {"A3", "A4", "Q1", "Q3", "Q5", "Q10"}

TPCH_NOTE = ("TPC-H data from tpchgen-cli; DECIMAL(15,2) columns are cast to DOUBLE for all "
             "systems, and Q6 is written with its folded constants (BETWEEN 0.05 AND 0.07) "
             "because sochdb types 0.06 + 0.01 as DOUBLE (0.06999...), not DECIMAL.")
TPCH = {
    "Q1": """SELECT l_returnflag, l_linestatus, SUM(l_quantity) AS sum_qty,
  SUM(l_extendedprice) AS sum_base_price,
  SUM(l_extendedprice * (1 - l_discount)) AS sum_disc_price,
  SUM(l_extendedprice * (1 - l_discount) * (1 + l_tax)) AS sum_charge,
  AVG(l_quantity) AS avg_qty, AVG(l_extendedprice) AS avg_price, AVG(l_discount) AS avg_disc,
  COUNT(*) AS count_order
FROM lineitem WHERE l_shipdate <= DATE '1998-12-01' - INTERVAL '90' DAY
GROUP BY l_returnflag, l_linestatus ORDER BY l_returnflag, l_linestatus""",
    "Q3": """SELECT l_orderkey, SUM(l_extendedprice * (1 - l_discount)) AS revenue, o_orderdate,
  o_shippriority
FROM customer, orders, lineitem
WHERE c_mktsegment = 'BUILDING' AND c_custkey = o_custkey AND l_orderkey = o_orderkey
  AND o_orderdate < DATE '1995-03-15' AND l_shipdate > DATE '1995-03-15'
GROUP BY l_orderkey, o_orderdate, o_shippriority
ORDER BY revenue DESC, o_orderdate LIMIT 10""",
    "Q5": """SELECT n_name, SUM(l_extendedprice * (1 - l_discount)) AS revenue
FROM customer, orders, lineitem, supplier, nation, region
WHERE c_custkey = o_custkey AND l_orderkey = o_orderkey AND l_suppkey = s_suppkey
  AND c_nationkey = s_nationkey AND s_nationkey = n_nationkey AND n_regionkey = r_regionkey
  AND r_name = 'ASIA' AND o_orderdate >= DATE '1994-01-01'
  AND o_orderdate < DATE '1994-01-01' + INTERVAL '1' YEAR
GROUP BY n_name ORDER BY revenue DESC""",
    "Q6": """SELECT SUM(l_extendedprice * l_discount) AS revenue FROM lineitem
WHERE l_shipdate >= DATE '1994-01-01' AND l_shipdate < DATE '1994-01-01' + INTERVAL '1' YEAR
  AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24""",
    "Q10": """SELECT c_custkey, c_name, SUM(l_extendedprice * (1 - l_discount)) AS revenue,
  c_acctbal, n_name, c_address, c_phone, c_comment
FROM customer, orders, lineitem, nation
WHERE c_custkey = o_custkey AND l_orderkey = o_orderkey AND o_orderdate >= DATE '1993-10-01'
  AND o_orderdate < DATE '1993-10-01' + INTERVAL '3' MONTH AND l_returnflag = 'R'
  AND c_nationkey = n_nationkey
GROUP BY c_custkey, c_name, c_acctbal, c_phone, n_name, c_address, c_comment
ORDER BY revenue DESC LIMIT 20""",
}
TPCH_TABLES = ("lineitem", "orders", "customer", "supplier", "nation", "region")


# -- data ------------------------------------------------------------------------------

def synthetic(n: int, seed: int = 42) -> dict[str, pa.Table]:
    rng = np.random.default_rng(seed)
    words = np.array(["alpha", "beta", "gamma", "delta", "epsilon"])
    t = pa.table({
        "id": np.arange(n, dtype=np.int64),
        "grp": rng.integers(0, 1000, n, dtype=np.int32),
        "k": rng.integers(0, 100, n, dtype=np.int32),
        "val": rng.random(n),
        "s": pa.array(words[rng.integers(0, 5, n)]),
    })
    dim = pa.table({"grp": np.arange(1000, dtype=np.int32),
                    "name": [f"name{i % 37:02d}" for i in range(1000)]})
    return {"t": t, "dim": dim}


def tpch(sf: float, workdir: str) -> dict[str, pa.Table]:
    import pyarrow.parquet as pq
    out = os.path.join(workdir, f"tpch-sf{sf}")
    if not os.path.exists(os.path.join(out, "lineitem.parquet")):
        os.makedirs(out, exist_ok=True)
        exe = shutil.which("tpchgen-cli") or os.path.join(os.path.dirname(sys.executable),
                                                          "tpchgen-cli")
        subprocess.run([exe, "parquet", "-s", str(sf), "--output-dir", out], check=True)
    tables = {}
    for name in TPCH_TABLES:
        t = pq.read_table(os.path.join(out, f"{name}.parquet"))
        cols = []
        for c in t.columns:
            if pa.types.is_string_view(c.type):
                c = c.cast(pa.string())
            elif pa.types.is_decimal(c.type):
                c = c.cast(pa.float64())
            cols.append(c)
        tables[name] = pa.table(cols, names=t.schema.names)
    return tables


# -- systems ---------------------------------------------------------------------------

def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    out = fn()  # warm-up (and the result that is checked)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def rows_of(result: Any) -> list[tuple]:
    if isinstance(result, list):
        return [tuple(r) for r in result]
    if hasattr(result, "to_arrow"):  # polars
        result = result.to_arrow()
    cols = [c.to_pylist() for c in result.columns]
    return list(zip(*cols))


def same(a: list[tuple], b: list[tuple], ordered: bool) -> bool:
    if len(a) != len(b):
        return False
    if not ordered:
        key = lambda r: tuple((x is None, str(type(x)), x) for x in r)  # noqa: E731
        a, b = sorted(a, key=key), sorted(b, key=key)
    for ra, rb in zip(a, b):
        if len(ra) != len(rb):
            return False
        for x, y in zip(ra, rb):
            if isinstance(x, float) or isinstance(y, float):
                if x is None or y is None or not math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-6):
                    return False
            elif x != y:
                return False
    return True


def run_set(name: str, queries: dict[str, str], data: dict[str, pa.Table], disk_db: Database,
            repeat: int, only: set[str] | None, sqlite_rows: int | None,
            report: dict) -> None:
    import duckdb
    import polars as pl

    duck = duckdb.connect()
    duck_arrow = duckdb.connect()
    for tname, t in data.items():
        duck.register("__src", t)
        duck.execute(f"CREATE TABLE {tname} AS SELECT * FROM __src")
        duck.unregister("__src")
        duck_arrow.register(tname, t)
    reg = Database.open(":memory:")
    for tname, t in data.items():
        reg.register(tname, t)
    ctx = pl.SQLContext({tname: pl.from_arrow(t).lazy() for tname, t in data.items()})
    lite = None
    if sqlite_rows:
        lite = sqlite3.connect(":memory:")
        for tname, t in data.items():
            part = t.slice(0, sqlite_rows)
            cols = ", ".join(part.schema.names)
            lite.execute(f"CREATE TABLE {tname} ({cols})")
            lite.executemany(f"INSERT INTO {tname} VALUES ({', '.join('?' * part.num_columns)})",
                             zip(*[c.to_pylist() for c in part.columns]))
        lite.commit()

    systems: dict[str, Callable[[str], Callable[[], Any]]] = {
        "duckdb": lambda q: lambda: duck.sql(q).to_arrow_table(),
        "duckdb-arrow": lambda q: lambda: duck_arrow.sql(q).to_arrow_table(),
        "sochdb": lambda q: lambda: disk_db.execute_sql(q).arrow(),
        "sochdb-registered": lambda q: lambda: reg.execute_sql(q).arrow(),
        "polars": lambda q: lambda: ctx.execute(q, eager=True),
    }
    if lite is not None:
        systems["sqlite3-subset"] = lambda q: lambda: lite.execute(q).fetchall()
    for qname, q in queries.items():
        if only and qname not in only:
            continue
        row: dict[str, Any] = {}
        ref = None
        for sname, make in systems.items():
            try:
                med, out = timed(make(q), repeat if sname != "sqlite3-subset" else 1)
            except Exception as e:  # noqa: BLE001 - reported, the other systems still run
                row[sname] = {"error": f"{type(e).__name__}: {str(e).splitlines()[0][:120]}"}
                continue
            entry: dict[str, Any] = {"median_s": med}
            if sname == "duckdb":
                ref = rows_of(out)
            elif sname != "sqlite3-subset" and ref is not None:
                entry["matches_duckdb"] = same(rows_of(out), ref, qname in ORDERED)
            row[sname] = entry
        if sqlite_rows and "sqlite3-subset" in row and "median_s" in row["sqlite3-subset"]:
            row["sqlite3-subset"]["ns_per_row"] = row["sqlite3-subset"]["median_s"] / \
                sqlite_rows * 1e9
        report.setdefault(name, {})[qname] = row
        base = row.get("duckdb", {}).get("median_s")
        parts = []
        for sname, e in row.items():
            if "median_s" in e:
                ratio = f" ({e['median_s'] / base:.2f}x)" if base else ""
                ok = "" if e.get("matches_duckdb", True) else " MISMATCH"
                parts.append(f"{sname} {e['median_s'] * 1000:.1f} ms{ratio}{ok}")
            else:
                parts.append(f"{sname} {e['error']}")
        print(f"{qname}: " + "; ".join(parts), flush=True)
    reg.close()


# -- load, memory ----------------------------------------------------------------------

def persist(path: str, data: dict[str, pa.Table], report: dict, key: str) -> None:
    """Load ``data`` into a new persistent database at ``path``; time the big table."""
    db = Database.open(path)
    db.execute_sql("SELECT 1")  # the one-time import of the SQL layer is not load time
    big = max(data, key=lambda n: data[n].num_rows)
    for tname, t in data.items():
        t0 = time.perf_counter()
        db.create_table_from(tname, t)
        dt = time.perf_counter() - t0
        if tname == big:
            report.setdefault("load", {})[key] = {
                "rows": t.num_rows, "seconds": dt, "rows_per_s": t.num_rows / dt}
    t0 = time.perf_counter()
    db.close()
    report["load"][key]["close_checkpoint_s"] = time.perf_counter() - t0
    r = report["load"][key]
    print(f"bulk load {key}: {r['rows']:,} rows in {r['seconds']:.2f} s = "
          f"{r['rows_per_s'] / 1e6:.2f}M rows/s (close/checkpoint {r['close_checkpoint_s']:.2f} s)",
          flush=True)


def peak_rss_kb(args: list[str]) -> int:
    proc = subprocess.run(["/usr/bin/time", "-v", sys.executable, os.path.abspath(__file__),
                           *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    for line in proc.stderr.splitlines():
        if "Maximum resident set size" in line:
            return int(line.split(":")[1])
    raise RuntimeError("no 'Maximum resident set size' in /usr/bin/time output")


def child(mode: str, path: str) -> None:
    """Run in a fresh process for /usr/bin/time: import only, or A1 on the persisted data."""
    import pyarrow.compute  # noqa: F401 - the imports A1 needs, for a fair baseline
    if mode == "a1":
        db = Database.open(path)
        db.execute_sql(A_QUERIES["A1"]).arrow()
        db.close()


# -- main ------------------------------------------------------------------------------

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--sf", type=float, default=1)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--sqlite-rows", type=int, default=1_000_000)
    ap.add_argument("--only", default="")
    ap.add_argument("--skip-tpch", action="store_true")
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--workdir", default=None, help="keeps generated TPC-H files between runs")
    ap.add_argument("--json", default=None)
    ap.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    only = {x.strip().upper() for x in args.only.split(",") if x.strip()} or None
    tmp = tempfile.mkdtemp(prefix="sochdb-analytics-")
    workdir = args.workdir or tmp
    report: dict[str, Any] = {"rows": args.rows, "sf": args.sf, "repeat": args.repeat,
                              "cores": os.cpu_count()}
    try:
        data = synthetic(args.rows)
        nbytes = sum(t.nbytes for t in data.values())
        path = os.path.join(tmp, "synthetic")
        persist(path, data, report, "synthetic")
        if not args.skip_memory:
            base = peak_rss_kb(["--child", "import", path])
            a1 = peak_rss_kb(["--child", "a1", path])
            report["memory"] = {"data_bytes": nbytes, "import_peak_kb": base,
                                "a1_peak_kb": a1, "a1_peak_over_data": a1 * 1024 / nbytes}
            print(f"peak RSS of A1 on persisted data: {a1 / 1024:.0f} MiB "
                  f"({a1 * 1024 / nbytes:.2f}x the data's {nbytes / 2**20:.0f} MiB in memory; "
                  f"python + imports alone: {base / 1024:.0f} MiB)", flush=True)
        db = Database.open(path)
        run_set("synthetic", A_QUERIES, data, db, args.repeat, only, args.sqlite_rows, report)
        db.close()
        del data
        if not args.skip_tpch:
            print(TPCH_NOTE, flush=True)
            tdata = tpch(args.sf, workdir)
            tpath = os.path.join(tmp, "tpch")
            persist(tpath, tdata, report, "tpch")
            db = Database.open(tpath)
            run_set("tpch", TPCH, tdata, db, args.repeat, only, None, report)
            db.close()
        summarize(report)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(report, f, indent=1)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def summarize(report: dict) -> None:
    print("\n| query | sochdb (disk) ms | registered ms | DuckDB ms | DuckDB-arrow ms | polars ms "
          "| sochdb/DuckDB | disk/registered |")
    print("|---|---|---|---|---|---|---|---|")
    ratios = []
    for group in ("synthetic", "tpch"):
        for q, row in report.get(group, {}).items():
            def ms(s: str) -> str:
                e = row.get(s, {})
                if "median_s" not in e:
                    return "error" if e else "-"
                return f"{e['median_s'] * 1000:.1f}" + ("" if e.get("matches_duckdb", True)
                                                         else " (wrong)")
            s, d = row.get("sochdb", {}).get("median_s"), row.get("duckdb", {}).get("median_s")
            r = row.get("sochdb-registered", {}).get("median_s")
            ratio = s / d if s and d else None
            if ratio:
                ratios.append(ratio)
            print(f"| {q} | {ms('sochdb')} | {ms('sochdb-registered')} | {ms('duckdb')} | "
                  f"{ms('duckdb-arrow')} | {ms('polars')} | "
                  f"{f'{ratio:.2f}x' if ratio else '-'} | {f'{s / r:.2f}x' if s and r else '-'} |")
    if ratios:
        geo = math.exp(sum(math.log(x) for x in ratios) / len(ratios))
        report["geomean_vs_duckdb"] = geo
        print(f"\ngeometric mean sochdb/DuckDB over {len(ratios)} queries: {geo:.2f}x")


if __name__ == "__main__":
    main()
