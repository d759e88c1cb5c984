"""The catalog: table, index and view definitions, versioned copy-on-write with the data.

Columns are stored physically under stable ids (field ``c<id>``), so a rename touches only the
catalog. A Catalog object is never mutated once published: a DDL commit publishes a new one,
and every snapshot keeps the catalog it started with. Names are matched case-insensitively,
as SQL does for unquoted identifiers. Imports pyarrow and errors only.
"""

from __future__ import annotations

import base64
import copy
from dataclasses import dataclass, field
from typing import Any, Iterable

import pyarrow as pa

from sochdb.errors import BindError
from sochdb.sql_names import suggest

#: Tables whose names start with this are internal (the KV table, vector collections).
HIDDEN_PREFIX = "__"


def field_name(column_id: int) -> str:
    return f"c{column_id}"


@dataclass
class Column:
    id: int
    name: str
    type: pa.DataType
    sql_type: str = ""
    not_null: bool = False
    default: str | None = None  # SQL expression text, evaluated per inserted row
    fill: Any = None  # value seen by rows that existed before an ADD COLUMN

    @property
    def field(self) -> str:
        return field_name(self.id)


@dataclass
class Unique:
    name: str
    columns: list[int]
    primary: bool = False


@dataclass
class Check:
    name: str
    sql: str


@dataclass
class ForeignKey:
    name: str
    columns: list[int]
    ref_table: str
    ref_columns: list[str]
    on_delete: str = "RESTRICT"


@dataclass
class Index:
    name: str
    columns: list[int]
    unique: bool = False


@dataclass
class TableDef:
    id: int
    name: str
    columns: list[Column]
    uniques: list[Unique] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    indexes: list[Index] = field(default_factory=list)
    next_column_id: int = 0
    sql: str = ""  # the CREATE statement as the user wrote it (for .schema)

    @property
    def hidden(self) -> bool:
        return self.name.startswith(HIDDEN_PREFIX)

    @property
    def primary_key(self) -> Unique | None:
        for u in self.uniques:
            if u.primary:
                return u
        return None

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def physical_schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.field, c.type, nullable=not c.not_null)
                          for c in self.columns])

    def column(self, name: str) -> Column:
        low = name.lower()
        for c in self.columns:
            if c.name.lower() == low:
                return c
        raise BindError(f"table {self.name!r} has no column {name!r}"
                        f"{suggest(name, self.column_names)}", table=self.name, column=name)

    def has_column(self, name: str) -> bool:
        low = name.lower()
        return any(c.name.lower() == low for c in self.columns)

    def column_by_id(self, cid: int) -> Column:
        for c in self.columns:
            if c.id == cid:
                return c
        raise KeyError(cid)

    def names_of(self, ids: Iterable[int]) -> list[str]:
        return [self.column_by_id(i).name for i in ids]

    def copy(self) -> "TableDef":
        return copy.deepcopy(self)

    # -- serialization -------------------------------------------------------------------

    def to_json(self) -> dict:
        schema = pa.schema([pa.field(c.field, c.type) for c in self.columns])
        return {
            "id": self.id, "name": self.name, "next_column_id": self.next_column_id,
            "sql": self.sql,
            "schema": base64.b64encode(schema.serialize().to_pybytes()).decode(),
            "columns": [{"id": c.id, "name": c.name, "sql_type": c.sql_type,
                         "not_null": c.not_null, "default": c.default, "fill": c.fill}
                        for c in self.columns],
            "uniques": [vars(u) for u in self.uniques],
            "checks": [vars(c) for c in self.checks],
            "foreign_keys": [vars(f) for f in self.foreign_keys],
            "indexes": [vars(i) for i in self.indexes],
        }

    @classmethod
    def from_json(cls, d: dict) -> "TableDef":
        schema = pa.ipc.read_schema(pa.py_buffer(base64.b64decode(d["schema"])))
        cols = [Column(id=c["id"], name=c["name"], type=schema.field(field_name(c["id"])).type,
                       sql_type=c["sql_type"], not_null=c["not_null"], default=c["default"],
                       fill=c["fill"]) for c in d["columns"]]
        return cls(id=d["id"], name=d["name"], columns=cols,
                   uniques=[Unique(**u) for u in d["uniques"]],
                   checks=[Check(**c) for c in d["checks"]],
                   foreign_keys=[ForeignKey(**f) for f in d["foreign_keys"]],
                   indexes=[Index(**i) for i in d["indexes"]],
                   next_column_id=d["next_column_id"], sql=d.get("sql", ""))


@dataclass
class ViewDef:
    name: str
    sql: str
    columns: list[str] | None = None


class Catalog:
    """An immutable set of table and view definitions; ``with_*`` methods return new ones."""

    __slots__ = ("tables", "views", "next_table_id", "_by_name")

    def __init__(self, tables: dict[int, TableDef] | None = None,
                 views: dict[str, ViewDef] | None = None, next_table_id: int = 1) -> None:
        self.tables: dict[int, TableDef] = tables or {}
        self.views: dict[str, ViewDef] = views or {}
        self.next_table_id = next_table_id
        self._by_name = {t.name.lower(): t for t in self.tables.values()}

    def get(self, name: str) -> TableDef | None:
        return self._by_name.get(name.lower())

    def view(self, name: str) -> ViewDef | None:
        return self.views.get(name.lower())

    def by_id(self, table_id: int) -> TableDef | None:
        return self.tables.get(table_id)

    def table_names(self, include_hidden: bool = False) -> list[str]:
        return sorted(t.name for t in self.tables.values() if include_hidden or not t.hidden)

    def with_table(self, table: TableDef) -> "Catalog":
        tables = dict(self.tables)
        tables[table.id] = table
        return Catalog(tables, self.views, max(self.next_table_id, table.id + 1))

    def without_table(self, table_id: int) -> "Catalog":
        tables = dict(self.tables)
        tables.pop(table_id, None)
        return Catalog(tables, self.views, self.next_table_id)

    def with_view(self, view: ViewDef) -> "Catalog":
        views = dict(self.views)
        views[view.name.lower()] = view
        return Catalog(self.tables, views, self.next_table_id)

    def without_view(self, name: str) -> "Catalog":
        views = dict(self.views)
        views.pop(name.lower(), None)
        return Catalog(self.tables, views, self.next_table_id)

    def reserve_table_id(self) -> tuple[int, "Catalog"]:
        return self.next_table_id, Catalog(self.tables, self.views, self.next_table_id + 1)

    def to_json(self) -> dict:
        return {"next_table_id": self.next_table_id,
                "tables": [t.to_json() for t in self.tables.values()],
                "views": [vars(v) for v in self.views.values()]}

    @classmethod
    def from_json(cls, d: dict) -> "Catalog":
        tables = {t["id"]: TableDef.from_json(t) for t in d.get("tables", [])}
        views = {v["name"].lower(): ViewDef(**v) for v in d.get("views", [])}
        return cls(tables, views, d.get("next_table_id", 1))
