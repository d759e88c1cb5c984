"""Wire codecs: every payload layout round-trips, and malformed payloads raise typed errors."""

from __future__ import annotations

import datetime
import json

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sochdb.errors import (DatabaseLockedError, ParseError, ProgrammingError,
                           TransactionConflictError, TriggerAbort)
from sochdb.server import protocol as P

keys = st.binary(max_size=64)
paths = st.text(min_size=1, max_size=40).filter(lambda s: len(s.encode()) < 60000)


def test_frame_header_is_opcode_then_little_endian_length():
    assert P.frame(P.GET, b"abc") == b"\x02\x03\x00\x00\x00abc"
    assert P.frame(P.PING) == b"\x0e\x00\x00\x00\x00"


def test_published_opcode_numbers_are_kept():
    assert (P.PUT, P.GET, P.DELETE, P.BEGIN, P.COMMIT, P.ABORT, P.QUERY, P.CREATE_TABLE,
            P.PUT_PATH, P.GET_PATH, P.SCAN, P.CHECKPOINT, P.STATS, P.PING,
            P.EXECUTE_SQL) == tuple(range(1, 16))
    assert (P.OK, P.ERROR, P.VALUE, P.TXN_ID, P.STATS_REPLY, P.PONG) == (
        0x80, 0x81, 0x82, 0x83, 0x86, 0x87)
    assert len(set(P.REQUEST_NAMES)) == len(P.REQUEST_NAMES)
    assert not set(P.REQUEST_NAMES) & set(P.REPLY_NAMES)


@given(keys, st.binary(max_size=200))
def test_put_round_trip(key, value):
    assert P.decode_put(P.encode_put(key, value)) == (key, value)


def test_put_with_key_length_past_the_end():
    with pytest.raises(ProgrammingError, match="malformed PUT payload: key length 9"):
        P.decode_put(b"\x09\x00\x00\x00abc")
    with pytest.raises(ProgrammingError, match="need at least 4"):
        P.decode_put(b"\x01")


@given(paths)
def test_path_round_trip_is_exact(path):
    encoded = P.encode_path(path)
    assert P.decode_path(encoded + b"tail") == (path, len(encoded))


def test_path_layout_is_the_original_segment_list():
    assert P.encode_path("a/bc") == b"\x02\x00\x01\x00a\x02\x00bc"
    assert P.decode_path(b"\x03\x00\x00\x00\x01\x00a\x01\x00b")[0] == "/a/b"


def test_path_errors():
    with pytest.raises(ValueError, match="must not be empty"):
        P.encode_path("")
    with pytest.raises(TypeError, match="path must be str"):
        P.encode_path(b"a")
    with pytest.raises(ProgrammingError, match="runs past"):
        P.decode_path(b"\x01\x00\x09\x00ab")
    with pytest.raises(ProgrammingError, match="not UTF-8"):
        P.decode_path(b"\x01\x00\x01\x00\xff")


@given(keys, st.none() | keys)
def test_range_round_trip(start, end):
    assert P.decode_range(P.encode_range(start, end)) == (start, end)


@given(st.lists(st.tuples(keys, st.binary(max_size=100)), max_size=50))
def test_entries_round_trip(pairs):
    ks = [k for k, _ in pairs]
    vs = [v for _, v in pairs]
    assert P.decode_entries(P.encode_entries(ks, vs)) == pairs


def test_entries_reject_inconsistent_lengths():
    good = P.encode_entries([b"a"], [b"bc"])
    with pytest.raises(ProgrammingError, match="add up to"):
        P.decode_entries(good + b"x")
    with pytest.raises(ProgrammingError, match="do not fit"):
        P.decode_entries(b"\xff\xff\xff\x00")


def test_entry_chunks_respect_the_limit():
    pairs = [(b"k%04d" % i, b"v" * 100) for i in range(100)]
    chunks = list(P.entry_chunks(pairs, 1000))
    assert len(chunks) > 10 and all(len(c) <= 1000 for c in chunks)
    assert [p for c in chunks for p in P.decode_entries(c)] == pairs


