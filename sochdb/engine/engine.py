"""The storage engine's only entry point: open, begin, commit, checkpoint, close.

One commit path serves every write (invariant 1): a transaction's KV writes, row inserts and
deletes and catalog changes become a single WAL record under the commit lock, and the same
``_apply`` function installs them at commit and at recovery, so replay rebuilds exactly what
was acknowledged. Imports the engine's modules and the KV store; never the SQL layer.
"""

from __future__ import annotations

import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from sochdb.config import Config
from sochdb.engine import manifest as manifest_io
from sochdb.engine import records, wal, zonemap
from sochdb.engine.catalog import Catalog, TableDef, ViewDef
from sochdb.engine.fileio import DirectoryLock, FileSystem
from sochdb.engine.segment import SegmentRef, read_segment, segment_entry, write_segment
from sochdb.engine.table import (MAX_LSN, ROW_GROUP_ROWS, ROWID, RowGroup, TableStore,
                                 project)
from sochdb.engine.transaction import TxnState
from sochdb.errors import (ConstraintError, CorruptionError, DatabaseError, OperationalError,
                           ProgrammingError, ReadOnlyError, TransactionConflictError)
from sochdb.kv.store import MAX_RUNS, RUN_THRESHOLD, KVState, Run, merge_runs

MEMORY = ":memory:"
#: A commit that inserts at least this many rows into one table writes them as segment files
#: before its WAL record, which then names those files instead of holding the rows: a bulk
#: load is written (compressed) once rather than to the WAL and again at the checkpoint.
BULK_ROWS = 4 * ROW_GROUP_ROWS


@dataclass
class Counters:
    """Runtime statistics; plain ints updated in place on the hot paths."""

    bytes_written: int = 0
    bytes_read: int = 0
    transactions_committed: int = 0
    transactions_aborted: int = 0
    cache_hits: int = 0
    cache_misses: int = 0
    checkpoints: int = 0
    conflicts: int = 0


