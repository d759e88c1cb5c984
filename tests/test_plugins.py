"""Python plugins: the guide's example, triggers fired by SQL writes, aborts, persistence."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sochdb import Database
from sochdb.errors import ConstraintError, PluginError, ProgrammingError, TriggerAbort
from sochdb.plugins import PluginRegistry, PythonPlugin, TriggerEvent

USERS = ("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT UNIQUE, "
         "age INTEGER, created_at DOUBLE, plan TEXT DEFAULT 'free')")

# Records every call: (event, row) or (event, row, old). ``log`` is read through
# plugin.namespace; copies are taken so that later changes to a row do not show.
LOGGER = '''
log = []
def on_before_insert(row):
    log.append(("BEFORE INSERT", dict(row)))
def on_after_insert(row):
    log.append(("AFTER INSERT", dict(row)))
def on_before_update(row, old):
    log.append(("BEFORE UPDATE", dict(row), dict(old)))
def on_after_update(row, old):
    log.append(("AFTER UPDATE", dict(row), dict(old)))
def on_before_delete(row):
    log.append(("BEFORE DELETE", dict(row)))
def on_after_delete(row):
    log.append(("AFTER DELETE", dict(row)))
'''
ALL_EVENTS = [e.value for e in TriggerEvent]


def rows(db, sql="SELECT * FROM users ORDER BY id"):
    return db.execute_sql(sql).fetchall()


def logger(db, table="users", events=ALL_EVENTS, name="log"):
    plugin = PythonPlugin(name, LOGGER, {table: events})
    db.register_plugin(plugin)
    return plugin.namespace["log"]


@pytest.fixture
def users(db):
    db.execute_sql(USERS)
    return db


# -- the guide -------------------------------------------------------------------------

def test_guide_example_verbatim(capsys):
    from sochdb.plugins import PythonPlugin, PluginRegistry, TriggerEvent, TriggerAbort  # noqa: I001

    # Define validation plugin
    plugin = PythonPlugin(
        name="user_validator",
        code='''
def on_before_insert(row: dict) -> dict:
    """Validate and transform data."""
    # Normalize email
    if "email" in row:
        row["email"] = row["email"].lower().strip()

    # Validate age
    if row.get("age", 0) < 0:
        raise TriggerAbort("Age cannot be negative", code="INVALID_AGE")

    # Add timestamp
    import time
    row["created_at"] = time.time()

    return row
''',
        triggers={"users": ["BEFORE INSERT"]}
    )

    # Register and use
    registry = PluginRegistry()
    registry.register(plugin)

    # Fire trigger
    row = {"name": "Alice", "email": " ALICE@EXAMPLE.COM ", "age": 30}
    result = registry.fire("users", TriggerEvent.BEFORE_INSERT, row)
    print(result["email"]) # "alice@example.com"
    print(result["created_at"]) # 1704182400.0

    email, created = capsys.readouterr().out.splitlines()
    assert email == "alice@example.com"
    assert isinstance(result["created_at"], float)
    assert float(created) == result["created_at"]
    assert abs(result["created_at"] - time.time()) < 60

    with pytest.raises(TriggerAbort) as ei:
        registry.fire("users", "BEFORE INSERT", {"email": "x", "age": -1})
    assert ei.value.code == "INVALID_AGE" and str(ei.value) == "Age cannot be negative"


def test_guide_plugin_through_sql(users):
    validator = PythonPlugin("user_validator", '''
        import time
        def on_before_insert(row):
            row["email"] = row["email"].lower().strip()
            if row.get("age", 0) < 0:
                raise TriggerAbort("Age cannot be negative", code="INVALID_AGE")
            row["created_at"] = time.time()
            return row
    ''', {"users": ["BEFORE INSERT"]})
    users.register_plugin(validator)
    users.execute_sql("INSERT INTO users (id, name, email, age) VALUES (?, ?, ?, ?)",
                      [1, "Alice", " ALICE@EXAMPLE.COM ", 30])
    (alice,) = rows(users)
    assert alice["email"] == "alice@example.com"
    assert isinstance(alice["created_at"], float) and abs(alice["created_at"] - time.time()) < 60
    with pytest.raises(TriggerAbort) as ei:
        users.execute_sql("INSERT INTO users (id, name, email, age) VALUES "
                          "(2, 'Bob', 'b@x', 25), (3, 'Eve', 'e@x', -1)")
    assert ei.value.code == "INVALID_AGE"
    assert ei.value.message == "Age cannot be negative"
    assert [r["id"] for r in rows(users)] == [1]  # Bob's row went with the statement


# -- events and definitions ------------------------------------------------------------

def test_trigger_event_names():
    assert [e.name for e in TriggerEvent] == ["BEFORE_INSERT", "AFTER_INSERT", "BEFORE_UPDATE",
                                              "AFTER_UPDATE", "BEFORE_DELETE", "AFTER_DELETE"]
    for spelling in ("BEFORE INSERT", "before insert", "Before_Insert", " before  INSERT ",
                     TriggerEvent.BEFORE_INSERT):
        assert TriggerEvent.parse(spelling) is TriggerEvent.BEFORE_INSERT
    assert TriggerEvent("after update") is TriggerEvent.AFTER_UPDATE
    assert TriggerEvent.AFTER_DELETE.handler_name == "on_after_delete"
    assert str(TriggerEvent.BEFORE_UPDATE) == "BEFORE UPDATE"
    with pytest.raises(ProgrammingError, match="unknown trigger event 'BEFORE UPSERT'; "
                                               "expected one of BEFORE INSERT, AFTER INSERT"):
        TriggerEvent.parse("BEFORE UPSERT")
    with pytest.raises(ProgrammingError, match="unknown trigger event 'INSTEAD OF INSERT'"):
        PythonPlugin("p", "def on_before_insert(r): pass", {"users": ["INSTEAD OF INSERT"]})


def test_syntax_error_names_plugin_and_line():
    with pytest.raises(PluginError, match=r"plugin 'bad' has a syntax error at line 3") as ei:
        PythonPlugin("bad", "\ndef on_before_insert(row):\n    return row +\n",
                     {"users": "BEFORE INSERT"})
    assert ei.value.details["line"] == 3 and isinstance(ei.value.__cause__, SyntaxError)


def test_missing_handler_and_bad_signature():
    with pytest.raises(PluginError, match="plugin 'p' declares BEFORE UPDATE on users but its "
                                          "code defines no function on_before_update"):
        PythonPlugin("p", "def on_before_insert(row):\n    return row\n",
                     {"users": ["BEFORE INSERT", "BEFORE UPDATE"]})
    with pytest.raises(PluginError, match=r"on_before_insert must take \(row\)"):
        PythonPlugin("p", "def on_before_insert(row, old):\n    pass\n",
                     {"users": "BEFORE INSERT"})
    with pytest.raises(PluginError, match="defines no function on_after_delete"):
        PythonPlugin("p", "on_after_delete = 3\n", {"users": "AFTER DELETE"})


def test_code_failing_at_load_names_line():
    with pytest.raises(PluginError, match=r"plugin 'p' failed while loading \(line 2\): "
                                          r"ModuleNotFoundError"):
        PythonPlugin("p", "x = 1\nimport no_such_module_for_sochdb_tests\n",
                     {"users": "AFTER INSERT"})


def test_bad_definitions_are_programming_errors():
    with pytest.raises(ProgrammingError, match="plugin name must be a non-empty string"):
        PythonPlugin("", "", {"users": "AFTER INSERT"})
    with pytest.raises(ProgrammingError, match="triggers must be a non-empty dict"):
        PythonPlugin("p", "", {})
    with pytest.raises(ProgrammingError, match="declares no events for table 'users'"):
        PythonPlugin("p", "", {"users": []})
    with pytest.raises(ProgrammingError, match="unknown_keys must be 'error' or 'ignore'"):
        PythonPlugin("p", "", {"users": "AFTER INSERT"}, unknown_keys="drop")


# -- the registry on its own -----------------------------------------------------------

def test_registry_register_list_unregister():
    reg = PluginRegistry()
    a = PythonPlugin("a", "def on_before_insert(row):\n    row['n'] += 1\n    return row\n",
                     {"Users": "BEFORE INSERT"})
    b = PythonPlugin("b", "def on_before_insert(row):\n    row['n'] *= 10\n",
                     {"users": "before_insert"})
    reg.register(a)
    reg.register(b)
    assert reg.list() == ["a", "b"] and reg.get("b") is b
    assert reg.has_triggers("USERS") and not reg.has_triggers("orders")
    # Registration order; returning None keeps the (changed) row.
    assert reg.fire("users", "BEFORE INSERT", {"n": 1}) == {"n": 20}
    assert reg.fire("orders", TriggerEvent.BEFORE_INSERT, {"n": 1}) == {"n": 1}
    with pytest.raises(ProgrammingError, match="a plugin named 'a' is already registered"):
        reg.register(a)
    with pytest.raises(ProgrammingError, match="no plugin named 'c' is registered"):
        reg.unregister("c")
    with pytest.raises(ProgrammingError, match="persist=True needs a database's registry"):
        reg.register(PythonPlugin("c", "def on_after_insert(r): pass", {"t": "AFTER INSERT"}),
                     persist=True)
    reg.unregister("a")
    assert reg.list() == ["b"]
    assert reg.fire("users", "BEFORE INSERT", {"n": 1}) == {"n": 10}
    reg.unregister("b")
    assert not reg.has_triggers("users")


def test_fire_update_with_old_row_and_one_argument_handler():
    reg = PluginRegistry()
    reg.register(PythonPlugin("two", "def on_before_update(row, old):\n"
                                     "    row['delta'] = row['n'] - old['n']\n",
                              {"t": "BEFORE UPDATE"}))
    reg.register(PythonPlugin("one", "def on_before_update(row):\n    row['seen'] = True\n",
                              {"t": "BEFORE UPDATE"}))
    out = reg.fire("t", "BEFORE UPDATE", {"n": 5}, old={"n": 2})
    assert out == {"n": 5, "delta": 3, "seen": True}


def test_handler_exception_becomes_plugin_error():
    reg = PluginRegistry()
    reg.register(PythonPlugin("divider", "\ndef on_after_insert(row):\n    return 1 / 0\n",
                              {"t": "AFTER INSERT"}))
    with pytest.raises(PluginError, match=r"plugin 'divider' failed in on_after_insert on a row "
                                          r"of t \(line 3\): ZeroDivisionError") as ei:
        reg.fire("t", "AFTER INSERT", {"n": 1})
    assert isinstance(ei.value.__cause__, ZeroDivisionError)
    assert ei.value.details["plugin"] == "divider"


# -- fired by SQL ----------------------------------------------------------------------

def test_kv_and_sql_without_plugins_create_no_registry(db):
    db.put(b"k", b"v")
    db.execute_sql("CREATE TABLE t (id INTEGER)")
    db.execute_sql("INSERT INTO t VALUES (1)")
    assert db._plugins is None


def test_single_row_insert_before_changes_are_stored_after_sees_them(users):
    users.register_plugin(PythonPlugin("upper", '''
        def on_before_insert(row):
            row["name"] = row["name"].upper()
            return row
    ''', {"users": "BEFORE INSERT"}))
    log = logger(users, events=["AFTER INSERT"])
    users.execute_sql("INSERT INTO users (id, name) VALUES (1, 'ann')")
    stored = {"id": 1, "name": "ANN", "email": None, "age": None, "created_at": None,
              "plan": "free"}
    assert rows(users) == [stored]
    assert log == [("AFTER INSERT", stored)]  # the BEFORE change and the DEFAULT


def test_multi_row_insert_and_executemany_call_once_per_row(users):
    log = logger(users, events=["BEFORE INSERT", "AFTER INSERT"])
    users.execute_sql("INSERT INTO users (id, name) VALUES (1, 'a'), (2, 'b'), (3, 'c')")
    assert [(e, r["id"]) for e, r in log] == [("BEFORE INSERT", 1), ("BEFORE INSERT", 2),
                                              ("BEFORE INSERT", 3), ("AFTER INSERT", 1),
                                              ("AFTER INSERT", 2), ("AFTER INSERT", 3)]
    log.clear()
    users.executemany("INSERT INTO users (id, name, age) VALUES (?, ?, ?)",
                      [(i, f"u{i}", i) for i in range(10, 20)])
    assert [r["id"] for e, r in log if e == "AFTER INSERT"] == list(range(10, 20))
    assert len(log) == 20


def test_insert_select_fires_for_each_selected_row(users):
    users.execute_sql("CREATE TABLE staging (id INTEGER, name TEXT, age INTEGER)")
    users.execute_sql("INSERT INTO staging VALUES (1, 'a', 10), (2, 'b', 20), (3, 'c', 30)")
    users.register_plugin(PythonPlugin("older", '''
        def on_before_insert(row):
            row["age"] += 1
            return row
    ''', {"users": "BEFORE INSERT"}))
    log = logger(users, events=["AFTER INSERT"])
    users.execute_sql("INSERT INTO users (id, name, age) SELECT id, name, age FROM staging "
                      "WHERE age > 15")
    assert [(r["id"], r["age"]) for r in rows(users)] == [(2, 21), (3, 31)]
    assert [(r["id"], r["age"]) for _, r in log] == [(2, 21), (3, 31)]


def test_update_passes_new_and_old_rows_only_for_matched_rows(users):
    users.execute_sql("INSERT INTO users (id, name, age) VALUES (1, 'a', 10), (2, 'b', 20), "
                      "(3, 'c', 30)")
    users.register_plugin(PythonPlugin("stamp", '''
        def on_before_update(row, old):
            row["name"] = f"{old['name']}->{row['age']}"
            return row
    ''', {"users": "BEFORE UPDATE"}))
    log = logger(users, events=["BEFORE UPDATE", "AFTER UPDATE"])
    result = users.execute_sql("UPDATE users SET age = age + 1 WHERE age >= 20")
    assert result.rowcount == 2
    assert [(r["id"], r["name"], r["age"]) for r in rows(users)] == [
        (1, "a", 10), (2, "b->21", 21), (3, "c->31", 31)]
    after = [(e, new["name"], new["age"], old["name"], old["age"]) for e, new, old in log
             if e == "AFTER UPDATE"]
    assert after == [("AFTER UPDATE", "b->21", 21, "b", 20),
                     ("AFTER UPDATE", "c->31", 31, "c", 30)]
    before = [(new["name"], new["age"], old["age"]) for e, new, old in log
              if e == "BEFORE UPDATE"]
    # The logger runs after "stamp" (registration order) and sees its change.
    assert before == [("b->21", 21, 20), ("c->31", 31, 30)]


def test_delete_passes_the_deleted_rows(users):
    users.execute_sql("INSERT INTO users (id, name, age) VALUES (1, 'a', 10), (2, 'b', 20)")
    log = logger(users)
    users.execute_sql("DELETE FROM users WHERE age > 15")
    gone = {"id": 2, "name": "b", "email": None, "age": 20, "created_at": None,
            "plan": "free"}
    assert log == [("BEFORE DELETE", gone), ("AFTER DELETE", gone)]
    log.clear()
    users.execute_sql("DELETE FROM users WHERE age > 100")
    assert log == []


def test_before_delete_abort_keeps_rows(users):
    users.execute_sql("INSERT INTO users (id, name, plan) VALUES (1, 'a', 'free'), "
                      "(2, 'b', 'paid')")
    users.register_plugin(PythonPlugin("guard", '''
        def on_before_delete(row):
            if row["plan"] == "paid":
                raise TriggerAbort(f"user {row['id']} has a paid plan", code="PAID")
    ''', {"users": "BEFORE DELETE"}))
    with pytest.raises(TriggerAbort, match="user 2 has a paid plan") as ei:
        users.execute_sql("DELETE FROM users")
    assert ei.value.code == "PAID"
    assert [r["id"] for r in rows(users)] == [1, 2]
    users.execute_sql("DELETE FROM users WHERE plan = 'free'")
    assert [r["id"] for r in rows(users)] == [2]


def test_after_trigger_abort_undoes_the_statement(users):
    users.register_plugin(PythonPlugin("audit", '''
        def on_after_insert(row):
            if row["name"] == "mallory":
                raise TriggerAbort("not her", code="DENIED")
    ''', {"users": "AFTER INSERT"}))
    with pytest.raises(TriggerAbort, match="not her"):
        users.execute_sql("INSERT INTO users (id, name) VALUES (1, 'alice'), (2, 'mallory')")
    assert rows(users) == []


def test_abort_inside_a_transaction_undoes_only_that_statement(users):
    users.register_plugin(PythonPlugin("adults", '''
        def on_before_insert(row):
            if row["age"] < 18:
                raise TriggerAbort("too young", code="MINOR")
    ''', {"users": "BEFORE INSERT"}))
    with users.transaction() as txn:
        txn.execute("INSERT INTO users (id, name, age) VALUES (1, 'a', 30)")
        with pytest.raises(TriggerAbort) as ei:
            txn.execute("INSERT INTO users (id, name, age) VALUES (2, 'b', 40), (3, 'c', 5)")
        assert ei.value.code == "MINOR"
        txn.put(b"k", b"v")
    assert [r["id"] for r in rows(users)] == [1]
    assert users.get(b"k") == b"v"


def test_other_exception_aborts_with_plugin_error(users):
    users.register_plugin(PythonPlugin("buggy", '''
        def on_before_insert(row):
            return {**row, "age": int(row["name"])}
    ''', {"users": "BEFORE INSERT"}))
    users.execute_sql("INSERT INTO users (id, name) VALUES (1, '42')")
    with pytest.raises(PluginError, match=r"plugin 'buggy' failed in on_before_insert on a row "
                                          r"of users \(line 3\): ValueError") as ei:
        users.execute_sql("INSERT INTO users (id, name) VALUES (2, '7'), (3, 'x')")
    assert isinstance(ei.value.__cause__, ValueError)
    assert [(r["id"], r["age"]) for r in rows(users)] == [(1, 42)]


def test_constraints_check_rows_a_trigger_changed(users):
    users.execute_sql("INSERT INTO users (id, name, email) VALUES (1, 'a', 'a@x'), "
                      "(2, 'b', 'b@x')")
    users.register_plugin(PythonPlugin("clobber", '''
        def on_before_insert(row):
            row["name"] = None
        def on_before_update(row, old):
            row["email"] = "a@x"
    ''', {"users": ["BEFORE INSERT", "BEFORE UPDATE"]}))
    with pytest.raises(ConstraintError, match="name"):
        users.execute_sql("INSERT INTO users (id, name) VALUES (3, 'c')")
    # The statement sets only age, but the trigger changed the UNIQUE email.
    with pytest.raises(ConstraintError, match="UNIQUE"):
        users.execute_sql("UPDATE users SET age = 5 WHERE id = 2")
    assert [(r["id"], r["email"], r["age"]) for r in rows(users)] == [(1, "a@x", None),
                                                                      (2, "b@x", None)]


def test_unknown_keys_error_or_ignored(users):
    users.register_plugin(PythonPlugin("typo", '''
        def on_before_insert(row):
            row["emial"] = "x@y"
    ''', {"users": "BEFORE INSERT"}))
    with pytest.raises(PluginError, match="plugin 'typo' set key 'emial', which is not a column "
                                          "of users; did you mean 'email'?"):
        users.execute_sql("INSERT INTO users (id, name) VALUES (1, 'a')")
    users.unregister_plugin("typo")
    users.register_plugin(PythonPlugin("tag", '''
        def on_before_insert(row):
            row["source"] = "import"
            row["age"] = 1
    ''', {"users": "BEFORE INSERT"}, unknown_keys="ignore"))
    users.execute_sql("INSERT INTO users (id, name) VALUES (1, 'a')")
    assert [(r["id"], r["age"]) for r in rows(users)] == [(1, 1)]


def test_dropped_keys_keep_their_values_and_values_are_cast(users):
    users.register_plugin(PythonPlugin("reshape", '''
        def on_before_insert(row):
            return {"id": row["id"], "age": str(row["age"] * 2), "email": 5}
    ''', {"users": "BEFORE INSERT"}))
    users.execute_sql("INSERT INTO users (id, name, age) VALUES (1, 'a', 21)")
    (r,) = rows(users)
    assert (r["name"], r["age"], r["email"], r["plan"]) == ("a", 42, "5", "free")


def test_value_that_cannot_be_stored_names_plugin_and_column(users):
    users.register_plugin(PythonPlugin("wrong", '''
        def on_before_insert(row):
            row["age"] = "old"
    ''', {"users": "BEFORE INSERT"}))
    with pytest.raises(PluginError, match="plugin 'wrong' set users.age to 'old', which cannot "
                                          "be stored as INT"):
        users.execute_sql("INSERT INTO users (id, name) VALUES (1, 'a')")
    assert rows(users) == []


def test_non_dict_result_is_an_error(users):
    users.register_plugin(PythonPlugin("list", "def on_before_insert(row):\n"
                                               "    return list(row.values())\n",
                              {"users": "BEFORE INSERT"}))
    with pytest.raises(PluginError, match="on_before_insert must return the row as a dict "
                                          r"\(or None\), not list"):
        users.execute_sql("INSERT INTO users (id, name) VALUES (1, 'a')")


def test_cascaded_deletes_fire_the_child_triggers(db):
    db.execute_sql("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    db.execute_sql("CREATE TABLE child (id INTEGER PRIMARY KEY, "
                   "pid INTEGER REFERENCES parent(id) ON DELETE CASCADE)")
    db.execute_sql("INSERT INTO parent VALUES (1), (2)")
    db.execute_sql("INSERT INTO child VALUES (10, 1), (11, 1), (12, 2)")
    log = logger(db, table="child", events=["AFTER DELETE"])
    db.execute_sql("DELETE FROM parent WHERE id = 1")
    assert [r["id"] for _, r in log] == [10, 11]


def test_unregister_stops_firing(users):
    log = logger(users, events=["AFTER INSERT"])
    users.execute_sql("INSERT INTO users (id, name) VALUES (1, 'a')")
    users.unregister_plugin("log")
    users.execute_sql("INSERT INTO users (id, name) VALUES (2, 'b')")
    assert len(log) == 1 and users.plugins.list() == []


@settings(max_examples=25, deadline=None)
@given(ages=st.lists(st.integers(-5, 100), min_size=1, max_size=30))
def test_statement_is_all_or_nothing(ages):
    with Database.open(":memory:") as db:
        db.execute_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, age INTEGER)")
        db.register_plugin(PythonPlugin("check", '''
            def on_before_insert(row):
                if row["age"] < 0:
                    raise TriggerAbort("negative", code="NEG")
                row["age"] *= 2
                return row
        ''', {"t": "BEFORE INSERT"}))
        params = list(enumerate(ages))
        if min(ages) < 0:
            with pytest.raises(TriggerAbort):
                db.executemany("INSERT INTO t VALUES (?, ?)", params)
            assert rows(db, "SELECT * FROM t") == []
        else:
            db.executemany("INSERT INTO t VALUES (?, ?)", params)
            assert [r["age"] for r in rows(db, "SELECT * FROM t ORDER BY id")] == \
                [a * 2 for a in ages]


# -- persistence -----------------------------------------------------------------------

AUDIT = '''
def on_before_insert(row):
    row["plan"] = "trial"
    return row
'''


def test_persisted_plugin_is_registered_again_on_open(db_path):
    with Database.open(db_path) as db:
        db.execute_sql(USERS)
        db.register_plugin(PythonPlugin("trial", AUDIT, {"users": "BEFORE INSERT"}),
                           persist=True)
        db.register_plugin(PythonPlugin("memory_only", LOGGER, {"users": "AFTER INSERT"}))
    with Database.open(db_path) as db:
        assert db.plugins.list() == ["trial"]
        db.execute_sql("INSERT INTO users (id, name) VALUES (1, 'a')")
        assert rows(db)[0]["plan"] == "trial"
        db.unregister_plugin("trial")
    with Database.open(db_path) as db:
        assert db._plugins is None  # nothing stored any more: no registry until asked for
        db.execute_sql("INSERT INTO users (id, name) VALUES (2, 'b')")
        assert [r["plan"] for r in rows(db)] == ["trial", "free"]


def test_persisted_plugin_survives_a_crash_before_checkpoint(db_path):
    script = (f"import os\n"
              f"from sochdb import Database\n"
              f"from sochdb.plugins import PythonPlugin\n"
              f"db = Database.open({db_path!r})\n"
              f"db.execute_sql({USERS!r})\n"
              f"db.register_plugin(PythonPlugin('trial', {AUDIT!r}, "
              f"{{'users': 'BEFORE INSERT'}}), persist=True)\n"
              f"os._exit(0)\n")  # no close, no checkpoint: only the WAL has it
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    with Database.open(db_path) as db:
        db.execute_sql("INSERT INTO users (id, name) VALUES (1, 'a')")
        assert rows(db)[0]["plan"] == "trial"


def test_stored_plugin_that_no_longer_loads(db_path, tmp_path, monkeypatch):
    helper = tmp_path / "sochdb_test_plugin_helper.py"
    helper.write_text("PLAN = 'helped'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    code = ("import sochdb_test_plugin_helper\n"
            "def on_before_insert(row):\n"
            "    row['plan'] = sochdb_test_plugin_helper.PLAN\n")
    with Database.open(db_path) as db:
        db.execute_sql(USERS)
        db.register_plugin(PythonPlugin("helped", code, {"users": "BEFORE INSERT"}),
                           persist=True)
    helper.unlink()
    monkeypatch.delitem(sys.modules, "sochdb_test_plugin_helper")
    with Database.open(db_path) as db:  # opening still works
        assert db.plugins.get("helped").load_error is not None
        with pytest.raises(PluginError, match="stored plugin 'helped' could not be loaded: "
                                              "plugin 'helped' failed while loading"):
            db.execute_sql("INSERT INTO users (id, name) VALUES (1, 'a')")
        db.unregister_plugin("helped")
        db.execute_sql("INSERT INTO users (id, name) VALUES (1, 'a')")
    with Database.open(db_path) as db:
        assert db._plugins is None and len(rows(db)) == 1
