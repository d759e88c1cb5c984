"""Errors as the shell shows them: one message line, then the SQL line with the fault marked.

Parse errors carry their line and column; for unknown names (tables, columns, functions) the
first place the name is written in the statement is marked. Imports the standard library and
sochdb.errors only.
"""

from __future__ import annotations

import ast
import re

from sochdb.errors import BindError, Error, ParseError

_AT = re.compile(r"at line (\d+), column (\d+)")
_NEAR = re.compile(r" near ('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")")
_QUOTED_NAME = re.compile(r"'([^']+)'")
_FUNCTION = re.compile(r"function ([A-Za-z_][A-Za-z0-9_]*)\(")
# Strings and comments, skipped when looking for a name in the statement.
_SKIP = re.compile(r"'(?:[^']|'')*'?|--[^\n]*|/\*.*?(?:\*/|\Z)", re.S)
_WINDOW = 100  # longest stretch of a SQL line shown around the marked position


def one_line(text: str) -> str:
    """Collapse whitespace, so a message never spans lines."""
    return " ".join(str(text).split())


def error_message(exc: BaseException) -> str:
    """The message line for ``exc`` (no traceback, no class path)."""
    if isinstance(exc, Error):
        return one_line(exc.message or exc.code)
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return one_line(f"{where}{exc.strerror or exc}")
    return one_line(f"internal error: {type(exc).__name__}: {exc}")


def locate(exc: BaseException, sql: str) -> tuple[int, int, int] | None:
    """``(line, column, width)`` of the fault in ``sql`` (1-based line and column), or None."""
    if isinstance(exc, ParseError):
        line, column = exc.line, exc.column
        if line is None or column is None:
            # an error rebuilt from a server's reply keeps only its message
            at = _AT.search(exc.message or "")
            if at is None:
                return None
            line, column = int(at.group(1)), int(at.group(2))
        lines = sql.split("\n")
        if not 1 <= line <= len(lines):
            return None
        m = _NEAR.search(exc.message or "")
        if m:
            try:
                near = ast.literal_eval(m.group(1))
            except (ValueError, SyntaxError):
                near = ""
            text = lines[line - 1]
            start = column - len(near)  # sqlglot's column is the token's last character
            if near and start >= 0 and text[start:column] == near:
                return line, start + 1, len(near)
        return line, max(column, 1), 1
    if isinstance(exc, BindError):
        msg = exc.message or ""
        m = _FUNCTION.search(msg) or _QUOTED_NAME.search(msg)
        if m:
            return _find_name(sql, m.group(1))
    return None


def _find_name(sql: str, name: str) -> tuple[int, int, int] | None:
    """The first place ``name`` is written as a whole word outside strings and comments."""
    word = re.compile(r"(?<![\w$])\"?" + re.escape(name) + r"\"?(?![\w$])", re.I)
    pos = 0
    for skip in _SKIP.finditer(sql):
        m = word.search(sql, pos, skip.start())
        if m:
            return _line_col(sql, m.start(), m.end() - m.start())
        pos = skip.end()
    m = word.search(sql, pos)
    return _line_col(sql, m.start(), m.end() - m.start()) if m else None


def _line_col(sql: str, offset: int, width: int) -> tuple[int, int, int]:
    line = sql.count("\n", 0, offset) + 1
    col = offset - (sql.rfind("\n", 0, offset) + 1) + 1
    return line, col, width


def format_error(exc: BaseException, sql: str | None = None, where: str = "") -> list[str]:
    """The lines to print for ``exc`` raised by ``sql``: the message, then (when the fault's
    position is known) the SQL line and a caret line under the fault.

    >>> err = ParseError("syntax error at line 1, column 13 near 'FORM'", line=1, column=13)
    >>> print("\\n".join(format_error(err, "SELECT * FORM t")))
    Error: syntax error at line 1, column 13 near 'FORM'
      SELECT * FORM t
               ^^^^
    """
    out = [f"{where}Error: {error_message(exc)}"]
    pos = locate(exc, sql) if sql else None
    if pos is None:
        return out
    line_no, col, width = pos
    lines = sql.split("\n")
    text = lines[line_no - 1].replace("\t", " ")
    prefix = f"LINE {line_no}: " if len(lines) > 1 else ""
    start = col - 1
    lo = 0
    if len(text) > _WINDOW:  # show a window around the fault of a very long line
        lo = max(0, min(start - _WINDOW // 2, len(text) - _WINDOW))
        shown = text[lo:lo + _WINDOW]
        text = ("…" if lo else "") + shown + ("…" if lo + _WINDOW < len(text) else "")
        lo -= 1 if lo else 0
    caret_at = start - lo
    width = max(1, min(width, len(text) - caret_at))
    out.append("  " + prefix + text)
    out.append("  " + " " * (len(prefix) + caret_at) + "^" * width)
    return out
