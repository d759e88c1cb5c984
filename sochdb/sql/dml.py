"""Data manipulation: INSERT (with OR REPLACE / ON CONFLICT), UPDATE and DELETE.

Each statement computes its whole effect as Arrow batches, checks every constraint on them,
and only then hands rows to the transaction, so a failing statement writes nothing. UPDATE is
delete-old plus insert-new, as the storage's MVCC expects.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from sochdb.engine.catalog import ForeignKey, TableDef
from sochdb.errors import BindError, NotSupportedError, ProgrammingError
from sochdb.sql import types as T
from sochdb.sql.constraints import (check_foreign_keys, check_parent_delete, check_rows,
                                    compile_default, find_conflicts, logical_scope, raise_unique,
                                    referencing)
from sochdb.sql.expressions import (CExpr, bool_expr, cast_expr, const_expr, materialize,
                                    python_scalar, to_array)
from sochdb.sql.from_clause import plan_from
from sochdb.sql.operators import Filter, Operator, TableScan
from sochdb.sql.operators.join import Join
from sochdb.sql.operators.scan import ROWID_NAME
from sochdb.sql.result import Result
from sochdb.sql.scope import ColumnInfo, Scope
from sochdb.sql.statement import StmtCtx
from sochdb.sql_names import suggest


def _target(ctx: StmtCtx, node: exp.Expression, verb: str) -> TableDef:
    table = node.this if isinstance(node, exp.Schema) else node
    name = table.name
    tdef = ctx.catalog.get(name)
    if tdef is None:
        if ctx.catalog.view(name) is not None:
            raise ProgrammingError(f"cannot {verb} view {name!r}: views are read-only")
        raise BindError(f"unknown table {name!r}{suggest(name, ctx.catalog.table_names())}",
                        table=name)
    return tdef


def _plural(n: int, verb: str) -> str:
    return f"{n} row{'s' if n != 1 else ''} {verb}"


# -- INSERT ----------------------------------------------------------------------------

def insert(ctx: StmtCtx, stmt: exp.Insert) -> Result:
    target = stmt.this
    tdef = _target(ctx, target, "insert into")
    if isinstance(target, exp.Schema) and target.expressions:
        names = [c.name for c in target.expressions]
        cols = [tdef.column(n) for n in names]
        if len({c.id for c in cols}) != len(cols):
            raise ProgrammingError(f"a column is named twice in INSERT INTO {tdef.name}")
    else:
        cols = list(tdef.columns)
    source = stmt.expression
    if source is None:
        if stmt.args.get("default"):
            data = _defaults_only(ctx, tdef, 1)
            return _insert_rows(ctx, stmt, tdef, data)
        raise ProgrammingError("INSERT needs VALUES or a query")
    values = _source_table(ctx, source, cols, tdef)
    data = complete_rows(ctx, tdef, cols, values)
    return _insert_rows(ctx, stmt, tdef, data)


def _source_table(ctx: StmtCtx, source: exp.Expression, cols, tdef: TableDef) -> pa.Table:
    if isinstance(source, exp.Values):
        fast = _literal_values(ctx, source, cols)
        if fast is not None:
            return fast
    planner = ctx.planner()
    if isinstance(source, exp.Values) and source.expressions:
        # Each value converts to its own column's type (not first to a type shared by rows).
        targets = [(c.type, f"a value for column {tdef.name}.{c.name}") for c in cols]
        op = planner.plan_values(source, None, targets=targets)
    else:
        op = planner.plan_query(source)
    if len(op.columns) != len(cols):
        raise ProgrammingError(f"INSERT INTO {tdef.name} has {len(cols)} target columns but "
                               f"the {'VALUES rows have' if isinstance(source, exp.Values) else 'query returns'} "
                               f"{len(op.columns)} values")
    t = op.execute(ctx.exec_ctx())
    return pa.table(list(t.columns), names=[c.name for c in cols])


def _literal_values(ctx: StmtCtx, node: exp.Values, cols) -> pa.Table | None:
    """VALUES made only of literals and parameters, converted column by column."""
    rows = node.expressions
    width = len(cols)
    columns: list[list[Any]] = [[] for _ in range(width)]
    decimal = [T.kind(c.type) == "decimal" for c in cols]
    for r in rows:
        items = r.expressions if isinstance(r, exp.Tuple) else [r]
        if len(items) != width:
            raise ProgrammingError(f"INSERT has {width} target columns but a VALUES row has "
                                   f"{len(items)} values")
        for j, it in enumerate(items):
            if isinstance(it, (exp.Var, exp.Column)) and it.name.upper() == "DEFAULT":
                v = _default_value(ctx, cols[j])
            elif decimal[j]:
                v = _decimal_literal(ctx, it)
            else:
                v = _literal(ctx, it)
            if v is _NOT_LITERAL:
                return None
            columns[j].append(v)
    arrays = []
    for j, c in enumerate(cols):
        try:
            arr = _column_array(columns[j], c.type, f"column {c.name}")
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            return None
        arrays.append(arr)
    return pa.table(arrays, names=[c.name for c in cols])


def _column_array(vals: list[Any], typ: pa.DataType, what: str) -> pa.Array:
    """Python values as one column of ``typ``, each converted as CAST would convert it.

    Values of one Python type go straight to Arrow when that conversion is exact; otherwise
    each group of same-typed values is cast on its own, so an integer beside a float still
    becomes '7' in a TEXT column, and 4.7 rounds to 5 in an INTEGER column."""
    kinds = {type(v) for v in vals if v is not None}
    k = T.kind(typ)
    direct = len(kinds) <= 1 and not (float in kinds and k in ("int", "decimal")) and \
        not (kinds - {str} and k == "str")
    if direct:
        try:
            return pa.array(vals, type=typ)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError):
            pass
    groups: dict[type, list[int]] = {}
    for i, v in enumerate(vals):
        groups.setdefault(type(v), []).append(i)
    parts, order = [], []
    for idx in groups.values():
        group = [vals[i] for i in idx]
        arr = pa.array(group) if group[0] is not None else pa.nulls(len(group))
        parts.append(T.cast(arr, typ, what=what))
        order.extend(idx)
    whole = pa.concat_arrays(parts)
    if order == sorted(order):
        return whole
    pos = np.empty(len(order), dtype=np.int64)
    pos[np.asarray(order)] = np.arange(len(order))
    return whole.take(pa.array(pos))


def _decimal_literal(ctx: StmtCtx, node: exp.Expression) -> Any:
    """A number written in the SQL, for a DECIMAL column: its exact text (1.005 is not a
    DOUBLE's 1.00499...), which the cast to the column rounds half away from zero."""
    sign = ""
    inner = node
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal):
        sign, inner = "-", node.this
    if isinstance(inner, exp.Literal) and not inner.is_string and \
            not inner.this.lower().startswith("0x"):
        text = inner.this
        return text[1:] if sign and text.startswith("-") else sign + text
    return _literal(ctx, node)


