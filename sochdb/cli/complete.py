"""Tab completion for the shell: SQL keywords and functions, tables, columns, dot-commands,
their arguments and file names.

``candidates`` is a pure function of the text typed so far and a catalog view, so it is
tested without a terminal; ``Completer`` adapts it to readline's state-by-state protocol.
Imports the standard library and the dot-command table.
"""

from __future__ import annotations

import glob
import os
import re
from typing import Callable, Protocol

from sochdb.cli import dot_commands
from sochdb.cli.render import MODES

KEYWORDS = (
    "ADD", "ALL", "ALTER", "AND", "AS", "ASC", "BEGIN", "BETWEEN", "BY", "CASE", "CAST",
    "CHECK", "COLUMN", "COMMIT", "CONSTRAINT", "CREATE", "CROSS", "CURRENT_DATE",
    "CURRENT_TIMESTAMP", "DEFAULT", "DELETE", "DESC", "DISTINCT", "DROP", "ELSE", "END",
    "EXCEPT", "EXISTS", "EXPLAIN", "FALSE", "FILTER", "FOREIGN", "FROM", "FULL", "GROUP",
    "HAVING", "IF", "IN", "INDEX", "INNER", "INSERT", "INTERSECT", "INTO", "IS", "JOIN", "KEY",
    "LEFT", "LIKE", "ILIKE", "LIMIT", "NOT", "NULL", "NULLS", "OFFSET", "ON", "OR", "ORDER",
    "OUTER", "OVER", "PARTITION", "PRIMARY", "RECURSIVE", "REFERENCES", "RENAME", "REPLACE",
    "RETURNING", "RIGHT", "ROLLBACK", "SELECT", "SET", "TABLE", "THEN", "TO", "TRANSACTION",
    "TRUE", "UNION", "UNIQUE", "UPDATE", "USING", "VALUES", "VIEW", "WHEN", "WHERE", "WINDOW",
    "WITH",
    # types
    "BIGINT", "BLOB", "BOOLEAN", "DATE", "DECIMAL", "DOUBLE", "FLOAT", "INTEGER", "INTERVAL",
    "REAL", "SMALLINT", "TEXT", "TIME", "TIMESTAMP", "VARCHAR", "VECTOR",
    # functions
    "ABS", "AVG", "COALESCE", "COUNT", "LENGTH", "LOWER", "MAX", "MIN", "NULLIF", "ROUND",
    "ROW_NUMBER", "RANK", "DENSE_RANK", "LAG", "LEAD", "STRING_AGG", "SUBSTRING", "SUM",
    "TRIM", "UPPER", "ARRAY_COSINE_DISTANCE", "ARRAY_DISTANCE",
)

# After these words a table name is expected.
_TABLE_CONTEXT = {"FROM", "JOIN", "INTO", "UPDATE", "TABLE", "VIEW", "EXISTS", "ON"}
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*|\"(?:[^\"]|\"\")*\"")
_TABLE_REF = re.compile(
    r"\b(?:FROM|JOIN|UPDATE|INTO)\s+(\"(?:[^\"]|\"\")+\"|[A-Za-z_][\w$]*)"
    r"(?:\s+(?:AS\s+)?(?!(?:WHERE|JOIN|ON|GROUP|ORDER|LIMIT|LEFT|RIGHT|INNER|FULL|CROSS|SET"
    r"|VALUES|USING|UNION|EXCEPT|INTERSECT|HAVING|WINDOW|OFFSET)\b)([A-Za-z_][\w$]*))?",
    re.I)
_KV_OPS = ("get", "put", "delete", "scan")
_ALL_TABLES_LIMIT = 50


class Catalog(Protocol):
    def table_names(self) -> list[str]: ...
    def view_names(self) -> list[str]: ...
    def columns(self, name: str) -> list[tuple[str, str]] | None: ...


def _unquote(name: str) -> str:
    return name[1:-1].replace('""', '"') if name.startswith('"') else name


def _match_case(word: str, typed: str) -> str:
    return word.lower() if typed and typed == typed.lower() and typed != typed.upper() \
        else word


def _safe(fn: Callable[[], list[str]]) -> list[str]:
    try:
        return fn()
    except Exception:  # noqa: BLE001 - completion must never break the line being typed
        return []


def _relations(catalog: Catalog) -> list[str]:
    return _safe(lambda: catalog.table_names() + catalog.view_names())


def _columns(catalog: Catalog, table: str) -> list[str]:
    cols = _safe(lambda: [c for c, _ in (catalog.columns(table) or [])])
    return cols


