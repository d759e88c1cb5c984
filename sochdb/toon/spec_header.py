"""Array header parsing for the TOON v4.0 decoder (spec §6): ``key[N<:?><delim?>]{fields}:``.

Layer: sochdb.toon; imports only the standard library and sibling modules. A header is tried
only where a line's key part holds a '['; what the caller does when it does not parse
(error, or the non-strict literal-key fall-through of §6) is the caller's choice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sochdb.toon.errors import ToonDecodeError
from sochdb.toon.scalars import parse_quoted

__all__ = ["Field", "Header", "HeaderSyntax", "leaf_count", "parse_header"]

_BRACKET_RE = re.compile(r"\[(0|[1-9][0-9]*)(:?)([\t|]?)\]")
_DELIM_NAMES = {",": "','", "\t": "tab", "|": "'|'"}


@dataclass(frozen=True)
class Field:
    """One entry of a fields segment: a leaf column, or a nested group when ``children``."""

    name: str
    children: tuple[Field, ...] | None = None


@dataclass(frozen=True)
class Header:
    """A parsed header; ``fields`` is None for a plain array, ``keyed`` for ``[N:]``."""

    key: str | None
    length: int
    delimiter: str
    keyed: bool
    fields: tuple[Field, ...] | None
    end: int  # index just past the header's colon


class HeaderSyntax(ToonDecodeError):
    """A '[' segment that is not a valid header; non-strict callers may fall through (§6)."""


def leaf_count(fields: tuple[Field, ...]) -> int:
    """Cells a row needs: one per leaf field, depth first."""
    return sum(1 if f.children is None else leaf_count(f.children) for f in fields)


def parse_header(text: str, key: str | None, pos: int, line: int, base: int,
                 strict: bool) -> Header:
    """Parse the header whose bracket segment starts at ``text[pos] == '['``.

    Raises:
        HeaderSyntax: the bracket segment or the text before the colon is malformed.
        ToonDecodeError: the fields segment is malformed (always an error).
    """
    m = _BRACKET_RE.match(text, pos)
    if m is None:
        close = text.find("]", pos)
        seg = text[pos:close + 1] if close != -1 else text[pos:]
        raise HeaderSyntax(f"invalid array length {seg!r}: expected '[N]' with N a non-negative "
                           "integer without leading zeros, optionally followed by ':' (keyed) "
                           "and a tab or '|' delimiter", line, base + pos + 1)
    length, keyed, delimiter = int(m.group(1)), bool(m.group(2)), m.group(3) or ","
    j = m.end()
    fields = None
    if j < len(text) and text[j] == "{":
        fields, j = _parse_fields(text, j, delimiter, line, base, strict)
        if strict and len({f.name for f in fields}) != len(fields):
            raise ToonDecodeError("duplicate field name in the header's field list (strict "
                                  "mode)", line, base + pos + 1)
    if j >= len(text) or text[j] != ":":
        if fields is not None:
            raise ToonDecodeError("expected ':' after the array header's field list",
                                  line, base + j + 1)
        raise HeaderSyntax("expected ':' or '{' right after the array header's ']'",
                           line, base + j + 1)
    return Header(key, length, delimiter, keyed, fields, j + 1)


def _parse_fields(text: str, pos: int, delimiter: str, line: int, base: int,
                  strict: bool) -> tuple[tuple[Field, ...], int]:
    """Parse a (possibly nested) ``{...}`` fields segment starting at ``text[pos] == '{'``."""
    others = [d for d in (",", "|", "\t") if d != delimiter]
    entries: list[Field] = []
    j, n = pos + 1, len(text)
    while True:
        while j < n and text[j] == " ":
            j += 1
        if j >= n:
            raise ToonDecodeError("unmatched '{' in the header's field list: expected '}'",
                                  line, base + pos + 1)
        start = j
        if text[j] == '"':
            name, j = parse_quoted(text, j, line, base)
        else:
            while j < n and text[j] not in "{}" and text[j] != delimiter:
                j += 1
            name = text[start:j].strip(" ")
            if not name:
                raise ToonDecodeError("empty field name in the header's field list: expected at "
                                      "least one name per '{...}'", line, base + start + 1)
            if strict:
                for other in others:
                    if other in name:
                        raise ToonDecodeError(
                            f"field list uses {_DELIM_NAMES[other]} but the header declares "
                            f"{_DELIM_NAMES[delimiter]} as the delimiter", line, base + start + 1)
        while j < n and text[j] == " ":
            j += 1
        children = None
        if j < n and text[j] == "{":
            children, j = _parse_fields(text, j, delimiter, line, base, strict)
            while j < n and text[j] == " ":
                j += 1
        entries.append(Field(name, children))
        if j >= n:
            raise ToonDecodeError("unmatched '{' in the header's field list: expected '}'",
                                  line, base + pos + 1)
        if text[j] == delimiter:
            j += 1
            continue
        if text[j] == "}":
            return tuple(entries), j + 1
        raise ToonDecodeError(f"expected {_DELIM_NAMES[delimiter]} or '}}' in the header's field "
                              f"list, found {text[j]!r}", line, base + j + 1)
