"""Query planning: a sqlglot SELECT / set operation becomes a tree of physical operators.

The planner resolves names against the transaction's catalog, pushes WHERE conjuncts into the
scans they touch, turns comma joins with equality predicates into hash joins (greedy order),
picks index lookups for ``key = constant``, prunes unused columns, and plans aggregation,
window functions, DISTINCT, ORDER BY and LIMIT. FROM-clause work lives in from_clause.py and
aggregation in grouping.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from sqlglot import exp

from sochdb.errors import BindError, NotSupportedError, ParseError, ProgrammingError
from sochdb.sql import types as T
from sochdb.sql.context import Settings
from sochdb.sql.expressions import CExpr, ExprCompiler, cast_expr, const_expr, unify
from sochdb.sql.operators import (Distinct, Filter, Limit, Operator, Project, SetOp,
                                  SingleRow, Sort, ValuesScan)
from sochdb.sql.operators.relational import SortKey
from sochdb.sql.parser import explicit_nulls
from sochdb.sql.scope import ColumnInfo, Scope


@dataclass
class SubPlan:
    op: Operator
    outer_refs: dict[str, ColumnInfo]


def output_name(node: exp.Expression) -> str:
    """The result column name of a select item: its alias, column name, or SQL text."""
    if isinstance(node, exp.Alias):
        return node.alias
    if isinstance(node, exp.Column) and not isinstance(node.this, exp.Star):
        return node.name
    if isinstance(node, exp.Paren) and isinstance(node.this, exp.Column):
        return node.this.name
    return node.sql(dialect="duckdb")


class Planner:
    """Plans the queries of one statement. ``catalog`` is the transaction's catalog."""

    def __init__(self, catalog, settings: Settings, params: Any = None,
                 registry: dict[str, Any] | None = None) -> None:
        self.catalog = catalog
        self.settings = settings
        self.params = params
        self.registry = registry or {}
        self._counter = 0
        self._positional = 0
        self.param_nodes: dict[int, int] = {}  # id(? node) -> its number (vector_search)
        self.cte_frames: list[dict[str, Any]] = []

    # -- helpers -------------------------------------------------------------------------

    def fresh(self) -> str:
        self._counter += 1
        return f"_{self._counter}"

    def param_key(self, node: exp.Placeholder) -> Any:
        name = node.this
        if name is None or name == "?":
            key = self._positional
            self._positional += 1
            self.param_nodes[id(node)] = key
            return key
        text = str(name)
        if text.isdigit():
            return int(text) - 1
        return text

    def param_value(self, key: Any) -> Any:
        p = self.params
        if p is None:
            raise ProgrammingError("the statement has parameters but none were given")
        try:
            return p[key]
        except (KeyError, IndexError, TypeError):
            if isinstance(key, int):
                n = len(p) if hasattr(p, "__len__") else "?"
                raise ProgrammingError(f"parameter {key + 1} is missing: {n} given") from None
            raise ProgrammingError(f"parameter :{key} is missing") from None

    def compiler(self, scope: Scope, context: str = "expression",
                 replacements: dict | None = None) -> ExprCompiler:
        return ExprCompiler(self, scope, replacements, context)

    # -- queries -------------------------------------------------------------------------

    def plan_subquery(self, node: exp.Expression, scope: Scope) -> SubPlan:
        boundary = Scope([], parent=scope)
        op = self.plan_query(node, boundary)
        return SubPlan(op, boundary.outer_refs)

    def plan_query(self, node: exp.Expression, outer: Scope | None = None) -> Operator:
        with_ = node.args.get("with_")
        if with_ is not None:
            from sochdb.sql.ctes import push_ctes
            frame = push_ctes(self, with_, outer)
            self.cte_frames.append(frame)
            try:
                return self._plan_query_body(node, outer)
            finally:
                self.cte_frames.pop()
        return self._plan_query_body(node, outer)

    def _plan_query_body(self, node: exp.Expression, outer: Scope | None) -> Operator:
        if isinstance(node, exp.Select):
            return self.plan_select(node, outer)
        if isinstance(node, (exp.Union, exp.Intersect, exp.Except)):
            return self.plan_setop(node, outer)
        if isinstance(node, exp.Subquery):
            inner = self.plan_query(node.this, outer)
            return self._order_limit(node, inner, outer)
        if isinstance(node, exp.Values):
            return self.plan_values(node, outer)
        if isinstance(node, exp.Paren):
            return self.plan_query(node.this, outer)
        raise NotSupportedError(f"unsupported query: {node.sql()[:80]}")

    def plan_values(self, node: exp.Values, outer: Scope | None,
                    names: list[str] | None = None, alias: str | None = None,
                    targets: list[tuple[pa.DataType, str]] | None = None) -> Operator:
        """VALUES rows. With ``targets`` (INSERT: each column's type and a description for
        errors) every value is converted to its column's type on its own, instead of the
        rows first being unified to one type (7 and 10.5 into TEXT give '7' and '10.5')."""
        rows_ast = node.expressions
        if not rows_ast:
            raise ProgrammingError("VALUES needs at least one row")
        scope = Scope([], parent=outer)
        comp = self.compiler(scope, "VALUES")
        rows = []
        width = None
        for r in rows_ast:
            items = r.expressions if isinstance(r, exp.Tuple) else [r]
            if width is None:
                width = len(items)
            elif len(items) != width:
                raise ProgrammingError(f"VALUES rows must all have {width} values; found one "
                                       f"with {len(items)}")
            if targets is not None and len(items) != len(targets):
                raise ProgrammingError(f"INSERT has {len(targets)} target columns but a VALUES "
                                       f"row has {len(items)} values")
            rows.append([comp.compile(x) for x in items])
        if targets is not None:
            rows = [[cast_expr(e, typ, what) for e, (typ, what) in zip(r, targets)]
                    for r in rows]
            types = [typ for typ, _ in targets]
        else:
            types = []
            for j in range(width or 0):
                _, typ = unify([r[j] for r in rows], values=True)
                types.append(typ if typ != pa.null() else pa.int64())
        if names is None:
            tab_alias = node.args.get("alias")
            if tab_alias is not None and tab_alias.columns:
                names = [c.name for c in tab_alias.columns]
            else:
                names = [f"col{j}" for j in range(width or 0)]
        qual = alias.lower() if alias else None
        cols = [ColumnInfo(n, qual, self.fresh(), t) for n, t in zip(names, types)]
        return ValuesScan(cols, rows)

    def plan_setop(self, node: exp.Expression, outer: Scope | None) -> Operator:
        left = self.plan_query(node.this, outer)
        right = self.plan_query(node.expression, outer)
        if len(left.columns) != len(right.columns):
            raise ProgrammingError(f"each side of {type(node).__name__.upper()} must have the "
                                   f"same number of columns ({len(left.columns)} vs "
                                   f"{len(right.columns)})")
        cols = []
        for a, b in zip(left.columns, right.columns):
            typ = T.union_type(a.type, b.type)
            cols.append(ColumnInfo(a.name, None, self.fresh(), typ))
        kind = {exp.Union: "union", exp.Intersect: "intersect", exp.Except: "except"}[type(node)]
        distinct = node.args.get("distinct")
        op: Operator = SetOp(left, right, kind, all_=distinct is False, columns=cols)
        return self._order_limit(node, op, outer)

    def _order_limit(self, node: exp.Expression, op: Operator, outer: Scope | None) -> Operator:
        """ORDER BY / LIMIT attached to a set operation or parenthesized query."""
        order = node.args.get("order")
        if order is not None:
            scope = Scope(op.columns, parent=outer)
            comp = self.compiler(scope, "ORDER BY")
            keys = []
            setop = isinstance(node, (exp.Union, exp.Intersect, exp.Except))
            for o in order_all(order.expressions, len(op.columns)):
                target = o.this
                pos = None
                if setop and isinstance(target, exp.Column):
                    pos = next((i + 1 for i, c in enumerate(op.columns)
                                if c.name.lower() == target.name.lower()), None)
                if setop and pos is None:
                    pos = self._setop_position(node, target, len(op.columns))
                if isinstance(target, exp.Literal) and not target.is_string:
                    pos = int(target.this)
                    if not 1 <= pos <= len(op.columns):
                        raise BindError(f"ORDER BY position {pos} is not in the select list "
                                        f"(1 to {len(op.columns)})")
                if pos is not None:
                    c = op.columns[pos - 1]
                    e = CExpr(lambda t, ctx, f=c.field: t.column(f), c.type, False, c.name)
                elif setop:
                    raise BindError(f"could not ORDER BY {target.sql()}: name a result column "
                                    f"or use an expression that every SELECT of the "
                                    f"{type(node).__name__.upper()} returns")
                else:
                    if isinstance(target, exp.Column) and target.table:
                        target = exp.column(target.name)
                    e = comp.compile(target)
                keys.append(self._sort_key(o, e))
            op = Sort(op, keys)
        return self._limit(node, op, outer)

    @staticmethod
    def _setop_position(node: exp.Expression, target: exp.Expression, width: int) -> int | None:
        """1-based result column an ORDER BY item of a set operation names: a column name
        or alias of any branch, or an expression one of the branches selects."""
        branches: list[list[exp.Expression]] = []
        stack = [node]
        while stack:
            n = stack.pop()
            if isinstance(n, (exp.Union, exp.Intersect, exp.Except)):
                stack.append(n.expression)
                stack.append(n.this)
            elif isinstance(n, exp.Subquery):
                stack.append(n.this)
            elif isinstance(n, exp.Select):
                branches.append(n.expressions)
        name = target.name.lower() if isinstance(target, exp.Column) else None
        for items in branches:
            for i, it in enumerate(items[:width]):
                base = it.this if isinstance(it, exp.Alias) else it
                if name is not None and output_name(it).lower() == name:
                    return i + 1
                if name is None and base == target:
                    return i + 1
        return None

    def _sort_key(self, o: exp.Ordered, e: CExpr) -> SortKey:
        desc = bool(o.args.get("desc"))
        if explicit_nulls(o):
            nulls_first = bool(o.args.get("nulls_first"))
        else:
            nulls_first = self.settings.nulls_first(desc)
        return SortKey(e, desc, nulls_first)

    def _limit(self, node: exp.Expression, op: Operator, outer: Scope | None) -> Operator:
        limit = node.args.get("limit")
        offset = node.args.get("offset")
        if limit is None and offset is None:
            return op
        comp = self.compiler(Scope([], parent=outer), "LIMIT")
        lim = comp.compile(limit.expression) if limit is not None else None
        off = comp.compile(offset.expression) if offset is not None else None
        if isinstance(op, Sort) and lim is not None and lim.const and (off is None or off.const):
            total = lim.fn(None, None).as_py()
            if total is not None and off is not None:
                extra = off.fn(None, None).as_py()
                total = None if extra is None else total + extra
            op.limit = total
        return Limit(op, lim, off)

    # -- SELECT --------------------------------------------------------------------------

    def plan_select(self, node: exp.Select, outer: Scope | None) -> Operator:
        from sochdb.sql.grouping import has_aggregates, plan_grouping
        from sochdb.sql.table_functions import plan_unnest, select_unnests
        from sochdb.sql.windows import has_windows, plan_qualify, plan_windows

        where = node.args.get("where")
        op, scope = self._plan_from_with_aliases(node, outer,
                                                 where.this if where is not None else None)

        items = self._expand_stars(node.expressions, scope)
        order = node.args.get("order")
        order_items = order_all(order.expressions, len(items)) if order is not None else []
        having = node.args.get("having")
        if isinstance(having, exp.Having):
            having = having.this

        qualify = node.args.get("qualify")
        # Aggregates and windows are also collected from QUALIFY (filtered after windows).
        later = order_items + ([qualify.this] if qualify is not None else [])
        unnests = select_unnests(items)
        if unnests and (node.args.get("group") is not None or has_windows(items, later) or
                        has_aggregates(items, having, later)):
            raise NotSupportedError("unnest() together with GROUP BY, aggregates or window "
                                    "functions is not supported")
        if node.args.get("group") is not None or has_aggregates(items, having, later):
            op, comp = plan_grouping(self, node, op, scope, items, having, later)
        else:
            if having is not None:
                raise ProgrammingError("HAVING needs GROUP BY or an aggregate")
            comp = self.compiler(scope, "SELECT")
        if unnests:
            op, comp = plan_unnest(self, op, comp, unnests)
        if has_windows(items, later):
            op, comp = plan_windows(self, op, comp, items, later)
        if qualify is not None:
            op = plan_qualify(self, op, comp, qualify.this, items)

        names = [output_name(i) for i in items]
        exprs = [comp.compile(i) for i in items]
        out_cols = [ColumnInfo(n, None, self.fresh(), e.type) for n, e in zip(names, exprs)]
        distinct = node.args.get("distinct")
        distinct_on = distinct.args.get("on") if distinct is not None else None

        sort_keys: list[SortKey] = []
        hidden: list[tuple[CExpr, ColumnInfo]] = []
        for o in order_items:
            e = self._order_expr(o.this, items, exprs, out_cols, comp, distinct is not None)
            if e is None:
                continue
            if isinstance(e, ColumnInfo):
                f = e.field
                sort_keys.append(self._sort_key(o, CExpr(lambda t, c, f=f: t.column(f), e.type,
                                                         False, e.name)))
                continue
            col = ColumnInfo(e.sql, None, self.fresh(), e.type)
            hidden.append((e, col))
            f = col.field
            sort_keys.append(self._sort_key(o, CExpr(lambda t, c, f=f: t.column(f), e.type,
                                                     False, e.sql)))
        on_fields = None
        if distinct_on is not None:
            on_fields = []
            for e in (distinct_on.expressions if isinstance(distinct_on, exp.Tuple)
                      else [distinct_on]):
                r = self._order_expr(e, items, exprs, out_cols, comp, False)
                if isinstance(r, ColumnInfo):
                    on_fields.append(r.field)
                elif r is not None:
                    col = ColumnInfo(r.sql, None, self.fresh(), r.type)
                    hidden.append((r, col))
                    on_fields.append(col.field)
        op = Project(op, exprs + [h[0] for h in hidden], out_cols + [h[1] for h in hidden])
        if distinct is not None and on_fields is None and not hidden:
            op = Distinct(op)
            if sort_keys:
                op = Sort(op, sort_keys)
        else:
            if sort_keys:
                op = Sort(op, sort_keys)
            if distinct is not None:
                # Sorted first, then the first row of each distinct key is kept.
                op = Distinct(op, on_fields or [c.field for c in out_cols])
        op = self._limit(node, op, outer)
        if hidden:
            keep = [CExpr(lambda t, c, f=col.field: t.column(f), col.type, False, col.name)
                    for col in out_cols]
            op = Project(op, keep, out_cols)
        if sort_keys:
            from sochdb.sql.vector_search import use_vector_index
            op = use_vector_index(self, node, op)
        _mark_point_query(op)
        return op

    def _plan_from_with_aliases(self, node: exp.Select, outer: Scope | None,
                                where: exp.Expression | None):
        """plan_from, letting WHERE name a select-list alias that is not a column (DuckDB
        and SQLite allow ``SELECT a * 10 AS x FROM t WHERE x > 5``)."""
        from sochdb.sql.from_clause import plan_from
        aliases = {i.alias.lower(): i.this for i in node.expressions
                   if isinstance(i, exp.Alias) and not i.find(exp.AggFunc, exp.Window)}
        for _ in range(len(aliases) + 1):
            try:
                return plan_from(self, node, outer, where)
            except BindError as e:
                name = str(e.details.get("column") or "").lower()
                if where is None or e.details.get("table") or name not in aliases or not any(
                        isinstance(c, exp.Column) and not c.table and c.name.lower() == name
                        for c in where.find_all(exp.Column)):
                    raise
                where = substitute_alias(where, name, aliases[name])
        return plan_from(self, node, outer, where)

    def _expand_stars(self, items: list[exp.Expression], scope: Scope) -> list[exp.Expression]:
        out = []
        for it in items:
            if isinstance(it, exp.Star) or (isinstance(it, exp.Column)
                                            and isinstance(it.this, exp.Star)):
                if it.args.get("except") or it.args.get("replace"):
                    raise NotSupportedError("* EXCLUDE/REPLACE is not supported")
                table = it.table if isinstance(it, exp.Column) else None
                cols = scope.star(table or None)
                if not cols and table is None:
                    raise ProgrammingError("SELECT * with no FROM clause")
                for c in cols:
                    col = exp.column(c.name, table=c.table) if c.table else exp.column(c.name)
                    col.meta["field"] = c.field
                    out.append(col)
            else:
                out.append(it)
        return out

    def _order_expr(self, target: exp.Expression, items, exprs, out_cols, comp,
                    distinct: bool):
        """Resolve one ORDER BY item: an output column, or an expression to compute."""
        if isinstance(target, exp.Literal):
            if not target.is_string and target.this.lstrip("-").isdigit():
                pos = int(target.this)
                if not 1 <= pos <= len(out_cols):
                    raise BindError(f"ORDER BY position {pos} is not in the select list "
                                    f"(1 to {len(out_cols)})")
                return out_cols[pos - 1]
            if self.settings.order_by_non_integer_literal or not target.is_string:
                return None
            raise BindError(f"ORDER BY {target.sql()}: a constant does not order anything; "
                            f"use a column name or position")
        if isinstance(target, exp.Column) and not target.table:
            low = target.name.lower()
            matches = [c for c, it in zip(out_cols, items)
                       if c.name.lower() == low and isinstance(it, exp.Alias)]
            if matches:
                return matches[0]
        for it, col in zip(items, out_cols):
            base = it.this if isinstance(it, exp.Alias) else it
            if base == target:
                return col
        if isinstance(target, exp.Column) and distinct:
            low = target.name.lower()
            matches = [c for c, it in zip(out_cols, items) if c.name.lower() == low and (
                not target.table or isinstance(it, exp.Column) and
                (it.table or "").lower() in ("", target.table.lower()))]
            if matches:
                return matches[0]
        try:
            return comp.compile(target)
        except BindError as e:
            if isinstance(target, exp.Column) and not target.table:
                low = target.name.lower()
                matches = [c for c in out_cols if c.name.lower() == low]
                if matches:
                    return matches[0]
            # An expression over select-list aliases (DuckDB, SQLite): ORDER BY total + 1
            name = str(e.details.get("column") or "").lower()
            aliases = {i.alias.lower(): i.this for i in items if isinstance(i, exp.Alias)}
            if name in aliases and not e.details.get("table"):
                return self._order_expr(substitute_alias(target, name, aliases[name]), items,
                                        exprs, out_cols, comp, distinct)
            raise


