"""The file layer: every byte the engine writes or reads passes through one FileSystem object.

Keeping the operations in one narrow class (append, fsync, atomic replace, directory sync,
lock) lets tests swap in a fault-injecting twin, as SQLite's test VFS does. Imports only the
standard library and sochdb.errors.
"""

from __future__ import annotations

import errno
import fcntl
import os
from typing import BinaryIO

from sochdb.errors import DatabaseLockedError, OperationalError


class AppendFile:
    """A file opened for appending, with explicit durability points."""

    def __init__(self, fs: "FileSystem", path: str) -> None:
        self.fs = fs
        self.path = path
        self._f: BinaryIO = open(path, "ab", buffering=0)
        self.size = self._f.seek(0, os.SEEK_END)

    def write(self, data: bytes) -> None:
        self.fs.write(self._f, self.path, data)
        self.size += len(data)

    def sync(self) -> None:
        self.fs.fsync(self._f.fileno(), self.path)

    def truncate(self, size: int) -> None:
        self._f.truncate(size)
        self.size = size

    def close(self) -> None:
        if not self._f.closed:
            self._f.close()


class FileSystem:
    """Real file operations; errors become OperationalError naming the path."""

    def open_append(self, path: str) -> AppendFile:
        return AppendFile(self, path)

    def write(self, f: BinaryIO, path: str, data: bytes) -> None:
        view = memoryview(data)
        try:
            while view:
                n = f.write(view)
                view = view[n:]
        except OSError as e:
            raise OperationalError(f"write to {path} failed: {os.strerror(e.errno or 0)}",
                                   path=path, errno=e.errno) from e

    def fsync(self, fd: int, path: str) -> None:
        try:
            os.fdatasync(fd)
        except OSError as e:
            raise OperationalError(f"fsync of {path} failed: {os.strerror(e.errno or 0)}",
                                   path=path, errno=e.errno) from e

    def fsync_dir(self, path: str) -> None:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        except OSError as e:
            raise OperationalError(f"fsync of directory {path} failed", path=path) from e
        finally:
            os.close(fd)

    def write_file(self, path: str, data: bytes, sync: bool = True) -> None:
        """Write a new file completely (segments are written once, never modified)."""
        with open(path, "wb") as f:
            self.write(f, path, data)
            f.flush()
            if sync:
                self.fsync(f.fileno(), path)

    def replace_atomic(self, path: str, data: bytes, sync: bool = True) -> None:
        """Write to a temp file, fsync it, rename over ``path``, fsync the directory."""
        tmp = path + ".tmp"
        self.write_file(tmp, data, sync=sync)
        self.rename(tmp, path)
        if sync:
            self.fsync_dir(os.path.dirname(path) or ".")

    def rename(self, src: str, dst: str) -> None:
        try:
            os.replace(src, dst)
        except OSError as e:
            raise OperationalError(f"rename {src} -> {dst} failed: {e.strerror}") from e

    def read_bytes(self, path: str) -> bytes:
        with open(path, "rb") as f:
            return f.read()

    def remove(self, path: str) -> None:
        try:
            os.remove(path)
        except FileNotFoundError:
            pass

    def listdir(self, path: str) -> list[str]:
        try:
            return sorted(os.listdir(path))
        except FileNotFoundError:
            return []

    def makedirs(self, path: str) -> None:
        os.makedirs(path, exist_ok=True)

    def exists(self, path: str) -> bool:
        return os.path.exists(path)


class DirectoryLock:
    """An exclusive advisory lock on ``<db>/LOCK`` that holds the owner's PID.

    flock locks belong to the open file description, so a second open of the same directory
    fails even inside one process, and the lock vanishes when the holder dies (no stale locks).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self, db_path: str) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(fd)
            if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise OperationalError(f"cannot lock {self.path}: {e.strerror}") from e
            pid = self.holder_pid()
            who = f"process {pid}" if pid else "another process"
            raise DatabaseLockedError(
                f"database {db_path!r} is locked by {who}; one process may open a directory "
                f"at a time: share it through `sochdb-server --db {db_path}` and IpcClient",
                pid=pid) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def holder_pid(self) -> int | None:
        try:
            with open(self.path, "rb") as f:
                text = f.read(32).strip()
            return int(text) if text else None
        except (OSError, ValueError):
            return None

    def release(self) -> None:
        if self._fd is not None:
            try:
                os.ftruncate(self._fd, 0)
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            finally:
                os.close(self._fd)
                self._fd = None
