"""sochdb-grpc-server as a process: status and stop by port, graceful SIGTERM, loopback by
default, a clear error for a taken database or port, the standard health service, the
server-info call and UNIMPLEMENTED for every service it does not serve."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import entry_points

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from sochdb import Database
from sochdb.cli import grpc_server as cli
from sochdb.grpc import admin
from sochdb.grpc import sochdb_pb2 as pb
from sochdb.grpc.server import SERVED_SERVICES

CLI = [sys.executable, "-m", "sochdb.cli.grpc_server"]


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], check=False, capture_output=True, text=True,
                          timeout=timeout)


def cli_main(capsys, *args: str) -> tuple[int, str, str]:
    """Run the CLI in this process (no interpreter start-up): (exit status, stdout, stderr)."""
    capsys.readouterr()
    try:
        rc = cli.main(list(args))
    except SystemExit as e:
        rc = e.code
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_console_script_is_declared():
    scripts = {ep.name: ep.value for ep in entry_points(group="console_scripts")}
    assert scripts.get("sochdb-grpc-server") == "sochdb.cli.grpc_server:main"


def test_help_documents_commands_and_the_all_interfaces_warning(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for text in ("--host", "--port", "--db", "--max-workers", "--log-level",
                 "--max-message-bytes", "status", "stop", "0.0.0.0", "127.0.0.1"):
        assert text in out


def test_bad_port_is_a_usage_error(capsys):
    rc, _, err = cli_main(capsys, "--port", "70000")
    assert rc == 2 and "not a TCP port" in err


def test_status_and_stop_by_port(launch, capsys):
    srv = launch("db")
    rc, out, err = cli_main(capsys, "status", "--port", str(srv.port))
    assert rc == 0, out + err
    lines = out.splitlines()
    assert lines[0] == f"[gRPC] Running (PID: {srv.proc.pid})"
    assert f"Address: 127.0.0.1:{srv.port}" in lines
    assert f"Database: {os.path.abspath(srv.db)}" in lines
    assert any(line.startswith("Uptime: ") for line in lines)
    assert "Indexes: 0" in lines

    # The server is this test's child: stop's "is it gone" check treats a zombie as gone.
    rc, out, err = cli_main(capsys, "stop", "--port", str(srv.port))
    assert rc == 0, out + err
    assert out.splitlines() == [f"[gRPC] Stopping (PID: {srv.proc.pid})", "[gRPC] Stopped"]
    assert srv.proc.wait(10) == 0
    assert not os.path.exists(os.path.join(srv.db, cli.PID_NAME))
    assert "[gRPC] Stopped" in srv.log()

    rc, out, _ = cli_main(capsys, "status", "--port", str(srv.port), "--timeout", "0.5")
    assert rc == 1 and out.strip() == f"[gRPC] Not running on 127.0.0.1:{srv.port}"
    rc, out, _ = cli_main(capsys, "stop", "--port", str(srv.port), "--timeout", "0.5")
    assert rc == 1 and "Not running" in out


def test_status_runs_as_a_command(shared_server):
    out = run_cli("status", "--port", str(shared_server.port))
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.startswith(f"[gRPC] Running (PID: {shared_server.proc.pid})")


def test_sigterm_checkpoints_and_releases_the_database(launch):
    srv = launch("db")
    with srv.channel() as ch:
        from sochdb.grpc import sochdb_pb2_grpc as pb_grpc
        pb_grpc.KvServiceStub(ch).Put(pb.KvPutRequest(key=b"k", value=b"v"))
    assert srv.stop() == 0
    with Database.open(srv.db) as db:  # would raise DatabaseLockedError if still held
        st = db.stats()
        assert st["last_checkpoint_lsn"] == st["last_lsn"] > 0
        assert db.get(b"k") == b"v"


def test_loopback_is_the_default_and_the_pid_file_names_the_port(shared_server):
    srv = shared_server
    with open(os.path.join(srv.db, cli.PID_NAME), encoding="utf-8") as f:
        info = json.load(f)
    assert info["pid"] == srv.proc.pid and info["port"] == srv.port
    assert info["host"] == "127.0.0.1"
    # The kernel's tables of listening sockets: 127.0.0.1 (grpc may bind it as the IPv6
    # v4-mapped ::ffff:127.0.0.1), never the any-address.
    loopback = {"0100007F", "0000000000000000FFFF00000100007F",
                "00000000000000000000000001000000"}
    hosts = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table, encoding="ascii") as f:
            for line in f.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                host, port = local.split(":")
                if state == "0A" and int(port, 16) == srv.port:
                    hosts.add(host)
    assert hosts and hosts <= loopback, hosts


def test_a_second_server_on_the_same_database_fails_clearly(shared_server, capsys):
    srv = shared_server
    rc, _, err = cli_main(capsys, "--port", "0", "--db", srv.db)
    assert rc == 1
    assert "already running" in err and f"PID: {srv.proc.pid}" in err
    assert f"--port {srv.port}" in err


def test_a_taken_port_fails_clearly(shared_server, tmp_path, capsys):
    rc, _, err = cli_main(capsys, "--port", str(shared_server.port), "--db",
                          str(tmp_path / "other"))
    assert rc == 1
    assert f"cannot listen on 127.0.0.1:{shared_server.port}" in err
    assert not os.path.exists(tmp_path / "other" / cli.PID_NAME)


def test_health_service(channel):
    stub = health_pb2_grpc.HealthStub(channel)
    serving = health_pb2.HealthCheckResponse.SERVING
    for service in ("", *SERVED_SERVICES):
        assert stub.Check(health_pb2.HealthCheckRequest(service=service)).status == serving
    with pytest.raises(grpc.RpcError) as e:
        stub.Check(health_pb2.HealthCheckRequest(service="sochdb.v1.GraphService"))
    assert e.value.code() == grpc.StatusCode.NOT_FOUND


def test_server_info(channel, shared_server):
    info = admin.describe(channel)
    assert info["pid"] == shared_server.proc.pid
    assert info["port"] == shared_server.port and info["host"] == "127.0.0.1"
    assert info["db"] == os.path.abspath(shared_server.db)
    assert info["services"] == list(SERVED_SERVICES)


def _call_any(channel, service, method):
    """Call ``service/method`` with an empty request, whatever its streaming kind."""
    path = f"/{service.full_name}/{method.name}"
    if method.client_streaming and method.server_streaming:
        return list(channel.stream_stream(path)(iter([b""]), timeout=10))
    if method.client_streaming:
        return channel.stream_unary(path)(iter([b""]), timeout=10)
    if method.server_streaming:
        return list(channel.unary_stream(path)(b"", timeout=10))
    return channel.unary_unary(path)(b"", timeout=10)


def test_every_unserved_method_is_unimplemented_and_names_what_is_served(channel):
    unserved = [s for s in pb.DESCRIPTOR.services_by_name.values()
                if s.full_name not in SERVED_SERVICES]
    assert {s.name for s in unserved} == {
        "GraphService", "PolicyService", "ContextService", "CollectionService",
        "NamespaceService", "SemanticCacheService", "TraceService", "CheckpointService",
        "McpService", "SubscriptionService"}
    calls = 0
    for service in unserved:
        for method in service.methods:
            with pytest.raises(grpc.RpcError) as e:
                _call_any(channel, service, method)
            assert e.value.code() == grpc.StatusCode.UNIMPLEMENTED, (service.name, method.name)
            details = e.value.details()
            assert f"{service.full_name}/{method.name} is not implemented" in details
            assert "sochdb.v1.VectorIndexService" in details and "sochdb.v1.KvService" in details
            calls += 1
    assert calls > 50
