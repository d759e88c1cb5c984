"""Statement parameters: ?, $n and named placeholders, and the errors for wrong counts."""

from __future__ import annotations

import pytest

from sochdb import ProgrammingError


def test_positional_numbered_and_named(db):
    db.execute_sql("CREATE TABLE p (id INTEGER PRIMARY KEY, name TEXT)")
    db.execute_sql("INSERT INTO p VALUES (?, ?)", [1, "ann"])
    db.execute_sql("INSERT INTO p VALUES ($1, $2)", (2, "bob"))
    db.execute_sql("INSERT INTO p VALUES ($id, $name)", {"id": 3, "name": "cy"})
    assert db.execute_sql("SELECT name FROM p WHERE id > ? ORDER BY id", [1]).rows() == [
        ("bob",), ("cy",)]
    assert db.execute_sql("SELECT $2 AS b, $1 AS a", [10, 20]).rows() == [(20, 10)]


def test_too_many_positional_values_is_an_error(db):
    with pytest.raises(ProgrammingError, match="3 parameters were given but the statement "
                                               "uses 2"):
        db.execute_sql("SELECT ?, ?", [1, 2, 3])
    with pytest.raises(ProgrammingError, match="2 parameters were given but the statement "
                                               "uses 0"):
        db.execute_sql("SELECT 1", [1, 2])


def test_missing_values_are_named(db):
    with pytest.raises(ProgrammingError, match="parameter 2 is missing: 1 given"):
        db.execute_sql("SELECT ?, ?", [1])
    with pytest.raises(ProgrammingError, match="parameter :who is missing"):
        db.execute_sql("SELECT $who", {"other": 1})


def test_params_with_several_statements_is_an_error(db):
    with pytest.raises(ProgrammingError, match="single statement"):
        db.execute_sql("SELECT ?; SELECT ?", [1, 2])


def test_question_marks_bind_in_text_order(db):
    """The select list is written before WHERE and LIMIT, and binds first."""
    db.execute_sql("CREATE TABLE q (a INTEGER, b TEXT)")
    db.executemany("INSERT INTO q VALUES (?, ?)", [(1, "x"), (2, "y"), (3, "x")])
    res = db.execute_sql("SELECT a + ? AS s FROM q WHERE b = ? ORDER BY a LIMIT ?",
                         [100, "x", 1])
    assert res.rows() == [(101,)]
    assert db.execute_sql("SELECT '?' AS q, ? AS p -- ?\n", [7]).rows() == [("?", 7)]
    assert db.execute_sql("SELECT count(*) AS n FROM q WHERE a IN (SELECT ? UNION SELECT ?) "
                          "AND b = ?", [1, 2, "y"]).rows() == [(1,)]