def order_all(order_items: list[exp.Ordered], width: int) -> list[exp.Ordered]:
    """``ORDER BY ALL [DESC]`` (DuckDB) as ``ORDER BY 1, 2, ..., width`` with the same
    direction and NULLS placement; other ORDER BY lists are returned unchanged."""
    if not any(isinstance(o.this, exp.Var) and o.this.name.upper() == "ALL"
               for o in order_items):
        return list(order_items)
    if len(order_items) > 1:
        raise ParseError("ORDER BY ALL cannot be combined with other ORDER BY items")
    (o,) = order_items
    out = []
    for pos in range(1, width + 1):
        item = exp.Ordered(this=exp.Literal.number(pos), desc=o.args.get("desc"),
                           nulls_first=o.args.get("nulls_first"))
        item.meta.update(o.meta)  # keeps whether NULLS FIRST/LAST was written
        out.append(item)
    return out


def substitute_alias(tree: exp.Expression, name: str, value: exp.Expression) -> exp.Expression:
    """A copy of ``tree`` with unqualified column ``name`` replaced by ``value``."""
    def swap(n: exp.Expression) -> exp.Expression:
        if isinstance(n, exp.Column) and not n.table and n.name.lower() == name:
            return exp.Paren(this=value.copy())
        return n
    return tree.transform(swap)


def _mark_point_query(op: Operator) -> None:
    """Give ``Project(IndexLookup)`` of plain columns a fast path (see PointQuery)."""
    from sochdb.sql.operators.scan import IndexLookup, PointQuery
    if isinstance(op, Project) and type(op.child) is IndexLookup and \
            op.child.predicate is None and not op.child.with_rowids and \
            all(e.column is not None for e in op.exprs):
        op.point = PointQuery(op.child, [e.column for e in op.exprs])


def constant(value: Any) -> CExpr:
    return const_expr(value)


__all__ = ["Planner", "SubPlan", "output_name", "order_all", "SingleRow", "Filter"]
