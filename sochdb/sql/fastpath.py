"""The single-row literal INSERT fast path.

``INSERT INTO t [(cols)] VALUES (literal, ...)`` is the statement applications run most, one
row at a time. Parsing it with sqlglot and going through Arrow for one row costs far more
than the row itself, so statements of exactly that shape are recognized with one regular
expression, their values checked against the column types in Python, uniqueness checked
through the hash indexes, and the row buffered in the transaction; buffered rows become one
Arrow batch when anything else touches the table or the transaction commits. Anything this
path does not cover in full (triggers, CHECK or FOREIGN KEY constraints, expressions,
non-constant defaults, a value of another type) falls back to the general path.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Callable

import pyarrow as pa

from sochdb.engine.catalog import TableDef
from sochdb.errors import ConstraintError

if TYPE_CHECKING:
    from sochdb.engine.transaction import TxnState
    from sochdb.sql.session import Session

_IDENT = r'(?:[A-Za-z_][A-Za-z0-9_]*|"[^"]+")'
_HEAD = re.compile(
    rf"^\s*INSERT\s+INTO\s+({_IDENT})\s*(\(\s*{_IDENT}(?:\s*,\s*{_IDENT})*\s*\))?\s*VALUES\s*\(",
    re.IGNORECASE)
_VALUE = (r"(?:'(?:[^']|'')*'|-?\d+\.\d*(?:[eE][+-]?\d+)?|-?\.\d+(?:[eE][+-]?\d+)?|"
          r"-?\d+[eE][+-]?\d+|-?\d+|NULL|TRUE|FALSE)")
# The whole value list is checked with one match, then its items read with one findall.
_BODY = re.compile(rf"\s*{_VALUE}(?:\s*,\s*{_VALUE})*\s*\)\s*;?\s*$", re.IGNORECASE)
_ITEM = re.compile(
    r"('(?:[^']|'')*')|(-?\d+\.\d*(?:[eE][+-]?\d+)?|-?\.\d+(?:[eE][+-]?\d+)?|"
    r"-?\d+[eE][+-]?\d+)|(-?\d+)|(NULL|TRUE|FALSE)", re.IGNORECASE)
_MISS = object()


def parse_insert(sql: str) -> tuple[str, list[str] | None, list[Any]] | None:
    """(table, columns or None, values) for a one-row literal INSERT, else None."""
    m = _HEAD.match(sql)
    if m is None:
        return None
    pos = m.end()
    if _BODY.match(sql, pos) is None:
        return None
    table = _unquote(m.group(1))
    cols = None
    if m.group(2):
        cols = [_unquote(c.strip()) for c in m.group(2)[1:-1].split(",")]
    values: list[Any] = []
    for s, f, i, word in _ITEM.findall(sql, pos):
        if s:
            values.append(s[1:-1].replace("''", "'"))
        elif i:
            v = int(i)
            if not -2**63 <= v < 2**63:
                return None
            values.append(v)
        elif f:
            values.append(float(f))
        else:
            w = word.upper()
            values.append(None if w == "NULL" else w == "TRUE")
    return table, cols, values


def _unquote(name: str) -> str:
    return name[1:-1] if name.startswith('"') else name


def _checker(t: pa.DataType) -> Callable[[Any], Any]:
    """For a column of type ``t``: value -> the value as stored, or _MISS if this path
    cannot tell (decided once per column, not per value)."""
    if pa.types.is_integer(t):
        bits = t.bit_width
        lo, hi = (0, 2 ** bits) if pa.types.is_unsigned_integer(t) else \
            (-2 ** (bits - 1), 2 ** (bits - 1))
        # out of range: the general path reports it
        return lambda v: v if v is None or (type(v) is int and lo <= v < hi) else _MISS
    if pa.types.is_floating(t):
        return lambda v: v if v is None else float(v) if type(v) in (int, float) else _MISS
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return lambda v: v if v is None or type(v) is str else _MISS
    if pa.types.is_boolean(t):
        return lambda v: v if v is None or type(v) is bool else _MISS
    return lambda v: None if v is None else _MISS


class FastInsert:
    """Plans for the fast path, one per (table, column list), cached per catalog."""

    def __init__(self, tdef: TableDef, cols: list[str] | None, session: "Session") -> None:
        self.tdef = tdef
        if cols is None:
            self.positions = list(range(len(tdef.columns)))
        else:
            ids = [tdef.column(c).id for c in cols]
            if len(set(ids)) != len(ids):
                raise ValueError("duplicate column")
            order = {cid: i for i, cid in enumerate(ids)}
            self.positions = [order.get(c.id, -1) for c in tdef.columns]
        self.width = len(cols) if cols is not None else len(tdef.columns)
        self.defaults: list[Any] = []
        for c, p in zip(tdef.columns, self.positions):
            self.defaults.append(None if p >= 0 else _constant_default(session, tdef, c))
        self.checks = [_checker(c.type) for c in tdef.columns]
        self.not_null = [c.not_null for c in tdef.columns]
        self.uniques = [(u, [tdef.columns.index(tdef.column_by_id(i)) for i in u.columns],
                         tuple(tdef.column_by_id(i).field for i in u.columns))
                        for u in tdef.uniques]

    @staticmethod
    def applicable(tdef: TableDef, session: "Session") -> bool:
        plugins = session.db._plugins
        return not tdef.checks and not tdef.foreign_keys and (
            plugins is None or not plugins.has_triggers(tdef.name))

    def row(self, values: list[Any]) -> tuple | None:
        if len(values) != self.width:
            return None
        out = []
        for p, check, d, nn in zip(self.positions, self.checks, self.defaults, self.not_null):
            v = values[p] if p >= 0 else d
            if v is _MISS:
                return None
            v = check(v)
            if v is _MISS:
                return None
            if v is None and nn:
                return None  # the general path raises the NOT NULL error
            out.append(v)
        return tuple(out)

    def insert(self, state: "TxnState", row: tuple) -> bool:
        """Check uniqueness and buffer the row; False if the general path must decide."""
        pending = state.pending_rows(self.tdef)
        for u, idx, fields in self.uniques:
            key = tuple(row[i] for i in idx)
            if any(k is None for k in key):
                continue
            k = key[0] if len(key) == 1 else key
            if k in pending.keys_for(fields):
                return False
            store = state.stores.get(self.tdef.id)
            local = state.tables.get(self.tdef.id)
            maybe = (store is not None and store.index(fields).entries.get(k) is not None) or (
                local is not None and local.inserts and local.index(fields, self.tdef).get(k))
            if maybe:  # only now is a full visibility check worth its cost
                found, _ = state.view_for_check(self.tdef).lookup(fields, [k])
                if found:
                    from sochdb.sql.constraints import raise_unique
                    raise_unique(self.tdef, u, k)
        pending.add(row, [(fields, tuple(row[i] for i in idx)) for _, idx, fields in
                          self.uniques])
        return True


def _constant_default(session: "Session", tdef: TableDef, col) -> Any:
    if col.default is None:
        return None
    import sqlglot
    from sqlglot import exp
    node = sqlglot.parse_one(col.default, read="duckdb")
    if isinstance(node, exp.Literal):
        return node.this if node.is_string else (int(node.this) if re.fullmatch(
            r"-?\d+", node.this) else float(node.this))
    if isinstance(node, exp.Null):
        return None
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    return _MISS


__all__ = ["parse_insert", "FastInsert", "ConstraintError"]
