"""A hypothesis state machine: the KV store behaves as a dict across every operation."""

from __future__ import annotations

import shutil
import tempfile

import hypothesis.strategies as st
from hypothesis import settings
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, precondition, rule

from sochdb import Database, TransactionConflictError
from sochdb.kv import store

KEYS = st.binary(min_size=0, max_size=4).map(lambda b: b"k" + b)
VALUES = st.binary(min_size=0, max_size=8)


class KVMachine(RuleBasedStateMachine):
    txns = Bundle("txns")

    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.mkdtemp()
        self.path = self.dir + "/db"
        self.db = Database.open(self.path, config={"memtable_size_bytes": 1 << 14})
        self.model: dict[bytes, bytes] = {}
        self.open_txns: list = []
        self.written_after: dict[int, set[bytes]] = {}

    def _written(self, keys) -> None:
        for s in self.written_after.values():
            s.update(keys)

    def teardown(self) -> None:
        for t, _, _ in self.open_txns:
            if t.status == "active":
                t.abort()
        self.db.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    @rule(key=KEYS, value=VALUES)
    def put(self, key, value):
        self.db.put(key, value)
        self.model[key] = value
        self._written([key])

    @rule(key=KEYS)
    def delete(self, key):
        self.db.delete(key)
        self.model.pop(key, None)
        self._written([key])

    @rule(data=st.dictionaries(KEYS, st.one_of(st.none(), VALUES), max_size=40),
          big=st.booleans())
    def transaction(self, data, big):
        if big:  # exercise the sorted-run path of large commits
            old = store.RUN_THRESHOLD
            store.RUN_THRESHOLD = 1
        try:
            with self.db.transaction() as txn:
                for k, v in data.items():
                    if v is None:
                        txn.delete(k)
                    else:
                        txn.put(k, v)
        finally:
            if big:
                store.RUN_THRESHOLD = old
        self._written(data)
        for k, v in data.items():
            if v is None:
                self.model.pop(k, None)
            else:
                self.model[k] = v

    @rule(key=KEYS, value=VALUES)
    def begin(self, key, value):
        txn = self.db.transaction()
        txn.put(key, value)
        self.open_txns.append((txn, dict(self.model), (key, value)))
        self.written_after[id(txn)] = set()

    @precondition(lambda self: self.open_txns)
    @rule(commit=st.booleans())
    def finish(self, commit):
        txn, snapshot, (key, value) = self.open_txns.pop(0)
        # The snapshot still reads as it was at begin (plus its own write).
        expect = dict(snapshot)
        expect[key] = value
        assert dict(txn.scan_prefix(b"")) == expect
        if not commit:
            txn.abort()
            return
        written_since = self.written_after.pop(id(txn))
        try:
            txn.commit()
        except TransactionConflictError:
            return
        # First committer wins: a key written by a later commit must have failed above.
        assert key not in written_since, "a lost update was allowed"
        self.model[key] = value
        self._written([key])

    @rule(start=KEYS, end=KEYS)
    def scan(self, start, end):
        got = list(self.db.scan(start, end))
        want = sorted((k, v) for k, v in self.model.items() if start <= k < end)
        assert got == want

    @rule(prefix=st.binary(max_size=2))
    def scan_prefix(self, prefix):
        got = list(self.db.scan_prefix(prefix))
        assert got == sorted((k, v) for k, v in self.model.items() if k.startswith(prefix))

    @rule()
    def checkpoint(self):
        self.db.checkpoint()

    @precondition(lambda self: not self.open_txns)
    @rule()
    def reopen(self):
        self.db.close()
        self.db = Database.open(self.path, config={"memtable_size_bytes": 1 << 14})

    @invariant()
    def gets_match(self):
        for k, v in list(self.model.items())[:20]:
            assert self.db.get(k) == v


KVMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)
TestKVMachine = KVMachine.TestCase
