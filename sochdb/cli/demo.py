"""``sochdb demo``: a short narrated tour of the features on a fresh database.

Each step prints what it does, the call or SQL it runs and what came back: key-value and path
keys, SQL (create, insert, join, group by), transactions (atomic commit, rollback, a write
conflict), vectors (SQL distance and an HNSW index file through ``sochdb.bulk``), TOON, and a
checkpoint. Imports sochdb and the shell's table renderer.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from typing import Any, TextIO

from sochdb.cli.render import format_table

STEPS = 7


class _Tour:
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.n = 0

    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")

    def step(self, title: str, what: str) -> None:
        self.n += 1
        self.say(f"\n[{self.n}/{STEPS}] {title}")
        self.say(f"      {what}")

    def code(self, text: str) -> None:
        for line in text.strip("\n").split("\n"):
            self.say(f"  >>> {line}")

    def sql(self, db: Any, text: str, show: bool = True) -> Any:
        self.say(f"  sql> {text}")
        result = db.execute_sql(text)
        if not show:
            return result
        if result.columns:
            for line in format_table(result.columns, result.types, result.arrow()):
                self.say("  " + line)
        elif result.message:
            self.say(f"  {result.message}")
        return result


def run_demo(directory: str | None = None, out: TextIO | None = None) -> int:
    """Run the tour in ``directory`` (a fresh temporary one, removed afterwards, when
    omitted); return 0. An existing ``demo_db`` inside ``directory`` is replaced."""
    out = out or sys.stdout
    own = directory is None
    path = tempfile.mkdtemp(prefix="sochdb-demo-") if own else directory
    db_path = os.path.join(path, "demo_db")
    if os.path.exists(db_path):
        shutil.rmtree(db_path)
    os.makedirs(path, exist_ok=True)
    started = time.perf_counter()
    tour = _Tour(out)
    from sochdb import Database
    try:
        with Database.open(db_path) as db:
            tour.say(f"sochdb demo: a tour on a fresh database in {db_path}")
            _kv(tour, db)
            _paths(tour, db)
            _sql(tour, db)
            _transactions(tour, db)
            _vectors(tour, db, path)
            _toon(tour, db)
            _checkpoint(tour, db)
        tour.say(f"\nDone in {time.perf_counter() - started:.1f} s.")
        if own:
            tour.say("Keep the database with `sochdb demo DIR`, then explore it with "
                     "`sochdb DIR/demo_db` (type .help).")
        else:
            tour.say(f"Explore it in the shell: sochdb {db_path}   (type .help)")
    finally:
        if own:
            shutil.rmtree(path, ignore_errors=True)
    return 0


def _kv(tour: _Tour, db: Any) -> None:
    tour.step("Key-value", "Keys and values are bytes; every put is a durable commit.")
    tour.code('db.put(b"user:123", b\'{"name":"Alice","age":30}\')')
    db.put(b"user:123", b'{"name":"Alice","age":30}')
    tour.code('db.get(b"user:123")')
    tour.say(f"  {db.get(b'user:123')!r}")
    tour.code('db.get(b"user:999")   # a missing key')
    tour.say(f"  {db.get(b'user:999')!r}")


def _paths(tour: _Tour, db: Any) -> None:
    tour.step("Path keys and prefix scans",
              "Slash-separated paths keep related keys together, e.g. one prefix per tenant.")
    for p, v in (("tenants/acme/users/1", b'{"name":"Alice"}'),
                 ("tenants/acme/users/2", b'{"name":"Bob"}'),
                 ("tenants/globex/users/1", b'{"name":"Charlie"}')):
        tour.code(f'db.put_path("{p}", {v!r})')
        db.put_path(p, v)
    tour.code('for key, value in db.scan_prefix(b"tenants/acme/"): ...')
    for key, value in db.scan_prefix(b"tenants/acme/"):
        tour.say(f"  {key.decode()} = {value.decode()}")


def _sql(tour: _Tour, db: Any) -> None:
    tour.step("SQL", "Tables are columnar (Arrow); queries run vectorized.")
    tour.sql(db, "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, city TEXT)")
    tour.sql(db, "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER, "
                 "amount DOUBLE)")
    tour.sql(db, "INSERT INTO users VALUES (1, 'Alice', 'Paris'), (2, 'Bob', 'Berlin'), "
                 "(3, 'Carol', 'Paris')")
    tour.sql(db, "INSERT INTO orders VALUES (10, 1, 25.0), (11, 1, 17.5), (12, 2, 40.0), "
                 "(13, 3, 12.25)")
    tour.sql(db, "SELECT u.city, count(*) AS orders, sum(o.amount) AS total FROM users u "
                 "JOIN orders o ON o.user_id = u.id GROUP BY u.city ORDER BY total DESC")


def _transactions(tour: _Tour, db: Any) -> None:
    from sochdb.errors import TransactionConflictError
    tour.step("Transactions",
              "Snapshot isolation; SQL and KV writes in one transaction commit together.")
    tour.code('with db.transaction() as txn:\n'
              '    txn.execute("INSERT INTO orders VALUES (14, 2, 60.0)")\n'
              '    txn.put(b"orders:last", b"14")')
    with db.transaction() as txn:
        txn.execute("INSERT INTO orders VALUES (14, 2, 60.0)")
        txn.put(b"orders:last", b"14")
    count = db.execute_sql("SELECT count(*) FROM orders").scalar()
    tour.say(f"  committed together: {count} orders, orders:last = "
             f"{db.get(b'orders:last').decode()}")
    tour.say("  A rolled-back transaction leaves nothing behind:")
    session = db.session()
    for text in ("BEGIN", "DELETE FROM orders", "ROLLBACK"):
        tour.say(f"  sql> {text}")
        session.execute(text)
    count = db.execute_sql("SELECT count(*) FROM orders").scalar()
    tour.say(f"  still {count} orders")
    tour.say("  Two transactions write the same key: the first to commit wins.")
    a, b = db.transaction(), db.transaction()
    a.put(b"counter", b"1")
    b.put(b"counter", b"2")
    a.commit()
    try:
        b.commit()
        tour.say("  (the second commit went through)")
    except TransactionConflictError as e:
        tour.say(f"  second commit -> TransactionConflictError: {e}")


def _vectors(tour: _Tour, db: Any, directory: str) -> None:
    tour.step("Vectors", "Fixed-size float arrays in SQL, and HNSW index files for "
                         "nearest-neighbour search.")
    tour.sql(db, "CREATE TABLE docs (id INTEGER PRIMARY KEY, title TEXT, embedding FLOAT[3])")
    tour.sql(db, "INSERT INTO docs VALUES (1, 'cats', [0.9, 0.1, 0.0]), "
                 "(2, 'kittens', [0.8, 0.2, 0.1]), (3, 'engines', [0.0, 0.1, 0.9])")
    tour.sql(db, "SELECT title, round(array_cosine_distance(embedding, "
                 "[1.0, 0.0, 0.0]::FLOAT[3]), 4) AS distance FROM docs ORDER BY distance "
                 "LIMIT 2")
    try:
        import numpy as np
        from sochdb.bulk import bulk_build_index, bulk_query_index
    except ImportError as e:
        tour.say(f"  (skipping the index file: sochdb.bulk is not available: {e})")
        return
    index = os.path.join(directory, "demo.hnsw")
    vectors = np.random.default_rng(7).standard_normal((1000, 32)).astype(np.float32)
    tour.code("vectors = rng.standard_normal((1000, 32)).astype(np.float32)\n"
              f"bulk_build_index(vectors, {os.path.basename(index)!r})")
    stats = bulk_build_index(vectors, index, progress=False, threads=1)
    for line in str(stats).split("\n"):
        tour.say(f"  {line}")
    tour.code("bulk_query_index(index, vectors[42], k=3)")
    for n in bulk_query_index(index, vectors[42], k=3):
        tour.say(f"  id {n.id}, distance {n.distance:.4f}")


def _toon(tour: _Tour, db: Any) -> None:
    from sochdb import Database
    tour.step("TOON", "A compact text form of rows for LLM prompts: field names once, "
                      "then values.")
    records = [{"id": 1, "name": "Alice", "city": "Paris"},
               {"id": 2, "name": "Bob", "city": "Berlin"}]
    tour.code("Database.to_toon('users', records)")
    toon = Database.to_toon("users", records)
    tour.say(f"  {toon}")
    as_json = json.dumps(records)
    tour.say(f"  {len(toon)} characters, against {len(as_json)} as JSON")
    tour.code('db.execute_sql("SELECT name, city FROM users ORDER BY id").toon()')
    tour.say("  " + db.execute_sql("SELECT name, city FROM users ORDER BY id").toon())


def _checkpoint(tour: _Tour, db: Any) -> None:
    tour.step("Checkpoint", "Writes compressed Arrow segment files and trims the "
                            "write-ahead log.")
    tour.code("db.checkpoint()")
    tour.say(f"  covers LSN {db.checkpoint()}")
    s = db.stats()
    tour.say(f"  {s['tables']} tables, {s['keys_count']} keys, "
             f"{s['transactions_committed']} commits, {s['bytes_written']:,} bytes written")