_NOT_LITERAL = object()


def _default_value(ctx: StmtCtx, col) -> Any:
    """The value DEFAULT stands for in VALUES: the column default, evaluated now, or NULL."""
    if col.default is None:
        return None
    tdef = next(t for t in ctx.catalog.tables.values() if any(c is col for c in t.columns))
    v = compile_default(ctx, tdef, col).fn(pa.table({"_": [None]}), ctx.exec_ctx())
    return to_array(materialize(v, 1, col.type), 1)[0].as_py()


def _literal(ctx: StmtCtx, node: exp.Expression) -> Any:
    if isinstance(node, exp.Literal):
        if node.is_string:
            return node.this
        text = node.this
        try:
            return int(text)
        except ValueError:
            return float(text)
    if isinstance(node, exp.Null):
        return None
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal) and not \
            node.this.is_string:
        v = _literal(ctx, node.this)
        return -v
    if isinstance(node, exp.Placeholder):
        planner = ctx.param_planner()
        v = planner.param_value(planner.param_key(node))
        if isinstance(v, (bytearray, memoryview)):
            return bytes(v)
        if isinstance(v, np.generic):
            return v.item()
        if isinstance(v, (list, tuple, np.ndarray, dict)):
            return _NOT_LITERAL
        return v
    return _NOT_LITERAL


