"""The write-ahead log: numbered files of length-framed, checksummed commit records.

Frame layout (little-endian)::

    u32 payload_len | u64 lsn | u32 payload_crc32 | u32 header_crc32 | payload

``header_crc32`` covers the first 16 bytes, so a damaged length is caught before it is trusted.
A file starts with the 8-byte magic ``SOCHWAL1``. On replay a damaged *final* record is a torn
write and is cut off; damage followed by more data is corruption and raises CorruptionError
naming the file and offset. Imports fileio and errors only.

A failed append (ENOSPC, EIO, a failed fsync) is cut back off the file before the error is
reported, and a writer whose cut failed repairs the file before its next append, so a record
that was not acknowledged never sits in front of one that is.
"""

from __future__ import annotations

import os
import struct
import threading
import time
import zlib
from dataclasses import dataclass
from typing import Iterator

from sochdb.config import NORMAL_SYNC_WINDOW_S
from sochdb.engine.fileio import AppendFile, FileSystem
from sochdb.errors import CorruptionError

MAGIC = b"SOCHWAL1"
_HEADER = struct.Struct("<IQII")
HEADER_SIZE = _HEADER.size
_PREFIX = struct.Struct("<IQ")


def encode_frame(lsn: int, payload: bytes) -> bytes:
    prefix = _PREFIX.pack(len(payload), lsn)
    pcrc = zlib.crc32(payload)
    head = prefix + struct.pack("<I", pcrc)
    return head + struct.pack("<I", zlib.crc32(head)) + payload


@dataclass
class ReplayedRecord:
    lsn: int
    payload: bytes
    path: str
    offset: int


def wal_file_name(seq: int) -> str:
    return f"{seq:08d}.wal"


def list_wal_files(fs: FileSystem, wal_dir: str) -> list[tuple[int, str]]:
    out = []
    for name in fs.listdir(wal_dir):
        stem, ext = os.path.splitext(name)
        if ext == ".wal" and stem.isdigit():
            out.append((int(stem), os.path.join(wal_dir, name)))
    return sorted(out)


def read_wal_file(fs: FileSystem, path: str, is_last: bool) -> tuple[list[ReplayedRecord], int]:
    """Parse one WAL file; return its good records and the offset where good data ends.

    A bad record at the tail of the last file is a torn write (the returned end offset lets the
    caller cut it off). Any other damage raises CorruptionError.
    """
    data = fs.read_bytes(path)
    size = len(data)
    if size < len(MAGIC):
        if is_last and MAGIC.startswith(data):
            return [], 0
        raise CorruptionError(f"WAL file {path} is too short to hold its header",
                              path=path, offset=0)
    if data[:len(MAGIC)] != MAGIC:
        raise CorruptionError(f"WAL file {path} has a bad magic number", path=path, offset=0)
    records: list[ReplayedRecord] = []
    off = len(MAGIC)
    mv = memoryview(data)
    while off < size:
        torn = _check_frame(data, mv, off, size)
        if torn is None:
            length, lsn, _, _ = _HEADER.unpack_from(data, off)
            start = off + HEADER_SIZE
            records.append(ReplayedRecord(lsn, bytes(mv[start:start + length]), path, off))
            off = start + length
            continue
        if is_last and torn:
            return records, off
        raise CorruptionError(f"WAL file {path} is corrupt at offset {off}: "
                              f"checksum mismatch in a record followed by more data",
                              path=path, offset=off)
    return records, off


def _check_frame(data: bytes, mv: memoryview, off: int, size: int) -> bool | None:
    """None if the frame at ``off`` is good; True if it looks torn; False if corrupt."""
    remaining = size - off
    if remaining < HEADER_SIZE:
        return True
    length, _lsn, pcrc, hcrc = _HEADER.unpack_from(data, off)
    if zlib.crc32(mv[off:off + 16]) != hcrc:
        # A damaged header is a torn write only if nothing meaningful follows it.
        return not any(mv[off:])
    end = off + HEADER_SIZE + length
    if end > size:
        return True
    if zlib.crc32(mv[off + HEADER_SIZE:end]) != pcrc:
        return end == size
    return None


