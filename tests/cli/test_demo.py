"""``sochdb demo``: every step runs and says what it does, quickly, on a fresh database that
is kept in DIR (or removed when the demo made its own temporary directory)."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time

from sochdb import Database
from sochdb.cli.demo import STEPS, run_demo


def test_the_tour_in_a_directory(tmp_path):
    out = io.StringIO()
    start = time.perf_counter()
    assert run_demo(str(tmp_path), out=out) == 0
    elapsed = time.perf_counter() - start
    text = out.getvalue()
    titles = re.findall(r"^\[(\d)/(\d)\] (.+)$", text, re.M)
    assert [t[2] for t in titles] == ["Key-value", "Path keys and prefix scans", "SQL",
                                      "Transactions", "Vectors", "TOON", "Checkpoint"]
    assert all(int(t[1]) == STEPS for t in titles)
    for expected in (
        "b'{\"name\":\"Alice\",\"age\":30}'",                       # KV get
        "tenants/acme/users/2 = {\"name\":\"Bob\"}",                 # prefix scan
        "│ Paris   │      3 │  54.75 │",                             # join + group by
        "committed together: 5 orders, orders:last = 14",          # SQL + KV commit
        "still 5 orders",                                           # rollback
        "second commit -> TransactionConflictError",                # first committer wins
        "│ cats    │   0.0061 │",                                   # SQL vector distance
        "id 42, distance 0.0000",                                   # HNSW index query
        "users[2]{id,name,city}:1,Alice,Paris;2,Bob,Berlin",        # TOON
        "result[3]{name,city}:Alice,Paris;Bob,Berlin;Carol,Paris",
        "covers LSN ",                                              # checkpoint
    ):
        assert expected in text, expected
    assert f"sochdb {tmp_path / 'demo_db'}" in text
    assert elapsed < 5.0, f"the demo took {elapsed:.1f} s"
    with Database.open(str(tmp_path / "demo_db")) as db:  # the database is kept
        assert db.execute_sql("SELECT count(*) FROM orders").scalar() == 5
    # a second run replaces the old demo database instead of failing on it
    assert run_demo(str(tmp_path), out=io.StringIO()) == 0


def test_the_default_temporary_directory_is_removed():
    out = io.StringIO()
    assert run_demo(out=out) == 0
    path = re.search(r"fresh database in (\S+)", out.getvalue()).group(1)
    assert not os.path.exists(os.path.dirname(path))


def test_the_command():
    r = subprocess.run([sys.executable, "-m", "sochdb.cli.main", "demo"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0 and r.stderr == ""
    assert "[7/7] Checkpoint" in r.stdout and "Done in " in r.stdout
