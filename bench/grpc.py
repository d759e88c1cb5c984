"""Vector inserts/s and searches/s over gRPC (1 client and N client processes) next to the
same calls on the embedded database, for the same index settings and data, in one run.

Run: ``python bench/grpc.py [--vectors 20000] [--dim 128] [--clients 8] [--seconds 2]
[--reps 3]``. A ``sochdb-grpc-server`` subprocess serves a fresh database on 127.0.0.1;
the embedded figures come from a second database opened in this process. Every case runs
``--reps`` times round-robin and medians are printed with the load average, since the
machine may be shared. Inserts go in batches of ``--batch`` vectors (InsertBatch); searches
are single queries with k=10 (Search), plus SearchBatch of ``--batch`` queries.
"""

from __future__ import annotations

import os
import sys

# Run as ``python bench/grpc.py`` this file's directory comes first on sys.path, and the
# file itself would shadow the grpc package: drop that entry before importing grpc.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

import argparse
import json
import multiprocessing
import shutil
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

import grpc
import numpy as np

from sochdb import Database
from sochdb.grpc import sochdb_pb2 as pb
from sochdb.grpc import sochdb_pb2_grpc as pb_grpc

SPAWN = multiprocessing.get_context("spawn")  # gRPC channels do not survive fork
K = 10


def make_data(n: int, dim: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)


# -- server ------------------------------------------------------------------------------------

