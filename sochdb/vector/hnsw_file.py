"""The versioned ``.hnsw`` container: a fixed header, JSON metadata and page-aligned sections.

Sections are opaque byte ranges (the usearch graph, the id map, the live mask, the full
precision vectors); this module writes them atomically with a CRC-32 each and maps them back
without reading them. The layout is documented in docs/hnsw-format.md. Imports only the
standard library, numpy and sochdb.errors.
"""

from __future__ import annotations

import json
import mmap
import os
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sochdb.errors import CorruptionError, OperationalError

__all__ = ["MAGIC", "FORMAT_VERSION", "ALIGN", "HnswHeader", "write_file", "read_header",
           "map_file", "verify_file"]

MAGIC = b"SOCHHNSW"
FORMAT_VERSION = 1
ALIGN = 4096
_FIXED = struct.Struct("<8sIII12x")  # magic, version, metadata length, metadata CRC-32
_MAX_META = 64 << 20
_CRC_CHUNK = 16 << 20


@dataclass
class HnswHeader:
    """What the header of a ``.hnsw`` file says; ``sections`` maps name -> offset/length/crc32."""

    path: str
    version: int
    meta: dict[str, Any]
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    file_size: int = 0


def _as_bytes_view(data: Any) -> memoryview:
    if isinstance(data, np.ndarray):
        data = np.ascontiguousarray(data)
        return memoryview(data.reshape(-1).view(np.uint8))
    return memoryview(data).cast("B")


def _crc(view: memoryview) -> int:
    crc = 0
    for start in range(0, len(view), _CRC_CHUNK):
        crc = zlib.crc32(view[start:start + _CRC_CHUNK], crc)
    return crc


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def write_file(path: str | os.PathLike, meta: dict[str, Any],
               sections: Iterable[tuple[str, Any, dict[str, Any]]]) -> int:
    """Write header, metadata and sections to ``path`` atomically; return the file size.

    ``sections`` yields ``(name, data, extra)`` where data is bytes-like or a numpy array and
    extra is merged into that section's metadata entry (dtype, shape). The file is written to
    a temporary name, fsynced, renamed over ``path`` and the directory fsynced, so readers see
    the old file or the new one, never a mix; an open memory map of the old file stays valid.
    """
    path = os.fspath(path)
    items = [(name, _as_bytes_view(data), extra) for name, data, extra in sections]
    crcs = {name: _crc(view) for name, view, _extra in items}
    table: dict[str, dict[str, Any]] = {}
    meta = dict(meta)
    meta["format"] = "sochdb-hnsw"
    meta["version"] = FORMAT_VERSION
    # The metadata holds the section offsets, which depend on the metadata's own length:
    # settle it by reserving a page more than needed and iterating once.
    guess = ALIGN
    for _ in range(4):
        offset = guess
        for name, view, extra in items:
            table[name] = {"offset": offset, "length": len(view), "crc32": crcs[name],
                           **extra}
            offset = _align(offset + len(view))
        meta["sections"] = table
        blob = json.dumps(meta, sort_keys=True, separators=(",", ":")).encode()
        needed = _align(_FIXED.size + len(blob))
        if needed <= guess:
            break
        guess = needed
    total = offset if items else guess
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            f.write(_FIXED.pack(MAGIC, FORMAT_VERSION, len(blob), zlib.crc32(blob)))
            f.write(blob)
            for name, view, _extra in items:
                f.seek(table[name]["offset"])
                f.write(view)
            f.truncate(total)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_dir(os.path.dirname(os.path.abspath(path)))
    except OSError as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise OperationalError(f"{path}: cannot write index ({exc.strerror})",
                               path=path) from exc
    return total


def _fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_header(path: str | os.PathLike) -> HnswHeader:
    """Read and check the header only: magic, version, metadata CRC, section bounds.

    A file too short for what its header promises is reported as truncated, naming the
    section and the offsets.
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            fixed = f.read(_FIXED.size)
            if len(fixed) < _FIXED.size or fixed[:8] != MAGIC:
                raise CorruptionError(f"{path}: not a sochdb .hnsw index file (bad magic)",
                                      path=path, offset=0)
            _magic, version, meta_len, meta_crc = _FIXED.unpack(fixed)
            if version > FORMAT_VERSION or version < 1:
                raise CorruptionError(f"{path}: .hnsw format version {version} is not supported "
                                      f"(this sochdb reads version {FORMAT_VERSION})",
                                      path=path, offset=8)
            if meta_len > _MAX_META or _FIXED.size + meta_len > size:
                raise CorruptionError(f"{path}: truncated .hnsw file: metadata of {meta_len} "
                                      f"bytes does not fit in {size} bytes",
                                      path=path, offset=_FIXED.size)
            blob = f.read(meta_len)
    except FileNotFoundError:
        raise OperationalError(f"{path}: no such file", path=path) from None
    except IsADirectoryError:
        raise OperationalError(f"{path}: is a directory", path=path) from None
    except PermissionError as exc:
        raise OperationalError(f"{path}: {exc.strerror}", path=path) from None
    if zlib.crc32(blob) != meta_crc:
        raise CorruptionError(f"{path}: .hnsw metadata checksum mismatch at offset "
                              f"{_FIXED.size}", path=path, offset=_FIXED.size)
    try:
        meta = json.loads(blob)
    except ValueError:
        raise CorruptionError(f"{path}: .hnsw metadata is not valid JSON",
                              path=path, offset=_FIXED.size) from None
    sections = meta.get("sections", {})
    for name, sec in sections.items():
        end = int(sec["offset"]) + int(sec["length"])
        if end > size:
            raise CorruptionError(f"{path}: truncated .hnsw file: section {name!r} ends at "
                                  f"byte {end} but the file has {size} bytes",
                                  path=path, offset=int(sec["offset"]))
    return HnswHeader(path=path, version=version, meta=meta, sections=sections, file_size=size)


def map_file(path: str | os.PathLike) -> tuple[HnswHeader, mmap.mmap]:
    """Check the header and map the whole file read-only; pages load only when touched."""
    header = read_header(path)
    try:
        with open(header.path, "rb") as f:
            mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except OSError as exc:
        raise OperationalError(f"{header.path}: cannot map ({exc.strerror})",
                               path=header.path) from exc
    if len(mm) != header.file_size:
        mm.close()
        raise OperationalError(f"{header.path}: file changed while opening", path=header.path)
    return header, mm


def verify_file(path: str | os.PathLike) -> HnswHeader:
    """Read every section and compare its CRC-32 with the header (reads the whole file)."""
    header, mm = map_file(path)
    try:
        view = memoryview(mm)
        try:
            for name, sec in header.sections.items():
                start, length = int(sec["offset"]), int(sec["length"])
                if _crc(view[start:start + length]) != int(sec["crc32"]):
                    raise CorruptionError(f"{header.path}: section {name!r} at offset {start} "
                                          f"fails its checksum", path=header.path,
                                          offset=start)
        finally:
            view.release()
    finally:
        mm.close()
    return header
