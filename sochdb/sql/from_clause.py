"""Planning the FROM clause: table references, joins, predicate pushdown, index lookups.

WHERE conjuncts that touch one table are pushed into its scan (or become an index lookup when
they pin an indexed key); equality conjuncts between tables become hash-join keys. Without
outer joins, tables are joined greedily, each next table being one connected to those already
joined by an equality, so ``FROM a, b, c WHERE a.x = b.x AND b.y = c.y`` never builds a cross
product. With outer joins the written order is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlglot import exp

from sochdb.engine.catalog import HIDDEN_PREFIX, TableDef
from sochdb.errors import BindError, NotSupportedError, ProgrammingError
from sochdb.sql import types as T
from sochdb.sql.parallel import is_pure
from sochdb.sql.expressions import CExpr, bool_expr, cast_expr
from sochdb.sql.operators import Filter, IndexLookup, Join, KVScan, Operator, SingleRow, TableScan
from sochdb.sql.operators.join_order import Conjunct, JoinGraph
from sochdb.sql.scope import ColumnInfo, Scope
from sochdb.sql.table_functions import plan_series
from sochdb.sql_names import suggest

if TYPE_CHECKING:
    from sochdb.sql.planner import Planner


@dataclass
class Item:
    op: Operator
    alias: str | None
    columns: list[ColumnInfo]
    filters: list[exp.Expression] = field(default_factory=list)
    names: list[str] | None = None  # every column name, also the pruned ones


def split_and(node: exp.Expression | None) -> list[exp.Expression]:
    if node is None:
        return []
    if isinstance(node, exp.And):
        return split_and(node.left) + split_and(node.right)
    if isinstance(node, exp.Paren) and isinstance(node.this, exp.And):
        return split_and(node.this)
    return [node]


def and_all(parts: list[exp.Expression]) -> exp.Expression | None:
    if not parts:
        return None
    out = parts[0]
    for p in parts[1:]:
        out = exp.And(this=out, expression=p)
    return out


class _Needed:
    """Which columns a query mentions, to read only those from storage."""

    def __init__(self, node: exp.Expression) -> None:
        self.all = False
        self.qualified: set[tuple[str, str]] = set()
        self.names: set[str] = set()
        self.star_tables: set[str] = set()
        for col in node.find_all(exp.Column):
            if isinstance(col.this, exp.Star):
                if col.table:
                    self.star_tables.add(col.table.lower())
                else:
                    self.all = True
                continue
            if col.table:  # t.a needs a of t only
                self.qualified.add((col.table.lower(), col.name.lower()))
            else:
                self.names.add(col.name.lower())
        for star in node.find_all(exp.Star):
            if not isinstance(star.parent, (exp.Column, exp.Count)) and not (
                    isinstance(star.parent, exp.Anonymous)):
                self.all = True
        # USING / NATURAL joins compare columns not named elsewhere.
        for j in node.find_all(exp.Join):
            if j.args.get("method") or j.args.get("using"):
                self.all = True

    def wants_exactly(self, alias: str, name: str) -> bool:
        low = name.lower()
        return low in self.names or (alias, low) in self.qualified

    def wants(self, alias: str, name: str) -> bool:
        if self.all or alias in self.star_tables:
            return True
        low = name.lower()
        return low in self.names or (alias, low) in self.qualified


def plan_from(planner: "Planner", node: exp.Select, outer: Scope | None,
              where: exp.Expression | None) -> tuple[Operator, Scope]:
    from_ = node.args.get("from_")
    joins = node.args.get("joins") or []
    conjuncts = split_and(where)
    if from_ is None:
        if joins:
            raise ProgrammingError("JOIN without FROM")
        op: Operator = SingleRow()
        scope = Scope([], parent=outer)
        if conjuncts:
            op = Filter(op, bool_expr(planner.compiler(scope, "WHERE").compile(where)))
        return op, scope
    needed = _Needed(node)
    items = [plan_item(planner, from_.this, outer, needed)]
    for j in joins:
        items.append(plan_item(planner, j.this, outer, needed))
    _check_aliases(items)
    has_outer = any(j.args.get("side") for j in joins)
    if has_outer:
        op = _plan_ordered(planner, items, joins, conjuncts, outer)
    else:
        for j in joins:
            conjuncts.extend(_join_conditions(planner, items, j, items[joins.index(j) + 1]))
        op = _plan_greedy(planner, items, conjuncts, outer)
    cols = [c for it in items for c in it.columns]
    hints = {it.alias: (it.names or [c.name for c in it.columns]) for it in items if it.alias}
    return op, Scope(cols, parent=outer, tables=hints)


def _check_aliases(items: list[Item]) -> None:
    seen: set[str] = set()
    for it in items:
        if it.alias is None:
            continue
        if it.alias in seen:
            raise BindError(f"table name {it.alias!r} is specified more than once; "
                            f"give one of them an alias")
        seen.add(it.alias)


# -- table references ------------------------------------------------------------------

def plan_item(planner: "Planner", ref: exp.Expression, outer: Scope | None,
              needed: _Needed) -> Item:
    if isinstance(ref, exp.Table) and isinstance(ref.this, exp.GenerateSeries):
        op, qual = plan_series(planner, ref, ref.this, outer)
        return Item(op, qual, op.columns)
    if isinstance(ref, exp.Table):
        return _plan_table(planner, ref, outer, needed)
    if isinstance(ref, exp.Subquery) and isinstance(ref.this, exp.Table) and \
            ref.this.args.get("joins"):
        # A parenthesized join: FROM (a JOIN b ON ...) keeps the inner tables' names.
        inner = ref.this.copy()
        joins = inner.args.pop("joins")
        sel = exp.Select(expressions=[exp.Star()])
        sel.set("from_", exp.From(this=inner))
        sel.set("joins", joins)
        op, scope = plan_from(planner, sel, outer, None)
        return Item(op, None, list(scope.columns))
    if isinstance(ref, exp.Subquery):
        alias_node = ref.args.get("alias")
        alias = alias_node.name if alias_node is not None else None
        inner = planner.plan_query(ref.this, outer)
        inner = planner._order_limit(ref, inner, outer) if ref.args.get("order") or \
            ref.args.get("limit") else inner
        return _requalify(inner, alias, alias_node)
    if isinstance(ref, exp.Values):
        alias_node = ref.args.get("alias")
        alias = alias_node.name if alias_node is not None else None
        op = planner.plan_values(ref, outer, alias=alias)
        return Item(op, alias.lower() if alias else None, op.columns)
    if isinstance(ref, exp.Lateral):
        raise NotSupportedError("LATERAL is not supported")
    raise NotSupportedError(f"unsupported FROM item: {ref.sql()[:60]}")


def _requalify(op: Operator, alias: str | None, alias_node: exp.Expression | None) -> Item:
    qual = alias.lower() if alias else None
    names = None
    if alias_node is not None and alias_node.args.get("columns"):
        names = [c.name for c in alias_node.args["columns"]]
        if len(names) > len(op.columns):
            raise ProgrammingError(f"{alias} has {len(op.columns)} columns but "
                                   f"{len(names)} column aliases")
    cols = []
    for i, c in enumerate(op.columns):
        name = names[i] if names is not None and i < len(names) else c.name
        cols.append(ColumnInfo(name, qual, c.field, c.type, c.hidden, c.using_dup))
    op.columns = cols
    return Item(op, qual, cols)


def _plan_table(planner: "Planner", ref: exp.Table, outer: Scope | None,
                needed: _Needed) -> Item:
    name = ref.name
    alias_node = ref.args.get("alias")
    alias = (alias_node.name if alias_node is not None and alias_node.name else name)
    qual = alias.lower()
    if ref.args.get("db") and ref.args["db"].name.lower() not in ("main", "memory", "public"):
        raise BindError(f"unknown schema {ref.args['db'].name!r}")
    for frame in reversed(planner.cte_frames):
        cte = frame.get(name.lower())
        op = cte.reference(planner, outer) if cte is not None else None
        if op is not None:
            return _requalify(op, alias, alias_node)
    view = planner.catalog.view(name)
    if view is not None:
        from sochdb.sql.parser import parse
        (query,) = parse(view.sql)
        op = planner.plan_query(query, None)
        if view.columns:
            for i, cname in enumerate(view.columns[:len(op.columns)]):
                op.columns[i] = op.columns[i].renamed(name=cname)
        return _requalify(op, alias, alias_node)
    tdef = planner.catalog.get(name)
    if tdef is None:
        if name.lower() == "__kv":
            cols = [ColumnInfo("key", qual, planner.fresh(), _binary()),
                    ColumnInfo("value", qual, planner.fresh(), _binary())]
            return Item(KVScan(cols), qual, cols)
        registered = planner.registry.get(name.lower())
        if registered is not None:
            renamed = alias_node is not None and alias_node.args.get("columns")
            op = registered.operator(planner, None if renamed else  # positional aliases
                                     lambda n: needed.wants(qual, n))
            item = _requalify(op, alias, alias_node)
            if not renamed:
                item.names = registered.schema.names  # for messages: all its columns
            return item
        known = planner.catalog.table_names() + [v.name for v in planner.catalog.views.values()]
        raise BindError(f"unknown table {name!r}{suggest(name, known)}", table=name)
    if tdef.hidden and not name.startswith(HIDDEN_PREFIX):
        raise BindError(f"unknown table {name!r}")
    cols, physical = [], []
    for c in tdef.columns:
        if needed.wants(qual, c.name):
            cols.append(ColumnInfo(c.name, qual, planner.fresh(), c.type))
            physical.append(c.field)
    scan = TableScan(tdef, alias, cols, physical)
    if needed.wants_exactly(qual, "rowid") and not tdef.has_column("rowid"):
        # The rowid pseudo-column (SQLite, DuckDB): a stable row identifier, not in SELECT *.
        cols.append(ColumnInfo("rowid", qual, planner.fresh(), _int64(), hidden=True))
        scan.with_rowids = True
    return Item(scan, qual, cols, names=tdef.column_names)


def _binary():
    import pyarrow as pa
    return pa.binary()


def _int64():
    import pyarrow as pa
    return pa.int64()


# -- conjunct analysis -----------------------------------------------------------------

def _refs(e: exp.Expression, items: list[Item]) -> set[int] | None:
    """Indexes of the items ``e`` reads; None when it holds a subquery (evaluate last)."""
    if e.find(exp.Select) is not None:
        return None
    out: set[int] = set()
    by_name: dict[str, list[tuple[int, str | None]]] | None = None
    for col in e.find_all(exp.Column):
        if isinstance(col.this, exp.Star):
            continue
        if by_name is None:
            by_name = {}
            for i, it in enumerate(items):
                for c in it.columns:
                    by_name.setdefault(c.name.lower(), []).append((i, c.table))
        tab = col.table.lower() if col.table else None
        hits = [i for i, t in by_name.get(col.name.lower(), ()) if tab is None or t == tab]
        if tab is not None and not hits:
            hits = [i for i, it in enumerate(items) if it.alias == tab]
        out.update(hits)
    return out


def _scope_of(items: list[Item], idx: set[int], outer: Scope | None) -> Scope:
    return Scope([c for i, it in enumerate(items) if i in idx for c in it.columns], outer,
                 tables={it.alias: it.names or [c.name for c in it.columns]
                         for i, it in enumerate(items) if i in idx and it.alias})


def _equi_sides(e: exp.Expression, items: list[Item]):
    if not isinstance(e, exp.EQ):
        return None
    a, b = _refs(e.left, items), _refs(e.right, items)
    if not a or not b or a & b:
        return None
    return a, b


# -- join ordering ---------------------------------------------------------------------

def _push_filters(planner: "Planner", it: Item, preds: list[exp.Expression],
                  outer: Scope | None, index: int, items: list[Item]) -> None:
    if not preds:
        return
    scope = Scope(it.columns, outer,
                  tables={it.alias: it.names or []} if it.alias else None)
    comp = planner.compiler(scope, "WHERE")
    op = it.op
    if isinstance(op, TableScan) and not isinstance(op, IndexLookup):
        lookup = _index_lookup(planner, op, preds, items, index, outer)
        if lookup is not None:
            op, preds = lookup
        if preds:
            node = and_all(preds)
            op.predicate = bool_expr(comp.compile(node))
            op.parallel = is_pure(node)
            op.zone = _zone_constraints(planner, op, preds, outer)
        it.op = op
        return
    node = and_all(preds)
    it.op = Filter(op, bool_expr(comp.compile(node)))
    it.op.parallel = is_pure(node)


_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "="}
_OPS = {exp.EQ: "=", exp.LT: "<", exp.LTE: "<=", exp.GT: ">", exp.GTE: ">="}


def _zone_constraints(planner, scan: TableScan, preds, outer) -> list:
    """``column <op> constant`` and ``column BETWEEN a AND b`` conjuncts on a scanned column,
    as (physical field, op, compiled constant): the scan skips row groups whose zone map
    shows that no row can pass."""
    by_name = {c.name.lower(): f for c, f in zip(scan.columns, scan.physical)}
    comp = planner.compiler(Scope([], outer), "WHERE")

    def column(node) -> str | None:
        if isinstance(node, exp.Column) and not isinstance(node.this, exp.Star) and (
                not node.table or node.table.lower() == scan.alias.lower()):
            return by_name.get(node.name.lower())
        return None

    def constant(node):
        if node.find(exp.Column, exp.Select) is not None:
            return None
        try:
            e = comp.compile(node)
        except Exception:  # noqa: BLE001 - not a constant this scan can use
            return None
        return e if e.const or e.param is not None else None

    out = []
    for p in preds:
        if isinstance(p, exp.Between):
            f = column(p.this)
            lo, hi = constant(p.args["low"]), constant(p.args["high"])
            if f is not None and lo is not None and hi is not None:
                out += [(f, ">=", lo), (f, "<=", hi)]
            continue
        op = _OPS.get(type(p))
        if op is None:
            continue
        for a, b, o in ((p.left, p.right, op), (p.right, p.left, _FLIP[op])):
            f, c = column(a), constant(b)
            if f is not None and c is not None:
                out.append((f, o, c))
                break
    return out


def _index_lookup(planner, scan: TableScan, preds, items, index, outer):
    """Turn ``key = value`` conjuncts on an indexed key into an IndexLookup."""
    tdef: TableDef = scan.tdef
    by_name = {c.name.lower(): c for c in scan.columns}
    eq: dict[str, tuple[exp.Expression, exp.Expression]] = {}
    for p in preds:
        if not isinstance(p, exp.EQ):
            continue
        for col, other in ((p.left, p.right), (p.right, p.left)):
            if isinstance(col, exp.Column) and col.name.lower() in by_name and (
                    not col.table or col.table.lower() == scan.alias.lower()):
                r = _refs(other, items)
                if r is not None and not r:  # constant, parameter or outer reference
                    eq.setdefault(col.name.lower(), (p, other))
    if not eq:
        return None
    candidates = [(u.columns, u.name) for u in tdef.uniques] + \
        [(i.columns, i.name) for i in tdef.indexes]
    for col_ids, iname in candidates:
        names = [tdef.column_by_id(c).name.lower() for c in col_ids]
        if names and all(n in eq for n in names):
            used = [eq[n][0] for n in names]
            comp = planner.compiler(Scope([], outer), "WHERE")
            key_exprs = []
            for n in names:
                target_type = by_name[n].type
                e = comp.compile(eq[n][1])
                if T.kind(e.type) != T.kind(target_type) and T.kind(e.type) != "null":
                    try:
                        e = cast_expr(e, target_type)
                    except Exception:
                        return None
                key_exprs.append(e)
            fields = tuple(tdef.column_by_id(c).field for c in col_ids)
            rest = [p for p in preds if not any(p is u for u in used)]
            return IndexLookup(scan, fields, key_exprs, iname), rest
    return None


def _plan_greedy(planner: "Planner", items: list[Item], conjuncts: list[exp.Expression],
                 outer: Scope | None) -> Operator:
    info = [(c, _refs(c, items)) for c in conjuncts]
    late: list[exp.Expression] = []
    multi: list[tuple[exp.Expression, set[int]]] = []
    per_item: dict[int, list[exp.Expression]] = {i: [] for i in range(len(items))}
    for c, r in info:
        if r is None:
            if len(items) == 1:
                per_item[0].append(c)
            else:
                late.append(c)
        elif len(r) == 1:
            per_item[next(iter(r))].append(c)
        elif not r:
            per_item[0].append(c) if len(items) == 1 else late.append(c)
        else:
            multi.append((c, r))
    for i, it in enumerate(items):
        _push_filters(planner, it, per_item[i], outer, i, items)
    if len(items) >= 3:
        op = _join_graph(planner, items, multi, outer)
        if late:
            scope = _scope_of(items, set(range(len(items))), outer)
            op = Filter(op, bool_expr(planner.compiler(scope, "WHERE").compile(and_all(late))))
        return op
    joined = {0}
    op = items[0].op
    used: set[int] = set()
    equi = [_equi_sides(c, items) for c, _ in multi]
    while len(joined) < len(items):
        # the first table (in FROM order) an unused equality connects to the joined ones
        nxt = None
        for k, sides in enumerate(equi):
            if k in used or not sides:
                continue
            for a, b in (sides, sides[::-1]):
                if len(b) == 1 and a <= joined:
                    j = next(iter(b))
                    if j not in joined and (nxt is None or j < nxt):
                        nxt = j
        if nxt is None:
            nxt = min(j for j in range(len(items)) if j not in joined)
        lkeys, rkeys, residual = [], [], []
        left_scope = _scope_of(items, joined, outer)
        right_scope = _scope_of(items, {nxt}, outer)
        for k, (c, r) in enumerate(multi):
            if k in used or not r <= joined | {nxt}:
                continue
            sides = equi[k]
            if sides and sides[0] <= joined and sides[1] == {nxt}:
                lkeys.append(planner.compiler(left_scope, "ON").compile(c.left))
                rkeys.append(planner.compiler(right_scope, "ON").compile(c.right))
            elif sides and sides[1] <= joined and sides[0] == {nxt}:
                lkeys.append(planner.compiler(left_scope, "ON").compile(c.right))
                rkeys.append(planner.compiler(right_scope, "ON").compile(c.left))
            else:
                residual.append(c)
            used.add(k)
        both = _scope_of(items, joined | {nxt}, outer)
        res = bool_expr(planner.compiler(both, "ON").compile(and_all(residual))) \
            if residual else None
        kind = "inner" if lkeys or res is not None else "cross"
        op = Join(op, items[nxt].op, kind, lkeys, rkeys, res,
                  columns=op.columns + items[nxt].op.columns)
        joined.add(nxt)
    for k, (c, r) in enumerate(multi):
        if k not in used:
            late.append(c)
    if late:
        scope = _scope_of(items, set(range(len(items))), outer)
        op = Filter(op, bool_expr(planner.compiler(scope, "WHERE").compile(and_all(late))))
    return op


def _join_graph(planner: "Planner", items: list[Item],
                multi: list[tuple[exp.Expression, set[int]]], outer: Scope | None) -> Operator:
    """Three or more inputs: their conditions compiled once, the order chosen at run time."""
    conjuncts = []
    for c, r in multi:
        pred = bool_expr(planner.compiler(_scope_of(items, r, outer), "ON").compile(c))
        sides = _equi_sides(c, items)
        if sides is None:
            conjuncts.append(Conjunct(frozenset(r), pred))
            continue
        a, b = sides
        left = planner.compiler(_scope_of(items, a, outer), "ON").compile(c.left)
        right = planner.compiler(_scope_of(items, b, outer), "ON").compile(c.right)
        conjuncts.append(Conjunct(frozenset(r), pred, frozenset(a), frozenset(b), left, right))
    return JoinGraph([it.op for it in items], conjuncts,
                     [c for it in items for c in it.op.columns])


def _join_conditions(planner, items: list[Item], j: exp.Join, right: Item) -> list[exp.Expression]:
    """ON / USING / NATURAL of one join, as conjuncts (USING marks the right copies)."""
    out = split_and(j.args.get("on"))
    idx = items.index(right)
    names = _using_names(items[:idx], right, j)
    for n in names:
        lefts = [it for it in items[:idx]
                 if any(c.name.lower() == n.lower() and not c.hidden for c in it.columns)]
        if not lefts:
            raise BindError(f"column {n!r} in USING is not in the left side of the join")
        if len(lefts) > 1:
            raise BindError(f"column {n!r} in USING is ambiguous: it exists in "
                            f"{', '.join(it.alias or '?' for it in lefts)}")
        left_item = lefts[0]
        if not any(c.name.lower() == n.lower() for c in right.columns):
            raise BindError(f"column {n!r} in USING is not in {right.alias or 'the right side'}")
        _mark_using(right, n)
        lcol = next(c for c in left_item.columns if c.name.lower() == n.lower() and not c.hidden)
        rcol = next(c for c in right.columns if c.name.lower() == n.lower())
        a = exp.column(lcol.name)
        a.meta["field"] = lcol.field
        b = exp.column(rcol.name)
        b.meta["field"] = rcol.field
        out.append(exp.EQ(this=_qualify(a, left_item), expression=_qualify(b, right)))
    return out


def _qualify(col: exp.Column, it: Item) -> exp.Column:
    if it.alias:
        q = exp.column(col.name, table=it.alias)
        q.meta["field"] = col.meta["field"]
        return q
    return col


def _using_names(left_items: list[Item], right: Item, j: exp.Join) -> list[str]:
    using = j.args.get("using")
    if using:
        return [u.name for u in using]
    if (j.args.get("method") or "").upper() == "NATURAL":
        left_names = {c.name.lower(): c.name for it in left_items for c in it.columns
                      if not c.hidden}
        return [c.name for c in right.columns if c.name.lower() in left_names]
    return []


def _mark_using(right: Item, name: str) -> None:
    new = []
    for c in right.columns:
        if c.name.lower() == name.lower():
            c = c.renamed(hidden=True, using_dup=True)
        new.append(c)
    right.columns[:] = new


def _plan_ordered(planner: "Planner", items: list[Item], joins: list[exp.Join],
                  conjuncts: list[exp.Expression], outer: Scope | None) -> Operator:
    """Left-deep joins in written order (needed for outer join semantics)."""
    nullable: set[int] = set()
    for k, j in enumerate(joins):
        side = (j.args.get("side") or "").upper()
        if side in ("LEFT", "FULL"):
            nullable.add(k + 1)
        if side in ("RIGHT", "FULL"):
            nullable.update(range(k + 1))
    per_item: dict[int, list[exp.Expression]] = {i: [] for i in range(len(items))}
    late = []
    for c in conjuncts:
        r = _refs(c, items)
        if r is not None and len(r) == 1 and next(iter(r)) not in nullable:
            per_item[next(iter(r))].append(c)
        else:
            late.append(c)
    for i, it in enumerate(items):
        _push_filters(planner, it, per_item[i], outer, i, items)
    op = items[0].op
    joined = {0}
    for k, j in enumerate(joins):
        right = items[k + 1]
        conds = _join_conditions(planner, items, j, right)
        side = (j.args.get("side") or "").upper()
        kind = {"LEFT": "left", "RIGHT": "right", "FULL": "full"}.get(side, "inner")
        if not conds and kind == "inner":
            kind = "cross"
        nxt = k + 1
        lkeys, rkeys, residual = [], [], []
        left_scope = _scope_of(items, joined, outer)
        right_scope = _scope_of(items, {nxt}, outer)
        for c in conds:
            sides = _equi_sides(c, items)
            if sides and sides[0] <= joined and sides[1] == {nxt}:
                lkeys.append(planner.compiler(left_scope, "ON").compile(c.left))
                rkeys.append(planner.compiler(right_scope, "ON").compile(c.right))
            elif sides and sides[1] <= joined and sides[0] == {nxt}:
                lkeys.append(planner.compiler(left_scope, "ON").compile(c.right))
                rkeys.append(planner.compiler(right_scope, "ON").compile(c.left))
            else:
                residual.append(c)
        both = _scope_of(items, joined | {nxt}, outer)
        res = bool_expr(planner.compiler(both, "ON").compile(and_all(residual))) \
            if residual else None
        coalesce = {}
        if kind in ("full", "right") and (j.args.get("using") or j.args.get("method")):
            for n in _using_names(items[:nxt], right, j):
                lcol = next((c for i in joined for c in items[i].columns
                             if c.name.lower() == n.lower() and not c.hidden), None)
                rcol = next((c for c in right.columns if c.name.lower() == n.lower()), None)
                if lcol is not None and rcol is not None:
                    coalesce[lcol.field] = (lcol.field, rcol.field)
        op = Join(op, right.op, kind, lkeys, rkeys, res,
                  columns=op.columns + right.op.columns, coalesce_fields=coalesce)
        joined.add(nxt)
    if late:
        scope = _scope_of(items, set(range(len(items))), outer)
        op = Filter(op, bool_expr(planner.compiler(scope, "WHERE").compile(and_all(late))))
    return op


__all__ = ["plan_from", "split_and", "and_all", "CExpr"]
