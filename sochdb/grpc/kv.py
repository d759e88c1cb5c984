"""KvService: the ``sochdb.v1.KvService`` RPCs over the Database's KV calls.

A request's ``namespace`` is a key prefix in the one ordered key space of the database: the
empty namespace addresses keys as they are, namespace ``N`` addresses ``N/<key>`` (the path
convention of ``db.put_path``), so ``KvService`` and embedded ``db.get``/``db.scan_prefix`` see
the same entries. Imports grpc, sochdb.database and the sibling gRPC modules.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice

import grpc

from sochdb.database import Database
from sochdb.grpc import sochdb_pb2 as pb
from sochdb.grpc import sochdb_pb2_grpc as pb_grpc
from sochdb.grpc.status import invalid, streaming, unary

__all__ = ["KvServicer", "namespace_prefix"]


def namespace_prefix(namespace: str) -> bytes:
    """The key prefix of ``namespace``: ``b""`` for the empty one, else ``b"<namespace>/"``."""
    if not namespace:
        return b""
    if "\x00" in namespace:
        raise invalid("namespace must not contain NUL characters")
    return namespace.encode("utf-8") + b"/"


def _key(namespace: str, key: bytes, where: str = "key") -> bytes:
    if not key:
        raise invalid(f"{where} must not be empty")
    return namespace_prefix(namespace) + key


def _check_ttl(ttl_seconds: int, where: str) -> None:
    # Keys never expire in sochdb; accepting a TTL and ignoring it would lose the caller's intent.
    if ttl_seconds:
        raise invalid(f"{where}: ttl_seconds is not supported (keys do not expire); send 0")


class KvServicer(pb_grpc.KvServiceServicer):
    """Serves Get/Put/Delete/Scan/BatchGet/BatchPut from ``db``; each write is one commit."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @unary
    def Get(self, request: pb.KvGetRequest, context: grpc.ServicerContext) -> pb.KvGetResponse:
        value = self._db.get(_key(request.namespace, request.key))
        if value is None:
            return pb.KvGetResponse(found=False)
        return pb.KvGetResponse(value=value, found=True)

    @unary
    def Put(self, request: pb.KvPutRequest, context: grpc.ServicerContext) -> pb.KvPutResponse:
        _check_ttl(request.ttl_seconds, "Put")
        self._db.put(_key(request.namespace, request.key), request.value)
        return pb.KvPutResponse(success=True)

    @unary
    def Delete(self, request: pb.KvDeleteRequest,
               context: grpc.ServicerContext) -> pb.KvDeleteResponse:
        self._db.delete(_key(request.namespace, request.key))
        return pb.KvDeleteResponse(success=True)

    @streaming
    def Scan(self, request: pb.KvScanRequest,
             context: grpc.ServicerContext) -> Iterator[pb.KvScanResponse]:
        """Entries whose key starts with ``prefix`` in ascending byte order of the key, at most
        ``limit`` of them (0: no limit), from one snapshot taken when the call starts."""
        ns = namespace_prefix(request.namespace)
        cut = len(ns)
        pairs = self._db.scan_prefix(ns + request.prefix)
        if request.limit:
            pairs = islice(pairs, request.limit)
        for key, value in pairs:
            yield pb.KvScanResponse(key=key[cut:], value=value)

    @unary
    def BatchGet(self, request: pb.KvBatchGetRequest,
                 context: grpc.ServicerContext) -> pb.KvBatchGetResponse:
        """One entry per requested key, in request order, all read from one snapshot."""
        ns = request.namespace
        keys = [_key(ns, k, f"keys[{i}]") for i, k in enumerate(request.keys)]
        response = pb.KvBatchGetResponse()
        with self._db.transaction() as txn:
            values = [txn.get(k) for k in keys]
        for key, value in zip(request.keys, values):
            if value is None:
                response.entries.add(key=key, found=False)
            else:
                response.entries.add(key=key, value=value, found=True)
        return response

    @unary
    def BatchPut(self, request: pb.KvBatchPutRequest,
                 context: grpc.ServicerContext) -> pb.KvBatchPutResponse:
        """All entries in one commit: either every entry is stored or none is."""
        ns = request.namespace
        pairs = []
        for i, entry in enumerate(request.entries):
            _check_ttl(entry.ttl_seconds, f"entries[{i}]")
            pairs.append((_key(ns, entry.key, f"entries[{i}].key"), entry.value))
        if pairs:
            self._db.put_many(pairs)
        return pb.KvBatchPutResponse(success_count=len(pairs))
