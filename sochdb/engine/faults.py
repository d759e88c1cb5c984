"""A fault-injecting twin of the file layer, for tests and the soak script (SQLite's test VFS).

``FaultyFileSystem`` overrides only the raw operating-system calls of ``FileSystem``, so the
engine's own error handling runs unchanged. It can fail the Nth write, fsync, rename,
directory sync, truncate, remove or read with ENOSPC/EIO, cut writes short, keep the disk
"full" until told otherwise, or *crash* there: raise ``SimulatedCrash`` and refuse every later
operation, leaving the files as a killed process would. ``settle(power_loss=True)`` then also
undoes what an unsynced file system would lose: file data past the last fsync, files created
and renames done since the last sync of their directory. Imports only the standard library and
the engine's file layer; nothing in the engine imports it.
"""

from __future__ import annotations

import errno as errno_codes
import os
from dataclasses import dataclass
from typing import Any, BinaryIO

from sochdb.engine.fileio import FileSystem

#: Operations that count towards "the Nth operation" (reads count only when asked for).
KINDS = ("create", "write", "fsync", "fsync_dir", "rename", "remove", "truncate")


class SimulatedCrash(BaseException):
    """The process "died" at a file operation; a BaseException so that no ``except
    Exception`` cleanup path runs after it, as none would in a killed process."""


@dataclass
class Fault:
    """One planned fault: the ``nth`` matching operation (counted from when the fault was
    added) fails with ``errno``, returns short, or crashes the process."""

    kind: str  # one of KINDS, "read", or "any"
    nth: int = 1
    action: str = "error"  # "error", "short" or "crash"
    errno: int = errno_codes.EIO
    path: str | None = None  # only operations on paths containing this count
    sticky: bool = False  # keep failing every matching operation (a full disk)
    seen: int = 0
    fired: int = 0

    def matches(self, kind: str, path: str) -> bool:
        if self.kind != "any" and self.kind != kind:
            return False
        if self.kind == "any" and kind == "read":
            return False
        return self.path is None or self.path in path


