"""The vector indexes of one engine: their definitions, graphs, commit and checkpoint hooks.

A definition (table, column, metric, HNSW parameters) is persisted as one key of the engine's
``extra`` side data, written by a catalog operation of the same transaction that creates the
table or index, so definitions commit, roll back and recover with the rest. Graphs are derived
data under ``<db>/vectors/``; one registry per engine owns them, keeps them in step through
the engine's commit listener and saves them from its checkpoint hook. Imports the engine and
the sibling vector modules, never the SQL layer.
"""

from __future__ import annotations

import os
import re
import threading
import weakref
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from sochdb.errors import ProgrammingError
from sochdb.vector.column_index import ColumnIndex
from sochdb.vector.index import DEFAULT_DTYPE, normalize_dtype
from sochdb.vector.metrics import get_metric

if TYPE_CHECKING:
    from sochdb.engine.catalog import TableDef
    from sochdb.engine.engine import Engine
    from sochdb.engine.transaction import TxnState

__all__ = [
    "EXTRA_PREFIX",
    "MAX_DIMENSION",
    "IndexDef",
    "VectorRegistry",
    "check_name",
    "close_registry",
    "default_dtype",
    "existing_registry",
    "registry_for",
    "registry_for_table",
]

#: Engine ``extra`` keys of vector index definitions: this prefix plus the lower-cased name.
EXTRA_PREFIX = "vector_index:"
MAX_DIMENSION = 1 << 16
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}$")
_DIR = "vectors"


@dataclass(frozen=True)
class IndexDef:
    """One vector index: ``kind`` is ``collection`` (its own hidden table, made by
    ``Database.create_vector_index``) or ``sql`` (``CREATE INDEX ... USING HNSW`` on a table)."""

    name: str
    kind: str
    table_id: int
    column_id: int
    dimension: int
    metric: str
    m: int
    ef_construction: int
    dtype: str

    @property
    def key(self) -> str:
        return EXTRA_PREFIX + self.name.lower()

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> IndexDef:
        return cls(**{f: d[f] for f in cls.__dataclass_fields__})

    @classmethod
    def build(cls, name: str, kind: str, table_id: int, column_id: int, dimension: Any,
              metric: Any, m: Any, ef_construction: Any, dtype: Any) -> IndexDef:
        """Validate user-given parameters into a definition (typed errors for bad ones)."""
        for what, v, low in (("dimension", dimension, 1), ("m", m, 2),
                             ("ef_construction", ef_construction, 1)):
            if isinstance(v, bool) or not isinstance(v, int) or v < low:
                raise ProgrammingError(f"vector index {name!r}: {what} must be an integer >= "
                                       f"{low}, got {v!r}")
        if dimension > MAX_DIMENSION:
            raise ProgrammingError(f"vector index {name!r}: dimension {dimension} is larger "
                                   f"than the maximum {MAX_DIMENSION}")
        return cls(name, kind, table_id, column_id, int(dimension), get_metric(metric).name,
                   int(m), int(ef_construction),
                   default_dtype(metric) if dtype is None else normalize_dtype(dtype))


def default_dtype(metric: Any) -> str:
    """Graph precision when none is given: int8 for cosine (unit vectors have bounded
    components, so a scale fitted on the first rows inserted stays good), float16 for l2 and
    ip, whose magnitudes a later insert may push far past such a scale."""
    return DEFAULT_DTYPE if get_metric(metric).name == "cosine" else "f16"


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ProgrammingError(f"vector index name must be 1-128 letters, digits, '_', '.' or "
                               f"'-' (not starting with '.' or '-'), got {name!r}")
    return name


