"""Fuzzing the SQL entry point: generated and mutated statements either run or raise a typed
sochdb error -- never an InternalError, another exception type, or a hang.

Statements come from a small grammar over a fixed schema and from token-level mutations of
the statements in sql_tests/. ``SOCHDB_FUZZ_EXAMPLES=N`` runs N random examples per test
instead of the fixed CI sample.
"""

from __future__ import annotations

import glob
import os
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sochdb import Database
from sochdb.errors import Error, InternalError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_EXAMPLES = int(os.environ.get("SOCHDB_FUZZ_EXAMPLES", "0"))
FUZZ = settings(max_examples=_EXAMPLES or 80, deadline=None, derandomize=not _EXAMPLES,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

SCHEMA = [
    "CREATE TABLE t (id INTEGER PRIMARY KEY, g TEXT, v INTEGER, d DOUBLE, b BOOLEAN, "
    "ts TIMESTAMP)",
    "CREATE TABLE u (id INTEGER, t_id INTEGER REFERENCES t(id), name TEXT UNIQUE)",
    "INSERT INTO t VALUES (1, 'a', 10, 1.5, true, TIMESTAMP '2024-01-02 03:04:05'), "
    "(2, 'b', NULL, -0.0, false, NULL), (3, NULL, 30, 1e300, NULL, "
    "TIMESTAMP '1999-12-31 23:59:59'), (4, 'a', -7, NULL, true, NULL)",
    "INSERT INTO u VALUES (1, 1, 'x'), (2, 1, 'y'), (3, 3, NULL)",
]


@pytest.fixture(scope="module")
def fuzz_db(tmp_path_factory):
    db = Database.open(str(tmp_path_factory.mktemp("sqlfuzz") / "db"),
                       {"statement_timeout": 10, "memory_limit": 256 << 20})
    for s in SCHEMA:
        db.execute(s)
    yield db
    db.close()


#: InternalErrors found by this fuzzer, reported to the SQL layer and awaiting a fix:
#: (pattern of the message, a statement that reproduces it). They are tolerated so that the
#: fuzzer keeps hunting for new ones; delete an entry once its bug is fixed.
KNOWN_BUGS = [
    # A correlated subquery in a grouped query referring to a column that is not grouped
    # (should be a BindError, as the same reference outside the subquery is).
    (r"KeyError: '_\d+'",
     "SELECT id FROM t GROUP BY id HAVING EXISTS (SELECT 1 FROM u WHERE u.t_id = g)"),
]


def run(db, sql: str) -> None:
    """Execute ``sql`` in a transaction that is rolled back, so examples stay independent."""
    txn = db.transaction()
    try:
        txn.execute(sql)
    except InternalError as e:
        if not any(re.search(pattern, str(e)) for pattern, _ in KNOWN_BUGS):
            raise AssertionError(f"InternalError for {sql!r}: {e}") from e
    except Error:
        pass
    except RecursionError:
        pass  # deeply nested generated input; the SQL layer maps it when it can
    finally:
        if txn.status == "active":
            txn.abort()


# -- a small grammar ---------------------------------------------------------------------

COLUMNS = ["id", "g", "v", "d", "b", "ts", "t.id", "t.v", "1", "NULL"]
LITERALS = ["0", "-1", "2147483648", "9223372036854775807", "-9223372036854775808", "1e308",
            "0.1", "'a'", "''", "'%'", "NULL", "true", "false", "DATE '2024-02-29'",
            "TIMESTAMP '2024-01-01 00:00:00'", "INTERVAL 1 DAY", "[1, 2]", "'x''y'"]
FUNCS = ["abs", "upper", "lower", "length", "coalesce", "nullif", "round", "substr",
         "concat", "greatest", "least", "sum", "count", "min", "max", "avg", "cast_int",
         "replace", "trim", "sqrt", "ln", "mod"]
BINOPS = ["+", "-", "*", "/", "%", "||", "=", "<>", "<", ">=", "AND", "OR", "LIKE", "IS",
          "IS NOT", "//"]


def exprs():
    leaf = st.sampled_from(COLUMNS + LITERALS)

    def extend(inner):
        return st.one_of(
            st.tuples(inner, st.sampled_from(BINOPS), inner).map(lambda x: f"({x[0]} {x[1]} "
                                                                           f"{x[2]})"),
            st.tuples(st.sampled_from(FUNCS), st.lists(inner, max_size=3)).map(
                lambda x: f"CAST({x[1][0] if x[1] else 1} AS INTEGER)" if x[0] == "cast_int"
                else f"{x[0]}({', '.join(x[1])})"),
            st.tuples(inner, inner, inner).map(
                lambda x: f"CASE WHEN {x[0]} THEN {x[1]} ELSE {x[2]} END"),
            inner.map(lambda x: f"NOT {x}"),
            inner.map(lambda x: f"-{x}"),
            st.tuples(inner, st.lists(inner, min_size=1, max_size=3)).map(
                lambda x: f"{x[0]} IN ({', '.join(x[1])})"),
            inner.map(lambda x: f"(SELECT max(v) FROM t WHERE v > {x})"),
            inner.map(lambda x: f"EXISTS (SELECT 1 FROM u WHERE u.t_id = {x})"),
        )
    return st.recursive(leaf, extend, max_leaves=5)


@st.composite
def statements(draw):
    e = exprs()
    kind = draw(st.sampled_from(["select", "select", "select", "insert", "update", "delete",
                                 "ddl", "join", "setop"]))
    if kind == "select":
        items = ", ".join(draw(st.lists(e, min_size=1, max_size=3)))
        sql = f"SELECT {items} FROM t"
        if draw(st.booleans()):
            sql += f" WHERE {draw(e)}"
        if draw(st.booleans()):
            sql += f" GROUP BY {draw(st.sampled_from(COLUMNS))}"
            if draw(st.booleans()):
                sql += f" HAVING {draw(e)}"
        if draw(st.booleans()):
            sql += f" ORDER BY {draw(e)} {draw(st.sampled_from(['', 'DESC', 'NULLS FIRST']))}"
        if draw(st.booleans()):
            sql += f" LIMIT {draw(st.sampled_from(['0', '1', '-1', 'NULL', '2 OFFSET 1']))}"
        return sql
    if kind == "join":
        how = draw(st.sampled_from(["JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN",
                                    "CROSS JOIN", "SEMI JOIN", "ANTI JOIN"]))
        on = "" if how == "CROSS JOIN" else f" ON {draw(e)}"
        return f"SELECT * FROM t {how} u{on}"
    if kind == "setop":
        op = draw(st.sampled_from(["UNION", "UNION ALL", "INTERSECT", "EXCEPT"]))
        return f"SELECT {draw(e)} FROM t {op} SELECT {draw(e)} FROM u"
    if kind == "insert":
        vals = ", ".join(draw(st.lists(e, min_size=1, max_size=7)))
        return f"INSERT INTO t VALUES ({vals})"
    if kind == "update":
        col = draw(st.sampled_from(["id", "g", "v", "d", "b", "ts"]))
        return f"UPDATE t SET {col} = {draw(e)} WHERE {draw(e)}"
    if kind == "delete":
        return f"DELETE FROM {draw(st.sampled_from(['t', 'u']))} WHERE {draw(e)}"
    return draw(st.sampled_from([
        "CREATE TABLE w (x INTEGER CHECK (x > 0), y TEXT DEFAULT 'z')",
        "ALTER TABLE t ADD COLUMN z INTEGER DEFAULT 5",
        "ALTER TABLE t RENAME COLUMN g TO gg", "DROP TABLE u", "CREATE INDEX i ON t(v)",
        "CREATE VIEW vv AS SELECT id FROM t", "DROP TABLE t", "ALTER TABLE t DROP COLUMN v"]))


@FUZZ
@given(statements())
def test_generated_statements(fuzz_db, sql):
    run(fuzz_db, sql)


# -- mutations of real statements --------------------------------------------------------

def corpus() -> list[str]:
    out = []
    for path in sorted(glob.glob(os.path.join(ROOT, "sql_tests", "**", "*.test"),
                                 recursive=True)):
        lines = open(path, encoding="utf-8").read().splitlines()
        i = 0
        while i < len(lines):
            if lines[i].startswith(("statement", "query")):
                body = []
                i += 1
                while i < len(lines) and lines[i].strip() and lines[i] != "----":
                    body.append(lines[i])
                    i += 1
                if body:
                    out.append("\n".join(body))
            i += 1
    return out


CORPUS = corpus()
TOKEN = re.compile(r"\s+|\w+|'[^']*'|.", re.S)
VOCAB = ["SELECT", "FROM", "WHERE", "(", ")", ",", "NULL", "JOIN", "ON", "GROUP BY", "*",
         "'", "--", "/*", ";", "1e999", "-", "CAST", "AS", "OVER (", "PARTITION BY", "WITH",
         "RECURSIVE", "UNION", "?", "$1", "::", "[", "]", "{", "}", "\\", "\x00", "é", "t",
         "u", "id"]


@st.composite
def mutated(draw):
    base = draw(st.sampled_from(CORPUS))
    tokens = TOKEN.findall(base)
    for _ in range(draw(st.integers(1, 4))):
        if not tokens:
            break
        i = draw(st.integers(0, len(tokens) - 1))
        how = draw(st.sampled_from(["delete", "duplicate", "replace", "insert", "swap"]))
        if how == "delete":
            del tokens[i]
        elif how == "duplicate":
            tokens.insert(i, tokens[i])
        elif how == "replace":
            tokens[i] = draw(st.sampled_from(VOCAB))
        elif how == "insert":
            tokens.insert(i, " " + draw(st.sampled_from(VOCAB)) + " ")
        elif i + 1 < len(tokens):
            tokens[i], tokens[i + 1] = tokens[i + 1], tokens[i]
    return "".join(tokens)


def test_corpus_is_loaded():
    assert len(CORPUS) > 500


@FUZZ
@given(mutated())
def test_mutated_corpus_statements(fuzz_db, sql):
    run(fuzz_db, sql)


@FUZZ
@given(st.text(max_size=80))
def test_arbitrary_text(fuzz_db, sql):
    run(fuzz_db, sql)
