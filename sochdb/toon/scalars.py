"""Scalar text rules shared by both TOON codecs: escapes, quoted strings, keys, numbers.

Layer: sochdb.toon; imports only the standard library and sochdb.toon.errors. Escapes are
the TOON v4 set (``\\\\ \\" \\n \\r \\t`` and ``\\uXXXX`` for other control characters), which
is also a subset of JSON's, so quoted strings read the same in both.
"""

from __future__ import annotations

import re
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal, InvalidOperation, Overflow

from sochdb.toon.errors import ToonDecodeError

__all__ = [
    "KEY_RE",
    "NUMBER_RE",
    "Quoting",
    "find_unquoted",
    "format_key",
    "number_value",
    "parse_quoted",
    "quote",
    "unescape",
]

_ESCAPES: dict[int, str] = {ord("\\"): "\\\\", ord('"'): '\\"', ord("\n"): "\\n",
                            ord("\r"): "\\r", ord("\t"): "\\t"}
for _code in range(0x20):
    _ESCAPES.setdefault(_code, f"\\u{_code:04x}")

_UNESCAPES = {"\\": "\\", '"': '"', "n": "\n", "r": "\r", "t": "\t"}

#: Keys (and field and table names) that may be written without quotes (spec §7.3).
KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*\Z")

#: The decoder's number grammar (spec §4): no leading zeros, no leading '+', no bare '.5'.
NUMBER_RE = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?\Z")

_QUOTED_RE = re.compile(r'"([^"\\]*(?:\\.[^"\\]*)*)"', re.DOTALL)
_ESCAPE_RE = re.compile(r"\\(u[0-9A-Fa-f]{4}|.)", re.DOTALL)


def quote(text: str) -> str:
    """Quote and escape a string: ``quote('say "hi"')`` gives ``"say \\"hi\\""``."""
    return '"' + text.translate(_ESCAPES) + '"'


class Quoting:
    """A string-quoting rule, testable per value or per column.

    A string needs quotes when it contains a character of ``anywhere`` or a control
    character, starts with whitespace or a character of ``leading``, ends with whitespace,
    or equals one of the ``whole`` alternatives (a regex alternation; its empty alternative
    covers ""); ``whole_starts`` lists the first characters those alternatives can have.
    The column test looks at the set of first and last characters and runs at most two
    regex passes over the newline-joined column, so a column that needs no quoting costs
    no per-value regex work.
    """

    def __init__(self, anywhere: str, leading: str, whole: str, whole_starts: str) -> None:
        self._bad = re.compile("[" + anywhere + r"\x00-\x1f]").search
        self._bad_joined = re.compile("[" + anywhere + r"\x00-\x09\x0b-\x1f]").search
        self._edge = re.compile(f"(?:{whole})\\Z|[\\s\\ufeff{leading}]|.*[\\s\\ufeff]\\Z",
                                re.DOTALL).match
        self._whole_joined = re.compile(f"\\n(?:{whole})\\n").search
        self._leading = frozenset(re.sub(r"\\(.)", r"\1", leading)) | {"\ufeff"}
        self._whole_starts = frozenset(whole_starts)

    def needs(self, text: str) -> bool:
        """True when ``text`` must be written quoted."""
        return bool(self._bad(text) or self._edge(text))

    def text(self, value: str) -> str:
        """``value`` as written: quoted and escaped only when needed."""
        return quote(value) if self._bad(value) or self._edge(value) else value

    def column(self, values: list[str]) -> list[str]:
        """Each string of a column as written."""
        if self._column_is_plain(values):
            return values
        bad, edge = self._bad, self._edge
        return [quote(s) if bad(s) or edge(s) else s for s in values]

    def _column_is_plain(self, values: list[str]) -> bool:
        firsts = {s[:1] for s in values}
        if "" in firsts or any(c.isspace() or c in self._leading for c in firsts):
            return False
        if any(c.isspace() or c == "\ufeff" for c in {s[-1:] for s in values}):
            return False
        joined = "\n".join(values)
        if joined.count("\n") != len(values) - 1 or self._bad_joined(joined):
            return False
        return not (firsts & self._whole_starts and self._whole_joined("\n" + joined + "\n"))


