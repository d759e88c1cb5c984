"""The operator interface and the trivial sources (one empty row, a precomputed table)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import pyarrow as pa

from sochdb.sql.scope import ColumnInfo

if TYPE_CHECKING:
    from sochdb.sql.context import ExecContext


def empty_table(columns: list[ColumnInfo]) -> pa.Table:
    return pa.schema([pa.field(c.field, c.type) for c in columns]).empty_table()


class Operator:
    """A node of the physical plan. ``execute`` returns a table with one field per column."""

    columns: list[ColumnInfo]
    children: tuple["Operator", ...] = ()

    def execute(self, ctx: "ExecContext") -> pa.Table:
        raise NotImplementedError

    def describe(self) -> str:
        return type(self).__name__

    def explain(self, indent: int = 0) -> list[str]:
        lines = ["  " * indent + self.describe()]
        for child in self.children:
            lines.extend(child.explain(indent + 1))
        return lines


class SingleRow(Operator):
    """The FROM-less source: one row, no columns."""

    def __init__(self) -> None:
        self.columns = []

    def execute(self, ctx: "ExecContext") -> pa.Table:
        return pa.table({"__one": [None]}).select([])

    def describe(self) -> str:
        return "SingleRow"


class Materialized(Operator):
    """A table produced by a callable (CTE references, registered Arrow data)."""

    def __init__(self, columns: list[ColumnInfo], produce: Callable[["ExecContext"], pa.Table],
                 label: str) -> None:
        self.columns = columns
        self._produce = produce
        self.label = label

    def execute(self, ctx: "ExecContext") -> pa.Table:
        t = self._produce(ctx)
        return t.rename_columns([c.field for c in self.columns])

    def describe(self) -> str:
        return self.label
