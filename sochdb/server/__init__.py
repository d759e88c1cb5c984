"""Servers over one Database: the IPC server on a Unix socket, its client and launchers.

``IpcClient.connect(path)`` talks to a running ``sochdb-server``; ``start(db_path)`` launches
one as a subprocess. The protocol is described in docs/protocol.md.
"""

from __future__ import annotations

from sochdb.server.client import IpcClient, RemoteTransaction
from sochdb.server.ipc import IpcServer
from sochdb.server.launch import ServerProcess, start, tool_command

__all__ = ["IpcClient", "RemoteTransaction", "IpcServer", "ServerProcess", "start",
           "tool_command"]
