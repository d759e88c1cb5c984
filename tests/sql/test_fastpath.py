"""The one-row literal INSERT fast path stores exactly what the general path stores."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from sochdb import Database
from sochdb.sql.fastpath import parse_insert

ints = st.integers(min_value=-2**63, max_value=2**63 - 1)
floats = st.floats(allow_nan=False, allow_infinity=False, width=64)
texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                max_size=12)
rows = st.tuples(st.one_of(st.none(), ints), st.one_of(st.none(), floats),
                 st.one_of(st.none(), texts), st.one_of(st.none(), st.booleans()))


def _literal(v) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    return repr(v)


@settings(max_examples=150, deadline=None)
@given(st.lists(rows, min_size=1, max_size=8))
def test_literal_inserts_match_parameter_inserts(batch):
    with Database.open(":memory:") as db:
        for t in ("fast", "slow"):
            db.execute_sql(f"CREATE TABLE {t} (n BIGINT, x DOUBLE, s TEXT, b BOOLEAN)")
        for r in batch:
            sql = f"INSERT INTO fast VALUES ({', '.join(_literal(v) for v in r)})"
            assert parse_insert(sql) is not None, sql
            db.execute_sql(sql)
            db.execute_sql("INSERT INTO slow VALUES (?, ?, ?, ?)", list(r))
        fast = db.execute_sql("SELECT * FROM fast").rows()
        slow = db.execute_sql("SELECT * FROM slow").rows()
        assert len(fast) == len(slow) == len(batch)
        for a, b in zip(fast, slow):
            assert a[0] == b[0] and a[2] == b[2] and a[3] == b[3]
            assert a[1] == b[1] or (a[1] is not None and math.isclose(a[1], b[1]))


def test_shapes_outside_the_fast_path_fall_back():
    for sql in ("INSERT INTO t VALUES (1, 2 + 3)", "INSERT INTO t VALUES (1), (2)",
                "INSERT INTO t SELECT 1", "INSERT INTO t VALUES (1) RETURNING *",
                "INSERT INTO t VALUES (99999999999999999999)", "INSERT INTO t VALUES ()"):
        assert parse_insert(sql) is None, sql
    with Database.open(":memory:") as db:
        db.execute_sql("CREATE TABLE t (a BIGINT, b BIGINT)")
        db.execute_sql("INSERT INTO t VALUES (1, 2 + 3)")
        db.execute_sql("INSERT INTO t (b, a) VALUES (7, 8)")
        assert db.execute_sql("SELECT a, b FROM t ORDER BY a").rows() == [(1, 5), (8, 7)]


def test_fast_path_reports_constraint_errors_like_the_general_path():
    import pytest

    from sochdb import ConstraintError
    with Database.open(":memory:") as db:
        db.execute_sql("CREATE TABLE u (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        db.execute_sql("INSERT INTO u VALUES (1, 'a')")
        with pytest.raises(ConstraintError, match="PRIMARY KEY|UNIQUE|duplicate"):
            db.execute_sql("INSERT INTO u VALUES (1, 'b')")
        with pytest.raises(ConstraintError, match="NOT NULL"):
            db.execute_sql("INSERT INTO u VALUES (2, NULL)")
        assert db.execute_sql("SELECT count(*) FROM u").rows() == [(1,)]
