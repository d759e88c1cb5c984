"""The ``sochdb-bulk`` command: build, query, inspect and convert vector index files.

Each subcommand is one call into ``sochdb.bulk`` or ``sochdb.vector.formats``. Errors end as
one ``sochdb-bulk: error: ...`` line on stderr and the error's numeric code as exit status
(argument mistakes exit 2, as argparse does). Imports sochdb.bulk, sochdb.vector, sochdb.errors.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

import numpy as np

from sochdb.errors import DataError, Error, OperationalError
from sochdb.vector.formats import FORMATS, detect_format, read_vectors, write_vectors
from sochdb.vector.index import DTYPES, DEFAULT_DTYPE
from sochdb.vector.metrics import metric_names

PROG = "sochdb-bulk"


def _read_ids(path: str, count: int) -> np.ndarray:
    try:
        ids = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise OperationalError(f"{path}: no such file", path=path) from None
    except (ValueError, OSError, EOFError) as exc:
        raise DataError(f"{path}: not a readable .npy file of ids ({exc})", path=path) from None
    if ids.ndim != 1 or ids.dtype.kind not in "iu":
        raise DataError(f"{path}: ids must be a 1-D integer array, found shape {ids.shape} "
                        f"dtype {ids.dtype}", path=path)
    if len(ids) != count:
        raise DataError(f"{path}: {len(ids)} ids for {count} vectors", path=path)
    return ids


def cmd_build_index(args: argparse.Namespace) -> int:
    from sochdb.bulk import ProgressBar, bulk_build_index

    vectors = read_vectors(args.input, args.input_format, args.dimension)
    ids = _read_ids(args.ids, len(vectors)) if args.ids else None
    show = args.progress if args.progress is not None else sys.stderr.isatty()
    stats = bulk_build_index(vectors, args.output, m=args.max_connections,
                             ef_construction=args.ef_construction, metric=args.metric,
                             ids=ids, threads=args.threads,
                             progress=ProgressBar() if show else False, dtype=args.dtype)
    if args.json:
        print(json.dumps({"vectors": stats.vectors, "dimension": stats.dimension,
                          "seconds": round(stats.seconds, 6), "rate": round(stats.rate, 1),
                          "size_bytes": stats.size_bytes, "output": stats.output,
                          "metric": stats.metric, "m": stats.m,
                          "ef_construction": stats.ef_construction, "dtype": stats.dtype}))
    else:
        print(stats)
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    from sochdb.bulk import bulk_info, bulk_query_index

    info = bulk_info(args.index)
    queries = read_vectors(args.query, args.query_format, info.dimension)
    if len(queries) == 0:
        raise DataError(f"{args.query}: no query vectors", path=args.query)
    results = bulk_query_index(args.index, queries, k=args.k, ef_search=args.ef)
    if args.json:
        print(json.dumps([[{"id": n.id, "distance": n.distance} for n in row]
                          for row in results]))
        return 0
    for qi, row in enumerate(results):
        if len(results) == 1:
            print(f"Top {len(row)} nearest neighbors:")
        else:
            if qi:
                print()
            print(f"Query {qi + 1}: top {len(row)} nearest neighbors:")
        for i, n in enumerate(row):
            print(f"{i + 1}. ID: {n.id}, Distance: {n.distance:.4f}")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from sochdb.bulk import bulk_info
    from sochdb.vector.hnsw_file import verify_file

    info = bulk_info(args.index)
    if args.verify:
        verify_file(args.index)
    if args.json:
        out = info.to_dict()
        if args.verify:
            out["checksums"] = "ok"
        print(json.dumps(out))
        return 0
    print(info)
    if args.verify:
        print("Checksums: OK")
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    vectors = read_vectors(args.input, args.from_format, args.dimension)
    src = detect_format(args.input, args.from_format)
    size = write_vectors(args.output, vectors, args.to_format)
    dst = detect_format(args.output, args.to_format)
    print(f"Converted {len(vectors)} vectors of dimension {vectors.shape[1]} from {src} to "
          f"{dst}: {args.output} ({size / 1e6:.1f} MB)")
    return 0


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description="Bulk vector operations: build and "
                                "query HNSW index files, inspect them, convert vector files.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    b = sub.add_parser("build-index", help="build a .hnsw index from a vector file",
                       description="Build an HNSW index from .npy, raw float32 or .fvecs "
                       "vectors and write it as a .hnsw file.")
    b.add_argument("--input", required=True, help="vectors: .npy, .fvecs or raw float32")
    b.add_argument("--input-format", choices=FORMATS, help="override the format guessed from "
                   "the file name")
    b.add_argument("--dimension", type=_positive, help="vector dimension (required for raw "
                   "float32; checked for the other formats)")
    b.add_argument("--output", required=True, help="the .hnsw file to write")
    b.add_argument("--max-connections", type=_positive, default=16, help="HNSW M (default 16)")
    b.add_argument("--ef-construction", type=_positive, default=100,
                   help="search breadth while building (default 100)")
    b.add_argument("--metric", default="cosine", choices=metric_names(),
                   help="distance metric (default cosine)")
    b.add_argument("--threads", type=_positive, help="build threads (default: all cores)")
    b.add_argument("--dtype", default=DEFAULT_DTYPE, choices=DTYPES,
                   help=f"graph precision (default {DEFAULT_DTYPE}, re-ranked with float32)")
    b.add_argument("--ids", help="optional .npy of integer ids, one per vector")
    b.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr (default: when stderr is a terminal)")
    b.add_argument("--json", action="store_true", help="print the build stats as JSON")
    b.set_defaults(func=cmd_build_index)

    q = sub.add_parser("query", help="k nearest neighbours of query vectors",
                       description="Print the k nearest neighbours of each query vector.")
    q.add_argument("--index", required=True, help="the .hnsw file")
    q.add_argument("--query", required=True, help="query vectors: .npy, .fvecs or raw float32 "
                   "(raw files use the index's dimension)")
    q.add_argument("--query-format", choices=FORMATS, help="override the guessed format")
    q.add_argument("--k", type=_positive, default=10, help="neighbours per query (default 10)")
    q.add_argument("--ef", type=_positive, default=64, help="search breadth (default 64)")
    q.add_argument("--json", action="store_true",
                   help="print a JSON list per query of {id, distance}")
    q.set_defaults(func=cmd_query)

    i = sub.add_parser("info", help="show an index file's metadata",
                       description="Show the metadata stored in a .hnsw file's header.")
    i.add_argument("--index", required=True, help="the .hnsw file")
    i.add_argument("--verify", action="store_true", help="also check every section's CRC-32")
    i.add_argument("--json", action="store_true", help="print the metadata as JSON")
    i.set_defaults(func=cmd_info)

    c = sub.add_parser("convert", help="convert between npy, raw_f32 and fvecs",
                       description="Convert a vector file between .npy, raw float32 and .fvecs.")
    c.add_argument("--input", required=True, help="the vector file to read")
    c.add_argument("--output", required=True, help="the vector file to write")
    c.add_argument("--to-format", choices=FORMATS, help="output format (default: from the "
                   "output file name)")
    c.add_argument("--from-format", choices=FORMATS, help="input format (default: from the "
                   "input file name)")
    c.add_argument("--dimension", type=_positive, help="vector dimension (required for raw "
                   "float32 input; checked for the other formats)")
    c.set_defaults(func=cmd_convert)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``sochdb-bulk``; returns the exit status (0 on success)."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Error as exc:
        _fail(str(exc))
        return exc.numeric or 1
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        _fail(f"{where}{exc.strerror or exc}")
        return OperationalError.numeric
    except MemoryError:
        _fail("out of memory")
        return OperationalError.numeric
    except KeyboardInterrupt:
        _fail("interrupted")
        return 130
    except Exception as exc:  # noqa: BLE001 - the CLI promises one line, never a traceback
        _fail(f"internal error: {type(exc).__name__}: {exc}")
        return 7


def _fail(message: str) -> None:
    print(f"{PROG}: error: {' '.join(message.split())}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
