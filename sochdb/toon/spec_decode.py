"""Decoder for the official TOON format, spec v4.0 (TOON text -> JSON model).

Layer: sochdb.toon; imports only the standard library and sibling modules. The text is first
cut into lines (indentation, comments and blank lines resolved, §5.1 and §12), then a
recursive descent over those lines builds the value. Every error is a ToonDecodeError that
names the line and what was expected there.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any, NamedTuple

from sochdb.errors import ProgrammingError
from sochdb.toon.errors import ToonDecodeError
from sochdb.toon.scalars import NUMBER_RE, find_unquoted, number_value, parse_quoted
from sochdb.toon.spec_header import Field, Header, HeaderSyntax, leaf_count, parse_header

__all__ = ["decode", "parse_value"]

_LITERALS: dict[str, Any] = {"true": True, "false": False, "null": None}
_NUMBER_START = frozenset("-0123456789")


def _count(n: int, noun: str) -> str:
    """``_count(1, "row")`` is '1 row', ``_count(2, "entry")`` is '2 entries'."""
    if n == 1:
        return f"{n} {noun}"
    return f"{n} {noun[:-1]}ies" if noun.endswith("y") else f"{n} {noun}s"


class _Line(NamedTuple):
    no: int       # 1-based physical line number
    depth: int
    indent: int   # leading spaces, for column numbers
    text: str     # content without indentation and trailing spaces


def _scan(text: str, indent: int, strict: bool) -> tuple[list[_Line], list[int]]:
    """Cut ``text`` into content lines plus the line numbers of blank lines.

    Comment lines ('#' after spaces only) vanish. Tabs in indentation are an error in strict
    mode; in non-strict mode each counts as ``indent`` spaces.
    """
    lines: list[_Line] = []
    blanks: list[int] = []
    for no, raw in enumerate(text.split("\n"), 1):
        raw = raw.removesuffix("\r")
        body = raw.lstrip(" ")
        if not body.strip(" \t"):
            blanks.append(no)
            continue
        if body[0] == "#":
            continue
        spaces = len(raw) - len(body)
        if body[0] == "\t":
            if strict:
                raise ToonDecodeError("tab character in indentation: indent with spaces",
                                      no, spaces + 1)
            lead = raw[:len(raw) - len(raw.lstrip(" \t"))]
            body = raw[len(lead):]
            spaces = lead.count(" ") + lead.count("\t") * indent
            if body[0] == "#":
                continue
        if strict and spaces % indent:
            raise ToonDecodeError(f"indentation of {spaces} spaces is not a multiple of "
                                  f"{indent} (strict mode)", no, 1)
        lines.append(_Line(no, spaces // indent, spaces, body.rstrip(" ")))
    return lines, blanks


def parse_value(token: str, line: int | None = None, column: int = 1) -> Any:
    """Type one value token (§4): quoted string, true/false/null, number, else string."""
    if not token:
        return ""
    first = token[0]
    if first == '"':
        value, end = parse_quoted(token, 0, line, column - 1)
        if end != len(token):
            raise ToonDecodeError("unexpected text after a closing quote: expected a delimiter "
                                  "or the end of the value", line, column + end)
        return value
    if token in _LITERALS:
        return _LITERALS[token]
    if first in _NUMBER_START and NUMBER_RE.match(token):
        return number_value(token)
    return token


def _split(text: str, delimiter: str, line: int, column: int) -> list[Any]:
    """Split inline values or a row on the active delimiter, quote-aware, and type them."""
    if '"' not in text:
        return [parse_value(t.strip(" "), line, column) for t in text.split(delimiter)]
    values: list[Any] = []
    j, n = 0, len(text)
    while True:
        while j < n and text[j] == " ":
            j += 1
        if j < n and text[j] == '"':
            value, j = parse_quoted(text, j, line, column - 1)
            while j < n and text[j] == " ":
                j += 1
            if j < n and text[j] != delimiter:
                raise ToonDecodeError("unexpected text after a closing quote: expected the "
                                      "delimiter or the end of the line", line, column + j)
            values.append(value)
        else:
            end = text.find(delimiter, j)
            end = n if end == -1 else end
            values.append(parse_value(text[j:end].strip(" "), line, column + j))
            j = end
        if j >= n:
            return values
        j += 1  # past the delimiter


def _build(fields: tuple[Field, ...], cells: list[Any], pos: int) -> tuple[dict[str, Any], int]:
    obj: dict[str, Any] = {}
    for f in fields:
        if f.children is None:
            obj[f.name] = cells[pos]
            pos += 1
        else:
            obj[f.name], pos = _build(f.children, cells, pos)
    return obj, pos


class _Parser:
    def __init__(self, lines: list[_Line], blanks: list[int], strict: bool) -> None:
        self.lines = lines
        self.blanks = blanks if strict else []
        self.strict = strict
        self.i = 0

    # -- helpers --------------------------------------------------------------------------
    def error(self, message: str, line: _Line, column: int | None = None) -> ToonDecodeError:
        return ToonDecodeError(message, line.no, column)

    def peek_depth(self) -> int:
        return self.lines[self.i].depth if self.i < len(self.lines) else -1

    def assign(self, obj: dict[str, Any], key: str, value: Any, line: _Line) -> None:
        if self.strict and key in obj:
            raise self.error(f"duplicate key {key!r} (strict mode)", line)
        obj[key] = value

    def check_count(self, what: str, header: Header, found: int, line: _Line) -> None:
        if self.strict and found != header.length:
            name = f" for {header.key!r}" if header.key else ""
            raise self.error(f"expected {_count(header.length, what)}{name} as the header "
                             f"declares, found {found}", line)

    def check_blanks(self, first: int) -> None:
        """Strict mode: no blank line between an array's first item and its last line (§12)."""
        if not self.blanks or self.i <= first:
            return
        lo, hi = self.lines[first].no, self.lines[self.i - 1].no
        k = bisect_right(self.blanks, lo)
        if k < len(self.blanks) and self.blanks[k] < hi:
            raise ToonDecodeError("blank line inside an array (strict mode): remove it or decode "
                                  "with strict=False", self.blanks[k], 1)

    # -- document -------------------------------------------------------------------------
    def document(self) -> Any:
        if not self.lines:
            return {}
        first = self.lines[0]
        if first.depth != 0:
            raise self.error("the first line is indented: expected depth 0", first, 1)
        text = first.text
        if text[0] == "[":
            value = self.root_array(first)
            if value is not None:
                return value
        if len(self.lines) == 1 and find_unquoted(text, ":") == -1:
            self.i = 1
            return parse_value(text, first.no, 1)
        obj: dict[str, Any] = {}
        self.fields(obj, 0)
        return obj

    def root_array(self, first: _Line) -> Any:
        """A root array (or keyless keyed object); None when the line is no header."""
        if first.text == "[]":
            self.i = 1
        else:
            try:
                header = parse_header(first.text, None, 0, first.no, 0, self.strict)
            except HeaderSyntax:
                if self.strict and find_unquoted(first.text, ":") != -1:
                    raise
                return None
            self.i = 1
            value = self.header_value(header, first.text[header.end:].strip(" "), first, 0)
        if self.i < len(self.lines):
            raise self.error("unexpected content after the root array: a document holds one "
                             "root value", self.lines[self.i], 1)
        return [] if first.text == "[]" else value

    # -- objects --------------------------------------------------------------------------
    def fields(self, obj: dict[str, Any], depth: int) -> None:
        """Read ``key: value`` lines at ``depth`` into ``obj`` until the indentation drops."""
        lines = self.lines
        while self.i < len(lines):
            line = lines[self.i]
            if line.depth != depth:
                if line.depth < depth:
                    return
                raise self.error(f"unexpected indentation: expected depth {depth} here (the "
                                 "previous line opens no nested block)", line, line.indent + 1)
            self.i += 1
            self.field(obj, line.text, line, depth, line.indent)

    def field(self, obj: dict[str, Any], text: str, line: _Line, depth: int, base: int) -> None:
        """Parse one ``key: value`` / header field (text starts at column ``base + 1``)."""
        key, header, rest = self.split_key(text, line, base)
        if header is not None:
            self.assign(obj, key, self.header_value(header, rest, line, depth), line)
            return
        if rest == "":
            value: Any = {}
            if self.peek_depth() > depth:
                if self.peek_depth() != depth + 1:
                    nxt = self.lines[self.i]
                    raise self.error(f"indentation jumps more than one level: expected depth "
                                     f"{depth + 1}", nxt, nxt.indent + 1)
                self.fields(value, depth + 1)
        elif rest == "[]":
            value = []
        else:
            value = parse_value(rest, line.no, base + len(text) - len(rest) + 1)
        self.assign(obj, key, value, line)

    def split_key(self, text: str, line: _Line, base: int) -> tuple[str, Header | None, str]:
        """Split a field line into key, optional array header, and the text after the colon."""
        if text[0] == '"':
            key, j = parse_quoted(text, 0, line.no, base)
            if j < len(text) and text[j] == "[":
                header = parse_header(text, key, j, line.no, base, strict=True)
                return key, header, text[header.end:].strip(" ")
            while j < len(text) and text[j] == " ":
                j += 1
            if j >= len(text) or text[j] != ":":
                raise self.error("expected ':' after the quoted key", line, base + j + 1)
            return key, None, text[j + 1:].strip(" ")
        colon = text.find(":")
        bracket = text.find("[", 0, colon if colon != -1 else len(text))
        if bracket != -1:
            if bracket == 0:
                raise self.error("an array header without a key is only valid as the document "
                                 "root or as a list item: expected 'key[N]: ...'", line, base + 1)
            try:
                header = parse_header(text, text[:bracket], bracket, line.no, base, self.strict)
                return text[:bracket], header, text[header.end:].strip(" ")
            except HeaderSyntax:
                if self.strict:
                    raise
            # non-strict §6 fall-through: the text before the first colon is a literal key
        if colon == -1:
            raise self.error(f"missing ':' after key {text!r}: expected 'key: value'",
                             line, base + len(text) + 1)
        return text[:colon].strip(" "), None, text[colon + 1:].strip(" ")

    # -- arrays ---------------------------------------------------------------------------
    def header_value(self, header: Header, rest: str, line: _Line, depth: int) -> Any:
        """The value a header opens; its rows or items sit at ``depth + 1``."""
        if header.keyed:
            if header.fields is None:
                raise self.error("a keyed header '[N:]' needs a field list: expected "
                                 "'key[N:]{a,b}:'", line)
            if rest:
                raise self.error("a keyed header carries no inline values: entry rows go on the "
                                 "following lines", line)
            return self.entries(header, line, depth + 1)
        if header.fields is not None:
            if rest:
                raise self.error("a tabular header carries no inline values: rows go on the "
                                 "following lines", line)
            return self.rows(header, line, depth + 1)
        if rest:
            values = _split(rest, header.delimiter, line.no, line.indent + 1)
            self.check_count("value", header, len(values), line)
            return values
        return self.items(header, line, depth + 1)

    def rows(self, header: Header, line: _Line, depth: int) -> list[Any]:
        fields = header.fields
        assert fields is not None
        width = leaf_count(fields)
        flat = [f.name for f in fields] if all(f.children is None for f in fields) else None
        delim = header.delimiter
        out: list[Any] = []
        first = self.i
        lines = self.lines
        while self.i < len(lines) and lines[self.i].depth == depth:
            row = lines[self.i]
            text = row.text
            colon = find_unquoted(text, ":")
            if colon != -1:
                cut = find_unquoted(text, delim)
                if cut == -1 or colon < cut:
                    break  # a key-value line ends the rows (§9.3)
            cells = _split(text, delim, row.no, row.indent + 1)
            if len(cells) != width:
                raise self.error(f"row has {_count(len(cells), 'value')} but the header "
                                 f"declares {_count(width, 'field')}", row, row.indent + 1)
            out.append(dict(zip(flat, cells)) if flat is not None else _build(fields, cells, 0)[0])
            self.i += 1
        self.check_count("row", header, len(out), line)
        self.check_blanks(first)
        return out

    def entries(self, header: Header, line: _Line, depth: int) -> dict[str, Any]:
        fields = header.fields
        assert fields is not None
        width = leaf_count(fields)
        out: dict[str, Any] = {}
        first = self.i
        lines = self.lines
        while self.i < len(lines) and lines[self.i].depth == depth:
            row = lines[self.i]
            text = row.text
            if text[0] == '"':
                key, j = parse_quoted(text, 0, row.no, row.indent)
                while j < len(text) and text[j] == " ":
                    j += 1
                colon = j if j < len(text) and text[j] == ":" else -1
            else:
                colon = text.find(":")
                key = text[:colon].strip(" ")
            if colon == -1:
                raise self.error("expected an entry row 'key: values' under the keyed header",
                                 row, row.indent + 1)
            rest = text[colon + 1:].strip(" ")
            cells = _split(rest, header.delimiter, row.no, row.indent + colon + 2) if rest else []
            if len(cells) != width:
                raise self.error(f"entry {key!r} has {_count(len(cells), 'value')} but the "
                                 f"header declares {_count(width, 'field')}", row, row.indent + 1)
            self.assign(out, key, _build(fields, cells, 0)[0], row)
            self.i += 1
        self.check_count("entry", header, len(out) if self.strict else header.length, line)
        self.check_blanks(first)
        return out

    def items(self, header: Header, line: _Line, depth: int) -> list[Any]:
        out: list[Any] = []
        first = self.i
        lines = self.lines
        while self.i < len(lines) and lines[self.i].depth == depth:
            item = lines[self.i]
            text = item.text
            if text == "-":
                self.i += 1
                out.append({})
                continue
            if not text.startswith("- "):
                raise self.error("expected a list item starting with '- '", item, item.indent + 1)
            self.i += 1
            rest = text[2:].lstrip(" ")
            out.append(self.item(rest, item, depth, item.indent + len(text) - len(rest)))
        self.check_count("item", header, len(out), line)
        self.check_blanks(first)
        return out

    def item(self, text: str, line: _Line, depth: int, base: int) -> Any:
        """One list item's value; ``text`` follows the '- ' marker."""
        if text == "[]":
            return []
        if text[0] == "[":
            try:
                header = parse_header(text, None, 0, line.no, base, self.strict)
            except HeaderSyntax:
                if self.strict:
                    raise
            else:
                if header.keyed or header.fields is not None:
                    raise self.error("a keyless header with a field list is only valid at the "
                                     "document root: expected '- [N]: ...' or '- key[N]{...}:'",
                                     line, base + 1)
                return self.header_value(header, text[header.end:].strip(" "), line, depth)
        if find_unquoted(text, ":") == -1:
            return parse_value(text, line.no, base + 1)
        obj: dict[str, Any] = {}
        self.field(obj, text, line, depth + 1, base)
        self.fields(obj, depth + 1)
        return obj


