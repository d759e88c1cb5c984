"""``sochdb-grpc-server``: serve a database's vector indexes and KV over gRPC; ``status`` and
``stop`` subcommands that find the server by its port.

Serving opens the Database (its directory lock keeps a second server off the same database),
listens on ``--host`` (loopback unless told otherwise), writes ``<db>/sochdb-grpc.pid`` with
the bound port and runs until SIGTERM/SIGINT or ``sochdb-grpc-server stop``, then finishes
running calls, checkpoints and closes the database. Imports sochdb, sochdb.grpc and grpc.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import time
from typing import Any

from sochdb.cli.server import LOG_LEVELS, format_uptime
from sochdb.database import DEFAULT_PATH
from sochdb.errors import DatabaseLockedError, Error
from sochdb.grpc.server import DEFAULT_HOST as LOOPBACK
from sochdb.grpc.server import (
    DEFAULT_MAX_MESSAGE_BYTES,
    DEFAULT_MAX_WORKERS,
    DEFAULT_PORT,
    format_address,
)
from sochdb.server import pidfile

PID_NAME = "sochdb-grpc.pid"
DEFAULT_GRACE = 10.0

USAGE_EPILOG = """commands:
  sochdb-grpc-server [--host H] [--port P] [--db PATH] [options]   serve in the foreground
  sochdb-grpc-server status [--host H] --port P   show whether a server answers (exit 0 if so)
  sochdb-grpc-server stop [--host H] --port P     stop it gracefully (finish calls, checkpoint)

