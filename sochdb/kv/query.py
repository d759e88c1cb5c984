"""The query builder over JSON documents stored under a KV prefix, with results in TOON.

Layer: sochdb.kv; imports the standard library, ``sochdb.errors`` and ``sochdb.toon``. It
reads through anything with ``scan_prefix`` (a Database or a Transaction), so a query sees
one consistent snapshot and stops scanning once its limit is reached.
"""

from __future__ import annotations

import copy
import json
import operator
import re
from collections.abc import Callable, Iterator
from typing import Any

from sochdb.errors import ProgrammingError
from sochdb.toon import to_compact

__all__ = ["MAX_DEPTH", "OPERATORS", "Query"]

Predicate = Callable[[dict], bool]


class _Missing:
    """Stands for a field a document does not have (distinct from JSON null)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Any = _Missing()
_NO_VALUE: Any = object()  # where() called without a value

# JSON kinds: values compare only within a kind (bool is not a number here, unlike Python).
_NULL, _BOOL, _NUMBER, _STRING, _ARRAY, _OBJECT = range(6)
_KIND = {type(None): _NULL, bool: _BOOL, int: _NUMBER, float: _NUMBER, str: _STRING,
         list: _ARRAY, tuple: _ARRAY, dict: _OBJECT}
_KIND_NAMES = ("null", "bool", "number", "string", "array", "object")

_ALIASES = {"==": "=", "<>": "!="}
_ORDERING = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
#: The operators ``where`` accepts (case and spacing of the word operators do not matter).
OPERATORS = ("=", "==", "!=", "<>", "<", "<=", ">", ">=", "in", "not in", "contains",
             "startswith", "endswith", "exists", "is null", "is not null")

#: Deepest nesting of arrays/objects a document may have (the top object is level 1); deeper
#: ones are skipped so that writing them back as JSON or TOON can never hit Python's
#: recursion limit halfway through a result (serde_json's default limit is the same).
MAX_DEPTH = 128

_decode_json = json.JSONDecoder().decode
# A \uD800-\uDFFF escape: the one way JSON text in valid UTF-8 can yield a lone surrogate.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]").search


# -- predicates ----------------------------------------------------------------------------
def _same(a: Any, b: Any) -> bool:
    """JSON equality: kinds must match at every level (``1 != true``, ``1 == 1.0``)."""
    ka = _KIND.get(type(a))
    if ka is None or ka != _KIND.get(type(b)):
        return False
    if ka == _ARRAY:
        return len(a) == len(b) and all(map(_same, a, b))
    if ka == _OBJECT:
        return a.keys() == b.keys() and all(_same(v, b[k]) for k, v in a.items())
    return a == b


def _check_json(value: Any, where: str) -> int:
    """The JSON kind of a user-given value, or ProgrammingError naming the bad type."""
    kind = _KIND.get(type(value))
    if kind is None:
        raise ProgrammingError(f"{where}: {type(value).__name__} is not a JSON value "
                               f"(use None, bool, int, float, str, list or dict)")
    if kind == _ARRAY:
        for item in value:
            _check_json(item, where)
    elif kind == _OBJECT:
        for k, item in value.items():
            if type(k) is not str:
                raise ProgrammingError(f"{where}: object keys must be str, got {k!r}")
            _check_json(item, where)
    return kind


def _equals(field: str, value: Any, kind: int) -> Predicate:
    if kind == _BOOL:
        return lambda d: d.get(field, _MISSING) is value
    if kind == _NUMBER:
        def eq_number(d: dict) -> bool:
            v = d.get(field, _MISSING)
            t = type(v)
            return (t is int or t is float) and v == value
        return eq_number
    if kind == _STRING:
        return lambda d: d.get(field, _MISSING) == value  # only a str equals a str
    return lambda d: _same(d.get(field, _MISSING), value)


def _not_equals(field: str, value: Any, kind: int) -> Predicate:
    def ne(d: dict) -> bool:
        v = d.get(field, _MISSING)
        return _KIND.get(type(v)) == kind and not _same(v, value)
    return ne


def _ordered(field: str, value: Any, kind: int, cmp: Callable[[Any, Any], bool]) -> Predicate:
    if kind == _NUMBER:
        def cmp_number(d: dict) -> bool:
            v = d.get(field, _MISSING)
            t = type(v)
            return (t is int or t is float) and cmp(v, value)
        return cmp_number

    def cmp_string(d: dict) -> bool:
        v = d.get(field, _MISSING)
        return type(v) is str and cmp(v, value)
    return cmp_string


def _membership(field: str, items: list, negate: bool) -> Predicate:
    scalars = {(k, v) for v in items if (k := _KIND[type(v)]) < _ARRAY}
    nested = [v for v in items if _KIND[type(v)] >= _ARRAY]
    kinds = {_KIND[type(v)] for v in items}

    def member(d: dict) -> bool:
        v = d.get(field, _MISSING)
        k = _KIND.get(type(v))
        if k is None or (negate and k not in kinds):
            return False
        found = (k, v) in scalars if k < _ARRAY else any(_same(v, it) for it in nested)
        return found is not negate
    return member


def _contains(field: str, value: Any) -> Predicate:
    is_str = type(value) is str

    def contains(d: dict) -> bool:
        v = d.get(field, _MISSING)
        t = type(v)
        if t is str:
            return is_str and value in v
        return t is list and any(_same(x, value) for x in v)
    return contains


def _compile(field: Any, op: Any, value: Any) -> Predicate:
    """Check one ``where`` condition and turn it into a predicate over a parsed document."""
    if type(field) is not str:
        raise ProgrammingError(f"where(): the field must be a str, got {field!r}")
    if type(op) is not str:
        raise ProgrammingError(f"where(): the operator must be a str, got {op!r}")
    name = " ".join(op.lower().split())
    name = _ALIASES.get(name, name)
    if name not in OPERATORS:
        raise ProgrammingError(f"where({field!r}, {op!r}, ...): unknown operator {op!r}; "
                               f"use one of {', '.join(OPERATORS)}")
    at = f"where({field!r}, {op!r})"
    if name in ("exists", "is null", "is not null"):
        if name == "exists":
            if value is _NO_VALUE:
                value = True
            if type(value) is not bool:
                raise ProgrammingError(f"{at}: the value must be True, False or omitted, "
                                       f"got {value!r}")
            return lambda d: (field in d) is value
        if value is not _NO_VALUE:
            raise ProgrammingError(f"{at} takes no value, got {value!r}")
        if name == "is null":
            return lambda d: d.get(field, _MISSING) is None
        return lambda d: d.get(field, None) is not None
    if value is _NO_VALUE:
        raise ProgrammingError(f"{at}: a value to compare with is required")
    if name in ("in", "not in"):
        if not isinstance(value, (list, tuple, set, frozenset)):
            raise ProgrammingError(f"{at}: the value must be a list of values, "
                                   f"got {type(value).__name__}")
        items = copy.deepcopy(list(value))  # later changes to the caller's list do not leak in
        for item in items:
            _check_json(item, at)
        return _membership(field, items, name == "not in")
    kind = _check_json(value, at)
    if kind >= _ARRAY:
        value = copy.deepcopy(value)
    if name in ("startswith", "endswith"):
        if kind != _STRING:
            raise ProgrammingError(f"{at}: the value must be a str, got {value!r}")
        method = str.startswith if name == "startswith" else str.endswith
        return lambda d: type(v := d.get(field, _MISSING)) is str and method(v, value)
    if name == "contains":
        return _contains(field, value)
    if kind == _NULL:
        raise ProgrammingError(f"{at}: cannot compare with None; use 'is null' or "
                               f"'is not null'")
    if name == "=":
        return _equals(field, value, kind)
    if name == "!=":
        return _not_equals(field, value, kind)
    if kind not in (_NUMBER, _STRING):
        raise ProgrammingError(f"{at}: only numbers and strings can be ordered, "
                               f"got a {_KIND_NAMES[kind]}")
    return _ordered(field, value, kind, _ORDERING[name])


def _too_deep(doc: dict) -> bool:
    stack = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        for child in (value.values() if type(value) is dict else value):
            t = type(child)
            if t is dict or t is list:
                stack.append((child, depth + 1))
    return False


def _lone_surrogate(doc: dict) -> bool:
    try:
        json.dumps(doc, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _count_arg(n: Any, what: str) -> int:
    if type(n) is not int:
        raise ProgrammingError(f"{what}() takes an int, got {type(n).__name__} {n!r}")
    if n < 0:
        raise ProgrammingError(f"{what}() must not be negative, got {n}")
    return n


# -- the builder ---------------------------------------------------------------------------
class Query:
    """A lazy query over the JSON documents whose keys start with ``prefix``.

    Builder methods return a new Query, so a base query can be refined in several ways.
    Nothing is read until a terminal method runs: ``to_list()``, ``to_toon()``,
    ``to_records()``, ``count()`` or iteration. Each run reads one consistent snapshot of
    ``source`` through ``source.scan_prefix`` (a Database, or a Transaction to see its
    uncommitted writes), in key order, and stops as soon as the limit is reached.

    Every value is expected to be a JSON object in UTF-8. A value that is not (invalid
    UTF-8, not JSON, JSON that is not an object, nested deeper than ``MAX_DEPTH`` levels,
    or with a lone ``\\uD800``-style surrogate escape) is skipped, never raised: after a
    run, ``skipped`` holds how many such values that run read (None before the first run).
    A run stopped early by ``limit`` counts only the values it read.

    >>> _ = db.put(b"products/laptop", b'{"name":"Laptop","price":999,"stock":5}')
    >>> _ = db.put(b"products/mouse", b'{"name":"Mouse","price":25,"stock":20}')
    >>> db.query("products/").select(["name", "price"]).where("price", ">", 100).to_list()
    [(b'products/laptop', b'result[1]{name,price}:Laptop,999')]
    """

    __slots__ = ("_fields", "_limit", "_offset", "_preds", "_prefix", "_source", "_where",
                 "skipped")

    def __init__(self, source: Any, prefix: str | bytes) -> None:
        if not callable(getattr(source, "scan_prefix", None)):
            raise ProgrammingError(f"Query needs a Database or Transaction (anything with "
                                   f"scan_prefix), got {type(source).__name__}")
        if isinstance(prefix, str):
            try:
                prefix = prefix.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise ProgrammingError(f"query prefix {prefix!r} is not valid Unicode: "
                                       f"{exc.reason}") from None
        elif isinstance(prefix, (bytes, bytearray, memoryview)):
            prefix = bytes(prefix)
        else:
            raise ProgrammingError(f"query prefix must be str or bytes, "
                                   f"got {type(prefix).__name__}")
        self._source = source
        self._prefix: bytes = prefix
        self._fields: list[str] | None = None
        self._preds: tuple[Predicate, ...] = ()
        self._where: tuple[tuple[str, str, Any], ...] = ()
        self._limit: int | None = None
        self._offset = 0
        #: Values skipped by the last run as not being JSON objects; None before any run.
        self.skipped: int | None = None

    def _copy(self) -> Query:
        q = Query.__new__(Query)
        q._source, q._prefix, q._fields = self._source, self._prefix, self._fields
        q._preds, q._where = self._preds, self._where
        q._limit, q._offset, q.skipped = self._limit, self._offset, None
        return q

    # -- building ------------------------------------------------------------------------
    def select(self, fields: list[str]) -> Query:
        """Keep only ``fields``, in this order (the TOON column order); missing ones are empty.

        Raises ProgrammingError unless ``fields`` is a non-empty list (or tuple) of distinct
        str. A second call replaces the first.
        """
        if not isinstance(fields, (list, tuple)):
            raise ProgrammingError(f"select() takes a list of field names, "
                                   f"got {type(fields).__name__} {fields!r}")
        fields = list(fields)
        if not fields:
            raise ProgrammingError("select() needs at least one field name")
        for f in fields:
            if type(f) is not str:
                raise ProgrammingError(f"select(): field names must be str, got {f!r}")
        if len(set(fields)) != len(fields):
            dup = next(f for f in fields if fields.count(f) > 1)
            raise ProgrammingError(f"select(): field {dup!r} is listed twice")
        q = self._copy()
        q._fields = fields
        return q

    def where(self, field: str, op: str, value: Any = _NO_VALUE) -> Query:
        """Keep documents whose top-level ``field`` satisfies ``op value``; calls AND together.

        Operators (case-insensitive): ``=`` (``==``), ``!=`` (``<>``), ``<`` ``<=`` ``>``
        ``>=``, ``in`` / ``not in`` (value: a list), ``contains`` (a substring of a string
        field, or an element of an array field), ``startswith`` / ``endswith`` (value: a
        str), ``exists`` (value omitted or True; False keeps documents without the field),
        ``is null`` / ``is not null`` (no value).

        Values compare only within one JSON kind (null, bool, number, string, array,
        object): ``1`` equals ``1.0`` but not ``true``, and a string is never less than a
        number. A comparison whose field is missing or of another kind does not match, for
        ``!=`` and ``not in`` as well (as NULL does in SQL); only ``exists`` False matches a
        missing field. Ordering works on numbers and on strings (by code point).

        Raises ProgrammingError for an unknown operator, a value of the wrong shape for
        it, a value that is not JSON data, or None with a comparison (use ``is null``).
        """
        pred = _compile(field, op, value)
        q = self._copy()
        q._preds = self._preds + (pred,)
        q._where = self._where + ((field, op, None if value is _NO_VALUE else value),)
        return q

    def limit(self, n: int | None) -> Query:
        """Return at most ``n`` documents (None: no limit); scanning stops once reached."""
        q = self._copy()
        q._limit = None if n is None else _count_arg(n, "limit")
        return q

    def offset(self, n: int) -> Query:
        """Leave out the first ``n`` matching documents (in key order)."""
        q = self._copy()
        q._offset = _count_arg(n, "offset")
        return q

    # -- running -------------------------------------------------------------------------
    def _matches(self) -> Iterator[tuple[bytes, dict]]:
        """``(key, document)`` of each match after offset and limit; sets ``skipped``."""
        self.skipped = skipped = 0
        limit, offset, preds = self._limit, self._offset, self._preds
        if limit == 0:
            return
        decode, surrogate = _decode_json, _SURROGATE_ESCAPE
        try:
            for key, raw in self._source.scan_prefix(self._prefix):
                try:
                    text = raw.decode("utf-8")
                    doc = decode(text)
                except (ValueError, RecursionError):  # bad UTF-8 / JSON, or nested too deep
                    skipped += 1
                    continue
                if (type(doc) is not dict or (surrogate(text) and _lone_surrogate(doc))
                        or (text.count("[") + text.count("{") > MAX_DEPTH and _too_deep(doc))):
                    skipped += 1
                    continue
                for pred in preds:
                    if not pred(doc):
                        break
                else:
                    if offset:
                        offset -= 1
                        continue
                    self.skipped = skipped
                    yield key, doc
                    if limit is not None:
                        limit -= 1
                        if not limit:
                            return
        finally:
            self.skipped = skipped

    def _record(self, doc: dict) -> dict:
        fields = self._fields
        if fields is None:
            return doc
        return {f: doc[f] for f in fields if f in doc}

    def __iter__(self) -> Iterator[tuple[bytes, bytes]]:
        """Stream ``(key, toon_bytes)`` pairs, as ``to_list`` returns them."""
        fields = self._fields
        for key, doc in self._matches():
            yield key, to_compact("result", [doc], fields).encode("utf-8")

    def to_list(self) -> list[tuple[bytes, bytes]]:
        """``(key, value)`` per match; value is a one-row compact TOON table in UTF-8.

        With ``select`` the columns are the selected fields (a missing one is an empty
        cell); without it, the document's own keys in its order.

        >>> _ = db.put(b"tools/hammer", b'{"name":"Hammer","price":12.5}')
        >>> db.query(b"tools/").select(["price", "name"]).to_list()
        [(b'tools/hammer', b'result[1]{price,name}:12.5,Hammer')]
        """
        return list(self)

    def to_toon(self, table: str = "result") -> str:
        """All matches as one compact TOON table, e.g. ``result[2]{name,price}:Laptop,999;...``.

        Columns: the selected fields; without ``select``, the first document's keys in its
        order, then keys first seen in later documents (missing cells are empty).

        >>> _ = db.put(b"pets/1", b'{"name":"Rex","kind":"dog"}')
        >>> _ = db.put(b"pets/2", b'{"name":"Tom","age":3}')
        >>> db.query("pets/").to_toon("pets")
        'pets[2]{name,kind,age}:Rex,dog,;Tom,,3'
        """
        return to_compact(table, [doc for _, doc in self._matches()], self._fields)

    def to_records(self) -> list[dict]:
        """The matching documents as dicts: the selected fields only (those present, in
        select order), or the whole document without ``select``."""
        record = self._record
        return [record(doc) for _, doc in self._matches()]

    def count(self) -> int:
        """How many documents match (after offset and limit), without building any TOON."""
        n = 0
        for _ in self._matches():
            n += 1
        return n

    def __repr__(self) -> str:
        parts = [f"Query({self._prefix!r})"]
        if self._fields is not None:
            parts.append(f".select({self._fields!r})")
        for field, op, value in self._where:
            parts.append(f".where({field!r}, {op!r}, {value!r})")
        if self._limit is not None:
            parts.append(f".limit({self._limit})")
        if self._offset:
            parts.append(f".offset({self._offset})")
        return "".join(parts)
