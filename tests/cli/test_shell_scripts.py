"""The sochdb command run as a separate process: a script on stdin, -c with --mode, exit
codes, one-line errors without tracebacks, a locked database, a closed pipe and --connect.
(Argument handling is tested in-process in test_shell_main.py.)"""

from __future__ import annotations

import os
import subprocess
import sys

from sochdb import Database

SOCHDB = [sys.executable, "-m", "sochdb.cli.main"]


def sochdb(*args: str, stdin: str | None = None, cwd: str | None = None,
           ) -> subprocess.CompletedProcess:
    r = subprocess.run([*SOCHDB, *args], input=stdin if stdin is not None else "",
                       capture_output=True, text=True, timeout=120, cwd=cwd)
    assert "Traceback" not in r.stderr, r.stderr
    return r


SCRIPT = """\
-- set up
CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, age INT);
INSERT INTO users VALUES (1, 'Alice', 30),
                         (2, 'Bob', NULL);
SELECT * FROM users ORDER BY id;
.mode jsonl
SELECT name FROM users WHERE age > 18;
SELECT *
  FROM users
 WHERE nmae = 'x';
SELECT 'never printed';
"""


def test_script_on_stdin_stops_at_the_first_error_with_its_code(tmp_path):
    r = sochdb(str(tmp_path / "db"), stdin=SCRIPT)
    assert r.returncode == 11  # BindError
    assert r.stdout.splitlines()[1:3] == ["│ id     │ name    │ age    │",
                                          "│ BIGINT │ VARCHAR │ BIGINT │"]
    assert r.stdout.endswith('{"name":"Alice"}\n')
    assert "never printed" not in r.stdout
    assert r.stderr.splitlines() == [
        "<stdin>:8: Error: unknown column 'nmae'; did you mean 'name'?",
        "  LINE 3:  WHERE nmae = 'x';",
        "                 ^^^^",
    ]


def test_dash_c_with_mode_verbose_and_dot_commands(tmp_path):
    r = sochdb(str(tmp_path / "db"), "--mode", "csv", "-v",
               "-c", "CREATE TABLE t (a INT, b TEXT); INSERT INTO t VALUES (1, 'x,y'), (2, NULL);",
               "-c", ".tables",
               "-c", "SELECT * FROM t ORDER BY a")  # the last statement needs no ';'
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout == "Table 't' created\n2 rows inserted\nt\na,b\n1,\"x,y\"\n2,\n"


def test_a_locked_database_is_one_line_and_code_14(tmp_path):
    path = str(tmp_path / "db")
    with Database.open(path):
        r = sochdb(path, "-c", "SELECT 1")
    assert r.returncode == 14
    assert r.stderr.startswith("sochdb: error: ") and r.stderr.count("\n") == 1


def test_an_ascii_only_output_gets_ascii_lines_and_escapes():
    r = subprocess.run([*SOCHDB, ":memory:", "-c", "SELECT 'café' AS x"], capture_output=True,
                       timeout=120, env={**os.environ, "PYTHONIOENCODING": "ascii"})
    assert r.returncode == 0 and b"Traceback" not in r.stderr
    assert r.stdout.splitlines()[0] == b"+---------+" and b"caf\\xe9" in r.stdout


def test_output_into_a_closed_pipe_ends_quietly(tmp_path):
    p = subprocess.run(f"{' '.join(SOCHDB)} :memory: --mode csv -c "
                       f"\"CREATE TABLE t (a INT); INSERT INTO t VALUES "
                       f"{', '.join(f'({i})' for i in range(5000))}; SELECT * FROM t\" "
                       f"| head -2", shell=True, capture_output=True, text=True, timeout=120)
    assert p.stdout == "a\n0\n"
    assert "Traceback" not in p.stderr and "Error" not in p.stderr


def test_connect_runs_the_shell_against_a_server(tmp_path):
    from sochdb.server import start
    server = start(str(tmp_path / "srv"))
    try:
        r = sochdb("--connect", str(tmp_path / "srv"), "-v", "--mode", "csv",
                   "-c", "CREATE TABLE t (a INT, b TEXT);",
                   "-c", f".import {_csv(tmp_path)} t",
                   "-c", "SELECT * FROM t ORDER BY a;",
                   "-c", ".kv put k v", "-c", ".kv get k", "-c", ".checkpoint",
                   "-c", ".tables", "-c", "SELEC 1", "--keep-going")
        assert r.returncode == 10  # the last error's code
        assert r.stderr.splitlines() == [
            "Error: listing tables is not available over --connect: the server does not "
            "expose its catalog",
            "Error: syntax error at line 1, column 1: 'SELEC' does not start a SQL statement; "
            "did you mean 'SELECT'?",
            "  SELEC 1",
            "  ^"]
        lines = r.stdout.splitlines()
        assert lines[0] == "Table 't' created"
        assert lines[1].startswith("Imported 3 rows into t in ")
        assert lines[2:6] == ["a,b", "1,x", "2,y", "3,"]
        assert lines[6:8] == ["OK", "v"]
        assert lines[8].startswith("Checkpoint done (LSN ")
    finally:
        server.stop(10)


def _csv(tmp_path) -> str:
    p = tmp_path / "rows.csv"
    p.write_text("a,b\n1,x\n2,y\n3,\n")
    return str(p)