def complete_rows(ctx: StmtCtx, tdef: TableDef, cols, values: pa.Table) -> pa.Table:
    """Rows with every column of the table: given values cast to the column types, DEFAULT
    (or NULL) for the rest. Logical column names."""
    n = values.num_rows
    given = {c.id: values.column(i) for i, c in enumerate(cols)}
    arrays = []
    ectx = None
    for c in tdef.columns:
        if c.id in given:
            v = given[c.id]
            if v.type != c.type:
                v = T.cast(v, c.type, what=f"a value for column {tdef.name}.{c.name}")
            arrays.append(v)
        elif c.default is not None:
            ectx = ectx or ctx.exec_ctx()
            e = compile_default(ctx, tdef, c)
            probe = pa.table({"__n": pa.nulls(n)}) if n else None
            v = e.fn(probe, ectx) if n else pa.scalar(None, c.type)
            arrays.append(materialize(v, n, c.type))
        else:
            arrays.append(pa.nulls(n, c.type))
    return pa.table(arrays, names=tdef.column_names)


def _defaults_only(ctx: StmtCtx, tdef: TableDef, n: int) -> pa.Table:
    return complete_rows(ctx, tdef, [], pa.table({"__n": pa.nulls(n)}).select([]))


def _conflict_mode(stmt: exp.Insert) -> tuple[str, exp.Expression | None]:
    alt = (stmt.args.get("alternative") or "").upper()
    if alt == "REPLACE":
        return "replace", None
    if alt == "IGNORE" or stmt.args.get("ignore"):
        return "nothing", None
    conflict = stmt.args.get("conflict")
    if conflict is not None:
        action = conflict.args.get("action")
        text = (action.name if isinstance(action, exp.Expression) else str(action or "")).upper()
        if "NOTHING" in text:
            return "nothing", conflict
        if "UPDATE" in text:
            return "update", conflict
        if conflict.args.get("duplicate"):
            return "update", conflict
    if alt in ("ABORT", "FAIL", "ROLLBACK", ""):
        return "error", None
    raise NotSupportedError(f"INSERT OR {alt} is not supported")


