"""Every dot-command, run in-process through Shell with captured output: listing and schema,
modes, timer, .read, .import/.export in every format (atomic, typed), .kv, .stats,
.checkpoint, .quit/.exit, and the script runner's error positions."""

from __future__ import annotations

import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sochdb import Database
from sochdb.cli.dot_commands import COMMANDS, ExitShell
from sochdb.cli.shell import ScriptFailed, Shell
from sochdb.cli.target import LocalTarget
from sochdb.cli.transfer import ProgressBar


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def shell(tmp_path):
    db = Database.open(str(tmp_path / "db"))
    target = LocalTarget(db)
    sh = Shell(target, out=io.StringIO(), err=io.StringIO(), interactive=True)
    yield sh
    target.close()


def run(sh: Shell, *lines: str) -> tuple[str, str, int]:
    """Run lines as a script; return (stdout, stderr, status) of just these lines."""
    sh.out.seek(0), sh.out.truncate()
    sh.err.seek(0), sh.err.truncate()
    code = sh.run_lines(list(lines))
    return sh.out.getvalue(), sh.err.getvalue(), code


def users(sh: Shell) -> None:
    run(sh, "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, age INT);",
        "INSERT INTO users VALUES (1, 'Alice', 30), (2, 'Bob', NULL);")


def test_help_lists_every_command_and_explains_one(shell):
    out, _, code = run(shell, ".help")
    assert code == 0
    for cmd in COMMANDS:
        assert cmd.usage in out and cmd.help in out
    out, _, _ = run(shell, ".help import")
    assert out.startswith(".import FILE TABLE") and "one transaction" in out
    _, err, code = run(shell, ".help nope")
    assert "unknown command .nope" in err and code == 8


def test_tables_lists_tables_and_views_with_a_like_pattern(shell):
    users(shell)
    run(shell, "CREATE TABLE orders (id INT);", "CREATE VIEW adults AS SELECT * FROM users "
               "WHERE age >= 18;")
    assert run(shell, ".tables")[0] == "adults\norders\nusers\n"
    assert run(shell, ".tables %er%")[0] == "orders\nusers\n"
    assert run(shell, ".tables zzz")[0] == ""
    shell.out_is_tty = True
    out = run(shell, ".tables")[0]
    assert out.split() == ["adults", "orders", "users"] and out.count("\n") == 1


def test_schema_shows_create_statements_as_written_or_rebuilt(shell):
    users(shell)
    run(shell, "CREATE INDEX users_name ON users (name);",
        "CREATE VIEW v AS SELECT name FROM users;",
        "CREATE TABLE copy AS SELECT id, name FROM users;")
    out = run(shell, ".schema users")[0]
    assert out == ("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, age INT);\n"
                   "CREATE INDEX users_name ON users (name);\n")
    everything = run(shell, ".schema")[0]
    assert "CREATE VIEW v AS SELECT name FROM users;" in everything
    # CREATE TABLE AS is shown with its columns; a keyword as a name is quoted
    assert 'CREATE TABLE "copy" (id BIGINT, name VARCHAR);' in everything
    run(shell, "ALTER TABLE users ADD COLUMN email TEXT;")
    out = run(shell, ".schema users")[0]
    assert out.startswith("CREATE TABLE users (id INT PRIMARY KEY, name TEXT, age INT, "
                          "email TEXT);")
    _, err, code = run(shell, ".schema user")
    assert "unknown table 'user'; did you mean 'users'?" in err and code == 11


def test_mode_switches_output_and_rejects_unknown_modes(shell):
    users(shell)
    q = "SELECT id, name FROM users ORDER BY id;"
    assert run(shell, ".mode csv", q)[0] == "id,name\n1,Alice\n2,Bob\n"
    assert run(shell, ".mode jsonl", q)[0] == '{"id":1,"name":"Alice"}\n{"id":2,"name":"Bob"}\n'
    assert json.loads(run(shell, ".mode json", q)[0]) == [{"id": 1, "name": "Alice"},
                                                          {"id": 2, "name": "Bob"}]
    assert run(shell, ".mode markdown", q)[0].splitlines()[1] == "|----:|-------|"
    assert run(shell, ".mode toon", q)[0] == "result[2]{id,name}:1,Alice;2,Bob\n"
    assert run(shell, ".mode")[0] == "current output mode: toon\n"
    assert run(shell, ".mode table", q)[0].splitlines()[2] == "│ BIGINT │ VARCHAR │"
    _, err, code = run(shell, ".mode xml")
    assert "unknown mode 'xml'" in err and code == 8


