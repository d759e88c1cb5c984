"""The sochdb-server command: options, status/stop, stale files, refusals, permissions and the
launcher's environment variables."""

from __future__ import annotations

import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile

import pytest

from sochdb.cli.server import main
from sochdb.errors import OperationalError
from sochdb.server import start, tool_command
from sochdb.server.launch import TOOLS


def run(*args: str, cwd: str | None = None, env: dict | None = None,
        ) -> subprocess.CompletedProcess:
    return subprocess.run([*tool_command("sochdb-server"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def tmp():
    d = tempfile.mkdtemp(prefix="sdbc-", dir="/tmp" if os.path.isdir("/tmp") else None)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def servers():
    started = []
    yield started
    for s in started:
        s.stop(10)


def _start(servers, *args, **kw):
    srv = start(*args, **kw)
    servers.append(srv)
    return srv


def test_help_lists_every_option_and_command(capsys):
    for argv in (["--help"], ["status", "--help"], ["stop", "--help"]):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 0
    out = capsys.readouterr().out
    for opt in ("--db", "--socket", "--max-clients", "--timeout-ms", "--log-level",
                "--socket-mode", "--max-frame-bytes", "status --db", "stop --db",
                "./sochdb_data", "<db>/sochdb.sock", "(default: 100)", "(default: 30000)",
                "trace/debug/info/warn/error", "usage: sochdb-server status",
                "usage: sochdb-server stop", "--wait"):
        assert opt in out, opt


def test_console_script_is_declared():
    with open(os.path.join(os.path.dirname(__file__), "..", "..", "pyproject.toml")) as f:
        assert 'sochdb-server = "sochdb.cli.server:main"' in f.read()


def test_status_when_nothing_ever_ran(tmp, capsys):
    assert main(["status", "--db", os.path.join(tmp, "db")]) == 1
    assert main(["stop", "--db", os.path.join(tmp, "db")]) == 1
    assert capsys.readouterr().out == "[Server] Not running\n" * 2


def test_status_refusal_of_a_second_server_then_graceful_stop(tmp, servers):
    db = os.path.join(tmp, "db")
    srv = _start(servers, db)
    with srv.connect() as c:
        c.put(b"k", b"v")
        r = run("status", "--db", db)
        assert r.returncode == 0
        lines = r.stdout.splitlines()
        assert lines[:3] == [f"[Server] Running (PID: {srv.pid})",
                             f"Socket: {srv.socket_path}", f"Database: {db}"]
        assert re.fullmatch(r"Uptime: (\d+s|\d+m \d\ds)", lines[3])
        assert lines[4] == "Connections: 2/100"  # this client and the status probe
        # a second server on the same database is refused
        r = run("--db", db, "--socket", os.path.join(tmp, "other.sock"))
        assert r.returncode == 1
        assert (f"[Server] Error: a sochdb-server is already running on {db} "
                f"(PID: {srv.pid}); stop it with `sochdb-server stop --db {db}`") in r.stderr
        with pytest.raises(OperationalError, match="already running"):
            start(db, os.path.join(tmp, "third.sock"))
        assert c.ping() < 5
        r = run("stop", "--db", db)
    assert r.returncode == 0
    assert r.stdout == f"[Server] Stopping (PID: {srv.pid})\n[Server] Stopped\n"
    assert srv.wait(10) == 0
    assert not os.path.exists(srv.socket_path)
    assert not os.path.exists(os.path.join(db, "sochdb.pid"))
    assert "[Server] Checkpoint at LSN" in srv.log_text()


def test_stale_files_after_a_crash_are_detected_and_cleaned(tmp, servers):
    db = os.path.join(tmp, "db")
    srv = _start(servers, db)
    pid = srv.pid
    srv.kill()
    assert os.path.exists(srv.socket_path) and os.path.exists(os.path.join(db, "sochdb.pid"))
    r = run("status", "--db", db)
    assert r.returncode == 1
    assert r.stdout == (f"[Server] Not running (removed the stale pid file and socket "
                        f"{srv.socket_path} of PID {pid})\n")
    assert not os.path.exists(srv.socket_path)
    assert not os.path.exists(os.path.join(db, "sochdb.pid"))
    # a server started over stale files cleans them itself
    srv = _start(servers, db)
    srv.kill()
    srv = _start(servers, db)
    assert "Removed stale pid file" in srv.log_text()
    assert "Removed stale socket" in srv.log_text()
    srv.kill()
    r = run("stop", "--db", db)
    assert r.returncode == 1 and r.stdout.startswith(
        "[Server] Not running (removed the stale pid file and socket")


def test_a_live_socket_of_another_server_is_not_taken_over(tmp, servers):
    sock = os.path.join(tmp, "shared.sock")
    srv = _start(servers, os.path.join(tmp, "db1"), sock)
    r = run("--db", os.path.join(tmp, "db2"), "--socket", sock)
    assert r.returncode == 1 and f"socket {sock!r} is in use by a running server" in r.stderr
    with srv.connect() as c:
        assert c.ping() < 5


def test_a_file_that_is_not_a_socket_is_never_replaced(tmp):
    path = os.path.join(tmp, "precious.txt")
    with open(path, "w") as f:
        f.write("keep me")
    r = run("--db", os.path.join(tmp, "db"), "--socket", path)
    assert r.returncode == 1 and "exists and is not a socket" in r.stderr
    with open(path) as f:
        assert f.read() == "keep me"


def test_socket_path_over_the_unix_limit_is_a_clear_error(tmp):
    r = run("--db", os.path.join(tmp, "db"), "--socket", os.path.join(tmp, "s" * 120))
    assert r.returncode == 1 and "over the 107-byte limit of Unix sockets" in r.stderr


def test_socket_mode_can_be_widened_deliberately(tmp, servers):
    wide = _start(servers, os.path.join(tmp, "db"), socket_mode=0o660)
    assert stat.S_IMODE(os.stat(wide.socket_path).st_mode) == 0o660
    wide.stop()
    world = _start(servers, os.path.join(tmp, "db"), socket_mode=0o666)
    assert stat.S_IMODE(os.stat(world.socket_path).st_mode) == 0o666
    assert "is accessible to every local user (mode 0666)" in world.log_text()


def test_options_reach_the_server(tmp, servers):
    srv = _start(servers, os.path.join(tmp, "db"), os.path.join(tmp, "x.sock"),
                 max_clients=7, timeout_ms=60000, log_level="debug", max_frame_bytes=4096,
                 sync_mode="full")
    with srv.connect() as c:
        st = c.stats()
        assert (st["max_clients"], st["timeout_ms"], st["max_frame_bytes"]) == (7, 60000, 4096)
        c.put(b"k", b"v")  # sync_mode full: writes run on the worker pool
        assert c.get(b"k") == b"v"
        with pytest.raises(Exception, match="over the server's limit of 4096"):
            c.put(b"k", b"x" * 5000)
    assert "Connection 1 opened" in srv.log_text()  # debug logging
    os.kill(srv.pid, signal.SIGINT)  # Ctrl-C stops gracefully too
    assert srv.wait(20) == 0
    assert not os.path.exists(srv.socket_path)


@pytest.mark.parametrize("argv, message", [
    (["--socket-mode", "999"], "not an octal mode"),
    (["--log-level", "loud"], "invalid choice"),
    (["--max-clients", "-1"], "must not be negative"),
])
def test_bad_option_values_are_rejected(argv, message, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2 and message in capsys.readouterr().err


def test_server_path_environment_variable(tmp, servers, monkeypatch):
    marker = os.path.join(tmp, "used")
    wrapper = os.path.join(tmp, "my-sochdb-server")
    with open(wrapper, "w") as f:
        f.write(f"#!/bin/sh\ntouch {marker}\nexec {sys.executable} -m sochdb.cli.server "
                f'"$@"\n')
    os.chmod(wrapper, 0o755)
    monkeypatch.setenv("SOCHDB_SERVER_PATH", wrapper)
    assert tool_command("sochdb-server") == [wrapper]
    srv = _start(servers, os.path.join(tmp, "db"))
    assert os.path.exists(marker)
    with srv.connect() as c:
        assert c.ping() < 5
    monkeypatch.setenv("SOCHDB_SERVER_PATH", os.path.join(tmp, "missing"))
    with pytest.raises(OperationalError, match="SOCHDB_SERVER_PATH=.* is not an executable"):
        start(os.path.join(tmp, "db3"))


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_every_tool_honours_its_environment_variable(tool, tmp, monkeypatch):
    var, module = TOOLS[tool]
    monkeypatch.delenv(var, raising=False)
    default = tool_command(tool)
    assert default in ([os.path.join(os.path.dirname(sys.executable), tool)],
                       [sys.executable, "-m", module])
    exe = os.path.join(tmp, "tool")
    with open(exe, "w") as f:
        f.write("#!/bin/sh\n")
    os.chmod(exe, 0o755)
    monkeypatch.setenv(var, exe)
    assert tool_command(tool) == [exe]


def test_start_reports_why_the_server_did_not_come_up(tmp):
    bad = os.path.join(tmp, "file")
    with open(bad, "w") as f:
        f.write("x")
    with pytest.raises(OperationalError, match="exited with status 1.*not a directory"):
        start(bad, os.path.join(tmp, "s.sock"))


def test_socket_is_owner_only_and_pid_file_not_world_writable_even_with_umask_0(
        tmp, servers, monkeypatch):
    wrapper = os.path.join(tmp, "umask0-server")
    with open(wrapper, "w") as f:
        f.write(f'#!/bin/sh\numask 000\nexec {sys.executable} -m sochdb.cli.server "$@"\n')
    os.chmod(wrapper, 0o755)
    monkeypatch.setenv("SOCHDB_SERVER_PATH", wrapper)
    srv = _start(servers, os.path.join(tmp, "db"))
    assert stat.S_IMODE(os.stat(srv.socket_path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.join(tmp, "db", "sochdb.pid")).st_mode) == 0o644
