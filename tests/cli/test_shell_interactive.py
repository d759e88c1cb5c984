"""The interactive shell in a pseudo-terminal (pexpect): prompts, continuation lines,
Ctrl-C, tab completion, error display, the transaction prompt, dot-commands, the import
progress bar, history kept across sessions and exit codes."""

from __future__ import annotations

import os
import sys

import pexpect
import pytest

PROMPT = "sochdb> "
MORE = "   ...> "


def spawn(home, db, **env) -> pexpect.spawn:
    environ = dict(os.environ, HOME=str(home), TERM="dumb", COLUMNS="120", LINES="40", **env)
    environ.pop("SOCHDB_HISTORY", None)
    child = pexpect.spawn(sys.executable, ["-m", "sochdb.cli.main", str(db)], env=environ,
                          encoding="utf-8", timeout=60, dimensions=(40, 120))
    child.expect_exact(PROMPT)
    return child


def line(child: pexpect.spawn, text: str, then: str = PROMPT) -> str:
    """Type a line and return what was printed before ``then`` appeared."""
    child.sendline(text)
    child.expect_exact(then)
    return child.before


@pytest.fixture
def home(tmp_path):
    h = tmp_path / "home"
    h.mkdir()
    return h


def test_a_session(home, tmp_path):
    csv_path = tmp_path / "people.csv"
    csv_path.write_text("id,name\n" + "".join(f"{i},p{i}\n" for i in range(3, 20003)))
    script = tmp_path / "more.sql"
    script.write_text("INSERT INTO users VALUES (2, 'Bob');\n")
    child = spawn(home, tmp_path / "db", SOCHDB_PROGRESS_DELAY="0")
    try:
        # a statement over several lines: the continuation prompt until the ';'
        line(child, "CREATE TABLE users (", then=MORE)
        out = line(child, "  id INTEGER PRIMARY KEY, name TEXT);")
        assert "Table 'users' created" in out
        assert "1 row inserted" in line(child, "INSERT INTO users VALUES (1, 'Alice');")

        # completion of a column (no table named yet), then a table after FROM
        child.send("SELECT na\t")
        child.expect_exact("name ")
        child.send("FROM us\t")
        child.expect_exact("users ")
        out = line(child, ";")
        assert "│ name    │" in out and "│ VARCHAR │" in out and "│ Alice   │" in out
        # completion of a dot-command and of its argument
        child.send(".sch\t")
        child.expect_exact(".schema ")
        child.send("us\t")
        child.expect_exact("users ")
        assert "CREATE TABLE users (" in line(child, "")

        # an error: one line, then the statement with the fault marked
        out = line(child, "SELECT nme FROM users;")
        lines = [ln for ln in out.splitlines() if ln.strip()]
        assert lines[-3].startswith("Error: unknown column 'nme'")
        assert lines[-2:] == ["  SELECT nme FROM users;",
                              "         ^^^"]
        assert "Traceback" not in out

        # Ctrl-C drops a half-typed statement
        line(child, "SELECT 'half", then=MORE)
        child.sendintr()
        child.expect_exact(PROMPT)
        assert "five" in line(child, "SELECT 5 AS five;")

        # the prompt shows an open transaction
        line(child, "BEGIN;", then="sochdb*> ")
        line(child, "ROLLBACK;")

        # dot-commands
        assert "users" in line(child, ".tables")
        assert ".import FILE TABLE" in line(child, ".help")
        line(child, f".read {script}")
        line(child, ".mode csv")
        assert "id,name\r\n1,Alice\r\n2,Bob" in line(child, "SELECT * FROM users ORDER BY id;")
        line(child, ".timer on")
        assert "Run time: " in line(child, "SELECT 1 AS one;")
        line(child, ".timer off")
        out = line(child, f".import {csv_path} users")
        assert "Importing " in out and "rows/s" in out and "%" in out  # the progress bar
        assert "Imported 20,000 rows into users in " in out
        assert "20002" in line(child, "SELECT count(id) AS n FROM users;")
        line(child, f".export users {tmp_path}/out.parquet")
        assert (tmp_path / "out.parquet").exists()
        assert "OK" in line(child, ".kv put greeting hello")
        assert "hello" in line(child, ".kv get greeting")
        assert "greeting,hello" in line(child, ".kv scan greet")
        assert "keys_count,1" in line(child, ".stats")
        assert "Checkpoint done (LSN " in line(child, ".checkpoint")
        assert "42" in line(child, "SELECT 42 AS answer;")
        child.sendeof()  # Ctrl-D leaves with status 0
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0

    history = (home / ".sochdb_history").read_text().splitlines()
    assert "CREATE TABLE users ( id INTEGER PRIMARY KEY, name TEXT);" in history
    assert history[-1] == "SELECT 42 AS answer;"
    assert "SELECT 'half" not in history  # a cancelled statement is not kept

    # the next session recalls the history with the Up arrow
    child = spawn(home, tmp_path / "db")
    try:
        child.send("\x1b[A")
        child.expect_exact("SELECT 42 AS answer;")
        child.send("\r")
        child.expect_exact("42")
        child.expect_exact(PROMPT)
        child.sendline(".exit 3")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 3


def test_quit_and_a_failing_read_keep_the_status(home, tmp_path):
    bad = tmp_path / "bad.sql"
    bad.write_text("SELECT 1;\nSELEC 2;\n")
    child = spawn(home, ":memory:")
    try:
        out = line(child, f".read {bad}")
        assert f"{bad}:2: Error: syntax error" in out
        assert "  SELEC 2;" in out
        child.sendline(".quit")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0  # errors at the prompt do not make the shell fail
