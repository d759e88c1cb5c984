"""``sochdb-server``: serve a database over a Unix socket; ``status`` and ``stop`` subcommands.

Running the server opens the Database (its directory lock makes a second server on the same
database fail with a clear message), binds the socket, writes ``<db>/sochdb.pid`` and serves
until SIGTERM/SIGINT or ``sochdb-server stop``. Imports sochdb and sochdb.server.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time

from sochdb.database import DEFAULT_PATH
from sochdb.errors import DatabaseLockedError, Error
from sochdb.server import pidfile
from sochdb.server.protocol import DEFAULT_MAX_FRAME

LOG_LEVELS = {"trace": 5, "debug": logging.DEBUG, "info": logging.INFO,
              "warn": logging.WARNING, "error": logging.ERROR}
DEFAULT_MAX_CLIENTS = 100
DEFAULT_TIMEOUT_MS = 30000

USAGE_EPILOG = """commands:
  sochdb-server --db PATH [options]   run the server in the foreground
  sochdb-server status --db PATH      show whether a server runs for PATH (exit 0 if so)
  sochdb-server stop --db PATH        stop it gracefully (finish requests, checkpoint)
"""


def _socket_mode(text: str) -> int:
    try:
        mode = int(text, 8)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an octal mode such as 0600") from None
    if not 0 <= mode <= 0o777:
        raise argparse.ArgumentTypeError(f"{text!r} is not a permission mode (0000-0777)")
    return mode


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must not be negative")
    return n


def serve_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="sochdb-server", description="Serve a sochdb database to other processes over a "
        "Unix domain socket.", epilog=USAGE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", default=DEFAULT_PATH, metavar="PATH",
                   help=f"database directory (default: {DEFAULT_PATH})")
    p.add_argument("--socket", metavar="PATH",
                   help="Unix socket path (default: <db>/sochdb.sock)")
    p.add_argument("--max-clients", type=_positive, default=DEFAULT_MAX_CLIENTS, metavar="N",
                   help=f"maximum concurrent connections (default: {DEFAULT_MAX_CLIENTS})")
    p.add_argument("--timeout-ms", type=_positive, default=DEFAULT_TIMEOUT_MS, metavar="MS",
                   help="close connections idle this long, 0 for never "
                        f"(default: {DEFAULT_TIMEOUT_MS})")
    p.add_argument("--log-level", default="info", choices=list(LOG_LEVELS),
                   help="trace/debug/info/warn/error (default: info)")
    p.add_argument("--socket-mode", type=_socket_mode, default=0o600, metavar="MODE",
                   help="permissions of the socket file, octal (default: 0600, owner only)")
    p.add_argument("--max-frame-bytes", type=_positive, default=DEFAULT_MAX_FRAME, metavar="N",
                   help=f"largest request payload accepted (default: {DEFAULT_MAX_FRAME})")
    p.add_argument("--sync-mode", choices=["full", "normal", "off"],
                   help="the database's sync_mode (default: the database default)")
    return p


def admin_parser(command: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"sochdb-server {command}", description={
        "status": "Show whether a sochdb-server runs for a database.",
        "stop": "Stop the sochdb-server of a database gracefully."}[command])
    p.add_argument("--db", default=DEFAULT_PATH, metavar="PATH",
                   help=f"database directory (default: {DEFAULT_PATH})")
    if command == "stop":
        p.add_argument("--wait", type=float, default=30.0, metavar="SECONDS",
                       help="how long to wait for the server to exit (default: 30)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("status", "stop"):
        ns = admin_parser(args[0]).parse_args(args[1:])
        return status(ns.db) if args[0] == "status" else stop(ns.db, ns.wait)
    return serve(serve_parser().parse_args(args))


# -- serving ---------------------------------------------------------------------------------

def serve(ns: argparse.Namespace) -> int:
    from sochdb.database import Database
    from sochdb.server.ipc import IpcServer

    logging.addLevelName(5, "TRACE")
    logging.basicConfig(level=LOG_LEVELS[ns.log_level], stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(message)s")
    log = logging.getLogger("sochdb.server")
    db_path = ns.db
    socket_given = ns.socket or os.path.join(db_path, "sochdb.sock")
    config = {"sync_mode": ns.sync_mode} if ns.sync_mode else None
    try:
        db = Database.open(db_path, config)
    except DatabaseLockedError as e:
        holder = e.details.get("pid")
        info = pidfile.read(db_path)
        if info is not None and holder is not None and info.pid == holder:
            print(f"[Server] Error: a sochdb-server is already running on {db_path} "
                  f"(PID: {holder}); stop it with `sochdb-server stop --db {db_path}`",
                  file=sys.stderr)
        else:
            print(f"[Server] Error: {e}", file=sys.stderr)
        return 1
    except Error as e:
        print(f"[Server] Error: cannot open {db_path}: {e}", file=sys.stderr)
        return 1
    pid = os.getpid()
    try:
        stale = pidfile.read(db_path)
        if stale is not None:  # we hold the database lock, so its writer is gone
            pidfile.remove(db_path)
            log.info("[Server] Removed stale pid file of PID %d", stale.pid)
        try:
            server = IpcServer(db, socket_given, max_clients=ns.max_clients,
                               timeout_ms=ns.timeout_ms, max_frame=ns.max_frame_bytes,
                               socket_mode=ns.socket_mode)
            server.bind()
        except Error as e:
            print(f"[Server] Error: {e}", file=sys.stderr)
            return 1
        if ns.socket_mode & 0o007:
            log.warning("[Server] Socket %s is accessible to every local user (mode %04o)",
                        socket_given, ns.socket_mode)
        pidfile.write(db_path, pid, socket_given, socket_given, server.started)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: server.shutdown())
        log.info("[Server] Listening on %s (PID: %d, database: %s, max clients: %d, "
                 "timeout: %d ms)", socket_given, pid, db.path, ns.max_clients, ns.timeout_ms)
        print(f"[Server] Running (PID: {pid})\nSocket: {socket_given}\nDatabase: {db.path}",
              flush=True)
        server.serve_forever()
    finally:
        db.close()
        pidfile.remove(db_path, pid)
    log.info("[Server] Stopped")
    return 0


# -- status and stop -------------------------------------------------------------------------

def _probe(socket_path: str) -> int | None:
    """The PID the server on ``socket_path`` reports in its HELLO, or None."""
    from sochdb.server.client import IpcClient
    try:
        with IpcClient(socket_path, timeout=2.0) as c:
            return c.server_pid
    except (Error, OSError):
        return None


def _clean_stale(db_path: str, info: pidfile.PidInfo) -> str:
    from sochdb.server.ipc import remove_stale_socket
    removed = ["pid file"] if pidfile.remove(db_path, info.pid) else []
    try:
        if remove_stale_socket(info.socket):
            removed.append(f"socket {info.socket_given}")
    except Error:
        pass
    return f" (removed the stale {' and '.join(removed)} of PID {info.pid})" if removed else ""


def format_uptime(secs: float) -> str:
    s = int(secs)
    d, s = divmod(s, 86400)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    if d:
        return f"{d}d {h:02d}h {m:02d}m"
    if h:
        return f"{h}h {m:02d}m {s:02d}s"
    return f"{m}m {s:02d}s" if m else f"{s}s"


def status(db_path: str) -> int:
    """Print the guide's status lines; exit 0 when a server answers, else 1."""
    info = pidfile.read(db_path)
    if info is None:
        print("[Server] Not running")
        return 1
    if _probe(info.socket) == info.pid:
        from sochdb.server.client import IpcClient
        uptime = time.time() - info.started
        try:
            with IpcClient(info.socket, timeout=5.0) as c:
                st = c.stats()
            uptime = st["uptime_secs"]
            extra = (f"Connections: {st['connections_active']}/{st['max_clients']}\n"
                     f"Active transactions: {st['active_transactions']}")
        except (Error, OSError):
            extra = None
        print(f"[Server] Running (PID: {info.pid})")
        print(f"Socket: {info.socket_given}")
        print(f"Database: {os.path.abspath(db_path)}")
        print(f"Uptime: {format_uptime(uptime)}")
        if extra:
            print(extra)
        return 0
    if not pidfile.alive(info.pid):
        print(f"[Server] Not running{_clean_stale(db_path, info)}")
        return 1
    print(f"[Server] Not responding (PID: {info.pid}) on {info.socket_given}")
    return 1


def stop(db_path: str, wait: float = 30.0) -> int:
    """SIGTERM the database's server and wait until it has exited; exit 0 when stopped."""
    info = pidfile.read(db_path)
    if info is None:
        print("[Server] Not running")
        return 1
    if not pidfile.alive(info.pid):
        print(f"[Server] Not running{_clean_stale(db_path, info)}")
        return 1
    if _probe(info.socket) != info.pid and pidfile.lock_holder(db_path) != info.pid:
        print(f"[Server] Error: PID {info.pid} from {info.path} neither answers on "
              f"{info.socket_given} nor holds the database lock; not signalling it",
              file=sys.stderr)
        return 1
    print(f"[Server] Stopping (PID: {info.pid})", flush=True)
    try:
        os.kill(info.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + wait
    while pidfile.alive(info.pid):
        if time.monotonic() > deadline:
            print(f"[Server] Still running after {wait:g} s (PID: {info.pid})", file=sys.stderr)
            return 1
        time.sleep(0.02)
    print("[Server] Stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
