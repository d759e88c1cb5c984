"""The hidden ordered table ``__kv(key BINARY, value BINARY)``: a memtable over sorted runs.

Small commits go to a mutable memtable whose entries keep a chain of versions by LSN; a large
commit becomes an immutable sorted run of its own (the memtable is frozen into a run beneath it
first, so newer always shadows older). A snapshot captures the current (runs, memtable) pair:
runs never change and memtable versions newer than the snapshot are skipped, so readers need
no lock and see a stable view. Point reads use dict lookups and ``bisect``; range scans slice
sorted key lists and merge sources only where they overlap. Imports nothing from the engine.
"""

from __future__ import annotations

import heapq
import threading
from bisect import bisect_left
from itertools import repeat
from typing import Iterable, Iterator

import pyarrow as pa

#: Commits with at least this many KV writes become a sorted run instead of memtable entries.
RUN_THRESHOLD = 2048
#: More runs than this are merged at the next checkpoint (older snapshots keep the old ones).
MAX_RUNS = 4

# A memtable entry: (lsn, value or None for a tombstone, older entry or None).
Entry = tuple


class MemTable:
    __slots__ = ("data", "_sorted", "_new", "nbytes", "max_lsn", "_lock")

    def __init__(self) -> None:
        self.data: dict[bytes, Entry] = {}
        self._sorted: list[bytes] = []
        self._new: list[bytes] = []
        self.nbytes = 0
        self.max_lsn = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.data)

    def apply(self, keys: list[bytes], values: list[bytes | None], lsn: int,
              keep_versions: bool) -> None:
        """Install one commit's writes; keep older versions only if a snapshot may need them."""
        data = self.data
        with self._lock:
            for k, v in zip(keys, values):
                old = data.get(k)
                if old is None:
                    self._new.append(k)
                data[k] = (lsn, v, old if keep_versions else None)
                self.nbytes += len(k) + (len(v) if v is not None else 0) + 64
            self.max_lsn = lsn

    def sorted_keys(self) -> list[bytes]:
        """All keys in order; a new list whenever keys were added, so readers may keep it."""
        if self._new:
            with self._lock:
                if self._new:
                    # Timsort merges the sorted prefix and the sorted tail in linear time.
                    self._new.sort()
                    self._sorted = sorted(self._sorted + self._new)
                    self._new = []
        return self._sorted

    def lookup(self, key: bytes, snap: int) -> tuple[bool, bytes | None]:
        e = self.data.get(key)
        while e is not None and e[0] > snap:
            e = e[2]
        if e is None:
            return False, None
        return True, e[1]

    def source(self, lo_key: bytes | None, hi_key: bytes | None, snap: int,
               ) -> tuple[list[bytes], list[bytes | None]]:
        """Keys in [lo, hi) with their value visible at ``snap`` (None = deleted)."""
        ks = self.sorted_keys()
        lo = 0 if lo_key is None else bisect_left(ks, lo_key)
        hi = len(ks) if hi_key is None else bisect_left(ks, hi_key)
        if lo >= hi:
            return [], []
        keys = ks[lo:hi]
        entries = list(map(self.data.__getitem__, keys))
        if self.max_lsn <= snap:
            return keys, [e[1] for e in entries]
        out_k, out_v = [], []
        for k, e in zip(keys, entries):
            while e is not None and e[0] > snap:
                e = e[2]
            if e is not None:
                out_k.append(k)
                out_v.append(e[1])
        return out_k, out_v

    def latest_lsn(self, key: bytes) -> int:
        e = self.data.get(key)
        return -1 if e is None else e[0]

    def flatten(self) -> "Run | None":
        """The newest version of every key as a sorted run (tombstones kept)."""
        if not self.data:
            return None
        keys = self.sorted_keys()
        data = self.data
        values = [data[k][1] for k in keys]
        return Run(keys, values, self.max_lsn)


