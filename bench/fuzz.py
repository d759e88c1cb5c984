"""Coverage-guided fuzzing with atheris (libFuzzer) of the inputs sochdb parses: SQL text,
WAL files, commit records, the manifest, TOON text and IPC payloads. Not part of CI; the
bounded hypothesis versions of the same properties run in tests/.

Each target accepts only sochdb's typed errors for its input (CorruptionError for files,
ToonDecodeError for TOON, ProgrammingError for IPC payloads, any sochdb error but
InternalError for SQL); anything else is a crash that libFuzzer reports with its input.

    python bench/fuzz.py sql -runs=20000        (seeded with the statements of sql_tests/)
    python bench/fuzz.py wal -max_total_time=60
"""

from __future__ import annotations

import os
import sys
import tempfile

import atheris

with atheris.instrument_imports(include=["sochdb"]):
    import importlib
    import pkgutil

    import sochdb
    for _mod in pkgutil.walk_packages(sochdb.__path__, "sochdb."):
        if _mod.name.split(".")[1] in ("sql", "engine", "kv", "toon", "server"):
            importlib.import_module(_mod.name)  # lazily imported parts get coverage too
    from sochdb import Database
    from sochdb.engine import manifest as manifest_io
    from sochdb.engine import records, wal
    from sochdb.engine.fileio import FileSystem
    from sochdb.errors import CorruptionError, Error, InternalError, ProgrammingError
    from sochdb.server import protocol as P
    from sochdb.toon import ToonDecodeError, decode, from_compact

_TMP = tempfile.mkdtemp(prefix="sochdb-fuzz-")
_DB = None


def _db():
    global _DB
    if _DB is None:
        _DB = Database.open(":memory:", {"statement_timeout": 5, "memory_limit": 64 << 20})
        _DB.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, g TEXT, v INTEGER, d DOUBLE)")
        _DB.execute("CREATE TABLE u (id INTEGER, t_id INTEGER, name TEXT UNIQUE)")
        _DB.execute("INSERT INTO t VALUES (1, 'a', 10, 1.5), (2, NULL, NULL, -0.0)")
        _DB.execute("INSERT INTO u VALUES (1, 1, 'x'), (2, 2, NULL)")
    return _DB


def fuzz_sql(data: bytes) -> None:
    text = atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(400)
    txn = _db().transaction()
    try:
        txn.execute(text)
    except InternalError:
        raise
    except (Error, RecursionError):
        pass
    finally:
        if txn.status == "active":
            txn.abort()


def fuzz_wal(data: bytes) -> None:
    """Well-framed records built from the input, then one byte of the file changed: the
    reader must cut a torn tail or raise CorruptionError, and never return a changed record."""
    fdp = atheris.FuzzedDataProvider(data)
    payloads = [fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 64))
                for _ in range(fdp.ConsumeIntInRange(0, 4))]
    blob = bytearray(wal.MAGIC + b"".join(wal.encode_frame(i + 1, p)
                                          for i, p in enumerate(payloads)))
    if fdp.ConsumeBool() and blob:
        blob[fdp.ConsumeIntInRange(0, len(blob) - 1)] ^= fdp.ConsumeIntInRange(1, 255)
    cut = fdp.ConsumeIntInRange(0, len(blob))
    path = os.path.join(_TMP, "00000001.wal")
    with open(path, "wb") as f:
        f.write(bytes(blob[:cut]))
    try:
        recs, _end = wal.read_wal_file(FileSystem(), path, True)
    except CorruptionError:
        return
    for r in recs:
        if r.payload != payloads[r.lsn - 1]:
            raise AssertionError(f"record {r.lsn} came back changed")


def fuzz_record(data: bytes) -> None:
    try:
        records.decode_payload(data, "fuzz")
    except CorruptionError:
        pass


def fuzz_manifest(data: bytes) -> None:
    try:
        manifest_io.Manifest.from_bytes(manifest_io.signed(data.rstrip(b"\n")), "MANIFEST")
    except CorruptionError:
        pass


def fuzz_toon(data: bytes) -> None:
    text = atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(400)
    for fn in (decode, from_compact):
        try:
            fn(text)
        except ToonDecodeError:
            pass


_DECODERS = [P.decode_put, P.decode_path, P.decode_range, P.txn_split, P.decode_entries,
             P.decode_query_rows, P.decode_query, P.decode_hello, P.decode_sql]


def fuzz_protocol(data: bytes) -> None:
    if not data:
        return
    decoder = _DECODERS[data[0] % len(_DECODERS)]
    try:
        decoder(data[1:])
    except ProgrammingError:
        pass
    P.decode_error(data[1:])


TARGETS = {"sql": fuzz_sql, "wal": fuzz_wal, "record": fuzz_record,
           "manifest": fuzz_manifest, "toon": fuzz_toon, "protocol": fuzz_protocol}


def seed_corpus() -> str:
    """A corpus directory holding every statement of sql_tests/ (libFuzzer mutates these
    instead of starting from nothing, which rarely gets past the parser)."""
    import glob
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sql_tests")
    out = os.path.join(_TMP, "corpus")
    os.makedirs(out, exist_ok=True)
    n = 0
    for path in sorted(glob.glob(os.path.join(root, "*", "*.test"))):  # ours, not upstream
        lines = open(path, encoding="utf-8").read().splitlines()
        for i, line in enumerate(lines):
            if line.startswith(("statement", "query")) and i + 1 < len(lines):
                with open(os.path.join(out, f"s{n}"), "w", encoding="utf-8") as f:
                    f.write(lines[i + 1])
                n += 1
    return out


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(TARGETS)}}} [libFuzzer flags] [corpus]")
    name = sys.argv.pop(1)
    if name == "sql" and all(a.startswith("-") for a in sys.argv[1:]):
        sys.argv.append(seed_corpus())
    atheris.Setup(sys.argv, TARGETS[name])
    atheris.Fuzz()


if __name__ == "__main__":
    main()
