"""sochdb.sql.copy: COPY to and from Parquet, CSV, JSON lines and Arrow files, round trips with
NULLs, dates and decimals, constraints on load, and bad files refused with typed errors that
name the file (and the row and column of a bad value) while adding no rows."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sochdb import Database
from sochdb.errors import (BindError, ConstraintError, DataError, NotSupportedError,
                           OperationalError)

COLUMNS = ("id INTEGER, name TEXT, born DATE, amount DECIMAL(15,2), ratio DOUBLE, "
           "ok BOOLEAN, seen TIMESTAMP, at TIMESTAMPTZ, small SMALLINT")
ROWS = [
    (1, "ann", dt.date(2024, 2, 29), Decimal("1234567890123.45"), 0.1, True,
     dt.datetime(2024, 1, 2, 3, 4, 5, 6), dt.datetime(2024, 1, 2, 1, 4, 5, tzinfo=dt.timezone.utc),
     -7),
    (2, None, None, None, None, None, None, None, None),
    # Text that CSV has to quote or could mistake for something else.
    (3, 'a,"b"\nc', dt.date(1969, 12, 31), Decimal("-0.01"), -1e300, False,
     dt.datetime(1970, 1, 1), dt.datetime(1960, 6, 1, 12, tzinfo=dt.timezone.utc), 32767),
    (4, "", dt.date(1, 1, 1), Decimal("0.00"), 0.0, True, None, None, 0),
    (5, "NULL", None, Decimal("9999999999999.99"), 1.5, None, None, None, None),
    (6, "00123", None, None, None, None, None, None, None),
]


@pytest.fixture
def src(db):
    db.execute_sql(f"CREATE TABLE src ({COLUMNS})")
    db.executemany("INSERT INTO src VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", ROWS)
    return db


def rows(db: Database, table: str) -> list[tuple]:
    return db.execute_sql(f"SELECT * FROM {table} ORDER BY id").rows()


def count(db: Database, table: str) -> int:
    return db.execute_sql(f"SELECT COUNT(*) FROM {table}").scalar()


# -- round trips -------------------------------------------------------------------------


@pytest.mark.parametrize("ext", ["parquet", "csv", "tsv", "arrow", "jsonl"])
def test_copy_to_and_back_from_is_exact(src, tmp_path, ext):
    path = str(tmp_path / f"src.{ext}")
    out = src.execute_sql(f"COPY src TO '{path}'")
    assert str(out) == f"6 rows copied to {path}" and out.rowcount == 6
    src.execute_sql(f"CREATE TABLE back ({COLUMNS})")
    back = src.execute_sql(f"COPY back FROM '{path}'")
    assert str(back) == f"6 rows copied from {path}" and back.rowcount == 6
    assert rows(src, "back") == ROWS
    assert src.execute_sql("SELECT * FROM back ORDER BY id").arrow().equals(
        src.execute_sql("SELECT * FROM src ORDER BY id").arrow())


def test_parquet_file_keeps_the_sql_types(src, tmp_path):
    path = str(tmp_path / "src.parquet")
    src.execute_sql(f"COPY src TO '{path}'")
    t = pq.read_table(path)
    assert t.schema.types == [pa.int64(), pa.string(), pa.date32(), pa.decimal128(15, 2),
                              pa.float64(), pa.bool_(), pa.timestamp("us"),
                              pa.timestamp("us", tz="UTC"), pa.int16()]
    assert t.column("amount").to_pylist() == [r[3] for r in ROWS]
    assert t.column("name").null_count == 1


def test_csv_writes_null_unquoted_and_text_quoted(src, tmp_path):
    path = tmp_path / "src.csv"
    src.execute_sql(f"COPY (SELECT id, name FROM src WHERE id IN (2, 4, 5)) TO '{path}'")
    assert path.read_text() == '"id","name"\n2,\n4,""\n5,"NULL"\n'


def test_one_column_csv_keeps_nulls(db, tmp_path):
    path = str(tmp_path / "one.csv")
    db.execute_sql("CREATE TABLE one (s TEXT)")
    db.execute_sql("INSERT INTO one VALUES (NULL), ('a'), (NULL), ('')")
    db.execute_sql(f"COPY one TO '{path}' (HEADER false)")
    db.execute_sql("CREATE TABLE two (s TEXT)")
    assert db.execute_sql(f"COPY two FROM '{path}' (HEADER false)").rowcount == 4
    assert db.execute_sql("SELECT s FROM two").rows() == [(None,), ("a",), (None,), ("",)]


def test_csv_options_header_and_delimiter(src, tmp_path):
    path = tmp_path / "src.txt"
    src.execute_sql(f"COPY (SELECT id, name FROM src WHERE id < 3) TO '{path}' "
                    f"(FORMAT csv, HEADER false, DELIMITER '|')")
    assert path.read_text() == '1|"ann"\n2|\n'
    src.execute_sql("CREATE TABLE back (id INTEGER, name TEXT)")
    src.execute_sql(f"COPY back FROM '{path}' (FORMAT csv, HEADER false, DELIMITER '|')")
    assert rows(src, "back") == [(1, "ann"), (2, None)]


def test_copy_query_to_parquet(src, tmp_path):
    path = str(tmp_path / "q.parquet")
    out = src.execute_sql(f"COPY (SELECT id, amount * 2 AS doubled, UPPER(name) AS shout "
                          f"FROM src WHERE id <= 3 ORDER BY id DESC) TO '{path}'")
    assert out.rowcount == 3
    t = pq.read_table(path)
    assert t.schema.names == ["id", "doubled", "shout"]
    assert pa.types.is_decimal(t.schema.field("doubled").type)
    assert t.to_pylist() == [
        {"id": 3, "doubled": Decimal("-0.02"), "shout": 'A,"B"\nC'},
        {"id": 2, "doubled": None, "shout": None},
        {"id": 1, "doubled": Decimal("2469135780246.90"), "shout": "ANN"}]


def test_copy_from_matches_columns_by_name_or_list(db, tmp_path):
    path = str(tmp_path / "cols.parquet")
    pq.write_table(pa.table({"b": ["x", "y"], "a": [1, 2]}), path)
    db.execute_sql("CREATE TABLE t (a INTEGER, b TEXT, c INTEGER DEFAULT 7)")
    db.execute_sql(f"COPY t FROM '{path}'")  # by name, c gets its default
    db.execute_sql(f"COPY t (b, a) FROM '{path}'")  # an explicit list, by position
    assert db.execute_sql("SELECT a, b, c FROM t ORDER BY a, b").rows() == [
        (1, "x", 7), (1, "x", 7), (2, "y", 7), (2, "y", 7)]


def test_copy_into_rolled_back_transaction_adds_nothing(db, tmp_path):
    path = str(tmp_path / "t.parquet")
    pq.write_table(pa.table({"a": [1, 2, 3]}), path)
    db.execute_sql("CREATE TABLE t (a INTEGER)")
    db.execute_sql("BEGIN")
    db.execute_sql(f"COPY t FROM '{path}'")
    assert count(db, "t") == 3
    db.execute_sql("ROLLBACK")
    assert count(db, "t") == 0


def test_copied_rows_survive_reopen(db_path, tmp_path):
    path = str(tmp_path / "src.parquet")
    with Database.open(db_path) as db:
        db.execute_sql(f"CREATE TABLE src ({COLUMNS})")
        db.executemany("INSERT INTO src VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", ROWS)
        db.execute_sql(f"COPY src TO '{path}'")
        db.execute_sql(f"CREATE TABLE back ({COLUMNS})")
        db.execute_sql(f"COPY back FROM '{path}'")
    with Database.open(db_path) as db:
        assert rows(db, "back") == ROWS


def test_blob_and_vector_columns_round_trip(db, tmp_path):
    db.execute_sql("CREATE TABLE v (id INTEGER, b BLOB, e FLOAT[2])")
    db.execute_sql("INSERT INTO v VALUES (?, ?, [1.0, 2.5]), (?, NULL, NULL)",
                   [1, b"\x00\xff\\x41", 2])
    for ext in ("parquet", "arrow"):
        path = str(tmp_path / f"v.{ext}")
        db.execute_sql(f"COPY v TO '{path}'")
        db.execute_sql(f"CREATE TABLE v_{ext} (id INTEGER, b BLOB, e FLOAT[2])")
        db.execute_sql(f"COPY v_{ext} FROM '{path}'")
        assert rows(db, f"v_{ext}") == [(1, b"\x00\xff\\x41", [1.0, 2.5]), (2, None, None)]
    path = str(tmp_path / "b.jsonl")
    db.execute_sql(f"COPY (SELECT id, b FROM v) TO '{path}'")
    db.execute_sql("CREATE TABLE v_json (id INTEGER, b BLOB)")
    db.execute_sql(f"COPY v_json FROM '{path}'")
    assert rows(db, "v_json") == [(1, b"\x00\xff\\x41"), (2, None)]


# -- constraints -------------------------------------------------------------------------


@pytest.fixture
def checked(db):
    db.execute_sql("CREATE TABLE c (id INTEGER PRIMARY KEY, v INTEGER NOT NULL CHECK (v > 0), "
                   "code TEXT UNIQUE)")
    db.execute_sql("INSERT INTO c VALUES (1, 1, 'a')")
    return db


@pytest.mark.parametrize("body, message", [
    ("id,v,code\n2,5,b\n3,-1,c\n", "CHECK constraint"),
    ("id,v,code\n2,5,b\n1,6,c\n", r"PRIMARY KEY .* duplicate key \(id\)=\(1\)"),
    ("id,v,code\n2,5,b\n3,,c\n", r"NOT NULL .* c\.v"),
    ("id,v,code\n2,5,b\n3,6,a\n", "UNIQUE"),
    ("id,v,code\n2,5,b\n3,6,b\n", "UNIQUE"),
])
def test_constraint_violation_adds_no_rows(checked, tmp_path, body, message):
    path = tmp_path / "c.csv"
    path.write_text(body)
    with pytest.raises(ConstraintError, match=message):
        checked.execute_sql(f"COPY c FROM '{path}'")
    assert rows(checked, "c") == [(1, 1, "a")]


def test_constraint_violation_from_parquet(checked, tmp_path):
    path = str(tmp_path / "c.parquet")
    pq.write_table(pa.table({"id": [5, 6], "v": [1, 0], "code": ["x", "y"]}), path)
    with pytest.raises(ConstraintError, match="CHECK constraint"):
        checked.execute_sql(f"COPY c FROM '{path}'")
    assert count(checked, "c") == 1


# -- bad files ---------------------------------------------------------------------------


@pytest.fixture
def target(db):
    db.execute_sql("CREATE TABLE t (id INTEGER, name TEXT, born DATE, amount DECIMAL(15,2))")
    db.execute_sql("INSERT INTO t VALUES (1, 'kept', '2000-01-01', 1.00)")
    return db


def write_bad(tmp_path, kind: str) -> str:
    """A file that COPY ... FROM must refuse."""
    if kind == "missing":
        return str(tmp_path / "missing.parquet")
    path = tmp_path / {"garbage": "g.parquet", "truncated": "tr.parquet", "empty": "e.csv",
                       "not_parquet": "csv_inside.parquet"}.get(kind, f"{kind}.csv")
    if kind == "garbage":
        path.write_bytes(b"PAR1" + os.urandom(200) + b"PAR1")
    elif kind == "truncated":
        pq.write_table(pa.table({"id": list(range(1000))}), path)
        data = path.read_bytes()
        path.write_bytes(data[:len(data) // 2])
    elif kind == "not_parquet":
        path.write_text("id,name\n1,a\n")
    elif kind == "empty":
        path.write_text("")
    elif kind == "wrong_count":
        path.write_text("id,name,born,amount\n2,b,2024-01-01,1.00\n3,c\n")
    elif kind == "too_few_columns":
        path.write_text("x,y\n1,2\n")
    elif kind == "bad_date":
        path.write_text("id,name,born,amount\n2,b,2024-01-01,1.00\n3,c,2024-13-45,1.00\n")
    elif kind == "bad_int":
        path.write_text("id,name,born,amount\n2,b,2024-01-01,1.00\nthree,c,2024-01-02,1.00\n")
    elif kind == "bad_decimal":
        path.write_text("id,name,born,amount\n2,b,2024-01-01,1.00\n3,c,2024-01-02,1.00\n"
                        "4,d,2024-01-03,12x\n")
    return str(path)


@pytest.mark.parametrize("kind, error, message", [
    ("missing", OperationalError, "no such file"),
    ("garbage", DataError, "cannot read .* as parquet"),
    ("truncated", DataError, "cannot read .* as parquet"),
    ("not_parquet", DataError, "cannot read .* as parquet"),
    ("empty", DataError, "cannot read .* as csv: Empty CSV file"),
    ("wrong_count", DataError, "cannot read .* as csv: row 2: .*Expected 4 columns, got 2"),
    ("too_few_columns", DataError, "has 2 columns, table t expects 4"),
    ("bad_date", DataError, r"row 2: .*column t\.born to DATE"),
    ("bad_int", DataError, r"row 2: .*column t\.id to BIGINT.*'three'"),
    ("bad_decimal", DataError, r"row 3: .*column t\.amount to DECIMAL\(15,2\)"),
])
def test_bad_file_is_refused_naming_it(target, tmp_path, kind, error, message):
    path = write_bad(tmp_path, kind)
    with pytest.raises(error, match=message) as info:
        target.execute_sql(f"COPY t FROM '{path}'")
    assert repr(path) in str(info.value)
    assert info.value.details["path"] == path
    assert rows(target, "t") == [(1, "kept", dt.date(2000, 1, 1), Decimal("1.00"))]


def test_bad_value_in_parquet_names_row_and_column(target, tmp_path):
    path = str(tmp_path / "p.parquet")
    pq.write_table(pa.table({"id": ["1", "2", "x3"], "name": ["a", "b", "c"]}), path)
    with pytest.raises(DataError, match=r"row 3: .*column t\.id") as info:
        target.execute_sql(f"COPY t FROM '{path}'")
    assert repr(path) in str(info.value)
    assert info.value.details["row"] == 3 and info.value.details["column"] == "id"
    assert count(target, "t") == 1


@given(n=st.integers(1, 3000), data=st.data())
@settings(max_examples=25, deadline=None)
def test_first_bad_row_is_named(tmp_path_factory, n, data):
    bad = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=3))
    path = str(tmp_path_factory.mktemp("bad") / "d.parquet")
    dates = pa.array(["2024-01-01"] * n)
    for i in bad:
        dates = pa.concat_arrays([dates.slice(0, i), pa.array(["nope"]), dates.slice(i + 1)])
    pq.write_table(pa.table({"d": dates}), path)
    with Database.open(":memory:") as db:
        db.execute_sql("CREATE TABLE t (d DATE)")
        with pytest.raises(DataError) as info:
            db.execute_sql(f"COPY t FROM '{path}'")
        assert info.value.details["row"] == min(bad) + 1
        assert f"row {min(bad) + 1}: " in str(info.value)


@pytest.mark.parametrize("statement, error, message", [
    ("COPY t FROM '{d}/t.xlsx'", NotSupportedError, "format 'xlsx' is not supported"),
    ("COPY t TO '{d}/t.xlsx'", NotSupportedError, "format 'xlsx' is not supported"),
    ("COPY t FROM '{d}/noext'", NotSupportedError, "format '' is not supported"),
    ("COPY t TO '{d}/t.bin' (FORMAT excel)", NotSupportedError, "format 'excel'"),
    ("COPY t TO '{d}/no/such/dir/t.parquet'", OperationalError, "cannot write"),
    ("COPY v TO '{d}/v.csv'", NotSupportedError, "cannot write .* as csv"),
])
def test_bad_targets_are_refused_naming_the_file(target, tmp_path, statement, error, message):
    target.execute_sql("CREATE TABLE v (e FLOAT[2])")
    target.execute_sql("INSERT INTO v VALUES ([1.0, 2.0])")
    sql = statement.format(d=tmp_path)
    with pytest.raises(error, match=message) as info:
        target.execute_sql(sql)
    assert repr(sql.split("'")[1]) in str(info.value)
    assert count(target, "t") == 1
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]


def test_unknown_tables(target, tmp_path):
    path = str(tmp_path / "t.parquet")
    target.execute_sql(f"COPY t TO '{path}'")
    with pytest.raises(BindError, match="unknown table 'nope'"):
        target.execute_sql(f"COPY nope FROM '{path}'")
    with pytest.raises(BindError, match="unknown table 'nope'"):
        target.execute_sql(f"COPY nope TO '{tmp_path}/x.parquet'")
    assert not os.path.exists(tmp_path / "x.parquet")
