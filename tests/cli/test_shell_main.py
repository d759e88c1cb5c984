"""``sochdb`` argument handling, run in-process: -c, scripts on stdin, --mode, --keep-going,
exit codes, the default directory, help and bad arguments."""

from __future__ import annotations

import io
import os

import pytest

from sochdb.cli.main import main


class Stdin(io.StringIO):
    def isatty(self) -> bool:
        return False


def run(monkeypatch, capsys, *args: str, stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", Stdin(stdin))
    code = main(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


@pytest.mark.parametrize("sql, code, first", [
    ("SELECT * FROM users WHERE", 10, "Error: syntax error at line 1, column 25"),
    ("SELECT * FROM nope", 11, "Error: unknown table 'nope'"),
    ("INSERT INTO users VALUES (1); INSERT INTO users VALUES (1)", 12, "Error: "),
    ("BEGIN; BEGIN", 8, "Error: cannot BEGIN: a transaction is already active"),
    ("SELECT CAST('x' AS INT)", 4, "Error: cannot cast 'x' to BIGINT"),
])
def test_errors_exit_with_the_error_code(monkeypatch, capsys, sql, code, first):
    got, out, err = run(monkeypatch, capsys, ":memory:", "-c",
                        "CREATE TABLE users (id INT PRIMARY KEY);", "-c", sql)
    assert got == code
    assert err.startswith(first)


def test_keep_going_runs_every_statement_and_reports_the_last_error(monkeypatch, capsys):
    script = "SELECT nope;\nSELECT 1 AS one;\nSELEC 2;\nSELECT 3 AS three;\n"
    code, out, err = run(monkeypatch, capsys, ":memory:", "--keep-going", "--mode", "csv",
                         stdin=script)
    assert code == 10
    assert out == "one\n1\nthree\n3\n"
    assert [ln for ln in err.splitlines() if "Error" in ln] == [
        "<stdin>:1: Error: unknown column 'nope'",
        "<stdin>:3: Error: syntax error at line 1, column 1: 'SELEC' does not start a SQL "
        "statement; did you mean 'SELECT'?"]


def test_modes_from_the_command_line(monkeypatch, capsys):
    q = "SELECT 1 AS a, 'x' AS b"
    expected = {"csv": "a,b\n1,x\n", "jsonl": '{"a":1,"b":"x"}\n', "json": '[{"a":1,"b":"x"}]\n',
                "toon": "result[1]{a,b}:1,x\n",
                "markdown": "| a   | b   |\n|----:|-----|\n|   1 | x   |\n"}
    for mode, text in expected.items():
        assert run(monkeypatch, capsys, ":memory:", "--mode", mode, "-c", q)[1] == text


def test_the_default_directory_is_sochdb_data(monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert run(monkeypatch, capsys, "-c", "CREATE TABLE t (a INT)")[0] == 0
    assert os.path.isdir(tmp_path / "sochdb_data")
    assert run(monkeypatch, capsys, "-c", ".tables")[1] == "t\n"
    assert run(monkeypatch, capsys, stdin=".tables\n")[1] == "t\n"


def test_exit_with_a_code_from_a_script(monkeypatch, capsys):
    code, out, _ = run(monkeypatch, capsys, ":memory:", stdin="SELECT 1 AS a;\n.exit 4\n"
                                                               "SELECT 2 AS b;\n")
    assert code == 4 and "a" in out and "b" not in out


def test_help_version_and_bad_arguments(monkeypatch, capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    out = capsys.readouterr().out
    assert info.value.code == 0
    for word in ("DB_PATH", "-c SQL", "--mode", "--connect", "--keep-going", "--verbose",
                 "demo", ":memory:", "./sochdb_data"):
        assert word in out, word
    with pytest.raises(SystemExit) as info:
        main(["demo", "--help"])
    assert info.value.code == 0 and "DIR" in capsys.readouterr().out
    with pytest.raises(SystemExit) as info:
        main(["--mode", "xml", "-c", "SELECT 1"])
    assert info.value.code == 2 and "invalid choice: 'xml'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.startswith("sochdb ")
    assert main(["a", "--connect", "b"]) == 2
    assert "not both" in capsys.readouterr().err


def test_connect_to_nothing_is_one_line(monkeypatch, capsys, tmp_path):
    code, _, err = run(monkeypatch, capsys, "--connect", str(tmp_path / "none.sock"), "-c",
                       "SELECT 1")
    assert code == 2 and err.startswith("sochdb: error: ") and err.count("\n") == 1
