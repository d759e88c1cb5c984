"""Launching sochdb's command-line tools as subprocesses, and the ``start()`` helper.

Each tool is found the same way: the environment variable the guide names
(``SOCHDB_SERVER_PATH``, ``SOCHDB_BULK_PATH``, ``SOCHDB_GRPC_SERVER_PATH``) when set, else the
console script installed next to this Python, else ``python -m <module>``. Imports the
standard library, sochdb.errors and (for readiness checks) the IPC client.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import IO, Any

from sochdb.errors import Error, InterfaceError, OperationalError
from sochdb.server import pidfile

#: tool name -> (environment variable overriding its path, module run by ``python -m``)
TOOLS: dict[str, tuple[str, str]] = {
    "sochdb-server": ("SOCHDB_SERVER_PATH", "sochdb.cli.server"),
    "sochdb-bulk": ("SOCHDB_BULK_PATH", "sochdb.cli.bulk"),
    "sochdb-grpc-server": ("SOCHDB_GRPC_SERVER_PATH", "sochdb.cli.grpc_server"),
}


def tool_command(name: str) -> list[str]:
    """The argv prefix that runs tool ``name`` (see the module docstring for the order)."""
    if name not in TOOLS:
        raise ValueError(f"unknown tool {name!r}; known: {', '.join(TOOLS)}")
    var, module = TOOLS[name]
    override = os.environ.get(var)
    if override:
        if not (os.path.isfile(override) and os.access(override, os.X_OK)):
            raise OperationalError(f"{var}={override!r} is not an executable file")
        return [override]
    script = os.path.join(os.path.dirname(sys.executable), name)
    if os.path.isfile(script) and os.access(script, os.X_OK):
        return [script]
    return [sys.executable, "-m", module]


def run_tool(name: str, args: Sequence[str], **popen: Any) -> subprocess.Popen:
    """Start tool ``name`` with ``args``; ``popen`` goes to subprocess.Popen."""
    return subprocess.Popen([*tool_command(name), *args], **popen)


class ServerProcess:
    """A sochdb-server started by :func:`start`; ``stop()`` shuts it down gracefully."""

    def __init__(self, proc: subprocess.Popen, db_path: str, socket_path: str, pid: int,
                 log: IO[bytes]) -> None:
        self.process = proc
        self.db_path = db_path
        self.socket_path = socket_path
        self.pid = pid
        self._log = log

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def connect(self, timeout: float | None = None):
        """A new IpcClient connected to this server."""
        from sochdb.server.client import IpcClient
        return IpcClient.connect(self.socket_path, timeout)

    def _signal(self, sig: int) -> None:
        for pid in {self.process.pid, self.pid}:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM (graceful: in-flight requests finish, open transactions abort, checkpoint),
        then SIGKILL if the server is still running after ``timeout`` seconds. Returns the exit
        status."""
        if self.running:
            self._signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.process.wait()
        return self.process.returncode

    def kill(self) -> int:
        """SIGKILL the server, as a crash would (socket and pid file stay behind)."""
        if self.running:
            self._signal(signal.SIGKILL)
            self.process.wait()
        return self.process.returncode

    def wait(self, timeout: float | None = None) -> int:
        return self.process.wait(timeout)

    def log_text(self) -> str:
        """What the server wrote to stderr so far (when no log_file was given)."""
        try:
            self._log.flush()
            self._log.seek(0)
            return self._log.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""

    def _close_log(self) -> None:
        try:
            self._log.close()
        except OSError:
            pass

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else f"exited {self.process.returncode}"
        return f"<sochdb.ServerProcess pid={self.pid} {self.socket_path!r} {state}>"


def start(db_path: str | os.PathLike, socket_path: str | os.PathLike | None = None, *,
          max_clients: int | None = None, timeout_ms: int | None = None,
          log_level: str | None = None, socket_mode: int | None = None,
          max_frame_bytes: int | None = None, sync_mode: str | None = None,
          extra_args: Sequence[str] = (), log_file: str | os.PathLike | None = None,
          env: dict[str, str] | None = None, wait: float = 30.0) -> ServerProcess:
    """Launch ``sochdb-server`` for ``db_path`` and return once it answers on its socket.

    Options left as None keep the server's defaults. The server's stderr goes to
    ``log_file`` (appended) or to a temporary file readable with ``log_text()``. Raises
    OperationalError with the server's last output if it exits or stays silent for
    ``wait`` seconds.
    """
    db = os.path.abspath(os.fspath(db_path))
    sock = os.path.abspath(os.fspath(socket_path)) if socket_path is not None else \
        os.path.join(db, "sochdb.sock")
    args = ["--db", db, "--socket", sock]
    for flag, value in (("--max-clients", max_clients), ("--timeout-ms", timeout_ms),
                        ("--log-level", log_level), ("--max-frame-bytes", max_frame_bytes),
                        ("--sync-mode", sync_mode)):
        if value is not None:
            args += [flag, str(value)]
    if socket_mode is not None:
        args += ["--socket-mode", f"{socket_mode:04o}"]
    args += list(extra_args)
    log: IO[bytes] = open(log_file, "ab") if log_file is not None else tempfile.TemporaryFile()
    proc = run_tool("sochdb-server", args, stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL, stderr=log, env=env)
    deadline = time.monotonic() + wait
    from sochdb.server.client import IpcClient
    while True:
        rc = proc.poll()
        if rc is not None:
            server = ServerProcess(proc, db, sock, proc.pid, log)
            text = server.log_text().strip()
            server._close_log()
            raise OperationalError(f"sochdb-server exited with status {rc} before it was "
                                   f"ready: {text[-2000:] or '(no output)'}")
        try:
            with IpcClient(sock, timeout=2.0) as probe:
                pid = probe.server_pid
            info = pidfile.read(db)
            if pid == proc.pid or (info is not None and info.pid == pid):
                return ServerProcess(proc, db, sock, pid, log)
        except (InterfaceError, Error, OSError):
            pass
        if time.monotonic() > deadline:
            server = ServerProcess(proc, db, sock, proc.pid, log)
            server.stop(5.0)
            text = server.log_text().strip()
            server._close_log()
            raise OperationalError(f"sochdb-server did not answer on {sock} within {wait} s: "
                                   f"{text[-2000:] or '(no output)'}")
        time.sleep(0.02)


__all__ = ["TOOLS", "tool_command", "run_tool", "start", "ServerProcess"]
