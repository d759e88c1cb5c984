"""Name resolution: which column of which relation a SQL identifier means.

A relation's columns carry a user-facing name, the qualifier (table alias) they can be reached
by, and a field name unique within the whole statement, so that correlated subqueries can name
outer columns without clashes. Imports pyarrow and errors only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pyarrow as pa

from sochdb.errors import BindError
from sochdb.sql_names import suggest


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    table: str | None
    field: str
    type: pa.DataType
    hidden: bool = False  # left out of SELECT * (the right copy of a USING column)
    using_dup: bool = False  # a USING column reachable unqualified through its left copy

    def renamed(self, **kw) -> "ColumnInfo":
        return replace(self, **kw)


class Scope:
    """The columns visible to an expression, with the enclosing query's scope as parent."""

    def __init__(self, columns: list[ColumnInfo], parent: "Scope | None" = None,
                 tables: dict[str, list[str]] | None = None) -> None:
        self.columns = columns
        self.parent = parent
        # alias -> every column name of that table, including ones the query does not read
        # (they are pruned from ``columns``): used for messages and alias checks only.
        self.tables = tables or {}
        self.outer_refs: dict[str, ColumnInfo] = {}
        self._by_name: dict[str, list[ColumnInfo]] = {}
        for c in columns:
            self._by_name.setdefault(c.name.lower(), []).append(c)

    def by_field(self, field: str) -> ColumnInfo | None:
        for c in self.columns:
            if c.field == field:
                return c
        return None

    def lookup_local(self, name: str, table: str | None) -> ColumnInfo | None:
        cands = self._by_name.get(name.lower(), [])
        if table is not None:
            t = table.lower()
            cands = [c for c in cands if c.table == t]
        else:
            primary = [c for c in cands if not c.using_dup]
            cands = primary or cands
        if not cands:
            return None
        fields = {c.field for c in cands}
        if len(fields) > 1:
            quals = sorted({c.table or "?" for c in cands})
            raise BindError(f"column reference {name!r} is ambiguous: it exists in "
                            f"{', '.join(quals)}; qualify it, e.g. {quals[0]}.{name}")
        return cands[0]

    def resolve(self, name: str, table: str | None = None) -> tuple[ColumnInfo, int]:
        """Find a column here or in an enclosing scope; depth 0 is this scope."""
        scope: Scope | None = self
        depth = 0
        chain: list[Scope] = []
        while scope is not None:
            hit = scope.lookup_local(name, table)
            if hit is not None:
                for inner in chain:  # every scope crossed records the correlation
                    inner.outer_refs[hit.field] = hit
                return hit, depth
            chain.append(scope)
            scope = scope.parent
            depth += 1
        hints = self._all_tables()
        known = [c.name for c in self.all_columns()] + [n for ns in hints.values() for n in ns]
        if table is not None:
            t = table.lower()
            tables = sorted({c.table for c in self.all_columns() if c.table} | set(hints))
            if t not in tables:
                raise BindError(f"unknown table or alias {table!r} in {table}.{name}"
                                f"{suggest(table, tables)}", table=table, column=name)
            known = [c.name for c in self.all_columns() if c.table == t] + hints.get(t, [])
            raise BindError(f"unknown column {name!r} in {table}"
                            f"{suggest(name, known)}", table=table, column=name)
        raise BindError(f"unknown column {name!r}{suggest(name, known)}", column=name)

    def _all_tables(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        scope: Scope | None = self
        while scope is not None:
            for k, v in scope.tables.items():
                out.setdefault(k, v)
            scope = scope.parent
        return out

    def all_columns(self) -> list[ColumnInfo]:
        out = list(self.columns)
        if self.parent is not None:
            out.extend(self.parent.all_columns())
        return out

    def star(self, table: str | None = None) -> list[ColumnInfo]:
        if table is None:
            return [c for c in self.columns if not c.hidden]
        t = table.lower()
        cols = [c for c in self.columns if c.table == t]
        if not cols:
            tables = sorted({c.table for c in self.columns if c.table})
            raise BindError(f"unknown table or alias {table!r} in {table}.*"
                            f"{suggest(table, tables)}", table=table)
        return cols
