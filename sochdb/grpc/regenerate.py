"""Regenerate the shipped protobuf and gRPC modules from ``sochdb.proto`` with grpcio-tools.

Run ``python -m sochdb.grpc.regenerate`` after changing the proto (``--check`` only compares).
The generated gRPC module imports its message module through the package, so it works
whether or not the top-level ``sochdb_pb2`` shim is on the path. Imports grpc_tools when run.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

from sochdb.errors import OperationalError

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
PROTO = "sochdb.proto"
#: The files protoc writes, all shipped in this package.
GENERATED = ("sochdb_pb2.py", "sochdb_pb2.pyi", "sochdb_pb2_grpc.py")
#: SHA-256 of the unmodified upstream proto (see docs/grpc.md, "Provenance").
PROTO_SHA256 = "8ab726ec5e95eccd5df52dce3c4e168d80900920fd572c578eecc7b4177b860e"

_TOP_LEVEL_IMPORT = "import sochdb_pb2 as sochdb__pb2"
_PACKAGE_IMPORT = "from sochdb.grpc import sochdb_pb2 as sochdb__pb2"


def generate(out_dir: str, proto_dir: str = PACKAGE_DIR) -> list[str]:
    """Write the generated modules for ``proto_dir/sochdb.proto`` into ``out_dir``.

    Returns the paths written. The gRPC module's top-level import of ``sochdb_pb2`` is
    rewritten to the package import, so the generated code never depends on ``sys.path``.
    """
    from grpc_tools import protoc

    os.makedirs(out_dir, exist_ok=True)
    args = ["grpc_tools.protoc", f"-I{proto_dir}", f"--python_out={out_dir}",
            f"--pyi_out={out_dir}", f"--grpc_python_out={out_dir}",
            os.path.join(proto_dir, PROTO)]
    if protoc.main(args) != 0:
        raise OperationalError(f"protoc failed on {os.path.join(proto_dir, PROTO)}")
    grpc_path = os.path.join(out_dir, "sochdb_pb2_grpc.py")
    with open(grpc_path, encoding="utf-8") as f:
        text = f.read()
    if _TOP_LEVEL_IMPORT not in text:
        raise OperationalError(f"{grpc_path}: expected the line {_TOP_LEVEL_IMPORT!r}; "
                               "grpcio-tools changed its output, update regenerate.py")
    with open(grpc_path, "w", encoding="utf-8") as f:
        f.write(text.replace(_TOP_LEVEL_IMPORT, _PACKAGE_IMPORT, 1))
    return [os.path.join(out_dir, name) for name in GENERATED]


def differences(package_dir: str = PACKAGE_DIR) -> list[str]:
    """Names of shipped generated files that differ from a fresh generation (empty: in sync)."""
    with tempfile.TemporaryDirectory(prefix="sochdb-grpc-gen-") as tmp:
        generate(tmp, package_dir)
        out = []
        for name in GENERATED:
            try:
                with open(os.path.join(package_dir, name), "rb") as f:
                    shipped = f.read()
            except FileNotFoundError:
                out.append(name)
                continue
            with open(os.path.join(tmp, name), "rb") as f:
                if f.read() != shipped:
                    out.append(name)
        return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m sochdb.grpc.regenerate",
                                description="Regenerate sochdb_pb2*.py from sochdb.proto.")
    p.add_argument("--check", action="store_true",
                   help="only compare with a fresh generation; exit 1 when they differ")
    ns = p.parse_args(argv)
    if ns.check:
        stale = differences()
        for name in stale:
            print(f"out of date: {os.path.join(PACKAGE_DIR, name)}")
        return 1 if stale else 0
    for path in generate(PACKAGE_DIR):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
