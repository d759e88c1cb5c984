"""Bulk vector API of the user guide: build a ``.hnsw`` file, query it, read its metadata.

A thin layer over ``sochdb.vector``: arguments are checked here, the work happens in
``VectorIndex``; queries reuse indexes already opened (memory-mapped) for the same unchanged
file. Imports numpy and sochdb.vector / sochdb.errors only.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple, TextIO

import numpy as np

from sochdb.errors import CorruptionError, ProgrammingError
from sochdb.vector import hnsw_file
from sochdb.vector.formats import as_matrix, read_vectors
from sochdb.vector.index import DEFAULT_DTYPE, VectorIndex, normalize_dtype, open_index
from sochdb.vector.metrics import get_metric

__all__ = ["bulk_build_index", "bulk_query_index", "bulk_info", "BuildStats", "Neighbor",
           "IndexInfo", "ProgressBar"]


@dataclass(frozen=True)
class BuildStats:
    """What ``bulk_build_index`` did; ``str(stats)`` gives the guide's two summary lines.

    ``rate`` is vectors per second over the whole call (checks, graph build, file write).
    """

    vectors: int
    dimension: int
    seconds: float
    rate: float
    size_bytes: int
    output: str
    metric: str
    m: int
    ef_construction: int
    dtype: str

    @property
    def size_mb(self) -> float:
        """File size in megabytes (10^6 bytes)."""
        return self.size_bytes / 1e6

    def __str__(self) -> str:
        return (f"Built {self.vectors} vectors at {self.rate:.0f} vec/s\n"
                f"Index size: {self.size_mb:.1f} MB")


class Neighbor(NamedTuple):
    """One search result: the caller's id and the distance (lower is closer)."""

    id: int
    distance: float


@dataclass(frozen=True)
class IndexInfo:
    """Metadata of a ``.hnsw`` file, from its header alone."""

    path: str | None
    dimension: int
    vectors: int
    metric: str
    m: int
    ef_construction: int
    ef_search: int
    dtype: str
    file_version: int
    size_bytes: int
    rerank: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        """The ``sochdb-bulk info`` lines."""
        return [f"Dimension: {self.dimension}", f"Vectors: {self.vectors}",
                f"Max connections: {self.m}", f"EF construction: {self.ef_construction}",
                f"Metric: {self.metric}", f"Graph dtype: {self.dtype}"
                + (" (re-ranked with float32)" if self.rerank else ""),
                f"File version: {self.file_version}",
                f"File size: {self.size_bytes / 1e6:.1f} MB"]

    def __str__(self) -> str:
        return "\n".join(self.lines())


class ProgressBar:
    """A one-line progress bar on a stream (stderr by default), redrawn at most 10 times/s."""

    def __init__(self, label: str = "Building index", stream: TextIO | None = None,
                 width: int = 30) -> None:
        self.label, self.stream, self.width = label, stream or sys.stderr, width
        self.start = time.perf_counter()
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if done < total and now - self._last < 0.1:
            return
        self._last = now
        frac = done / total if total else 1.0
        filled = int(frac * self.width)
        rate = done / max(now - self.start, 1e-9)
        self.stream.write(f"\r{self.label} {frac:4.0%} |{'#' * filled}{' ' * (self.width - filled)}"
                          f"| {done}/{total} vectors, {rate:,.0f} vec/s")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def bulk_build_index(embeddings: np.ndarray | str | os.PathLike, output: str | os.PathLike,
                     m: int = 16, ef_construction: int = 100, metric: str = "cosine",
                     ids: Any = None, threads: int | None = None,
                     progress: bool | Callable[[int, int], Any] = False,
                     dtype: str = DEFAULT_DTYPE) -> BuildStats:
    """Build an HNSW index over ``embeddings`` and write it to ``output`` as a ``.hnsw`` file.

    Args:
        embeddings: (n, dimension) float array, or the path of a .npy/.fvecs file.
        output: the file to write (replaced atomically).
        m: graph connections per node (HNSW "M").
        ef_construction: search breadth while inserting.
        metric: ``cosine``, ``l2``/``euclidean`` or ``ip``/``dot``/``inner_product``.
        ids: n distinct integer ids; default 0..n-1 (the row numbers).
        threads: build threads; None uses every core.
        progress: True draws a progress bar on stderr; a callable gets ``(done, total)``.
        dtype: graph precision: ``i8`` (default; re-ranked with the float32 vectors kept in
            the file), ``f16``, ``bf16`` or ``f32``.

    Returns:
        BuildStats with ``vectors``, ``dimension``, ``rate`` (vec/s), ``seconds``,
        ``size_bytes``.

    Example::

        stats = bulk_build_index(embeddings, output="my_index.hnsw", m=16,
                                 ef_construction=100, metric="cosine")
        print(f"Built {stats.vectors} vectors at {stats.rate:.0f} vec/s")
    """
    start = time.perf_counter()
    metric_obj = get_metric(metric)
    dtype = normalize_dtype(dtype)
    if isinstance(embeddings, (str, os.PathLike)):
        x = read_vectors(embeddings)
    else:
        x = as_matrix(embeddings, name="embeddings", allow_1d=False)
    if len(x) == 0:
        raise ProgrammingError("embeddings: no vectors to index")
    callback = ProgressBar() if progress is True else (progress or None)
    if callback is not None and not callable(callback):
        raise ProgrammingError(f"progress must be a bool or a callable, got {progress!r}")
    index = VectorIndex(x.shape[1], metric_obj.name, m=m, ef_construction=ef_construction,
                        dtype=dtype)
    index.add(x, ids, threads=threads, progress=callback, copy=False)
    size = index.save(output)
    index.close()
    seconds = time.perf_counter() - start
    return BuildStats(vectors=len(x), dimension=x.shape[1], seconds=seconds,
                      rate=len(x) / seconds if seconds > 0 else float("inf"),
                      size_bytes=size, output=os.fspath(output), metric=metric_obj.name, m=m,
                      ef_construction=ef_construction, dtype=dtype)


