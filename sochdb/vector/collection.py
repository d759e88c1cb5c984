"""Named vector collections inside the database: ids, vectors and metadata in a hidden table.

``Database.create_vector_index(name, ...)`` makes a table ``__vec_<name>(id BIGINT PRIMARY KEY,
vector FLOAT[d], metadata TEXT, tags TEXT[])``: inserts and deletes are ordinary row writes, so
they commit, conflict, roll back, go through the WAL and come back after a crash like any
others, inside ``db.transaction()`` too. The HNSW graph over the ``vector`` column is derived
data (see column_index.py). ``tags`` holds one ``["key", value]`` JSON token per top-level
metadata key, which makes metadata equality filters a vectorized scan. Imports the engine,
the registry and the sibling vector modules.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sochdb.engine.catalog import HIDDEN_PREFIX, Column, TableDef, Unique
from sochdb.errors import (
    AlreadyExistsError,
    DataError,
    IntegrityError,
    NotFoundError,
    ProgrammingError,
    TransactionConflictError,
)
from sochdb.vector.registry import IndexDef, VectorRegistry, check_name, registry_for

if TYPE_CHECKING:
    from sochdb.engine.engine import Engine
    from sochdb.engine.transaction import TableView, TxnState
    from sochdb.transaction import Transaction

__all__ = [
    "TABLE_PREFIX",
    "SearchHit",
    "VectorIndex",
    "collection_names",
    "create_collection",
    "drop_vector_index",
    "open_collection",
]

#: Hidden tables of collections are named this plus the index name.
TABLE_PREFIX = HIDDEN_PREFIX + "vec_"
_ID, _VECTOR, _META, _TAGS = "c0", "c1", "c2", "c3"


@dataclass(frozen=True)
class SearchHit:
    """One search result: the caller's id, its distance (lower is nearer) and its metadata."""

    id: int
    distance: float
    metadata: dict[str, Any] | None = None


