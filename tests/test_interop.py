"""sochdb.interop and Result export: Arrow/pandas data in (create_table_from, insert_arrow,
register) and out (arrow, df, fetch_record_batch, the Arrow C stream read by pyarrow, polars
and DuckDB), kept across reopen and kill -9, and refused loads that leave nothing behind."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from sochdb import Database
from sochdb.engine.engine import BULK_ROWS
from sochdb.errors import BindError, ConstraintError, DataError, ProgrammingError

UTC = dt.timezone.utc
BIG = "x" * 70_000 + "é"  # a value past 64 KiB
N_BULK = 600_000

# name -> (input array, type it reads back as); every column holds a NULL.
TYPES = {
    "int8": (pa.array([-128, None, 127], pa.int8()), pa.int8()),
    "int16": (pa.array([-32768, None, 32767], pa.int16()), pa.int16()),
    "int32": (pa.array([-2**31, None, 2**31 - 1], pa.int32()), pa.int32()),
    "int64": (pa.array([-2**63, None, 2**63 - 1], pa.int64()), pa.int64()),
    "float32": (pa.array([1.5, None, -3.25], pa.float32()), pa.float32()),
    "float64": (pa.array([0.1, None, -1e300], pa.float64()), pa.float64()),
    "bool": (pa.array([True, None, False]), pa.bool_()),
    "decimal": (pa.array([Decimal("1234567890123.45"), None, Decimal("-0.01")],
                         pa.decimal128(15, 2)), pa.decimal128(15, 2)),
    "date32": (pa.array([dt.date(2024, 2, 29), None, dt.date(1969, 12, 31)], pa.date32()),
               pa.date32()),
    "timestamp_utc": (pa.array([dt.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC), None,
                                dt.datetime(1960, 1, 1, tzinfo=UTC)],
                               pa.timestamp("us", tz="UTC")), pa.timestamp("us", tz="UTC")),
    "timestamp_zoned": (pa.array([dt.datetime(2024, 7, 1, 12, 0), None,
                                  dt.datetime(2024, 1, 1, 0, 30)],
                                 pa.timestamp("us", tz="America/New_York")),
                        pa.timestamp("us", tz="America/New_York")),
    "timestamp": (pa.array([dt.datetime(2024, 1, 2, 3, 4, 5, 6), None,
                            dt.datetime(1970, 1, 1)], pa.timestamp("us")), pa.timestamp("us")),
    "timestamp_ms": (pa.array([dt.datetime(2024, 1, 2, 3, 4, 5, 6000), None,
                               dt.datetime(1999, 12, 31, 23, 59, 59)], pa.timestamp("ms")),
                     pa.timestamp("ms")),
    "string": (pa.array(["a", None, "é ü"]), pa.string()),
    # Other encodings of VARCHAR and BLOB read back as the plain type.
    "large_string": (pa.array([BIG, None, ""], pa.large_string()), pa.string()),
    "binary": (pa.array([b"\x00\xff", None, b""], pa.binary()), pa.binary()),
    "large_binary": (pa.array([b"\x00" * 70_000, None, b"z"], pa.large_binary()), pa.binary()),
    "dictionary": (pa.array(["red", None, "red"]).dictionary_encode(), pa.string()),
}


def sql_table(db: Database, name: str = "t", order: str = "k") -> pa.Table:
    return db.execute_sql(f"SELECT * FROM {name} ORDER BY {order}").arrow()


# -- round trips by type -----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(TYPES))
def test_create_table_from_round_trips_each_type(db, name):
    arr, out_type = TYPES[name]
    assert db.create_table_from("t", pa.table({"k": [1, 2, 3], "v": arr})) == 3
    got = sql_table(db)
    assert got.schema.field("v").type == out_type
    assert got.column("v").to_pylist() == arr.to_pylist()
    assert got.column("v").null_count == 1


@pytest.mark.parametrize("name", sorted(TYPES))
def test_insert_arrow_round_trips_each_type(db, name):
    arr, out_type = TYPES[name]
    db.create_table_from("t", pa.table({"k": [1], "v": arr.slice(0, 1)}))
    assert db.insert_arrow("t", pa.table({"v": arr.slice(1), "k": [2, 3]})) == 2
    got = sql_table(db)
    assert got.schema.field("v").type == out_type
    assert got.column("v").to_pylist() == arr.to_pylist()


def test_every_type_in_one_table_on_disk_survives_reopen(db_path):
    data = pa.table({"k": [1, 2, 3], **{n: a for n, (a, _) in TYPES.items()}})
    with Database.open(db_path) as db:
        db.create_table_from("t", data)
        db.insert_arrow("t", data.set_column(0, "k", pa.array([4, 5, 6])))
    with Database.open(db_path) as db:
        got = sql_table(db)
    assert got.num_rows == 6
    for n, (arr, out_type) in TYPES.items():
        assert got.schema.field(n).type == out_type, n
        assert got.column(n).to_pylist() == arr.to_pylist() * 2, n
        assert got.column(n).null_count == 2, n


def test_decimals_keep_every_digit_in_sql(db):
    vals = [Decimal("9999999999999.99"), Decimal("0.01"), Decimal("-0.10"), None]
    db.create_table_from("t", pa.table({"k": [1, 2, 3, 4],
                                        "d": pa.array(vals, pa.decimal128(15, 2))}))
    assert db.execute_sql("SELECT SUM(d) FROM t").scalar() == Decimal("9999999999999.90")
    assert db.execute_sql("SELECT k FROM t WHERE d = 0.01").scalar() == 2
    assert sql_table(db).column("d").to_pylist() == vals


def test_zoned_timestamps_are_instants(db):
    ny = pa.array([dt.datetime(2024, 7, 1, 16, 0)], pa.timestamp("us")).cast(
        pa.timestamp("us", tz="America/New_York"))
    db.create_table_from("t", pa.table({"k": [1], "ts": ny}))
    got = sql_table(db).column("ts")
    assert got.type.tz == "America/New_York"
    assert got[0].as_py() == dt.datetime(2024, 7, 1, 16, 0, tzinfo=UTC)
    # Compared as instants whatever the zone of the other side.
    db.create_table_from("u", pa.table({"ts": pa.array([dt.datetime(2024, 7, 1, 16, 0)],
                                                       pa.timestamp("us", tz="UTC"))}))
    assert db.execute_sql("SELECT COUNT(*) FROM t JOIN u ON t.ts = u.ts").scalar() == 1


def test_other_string_encodings_work_in_sql_functions(db):
    db.create_table_from("t", pa.table({
        "k": [1, 2], "d": pa.array(["ab", "cd"]).dictionary_encode(),
        "l": pa.array(["x", BIG], pa.large_string())}))
    rows = db.execute_sql("SELECT UPPER(d), d || '!', LENGTH(l), l LIKE 'x%', "
                          "COUNT(DISTINCT d) OVER () FROM t ORDER BY k").rows()
    assert rows == [("AB", "ab!", 1, True, 2), ("CD", "cd!", len(BIG), True, 2)]
    assert db.execute_sql("SELECT MIN(d), MAX(l) FROM t").rows() == [("ab", BIG)]


# -- input kinds -------------------------------------------------------------------------


def test_pandas_dataframe_input(db):
    df = pd.DataFrame({
        "id": [1, 2, 3],
        "score": [1.5, np.nan, 3.0],
        "name": ["a", None, "c"],
        "when": pd.to_datetime(["2024-01-01 10:00", None, "2024-03-01 00:00"]).tz_localize("UTC"),
        "flag": pd.array([True, None, False], dtype="boolean"),
    })
    assert db.create_table_from("t", df) == 3
    got = db.execute_sql("SELECT * FROM t ORDER BY id").df()
    assert got["id"].tolist() == [1, 2, 3]
    assert got["score"].isna().tolist() == [False, True, False]
    assert got["name"].tolist()[::2] == ["a", "c"] and pd.isna(got["name"][1])
    assert got["when"].dt.tz is not None
    assert got["when"][0] == pd.Timestamp("2024-01-01 10:00", tz="UTC")
    assert pd.isna(got["when"][1])
    assert got["flag"].tolist()[::2] == [True, False]
    assert db.insert_arrow("t", df.iloc[:1].assign(id=[4])) == 1
    assert db.execute_sql("SELECT name FROM t WHERE id = 4").scalar() == "a"


def test_record_batch_reader_input(db):
    t = pa.table({"k": np.arange(10), "v": np.arange(10) * 2.0})
    assert db.create_table_from("t", pa.RecordBatchReader.from_batches(
        t.schema, t.to_batches(3))) == 10
    more = pa.table({"k": np.arange(10, 15), "v": np.zeros(5)})
    assert db.insert_arrow("t", pa.RecordBatchReader.from_batches(
        more.schema, more.to_batches(2))) == 5
    assert db.execute_sql("SELECT COUNT(*), SUM(k), SUM(v) FROM t").rows() == [(15, 105, 90.0)]


def test_dict_list_and_batch_inputs(db):
    assert db.create_table_from("t", {"k": [1, 2], "s": ["a", None]}) == 2
    assert db.insert_arrow("t", [{"k": 3, "s": "c"}, {"k": 4, "s": None}]) == 2
    assert db.insert_arrow("t", pa.record_batch({"k": [5], "s": ["e"]})) == 1
    assert db.execute_sql("SELECT k, s FROM t ORDER BY k").rows() == [
        (1, "a"), (2, None), (3, "c"), (4, None), (5, "e")]


def test_insert_arrow_maps_columns_by_name_casts_and_fills_defaults(db):
    db.execute_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                   "score DOUBLE DEFAULT 1.5, born DATE)")
    # Another order, another case, narrower types, dictionary text, a missing column.
    assert db.insert_arrow("t", pa.table({
        "NAME": pa.array(["x", "y"]).dictionary_encode(),
        "Id": pa.array([1, 2], pa.int8()),
        "born": ["2024-01-02", None]})) == 2
    assert db.execute_sql("SELECT * FROM t ORDER BY id").rows() == [
        (1, "x", 1.5, dt.date(2024, 1, 2)), (2, "y", 1.5, None)]


def test_null_type_columns_become_integer(db):
    db.create_table_from("t", pa.table({"k": [1, 2], "n": pa.nulls(2)}))
    got = sql_table(db)
    assert got.schema.field("n").type == pa.int32()
    assert got.column("n").null_count == 2


@pytest.mark.parametrize("data, message", [
    (5, "got int"),
    (pa.table({}), "without columns"),
    (pa.table([[1], [2]], names=["a", "A"]), "'A' more than once"),
    (pa.table([[1]], names=[""]), "without a name"),
])
def test_create_table_from_refuses_bad_data(db, data, message):
    with pytest.raises(ProgrammingError, match=message):
        db.create_table_from("t", data)
    with pytest.raises(BindError, match="unknown table 't'"):
        db.execute_sql("SELECT * FROM t")


def test_create_table_from_refuses_taken_names(db):
    db.create_table_from("t", {"a": [1]})
    with pytest.raises(ProgrammingError, match="already exists"):
        db.create_table_from("T", {"a": [2]})
    db.register("r", pa.table({"a": [1]}))
    with pytest.raises(ProgrammingError, match="registered"):
        db.create_table_from("r", {"a": [2]})
    with pytest.raises(ProgrammingError, match="table name"):
        db.create_table_from("", {"a": [2]})
    assert db.execute_sql("SELECT a FROM t").rows() == [(1,)]


def test_insert_arrow_errors_are_typed_and_change_nothing(db):
    db.execute_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, n TINYINT, d DATE)")
    db.insert_arrow("t", {"id": [1], "n": [1], "d": ["2024-01-01"]})
    with pytest.raises(BindError, match=r"unknown table 'nope'"):
        db.insert_arrow("nope", {"id": [2]})
    with pytest.raises(BindError, match=r"table t has no column 'zz'"):
        db.insert_arrow("t", {"id": [2], "zz": [1]})
    with pytest.raises(ProgrammingError, match=r"column 'ID' more than once"):
        db.insert_arrow("t", pa.table([[2], [3]], names=["id", "ID"]))
    with pytest.raises(DataError, match=r"t\.n to TINYINT"):
        db.insert_arrow("t", {"id": [2, 3], "n": [1, 1000]})
    with pytest.raises(DataError, match=r"t\.d to DATE"):
        db.insert_arrow("t", {"id": [2], "d": ["not a date"]})
    with pytest.raises(ConstraintError, match="PRIMARY KEY"):
        db.insert_arrow("t", {"id": [2, 1]})
    with pytest.raises(ProgrammingError, match="pandas DataFrame"):
        db.insert_arrow("t", object())
    assert db.execute_sql("SELECT COUNT(*) FROM t").scalar() == 1


# -- registered objects ------------------------------------------------------------------


@pytest.fixture
def shop(db):
    db.execute_sql("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    db.execute_sql("INSERT INTO users VALUES (1, 'ann'), (2, 'bob'), (3, 'cy')")
    return db


ORDERS = pa.table({"uid": [1, 1, 2, 9], "amount": [10.0, 5.0, 7.5, 1.0]})
TOTALS = [("ann", 15.0), ("bob", 7.5)]
JOIN = ("SELECT u.name, SUM(o.amount) AS total FROM users u JOIN {} o ON u.id = o.uid "
        "GROUP BY u.name ORDER BY u.name")


def test_register_table_joins_stored_tables(shop):
    shop.register("orders", ORDERS)
    assert shop.execute_sql(JOIN.format("orders")).rows() == TOTALS
    shop.execute_sql("CREATE TABLE big_orders AS SELECT uid, amount * 2 AS a2 FROM orders "
                     "WHERE amount > 6")
    shop.unregister("orders")
    assert shop.execute_sql("SELECT uid, a2 FROM big_orders ORDER BY a2").rows() == [
        (2, 15.0), (1, 20.0)]
    with pytest.raises(BindError, match="unknown table 'orders'"):
        shop.execute_sql("SELECT * FROM orders")


def test_register_record_batch_reader_can_be_queried_twice(shop):
    shop.register("orders", pa.RecordBatchReader.from_batches(ORDERS.schema,
                                                              ORDERS.to_batches(2)))
    assert shop.execute_sql(JOIN.format("orders")).rows() == TOTALS
    assert shop.execute_sql(JOIN.format("orders")).rows() == TOTALS
    assert shop.execute_sql("SELECT COUNT(*) FROM orders").scalar() == 4


def test_register_dataset(shop, tmp_path):
    (tmp_path / "orders").mkdir()
    pq.write_table(ORDERS.slice(0, 2), tmp_path / "orders" / "part-0.parquet")
    pq.write_table(ORDERS.slice(2), tmp_path / "orders" / "part-1.parquet")
    shop.register("orders", ds.dataset(str(tmp_path / "orders"), format="parquet"))
    assert shop.execute_sql(JOIN.format("orders")).rows() == TOTALS
    shop.execute_sql("CREATE TABLE t2 AS SELECT * FROM orders WHERE uid = 9")
    assert shop.execute_sql("SELECT uid, amount FROM t2").rows() == [(9, 1.0)]


def test_register_dataframe_is_read_in_place(shop):
    df = ORDERS.to_pandas()
    shop.register("orders", df)
    assert shop.execute_sql(JOIN.format("orders")).rows() == TOTALS
    df.loc[len(df)] = [3, 2.0]  # the next query sees the change
    assert shop.execute_sql(JOIN.format("orders")).rows() == TOTALS + [("cy", 2.0)]
    shop.execute_sql("CREATE TABLE t2 AS SELECT o.uid, u.name FROM orders o "
                     "JOIN users u ON u.id = o.uid WHERE o.amount < 6")
    assert shop.execute_sql("SELECT * FROM t2 ORDER BY uid").rows() == [(1, "ann"),
                                                                        (3, "cy")]


def test_register_other_encodings_work_in_functions(db):
    db.register("r", pa.table({"d": pa.array(["ab", None]).dictionary_encode(),
                               "l": pa.array(["x", "y"], pa.large_string())}))
    assert db.execute_sql("SELECT UPPER(d), l || '!' FROM r").rows() == [("AB", "x!"),
                                                                         (None, "y!")]
    assert db.execute_sql("SELECT * FROM r").arrow().schema.types == [pa.string()] * 2


def test_register_refuses_taken_names_and_is_not_stored(db_path):
    with Database.open(db_path) as db:
        db.execute_sql("CREATE TABLE t (a INTEGER)")
        db.execute_sql("CREATE VIEW v AS SELECT 1 AS a")
        for name in ("T", "v"):
            with pytest.raises(ProgrammingError, match=f"named '{name}' exists"):
                db.register(name, ORDERS)
        with pytest.raises(ProgrammingError, match="table name"):
            db.register("", ORDERS)
        db.register("orders", ORDERS)
    with Database.open(db_path) as db, pytest.raises(BindError, match="unknown table 'orders'"):
        db.execute_sql("SELECT * FROM orders")


def test_reregister_and_unregister_reach_every_session(db):
    other = db.session()
    db.register("r", pa.table({"a": [1]}))
    assert other.execute("SELECT SUM(a) FROM r").scalar() == 1
    db.register("r", pa.table({"a": [5]}))
    assert other.execute("SELECT SUM(a) FROM r").scalar() == 5
    db.unregister("r")
    with pytest.raises(BindError, match="unknown table 'r'"):
        other.execute("SELECT SUM(a) FROM r")


# -- persistence and bulk loads ----------------------------------------------------------


def bulk_data(n: int = N_BULK, start: int = 0) -> pa.Table:
    ids = np.arange(start, start + n, dtype=np.int64)
    cents = pa.array(ids * 101, pa.int64()).cast(pa.decimal128(21, 0)).cast(
        pa.decimal128(15, 2))
    return pa.table({"id": ids, "v": ids % 1000, "price": cents,
                     "tag": pa.array(np.array(["a", "b", "c"])[ids % 3]).dictionary_encode()})


def bulk_totals(db: Database) -> tuple:
    return db.execute_sql("SELECT COUNT(*), SUM(id), SUM(v), SUM(price), COUNT(DISTINCT tag) "
                          "FROM big").rows()[0]


def expected_totals(n: int, start: int = 0) -> tuple:
    ids = np.arange(start, start + n, dtype=np.int64)
    return (n, int(ids.sum()), int((ids % 1000).sum()), Decimal(int(ids.sum()) * 101),
            min(n, 3))


def test_small_loads_survive_reopen(db_path):
    with Database.open(db_path) as db:
        db.create_table_from("big", bulk_data(1000))
        db.insert_arrow("big", bulk_data(500, start=1000))
    with Database.open(db_path) as db:
        assert bulk_totals(db) == expected_totals(1500)


def test_bulk_load_survives_reopen(db_path):
    assert N_BULK >= BULK_ROWS  # the path that writes segment files directly
    with Database.open(db_path) as db:
        assert db.create_table_from("big", bulk_data()) == N_BULK
        assert bulk_totals(db) == expected_totals(N_BULK)
    with Database.open(db_path) as db:
        assert bulk_totals(db) == expected_totals(N_BULK)
        got = db.execute_sql("SELECT * FROM big WHERE id IN (0, 599999) ORDER BY id").rows()
        assert got == [(0, 0, Decimal("0.00"), "a"), (599999, 999, Decimal("60599899.00"), "c")]


CHILD = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {tests!r})
    from test_interop import bulk_data
    from sochdb import Database
    db = Database.open(sys.argv[1])
    db.create_table_from("small", {{"k": [1, 2, 3]}})
    db.insert_arrow("big", bulk_data())
    print("LOADED", flush=True)
    time.sleep(60)
""")