def test_timer_and_maxrows(shell):
    users(shell)
    out = run(shell, ".timer on", "SELECT 1;")[0]
    assert out.splitlines()[-1].startswith("Run time: ") and out.endswith(" s\n")
    assert run(shell, ".timer")[0] == "timer is on\n"
    assert "Run time" not in run(shell, ".timer off", "SELECT 1;")[0]
    _, err, _ = run(shell, ".timer maybe")
    assert ".timer takes on or off" in err
    run(shell, "CREATE TABLE nums (x INT);")
    shell.target.db.executemany("INSERT INTO nums VALUES (?)", [(i,) for i in range(50)])
    out = run(shell, ".maxrows 2", "SELECT * FROM nums;")[0]
    assert "50 rows (2 shown)" in out
    assert run(shell, ".maxrows")[0] == "maxrows is 2\n"
    out = run(shell, ".maxrows 0", "SELECT * FROM nums;")[0]
    assert "rows (" not in out and out.count("\n") == 50 + 5


def test_status_lines_show_interactively_only(shell):
    out = run(shell, "CREATE TABLE t (a INT);", "INSERT INTO t VALUES (1), (2);")[0]
    assert out == "Table 't' created\n2 rows inserted\n"
    shell.interactive = False
    assert run(shell, "INSERT INTO t VALUES (3);")[0] == ""
    shell.verbose = True
    assert run(shell, "DELETE FROM t;")[0] == "3 rows deleted\n"


def test_read_runs_a_file_and_reports_errors_with_file_and_line(shell, tmp_path):
    inner = tmp_path / "inner.sql"
    inner.write_text("INSERT INTO t VALUES (2);\n.mode csv\n")
    script = tmp_path / "setup.sql"
    script.write_text(f"CREATE TABLE t (a INT);\nINSERT INTO t VALUES (1);\n.read {inner}\n"
                      "SELECT * FROM t ORDER BY a;\n")
    out, err, code = run(shell, f".read {script}")
    assert code == 0 and err == "" and out.endswith("a\n1\n2\n")
    bad = tmp_path / "bad.sql"
    bad.write_text("SELECT 1;\n\nSELECT *\n  FROM t\n  WHER a = 1;\nSELECT 'never';\n")
    out, err, code = run(shell, f".read {bad}")
    assert code == 10 and "never" not in out
    assert err.splitlines()[0].startswith(f"{bad}:5: Error: syntax error")
    _, err, code = run(shell, ".read /no/such/file.sql")
    assert "No such file or directory" in err and code == 5
    loop = tmp_path / "loop.sql"
    loop.write_text(f".read {loop}\n")
    _, err, code = run(shell, f".read {loop}")
    assert "nest more than 16 deep" in err and code == 5


def test_run_lines_bails_or_keeps_going(shell):
    out, err, code = run(shell, "SELECT 1 AS a;", "SELECT nope;", "SELECT 2 AS b;")
    assert code == 11 and "b" not in out and "Error: unknown column 'nope'" in err
    shell.bail = False
    out, err, code = run(shell, "SELECT nope;", "SELECT 2 AS b;")
    assert code == 11 and "│ b" in out


