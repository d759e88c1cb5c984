"""Sources that read stored data: table scans, index lookups, the KV table, VALUES."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sochdb.engine import zonemap
from sochdb.engine.catalog import TableDef
from sochdb.sql.expressions import CExpr, bool_expr, to_array
from sochdb.sql.operators.base import Operator
from sochdb.sql.operators.relational import filter_rows
from sochdb.sql.scope import ColumnInfo

if TYPE_CHECKING:
    from sochdb.sql.context import ExecContext

ROWID_NAME = "__rowid"
#: Scans of at most this many rows are kept for the rest of the statement.
SCAN_CACHE_ROWS = 1_000_000


class TableScan(Operator):
    """Visible rows of a table in insertion order, reading only the needed columns.

    ``predicate`` (pushed down from WHERE) is applied batch by batch as rows are read.
    With ``with_rowids`` the last column holds each row's rowid (for UPDATE and DELETE).
    """

    def __init__(self, tdef: TableDef, alias: str, columns: list[ColumnInfo],
                 physical: list[str], with_rowids: bool = False) -> None:
        self.tdef = tdef
        self.alias = alias
        self.columns = columns
        self.physical = physical
        self.with_rowids = with_rowids
        self.predicate: CExpr | None = None
        self.parallel = False  # the predicate may run on slices in threads (parallel.is_pure)
        self.input_rows: int | None = None  # rows read before the predicate, last execution
        # (physical field, op, constant) conjuncts of the predicate, for zone maps
        self.zone: list[tuple[str, str, CExpr]] = []
        self.groups_skipped = 0  # row groups the zone maps ruled out, last execution

    def execute(self, ctx: "ExecContext") -> pa.Table:
        pred = self.predicate
        key = (id(self), id(ctx.txn))
        cached = ctx.scans.get(key)
        if cached is not None and cached[0] is self:
            data = cached[1]
            self.input_rows = data.num_rows
            return data if pred is None else filter_rows(data, pred, ctx, self.parallel)
        view = ctx.txn.view(self.tdef)
        names = [c.field for c in self.columns]
        parts = []
        rows = 0
        for data, rids in view.scan(self.physical, with_rowids=self.with_rowids,
                                    prune=self._pruner(ctx)):
            ctx.check_interrupt()
            if self.with_rowids:
                data = data.append_column(ROWID_NAME, pa.array(rids))
            data = data.rename_columns(names)
            rows += data.num_rows
            parts.append(data)
        self.input_rows = rows
        schema = pa.schema([pa.field(c.field, c.type) for c in self.columns])
        if not parts:
            table = schema.empty_table()
        elif len(parts) == 1:
            t = parts[0]
            table = t if t.schema == schema else t.cast(schema)
        elif not self.columns:
            table = pa.table({"_": pa.nulls(rows)}).select([])  # COUNT(*): rows, no columns
        else:
            table = pa.concat_tables([p.cast(schema) if p.schema != schema else p
                                      for p in parts])
        if rows <= SCAN_CACHE_ROWS:
            # Correlated subqueries re-run their scans once per outer value: read once.
            ctx.scans[key] = (self, table)
        out = table if pred is None else filter_rows(table, pred, ctx, self.parallel)
        if ctx.memory_limit is not None:
            ctx.check_memory(out.nbytes, f"the rows read from {self.tdef.name}")
        return out

    def _pruner(self, ctx: "ExecContext"):
        """A test rejecting row groups whose zone map proves that no row passes, or None."""
        self.groups_skipped = 0
        if not self.zone:
            return None
        constraints = []
        for field, op, e in self.zone:
            v = e.fn(None, ctx)
            if not v.is_valid:  # a comparison with NULL holds for no row
                return lambda stats: True
            constraints.append((field, op, v.as_py()))

        def prune(stats) -> bool:
            if zonemap.can_match(stats, constraints):
                return False
            self.groups_skipped += 1
            return True
        return prune

    def describe(self) -> str:
        cols = ", ".join(c.name for c in self.columns if c.name != ROWID_NAME)
        pred = f" filter: {self.predicate.sql}" if self.predicate is not None else ""
        return f"TableScan {self.tdef.name}" + (f" AS {self.alias}" if self.alias.lower()
                                                 != self.tdef.name.lower() else "") + \
            f" [{cols}]{pred}"


class IndexLookup(TableScan):
    """Rows whose key columns equal constant values, found through a hash index."""

    def __init__(self, scan: TableScan, key_fields: tuple[str, ...], key_exprs: list[CExpr],
                 index_name: str) -> None:
        super().__init__(scan.tdef, scan.alias, scan.columns, scan.physical, scan.with_rowids)
        self.predicate = scan.predicate
        self.key_fields = key_fields
        self.key_exprs = key_exprs
        self.index_name = index_name

    def execute(self, ctx: "ExecContext") -> pa.Table:
        view = ctx.txn.view(self.tdef)
        vals = []
        for e in self.key_exprs:
            v = e.fn(None, ctx)
            vals.append(v.as_py() if v.is_valid else None)
        if any(v is None for v in vals):
            return self._finish(self._empty(), ctx)
        key = vals[0] if len(vals) == 1 else tuple(vals)
        keys, rids = view.lookup(self.key_fields, [_normalize(key)])
        if len(rids) == 0:
            return self._finish(self._empty(), ctx)
        data = view.take(self.physical, rids)
        if self.with_rowids:
            data = data.append_column(ROWID_NAME, pa.array(rids))
        data = data.rename_columns([c.field for c in self.columns])
        return self._finish(data, ctx)

    def _empty(self) -> pa.Table:
        return pa.schema([pa.field(c.field, c.type) for c in self.columns]).empty_table()

    def _finish(self, data: pa.Table, ctx: "ExecContext") -> pa.Table:
        return data if self.predicate is None else filter_rows(data, self.predicate, ctx)

    def describe(self) -> str:
        keys = ", ".join(e.sql for e in self.key_exprs)
        return f"IndexLookup {self.tdef.name} using {self.index_name} ({keys})" + (
            f" filter: {self.predicate.sql}" if self.predicate is not None else "")


class PointQuery:
    """``SELECT columns FROM t WHERE key = value``: rows straight from the index as Python
    values, skipping Arrow for the one or few rows a key lookup returns."""

    def __init__(self, lookup: IndexLookup, fields: list[str]) -> None:
        self.lookup = lookup
        self.tdef = lookup.tdef
        by_field = dict(zip((c.field for c in lookup.columns), lookup.physical))
        self.physical = [by_field[f] for f in fields]

    def run(self, ctx: "ExecContext") -> list[tuple] | None:
        """The rows, or None when the general path must run (own writes to the table)."""
        txn = ctx.txn
        if self.tdef.id in txn.tables:
            return None
        store = txn.stores.get(self.tdef.id)
        if store is None:
            return []
        vals = []
        for e in self.lookup.key_exprs:
            if e.param is not None:  # a bare parameter: its Python value is the key
                raw = ctx.params[e.param]
                if raw is None:
                    return []
                if type(raw) in _RAW_KEYS:
                    vals.append(raw)
                    continue
            v = e.fn(None, ctx)
            if not v.is_valid:
                return []
            vals.append(v.as_py())
        key = _normalize(vals[0] if len(vals) == 1 else tuple(vals))
        txn.note_key_read(self.tdef.id, self.lookup.key_fields, key)
        out = []
        for rid in store.index(self.lookup.key_fields).get(key):
            row = store.fetch(rid, txn.snap, self.tdef, self.physical)
            if row is not None:
                out.append(row)
        return out


#: Parameter types whose Python value equals the index key of a column of the same kind.
_RAW_KEYS = (int, str, bytes)


def _normalize(key: Any) -> Any:
    # Index keys are Python values from Arrow; floats equal to ints must find int keys.
    if isinstance(key, float) and key.is_integer():
        return int(key)
    return key


class KVScan(Operator):
    """The hidden ``__kv(key, value)`` table, read from the ordered KV store."""

    def __init__(self, columns: list[ColumnInfo]) -> None:
        self.columns = columns

    def execute(self, ctx: "ExecContext") -> pa.Table:
        pairs = list(ctx.txn.kv_scan(None, None))
        keys = pa.array([k for k, _ in pairs], pa.binary())
        values = pa.array([v for _, v in pairs], pa.binary())
        ctx.check_memory(keys.nbytes + values.nbytes, "the scan of __kv")
        return pa.table([keys, values], names=[c.field for c in self.columns])

    def describe(self) -> str:
        return "KVScan __kv"


class ValuesScan(Operator):
    """``VALUES (..), (..)``: rows of expressions, evaluated once per execution."""

    def __init__(self, columns: list[ColumnInfo], rows: list[list[CExpr]]) -> None:
        self.columns = columns
        self.rows = rows

    def execute(self, ctx: "ExecContext") -> pa.Table:
        from sochdb.sql.operators.base import SingleRow
        one = SingleRow().execute(ctx)
        cols = []
        for j, c in enumerate(self.columns):
            vals = [to_array(r[j].fn(one, ctx), 1) for r in self.rows]
            vals = [v.cast(c.type) if v.type != c.type else v for v in vals]
            cols.append(pa.concat_arrays(vals) if vals else pa.array([], c.type))
        return pa.table(cols, names=[c.field for c in self.columns])

    def describe(self) -> str:
        return f"Values ({len(self.rows)} rows)"


__all__ = ["TableScan", "IndexLookup", "KVScan", "ValuesScan", "ROWID_NAME", "bool_expr", "np",
           "pc"]
