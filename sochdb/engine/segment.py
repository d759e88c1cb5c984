"""Immutable segment files: one Arrow IPC file with zstd-compressed buffers per row group or run.

A segment is written once at checkpoint and never modified. Its CRC32 and size are recorded in
the manifest, and a segment whose bytes do not match raises CorruptionError naming the file
before Arrow ever parses it. A reader may ask for some columns only: the others' buffers are
then never decompressed. Imports pyarrow, fileio and errors.
"""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass
from typing import Sequence

import pyarrow as pa

from sochdb.engine.fileio import FileSystem
from sochdb.errors import CorruptionError

_WRITE_OPTIONS = pa.ipc.IpcWriteOptions(compression="zstd")


@dataclass(frozen=True)
class SegmentRef:
    """Where a segment lives and how to check it: file name (relative), size, crc32, rows."""

    name: str
    size: int
    crc: int
    rows: int

    def to_json(self) -> dict:
        return {"name": self.name, "size": self.size, "crc": self.crc, "rows": self.rows}

    @classmethod
    def from_json(cls, d: dict) -> "SegmentRef":
        return cls(d["name"], d["size"], d["crc"], d["rows"])


def segment_entry(ref: SegmentRef, first_rowid: int, stats: dict | None) -> dict:
    """A table segment as the manifest and bulk-load WAL records name it: the reference,
    its first rowid and its zone map (zonemap.to_json), if any."""
    entry = {**ref.to_json(), "first_rowid": first_rowid}
    if stats:
        entry["stats"] = stats
    return entry


def write_segment(fs: FileSystem, directory: str, name: str, table: pa.Table,
                  sync: bool = True) -> SegmentRef:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema, options=_WRITE_OPTIONS) as w:
        w.write_table(table, max_chunksize=max(table.num_rows, 1))
    data = sink.getvalue().to_pybytes()
    fs.write_file(os.path.join(directory, name), data, sync=sync)
    return SegmentRef(name, len(data), zlib.crc32(data), table.num_rows)


def read_segment(fs: FileSystem, directory: str, ref: SegmentRef,
                 columns: Sequence[str] | None = None) -> pa.Table:
    """The segment's rows: all columns, or those of ``columns`` that it holds (in file order).

    The whole file is checksummed either way; only the chosen columns are decompressed.
    """
    path = os.path.join(directory, ref.name)
    try:
        data = fs.read_bytes(path)
    except FileNotFoundError:
        raise CorruptionError(f"segment file {path} is missing", path=path) from None
    if len(data) != ref.size or zlib.crc32(data) != ref.crc:
        raise CorruptionError(f"segment file {path} failed its checksum "
                              f"(expected {ref.size} bytes, crc {ref.crc:#010x})", path=path)
    try:
        buf = pa.py_buffer(data)
        reader = pa.ipc.open_file(buf)
        if columns is not None:
            wanted = set(columns)
            fields = [i for i, name in enumerate(reader.schema.names) if name in wanted]
            reader = pa.ipc.open_file(buf, options=pa.ipc.IpcReadOptions(included_fields=fields))
        table = reader.read_all()
    except (pa.ArrowInvalid, OSError) as e:
        raise CorruptionError(f"segment file {path} is not a readable Arrow file: {e}",
                              path=path) from e
    if table.num_rows != ref.rows:
        raise CorruptionError(f"segment file {path} holds {table.num_rows} rows, "
                              f"the manifest says {ref.rows}", path=path)
    return table