def _insert_rows(ctx: StmtCtx, stmt: exp.Insert, tdef: TableDef, data: pa.Table) -> Result:
    mode, conflict = _conflict_mode(stmt)
    if conflict is not None:
        _check_conflict_clause(ctx, stmt, tdef, conflict)
    data = ctx.session.fire_before(ctx, tdef, "INSERT", data)
    check_rows(ctx, tdef, data)
    delete_rids: list[int] = []
    updated = 0
    returning_tables = []
    if tdef.uniques and data.num_rows:
        conflicts = find_conflicts(ctx, tdef, data, None)
        drop = np.zeros(data.num_rows, dtype=bool)
        update_pairs: list[tuple[int, int]] = []
        for u, existing, dups in conflicts:
            if mode == "error":
                if dups:
                    raise_unique(tdef, u, _key_of(tdef, u, data, dups[0][1]))
                if existing:
                    raise_unique(tdef, u, _key_of(tdef, u, data, next(iter(existing))))
            elif mode == "nothing":
                if conflict is not None and conflict.args.get("conflict_keys") and not \
                        _matches_keys(tdef, u, conflict):
                    if dups or existing:
                        raise_unique(tdef, u, _key_of(tdef, u, data, (
                            dups[0][1] if dups else next(iter(existing)))))
                    continue
                for i in existing:
                    drop[i] = True
                for _, later in dups:
                    drop[later] = True
            elif mode == "replace":
                for i, rids in existing.items():
                    delete_rids.extend(rids)
                for earlier, _ in dups:
                    drop[earlier] = True
            else:  # DO UPDATE
                if conflict.args.get("conflict_keys") and not _matches_keys(tdef, u, conflict):
                    if dups or existing:
                        raise_unique(tdef, u, _key_of(tdef, u, data, (
                            dups[0][1] if dups else next(iter(existing)))))
                    continue
                if dups:
                    raise ProgrammingError(f"ON CONFLICT DO UPDATE cannot affect the same row "
                                           f"twice: duplicate keys among the inserted rows of "
                                           f"{tdef.name}")
                for i, rids in existing.items():
                    drop[i] = True
                    update_pairs.extend((i, r) for r in rids)
        if update_pairs:
            upd = _on_conflict_update(ctx, stmt, tdef, conflict, data, update_pairs)
            updated = upd.rowcount
            if upd._table is not None:
                returning_tables.append(upd._table)
        if drop.any():
            data = data.filter(pa.array(~drop))
        if delete_rids:
            # A replaced row is a deleted row for the rules of foreign keys.
            rids = np.unique(np.asarray(delete_rids, dtype=np.int64))
            old = ctx.txn.view(tdef).take([c.field for c in tdef.columns], rids)
            check_parent_delete(ctx, tdef, ctx.logical(tdef, old), rids)
            ctx.txn.delete(tdef, rids)
        if data.num_rows and (delete_rids or drop.any()):
            # Rows kept may still collide with each other after dropping others.
            for u, existing, dups in find_conflicts(ctx, tdef, data, None):
                if dups or existing:
                    raise_unique(tdef, u, _key_of(tdef, u, data, (
                        dups[0][1] if dups else next(iter(existing)))))
    if tdef.foreign_keys and data.num_rows:
        check_foreign_keys(ctx, tdef, data)
    if data.num_rows:
        ctx.txn.insert(tdef, ctx.physical(tdef, data))
        ctx.session.fire_after(ctx, tdef, "INSERT", data)
    count = data.num_rows + updated
    returning = stmt.args.get("returning")
    if returning is not None:
        return _returning(ctx, tdef, returning, [data] + returning_tables, count)
    return Result(message=_plural(count, "inserted"), rowcount=count, statement="INSERT")


def insert_table(ctx: StmtCtx, tdef: TableDef, data: pa.Table) -> int:
    """Insert complete rows (every column, by name) with all checks; return the count."""
    return _insert_rows(ctx, exp.Insert(), tdef, data).rowcount


def _check_conflict_clause(ctx: StmtCtx, stmt: exp.Insert, tdef: TableDef, conflict) -> None:
    """ON CONFLICT (cols) must name a key; DO UPDATE SET must be valid even with no conflict."""
    if conflict.args.get("conflict_keys"):
        if not any(_matches_keys(tdef, u, conflict) for u in tdef.uniques):
            keys = conflict.args["conflict_keys"]
            names = ", ".join((k.this if isinstance(k, exp.Ordered) else k).name for k in keys)
            raise BindError(f"ON CONFLICT ({names}) does not match a primary key or unique "
                            f"constraint of {tdef.name}")
    elif not tdef.uniques:
        raise BindError(f"ON CONFLICT: table {tdef.name} has no primary key or unique "
                        f"constraint")
    if conflict.expressions:
        qual = stmt.this.this if isinstance(stmt.this, exp.Schema) else stmt.this
        alias = qual.alias_or_name.lower()
        cols = [ColumnInfo(c.name, alias, f"o.{c.name}", c.type) for c in tdef.columns] + \
            [ColumnInfo(c.name, "excluded", f"x.{c.name}", c.type) for c in tdef.columns]
        comp = ctx.planner().compiler(Scope(cols), "ON CONFLICT DO UPDATE")
        _assignments(ctx, tdef, conflict.expressions, comp)
        where = conflict.args.get("where")
        if where is not None:
            comp.compile(where.this if isinstance(where, exp.Where) else where)


