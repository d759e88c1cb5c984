"""GrpcServer: one grpc.Server over one open Database with the vector, KV, health,
server-info and UNIMPLEMENTED handlers, bound to one address.

The caller owns the Database (opens it before, closes it after ``stop``); ``stop`` first marks
every service NOT_SERVING, then lets running calls finish within the grace period. Imports
grpc, grpc_health and the sibling gRPC modules.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent import futures
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from sochdb.database import Database
from sochdb.errors import OperationalError
from sochdb.grpc import admin
from sochdb.grpc import sochdb_pb2_grpc as pb_grpc
from sochdb.grpc.kv import KvServicer
from sochdb.grpc.unimplemented import unimplemented_handlers
from sochdb.grpc.vectors import VectorIndexServicer

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_MAX_MESSAGE_BYTES",
    "DEFAULT_MAX_WORKERS",
    "DEFAULT_PORT",
    "SERVED_SERVICES",
    "GrpcServer",
    "format_address",
]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 50051
DEFAULT_MAX_WORKERS = 10
#: Largest request or response accepted (gRPC's own default, 4 MiB, is one 768-d batch of 1300).
DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024

#: The sochdb.v1 services this server implements; the proto's others answer UNIMPLEMENTED.
SERVED_SERVICES = ("sochdb.v1.VectorIndexService", "sochdb.v1.KvService")
_HEALTH_SERVICE = "grpc.health.v1.Health"


def format_address(host: str, port: int) -> str:
    """``host:port``, with brackets around an IPv6 host (``[::1]:50051``)."""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{port}"


class GrpcServer:
    """Serve ``db`` over gRPC on ``host:port`` (port 0: any free port, see ``port``)."""

    def __init__(self, db: Database, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *,
                 max_workers: int = DEFAULT_MAX_WORKERS,
                 max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> None:
        if max_workers < 1:
            raise OperationalError(f"max_workers must be at least 1, not {max_workers}")
        if max_message_bytes < 1024:
            raise OperationalError(
                f"max_message_bytes must be at least 1024, not {max_message_bytes}")
        self.db = db
        self.host = host
        self.requested_port = port
        self.port: int | None = None
        self.max_workers = max_workers
        self.max_message_bytes = max_message_bytes
        self.started: float | None = None
        self._stopping = threading.Event()
        self._health = health.HealthServicer(experimental_non_blocking=True)
        self.vectors = VectorIndexServicer(db, self._stopping)
        self.kv = KvServicer(db)
        options = [("grpc.max_receive_message_length", max_message_bytes),
                   ("grpc.max_send_message_length", max_message_bytes),
                   ("grpc.so_reuseport", 0)]
        self._pool = futures.ThreadPoolExecutor(max_workers=max_workers,
                                                thread_name_prefix="sochdb-grpc")
        self._server = grpc.server(self._pool, options=options)
        pb_grpc.add_VectorIndexServiceServicer_to_server(self.vectors, self._server)
        pb_grpc.add_KvServiceServicer_to_server(self.kv, self._server)
        health_pb2_grpc.add_HealthServicer_to_server(self._health, self._server)
        served = SERVED_SERVICES + (_HEALTH_SERVICE, admin.SERVICE)
        self._server.add_generic_rpc_handlers(
            [admin.describe_handler(self.describe)] + unimplemented_handlers(served))

    @property
    def address(self) -> str:
        return format_address(self.host, self.port if self.port is not None
                              else self.requested_port)

    def start(self) -> int:
        """Bind and start serving; return the bound port. OperationalError if it cannot bind."""
        target = format_address(self.host, self.requested_port)
        try:
            port = self._server.add_insecure_port(target)
        except RuntimeError as e:
            raise OperationalError(f"cannot listen on {target}: {e}") from None
        if not port:
            raise OperationalError(f"cannot listen on {target}")
        self.port = port
        self._server.start()
        self.started = time.time()
        for name in ("",) + SERVED_SERVICES:
            self._health.set(name, health_pb2.HealthCheckResponse.SERVING)
        return port

    def describe(self) -> dict[str, Any]:
        """What ServerInfo/Describe reports (see sochdb.grpc.admin)."""
        from sochdb import __version__
        return {"pid": os.getpid(), "db": os.path.abspath(self.db.path)
                if self.db.path != ":memory:" else ":memory:",
                "host": self.host, "port": self.port, "started": self.started,
                "version": __version__, "max_workers": self.max_workers,
                "max_message_bytes": self.max_message_bytes,
                "services": list(SERVED_SERVICES)}

    def stop(self, grace: float | None = 5.0) -> None:
        """Report NOT_SERVING, refuse new calls, and wait up to ``grace`` seconds for running
        calls to finish (None: wait for all of them)."""
        self._stopping.set()
        self._health.enter_graceful_shutdown()
        self._server.stop(grace).wait()
        self._pool.shutdown(wait=True)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the server has stopped (True) or ``timeout`` seconds passed (False)."""
        return not self._server.wait_for_termination(timeout)  # grpc's True means "timed out"

    def __enter__(self) -> GrpcServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
