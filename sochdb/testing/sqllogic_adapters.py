"""Engine adapters for the sqllogictest runner: stdlib sqlite3, duckdb, and sochdb.

Test-tooling layer: imports pyarrow and numpy; ``duckdb`` and ``sochdb.Database`` are imported
only when their adapter connects, so the runner works without them. An adapter is tiny:
``connect() -> conn``, ``conn.execute(sql) -> Output | None``, ``conn.close()``; errors are
exceptions. Optional extras are listed on :class:`Engine`.
"""

from __future__ import annotations

import decimal
import os
import shutil
import sqlite3
import tempfile
import warnings
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pyarrow as pa

from sochdb.errors import NotSupportedError

__all__ = [
    "Output", "Engine", "Connection", "SqliteAdapter", "DuckDBAdapter", "SochDBAdapter",
    "arrow_kind", "make_adapter", "ADAPTERS",
]


@dataclass
class Output:
    """One statement's result: column names, a kind per column, rows of Python values.

    Kinds are the names in ``sqllogic_format.KINDS``. A statement without a result set has no
    columns; ``rowcount`` then carries the affected-row count of DML (or None).
    """

    columns: list[str]
    kinds: list[str]
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    rowcount: int | None = None

    @classmethod
    def from_arrow(cls, table: pa.Table, rowcount: int | None = None) -> "Output":
        """Convert a pyarrow Table, mapping each Arrow type to a kind."""
        kinds: list[str] = []
        columns: list[list[Any]] = []
        for col in table.columns:
            kind, values = _arrow_column(col)
            kinds.append(kind)
            columns.append(values)
        rows = list(zip(*columns)) if columns else []
        return cls(list(table.column_names), kinds, rows, rowcount)


@runtime_checkable
class Connection(Protocol):
    """What the runner needs from a connection. Optional extras:

    - ``interrupt()``: cancel the running statement from another thread (used for timeouts);
    - ``restart() -> Connection``: close and reopen the same database (``restart`` records);
    - ``sibling() -> Connection``: another connection to the same database (``con1`` names).
    """

    def execute(self, sql: str) -> Output | None: ...

    def close(self) -> None: ...


@runtime_checkable
class Engine(Protocol):
    """An engine adapter: ``connect()`` opens a fresh, empty database. Optional attributes:
    ``error_types`` (exceptions that count as SQL errors; default any Exception),
    ``internal_error_types`` (exceptions that are bugs, never an expected error), and
    ``supports(feature) -> bool`` for DuckDB ``require`` records."""

    name: str

    def connect(self) -> Connection: ...


def arrow_kind(dtype: pa.DataType) -> str:
    """The kind of an Arrow type (dictionary types take their value type's kind)."""
    t = pa.types
    if t.is_dictionary(dtype):
        return arrow_kind(dtype.value_type)
    if t.is_boolean(dtype):
        return "boolean"
    if t.is_integer(dtype):
        return "integer"
    if t.is_floating(dtype):
        return "float"
    if t.is_decimal(dtype):
        return "decimal"
    if t.is_string(dtype) or t.is_large_string(dtype) or _is(dtype, "is_string_view"):
        return "text"
    if t.is_date(dtype):
        return "date"
    if t.is_timestamp(dtype):
        return "timestamp"
    if t.is_time(dtype):
        return "time"
    if t.is_duration(dtype) or t.is_interval(dtype):
        return "interval"
    if (t.is_binary(dtype) or t.is_large_binary(dtype) or t.is_fixed_size_binary(dtype)
            or _is(dtype, "is_binary_view")):
        return "blob"
    if t.is_null(dtype):
        return "null"
    return "text"


def _is(dtype: pa.DataType, predicate: str) -> bool:
    check = getattr(pa.types, predicate, None)
    return bool(check and check(dtype))


