"""VectorIndexService: the ``sochdb.v1.VectorIndexService`` RPCs over the database's vector
indexes (``db.create_vector_index`` and friends).

Wire metrics map to sochdb metrics as L2=1 -> ``l2``, COSINE=2 -> ``cosine``,
DOT_PRODUCT=3 -> ``ip`` (UNSPECIFIED=0 -> ``cosine``). Distances go out as the proto
documents them: Euclidean for L2, ``1 - cos`` for COSINE, and the negated inner product for
DOT_PRODUCT. Imports numpy, grpc, sochdb.database and the sibling gRPC modules.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import grpc
import numpy as np

from sochdb.database import Database
from sochdb.errors import Error
from sochdb.grpc import sochdb_pb2 as pb
from sochdb.grpc import sochdb_pb2_grpc as pb_grpc
from sochdb.grpc.index_meta import IndexMetaStore
from sochdb.grpc.status import RpcFailure, invalid, not_found, unary

__all__ = ["DEFAULTS", "METRIC_FROM_WIRE", "METRIC_TO_WIRE", "VectorIndexServicer"]

METRIC_FROM_WIRE = {pb.DISTANCE_METRIC_UNSPECIFIED: "cosine", pb.DISTANCE_METRIC_L2: "l2",
                    pb.DISTANCE_METRIC_COSINE: "cosine", pb.DISTANCE_METRIC_DOT_PRODUCT: "ip"}
METRIC_TO_WIRE = {"l2": pb.DISTANCE_METRIC_L2, "cosine": pb.DISTANCE_METRIC_COSINE,
                  "ip": pb.DISTANCE_METRIC_DOT_PRODUCT}
#: ``SearchResult.metric`` strings, as the proto lists them.
_METRIC_LABEL = {"l2": "euclidean", "cosine": "cosine", "ip": "dot_product"}
_METRIC_ALIASES = {"euclidean": "l2", "l2sq": "l2", "cos": "cosine", "dot": "ip",
                   "inner_product": "ip", "dot_product": "ip"}

#: HnswConfig fields left at 0 take the proto's documented defaults.
DEFAULTS = {"max_connections": 16, "ef_construction": 200, "ef_search": 50}
#: Vectors an InsertStream buffers before inserting them as one batch.
STREAM_CHUNK = 2048
_MAX_ID = np.iinfo(np.int64).max


def _metric_name(value: Any) -> str:
    name = str(value).lower()
    return _METRIC_ALIASES.get(name, name)


def _micros(t0: float) -> int:
    return int((time.perf_counter() - t0) * 1e6)


class VectorIndexServicer(pb_grpc.VectorIndexServiceServicer):
    """Serves the eight VectorIndexService RPCs from ``db``'s vector indexes."""

    def __init__(self, db: Database, stopping: threading.Event | None = None) -> None:
        self._db = db
        self._stopping = stopping or threading.Event()
        self._ddl = threading.Lock()  # makes "exists? then create/drop" one step
        self._meta = IndexMetaStore(db.path)

    # -- lookups -----------------------------------------------------------------------------

    def _index(self, name: str, where: str = "index_name") -> Any:
        if not name:
            raise invalid(f"{where} must not be empty")
        try:
            return self._db.vector_index(name)
        except Error:
            if name not in self._db.vector_indexes():
                raise self._unknown(name) from None
            raise

    def _unknown(self, name: str) -> RpcFailure:
        names = sorted(self._db.vector_indexes())
        known = ", ".join(names) if names else "none"
        return not_found(f"no vector index named {name!r} (indexes: {known})")

    @staticmethod
    def _shape(idx: Any) -> tuple[int, str]:
        """(dimension, sochdb metric name) of an index."""
        info = idx.info()
        return int(info["dimension"]), _metric_name(info["metric"])

    def _ef(self, name: str, requested: int) -> int | None:
        """The request's ef, else the CreateIndex ``ef_search``, else the index's default."""
        return requested or self._meta.get(name).get("ef_search") or None

    # -- index management --------------------------------------------------------------------

    @unary
    def CreateIndex(self, request: pb.CreateIndexRequest,
                    context: grpc.ServicerContext) -> pb.CreateIndexResponse:
        name = request.name
        if not name:
            raise invalid("name must not be empty")
        if request.dimension == 0:
            raise invalid("dimension must be at least 1")
        if request.metric not in METRIC_FROM_WIRE:
            raise invalid(f"unknown metric {request.metric}; use DISTANCE_METRIC_L2 (1), "
                          "DISTANCE_METRIC_COSINE (2) or DISTANCE_METRIC_DOT_PRODUCT (3)")
        metric = METRIC_FROM_WIRE[request.metric]
        cfg = request.config
        m = cfg.max_connections or DEFAULTS["max_connections"]
        if cfg.max_connections_layer0 not in (0, 2 * m):
            raise invalid(f"max_connections_layer0 must be 0 or 2 * max_connections ({2 * m}): "
                          "the base layer of the graph always has twice the upper layers' "
                          "connections")
        config = pb.HnswConfig(max_connections=m, max_connections_layer0=2 * m,
                               ef_construction=cfg.ef_construction or DEFAULTS["ef_construction"],
                               ef_search=cfg.ef_search or DEFAULTS["ef_search"])
        created_at = int(time.time())
        with self._ddl:
            names = self._db.vector_indexes()
            if name in names:
                raise RpcFailure(grpc.StatusCode.ALREADY_EXISTS,
                                 f"vector index {name!r} already exists")
            self._meta.prune(names)  # settings of indexes dropped without gRPC
            self._db.create_vector_index(name, int(request.dimension), metric=metric, m=m,
                                         ef_construction=config.ef_construction)
            self._meta.set(name, {"ef_search": config.ef_search, "created_at": created_at})
        info = pb.IndexInfo(name=name, dimension=request.dimension,
                            metric=METRIC_TO_WIRE[metric], config=config, created_at=created_at)
        return pb.CreateIndexResponse(success=True, info=info)

    @unary
    def DropIndex(self, request: pb.DropIndexRequest,
                  context: grpc.ServicerContext) -> pb.DropIndexResponse:
        if not request.name:
            raise invalid("name must not be empty")
        with self._ddl:
            if request.name not in self._db.vector_indexes():
                raise self._unknown(request.name)
            self._db.drop_vector_index(request.name)
            self._meta.drop(request.name)
        return pb.DropIndexResponse(success=True)

    # -- inserts -----------------------------------------------------------------------------

    @staticmethod
    def _ids(raw: Any, where: str) -> np.ndarray:
        ids = np.asarray(raw, dtype=np.uint64)
        if ids.size and int(ids.max()) > _MAX_ID:
            raise invalid(f"{where}: ids must be below 2**63, got {int(ids.max())}")
        return ids.astype(np.int64)

    @unary
    def InsertBatch(self, request: pb.InsertBatchRequest,
                    context: grpc.ServicerContext) -> pb.InsertBatchResponse:
        t0 = time.perf_counter()
        idx = self._index(request.index_name)
        dim, _ = self._shape(idx)
        n, nv = len(request.ids), len(request.vectors)
        if n == 0 or nv == 0:
            raise invalid(f"InsertBatch into {request.index_name!r}: no vectors "
                          f"({n} ids, {nv} floats)")
        if nv != n * dim:
            raise invalid(f"InsertBatch into {request.index_name!r}: {n} ids of dimension "
                          f"{dim} need {n * dim} floats, got {nv}")
        ids = self._ids(request.ids, "InsertBatch")
        vectors = np.asarray(request.vectors, dtype=np.float32).reshape(n, dim)
        count = idx.insert(ids, vectors)
        return pb.InsertBatchResponse(inserted_count=int(count), duration_us=_micros(t0))

    def InsertStream(self, request_iterator: Iterator[pb.InsertStreamRequest],
                     context: grpc.ServicerContext) -> pb.InsertStreamResponse:
        """Buffer streamed vectors and insert them in batches of STREAM_CHUNK. A message that
        names another index or has the wrong dimension is skipped and reported in ``errors``;
        an unknown index fails the call with NOT_FOUND."""
        return _InsertStream(self, context).run(request_iterator)

    # -- search ------------------------------------------------------------------------------

    @staticmethod
    def _results(target: Any, hits: list[Any], metric: str) -> None:
        label = _METRIC_LABEL.get(metric, "unspecified")
        shift = -1.0 if metric == "ip" else 0.0  # 1 - q.x  ->  -q.x
        for hit in hits:
            target.add(id=int(hit.id), distance=float(hit.distance) + shift, metric=label)

    @unary
    def Search(self, request: pb.SearchRequest,
               context: grpc.ServicerContext) -> pb.SearchResponse:
        t0 = time.perf_counter()
        if request.k == 0:
            raise invalid("k must be at least 1")
        idx = self._index(request.index_name)
        dim, metric = self._shape(idx)
        if len(request.query) == 0:
            raise invalid("query must not be empty")
        if len(request.query) != dim:
            raise invalid(f"query has dimension {len(request.query)}, index "
                          f"{request.index_name!r} has dimension {dim}")
        query = np.asarray(request.query, dtype=np.float32)
        hits = idx.search(query, int(request.k), ef=self._ef(request.index_name, request.ef))
        response = pb.SearchResponse()
        self._results(response.results, hits, metric)
        response.duration_us = _micros(t0)
        return response

    @unary
    def SearchBatch(self, request: pb.SearchBatchRequest,
                    context: grpc.ServicerContext) -> pb.SearchBatchResponse:
        t0 = time.perf_counter()
        if request.k == 0:
            raise invalid("k must be at least 1")
        idx = self._index(request.index_name)
        dim, metric = self._shape(idx)
        nf = len(request.queries)
        if nf == 0:
            raise invalid("queries must not be empty")
        nq = request.num_queries or nf // dim
        if nq * dim != nf:
            raise invalid(f"{nf} floats are not {request.num_queries or 'a whole number of'} "
                          f"queries of dimension {dim} (index {request.index_name!r})")
        queries = np.asarray(request.queries, dtype=np.float32).reshape(nq, dim)
        hits = idx.search(queries, int(request.k), ef=self._ef(request.index_name, request.ef))
        response = pb.SearchBatchResponse()
        for row in hits:
            self._results(response.results.add().results, row, metric)
        response.duration_us = _micros(t0)
        return response

    # -- stats and health --------------------------------------------------------------------

    @unary
    def GetStats(self, request: pb.GetStatsRequest,
                 context: grpc.ServicerContext) -> pb.GetStatsResponse:
        idx = self._index(request.index_name)
        info = idx.info()
        n = len(idx)
        dim = int(info["dimension"])
        memory = int(info.get("memory_bytes") or n * dim * 4)  # the float32 vector store
        stats = pb.IndexStats(num_vectors=n, dimension=dim,
                              max_layer=int(info.get("max_layer") or info.get("levels") or 0),
                              memory_bytes=memory,
                              avg_connections=float(info.get("avg_connections") or 0.0))
        return pb.GetStatsResponse(stats=stats)

    @unary
    def HealthCheck(self, request: pb.HealthCheckRequest,
                    context: grpc.ServicerContext) -> pb.HealthCheckResponse:
        """SERVING with the index names; NOT_SERVING while shutting down or when
        ``index_name`` names no index (a probe should not fail the call itself)."""
        from sochdb import __version__
        names = sorted(self._db.vector_indexes())
        ok = not self._stopping.is_set() and (not request.index_name
                                               or request.index_name in names)
        status = (pb.HealthCheckResponse.SERVING if ok
                  else pb.HealthCheckResponse.NOT_SERVING)
        return pb.HealthCheckResponse(status=status, version=__version__, indexes=names)


