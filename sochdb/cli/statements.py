"""Cut shell input into SQL statements at semicolons outside quotes, comments and $$ bodies.

The shell feeds text line by line and needs to know when a statement is complete; the scan
state (inside a string, a comment, ...) is kept between feeds so a long statement is scanned
once, not once per line. Imports the standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# In normal text, the next character sequence that changes the scan state.
_SPECIAL = re.compile(r"'|\"|--|/\*|\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$|;")
_SQUOTE_END = re.compile(r"(?:[^']|'')*'")
_DQUOTE_END = re.compile(r'(?:[^"]|"")*"')

_NORMAL, _SQUOTE, _DQUOTE, _LINE_COMMENT, _BLOCK_COMMENT, _DOLLAR = range(6)


@dataclass(frozen=True)
class Statement:
    """One complete statement: its text (ending with ``;`` unless cut at end of input) and the
    input line its text starts on (1-based), so errors can point into a script."""

    text: str
    line: int


class StatementSplitter:
    """Accumulates input and hands back each statement as soon as its ``;`` arrives.

    A statement's text starts at its first character that is not blank or a comment, and its
    ``line`` is the input line of that character.

    >>> s = StatementSplitter()
    >>> s.feed("SELECT 'a;b'; SELECT")
    [Statement(text="SELECT 'a;b';", line=1)]
    >>> s.pending
    True
    >>> s.feed(" 2;")
    [Statement(text='SELECT\\n 2;', line=1)]
    """

    def __init__(self) -> None:
        self._buf: list[str] = []      # pieces of the statement being read
        self._buf_len = 0
        self._state = _NORMAL
        self._dollar_tag = ""
        self._content_at = -1          # offset of the statement's first content, -1: none yet
        self._next_line = 1            # input line the next fed text starts on
        self._start_line = 1           # line of the current statement's first content

    @property
    def pending(self) -> bool:
        """True while a statement has begun (or a quote/comment is open) without its ``;``."""
        return self._content_at >= 0 or self._state not in (_NORMAL, _LINE_COMMENT)

    def reset(self) -> None:
        """Drop the partial statement (Ctrl-C at the continuation prompt)."""
        self._buf.clear()
        self._buf_len = 0
        self._state = _NORMAL
        self._content_at = -1

    def feed(self, text: str) -> list[Statement]:
        """Add one line (without its newline) or several; return the statements completed."""
        if self._buf:
            text = "\n" + text
            base = self._next_line - 1
        else:
            base = self._next_line
        self._next_line = base + text.count("\n") + 1
        out: list[Statement] = []
        pos, n, piece = 0, len(text), 0
        while pos < n:
            state = self._state
            if state == _NORMAL:
                m = _SPECIAL.search(text, pos)
                end = m.start() if m else n
                if self._content_at < 0 and not text[pos:end].isspace() and pos < end:
                    first = pos + len(text[pos:end]) - len(text[pos:end].lstrip())
                    self._mark_content(text, first, piece, base)
                if m is None:
                    break
                tok = m.group()
                pos = m.end()
                if tok == ";":
                    if self._content_at >= 0:
                        stmt = "".join(self._buf) + text[piece:pos]
                        out.append(Statement(stmt[self._content_at:], self._start_line))
                    piece = pos
                    self._buf.clear()
                    self._buf_len = 0
                    self._content_at = -1
                elif tok == "--":
                    self._state = _LINE_COMMENT
                elif tok == "/*":
                    self._state = _BLOCK_COMMENT
                else:
                    if self._content_at < 0:
                        self._mark_content(text, m.start(), piece, base)
                    if tok == "'":
                        self._state = _SQUOTE
                    elif tok == '"':
                        self._state = _DQUOTE
                    else:
                        self._state, self._dollar_tag = _DOLLAR, tok
            elif state == _LINE_COMMENT:
                nl = text.find("\n", pos)
                pos, self._state = (n, state) if nl < 0 else (nl + 1, _NORMAL)
            elif state == _BLOCK_COMMENT:
                close = text.find("*/", pos)
                pos, self._state = (n, state) if close < 0 else (close + 2, _NORMAL)
            elif state == _DOLLAR:
                close = text.find(self._dollar_tag, pos)
                pos, self._state = (n, state) if close < 0 else (
                    close + len(self._dollar_tag), _NORMAL)
            else:
                m = (_SQUOTE_END if state == _SQUOTE else _DQUOTE_END).match(text, pos)
                pos, self._state = (n, state) if m is None else (m.end(), _NORMAL)
        if self._state == _LINE_COMMENT:
            self._state = _NORMAL  # a line comment ends with its line
        if self.pending:
            rest = text[piece:]
            self._buf.append(rest)
            self._buf_len += len(rest)
        return out

    def flush(self) -> Statement | None:
        """At end of input: the unterminated last statement, if it has any content."""
        stmt = "".join(self._buf)
        at, line = self._content_at, self._start_line
        self.reset()
        if at < 0:
            return None
        return Statement(stmt[at:].rstrip(), line)

    def _mark_content(self, text: str, first: int, piece: int, base: int) -> None:
        self._content_at = self._buf_len + first - piece
        self._start_line = base + text.count("\n", 0, first)


def split_statements(text: str) -> list[Statement]:
    """Every statement of a script, the last one even without a closing ``;``."""
    s = StatementSplitter()
    out = s.feed(text)
    last = s.flush()
    if last is not None:
        out.append(last)
    return out