def _key_of(tdef: TableDef, u, data: pa.Table, row: int) -> Any:
    names = tdef.names_of(u.columns)
    vals = tuple(data.column(n)[row].as_py() for n in names)
    return vals[0] if len(vals) == 1 else vals


def _matches_keys(tdef: TableDef, u, conflict: exp.Expression) -> bool:
    keys = conflict.args.get("conflict_keys") or []
    names = sorted((k.this if isinstance(k, exp.Ordered) else k).name.lower() for k in keys)
    return names == sorted(n.lower() for n in tdef.names_of(u.columns))


def _on_conflict_update(ctx: StmtCtx, stmt: exp.Insert, tdef: TableDef, conflict,
                        data: pa.Table, pairs: list[tuple[int, int]]) -> Result:
    new_idx = np.array([p[0] for p in pairs], dtype=np.int64)
    rids = np.array([p[1] for p in pairs], dtype=np.int64)
    view = ctx.txn.view(tdef)
    old = ctx.logical(tdef, view.take([c.field for c in tdef.columns], rids))
    excluded = data.take(pa.array(new_idx))
    qual = (stmt.this.this if isinstance(stmt.this, exp.Schema) else stmt.this)
    alias = qual.alias_or_name.lower()
    cols = [ColumnInfo(c.name, alias, f"o.{c.name}", c.type) for c in tdef.columns] + \
        [ColumnInfo(c.name, "excluded", f"x.{c.name}", c.type) for c in tdef.columns]
    work = pa.table(list(old.columns) + list(excluded.columns),
                    names=[c.field for c in cols])
    scope = Scope(cols)
    planner = ctx.planner()
    comp = planner.compiler(scope, "ON CONFLICT DO UPDATE")
    where = conflict.args.get("where")
    if where is not None:
        w = where.this if isinstance(where, exp.Where) else where
        mask = to_array(pc.fill_null(bool_expr(comp.compile(w)).fn(work, ctx.exec_ctx()), False),
                        work.num_rows)
        work = work.filter(mask)
        rids = rids[mask.to_numpy(zero_copy_only=False)]
        old = old.filter(mask)
    assignments = conflict.expressions
    if not assignments:
        return Result(rowcount=0)
    sets = _assignments(ctx, tdef, assignments, comp)
    return _apply_update(ctx, stmt, tdef, old, rids, sets, work, count_only=True)


# -- UPDATE ----------------------------------------------------------------------------

def _assignments(ctx: StmtCtx, tdef: TableDef, items, comp) -> dict[str, CExpr]:
    sets: dict[str, CExpr] = {}
    for a in items:
        if not isinstance(a, exp.EQ) or not isinstance(a.left, exp.Column):
            raise ProgrammingError(f"SET expects column = value, got {a.sql()}")
        col = tdef.column(a.left.name)
        if col.name in sets:
            raise ProgrammingError(f"column {col.name} is assigned twice")
        if _is_default(a.right):  # SET x = DEFAULT: the column default, or NULL
            sets[col.name] = compile_default(ctx, tdef, col) if col.default is not None \
                else const_expr(None, col.type, a.right)
            continue
        sets[col.name] = cast_expr(comp.compile(a.right), col.type,
                                   what=f"the new value of {tdef.name}.{col.name}")
    return sets


def _is_default(node: exp.Expression) -> bool:
    """The DEFAULT keyword (sqlglot reads it as an unquoted column named DEFAULT)."""
    if isinstance(node, exp.Var):
        return node.name.upper() == "DEFAULT"
    return isinstance(node, exp.Column) and not node.table and \
        node.name.upper() == "DEFAULT" and not node.this.args.get("quoted")


