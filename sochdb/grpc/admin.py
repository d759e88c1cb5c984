"""The server's self-description, ``/sochdb.server.v1.ServerInfo/Describe``, for the CLI's
``status`` and ``stop``: PID, database path, address, start time and version as JSON.

It answers loopback peers only (PERMISSION_DENIED otherwise) and changes nothing: stopping
is done by the CLI with SIGTERM to the PID it reports, so the operating system decides who
may stop a server. The method is outside the ``sochdb.v1`` package, which stays as the proto
defines it. Imports grpc and the standard library.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import grpc

__all__ = ["METHOD", "SERVICE", "describe", "describe_handler", "is_loopback_peer"]

SERVICE = "sochdb.server.v1.ServerInfo"
METHOD = f"/{SERVICE}/Describe"


def is_loopback_peer(peer: str) -> bool:
    """Whether a ``context.peer()`` string (``ipv4:127.0.0.1:5000``, ``ipv6:[::1]:5000``,
    ``unix:...``) is a connection from this machine's loopback or a local socket."""
    if peer.startswith("unix:"):
        return True
    if peer.startswith("ipv4:"):
        return peer[5:].startswith("127.")
    if peer.startswith("ipv6:"):
        host = peer[5:].rsplit(":", 1)[0].strip("[]").lower()
        return host == "::1" or host.startswith("::ffff:127.")
    return False


def describe_handler(info: Callable[[], dict[str, Any]]) -> grpc.GenericRpcHandler:
    """A generic handler answering Describe with ``json.dumps(info())``."""
    def handle(request: bytes, context: grpc.ServicerContext) -> bytes:
        if not is_loopback_peer(context.peer()):
            context.abort(grpc.StatusCode.PERMISSION_DENIED,
                          "ServerInfo/Describe answers loopback clients only")
        return json.dumps(info()).encode("utf-8")
    return grpc.method_handlers_generic_handler(
        SERVICE, {"Describe": grpc.unary_unary_rpc_method_handler(handle)})


def describe(channel: grpc.Channel, timeout: float = 5.0) -> dict[str, Any]:
    """Call Describe on ``channel``; raises grpc.RpcError when the server does not answer."""
    call = channel.unary_unary(METHOD)
    return json.loads(call(b"", timeout=timeout).decode("utf-8"))
