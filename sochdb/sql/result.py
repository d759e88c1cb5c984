"""The result of one SQL statement: rows as Arrow, iterated as dicts, plus status.

Query results keep their Arrow table (``arrow()`` is free, ``df()`` goes through pandas'
Arrow path); Python rows are made only when asked for, column by column in C. DDL and DML
results carry a status line (``str(result)``, e.g. "Table 'users' created", "2 rows
inserted") and ``rowcount``.
"""

from __future__ import annotations

from typing import Any, Iterator

import pyarrow as pa


class Result:
    """Rows and status of a statement. Iterating yields one dict per row."""

    def __init__(self, table: pa.Table | None = None, columns: list[str] | None = None,
                 rowcount: int = -1, message: str | None = None,
                 statement: str = "SELECT") -> None:
        self._table = table
        self._columns = list(columns) if columns is not None else (
            table.schema.names if table is not None else [])
        self.rowcount = rowcount
        self.message = message
        self.statement = statement
        self._tuples: list[tuple] | None = None
        self._types: list[pa.DataType] | None = None
        self._pos = 0

    @classmethod
    def from_rows(cls, rows: list[tuple], columns: list[str],
                  types: list[pa.DataType]) -> "Result":
        """A query result already in Python rows (point lookups); Arrow is built on demand."""
        r = cls(None, columns)
        r._tuples = rows
        r._types = types
        return r

    def _materialize(self) -> pa.Table | None:
        if self._table is None and self._tuples is not None and self._types is not None:
            cols = list(zip(*self._tuples)) if self._tuples else [[] for _ in self._types]
            self._table = pa.table([pa.array(list(c), type=t) for c, t in
                                    zip(cols, self._types)],
                                   names=[f"c{i}" for i in range(len(self._types))])
        return self._table

    # -- shape ---------------------------------------------------------------------------

    @property
    def columns(self) -> list[str]:
        return list(self._columns)

    @property
    def description(self) -> list[tuple] | None:
        """PEP 249 description: (name, type_code, None, None, None, None, None) per column."""
        self._materialize()
        if self._table is None or not self._columns:
            return None
        from sochdb.sql.types import sql_type_name
        return [(n, sql_type_name(f.type), None, None, None, None, None)
                for n, f in zip(self._columns, self._table.schema)]

    @property
    def types(self) -> list[str]:
        from sochdb.sql.types import sql_type_name
        if self._types is not None:
            return [sql_type_name(t) for t in self._types]
        if self._table is None:
            return []
        return [sql_type_name(f.type) for f in self._table.schema]

    def __len__(self) -> int:
        if self._tuples is not None:
            return len(self._tuples)
        return self._table.num_rows if self._table is not None else 0

    def __bool__(self) -> bool:
        return True

    # -- rows ----------------------------------------------------------------------------

    def rows(self) -> list[tuple]:
        """All rows as tuples (column order kept, duplicate names allowed)."""
        if self._tuples is None:
            t = self._table
            if t is None or t.num_columns == 0:
                self._tuples = [()] * (t.num_rows if t is not None else 0)
            else:
                self._tuples = list(zip(*[c.to_pylist() for c in t.columns]))
        return self._tuples

    def _dict(self, row: tuple) -> dict[str, Any]:
        return dict(zip(self._columns, row))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        cols = self._columns
        for row in self.rows():
            yield dict(zip(cols, row))

    def fetchone(self) -> dict[str, Any] | None:
        rows = self.rows()
        if self._pos >= len(rows):
            return None
        self._pos += 1
        return self._dict(rows[self._pos - 1])

    def fetchmany(self, size: int = 1) -> list[dict[str, Any]]:
        rows = self.rows()
        out = rows[self._pos:self._pos + size]
        self._pos += len(out)
        return [self._dict(r) for r in out]

    def fetchall(self) -> list[dict[str, Any]]:
        rows = self.rows()
        out = rows[self._pos:]
        self._pos = len(rows)
        return [self._dict(r) for r in out]

    def scalar(self) -> Any:
        """The first column of the first row (None when there is no row)."""
        rows = self.rows()
        return rows[0][0] if rows and rows[0] else None

    # -- interop -------------------------------------------------------------------------

    def arrow(self) -> pa.Table:
        """The result as a pyarrow.Table with the result's column names."""
        self._materialize()
        if self._table is None:
            return pa.table({})
        if self._table.schema.names != self._columns:
            return self._table.rename_columns(self._columns)
        return self._table

    to_arrow = arrow

    def df(self):
        """The result as a pandas DataFrame (pandas is imported on first use)."""
        return self.arrow().to_pandas()

    to_pandas = df

    def fetch_record_batch(self, rows_per_batch: int = 65536) -> pa.RecordBatchReader:
        """A streaming reader over the result's record batches."""
        import numbers
        if isinstance(rows_per_batch, bool) or not isinstance(rows_per_batch, numbers.Integral) \
                or rows_per_batch <= 0:
            from sochdb.errors import ProgrammingError
            raise ProgrammingError(f"fetch_record_batch: rows_per_batch must be a positive "
                                   f"integer, got {rows_per_batch!r}")
        t = self.arrow()
        rows_per_batch = int(rows_per_batch)
        return pa.RecordBatchReader.from_batches(t.schema, t.to_batches(rows_per_batch))

    def __arrow_c_stream__(self, requested_schema=None):
        return self.arrow().__arrow_c_stream__(requested_schema)

    def toon(self, style: str = "compact", name: str = "result") -> str:
        """The rows as TOON: the guide's one-line form or the official spec form."""
        from sochdb import toon
        if style == "compact":
            return toon.to_compact(name, self.arrow(), self._columns)
        if style == "spec":
            return toon.encode({name: list(self)})
        raise ValueError(f"style must be 'compact' or 'spec', not {style!r}")

    # -- display -------------------------------------------------------------------------

    def __str__(self) -> str:
        if self.message is not None and (self._table is None or not self._columns):
            return self.message
        from sochdb.sql.pretty import format_table
        return format_table(self._columns, self.types, self.rows())

    def __repr__(self) -> str:
        if self.message is not None and not self._columns:
            return f"<Result {self.message!r}>"
        return f"<Result {len(self)} rows x {len(self._columns)} columns>"