The default host is 127.0.0.1 (this machine only). --host 0.0.0.0 listens on every interface;
the server has no authentication or TLS, so do that only on a trusted network.
"""


def _count(minimum: int):
    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if n < minimum:
            raise argparse.ArgumentTypeError(f"{text!r} must be at least {minimum}")
        return n
    return parse


def _port(text: str) -> int:
    n = _count(0)(text)
    if n > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port (0-65535)")
    return n


def serve_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="sochdb-grpc-server", epilog=USAGE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Serve a sochdb database's vector indexes and KV data over gRPC "
                    "(the sochdb.v1 services of sochdb.proto).")
    p.add_argument("--host", default=LOOPBACK,
                   help=f"address to listen on (default: {LOOPBACK}; 0.0.0.0 for every "
                        "interface, without authentication)")
    p.add_argument("--port", type=_port, default=DEFAULT_PORT,
                   help=f"TCP port, 0 for any free port (default: {DEFAULT_PORT})")
    p.add_argument("--db", default=DEFAULT_PATH, metavar="PATH",
                   help=f"database directory, or :memory: (default: {DEFAULT_PATH})")
    p.add_argument("--max-workers", type=_count(1), default=DEFAULT_MAX_WORKERS, metavar="N",
                   help=f"threads serving calls (default: {DEFAULT_MAX_WORKERS})")
    p.add_argument("--max-message-bytes", type=_count(1024), default=DEFAULT_MAX_MESSAGE_BYTES,
                   metavar="N", help="largest request or response message "
                                     f"(default: {DEFAULT_MAX_MESSAGE_BYTES})")
    p.add_argument("--grace", type=float, default=DEFAULT_GRACE, metavar="SECONDS",
                   help="on shutdown, how long running calls may take to finish "
                        f"(default: {DEFAULT_GRACE:g})")
    p.add_argument("--log-level", default="info", choices=list(LOG_LEVELS),
                   help="trace/debug/info/warn/error (default: info)")
    p.add_argument("--sync-mode", choices=["full", "normal", "off"],
                   help="the database's sync_mode (default: the database default)")
    return p


def admin_parser(command: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"sochdb-grpc-server {command}", description={
        "status": "Show whether a sochdb-grpc-server answers on a port.",
        "stop": "Stop the sochdb-grpc-server on a port of this machine gracefully."}[command])
    p.add_argument("--host", default=LOOPBACK, help=f"server address (default: {LOOPBACK})")
    p.add_argument("--port", type=_port, default=DEFAULT_PORT,
                   help=f"server port (default: {DEFAULT_PORT})")
    p.add_argument("--timeout", type=float, default=3.0, metavar="SECONDS",
                   help="how long to wait for the server to answer (default: 3)")
    if command == "stop":
        p.add_argument("--wait", type=float, default=30.0, metavar="SECONDS",
                       help="how long to wait for the server to exit (default: 30)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("status", "stop"):
        ns = admin_parser(args[0]).parse_args(args[1:])
        if args[0] == "status":
            return status(ns.host, ns.port, ns.timeout)
        return stop(ns.host, ns.port, ns.timeout, ns.wait)
    return serve(serve_parser().parse_args(args))


# -- pid file --------------------------------------------------------------------------------

def pid_path(db_path: str) -> str:
    return os.path.join(os.path.abspath(db_path), PID_NAME)


def write_pid_file(db_path: str, info: dict[str, Any]) -> str:
    """``<db>/sochdb-grpc.pid``: JSON with pid, host, port, started (atomic, mode 0644)."""
    path = pid_path(db_path)
    tmp = f"{path}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, json.dumps(info).encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    return path


def read_pid_file(db_path: str) -> dict[str, Any] | None:
    try:
        with open(pid_path(db_path), encoding="utf-8") as f:
            data = json.load(f)
        return data if isinstance(data, dict) else None
    except (OSError, ValueError):
        return None


def _remove_pid_file(db_path: str, pid: int) -> None:
    info = read_pid_file(db_path)
    if info is not None and info.get("pid") == pid:
        try:
            os.unlink(pid_path(db_path))
        except FileNotFoundError:
            pass


# -- serving ---------------------------------------------------------------------------------

def _is_loopback(host: str) -> bool:
    return host in ("localhost", "::1", "[::1]") or host.startswith("127.")


STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


def serve(ns: argparse.Namespace) -> int:
    """Run the server until SIGTERM/SIGINT; exit status 0 after a clean shutdown.

    The stop signals are blocked before any thread starts (gRPC's threads inherit the mask)
    and taken with ``sigwait`` by this thread, so shutdown begins at once whichever thread
    the kernel would have picked, and a signal during start-up waits until serving began.
    """
    logging.addLevelName(5, "TRACE")
    logging.basicConfig(level=LOG_LEVELS[ns.log_level], stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(message)s")
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        return _serve(ns, logging.getLogger("sochdb.grpc"))
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _serve(ns: argparse.Namespace, log: logging.Logger) -> int:
    from sochdb.database import Database
    from sochdb.grpc.server import GrpcServer

    config = {"sync_mode": ns.sync_mode} if ns.sync_mode else None
    in_memory = ns.db == ":memory:"
    try:
        db = Database.open(ns.db, config)
    except DatabaseLockedError as e:
        running = read_pid_file(ns.db)
        if running and running.get("pid") == e.details.get("pid"):
            print(f"[gRPC] Error: a sochdb-grpc-server is already running on {ns.db} "
                  f"(PID: {running['pid']}, port {running.get('port')}); stop it with "
                  f"`sochdb-grpc-server stop --port {running.get('port')}`", file=sys.stderr)
        else:
            print(f"[gRPC] Error: {e}", file=sys.stderr)
        return 1
    except Error as e:
        print(f"[gRPC] Error: cannot open {ns.db}: {e}", file=sys.stderr)
        return 1
    pid = os.getpid()
    try:
        try:
            server = GrpcServer(db, ns.host, ns.port, max_workers=ns.max_workers,
                                max_message_bytes=ns.max_message_bytes)
            port = server.start()
        except Error as e:
            print(f"[gRPC] Error: {e}", file=sys.stderr)
            return 1
        if not in_memory:
            write_pid_file(ns.db, {"pid": pid, "host": ns.host, "port": port,
                                   "started": server.started})
        if not _is_loopback(ns.host):
            log.warning("[gRPC] Listening on %s, reachable from other machines; the server "
                        "has no authentication or TLS", server.address)
        log.info("[gRPC] Serving %s (PID: %d, database: %s, workers: %d)",
                 server.address, pid, db.path, ns.max_workers)
        print(f"[gRPC] Listening on {server.address} (PID: {pid})\nDatabase: {db.path}",
              flush=True)
        sig = signal.sigwait(STOP_SIGNALS)
        log.info("[gRPC] %s: finishing running calls (grace %g s)", signal.Signals(sig).name,
                 ns.grace)
        server.stop(ns.grace)
        db.checkpoint()
    finally:
        db.close()
        if not in_memory:
            _remove_pid_file(ns.db, pid)
    print("[gRPC] Stopped", flush=True)
    return 0


# -- status and stop -------------------------------------------------------------------------

def _connect(host: str, port: int, timeout: float):
    """A ready channel to the server, or None when nothing answers within ``timeout``."""
    import grpc

    channel = grpc.insecure_channel(format_address(host, port))
    try:
        grpc.channel_ready_future(channel).result(timeout=timeout)
    except grpc.FutureTimeoutError:
        channel.close()
        return None
    return channel


def _describe(channel: Any, timeout: float) -> dict[str, Any] | None:
    import grpc

    from sochdb.grpc import admin
    try:
        return admin.describe(channel, timeout)
    except grpc.RpcError:
        return None


def status(host: str, port: int, timeout: float = 3.0) -> int:
    """Print what the server on ``host:port`` reports; exit 0 when it is SERVING."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from sochdb.grpc import sochdb_pb2 as pb
    from sochdb.grpc import sochdb_pb2_grpc as pb_grpc
    address = format_address(host, port)
    channel = _connect(host, port, timeout)
    if channel is None:
        print(f"[gRPC] Not running on {address}")
        return 1
    with channel:
        try:
            health = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=timeout)
            vec = pb_grpc.VectorIndexServiceStub(channel).HealthCheck(
                pb.HealthCheckRequest(), timeout=timeout)
        except grpc.RpcError as e:
            print(f"[gRPC] Not a sochdb-grpc-server on {address}: {e.code().name} "
                  f"{e.details()}")
            return 1
        info = _describe(channel, timeout)
    state = health_pb2.HealthCheckResponse.ServingStatus.Name(health.status)
    head = f"[gRPC] Running (PID: {info['pid']})" if info else "[gRPC] Running"
    print(head if state == "SERVING" else f"[gRPC] {state}")
    print(f"Address: {address}")
    if info:
        print(f"Database: {info['db']}")
        print(f"Uptime: {format_uptime(time.time() - info['started'])}")
    print(f"Version: {vec.version}")
    names = list(vec.indexes)
    print(f"Indexes: {len(names)}" + (f" ({', '.join(names)})" if names else ""))
    return 0 if state == "SERVING" else 1


