"""The error -> status table and the servicer decorators, without a network."""

from __future__ import annotations

import grpc
import pytest

from sochdb import errors
from sochdb.grpc.admin import is_loopback_peer
from sochdb.grpc.status import ERROR_CODE_KEY, RpcFailure, status_for, streaming, unary

S = grpc.StatusCode


@pytest.mark.parametrize("exc, code", [
    (errors.BindError("no such column"), S.NOT_FOUND),
    (errors.NotFoundError("no vector index named 'x'"), S.NOT_FOUND),
    (errors.AlreadyExistsError("a vector index named 'x' already exists"), S.ALREADY_EXISTS),
    (errors.IntegrityError("id 3 appears twice in one insert"), S.INVALID_ARGUMENT),
    (errors.DataError("dimension 3, expected 4"), S.INVALID_ARGUMENT),
    (errors.ProgrammingError("k must be at least 1"), S.INVALID_ARGUMENT),
    (errors.TransactionConflictError("conflict"), S.ABORTED),
    (errors.DatabaseLockedError("locked"), S.UNAVAILABLE),
    (errors.ResourceLimitError("too big"), S.RESOURCE_EXHAUSTED),
    (errors.QueryInterruptedError("interrupted"), S.CANCELLED),
    (errors.CorruptionError("bad checksum"), S.DATA_LOSS),
    (errors.NotSupportedError("nope"), S.UNIMPLEMENTED),
    (errors.OperationalError("disk full"), S.UNAVAILABLE),
    (errors.InternalError("bug"), S.INTERNAL),
    (TypeError("key must be bytes"), S.INVALID_ARGUMENT),
    (KeyError("surprise"), S.INTERNAL),
    (RpcFailure(S.ALREADY_EXISTS, "exists"), S.ALREADY_EXISTS),
])
def test_status_for(exc, code):
    assert status_for(exc) is code


class FakeContext:
    def __init__(self):
        self.metadata = ()
        self.aborted = None

    def set_trailing_metadata(self, md):
        self.metadata = md

    def abort(self, code, details):
        self.aborted = (code, details)
        raise grpc.RpcError(details)


class Servicer:
    @unary
    def Fail(self, request, context):
        raise request

    @streaming
    def Stream(self, request, context):
        yield 1
        raise request


def test_unary_abort_carries_status_message_and_sochdb_code():
    ctx = FakeContext()
    with pytest.raises(grpc.RpcError):
        Servicer().Fail(errors.DataError("vector 2 has dimension 3, expected 4"), ctx)
    assert ctx.aborted == (S.INVALID_ARGUMENT, "vector 2 has dimension 3, expected 4")
    assert dict(ctx.metadata) == {ERROR_CODE_KEY: "DATA"}


def test_unexpected_exceptions_are_internal_and_name_the_method():
    ctx = FakeContext()
    with pytest.raises(grpc.RpcError):
        Servicer().Fail(KeyError("x"), ctx)
    code, details = ctx.aborted
    assert code is S.INTERNAL and "Fail" in details and "KeyError" in details


def test_streaming_abort_after_partial_output():
    ctx = FakeContext()
    gen = Servicer().Stream(RpcFailure(S.NOT_FOUND, "gone"), ctx)
    assert next(gen) == 1
    with pytest.raises(grpc.RpcError):
        next(gen)
    assert ctx.aborted == (S.NOT_FOUND, "gone")


@pytest.mark.parametrize("peer, ok", [
    ("ipv4:127.0.0.1:5000", True), ("ipv4:127.3.4.5:1", True), ("ipv6:[::1]:5000", True),
    ("ipv6:[::ffff:127.0.0.1]:80", True), ("unix:/tmp/s", True),
    ("ipv4:10.0.0.8:5000", False), ("ipv6:[fe80::1]:5000", False), ("", False),
])
def test_loopback_peers(peer, ok):
    assert is_loopback_peer(peer) is ok