def files(prefix: str) -> list[str]:
    """Paths starting with ``prefix``; directories end with ``/``."""
    expanded = os.path.expanduser(prefix)
    out = []
    for p in sorted(glob.glob(glob.escape(expanded) + "*")):
        shown = prefix + p[len(expanded):]
        out.append(shown + "/" if os.path.isdir(p) else shown)
    return out


def candidates(line: str, begidx: int, text: str, catalog: Catalog,
               statement_so_far: str = "") -> list[str]:
    """Completions for ``text`` (the word being typed, which starts at ``begidx`` of
    ``line``); ``statement_so_far`` holds earlier lines of a multi-line statement."""
    before = line[:begidx]
    if not statement_so_far.strip() and line.lstrip().startswith("."):
        return _dot_candidates(before, text, catalog)
    sql_before = statement_so_far + "\n" + before
    if "." in text:
        qual, _, partial = text.rpartition(".")
        table = _resolve_alias(statement_so_far + "\n" + line, _unquote(qual))
        cols = _columns(catalog, table) if table else []
        return sorted(f"{qual}.{c}" for c in cols if c.lower().startswith(partial.lower()))
    words = _WORD.findall(sql_before)
    prev = words[-1].upper() if words else ""
    low = text.lower()
    rels = [r for r in _relations(catalog) if r.lower().startswith(low)]
    if prev in _TABLE_CONTEXT and prev != "ON":
        return sorted(rels)
    mentioned = [_unquote(m.group(1)) for m in _TABLE_REF.finditer(statement_so_far + "\n" +
                                                                     line)]
    if not mentioned:  # no table named yet: offer the columns of every table (the first few)
        mentioned = _relations(catalog)[:_ALL_TABLES_LIMIT]
    cols: set[str] = set()
    for t in mentioned:
        cols.update(c for c in _columns(catalog, t) if c.lower().startswith(low))
    kws = [_match_case(k, text) for k in KEYWORDS if k.lower().startswith(low)]
    return sorted(cols) + sorted(kws) + sorted(rels)


def _resolve_alias(sql: str, qual: str) -> str | None:
    """The table a qualifier names: an alias given in FROM/JOIN, or the table itself."""
    for m in _TABLE_REF.finditer(sql):
        table, alias = _unquote(m.group(1)), m.group(2)
        if alias and alias.lower() == qual.lower():
            return table
    return qual


def _dot_candidates(before: str, text: str, catalog: Catalog) -> list[str]:
    words = before.split()
    if not words:  # completing the command name itself
        name = text.lstrip(".").lower()
        return [f".{n}" for n in dot_commands.names() if n.startswith(name)]
    try:
        cmd = dot_commands.find(words[0].lstrip("."))
    except Exception:  # noqa: BLE001 - an unknown command has no arguments to offer
        return []
    done = words[1:] if before[-1:].isspace() else words[1:-1]  # the rest is being typed
    index = len([w for w in done if not w.startswith("--")])
    if index >= len(cmd.args):
        return []
    kind = cmd.args[index]
    low = text.lower()
    if kind == "table":
        return sorted(r for r in _relations(catalog) if r.lower().startswith(low))
    if kind == "file":
        # the path may hold characters readline treats as word breaks: complete the whole
        # argument and hand back only the part from where readline's word starts
        head = before[max(before.rfind(" "), before.rfind("\t")) + 1:]
        return [f[len(head):] for f in files(head + text)]
    if kind == "mode":
        return [m for m in MODES if m.startswith(low)]
    if kind == "onoff":
        return [v for v in ("on", "off") if v.startswith(low)]
    if kind == "kvop":
        return [v for v in _KV_OPS if v.startswith(low)]
    if kind == "command":
        return [n for n in dot_commands.names() if n.startswith(low.lstrip("."))]
    return []


class Completer:
    """readline's completer: ``complete(text, state)`` returns the state-th candidate."""

    #: characters that end a word for readline (a dot does not, so ``t.col`` is one word)
    DELIMS = " \t\n;,()=<>+*|'"

    def __init__(self, catalog: Catalog, pending: Callable[[], str]) -> None:
        self.catalog = catalog
        self.pending = pending
        self._matches: list[str] = []

    def complete(self, text: str, state: int) -> str | None:
        if state == 0:
            import readline
            line = readline.get_line_buffer()
            begidx = readline.get_begidx()
            found = _safe(lambda: candidates(line, begidx, text, self.catalog,
                                             self.pending()))
            # Python's readline adds no space after a completed word: add it here (not after
            # a directory, whose files come next)
            self._matches = [m if m.endswith("/") else m + " " for m in found]
        return self._matches[state] if state < len(self._matches) else None
