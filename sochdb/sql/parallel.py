"""Data parallelism for pure vectorized work: a large table is cut into one slice per core
and the same Arrow kernels run on every slice in a thread (pyarrow releases the GIL).

Only expressions made of columns, constants, parameters, arithmetic, comparisons, logic,
casts and a few deterministic scalar functions are run this way (``is_pure``): anything
that may run a subquery, keep state or draw random numbers stays on the calling thread.
Imports pyarrow and sqlglot only.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, TypeVar

import pyarrow as pa
from sqlglot import exp

#: Tables with fewer rows run on the calling thread: slicing and handing over cost more.
MIN_ROWS = 1 << 19

R = TypeVar("R")

_PURE = (
    exp.Column, exp.Identifier, exp.Literal, exp.Boolean, exp.Null, exp.Placeholder,
    exp.Paren, exp.Neg, exp.Not, exp.And, exp.Or, exp.Add, exp.Sub, exp.Mul, exp.Div,
    exp.IntDiv, exp.Mod, exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between,
    exp.Is, exp.Cast, exp.TryCast, exp.DataType, exp.DataTypeParam, exp.Case, exp.If,
    exp.Coalesce, exp.Interval, exp.Var, exp.Abs, exp.Round, exp.Floor, exp.Ceil,
    exp.Lower, exp.Upper, exp.Length, exp.Substring, exp.Like, exp.ILike, exp.Concat,
    exp.DPipe, exp.Extract, exp.Star, exp.Tuple,
)

_pool: ThreadPoolExecutor | None = None
_pool_pid = 0
_pool_lock = threading.Lock()


def workers() -> int:
    return os.cpu_count() or 1


def is_pure(node: exp.Expression | None, aggregates: bool = False) -> bool:
    """True if evaluating ``node`` on slices of a table and concatenating the results equals
    evaluating it on the whole table. ``aggregates``: aggregate calls (whose arguments are
    evaluated per row) are allowed."""
    if node is None:
        return True
    for n in node.walk():
        if isinstance(n, _PURE):
            if isinstance(n, exp.In) and n.args.get("query") is not None:
                return False
            continue
        if isinstance(n, exp.In) and n.args.get("query") is None and \
                not n.args.get("unnest"):
            continue
        if aggregates and isinstance(n, exp.AggFunc) and not isinstance(n, exp.Window):
            continue
        if aggregates and isinstance(n, (exp.Filter, exp.Where, exp.Distinct)):
            continue
        return False
    return True


def executor() -> ThreadPoolExecutor:
    global _pool, _pool_pid
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():  # threads do not survive a fork
            _pool = ThreadPoolExecutor(max_workers=workers(), thread_name_prefix="sochdb-par")
            _pool_pid = os.getpid()
        return _pool


def map_slices(fn: Callable[[pa.Table], R], table: pa.Table) -> list[R]:
    """``fn`` of consecutive slices of ``table`` (in order); one call on small tables."""
    n = table.num_rows
    k = workers()
    if k < 2 or n < MIN_ROWS:
        return [fn(table)]
    step = -(-n // k)
    parts = [table.slice(i, step) for i in range(0, n, step)]
    return list(executor().map(fn, parts))


def concat(parts: list[pa.Table]) -> pa.Table:
    return parts[0] if len(parts) == 1 else pa.concat_tables(parts)
