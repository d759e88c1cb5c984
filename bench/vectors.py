"""HNSW build and query speed and recall: sochdb.bulk against hnswlib and FAISS on the same data.

Run: ``python bench/vectors.py`` (15-20 minutes on 2 idle cores) or ``--quick`` (2-3 minutes).
Datasets: 10k x 768 and 100k x 128, each random normal and low-rank ("embedding-like": rank 32
plus small noise); cosine distance, M=16, ef_construction=100. Reports build vec/s (median of
``--repeat`` interleaved builds) and vectors per CPU-second (which other load barely moves),
recall@10 against numpy brute force at ef 64, 128 and 256, query QPS for single queries and
for one batch, and the single-query latency of ``bulk_query_index`` on an already opened
index, plus the same for a vector index inside a database (inserts of 1,000 vectors per
commit, searches through ``db.vector_index``). Prints a markdown table (the one in
docs/vectors.md) and the targets of the vector issue with PASS/FAIL.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sochdb.bulk import bulk_build_index, bulk_query_index
from sochdb.vector.index import clear_index_cache, open_index

K = 10
M = 16
EF_CONSTRUCTION = 100
EFS = (64, 128, 256)
GUIDE_RATE = 1600


# -- data -----------------------------------------------------------------------------------

def normal_data(n: int, d: int, nq: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, d), dtype=np.float32),
            rng.standard_normal((nq, d), dtype=np.float32))


def lowrank_data(n: int, d: int, nq: int, seed: int, rank: int = 32,
                 noise: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Rows of a random rank-32 subspace plus isotropic noise; queries from the same source."""
    rng = np.random.default_rng(seed)
    basis = rng.standard_normal((rank, d), dtype=np.float32) / np.sqrt(rank)

    def draw(count: int) -> np.ndarray:
        coef = rng.standard_normal((count, rank), dtype=np.float32)
        return (coef @ basis + noise * rng.standard_normal((count, d), dtype=np.float32))

    return draw(n).astype(np.float32), draw(nq).astype(np.float32)


def ground_truth(x: np.ndarray, q: np.ndarray, k: int) -> np.ndarray:
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    qn = q / np.linalg.norm(q, axis=1, keepdims=True)
    out = np.empty((len(q), k), dtype=np.int64)
    for s in range(0, len(q), 256):
        sims = qn[s:s + 256] @ xn.T
        part = np.argpartition(-sims, k, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(sims, part, 1), axis=1)
        out[s:s + 256] = np.take_along_axis(part, order, 1)
    return out


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    hits = sum(len(set(f.tolist()) & set(t.tolist())) for f, t in zip(found, truth))
    return hits / truth.size


# -- systems ----------------------------------------------------------------------------------

class System:
    """One library under test: build, then batch / single queries at a given ef."""

    name = ""

    def build(self, x: np.ndarray, workdir: str) -> None:
        raise NotImplementedError

    def batch(self, q: np.ndarray, ef: int) -> np.ndarray:
        raise NotImplementedError

    def single(self, q: np.ndarray, ef: int) -> object:
        raise NotImplementedError


class Sochdb(System):
    def __init__(self, dtype: str) -> None:
        self.dtype = dtype
        self.name = f"sochdb ({dtype}{' + re-rank' if dtype != 'f32' else ''})"

    def build(self, x: np.ndarray, workdir: str) -> None:
        clear_index_cache()
        self.path = os.path.join(workdir, f"bench-{self.dtype}.hnsw")
        self.stats = bulk_build_index(x, self.path, m=M, ef_construction=EF_CONSTRUCTION,
                                      metric="cosine", dtype=self.dtype)
        self.index = open_index(self.path)

    def batch(self, q: np.ndarray, ef: int) -> np.ndarray:
        rows = bulk_query_index(self.index, q, k=K, ef_search=ef)
        return np.array([[n.id for n in row] for row in rows])

    def single(self, q: np.ndarray, ef: int) -> object:
        # By path, as the guide calls it: served by the cache of opened indexes.
        return bulk_query_index(self.path, q, k=K, ef_search=ef)


class SochdbDatabase(System):
    """A vector index inside a database: ``db.create_vector_index`` then ``insert`` in
    batches of 1,000 (each a durable commit through the WAL) and ``idx.search``."""

    name = "sochdb database (i8, db.vector_index)"
    batch_rows = 1000

    def __init__(self) -> None:
        self.db = None
        self.builds = 0

    def build(self, x: np.ndarray, workdir: str) -> None:
        from sochdb import Database
        if self.db is not None:
            self.db.close()
        self.builds += 1
        self.db = Database.open(os.path.join(workdir, f"db-{self.builds}"))
        self.index = self.db.create_vector_index("bench", x.shape[1], metric="cosine", m=M,
                                                 ef_construction=EF_CONSTRUCTION)
        for start in range(0, len(x), self.batch_rows):
            stop = min(start + self.batch_rows, len(x))
            self.index.insert(np.arange(start, stop), x[start:stop])

    def batch(self, q: np.ndarray, ef: int) -> np.ndarray:
        rows = self.index.search(q, k=K, ef=ef)
        return np.array([[h.id for h in row] for row in rows])

    def single(self, q: np.ndarray, ef: int) -> object:
        return self.index.search(q, k=K, ef=ef)

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None