def _arrow_column(col: pa.ChunkedArray) -> tuple[str, list[Any]]:
    """Kind and Python values of one column, normalised so rendering needs no Arrow types."""
    dtype = col.type
    if pa.types.is_dictionary(dtype):
        col = col.cast(dtype.value_type)
        dtype = col.type
    kind = arrow_kind(dtype)
    try:
        if pa.types.is_timestamp(dtype) and dtype.unit == "ns":
            col = col.cast(pa.timestamp("us", dtype.tz), safe=False)
        elif pa.types.is_time64(dtype) and dtype.unit == "ns":
            col = col.cast(pa.time64("us"), safe=False)
        elif pa.types.is_duration(dtype) and dtype.unit == "ns":
            col = col.cast(pa.duration("us"), safe=False)
        elif pa.types.is_date64(dtype):
            col = col.cast(pa.date32())
        values = col.to_pylist()
    except (ValueError, OverflowError, pa.ArrowException):
        # out of Python's datetime range (e.g. year 10000): fall back to Arrow's own text
        return kind, col.cast(pa.string()).to_pylist()
    if pa.types.is_float32(dtype):
        # DuckDB prints FLOAT with float32's shortest form: 0.1, not 0.10000000149011612
        values = [None if v is None else float(str(np.float32(v))) for v in values]
    elif pa.types.is_decimal(dtype):
        quantum = decimal.Decimal(1).scaleb(-dtype.scale)
        values = [None if v is None else v.quantize(quantum) for v in values]
    return kind, values


def _python_kind(values: list[Any]) -> str:
    """Kind of a dynamically typed column (sqlite3): the type of its first non-NULL value."""
    for v in values:
        if v is None:
            continue
        if isinstance(v, bool):
            return "boolean"
        if isinstance(v, int):
            return "integer"
        if isinstance(v, float):
            return "float"
        if isinstance(v, (bytes, bytearray, memoryview)):
            return "blob"
        return "text"
    return "null"


# --------------------------------------------------------------------------- sqlite3

class _SqliteConnection:
    def __init__(self, database: str) -> None:
        self._con = sqlite3.connect(database, isolation_level=None, check_same_thread=False)

    def execute(self, sql: str) -> Output:
        cur = self._con.execute(sql)
        if cur.description is None:
            return Output([], [], [], cur.rowcount if cur.rowcount >= 0 else None)
        rows = cur.fetchall()
        names = [d[0] for d in cur.description]
        kinds = [_python_kind([row[i] for row in rows]) for i in range(len(names))]
        return Output(names, kinds, rows)

    def interrupt(self) -> None:
        self._con.interrupt()

    def close(self) -> None:
        self._con.close()


class SqliteAdapter:
    """Python's built-in sqlite3, one private in-memory database per file, autocommit mode."""

    name = "sqlite"
    error_types: tuple[type[BaseException], ...] = (sqlite3.Error, sqlite3.Warning)
    internal_error_types: tuple[type[BaseException], ...] = ()

    def connect(self) -> _SqliteConnection:
        return _SqliteConnection(":memory:")


# --------------------------------------------------------------------------- duckdb

class _DuckDBConnection:
    def __init__(self, con: Any) -> None:
        self._con = con

    def execute(self, sql: str) -> Output:
        self._con.execute(sql)
        if self._con.description is None:
            return Output([], [], [])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "extra copy" advice for DB-API Arrow results
            table = self._con.to_arrow_table()
        return Output.from_arrow(table)

    def interrupt(self) -> None:
        self._con.interrupt()

    def sibling(self) -> "_DuckDBConnection":
        return _DuckDBConnection(self._con.cursor())

    def close(self) -> None:
        self._con.close()


class DuckDBAdapter:
    """The ``duckdb`` package (optional), in memory; results go through Arrow as sochdb's do."""

    name = "duckdb"

    def __init__(self) -> None:
        try:
            import duckdb
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise NotSupportedError("the duckdb adapter needs the 'duckdb' package"
                                    " (pip install duckdb)") from exc
        self._duckdb = duckdb
        self.error_types = (duckdb.Error,)
        self.internal_error_types = (duckdb.InternalException,)

    def connect(self) -> _DuckDBConnection:
        return _DuckDBConnection(self._duckdb.connect(":memory:"))


