"""Parse sqllogictest scripts (the SQLite original and the DuckDB dialect) into records.

Test-tooling layer: pure text processing that imports only the standard library and
``sochdb.errors``. The two dialects differ in how comment lines and ``\\r`` are handled, which
is why each has its own reader; both produce the same record classes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

from sochdb.errors import ParseError

__all__ = [
    "Statement", "Query", "Command", "Loop", "Record", "Script",
    "DIALECTS", "SORT_MODES", "detect_dialect", "parse_file", "parse_text", "is_hash_line",
    "substitute",
]

DIALECTS = ("sqlite", "duckdb")
#: Sort-mode spellings and what they mean; anything else in that position is a connection name.
SORT_MODES = {"nosort": "nosort", "none": "nosort", "rowsort": "rowsort", "sort": "rowsort",
              "valuesort": "valuesort"}
_HASH_LINE = re.compile(r"^(\d+) values hashing to ([0-9a-z]{32})$")
# Commands that DuckDB requires to stand on a line of their own.
_SINGLE_LINE = {"hash-threshold", "halt", "mode", "set", "loop", "foreach", "concurrentloop",
                "concurrentforeach", "endloop", "require", "require-env", "load", "restart",
                "reconnect", "sleep", "include", "tags", "continue", "unzip", "test-env", "reset"}
_LOOP_MACROS = {
    "<signed>": ["tinyint", "smallint", "integer", "bigint", "hugeint"],
    "<unsigned>": ["utinyint", "usmallint", "uinteger", "ubigint", "uhugeint"],
}
_LOOP_MACROS["<integral>"] = _LOOP_MACROS["<signed>"] + _LOOP_MACROS["<unsigned>"]
_LOOP_MACROS["<numeric>"] = _LOOP_MACROS["<integral>"] + ["float", "double"]
_LOOP_MACROS["<alltypes>"] = _LOOP_MACROS["<numeric>"] + ["bool", "interval", "varchar"]

Condition = tuple[str, str]  # ("skipif" | "onlyif", engine name)


@dataclass(frozen=True)
class Statement:
    """``statement ok|error|maybe [connection]``; ``error`` is the expected message.

    ``error`` is None when no ``----`` block follows, and ``""`` when the block is empty
    (any error is accepted).
    """

    line: int
    sql: str
    expect: str = "ok"
    error: str | None = None
    connection: str | None = None
    conditions: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class Query:
    """``query <types> [<sort-mode>|<connection>] [<label>]`` with its expected lines."""

    line: int
    sql: str
    types: str
    sort: str = "nosort"
    label: str | None = None
    connection: str | None = None
    expected: tuple[str, ...] = ()
    conditions: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class Command:
    """Any other record: ``hash-threshold``, ``halt``, ``mode``, ``require``, ``set`` ..."""

    line: int
    name: str
    args: tuple[str, ...] = ()
    conditions: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class Loop:
    """``loop``/``foreach`` ... ``endloop``: ``body`` runs once per value of ``var``."""

    line: int
    var: str
    values: tuple[str, ...]
    body: tuple["Record", ...]
    parallel: bool = False
    conditions: tuple[Condition, ...] = ()


Record = Union[Statement, Query, Command, Loop]


@dataclass
class Script:
    """A parsed test file: its records in order, and the dialect they were read with."""

    path: str
    dialect: str
    records: list[Record] = field(default_factory=list)

    def executable(self) -> list[Statement | Query]:
        """Statements and queries at the top level and inside loops (loops counted once)."""
        out: list[Statement | Query] = []

        def walk(records: list[Record] | tuple[Record, ...]) -> None:
            for rec in records:
                if isinstance(rec, (Statement, Query)):
                    out.append(rec)
                elif isinstance(rec, Loop):
                    walk(rec.body)

        walk(self.records)
        return out


def is_hash_line(line: str) -> re.Match[str] | None:
    """Match ``<N> values hashing to <md5>``, the expected form of a hashed result."""
    return _HASH_LINE.match(line)


def detect_dialect(path: str | Path, text: str | None = None) -> str:
    """Guess the dialect of a file: a ``duckdb``/``sqlite`` folder in its path wins, then the
    DuckDB ``# name:`` header, then a first ``hash-threshold`` record; otherwise ``duckdb``,
    the dialect of the project's own test files."""
    parts = [p.lower() for p in Path(path).parts[:-1]]
    for part in reversed(parts):
        if part in DIALECTS:
            return part
    if text is None:
        with open(path, "rb") as fh:
            text = fh.read(4096).decode("utf-8", "replace")
    head = text.lstrip()
    if head.startswith("# name:") or "\n# group:" in text[:4096]:
        return "duckdb"
    if head.startswith("hash-threshold"):
        return "sqlite"
    return "duckdb"


