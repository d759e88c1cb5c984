"""Tests of the sqllogictest runner: parsing both dialects, value rendering and comparison,
the runner's judgement of records, and end-to-end runs of upstream files on sqlite3."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import math
import re
import sqlite3
import threading
import time
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sochdb.errors import BindError, ParseError
from sochdb.testing import (
    Output, SqliteAdapter, collect_records, detect_dialect, iter_results, parse_text, run_file,
    run_paths,
)
from sochdb.testing.sqllogic import main, run_script
from sochdb.testing.sqllogic_adapters import arrow_kind
from sochdb.testing.sqllogic_format import (
    duckdb_equal, duckdb_value, error_matches, interval_text, lines_hash, result_hash,
    sort_values, sqlite_real_text, sqlite_value,
)
from sochdb.testing.sqllogic_parse import Command, Loop, Query, Script, Statement, is_hash_line

UPSTREAM = Path(__file__).resolve().parents[2] / "sql_tests" / "upstream"


def script(text: str, dialect: str) -> Script:
    return Script("t.test", dialect, parse_text(text, dialect, "t.test"))


# --------------------------------------------------------------------------- parsing

SQLITE_TEXT = """hash-threshold 8

statement ok
CREATE TABLE t1(a INTEGER,
# a comment inside a record is dropped and does not end it
 b INTEGER)

skipif mysql # a trailing comment is ignored
onlyif sqlite
query IT rowsort label-7
SELECT a, b
FROM t1
----
1
x

query I nosort
SELECT 1 WHERE 0

statement error
SELECT nope
"""


def test_sqlite_records_conditions_and_comments() -> None:
    recs = parse_text(SQLITE_TEXT, "sqlite")
    assert [type(r) for r in recs] == [Command, Statement, Query, Query, Statement]
    assert recs[0] == Command(1, "hash-threshold", ("8",))
    assert recs[1].sql == "CREATE TABLE t1(a INTEGER,\n b INTEGER)"
    q = recs[2]
    assert (q.line, q.types, q.sort, q.label) == (10, "IT", "rowsort", "label-7")
    assert q.conditions == (("skipif", "mysql"), ("onlyif", "sqlite"))
    assert q.sql == "SELECT a, b\nFROM t1" and q.expected == ("1", "x")
    assert recs[3].expected == () and recs[3].sort == "nosort"
    assert recs[4].expect == "error" and recs[4].error is None


def test_crlf_and_blank_whitespace_lines_parse_like_lf() -> None:
    crlf = SQLITE_TEXT.replace("\n", "\r\n")
    crlf = crlf.replace("\r\n\r\nquery I nosort", "\r\n  \t\r\nquery I nosort")
    assert parse_text(crlf, "sqlite") == parse_text(SQLITE_TEXT, "sqlite")
    duck = "statement ok\r\nSELECT 1;\r\n\r\nquery I\r\nSELECT 1\r\n----\r\n1\r\n"
    recs = parse_text(duck, "duckdb")
    assert recs[0].sql == "SELECT 1;" and recs[1].expected == ("1",)


DUCKDB_TEXT = """# name: test/sql/x.test
# description: example
# group: [x]

statement ok
CREATE TABLE t(i INTEGER);

statement error
SELECT * FROM nope
----
Catalog Error: Table with name nope

statement error
SELECT 1/
----

statement error con1
SELECT x
# a comment ends the SQL text in DuckDB files

query II sort
SELECT 1, 'a'
----
1\ta

query I con2 label-1
SELECT 1
----
1

mode skip

