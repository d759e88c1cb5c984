"""Output modes of the shell and its error display: tables with types, CSV/JSON that
standard parsers read back, Markdown, eliding of long and wide tables, carets under faults."""

from __future__ import annotations

import csv
import datetime
import decimal
import io
import json

import pyarrow as pa
import pytest

from sochdb import Database
from sochdb.cli.diagnostics import format_error, locate
from sochdb.cli.render import (MODES, format_table, json_literals, text_cells, write_csv,
                               write_jsonl, write_markdown, write_result)
from sochdb.errors import BindError, ConstraintError, ParseError

TABLE = pa.table({
    "id": pa.array([1, 2, None], pa.int64()),
    "name": ["Alice", 'B"o,b\nx', ""],
    "score": [1.0, 0.1, float("nan")],
    "ok": [True, False, None],
    "raw": [b"\x00\x01", None, b"z"],
    "tags": [[1, 2], None, []],
    "at": pa.array([datetime.datetime(2020, 1, 1), None,
                    datetime.datetime(2020, 1, 1, 1, 2, 3, 500000)], pa.timestamp("us")),
    "price": pa.array([decimal.Decimal("1.50"), None, None], pa.decimal128(5, 2)),
})
TYPES = ["BIGINT", "VARCHAR", "DOUBLE", "BOOLEAN", "BLOB", "BIGINT[]", "TIMESTAMP",
         "DECIMAL(5,2)"]


def test_text_cells_spell_values_for_people():
    assert text_cells(TABLE["score"]).to_pylist() == ["1.0", "0.1", "nan"]
    assert text_cells(TABLE["ok"]).to_pylist() == ["true", "false", None]
    assert text_cells(TABLE["raw"]).to_pylist() == ["\\x0001", None, "\\x7a"]
    assert text_cells(TABLE["tags"]).to_pylist() == ["[1, 2]", None, "[]"]
    assert text_cells(TABLE["at"]).to_pylist() == ["2020-01-01 00:00:00", None,
                                                   "2020-01-01 01:02:03.5"]
    assert text_cells(TABLE["price"]).to_pylist() == ["1.50", None, None]


def test_table_mode_has_names_types_right_aligned_numbers_and_null():
    lines = format_table(["id", "name"], ["BIGINT", "VARCHAR"], TABLE.select(["id", "name"]))
    assert lines[0].startswith("┌") and lines[-1].startswith("└")
    assert lines[1] == "│ id     │ name     │"
    assert lines[2] == "│ BIGINT │ VARCHAR  │"
    assert lines[4] == "│      1 │ Alice    │"
    assert lines[5] == "│      2 │ B\"o,b\\nx │"   # a newline is shown, not printed
    assert lines[6] == "│   NULL │          │"


def test_long_results_show_head_and_tail_with_a_footer():
    t = pa.table({"x": list(range(1000))})
    lines = format_table(["x"], ["BIGINT"], t, max_rows=10)
    body = lines[4:-2]
    assert [b.strip("│ ") for b in body] == ["0", "1", "2", "3", "4", "·", "995", "996",
                                             "997", "998", "999"]
    assert lines[-1] == "1,000 rows (10 shown)"
    assert len(format_table(["x"], ["BIGINT"], t, max_rows=0)) == 1000 + 5


def test_wide_tables_hide_middle_columns_and_ascii_fallback():
    t = pa.table({f"column_{i}": [i * 1000] for i in range(12)})
    lines = format_table(t.column_names, ["BIGINT"] * 12, t, max_width=60)
    assert all(len(ln) <= 60 for ln in lines)
    assert "…" in lines[1] and "column_0" in lines[1] and "column_11" in lines[1]
    assert lines[-1] == "12 columns (4 shown)"
    ascii_lines = format_table(["a"], ["BIGINT"], pa.table({"a": [1]}), ascii_only=True)
    assert ascii_lines[0] == "+--------+" and ascii_lines[1] == "| a      |"


def test_long_cells_are_cut_and_wide_characters_count_double():
    t = pa.table({"s": ["x" * 100, "日本語"]})
    lines = format_table(["s"], ["VARCHAR"], t)
    assert "x" * 39 + "…" in lines[4]
    assert lines[5] == "│ 日本語" + " " * 34 + " │"


