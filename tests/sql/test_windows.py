"""Window functions: random windows checked against DuckDB, the frame kernels against brute
force, and the plan shape and error classes of sochdb.sql.windows."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sochdb import Database
from sochdb.errors import BindError, DataError, NotSupportedError, ProgrammingError
from sochdb.sql.operators import window as W

duckdb = pytest.importorskip("duckdb")

# ----------------------------------------------------------------------------- against DuckDB

ROWS = st.lists(st.tuples(st.one_of(st.none(), st.integers(0, 2)),        # p
                          st.one_of(st.none(), st.integers(0, 4)),        # o
                          st.one_of(st.none(), st.integers(-20, 20)),     # v
                          st.one_of(st.none(), st.sampled_from([-1.5, 0.0, 0.25, 2.0, 7.5]))),
                min_size=0, max_size=25)

ANY_ORDER = ["rank()", "dense_rank()", "percent_rank()", "cume_dist()", "sum(v)", "count(v)",
             "count(*)", "min(v)", "max(v)", "avg(v)", "sum(f)", "max(f)", "min(f)",
             "sum(v) FILTER (WHERE v > 0)"]
TOTAL_ORDER = ["row_number()", "ntile(3)", "lag(v)", "lead(v, 2, -1)", "lag(v, 2 IGNORE NULLS)",
               "first_value(v)", "last_value(v)", "nth_value(v, 2)",
               "first_value(v IGNORE NULLS)", "last_value(f IGNORE NULLS)"]
EXCLUDES = ["", " EXCLUDE CURRENT ROW", " EXCLUDE GROUP", " EXCLUDE TIES", " EXCLUDE NO OTHERS"]


@st.composite
def windows(draw) -> str:
    total = draw(st.booleans())
    fn = draw(st.sampled_from(ANY_ORDER + (TOTAL_ORDER if total else [])))
    parts = []
    if draw(st.booleans()):
        parts.append("PARTITION BY p")
    desc = draw(st.sampled_from(["", " DESC"]))
    nulls = draw(st.sampled_from(["", " NULLS FIRST", " NULLS LAST"]))
    has_order = total or draw(st.booleans())
    if has_order:
        parts.append(f"ORDER BY o{desc}{nulls}" + (", id" if total else ""))
    if has_order and draw(st.booleans()):
        units = ["RANGE", "GROUPS"] + (["ROWS"] if total else [])
        unit = draw(st.sampled_from(units))
        offsets = unit != "RANGE" or not total
        starts = ["UNBOUNDED PRECEDING", "CURRENT ROW"]
        ends = ["CURRENT ROW", "UNBOUNDED FOLLOWING"]
        if offsets:
            bounds = [f"{draw(st.integers(0, 3))} PRECEDING",
                      f"{draw(st.integers(0, 3))} FOLLOWING"]
            starts += bounds
            ends += bounds
        rank = {"UNBOUNDED PRECEDING": 0, "CURRENT ROW": 2, "UNBOUNDED FOLLOWING": 4}

        def pos(b: str) -> int:
            return rank.get(b, 1 if "PRECEDING" in b else 3)
        start = draw(st.sampled_from(starts))
        end = draw(st.sampled_from([e for e in ends if pos(e) >= pos(start)]))
        excl = draw(st.sampled_from(EXCLUDES))
        parts.append(f"{unit} BETWEEN {start} AND {end}{excl}")
    return f"{fn} OVER ({' '.join(parts)})"


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    return a == b


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=ROWS, window=windows())
def test_random_windows_match_duckdb(rows, window) -> None:
    data = [(i, *r) for i, r in enumerate(rows)]
    create = "CREATE TABLE t(id INTEGER, p INTEGER, o INTEGER, v INTEGER, f DOUBLE)"
    sql = f"SELECT id, {window} FROM t ORDER BY id"
    duck = duckdb.connect()
    duck.execute(create)
    db = Database.open(":memory:")
    try:
        db.execute_sql(create)
        if data:
            duck.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?)", data)
            db.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?)", data)
        expected = [r[1] for r in duck.execute(sql).fetchall()]
        got = [list(r.values())[1] for r in db.execute_sql(sql).fetchall()]
    finally:
        db.close()
        duck.close()
    assert len(got) == len(expected)
    bad = [(i, g, e) for i, (g, e) in enumerate(zip(got, expected)) if not _same(g, e)]
    assert not bad, f"{sql}\nrows={data}\n(id, sochdb, duckdb): {bad}"


# ----------------------------------------------------------------------------- kernels


class _Parts:
    """A minimal stand-in for Layout: partitions of the given sizes, no peers needed."""

    def __init__(self, sizes: list[int]) -> None:
        starts = np.cumsum([0] + sizes[:-1]).astype(np.int64)
        self.n = int(sum(sizes))
        self.idx = np.arange(self.n, dtype=np.int64)
        self.part_id = np.repeat(np.arange(len(sizes)), sizes).astype(np.int64)
        self.starts = starts
        self.nparts = len(sizes)
        self.ps = starts[self.part_id]
        self.pe = (starts + np.array(sizes))[self.part_id]


@pytest.mark.parametrize("nparts", [1, 5, 200])
@pytest.mark.parametrize("kind", ["int", "float"])
def test_range_reduce_matches_brute_force(nparts: int, kind: str) -> None:
    rng = np.random.default_rng(nparts)
    sizes = [int(x) for x in rng.integers(1, 40, nparts)]
    L = _Parts(sizes)
    codes = rng.integers(-50, 50, L.n)
    codes = codes.astype(np.float64) if kind == "float" else codes.astype(np.int64)
    for op, ident in ((np.maximum, codes.dtype.type(-10 ** 6)),
                      (np.minimum, codes.dtype.type(10 ** 6))):
        # Running frames, reverse-running frames, sliding frames and empty frames.
        lens = rng.integers(0, 100, L.n)
        a = np.clip(L.idx - lens, L.ps, L.pe)
        b = np.clip(L.idx + rng.integers(-3, 100, L.n), a, L.pe)
        a = np.where(rng.random(L.n) < 0.3, L.ps, a)
        b = np.where(rng.random(L.n) < 0.3, L.pe, b)
        got = W.range_reduce(codes, a, b, L, op, ident)
        want = np.array([op.reduce(codes[x:y]) if y > x else ident for x, y in zip(a, b)])
        np.testing.assert_array_equal(got, want)


@given(st.lists(st.integers(-1000, 1000), min_size=1, max_size=300), st.data())
@settings(max_examples=60, deadline=None)
def test_segment_tree_and_sparse_table_agree(values, data) -> None:
    codes = np.array(values, dtype=np.int64)
    n = len(codes)
    a = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=50)))
    b = np.array([data.draw(st.integers(int(x) + 1, n)) for x in a])
    want = np.array([codes[x:y].min() for x, y in zip(a, b)])
    np.testing.assert_array_equal(W._sparse_query(codes, a, b, np.minimum), want)
    np.testing.assert_array_equal(W._tree_query(codes, a, b, np.minimum), want)


def test_running_scans_agree_across_strategies() -> None:
    rng = np.random.default_rng(7)
    sizes = [int(x) for x in rng.integers(1, 30, 150)]
    L = _Parts(sizes)
    v = rng.integers(0, 1000, L.n).astype(np.int64)
    ident = np.iinfo(np.int64).min
    v[rng.random(L.n) < 0.2] = ident
    for reverse in (False, True):
        vv = v[::-1] if reverse else v
        pid = L.part_id[::-1] if reverse else L.part_id
        offset = W._scan_offset(vv, pid, L.nparts, True, ident, reverse)
        doubling = W._scan_doubling(vv, L, np.maximum, reverse)
        np.testing.assert_array_equal(offset, doubling)


# ----------------------------------------------------------------------------- plans and errors


@pytest.fixture
def tdb():
    d = Database.open(":memory:")
    d.execute_sql("CREATE TABLE t(id INTEGER, g VARCHAR, x INTEGER)")
    d.execute_sql("INSERT INTO t VALUES (1, 'a', 5), (2, 'a', NULL), (3, 'b', 7), (4, NULL, 1)")
    yield d
    d.close()


def _plan(d, sql: str) -> list[str]:
    return [r["plan"] for r in d.execute_sql("EXPLAIN " + sql).fetchall()]


def test_windows_sharing_partition_and_order_sort_once(tdb) -> None:
    plan = _plan(tdb, "SELECT sum(x) OVER (PARTITION BY g ORDER BY id), "
                      "rank() OVER (PARTITION BY g ORDER BY id), "
                      "row_number() OVER (ORDER BY x) FROM t")
    window = [line for line in plan if "Window" in line]
    assert len(window) == 1
    assert window[0].count("OVER") == 2  # two groups: (g, id) and (x)


def test_window_results_keep_types(tdb) -> None:
    res = tdb.execute_sql("SELECT row_number() OVER () AS a, percent_rank() OVER () AS b, "
                          "sum(x) OVER () AS c, avg(x) OVER () AS d, lag(g) OVER () AS e "
                          "FROM t LIMIT 1").arrow()
    assert [str(f.type) for f in res.schema] == ["int64", "double", "int64", "double", "string"]


@pytest.mark.parametrize("sql, error", [
    ("SELECT id FROM t WHERE rank() OVER (ORDER BY id) = 1", ProgrammingError),
    ("SELECT sum(rank() OVER (ORDER BY id)) OVER () FROM t", ProgrammingError),
    ("SELECT sum(id) OVER w FROM t", BindError),
    ("SELECT sum(id) OVER (ORDER BY id, x RANGE 1 PRECEDING) FROM t", BindError),
    ("SELECT sum(id) OVER (ORDER BY g RANGE 1 PRECEDING) FROM t", NotSupportedError),
    ("SELECT sum(id) OVER (ORDER BY id ROWS BETWEEN x PRECEDING AND CURRENT ROW) FROM t",
     DataError),
    ("SELECT ntile(0) OVER () FROM t", DataError),
    ("SELECT string_agg(g, ',') OVER (ORDER BY id) FROM t", NotSupportedError),
    ("SELECT upper(g) OVER () FROM t", BindError),
    (("SELECT count(*) OVER (ORDER BY DATE '2024-01-01' + id "
      "RANGE INTERVAL 1 MONTH PRECEDING) FROM t"), NotSupportedError),
    ("SELECT count(*) OVER (ORDER BY id RANGE INTERVAL 1 DAY PRECEDING) FROM t",
     NotSupportedError),
])
def test_errors_are_typed(tdb, sql: str, error: type) -> None:
    with pytest.raises(error):
        tdb.execute_sql(sql)