class Hnswlib(System):
    name = "hnswlib"

    def build(self, x: np.ndarray, workdir: str) -> None:
        import hnswlib
        self.index = hnswlib.Index(space="cosine", dim=x.shape[1])
        self.index.init_index(max_elements=len(x), M=M, ef_construction=EF_CONSTRUCTION)
        self.index.add_items(x, np.arange(len(x)), num_threads=os.cpu_count() or 1)

    def batch(self, q: np.ndarray, ef: int) -> np.ndarray:
        self.index.set_ef(ef)
        return self.index.knn_query(q, k=K, num_threads=os.cpu_count() or 1)[0]

    def single(self, q: np.ndarray, ef: int) -> object:
        self.index.set_ef(ef)
        return self.index.knn_query(q, k=K, num_threads=1)


class Faiss(System):
    name = "faiss HNSWFlat"

    def build(self, x: np.ndarray, workdir: str) -> None:
        import faiss
        xn = x / np.linalg.norm(x, axis=1, keepdims=True)
        self.index = faiss.IndexHNSWFlat(x.shape[1], M, faiss.METRIC_INNER_PRODUCT)
        self.index.hnsw.efConstruction = EF_CONSTRUCTION
        self.index.add(np.ascontiguousarray(xn, dtype=np.float32))

    def _norm(self, q: np.ndarray) -> np.ndarray:
        q = np.atleast_2d(q)
        return np.ascontiguousarray(q / np.linalg.norm(q, axis=1, keepdims=True), np.float32)

    def batch(self, q: np.ndarray, ef: int) -> np.ndarray:
        self.index.hnsw.efSearch = ef
        return self.index.search(self._norm(q), K)[1]

    def single(self, q: np.ndarray, ef: int) -> object:
        self.index.hnsw.efSearch = ef
        return self.index.search(self._norm(q), K)


def available_systems(dtypes: list[str], database: bool = True,
                      ) -> tuple[list[System], list[str]]:
    systems: list[System] = [Sochdb(d) for d in dtypes]
    if database:
        systems.append(SochdbDatabase())
    notes = []
    try:
        import hnswlib  # noqa: F401
        systems.append(Hnswlib())
    except ImportError:
        notes.append("hnswlib is not installed (pip install hnswlib): skipped")
    try:
        import faiss
        faiss.omp_set_num_threads(os.cpu_count() or 1)
        systems.append(Faiss())
    except ImportError:
        notes.append("FAISS is not installed (pip install faiss-cpu): skipped")
    return systems, notes


# -- measuring -----------------------------------------------------------------------------

