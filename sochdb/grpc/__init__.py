"""The gRPC front-end: the ``sochdb.v1`` services of ``sochdb.proto`` over one Database.

``sochdb_pb2`` / ``sochdb_pb2_grpc`` are generated (``python -m sochdb.grpc.regenerate``); the
servicers live in ``kv``, ``vectors`` and ``unimplemented`` and ``server`` assembles them.
Nothing is imported here, so ``from sochdb.grpc import sochdb_pb2`` needs only protobuf.
"""
