"""Distance metrics of the vector layer: names, exact numpy distances, and how each maps to usearch.

Every distance is lower-is-better:

* ``cosine``: ``1 - cos(q, x)``, clamped to [0, 2] (rounding can otherwise give -1e-7 for
  identical vectors). A zero vector has distance 1 to everything.
* ``l2`` (also ``euclidean``): the Euclidean distance ``||q - x||`` (not squared), the same
  number as SQL ``array_distance``.
* ``ip`` (also ``dot``, ``inner_product``): ``1 - q.x``, as usearch reports it; for unit
  vectors it equals the cosine distance. SQL ``array_inner_product`` is ``1 - distance``.

Imports numpy and sochdb.errors only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sochdb.errors import ProgrammingError

__all__ = ["Metric", "METRICS", "RunningTopK", "get_metric", "metric_names"]


@dataclass(frozen=True)
class Metric:
    """One distance function and how an HNSW graph is built for it.

    ``normalize`` says whether vectors are scaled to unit length before they enter a quantized
    graph (cosine then runs as the cheaper inner product); ``usearch_f32`` and ``usearch_quant``
    name the usearch metric used for full-precision and for quantized graphs.
    """

    name: str
    description: str
    usearch_f32: str
    usearch_quant: str
    normalize: bool

    def pairwise(self, queries: np.ndarray, vectors: np.ndarray) -> np.ndarray:
        """Exact distances between every query row and every vector row, shape (nq, n).

        Uses one matrix product; for ``l2`` the expansion ``|q|^2 - 2 q.x + |x|^2`` is computed
        in float64 so that cancellation stays below float32 precision.
        """
        q = np.atleast_2d(np.asarray(queries, dtype=np.float32))
        x = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        if self.name == "cosine":
            dots = q @ x.T
            denom = _norms(q)[:, None] * _norms(x)[None, :]
            with np.errstate(divide="ignore", invalid="ignore"):
                cos = np.where(denom > 0, dots / np.where(denom > 0, denom, 1), 0.0)
            return np.clip(1.0 - cos, 0.0, 2.0).astype(np.float32)
        if self.name == "ip":
            return (1.0 - q @ x.T).astype(np.float32)
        q64, x64 = q.astype(np.float64), x.astype(np.float64)
        sq = (q64 * q64).sum(1)[:, None] - 2.0 * (q64 @ x64.T) + (x64 * x64).sum(1)[None, :]
        return np.sqrt(np.maximum(sq, 0.0)).astype(np.float32)

    def rowwise(self, queries: np.ndarray, candidates: np.ndarray) -> np.ndarray:
        """Exact distances of each query to its own candidate rows: (nq, d) x (nq, c, d) -> (nq, c).

        This is the re-ranking step after a quantized graph search.
        """
        q = np.asarray(queries, dtype=np.float32)
        c = np.asarray(candidates, dtype=np.float32)
        if self.name == "l2":
            diff = c - q[:, None, :]
            return np.sqrt((diff * diff).sum(axis=2)).astype(np.float32)
        dots = np.matmul(c, q[:, :, None])[:, :, 0]
        if self.name == "ip":
            return (1.0 - dots).astype(np.float32)
        denom = np.sqrt((c * c).sum(axis=2) * (q * q).sum(axis=1)[:, None])
        if denom.all():
            cos = dots / denom
        else:
            cos = np.where(denom > 0, dots / np.where(denom > 0, denom, 1), 0.0)
        return np.minimum(np.maximum(1.0 - cos, 0.0), 2.0).astype(np.float32, copy=False)

    def from_usearch(self, distances: np.ndarray) -> np.ndarray:
        """Convert distances of a full-precision usearch graph into this metric's definition."""
        if self.name == "l2":
            return np.sqrt(np.maximum(distances, 0.0)).astype(np.float32)
        if self.name == "cosine":
            return np.clip(distances, 0.0, 2.0).astype(np.float32)
        return distances.astype(np.float32, copy=False)


def _norms(x: np.ndarray) -> np.ndarray:
    return np.sqrt(np.einsum("ij,ij->i", x, x))


METRICS: dict[str, Metric] = {
    "cosine": Metric("cosine", "1 - cos(q, x); 0 = same direction, 2 = opposite",
                     usearch_f32="cos", usearch_quant="ip", normalize=True),
    "l2": Metric("l2", "Euclidean distance ||q - x|| (not squared)",
                 usearch_f32="l2sq", usearch_quant="l2sq", normalize=False),
    "ip": Metric("ip", "1 - q.x (inner product turned into a distance, as in usearch)",
                 usearch_f32="ip", usearch_quant="ip", normalize=False),
}

_ALIASES = {
    "cosine": "cosine", "cos": "cosine",
    "l2": "l2", "euclidean": "l2",
    "ip": "ip", "dot": "ip", "inner_product": "ip",
}


def metric_names() -> list[str]:
    """Every accepted metric name, canonical names first."""
    return ["cosine", "cos", "l2", "euclidean", "ip", "dot", "inner_product"]


def get_metric(name: str) -> Metric:
    """Resolve a metric name or alias; unknown names are an error, never a silent default.

    >>> get_metric("euclidean").name
    'l2'
    """
    if isinstance(name, Metric):
        return name
    key = _ALIASES.get(str(name).strip().lower()) if isinstance(name, str) else None
    if key is None:
        raise ProgrammingError(
            f"unknown metric {name!r}; valid metrics: {', '.join(metric_names())}",
            metric=name)
    return METRICS[key]


class RunningTopK:
    """The ``k`` smallest distances per query over candidates seen chunk by chunk, so exact
    search over many rows never holds a full (queries x rows) matrix. Ties: smaller id first."""

    def __init__(self, n_queries: int, k: int) -> None:
        self.k = k
        self.dist = np.zeros((n_queries, 0), dtype=np.float32)
        self.ids = np.zeros((n_queries, 0), dtype=np.int64)

    def add(self, dist: np.ndarray, ids: np.ndarray) -> None:
        """Candidates ``ids`` (one row of ids, shared by every query) at distances ``dist``."""
        d = np.concatenate([self.dist, dist], axis=1)
        i = np.concatenate([self.ids, np.broadcast_to(ids, (len(d), len(ids)))], axis=1)
        if d.shape[1] > self.k:
            part = np.argpartition(d, self.k - 1, axis=1)[:, :self.k]
            d, i = np.take_along_axis(d, part, 1), np.take_along_axis(i, part, 1)
        self.dist, self.ids = d, i

    def result(self, pad_id: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(ids, distances, counts), best first; rows shorter than ``k`` are padded with
        ``pad_id`` and infinity, ``counts`` says how many are real."""
        d, i = self.dist, self.ids
        if d.size:
            order = np.lexsort((i, d), axis=1)
            d, i = np.take_along_axis(d, order, 1), np.take_along_axis(i, order, 1)
        counts = np.full(len(d), d.shape[1], dtype=np.int64)
        pad = self.k - d.shape[1]
        if pad > 0:
            d = np.pad(d, ((0, 0), (0, pad)), constant_values=np.inf)
            i = np.pad(i, ((0, 0), (0, pad)), constant_values=pad_id)
        return i, d, counts