def decode(text: str, strict: bool = True, indent: int = 2) -> Any:
    """Decode a TOON v4.0 document into Python values.

    Args:
        text: the document (LF or CRLF line ends).
        strict: enforce counts, indentation, blank-line and duplicate-key rules (§14);
            ``False`` accepts the lenient forms (last write wins, blank lines skipped,
            malformed ``[..]`` keys read as literal keys).
        indent: spaces per nesting level.

    Returns:
        dict / list / str / int / float / bool / None. Integers are exact Python ints,
        other numbers floats (a float overflow gives an exact ``Decimal``).

    Raises:
        ToonDecodeError: the text is not valid TOON; the message names the line.

    >>> decode("users[2]{id,name}:\\n  1,Ada\\n  2,Bob")
    {'users': [{'id': 1, 'name': 'Ada'}, {'id': 2, 'name': 'Bob'}]}
    """
    if not isinstance(text, str):
        raise ProgrammingError(f"decode() takes a str, got {type(text).__name__}")
    if type(indent) is not int or indent < 1:
        raise ProgrammingError(f"TOON indent must be a positive int, got {indent!r}")
    lines, blanks = _scan(text, indent, strict)
    parser = _Parser(lines, blanks, strict)
    try:
        return parser.document()
    except RecursionError as exc:
        raise ToonDecodeError("document is nested too deeply") from exc
