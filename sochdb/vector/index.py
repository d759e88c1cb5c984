"""HNSW vector index over usearch: the graph, the id map, the metric and its parameters.

A ``VectorIndex`` maps caller ids (int64) to dense internal slots that are usearch keys, keeps
the full-precision vectors next to a quantized graph so candidates are re-ranked exactly, and
saves to / opens from the versioned ``.hnsw`` file (memory-mapped, read-only). ``open_index``
caches opened files by path, inode, size and mtime. Imports usearch, numpy, sochdb.errors and
the sibling vector modules.
"""

from __future__ import annotations

import mmap as _mmap
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import numpy as np
import usearch
from usearch.index import Index as _UsearchIndex

from sochdb.errors import CorruptionError, IntegrityError, OperationalError, ProgrammingError
from sochdb.vector import hnsw_file
from sochdb.vector.formats import as_matrix, check_finite
from sochdb.vector.metrics import Metric, RunningTopK, get_metric

__all__ = ["VectorIndex", "SearchResult", "open_index", "clear_index_cache", "DTYPES",
           "DEFAULT_DTYPE", "normalize_dtype"]

DTYPES = ("f32", "f16", "bf16", "i8")
#: Graph precision used when none is given: an int8 graph builds 2-4x faster than float32 and,
#: with exact re-ranking from the stored float32 vectors, matches float32 recall (docs/vectors.md).
DEFAULT_DTYPE = "i8"
_DTYPE_ALIASES = {"f32": "f32", "float32": "f32", "float": "f32", "f16": "f16",
                  "float16": "f16", "half": "f16", "bf16": "bf16", "bfloat16": "bf16",
                  "i8": "i8", "int8": "i8"}
#: Re-ranking looks at max(RERANK_FACTOR * k, k + RERANK_EXTRA) graph candidates.
RERANK_FACTOR = 2
RERANK_EXTRA = 10
#: An allowed-id set at most this large (or this fraction of the index) is searched exactly.
EXACT_MAX_ALLOWED = 4096
EXACT_FRACTION = 0.05
_QUANT_QUANTILE = 0.9999
_QUANT_SAMPLE_VALUES = 1 << 20
_CONVERT_ROWS = 8192
_EXACT_CHUNK_ROWS = 32768
_RERANK_CHUNK_QUERIES = 256


def normalize_dtype(dtype: str | None) -> str:
    """Canonical graph dtype name (``f32``, ``f16``, ``bf16``, ``i8``); None means the default."""
    if dtype is None:
        return DEFAULT_DTYPE
    key = _DTYPE_ALIASES.get(str(dtype).strip().lower())
    if key is None:
        raise ProgrammingError(f"unknown index dtype {dtype!r}; valid dtypes: "
                               f"{', '.join(DTYPES)}", dtype=dtype)
    return key


