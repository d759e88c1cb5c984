"""Top-level alias of ``sochdb.grpc.sochdb_pb2``, so ``from sochdb_pb2 import ...`` works as
in code generated from sochdb.proto; both names are the same module object."""

import sys

from sochdb.grpc import sochdb_pb2 as _generated

sys.modules[__name__] = _generated
