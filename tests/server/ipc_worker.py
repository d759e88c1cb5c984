"""A client process for the IPC tests: ``ipc_worker.py SOCKET MODE ARGS``.

write PREFIX N   put N keys ``PREFIX:i`` -> ``v:i``, then print ``done N``
ack PREFIX       put ``PREFIX:i`` forever and print ``i`` after each acknowledged put; every
                 10th step also commits a 3-key transaction and prints ``t i`` after commit;
                 exits quietly when the server goes away
"""

from __future__ import annotations

import sys

from sochdb.errors import Error
from sochdb.server import IpcClient


def main() -> int:
    sock, mode = sys.argv[1], sys.argv[2]
    client = IpcClient.connect(sock, timeout=60)
    if mode == "write":
        prefix, n = sys.argv[3], int(sys.argv[4])
        for i in range(n):
            client.put(f"{prefix}:{i}".encode(), f"v:{i}".encode())
        print(f"done {n}", flush=True)
        return 0
    if mode == "ack":
        prefix = sys.argv[3]
        out = sys.stdout
        i = 0
        try:
            while True:
                client.put(f"{prefix}:{i}".encode(), f"v:{i}".encode())
                out.write(f"{i}\n")
                out.flush()
                if i % 10 == 0:
                    with client.begin_transaction() as txn:
                        for j in range(3):
                            txn.put(f"{prefix}:t{i}:{j}".encode(), b"t")
                    out.write(f"t {i}\n")
                    out.flush()
                i += 1
        except (Error, OSError):
            return 0
    print(f"unknown mode {mode!r}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