def _positive_int(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ProgrammingError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


@dataclass
class SearchResult:
    """Nearest neighbours of a batch of queries, best first.

    ``ids`` (int64) and ``distances`` (float32) have shape (queries, k); row ``i`` is valid up
    to ``counts[i]`` and padded with id -1 and distance inf after that.
    """

    ids: np.ndarray
    distances: np.ndarray
    counts: np.ndarray

    def row(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """The valid ids and distances of query ``i``."""
        n = int(self.counts[i])
        return self.ids[i, :n], self.distances[i, :n]


class VectorIndex:
    """An HNSW index of fixed dimension and metric with caller-chosen int64 ids.

    Example:
        >>> idx = VectorIndex(3, metric="l2")
        >>> idx.add(np.diag([1.0, 2.0, 3.0]).astype(np.float32), ids=[10, 20, 30])
        array([10, 20, 30])
        >>> res = idx.search(np.array([1, 0, 0], dtype=np.float32), k=2)
        >>> res.ids[0].tolist(), [round(float(d), 3) for d in res.distances[0]]
        ([10, 20], [0.0, 2.236])
    """

    def __init__(self, dimension: int, metric: str = "cosine", *, m: int = 16,
                 ef_construction: int = 100, dtype: str | None = DEFAULT_DTYPE,
                 ef_search: int = 64) -> None:
        self._dimension = _positive_int("dimension", dimension)
        self._metric: Metric = get_metric(metric)
        self._m = _positive_int("m", m, 2)
        self._ef_construction = _positive_int("ef_construction", ef_construction)
        self._ef_search = _positive_int("ef_search", ef_search)
        self._dtype = normalize_dtype(dtype)
        self._usearch = self._new_usearch()
        self._size = 0                       # slots used (live + removed)
        self._count = 0                      # live vectors
        self._ids = np.empty(0, dtype=np.int64)
        self._live = np.empty(0, dtype=bool)
        self._vectors: np.ndarray | None = (
            None if self._dtype == "f32" else np.empty((0, self._dimension), np.float32))
        self._scale: float | None = None
        self._sorted: tuple[np.ndarray, np.ndarray] | None = None
        self._mm: _mmap.mmap | None = None
        self._views: list[memoryview] = []
        self._path: str | None = None
        self._read_only = False
        self._lock = threading.RLock()

    # -- construction helpers -------------------------------------------------------------

    @property
    def _usearch_metric(self) -> str:
        m = self._metric
        return m.usearch_f32 if self._dtype == "f32" else m.usearch_quant

    def _new_usearch(self) -> _UsearchIndex:
        return _UsearchIndex(ndim=self._dimension, metric=self._usearch_metric,
                             dtype=self._dtype, connectivity=self._m,
                             expansion_add=self._ef_construction,
                             expansion_search=self._ef_search)

    @property
    def _rerank(self) -> bool:
        return self._vectors is not None

    def _graph_input(self, x: np.ndarray) -> np.ndarray:
        """Vectors as the graph stores them: raw for f32, unit-length for cosine, int8 for i8."""
        if self._dtype == "f32" or (not self._metric.normalize and self._dtype != "i8"):
            return x
        if len(x) <= _CONVERT_ROWS:
            return self._convert_block(x)
        out = np.empty(x.shape, dtype=np.int8 if self._dtype == "i8" else np.float32)
        for start in range(0, len(x), _CONVERT_ROWS):
            out[start:start + _CONVERT_ROWS] = self._convert_block(x[start:start + _CONVERT_ROWS])
        return out

    def _convert_block(self, block: np.ndarray) -> np.ndarray:
        if self._metric.normalize:
            norms = np.sqrt((block * block).sum(axis=1, keepdims=True))
            norms[norms == 0] = 1.0
            block = block / norms
        if self._dtype == "i8":
            scaled = np.multiply(block, self._scale, dtype=np.float32)
            np.rint(scaled, out=scaled)
            np.clip(scaled, -127, 127, out=scaled)
            return scaled.astype(np.int8)
        return block

    def _fit_scale(self, x: np.ndarray) -> float:
        """The int8 scale: 127 over a high quantile of |value|, from an even sample of rows.

        It is fixed by the first batch added (the whole input for a bulk build); later values
        beyond it are clipped, which only coarsens the graph since results are re-ranked.
        """
        step = max(1, len(x) * x.shape[1] // _QUANT_SAMPLE_VALUES)
        sample = np.asarray(x[::step], dtype=np.float32)
        if self._metric.normalize:
            norms = np.sqrt(np.einsum("ij,ij->i", sample, sample))[:, None]
            sample = sample / np.where(norms > 0, norms, 1.0)
        flat = np.abs(sample).reshape(-1)
        hi = float(np.quantile(flat, _QUANT_QUANTILE)) if flat.size >= 1000 else float(flat.max())
        return 127.0 / hi if hi > 0 else 1.0

    # -- properties ---------------------------------------------------------------------------

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def metric(self) -> str:
        """Canonical metric name: ``cosine``, ``l2`` or ``ip``."""
        return self._metric.name

    @property
    def m(self) -> int:
        return self._m

    @property
    def ef_construction(self) -> int:
        return self._ef_construction

    @property
    def ef_search(self) -> int:
        """Default search breadth when ``search`` gets no ``ef``."""
        return self._ef_search

    @property
    def dtype(self) -> str:
        return self._dtype

    @property
    def path(self) -> str | None:
        """The file this index was opened from, if any."""
        return self._path

    @property
    def read_only(self) -> bool:
        """True for memory-mapped indexes: they answer queries but cannot change."""
        return self._read_only

    @property
    def quantization_scale(self) -> float | None:
        return self._scale

    def __len__(self) -> int:
        return self._count

    @property
    def ids(self) -> np.ndarray:
        """The ids of the live vectors, in insertion order."""
        return self._ids[:self._size][self._live[:self._size]]

    def __repr__(self) -> str:
        where = f", path={self._path!r}" if self._path else ""
        return (f"VectorIndex(dimension={self._dimension}, metric={self.metric!r}, "
                f"vectors={self._count}, m={self._m}, ef_construction={self._ef_construction}, "
                f"dtype={self._dtype!r}{where})")

    # -- id map -------------------------------------------------------------------------------

    def _lookup(self, ids: np.ndarray) -> np.ndarray:
        """Slots of ``ids`` among the live vectors, -1 where absent (vectorized)."""
        if self._sorted is None:
            slots = np.flatnonzero(self._live[:self._size])
            keys = self._ids[slots]
            order = np.argsort(keys, kind="stable")
            self._sorted = (keys[order], slots[order])
        keys, slots = self._sorted
        if keys.size == 0:
            return np.full(ids.shape, -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(keys, ids), keys.size - 1)
        return np.where(keys[pos] == ids, slots[pos], -1)

    @staticmethod
    def _as_ids(ids: object, name: str = "ids") -> np.ndarray:
        arr = np.asarray(ids)
        if arr.ndim == 0:
            arr = arr.reshape(1)
        if arr.size and arr.dtype.kind not in "iu":
            raise ProgrammingError(f"{name} must be integers, got dtype {arr.dtype}")
        if arr.ndim != 1:
            raise ProgrammingError(f"{name} must be one-dimensional, got shape {arr.shape}")
        if arr.dtype.kind == "u" and arr.size and arr.max() > np.iinfo(np.int64).max:
            raise ProgrammingError(f"{name} must fit in a signed 64-bit integer")
        return arr.astype(np.int64, copy=False)

    def contains(self, ids: object) -> np.ndarray:
        """Boolean array: which of ``ids`` are live in the index."""
        return self._lookup(self._as_ids(ids)) >= 0

    def __contains__(self, id_: int) -> bool:
        return bool(self.contains([id_])[0])

    # -- changes ------------------------------------------------------------------------------

    def _check_writable(self) -> None:
        if self._read_only:
            raise ProgrammingError(f"{self._path}: index is memory-mapped read-only; open it with "
                                   f"mmap=False to change it")

    def _reserve(self, extra: int) -> None:
        need = self._size + extra
        if need <= len(self._ids) and (self._vectors is None or need <= len(self._vectors)):
            return
        cap = max(need, 2 * len(self._ids), 1024)
        ids = np.empty(cap, dtype=np.int64)
        ids[:self._size] = self._ids[:self._size]
        live = np.zeros(cap, dtype=bool)
        live[:self._size] = self._live[:self._size]
        self._ids, self._live = ids, live
        if self._vectors is not None:
            vec = np.empty((cap, self._dimension), dtype=np.float32)
            vec[:self._size] = self._vectors[:self._size]
            self._vectors = vec

    def add(self, vectors: object, ids: object = None, *, threads: int | None = None,
            progress: Callable[[int, int], Any] | None = None, copy: bool = True) -> np.ndarray:
        """Insert vectors under ``ids`` (default: consecutive ints from the slot count).

        Args:
            vectors: (n, dimension) floats, or one vector.
            ids: n distinct int64 ids not already live in the index.
            threads: build threads; None uses every core.
            progress: called as ``progress(done, total)`` while the graph grows.
            copy: False lets an empty index keep a reference to ``vectors`` (float32,
                C-contiguous) instead of copying them; the caller must not change them.

        Returns:
            The ids, as an int64 array.
        """
        self._check_writable()
        x = as_matrix(vectors, self._dimension, name="vectors")
        n = len(x)
        if ids is None:
            new_ids = np.arange(self._size, self._size + n, dtype=np.int64)
        else:
            new_ids = self._as_ids(ids)
            if len(new_ids) != n:
                raise ProgrammingError(f"got {len(new_ids)} ids for {n} vectors")
        if n == 0:
            return new_ids
        check_finite(x, name="vectors")
        uniq, counts = np.unique(new_ids, return_counts=True)
        if uniq.size != n:
            dup = uniq[counts > 1][0]
            where = np.flatnonzero(new_ids == dup)[:2].tolist()
            raise IntegrityError(f"duplicate id {int(dup)} at positions {where[0]} and "
                                 f"{where[1]}", id=int(dup))
        with self._lock:
            present = self._lookup(new_ids) >= 0
            if present.any():
                dup = int(new_ids[np.flatnonzero(present)[0]])
                raise IntegrityError(f"id {dup} is already in the index", id=dup)
            threads = 0 if threads is None else _positive_int("threads", threads)
            if self._dtype == "i8" and self._scale is None:
                self._scale = self._fit_scale(x)
            graph = self._graph_input(x)
            slots = np.arange(self._size, self._size + n, dtype=np.uint64)
            step = n if progress is None else max(2048, -(-n // 50))
            for start in range(0, n, step):
                self._usearch.add(slots[start:start + step], graph[start:start + step],
                                  threads=threads)
                if progress is not None:
                    progress(min(start + step, n), n)
            adopt = not copy and self._size == 0 and self._vectors is not None
            if adopt:
                self._ids, self._live = new_ids.copy(), np.ones(n, dtype=bool)
                self._vectors = x
            else:
                self._reserve(n)
                self._ids[self._size:self._size + n] = new_ids
                self._live[self._size:self._size + n] = True
                if self._vectors is not None:
                    self._vectors[self._size:self._size + n] = x
            self._size += n
            self._count += n
            self._sorted = None
        return new_ids

    def remove(self, ids: object) -> int:
        """Remove the live vectors with these ids; unknown ids are ignored. Returns how many."""
        self._check_writable()
        with self._lock:
            slots = self._lookup(self._as_ids(ids))
            slots = np.unique(slots[slots >= 0])
            if slots.size == 0:
                return 0
            self._usearch.remove(slots.astype(np.uint64))
            self._live[slots] = False
            self._count -= int(slots.size)
            self._sorted = None
            if self._size - self._count > self._count:
                # More removed nodes than live ones: searches start to lose live neighbours
                # behind the tombstones, so rebuild (amortized: after as many removals as the
                # rebuild costs).
                self.compact()
            return int(slots.size)

    def compact(self, threads: int | None = None) -> None:
        """Rebuild the graph from the live vectors: drops removed slots, refits the int8 scale.

        Useful after many removals, or when the first batch added was too small to fit a good
        int8 scale; ids, vectors and answers stay the same (up to graph approximation).
        """
        self._check_writable()
        with self._lock:
            slots = np.flatnonzero(self._live[:self._size])
            fresh = VectorIndex(self._dimension, self.metric, m=self._m,
                                ef_construction=self._ef_construction, dtype=self._dtype,
                                ef_search=self._ef_search)
            if slots.size:
                fresh.add(self._slot_vectors(slots), self._ids[slots].copy(), threads=threads,
                          copy=False)
            self._usearch.reset()
            for name in ("_usearch", "_size", "_count", "_ids", "_live", "_vectors", "_scale"):
                setattr(self, name, getattr(fresh, name))
            self._sorted = None

    def get(self, ids: object) -> np.ndarray:
        """The stored float32 vectors of ``ids`` (shape (n, dimension)); unknown ids are errors."""
        arr = self._as_ids(ids)
        slots = self._lookup(arr)
        if (slots < 0).any():
            missing = int(arr[np.flatnonzero(slots < 0)[0]])
            raise ProgrammingError(f"id {missing} is not in the index", id=missing)
        return self._slot_vectors(slots)

    def _slot_vectors(self, slots: np.ndarray) -> np.ndarray:
        if self._vectors is not None:
            return np.asarray(self._vectors[slots], dtype=np.float32)
        out = self._usearch.get(slots.astype(np.uint64), dtype=np.float32)
        return np.asarray(out, dtype=np.float32).reshape(len(slots), self._dimension)

    # -- search -------------------------------------------------------------------------------

    def search(self, queries: object, k: int = 10, *, ef: int | None = None,
               filter: Callable[[np.ndarray], object] | None = None,  # noqa: A002
               allowed_ids: Iterable[int] | np.ndarray | None = None, exact: bool = False,
               threads: int | None = None) -> SearchResult:
        """The ``k`` nearest live vectors of each query row, best (lowest distance) first.

        Args:
            queries: one vector or a (queries, dimension) matrix.
            k: neighbours per query.
            ef: graph search breadth (usearch expansion_search); larger is slower and finds
                more of the true neighbours. Defaults to ``ef_search``.
            filter: a vectorized predicate: called with an int64 array of candidate ids, it
                returns one boolean per id; only ids it accepts are returned.
            allowed_ids: only these ids may be returned. Small sets are searched exactly.
            exact: compare with every (allowed) vector instead of walking the graph.
            threads: threads for batches of queries; None uses every core.

        Distances follow the metric's definition (see sochdb.vector.metrics) and are exact
        whenever the index re-ranks (any dtype but f32, whose graph distances are exact).
        """
        k = _positive_int("k", k)
        ef = self._ef_search if ef is None else _positive_int("ef", ef)
        threads = 0 if threads is None else _positive_int("threads", threads)
        q = as_matrix(queries, self._dimension, name="query")
        check_finite(q, name="query")
        if self._count == 0 or len(q) == 0:
            return _empty(len(q), k)
        if filter is not None or allowed_ids is not None:
            return self._filtered(q, k, ef, threads, filter, allowed_ids, exact)
        if exact or k >= self._count:
            # Asking for every vector: a scan is exact and no slower than the graph.
            return self._exact(q, k, np.flatnonzero(self._live[:self._size]))
        slots, dist, counts = self._candidates(q, k, ef, threads)
        return self._finish(slots[:, :k], dist[:, :k], np.minimum(counts, k))

    def _graph_search(self, gq: np.ndarray, want: int, ef: int,
                      threads: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """usearch search returning (keys, distances, counts), each with one row per query."""
        with self._lock:
            if self._usearch.expansion_search != ef:
                self._usearch.expansion_search = ef
            compiled = getattr(self._usearch, "_compiled", None)
            if compiled is not None and hasattr(compiled, "search_many"):
                # The compiled call skips ~20-50 us of wrapper work per query.
                keys, dist, counts = compiled.search_many(gq, count=want, exact=False,
                                                          threads=threads)[:3]
                return keys.astype(np.int64), dist, np.asarray(counts, dtype=np.int64)
            found = self._usearch.search(gq, want, threads=threads)
        if hasattr(found, "counts"):
            return (found.keys.astype(np.int64), found.distances,
                    np.asarray(found.counts, dtype=np.int64))
        n = len(found.keys)          # one query: usearch trims the arrays to what it found
        keys = np.zeros((1, want), dtype=np.int64)
        dist = np.full((1, want), np.inf, dtype=np.float32)
        keys[0, :n], dist[0, :n] = found.keys, found.distances
        return keys, dist, np.array([n], dtype=np.int64)

    def _candidates(self, q: np.ndarray, k: int, ef: int,
                    threads: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Graph search for ``k`` results, re-ranked; returns slots, distances, counts."""
        want = min(self._count, max(RERANK_FACTOR * k, k + RERANK_EXTRA)) if self._rerank else k
        want = max(want, 1)
        keys, dist, counts = self._graph_search(self._graph_input(q), want, max(ef, want),
                                                threads)
        full = bool((counts == want).all())
        if not full:
            valid = np.arange(want)[None, :] < counts[:, None]
            keys = np.where(valid, keys, 0)
        if not self._rerank:
            dist = self._metric.from_usearch(dist)
            if not full:
                dist = np.where(valid, dist, np.inf).astype(np.float32)
            return keys, dist, counts
        if len(q) <= _RERANK_CHUNK_QUERIES:
            exact = self._metric.rowwise(q, self._vectors[keys])
        else:
            exact = np.empty(keys.shape, dtype=np.float32)
            for start in range(0, len(q), _RERANK_CHUNK_QUERIES):
                sl = slice(start, start + _RERANK_CHUNK_QUERIES)
                exact[sl] = self._metric.rowwise(q[sl], self._vectors[keys[sl]])
        if not full:
            exact[~valid] = np.inf
        order = np.argsort(exact, axis=1, kind="stable")
        return (np.take_along_axis(keys, order, 1), np.take_along_axis(exact, order, 1),
                counts)

    def _finish(self, slots: np.ndarray, dist: np.ndarray, counts: np.ndarray) -> SearchResult:
        if bool((counts == slots.shape[1]).all()):
            return SearchResult(ids=self._ids[slots].astype(np.int64, copy=False),
                                distances=dist.astype(np.float32, copy=False),
                                counts=counts.astype(np.int64, copy=False))
        valid = np.arange(slots.shape[1])[None, :] < counts[:, None]
        ids = np.where(valid, self._ids[np.where(valid, slots, 0)], -1)
        dist = np.where(valid, dist, np.inf).astype(np.float32)
        return SearchResult(ids=ids.astype(np.int64), distances=dist,
                            counts=counts.astype(np.int64))

    def _exact(self, q: np.ndarray, k: int, slots: np.ndarray) -> SearchResult:
        """Brute force over ``slots`` in chunks, keeping a running top ``k`` per query."""
        top = RunningTopK(len(q), k)
        for start in range(0, len(slots), _EXACT_CHUNK_ROWS):
            chunk = slots[start:start + _EXACT_CHUNK_ROWS]
            top.add(self._metric.pairwise(q, self._slot_vectors(chunk)), chunk)
        best_s, best_d, counts = top.result(pad_id=0)
        return self._finish(best_s, best_d, counts)

    def _apply_filter(self, predicate: Callable[[np.ndarray], object],
                      ids: np.ndarray) -> np.ndarray:
        mask = np.asarray(predicate(ids))
        if mask.shape != ids.shape or mask.dtype.kind not in "bui":
            raise ProgrammingError(f"filter must return one boolean per id it is given "
                                   f"({ids.shape[0]}), got shape {mask.shape} dtype {mask.dtype}")
        return mask.astype(bool, copy=False)

    def _filtered(self, q: np.ndarray, k: int, ef: int, threads: int,
                  predicate: Callable[[np.ndarray], object] | None,
                  allowed_ids: object, exact: bool) -> SearchResult:
        """Filtered search: exact over small allowed sets, else widening graph searches.

        The graph is asked for more candidates (x4 each round) until every query has ``k``
        that pass; past half the index it falls back to an exact scan of the passing vectors.
        """
        allowed_mask = None
        if allowed_ids is not None:
            if not isinstance(allowed_ids, (np.ndarray, list, tuple)):
                allowed_ids = list(allowed_ids)
            slots = self._lookup(self._as_ids(allowed_ids, "allowed_ids"))
            slots = np.unique(slots[slots >= 0])
            if exact or slots.size <= max(EXACT_MAX_ALLOWED, EXACT_FRACTION * self._count):
                if predicate is not None and slots.size:
                    slots = slots[self._apply_filter(predicate, self._ids[slots])]
                return self._exact(q, k, slots)
            allowed_mask = np.zeros(self._size, dtype=bool)
            allowed_mask[slots] = True
        if exact:
            return self._exact(q, k, self._passing_slots(predicate, allowed_mask))
        nq = len(q)
        out_s = np.zeros((nq, k), dtype=np.int64)
        out_d = np.full((nq, k), np.inf, dtype=np.float32)
        out_c = np.zeros(nq, dtype=np.int64)
        pending = np.arange(nq)
        want = max(RERANK_FACTOR * k, k + RERANK_EXTRA) * 2
        while pending.size:
            if want * 2 > self._count:
                res = self._exact(q[pending], k, self._passing_slots(predicate, allowed_mask))
                slots_done = self._lookup(np.where(res.ids >= 0, res.ids, 0))
                out_s[pending], out_d[pending], out_c[pending] = slots_done, res.distances, \
                    res.counts
                break
            slots, dist, counts = self._candidates(q[pending], want, max(ef, want), threads)
            ok = np.arange(slots.shape[1])[None, :] < counts[:, None]
            if allowed_mask is not None:
                ok &= allowed_mask[slots]
            if predicate is not None:
                flat = np.flatnonzero(ok)
                keep = self._apply_filter(predicate, self._ids[slots.reshape(-1)[flat]])
                ok.reshape(-1)[flat[~keep]] = False
            dist = np.where(ok, dist, np.inf)
            order = np.argsort(dist, axis=1, kind="stable")[:, :k]
            got = np.minimum(ok.sum(axis=1), k)
            done = (got >= k) | (counts >= self._count)
            sel = pending[done]
            out_s[sel] = np.take_along_axis(slots, order, 1)[done]
            out_d[sel] = np.take_along_axis(dist, order, 1)[done]
            out_c[sel] = got[done]
            pending = pending[~done]
            want *= 4
        return self._finish(out_s, out_d, out_c)

    def _passing_slots(self, predicate: Callable[[np.ndarray], object] | None,
                       allowed_mask: np.ndarray | None) -> np.ndarray:
        live = self._live[:self._size].copy()
        if allowed_mask is not None:
            live &= allowed_mask
        slots = np.flatnonzero(live)
        if predicate is not None and slots.size:
            slots = slots[self._apply_filter(predicate, self._ids[slots])]
        return slots

    # -- persistence --------------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        """Parameters and counts, as ``bulk_info`` and ``sochdb-bulk info`` show them."""
        return {"path": self._path, "dimension": self._dimension, "vectors": self._count,
                "metric": self.metric, "m": self._m, "ef_construction": self._ef_construction,
                "ef_search": self._ef_search, "dtype": self._dtype,
                "rerank": self._rerank, "quantization_scale": self._scale,
                "file_version": hnsw_file.FORMAT_VERSION, "memory_mapped": self._read_only}

    def _meta(self) -> dict[str, Any]:
        from sochdb import __version__
        return {"metric": self.metric, "dimension": self._dimension, "m": self._m,
                "ef_construction": self._ef_construction, "ef_search": self._ef_search,
                "dtype": self._dtype, "count": self._count, "slots": self._size,
                "quantization": None if self._scale is None else {"scale": self._scale},
                "rerank": self._rerank,
                "usearch": {"metric": self._usearch_metric, "dtype": self._dtype,
                            "normalized": bool(self._metric.normalize and self._dtype != "f32"),
                            "version": usearch.__version__},
                "created_by": f"sochdb {__version__}",
                "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}

    def save(self, path: str | os.PathLike) -> int:
        """Write the index to ``path`` as a ``.hnsw`` file (atomically); returns its size."""
        with self._lock:
            # The graph goes last: opening scans it sequentially, and the kernel's read-ahead
            # then runs past the end of the file instead of into the vectors.
            sections: list[tuple[str, Any, dict[str, Any]]] = []
            if self._vectors is not None:
                sections.append(("vectors", self._vectors[:self._size],
                                 {"dtype": "<f4", "shape": [self._size, self._dimension]}))
            sections += [
                ("ids", self._ids[:self._size].astype("<i8", copy=False),
                 {"dtype": "<i8", "shape": [self._size]}),
                ("live", self._live[:self._size].view(np.uint8),
                 {"dtype": "|u1", "shape": [self._size]}),
                ("graph", self._usearch.save(), {}),
            ]
            return hnsw_file.write_file(path, self._meta(), sections)

    @classmethod
    def open(cls, path: str | os.PathLike, *, mmap: bool = True) -> VectorIndex:
        """Open a ``.hnsw`` file: memory-mapped read-only (default) or loaded to change it.

        With ``mmap=True`` nothing but the header and the graph's node table is read up
        front; vectors are paged in as queries touch them.
        """
        header, mm = hnsw_file.map_file(path)
        try:
            return cls._from_mapped(header, mm, mmap)
        except BaseException:
            _close_map(mm)
            raise

    @classmethod
    def _from_mapped(cls, header: hnsw_file.HnswHeader, mm: _mmap.mmap,
                     keep_mapped: bool) -> VectorIndex:
        meta, path = header.meta, header.path
        try:
            self = cls(int(meta["dimension"]), meta["metric"], m=int(meta["m"]),
                       ef_construction=int(meta["ef_construction"]),
                       dtype=meta["dtype"], ef_search=int(meta.get("ef_search", 64)))
            size, count = int(meta["slots"]), int(meta["count"])
            sections = header.sections
            graph_sec, ids_sec, live_sec = sections["graph"], sections["ids"], sections["live"]
            quant = meta.get("quantization")
            scale = float(quant["scale"]) if quant else None
        except (KeyError, TypeError, ValueError, ProgrammingError) as exc:
            raise CorruptionError(f"{path}: .hnsw metadata is incomplete or invalid ({exc})",
                                  path=path) from None
        if self._dtype == "i8" and scale is None and count:
            raise CorruptionError(f"{path}: int8 index without a quantization scale", path=path)
        if (ids_sec["length"] != 8 * size or live_sec["length"] != size
                or (self._vectors is not None and
                    sections.get("vectors", {}).get("length") != 4 * size * self._dimension)):
            raise CorruptionError(f"{path}: .hnsw sections do not match {size} slots of "
                                  f"dimension {self._dimension}", path=path)
        if keep_mapped and self._vectors is not None and size:
            _advise_random(mm, sections["vectors"])   # before the graph scan reads ahead
        view = memoryview(mm)
        graph = view[graph_sec["offset"]:graph_sec["offset"] + graph_sec["length"]]
        try:
            try:
                if keep_mapped:
                    self._usearch.view(graph)
                else:
                    self._usearch.load(graph)
            except (RuntimeError, ValueError) as exc:
                raise CorruptionError(f"{path}: the usearch graph section cannot be read "
                                      f"({exc})", path=path, offset=graph_sec["offset"]) from None
            held, ndim = len(self._usearch), self._usearch.ndim
            if held != count or ndim != self._dimension:
                raise CorruptionError(f"{path}: graph holds {held} vectors of dimension {ndim}, "
                                      f"metadata says {count} of {self._dimension}", path=path)
        except CorruptionError:
            self._usearch.reset()
            graph.release()
            view.release()
            raise
        ids = np.frombuffer(mm, dtype="<i8", count=size, offset=ids_sec["offset"])
        live = np.frombuffer(mm, dtype=np.bool_, count=size, offset=live_sec["offset"])
        vectors = None
        if self._vectors is not None:
            vectors = np.frombuffer(mm, dtype="<f4", count=size * self._dimension,
                                    offset=sections["vectors"]["offset"])
            vectors = vectors.reshape(size, self._dimension)
        if keep_mapped:
            self._ids, self._live, self._vectors = ids, live, vectors
            self._mm, self._views = mm, [graph, view]
            self._read_only = True
        else:
            self._ids, self._live = ids.copy(), live.copy()
            self._vectors = None if vectors is None else vectors.copy()
            del ids, live, vectors
            graph.release()
            view.release()
            _close_map(mm)
        self._size, self._count, self._scale, self._path = size, count, scale, path
        return self

    def close(self) -> None:
        """Release the graph and the file mapping; the index is empty afterwards."""
        with self._lock:
            self._usearch.reset()
            self._ids = np.empty(0, dtype=np.int64)
            self._live = np.empty(0, dtype=bool)
            if self._vectors is not None:
                self._vectors = np.empty((0, self._dimension), np.float32)
            self._size = self._count = 0
            self._sorted = None
            for v in self._views:
                v.release()
            self._views = []
            if self._mm is not None:
                _close_map(self._mm)
                self._mm = None

    def __del__(self) -> None:
        # A mapped graph must let go of the mapping before the mapping goes away.
        if self.__dict__.get("_mm") is not None:
            try:
                self._usearch.reset()
            except Exception:  # noqa: BLE001 - never raise from a finalizer
                pass

    def __enter__(self) -> VectorIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _close_map(mm: _mmap.mmap) -> None:
    try:
        mm.close()
    except BufferError:
        pass  # a caller still holds a view of the file; the mapping goes with it


def _advise_random(mm: _mmap.mmap, section: dict[str, Any]) -> None:
    """Re-ranking reads a few scattered rows per query: turn read-ahead off for them."""
    start = int(section["offset"])
    if not hasattr(_mmap, "MADV_RANDOM") or start % _mmap.PAGESIZE:
        return
    try:
        mm.madvise(_mmap.MADV_RANDOM, start, int(section["length"]))
    except (OSError, ValueError):
        pass


def _empty(nq: int, k: int) -> SearchResult:
    return SearchResult(ids=np.full((nq, k), -1, dtype=np.int64),
                        distances=np.full((nq, k), np.inf, dtype=np.float32),
                        counts=np.zeros(nq, dtype=np.int64))


# -- cache of opened files ------------------------------------------------------------------

CACHE_SIZE = 8
_cache: OrderedDict[tuple, VectorIndex] = OrderedDict()
_cache_lock = threading.Lock()


def open_index(path: str | os.PathLike) -> VectorIndex:
    """A memory-mapped, read-only ``VectorIndex`` for ``path``, reused while the file is unchanged.

    The cache key is the real path plus device, inode, size and mtime, so a rebuilt file (the
    writer replaces it atomically) is opened afresh; the least recently used of more than
    ``CACHE_SIZE`` indexes is dropped.
    """
    real = os.path.realpath(os.fspath(path))
    try:
        st = os.stat(real)
    except FileNotFoundError:
        raise OperationalError(f"{os.fspath(path)}: no such file", path=os.fspath(path)) from None
    key = (real, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    index = VectorIndex.open(real)
    with _cache_lock:
        for old in [k for k in _cache if k[0] == real]:
            del _cache[old]
        _cache[key] = index
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return index


def clear_index_cache() -> None:
    """Forget every cached index (they close when their last user drops them)."""
    with _cache_lock:
        _cache.clear()
