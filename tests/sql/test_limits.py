"""Resource limits: ``memory_limit`` makes oversized queries fail cleanly, and running
statements stop at ``db.interrupt()`` or the ``statement_timeout`` config, with no effect."""

from __future__ import annotations

import threading
import time

import pyarrow as pa
import pytest

from sochdb import ConfigError, Database, OperationalError
from sochdb.errors import QueryInterruptedError, ResourceLimitError

ENDLESS = ("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r "
           "WHERE n < 100000000) ")


@pytest.fixture
def big(tmp_path):
    db = Database.open(str(tmp_path / "db"), {"memory_limit": 1 << 20})
    db.execute("CREATE TABLE t (id INT PRIMARY KEY, s TEXT)")
    db.insert_arrow("t", pa.table({"id": list(range(100_000)), "s": ["x" * 20] * 100_000}))
    yield db
    db.close()


def test_queries_over_the_memory_limit_fail_cleanly(big):
    for sql, what in (("SELECT * FROM t", "rows read from t"),
                      ("SELECT a.id, b.s FROM t a JOIN t b ON a.id = b.id", "t"),
                      ("SELECT s || s || s AS w FROM t WHERE id < 50000", "t"),
                      ("SELECT id FROM t ORDER BY s DESC", "t")):
        with pytest.raises(ResourceLimitError, match=f"{what}.*memory_limit of 1,048,576"):
            big.execute(sql)
    # Small results from the same table are fine, and the database works on.
    assert big.execute("SELECT count(*) AS n FROM t").fetchone() == {"n": 100_000}
    assert big.execute("SELECT s FROM t WHERE id = 7").fetchone() == {"s": "x" * 20}
    assert big.execute("SELECT max(id) AS m FROM t WHERE id < 1000").fetchone() == {"m": 999}
    big.execute("INSERT INTO t VALUES (-1, 'ok')")
    assert big.verify() == []


def test_memory_limit_error_is_operational_and_has_no_effect(big):
    with pytest.raises(OperationalError) as info:
        big.execute("INSERT INTO t SELECT id + 1000000, s FROM t")
    assert info.value.code == "RESOURCE_LIMIT"
    assert big.execute("SELECT count(*) AS n FROM t").fetchone() == {"n": 100_000}


def test_join_output_estimate_is_checked(tmp_path):
    with Database.open(str(tmp_path / "db"), {"memory_limit": 4 << 20}) as db:
        db.execute("CREATE TABLE k (g INT)")
        db.insert_arrow("k", pa.table({"g": [1] * 2000}))
        with pytest.raises(ResourceLimitError, match="join output of 4,000,000 rows"):
            db.execute("SELECT count(*) FROM k a JOIN k b ON a.g = b.g")


def test_bad_limits_are_config_errors(tmp_path):
    for cfg in ({"memory_limit": 0}, {"statement_timeout": -1},
                {"statement_timeout": "5s"}, {"statement_timeout": True}):
        with pytest.raises(ConfigError):
            Database.open(str(tmp_path / "x"), cfg)


def _run_in_thread(fn):
    box = {}

    def target():
        try:
            box["result"] = fn()
        except BaseException as e:  # noqa: BLE001 - returned to the test
            box["error"] = e

    t = threading.Thread(target=target)
    t.start()
    return t, box


def test_interrupt_stops_running_statements_of_every_session(tmp_path):
    with Database.open(str(tmp_path / "db")) as db:
        db.execute("CREATE TABLE t (n INT)")
        other = db.session()
        runs = [_run_in_thread(lambda: db.execute(ENDLESS + "SELECT count(*) FROM r")),
                _run_in_thread(lambda: other.execute(ENDLESS + "INSERT INTO t SELECT n "
                                                                "FROM r"))]
        time.sleep(1.5)
        start = time.monotonic()
        db.interrupt()
        for t, _ in runs:
            t.join(10)
        assert time.monotonic() - start < 5
        for _, box in runs:
            assert isinstance(box.get("error"), QueryInterruptedError), box
        assert db.execute("SELECT count(*) AS n FROM t").fetchone() == {"n": 0}
        # Later statements run normally: the interrupt applied to running ones only.
        assert other.execute("SELECT 1 AS one").fetchone() == {"one": 1}


def test_statement_timeout(tmp_path):
    with Database.open(str(tmp_path / "db"), {"statement_timeout": 0.3}) as db:
        db.execute("CREATE TABLE t (n INT)")
        db.execute(ENDLESS.replace("100000000", "3") + "SELECT count(*) FROM r")  # warm up
        start = time.monotonic()
        with pytest.raises(QueryInterruptedError, match="statement_timeout of 0.3 s"):
            db.execute(ENDLESS + "SELECT count(*) FROM r")
        assert time.monotonic() - start < 3
        with pytest.raises(QueryInterruptedError):
            db.execute(ENDLESS + "INSERT INTO t SELECT n FROM r")
        assert db.execute("SELECT count(*) AS n FROM t").fetchone() == {"n": 0}
