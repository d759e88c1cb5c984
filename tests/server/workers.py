"""Client process bodies for the IPC tests, run in forked processes (no interpreter start-up
per process, so sixteen of them start in milliseconds)."""

from __future__ import annotations

import multiprocessing
import os

from sochdb.errors import Error
from sochdb.server import IpcClient

FORK = multiprocessing.get_context("fork")


def write_keys(socket_path: str, prefix: str, n: int) -> None:
    """Put ``prefix:i`` -> ``v:i`` for i < n; the exit code says whether all succeeded."""
    with IpcClient.connect(socket_path, timeout=120) as client:
        for i in range(n):
            client.put(f"{prefix}:{i}".encode(), f"v:{i}".encode())


def ack_writer(socket_path: str, prefix: str, fd: int) -> None:
    """Write until the server disappears, reporting each acknowledged write on ``fd``:
    ``i`` after put ``prefix:i``; every 10th step also ``t i`` after committing a 3-key
    transaction ``prefix:t<i>:<j>``."""
    try:
        client = IpcClient.connect(socket_path, timeout=60)
        i = 0
        while True:
            client.put(f"{prefix}:{i}".encode(), f"v:{i}".encode())
            os.write(fd, f"{i}\n".encode())
            if i % 10 == 0:
                with client.begin_transaction() as txn:
                    for j in range(3):
                        txn.put(f"{prefix}:t{i}:{j}".encode(), b"t")
                os.write(fd, f"t {i}\n".encode())
            i += 1
    except (Error, OSError):
        pass
    finally:
        os.close(fd)
