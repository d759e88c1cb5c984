"""Launching servers: IpcClient.spawn owns its server; ServerProcess stop/kill; the pid file."""

from __future__ import annotations

import os
import stat

import pytest

from sochdb.errors import InterfaceError
from sochdb.server import IpcClient, pidfile


def test_spawn_starts_a_server_that_close_stops(short_dir):
    db = os.path.join(short_dir, "db")
    client = IpcClient.spawn(db, timeout=30, max_clients=5)
    server = client.server
    assert server.running and server.pid == client.server_pid
    assert client.stats()["max_clients"] == 5
    client.put(b"spawned", b"1")
    with server.connect() as other:
        assert other.get(b"spawned") == b"1"
    client.close()
    assert not server.running and server.process.returncode == 0
    assert client.server is None
    assert "[Server] Stopped" in server.log_text()
    assert repr(server).endswith("exited 0>")


def test_server_process_kill_leaves_stale_files(launch):
    srv = launch()
    assert "running" in repr(srv)
    assert srv.kill() == -9
    assert os.path.exists(srv.socket_path)
    info = pidfile.read(srv.db_path)
    assert info is not None and info.pid == srv.pid and not pidfile.alive(info.pid)
    assert srv.stop() == -9  # stopping a dead server is harmless


def test_pid_file_round_trip(short_dir):
    path = pidfile.write(short_dir, 4242, "/tmp/x.sock", "./x.sock", 100.5)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    info = pidfile.read(short_dir)
    assert (info.pid, info.socket, info.socket_given, info.started) == (
        4242, "/tmp/x.sock", "./x.sock", 100.5)
    assert not pidfile.remove(short_dir, pid=1)  # names another pid: kept
    assert pidfile.remove(short_dir, pid=4242)
    assert pidfile.read(short_dir) is None
    with open(os.path.join(short_dir, "sochdb.pid"), "w") as f:
        f.write("garbage")
    assert pidfile.read(short_dir) is None


def test_alive_and_lock_holder(short_dir):
    assert pidfile.alive(os.getpid())
    assert not pidfile.alive(0) and not pidfile.alive(2 ** 22 + 12345)
    assert pidfile.lock_holder(short_dir) is None
    with open(os.path.join(short_dir, "LOCK"), "w") as f:
        f.write("77")
    assert pidfile.lock_holder(short_dir) == 77


def test_clear_error_when_the_server_is_gone(launch):
    srv = launch()
    client = srv.connect()
    client.put(b"k", b"v")
    srv.kill()
    with pytest.raises(InterfaceError, match=r"closed the connection.*sochdb-server status"):
        client.get(b"k")
    assert client.closed
    with pytest.raises(InterfaceError, match="no sochdb server is listening"):
        IpcClient.connect(srv.socket_path)
