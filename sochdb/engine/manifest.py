"""The MANIFEST: catalog, segment lists and the checkpoint LSN, replaced atomically.

The file is JSON followed by a line holding its CRC32, written by temp file + fsync + rename +
directory fsync, so a reader sees either the old or the new manifest, never a mix.
"""

from __future__ import annotations

import json
import os
import zlib
from dataclasses import dataclass, field

from sochdb.engine.fileio import FileSystem
from sochdb.errors import CorruptionError

FORMAT_VERSION = 1
NAME = "MANIFEST"


@dataclass
class Manifest:
    checkpoint_lsn: int = 0
    next_rowid: int = 0
    next_segment: int = 1
    wal_seq: int = 1
    catalog: dict = field(default_factory=dict)
    tables: dict[str, list[dict]] = field(default_factory=dict)  # table id -> segment refs
    kv: list[dict] = field(default_factory=list)  # newest first
    extra: dict = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        body = json.dumps({"format": FORMAT_VERSION, **vars(self)}, separators=(",", ":"),
                          sort_keys=True).encode()
        return signed(body)

    @classmethod
    def from_bytes(cls, data: bytes, path: str) -> "Manifest":
        body, _, tail = data.rstrip(b"\n").rpartition(b"\n")
        try:
            ok = int(tail, 16) == zlib.crc32(body)
        except ValueError:
            ok = False
        if not ok:
            raise CorruptionError(f"manifest {path} failed its checksum", path=path)
        try:
            d = json.loads(body)
        except ValueError as e:  # JSON and UTF-8 errors alike
            raise CorruptionError(f"manifest {path} is not valid JSON: {e}", path=path) from e
        fmt = d.pop("format", None) if isinstance(d, dict) else None
        if fmt != FORMAT_VERSION:
            raise CorruptionError(f"manifest {path} has unsupported format {fmt!r}", path=path)
        problem = _shape_problem(d)
        if problem:
            raise CorruptionError(f"manifest {path} is malformed: {problem}", path=path)
        return cls(**d)


_INTS = ("checkpoint_lsn", "next_rowid", "next_segment", "wal_seq")
_REF_KEYS = {"name": str, "size": int, "crc": int, "rows": int}


def signed(body: bytes) -> bytes:
    """``body`` with its CRC32 line appended: the form ``from_bytes`` checks."""
    return body + b"\n" + f"{zlib.crc32(body):08x}".encode() + b"\n"


def _shape_problem(d: dict) -> str | None:
    """What is wrong with the decoded manifest's structure, or None (checksummed data can
    still be wrong if it was written by another program or a buggy version)."""
    known = set(_INTS) | {"catalog", "tables", "kv", "extra"}
    extra_keys = set(d) - known
    if extra_keys:
        return f"unknown keys {sorted(extra_keys)}"
    for k in _INTS:
        if k in d and (type(d[k]) is not int or d[k] < 0):
            return f"{k} must be a non-negative integer, not {d[k]!r}"
    for k, typ in (("catalog", dict), ("tables", dict), ("kv", list), ("extra", dict)):
        if k in d and not isinstance(d[k], typ):
            return f"{k} must be a {typ.__name__}"
    refs = [(r, "first_rowid") for refs in d.get("tables", {}).values()
            for r in (refs if isinstance(refs, list) else [None])]
    refs += [(r, "lsn") for r in d.get("kv", [])]
    if any(not str(t).isdigit() for t in d.get("tables", {})):
        return "table ids must be integers"
    for ref, extra in refs:
        if not isinstance(ref, dict):
            return f"segment reference {ref!r} is not an object"
        for key, typ in (*_REF_KEYS.items(), (extra, int)):
            if type(ref.get(key)) is not typ:
                return f"segment reference {ref!r} lacks a valid {key!r}"
    return None


def load(fs: FileSystem, db_path: str) -> Manifest | None:
    path = os.path.join(db_path, NAME)
    if not fs.exists(path):
        return None
    return Manifest.from_bytes(fs.read_bytes(path), path)


def store(fs: FileSystem, db_path: str, manifest: Manifest, sync: bool = True) -> int:
    data = manifest.to_bytes()
    fs.replace_atomic(os.path.join(db_path, NAME), data, sync=sync)
    return len(data)