class Engine:
    """Owns the files of one database directory and its in-memory versioned state."""

    def __init__(self, path: str, config: Config, fs: FileSystem | None = None) -> None:
        self.memory = path == MEMORY
        self.path = path if self.memory else os.path.abspath(path)
        self.config = config
        self.fs = fs or FileSystem()
        self.counters = Counters()
        self._lock = threading.RLock()
        self.last_lsn = 0
        self.checkpoint_lsn = 0
        self.next_rowid = 0
        self.catalog = Catalog()
        self.stores: dict[int, TableStore] = {}
        self.kv = KVState()
        self.active: dict[int, int] = {}
        self._txn_ids = itertools.count(1)
        self._next_segment = 1
        self._wal: wal.WalWriter | None = None
        self._dir_lock: DirectoryLock | None = None
        self.closed = True
        self.extra: dict[str, Any] = {}  # persisted side data of upper layers (plugins)
        self.listeners: list[Any] = []  # called with (lsn, txn) after each commit
        self._checkpoint_hooks: list[Any] = []
        self.checkpoint_error: OperationalError | None = None  # last failed automatic one
        # table id -> LSN of the last commit that changed its rows or definition, for the
        # read-set validation of serializable transactions
        self.table_lsn: dict[int, int] = {}

    # -- paths ---------------------------------------------------------------------------

    @property
    def durable(self) -> bool:
        return not self.memory

    @property
    def segment_dir(self) -> str:
        return os.path.join(self.path, "segments")

    @property
    def wal_dir(self) -> str:
        return os.path.join(self.path, "wal")

    # -- open / recovery -----------------------------------------------------------------

    def open(self) -> "Engine":
        if self.memory:
            self.closed = False
            return self
        fs = self.fs
        if not os.path.isdir(self.path):
            if os.path.exists(self.path):
                raise OperationalError(f"database path {self.path!r} exists and is not a "
                                       f"directory")
            if not self.config.create_if_missing or self.config.read_only:
                why = "read_only" if self.config.read_only else "create_if_missing is False"
                raise OperationalError(f"database {self.path!r} does not exist and "
                                       f"{why}")
            fs.makedirs(self.path)
        self._dir_lock = DirectoryLock(os.path.join(self.path, "LOCK"))
        self._dir_lock.acquire(self.path, shared=self.config.read_only)
        try:
            if not self.config.read_only:
                fs.makedirs(self.segment_dir)
                fs.makedirs(self.wal_dir)
            self._recover()
        except BaseException:
            self._dir_lock.release()
            raise
        self.closed = False
        return self

    def _recover(self) -> None:
        fs = self.fs
        man = manifest_io.load(fs, self.path)
        if man is None:
            man = manifest_io.Manifest()
        try:
            self.catalog = Catalog.from_json(man.catalog) if man.catalog else Catalog()
        except (KeyError, TypeError, ValueError, AttributeError, pa.ArrowException) as e:
            raise CorruptionError(f"manifest {os.path.join(self.path, manifest_io.NAME)} "
                                  f"holds an unreadable catalog: {type(e).__name__}: {e}",
                                  path=self.path) from e
        self.checkpoint_lsn = self.last_lsn = man.checkpoint_lsn
        self.next_rowid = man.next_rowid
        self._next_segment = man.next_segment
        self.extra = dict(man.extra)
        referenced = set()
        for tid_text, refs in man.tables.items():
            store = TableStore(int(tid_text))
            types = self._types(int(tid_text))
            for r in refs:
                ref = SegmentRef.from_json(r)
                referenced.add(ref.name)
                store.add_segment_group(ref, r["first_rowid"], self._loader(ref),
                                        zonemap.from_json(r.get("stats"), types))
            self.stores[store.table_id] = store
        for tdef in self.catalog.tables.values():
            self.stores.setdefault(tdef.id, TableStore(tdef.id))
        runs = []
        for r in man.kv:
            ref = SegmentRef.from_json(r)
            referenced.add(ref.name)
            runs.append(Run.from_arrow(self._loader(ref)(), r["lsn"], ref))
        self.kv = KVState(tuple(runs))
        read_only = self.config.read_only
        if not read_only:
            for seq, path in wal.list_wal_files(fs, self.wal_dir):
                if seq < man.wal_seq:
                    fs.remove(path)
        replayed = [] if read_only and not os.path.isdir(self.wal_dir) else \
            wal.replay(fs, self.wal_dir, cut_torn_tail=not read_only)
        for rec in replayed:
            self.counters.bytes_read += len(rec.payload)
            if rec.lsn <= self.last_lsn:
                continue
            where = f"{rec.path} at offset {rec.offset}"
            ops = records.decode_payload(rec.payload, where)
            try:
                self._apply_decoded(rec.lsn, ops)
            except (KeyError, ValueError, TypeError, IndexError, AttributeError,
                    pa.ArrowException) as e:
                raise CorruptionError(f"commit record in {where} cannot be applied: "
                                      f"{type(e).__name__}: {e}", path=rec.path,
                                      offset=rec.offset) from e
            self.last_lsn = rec.lsn
        if read_only:
            return
        referenced.update(g.segment.name for store in self.stores.values()
                          for g in store.groups if g.segment is not None)
        for name in fs.listdir(self.segment_dir):
            if name not in referenced:  # written by a checkpoint or load that never published
                fs.remove(os.path.join(self.segment_dir, name))
        files = wal.list_wal_files(fs, self.wal_dir)
        seq = files[-1][0] if files else man.wal_seq
        if self.config.wal_enabled:
            self._wal = wal.WalWriter(fs, self.wal_dir, seq, self.config.sync_mode)

    def _types(self, tid: int) -> dict[str, pa.DataType]:
        tdef = self.catalog.by_id(tid)
        return {c.field: c.type for c in tdef.columns} if tdef is not None else {}

    def _loader(self, ref: SegmentRef):
        def load(columns: list[str] | None = None) -> pa.Table:
            self.counters.cache_misses += 1
            self.counters.bytes_read += ref.size
            return read_segment(self.fs, self.segment_dir, ref, columns)
        return load

    def _apply_decoded(self, lsn: int, ops: list[tuple[int, Any]]) -> None:
        catalog_ops, kv_keys, kv_values, inserts, deletes, bulk = [], [], [], [], [], []
        for tag, body in ops:
            if tag == records.TAG_CATALOG:
                catalog_ops.append(body)
            elif tag == records.TAG_KV:
                kv_keys, kv_values = body
            elif tag == records.TAG_INSERT:
                tid, table = body
                rids = table.column(ROWID).to_numpy()
                inserts.append((tid, table.drop_columns([ROWID]), rids))
                self.next_rowid = max(self.next_rowid, int(rids.max()) + 1)
            elif tag == records.TAG_DELETE:
                deletes.append(body)
            elif tag == records.TAG_SEGMENTS:
                parts = []
                for r in body["segments"]:
                    ref = SegmentRef.from_json(r)
                    parts.append((ref, r["first_rowid"], self._loader(ref), r.get("stats")))
                    self.next_rowid = max(self.next_rowid, r["first_rowid"] + ref.rows)
                    # the manifest's counter predates these files: never reuse their names
                    number = ref.name.rsplit("-", 1)[-1].split(".", 1)[0]
                    if number.isdigit():
                        self._next_segment = max(self._next_segment, int(number) + 1)
                bulk.append((body["table"], parts))
        self._apply(lsn, catalog_ops, kv_keys, kv_values, inserts, deletes, keep_versions=False,
                    bulk=bulk)

    # -- transactions --------------------------------------------------------------------

    def begin(self, register: bool = True, isolation: str | None = None) -> TxnState:
        """Start a transaction at the current LSN; ``isolation`` defaults to the config's."""
        self._check_open()
        level = isolation or self.config.isolation
        if level not in ("snapshot", "serializable"):
            raise ProgrammingError(f"isolation must be 'snapshot' or 'serializable', "
                                   f"not {isolation!r}")
        with self._lock:
            txn = TxnState(self, next(self._txn_ids), self.last_lsn, self.kv, self.catalog,
                           self.stores)
            if register:
                self.active[txn.id] = txn.snap
        if level == "serializable":
            txn.make_serializable()
        return txn

    def end(self, txn: TxnState, status: str) -> None:
        txn.status = status
        self.active.pop(txn.id, None)
        if status == "aborted":
            self.counters.transactions_aborted += 1

    def commit(self, txn: TxnState) -> int:
        """Make ``txn`` durable and visible; return its LSN (the snapshot LSN if read-only)."""
        txn.check_open()
        self._check_open()
        if txn.pending:
            txn.flush()
        if not txn.has_writes:
            self.end(txn, "committed")
            return txn.snap
        if self.config.read_only:
            self.end(txn, "aborted")
            raise self._read_only_error()
        with self._lock:
            try:
                if self.last_lsn != txn.snap:
                    self._check_conflicts(txn)
                lsn = self.last_lsn + 1
                catalog_ops = txn.catalog_ops
                kv_keys = list(txn.kv_writes)
                kv_values = list(txn.kv_writes.values())
                inserts, deletes = self._collect_rows(txn)
                bulk: list = []
                if self._wal is not None:
                    if any(d.num_rows >= BULK_ROWS for _, d, _ in inserts):
                        inserts, bulk = self._write_bulk(inserts, txn.catalog)
                    payload = self._encode(catalog_ops, kv_keys, kv_values, inserts, deletes,
                                           bulk)
                    self.counters.bytes_written += self._wal.append(lsn, payload)
            except BaseException:
                self.end(txn, "aborted")
                raise
            self.active.pop(txn.id, None)
            self._apply(lsn, catalog_ops, kv_keys, kv_values, inserts, deletes,
                        keep_versions=bool(self.active), kv_dict=txn.kv_writes, bulk=bulk)
            last = [int(r[-1]) for _, _, r in inserts] + \
                [first + ref.rows - 1 for _, parts in bulk for ref, first, _, _ in parts]
            if last:
                self.next_rowid = max(self.next_rowid, max(last) + 1)
            self.last_lsn = lsn
            self.end(txn, "committed")
            self.counters.transactions_committed += 1
        for listener in self.listeners:
            listener(lsn, txn)
        self._maybe_checkpoint()
        return lsn

    def commit_kv(self, keys: list[bytes], values: list[bytes | None]) -> int:
        """Autocommit KV writes: the commit path without a transaction object."""
        self._check_open()
        if self.config.read_only:
            raise self._read_only_error()
        with self._lock:
            lsn = self.last_lsn + 1
            if self._wal is not None:
                payload = records.encode_payload(
                    [(records.TAG_KV, records.encode_kv(keys, values))])
                self.counters.bytes_written += self._wal.append(lsn, payload)
            if len(keys) >= RUN_THRESHOLD:
                self.kv = self.kv.with_run(Run.from_writes(dict(zip(keys, values)), lsn))
            else:
                self.kv.mem.apply(keys, values, lsn, bool(self.active))
            self.last_lsn = lsn
            self.counters.transactions_committed += 1
        if self.listeners:
            for listener in self.listeners:
                listener(lsn, None)
        self._maybe_checkpoint()
        return lsn

    def abort(self, txn: TxnState) -> None:
        txn.check_open()
        self.end(txn, "aborted")

    def _collect_rows(self, txn: TxnState):
        """Final rows of the transaction with real rowids, and its deletes, per table."""
        inserts, deletes = [], []
        next_rowid = self.next_rowid
        for tid, local in txn.tables.items():
            tdef = txn.catalog.by_id(tid)
            if tdef is None:  # the transaction dropped the table again
                continue
            d = local.committed_deletes()
            if len(d):
                deletes.append((tid, d))
            parts = [p for p, _ in local.live_inserts()]
            if not parts:
                continue
            fields = [c.field for c in tdef.columns]
            schema = tdef.physical_schema()
            parts = [project(p, tdef, fields) for p in parts]
            data = parts[0] if len(parts) == 1 else pa.concat_tables(
                [p.cast(schema) if p.schema != schema else p for p in parts])
            if data.schema != schema:
                data = data.cast(schema)
            rids = np.arange(next_rowid, next_rowid + data.num_rows, dtype=np.int64)
            next_rowid += data.num_rows
            inserts.append((tid, data, rids))
        return inserts, deletes

    def _write_bulk(self, inserts, catalog: Catalog):
        """Write the large inserts as segment files, one per row group, synced before the
        WAL record that names them; return the other inserts and, per table, the written
        (segment, first rowid, (rows, rowids)) parts. Files of a commit that then fails are
        removed by the next checkpoint or open."""
        small, jobs = [], []
        for tid, data, rids in inserts:
            if data.num_rows < BULK_ROWS:
                small.append((tid, data, rids))
                continue
            parts = []
            for start in range(0, data.num_rows, ROW_GROUP_ROWS):
                part = data.slice(start, ROW_GROUP_ROWS)
                prids = rids[start:start + part.num_rows]
                parts.append((self._segment_name(f"t{tid}"), part, prids))
            jobs.append((tid, parts))
        sync = self.config.sync_mode != "off"

        def write(job):
            name, part, prids = job
            ref = write_segment(self.fs, self.segment_dir, name,
                                part.append_column(ROWID, pa.array(prids)), sync)
            return ref, zonemap.compute(part)

        flat = [p for _, parts in jobs for p in parts]
        with ThreadPoolExecutor(max_workers=min(len(flat), os.cpu_count() or 1)) as pool:
            refs = iter(list(pool.map(write, flat)))
        if sync:
            self.fs.fsync_dir(self.segment_dir)
        bulk = []
        for tid, parts in jobs:
            out = []
            tdef = catalog.by_id(tid)
            types = {c.field: c.type for c in tdef.columns} if tdef is not None else {}
            for _name, part, prids in parts:
                ref, stats = next(refs)
                self.counters.bytes_written += ref.size
                out.append((ref, int(prids[0]), (part, prids), zonemap.to_json(stats, types)))
            bulk.append((tid, out))
        return small, bulk

    @staticmethod
    def _encode(catalog_ops, kv_keys, kv_values, inserts, deletes, bulk=()) -> bytes:
        ops = [(records.TAG_CATALOG, records.encode_json(op)) for op in catalog_ops]
        for tid, parts in bulk:
            ops.append((records.TAG_SEGMENTS, records.encode_json({"table": tid, "segments": [
                segment_entry(ref, first, stats) for ref, first, _, stats in parts]})))
        if kv_keys:
            ops.append((records.TAG_KV, records.encode_kv(kv_keys, kv_values)))
        for tid, rids in deletes:
            ops.append((records.TAG_DELETE, records.encode_rowids(tid, rids)))
        for tid, data, rids in inserts:
            ops.append((records.TAG_INSERT,
                        records.encode_batch(tid, data.append_column(ROWID, pa.array(rids)))))
        return records.encode_payload(ops)

    def _check_conflicts(self, txn: TxnState) -> None:
        def conflict(what: str) -> TransactionConflictError:
            self.counters.conflicts += 1
            return TransactionConflictError(
                f"transaction {txn.id} conflicts with a transaction committed after it "
                f"started: {what}; retry it")

        if txn.catalog_ops and self.catalog is not txn.base_catalog:
            raise conflict("the schema changed")
        for tid in txn.tables:
            if self.catalog.by_id(tid) is not txn.base_catalog.by_id(tid):
                name = (txn.catalog.by_id(tid) or txn.base_catalog.by_id(tid))
                raise conflict(f"table {name.name if name else tid!r} was altered or dropped")
        state = self.kv
        newer = state.all_runs_since(txn.snap)
        mem = state.mem.data
        keys = txn.kv_writes.keys() if txn.kv_reads is None else \
            itertools.chain(txn.kv_writes.keys(), txn.kv_reads)
        for k in keys:
            e = mem.get(k)
            if e is not None:
                if e[0] > txn.snap:
                    raise conflict(f"key {k!r} was written")
                continue
            for run in newer:
                if run.lookup(k)[0]:
                    raise conflict(f"key {k!r} was written")
        for tid, local in txn.tables.items():
            store = self.stores.get(tid)
            d = local.committed_deletes()
            if store is None or not len(d):
                continue
            located = store.locate(d)
            found = sum(len(i) for _, i, _ in located)
            if found != len(d) or any((g.deleted[p] != MAX_LSN).any() for g, _, p in located):
                tname = txn.catalog.by_id(tid)
                raise conflict(f"a row of {tname.name if tname else tid!r} it updates or "
                               f"deletes was changed")
        self._check_unique_at_commit(txn, conflict)
        if txn.serializable:
            self._check_reads(txn, conflict)

    def _check_reads(self, txn: TxnState, conflict) -> None:
        """Serializable validation: nothing ``txn`` read may have changed since its snapshot.

        Scanned tables must have no newer commit at all; index lookups must match no row
        version created or deleted after the snapshot (which also catches phantoms, since the
        hash index holds every version not yet vacuumed, and vacuum keeps every version a
        running transaction may need); rows fetched by rowid must not be deleted since; KV
        keys and ranges must hold no newer write.
        """
        snap = txn.snap

        def name(tid: int) -> str:
            t = txn.catalog.by_id(tid) or txn.base_catalog.by_id(tid)
            return repr(t.name) if t is not None else f"#{tid}"

        changed = self.table_lsn
        for tid in txn.read_tables:
            if changed.get(tid, 0) > snap:
                raise conflict(f"table {name(tid)} that it read was written")
        for (tid, fields), keys in txn.read_keys.items():
            if changed.get(tid, 0) <= snap or tid in txn.read_tables:
                continue
            store = self.stores.get(tid)
            if store is None:
                raise conflict(f"table {name(tid)} that it read was dropped")
            idx = store.index(fields)
            rids = [r for k in keys for r in idx.get(k)]
            if rids and self._any_changed(store, np.asarray(rids, dtype=np.int64), snap, True):
                raise conflict(f"rows of {name(tid)} that it looked up were written")
        for tid, parts in txn.read_rows.items():
            if changed.get(tid, 0) <= snap or tid in txn.read_tables:
                continue
            store = self.stores.get(tid)
            if store is None:
                raise conflict(f"table {name(tid)} that it read was dropped")
            if self._any_changed(store, np.unique(np.concatenate(parts)), snap, False):
                raise conflict(f"rows of {name(tid)} that it read were changed")
        if txn.kv_ranges:
            state = self.kv
            newer = state.all_runs_since(snap)
            mem = state.mem
            for lo, hi in txn.kv_ranges:
                for run in newer:
                    if run.source(lo, hi)[0]:
                        raise conflict("a key in the range it scanned was written")
                if mem.max_lsn > snap:
                    keys, _ = mem.source(lo, hi, MAX_LSN)
                    if any(mem.latest_lsn(k) > snap for k in keys):
                        raise conflict("a key in the range it scanned was written")

    @staticmethod
    def _any_changed(store: TableStore, rowids: np.ndarray, snap: int, created: bool) -> bool:
        for grp, _idx, pos in store.locate(rowids):
            d = grp.deleted[pos]
            if ((d > snap) & (d != MAX_LSN)).any():
                return True
            if created and (grp.created[pos] > snap).any():
                return True
        return False

    def _check_unique_at_commit(self, txn: TxnState, conflict) -> None:
        from sochdb.engine.table import HashIndex
        for tid, local in txn.tables.items():
            tdef = txn.catalog.by_id(tid)
            store = self.stores.get(tid)
            if tdef is None or store is None or not local.inserts:
                continue
            mine = local.committed_deletes()
            for u in tdef.uniques:
                fields = tuple(tdef.column_by_id(c).field for c in u.columns)
                idx = store.index(fields)
                for data, _ in local.live_inserts():
                    keys, valid = HashIndex.keys_of(project(data, tdef, list(fields)), fields)
                    if valid is not None:
                        keys = [k for k, v in zip(keys, valid.tolist()) if v]
                    if idx.entries.keys().isdisjoint(keys):
                        continue
                    for k in keys:
                        cands = np.asarray(idx.get(k), dtype=np.int64)
                        if not len(cands):
                            continue
                        cands = cands[~np.isin(cands, mine)]
                        for grp, _i, pos in store.locate(cands):
                            if (grp.deleted[pos] == MAX_LSN).any():
                                raise conflict(f"another transaction inserted {k!r} into "
                                               f"{tdef.name}.{','.join(tdef.names_of(u.columns))}"
                                               f" (constraint {u.name})")

    # -- applying committed operations ---------------------------------------------------

    def _apply(self, lsn: int, catalog_ops: list[dict], kv_keys: list[bytes],
               kv_values: list[bytes | None], inserts, deletes, keep_versions: bool,
               kv_dict: dict | None = None, bulk=()) -> None:
        for op in catalog_ops:
            self._apply_catalog(op)
            if op["op"] in ("table", "drop"):
                self.table_lsn[op["def"]["id"] if op["op"] == "table" else op["id"]] = lsn
        if kv_keys:
            if len(kv_keys) >= RUN_THRESHOLD:
                writes = kv_dict if kv_dict is not None else dict(zip(kv_keys, kv_values))
                self.kv = self.kv.with_run(Run.from_writes(writes, lsn))
            else:
                self.kv.mem.apply(kv_keys, kv_values, lsn, keep_versions)
        table_lsn = self.table_lsn
        for tid, rids in deletes:
            store = self.stores.get(tid)
            if store is not None:
                store.delete(store.locate(rids), lsn)
                table_lsn[tid] = lsn
        for tid, data, rids in inserts:
            store = self.stores.get(tid)
            if store is not None:
                store.append(data, rids, lsn)
                table_lsn[tid] = lsn
        for tid, parts in bulk:
            store = self.stores.get(tid)
            if store is not None:
                types = self._types(tid)  # after the record's own CREATE TABLE, if any
                store.append_segments([(ref, first, rows, zonemap.from_json(stats, types))
                                       for ref, first, rows, stats in parts], lsn)
                table_lsn[tid] = lsn

    def _apply_catalog(self, op: dict) -> None:
        kind = op["op"]
        if kind == "table":
            tdef = TableDef.from_json(op["def"])
            stores = dict(self.stores)
            store = stores.get(tdef.id)
            if store is None:
                stores[tdef.id] = TableStore(tdef.id)
            else:
                store.seal()
            self.stores = stores
            self.catalog = self.catalog.with_table(tdef)
        elif kind == "drop":
            stores = dict(self.stores)
            stores.pop(op["id"], None)
            self.stores = stores
            self.catalog = self.catalog.without_table(op["id"])
        elif kind == "view":
            self.catalog = self.catalog.with_view(ViewDef(**op["def"]))
        elif kind == "drop_view":
            self.catalog = self.catalog.without_view(op["name"])
        elif kind == "extra":
            self.extra = {**self.extra, op["key"]: op["value"]}
        else:
            raise DatabaseError(f"unknown catalog operation {kind!r}")

    # -- checkpoint ----------------------------------------------------------------------

    def _maybe_checkpoint(self) -> None:
        """Checkpoint once the WAL outgrows the memtable budget. The commit that triggers it
        is already durable, so an I/O failure here is kept in ``checkpoint_error`` and the
        checkpoint retried after a later commit, never reported as that commit failing."""
        w = self._wal
        if w is not None and w.size > self.config.memtable_size_bytes:
            try:
                self.checkpoint()
                self.checkpoint_error = None
            except OperationalError as e:
                self.checkpoint_error = e

    def checkpoint(self) -> int:
        """Write changed row groups and KV runs to segments, publish a new manifest, trim the
        WAL, and drop versions no snapshot can see. Returns the LSN the checkpoint covers."""
        self._check_open()
        with self._lock:
            lsn = self.last_lsn
            min_snap = min(self.active.values(), default=lsn)
            if not self.durable or self.config.read_only:
                self._vacuum_tables(min_snap, lsn, write=False)
                return lsn
            sync = self.config.sync_mode != "off" or not self.config.wal_enabled
            table_refs = self._vacuum_tables(min_snap, lsn, write=True, sync=sync)
            kv_refs = self._checkpoint_kv(lsn, min_snap, sync)
            for hook in self._checkpoint_hooks:
                hook(lsn)
            if sync:  # the new segments' directory entries must outlive a power loss too
                self.fs.fsync_dir(self.segment_dir)
            # Rotate before publishing: a manifest may only name a WAL file that exists, and
            # commits after a failed publish then land in a file the old manifest replays.
            new_seq = self._wal.rotate() if self._wal is not None else 1
            man = manifest_io.Manifest(
                checkpoint_lsn=lsn, next_rowid=self.next_rowid, next_segment=self._next_segment,
                wal_seq=new_seq, catalog=self.catalog.to_json(), tables=table_refs, kv=kv_refs,
                extra=self.extra)
            self.counters.bytes_written += manifest_io.store(self.fs, self.path, man, sync=sync)
            for seq, path in wal.list_wal_files(self.fs, self.wal_dir):
                if seq < new_seq:
                    self.fs.remove(path)
            live = {r["name"] for refs in table_refs.values() for r in refs}
            live.update(r["name"] for r in kv_refs)
            for name in self.fs.listdir(self.segment_dir):
                if name not in live:
                    self.fs.remove(os.path.join(self.segment_dir, name))
            self.checkpoint_lsn = lsn
            self.counters.checkpoints += 1
            return lsn

    def _segment_name(self, prefix: str) -> str:
        name = f"{prefix}-{self._next_segment:08d}.arrow"
        self._next_segment += 1
        return name

    def _write(self, prefix: str, table: pa.Table, sync: bool) -> SegmentRef:
        ref = write_segment(self.fs, self.segment_dir, self._segment_name(prefix), table, sync)
        self.counters.bytes_written += ref.size
        return ref

    def _vacuum_tables(self, min_snap: int, lsn: int, write: bool, sync: bool = True,
                       ) -> dict[str, list[dict]]:
        refs_by_table: dict[str, list[dict]] = {}
        for tid, store in self.stores.items():
            refs: list[dict] = []
            new_groups: list[RowGroup] = []
            changed = False
            removed = 0
            types = self._types(tid)
            for g in store.groups:
                n = g.n
                if n == 0:
                    changed = True
                    continue
                ref = g.segment
                stats = g.stats  # bounds of a superset stay valid after deletes
                if write and (ref is None or g.dirty):
                    live, rids = g.live_table(lsn)
                    ref = (self._write(f"t{tid}", live.append_column(ROWID, pa.array(rids)), sync)
                           if live.num_rows else None)
                    stats = zonemap.compute(live) if live.num_rows else None
                    first = int(rids[0]) if len(rids) else 0
                else:
                    first = g.first_rowid
                kept = g
                if g.ndeleted and g.min_delete_lsn <= min_snap:
                    keep = g.deleted[:n] > min_snap
                    removed += int(n - keep.sum())
                    kept = None
                    if keep.any():
                        kept = RowGroup(g.data.slice(0, n).filter(pa.array(keep)),
                                        g.rowids[:n][keep], 0)
                        kept.created[:kept.n] = g.created[:n][keep]
                        kept.deleted[:kept.n] = g.deleted[:n][keep]
                        kept.max_created = int(kept.created[:kept.n].max())
                        live_del = kept.deleted[:kept.n] != MAX_LSN
                        kept.ndeleted = int(live_del.sum())
                        kept.min_delete_lsn = (int(kept.deleted[:kept.n][live_del].min())
                                               if kept.ndeleted else MAX_LSN)
                        kept.sealed = g.sealed
                    changed = True
                if kept is not None:
                    if write:
                        kept.segment = ref
                        kept.dirty = False
                        # the file's bounds hold in memory unless the group still keeps rows
                        # deleted after the file's snapshot (old snapshots see them)
                        kept.stats = stats if not kept.ndeleted else None
                    elif kept is not g:
                        kept.stats = g.stats
                    new_groups.append(kept)
                if ref is not None:
                    refs.append(segment_entry(ref, first, zonemap.to_json(stats, types)))
            if changed:
                store.replace_groups(new_groups, keep_indexes=removed * 4 < store.num_rows_upper)
            refs_by_table[str(tid)] = refs
        return refs_by_table

    def _checkpoint_kv(self, lsn: int, min_snap: int, sync: bool) -> list[dict]:
        state = self.kv
        runs = list(state.runs)
        frozen = state.mem.flatten()
        if frozen is not None:
            runs.insert(0, frozen)
        # Tombstones are dropped only when no open transaction is older than them: its
        # commit-time conflict check must still see that the key was deleted.
        bottom = min_snap >= lsn
        if len(runs) > MAX_RUNS or (bottom and len(runs) == 1 and runs[0].has_tombstones):
            runs = [merge_runs(runs, lsn, bottom=bottom)]
        out = []
        for run in runs:
            if run.segment is None:
                if not len(run):
                    continue
                run.segment = self._write("kv", run.to_arrow(), sync)
            out.append({**run.segment.to_json(), "lsn": run.lsn})
        # Old snapshots keep the previous state object; new ones see exactly what was written.
        self.kv = KVState(tuple(r for r in runs if len(r)))
        return out

    # -- misc ----------------------------------------------------------------------------

    def _read_only_error(self) -> ReadOnlyError:
        return ReadOnlyError(f"database {self.path!r} was opened read-only; writes are "
                             f"refused (open it without read_only to change it)")

    def _check_open(self) -> None:
        if self.closed:
            raise ProgrammingError("the database is closed")

    def set_extra(self, key: str, value: Any) -> None:
        """Persist a small JSON value of an upper layer through the commit path."""
        txn = self.begin()
        txn.set_catalog(self.catalog, {"op": "extra", "key": key, "value": value})
        self.commit(txn)

    def close(self) -> None:
        if self.closed:
            return
        try:
            if self.durable and not self.config.read_only and (self.last_lsn != self.checkpoint_lsn or not os.path.exists(
                    os.path.join(self.path, manifest_io.NAME))):
                self.checkpoint()
        finally:
            self.closed = True
            if self._wal is not None:
                self._wal.close()
            if self._dir_lock is not None:
                self._dir_lock.release()

    def kv_keys_count(self) -> int:
        txn = self.begin(register=False)
        return sum(1 for _ in txn.kv_scan(None, None))

    def wal_bytes(self) -> int:
        return self._wal.size if self._wal is not None else 0


__all__ = ["Engine", "Counters", "MEMORY", "ConstraintError"]
