"""HNSW indexes in SQL: ``CREATE INDEX ... USING HNSW`` and nearest-neighbour ORDER BY ... LIMIT.

``CREATE INDEX name ON t USING HNSW (col) [WITH (metric = 'cosine', m = 16,
ef_construction = 100, dtype = 'f16')]`` (DuckDB vss syntax) records a vector index definition
on a FLOAT[n] column in the same transaction; the graph is built when it commits and kept in
step with INSERT, UPDATE and DELETE through the vector registry. The planner hook replaces the
scan under ``SELECT ... FROM t [WHERE ...] ORDER BY <distance>(col, <constant>) LIMIT k`` with
``VectorTopK``, which hands the usual Sort and Limit only the index's k candidates (among the
rows passing WHERE, found exactly first); whenever the index cannot answer exactly like the
scan it runs the scan instead. Imports the SQL planner pieces and the vector registry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from sochdb.errors import (
    AlreadyExistsError,
    BindError,
    NotSupportedError,
    ProgrammingError,
)
from sochdb.sql.expressions import CExpr, ExprCompiler
from sochdb.sql.functions import function_name, positional_args
from sochdb.sql.operators import Limit, Project, Sort, TableScan
from sochdb.sql.operators.base import Operator
from sochdb.sql.result import Result
from sochdb.sql.scope import Scope
from sochdb.vector.registry import (
    IndexDef,
    existing_registry,
    registry_for,
    registry_for_table,
)

if TYPE_CHECKING:
    from sochdb.engine.catalog import TableDef
    from sochdb.sql.context import ExecContext
    from sochdb.sql.planner import Planner
    from sochdb.sql.statement import StmtCtx

__all__ = [
    "DISTANCE_METRICS",
    "VectorTopK",
    "create_hnsw_index",
    "drop_hnsw_index",
    "drop_table_indexes",
    "use_vector_index",
]

#: SQL distance function -> (index metric, ORDER BY direction that means "nearest first").
DISTANCE_METRICS = {"array_cosine_distance": ("cosine", False), "array_distance": ("l2", False),
                    "array_inner_product": ("ip", True)}
_METRIC_NAMES = {"l2sq": "l2"}  # DuckDB's name for the default metric
_OPTIONS = ("metric", "m", "ef_construction", "dtype")


# -- DDL ------------------------------------------------------------------------------------

def _option_value(node: exp.Expression) -> Any:
    if isinstance(node, exp.Literal):
        return node.this if node.is_string else int(node.this) if node.this.lstrip(
            "-").isdigit() else float(node.this)
    if isinstance(node, (exp.Var, exp.Identifier, exp.Column)):
        return node.name
    raise ProgrammingError(f"HNSW index option value must be a literal: {node.sql()}")


def create_hnsw_index(ctx: StmtCtx, stmt: exp.Create) -> Result:
    """``CREATE INDEX name ON t USING HNSW (col) WITH (...)``."""
    from sochdb.sql.ddl import _put_table
    idx = stmt.this
    name = idx.name
    table_node = idx.args.get("table")
    tdef = ctx.catalog.get(table_node.name) if table_node is not None else None
    if tdef is None:
        raise BindError(f"CREATE INDEX {name}: unknown table "
                        f"{table_node.name if table_node is not None else '?'!r}")
    if stmt.args.get("unique"):
        raise NotSupportedError(f"CREATE INDEX {name}: an HNSW index cannot be UNIQUE")
    params = idx.args["params"]
    cols = params.args.get("columns") or []
    inner = [c.this if isinstance(c, exp.Ordered) else c for c in cols]
    if len(inner) != 1 or not isinstance(inner[0], exp.Column):
        raise NotSupportedError(f"CREATE INDEX {name}: an HNSW index takes exactly one column")
    col = tdef.column(inner[0].name)
    if not pa.types.is_fixed_size_list(col.type) or not pa.types.is_floating(
            col.type.value_type):
        raise ProgrammingError(f"CREATE INDEX {name}: column {tdef.name}.{col.name} is "
                               f"{col.sql_type or col.type}; an HNSW index needs a FLOAT[n] "
                               f"(or VECTOR(n)) column")
    opts: dict[str, Any] = {}
    for prop in params.args.get("with_storage") or []:
        key = prop.name.lower() if isinstance(prop, exp.Property) else ""
        if key not in _OPTIONS:
            raise ProgrammingError(f"CREATE INDEX {name}: unknown HNSW option "
                                   f"{prop.sql() if key == '' else key!r}; options: "
                                   f"{', '.join(_OPTIONS)}")
        opts[key] = _option_value(prop.args["value"])
    metric = str(opts.get("metric", "l2"))
    metric = _METRIC_NAMES.get(metric.lower(), metric)
    reg = registry_for(ctx.txn.engine)
    taken = reg.get(name) is not None or any(
        i.name.lower() == name.lower() for t in ctx.catalog.tables.values()
        for i in [*t.indexes, *t.uniques])
    if taken:
        if stmt.args.get("exists"):
            return Result(message=f"Index '{name}' already exists", statement="CREATE")
        raise AlreadyExistsError(f"an index named {name!r} already exists", name=name)
    idef = IndexDef.build(name, "sql", tdef.id, col.id, col.type.list_size, metric,
                          opts.get("m", 16), opts.get("ef_construction", 100),
                          opts.get("dtype"))
    reg.define(ctx.txn, idef)
    _put_table(ctx, tdef.copy())  # a new catalog object: cached plans are made again
    return Result(message=f"Index '{name}' created", statement="CREATE")


def drop_hnsw_index(ctx: StmtCtx, name: str) -> Result | None:
    """``DROP INDEX name`` of an HNSW index; None when ``name`` is not one."""
    from sochdb.sql.ddl import _put_table
    reg = existing_registry(ctx.txn.engine)
    d = reg.get(name) if reg is not None else None
    if d is None:
        return None
    if d.kind != "sql":
        raise ProgrammingError(f"{d.name!r} is a vector index made by create_vector_index; "
                               f"drop it with db.drop_vector_index({d.name!r})")
    reg.undefine(ctx.txn, d.name)
    tdef = ctx.catalog.by_id(d.table_id)
    if tdef is not None:
        _put_table(ctx, tdef.copy())
    return Result(message=f"Index '{name}' dropped", statement="DROP")


def drop_table_indexes(ctx: StmtCtx, tdef: TableDef) -> None:
    """DROP TABLE drops the HNSW indexes on the table too."""
    reg = existing_registry(ctx.txn.engine)
    if reg is not None:
        for d in reg.on_table(tdef.id):
            reg.undefine(ctx.txn, d.name)


# -- planning -------------------------------------------------------------------------------

class _NoIndex(Exception):
    """The query is not one the index can answer; the plan stays as it is."""


class _Replay:
    """The planner, except that each ``?`` gets the parameter number it got when the planner
    compiled that very node (compiling it again must not take the next number)."""

    def __init__(self, planner: Planner) -> None:
        self._planner = planner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._planner, name)

    def param_key(self, node: exp.Placeholder) -> Any:
        if node.this is None or node.this == "?":
            key = getattr(self._planner, "param_nodes", {}).get(id(node))
            if key is None:
                raise _NoIndex
            return key
        return self._planner.param_key(node)


def _find(op: Operator) -> tuple[Sort, Project, TableScan] | None:
    """The Sort(top k) -> Project -> TableScan chain of a single-table query, if that is
    what ``op`` is (under a Limit and the Project that drops hidden sort columns)."""
    while isinstance(op, (Project, Limit)):
        op = op.child
    if isinstance(op, Sort) and op.limit and isinstance(op.child, Project) and \
            type(op.child.child) is TableScan and not op.child.child.with_rowids:
        return op, op.child, op.child.child
    return None


def use_vector_index(planner: Planner, node: exp.Select, op: Operator) -> Operator:
    """Answer nearest-neighbour ORDER BY ... LIMIT from an HNSW index when one fits."""
    order = node.args.get("order")
    if order is None or len(order.expressions) != 1:
        return op
    found = _find(op)
    if found is None:
        return op
    sort, project, scan = found
    reg = registry_for_table(scan.tdef)
    if reg is None:
        return op
    try:
        top = _plan_top_k(planner, node, sort, scan, reg)
    except (_NoIndex, BindError):
        return op
    project.child = top
    project.children = (top,)
    return op


def _plan_top_k(planner: Planner, node: exp.Select, sort: Sort, scan: TableScan,
                reg: Any) -> VectorTopK:
    item = order_item = node.args["order"].expressions[0]
    target = item.this
    if isinstance(target, exp.Column) and not target.table:
        for it in node.expressions:
            if isinstance(it, exp.Alias) and it.alias.lower() == target.name.lower():
                target = it.this
    for it in node.expressions:  # an ORDER BY equal to a select item reuses its column
        base = it.this if isinstance(it, exp.Alias) else it
        if base == target:
            target = base
            break
    if not isinstance(target, exp.Func):
        raise _NoIndex
    spec = DISTANCE_METRICS.get(function_name(target))
    key = sort.keys[0]
    if spec is None or bool(order_item.args.get("desc")) != spec[1] or key.nulls_first:
        raise _NoIndex
    args = positional_args(target)
    if len(args) != 2:
        raise _NoIndex
    cols = [a for a in args if isinstance(a, exp.Column)]
    if len(cols) != 1:
        raise _NoIndex
    column = cols[0]
    const = args[1] if args[0] is column else args[0]
    if const.find(exp.Column, exp.Select, exp.AggFunc, exp.Window) is not None:
        raise _NoIndex
    if column.table and column.table.lower() != scan.alias.lower():
        raise _NoIndex
    tdef = scan.tdef
    col = tdef.column(column.name)
    defs = [d for d in reg.on_column(tdef.id, col.id) if d.metric == spec[0]]
    if not defs:
        raise _NoIndex
    query = ExprCompiler(_Replay(planner), Scope([]), None, "ORDER BY").compile(const)
    filter_fields: list[tuple[str, str]] = []
    if scan.predicate is not None:
        where = node.args.get("where")
        by_name = {c.name.lower(): (c.field, p) for c, p in zip(scan.columns, scan.physical)}
        for c in (where.find_all(exp.Column) if where is not None else ()):
            hit = by_name.get(c.name.lower())
            if hit is None:
                raise _NoIndex  # an outer reference or a select alias: leave it to the scan
            if hit not in filter_fields:
                filter_fields.append(hit)
    return VectorTopK(scan, defs[0].name, spec[0], query, int(sort.limit), filter_fields)


# -- execution ------------------------------------------------------------------------------

class VectorTopK(Operator):
    """The k rows nearest to a constant vector, from an HNSW index, for Sort and Limit above.

    With a pushed-down WHERE predicate the passing rowids are found first (scanning only the
    columns it reads) and the index searches among them: exactly for small sets, by widening
    graph searches otherwise, with an exact fallback, so k rows come back whenever k pass.
    The table scan runs instead when the index is gone, the query vector is NULL or of another
    dimension, or the index returns fewer than k rows (rows without a vector then still count).
    """

    def __init__(self, scan: TableScan, index_name: str, metric: str, query: CExpr, k: int,
                 filter_fields: list[tuple[str, str]]) -> None:
        self.scan = scan
        self.tdef = scan.tdef
        self.columns = scan.columns
        self.index_name = index_name
        self.metric = metric
        self.query = query
        self.k = k
        self.filter_fields = filter_fields

    def _query_vector(self, ctx: ExecContext, dimension: int) -> np.ndarray | None:
        v = self.query.fn(None, ctx)
        if isinstance(v, (pa.Array, pa.ChunkedArray)):
            v = v[0] if len(v) == 1 else None
        if v is None or not v.is_valid:
            return None
        try:
            q = np.asarray(v.as_py(), dtype=np.float32)
        except (TypeError, ValueError):
            return None
        if q.ndim != 1 or len(q) != dimension or not np.isfinite(q).all():
            return None
        return q

    def _allowed(self, ctx: ExecContext, view: Any) -> np.ndarray:
        pred = self.scan.predicate
        names = [f for f, _ in self.filter_fields]
        phys = [p for _, p in self.filter_fields]
        parts = []
        for data, rids in view.scan(phys, with_rowids=True):
            ctx.check_interrupt()
            data = data.rename_columns(names)
            mask = pred.fn(data, ctx)  # type: ignore[union-attr]
            if isinstance(mask, pa.Scalar):
                if mask.is_valid and mask.as_py():
                    parts.append(rids)
                continue
            keep = pc.fill_null(mask, False).to_numpy(zero_copy_only=False)
            if keep.any():
                parts.append(rids[keep])
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)

    def execute(self, ctx: ExecContext) -> pa.Table:
        reg = existing_registry(ctx.txn.engine)
        d = reg.get(self.index_name) if reg is not None else None
        if d is None or d.table_id != self.tdef.id or d.metric != self.metric:
            return self.scan.execute(ctx)
        q = self._query_vector(ctx, d.dimension)
        if q is None:
            return self.scan.execute(ctx)
        txn = ctx.txn
        view = txn.view(self.tdef)
        allowed = None
        if self.scan.predicate is not None:
            allowed = self._allowed(ctx, view)
            if not len(allowed):
                return pa.schema([pa.field(c.field, c.type) for c in self.columns]).empty_table()
        res = reg.column_index(d).search(txn, q[None, :], self.k, None, allowed)
        count = int(res.counts[0])
        if count < self.k and (allowed is None or count < len(allowed)):
            return self.scan.execute(ctx)
        data = view.take(self.scan.physical, res.ids[0, :count])
        data = data.rename_columns([c.field for c in self.columns])
        schema = pa.schema([pa.field(c.field, c.type) for c in self.columns])
        return data if data.schema == schema else data.cast(schema)

    def describe(self) -> str:
        pred = f" filter: {self.scan.predicate.sql}" if self.scan.predicate is not None else ""
        cols = ", ".join(c.name for c in self.columns)
        return (f"VectorTopK {self.tdef.name} using HNSW index {self.index_name} "
                f"({self.metric}, top {self.k}) [{cols}]{pred}")