def _csv(tmp_path, text, name="data.csv"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_import_csv_creates_the_table_with_guessed_types(shell, tmp_path):
    path = _csv(tmp_path, "id,name,score,day\n1,Alice,1.5,2024-01-02\n2,\"Bob, Jr\",,"
                          "2024-02-03\n")
    out, err, code = run(shell, f".import {path} people")
    assert code == 0 and err == ""
    assert out.startswith("Imported 2 rows into people (new table) in ")
    assert run(shell, ".schema people")[0] == \
        "CREATE TABLE people (id BIGINT, name VARCHAR, score DOUBLE, day DATE);\n"
    shell.mode = "csv"
    assert run(shell, "SELECT * FROM people ORDER BY id;")[0] == \
        "id,name,score,day\n1,Alice,1.5,2024-01-02\n2,\"Bob, Jr\",,2024-02-03\n"


def test_import_into_an_existing_table_by_name_or_position(shell, tmp_path):
    users(shell)
    by_name = _csv(tmp_path, "NAME,id\nCarol,3\n", "a.csv")
    by_pos = _csv(tmp_path, "x,y,z\n4,Dan,41\n", "b.csv")
    assert run(shell, f".import {by_name} users")[2] == 0
    assert run(shell, f".import {by_pos} users")[2] == 0
    shell.mode = "csv"
    assert run(shell, "SELECT * FROM users ORDER BY id;")[0].splitlines()[3:] == \
        ["3,Carol,", "4,Dan,41"]
    bad = _csv(tmp_path, "a,b\n1,2\n", "c.csv")
    _, err, code = run(shell, f".import {bad} users")
    assert "has columns (a, b) but table users has (id, name, age)" in err and code == 8


def test_a_failing_import_keeps_nothing(shell, tmp_path, monkeypatch):
    users(shell)
    dup = _csv(tmp_path, "id,name,age\n5,Eve,1\n1,Again,2\n")
    _, err, code = run(shell, f".import {dup} users")
    assert code == 12 and "Error:" in err  # primary key violated: nothing inserted
    assert run(shell, ".mode csv", "SELECT count(*) AS n FROM users;")[0] == "n\n2\n"
    _, err, code = run(shell, f".import {dup} fresh_table")
    assert code == 0  # a new table has no key
    bad = _csv(tmp_path, "n\n1\n" + "2\n" * 10 + "x\n", "bad.csv")
    run(shell, "CREATE TABLE nums (n INT);")
    _, err, code = run(shell, f".import {bad} nums")
    assert code != 0 and "bad.csv" in err and "nothing was imported" in err
    assert run(shell, "SELECT count(*) AS n FROM nums;")[0] == "n\n0\n"
    # types are guessed from the first block: a later block that does not fit fails the
    # import after rows were inserted, and the new table goes with them
    monkeypatch.setattr("sochdb.cli.transfer.BLOCK_BYTES", 64)
    late = _csv(tmp_path, "n\n" + "1\n" * 200 + "x\n", "late.csv")
    _, err, code = run(shell, f".import {late} brand_new")
    assert code == 4 and "late.csv" in err and "nothing was imported" in err
    assert run(shell, ".tables brand%")[0] == ""


def test_import_inside_an_open_transaction_joins_it(shell, tmp_path):
    path = _csv(tmp_path, "a\n1\n2\n")
    out, _, _ = run(shell, "BEGIN;", f".import {path} t")
    assert "inside the open transaction: COMMIT to keep it" in out
    run(shell, "ROLLBACK;")
    assert run(shell, ".tables")[0] == ""


def test_import_every_format(shell, tmp_path):
    t = pa.table({"id": [1, 2], "name": ["a", "b"], "meta": [{"k": 1}, {"k": 2}],
                  "vals": [[1, 2], [3]]})
    pq.write_table(t, tmp_path / "t.parquet")
    with pa.OSFile(str(tmp_path / "t.arrow"), "wb") as f, pa.ipc.new_file(f, t.schema) as w:
        w.write_table(t)
    (tmp_path / "t.jsonl").write_text('{"id": 1, "name": "a", "meta": {"k": 1}, "vals": [1, 2]}'
                                      '\n{"id": 2, "name": "b", "meta": {"k": 2}, '
                                      '"vals": [3]}\n')
    (tmp_path / "t.json").write_text(json.dumps(t.to_pylist()))
    (tmp_path / "t.tsv").write_text("id\tname\n1\ta\n2\tb\n")
    (tmp_path / "t.txt").write_text("id\tname\n1\ta\n2\tb\n")
    shell.mode = "jsonl"
    for ext in ("parquet", "arrow", "jsonl", "json"):
        out, err, code = run(shell, f".import {tmp_path}/t.{ext} t_{ext}",
                             f"SELECT * FROM t_{ext} ORDER BY id;")
        assert code == 0, err
        rows = [json.loads(line) for line in out.splitlines()[1:]]
        assert rows == [{"id": 1, "name": "a", "meta": '{"k": 1}', "vals": [1, 2]},
                        {"id": 2, "name": "b", "meta": '{"k": 2}', "vals": [3]}], ext
    assert run(shell, f".import {tmp_path}/t.tsv t_tsv", "SELECT name FROM t_tsv;")[0] \
        .splitlines()[1:] == ['{"name":"a"}', '{"name":"b"}']
    _, err, code = run(shell, f".import {tmp_path}/t.txt t_txt")
    assert "cannot tell the format from the extension .txt" in err and code == 8
    assert run(shell, f".import {tmp_path}/t.txt t_txt --format tsv")[2] == 0
    _, err, code = run(shell, f".import {tmp_path}/none.csv x")
    assert "none.csv: no such file" in err and code == 5
    (tmp_path / "obj.json").write_text('{"not": "a list"}')
    assert run(shell, f".import {tmp_path}/obj.json one")[2] == 0  # one object, one row
    (tmp_path / "scalar.json").write_text('[1, 2]')
    _, err, code = run(shell, f".import {tmp_path}/scalar.json s")
    assert "expected a JSON array of objects" in err and code == 4


def test_import_progress_bar_appears_on_a_terminal_and_is_erased(shell, tmp_path,
                                                                 monkeypatch):
    monkeypatch.setenv("SOCHDB_PROGRESS_DELAY", "0")
    monkeypatch.setattr("sochdb.cli.transfer.BLOCK_BYTES", 1 << 12)
    path = _csv(tmp_path, "a,b\n" + "".join(f"{i},row{i}\n" for i in range(20000)))
    shell.err = Tty()
    shell.err_is_tty = True
    monkeypatch.setattr(ProgressBar, "update", _no_throttle(ProgressBar.update))
    out, _, code = run(shell, f".import {path} big")
    err = shell.err.getvalue()
    assert code == 0 and "Imported 20,000 rows" in out
    assert f"\rImporting {path} " in err and "rows/s" in err and "%" in err
    assert err.endswith("\r")  # the bar erased itself


def _no_throttle(update):
    def go(self, fraction, rows):
        self._last = 0.0
        update(self, fraction, rows)
    return go


def test_export_every_format_and_queries(shell, tmp_path):
    users(shell)
    for ext in ("csv", "tsv", "parquet", "jsonl", "json", "arrow", "md", "toon"):
        out, err, code = run(shell, f".export users {tmp_path}/u.{ext}")
        assert code == 0 and out == f"Exported 2 rows to {tmp_path}/u.{ext}\n", err
    assert (tmp_path / "u.csv").read_text() == "id,name,age\n1,Alice,30\n2,Bob,\n"
    assert (tmp_path / "u.tsv").read_text() == "id\tname\tage\n1\tAlice\t30\n2\tBob\t\n"
    assert pq.read_table(tmp_path / "u.parquet").to_pylist()[1] == \
        {"id": 2, "name": "Bob", "age": None}
    assert json.loads((tmp_path / "u.json").read_text())[0] == {"id": 1, "name": "Alice",
                                                                "age": 30}
    assert (tmp_path / "u.jsonl").read_text().count("\n") == 2
    assert pa.ipc.open_file(str(tmp_path / "u.arrow")).read_all().num_rows == 2
    assert (tmp_path / "u.md").read_text().startswith("| id  | name  | age  |")
    assert (tmp_path / "u.toon").read_text() == "result[2]{id,name,age}:1,Alice,30;2,Bob,null\n"
    out, _, _ = run(shell, f".export 'SELECT name FROM users WHERE id = 2' {tmp_path}/q.csv")
    assert (tmp_path / "q.csv").read_text() == "name\nBob\n"
    # the import of an export gives the table back
    run(shell, f".import {tmp_path}/u.parquet users_copy")
    shell.mode = "csv"
    assert run(shell, "SELECT * FROM users_copy ORDER BY id;")[0] == \
        "id,name,age\n1,Alice,30\n2,Bob,\n"


def test_a_failed_export_leaves_no_file(shell, tmp_path):
    _, err, code = run(shell, f".export nosuch {tmp_path}/x.csv")
    assert code == 11 and "unknown table 'nosuch'" in err
    assert list(tmp_path.glob("x.csv*")) == []
    _, err, code = run(shell, f".export users {tmp_path}/x.xlsx")
    assert "cannot tell the format from the extension .xlsx" in err


def test_kv_get_put_delete_scan(shell):
    out, err, _ = run(shell, ".kv put user:1 '{\"name\": \"Alice\"}'", ".kv put user:2 Bob",
                      ".kv put other x", ".kv get user:1", ".kv get missing")
    assert out == 'OK\nOK\nOK\n{"name": "Alice"}\n'
    assert err == "no value for key 'missing'\n"
    shell.mode = "csv"
    assert run(shell, ".kv scan user:")[0] == 'key,value\nuser:1,"{""name"": ""Alice""}"\n' \
                                              "user:2,Bob\n"
    out, err, _ = run(shell, ".kv scan '' 2")
    assert out.count("\n") == 3 and "more keys follow" in err
    run(shell, ".kv delete user:2")
    assert run(shell, ".kv scan user:")[0].count("\n") == 2
    shell.target.db.put(b"bin", b"\xff\x00")
    assert run(shell, ".kv get bin")[0] == "\\xff00\n"
    _, err, code = run(shell, ".kv pop x")
    assert "expected get, put, delete or scan" in err and code == 8
    _, err, code = run(shell, ".kv put onlykey")
    assert "usage: .kv" in err


def test_stats_and_checkpoint(shell):
    users(shell)
    shell.mode = "csv"
    stats = dict(line.split(",", 1) for line in run(shell, ".stats")[0].splitlines()[1:])
    assert stats["tables"] == "1" and int(stats["transactions_committed"]) >= 2
    out = run(shell, ".checkpoint")[0]
    assert out.startswith("Checkpoint done (LSN ")
    stats = dict(line.split(",", 1) for line in run(shell, ".stats")[0].splitlines()[1:])
    assert stats["checkpoints"] == "1"


def test_quit_and_exit_leave_with_a_code(shell):
    with pytest.raises(ExitShell) as info:
        run(shell, ".quit", "SELECT 'not run';")
    assert info.value.code == 0
    with pytest.raises(ExitShell) as info:
        run(shell, ".exit 3")
    assert info.value.code == 3
    with pytest.raises(ExitShell):
        run(shell, ".q")
    _, err, _ = run(shell, ".exit soon")
    assert ".exit takes a number" in err


def test_bad_dot_command_lines(shell):
    _, err, code = run(shell, ".tabels")
    assert "unknown command .tabels; did you mean .tables?" in err and code == 8
    _, err, _ = run(shell, ".kv put 'unclosed")
    assert "cannot read the arguments of kv" in err
    _, err, _ = run(shell, ".schema a b")
    assert "usage: .schema [TABLE]" in err
    _, err, _ = run(shell, ".")
    assert "a lone '.' is not a command" in err
    _, err, _ = run(shell, ".import a.csv t --colour red")
    assert "unknown option --colour" in err


def test_read_failure_raises_script_failed_for_the_interactive_loop(shell, tmp_path):
    bad = tmp_path / "bad.sql"
    bad.write_text("SELEC 1;\n")
    with pytest.raises(ScriptFailed):
        shell.run_file(str(bad))