class FaultyFileSystem(FileSystem):
    """The real file system with planned faults and a record of every operation.

    ``log`` lists ``(kind, path)`` of each counted operation; ``faults_fired`` counts the
    faults that happened. Use ``crash_at(n)`` to die at the n-th operation from now,
    ``inject(...)`` for errors, ``disk_full()`` / ``clear()`` for ENOSPC until space returns.
    """

    def __init__(self, torn_writes: bool = True) -> None:
        self.log: list[tuple[str, str]] = []
        self.faults: list[Fault] = []
        self.crashed = False
        self.faults_fired = 0
        self.torn_writes = torn_writes
        self._open_files: list[BinaryIO] = []
        self._durable: dict[str, int] = {}  # path -> size known to be on stable storage
        self._new_in_dir: dict[str, set[str]] = {}  # dir -> files created, dir not synced
        self._renames: list[tuple[str, str, bytes | None, int | None]] = []

    # -- planning ------------------------------------------------------------------------

    def inject(self, kind: str, nth: int = 1, action: str = "error",
               err: int = errno_codes.EIO, path: str | None = None,
               sticky: bool = False) -> Fault:
        if kind not in KINDS + ("read", "any"):
            raise ValueError(f"unknown operation kind {kind!r}")
        if action not in ("error", "short", "crash"):
            raise ValueError(f"unknown fault action {action!r}")
        fault = Fault(kind, nth, action, err, path, sticky)
        self.faults.append(fault)
        return fault

    def crash_at(self, n: int, kind: str = "any") -> Fault:
        """Crash at the n-th (1-based) operation of ``kind`` from now."""
        return self.inject(kind, n, "crash")

    def disk_full(self, err: int = errno_codes.ENOSPC) -> Fault:
        """Fail every write (and file creation) from now on, until ``clear()``."""
        self.inject("create", 1, "error", err, sticky=True)
        return self.inject("write", 1, "error", err, sticky=True)

    def clear(self) -> None:
        self.faults = []

    @property
    def count(self) -> int:
        return len(self.log)

    # -- the fault decision --------------------------------------------------------------

    def _step(self, kind: str, path: str) -> Fault | None:
        if self.crashed:
            raise SimulatedCrash(f"{kind} {path} after the crash")
        if kind != "read":
            self.log.append((kind, path))
        hit = None
        for f in self.faults:
            if not f.matches(kind, path):
                continue
            f.seen += 1
            if f.seen == f.nth or (f.sticky and f.seen >= f.nth):
                hit = hit or f
        if hit is None:
            return None
        hit.fired += 1
        self.faults_fired += 1
        if hit.action == "crash":
            self.crashed = True
        if not hit.sticky:
            self.faults = [f for f in self.faults if f is not hit]
        return hit

    @staticmethod
    def _error(fault: Fault, path: str) -> OSError:
        return OSError(fault.errno, os.strerror(fault.errno), path)

    def _crash(self, kind: str, path: str) -> SimulatedCrash:
        self.close_all()
        return SimulatedCrash(f"simulated crash at {kind} of {path} "
                              f"(operation {len(self.log)})")

    # -- raw calls -----------------------------------------------------------------------

    def _raw_open(self, path: str, mode: str) -> BinaryIO:
        existed = os.path.exists(path)
        if not existed:
            fault = self._step("create", path)
            if fault is not None:
                if fault.action == "crash":
                    raise self._crash("create", path)
                raise self._error(fault, path)
        elif self.crashed:
            raise SimulatedCrash(f"open {path} after the crash")
        f = super()._raw_open(path, mode)
        self._open_files.append(f)
        if not existed:
            self._new_in_dir.setdefault(os.path.dirname(path), set()).add(path)
            self._durable[path] = 0
        elif mode.startswith("w"):
            self._durable[path] = 0
        else:
            self._durable.setdefault(path, os.path.getsize(path))
        return f

    def _raw_write(self, f: BinaryIO, path: str, data: memoryview) -> int:
        fault = self._step("write", path)
        if fault is None:
            return super()._raw_write(f, path, data)
        if fault.action == "short":
            return super()._raw_write(f, path, data[:max(1, len(data) // 2)])
        if fault.action == "crash":
            if self.torn_writes and len(data) > 1:
                super()._raw_write(f, path, data[:len(data) // 2])
            raise self._crash("write", path)
        if len(data) > 1:  # a full disk takes what fits, then fails
            super()._raw_write(f, path, data[:len(data) // 3])
        raise self._error(fault, path)

    def _raw_fsync(self, fd: int, path: str) -> None:
        fault = self._step("fsync", path)
        if fault is not None:
            if fault.action == "crash":
                raise self._crash("fsync", path)
            raise self._error(fault, path)
        super()._raw_fsync(fd, path)
        self._durable[path] = os.fstat(fd).st_size

    def _raw_fsync_dir(self, fd: int, path: str) -> None:
        fault = self._step("fsync_dir", path)
        if fault is not None:
            if fault.action == "crash":
                raise self._crash("fsync_dir", path)
            raise self._error(fault, path)
        super()._raw_fsync_dir(fd, path)
        d = os.path.normpath(path)
        self._new_in_dir.pop(d, None)
        self._new_in_dir.pop(path, None)
        self._renames = [r for r in self._renames if os.path.dirname(r[1]) != d]

    def _raw_rename(self, src: str, dst: str) -> None:
        fault = self._step("rename", dst)
        if fault is not None:
            if fault.action == "crash":
                raise self._crash("rename", dst)
            raise self._error(fault, dst)
        old = None
        if os.path.exists(dst):
            with open(dst, "rb") as fh:
                old = fh.read()
        super()._raw_rename(src, dst)
        self._renames.append((src, dst, old, self._durable.get(dst)))
        if src in self._durable:
            self._durable[dst] = self._durable.pop(src)

    def _raw_remove(self, path: str) -> None:
        fault = self._step("remove", path)
        if fault is not None:
            if fault.action == "crash":
                raise self._crash("remove", path)
            raise self._error(fault, path)
        super()._raw_remove(path)
        self._durable.pop(path, None)
        for files in self._new_in_dir.values():
            files.discard(path)

    def _raw_truncate(self, f: BinaryIO, path: str, size: int) -> None:
        fault = self._step("truncate", path)
        if fault is not None:
            if fault.action == "crash":
                raise self._crash("truncate", path)
            raise self._error(fault, path)
        super()._raw_truncate(f, path, size)
        if path in self._durable:
            self._durable[path] = min(self._durable[path], size)

    def _raw_read(self, path: str) -> bytes:
        fault = self._step("read", path)
        if fault is not None:
            if fault.action == "crash":
                raise self._crash("read", path)
            raise self._error(fault, path)
        return super()._raw_read(path)

    # -- after the crash -----------------------------------------------------------------

    def close_all(self) -> None:
        for f in self._open_files:
            try:
                f.close()
            except OSError:
                pass
        self._open_files = []

    def settle(self, power_loss: bool = False) -> dict[str, Any]:
        """Close every file; with ``power_loss`` drop what was never made durable.

        Returns what was undone: ``renames``, ``truncated`` paths and ``vanished`` files.
        """
        self.crashed = True
        self.close_all()
        undone: dict[str, Any] = {"renames": [], "truncated": [], "vanished": []}
        if not power_loss:
            return undone
        for src, dst, old, old_durable in reversed(self._renames):
            if os.path.exists(dst):
                os.replace(dst, src)
                if dst in self._durable:
                    self._durable[src] = self._durable.pop(dst)
            if old is not None:
                with open(dst, "wb") as fh:
                    fh.write(old)
                self._durable[dst] = old_durable if old_durable is not None else len(old)
            undone["renames"].append((src, dst))
        self._renames = []
        for path, size in self._durable.items():
            if os.path.exists(path) and os.path.getsize(path) > size:
                os.truncate(path, size)
                undone["truncated"].append(path)
        for files in self._new_in_dir.values():
            for path in files:
                if os.path.exists(path):
                    os.remove(path)
                    undone["vanished"].append(path)
        self._new_in_dir = {}
        return undone


def abandon(db: Any) -> None:
    """Drop an open Database the way a killed process does: no checkpoint, no flush, no
    writes; only the directory lock and the file handles are released so the same process
    can open the directory again."""
    eng = db._engine
    w = eng._wal
    if w is not None:
        w._stop.set()
        if w._flusher is not None:
            w._flusher.join()
        try:
            w.file._f.close()
        except OSError:
            pass
    if eng._dir_lock is not None:
        eng._dir_lock.release()
    eng.closed = True
    fs = eng.fs
    if isinstance(fs, FaultyFileSystem):
        fs.close_all()


__all__ = ["FaultyFileSystem", "Fault", "SimulatedCrash", "KINDS", "abandon"]
