"""Tab completion candidates: dot-commands and their arguments, tables after FROM/JOIN/INTO,
columns of the tables in the statement (also through aliases), keywords in the typed case,
file names."""

from __future__ import annotations

import os

import pytest

from sochdb import Database
from sochdb.cli.complete import Completer, candidates, files
from sochdb.cli.dot_commands import names
from sochdb.cli.target import LocalTarget


@pytest.fixture
def target():
    db = Database.open(":memory:")
    db.execute_sql("CREATE TABLE users (id INT, name TEXT, nickname TEXT)")
    db.execute_sql("CREATE TABLE orders (id INT, user_id INT, amount DOUBLE)")
    db.execute_sql("CREATE VIEW big_orders AS SELECT * FROM orders WHERE amount > 100")
    t = LocalTarget(db)
    yield t
    t.close()


def c(target, line, statement_so_far=""):
    """Candidates for the word before the cursor, as readline would cut it; the cursor is at
    ``|`` when the line has one, else at the end."""
    cursor = line.index("|") if "|" in line else len(line)
    line = line.replace("|", "")
    cut = max(line.rfind(ch, 0, cursor) for ch in Completer.DELIMS) + 1
    return candidates(line, cut, line[cut:cursor], target, statement_so_far)


def test_dot_commands_and_their_arguments(target, tmp_path):
    assert c(target, ".") == [f".{n}" for n in names()]
    assert c(target, ".sc") == [".schema"]
    assert c(target, ".mode j") == ["json", "jsonl"]
    assert c(target, ".timer o") == ["on", "off"]
    assert c(target, ".schema u") == ["users"]
    assert c(target, ".export ") == ["big_orders", "orders", "users"]
    assert c(target, ".kv s") == ["scan"]
    assert c(target, ".help ti") == ["timer"]
    assert c(target, ".tables u") == []          # a pattern, nothing to offer
    (tmp_path / "data-1.csv").write_text("a\n1\n")
    (tmp_path / "sub").mkdir()
    base = str(tmp_path)
    # readline's word may start inside the path (at the "-"...): only the rest is returned,
    # so that the line reads the whole path once completed
    line = f".import {base}/data-"
    cut = max(line.rfind(ch) for ch in Completer.DELIMS) + 1
    assert [line[:cut] + g for g in c(target, line)] == [f".import {base}/data-1.csv"]
    line = f".read {base}/s"
    cut = max(line.rfind(ch) for ch in Completer.DELIMS) + 1
    assert [line[:cut] + g for g in c(target, line)] == [f".read {base}/sub/"]
    assert c(target, f".import {base}/data-1.csv u") == ["users"]


def test_tables_after_from_join_into(target):
    assert c(target, "SELECT * FROM u") == ["users"]
    assert c(target, "select * from orders o join ") == ["big_orders", "orders", "users"]
    assert c(target, "INSERT INTO o") == ["orders"]
    assert c(target, "UPDATE b") == ["big_orders"]


def test_columns_of_tables_in_the_statement_and_through_aliases(target):
    assert c(target, "SELECT na") == ["name"]  # no table yet: every table's columns
    assert c(target, "SELECT a FROM orders WHERE am") == ["amount"]
    assert c(target, "SELECT u.n| FROM users u") == ["u.name", "u.nickname"]
    assert c(target, "SELECT x.n| FROM users AS x JOIN orders o ON o.user_id = x.id") == \
        ["x.name", "x.nickname"]
    assert c(target, "SELECT users.i") == ["users.id"]
    assert c(target, "SELECT o.", statement_so_far="SELECT *\nFROM orders AS o\nWHERE") == \
        ["o.amount", "o.id", "o.user_id"]
    # columns of the statement's tables come first, then keywords, then tables
    assert c(target, "SELECT * FROM users WHERE n") == ["name", "nickname", "not", "null",
                                                       "nullif", "nulls"]


def test_keywords_follow_the_typed_case(target):
    assert "SELECT" in c(target, "SEL")
    assert "select" in c(target, "sel")
    assert c(target, "SELECT * FROM users ORD") == ["ORDER", "orders"]
    assert c(target, "select * from users gro") == ["group"]


def test_file_candidates_mark_directories(tmp_path):
    (tmp_path / "a.sql").write_text("")
    (tmp_path / "adir").mkdir()
    assert files(str(tmp_path / "a")) == [str(tmp_path / "a.sql"), str(tmp_path / "adir") + "/"]


def test_completion_never_raises_on_a_broken_catalog():
    class Broken:
        def table_names(self):
            raise RuntimeError("gone")
        view_names = columns = table_names
    assert c(Broken(), "SELECT * FROM ") == []
    assert c(Broken(), "SELECT x.") == []
    assert "SELECT" in c(Broken(), "SEL")


def test_readline_adapter_adds_a_space_after_words(target, monkeypatch):
    import readline
    monkeypatch.setattr(readline, "get_line_buffer", lambda: "SELECT * FROM us")
    monkeypatch.setattr(readline, "get_begidx", lambda: 14)
    comp = Completer(target, lambda: "")
    assert comp.complete("us", 0) == "users "
    assert comp.complete("us", 1) is None
    assert os.sep == "/"