class VectorRegistry:
    """Definitions and graphs of one engine's vector indexes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.closed = False
        self._indexes: dict[str, ColumnIndex] = {}
        self._lock = threading.RLock()
        self._cache: tuple[Any, Any, dict[str, IndexDef], dict[str, IndexDef]] | None = None
        # Every commit up to ``done`` has been through _on_commit (listeners may run out of
        # LSN order); graphs use it to know that no delete is still on its way to them.
        self.done = engine.last_lsn
        self._done_ahead: set[int] = set()
        engine.listeners.append(self._on_commit)
        engine._checkpoint_hooks.append(self._on_checkpoint)
        self._remove_orphans()

    # -- definitions ----------------------------------------------------------------------

    def definitions(self, include_dangling: bool = False) -> dict[str, IndexDef]:
        """Live definitions by lower-cased name (those whose table and column still exist).

        Both sources are replaced, never mutated, by commits, so the result is cached by
        their identity."""
        catalog, extra = self.engine.catalog, self.engine.extra
        cached = self._cache
        if cached is None or cached[0] is not catalog or cached[1] is not extra:
            live, every = {}, {}
            for key, value in extra.items():
                if not key.startswith(EXTRA_PREFIX) or not value:
                    continue
                d = IndexDef.from_json(value)
                every[key[len(EXTRA_PREFIX):]] = d
                tdef = catalog.by_id(d.table_id)
                if tdef is not None and any(c.id == d.column_id for c in tdef.columns):
                    live[key[len(EXTRA_PREFIX):]] = d
            cached = self._cache = (catalog, extra, live, every)
        return dict(cached[3] if include_dangling else cached[2])

    def get(self, name: str) -> IndexDef | None:
        return self.definitions().get(name.lower())

    def on_column(self, table_id: int, column_id: int) -> list[IndexDef]:
        return [d for d in self.definitions().values()
                if d.table_id == table_id and d.column_id == column_id]

    def on_table(self, table_id: int) -> list[IndexDef]:
        return [d for d in self.definitions(include_dangling=True).values()
                if d.table_id == table_id]

    @staticmethod
    def define(txn: TxnState, idef: IndexDef) -> None:
        """Record ``idef`` in ``txn`` (it takes effect when the transaction commits)."""
        txn.set_catalog(txn.catalog, {"op": "extra", "key": idef.key, "value": idef.to_json()})

    @staticmethod
    def undefine(txn: TxnState, name: str) -> None:
        txn.set_catalog(txn.catalog, {"op": "extra", "key": EXTRA_PREFIX + name.lower(),
                                      "value": None})

    # -- graphs ---------------------------------------------------------------------------

    def column_index(self, idef: IndexDef) -> ColumnIndex:
        """The (lazily loaded) graph holder of a live definition."""
        key = idef.name.lower()
        with self._lock:
            ci = self._indexes.get(key)
            if ci is None or ci.idef != idef:
                if ci is not None:
                    ci.release()
                ci = self._indexes[key] = ColumnIndex(self, idef)
            return ci

    def forget(self, name: str, remove_file: bool = True) -> None:
        """Drop the graph of an index that was dropped (and its saved file)."""
        with self._lock:
            ci = self._indexes.pop(name.lower(), None)
        if ci is not None:
            ci.release("dropped")
            path = ci.path
            if remove_file and path is not None and os.path.exists(path):
                os.remove(path)

    def graph_path(self, idef: IndexDef) -> str | None:
        if not self.engine.durable:
            return None
        return os.path.join(self.engine.path, _DIR, f"t{idef.table_id}-c{idef.column_id}.hnsw")

    def _remove_orphans(self) -> None:
        if not self.engine.durable:
            return
        directory = os.path.join(self.engine.path, _DIR)
        if not os.path.isdir(directory):
            return
        wanted = {os.path.basename(p) for p in
                  (self.graph_path(d) for d in self.definitions().values()) if p}
        for name in os.listdir(directory):
            if name not in wanted:
                try:
                    os.remove(os.path.join(directory, name))
                except OSError:
                    pass

    # -- engine hooks ---------------------------------------------------------------------

    def _on_commit(self, lsn: int, txn: TxnState | None) -> None:
        if txn is None:
            self._mark_done(lsn)
            return
        if txn.catalog_ops:
            live = self.definitions()
            for key, ci in list(self._indexes.items()):
                if live.get(key) != ci.idef:
                    self.forget(key, remove_file=True)
            for op in txn.catalog_ops:  # CREATE INDEX ... USING HNSW builds its graph now
                value = op.get("value") if op.get("op") == "extra" else None
                if value and op["key"].startswith(EXTRA_PREFIX) and value.get("kind") == "sql":
                    d = live.get(op["key"][len(EXTRA_PREFIX):])
                    if d is not None:
                        ci = self.column_index(d)
                        try:
                            ci.ensure()
                        except Exception as e:  # noqa: BLE001 - built on first use instead
                            ci.origin = f"not built at CREATE INDEX ({type(e).__name__}: {e})"
        for ci in list(self._indexes.values()):
            ci.on_commit(lsn, txn)
        self._mark_done(lsn)

    def _mark_done(self, lsn: int) -> None:
        with self._lock:
            if lsn <= self.done:
                return
            ahead = self._done_ahead
            ahead.add(lsn)
            while self.done + 1 in ahead:
                ahead.remove(self.done + 1)
                self.done += 1

    def _on_checkpoint(self, lsn: int) -> None:
        """Save changed graphs (inside the checkpoint: no commit is newer than ``lsn``)."""
        for ci in list(self._indexes.values()):
            try:
                ci.save(lsn)
                ci.save_error = None
            except Exception as e:  # noqa: BLE001 - a graph is rebuildable; never fail the checkpoint
                ci.save_error = f"{type(e).__name__}: {e}"

    def close(self) -> None:
        """Save every changed graph (so the next open loads instead of rebuilding) and let
        go of them; the engine must still be open."""
        if self.closed:
            return
        eng = self.engine
        try:
            if not eng.closed and eng.durable:
                with eng._lock:  # no commit may land between the catch-up and the stamp
                    lsn = eng.last_lsn
                    for ci in list(self._indexes.values()):
                        try:
                            ci.save(lsn, force=True)
                        except Exception as e:  # noqa: BLE001 - rebuilt on the next open
                            ci.save_error = f"{type(e).__name__}: {e}"
        finally:
            for ci in list(self._indexes.values()):
                ci.release("closed")
            self._indexes.clear()
            if self._on_commit in eng.listeners:
                eng.listeners.remove(self._on_commit)
            if self._on_checkpoint in eng._checkpoint_hooks:
                eng._checkpoint_hooks.remove(self._on_checkpoint)
            self.closed = True


_REGISTRIES: weakref.WeakKeyDictionary[Engine, VectorRegistry] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def registry_for(engine: Engine) -> VectorRegistry:
    """The registry of ``engine``, created on first use."""
    reg = _REGISTRIES.get(engine)
    if reg is None or reg.closed:
        with _LOCK:
            reg = _REGISTRIES.get(engine)
            if reg is None or reg.closed:
                engine._check_open()
                reg = _REGISTRIES[engine] = VectorRegistry(engine)
    return reg


def existing_registry(engine: Engine) -> VectorRegistry | None:
    reg = _REGISTRIES.get(engine)
    return reg if reg is not None and not reg.closed else None


def registry_for_table(tdef: TableDef) -> VectorRegistry | None:
    """The open registry whose engine's current catalog holds exactly this table definition
    (the planner knows a catalog, not its engine)."""
    for engine, reg in list(_REGISTRIES.items()):
        if not reg.closed and not engine.closed and engine.catalog.by_id(tdef.id) is tdef:
            return reg
    return None


def close_registry(engine: Engine) -> None:
    """Save and release the graphs of ``engine`` (called before the engine closes)."""
    reg = _REGISTRIES.pop(engine, None)
    if reg is not None:
        reg.close()