def test_csv_round_trips_through_the_csv_module():
    out = io.StringIO()
    write_csv(out, TABLE.column_names, TABLE)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == TABLE.column_names
    assert rows[1] == ["1", "Alice", "1.0", "true", "\\x0001", "[1, 2]",
                       "2020-01-01 00:00:00", "1.50"]
    assert rows[2][1] == 'B"o,b\nx'
    assert rows[3][:3] == ["", "", "nan"]
    assert '\n,"",nan,' in out.getvalue()  # NULL is an empty field, '' is quoted


def test_json_and_jsonl_parse_back():
    out = io.StringIO()
    write_jsonl(out, TABLE.column_names, TABLE)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert rows[0] == {"id": 1, "name": "Alice", "score": 1.0, "ok": True, "raw": "\\x0001",
                       "tags": [1, 2], "at": "2020-01-01 00:00:00", "price": 1.5}
    assert rows[1]["name"] == 'B"o,b\nx' and rows[1]["tags"] is None
    assert rows[2]["score"] is None  # NaN is not JSON
    arr = io.StringIO()
    write_jsonl(arr, TABLE.column_names, TABLE, array=True)
    assert json.loads(arr.getvalue()) == rows
    empty = io.StringIO()
    write_jsonl(empty, ["a"], pa.table({"a": pa.array([], pa.int64())}), array=True)
    assert json.loads(empty.getvalue()) == []


def test_json_escapes_control_characters():
    lit = json_literals(pa.array(["tab\there", "bell\x07", None, "quote\"back\\"]))
    assert [json.loads(x) for x in lit.to_pylist()] == ["tab\there", "bell\x07", None,
                                                        "quote\"back\\"]


def test_markdown_escapes_pipes_and_aligns_numbers():
    out = io.StringIO()
    write_markdown(out, ["id", "name"], ["BIGINT", "VARCHAR"],
                   pa.table({"id": [1, 22], "name": ["a|b", None]}))
    assert out.getvalue().splitlines() == [
        "| id  | name |",
        "|----:|------|",
        "|   1 | a\\|b |",
        "|  22 | NULL |",
    ]


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_writes_a_real_result(mode):
    db = Database.open(":memory:")
    r = db.execute_sql("SELECT 1 AS a, 'x' AS b")
    out = io.StringIO()
    write_result(out, mode, r.columns, r.types, r.arrow(), toon=r.toon())
    assert "x" in out.getvalue() and out.getvalue().endswith("\n")
    db.close()


def test_parse_error_caret_marks_the_whole_token():
    db = Database.open(":memory:")
    sql = "SELECT *\nFROM t\nWHERE"
    with pytest.raises(ParseError) as info:
        db.execute_sql(sql)
    lines = format_error(info.value, sql)
    assert lines[0].startswith("Error: syntax error at line 3")
    assert lines[1] == "  LINE 3: WHERE"
    assert lines[2] == "          ^^^^^"
    db.close()


def test_unknown_names_are_marked_where_written_outside_strings():
    db = Database.open(":memory:")
    db.execute_sql("CREATE TABLE users (id INT, name TEXT)")
    sql = "SELECT 'nme', nme FROM users"
    with pytest.raises(BindError) as info:
        db.execute_sql(sql)
    assert locate(info.value, sql) == (1, 15, 3)
    assert format_error(info.value, sql)[2] == "                ^^^"
    with pytest.raises(BindError) as info:
        db.execute_sql("SELECT frob(id) FROM users")
    assert locate(info.value, "SELECT frob(id) FROM users") == (1, 8, 4)
    db.close()


def test_errors_without_a_position_are_one_line():
    err = ConstraintError("UNIQUE constraint failed:\n  users.id = 1")
    assert format_error(err, "INSERT INTO users VALUES (1)", "x.sql:4: ") == [
        "x.sql:4: Error: UNIQUE constraint failed: users.id = 1"]
    assert format_error(OSError(2, "No such file or directory", "f.csv")) == [
        "Error: f.csv: No such file or directory"]


def test_very_long_lines_show_a_window_around_the_fault():
    sql = "SELECT " + ", ".join(f"c{i}" for i in range(100)) + " FORM t"
    err = ParseError("syntax error near 'FORM'", line=1, column=sql.index("FORM") + 4)
    _, text, caret = format_error(err, sql)
    assert len(text) < 110
    assert text[caret.index("^"):caret.index("^") + 4] == "FORM"