def parse_file(path: str | Path, dialect: str | None = None) -> Script:
    """Read and parse one test file; ``dialect=None`` detects it."""
    data = Path(path).read_bytes()
    text = data.decode("utf-8", "surrogateescape")
    if dialect in (None, "auto"):
        dialect = detect_dialect(path, text)
    return Script(str(path), dialect, parse_text(text, dialect, str(path)))


def parse_text(text: str, dialect: str, path: str = "<text>") -> list[Record]:
    """Parse script text into records (see FORMAT.md sections 1, 2 and 4)."""
    if dialect not in DIALECTS:
        raise ParseError(f"unknown sqllogictest dialect {dialect!r}; expected one of {DIALECTS}",
                         path=path)
    reader = _SqliteReader(text, path) if dialect == "sqlite" else _DuckDBReader(text, path)
    records = reader.records()
    return _nest_loops(records, path)


def substitute(text: str, names: dict[str, str]) -> str:
    """Replace loop variables written as ``${name}`` or ``{name}``."""
    for name, value in names.items():
        text = text.replace("${" + name + "}", value).replace("{" + name + "}", value)
    return text


# --------------------------------------------------------------------------- readers

class _Reader:
    """Shared record building; subclasses decide where SQL and expected blocks end."""

    connections = False  # whether a query's second argument may name a connection

    def __init__(self, lines: list[str], path: str) -> None:
        self.lines = lines
        self.path = path

    def fail(self, line: int, message: str) -> ParseError:
        return ParseError(f"{self.path}:{line}: {message}", line=line, path=self.path)

    def build(self, line_no: int, tokens: list[str], conditions: list[Condition],
              sql_lines: list[str], marker: bool, after: list[str]) -> Record:
        """Turn one record's parts into a record object."""
        head, args = tokens[0], tokens[1:]
        conds = tuple(conditions)
        sql = "\n".join(sql_lines)
        if head == "statement":
            if not args:
                raise self.fail(line_no, "statement needs 'ok', 'error' or 'maybe'")
            if not sql:
                raise self.fail(line_no, "statement without SQL text")
            error = "\n".join(after) if marker else None
            conn = args[1] if len(args) > 1 else None
            return Statement(line_no, sql, args[0], error, conn, conds)
        if head == "query":
            if not args:
                raise self.fail(line_no, "query needs a type string such as 'III'")
            types = args[0]
            bad = [c for c in types if c not in "TIR"]
            if bad:
                raise self.fail(line_no, f"unknown type character {bad[0]!r} in {types!r};"
                                         " only T, I and R are allowed")
            if not sql:
                raise self.fail(line_no, "query without SQL text")
            sort, conn = "nosort", None
            if len(args) > 1:
                if args[1] in SORT_MODES:
                    sort = SORT_MODES[args[1]]
                elif self.connections:
                    conn = args[1]
                else:
                    raise self.fail(line_no, f"unknown sort mode {args[1]!r}; expected nosort,"
                                             " rowsort or valuesort")
            label = args[2] if len(args) > 2 else None
            return Query(line_no, sql, types, sort, label, conn, tuple(after), conds)
        return Command(line_no, head, tuple(args), conds)


class _SqliteReader(_Reader):
    """The original runner: comment lines vanish, records are runs of non-blank lines."""

    def __init__(self, text: str, path: str) -> None:
        lines = []
        for raw in text.split("\n"):
            if raw.endswith("\r"):
                raw = raw[:-1]
            lines.append("" if not raw.strip() else raw)
        super().__init__(lines, path)

    def records(self) -> list[Record]:
        out: list[Record] = []
        block: list[tuple[int, str]] = []
        for no, line in enumerate(self.lines, 1):
            if line.startswith("#"):
                continue  # a comment line neither ends nor belongs to a record
            if line:
                block.append((no, line))
            elif block:
                out.append(self._record(block))
                block = []
        if block:
            out.append(self._record(block))
        return out

    def _record(self, block: list[tuple[int, str]]) -> Record:
        i, conditions = 0, []
        tokens = block[0][1].split()
        while tokens[0] in ("skipif", "onlyif"):
            if len(tokens) < 2:
                raise self.fail(block[i][0], f"{tokens[0]} needs an engine name")
            conditions.append((tokens[0], tokens[1]))
            i += 1
            if i >= len(block):
                raise self.fail(block[i - 1][0], f"{tokens[0]} is not followed by a record")
            tokens = block[i][1].split()
        line_no = block[i][0]
        body = [text for _, text in block[i + 1:]]
        if tokens[0] in ("statement", "query") and "----" in body:
            cut = body.index("----")
            return self.build(line_no, tokens, conditions, body[:cut], True, body[cut + 1:])
        return self.build(line_no, tokens, conditions, body, False, [])