class Run:
    """An immutable sorted run; ``values[i] is None`` marks a tombstone."""

    __slots__ = ("keys", "values", "lsn", "has_tombstones", "segment", "nbytes")

    def __init__(self, keys: list[bytes], values: list[bytes | None], lsn: int,
                 segment: object | None = None) -> None:
        self.keys = keys
        self.values = values
        self.lsn = lsn
        self.has_tombstones = None in values
        self.segment = segment
        self.nbytes = 0

    def __len__(self) -> int:
        return len(self.keys)

    @classmethod
    def from_writes(cls, writes: dict[bytes, bytes | None], lsn: int) -> "Run":
        keys = sorted(writes)
        return cls(keys, list(map(writes.__getitem__, keys)), lsn)

    @classmethod
    def from_arrow(cls, table: pa.Table, lsn: int, segment: object) -> "Run":
        return cls(table.column("key").to_pylist(), table.column("value").to_pylist(), lsn,
                   segment)

    def to_arrow(self) -> pa.Table:
        return pa.table({"key": pa.array(self.keys, pa.binary()),
                         "value": pa.array(self.values, pa.binary())})

    def lookup(self, key: bytes) -> tuple[bool, bytes | None]:
        keys = self.keys
        i = bisect_left(keys, key)
        if i < len(keys) and keys[i] == key:
            return True, self.values[i]
        return False, None

    def source(self, lo_key: bytes | None, hi_key: bytes | None,
               ) -> tuple[list[bytes], list[bytes | None]]:
        ks = self.keys
        lo = 0 if lo_key is None else bisect_left(ks, lo_key)
        hi = len(ks) if hi_key is None else bisect_left(ks, hi_key)
        if lo >= hi:
            return [], []
        if lo == 0 and hi == len(ks):
            return ks, self.values
        return ks[lo:hi], self.values[lo:hi]


def merge_runs(runs: Iterable[Run], lsn: int, bottom: bool) -> Run:
    """Merge runs given newest first; at the bottom of the stack tombstones are dropped."""
    merged: dict[bytes, bytes | None] = {}
    for run in reversed(list(runs)):
        merged.update(zip(run.keys, run.values))
    if bottom:
        merged = {k: v for k, v in merged.items() if v is not None}
    return Run.from_writes(merged, lsn)


class KVState:
    """An immutable pair (runs newest first, memtable); commits to the memtable mutate it."""

    __slots__ = ("runs", "mem")

    def __init__(self, runs: tuple[Run, ...] = (), mem: MemTable | None = None) -> None:
        self.runs = runs
        self.mem = mem if mem is not None else MemTable()

    def with_run(self, run: Run) -> "KVState":
        frozen = self.mem.flatten()
        runs = (run, frozen, *self.runs) if frozen is not None else (run, *self.runs)
        return KVState(runs, MemTable())

    def latest_lsn(self, key: bytes) -> int:
        """The LSN of the newest committed write of ``key`` (an upper bound for runs)."""
        lsn = self.mem.latest_lsn(key)
        if lsn >= 0:
            return lsn
        for run in self.runs:
            if run.lookup(key)[0]:
                return run.lsn
        return -1

    def all_runs_since(self, snap: int) -> list[Run]:
        return [r for r in self.runs if r.lsn > snap]


class KVSnapshot:
    """Reads of the ordered table as of one LSN."""

    __slots__ = ("state", "snap", "stats")

    def __init__(self, state: KVState, snap: int, stats: dict | None = None) -> None:
        self.state = state
        self.snap = snap
        self.stats = stats

    def lookup(self, key: bytes) -> tuple[bool, bytes | None]:
        found, value = self.state.mem.lookup(key, self.snap)
        if found:
            return True, value
        for run in self.state.runs:
            if run.lsn > self.snap:
                continue
            found, value = run.lookup(key)
            if found:
                return True, value
        return False, None

    def sources(self, start: bytes | None, end: bytes | None,
                ) -> list[tuple[list[bytes], list[bytes | None]]]:
        out = [self.state.mem.source(start, end, self.snap)]
        out.extend(r.source(start, end) for r in self.state.runs if r.lsn <= self.snap)
        return out


def merge_sources(sources: list[tuple[list[bytes], list[bytes | None]]],
                  ) -> Iterator[tuple[bytes, bytes]]:
    """Merge sorted (keys, values) sources, earlier ones shadowing later; skip tombstones."""
    live = [s for s in sources if s[0]]
    if not live:
        return iter(())
    if len(live) == 1:
        keys, values = live[0]
        if None in values:
            return ((k, v) for k, v in zip(keys, values) if v is not None)
        return zip(keys, values)  # type: ignore[arg-type]
    return _heap_merge(live)


def _heap_merge(live: list[tuple[list[bytes], list[bytes | None]]]) -> Iterator[tuple[bytes, bytes]]:
    iters = [zip(k, repeat(p), v) for p, (k, v) in enumerate(live)]
    last = None
    for key, _prio, value in heapq.merge(*iters):
        if key == last:
            continue
        last = key
        if value is not None:
            yield key, value


def prefix_end(prefix: bytes) -> bytes | None:
    """The smallest key greater than every key starting with ``prefix`` (None: unbounded)."""
    p = bytearray(prefix)
    while p:
        if p[-1] < 0xFF:
            p[-1] += 1
            return bytes(p)
        p.pop()
    return None
