"""Fuzzing the file readers: a mutated WAL, segment or manifest gives CorruptionError or the
exact state of some committed LSN (a torn tail cut off) -- never a crash, never wrong data.
The decoders themselves, fed arbitrary bytes (even with valid checksums), raise only
CorruptionError."""

from __future__ import annotations

import json
import os
import shutil
import struct
import tempfile
import zlib

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sochdb import CorruptionError, Database
from sochdb.engine import manifest as manifest_io
from sochdb.engine import records, wal
from sochdb.engine.fileio import FileSystem
from sochdb.engine.segment import SegmentRef, read_segment

#: CI runs a fixed, bounded sample; SOCHDB_FUZZ_EXAMPLES=N runs N random examples instead.
_EXAMPLES = int(os.environ.get("SOCHDB_FUZZ_EXAMPLES", "0"))
FUZZ = settings(max_examples=_EXAMPLES or 60, deadline=None, derandomize=not _EXAMPLES,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


def state(db) -> tuple:
    rows = db.execute("SELECT * FROM t ORDER BY id").fetchall()
    return (tuple(sorted(db.scan())), tuple(tuple(r.values()) for r in rows))


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A database with segments and WAL records, and its state after every LSN from the
    checkpoint on."""
    path = str(tmp_path_factory.mktemp("fuzz") / "db")
    db = Database.open(path, {"sync_mode": "full"})
    db.execute("CREATE TABLE t (id INT PRIMARY KEY, name TEXT)")
    db.execute("INSERT INTO t VALUES (1, 'one'), (2, 'two')")
    db.put_many([(b"k%03d" % i, b"v%d" % i) for i in range(50)])
    db.checkpoint()
    states = {db.stats()["last_lsn"]: state(db)}
    for i in range(6):
        with db.transaction() as txn:
            txn.put(b"n%d" % i, b"x" * (i + 1))
            txn.execute(f"INSERT INTO t VALUES ({10 + i}, 'row{i}')")
            if i == 3:
                txn.execute("DELETE FROM t WHERE id = 1")
        states[db.stats()["last_lsn"]] = state(db)
    db._engine._wal.close()  # keep the WAL: no final checkpoint
    db._engine._dir_lock.release()
    db._engine.closed = True
    return path, states


def files_of(path: str) -> dict[str, list[str]]:
    seg = sorted(os.path.join(path, "segments", n) for n in os.listdir(
        os.path.join(path, "segments")))
    wals = [p for _, p in wal.list_wal_files(FileSystem(), os.path.join(path, "wal"))]
    return {"wal": wals, "segment": seg, "manifest": [os.path.join(path, "MANIFEST")]}


MUTATIONS = st.tuples(
    st.sampled_from(["wal", "wal", "segment", "manifest"]),
    st.sampled_from(["flip", "truncate", "overwrite", "append", "zero_tail"]),
    st.floats(0, 1), st.binary(min_size=1, max_size=40), st.integers(0, 1000))


def mutate(path: str, how: str, where: float, junk: bytes) -> None:
    data = bytearray(open(path, "rb").read())
    pos = min(int(where * len(data)), max(len(data) - 1, 0))
    if how == "flip" and data:
        data[pos] ^= junk[0] or 0x01
    elif how == "truncate":
        data = data[:pos]
    elif how == "overwrite":
        data[pos:pos + len(junk)] = junk
    elif how == "append":
        data += junk
    elif how == "zero_tail":
        data[pos:] = bytes(len(data) - pos)
    open(path, "wb").write(bytes(data))


@FUZZ
@given(MUTATIONS)
def test_mutated_files_never_give_wrong_data(tmp_path, template, mutation):
    src, states = template
    kind, how, where, junk, pick = mutation
    path = os.path.join(tempfile.mkdtemp(dir=tmp_path), "db")
    shutil.copytree(src, path)
    candidates = files_of(path)[kind]
    target = candidates[pick % len(candidates)]
    before = open(target, "rb").read()
    mutate(target, how, where, junk)
    changed = open(target, "rb").read() != before
    try:
        db = Database.open(path)
    except CorruptionError:
        return
    with db:
        try:
            got = state(db)
        except CorruptionError:  # a lazily loaded segment failed its checksum
            assert db.verify() != []
            return
        lsn = db.stats()["last_lsn"]
        assert lsn in states, f"opened at LSN {lsn}, which never existed"
        assert got == states[lsn], "the data differs from what was committed at that LSN"
        if kind == "segment" and changed:
            assert db.verify() != [], "a damaged segment went unnoticed"
        else:
            assert db.verify() == []


@FUZZ
@given(st.binary(max_size=300), st.booleans())
def test_wal_reader_on_arbitrary_bytes(tmp_path, data, is_last):
    path = str(tmp_path / "00000001.wal")
    with open(path, "wb") as f:
        f.write(data)
    try:
        recs, end = wal.read_wal_file(FileSystem(), path, is_last)
    except CorruptionError:
        return
    assert 0 <= end <= len(data)
    for r in recs:
        try:
            records.decode_payload(r.payload, path)
        except CorruptionError:
            pass


@FUZZ
@given(st.lists(st.tuples(st.integers(0, 7), st.binary(max_size=60)), max_size=4))
def test_payload_decoder_on_checksummed_garbage(tmp_path, ops):
    """Operations with arbitrary bodies behind a valid frame: CorruptionError or a decode."""
    payload = records.encode_payload(ops)
    try:
        records.decode_payload(payload, "fuzz")
    except CorruptionError:
        pass


@FUZZ
@given(st.sampled_from([records.TAG_KV, records.TAG_INSERT, records.TAG_DELETE,
                        records.TAG_CATALOG]), st.binary(max_size=80), st.integers(0, 3))
def test_recovery_of_checksummed_garbage_records(tmp_path, template, tag, body, table_id):
    """A well-framed, well-checksummed record with a nonsense body is CorruptionError at
    open (or applies cleanly when the body happens to decode), never another exception."""
    src, _ = template
    path = os.path.join(tempfile.mkdtemp(dir=tmp_path), "db")
    shutil.copytree(src, path)
    if tag in (records.TAG_INSERT, records.TAG_DELETE):
        body = struct.pack("<I", table_id) + body
    payload = records.encode_payload([(tag, body)])
    last = files_of(path)["wal"][-1]
    with open(last, "ab") as f:
        f.write(wal.encode_frame(10_000, payload))
    try:
        db = Database.open(path)
    except CorruptionError:
        return
    db.close()


@FUZZ
@given(st.binary(max_size=200))
def test_manifest_parser_on_arbitrary_bytes(data):
    with pytest.raises(CorruptionError):
        manifest_io.Manifest.from_bytes(data + b"\nnot-a-crc\n", "MANIFEST")
    try:
        manifest_io.Manifest.from_bytes(manifest_io.signed(data.rstrip(b"\n")), "MANIFEST")
    except CorruptionError:
        pass


@FUZZ
@given(st.dictionaries(st.sampled_from(["format", "checkpoint_lsn", "tables", "kv", "catalog",
                                        "wal_seq", "bogus"]),
                       st.one_of(st.integers(-2, 2), st.text(max_size=3), st.none(),
                                 st.lists(st.integers(), max_size=2), st.just({"1": 5}))))
def test_manifest_with_valid_checksum_and_odd_fields(tmp_path, fields):
    data = manifest_io.signed(json.dumps({"format": 1, **fields}).encode())
    path = tempfile.mkdtemp(dir=tmp_path)
    with open(os.path.join(path, "MANIFEST"), "wb") as f:
        f.write(data)
    try:
        Database.open(path).close()
    except CorruptionError:
        pass


@FUZZ
@given(st.binary(max_size=400), st.integers(0, 5))
def test_segment_reader_on_checksummed_garbage(tmp_path, data, rows):
    name = "s.arrow"
    where = tempfile.mkdtemp(dir=tmp_path)
    with open(os.path.join(where, name), "wb") as f:
        f.write(data)
    ref = SegmentRef(name, len(data), zlib.crc32(data), rows)
    try:
        table = read_segment(FileSystem(), where, ref)
    except CorruptionError:
        return
    assert isinstance(table, pa.Table) and table.num_rows == rows


def test_segment_with_a_flipped_byte_is_caught(tmp_path):
    t = pa.table({"a": list(range(100))})
    from sochdb.engine.segment import write_segment
    ref = write_segment(FileSystem(), str(tmp_path), "x.arrow", t)
    p = os.path.join(tmp_path, "x.arrow")
    data = bytearray(open(p, "rb").read())
    data[len(data) // 2] ^= 0xFF
    open(p, "wb").write(bytes(data))
    with pytest.raises(CorruptionError, match="failed its checksum"):
        read_segment(FileSystem(), str(tmp_path), ref)
