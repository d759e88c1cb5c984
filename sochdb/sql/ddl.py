"""Data definition: CREATE / DROP / ALTER for tables, indexes and views.

Every change produces a new catalog for the transaction (and one catalog operation for the
WAL), so DDL commits and rolls back with the rest of the transaction.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from sqlglot import exp

from sochdb.engine.catalog import (HIDDEN_PREFIX, Check, Column, ForeignKey, Index, TableDef,
                                   Unique, ViewDef)
from sochdb.errors import (BindError, ConstraintError, NotSupportedError, ProgrammingError)
from sochdb.sql import types as T
from sochdb.sql.expressions import materialize
from sochdb.sql.result import Result
from sochdb.sql.scope import ColumnInfo, Scope
from sochdb.sql.statement import StmtCtx
from sochdb.sql_names import suggest


def _name_taken(ctx: StmtCtx, name: str) -> str | None:
    if ctx.catalog.get(name) is not None:
        return "table"
    if ctx.catalog.view(name) is not None:
        return "view"
    return None


def _put_table(ctx: StmtCtx, tdef: TableDef) -> None:
    catalog = ctx.catalog.with_table(tdef)
    ctx.txn.set_catalog(catalog, {"op": "table", "def": tdef.to_json()})


# -- CREATE TABLE ----------------------------------------------------------------------

def create_table(ctx: StmtCtx, stmt: exp.Create, sql: str) -> Result:
    schema = stmt.this
    table_node = schema.this if isinstance(schema, exp.Schema) else schema
    name = table_node.name
    if not name:
        raise ProgrammingError("CREATE TABLE needs a table name")
    taken = _name_taken(ctx, name)
    if taken:
        if stmt.args.get("exists"):
            return Result(message=f"Table '{name}' already exists", statement="CREATE")
        if stmt.args.get("replace") and taken == "table":
            drop_table_by_name(ctx, name)
        else:
            raise ProgrammingError(f"a {taken} named {name!r} already exists")
    if name.startswith(HIDDEN_PREFIX):
        raise ProgrammingError(f"table names starting with {HIDDEN_PREFIX!r} are reserved")
    props = stmt.args.get("properties")
    if props is not None and any(isinstance(p, exp.TemporaryProperty)
                                 for p in props.expressions):
        raise NotSupportedError(f"CREATE TEMP TABLE {name}: temporary tables are not "
                                f"supported (every table is durable); create a table and "
                                f"DROP it when done")
    if stmt.expression is not None:
        return _create_table_as(ctx, stmt, name, sql)
    if not isinstance(schema, exp.Schema) or not schema.expressions:
        raise ProgrammingError(f"CREATE TABLE {name} needs at least one column")
    table_id, catalog = ctx.catalog.reserve_table_id()
    ctx.txn.catalog = catalog
    tdef = TableDef(id=table_id, name=name, columns=[], sql=sql.strip())
    deferred: list[exp.Expression] = []
    for item in schema.expressions:
        if isinstance(item, exp.ColumnDef):
            _add_column_def(ctx, tdef, item, creating=True)
        else:
            deferred.append(item)
    for item in deferred:
        _add_table_constraint(ctx, tdef, item)
    _validate_expressions(ctx, tdef)
    _put_table(ctx, tdef)
    return Result(message=f"Table '{name}' created", statement="CREATE")


def _create_table_as(ctx: StmtCtx, stmt: exp.Create, name: str, sql: str) -> Result:
    planner = ctx.planner()
    op = planner.plan_query(stmt.expression)
    data = op.execute(ctx.exec_ctx())
    table_id, catalog = ctx.catalog.reserve_table_id()
    ctx.txn.catalog = catalog
    cols = []
    seen = set()
    for i, c in enumerate(op.columns):
        if c.name.lower() in seen:
            raise ProgrammingError(f"CREATE TABLE AS: column name {c.name!r} appears twice; "
                                   f"give the expressions distinct aliases")
        seen.add(c.name.lower())
        typ = c.type if c.type != pa.null() else pa.int32()
        cols.append(Column(i, c.name, typ, T.sql_type_name(typ)))
    tdef = TableDef(id=table_id, name=name, columns=cols, next_column_id=len(cols),
                    sql=sql.strip())
    _put_table(ctx, tdef)
    phys = pa.table([T.cast(data.column(i), col.type) for i, col in enumerate(cols)],
                    names=[c.field for c in cols])
    ctx.txn.insert(tdef, phys)
    return Result(message=f"Table '{name}' created ({phys.num_rows} rows)",
                  rowcount=phys.num_rows, statement="CREATE")


def create_table_from_arrow(ctx: StmtCtx, name: str, data: pa.Table) -> TableDef:
    """A new table with the schema of ``data`` (types kept as they are)."""
    if _name_taken(ctx, name):
        raise ProgrammingError(f"a table or view named {name!r} already exists")
    table_id, catalog = ctx.catalog.reserve_table_id()
    ctx.txn.catalog = catalog
    cols = [Column(i, f.name, f.type, T.sql_type_name(f.type)) for i, f in
            enumerate(data.schema)]
    tdef = TableDef(id=table_id, name=name, columns=cols, next_column_id=len(cols),
                    sql=f"CREATE TABLE {name} (" + ", ".join(
                        f"{c.name} {c.sql_type}" for c in cols) + ")")
    _put_table(ctx, tdef)
    return tdef


def _constraint_kinds(coldef: exp.ColumnDef) -> list[exp.Expression]:
    return [c.args.get("kind") for c in coldef.args.get("constraints") or []]


def _add_column_def(ctx: StmtCtx, tdef: TableDef, item: exp.ColumnDef, creating: bool) -> Column:
    cname = item.name
    if tdef.has_column(cname):
        raise ProgrammingError(f"column {cname!r} is specified more than once in "
                               f"{tdef.name}")
    kind = item.args.get("kind")
    if kind is None:
        typ, sql_type = pa.string(), "TEXT"  # SQLite allows a column without a type
    else:
        typ, sql_type = T.arrow_type(kind), kind.sql(dialect="duckdb")
    col = Column(tdef.next_column_id, cname, typ, sql_type)
    tdef.next_column_id += 1
    tdef.columns.append(col)
    for cc in item.args.get("constraints") or []:
        k = cc.args.get("kind")
        cname_given = cc.name or None
        if isinstance(k, exp.NotNullColumnConstraint):
            col.not_null = not k.args.get("allow_null")
        elif isinstance(k, exp.PrimaryKeyColumnConstraint):
            if tdef.primary_key is not None:
                raise ProgrammingError(f"table {tdef.name} has more than one primary key")
            col.not_null = True
            tdef.uniques.append(Unique(cname_given or f"{tdef.name}_pkey", [col.id],
                                       primary=True))
        elif isinstance(k, exp.UniqueColumnConstraint):
            tdef.uniques.append(Unique(cname_given or f"{tdef.name}_{cname}_key", [col.id]))
        elif isinstance(k, exp.DefaultColumnConstraint):
            col.default = k.this.sql(dialect="duckdb")
        elif isinstance(k, exp.CheckColumnConstraint):
            tdef.checks.append(Check(cname_given or f"{tdef.name}_{cname}_check",
                                     k.this.sql(dialect="duckdb")))
        elif isinstance(k, exp.Reference):
            _add_fk(ctx, tdef, [cname], k, f"{tdef.name}_{cname}_fkey")
        elif isinstance(k, (exp.CollateColumnConstraint, exp.CommentColumnConstraint)):
            pass
        elif isinstance(k, exp.AutoIncrementColumnConstraint):
            pass
        else:
            raise NotSupportedError(f"unsupported column constraint {k.sql() if k else ''!r} "
                                    f"on {tdef.name}.{cname}")
    return col


def _ident_names(nodes) -> list[str]:
    out = []
    for n in nodes:
        if isinstance(n, exp.Ordered):
            n = n.this
        out.append(n.name)
    return out


def _add_table_constraint(ctx: StmtCtx, tdef: TableDef, item: exp.Expression,
                          name: str | None = None) -> None:
    if isinstance(item, exp.Constraint):
        for inner in item.expressions:
            _add_table_constraint(ctx, tdef, inner, item.name)
        return
    if isinstance(item, exp.PrimaryKey):
        if tdef.primary_key is not None:
            raise ProgrammingError(f"table {tdef.name} has more than one primary key")
        ids = [tdef.column(n).id for n in _ident_names(item.expressions)]
        for i in ids:
            tdef.column_by_id(i).not_null = True
        tdef.uniques.append(Unique(name or f"{tdef.name}_pkey", ids, primary=True))
    elif isinstance(item, exp.UniqueColumnConstraint):
        target = item.this
        names = _ident_names(target.expressions if isinstance(target, exp.Schema) else [target])
        ids = [tdef.column(n).id for n in names]
        tdef.uniques.append(Unique(name or f"{tdef.name}_{'_'.join(names)}_key", ids))
    elif isinstance(item, exp.CheckColumnConstraint):
        tdef.checks.append(Check(name or f"{tdef.name}_check{len(tdef.checks) + 1}",
                                 item.this.sql(dialect="duckdb")))
    elif isinstance(item, exp.ForeignKey):
        cols = _ident_names(item.expressions)
        _add_fk(ctx, tdef, cols, item.args.get("reference"),
                name or f"{tdef.name}_{'_'.join(cols)}_fkey")
    else:
        raise NotSupportedError(f"unsupported table constraint {item.sql()!r}")


def _add_fk(ctx: StmtCtx, tdef: TableDef, cols: list[str], ref: exp.Reference,
            name: str) -> None:
    target = ref.this
    ref_table_node = target.this if isinstance(target, exp.Schema) else target
    ref_name = ref_table_node.name
    ref_cols = _ident_names(target.expressions) if isinstance(target, exp.Schema) else []
    for c in cols:
        tdef.column(c)
    if ref_name.lower() == tdef.name.lower():
        parent = tdef
    else:
        parent = ctx.catalog.get(ref_name)
        if parent is None:
            raise BindError(f"foreign key {name}: referenced table {ref_name!r} does not exist"
                            f"{suggest(ref_name, ctx.catalog.table_names())}")
    if not ref_cols:
        pk = parent.primary_key
        if pk is None:
            raise ProgrammingError(f"foreign key {name}: table {parent.name} has no primary "
                                   f"key; name the referenced columns")
        ref_cols = parent.names_of(pk.columns)
    if len(ref_cols) != len(cols):
        raise ProgrammingError(f"foreign key {name}: {len(cols)} columns reference "
                               f"{len(ref_cols)} columns")
    ref_ids = sorted(parent.column(c).id for c in ref_cols)
    if parent is not tdef and not any(sorted(u.columns) == ref_ids for u in parent.uniques):
        raise ProgrammingError(f"foreign key {name}: {parent.name}({', '.join(ref_cols)}) "
                               f"is not a primary key or unique")
    on_delete = "RESTRICT"
    for opt in ref.args.get("options") or []:
        text = " ".join(str(opt).upper().split())
        action = text.split(" ", 2)[2] if text.startswith("ON ") else ""
        if text.startswith("ON DELETE") and action in ("CASCADE", "SET NULL", "RESTRICT",
                                                       "NO ACTION"):
            on_delete = "RESTRICT" if action == "NO ACTION" else action
        elif text.startswith("ON UPDATE") and action in ("RESTRICT", "NO ACTION"):
            pass  # what an UPDATE of a referenced key does anyway
        else:
            raise NotSupportedError(f"foreign key {name}: {text} is not supported (ON DELETE "
                                    f"CASCADE / SET NULL / RESTRICT / NO ACTION are; a "
                                    f"referenced key cannot be updated while referenced)")
    tdef.foreign_keys.append(ForeignKey(name, [tdef.column(c).id for c in cols], parent.name,
                                        [parent.column(c).name for c in ref_cols], on_delete))


def _validate_expressions(ctx: StmtCtx, tdef: TableDef) -> None:
    """Compile defaults and checks once so that mistakes surface at CREATE time."""
    from sochdb.sql.constraints import compile_check, compile_default
    for c in tdef.columns:
        if c.default is not None:
            compile_default(ctx, tdef, c)
    for chk in tdef.checks:
        compile_check(ctx, tdef, chk)


# -- DROP ------------------------------------------------------------------------------

def drop(ctx: StmtCtx, stmt: exp.Drop) -> Result:
    kind = (stmt.args.get("kind") or "").upper()
    targets = stmt.args.get("tables") or ([stmt.this] if stmt.this is not None else [])
    if len(targets) != 1:
        raise NotSupportedError("DROP takes exactly one name")
    name = targets[0].name
    exists = stmt.args.get("exists")
    if kind == "TABLE":
        if ctx.catalog.get(name) is None:
            if exists:
                return Result(message=f"Table '{name}' does not exist", statement="DROP")
            if ctx.catalog.view(name) is not None:
                raise ProgrammingError(f"{name!r} is a view: use DROP VIEW")
            raise BindError(f"unknown table {name!r}"
                            f"{suggest(name, ctx.catalog.table_names())}", table=name)
        drop_table_by_name(ctx, name, cascade=bool(stmt.args.get("cascade")))
        return Result(message=f"Table '{name}' dropped", statement="DROP")
    if kind == "VIEW":
        if ctx.catalog.view(name) is None:
            if exists:
                return Result(message=f"View '{name}' does not exist", statement="DROP")
            raise BindError(f"unknown view {name!r}")
        ctx.txn.set_catalog(ctx.catalog.without_view(name), {"op": "drop_view", "name": name})
        return Result(message=f"View '{name}' dropped", statement="DROP")
    if kind == "INDEX":
        return _drop_index(ctx, name, exists)
    raise NotSupportedError(f"DROP {kind} is not supported")


def drop_table_by_name(ctx: StmtCtx, name: str, cascade: bool = False) -> None:
    tdef = ctx.catalog.get(name)
    for other in ctx.catalog.tables.values():
        if other.id == tdef.id:
            continue
        for fk in other.foreign_keys:
            if fk.ref_table.lower() == tdef.name.lower():
                raise ConstraintError(f"cannot drop table {tdef.name}: foreign key {fk.name} "
                                      f"of table {other.name} references it")
    ctx.txn.set_catalog(ctx.catalog.without_table(tdef.id), {"op": "drop", "id": tdef.id})
    from sochdb.sql.vector_search import drop_table_indexes
    drop_table_indexes(ctx, tdef)


# -- indexes ---------------------------------------------------------------------------

def create_index(ctx: StmtCtx, stmt: exp.Create) -> Result:
    idx = stmt.this
    name = idx.name
    using = idx.args.get("params") and idx.args["params"].args.get("using")
    if using is not None and using.name.upper() == "HNSW":
        from sochdb.sql.vector_search import create_hnsw_index
        return create_hnsw_index(ctx, stmt)
    table_node = idx.args.get("table")
    tdef = ctx.catalog.get(table_node.name) if table_node is not None else None
    if tdef is None:
        raise BindError(f"CREATE INDEX {name}: unknown table "
                        f"{table_node.name if table_node is not None else '?'!r}")
    for other in ctx.catalog.tables.values():
        if any(i.name.lower() == name.lower() for i in other.indexes) or any(
                u.name.lower() == name.lower() for u in other.uniques):
            if stmt.args.get("exists"):
                return Result(message=f"Index '{name}' already exists", statement="CREATE")
            raise ProgrammingError(f"an index named {name!r} already exists")
    params = idx.args.get("params")
    cols = params.args.get("columns") if params is not None else []
    names = []
    for c in cols:
        inner = c.this if isinstance(c, exp.Ordered) else c
        if not isinstance(inner, exp.Column):
            raise NotSupportedError(f"indexes on expressions are not supported: {inner.sql()}")
        names.append(inner.name)
    ids = [tdef.column(n).id for n in names]
    new = tdef.copy()
    unique = bool(stmt.args.get("unique"))
    if unique:
        from sochdb.sql.constraints import check_existing_unique
        check_existing_unique(ctx, tdef, ids, name)
        new.uniques.append(Unique(name, ids))
    else:
        new.indexes.append(Index(name, ids))
    _put_table(ctx, new)
    return Result(message=f"Index '{name}' created", statement="CREATE")


def _drop_index(ctx: StmtCtx, name: str, exists: bool) -> Result:
    for tdef in ctx.catalog.tables.values():
        for i in tdef.indexes:
            if i.name.lower() == name.lower():
                new = tdef.copy()
                new.indexes = [x for x in new.indexes if x.name.lower() != name.lower()]
                _put_table(ctx, new)
                return Result(message=f"Index '{name}' dropped", statement="DROP")
        for u in tdef.uniques:
            if u.name.lower() == name.lower() and not u.primary:
                new = tdef.copy()
                new.uniques = [x for x in new.uniques if x.name.lower() != name.lower()]
                _put_table(ctx, new)
                return Result(message=f"Index '{name}' dropped", statement="DROP")
    from sochdb.sql.vector_search import drop_hnsw_index
    hnsw = drop_hnsw_index(ctx, name)
    if hnsw is not None:
        return hnsw
    if exists:
        return Result(message=f"Index '{name}' does not exist", statement="DROP")
    raise BindError(f"unknown index {name!r}")


# -- views -----------------------------------------------------------------------------

def create_view(ctx: StmtCtx, stmt: exp.Create) -> Result:
    target = stmt.this
    table_node = target.this if isinstance(target, exp.Schema) else target
    name = table_node.name
    cols = [c.name for c in target.expressions] if isinstance(target, exp.Schema) else None
    taken = _name_taken(ctx, name)
    if taken:
        if stmt.args.get("exists"):
            return Result(message=f"View '{name}' already exists", statement="CREATE")
        if not (stmt.args.get("replace") and taken == "view"):
            raise ProgrammingError(f"a {taken} named {name!r} already exists")
    query = stmt.expression
    op = ctx.planner().plan_query(query)  # binds names now: a bad view fails here
    if cols is not None and len(cols) > len(op.columns):
        raise ProgrammingError(f"view {name} names {len(cols)} columns but its query has "
                               f"{len(op.columns)}")
    view = ViewDef(name, query.sql(dialect="duckdb"), cols)
    ctx.txn.set_catalog(ctx.catalog.with_view(view), {"op": "view", "def": vars(view)})
    return Result(message=f"View '{name}' created", statement="CREATE")


# -- ALTER TABLE -----------------------------------------------------------------------

def alter_table(ctx: StmtCtx, stmt: exp.Alter) -> Result:
    name = stmt.this.name
    tdef = ctx.catalog.get(name)
    if tdef is None:
        if stmt.args.get("exists"):
            return Result(message=f"Table '{name}' does not exist", statement="ALTER")
        raise BindError(f"unknown table {name!r}{suggest(name, ctx.catalog.table_names())}")
    new = tdef.copy()
    messages = []
    for action in stmt.args.get("actions") or []:
        if isinstance(action, exp.ColumnDef):
            if action.args.get("exists") and new.has_column(action.name):
                messages.append(f"column '{action.name}' already exists")
                continue
            _alter_add_column(ctx, new, action)
            messages.append(f"column '{action.name}' added")
        elif isinstance(action, exp.Drop):
            for col in action.args.get("objects") or action.args.get("tables") or [action.this]:
                _alter_drop_column(ctx, new, col.name, bool(action.args.get("exists")))
                messages.append(f"column '{col.name}' dropped")
        elif isinstance(action, exp.RenameColumn):
            old, to = action.this.name, action.args["to"].name
            _alter_rename_column(ctx, new, old, to)
            messages.append(f"column '{old}' renamed to '{to}'")
        elif isinstance(action, exp.AlterRename):
            to = action.this.name
            if _name_taken(ctx, to):
                raise ProgrammingError(f"a table or view named {to!r} already exists")
            _rename_references(ctx, tdef.name, to)
            for fk in new.foreign_keys:
                if fk.ref_table.lower() == tdef.name.lower():
                    fk.ref_table = to
            new.name = to
            messages.append(f"renamed to '{to}'")
        else:
            raise NotSupportedError(f"unsupported ALTER TABLE action: {action.sql()}")
    _put_table(ctx, new)
    return Result(message=f"Table '{name}' altered: " + ", ".join(messages), statement="ALTER")


def _alter_add_column(ctx: StmtCtx, tdef: TableDef, action: exp.ColumnDef) -> None:
    kinds = _constraint_kinds(action)
    if any(isinstance(k, (exp.PrimaryKeyColumnConstraint, exp.UniqueColumnConstraint))
           for k in kinds):
        raise NotSupportedError("ADD COLUMN with PRIMARY KEY or UNIQUE is not supported; "
                                "add the column, then CREATE UNIQUE INDEX")
    col = _add_column_def(ctx, tdef, action, creating=False)
    from sochdb.sql.constraints import compile_default
    if col.default is not None:
        e = compile_default(ctx, tdef, col)
        v = e.fn(None, ctx.exec_ctx())
        col.fill = v.as_py() if isinstance(v, pa.Scalar) else materialize(v, 1)[0].as_py()
        if isinstance(col.fill, (bytes, bytearray)) or hasattr(col.fill, "isoformat"):
            raise NotSupportedError("ADD COLUMN defaults must be numbers, strings or booleans")
    if col.not_null and col.fill is None and ctx.txn.view(tdef).count() > 0:
        raise ConstraintError(f"cannot add NOT NULL column {col.name} without a default to "
                              f"table {tdef.name}, which has rows")


def _alter_drop_column(ctx: StmtCtx, tdef: TableDef, name: str, if_exists: bool) -> None:
    if not tdef.has_column(name):
        if if_exists:
            return
        tdef.column(name)
    col = tdef.column(name)
    if len(tdef.columns) == 1:
        raise ProgrammingError(f"cannot drop {name}: it is the only column of {tdef.name}")
    for u in tdef.uniques:
        if col.id in u.columns:
            kind = "primary key" if u.primary else f"unique constraint {u.name}"
            raise ConstraintError(f"cannot drop column {name}: it is part of the {kind}")
    for fk in tdef.foreign_keys:
        if col.id in fk.columns:
            raise ConstraintError(f"cannot drop column {name}: it is part of foreign key "
                                  f"{fk.name}")
    for other in ctx.catalog.tables.values():
        for fk in other.foreign_keys:
            if fk.ref_table.lower() == tdef.name.lower() and name.lower() in [
                    c.lower() for c in fk.ref_columns]:
                raise ConstraintError(f"cannot drop column {name}: foreign key {fk.name} of "
                                      f"{other.name} references it")
    import sqlglot
    for chk in tdef.checks:
        if any(c.name.lower() == name.lower()
               for c in sqlglot.parse_one(chk.sql, read="duckdb").find_all(exp.Column)):
            raise ConstraintError(f"cannot drop column {name}: check constraint {chk.name} "
                                  f"uses it")
    tdef.indexes = [i for i in tdef.indexes if col.id not in i.columns]
    tdef.columns = [c for c in tdef.columns if c.id != col.id]


def _alter_rename_column(ctx: StmtCtx, tdef: TableDef, old: str, to: str) -> None:
    col = tdef.column(old)
    if tdef.has_column(to) and to.lower() != old.lower():
        raise ProgrammingError(f"table {tdef.name} already has a column {to!r}")
    col.name = to
    import sqlglot

    def rename(sql: str) -> str:
        tree = sqlglot.parse_one(sql, read="duckdb")
        for c in tree.find_all(exp.Column):
            if c.name.lower() == old.lower():
                c.set("this", exp.to_identifier(to))
        return tree.sql(dialect="duckdb")
    for chk in tdef.checks:
        chk.sql = rename(chk.sql)
    for other in ctx.catalog.tables.values():
        if other.id == tdef.id:
            continue
        changed = False
        o2 = other.copy()
        for fk in o2.foreign_keys:
            if fk.ref_table.lower() == tdef.name.lower():
                new_cols = [to if c.lower() == old.lower() else c for c in fk.ref_columns]
                if new_cols != fk.ref_columns:
                    fk.ref_columns = new_cols
                    changed = True
        if changed:
            _put_table(ctx, o2)


def _rename_references(ctx: StmtCtx, old: str, to: str) -> None:
    for other in list(ctx.catalog.tables.values()):
        if any(fk.ref_table.lower() == old.lower() for fk in other.foreign_keys):
            o2 = other.copy()
            for fk in o2.foreign_keys:
                if fk.ref_table.lower() == old.lower():
                    fk.ref_table = to
            if o2.name.lower() != old.lower():
                _put_table(ctx, o2)


__all__ = ["create_table", "create_index", "create_view", "drop", "alter_table",
           "create_table_from_arrow", "Any", "ColumnInfo", "Scope"]