require json
"""


def test_duckdb_records_messages_connections_and_comments() -> None:
    recs = parse_text(DUCKDB_TEXT, "duckdb")
    kinds = [type(r).__name__ for r in recs]
    assert kinds == ["Statement", "Statement", "Statement", "Statement", "Query", "Query",
                     "Command", "Command"]
    assert recs[1].error == "Catalog Error: Table with name nope"
    assert recs[2].error == ""  # an empty block accepts any error
    assert recs[3].connection == "con1" and recs[3].sql == "SELECT x" and recs[3].error is None
    assert recs[4].sort == "rowsort" and recs[4].expected == ("1\ta",)
    assert (recs[5].connection, recs[5].label, recs[5].sort) == ("con2", "label-1", "nosort")
    assert recs[6].name == "mode" and recs[7].args == ("json",)


def test_duckdb_single_line_command_needs_blank_line() -> None:
    with pytest.raises(ParseError, match=r"t.test:1: 'require' must be followed"):
        parse_text("require json\nstatement ok\nSELECT 1\n", "duckdb", "t.test")


@pytest.mark.parametrize("dialect, text, message", [
    ("duckdb", "query IX\nSELECT 1\n", "unknown type character 'X'"),
    ("sqlite", "statement ok\n", "statement without SQL"),
    ("duckdb", "endloop\n", "endloop without a loop"),
    ("sqlite", "query I label-1\nSELECT 1\n", "unknown sort mode 'label-1'"),
    ("duckdb", "statement ok\nSELECT 1\n# comment\n----\n", "'----' outside a statement"),
    ("duckdb", "loop i 0 3\n\nstatement ok\nSELECT 1\n", "loop without endloop"),
])
def test_parse_errors_name_file_and_line(dialect: str, text: str, message: str) -> None:
    with pytest.raises(ParseError, match=re.escape(message)) as info:
        parse_text(text, dialect, "bad.test")
    assert str(info.value).startswith("bad.test:")


def test_loops_nest_and_expand_macros() -> None:
    text = ("loop i 0 3\n\nforeach t <signed> double\n\nstatement ok\nSELECT ${i}::{t}\n\n"
            "endloop\n\nendloop\n")
    (outer,) = parse_text(text, "duckdb")
    assert isinstance(outer, Loop) and outer.values == ("0", "1", "2")
    (inner,) = outer.body
    assert inner.values == ("tinyint", "smallint", "integer", "bigint", "hugeint", "double")
    assert isinstance(inner.body[0], Statement)


def test_hash_line_and_dialect_detection(tmp_path: Path) -> None:
    assert is_hash_line("30 values hashing to 3c13dee48d9356ae19af2515e05e6b54")
    assert not is_hash_line("30 values hashing to xyz")
    assert detect_dialect("a/sqlite/select1.test", "statement ok\n") == "sqlite"
    assert detect_dialect("a/duckdb/x.test", "hash-threshold 8\n") == "duckdb"
    assert detect_dialect("x.test", "# name: test/sql/x.test\n") == "duckdb"
    assert detect_dialect("x.test", "hash-threshold 8\n\nstatement ok\n") == "sqlite"


# --------------------------------------------------------------------------- SQLite rendering

@pytest.mark.parametrize("value, letter, text", [
    (None, "I", "NULL"), (None, "T", "NULL"), (None, "R", "NULL"),
    (12.5, "I", "12"), (-12.5, "I", "-12"), (7, "I", "7"), (True, "I", "1"),
    ("12abc", "I", "12"), ("  -3x", "I", "-3"), ("abc", "I", "0"), ("1.9", "I", "1"),
    (2 ** 31, "I", "-2147483648"), (2 ** 32 + 5, "I", "5"),   # sqlite3_column_int keeps 32 bits
    (3, "R", "3.000"), (0.0625, "R", "0.063"), (-0.0, "R", "0.000"), ("2.5x", "R", "2.500"),
    ("", "T", "(empty)"), ("a\tb", "T", "a@b"), ("é", "T", "@@"), (12, "T", "12"),
    (1.0, "T", "1.0"), (1e20, "T", "1.0e+20"), (b"a\x01", "T", "a@"), ("a\0b", "T", "a"),
    (decimal.Decimal("2.50"), "T", "2.5"), (False, "T", "0"),
])
def test_sqlite_value(value: object, letter: str, text: str) -> None:
    assert sqlite_value(value, letter) == text


_SQLITE = sqlite3.connect(":memory:", check_same_thread=False)


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_real_rendering_matches_sqlite(value: float) -> None:
    text, fixed = _SQLITE.execute("SELECT CAST(? AS TEXT), printf('%.3f', ?)",
                                  (value, value)).fetchone()
    assert sqlite_real_text(value) == text
    assert sqlite_value(value, "R") == fixed


# --------------------------------------------------------------------------- DuckDB rendering

@pytest.mark.parametrize("value, text", [
    (None, "NULL"), (True, "1"), (False, "0"), (42, "42"), (0.1, "0.1"), (1e20, "1e+20"),
    (100.0, "100.0"), (float("inf"), "inf"), (float("-inf"), "-inf"), (float("nan"), "nan"),
    (decimal.Decimal("12.50"), "12.50"), (decimal.Decimal("1E-7"), "0.0000001"),
    ("", "(empty)"), ("a\0b", "a\\0b"), ("tab\there", "tab\there"),
    (dt.date(1993, 8, 14), "1993-08-14"),
    (dt.datetime(1992, 1, 1, 1, 1, 1), "1992-01-01 01:01:01"),
    (dt.datetime(1992, 1, 1, 1, 1, 1, 500000), "1992-01-01 01:01:01.5"),
    (dt.datetime(2020, 1, 1, 10, tzinfo=dt.timezone.utc), "2020-01-01 10:00:00+00"),
    (dt.time(12, 0), "12:00:00"), (dt.time(0, 0, 0, 10), "00:00:00.00001"),
    (dt.timedelta(days=1, hours=2), "1 day 02:00:00"), (dt.timedelta(0), "00:00:00"),
    (b"a\x00\xff", "a\\x00\\xFF"),
])
def test_duckdb_value(value: object, text: str) -> None:
    assert duckdb_value(value, "text") == text


@pytest.mark.parametrize("months, days, micros, text", [
    (14, 3, 4 * 3_600_000_000, "1 year 2 months 3 days 04:00:00"),
    (1, 0, 0, "1 month"), (-12, 0, 0, "-1 year"),
    (-37, 0, -1, "-3 years -1 month -00:00:00.000001"),
    (0, -1, 7_200_000_000, "-1 day 02:00:00"), (0, 0, 90_000_000_000, "25:00:00"),
])
def test_interval_text(months: int, days: int, micros: int, text: str) -> None:
    assert interval_text(months, days, micros) == text


def test_month_day_nano_values_render_as_intervals() -> None:
    value = pa.array([pa.MonthDayNano([14, 3, 1_500_000_000])],
                     pa.month_day_nano_interval()).to_pylist()[0]
    assert duckdb_value(value, "interval") == "1 year 2 months 3 days 00:00:01.5"


@pytest.mark.parametrize("actual, expected, kind, equal", [
    ("36", "36.000000", "integer", True), ("37", "36.5", "integer", True),
    ("36", "36.5", "integer", False), ("3.3333333333333335", "3.3333", "float", True),
    ("101.0", "100", "float", True), ("102.0", "100", "float", False),
    ("nan", "nan", "float", True), ("inf", "1e308", "float", False),
    ("12.50", "12.5", "decimal", True), ("12.50", "12.51", "decimal", False),
    ("1", "true", "boolean", True), ("0", "FALSE", "boolean", True), ("1", "0", "boolean", False),
    ("NULL", "0", "integer", False), ("abc", "ABC", "text", False),
    ("1993-08-14", "1993-08-14", "date", True), ("hello world", "<REGEX>:hel+o.*", "text", True),
    ("hello", "<!REGEX>:hel+o", "text", False), ("x", "1", "integer", False),
])
def test_duckdb_equal(actual: str, expected: str, kind: str, equal: bool) -> None:
    assert duckdb_equal(actual, expected, kind) is equal


def test_error_matches() -> None:
    message = 'Catalog Error: Table with name b does not exist!\nDid you mean "a"?'
    assert error_matches("", message)
    assert error_matches("does not exist", message)
    assert error_matches("<REGEX>:.*Catalog Error.*does not exist.*", message)
    assert not error_matches("<REGEX>:Binder Error.*", message)
    assert error_matches("<!REGEX>:.*Binder Error.*", message)
    assert not error_matches("Binder Error", message)


def test_sorting_and_hashing() -> None:
    assert sort_values(["9", "b", "10", "a"], 2, "rowsort") == ["10", "a", "9", "b"]
    assert sort_values(["9", "b", "10", "a"], 2, "valuesort") == ["10", "9", "a", "b"]
    assert sort_values(["9", "10"], 1, "nosort") == ["9", "10"]
    assert result_hash(["1", "2"]) == hashlib.md5(b"1\n2\n").hexdigest()
    assert lines_hash(["3 values hashing to " + "a" * 32]) == "a" * 32
    assert lines_hash(["1", "2"]) == result_hash(["1", "2"])


def test_arrow_results_map_to_kinds_and_values() -> None:
    table = pa.table({
        "i": pa.array([1, None], pa.int32()), "f": pa.array([0.1, 2.0], pa.float32()),
        "d": pa.array([decimal.Decimal("1.5"), None], pa.decimal128(5, 2)),
        "b": [True, False], "s": ["", "x"], "dt": pa.array([0, 1], pa.date32()),
        "ts": pa.array([1_500_000_000, 0], pa.timestamp("ns")),
        "iv": pa.array([pa.MonthDayNano([1, 0, 0])] * 2, pa.month_day_nano_interval()),
        "bl": pa.array([b"\x01", b""], pa.binary()), "n": pa.nulls(2),
        "dict": pa.array(["a", "b"]).dictionary_encode(),
    })
    out = Output.from_arrow(table)
    assert out.kinds == ["integer", "float", "decimal", "boolean", "text", "date", "timestamp",
                         "interval", "blob", "null", "text"]
    rendered = [duckdb_value(v, k) for v, k in zip(out.rows[0], out.kinds)]
    assert rendered == ["1", "0.1", "1.50", "1", "(empty)", "1970-01-01", "1970-01-01 00:00:01.5",
                        "1 month", "\\x01", "NULL", "a"]
    assert arrow_kind(pa.time64("us")) == "time" and arrow_kind(pa.large_string()) == "text"


# --------------------------------------------------------------------------- the runner

class FakeConnection:
    """Answers from a table of canned outputs; an Exception value is raised."""

    def __init__(self, answers: dict[str, object], log: list[str]) -> None:
        self.answers, self.log = answers, log
        self.interrupted = threading.Event()

    def execute(self, sql: str) -> Output | None:
        self.log.append(sql)
        answer = self.answers.get(sql, Output([], [], []))
        if answer == "sleep":
            self.interrupted.wait(5)
            raise RuntimeError("interrupted")
        if isinstance(answer, BaseException):
            raise answer
        return answer  # type: ignore[return-value]

    def interrupt(self) -> None:
        self.interrupted.set()

    def close(self) -> None:
        pass


class FakeEngine:
    name = "fake"
    error_types = (RuntimeError,)
    internal_error_types = (AssertionError,)

    def __init__(self, answers: dict[str, object]) -> None:
        self.answers, self.log = answers, []

    def connect(self) -> FakeConnection:
        return FakeConnection(self.answers, self.log)


def statuses(result) -> list[tuple[int, str]]:
    return [(r.line, r.status) for r in result.records]


SQLITE_RUN = """statement ok
CREATE TABLE t(a INTEGER, b TEXT)