def _target_scan(ctx: StmtCtx, stmt: exp.Expression, tdef: TableDef, extra_from,
                 where: exp.Expression | None):
    """Rows of the target table (all columns + rowid) joined with any FROM/USING tables,
    filtered by WHERE."""
    planner = ctx.planner()
    table = stmt.this
    alias = table.alias_or_name
    sel = exp.Select(expressions=[exp.Star()])
    sel.set("from_", exp.From(this=table.copy()))
    if extra_from:
        sel.set("joins", [exp.Join(this=t.copy()) for t in extra_from])
    op, scope = plan_from(planner, sel, None, where)
    scan = _find_scan(op, tdef, alias)
    if scan.with_rowids:  # the statement already reads the rowid pseudo-column
        return op, scope, scan.columns[-1].field, planner
    rid_col = ColumnInfo(ROWID_NAME, alias.lower(), planner.fresh(), pa.int64(), hidden=True)
    _add_rowids(op, scan, rid_col)
    scope = Scope(scope.columns + [rid_col])
    return op, scope, rid_col.field, planner


def _find_scan(op: Operator, tdef: TableDef, alias: str) -> TableScan:
    """The scan of the target table: reached through filters and joins only, so a scan of
    the same table inside a FROM subquery (behind a projection) is not taken for it."""
    stack = [op]
    while stack:
        o = stack.pop()
        if isinstance(o, TableScan) and o.tdef.id == tdef.id and o.alias.lower() == alias.lower():
            return o
        if isinstance(o, (Filter, Join)) or o is op:
            stack.extend(o.children)
    raise ProgrammingError(f"internal: no scan of {tdef.name} in the plan")


def _add_rowids(root: Operator, scan: TableScan, rid_col: ColumnInfo) -> None:
    """Make the target scan also return rowids and pass them through to the root."""
    missing = [c for c in scan.tdef.columns if c.field not in scan.physical]
    for c in missing:
        scan.physical.append(c.field)
        scan.columns.append(ColumnInfo(c.name, scan.alias.lower(), f"{rid_col.field}.{c.id}",
                                       c.type))
    scan.with_rowids = True
    scan.columns.append(rid_col)

    def fix(o: Operator) -> bool:
        """Widen the operators between the root and the scan; other subtrees (a FROM
        subquery's projection, say) keep their own columns."""
        if o is scan:
            return True
        found = [fix(k) for k in o.children]
        if not any(found):
            return False
        kids = [k.columns for k in o.children]
        if hasattr(o, "left") and hasattr(o, "right") and type(o).__name__ == "Join":
            if o.kind not in ("semi", "anti"):
                o.columns = kids[0] + kids[1]
        else:
            o.columns = kids[0]
        return True
    fix(root)


def _target_rows(ctx: StmtCtx, op: Operator, rid_field: str) -> tuple[pa.Table, np.ndarray]:
    """Execute the target scan; return (all joined rows, rowids of the target rows)."""
    t = op.execute(ctx.exec_ctx())
    rids = t.column(rid_field).to_numpy()
    if len(rids) != len(np.unique(rids)):
        # UPDATE ... FROM matching a row several times: the first match wins.
        _, first = np.unique(rids, return_index=True)
        first.sort()
        t = t.take(pa.array(first))
        rids = rids[first]
    return t, rids


