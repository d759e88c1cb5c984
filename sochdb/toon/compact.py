"""The guide's one-line TOON form: ``users[2]{name,email}:Alice,alice@example.com;Bob,...``.

Layer: sochdb.toon; imports only the standard library and sibling modules. One table per
line: a header ``name[count]{fields}:`` then rows joined by ';', cells by ','. Cells follow
the spec's scalar rules plus three of their own (docs/toon.md, "Compact form"): an empty
cell is a missing field, nested values are inline JSON, and floats keep their float type.
Encoding is column-wise: one type test and one quoting pass per column, rows by str.join.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from sochdb.errors import ProgrammingError
from sochdb.toon.errors import ToonDecodeError, ToonEncodeError
from sochdb.toon.normalize import DecimalText, key_text, normalize
from sochdb.toon.scalars import NUMBER_RE, Quoting, format_key, parse_quoted

__all__ = ["MISSING", "from_compact", "to_compact"]


class _Missing:
    """Marks a field a record does not have; written as an empty cell."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()

#: Cells that must be quoted: ones that would read back as another type (empty = missing,
#: literals, numbers, a leading '[' or '{' = JSON), carry separators or escapes, or have
#: edge whitespace. ':' needs no quotes here: the header ends at its first ':'.
_QUOTING = Quoting(r',;"\\', r"\[{",
                   r"|true|false|null|NaN|Infinity|-Infinity"
                   r"|[+-]?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?", "tfnNI+-0123456789")

_NONFINITE = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}
_LITERALS: dict[str, Any] = {"true": True, "false": False, "null": None, **_NONFINITE}
_HEADER_RE = re.compile(r"\[(0|[1-9][0-9]*)\]\{")
_CELL_END = re.compile(r"[,;]")
_JSON = json.JSONDecoder()


# -- encoding -------------------------------------------------------------------------------
def _float(value: float) -> str:
    if value - value == 0:
        return repr(value)  # shortest round-trip digits; always has '.' or 'e'
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def _json_default(value: Any) -> Any:
    value = normalize(value)
    if type(value) is DecimalText:
        return float(value) if "." in value else int(value)
    return value


def _json(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=True,
                          default=_json_default)
    except (TypeError, ValueError) as exc:  # non-string keys of odd types, circular data
        raise ToonEncodeError(f"cannot write nested value as JSON: {exc}") from exc


def _cell(value: Any) -> str:
    t = type(value)
    if t is str:
        return _QUOTING.text(value)
    if value is MISSING:
        return ""
    if value is None:
        return "null"
    if t is bool:
        return "true" if value else "false"
    if t is int:
        return str(value)
    if t is float:
        return _float(value)
    if t is DecimalText:
        return str.__str__(value)
    if t is dict or t is list:
        return _json(value)
    return _cell(normalize(value))


def _column(values: list[Any]) -> list[str]:
    types = set(map(type, values))
    if types == {str}:
        return _QUOTING.column(values)
    if types == {int}:
        return list(map(str, values))
    if types == {float}:
        texts = list(map(repr, values))
        return texts if "n" not in "".join(texts) else [_float(f) for f in values]
    return [_cell(v) for v in values]


def _table_columns(table: Any, fields: list[str] | None) -> tuple[list[str], list[list[Any]], int]:
    """Columns of a pyarrow Table or RecordBatch (recognised by duck typing)."""
    names = list(table.column_names) if fields is None else fields
    have = set(table.column_names)
    n = table.num_rows
    cols = [table.column(name).to_pylist() if name in have else [MISSING] * n for name in names]
    return names, cols, n


def _record_columns(records: Iterable[Any],
                    fields: list[str] | None) -> tuple[list[str], list[list[Any]], int]:
    rows = records if isinstance(records, list) else list(records)
    if set(map(type, rows)) - {dict}:
        converted = []
        for i, row in enumerate(rows):
            if type(row) is dict:
                converted.append(row)
            elif isinstance(row, Mapping) or hasattr(row, "keys"):
                converted.append(dict(row))
            else:
                raise ToonEncodeError(f"record {i} is a {type(row).__name__}, expected a mapping "
                                      "of field name to value")
        rows = converted
    if fields is None:
        keys = list(rows[0]) if rows else []
        first = rows[0].keys() if rows else None
        if not all(r.keys() == first for r in rows):
            seen = dict.fromkeys(keys)
            for r in rows:
                if r.keys() != first:
                    for k in r:
                        if k not in seen:
                            seen[k] = None
            keys = list(seen)
        names = [key_text(k) for k in keys]
    else:
        keys = names = fields
    return names, [_column_of(rows, k) for k in keys], len(rows)