statement ok
INSERT INTO t VALUES (10, 'x'), (9, ''), (NULL, 'y')

query IT rowsort
SELECT a, b FROM t
----
10
x
9
(empty)
NULL
y

query I valuesort
SELECT a FROM t
----
10
9
NULL

hash-threshold 2

query IT rowsort label-1
SELECT a, b FROM t
----
6 values hashing to {digest}

onlyif mysql
query IT rowsort label-2
SELECT a, b FROM t WHERE a > 9
----
10
x

query IT rowsort label-2
SELECT a, b FROM t WHERE a > 9
----
10
x

skipif sqlite
query I
SELECT this is not sql
----
1

statement error
SELECT * FROM missing

onlyif sqlite
halt

query I
SELECT 1
----
1
"""


def test_sqlite_dialect_end_to_end() -> None:
    digest = result_hash(sorted_rows := ["10", "x", "9", "(empty)", "NULL", "y"])
    assert sorted_rows  # rowsort order: "10" < "9" < "NULL" byte-wise
    text = SQLITE_RUN.format(digest=digest)
    res = run_script(script(text, "sqlite"), SqliteAdapter())
    assert statuses(res) == [(1, "passed"), (4, "passed"), (7, "passed"), (17, "passed"),
                             (26, "passed"), (32, "skipped"), (38, "passed"), (45, "skipped"),
                             (50, "passed"), (56, "skipped")]
    assert res.records[5].reason == "onlyif mysql"
    assert res.records[-1].reason == "after halt (line 54)"
    assert (res.passed, res.failed, res.skipped) == (7, 0, 3)


def test_sqlite_dialect_reports_wrong_results() -> None:
    text = ("statement ok\nCREATE TABLE t(a)\n\nstatement ok\nINSERT INTO t VALUES(1)\n\n"
            "query I\nSELECT a FROM t\n----\n2\n\n"
            "query II\nSELECT a FROM t\n----\n1\n1\n\n"
            "query I\nSELECT a FROM t\n----\n1\n1\n\n"
            "query I\nSELECT nope FROM t\n----\n1\n\n"
            "statement ok\nSELECT nope\n\n"
            "statement error\nSELECT 1\n\n"
            "query I nosort label-9\nSELECT 1\n----\n1\n\n"
            "query I nosort label-9\nSELECT 2\n----\n2\n\n"
            "query I\nSELECT a FROM t\n----\n"
            "1 values hashing to b026324c6904b2a9cb4b88d6d61c81d1\n")
    res = run_script(script(text, "sqlite"), SqliteAdapter())
    reasons = [r.reason for r in res.records[2:]]
    assert reasons[0].startswith("wrong value at row 1, column 1: expected '2', got '1'")
    assert reasons[1] == "wrong number of result columns: expected 2, got 1"
    assert reasons[2].startswith("expected 2 values, got 1")
    assert reasons[3].startswith("query failed: no such column: nope")
    assert reasons[4].startswith("unexpected error: no such column: nope")
    assert reasons[5] == "statement succeeded, but an error was expected"
    assert reasons[6] == ""
    assert reasons[7] == "result disagrees with an earlier query labelled label-9"
    assert reasons[8] == ""  # md5("1\n") is b026324c...
    assert res.failed == 7


def test_skipped_labelled_query_still_records_its_expected_hash() -> None:
    text = ("onlyif mysql\nquery I nosort label-3\nSELECT 1\n----\n5\n\n"
            "query I nosort label-3\nSELECT 1\n----\n1\n")
    res = run_script(script(text, "sqlite"), SqliteAdapter())
    assert statuses(res) == [(2, "skipped"), (7, "failed")]
    assert "label-3" in res.records[1].reason


DUCKDB_RUN = """statement ok
SET default_null_order='nulls_first';

