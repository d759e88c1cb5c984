"""The guide's IPC Mode section, verbatim: the shell commands run as written (in a temporary
working directory) and the Python snippets are executed unchanged."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest

from sochdb.errors import InterfaceError
from sochdb.server import IpcClient, tool_command

QUICK_START = '''\
# Connect from Python (or any other process)
from sochdb import IpcClient

client = IpcClient.connect("./my_database/sochdb.sock")

client.put(b"key", b"value")
value = client.get(b"key")
print(value.decode())
# Output: value
'''

SERVER_STATISTICS = '''\
from sochdb import IpcClient

client = IpcClient.connect("./my_database/sochdb.sock")
stats = client.stats()

print(f"Connections: {stats['connections_active']}/{stats['connections_total']}")
print(f"Requests: {stats['requests_success']} success, {stats['requests_error']} errors")
print(f"Throughput: {stats['bytes_received']} bytes in, {stats['bytes_sent']} bytes out")
print(f"Uptime: {stats['uptime_secs']} seconds")
print(f"Active transactions: {stats['active_transactions']}")
'''


def sh(line: str, cwd: str, **kw):
    """Run a guide shell line such as ``sochdb-server status --db ./my_database``."""
    argv = line.split()
    assert argv[0] == "sochdb-server"
    return subprocess.run([*tool_command("sochdb-server"), *argv[1:]], cwd=cwd,
                          capture_output=True, text=True, timeout=60, **kw)


@pytest.fixture
def workdir(monkeypatch):
    d = tempfile.mkdtemp(prefix="sdbg-", dir="/tmp" if os.path.isdir("/tmp") else None)
    monkeypatch.chdir(d)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def guide_server(workdir):
    # Start the IPC server (globally available after pip install)
    proc = subprocess.Popen([*tool_command("sochdb-server"), "--db", "./my_database"],
                            cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + 30
    while True:
        try:
            IpcClient.connect("./my_database/sochdb.sock").close()
            break
        except InterfaceError:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.02)
    yield proc
    if proc.poll() is None:
        proc.terminate()
    proc.communicate(timeout=30)


def test_ipc_mode_quick_start_and_server_commands(guide_server, workdir, capsys):
    # Check status
    r = sh("sochdb-server status --db ./my_database", workdir)
    lines = r.stdout.splitlines()
    assert r.returncode == 0
    assert lines[0] == f"[Server] Running (PID: {guide_server.pid})"
    assert lines[1] == "Socket: ./my_database/sochdb.sock"
    assert lines[2] == f"Database: {os.path.join(os.path.realpath(workdir), 'my_database')}"

    exec(compile(QUICK_START, "guide-ipc-quick-start", "exec"), {})
    assert capsys.readouterr().out == "value\n"

    exec(compile(SERVER_STATISTICS, "guide-ipc-stats", "exec"), {})
    out = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"Connections: \d+/\d+", out[0])
    assert re.fullmatch(r"Requests: \d+ success, 0 errors", out[1])
    assert re.fullmatch(r"Throughput: \d+ bytes in, \d+ bytes out", out[2])
    assert re.fullmatch(r"Uptime: \d+ seconds", out[3])
    assert out[4] == "Active transactions: 0"

    # Stop server gracefully
    r = sh("sochdb-server stop --db ./my_database", workdir)
    assert r.returncode == 0 and r.stdout.endswith("[Server] Stopped\n")
    assert guide_server.wait(30) == 0
    assert not os.path.exists("./my_database/sochdb.sock")


def test_production_configuration_options(workdir):
    # The guide's production command with the paths moved into the temporary directory.
    proc = subprocess.Popen(
        [*tool_command("sochdb-server"), "--db", f"{workdir}/production",
         "--socket", f"{workdir}/sochdb.sock", "--max-clients", "500",
         "--timeout-ms", "60000", "--log-level", "info"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                client = IpcClient.connect(f"{workdir}/sochdb.sock")
                break
            except InterfaceError:
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.02)
        st = client.stats()
        assert (st["max_clients"], st["timeout_ms"]) == (500, 60000)
        client.close()
        r = sh(f"sochdb-server status --db {workdir}/production", workdir)
        assert f"Socket: {workdir}/sochdb.sock" in r.stdout
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    assert proc.returncode == 0