def _column_of(rows: list[dict[Any, Any]], key: Any) -> list[Any]:
    try:
        return [r[key] for r in rows]
    except KeyError:  # some record lacks the field: its cell stays empty
        return [r.get(key, MISSING) for r in rows]


def to_compact(table: str, records: Any, fields: list[str] | None = None) -> str:
    """Write records as one line of the guide's compact TOON form.

    Args:
        table: the name in front of the header (``users`` in ``users[2]{...}:``).
        records: an iterable of mappings (field -> value), or a pyarrow Table/RecordBatch.
        fields: the columns to write, in order; None means every field, in the order the
            fields are first seen across the records.

    Returns:
        ``table[count]{f1,f2}:v11,v12;v21,v22`` (no line breaks).

    Raises:
        ProgrammingError: ``table`` is not a string or ``fields`` repeats a name.
        ToonEncodeError: a record is not a mapping or a value has no TOON mapping.

    >>> to_compact("users", [{"id": 1, "name": "Alice", "email": "alice@example.com"},
    ...                      {"id": 2, "name": "Bob", "email": "bob@example.com"}],
    ...            ["name", "email"])
    'users[2]{name,email}:Alice,alice@example.com;Bob,bob@example.com'
    """
    if not isinstance(table, str):
        raise ProgrammingError(f"table name must be a str, got {type(table).__name__}")
    if fields is not None:
        fields = list(fields)
        bad = [f for f in fields if not isinstance(f, str)]
        if bad:
            raise ProgrammingError(f"field names must be str, got {bad[0]!r}")
        if len(set(fields)) != len(fields):
            dup = next(f for f in fields if fields.count(f) > 1)
            raise ProgrammingError(f"field {dup!r} is listed twice")
    if hasattr(records, "column_names") and hasattr(records, "num_rows"):
        names, cols, n = _table_columns(records, fields)
    elif isinstance(records, (Mapping, str, bytes)):
        raise ToonEncodeError("records must be an iterable of mappings, not a single "
                              f"{type(records).__name__}")
    else:
        names, cols, n = _record_columns(records, fields)
    try:
        cells = [_column(col) for col in cols]
    except ValueError as exc:  # an int beyond Python's int-to-str digit limit
        raise ToonEncodeError(str(exc)) from exc
    if cells:
        body = ";".join(map(",".join, zip(*cells)))
    else:
        body = ";" * (n - 1) if n else ""
    header = ",".join(map(format_key, names))
    return f"{format_key(table)}[{n}]{{{header}}}:{body}"


# -- decoding -------------------------------------------------------------------------------
def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _number(token: str) -> int | float | Decimal:
    if "." in token or "e" in token or "E" in token:
        value = float(token)
        return Decimal(token) if value - value != 0 else value
    try:
        return int(token)
    except ValueError:  # past Python's int-to-str digit limit
        return Decimal(token)


def _value(token: str) -> Any:
    """Type one unquoted cell: '' -> MISSING, literals, numbers, else the string itself."""
    if not token:
        return MISSING
    literal = _LITERALS.get(token, token)
    if literal is not token:
        return literal
    if NUMBER_RE.match(token):
        return _number(token)
    return token


def _header(text: str) -> tuple[str, list[str], int, int]:
    """Parse ``name[count]{fields}:``; return name, fields, count and the body's start."""
    if text.startswith('"'):
        name, j = parse_quoted(text, 0, 1)
    else:
        j = text.find("[")
        if j <= 0:
            raise ToonDecodeError("expected a header 'name[count]{fields}:' at the start",
                                  1, 1)
        name = text[:j]
    m = _HEADER_RE.match(text, j)
    if m is None:
        raise ToonDecodeError("expected '[count]{' after the table name, with count a "
                              "non-negative integer", 1, j + 1)
    count = int(m.group(1))
    j = m.end()
    fields: list[str] = []
    n = len(text)
    if j < n and text[j] == "}":
        j += 1
    else:
        while True:
            at = j
            if j < n and text[j] == '"':
                field, j = parse_quoted(text, j, 1)
            else:
                end = j
                while end < n and text[end] not in ",}":
                    end += 1
                field = text[j:end].strip(" ")
                if not field:
                    raise ToonDecodeError("empty field name in '{...}'", 1, j + 1)
                j = end
            if field in fields:
                raise ToonDecodeError(f"field {field!r} is listed twice in the header", 1, at + 1)
            fields.append(field)
            if j < n and text[j] == ",":
                j += 1
                continue
            if j < n and text[j] == "}":
                j += 1
                break
            raise ToonDecodeError("expected ',' or '}' in the header's field list", 1, j + 1)
    if j >= n or text[j] != ":":
        raise ToonDecodeError("expected ':' after the header's '}'", 1, j + 1)
    return name, fields, count, j + 1


