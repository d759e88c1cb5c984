"""GrpcServer inside this process, over a database the caller holds open."""

from __future__ import annotations

import threading

import grpc
import pytest

from sochdb import Database
from sochdb.errors import OperationalError
from sochdb.grpc import sochdb_pb2 as pb
from sochdb.grpc import sochdb_pb2_grpc as pb_grpc
from sochdb.grpc.server import GrpcServer, format_address


def test_serves_the_callers_database_and_stops():
    with Database.open(":memory:") as db:
        with GrpcServer(db, port=0) as server:
            assert server.port and server.address == f"127.0.0.1:{server.port}"
            with grpc.insecure_channel(server.address) as ch:
                pb_grpc.KvServiceStub(ch).Put(pb.KvPutRequest(key=b"k", value=b"v"))
                health = pb_grpc.VectorIndexServiceStub(ch).HealthCheck(pb.HealthCheckRequest())
                assert health.status == pb.HealthCheckResponse.SERVING
            assert db.get(b"k") == b"v"  # the same database, no copy
            assert server.wait(timeout=0.05) is False
            threading.Timer(0.05, server.stop).start()
            assert server.wait(timeout=10) is True
        assert not db.closed  # the caller owns the database


def test_bad_settings_and_addresses():
    with Database.open(":memory:") as db:
        with pytest.raises(OperationalError, match="max_workers"):
            GrpcServer(db, max_workers=0)
        with pytest.raises(OperationalError, match="max_message_bytes"):
            GrpcServer(db, max_message_bytes=10)
        with pytest.raises(OperationalError, match="cannot listen on"):
            GrpcServer(db, host="192.0.2.1", port=0).start()  # not ours: EADDRNOTAVAIL
    assert format_address("::1", 5) == "[::1]:5"
    assert format_address("[::1]", 5) == "[::1]:5"
    assert format_address("0.0.0.0", 5) == "0.0.0.0:5"
