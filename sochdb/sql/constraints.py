"""Constraint enforcement for writes: NOT NULL, CHECK, PRIMARY KEY / UNIQUE, FOREIGN KEY.

Checks run on whole batches before anything is written, so a violating statement has no
effect. Messages name the constraint, the table and the offending value, as PostgreSQL does.
Uniqueness is checked against the transaction's view through the hash index; the engine
checks again at commit for rows committed concurrently.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import sqlglot
from sqlglot import exp

from sochdb.engine.catalog import Check, Column, TableDef, Unique
from sochdb.engine.table import HashIndex
from sochdb.errors import ConstraintError
from sochdb.sql.expressions import CExpr, bool_expr, cast_expr, to_array
from sochdb.sql.scope import ColumnInfo, Scope
from sochdb.sql.statement import StmtCtx

_compiled: dict[tuple, CExpr] = {}


def _parse(sql: str) -> exp.Expression:
    return sqlglot.parse_one(sql, read="duckdb")


def compile_default(ctx: StmtCtx, tdef: TableDef, col: Column) -> CExpr:
    key = ("default", tdef.id, col.id, col.default, id(ctx.settings))
    hit = _compiled.get(key)
    if hit is None:
        planner = ctx.planner()
        e = planner.compiler(Scope([]), f"DEFAULT of {tdef.name}.{col.name}").compile(
            _parse(col.default))
        hit = _compiled[key] = cast_expr(e, col.type, what=f"DEFAULT of {col.name}")
    return hit


def logical_scope(tdef: TableDef) -> Scope:
    """A scope whose fields are the table's column names (for CHECK and SET expressions)."""
    return Scope([ColumnInfo(c.name, tdef.name.lower(), c.name, c.type) for c in tdef.columns])


def compile_check(ctx: StmtCtx, tdef: TableDef, chk: Check) -> CExpr:
    key = ("check", tdef.id, chk.name, chk.sql, tuple(c.name for c in tdef.columns))
    hit = _compiled.get(key)
    if hit is None:
        planner = ctx.planner()
        hit = _compiled[key] = bool_expr(planner.compiler(
            logical_scope(tdef), f"CHECK {chk.name}").compile(_parse(chk.sql)))
    return hit


def _fmt(v: Any) -> str:
    return "NULL" if v is None else repr(v) if isinstance(v, str) else str(v)


def _key_text(tdef: TableDef, ids: list[int], key: Any) -> str:
    names = tdef.names_of(ids)
    vals = key if isinstance(key, tuple) else (key,)
    return f"({', '.join(names)})=({', '.join(_fmt(v) for v in vals)})"


def check_rows(ctx: StmtCtx, tdef: TableDef, data: pa.Table) -> None:
    """NOT NULL and CHECK on rows about to be written (logical column names)."""
    for c in tdef.columns:
        if c.not_null:
            col = data.column(c.name)
            if col.null_count:
                raise ConstraintError(f"NOT NULL constraint failed: {tdef.name}.{c.name} "
                                      f"cannot be NULL", table=tdef.name, column=c.name)
    if tdef.checks and data.num_rows:
        ectx = ctx.exec_ctx()
        for chk in tdef.checks:
            e = compile_check(ctx, tdef, chk)
            ok = e.fn(data, ectx)
            bad = pc.equal(ok, pa.scalar(False))
            if isinstance(bad, pa.Scalar):
                failing = bad.as_py()
                row = 0
            else:
                arr = to_array(pc.fill_null(bad, False), data.num_rows)
                failing = pc.any(arr).as_py()
                row = int(np.argmax(arr.to_numpy(zero_copy_only=False))) if failing else 0
            if failing:
                values = {k: v[0] for k, v in data.slice(row, 1).to_pydict().items()}
                raise ConstraintError(f"CHECK constraint {chk.name} failed on table "
                                      f"{tdef.name} for row {values}: {chk.sql}",
                                      table=tdef.name, constraint=chk.name)


def unique_keys(tdef: TableDef, u: Unique, data: pa.Table) -> tuple[list[Any], np.ndarray | None]:
    names = tdef.names_of(u.columns)
    keys, valid = HashIndex.keys_of(data, names)
    return keys, valid


def find_conflicts(ctx: StmtCtx, tdef: TableDef, data: pa.Table, exclude: np.ndarray | None,
                   ) -> list[tuple[Unique, dict[int, list[int]], list[tuple[int, int]]]]:
    """For each unique constraint: existing rows conflicting with new rows, and duplicates
    among the new rows themselves.

    Returns (constraint, {new row -> existing rowids}, [(earlier row, later row)]).
    """
    out = []
    view = ctx.txn.view(tdef)
    for u in tdef.uniques:
        keys, valid = unique_keys(tdef, u, data)
        rows = range(len(keys)) if valid is None else np.nonzero(valid)[0].tolist()
        first: dict[Any, int] = {}
        dups: list[tuple[int, int]] = []
        if valid is None:
            if len(set(keys)) != len(keys):
                for i, k in enumerate(keys):
                    j = first.setdefault(k, i)
                    if j != i:
                        dups.append((j, i))
        else:
            for i in rows:
                j = first.setdefault(keys[i], i)
                if j != i:
                    dups.append((j, i))
        wanted = list({keys[i]: None for i in rows}) if valid is not None else list(
            dict.fromkeys(keys))
        fields = tuple(tdef.column_by_id(c).field for c in u.columns)
        found_keys, found_rids = view.lookup(fields, wanted) if wanted else ([], [])
        existing: dict[int, list[int]] = {}
        if len(found_rids):
            if exclude is not None and len(exclude):
                keep = ~np.isin(found_rids, exclude)
                found_keys = [k for k, ok in zip(found_keys, keep.tolist()) if ok]
                found_rids = found_rids[keep]
            by_key: dict[Any, list[int]] = {}
            for k, r in zip(found_keys, found_rids.tolist()):
                by_key.setdefault(k, []).append(r)
            for i in rows:
                hit = by_key.get(keys[i])
                if hit:
                    existing[i] = hit
        out.append((u, existing, dups))
    return out


