"""Integrity checking: ``verify(engine)`` lists every problem it finds (empty when healthy).

On disk it re-reads the WAL (framing, checksums, decodable records, LSN sequence), the
manifest (checksum, format) and every segment the manifest names (checksum, Arrow footer, row
count, rowid order, schema, KV key order). In memory it checks the row groups' version arrays,
every hash index against the rows, the PRIMARY KEY / UNIQUE / NOT NULL constraints over the
visible rows, and the order of the KV memtable and runs. It runs under the commit lock, so it
sees one consistent state. Imports the engine's modules only.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sochdb.engine import manifest as manifest_io
from sochdb.engine import records, wal
from sochdb.engine.segment import SegmentRef, read_segment
from sochdb.engine.table import MAX_LSN, ROWID, HashIndex, TableStore, scan_groups
from sochdb.errors import CorruptionError, OperationalError

if TYPE_CHECKING:
    from sochdb.engine.catalog import TableDef
    from sochdb.engine.engine import Engine

def verify(engine: "Engine") -> list[str]:
    """Every integrity problem of the open database ``engine``, as readable sentences."""
    engine._check_open()
    problems: list[str] = []
    with engine._lock:
        if engine.durable:
            man = _check_manifest(engine, problems)
            if engine.config.wal_enabled:
                _check_wal(engine, man, problems)
            if man is not None:
                _check_segments(engine, man, problems)
        _check_memory(engine, problems)
    # A damaged segment fails both the file check and the load of its rows: report it once.
    return list(dict.fromkeys(problems))


# -- files -------------------------------------------------------------------------------

def _check_manifest(engine: "Engine", problems: list[str]) -> manifest_io.Manifest | None:
    try:
        man = manifest_io.load(engine.fs, engine.path)
    except (CorruptionError, OperationalError) as e:
        problems.append(str(e))
        return None
    if man is None:
        if engine.checkpoint_lsn:
            problems.append(f"manifest {os.path.join(engine.path, manifest_io.NAME)} is "
                            f"missing, but a checkpoint at LSN {engine.checkpoint_lsn} was made")
        return None
    if man.checkpoint_lsn != engine.checkpoint_lsn:
        problems.append(f"manifest covers LSN {man.checkpoint_lsn}, the open database's last "
                        f"checkpoint is LSN {engine.checkpoint_lsn}")
    return man


def _check_wal(engine: "Engine", man: manifest_io.Manifest | None, problems: list[str]) -> None:
    fs = engine.fs
    files = wal.list_wal_files(fs, engine.wal_dir)
    if not files:
        problems.append(f"WAL directory {engine.wal_dir} holds no WAL file")
        return
    base = man.checkpoint_lsn if man is not None else 0
    lsns: list[int] = []
    sizes = [fs.size(path) for _, path in files]
    # As in replay: files after the last one holding records may be fresh or half-made.
    tail = max((i for i, n in enumerate(sizes) if n > len(wal.MAGIC)), default=len(files) - 1)
    for i, (_seq, path) in enumerate(files):
        last = i >= tail
        try:
            recs, end = wal.read_wal_file(fs, path, last)
        except (CorruptionError, OperationalError) as e:
            problems.append(str(e))
            continue
        if i == tail and end < sizes[i]:
            problems.append(f"WAL file {path} ends in an incomplete record at offset {end}")
        for rec in recs:
            try:
                records.decode_payload(rec.payload, f"{path} at offset {rec.offset}")
            except CorruptionError as e:
                problems.append(str(e))
            lsns.append(rec.lsn)
    arr = np.asarray(lsns, dtype=np.int64)
    if len(arr) > 1 and not (np.diff(arr) > 0).all():
        at = int(np.nonzero(np.diff(arr) <= 0)[0][0])
        problems.append(f"WAL record LSNs go backwards ({int(arr[at])} then {int(arr[at + 1])})")
    want = np.arange(base + 1, engine.last_lsn + 1, dtype=np.int64)
    have = arr[arr > base]
    if len(have) != len(want) or not (have == want).all():
        missing = np.setdiff1d(want, have)
        what = (f"commits {', '.join(map(str, missing[:5].tolist()))} are missing"
                if len(missing) else f"it holds {len(have)} records past the checkpoint")
        problems.append(f"WAL does not hold exactly the commits after the checkpoint at LSN "
                        f"{base} up to LSN {engine.last_lsn}: {what}")


def _check_segments(engine: "Engine", man: manifest_io.Manifest, problems: list[str]) -> None:
    from sochdb.engine.catalog import Catalog
    try:
        catalog = Catalog.from_json(man.catalog) if man.catalog else Catalog()
    except (KeyError, TypeError, ValueError, pa.ArrowException) as e:
        problems.append(f"manifest catalog cannot be read: {type(e).__name__}: {e}")
        return
    for tid_text, refs in man.tables.items():
        tdef = catalog.by_id(int(tid_text))
        if tdef is None:
            problems.append(f"manifest lists segments of table #{tid_text}, which its catalog "
                            f"does not define")
        prev_last = -1
        for r in refs:
            table = _read(engine, r, problems)
            if table is None:
                continue
            name = r["name"]
            if ROWID not in table.schema.names:
                problems.append(f"segment {name} has no rowid column")
                continue
            rids = table.column(ROWID).to_numpy()
            if len(rids) and int(rids[0]) != r["first_rowid"]:
                problems.append(f"segment {name} starts at rowid {int(rids[0])}, the manifest "
                                f"says {r['first_rowid']}")
            if len(rids) > 1 and not (np.diff(rids) > 0).all():
                problems.append(f"segment {name} has rowids out of order")
            if len(rids) and int(rids[0]) <= prev_last:
                problems.append(f"segment {name} overlaps the rowids of the one before it")
            if len(rids):
                prev_last = int(rids[-1])
            if tdef is not None:
                _check_segment_schema(name, table, tdef, problems)
    for r in man.kv:
        table = _read(engine, r, problems)
        if table is None:
            continue
        if table.schema.names != ["key", "value"]:
            problems.append(f"KV segment {r['name']} has columns {table.schema.names}")
            continue
        keys = table.column("key").combine_chunks()
        if not _strictly_sorted(keys):
            problems.append(f"KV segment {r['name']} has keys out of order")


def _read(engine: "Engine", r: dict, problems: list[str]) -> pa.Table | None:
    try:
        return read_segment(engine.fs, engine.segment_dir, SegmentRef.from_json(r))
    except (CorruptionError, OperationalError, KeyError) as e:
        problems.append(str(e))
        return None


def _check_segment_schema(name: str, table: pa.Table, tdef: "TableDef",
                          problems: list[str]) -> None:
    for f in table.schema:
        if f.name == ROWID:
            continue
        try:
            col = tdef.column_by_id(int(f.name[1:]))
        except (KeyError, ValueError):
            continue  # a dropped column: its data stays until the segment is rewritten
        if col.type != f.type:
            problems.append(f"segment {name} stores column {tdef.name}.{col.name} as "
                            f"{f.type}, the catalog says {col.type}")


def _strictly_sorted(keys: pa.Array) -> bool:
    if len(keys) < 2:
        return True
    return bool(pc.all(pc.less(keys.slice(0, len(keys) - 1), keys.slice(1))).as_py())


# -- memory ------------------------------------------------------------------------------

def _check_memory(engine: "Engine", problems: list[str]) -> None:
    snap = engine.last_lsn
    for tdef in engine.catalog.tables.values():
        store = engine.stores.get(tdef.id)
        if store is None:
            problems.append(f"table {tdef.name} has no row store")
            continue
        try:
            _check_groups(engine, tdef, store, problems)
            _check_indexes(tdef, store, problems)
            _check_constraints(tdef, store, snap, problems)
        except (CorruptionError, OperationalError) as e:  # a lazily loaded segment
            problems.append(str(e))
    _check_kv(engine, problems)


def _check_groups(engine: "Engine", tdef: "TableDef", store: TableStore,
                  problems: list[str]) -> None:
    prev_last = -1
    for i, g in enumerate(store.groups):
        n = g.n
        where = f"table {tdef.name} row group {i}"
        if not n:
            continue
        if g.segment is not None and not g.dirty:
            live = int((g.deleted[:n] == MAX_LSN).sum())
            if live != g.segment.rows:
                problems.append(f"{where} holds {live} live rows, its segment "
                                f"{g.segment.name} {g.segment.rows}")
        if not g.loaded:
            continue  # rowids and data are checked when the segment itself is read
        rids = g.rowids[:n]
        if len(rids) > 1 and not (np.diff(rids) > 0).all():
            problems.append(f"{where} has rowids out of order")
        if int(rids[0]) <= prev_last:
            problems.append(f"{where} overlaps the rowids of the group before it")
        prev_last = int(rids[-1])
        if g.data.num_rows < n:
            problems.append(f"{where} claims {n} rows but holds {g.data.num_rows}")
        created, deleted = g.created[:n], g.deleted[:n]
        if (created > engine.last_lsn).any():
            problems.append(f"{where} has rows created after the last commit")
        if (deleted <= created).any():
            problems.append(f"{where} has rows deleted before they were created")
        nd = int((deleted != MAX_LSN).sum())
        if nd != g.ndeleted:
            problems.append(f"{where} counts {g.ndeleted} deleted rows, its versions say {nd}")


def _check_indexes(tdef: "TableDef", store: TableStore, problems: list[str]) -> None:
    for fields, idx in list(store._indexes.items()):
        fresh = HashIndex(fields)
        for grp, n in store.capture():
            if n and all(c in grp.data.schema.names for c in fields):
                fresh.add(grp.data.slice(0, n).select(list(fields)), grp.rowids[:n])
        have = _pairs(idx)
        want = _pairs(fresh)
        names = ", ".join(_column_name(tdef, f) for f in fields)
        missing = want - have
        if missing:
            k, r = next(iter(missing))
            problems.append(f"index on {tdef.name}({names}) misses {len(missing)} rows, "
                            f"e.g. key {k!r} at rowid {r}")
        extra = have - want
        if extra:
            stored = _existing(store, np.fromiter((r for _, r in extra), np.int64, len(extra)))
            wrong = [(k, r) for k, r in extra if r in stored]
            if wrong:
                k, r = wrong[0]
                problems.append(f"index on {tdef.name}({names}) maps key {k!r} to rowid {r}, "
                                f"which holds another key ({len(wrong)} such entries)")


def _pairs(idx: HashIndex) -> set:
    out = set()
    for k, v in idx.entries.items():
        if isinstance(v, list):
            out.update((k, r) for r in v)
        else:
            out.add((k, v))
    return out


def _existing(store: TableStore, rowids: np.ndarray) -> set[int]:
    found: set[int] = set()
    for grp, _idx, pos in store.locate(np.sort(rowids)):
        found.update(grp.rowids[pos].tolist())
    return found


def _column_name(tdef: "TableDef", field: str) -> str:
    try:
        return tdef.column_by_id(int(field[1:])).name
    except (KeyError, ValueError):
        return field


def _check_constraints(tdef: "TableDef", store: TableStore, snap: int,
                       problems: list[str]) -> None:
    fields = [c.field for c in tdef.columns]
    parts = [t for t, _ in scan_groups(store.capture(), snap, tdef, fields)]
    if not parts:
        return
    schema = pa.schema([pa.field(c.field, c.type) for c in tdef.columns])
    data = pa.concat_tables([p.cast(schema) if p.schema != schema else p for p in parts])
    for c in tdef.columns:
        if c.not_null and data.column(c.field).null_count:
            problems.append(f"{tdef.name}.{c.name} is NOT NULL but "
                            f"{data.column(c.field).null_count} visible rows hold NULL")
    for u in tdef.uniques:
        ufields = [tdef.column_by_id(i).field for i in u.columns]
        keys = data.select(ufields)
        if u.primary:
            for f in ufields:
                if keys.column(f).null_count:
                    problems.append(f"{tdef.name} primary key column "
                                    f"{_column_name(tdef, f)} holds NULL")
        keys = keys.drop_null()
        if keys.num_rows < 2:
            continue
        counts = keys.group_by(ufields).aggregate([([], "count_all")])
        dup = counts.filter(pc.greater(counts.column("count_all"), 1))
        if dup.num_rows:
            example = {_column_name(tdef, f): dup.column(f)[0].as_py() for f in ufields}
            problems.append(f"{tdef.name} has {dup.num_rows} duplicate values of "
                            f"{'PRIMARY KEY' if u.primary else 'UNIQUE'} constraint {u.name} "
                            f"among its visible rows, e.g. {example}")


def _check_kv(engine: "Engine", problems: list[str]) -> None:
    state = engine.kv
    for i, run in enumerate(state.runs):
        if run.keys and not _strictly_sorted(pa.array(run.keys, pa.binary())):
            problems.append(f"KV run {i} (LSN {run.lsn}) has keys out of order")
        if len(run.keys) != len(run.values):
            problems.append(f"KV run {i} has {len(run.keys)} keys and {len(run.values)} values")
    mem = state.mem
    keys = mem.sorted_keys()
    if keys and not _strictly_sorted(pa.array(keys, pa.binary())):
        problems.append("KV memtable key order is broken")
    if len(keys) != len(mem.data):
        problems.append(f"KV memtable orders {len(keys)} keys but holds {len(mem.data)}")


__all__ = ["verify"]
