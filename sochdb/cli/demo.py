"""``sochdb demo``: a short tour of the features on a fresh database, narrated step by step."""

from __future__ import annotations

import os
import shutil
import tempfile

from sochdb import Database


def _step(title: str) -> None:
    print(f"\n== {title}")


def run_demo(directory: str | None = None) -> int:
    """Run the tour in ``directory`` (a fresh temporary one when omitted); return 0."""
    own = directory is None
    path = tempfile.mkdtemp(prefix="sochdb-demo-") if own else directory
    db_path = os.path.join(path, "demo_db")
    if os.path.exists(db_path):
        shutil.rmtree(db_path)
    try:
        with Database.open(db_path) as db:
            print(f"Opened a new database in {db_path}")
            _step("Key-value: put, get, delete (keys and values are bytes)")
            db.put(b"user:123", b'{"name":"Alice","age":30}')
            print("get(b'user:123') ->", db.get(b"user:123").decode())

            _step("Paths and prefix scans (multi-tenant isolation)")
            db.put_path("tenants/acme/users/1", b'{"name":"Alice"}')
            db.put_path("tenants/acme/users/2", b'{"name":"Bob"}')
            db.put_path("tenants/globex/users/1", b'{"name":"Charlie"}')
            for key, value in db.scan_prefix(b"tenants/acme/"):
                print(f"  {key.decode()}: {value.decode()}")

            _step("Transactions: atomic, snapshot-isolated")
            with db.transaction() as txn:
                txn.put(b"account:1:balance", b"1000")
                txn.put(b"account:2:balance", b"500")
            print("balances:", db.get(b"account:1:balance"), db.get(b"account:2:balance"))

            _step("Checkpoint: segments on disk, WAL trimmed")
            print("checkpoint LSN:", db.checkpoint())
            stats = db.stats()
            print(f"keys: {stats['keys_count']}, commits: {stats['transactions_committed']}, "
                  f"bytes written: {stats['bytes_written']:,}")
        print("\nDone.")
    finally:
        if own:
            shutil.rmtree(path, ignore_errors=True)
    return 0