class WalWriter:
    """Appends commit records to the current WAL file and makes them durable per sync_mode."""

    def __init__(self, fs: FileSystem, wal_dir: str, seq: int, sync_mode: str) -> None:
        self.fs = fs
        self.wal_dir = wal_dir
        self.sync_mode = sync_mode
        self.seq = seq
        self.file = self._open(seq)
        self._good = self.file.size  # end of the last complete record
        self.bytes_written = 0
        self._dirty = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._flusher: threading.Thread | None = None
        if sync_mode == "normal":
            self._flusher = threading.Thread(target=self._flush_loop, name="sochdb-wal-sync",
                                             daemon=True)
            self._flusher.start()

    def _open(self, seq: int) -> AppendFile:
        path = os.path.join(self.wal_dir, wal_file_name(seq))
        f = self.fs.open_append(path)
        try:
            if f.size < len(MAGIC):  # new, or left half-made by a failed rotation
                if f.size:
                    f.truncate(0)
                f.write(MAGIC)
                f.sync()
                self.fs.fsync_dir(self.wal_dir)
        except Exception:
            f.close()
            try:  # replay would accept it, but leave no half-made file behind
                self.fs.remove(path)
            except Exception:  # noqa: BLE001 - the original error matters more
                pass
            raise
        return f

    @property
    def size(self) -> int:
        return self.file.size

    def append(self, lsn: int, payload: bytes) -> int:
        """Write one record; return its size. Durable on return under sync_mode='full'."""
        frame = encode_frame(lsn, payload)
        with self._lock:
            start = self._good
            if self.file.size != start:  # an earlier failure could not cut its record off
                self.file.truncate(start)
            try:
                self.file.write(frame)
                if self.sync_mode == "full":
                    self.file.sync()
                else:
                    self._dirty = True
            except Exception:
                # Never leave half a record behind a record that a later commit appends.
                try:
                    self.file.truncate(start)
                except Exception:  # noqa: BLE001 - retried before the next append
                    pass
                raise
            self._good = self.file.size
        self.bytes_written += len(frame)
        return len(frame)

    def sync(self) -> None:
        with self._lock:
            if self._dirty:
                self.file.sync()
                self._dirty = False

    def _flush_loop(self) -> None:
        while not self._stop.wait(NORMAL_SYNC_WINDOW_S):
            try:
                self.sync()
            except Exception:  # the next commit's own write reports the I/O error
                time.sleep(NORMAL_SYNC_WINDOW_S)

    def rotate(self) -> int:
        """Start a new WAL file; return the sequence number of the new file.

        The new file is made (magic written, synced, directory synced) before the old one is
        let go, so a failure leaves the writer appending to the old file as before.
        """
        with self._lock:
            if self.sync_mode != "off":
                self.file.sync()
            self._dirty = False
            new = self._open(self.seq + 1)
            self.file.close()
            self.file = new
            self._good = new.size
            self.seq += 1
        return self.seq

    def close(self) -> None:
        self._stop.set()
        if self._flusher is not None:
            self._flusher.join()
        with self._lock:
            if self._dirty and self.sync_mode != "off":
                self.file.sync()
            self.file.close()


def replay(fs: FileSystem, wal_dir: str, cut_torn_tail: bool = True
           ) -> Iterator[ReplayedRecord]:
    """Yield every good record of every WAL file in order, cutting off a torn tail (unless
    ``cut_torn_tail`` is false: a read-only open leaves the files as they are).

    The tail may be torn in the last file that holds records: files after it can only be
    fresh ones (magic alone, or part of it) made by a rotation just before the crash.
    """
    files = list_wal_files(fs, wal_dir)
    sizes = [fs.size(path) for _, path in files]
    last = max((i for i, n in enumerate(sizes) if n > len(MAGIC)), default=len(files) - 1)
    for i, (_seq, path) in enumerate(files):
        is_last = i >= last
        records, end = read_wal_file(fs, path, is_last)
        yield from records
        if is_last and end < sizes[i] and cut_torn_tail:
            f = fs.open_append(path)
            try:
                f.truncate(max(end, len(MAGIC)) if end else 0)
                if end == 0:
                    f.write(MAGIC)
                f.sync()
            finally:
                f.close()