@dataclass
class Row:
    dataset: str
    system: str
    build_rates: list[float] = field(default_factory=list)
    build_cpu_rates: list[float] = field(default_factory=list)
    recall: dict[int, float] = field(default_factory=dict)
    qps_batch: float = 0.0
    qps_single: float = 0.0
    latency_ms: list[float] = field(default_factory=list)
    size_mb: float | None = None

    @property
    def build_rate(self) -> float:
        return statistics.median(self.build_rates)

    @property
    def build_cpu_rate(self) -> float:
        """Vectors per CPU-second of this process (all threads): barely moved by other load."""
        return statistics.median(self.build_cpu_rates)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def timed_cpu(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall-clock and process CPU seconds (every thread) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def run_dataset(label: str, x: np.ndarray, q: np.ndarray, systems: list[System],
                repeat: int, single_queries: int, workdir: str) -> list[Row]:
    truth = ground_truth(x, q, K)
    rows = {s.name: Row(label, s.name) for s in systems}
    for _ in range(repeat):               # interleaved, so machine noise hits all alike
        for s in systems:
            gc.collect()
            wall, cpu = timed_cpu(lambda s=s: s.build(x, workdir))
            rows[s.name].build_rates.append(len(x) / wall)
            rows[s.name].build_cpu_rates.append(len(x) / cpu)
    for s in systems:
        row = rows[s.name]
        if isinstance(s, Sochdb):
            row.size_mb = s.stats.size_bytes / 1e6
        for ef in EFS:
            row.recall[ef] = recall(s.batch(q, ef), truth)
        row.qps_batch = len(q) / statistics.median(timed(lambda s=s: s.batch(q, EFS[0]))
                                                   for _ in range(3))
        sq = q[:single_queries]
        for v in sq[:20]:
            s.single(v, EFS[0])            # warm up: caches, page faults
        lat = []
        for v in sq:
            lat.append(timed(lambda s=s, v=v: s.single(v, EFS[0])))
        row.qps_single = len(sq) / sum(lat)
        row.latency_ms = [t * 1e3 for t in lat]
        print(f"  {label:22s} {s.name:24s} build {row.build_rate:8.0f} vec/s  "
              f"recall@10 {'/'.join(f'{row.recall[ef]:.3f}' for ef in EFS)}", file=sys.stderr)
    for s in systems:
        if isinstance(s, SochdbDatabase):
            s.close()
    return list(rows.values())


def markdown(rows: list[Row]) -> str:
    out = ["| data | library | build vec/s | vec/CPU-s | recall@10 ef=64 | ef=128 | ef=256 | "
           "QPS single | QPS batch | latency p50 / p90 ms | file MB |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        p50, p90 = np.percentile(r.latency_ms, [50, 90])
        size = f"{r.size_mb:.1f}" if r.size_mb is not None else ""
        out.append(f"| {r.dataset} | {r.system} | {r.build_rate:,.0f} | "
                   f"{r.build_cpu_rate:,.0f} | {r.recall[64]:.3f} | "
                   f"{r.recall[128]:.3f} | {r.recall[256]:.3f} | {r.qps_single:,.0f} | "
                   f"{r.qps_batch:,.0f} | "
                   f"{p50:.2f} / {p90:.2f} | {size} |")
    return "\n".join(out)


def check_targets(rows: list[Row], big_768: str) -> list[str]:
    lines = []

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    default = "sochdb (i8 + re-rank)"
    for data in sorted({r.dataset for r in rows if r.dataset.startswith(big_768)}):
        ours = next(r for r in rows if r.dataset == data and r.system == default)
        lines.append(f"{verdict(ours.build_rate >= 2 * GUIDE_RATE)} build {data}: "
                     f"{ours.build_rate:,.0f} vec/s >= 2 x {GUIDE_RATE:,} = {2 * GUIDE_RATE:,}")
        cores = os.cpu_count() or 1
        lines.append(f"{'info' if ours.build_rate < 2 * GUIDE_RATE else 'PASS'} build {data}: "
                     f"{cores} cores x {ours.build_cpu_rate:,.0f} vec/CPU-s = "
                     f"{cores * ours.build_cpu_rate:,.0f} vec/s if the cores were idle "
                     f"(estimate)")
        other = next((r for r in rows if r.dataset == data and r.system == "hnswlib"), None)
        if other is not None:
            lines.append(f"{verdict(ours.build_rate >= other.build_rate)} build {data}: "
                         f"{ours.build_rate:,.0f} vec/s >= hnswlib {other.build_rate:,.0f} "
                         f"({ours.build_rate / other.build_rate:.2f}x; per CPU-second "
                         f"{ours.build_cpu_rate / other.build_cpu_rate:.2f}x)")
    for r in rows:
        if r.system == default and "low-rank" in r.dataset:
            lines.append(f"{verdict(r.recall[64] >= 0.95)} recall@10 {r.dataset} with defaults "
                         f"(ef 64): {r.recall[64]:.3f} >= 0.95")
    for r in rows:
        if r.system == default:
            p50 = float(np.median(r.latency_ms))
            lines.append(f"{verdict(p50 < 2.0)} bulk_query_index latency {r.dataset}: median "
                         f"{p50:.2f} ms < 2 ms")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller data, one build each")
    ap.add_argument("--repeat", type=int, help="interleaved builds per system (default 3, "
                    "quick 1)")
    ap.add_argument("--queries", type=int, help="queries per dataset (default 1000)")
    ap.add_argument("--dtypes", default="i8,f16,f32",
                    help="sochdb graph dtypes to compare (default i8,f16,f32)")
    ap.add_argument("--no-database", action="store_true",
                    help="leave out the in-database index (db.create_vector_index)")
    ap.add_argument("--json", help="also write the raw results to this file")
    args = ap.parse_args(argv)
    repeat = args.repeat or (1 if args.quick else 3)
    nq = args.queries or (300 if args.quick else 1000)
    sizes = [(5_000, 768), (20_000, 128)] if args.quick else [(10_000, 768), (100_000, 128)]
    systems, notes = available_systems(args.dtypes.split(","), not args.no_database)
    print(f"# {os.cpu_count()} cores, numpy {np.__version__}; queries {nq}, repeat {repeat}",
          file=sys.stderr)
    rows: list[Row] = []
    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as workdir:
        for n, d in sizes:
            for kind, gen in (("normal", normal_data), ("low-rank", lowrank_data)):
                x, q = gen(n, d, nq, seed=n + d)
                label = f"{n // 1000}k x {d} {kind}"
                rows += run_dataset(label, x, q, systems, repeat if n <= 20_000 else 1,
                                    min(nq, 300), workdir)
                clear_index_cache()
    load = os.getloadavg()[0]
    print(f"{os.cpu_count()} cores; 1-minute load average {load_start:.1f} at the start, "
          f"{load:.1f} at the end (other processes); queries {nq}, builds per system {repeat} "
          f"(1 for 100k rows)\n")
    print(markdown(rows))
    print()
    for note in notes:
        print(f"note: {note}")
    big = f"{sizes[0][0] // 1000}k x {sizes[0][1]}"
    for line in check_targets(rows, big):
        print(line)
    if args.json:
        with open(args.json, "w") as f:
            json.dump([r.__dict__ | {"build_rate": r.build_rate,
                                     "build_cpu_rate": r.build_cpu_rate} for r in rows],
                      f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
