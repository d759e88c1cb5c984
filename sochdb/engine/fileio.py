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
        self._f: BinaryIO = fs._raw_open(path, "ab")
        self.size = self._f.seek(0, os.SEEK_END)

    def write(self, data: bytes) -> None:
        try:
            self.fs.write(self._f, self.path, data)
        except BaseException:
            self._measure()  # a failed write may still have added part of ``data``
            raise
        self.size += len(data)

    def sync(self) -> None:
        self.fs.fsync(self._f.fileno(), self.path)

    def truncate(self, size: int) -> None:
        try:
            self.fs.truncate(self._f, self.path, size)
        except BaseException:
            self._measure()
            raise
        self.size = size

    def _measure(self) -> None:
        try:
            self.size = os.fstat(self._f.fileno()).st_size
        except (OSError, ValueError):  # closed by a crash: nothing will use it again
            pass

    def close(self) -> None:
        if not self._f.closed:
            self._f.close()


class FileSystem:
    """Real file operations; errors become OperationalError naming the path.

    The ``_raw_*`` methods are the only places that call the operating system, so a test twin
    (``sochdb.engine.faults.FaultyFileSystem``) overrides just those and every error path
    above them runs exactly as in production.
    """

    # -- raw operating-system calls (overridden by the fault-injecting twin) -------------

    def _raw_open(self, path: str, mode: str) -> BinaryIO:
        return open(path, mode, buffering=0)

    def _raw_write(self, f: BinaryIO, path: str, data: memoryview) -> int:
        return f.write(data)

    def _raw_fsync(self, fd: int, path: str) -> None:
        os.fdatasync(fd)

    def _raw_fsync_dir(self, fd: int, path: str) -> None:
        os.fsync(fd)

    def _raw_rename(self, src: str, dst: str) -> None:
        os.replace(src, dst)

    def _raw_remove(self, path: str) -> None:
        os.remove(path)

    def _raw_truncate(self, f: BinaryIO, path: str, size: int) -> None:
        f.truncate(size)

    def _raw_read(self, path: str) -> bytes:
        with open(path, "rb") as f:
            return f.read()

    # -- the engine's operations ---------------------------------------------------------

    def open_append(self, path: str) -> AppendFile:
        try:
            return AppendFile(self, path)
        except OSError as e:
            raise OperationalError(f"cannot open {path}: {os.strerror(e.errno or 0)}",
                                   path=path, errno=e.errno) from e

    def write(self, f: BinaryIO, path: str, data: bytes) -> None:
        view = memoryview(data)
        try:
            while view:
                n = self._raw_write(f, path, view)
                if n is None:  # non-blocking file with nothing written: not ours
                    n = 0
                view = view[n:]
        except OSError as e:
            raise OperationalError(f"write to {path} failed: {os.strerror(e.errno or 0)}",
                                   path=path, errno=e.errno) from e

    def fsync(self, fd: int, path: str) -> None:
        try:
            self._raw_fsync(fd, path)
        except OSError as e:
            raise OperationalError(f"fsync of {path} failed: {os.strerror(e.errno or 0)}",
                                   path=path, errno=e.errno) from e

    def fsync_dir(self, path: str) -> None:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError as e:
            raise OperationalError(f"cannot open directory {path}: {os.strerror(e.errno or 0)}",
                                   path=path, errno=e.errno) from e
        try:
            self._raw_fsync_dir(fd, path)
        except OSError as e:
            raise OperationalError(f"fsync of directory {path} failed: "
                                   f"{os.strerror(e.errno or 0)}", path=path,
                                   errno=e.errno) from e
        finally:
            os.close(fd)

    def truncate(self, f: BinaryIO, path: str, size: int) -> None:
        try:
            self._raw_truncate(f, path, size)
        except OSError as e:
            raise OperationalError(f"truncate of {path} failed: {os.strerror(e.errno or 0)}",
                                   path=path, errno=e.errno) from e

    def write_file(self, path: str, data: bytes, sync: bool = True) -> None:
        """Write a new file completely (segments are written once, never modified)."""
        try:
            f = self._raw_open(path, "wb")
        except OSError as e:
            raise OperationalError(f"cannot create {path}: {os.strerror(e.errno or 0)}",
                                   path=path, errno=e.errno) from e
        with f:
            self.write(f, path, data)
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
            self._raw_rename(src, dst)
        except OSError as e:
            raise OperationalError(f"rename {src} -> {dst} failed: {e.strerror}",
                                   path=dst, errno=e.errno) from e

    def read_bytes(self, path: str) -> bytes:
        """The whole file; FileNotFoundError passes through (callers decide what missing
        means), other failures become OperationalError."""
        try:
            return self._raw_read(path)
        except FileNotFoundError:
            raise
        except OSError as e:
            raise OperationalError(f"read of {path} failed: {os.strerror(e.errno or 0)}",
                                   path=path, errno=e.errno) from e

    def remove(self, path: str) -> None:
        try:
            self._raw_remove(path)
        except FileNotFoundError:
            pass
        except OSError as e:
            raise OperationalError(f"cannot remove {path}: {os.strerror(e.errno or 0)}",
                                   path=path, errno=e.errno) from e

    def listdir(self, path: str) -> list[str]:
        try:
            return sorted(os.listdir(path))
        except FileNotFoundError:
            return []

    def makedirs(self, path: str) -> None:
        os.makedirs(path, exist_ok=True)

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def size(self, path: str) -> int:
        return os.path.getsize(path)


class DirectoryLock:
    """An exclusive advisory lock on ``<db>/LOCK`` that holds the owner's PID.

    flock locks belong to the open file description, so a second open of the same directory
    fails even inside one process, and the lock vanishes when the holder dies (no stale locks).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: int | None = None
        self._shared = False

    def acquire(self, db_path: str, shared: bool = False) -> None:
        """Exclusive for a writer; ``shared`` (read-only opens) admits other readers but
        no writer, and leaves the PID of the writer that last held the lock in place."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except OSError as e:
            os.close(fd)
            if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise OperationalError(f"cannot lock {self.path}: {e.strerror}") from e
            pid = self.holder_pid()
            who = f"process {pid}" if pid else "another process"
            raise DatabaseLockedError(
                f"database {db_path!r} is locked by {who}; one process may open a directory "
                f"at a time (or any number of read_only ones): share it through `sochdb-server --db {db_path}` and IpcClient",
                pid=pid) from None
        if not shared:
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        self._shared = shared

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
                if not self._shared:
                    os.ftruncate(self._fd, 0)
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            finally:
                os.close(self._fd)
                self._fd = None