def test_original_scan_and_query_reply_layouts():
    pairs = [(b"a", b"1"), (b"bb", b"")]
    v1 = P.encode_entries_v1(pairs)
    assert v1 == b"\x02\x00\x00\x00\x01\x00a\x01\x00\x00\x001\x02\x00bb\x00\x00\x00\x00"
    assert P.decode_query_rows(v1, key_width=2) == pairs
    assert P.decode_query_rows(P.encode_query_rows(pairs)) == pairs


def test_query_request_round_trip():
    payload = P.encode_query("users/", 10, 5, ["name", "age"])
    assert P.decode_query(payload) == ("users/", 10, 5, ["name", "age"])


@pytest.mark.parametrize("err", [
    TransactionConflictError("write-write conflict on key b'k'"),
    DatabaseLockedError("locked by process 7", pid=7),
    ParseError("syntax error near 'FORM'", line=1, column=10),
    TriggerAbort("Age cannot be negative", code="INVALID_AGE"),
])
def test_error_round_trip_keeps_class_code_and_details(err):
    back = P.decode_error(P.encode_error(err))
    assert type(back) is type(err)
    assert (back.code, back.numeric, back.message) == (err.code, err.numeric, err.message)
    if isinstance(err, ParseError):
        assert (back.line, back.column) == (1, 10)
    if isinstance(err, DatabaseLockedError):
        assert back.details["pid"] == 7


def test_non_sochdb_exception_is_an_internal_error():
    back = P.decode_error(P.encode_error(KeyError("x")))
    assert back.code == "INTERNAL" and "KeyError" in back.message


def test_version_1_errors_are_plain_text():
    back = P.decode_error(b"something failed", version=1)
    assert back.message == "something failed"


def test_hello_round_trip():
    assert P.decode_hello(P.encode_hello(2, "me")) == (2, "me")
    assert P.decode_hello_reply(P.encode_hello_reply(2, 1024, 42, "srv")) == (2, 1024, 42, "srv")


@pytest.mark.parametrize("params", [
    None,
    [1, 2.5, "x", b"\x00\xff", None, True],
    {"name": "Alice", "age": 30},
    [datetime.date(2024, 1, 2), [1.0, 2.0]],
    [],
])
def test_sql_request_round_trip(params):
    sql, back = P.decode_sql(P.encode_sql("SELECT ?", params))
    assert sql == "SELECT ?"
    assert back == params


def test_sql_params_must_be_a_sequence_or_mapping():
    with pytest.raises(ProgrammingError, match="sequence or a dict"):
        P.encode_sql("SELECT ?", "abc")


def test_result_frames_carry_meta_and_arrow_in_chunks():
    class FakeResult:
        columns = ["a", "a"]
        rowcount = -1
        message = None
        statement = "SELECT"

        def arrow(self):
            return pa.table([pa.array(range(5000)), pa.array(["x"] * 5000)], names=["a", "a"])

    frames = P.result_frames(FakeResult(), 4096)
    ops = [f[0] for f in frames]
    assert ops[0] == P.RESULT and ops[-1] == P.END_STREAM
    assert ops.count(P.ARROW) > 3
    meta = json.loads(frames[0][5:])
    assert meta["columns"] == ["a", "a"] and meta["has_table"]
    table = P.decode_arrow(b"".join(f[5:] for f in frames if f[0] == P.ARROW))
    assert table.num_rows == 5000 and table.schema.names == ["a", "a"]


def test_every_opcode_is_documented():
    import os
    import re
    path = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "protocol.md")
    with open(path, encoding="utf-8") as f:
        doc = f.read()
    rows = dict(re.findall(r"^\| (0x[0-9A-F]{2}) \| (\w+) \|", doc, re.M))
    for op, name in {**P.REQUEST_NAMES, **P.REPLY_NAMES}.items():
        if op & P.TXN and op in P.REQUEST_NAMES and op not in P.REPLY_NAMES:
            assert f"(`0x{op:02X}`)" in doc, name  # listed in the transaction paragraph
        else:
            assert rows.get(f"0x{op:02X}") == name, name
