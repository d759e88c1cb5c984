"""Arrow and pandas data in and out: bulk loads into tables and in-place registered data.

``insert_arrow`` and ``create_table_from`` write through the normal statement path (column
mapping, casts, constraints, triggers) as one transaction, so a load is atomic and becomes a
single WAL record. ``register`` makes an Arrow table, record batch reader, dataset or pandas
DataFrame queryable by name without copying it into storage. Arrow encodings of one SQL type
(dictionary, large and view strings and binaries) become its plain type on the way in, since
that is the type the query operators work on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import pyarrow as pa

from sochdb.errors import BindError, ProgrammingError
from sochdb.sql.scope import ColumnInfo

if TYPE_CHECKING:
    from sochdb.database import Database
    from sochdb.transaction import Transaction


def to_arrow_table(data: Any, what: str = "data") -> pa.Table:
    """Accept the usual in-memory tabular objects and return a pyarrow.Table."""
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if isinstance(data, pa.RecordBatchReader):
        return data.read_all()
    if isinstance(data, dict):
        return pa.table(data)
    if isinstance(data, list) and (not data or isinstance(data[0], dict)):
        return pa.Table.from_pylist(data)
    mod = type(data).__module__
    if mod.startswith("pandas"):
        return pa.Table.from_pandas(data, preserve_index=False)
    if mod.startswith("pyarrow.dataset") or hasattr(data, "to_table"):
        return data.to_table()
    if hasattr(data, "__arrow_c_stream__"):
        return pa.RecordBatchReader.from_stream(data).read_all()
    raise ProgrammingError(f"{what} must be a pyarrow Table/RecordBatch/RecordBatchReader, a "
                           f"pandas DataFrame, a dict of columns or a list of dicts; got "
                           f"{type(data).__name__}")


def insert_arrow(db: "Database", table: str, data: Any,
                 txn: "Transaction | None" = None) -> int:
    """Append rows to ``table`` (columns matched by name); return the number inserted."""
    from sochdb.sql import dml
    t = to_arrow_table(data)
    session = db._sql

    def work(state):
        from sochdb.sql.statement import StmtCtx
        ctx = StmtCtx(state, None, session.settings, session)
        tdef = ctx.catalog.get(table)
        if tdef is None:
            raise BindError(f"unknown table {table!r}; use create_table_from to create it")
        cols = []
        for name in t.schema.names:
            if not tdef.has_column(name):
                raise BindError(f"table {tdef.name} has no column {name!r} (the data has "
                                f"columns {', '.join(t.schema.names)})")
            cols.append(tdef.column(name))
        if len({c.id for c in cols}) != len(cols):
            raise ProgrammingError(f"the data for table {tdef.name} names column "
                                   f"{_duplicate(t.schema.names)!r} more than once")
        full = dml.complete_rows(ctx, tdef, cols, t.rename_columns([c.name for c in cols]))
        return dml.insert_table(ctx, tdef, full)

    with session._lock:
        return session._in_txn(txn, work)


def create_table_from(db: "Database", name: str, data: Any,
                      txn: "Transaction | None" = None) -> int:
    """Create ``name`` with the schema of ``data`` and load it; return the row count."""
    from sochdb.sql import ddl, dml
    if not isinstance(name, str) or not name:
        raise ProgrammingError("create_table_from needs a table name")
    t = to_arrow_table(data)
    if t.num_columns == 0:
        raise ProgrammingError("cannot create a table from data without columns")
    if "" in t.schema.names:
        raise ProgrammingError(f"cannot create table {name!r}: the data has a column without "
                               f"a name")
    dup = _duplicate(t.schema.names)
    if dup is not None:
        raise ProgrammingError(f"cannot create table {name!r}: the data has column {dup!r} "
                               f"more than once")
    if name.lower() in db._registry:
        raise ProgrammingError(f"{name!r} is a registered object; unregister it before "
                               f"creating a stored table with that name")
    t = _storable(t)
    session = db._sql

    def work(state):
        from sochdb.sql.statement import StmtCtx
        ctx = StmtCtx(state, None, session.settings, session)
        tdef = ddl.create_table_from_arrow(ctx, name, t)
        return dml.insert_table(ctx, tdef, t)

    with session._lock:
        return session._in_txn(txn, work)


def _duplicate(names: list[str]) -> str | None:
    """The first name that repeats (SQL names ignore case), or None."""
    seen: set[str] = set()
    for n in names:
        if n.lower() in seen:
            return n
        seen.add(n.lower())
    return None


def plain_type(t: pa.DataType) -> pa.DataType:
    """The type the operators expect for ``t``: dictionaries decoded, large and view strings
    and binaries made plain; other types (int8, float32, decimals, zoned timestamps) are
    SQL types of their own and stay."""
    if pa.types.is_dictionary(t):
        return plain_type(t.value_type)
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    if pa.types.is_large_binary(t) or pa.types.is_binary_view(t):
        return pa.binary()
    return t


def plain_table(t: pa.Table) -> pa.Table:
    """``t`` with every column of an alternative encoding cast to its plain type. A column
    whose chunk holds more than 2 GiB of text cannot use 32-bit offsets and keeps its type."""
    for i, f in enumerate(t.schema):
        to = plain_type(f.type)
        if to != f.type:
            try:
                t = t.set_column(i, f.with_type(to), t.column(i).cast(to))
            except (pa.ArrowInvalid, pa.ArrowCapacityError):
                pass
    return t


def _storable(t: pa.Table) -> pa.Table:
    """Arrow types kept as they are, except the ones storage normalizes: the null type
    becomes INTEGER and alternative encodings their plain type (``plain_table``)."""
    cols, fields = [], []
    for f, c in zip(t.schema, t.columns):
        if pa.types.is_null(f.type):
            c = pa.nulls(len(c), pa.int32())
            f = pa.field(f.name, pa.int32())
        cols.append(c)
        fields.append(f)
    return plain_table(pa.table(cols, schema=pa.schema(fields)))


class Registered:
    """An in-memory object queried by name (``db.register``); read at each query."""

    def __init__(self, name: str, obj: Any) -> None:
        self.name = name
        self.obj = obj
        self.schema = self._schema()

    def _schema(self) -> pa.Schema:
        o = self.obj
        if isinstance(o, (pa.Table, pa.RecordBatch, pa.RecordBatchReader)):
            schema = o.schema
        elif type(o).__module__.startswith("pandas"):
            schema = pa.Schema.from_pandas(o, preserve_index=False)
        elif hasattr(o, "schema"):
            schema = o.schema
        else:
            schema = to_arrow_table(o).schema
        return pa.schema([f.with_type(plain_type(f.type)) for f in schema])

    def table(self, names: list[str] | None = None) -> pa.Table:
        """The object's rows now; with ``names``, only those columns are read or converted."""
        o = self.obj
        if isinstance(o, pa.RecordBatchReader):
            # A reader can be read once: keep what it produced for later queries.
            o = self.obj = plain_table(o.read_all())
        if names is None:
            return plain_table(to_arrow_table(o, f"registered object {self.name!r}"))
        if not names:  # COUNT(*): the row count only
            n = len(o) if not hasattr(o, "count_rows") else o.count_rows()
            return pa.table({"_": pa.nulls(n)}).select([])
        if isinstance(o, (pa.Table, pa.RecordBatch)):
            part = o.select(names)
        elif type(o).__module__.startswith("pandas"):
            part = o[names]
        elif hasattr(o, "to_table"):
            part = o.to_table(columns=names)
        else:
            part = to_arrow_table(o, f"registered object {self.name!r}").select(names)
        return plain_table(to_arrow_table(part, f"registered object {self.name!r}"))

    def operator(self, planner, wanted: Callable[[str], bool] | None = None):
        """A source reading the columns ``wanted`` accepts (all when None)."""
        from sochdb.sql.operators import Materialized
        fields = [f for f in self.schema if wanted is None or wanted(f.name)]
        cols = [ColumnInfo(f.name, self.name.lower(), planner.fresh(), f.type) for f in fields]
        names = None if len(fields) == len(self.schema) else [f.name for f in fields]
        return Materialized(cols, lambda ctx: self.table(names), f"Registered {self.name}")


def register(db: "Database", name: str, obj: Any) -> None:
    if not isinstance(name, str) or not name:
        raise ProgrammingError("register needs a table name")
    catalog = db._engine.catalog
    if catalog.get(name) is not None or catalog.view(name) is not None:
        what = "table" if catalog.get(name) is not None else "view"
        raise ProgrammingError(f"a stored {what} named {name!r} exists; pick another name")
    db._registry[name.lower()] = Registered(name, obj)
    _forget_plans(db)


def unregister(db: "Database", name: str) -> None:
    db._registry.pop(name.lower(), None)
    _forget_plans(db)


def _forget_plans(db: "Database") -> None:
    """Drop cached plans in every session: a plan holds the registered object it read."""
    for session in list(db._sessions):
        session._plans.clear()