query IRT
SELECT 1
----
1\t36.000000\t(empty)
NULL\t3.3333\tx

query TI
SELECT 2
----
true
1
false
NULL

query I
DELETE FROM t
----
3

statement error
SELECT boom
----
<REGEX>:.*Binder Error.*

statement error
SELECT other
----
Catalog Error

statement error
SELECT bug
----

query I
SELECT 3
----
2
"""


def test_duckdb_dialect_comparison_rules() -> None:
    answers = {
        "SELECT 1": Output(["a", "b", "c"], ["integer", "float", "text"],
                           [(1, 36.0, ""), (None, 3.3333333333333335, "x")]),
        "SELECT 2": Output(["b", "i"], ["boolean", "integer"], [(True, 1), (False, None)]),
        "DELETE FROM t": Output([], [], [], rowcount=3),
        "SELECT boom": RuntimeError("Binder Error: column boom not found"),
        "SELECT other": RuntimeError("Parser Error: syntax error"),
        "SELECT bug": AssertionError("engine bug"),
        "SELECT 3": Output(["x"], ["integer"], [(3,)]),
    }
    engine = FakeEngine(answers)
    res = run_script(script(DUCKDB_RUN, "duckdb"), engine)
    assert statuses(res) == [(1, "passed"), (4, "passed"), (10, "passed"), (18, "passed"),
                             (23, "passed"), (28, "passed"), (33, "failed"), (37, "failed")]
    assert [r.message_matched for r in res.records[4:6]] == [True, False]
    assert (res.messages_checked, res.messages_matched) == (2, 1)
    assert res.records[6].reason.startswith("internal error AssertionError")
    assert "expected '2', got '3'" in res.records[7].reason


def test_duckdb_control_records() -> None:
    text = ("statement ok\nA\n\nmode skip\n\nstatement ok\nB\n\nmode unskip\n\n"
            "skipif duckdb\nstatement ok\nC\n\nstatement ok con1\nD\n\n"
            "loop i 0 2\n\nquery I\nSELECT ${i}\n----\n{i}\n\nendloop\n\n"
            "require json\n\nstatement ok\nE\n")
    engine = FakeEngine({"SELECT 0": Output(["x"], ["integer"], [(0,)]),
                         "SELECT 1": Output(["x"], ["integer"], [(1,)])})
    res = run_script(script(text, "duckdb"), engine)
    assert [(r.line, r.status, r.reason, r.loop) for r in res.records] == [
        (1, "passed", "", ""), (6, "skipped", "mode skip", ""),
        (12, "skipped", "skipif duckdb", ""),
        (15, "skipped", "engine fake has no named connections", ""),
        (20, "passed", "", "i=0"), (20, "passed", "", "i=1"),
        (29, "skipped", "require json (line 27)", "")]
    assert engine.log == ["A", "SELECT 0", "SELECT 1"]
    assert res.notes == ["require json (line 27)"]
    assert res.records[4].location == "t.test:20[i=0]"
    # naming our engine differently changes what skipif matches
    res = run_script(script(text, "duckdb"), FakeEngine({}), engine_names=["sochdb"])
    assert res.records[2].status == "passed"


def test_ignored_error_messages_end_the_file() -> None:
    text = ("set ignore_error_messages HTTP Error, timeout\n\n"
            "statement error\nA\n\nstatement ok\nA\n\nstatement ok\nB\n")
    res = run_script(script(text, "duckdb"), FakeEngine({"A": RuntimeError("HTTP Error 500")}))
    assert statuses(res) == [(3, "passed"), (6, "skipped"), (9, "skipped")]
    assert res.records[1].reason == "error message ignored by the file: 'HTTP Error'"


def test_restart_without_support_skips_the_rest() -> None:
    text = "statement ok\nA\n\nrestart\n\nstatement ok\nB\n"
    res = run_script(script(text, "duckdb"), FakeEngine({}))
    assert statuses(res) == [(1, "passed"), (6, "skipped")]
    assert res.notes == ["restart is not supported by engine fake (line 4)"]


def test_timeout_interrupts_and_fails_the_statement() -> None:
    text = "statement ok\nslow\n\nstatement ok\nfast\n"
    start = time.perf_counter()
    res = run_script(script(text, "duckdb"), FakeEngine({"slow": "sleep"}), timeout=0.2)
    assert time.perf_counter() - start < 4
    assert statuses(res) == [(1, "failed"), (4, "passed")]
    assert res.records[0].reason.startswith("timed out: over the 0.2 s per-query limit")
    assert res.records[0].seconds >= 0.2


def test_timeout_interrupts_a_real_sqlite_query() -> None:
    text = ("query I\nWITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)"
            " SELECT count(*) FROM c\n----\n1\n\nquery I\nSELECT 1\n----\n1\n")
    res = run_script(script(text, "sqlite"), SqliteAdapter(), timeout=0.3)
    assert statuses(res) == [(1, "failed"), (6, "passed")]
    assert res.records[0].reason.startswith("timed out") and res.records[0].seconds < 3


def test_sqlite_adapter_outputs() -> None:
    conn = SqliteAdapter().connect()
    try:
        assert conn.execute("CREATE TABLE t(a, b)").columns == []
        assert conn.execute("INSERT INTO t VALUES (1, 'x'), (NULL, 2.5)").rowcount == 2
        out = conn.execute("SELECT a, b, NULL AS n FROM t")
        assert out.columns == ["a", "b", "n"] and out.kinds == ["integer", "text", "null"]
        assert out.rows == [(1, "x", None), (None, 2.5, None)]
    finally:
        conn.close()


class FakeResult:
    def __init__(self, table: pa.Table | None, rowcount: int = -1) -> None:
        self.table, self.rowcount = table, rowcount
        self.columns = table.column_names if table is not None else []

    def arrow(self) -> pa.Table:
        return self.table if self.table is not None else pa.table({})


class FakeDatabase:
    """Stands in for ``sochdb.Database``: the documented open/execute_sql/close surface."""

    opened: list[str] = []

    def __init__(self, path: str) -> None:
        self.path, self.tables = path, {}

    @classmethod
    def open(cls, path: str) -> "FakeDatabase":
        cls.opened.append(path)
        return cls(path)

    def execute_sql(self, sql: str) -> FakeResult:
        if sql == "SELECT 1.5 AS d":
            return FakeResult(pa.table({"d": pa.array([decimal.Decimal("1.5")],
                                                      pa.decimal128(5, 2))}))
        if sql.startswith("DELETE"):
            return FakeResult(None, rowcount=2)
        if sql == "CREATE TABLE t(a INT)" or sql.startswith("SET dialect"):
            return FakeResult(None)
        if sql == "SELECT broken":
            raise TypeError("bug in the engine")
        raise BindError(f"unknown column in {sql!r}")

    def close(self) -> None:
        pass


def test_sochdb_adapter_against_the_documented_interface(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sochdb
    from sochdb.testing import SochDBAdapter

    monkeypatch.setattr(sochdb, "Database", FakeDatabase, raising=False)
    FakeDatabase.opened = []
    text = ("statement ok\nCREATE TABLE t(a INT)\n\nquery R\nSELECT 1.5 AS d\n----\n1.50\n\n"
            "query I\nDELETE FROM t\n----\n2\n\nstatement error\nSELECT nope\n----\n"
            "unknown column\n\nstatement error\nSELECT broken\n----\n\nrestart\n\n"
            "statement ok\nCREATE TABLE t(a INT)\n")
    res = run_script(script(text, "duckdb"), SochDBAdapter(tmp_root=str(tmp_path)))
    assert statuses(res) == [(1, "passed"), (4, "passed"), (9, "passed"), (14, "passed"),
                             (19, "failed"), (25, "passed")]
    assert res.records[3].message_matched is True
    assert res.records[4].reason == "internal error TypeError: bug in the engine"
    # one temporary directory, reopened by restart, removed on close
    assert len(FakeDatabase.opened) == 2 and FakeDatabase.opened[0] == FakeDatabase.opened[1]
    assert Path(FakeDatabase.opened[0]).parent.parent == tmp_path
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="storage must be"):
        SochDBAdapter(storage="cloud")


# --------------------------------------------------------------------------- upstream files

def _git_blob_id(path: Path) -> str:
    data = path.read_bytes()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def test_upstream_copies_are_byte_identical() -> None:
    """Every file listed in the corpus README has its upstream git blob id (CRLF kept)."""
    readme = (UPSTREAM / "README.md").read_text(encoding="utf-8")
    section, checked = None, 0
    for line in readme.splitlines():
        if line.startswith("### `"):
            section = line.split("`")[1].rstrip("/")
        m = re.match(r"\|(?:.*\|)? `([^`]+\.test)` \|.*\| `([0-9a-f]{12})` \|$", line)
        if m and section:
            assert _git_blob_id(UPSTREAM / section / m.group(1)).startswith(m.group(2)), m.group(1)
            checked += 1
    assert checked == 59
    assert b"\r\n" in (UPSTREAM / "sqlite/index/commute/10/slt_good_10.test").read_bytes()


@pytest.mark.parametrize("rel, counts", [
    ("sqlite/select1.test", (1031, 0, 0)),
    ("sqlite/index/commute/10/slt_good_10.test", (4261, 0, 0)),  # CRLF line endings
    ("sqlite/random/groupby/slt_good_0.test", (10012, 0, 547)),  # skipif/onlyif and labels
])
def test_upstream_sqlite_files_pass_on_sqlite3(rel: str, counts: tuple[int, int, int]) -> None:
    res = run_file(UPSTREAM / rel, SqliteAdapter())
    assert res.dialect == "sqlite" and res.error is None
    assert (res.passed, res.failed, res.skipped) == counts, res.failures()[:3]


def test_upstream_duckdb_files_parse_and_list_records() -> None:
    res = run_paths([UPSTREAM / "duckdb"], SqliteAdapter())
    assert res.totals().files == 44 and res.totals().executed == 663
    assert all(f.dialect == "duckdb" and f.error is None for f in res.files)
    locations = collect_records(UPSTREAM / "duckdb/delete/test_using_delete.test")
    assert len(locations) == 16 and locations[0].endswith("test_using_delete.test:5")


def test_upstream_duckdb_files_on_duckdb() -> None:
    pytest.importorskip("duckdb")
    from sochdb.testing import DuckDBAdapter

    res = run_paths([UPSTREAM / "duckdb"], DuckDBAdapter())
    failed = sorted(f"{res.relative(r.path)}:{r.line}" for r in res.records() if r.failed)
    assert failed == ["order/test_order_by.test:157",
                      "subquery/scalar/test_complex_correlated_subquery.test:147"]
    total = res.totals()
    assert (total.passed, total.messages_checked, total.messages_matched) == (661, 26, 26)


def test_iter_results_and_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.test"
    good.write_text("statement ok\nCREATE TABLE t(a)\n\nquery I\nSELECT 1\n----\n1\n")
    bad = tmp_path / "sub" / "bad.test"
    bad.parent.mkdir()
    bad.write_text("query I\nSELECT 2\n----\n1\n")
    locs = [r.location for r in iter_results([tmp_path], SqliteAdapter(), "sqlite")]
    assert locs == [f"{good}:1", f"{good}:4", f"{bad}:1"]

    out_json = tmp_path / "out.json"
    code = main(["--engine", "sqlite", "--dialect", "sqlite", "--json", str(out_json),
                 str(tmp_path)])
    printed = capsys.readouterr().out
    assert code == 1
    assert "sub/bad.test:1: wrong value at row 1, column 1: expected '1', got '2'" in printed
    assert "total: 2 files, 2/3 executed records passed (66.67%), 1 failed" in printed
    data = json.loads(out_json.read_text())
    assert data["totals"]["failed"] == 1 and data["engine"] == "sqlite"
    assert data["folders"]["sub"]["failed"] == 1
    assert [f["path"] for f in data["files"]] == ["good.test", "sub/bad.test"]
    assert math.isclose(data["totals"]["pass_rate"], 2 / 3, rel_tol=1e-5)


def test_unparseable_file_is_a_failed_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.test"
    path.write_text("query IX\nSELECT 1\n")
    res = run_file(path, SqliteAdapter(), "duckdb")
    assert res.failed == 1 and res.error.startswith("cannot parse:")
