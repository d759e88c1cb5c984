"""The server's pid file ``<db>/sochdb.pid`` and the checks that tell a live server from a
stale one.

The file holds four lines: the server's PID, the absolute socket path, the socket path as it
was given on the command line, and the start time (Unix seconds). It is written atomically
with mode 0644 (never world-writable). Imports only the standard library.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

PID_NAME = "sochdb.pid"


@dataclass(frozen=True)
class PidInfo:
    pid: int
    socket: str          # absolute
    socket_given: str    # as passed to --socket (or the default)
    started: float
    path: str            # the pid file itself


def pid_path(db_path: str) -> str:
    return os.path.join(os.path.abspath(db_path), PID_NAME)


def write(db_path: str, pid: int, socket_path: str, socket_given: str,
          started: float | None = None) -> str:
    """Write the pid file atomically (temp file, fsync, rename); return its path."""
    path = pid_path(db_path)
    tmp = f"{path}.{pid}.tmp"
    text = f"{pid}\n{os.path.abspath(socket_path)}\n{socket_given}\n{started or time.time():.3f}\n"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.fchmod(fd, 0o644)  # whatever the umask or an older file said
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    return path


def read(db_path: str) -> PidInfo | None:
    """The pid file's contents, or None when it is missing or unreadable."""
    path = pid_path(db_path)
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        return PidInfo(int(lines[0]), lines[1], lines[2], float(lines[3]), path)
    except (OSError, ValueError, IndexError):
        return None


def remove(db_path: str, pid: int | None = None) -> bool:
    """Remove the pid file (only if it names ``pid`` when given); True if removed."""
    if pid is not None:
        info = read(db_path)
        if info is not None and info.pid != pid:
            return False
    try:
        os.unlink(pid_path(db_path))
        return True
    except FileNotFoundError:
        return False


def alive(pid: int) -> bool:
    """Whether ``pid`` is a running process (a zombie counts as gone)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().rsplit(b")", 1)[1].split()[0]
        return state != b"Z"
    except (OSError, IndexError):
        return True


def lock_holder(db_path: str) -> int | None:
    """The PID written in ``<db>/LOCK`` (the process holding the database open), if any."""
    try:
        with open(os.path.join(os.path.abspath(db_path), "LOCK"), "rb") as f:
            text = f.read(32).strip()
        return int(text) if text else None
    except (OSError, ValueError):
        return None


__all__ = ["PidInfo", "PID_NAME", "pid_path", "write", "read", "remove", "alive", "lock_holder"]