class _InsertStream:
    """One InsertStream call: validates each message, inserts full chunks as it goes."""

    def __init__(self, servicer: VectorIndexServicer, context: grpc.ServicerContext) -> None:
        self.servicer = servicer
        self.context = context
        self.errors: list[str] = []
        self.total = 0
        self.ids: list[int] = []
        self.vectors: list[np.ndarray] = []

    def _flush(self, idx: Any, dim: int) -> None:
        if not self.ids:
            return
        ids = VectorIndexServicer._ids(self.ids, "InsertStream")
        vectors = np.stack(self.vectors)
        first, last = self.ids[0], self.ids[-1]
        self.ids, self.vectors = [], []
        try:
            self.total += int(idx.insert(ids, vectors))
        except Error as e:
            self.errors.append(f"ids {first}..{last}: {e}")

    @unary
    def _run(self, request_iterator: Iterator[pb.InsertStreamRequest],
             context: grpc.ServicerContext) -> pb.InsertStreamResponse:
        t0 = time.perf_counter()
        name: str | None = None
        idx: Any = None
        dim = 0
        for i, msg in enumerate(request_iterator):
            if name is None:
                name = msg.index_name
                idx = self.servicer._index(name, "the first message's index_name")
                dim, _ = self.servicer._shape(idx)
            elif msg.index_name and msg.index_name != name:
                self.errors.append(f"message {i} (id {msg.id}): index_name {msg.index_name!r} "
                                   f"differs from the stream's {name!r}; skipped")
                continue
            if len(msg.vector) != dim:
                self.errors.append(f"message {i} (id {msg.id}): dimension {len(msg.vector)}, "
                                   f"index {name!r} has dimension {dim}; skipped")
                continue
            self.ids.append(msg.id)
            self.vectors.append(np.asarray(msg.vector, dtype=np.float32))
            if len(self.ids) >= STREAM_CHUNK:
                self._flush(idx, dim)
        if name is None:
            raise invalid("InsertStream: the stream carried no vectors")
        self._flush(idx, dim)
        return pb.InsertStreamResponse(total_inserted=self.total, errors=self.errors,
                                       duration_us=_micros(t0))

    def run(self, request_iterator: Iterator[pb.InsertStreamRequest]) -> pb.InsertStreamResponse:
        return self._run(request_iterator, self.context)