def update(ctx: StmtCtx, stmt: exp.Update) -> Result:
    tdef = _target(ctx, stmt.this, "update")
    if not stmt.expressions:
        raise ProgrammingError(f"UPDATE {tdef.name} needs SET column = value")
    where = stmt.args.get("where")
    extra = stmt.args.get("from_")
    extra_tables = [extra.this] + [j.this for j in extra.args.get("joins") or []] \
        if extra is not None else []
    op, scope, rid_field, planner = _target_scan(ctx, stmt, tdef, extra_tables,
                                                 where.this if where is not None else None)
    t, rids = _target_rows(ctx, op, rid_field)
    alias = stmt.this.alias_or_name.lower()
    old = _old_rows(tdef, t, scope, alias)
    comp = planner.compiler(scope, "UPDATE SET")
    sets = _assignments(ctx, tdef, stmt.expressions, comp)
    return _apply_update(ctx, stmt, tdef, old, rids, sets, t)


def _old_rows(tdef: TableDef, t: pa.Table, scope: Scope, alias: str) -> pa.Table:
    arrays = []
    for c in tdef.columns:
        info = next(ci for ci in scope.columns if ci.table == alias and ci.name == c.name
                    and not ci.hidden)
        arrays.append(t.column(info.field))
    return pa.table(arrays, names=tdef.column_names)


def _apply_update(ctx: StmtCtx, stmt: exp.Expression, tdef: TableDef, old: pa.Table,
                  rids: np.ndarray, sets: dict[str, CExpr], work: pa.Table,
                  count_only: bool = False) -> Result:
    n = old.num_rows
    if n == 0:
        return _finish_update(ctx, stmt, tdef, old, 0, count_only)
    ectx = ctx.exec_ctx()
    new_cols = []
    for c in tdef.columns:
        e = sets.get(c.name)
        if e is None:
            new_cols.append(old.column(c.name))
        else:
            new_cols.append(materialize(e.fn(work, ectx), n, c.type))
    new = pa.table(new_cols, names=tdef.column_names)
    fired = ctx.session.fire_before(ctx, tdef, "UPDATE", new, old)
    # A BEFORE UPDATE trigger may change any column, so then every constraint is checked.
    changed = set(sets) if fired is new else set(tdef.column_names)
    new = fired
    check_rows(ctx, tdef, new)
    if tdef.uniques and changed & {n for u in tdef.uniques for n in tdef.names_of(u.columns)}:
        for u, existing, dups in find_conflicts(ctx, tdef, new, rids):
            if dups:
                raise_unique(tdef, u, _key_of(tdef, u, new, dups[0][1]))
            if existing:
                raise_unique(tdef, u, _key_of(tdef, u, new, next(iter(existing))))
    if tdef.foreign_keys and changed & {n for fk in tdef.foreign_keys
                                        for n in tdef.names_of(fk.columns)}:
        check_foreign_keys(ctx, tdef, new)
    key_names = {c.lower() for _, fk in referencing(ctx, tdef) for c in fk.ref_columns}
    if key_names & {c.lower() for c in changed}:
        moved = _rows_whose_key_changed(tdef, old, new, key_names)
        if moved.any():
            check_parent_delete(ctx, tdef, old.filter(pa.array(moved)), rids[moved])
    ctx.txn.delete(tdef, rids)
    ctx.txn.insert(tdef, ctx.physical(tdef, new))
    ctx.session.fire_after(ctx, tdef, "UPDATE", new, old)
    return _finish_update(ctx, stmt, tdef, new, n, count_only)


def _rows_whose_key_changed(tdef: TableDef, old: pa.Table, new: pa.Table, keys: set[str],
                            ) -> np.ndarray:
    out = np.zeros(old.num_rows, dtype=bool)
    for c in tdef.columns:
        if c.name.lower() in keys:
            same = pc.fill_null(pc.equal(old.column(c.name), new.column(c.name)), False)
            both_null = pc.and_(pc.is_null(old.column(c.name)), pc.is_null(new.column(c.name)))
            out |= ~to_array(pc.or_(same, both_null), old.num_rows).to_numpy(
                zero_copy_only=False)
    return out