class _DuckDBReader(_Reader):
    """DuckDB's runner: a comment line ends SQL text; an expected block ends at an empty line."""

    connections = True

    def __init__(self, text: str, path: str) -> None:
        lines = [raw.replace("\r", "") for raw in text.split("\n")]
        super().__init__([line if line.strip() else "" for line in lines], path)

    @staticmethod
    def _empty_or_comment(line: str) -> bool:
        return not line or line.startswith("#")

    def records(self) -> list[Record]:
        lines, n = self.lines, len(self.lines)
        out: list[Record] = []
        i = 0
        while True:
            while i < n and self._empty_or_comment(lines[i]):
                i += 1
            if i >= n:
                return out
            conditions: list[Condition] = []
            tokens = lines[i].split()
            while tokens[0] in ("skipif", "onlyif"):
                if len(tokens) < 2:
                    raise self.fail(i + 1, f"{tokens[0]} needs an engine name")
                conditions.append((tokens[0], tokens[1]))
                i += 1
                if i >= n or self._empty_or_comment(lines[i]):
                    raise self.fail(i, f"{tokens[0]} is not followed by a record")
                tokens = lines[i].split()
            line_no = i + 1
            i += 1
            head = tokens[0]
            if head == "----":
                raise self.fail(line_no, "'----' outside a statement or query")
            if head in ("statement", "query"):
                sql: list[str] = []
                while i < n and not self._empty_or_comment(lines[i]) and lines[i] != "----":
                    sql.append(lines[i])
                    i += 1
                marker = i < n and lines[i] == "----"
                after: list[str] = []
                if head == "statement":
                    if marker:
                        i += 1
                        while i < n and lines[i]:
                            after.append(lines[i])
                            i += 1
                else:
                    # DuckDB reads expected lines up to the next empty line, comments included.
                    if marker:
                        i += 1
                    while i < n and lines[i]:
                        after.append(lines[i])
                        i += 1
                out.append(self.build(line_no, tokens, conditions, sql, marker, after))
            else:
                if head in _SINGLE_LINE and i < n and not self._empty_or_comment(lines[i]):
                    raise self.fail(line_no, f"'{head}' must be followed by an empty line or"
                                             " a comment")
                out.append(self.build(line_no, tokens, conditions, [], False, []))
            # skip whatever is left of the record, as DuckDB does
            while i < n and not self._empty_or_comment(lines[i]):
                i += 1


# --------------------------------------------------------------------------- loops

def _loop_values(cmd: Command, path: str) -> tuple[str, tuple[str, ...]]:
    where = f"{path}:{cmd.line}"
    if cmd.name in ("loop", "concurrentloop"):
        if len(cmd.args) != 3:
            raise ParseError(f"{where}: expected 'loop <name> <start> <end>'", line=cmd.line)
        try:
            start, end = int(cmd.args[1]), int(cmd.args[2])
        except ValueError:
            raise ParseError(f"{where}: loop bounds must be integers", line=cmd.line) from None
        return cmd.args[0], tuple(str(v) for v in range(start, end))
    if len(cmd.args) < 2:
        raise ParseError(f"{where}: expected 'foreach <name> <value>...'", line=cmd.line)
    values: list[str] = []
    for token in cmd.args[1:]:
        values.extend(_LOOP_MACROS.get(token.strip().lower(), [token]))
    return cmd.args[0], tuple(values)


def _nest_loops(records: list[Record], path: str) -> list[Record]:
    """Fold ``loop``/``foreach`` ... ``endloop`` command runs into Loop records."""
    stack: list[tuple[Command, list[Record]]] = []
    top: list[Record] = []
    for rec in records:
        current = stack[-1][1] if stack else top
        if isinstance(rec, Command) and rec.name in ("loop", "foreach", "concurrentloop",
                                                     "concurrentforeach"):
            stack.append((rec, []))
        elif isinstance(rec, Command) and rec.name == "endloop":
            if not stack:
                raise ParseError(f"{path}:{rec.line}: endloop without a loop", line=rec.line)
            cmd, body = stack.pop()
            var, values = _loop_values(cmd, path)
            parent = stack[-1][1] if stack else top
            parent.append(Loop(cmd.line, var, values, tuple(body),
                               cmd.name.startswith("concurrent"), cmd.conditions))
        else:
            current.append(rec)
    if stack:
        line = stack[-1][0].line
        raise ParseError(f"{path}:{line}: loop without endloop", line=line)
    return top