def raise_unique(tdef: TableDef, u: Unique, key: Any) -> None:
    kind = "PRIMARY KEY" if u.primary else "UNIQUE"
    raise ConstraintError(f"{kind} constraint {u.name} failed on table {tdef.name}: "
                          f"duplicate key {_key_text(tdef, u.columns, key)}",
                          table=tdef.name, constraint=u.name)


def check_existing_unique(ctx: StmtCtx, tdef: TableDef, ids: list[int], name: str) -> None:
    view = ctx.txn.view(tdef)
    data, _ = view.to_table([tdef.column_by_id(i).field for i in ids])
    keys, valid = HashIndex.keys_of(data, data.schema.names)
    if valid is not None:
        keys = [k for k, v in zip(keys, valid.tolist()) if v]
    if len(set(keys)) != len(keys):
        seen = set()
        for k in keys:
            if k in seen:
                raise ConstraintError(f"cannot create unique index {name}: duplicate key "
                                      f"{_key_text(tdef, ids, k)} in {tdef.name}")
            seen.add(k)


def check_foreign_keys(ctx: StmtCtx, tdef: TableDef, data: pa.Table) -> None:
    """Every non-NULL foreign key of the new rows must exist in the referenced table."""
    for fk in tdef.foreign_keys:
        names = tdef.names_of(fk.columns)
        keys, valid = HashIndex.keys_of(data, names)
        if valid is not None:
            keys = [k for k, v in zip(keys, valid.tolist()) if v]
        if not keys:
            continue
        parent = ctx.catalog.get(fk.ref_table)
        if parent is None:
            raise ConstraintError(f"foreign key {fk.name}: table {fk.ref_table} no longer "
                                  f"exists")
        pfields = tuple(parent.column(c).field for c in fk.ref_columns)
        wanted = list(dict.fromkeys(_coerce_keys(keys, parent, fk.ref_columns)))
        found, _ = ctx.txn.view(parent).lookup(pfields, wanted)
        present = set(found)
        if parent.id == tdef.id:  # self reference: rows of this batch count too
            own, _ = HashIndex.keys_of(data, fk.ref_columns)
            present.update(own)
        for k in wanted:
            if k not in present:
                raise ConstraintError(
                    f"FOREIGN KEY constraint {fk.name} failed: key "
                    f"{_key_text(tdef, fk.columns, k)} of table {tdef.name} is not present "
                    f"in table {parent.name}", table=tdef.name, constraint=fk.name)


def _coerce_keys(keys: list[Any], parent: TableDef, ref_columns: list[str]) -> list[Any]:
    kinds = [str(parent.column(c).type) for c in ref_columns]
    if all(k.startswith("int") for k in kinds):
        def conv(v):
            return int(v) if isinstance(v, float) and v.is_integer() else v
        if len(ref_columns) == 1:
            return [conv(k) for k in keys]
        return [tuple(conv(x) for x in k) for k in keys]
    return keys


def referencing(ctx: StmtCtx, tdef: TableDef):
    """(child table, foreign key) pairs that reference ``tdef``."""
    for other in ctx.catalog.tables.values():
        for fk in other.foreign_keys:
            if fk.ref_table.lower() == tdef.name.lower():
                yield other, fk


def check_parent_delete(ctx: StmtCtx, tdef: TableDef, old: pa.Table, rowids: np.ndarray,
                        depth: int = 0) -> None:
    """Rows about to disappear (DELETE, or the old side of an UPDATE of key columns) must not
    be referenced, unless the foreign key says ON DELETE CASCADE / SET NULL."""
    from sochdb.sql.dml import cascade_delete, set_null
    for child, fk in list(referencing(ctx, tdef)):
        keys, valid = HashIndex.keys_of(old, fk.ref_columns)
        if valid is not None:
            keys = [k for k, v in zip(keys, valid.tolist()) if v]
        if not keys:
            continue
        cfields = tuple(child.column_by_id(c).field for c in fk.columns)
        wanted = list(dict.fromkeys(keys))
        found_keys, found_rids = ctx.txn.view(child).lookup(cfields, wanted)
        if child.id == tdef.id and len(found_rids):
            keep = ~np.isin(found_rids, rowids)
            found_keys = [k for k, ok in zip(found_keys, keep.tolist()) if ok]
            found_rids = found_rids[keep]
        if not len(found_rids):
            continue
        action = fk.on_delete.upper()
        if action == "CASCADE" and depth < 32:
            cascade_delete(ctx, child, found_rids, depth + 1)
        elif action == "SET NULL":
            set_null(ctx, child, fk, found_rids)
        else:
            raise ConstraintError(
                f"FOREIGN KEY constraint {fk.name} failed: key "
                f"{_key_text(tdef, [tdef.column(c).id for c in fk.ref_columns], found_keys[0])}"
                f" of table {tdef.name} is still referenced from table {child.name}",
                table=tdef.name, constraint=fk.name)
