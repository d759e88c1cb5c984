"""Tests of sochdb.kv.query: the guide's query-builder example, operators, paging, TOON output,
skipped values, transaction views and argument checking."""

from __future__ import annotations

import doctest
import json
import math
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sochdb.kv.query as query_module
from sochdb import Database
from sochdb.errors import ProgrammingError
from sochdb.kv.query import MAX_DEPTH, OPERATORS, Query
from sochdb.toon import from_compact


def test_guide_example_verbatim(db, capsys):
    # Insert structured data
    db.put(b"products/laptop", b'{"name":"Laptop","price":999,"stock":5}')
    db.put(b"products/mouse", b'{"name":"Mouse","price":25,"stock":20}')

    # Query with column selection
    results = db.query("products/") \
        .select(["name", "price"]) \
        .limit(10) \
        .to_list()

    for key, value in results:
        print(f"{key.decode()}: {value.decode()}")

    assert capsys.readouterr().out == (
        "products/laptop: result[1]{name,price}:Laptop,999\n"
        "products/mouse: result[1]{name,price}:Mouse,25\n")


def test_docstring_examples_run():
    db = Database.open(":memory:")
    try:
        result = doctest.testmod(query_module, extraglobs={"db": db})
    finally:
        db.close()
    assert result.attempted >= 5 and result.failed == 0


# -- operators -------------------------------------------------------------------------------
DOCS = {
    b"d/a": {"n": 1, "s": "apple", "b": True, "z": None, "arr": [1, "x"], "o": {"k": 1}},
    b"d/b": {"n": 2.5, "s": "banana", "b": False, "arr": ["y"], "o": {"k": 2}},
    b"d/c": {"n": "3", "s": "cherry pie", "z": 0},
    b"d/d": {"n": True, "s": 5},
    b"d/e": {},
}


@pytest.fixture
def docs_db(db):
    db.put_many([(k, json.dumps(v).encode()) for k, v in DOCS.items()])
    db.put(b"dx", b'{"n": 1}')  # shares the first letter but not the prefix "d/"
    return db


OPERATOR_CASES = [
    ("n", "=", 1, "a"),                 # bool true is not the number 1
    ("n", "==", 1.0, "a"),              # 1 == 1.0 across int and float
    ("n", "=", True, "d"),
    ("n", "=", "3", "c"),               # a string never equals a number
    ("s", "=", "apple", "a"),
    ("arr", "=", [1, "x"], "a"),
    ("arr", "=", [True, "x"], ""),      # strict inside arrays too
    ("o", "=", {"k": 2}, "b"),
    ("n", "!=", 1, "b"),                # other kinds and missing fields never match
    ("n", "<>", 2.5, "a"),
    ("s", "!=", "apple", "bc"),
    ("n", "<", 2, "a"),
    ("n", "<=", 2.5, "ab"),
    ("n", ">", 1, "b"),
    ("n", ">=", 1, "ab"),
    ("s", ">", "b", "bc"),              # strings order by code point; 5 is not a string
    ("s", "<", "banana", "a"),
    ("n", "in", [1, "3"], "ac"),
    ("n", "in", (True,), "d"),
    ("o", "in", [{"k": 1}, 7], "a"),
    ("z", "in", [None], "a"),
    ("n", "not in", [1], "b"),
    ("s", "not in", ["apple"], "bc"),
    ("n", "Not  In", [2.5, "3"], "a"),  # word operators ignore case and spacing
    ("s", "contains", "an", "b"),
    ("arr", "contains", "x", "a"),
    ("arr", "contains", 1, "a"),
    ("arr", "contains", True, ""),
    ("s", "startswith", "ch", "c"),
    ("s", "endswith", "a", "b"),
    ("z", "exists", None, "ac"),
    ("z", "exists", False, "bde"),
    ("z", "is null", None, "a"),
    ("z", "IS NOT NULL", None, "c"),
    ("missing", ">", 0, ""),
]


@pytest.mark.parametrize("field,op,value,expected", OPERATOR_CASES,
                         ids=[f"{f} {o} {v!r}" for f, o, v, _ in OPERATOR_CASES])
def test_operator(docs_db, field, op, value, expected):
    q = docs_db.query("d/")
    q = q.where(field, op) if value is None else q.where(field, op, value)
    keys = [k for k, _ in q.to_list()]
    assert keys == [b"d/" + c.encode() for c in expected]
    assert q.skipped == 0


