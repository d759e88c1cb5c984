"""Encoding of a commit's operations into one WAL payload, and back.

A payload is a sequence of ``u8 tag | u64 length | body`` operations. KV writes are packed as
length arrays plus concatenated blobs (built with C-level joins, no per-key framing in Python);
table inserts are Arrow IPC streams; deletes are int64 rowid arrays; catalog changes are JSON,
and so are the segment files a bulk load wrote before its commit (see Engine._write_bulk).
Imports pyarrow, numpy and errors only.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from sochdb.errors import CorruptionError

TAG_KV = 1
TAG_INSERT = 2
TAG_DELETE = 3
TAG_CATALOG = 4
TAG_VECTOR = 5
TAG_SEGMENTS = 6  # rows of a bulk load written straight to segment files (JSON refs)

_OP = struct.Struct("<BQ")
_U32 = struct.Struct("<I")


@dataclass
class CommitRecord:
    """The decoded operations of one commit, in the order they were applied."""

    kv_keys: list[bytes] = field(default_factory=list)
    kv_values: list[bytes | None] = field(default_factory=list)
    ops: list[tuple[int, Any]] = field(default_factory=list)


def encode_kv(keys: list[bytes], values: list[bytes | None]) -> bytes:
    n = len(keys)
    klens = np.fromiter(map(len, keys), dtype=np.uint32, count=n)
    vlens = np.fromiter((-1 if v is None else len(v) for v in values), dtype=np.int64, count=n)
    if (vlens < 0).any():
        vblob = b"".join(v for v in values if v is not None)
    else:
        vblob = b"".join(values)  # type: ignore[arg-type]
    return b"".join((_U32.pack(n), klens.tobytes(), vlens.tobytes(), b"".join(keys), vblob))


def decode_kv(body: memoryview) -> tuple[list[bytes], list[bytes | None]]:
    (n,) = _U32.unpack_from(body, 0)
    off = 4
    klens = np.frombuffer(body, dtype=np.uint32, count=n, offset=off)
    off += 4 * n
    vlens = np.frombuffer(body, dtype=np.int64, count=n, offset=off)
    off += 8 * n
    kends = off + np.cumsum(klens, dtype=np.int64)
    kstarts = kends - klens
    raw = bytes(body)
    keys = [raw[s:e] for s, e in zip(kstarts.tolist(), kends.tolist())]
    voff = int(kends[-1]) if n else off
    present = np.where(vlens < 0, 0, vlens)
    vends = voff + np.cumsum(present, dtype=np.int64)
    vstarts = vends - present
    values: list[bytes | None] = [
        None if ln < 0 else raw[s:e]
        for s, e, ln in zip(vstarts.tolist(), vends.tolist(), vlens.tolist())]
    return keys, values


def encode_batch(table_id: int, batch: pa.RecordBatch | pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as w:
        w.write(batch)
    return _U32.pack(table_id) + sink.getvalue().to_pybytes()


def decode_batch(body: memoryview) -> tuple[int, pa.Table]:
    (table_id,) = _U32.unpack_from(body, 0)
    reader = pa.ipc.open_stream(pa.py_buffer(bytes(body[4:])))
    return table_id, reader.read_all()


def encode_rowids(table_id: int, rowids: np.ndarray) -> bytes:
    return _U32.pack(table_id) + np.ascontiguousarray(rowids, dtype=np.int64).tobytes()


def decode_rowids(body: memoryview) -> tuple[int, np.ndarray]:
    (table_id,) = _U32.unpack_from(body, 0)
    return table_id, np.frombuffer(bytes(body[4:]), dtype=np.int64)


def encode_json(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def encode_payload(ops: list[tuple[int, bytes]]) -> bytes:
    parts = []
    for tag, body in ops:
        parts.append(_OP.pack(tag, len(body)))
        parts.append(body)
    return b"".join(parts)


def decode_payload(payload: bytes, where: str) -> list[tuple[int, Any]]:
    """Split a payload into decoded operations; malformed data is a CorruptionError."""
    mv = memoryview(payload)
    out: list[tuple[int, Any]] = []
    off = 0
    try:
        while off < len(payload):
            tag, length = _OP.unpack_from(payload, off)
            off += _OP.size
            body = mv[off:off + length]
            if len(body) != length:
                raise ValueError("operation runs past the end of its record")
            off += length
            if tag == TAG_KV:
                out.append((tag, decode_kv(body)))
            elif tag == TAG_INSERT:
                out.append((tag, decode_batch(body)))
            elif tag == TAG_DELETE:
                out.append((tag, decode_rowids(body)))
            elif tag in (TAG_CATALOG, TAG_VECTOR, TAG_SEGMENTS):
                out.append((tag, json.loads(bytes(body))))
            else:
                raise ValueError(f"unknown operation tag {tag}")
    except (ValueError, struct.error, pa.ArrowException, OSError, IndexError, KeyError,
            TypeError) as e:
        raise CorruptionError(f"undecodable commit record in {where}: {e}") from e
    return out
