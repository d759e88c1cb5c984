"""The shipped generated modules match the shipped proto, the proto is the unmodified
upstream file, and the modules import both ways the guide and the package use."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

from sochdb.grpc import regenerate


def test_shipped_code_matches_a_fresh_generation():
    assert regenerate.tools_version() == regenerate.TOOLS_VERSION  # the test extra's pin
    assert regenerate.differences() == []


def test_a_changed_proto_is_detected(tmp_path):
    with open(os.path.join(regenerate.PACKAGE_DIR, regenerate.PROTO), encoding="utf-8") as f:
        proto = f.read()
    (tmp_path / regenerate.PROTO).write_text(proto.replace("uint32 k = 3;", "uint32 k = 7;"))
    for name in regenerate.GENERATED:
        with open(os.path.join(regenerate.PACKAGE_DIR, name), "rb") as f:
            (tmp_path / name).write_bytes(f.read())
    assert regenerate.differences(str(tmp_path)) == ["sochdb_pb2.py"]  # the field number


def test_generation_into_a_temp_dir_writes_every_module(tmp_path):
    paths = regenerate.generate(str(tmp_path))
    assert sorted(os.path.basename(p) for p in paths) == sorted(regenerate.GENERATED)
    text = (tmp_path / "sochdb_pb2_grpc.py").read_text()
    assert "from sochdb.grpc import sochdb_pb2 as sochdb__pb2" in text
    assert "\nimport sochdb_pb2 " not in text


def test_proto_is_the_unmodified_upstream_file():
    with open(os.path.join(regenerate.PACKAGE_DIR, regenerate.PROTO), "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == regenerate.PROTO_SHA256


def test_check_command_reports_in_sync():
    out = subprocess.run([sys.executable, "-m", "sochdb.grpc.regenerate", "--check"],
                         check=False, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def test_top_level_aliases_are_the_package_modules():
    import sochdb_pb2
    import sochdb_pb2_grpc
    from sochdb.grpc import sochdb_pb2 as pkg_pb2
    from sochdb.grpc import sochdb_pb2_grpc as pkg_grpc
    from sochdb_pb2 import CreateIndexRequest, HnswConfig, SearchRequest  # noqa: F401
    from sochdb_pb2_grpc import VectorIndexServiceStub
    assert sochdb_pb2 is pkg_pb2 and sochdb_pb2_grpc is pkg_grpc
    assert VectorIndexServiceStub is pkg_grpc.VectorIndexServiceStub


def test_wire_identity_package_fields_and_enums():
    from sochdb.grpc import sochdb_pb2 as pb
    assert pb.DESCRIPTOR.package == "sochdb.v1"
    assert (pb.DISTANCE_METRIC_UNSPECIFIED, pb.DISTANCE_METRIC_L2, pb.DISTANCE_METRIC_COSINE,
            pb.DISTANCE_METRIC_DOT_PRODUCT) == (0, 1, 2, 3)
    fields = {f.name: f.number for f in pb.CreateIndexRequest.DESCRIPTOR.fields}
    assert fields == {"name": 1, "dimension": 2, "config": 3, "metric": 4}
    fields = {f.name: f.number for f in pb.KvScanRequest.DESCRIPTOR.fields}
    assert fields == {"namespace": 1, "prefix": 2, "limit": 3}
    services = set(pb.DESCRIPTOR.services_by_name)
    assert {"VectorIndexService", "KvService", "GraphService", "SubscriptionService"} <= services