def test_every_operator_is_covered():
    used = {" ".join(op.lower().split()) for _, op, _, _ in OPERATOR_CASES}
    assert used == set(OPERATORS)


def test_not_equal_is_not_in_of_one(docs_db):
    for field in ("n", "s", "arr", "o", "z", "b"):
        for value in (1, 2.5, "apple", "3", True, False, [1, "x"], {"k": 2}, 0):
            ne = docs_db.query("d/").where(field, "!=", value).to_list()
            assert ne == docs_db.query("d/").where(field, "not in", [value]).to_list()


scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5),
                    st.floats(-5, 5, allow_nan=False), st.sampled_from(["a", "b", "5", ""]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.lists(scalars, max_size=12), probe=scalars.filter(lambda v: v is not None),
       other=scalars)
def test_comparisons_partition_each_kind(values, probe, other):
    """= and != split the documents of the probe's kind; < and >= do for numbers/strings;
    in is the union of =."""
    db = Database.open(":memory:")
    try:
        db.put_many([(b"p/%03d" % i, json.dumps({"x": v}).encode())
                     for i, v in enumerate(values)])
        db.put(b"p/zzz", b"{}")

        def keys(*where):
            q = db.query("p/")
            for w in where:
                q = q.where(*w)
            return {k for k, _ in q.to_list()}

        def kind(v):
            return "num" if type(v) in (int, float) else type(v).__name__

        same_kind = {b"p/%03d" % i for i, v in enumerate(values) if kind(v) == kind(probe)}
        eq, ne = keys(("x", "=", probe)), keys(("x", "!=", probe))
        assert eq | ne == same_kind and not eq & ne
        if kind(probe) in ("num", "str"):
            lt, ge = keys(("x", "<", probe)), keys(("x", ">=", probe))
            assert lt | ge == same_kind and not lt & ge
            assert keys(("x", "<=", probe)) == lt | eq
        expected_in = eq | (keys(("x", "=", other)) if other is not None
                            else keys(("x", "is null")))
        assert keys(("x", "in", [probe, other])) == expected_in
    finally:
        db.close()


def test_where_clauses_and_together(docs_db):
    q = docs_db.query("d/").where("n", ">=", 1).where("s", "contains", "a")
    assert [k for k, _ in q.to_list()] == [b"d/a", b"d/b"]
    q = q.where("b", "=", False)
    assert [k for k, _ in q.to_list()] == [b"d/b"]
    assert q.where("z", "exists").to_list() == []


def test_later_changes_to_where_values_do_not_leak_in(docs_db):
    target, items = [1, "x"], [{"k": 1}]
    q1 = docs_db.query("d/").where("arr", "=", target)
    q2 = docs_db.query("d/").where("o", "in", items)
    target.append(2)
    items[0]["k"] = 2
    assert [k for k, _ in q1.to_list()] == [b"d/a"] and [k for k, _ in q2.to_list()] == [b"d/a"]


def test_builder_returns_new_queries(docs_db):
    base = docs_db.query("d/")
    numbers = base.where("n", ">", 0)
    strings = base.where("s", "startswith", "b")
    assert base.count() == 5
    assert [k for k, _ in numbers.to_list()] == [b"d/a", b"d/b"]
    assert [k for k, _ in strings.to_list()] == [b"d/b"]
    assert repr(numbers.select(["n"]).limit(3).offset(1)) == (
        "Query(b'd/').select(['n']).where('n', '>', 0).limit(3).offset(1)")


# -- paging, output forms ----------------------------------------------------------------------
@pytest.fixture
def items_db(db):
    db.put_many([(b"items/%02d" % i, json.dumps({"i": i, "even": i % 2 == 0}).encode())
                 for i in range(20)])
    return db


def test_limit_and_offset(items_db):
    q = items_db.query(b"items/").select(["i"])
    assert [r["i"] for r in q.limit(3).to_records()] == [0, 1, 2]
    assert [r["i"] for r in q.offset(18).to_records()] == [18, 19]
    assert [r["i"] for r in q.offset(5).limit(2).to_records()] == [5, 6]
    assert [r["i"] for r in q.where("even", "=", True).offset(2).limit(3).to_records()] \
        == [4, 6, 8]
    assert q.offset(25).to_records() == []
    assert q.limit(0).to_list() == [] and q.limit(5).limit(None).count() == 20
    assert q.offset(7).limit(100).count() == 13


class CountingSource:
    """Wraps a database and counts the pairs a query pulls from its scan."""

    def __init__(self, db: Database) -> None:
        self.db, self.pulled = db, 0

    def scan_prefix(self, prefix: bytes):
        for pair in self.db.scan_prefix(prefix):
            self.pulled += 1
            yield pair