def format_key(key: str) -> str:
    """A key as written: bare when it matches :data:`KEY_RE`, else quoted."""
    return key if KEY_RE.match(key) else quote(key)


def unescape(body: str, line: int | None = None, column: int = 1) -> str:
    """Resolve the escapes of a quoted string's body (the text between the quotes).

    ``column`` is the column of the body's first character, for error positions. A
    ``\\uD83D\\uDE80`` surrogate pair becomes one character; a lone surrogate is an error.
    """
    out: list[str] = []
    last = 0
    matches = list(_ESCAPE_RE.finditer(body))
    skip = False
    for k, m in enumerate(matches):
        if skip:
            skip = False
            continue
        out.append(body[last:m.start()])
        last = m.end()
        esc = m.group(1)
        if len(esc) == 1:
            char = _UNESCAPES.get(esc)
            if char is None:
                what = "a 4-digit hex code after \\u" if esc == "u" else \
                    "one of \\\\ \\\" \\n \\r \\t \\uXXXX"
                raise ToonDecodeError(f"invalid escape '\\{esc}' in quoted string: expected {what}",
                                      line, column + m.start())
            out.append(char)
            continue
        code = int(esc[1:], 16)
        if 0xD800 <= code <= 0xDBFF:
            nxt = matches[k + 1] if k + 1 < len(matches) else None
            low = int(nxt.group(1)[1:], 16) if nxt is not None and nxt.start() == m.end() \
                and len(nxt.group(1)) == 5 else -1
            if not 0xDC00 <= low <= 0xDFFF:
                raise ToonDecodeError(f"lone surrogate '\\{esc}' in quoted string: expected a "
                                      "low surrogate escape to follow", line, column + m.start())
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
            last = nxt.end()
            skip = True
        elif 0xDC00 <= code <= 0xDFFF:
            raise ToonDecodeError(f"lone surrogate '\\{esc}' in quoted string",
                                  line, column + m.start())
        out.append(chr(code))
    out.append(body[last:])
    return "".join(out)


def parse_quoted(text: str, pos: int, line: int | None = None, base: int = 0) -> tuple[str, int]:
    """Read the quoted string starting at ``text[pos] == '"'``.

    Returns the unescaped string and the index just past the closing quote. ``base`` is added
    to positions in error messages (the line's indentation).
    """
    m = _QUOTED_RE.match(text, pos)
    if m is None:
        raise ToonDecodeError("unterminated string: expected a closing '\"'", line, base + pos + 1)
    body = m.group(1)
    if "\\" in body:
        body = unescape(body, line, base + pos + 2)
    return body, m.end()


#: Reads numbers too large for a float exactly (the default context stops at 1e999999).
_WIDE = Context(Emax=MAX_EMAX, Emin=MIN_EMIN)


def number_value(token: str) -> int | float | Decimal:
    """The value of a token that matched :data:`NUMBER_RE`.

    Integers stay exact (Python ints); fractions and exponents become floats, with -0.0
    read as 0.0; a float that overflows becomes an exact ``Decimal`` instead of infinity.
    """
    if "." in token or "e" in token or "E" in token:
        value = float(token)
        if value == 0:
            return 0.0
        if value in (float("inf"), float("-inf")):
            try:
                return _WIDE.create_decimal(token)
            except (InvalidOperation, Overflow):  # an exponent past even Decimal's range
                return value
        return value
    try:
        return int(token)
    except ValueError:  # past Python's int-to-str digit limit
        return Decimal(token)


def find_unquoted(text: str, char: str, start: int = 0) -> int:
    """Index of the first ``char`` outside double quotes at or after ``start``, else -1."""
    if '"' not in text:
        return text.find(char, start)
    i, n = start, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            m = _QUOTED_RE.match(text, i)
            if m is None:
                return -1
            i = m.end()
            continue
        if c == char:
            return i
        i += 1
    return -1