class Server:
    def __init__(self, root: str) -> None:
        self.db = os.path.join(root, "served")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sochdb.cli.grpc_server", "--port", "0", "--db", self.db,
             "--log-level", "warn", "--max-workers", "16"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        pid_file = os.path.join(self.db, "sochdb-grpc.pid")
        deadline = time.monotonic() + 60
        while True:
            try:
                with open(pid_file, encoding="utf-8") as f:
                    self.port = json.load(f)["port"]
                break
            except (OSError, ValueError, KeyError):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.05)
        self.target = f"127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        with open(f"/proc/{self.proc.pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def create_index(stub: Any, name: str, dim: int) -> None:
    stub.CreateIndex(pb.CreateIndexRequest(
        name=name, dimension=dim, metric=pb.DISTANCE_METRIC_COSINE,
        config=pb.HnswConfig(max_connections=16, ef_construction=100, ef_search=64)))


# -- one client: inserts and searches over gRPC ------------------------------------------------

def grpc_insert(stub: Any, name: str, ids: np.ndarray, data: np.ndarray, batch: int) -> None:
    for i in range(0, len(ids), batch):
        stub.InsertBatch(pb.InsertBatchRequest(index_name=name, ids=ids[i:i + batch].tolist(),
                                               vectors=data[i:i + batch].ravel().tolist()))


def search_loop(search: Callable[[int], int], seconds: float,
                start_at: float | None = None) -> int:
    """Queries answered by ``search(i)`` (returns how many queries it ran) in ``seconds``."""
    if start_at is not None:
        time.sleep(max(0.0, start_at - time.time()))
    n = i = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        n += search(i)
        i += 1
    return n


def _grpc_search(stub: Any, name: str, queries: np.ndarray, batch: int) -> Callable[[int], int]:
    lists = [q.tolist() for q in queries]
    if batch <= 1:
        def one(i: int) -> int:
            stub.Search(pb.SearchRequest(index_name=name, query=lists[i % len(lists)], k=K))
            return 1
        return one
    flat = queries.ravel().tolist()
    dim = queries.shape[1]

    def many(i: int) -> int:
        start = (i * batch) % max(1, len(queries) - batch)
        stub.SearchBatch(pb.SearchBatchRequest(
            index_name=name, queries=flat[start * dim:(start + batch) * dim],
            num_queries=batch, k=K))
        return batch
    return many


def client_worker(args: tuple) -> float:
    """One client process: ``("insert", ...)`` returns seconds, ``("search", ...)`` queries."""
    kind, target, name, seed, lo, hi, dim, batch, seconds, start_at = args
    with grpc.insecure_channel(target) as ch:
        stub = pb_grpc.VectorIndexServiceStub(ch)
        grpc.channel_ready_future(ch).result(timeout=30)
        if kind == "insert":
            data = make_data(hi - lo, dim, seed)
            ids = np.arange(lo, hi, dtype=np.int64)
            time.sleep(max(0.0, start_at - time.time()))
            t0 = time.perf_counter()
            grpc_insert(stub, name, ids, data, batch)
            return time.perf_counter() - t0
        queries = make_data(512, dim, seed)
        return float(search_loop(_grpc_search(stub, name, queries, 1), seconds, start_at))


# -- the cases ---------------------------------------------------------------------------------

def run(ns: argparse.Namespace) -> None:
    root = tempfile.mkdtemp(prefix="sochdb-grpc-bench-")
    server = Server(root)
    data = make_data(ns.vectors, ns.dim, 0)
    ids = np.arange(ns.vectors, dtype=np.int64)
    queries = make_data(512, ns.dim, 99)
    results: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}  # CPU microseconds per operation: load-independent

    def record_cpu(case: str, seconds: float, ops: int) -> None:
        cpu.setdefault(case, []).append(seconds / ops * 1e6)

    def record(case: str, value: float) -> None:
        results.setdefault(case, []).append(value)

    db = Database.open(os.path.join(root, "embedded"))
    channel = grpc.insecure_channel(server.target)
    stub = pb_grpc.VectorIndexServiceStub(channel)
    pool = SPAWN.Pool(ns.clients)
    try:
        # Search indexes, filled once (embedded and served: the same data and settings).
        emb = db.create_vector_index("search", ns.dim, metric="cosine", m=16,
                                     ef_construction=100)
        for i in range(0, ns.vectors, ns.batch):
            emb.insert(ids[i:i + ns.batch], data[i:i + ns.batch])
        create_index(stub, "search", ns.dim)
        grpc_insert(stub, "search", ids, data, ns.batch)
        pool.map(client_worker, [("search", server.target, "search", c, 0, 0, ns.dim, 1,
                                  0.2, 0) for c in range(ns.clients)])  # warm the workers

        for rep in range(ns.reps):
            # inserts: a fresh index per case and repetition
            idx = db.create_vector_index(f"ins{rep}", ns.dim, metric="cosine", m=16,
                                         ef_construction=100)
            t0, c0 = time.perf_counter(), time.process_time()
            for i in range(0, ns.vectors, ns.batch):
                idx.insert(ids[i:i + ns.batch], data[i:i + ns.batch])
            record("insert embedded 1", ns.vectors / (time.perf_counter() - t0))
            record_cpu("insert embedded 1 (this process)", time.process_time() - c0,
                       ns.vectors)

            name = f"one{rep}"
            create_index(stub, name, ns.dim)
            c0, t0 = server.cpu_seconds(), time.perf_counter()
            grpc_insert(stub, name, ids, data, ns.batch)
            record("insert grpc 1", ns.vectors / (time.perf_counter() - t0))
            record_cpu("insert grpc 1 (server)", server.cpu_seconds() - c0, ns.vectors)

            name = f"many{rep}"
            create_index(stub, name, ns.dim)
            share = ns.vectors // ns.clients
            start_at = time.time() + 0.5
            t0 = time.perf_counter()
            pool.map(client_worker, [
                ("insert", server.target, name, c + 1, c * share, (c + 1) * share, ns.dim,
                 ns.batch, 0, start_at) for c in range(ns.clients)])
            record(f"insert grpc {ns.clients}",
                   share * ns.clients / (time.perf_counter() - t0 - 0.5))

            # searches on the filled index
            c0 = time.process_time()
            n = search_loop(lambda i: len(emb.search(queries[i % 512], K)) and 1, ns.seconds)
            record("search embedded 1", n / ns.seconds)
            record_cpu("search embedded 1 (this process)", time.process_time() - c0, n)
            nb = len(queries) - ns.batch

            def batch_search(i: int) -> int:
                start = (i * ns.batch) % max(1, nb)
                return len(emb.search(queries[start:start + ns.batch], K))
            n = search_loop(batch_search, ns.seconds)
            record(f"search embedded 1 (batch of {ns.batch})", n / ns.seconds)
            counts: list[int] = []

            def embedded_thread(out: list[int] = counts) -> None:
                out.append(search_loop(lambda j: len(emb.search(queries[j % 512], K)) and 1,
                                       ns.seconds))
            threads = [threading.Thread(target=embedded_thread) for _ in range(ns.clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            record(f"search embedded {ns.clients} threads", sum(counts) / ns.seconds)

            c0 = server.cpu_seconds()
            n = search_loop(_grpc_search(stub, "search", queries, 1), ns.seconds)
            record("search grpc 1", n / ns.seconds)
            record_cpu("search grpc 1 (server)", server.cpu_seconds() - c0, n)
            n = search_loop(_grpc_search(stub, "search", queries, ns.batch), ns.seconds)
            record(f"search grpc 1 (SearchBatch of {ns.batch})", n / ns.seconds)
            start_at = time.time() + 0.5
            counts = pool.map(client_worker, [
                ("search", server.target, "search", c + 7, 0, 0, ns.dim, 1, ns.seconds,
                 start_at) for c in range(ns.clients)])
            record(f"search grpc {ns.clients}", sum(counts) / ns.seconds)
    finally:
        pool.close()
        pool.join()
        channel.close()
        db.close()
        server.stop()
        shutil.rmtree(root, ignore_errors=True)

    print(f"sochdb gRPC vs embedded: {ns.vectors} vectors, dim {ns.dim}, cosine, M=16, "
          f"ef_construction=100, k={K}, insert batches of {ns.batch}; medians of {ns.reps} "
          f"reps; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    emb_ins, emb_q = (statistics.median(results["insert embedded 1"]),
                      statistics.median(results["search embedded 1"]))
    print(f"{'case':44} {'ops/s':>10} {'vs embedded 1':>14}")
    for case, values in results.items():
        base = emb_ins if case.startswith("insert") else emb_q
        med = statistics.median(values)
        unit = "inserts/s" if case.startswith("insert") else "searches/s"
        print(f"{case:44} {med:10,.0f} {med / base:13.2f}x  {unit}")
    for case, values in cpu.items():
        print(f"CPU per op, {case}: {statistics.median(values):.0f} us")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--vectors", type=int, default=20000)
    p.add_argument("--dim", type=int, default=128)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--batch", type=int, default=500)
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--reps", type=int, default=3)
    run(p.parse_args())


if __name__ == "__main__":
    main()