def test_limit_stops_the_scan_early(items_db):
    src = CountingSource(items_db)
    assert Query(src, "items/").where("even", "=", False).limit(2).count() == 2
    assert src.pulled == 4  # items 0..3: the second odd item ends the scan
    src.pulled = 0
    assert Query(src, "items/").limit(0).to_list() == [] and src.pulled == 0


def test_to_toon_to_records_count(docs_db):
    q = docs_db.query("d/").where("n", ">=", 1)
    assert q.select(["s", "n"]).to_toon() == "result[2]{s,n}:apple,1;banana,2.5"
    assert q.select(["s", "z"]).to_toon("fruit") == "fruit[2]{s,z}:apple,null;banana,"
    assert q.select(["s", "z"]).to_records() == [{"s": "apple", "z": None}, {"s": "banana"}]
    assert q.to_records() == [DOCS[b"d/a"], DOCS[b"d/b"]]
    # no select: the first document's key order, then new keys as first seen
    assert docs_db.query("d/").where("s", "in", [5, "cherry pie"]).to_toon() == \
        'result[2]{n,s,z}:"3",cherry pie,0;true,5,'
    assert q.count() == 2 and docs_db.query("d/").count() == 5
    assert q.select(["s"]).where("n", ">", 100).to_toon() == "result[0]{s}:"
    assert docs_db.query("nothing/").to_toon() == "result[0]{}:"


def test_to_list_without_select_uses_each_documents_keys(docs_db):
    rows = dict(docs_db.query("d/").where("s", "startswith", "").to_list())
    assert rows[b"d/c"] == b'result[1]{n,s,z}:"3",cherry pie,0'
    assert rows[b"d/b"] == (b'result[1]{n,s,b,arr,o}:2.5,banana,false,["y"],{"k":2}')
    assert docs_db.query("d/").where("n", "=", True).to_list() == \
        [(b"d/d", b"result[1]{n,s}:true,5")]
    assert docs_db.query("d/").where("z", "exists", False).offset(2).to_list() == \
        [(b"d/e", b"result[1]{}:")]


def test_iteration_streams_pairs(items_db):
    q = items_db.query("items/").select(["i"]).where("i", "<", 3)
    assert list(q) == q.to_list() == [(b"items/%02d" % i, b"result[1]{i}:%d" % i)
                                      for i in range(3)]
    it = iter(q)
    assert next(it) == (b"items/00", b"result[1]{i}:0")


def test_str_and_bytes_prefixes_agree(docs_db):
    for prefix in ("d/", b"d/", bytearray(b"d/"), memoryview(b"d/")):
        assert [k for k, _ in Query(docs_db, prefix).to_list()] == sorted(DOCS)
    assert Query(docs_db, "").count() == 6  # every key, dx included
    docs_db.put("ünï/1".encode(), b'{"a": 1}')
    assert docs_db.query("ünï/").to_list() == [("ünï/1".encode(), b"result[1]{a}:1")]


# -- values that are not JSON objects ----------------------------------------------------------
BAD_VALUES = [b"not json", b"\xff\xfe{}", b"[1, 2]", b"42", b'"text"', b"", b"null",
              b"{\"a\": 1", b"\xef\xbb\xbf{}", b'{"a": "\\ud800"}', b'{"a": "\xed\xa0\x80"}',
              b"[" * 100_000, b'{"a": ' + b"[" * 2000 + b"]" * 2000 + b"}",
              b'{"a": ' + b"[" * MAX_DEPTH + b"]" * MAX_DEPTH + b"}",
              b'{"n": ' + b"9" * 5000 + b"}"]


