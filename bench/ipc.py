"""IPC server throughput and latency: get/put ops/s with 1 and N client processes, pipelined
batches, and SQL round trips, next to embedded calls and a Redis server on loopback.

Run: ``python bench/ipc.py [--seconds 2] [--clients 8] [--reps 3] [--no-redis]``. Every case
runs ``--reps`` times round-robin (so machine noise hits each alike) and the medians are
printed, with the load average, since the machine may be shared. Multi-client cases fork
client processes that start together and count operations for the same time window. The
server's CPU time per operation (from /proc) is printed too: unlike ops/s it hardly depends
on what else the machine runs, and 1e6 / it bounds what one server core can serve.
Redis (``redis-server`` and the ``redis`` package) is used when installed.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from typing import Any

from sochdb import Database
from sochdb.server import IpcClient, start

FORK = multiprocessing.get_context("fork")


def keys_values(n: int, size: int) -> tuple[list[bytes], bytes]:
    return [b"key:%08d" % i for i in range(n)], b"v" * size


# -- one client, in this process --------------------------------------------------------------

def timed(op: Callable[[int], Any], seconds: float, step: int = 1) -> float:
    """Operations per second of ``op(i)`` (which does ``step`` operations) for ``seconds``."""
    n = 0
    t0 = time.perf_counter()
    deadline = t0 + seconds
    while True:
        for _ in range(200):
            op(n)
            n += step
        now = time.perf_counter()
        if now >= deadline:
            return n / (now - t0)


def kv_cases(get: Callable, put: Callable, keys: list[bytes], value: bytes,
             seconds: float) -> dict[str, float]:
    nk = len(keys)
    return {
        "get": timed(lambda i: get(keys[i % nk]), seconds),
        "put": timed(lambda i: put(keys[i % nk], value), seconds),
    }


def process_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) used so far by process ``pid`` (Linux), else None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def with_cpu(pid: int, run_case: Callable[[], float], seconds: float,
             ) -> tuple[float, float | None, float]:
    """(ops/s, server CPU microseconds per op, this process's CPU microseconds per op)."""
    s0, c0, t0 = process_cpu(pid), time.process_time(), time.perf_counter()
    rate = run_case()
    ops = rate * (time.perf_counter() - t0)
    s1 = process_cpu(pid)
    srv = None if s0 is None or s1 is None else 1e6 * (s1 - s0) / ops
    return rate, srv, 1e6 * (time.process_time() - c0) / ops


# -- N client processes ----------------------------------------------------------------------

def _client_loop(kind: str, target: str, op: str, keys: list[bytes], value: bytes,
                 seconds: float, barrier, results) -> None:
    if kind == "ipc":
        client = IpcClient.connect(target)
        get, put = client.get, client.put
    else:
        import redis
        host, port = target.split(":")
        r = redis.Redis(host=host, port=int(port))
        get, put = r.get, r.set
    nk = len(keys)
    fn = (lambda i: get(keys[i % nk])) if op == "get" else (lambda i: put(keys[i % nk], value))
    fn(0)
    barrier.wait()
    results.put(timed(fn, seconds))


def multi(kind: str, target: str, op: str, clients: int, keys: list[bytes], value: bytes,
          seconds: float) -> float:
    """Aggregate ops/s of ``clients`` forked processes running ``op`` at the same time."""
    barrier = FORK.Barrier(clients)
    results = FORK.Queue()
    procs = [FORK.Process(target=_client_loop,
                          args=(kind, target, op, keys, value, seconds, barrier, results))
             for _ in range(clients)]
    for p in procs:
        p.start()
    rates = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(30)
    return sum(rates)


# -- SQL -------------------------------------------------------------------------------------

SQL_SETUP = [("CREATE TABLE IF NOT EXISTS bench_users (id INTEGER PRIMARY KEY, name TEXT, "
              "age INTEGER)")]
SQL_POINT = "SELECT name, age FROM bench_users WHERE id = ?"
SQL_AGG = "SELECT age, count(*) AS n FROM bench_users GROUP BY age ORDER BY age"


def sql_setup(execute: Callable) -> None:
    for s in SQL_SETUP:
        execute(s)
    if execute("SELECT count(*) FROM bench_users").scalar() == 0:
        rows = ", ".join(f"({i}, 'user{i}', {20 + i % 50})" for i in range(1000))
        execute(f"INSERT INTO bench_users VALUES {rows}")


def latency(fn: Callable[[int], Any], n: int) -> float:
    """Median seconds per call of ``fn(i)`` over ``n`` calls (after a warm-up call)."""
    fn(0)
    times = []
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


# -- Redis -----------------------------------------------------------------------------------

def start_redis(workdir: str) -> tuple[subprocess.Popen, str] | None:
    exe = shutil.which("redis-server")
    try:
        import redis
    except ImportError:
        return None
    if exe is None:
        return None
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([exe, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                             "--appendonly", "no", "--dir", workdir],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis
    r = redis.Redis(port=port)
    for _ in range(500):
        try:
            r.ping()
            return proc, f"127.0.0.1:{port}"
        except redis.ConnectionError:
            time.sleep(0.01)
    proc.kill()
    return None


# -- main ------------------------------------------------------------------------------------

def run(args: argparse.Namespace) -> dict[str, Any]:
    work = tempfile.mkdtemp(prefix="sochdb-bench-ipc-")
    keys, value = keys_values(args.keys, args.value_size)
    pairs = [(k, value) for k in keys]
    server = start(os.path.join(work, "srv"))
    redis_proc = None if args.no_redis else start_redis(work)
    samples: dict[str, list[float]] = {}

    def add(name: str, v: float) -> None:
        samples.setdefault(name, []).append(v)

    try:
        client = server.connect()
        client.put_many(pairs)
        emb = Database.open(os.path.join(work, "embedded"))
        emb.put_many(pairs)
        rcli = None
        if redis_proc is not None:
            import redis
            host, port = redis_proc[1].split(":")
            rcli = redis.Redis(host=host, port=int(port))
            rcli.mset(dict(pairs))
        sql_setup(client.execute_sql)
        sql_setup(emb.execute_sql)
        nk = len(keys)
        batch = 256
        for _ in range(args.reps):
            for name, v in kv_cases(emb.get, emb.put, keys, value, args.seconds).items():
                add(f"embedded {name}, 1 thread", v)
            for op in ("get", "put"):
                fn = (lambda i: client.get(keys[i % nk])) if op == "get" else (
                    lambda i: client.put(keys[i % nk], value))
                rate, srv_us, cli_us = with_cpu(server.pid, lambda f=fn: timed(
                    f, args.seconds), args.seconds)
                add(f"ipc {op}, 1 client", rate)
                if srv_us is not None:
                    add(f"ipc {op}, 1 client: server CPU per op (us)", srv_us)
                add(f"ipc {op}, 1 client: client CPU per op (us)", cli_us)
            add(f"ipc get_many (pipelined x{batch}), 1 client", timed(
                lambda i: client.get_many(keys[i % nk:i % nk + batch]), args.seconds, batch))
            add(f"ipc put_many (one commit of {batch}), 1 client", timed(
                lambda i: client.put_many(pairs[i % nk:i % nk + batch]), args.seconds, batch))
            for op in ("get", "put"):
                rate, srv_us, _ = with_cpu(server.pid, lambda o=op: multi(
                    "ipc", server.socket_path, o, args.clients, keys, value, args.seconds),
                    args.seconds)
                add(f"ipc {op}, {args.clients} client processes", rate)
                if srv_us is not None:
                    add(f"ipc {op}, {args.clients} clients: server CPU per op (us)", srv_us)
            if rcli is not None:
                for name, v in kv_cases(rcli.get, rcli.set, keys, value, args.seconds).items():
                    add(f"redis {name}, 1 client", v)
                pipe_get = rcli.pipeline(transaction=False)

                def redis_batch(i: int, pipe=pipe_get) -> None:
                    for k in keys[i % nk:i % nk + batch]:
                        pipe.get(k)
                    pipe.execute()
                add(f"redis get (pipelined x{batch}), 1 client",
                    timed(redis_batch, args.seconds, batch))
                for op in ("get", "put"):
                    add(f"redis {op}, {args.clients} client processes",
                        multi("redis", redis_proc[1], op, args.clients, keys, value,
                              args.seconds))
            n = 300
            add("sql point SELECT latency, ipc (us)", 1e6 * latency(
                lambda i: client.execute_sql(SQL_POINT, [i % 1000]).fetchall(), n))
            add("sql point SELECT latency, embedded (us)", 1e6 * latency(
                lambda i: emb.execute_sql(SQL_POINT, [i % 1000]).fetchall(), n))
            add("sql GROUP BY latency, ipc (us)", 1e6 * latency(
                lambda i: client.execute_sql(SQL_AGG).arrow(), n // 3))
            add("sql GROUP BY latency, embedded (us)", 1e6 * latency(
                lambda i: emb.execute_sql(SQL_AGG).arrow(), n // 3))
            add("ping round trip, ipc (us)", 1e6 * latency(lambda i: client.ping(), 2000))
        client.close()
        emb.close()
    finally:
        server.stop()
        if redis_proc is not None:
            redis_proc[0].terminate()
            redis_proc[0].wait(10)
        shutil.rmtree(work, ignore_errors=True)
    return {
        "medians": {k: statistics.median(v) for k, v in samples.items()},
        "samples": samples,
        "redis": redis_proc is not None,
        "loadavg_after": os.getloadavg(),
        "cpus": os.cpu_count(),
        "args": vars(args),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=2.0, help="length of each timed run")
    p.add_argument("--clients", type=int, default=8, help="client processes (multi cases)")
    p.add_argument("--reps", type=int, default=3, help="repetitions; medians are reported")
    p.add_argument("--keys", type=int, default=10000)
    p.add_argument("--value-size", type=int, default=100)
    p.add_argument("--no-redis", action="store_true")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = p.parse_args()
    t0 = time.time()
    out = run(args)
    width = max(map(len, out["medians"]))
    print(f"{'case':<{width}}  median")
    for name, v in out["medians"].items():
        unit = "" if name.endswith("(us)") else " ops/s"
        if name.endswith("(us)") and v < 100:
            print(f"{name:<{width}}  {v:,.1f}")
            continue
        print(f"{name:<{width}}  {v:,.0f}{unit}")
    if not out["redis"] and not args.no_redis:
        print("(redis-server or the redis package is not installed: Redis cases skipped)")
    print(f"{out['cpus']} CPUs, load average {out['loadavg_after'][0]:.1f} at the end, "
          f"{args.reps} reps x {args.seconds:g} s, {time.time() - t0:.0f} s total")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
