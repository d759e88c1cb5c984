"""Durability under kill -9: every acknowledged commit survives, none is half applied."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

from sochdb import Database

WRITER = os.path.join(os.path.dirname(__file__), "crash_writer.py")


def test_acknowledged_commits_survive_sigkill(db_path):
    rng = random.Random(1234)
    acknowledged: set[int] = set()
    next_start = 0
    for _round in range(20):
        proc = subprocess.Popen([sys.executable, WRITER, db_path, str(next_start)],
                                stdout=subprocess.PIPE, text=True)
        # Wait for the writer to get going, then kill it at a random moment.
        first = proc.stdout.readline()
        assert first, "writer did not start"
        acknowledged.add(int(first))
        time.sleep(rng.uniform(0.0, 0.25))
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate()
        acknowledged.update(int(x) for x in out.split())
        proc.wait()
        with Database.open(db_path) as db:
            present: dict[int, int] = {}
            for key, value in db.scan_prefix(b"txn:"):
                n = int(key.split(b":")[1])
                assert int(value) == n
                present[n] = present.get(n, 0) + 1
            missing = acknowledged - present.keys()
            assert not missing, f"acknowledged commits lost: {sorted(missing)[:5]}"
            partial = {n for n, c in present.items() if c != 4}
            assert not partial, f"partly applied transactions: {sorted(partial)[:5]}"
            last = int(db.get(b"last"))
            assert last == max(present)
            next_start = max(present) + 1
    assert len(acknowledged) > 20
