"""Encoder for the official TOON format, spec v4.0 (JSON model -> TOON text).

Layer: sochdb.toon; imports only the standard library and sibling modules. Arrays of
uniform objects are written column by column (quoting decided per column, rows built with
``str.join``), which is what makes 100k-row results cheap to encode.
"""

from __future__ import annotations

import re
from typing import Any

from sochdb.errors import ProgrammingError
from sochdb.toon.errors import ToonEncodeError
from sochdb.toon.normalize import (
    PRIMITIVE_TYPES,
    DecimalText,
    float_column,
    float_text,
    key_text,
    normalize,
)
from sochdb.toon.scalars import Quoting, format_key

__all__ = ["DELIMITERS", "encode"]

#: The delimiters the spec allows (§11).
DELIMITERS = (",", "\t", "|")

_CONTAINERS = frozenset({dict, list})
_JSON_TYPES = PRIMITIVE_TYPES | _CONTAINERS

#: Spec §7.2: strings that must be quoted, per delimiter. Empty, literal- or number-like,
#: edge whitespace, a leading '-' or '#', or any of : " \ [ ] { } controls and the delimiter.
_QUOTING = {d: Quoting(r':"\\\[\]{}' + re.escape(d), "#-",
                       r"|true|false|null|[+-]?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?",
                       "tfn+-0123456789")
            for d in DELIMITERS}


def _null(_: float) -> str:
    return "null"  # NaN and infinities become null (§3)


def _norm(value: Any) -> Any:
    return value if type(value) in _JSON_TYPES else normalize(value)


class _Encoder:
    """Writes one document into ``self.lines``; options are fixed per instance."""

    def __init__(self, delimiter: str, indent: int) -> None:
        self.delim = delimiter
        self.sym = "" if delimiter == "," else delimiter
        self.unit = " " * indent
        self.quoting = _QUOTING[delimiter]
        self.lines: list[str] = []

    # -- primitives ---------------------------------------------------------------------
    def prim(self, value: Any) -> str:
        t = type(value)
        if t is str:
            return self.quoting.text(value)
        if t is bool:
            return "true" if value else "false"
        if t is int:
            return str(value)
        if t is float:
            return float_text(value) if value - value == 0 else "null"  # NaN/inf -> null (§3)
        if value is None:
            return "null"
        if t is DecimalText:
            return str.__str__(value)
        value = normalize(value)
        if type(value) in _CONTAINERS:
            raise ToonEncodeError(f"expected a primitive, got {type(value).__name__}")
        return self.prim(value)

    def column(self, values: list[Any]) -> list[str]:
        """Encode a column of primitives: one type test per column where the types agree."""
        types = set(map(type, values))
        if types == {str}:
            return self.quoting.column(values)
        if types == {int}:
            return list(map(str, values))
        if types == {float}:
            return float_column(values, _null)
        prim = self.prim
        return [prim(v) for v in values]

    # -- tabular detection ----------------------------------------------------------------
    def tabular(self, rows: list[dict[Any, Any]]) -> tuple[str, list[list[Any]]] | None:
        """The fields segment and leaf columns when ``rows`` fit §9.3, else None.

        Rows qualify when they are non-empty objects with one key set and every column is
        all primitives or (recursively) all non-empty objects with one key set.
        """
        first = rows[0]
        if not first:
            return None
        if any(type(k) is not str for k in first):
            rows = [{key_text(k): v for k, v in r.items()} for r in rows]
            first = rows[0]
        keys = first.keys()
        if not all(r.keys() == keys for r in rows):
            return None
        parts: list[str] = []
        leaves: list[list[Any]] = []
        for key in first:
            col = [r[key] for r in rows]
            types = set(map(type, col))
            if not types <= _JSON_TYPES:
                col = [_norm(v) for v in col]
                types = set(map(type, col))
            if types <= PRIMITIVE_TYPES:
                parts.append(format_key(key))
                leaves.append(col)
            elif types == {dict}:
                sub = self.tabular(col)
                if sub is None:
                    return None
                parts.append(format_key(key) + "{" + sub[0] + "}")
                leaves.extend(sub[1])
            else:
                return None
        return self.delim.join(parts), leaves

    def keyed(self, obj: dict[Any, Any]) -> tuple[str, list[list[Any]], list[Any]] | None:
        """Fields, leaf columns and entry values when ``obj`` fits the keyed form (§9.5)."""
        if len(obj) < 2:
            return None
        values = [_norm(v) for v in obj.values()]
        if not all(type(v) is dict and v for v in values):
            return None
        found = self.tabular(values)
        return None if found is None else (found[0], found[1], values)

    # -- structure ------------------------------------------------------------------------
    def rows(self, depth: int, cells: list[list[str]]) -> None:
        pad = self.unit * depth
        rows = list(map(self.delim.join, zip(*cells)))
        self.lines.append(pad + ("\n" + pad).join(rows))

    def root(self, value: Any) -> None:
        value = _norm(value)
        t = type(value)
        if t is dict:
            keyed = self.keyed(value)
            if keyed is not None:
                self.keyed_block("", value, keyed, 0, "")
            else:
                self.fields(value, 0)
        elif t is list:
            self.array("", value, 0, "", item=False)
        else:
            self.lines.append(self.prim(value))

    def fields(self, obj: dict[Any, Any], depth: int) -> None:
        pad = self.unit * depth
        for key, value in obj.items():
            self.field(key_text(key), value, depth, pad)

    def field(self, key: str, value: Any, depth: int, head: str) -> None:
        """Write ``key: value`` at ``depth``; ``head`` starts the first line (pad or '- ')."""
        value = _norm(value)
        name = format_key(key)
        t = type(value)
        if t is dict:
            if value:
                keyed = self.keyed(value)
                if keyed is not None:
                    self.keyed_block(name, value, keyed, depth, head)
                    return
            self.lines.append(head + name + ":")
            self.fields(value, depth + 1)
        elif t is list:
            self.array(name, value, depth, head, item=False)
        else:
            self.lines.append(head + name + ": " + self.prim(value))

    def keyed_block(self, name: str, obj: dict[Any, Any],
                    keyed: tuple[str, list[list[Any]], list[Any]], depth: int, head: str) -> None:
        fields, leaves, _ = keyed
        self.lines.append(f"{head}{name}[{len(obj)}:{self.sym}]{{{fields}}}:")
        entry = [format_key(key_text(k)) + ": " for k in obj]
        cells = [self.column(col) for col in leaves]
        pad = self.unit * (depth + 1)
        rows = [k + self.delim.join(r) for k, r in zip(entry, zip(*cells))]
        self.lines.append(pad + ("\n" + pad).join(rows))

    def array(self, name: str, arr: Any, depth: int, head: str, item: bool) -> None:
        """Write an array field, a root array (name '') or an array list item (item=True)."""
        n = len(arr)
        if n == 0:
            self.lines.append(head + (f"[0{self.sym}]:" if item else
                                      (name + ": []" if name else "[]")))
            return
        types = set(map(type, arr))
        if not types <= _JSON_TYPES:
            arr = [_norm(v) for v in arr]
            types = set(map(type, arr))
        if types <= PRIMITIVE_TYPES:
            self.lines.append(f"{head}{name}[{n}{self.sym}]: " + self.delim.join(self.column(arr)))
            return
        if types == {dict} and not item:  # keyless tabular headers are root-only (§6)
            found = self.tabular(arr)
            if found is not None:
                self.lines.append(f"{head}{name}[{n}{self.sym}]{{{found[0]}}}:")
                self.rows(depth + 1, [self.column(col) for col in found[1]])
                return
        self.lines.append(f"{head}{name}[{n}{self.sym}]:")
        for value in arr:
            self.list_item(value, depth + 1)

    def list_item(self, value: Any, depth: int) -> None:
        pad = self.unit * depth
        t = type(value)
        if t is dict:
            if not value:
                self.lines.append(pad + "-")
                return
            items = iter(value.items())
            key, first = next(items)
            self.field(key_text(key), first, depth + 1, pad + "- ")
            inner = pad + self.unit
            for key, rest in items:
                self.field(key_text(key), rest, depth + 1, inner)
        elif t is list:
            self.array("", value, depth, pad + "- ", item=True)
        else:
            self.lines.append(pad + "- " + self.prim(value))