def _finish_update(ctx, stmt, tdef, rows: pa.Table, n: int, count_only: bool) -> Result:
    if count_only:
        return Result(rows, rowcount=n) if stmt.args.get("returning") is not None else \
            Result(rowcount=n)
    returning = stmt.args.get("returning")
    if returning is not None:
        return _returning(ctx, tdef, returning, [rows], n)
    return Result(message=_plural(n, "updated"), rowcount=n, statement="UPDATE")


# -- DELETE ----------------------------------------------------------------------------

def delete(ctx: StmtCtx, stmt: exp.Delete) -> Result:
    if not isinstance(stmt.this, exp.Table):
        tables = stmt.args.get("tables") or []
        if len(tables) != 1:
            raise ProgrammingError("DELETE needs exactly one target table")
        stmt = stmt.copy()
        stmt.set("this", tables[0])
        stmt.set("tables", None)
    tdef = _target(ctx, stmt.this, "delete from")
    where = stmt.args.get("where")
    using = stmt.args.get("using") or []
    op, scope, rid_field, _planner = _target_scan(ctx, stmt, tdef, using,
                                                  where.this if where is not None else None)
    t, rids = _target_rows(ctx, op, rid_field)
    alias = stmt.this.alias_or_name.lower()
    old = _old_rows(tdef, t, scope, alias)
    n = _delete_rows(ctx, tdef, old, rids)
    returning = stmt.args.get("returning")
    if returning is not None:
        return _returning(ctx, tdef, returning, [old], n)
    return Result(message=_plural(n, "deleted"), rowcount=n, statement="DELETE")


def _delete_rows(ctx: StmtCtx, tdef: TableDef, old: pa.Table, rids: np.ndarray,
                 depth: int = 0) -> int:
    if not len(rids):
        return 0
    ctx.session.fire_before(ctx, tdef, "DELETE", old)
    check_parent_delete(ctx, tdef, old, rids, depth)
    ctx.txn.delete(tdef, rids)
    ctx.session.fire_after(ctx, tdef, "DELETE", old)
    return len(rids)


def cascade_delete(ctx: StmtCtx, child: TableDef, rids: np.ndarray, depth: int) -> None:
    old = ctx.logical(child, ctx.txn.view(child).take([c.field for c in child.columns], rids))
    _delete_rows(ctx, child, old, rids, depth)


def set_null(ctx: StmtCtx, child: TableDef, fk: ForeignKey, rids: np.ndarray) -> None:
    view = ctx.txn.view(child)
    old = ctx.logical(child, view.take([c.field for c in child.columns], rids))
    names = set(child.names_of(fk.columns))
    new = pa.table([pa.nulls(old.num_rows, c.type) if c.name in names else old.column(c.name)
                    for c in child.columns], names=child.column_names)
    check_rows(ctx, child, new)
    ctx.txn.delete(child, rids)
    ctx.txn.insert(child, ctx.physical(child, new))


# -- RETURNING -------------------------------------------------------------------------

def _returning(ctx: StmtCtx, tdef: TableDef, returning: exp.Returning, parts: list[pa.Table],
               count: int) -> Result:
    data = pa.concat_tables([p for p in parts if p.num_columns]) if parts else None
    scope = logical_scope(tdef)
    comp = ctx.planner().compiler(scope, "RETURNING")
    names, arrays = [], []
    from sochdb.sql.planner import output_name
    items = []
    for it in returning.expressions:
        if isinstance(it, exp.Star):
            items.extend(exp.column(c.name) for c in tdef.columns)
        else:
            items.append(it)
    ectx = ctx.exec_ctx()
    for it in items:
        e = comp.compile(it)
        names.append(output_name(it))
        arrays.append(materialize(e.fn(data, ectx), data.num_rows, e.type))
    table = pa.table(arrays, names=[f"c{i}" for i in range(len(arrays))])
    return Result(table, names, rowcount=count, statement="DML")


__all__ = ["insert", "update", "delete", "complete_rows", "cascade_delete", "set_null",
           "python_scalar", "Filter"]
