"""Arrow and pandas data in and out: bulk loads into tables and in-place registered data.

``insert_arrow`` and ``create_table_from`` write through the normal statement path (column
mapping, casts, constraints, triggers) as one transaction, so a load is atomic and becomes a
single WAL record. ``register`` makes an Arrow table, record batch reader, dataset or pandas
DataFrame queryable by name without copying it into storage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
        full = dml.complete_rows(ctx, tdef, cols, t.rename_columns([c.name for c in cols]))
        return dml.insert_table(ctx, tdef, full)

    with session._lock:
        return session._in_txn(txn, work)


def create_table_from(db: "Database", name: str, data: Any,
                      txn: "Transaction | None" = None) -> int:
    """Create ``name`` with the schema of ``data`` and load it; return the row count."""
    from sochdb.sql import ddl, dml
    t = to_arrow_table(data)
    if t.num_columns == 0:
        raise ProgrammingError("cannot create a table from data without columns")
    session = db._sql

    def work(state):
        from sochdb.sql.statement import StmtCtx
        ctx = StmtCtx(state, None, session.settings, session)
        tdef = ddl.create_table_from_arrow(ctx, name, _storable(t))
        return dml.insert_table(ctx, tdef, _storable(t))

    with session._lock:
        return session._in_txn(txn, work)


def _storable(t: pa.Table) -> pa.Table:
    """Arrow types kept as they are, except the ones storage normalizes (null type)."""
    cols, fields = [], []
    for f, c in zip(t.schema, t.columns):
        if pa.types.is_null(f.type):
            c = pa.nulls(len(c), pa.int32())
            f = pa.field(f.name, pa.int32())
        cols.append(c)
        fields.append(f)
    return pa.table(cols, schema=pa.schema(fields))


class Registered:
    """An in-memory object queried by name (``db.register``); read at each query."""

    def __init__(self, name: str, obj: Any) -> None:
        self.name = name
        self.obj = obj
        self.schema = self._schema()

    def _schema(self) -> pa.Schema:
        o = self.obj
        if isinstance(o, (pa.Table, pa.RecordBatch, pa.RecordBatchReader)):
            return o.schema
        if type(o).__module__.startswith("pandas"):
            return pa.Schema.from_pandas(o, preserve_index=False)
        if hasattr(o, "schema"):
            return o.schema
        return to_arrow_table(o).schema

    def table(self) -> pa.Table:
        o = self.obj
        if isinstance(o, pa.RecordBatchReader):
            # A reader can be read once: keep what it produced for later queries.
            self.obj = o.read_all()
            return self.obj
        return to_arrow_table(o, f"registered object {self.name!r}")

    def operator(self, planner):
        from sochdb.sql.operators import Materialized
        cols = [ColumnInfo(f.name, self.name.lower(), planner.fresh(), f.type)
                for f in self.schema]
        return Materialized(cols, lambda ctx: self.table(), f"Registered {self.name}")


def register(db: "Database", name: str, obj: Any) -> None:
    if not isinstance(name, str) or not name:
        raise ProgrammingError("register needs a table name")
    if db._engine.catalog.get(name) is not None:
        raise ProgrammingError(f"a stored table named {name!r} exists; pick another name")
    db._registry[name.lower()] = Registered(name, obj)
    if db._sql_session is not None:
        db._sql_session._plans.clear()


def unregister(db: "Database", name: str) -> None:
    db._registry.pop(name.lower(), None)
    if db._sql_session is not None:
        db._sql_session._plans.clear()