def check_options(delimiter: str, indent: int) -> None:
    """Reject option values the spec does not define."""
    if delimiter not in DELIMITERS:
        raise ProgrammingError(f"TOON delimiter must be one of ',', '\\t', '|', got {delimiter!r}")
    if type(indent) is not int or indent < 1:
        raise ProgrammingError(f"TOON indent must be a positive int, got {indent!r}")


def encode(value: Any, delimiter: str = ",", indent: int = 2) -> str:
    """Encode a value as a TOON v4.0 document.

    Args:
        value: JSON-model data (dict, list, str, int, float, bool, None); other host types
            are normalized first as docs/toon.md lists (datetime -> ISO string, Decimal ->
            exact number, bytes -> base64, tuple/set -> list, ...).
        delimiter: ``","`` (default), ``"\\t"`` or ``"|"``, used for every array.
        indent: spaces per nesting level.

    Returns:
        The document, LF line ends, no trailing newline.

    Raises:
        ToonEncodeError: a value with no TOON mapping.

    >>> print(encode({"users": [{"id": 1, "name": "Ada"}, {"id": 2, "name": "Bob"}]}))
    users[2]{id,name}:
      1,Ada
      2,Bob
    """
    check_options(delimiter, indent)
    enc = _Encoder(delimiter, indent)
    try:
        enc.root(value)
    except RecursionError as exc:
        raise ToonEncodeError("value is nested too deeply (or contains itself)") from exc
    except ValueError as exc:  # e.g. an int beyond Python's int-to-str digit limit
        raise ToonEncodeError(str(exc)) from exc
    return "\n".join(enc.lines)