def _owns_port(info: dict[str, Any], port: int) -> bool:
    """Whether the PID the server reported is really the server of that port on this
    machine: its pid file in the database directory says so (or, for a database in memory,
    the process's command line is a sochdb-grpc-server)."""
    pid = info.get("pid")
    if not isinstance(pid, int) or not pidfile.alive(pid):
        return False
    if info.get("db") == ":memory:":
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read()
        except OSError:
            return False
        return b"grpc-server" in cmdline or b"grpc_server" in cmdline
    saved = read_pid_file(str(info.get("db")))
    return bool(saved) and saved.get("pid") == pid and saved.get("port") == port


def stop(host: str, port: int, timeout: float = 3.0, wait: float = 30.0) -> int:
    """SIGTERM the server on ``host:port`` (a server of this machine) and wait until it has
    exited; exit 0 when it stopped."""
    address = format_address(host, port)
    channel = _connect(host, port, timeout)
    if channel is None:
        print(f"[gRPC] Not running on {address}")
        return 1
    with channel:
        info = _describe(channel, timeout)
    if info is None:
        print(f"[gRPC] Error: the server on {address} does not describe itself to this "
              "client (is it a sochdb-grpc-server on this machine?)", file=sys.stderr)
        return 1
    if not _owns_port(info, port):
        print(f"[gRPC] Error: PID {info.get('pid')} reported by {address} is not a "
              f"sochdb-grpc-server of this machine on port {port}; not signalling it",
              file=sys.stderr)
        return 1
    pid = info["pid"]
    print(f"[gRPC] Stopping (PID: {pid})", flush=True)
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    except PermissionError:
        print(f"[gRPC] Error: not allowed to signal PID {pid} (another user's server)",
              file=sys.stderr)
        return 1
    deadline = time.monotonic() + wait
    while pidfile.alive(pid):
        if time.monotonic() > deadline:
            print(f"[gRPC] Still running after {wait:g} s (PID: {pid})", file=sys.stderr)
            return 1
        time.sleep(0.02)
    print("[gRPC] Stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
