"""SIGKILL of the server under load: after a restart every acknowledged write is present and
no transaction is half applied."""

from __future__ import annotations

import os
import time

from .workers import FORK, ack_writer


def _read_all(fd: int) -> str:
    out = b""
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        out += chunk
    os.close(fd)
    return out.decode()


def test_acknowledged_writes_survive_sigkill_under_load(launch):
    srv = launch()
    acked: dict[str, tuple[set[int], set[int]]] = {}
    for round_no in range(2):
        writers = []
        for w in range(4):
            prefix = f"r{round_no}w{w}"
            r, wfd = os.pipe()
            p = FORK.Process(target=ack_writer, args=(srv.socket_path, prefix, wfd))
            p.start()
            os.close(wfd)
            writers.append((prefix, p, r))
        time.sleep(0.8)
        srv.kill()
        assert not srv.running
        assert os.path.exists(srv.socket_path)  # a crash leaves the socket and pid file
        for prefix, p, r in writers:
            text = _read_all(r)
            p.join(30)
            puts = {int(x) for x in text.split() if x.isdigit()}
            txns = {int(line.split()[1]) for line in text.splitlines() if line.startswith("t ")}
            acked[prefix] = (puts, txns)
        assert sum(len(p) for p, _ in acked.values()) > 20
        srv = launch()  # restart on the stale socket and pid file
        with srv.connect() as c:
            for prefix, (puts, txns) in acked.items():
                present = dict(c.scan_prefix(f"{prefix}:"))
                missing = [i for i in puts if present.get(f"{prefix}:{i}".encode())
                           != f"v:{i}".encode()]
                assert not missing, f"{prefix}: acknowledged puts lost: {sorted(missing)[:5]}"
                for i in range(max(puts, default=0) + 1):
                    parts = [f"{prefix}:t{i}:{j}".encode() in present for j in range(3)]
                    assert all(parts) or not any(parts), f"{prefix}: txn {i} half applied"
                    if i in txns:
                        assert all(parts), f"{prefix}: acknowledged txn {i} lost"