# --------------------------------------------------------------------------- sochdb

def _result_output(res: Any) -> Output | None:
    """sochdb result object -> Output: no columns means DDL/DML with ``rowcount``."""
    if res is None:
        return None
    rowcount = getattr(res, "rowcount", None)
    if rowcount is not None and rowcount < 0:
        rowcount = None
    columns = getattr(res, "columns", None)
    if columns is not None and len(columns) == 0:
        return Output([], [], [], rowcount)
    table = res.arrow()
    if table.num_columns == 0:
        return Output([], [], [], rowcount)
    return Output.from_arrow(table)


class _SochDBConnection:
    def __init__(self, path: str, tmpdir: str | None, config: dict[str, Any] | None) -> None:
        self._path, self._tmpdir, self._config = path, tmpdir, config
        self._db = self._open()

    def _open(self) -> Any:
        import sochdb

        if self._config:
            return sochdb.Database.open(self._path, config=self._config)
        return sochdb.Database.open(self._path)

    def execute(self, sql: str) -> Output | None:
        return _result_output(self._db.execute_sql(sql))

    def set_dialect(self, dialect: str) -> None:
        """The SQLite corpus assumes SQLite's integer division and NULL ordering."""
        self._dialect = dialect
        self._db.execute_sql(f"SET dialect = '{dialect}'")

    def interrupt(self) -> None:
        interrupt = getattr(self._db, "interrupt", None)
        if interrupt is not None:
            interrupt()

    def restart(self) -> "_SochDBConnection":
        if self._tmpdir is None:
            raise NotSupportedError("restart needs a database on disk; use"
                                    " SochDBAdapter(storage='disk')")
        self._db.close()
        self._db = self._open()
        if getattr(self, "_dialect", None):
            self.set_dialect(self._dialect)
        return self

    def close(self) -> None:
        try:
            self._db.close()
        finally:
            if self._tmpdir is not None:
                shutil.rmtree(self._tmpdir, ignore_errors=True)


class SochDBAdapter:
    """sochdb itself: ``Database.open`` on a fresh temporary directory (``storage="disk"``, so
    ``restart`` records work; created under ``tmp_root`` if given and removed on close) or on
    ``":memory:"`` (``storage="memory"``)."""

    name = "sochdb"

    def __init__(self, storage: str = "disk", config: dict[str, Any] | None = None,
                 tmp_root: str | None = None) -> None:
        if storage not in ("disk", "memory"):
            raise ValueError(f"storage must be 'disk' or 'memory', not {storage!r}")
        self.storage = storage
        self.config = config
        self.tmp_root = tmp_root
        from sochdb import errors

        self.error_types = (errors.Error,)
        self.internal_error_types = (errors.InternalError,)

    def connect(self) -> _SochDBConnection:
        if self.storage == "memory":
            return _SochDBConnection(":memory:", None, self.config)
        tmpdir = tempfile.mkdtemp(prefix="sochdb-slt-", dir=self.tmp_root)
        try:
            return _SochDBConnection(os.path.join(tmpdir, "db"), tmpdir, self.config)
        except BaseException:
            shutil.rmtree(tmpdir, ignore_errors=True)
            raise


ADAPTERS = {"sochdb": SochDBAdapter, "sqlite": SqliteAdapter, "duckdb": DuckDBAdapter}


def make_adapter(name: str) -> Engine:
    """Build an adapter by engine name: ``sochdb``, ``sqlite`` or ``duckdb``."""
    try:
        return ADAPTERS[name]()
    except KeyError:
        raise ValueError(f"unknown engine {name!r}; expected one of {sorted(ADAPTERS)}") from None