def _resolve(index: VectorIndex | str | os.PathLike) -> VectorIndex:
    if isinstance(index, VectorIndex):
        return index
    if isinstance(index, (str, os.PathLike)):
        return open_index(index)
    raise ProgrammingError(f"index must be a path or a VectorIndex, got {type(index).__name__}")


def bulk_query_index(index: VectorIndex | str | os.PathLike, query: Any, k: int = 10,
                     ef_search: int = 64, *,
                     filter: Callable[[np.ndarray], Any] | None = None,  # noqa: A002
                     allowed_ids: Any = None) -> list[Neighbor] | list[list[Neighbor]]:
    """The ``k`` nearest neighbours of one query vector, or of each row of a 2-D batch.

    ``index`` is a ``.hnsw`` path (opened once, memory-mapped, and reused while the file is
    unchanged) or a ``VectorIndex``. A 1-D query gives a list of ``Neighbor(id, distance)``,
    best first; a 2-D query gives one such list per row. ``filter`` and ``allowed_ids``
    restrict the results as in ``VectorIndex.search``.
    """
    idx = _resolve(index)
    q = np.asarray(query)
    if q.ndim not in (1, 2):
        raise ProgrammingError(f"query must be one vector or a 2-D batch, got shape {q.shape}")
    single = q.ndim == 1
    res = idx.search(q, k=k, ef=ef_search, filter=filter, allowed_ids=allowed_ids)
    ids, dist, counts = res.ids.tolist(), res.distances.tolist(), res.counts.tolist()
    rows = [[Neighbor(i, d) for i, d in zip(ids[r][:counts[r]], dist[r][:counts[r]])]
            for r in range(len(counts))]
    return rows[0] if single else rows


def bulk_info(index: VectorIndex | str | os.PathLike) -> IndexInfo:
    """Metadata of an index file (read from its header only) or of an open ``VectorIndex``."""
    if isinstance(index, VectorIndex):
        info = index.info()
        size = os.stat(index.path).st_size if index.path else 0
        return IndexInfo(path=index.path, dimension=info["dimension"], vectors=info["vectors"],
                         metric=info["metric"], m=info["m"],
                         ef_construction=info["ef_construction"], ef_search=info["ef_search"],
                         dtype=info["dtype"], file_version=info["file_version"],
                         size_bytes=size, rerank=info["rerank"])
    if not isinstance(index, (str, os.PathLike)):
        raise ProgrammingError(f"index must be a path or a VectorIndex, got {type(index).__name__}")
    header = hnsw_file.read_header(index)
    meta = header.meta
    try:
        return IndexInfo(path=header.path, dimension=int(meta["dimension"]),
                         vectors=int(meta["count"]), metric=meta["metric"], m=int(meta["m"]),
                         ef_construction=int(meta["ef_construction"]),
                         ef_search=int(meta.get("ef_search", 64)), dtype=meta["dtype"],
                         file_version=header.version, size_bytes=header.file_size,
                         rerank=bool(meta.get("rerank", False)))
    except (KeyError, TypeError, ValueError) as exc:
        raise CorruptionError(f"{header.path}: .hnsw metadata is incomplete or invalid ({exc})",
                              path=header.path) from None
