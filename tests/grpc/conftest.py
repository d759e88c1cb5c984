"""Fixtures running real ``sochdb-grpc-server`` subprocesses on 127.0.0.1 with port 0: the
bound port is read from ``<db>/sochdb-grpc.pid``, so tests never race for a port. Every
server a test starts is stopped at teardown (SIGTERM, then SIGKILL), whatever the test did.

This directory has no ``__init__.py`` on purpose: as a package it would be named ``grpc``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import grpc
import pytest

START_TIMEOUT = 30.0


class ServerProcess:
    """One server subprocess over the database directory ``db``."""

    def __init__(self, db: str, *extra: str, log_path: str | None = None) -> None:
        self.db = db
        self.extra = extra
        self.log_path = log_path or f"{db}.log"
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> ServerProcess:
        pid_file = os.path.join(self.db, "sochdb-grpc.pid")
        if os.path.exists(pid_file):
            os.unlink(pid_file)
        args = [sys.executable, "-m", "sochdb.cli.grpc_server", "--port", "0",
                "--db", self.db, "--log-level", "warn", *self.extra]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with open(pid_file, encoding="utf-8") as f:
                    info = json.load(f)
                if info.get("pid") == self.proc.pid:
                    self.port = int(info["port"])
                    return self
            except (OSError, ValueError):
                pass
            time.sleep(0.02)
        self.kill()
        raise RuntimeError(f"server did not start within {START_TIMEOUT} s:\n{self.log()}")

    def log(self) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def channel(self) -> grpc.Channel:
        return grpc.insecure_channel(self.target)

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM and wait; the exit status (SIGKILL after ``timeout``)."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def launch(tmp_path):
    """``launch(db_name="db", *extra_args)`` starts a server; all are stopped at teardown."""
    started: list[ServerProcess] = []

    def _launch(name: str = "db", *extra: str) -> ServerProcess:
        srv = ServerProcess(str(tmp_path / name), *extra)
        started.append(srv)
        return srv.start()
    yield _launch
    for srv in started:
        try:
            srv.stop(10)
        except subprocess.TimeoutExpired:
            pass
        finally:
            srv.kill()


@pytest.fixture(scope="session")
def shared_server(tmp_path_factory):
    """One server for the tests that neither restart nor stop it (they use names of their
    own: KV namespaces and index names taken from the test's name)."""
    srv = ServerProcess(str(tmp_path_factory.mktemp("grpc") / "db"))
    try:
        srv.start()
        yield srv
    finally:
        try:
            srv.stop(10)
        finally:
            srv.kill()


@pytest.fixture
def channel(shared_server):
    ch = shared_server.channel()
    yield ch
    ch.close()
