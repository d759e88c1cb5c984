"""Fixtures that run real sochdb-server subprocesses on sockets in short temporary
directories; every server a test starts is stopped at teardown, whatever the test did."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

from sochdb.server import start


def _short_dir() -> str:
    # Unix socket paths are limited to 107 bytes: keep them well away from that.
    return tempfile.mkdtemp(prefix="sdb-", dir="/tmp" if os.path.isdir("/tmp") else None)


@pytest.fixture
def short_dir():
    d = _short_dir()
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def launch(short_dir):
    """``launch(db="db", **start_options)`` starts a server; all are stopped at teardown."""
    started = []

    def _launch(db: str = "db", **options):
        srv = start(os.path.join(short_dir, db), **options)
        started.append(srv)
        return srv
    yield _launch
    for srv in started:
        srv.stop(10)


@pytest.fixture(scope="module")
def shared_server():
    """One server for a module's tests that do not restart or limit it."""
    d = _short_dir()
    srv = start(os.path.join(d, "db"))
    yield srv
    srv.stop(10)
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def client(shared_server):
    c = shared_server.connect(timeout=60)
    yield c
    c.close()