def test_non_json_values_are_skipped_and_counted(db):
    good = {b"v/good1": b'{"a": 1}', b"v/good2": b'{"a": "\\ud83d\\ude80 \\u00e9"}',
            b"v/good3": b'{"a": ' + b"[" * (MAX_DEPTH - 1) + b"]" * (MAX_DEPTH - 1) + b"}",
            b"v/good4": b'{"a": NaN, "b": Infinity, "c": "\\\\ud800"}'}
    pairs = list(good.items()) + [(b"v/x-bad%02d" % i, v) for i, v in enumerate(BAD_VALUES)]
    db.put_many(pairs)
    q = db.query("v/")
    assert q.skipped is None
    rows = q.to_list()
    assert [k for k, _ in rows] == sorted(good)
    assert q.skipped == len(BAD_VALUES)
    assert dict(rows)[b"v/good2"] == "result[1]{a}:\U0001F680 é".encode()
    assert dict(rows)[b"v/good4"] == b'result[1]{a,b,c}:NaN,Infinity,"\\\\ud800"'
    assert q.count() == 4 and q.skipped == len(BAD_VALUES)
    assert len(q.to_records()) == 4 and q.select(["a"]).to_toon().startswith("result[4]{a}:")
    # a run stopped by its limit counts only what it read: good* keys sort before x-bad*
    limited = q.limit(4)
    assert len(limited.to_list()) == 4 and limited.skipped == 0
    first_bad = db.query("v/x-bad").limit(1)
    assert first_bad.to_list() == [] and first_bad.skipped == len(BAD_VALUES)


def test_skipped_grows_during_iteration(db):
    db.put_many([(b"m/1", b"x"), (b"m/2", b'{"a": 1}'), (b"m/3", b"y"), (b"m/4", b'{"a": 2}')])
    q = db.query("m/")
    it = iter(q)
    next(it)
    assert q.skipped == 1
    next(it)
    assert q.skipped == 2


# -- transactions ------------------------------------------------------------------------------
def test_query_reads_a_transactions_view(db):
    db.put(b"p/1", b'{"v": 1}')
    db.put(b"p/2", b'{"v": 2}')
    with db.transaction() as txn:
        txn.put(b"p/3", b'{"v": 3}')
        txn.delete(b"p/1")
        db.put(b"p/4", b'{"v": 4}')  # committed after the transaction began: not visible
        assert Query(txn, "p/").select(["v"]).to_toon() == "result[2]{v}:2;3"
        assert Query(txn, b"p/").where("v", ">", 2).to_records() == [{"v": 3}]
        assert db.query("p/").select(["v"]).to_toon() == "result[3]{v}:1;2;4"
    assert db.query("p/").select(["v"]).to_toon() == "result[3]{v}:2;3;4"


def test_each_run_reads_a_fresh_snapshot(db):
    db.put(b"p/1", b'{"v": 1}')
    q = db.query("p/")
    assert q.count() == 1
    db.put(b"p/2", b'{"v": 2}')
    assert q.count() == 2


# -- round trips through from_compact ----------------------------------------------------------
HOSTILE = ["a,b", "a;b", 'say "hi"', "back\\slash", "line\nbreak\r\t", " padded ", "null",
           "true", "42", "-3.5e7", "05", "[not json", "{x", "", "key: value", "#tag", "-",
           "\x00\x1f", "日本語", "مرحبا", "emoji \U0001F680", "\u2028\u2029", "a]b}c"]


def test_hostile_strings_round_trip(db):
    docs = {f"h/{i:02d}".encode(): {"s": s, "i": i, "nested": [s, {"k": s}]}
            for i, s in enumerate(HOSTILE)}
    db.put_many([(k, json.dumps(v, ensure_ascii=i % 2 == 0).encode())
                 for i, (k, v) in enumerate(docs.items())])
    q = db.query("h/").select(["nested", "s"])
    for key, value in q.to_list():
        assert from_compact(value.decode("utf-8")) == \
            ("result", ["nested", "s"], [{"nested": docs[key]["nested"], "s": docs[key]["s"]}])
    assert from_compact(q.to_toon("t")) == ("t", ["nested", "s"], q.to_records())
    assert q.skipped == 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(st.characters(codec="utf-8")),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8)
documents = st.dictionaries(st.sampled_from(["a", "b", "c", "key with space", "ü"]),
                            json_values, max_size=5)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(docs=st.lists(documents, min_size=1, max_size=6),
       fields=st.permutations(["a", "b", "c", "key with space", "ü"]).map(lambda p: p[:3]),
       ascii_json=st.booleans())
def test_round_trip_property(docs, fields, ascii_json):
    db = Database.open(":memory:")
    try:
        db.put_many([(b"r/%d" % i, json.dumps(d, ensure_ascii=ascii_json).encode())
                     for i, d in enumerate(docs)])
        q = db.query("r/").select(fields)
        records = [{f: d[f] for f in fields if f in d} for d in docs]
        assert q.to_records() == records
        decoded = [from_compact(v.decode("utf-8")) for _, v in q.to_list()]
        assert decoded == [("result", fields, [r]) for r in records]
        assert from_compact(q.to_toon()) == ("result", fields, records)
        whole = db.query("r/")
        _, names, back = from_compact(whole.to_toon())
        assert back == [{k: d[k] for k in names if k in d} for d in docs]
        assert set(names) == {k for d in docs for k in d}
    finally:
        db.close()


