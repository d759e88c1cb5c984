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
        return body + b"\n" + f"{zlib.crc32(body):08x}".encode() + b"\n"

    @classmethod
    def from_bytes(cls, data: bytes, path: str) -> "Manifest":
        body, _, tail = data.rstrip(b"\n").rpartition(b"\n")
        try:
            ok = int(tail, 16) == zlib.crc32(body)
        except ValueError:
            ok = False
        if not ok:
            raise CorruptionError(f"manifest {path} failed its checksum", path=path)
        d = json.loads(body)
        fmt = d.pop("format", None)
        if fmt != FORMAT_VERSION:
            raise CorruptionError(f"manifest {path} has unsupported format {fmt!r}", path=path)
        return cls(**d)


def load(fs: FileSystem, db_path: str) -> Manifest | None:
    path = os.path.join(db_path, NAME)
    if not fs.exists(path):
        return None
    return Manifest.from_bytes(fs.read_bytes(path), path)


def store(fs: FileSystem, db_path: str, manifest: Manifest, sync: bool = True) -> int:
    data = manifest.to_bytes()
    fs.replace_atomic(os.path.join(db_path, NAME), data, sync=sync)
    return len(data)