def _cells_scanned(text: str, start: int) -> list[tuple[int, list[Any]]]:
    """Rows of a body with quoted or JSON cells, scanned left to right: (column, cells)."""
    rows: list[tuple[int, list[Any]]] = []
    row: list[Any] = []
    row_start = j = start
    n = len(text)
    while True:
        while j < n and text[j] == " ":
            j += 1
        c = text[j] if j < n else ""
        if c == '"':
            value, j = parse_quoted(text, j, 1)
        elif c in ("[", "{"):
            try:
                value, j = _JSON.raw_decode(text, j)
            except json.JSONDecodeError as exc:
                raise ToonDecodeError(f"invalid inline JSON value: {exc.msg}", 1, exc.pos + 1) \
                    from exc
        else:
            m = _CELL_END.search(text, j)
            end = n if m is None else m.start()
            value = _value(text[j:end].strip(" "))
            j = end
        while j < n and text[j] == " ":
            j += 1
        row.append(value)
        if j >= n:
            rows.append((row_start + 1, row))
            return rows
        if text[j] == ";":
            rows.append((row_start + 1, row))
            row = []
            row_start = j + 1
        elif text[j] != ",":
            raise ToonDecodeError(f"expected ',' or ';' after a value, found {text[j]!r}",
                                  1, j + 1)
        j += 1


def from_compact(text: str) -> tuple[str, list[str], list[dict[str, Any]]]:
    """Read one line of the compact TOON form back into typed records.

    Returns:
        ``(table, fields, records)``; each record holds the fields whose cells were not empty.

    Raises:
        ToonDecodeError: the text is malformed; the message gives the column (line 1).

    >>> from_compact("users[2]{name,email}:Alice,alice@example.com;Bob,bob@example.com")
    ('users', ['name', 'email'], [{'name': 'Alice', 'email': 'alice@example.com'}, \
{'name': 'Bob', 'email': 'bob@example.com'}])
    """
    if not isinstance(text, str):
        raise ProgrammingError(f"from_compact() takes a str, got {type(text).__name__}")
    lead = len(text) - len(text.lstrip())
    text = text.strip()
    for bad in ("\n", "\r"):
        at = text.find(bad)
        if at != -1:
            raise ToonDecodeError("unexpected line break: the compact form is a single line",
                                  1, lead + at + 1)
    try:
        name, fields, count, start = _header(text)
    except ToonDecodeError as exc:
        raise _shift(exc, lead) from None
    width = len(fields)
    body = text[start:]
    if count == 0 or width == 0:
        rows = [(start + 1, [])] * count
        if body != (";" * (count - 1) if count else ""):
            raise ToonDecodeError(f"expected {_count(count, 'empty row')} for a header with "
                                  f"{_count(width, 'field')}", 1, lead + start + 1)
    elif '"' in body or "[" in body or "{" in body:
        try:
            rows = _cells_scanned(text, start)
        except ToonDecodeError as exc:
            raise _shift(exc, lead) from None
    else:
        rows = []
        col = start + 1
        for part in body.split(";"):
            rows.append((col, [_value(t.strip(" ")) for t in part.split(",")]))
            col += len(part) + 1
    if len(rows) != count:
        raise ToonDecodeError(f"expected {_count(count, 'row')} as the header declares, "
                              f"found {len(rows)}",
                              1, lead + (rows[count][0] if len(rows) > count else len(text) + 1))
    records = []
    for col, cells in rows:
        if len(cells) != width:
            raise ToonDecodeError(f"row has {_count(len(cells), 'value')} but the header "
                                  f"declares {_count(width, 'field')}", 1, lead + col)
        records.append({k: v for k, v in zip(fields, cells) if v is not MISSING})
    return name, fields, records


def _shift(exc: ToonDecodeError, lead: int) -> ToonDecodeError:
    """The same error with its column moved past stripped leading whitespace."""
    if not lead or exc.column is None:
        return exc
    message = exc.message.split(": ", 1)[1] if exc.message.startswith("line ") else exc.message
    return ToonDecodeError(message, exc.line, exc.column + lead)