def test_special_floats_round_trip(db):
    db.put(b"f/1", b'{"x": NaN, "y": -Infinity, "z": -0.0, "w": 1e308, "v": 5e-324}')
    (_, value), = db.query("f/").to_list()
    _, _, [rec] = from_compact(value.decode())
    assert math.isnan(rec["x"]) and rec["y"] == -math.inf
    assert math.copysign(1, rec["z"]) == -1 and rec["w"] == 1e308 and rec["v"] == 5e-324


# -- bad arguments -----------------------------------------------------------------------------
BAD_CALLS = [
    (lambda q: q.where("a", "like", "x"), "unknown operator 'like'"),
    (lambda q: q.where("a", "===", 1), "use one of =, ==, !="),
    (lambda q: q.where("a", None, 1), "operator must be a str"),
    (lambda q: q.where(1, "=", 1), "field must be a str"),
    (lambda q: q.where("a", "="), "a value to compare with is required"),
    (lambda q: q.where("a", "=", None), "use 'is null'"),
    (lambda q: q.where("a", "<", None), "use 'is null'"),
    (lambda q: q.where("a", "<", [1]), "only numbers and strings can be ordered"),
    (lambda q: q.where("a", ">=", True), "got a bool"),
    (lambda q: q.where("a", "in", "abc"), "must be a list of values, got str"),
    (lambda q: q.where("a", "not in", 3), "must be a list of values, got int"),
    (lambda q: q.where("a", "in", [b"x"]), "bytes is not a JSON value"),
    (lambda q: q.where("a", "=", {1: "x"}), "object keys must be str"),
    (lambda q: q.where("a", "=", object()), "object is not a JSON value"),
    (lambda q: q.where("a", "startswith", 1), "must be a str"),
    (lambda q: q.where("a", "exists", "yes"), "True, False or omitted"),
    (lambda q: q.where("a", "is null", 1), "takes no value"),
    (lambda q: q.limit(-1), "must not be negative"),
    (lambda q: q.offset(-5), "must not be negative"),
    (lambda q: q.limit(2.0), "takes an int, got float"),
    (lambda q: q.limit(True), "takes an int, got bool"),
    (lambda q: q.offset("3"), "takes an int, got str"),
    (lambda q: q.select("name"), "takes a list of field names, got str"),
    (lambda q: q.select({"name"}), "got set"),
    (lambda q: q.select(None), "got NoneType"),
    (lambda q: q.select([]), "at least one field"),
    (lambda q: q.select(["a", 1]), "field names must be str"),
    (lambda q: q.select(["a", "b", "a"]), "'a' is listed twice"),
    (lambda q: q.to_toon(3), "table name must be a str"),
]


@pytest.mark.parametrize("call,message", BAD_CALLS, ids=[m for _, m in BAD_CALLS])
def test_bad_arguments(db, call, message):
    with pytest.raises(ProgrammingError, match=message.replace("(", r"\(")) as info:
        call(db.query("p/"))
    assert info.value.code == "PROGRAMMING"


def test_bad_prefix_and_source(db):
    with pytest.raises(ProgrammingError, match="prefix must be str or bytes, got int"):
        db.query(5)
    with pytest.raises(ProgrammingError, match="not valid Unicode"):
        db.query("\ud800")
    with pytest.raises(ProgrammingError, match="needs a Database or Transaction"):
        Query(object(), "p/")


def test_select_accepts_a_tuple(docs_db):
    assert docs_db.query("d/").select(("s",)).limit(1).to_toon() == "result[1]{s}:apple"


# -- speed -------------------------------------------------------------------------------------
def test_filtering_20k_documents_is_quick():
    db = Database.open(":memory:")
    try:
        db.put_many([(b"k/%06d" % i, json.dumps({"i": i, "name": f"n{i}", "tag": "ab"[i % 2]})
                      .encode()) for i in range(20_000)])
        q = db.query("k/").where("i", ">=", 10_000).where("tag", "=", "a").select(["name"])
        start = time.perf_counter()
        assert len(q.to_list()) == 5_000 and q.count() == 5_000
        elapsed = time.perf_counter() - start
    finally:
        db.close()
    assert elapsed < 5.0, f"20k documents took {elapsed:.2f}s"  # ~0.2 s here; a loose guard
