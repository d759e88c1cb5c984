"""Online backup: a fresh checkpoint of one snapshot, written into a new directory.

The snapshot is taken under the commit lock in microseconds; the rows and KV pairs visible
in it are then written as segments plus a manifest while writers go on committing (the open
snapshot keeps vacuum from dropping versions it needs). The copy is a complete database with
an empty WAL: ``Database.open`` reads it as it would after a checkpoint. Imports the engine's
modules only.
"""

from __future__ import annotations

import itertools
import os
from typing import TYPE_CHECKING

import pyarrow as pa

from sochdb.engine import manifest as manifest_io
from sochdb.engine import zonemap
from sochdb.engine.fileio import FileSystem
from sochdb.engine.segment import segment_entry, write_segment
from sochdb.engine.table import ROWID, scan_groups
from sochdb.engine.wal import MAGIC, wal_file_name
from sochdb.errors import OperationalError

if TYPE_CHECKING:
    from sochdb.engine.engine import Engine


def backup(engine: "Engine", target: str, fs: FileSystem | None = None) -> int:
    """Write a consistent copy of ``engine``'s current state to the directory ``target``
    (which must not exist, or be empty); return the LSN the copy holds."""
    fs = fs or FileSystem()
    target = os.path.abspath(target)
    if not engine.memory and os.path.commonpath([target, engine.path]) == engine.path:
        raise OperationalError(f"cannot back up {engine.path!r} into itself ({target!r})")
    if os.path.exists(target) and (not os.path.isdir(target) or os.listdir(target)):
        raise OperationalError(f"backup target {target!r} exists and is not an empty "
                               f"directory")
    with engine._lock:
        txn = engine.begin()
        extra = dict(engine.extra)
        next_rowid = engine.next_rowid
        captured = {tid: store.capture() for tid, store in txn.stores.items()}
    try:
        seg_dir = os.path.join(target, "segments")
        wal_dir = os.path.join(target, "wal")
        fs.makedirs(seg_dir)
        fs.makedirs(wal_dir)
        counter = itertools.count(1)
        tables: dict[str, list[dict]] = {}
        for tdef in txn.catalog.tables.values():
            fields = [c.field for c in tdef.columns]
            types = {c.field: c.type for c in tdef.columns}
            refs = []
            for grp_n in captured.get(tdef.id, []):
                for data, rids in scan_groups([grp_n], txn.snap, tdef, fields, True):
                    if not data.num_rows:
                        continue
                    ref = write_segment(fs, seg_dir, f"t{tdef.id}-{next(counter):08d}.arrow",
                                        data.append_column(ROWID, pa.array(rids)))
                    refs.append(segment_entry(ref, int(rids[0]), zonemap.to_json(
                        zonemap.compute(data), types)))
            tables[str(tdef.id)] = refs
        pairs = list(txn.kv_scan(None, None))
        kv = []
        if pairs:
            run = pa.table({"key": pa.array([k for k, _ in pairs], pa.binary()),
                            "value": pa.array([v for _, v in pairs], pa.binary())})
            ref = write_segment(fs, seg_dir, f"kv-{next(counter):08d}.arrow", run)
            kv.append({**ref.to_json(), "lsn": txn.snap})
        fs.fsync_dir(seg_dir)
        fs.write_file(os.path.join(wal_dir, wal_file_name(1)), MAGIC)
        fs.fsync_dir(wal_dir)
        man = manifest_io.Manifest(
            checkpoint_lsn=txn.snap, next_rowid=next_rowid, next_segment=next(counter),
            wal_seq=1, catalog=txn.catalog.to_json(), tables=tables, kv=kv, extra=extra)
        manifest_io.store(fs, target, man)  # last: a copy without a manifest is no copy
        fs.fsync_dir(os.path.dirname(target) or ".")
        return txn.snap
    finally:
        engine.end(txn, "committed")


__all__ = ["backup"]