def test_bulk_insert_survives_kill_9_right_after_it_returns(db_path, tmp_path):
    with Database.open(db_path) as db:
        db.create_table_from("big", bulk_data(10, start=-10))
    script = tmp_path / "child.py"
    script.write_text(CHILD.format(tests=os.path.dirname(__file__)))
    proc = subprocess.Popen([sys.executable, str(script), db_path], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.strip() == "LOADED", proc.stderr.read() if proc.poll() is not None else ""
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    with Database.open(db_path) as db:
        assert db.execute_sql("SELECT SUM(k) FROM small").scalar() == 6
        assert bulk_totals(db) == expected_totals(N_BULK + 10, start=-10)


def test_failed_bulk_inserts_lose_nothing(db_path):
    with Database.open(db_path) as db:
        db.execute_sql("CREATE TABLE big (id INTEGER PRIMARY KEY, v INTEGER, "
                       "price DECIMAL(15,2), tag TEXT)")
        db.insert_arrow("big", bulk_data(100))
        before = bulk_totals(db)
        good = bulk_data(start=100)
        with pytest.raises(BindError, match="has no column 'extra'"):
            db.insert_arrow("big", good.append_column("extra", pa.array(np.zeros(N_BULK))))
        bad_v = pa.array(np.where(np.arange(N_BULK) == N_BULK - 1, "x", "1").astype(object))
        with pytest.raises(DataError, match=r"big\.v to BIGINT"):
            db.insert_arrow("big", good.set_column(1, "v", bad_v))
        dup = pc.if_else(pc.equal(good["id"], N_BULK + 99), 5, good["id"])
        with pytest.raises(ConstraintError, match=r"duplicate key \(id\)=\(5\)"):
            db.insert_arrow("big", good.set_column(0, "id", dup))
        assert bulk_totals(db) == before
    with Database.open(db_path) as db:
        assert bulk_totals(db) == before
        assert db.insert_arrow("big", bulk_data(10, start=100)) == 10


# -- results out -------------------------------------------------------------------------


@pytest.fixture
def nums(db):
    n = 2500
    db.create_table_from("nums", pa.table({
        "k": np.arange(n), "half": pa.array(np.arange(n) / 2).cast(pa.float64()),
        "s": pa.array(np.char.mod("s%d", np.arange(n) % 10)),
        "d": pa.array(np.where(np.arange(n) % 7 == 0, None,
                               [Decimal(i) / 100 for i in range(n)]), pa.decimal128(10, 2))}))
    return db


QUERY = "SELECT k, half, s, d FROM nums ORDER BY k"


def test_arrow_and_df(nums):
    t = nums.execute_sql(QUERY).arrow()
    assert t.schema.names == ["k", "half", "s", "d"]
    assert t.schema.types == [pa.int64(), pa.float64(), pa.string(), pa.decimal128(10, 2)]
    assert t.num_rows == 2500 and t.column("d").null_count == 358
    df = nums.execute_sql(QUERY).df()
    assert list(df.columns) == ["k", "half", "s", "d"]
    assert df["k"].tolist() == list(range(2500))
    assert df["d"][1] == Decimal("0.01") and df["d"][7] is None
    renamed = nums.execute_sql("SELECT k AS a, k + 1 AS a FROM nums WHERE k < 2").arrow()
    assert renamed.schema.names == ["a", "a"]
    assert [c.to_pylist() for c in renamed.columns] == [[0, 1], [1, 2]]


@pytest.mark.parametrize("size", [1, 7, 1000, 2500, 10_000])
def test_fetch_record_batch_streams_the_whole_result(nums, size):
    reader = nums.execute_sql(QUERY).fetch_record_batch(size)
    assert isinstance(reader, pa.RecordBatchReader)
    batches = list(reader)
    assert all(0 < b.num_rows <= size for b in batches)
    assert len(batches) == -(-2500 // size)
    assert pa.Table.from_batches(batches).equals(nums.execute_sql(QUERY).arrow())


def test_empty_and_status_results_export_their_shape(nums):
    r = nums.execute_sql("SELECT k, s FROM nums WHERE k < 0")
    assert r.arrow().schema.names == ["k", "s"] and r.arrow().num_rows == 0
    assert list(r.df().columns) == ["k", "s"] and len(r.df()) == 0
    reader = r.fetch_record_batch(10)
    assert reader.schema.names == ["k", "s"] and reader.read_all().num_rows == 0
    status = nums.execute_sql("CREATE TABLE other (a INTEGER)")
    assert status.arrow().num_columns == 0
    assert pa.RecordBatchReader.from_stream(status).read_all().num_rows == 0


def test_point_lookup_results_export_too(db):
    db.execute_sql("CREATE TABLE u (id INTEGER PRIMARY KEY, name TEXT, born DATE)")
    db.execute_sql("INSERT INTO u VALUES (1, 'a', '2000-01-01'), (2, NULL, NULL)")
    r = db.execute_sql("SELECT * FROM u WHERE id = 2")
    assert r.arrow().to_pylist() == [{"id": 2, "name": None, "born": None}]
    assert r.arrow().schema.types == [pa.int64(), pa.string(), pa.date32()]
    assert pa.RecordBatchReader.from_stream(
        db.execute_sql("SELECT * FROM u WHERE id = 1")).read_all().to_pylist() == [
        {"id": 1, "name": "a", "born": dt.date(2000, 1, 1)}]


def test_arrow_c_stream_with_pyarrow(nums):
    r = nums.execute_sql(QUERY)
    got = pa.RecordBatchReader.from_stream(r).read_all()
    assert got.equals(r.arrow())
    narrowed = pa.RecordBatchReader.from_stream(
        nums.execute_sql("SELECT k FROM nums ORDER BY k LIMIT 3"),
        schema=pa.schema([("k", pa.int32())])).read_all()
    assert narrowed.schema.field("k").type == pa.int32()
    assert narrowed.column("k").to_pylist() == [0, 1, 2]


def test_arrow_c_stream_with_polars(nums):
    pl = pytest.importorskip("polars")
    frame = pl.DataFrame(nums.execute_sql(QUERY))
    assert frame.columns == ["k", "half", "s", "d"]
    assert frame.height == 2500
    assert frame["k"].sum() == sum(range(2500))
    assert frame["d"].null_count() == 358
    assert frame["s"][11] == "s1"


def test_arrow_c_stream_with_duckdb(nums):
    duckdb = pytest.importorskip("duckdb")
    r = nums.execute_sql(QUERY)
    assert r.arrow().num_rows == 2500
    got = duckdb.sql("SELECT COUNT(*), SUM(k), COUNT(d), MAX(s) FROM r").fetchall()
    assert got == [(2500, sum(range(2500)), 2500 - 358, "s9")]
    rel = duckdb.from_arrow(nums.execute_sql("SELECT k, s FROM nums WHERE k < 3 ORDER BY k"))
    assert rel.order("k").fetchall() == [(0, "s0"), (1, "s1"), (2, "s2")]


def test_registered_objects_read_only_the_columns_a_query_names():
    import pandas as pd
    import pyarrow.dataset as ds
    db = Database.open(":memory:")
    df = pd.DataFrame({"a": [1, 2, 3], "odd": [1, 2, 3]})
    db.register("p", df)
    df["odd"] = [1, "x", object()]  # read in place: now only a query naming it may fail
    assert db.execute_sql("SELECT SUM(a), COUNT(*) FROM p").rows() == [(6, 3)]
    with pytest.raises(Exception):
        db.execute_sql("SELECT odd FROM p").rows()
    db.register("d", ds.dataset(pa.table({"k": [1, 2, 2], "v": ["x", "y", "z"]})))
    assert db.execute_sql("SELECT COUNT(*) FROM d").rows() == [(3,)]
    assert db.execute_sql("SELECT v FROM d WHERE k = 2 ORDER BY v").rows() == [("y",), ("z",)]
    assert db.execute_sql("SELECT b FROM d AS t(a, b) WHERE a = 1").rows() == [("x",)]
    db.close()


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "10"])
def test_fetch_record_batch_refuses_bad_batch_sizes(bad):
    db = Database.open(":memory:")
    result = db.execute_sql("SELECT 1 AS x")
    with pytest.raises(ProgrammingError, match="rows_per_batch must be a positive integer"):
        result.fetch_record_batch(bad)
    db.close()