def _token(key: Any, value: Any) -> str:
    """The filter token of one top-level metadata entry (numbers equal in Python match)."""
    if not isinstance(key, str):
        raise ProgrammingError(f"metadata keys must be strings, got {key!r}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return json.dumps([key, value], sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def _table_def(table_id: int, name: str, dimension: int) -> TableDef:
    tname = TABLE_PREFIX + name
    cols = [Column(0, "id", pa.int64(), "BIGINT", not_null=True),
            Column(1, "vector", pa.list_(pa.float32(), dimension), f"FLOAT[{dimension}]",
                   not_null=True),
            Column(2, "metadata", pa.string(), "TEXT"),
            Column(3, "tags", pa.list_(pa.string()), "TEXT[]")]
    sql = (f"CREATE TABLE {tname} (id BIGINT PRIMARY KEY, vector FLOAT[{dimension}] NOT NULL, "
           f"metadata TEXT, tags TEXT[])")
    return TableDef(id=table_id, name=tname, columns=cols,
                    uniques=[Unique(f"{tname}_pkey", [0], primary=True)], next_column_id=4,
                    sql=sql)


def _listing(reg: VectorRegistry) -> str:
    names = collection_names(reg)
    return ("existing vector indexes: " + ", ".join(repr(n) for n in names)) if names else \
        "there are no vector indexes"


def collection_names(reg: VectorRegistry) -> list[str]:
    return sorted((d.name for d in reg.definitions().values() if d.kind == "collection"),
                  key=str.lower)


def create_collection(engine: Engine, name: str, dimension: int, metric: str = "cosine",
                      m: int = 16, ef_construction: int = 100,
                      dtype: str | None = None) -> VectorIndex:
    """Create the hidden table and the definition in one commit (see Database)."""
    check_name(name)
    reg = registry_for(engine)
    idef = IndexDef.build(name, "collection", 0, 1, dimension, metric, m, ef_construction,
                          dtype)
    taken = reg.get(name)
    if taken is not None:
        raise AlreadyExistsError(f"a vector index named {taken.name!r} already exists "
                                 f"(names are case-insensitive)", name=name)
    st = engine.begin()
    try:
        if st.catalog.get(TABLE_PREFIX + name) is not None:
            raise AlreadyExistsError(f"a vector index named {name!r} already exists",
                                     name=name)
        table_id, st.catalog = st.catalog.reserve_table_id()
        tdef = _table_def(table_id, name, idef.dimension)
        st.set_catalog(st.catalog.with_table(tdef), {"op": "table", "def": tdef.to_json()})
        idef = dataclasses.replace(idef, table_id=table_id)
        reg.define(st, idef)
        lsn = engine.commit(st)
    except TransactionConflictError:
        if reg.get(name) is not None:
            raise AlreadyExistsError(f"a vector index named {name!r} already exists",
                                     name=name) from None
        raise
    except BaseException:
        if st.status == "active":
            engine.abort(st)
        raise
    reg.column_index(idef).start_empty(lsn)
    return VectorIndex(engine, idef.name)


def _lookup(engine: Engine, name: str):
    """The registry and the definition of the vector index ``name`` (NotFoundError if none)."""
    if not isinstance(name, str):
        raise ProgrammingError(f"vector index name must be a string, got {name!r}")
    reg = registry_for(engine)
    d = reg.get(name)
    if d is None:
        raise NotFoundError(f"no vector index named {name!r}; {_listing(reg)}", name=name)
    return reg, d


def open_collection(engine: Engine, name: str) -> VectorIndex:
    _reg, d = _lookup(engine, name)
    if d.kind != "collection":
        raise ProgrammingError(f"{name!r} is an HNSW index created by SQL CREATE INDEX; query "
                               f"it with SQL (ORDER BY <distance>(column, ?) LIMIT k)")
    return VectorIndex(engine, d.name)


def drop_vector_index(engine: Engine, name: str) -> None:
    """Drop a collection (its table too) or an SQL HNSW index, in one commit."""
    reg, d = _lookup(engine, name)
    st = engine.begin()
    try:
        tdef = st.catalog.by_id(d.table_id)
        if d.kind == "collection" and tdef is not None:
            st.set_catalog(st.catalog.without_table(d.table_id), {"op": "drop",
                                                                   "id": d.table_id})
        elif tdef is not None:  # a new catalog object: cached plans using the index go stale
            new = tdef.copy()
            st.set_catalog(st.catalog.with_table(new), {"op": "table", "def": new.to_json()})
        reg.undefine(st, d.name)
        engine.commit(st)
    except BaseException:
        if st.status == "active":
            engine.abort(st)
        raise
    reg.forget(d.name)


def _as_ids(ids: Any, what: str = "ids") -> np.ndarray:
    arr = np.asarray(ids)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ProgrammingError(f"{what} must be a one-dimensional sequence of integers, got "
                               f"shape {arr.shape}")
    if arr.size and (arr.dtype.kind not in "iu" or arr.dtype == np.bool_):
        raise ProgrammingError(f"{what} must be integers, got {arr.dtype} values")
    if arr.dtype.kind == "u" and arr.size and arr.max() > np.iinfo(np.int64).max:
        raise ProgrammingError(f"{what} must fit in a signed 64-bit integer")
    return arr.astype(np.int64, copy=False)


def _as_vectors(vectors: Any, dimension: int, what: str, index: str) -> np.ndarray:
    try:
        arr = np.asarray(vectors)
    except ValueError:
        raise DataError(f"vector index {index!r}: {what} must all have dimension "
                        f"{dimension} (got rows of different lengths)") from None
    if arr.dtype == object:
        raise DataError(f"vector index {index!r}: {what} must all have dimension {dimension} "
                        f"(got rows of different lengths or non-numbers)")
    if arr.dtype.kind in "iub":
        arr = arr.astype(np.float32)
    if arr.dtype.kind != "f":
        raise DataError(f"vector index {index!r}: {what} must be numbers, got {arr.dtype}")
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2:
        raise DataError(f"vector index {index!r}: {what} must be a 2-D array (rows x "
                        f"{dimension}), got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise DataError(f"vector index {index!r}: {what} are empty (shape {arr.shape})")
    if arr.shape[1] != dimension:
        raise DataError(f"vector index {index!r} has dimension {dimension}; {what} have "
                        f"dimension {arr.shape[1]}")
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    finite = np.isfinite(arr).all(axis=1)
    if not finite.all():
        row = int(np.flatnonzero(~finite)[0])
        raise DataError(f"vector index {index!r}: {what} row {row} holds NaN or infinite "
                        f"values", row=row)
    return arr


class VectorIndex:
    """A named vector collection of one database (``db.vector_index(name)``).

    The handle is cheap; every call looks the index up again, so a dropped index fails with
    NotFoundError. Writes commit on their own, or join ``txn`` (a ``db.transaction()``) and
    commit or roll back with it; searches read the latest committed state, or ``txn``'s
    snapshot plus its own writes.

    Example:
        >>> db = Database.open(":memory:")                     # doctest: +SKIP
        >>> idx = db.create_vector_index("docs", 3)             # doctest: +SKIP
        >>> idx.insert([1, 2], [[1, 0, 0], [0, 1, 0]], [{"lang": "en"}, None])  # doctest: +SKIP
        2
        >>> idx.search([1, 0.1, 0], k=1)                        # doctest: +SKIP
        [SearchHit(id=1, distance=0.00496..., metadata={'lang': 'en'})]
    """

    def __init__(self, engine: Engine, name: str) -> None:
        self._engine = engine
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"<VectorIndex {self._name!r}>"

    # -- plumbing -------------------------------------------------------------------------

    def _def(self) -> tuple[VectorRegistry, IndexDef]:
        reg = registry_for(self._engine)
        d = reg.get(self._name)
        if d is None or d.kind != "collection":
            raise NotFoundError(f"vector index {self._name!r} no longer exists (dropped); "
                                f"{_listing(reg)}", name=self._name)
        return reg, d

    def _txn(self, txn: Transaction | None, write: bool) -> tuple[TxnState, bool]:
        if txn is None:
            return self._engine.begin(register=write), True
        state = getattr(txn, "state", None)
        if state is None or state.engine is not self._engine:
            raise ProgrammingError("txn must be a transaction of this index's database")
        state.check_open()
        return state, False

    def _table(self, st: TxnState, d: IndexDef) -> TableDef:
        tdef = st.catalog.by_id(d.table_id)
        if tdef is None:
            raise NotFoundError(f"vector index {self._name!r} does not exist in this "
                                f"transaction's snapshot (it was created after it began)",
                                name=self._name)
        return tdef

    def _write(self, txn: Transaction | None, work) -> int:
        _, d = self._def()
        st, own = self._txn(txn, write=True)
        try:
            count = work(st, self._table(st, d), d)
            if own:
                self._engine.commit(st)
        except BaseException:
            if own and st.status == "active":
                self._engine.abort(st)
            raise
        return count

    # -- writes ---------------------------------------------------------------------------

    def insert(self, ids: Any, vectors: Any, metadata: Sequence[Mapping[str, Any] | None]
               | None = None, *, txn: Transaction | None = None) -> int:
        """Insert (or replace: an id already present gets the new vector and metadata) one
        vector per id; returns the number inserted.

        Args:
            ids: int64 ids, one per vector, distinct.
            vectors: (n, dimension) floats (a numpy array or a list of lists).
            metadata: None, or one dict (or None) per vector: JSON values under string keys,
                filterable with ``search(filter=...)`` by top-level key.
            txn: a ``db.transaction()`` to join instead of committing on its own.
        """
        _, d = self._def()
        x = _as_vectors(vectors, d.dimension, "vectors", self._name)
        idarr = _as_ids(ids)
        n = len(x)
        if len(idarr) != n:
            raise ProgrammingError(f"vector index {self._name!r}: got {len(idarr)} ids for "
                                   f"{n} vectors")
        uniq, counts = np.unique(idarr, return_counts=True)
        if len(uniq) != n:
            dup = int(uniq[counts > 1][0])
            where = np.flatnonzero(idarr == dup)[:2].tolist()
            raise IntegrityError(f"vector index {self._name!r}: id {dup} appears twice in one "
                                 f"insert (positions {where[0]} and {where[1]})", id=dup)
        data = pa.table([pa.array(idarr), pa.FixedSizeListArray.from_arrays(
            pa.array(x.reshape(-1)), d.dimension)] + self._metadata_columns(metadata, idarr),
            names=[_ID, _VECTOR, _META, _TAGS])

        def work(st: TxnState, tdef: TableDef, _d: IndexDef) -> int:
            _, old = st.view(tdef).lookup((_ID,), idarr.tolist())
            if len(old):
                st.delete(tdef, old)
            st.insert(tdef, data)
            return n
        return self._write(txn, work)

    def _metadata_columns(self, metadata: Any, ids: np.ndarray) -> list[pa.Array]:
        n = len(ids)
        if metadata is None:
            return [pa.nulls(n, pa.string()),
                    pa.ListArray.from_arrays(pa.array(np.zeros(n + 1, np.int32)),
                                             pa.array([], pa.string()))]
        if isinstance(metadata, (str, bytes, Mapping)) or not isinstance(metadata, Sequence):
            raise ProgrammingError(f"vector index {self._name!r}: metadata must be a list with "
                                   f"one dict (or None) per vector, got "
                                   f"{type(metadata).__name__}")
        if len(metadata) != n:
            raise ProgrammingError(f"vector index {self._name!r}: got {len(metadata)} metadata "
                                   f"entries for {n} vectors")
        texts: list[str | None] = []
        tags: list[list[str]] = []
        for i, m in enumerate(metadata):
            if m is None:
                texts.append(None)
                tags.append([])
                continue
            if not isinstance(m, Mapping):
                raise ProgrammingError(f"vector index {self._name!r}: metadata[{i}] (id "
                                       f"{int(ids[i])}) must be a dict or None, got "
                                       f"{type(m).__name__}")
            try:
                texts.append(json.dumps(m, sort_keys=True, separators=(",", ":"),
                                        ensure_ascii=False, allow_nan=False))
                tags.append([_token(k, v) for k, v in m.items()])
            except (TypeError, ValueError) as e:
                raise DataError(f"vector index {self._name!r}: metadata[{i}] (id "
                                f"{int(ids[i])}) is not JSON: {e}") from None
        return [pa.array(texts, pa.string()), pa.array(tags, pa.list_(pa.string()))]

    def delete(self, ids: Any, *, txn: Transaction | None = None) -> int:
        """Delete the vectors with these ids; returns how many existed (unknown ids are
        ignored). Deleted ids never appear in later search results."""
        idarr = _as_ids(ids)

        def work(st: TxnState, tdef: TableDef, _d: IndexDef) -> int:
            if not len(idarr):
                return 0
            _, old = st.view(tdef).lookup((_ID,), np.unique(idarr).tolist())
            if len(old):
                st.delete(tdef, old)
            return len(old)
        return self._write(txn, work)

    # -- reads ----------------------------------------------------------------------------

    def search(self, query: Any, k: int = 10, ef: int | None = None,
               filter: Mapping[str, Any] | None = None,
               *, txn: Transaction | None = None) -> list[SearchHit] | list[list[SearchHit]]:
        """The ``k`` nearest vectors, nearest first.

        Args:
            query: one vector (a list of ``SearchHit`` is returned) or a 2-D batch (a list of
                lists, one per query row).
            k: how many results per query (fewer when fewer vectors match).
            ef: HNSW search breadth (default 64); larger finds more true neighbours, slower.
            filter: metadata equality constraints, ``{"lang": "en", "year": 2024}``: only
                vectors whose metadata has every one of these top-level values. Selective
                filters are answered by an exact scan of the matching vectors.
            txn: search this transaction's snapshot, including its own writes.
        """
        reg, d = self._def()
        single = np.ndim(query) == 1
        q = _as_vectors(query, d.dimension, "query", self._name)
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k <= 0:
            raise ProgrammingError(f"vector index {self._name!r}: k must be a positive integer, "
                                   f"got {k!r}")
        if ef is not None and (isinstance(ef, bool) or not isinstance(ef, (int, np.integer))
                               or ef <= 0):
            raise ProgrammingError(f"vector index {self._name!r}: ef must be a positive "
                                   f"integer or None, got {ef!r}")
        if filter is not None and not isinstance(filter, Mapping):
            raise ProgrammingError(f"vector index {self._name!r}: filter must be a dict of "
                                   f"metadata key -> value, got {type(filter).__name__}")
        st, _ = self._txn(txn, write=False)
        tdef = self._table(st, d)
        view = st.view(tdef)
        allowed = None
        if filter:
            allowed = _matching(view, filter)
        if allowed is not None and not len(allowed):
            out: list[list[SearchHit]] = [[] for _ in range(len(q))]
        else:
            res = reg.column_index(d).search(st, q, int(k), None if ef is None else int(ef),
                                             allowed)
            out = _hits(view, res)
        return out[0] if single else out

    def __len__(self) -> int:
        return self.count()

    def count(self, *, txn: Transaction | None = None) -> int:
        """The number of vectors (in ``txn``'s view when given)."""
        _, d = self._def()
        st, _ = self._txn(txn, write=False)
        return st.view(self._table(st, d)).count()

    def info(self) -> dict[str, Any]:
        """Parameters, the vector count and the state of the graph."""
        reg, d = self._def()
        ci = reg.column_index(d)
        return {"name": d.name, "dimension": d.dimension, "metric": d.metric, "m": d.m,
                "ef_construction": d.ef_construction, "dtype": d.dtype, "ef_search": 64,
                "vectors": self.count(), "table": TABLE_PREFIX + d.name, **ci.info()}

    stats = info


def _matching(view: TableView, filter: Mapping[str, Any]) -> np.ndarray:
    """Rowids visible in ``view`` whose metadata holds every key/value of ``filter``."""
    try:
        tokens = sorted({_token(k, v) for k, v in filter.items()})
    except (TypeError, ValueError) as e:
        raise ProgrammingError(f"filter values must be JSON values: {e}") from None
    parts = []
    for data, rids in view.scan([_TAGS], with_rowids=True):
        col = data.column(0)
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
        flat = col.flatten()
        if not len(flat):
            continue
        parents = pc.list_parent_indices(col).to_numpy()
        hits = np.zeros(len(rids), dtype=np.int64)
        for t in tokens:
            eq = pc.equal(flat, t).to_numpy(zero_copy_only=False)
            if eq.any():
                hits += np.bincount(parents[eq], minlength=len(rids))
        ok = hits == len(tokens)
        if ok.any():
            parts.append(rids[ok])
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)


def _take(view: TableView, rowids: np.ndarray, fields: list[str]) -> pa.Table:
    """Rows by rowid, reading only ``fields`` of committed row groups (the general
    ``TableView.take`` gathers whole rows, vectors included)."""
    if view.local is not None or (rowids < 0).any() or view.store is None:
        return view.take(fields, rowids)
    parts, order = [], []
    for grp, idx, pos in view.store.locate(rowids):
        parts.append(grp.select(fields).select(fields).take(pa.array(pos)))
        order.append(idx)
    if sum(len(i) for i in order) != len(rowids):
        return view.take(fields, rowids)
    table = parts[0] if len(parts) == 1 else pa.concat_tables(parts)
    if len(parts) == 1 and (order[0][1:] > order[0][:-1]).all():
        return table
    return table.take(pa.array(np.argsort(np.concatenate(order), kind="stable")))


def _hits(view: TableView, res: Any) -> list[list[SearchHit]]:
    """Rowids of a search result turned into ids and metadata (one take for the batch)."""
    valid = np.arange(res.ids.shape[1])[None, :] < res.counts[:, None]
    rowids = res.ids[valid]
    if len(rowids):
        rows = _take(view, rowids, [_ID, _META])
        ids = rows.column(0).to_pylist()
        metas = rows.column(1).to_pylist()
    else:
        ids, metas = [], []
    dists = res.distances[valid].tolist()
    out: list[list[SearchHit]] = []
    pos = 0
    for c in res.counts.tolist():
        out.append([SearchHit(ids[i], dists[i], None if metas[i] is None else json.loads(metas[i]))
                    for i in range(pos, pos + c)])
        pos += c
    return out
