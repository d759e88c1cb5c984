"""The shell's dot-commands (``.tables``, ``.mode``, ``.import``...): usage, help and handlers.

Each command is one entry of ``COMMANDS``; ``.help``, completion, the docs test and the
argument checks all read that table, so a command cannot exist without its help text.
Imports the shell's helpers; handlers work through the shell's target and output.
"""

from __future__ import annotations

import difflib
import re
import shlex
import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import pyarrow as pa

from sochdb.cli import transfer
from sochdb.cli.render import MODES
from sochdb.errors import BindError, ProgrammingError

if TYPE_CHECKING:
    from sochdb.cli.shell import Shell


class ExitShell(Exception):
    """``.quit`` / ``.exit``: leave the shell with ``code``."""

    def __init__(self, code: int = 0) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class DotCommand:
    """One dot-command. ``args`` names what each argument is, for completion: ``table``,
    ``file``, ``mode``, ``onoff``, ``kvop``, ``command`` or ``text``."""

    name: str
    usage: str
    help: str
    handler: Callable[["Shell", list[str]], None]
    min_args: int = 0
    max_args: int = 0
    args: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()


def _split(line: str) -> list[str]:
    try:
        return shlex.split(line, posix=True)
    except ValueError as e:
        raise ProgrammingError(f"cannot read the arguments of {line.split()[0]}: {e}") from None


def _options(args: list[str], allowed: tuple[str, ...]) -> tuple[list[str], dict[str, str]]:
    """Split ``--name VALUE`` options from positional arguments."""
    pos, opts = [], {}
    i = 0
    while i < len(args):
        a = args[i]
        if a.startswith("--") and len(a) > 2:
            name = a[2:]
            if "=" in name:
                name, value = name.split("=", 1)
            elif i + 1 < len(args):
                value = args[i + 1]
                i += 1
            else:
                raise ProgrammingError(f"option {a} needs a value")
            if name not in allowed:
                raise ProgrammingError(f"unknown option --{name}; expected "
                                       f"{', '.join('--' + o for o in allowed)}")
            opts[name] = value
        else:
            pos.append(a)
        i += 1
    return pos, opts


def _on_off(value: str, what: str) -> bool:
    v = value.lower()
    if v in ("on", "yes", "true", "1"):
        return True
    if v in ("off", "no", "false", "0"):
        return False
    raise ProgrammingError(f"{what} takes on or off, not {value!r}")


def _like(pattern: str) -> re.Pattern:
    """A SQL LIKE pattern (``%`` any run, ``_`` one character) as a case-insensitive regex."""
    out = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return re.compile(out + r"\Z", re.I | re.S)


# -- handlers ------------------------------------------------------------------------------

def cmd_help(shell: "Shell", args: list[str]) -> None:
    if args:
        cmd = find(args[0].lstrip("."))
        shell.write(f"{cmd.usage}\n    {cmd.help}\n")
        return
    width = max(len(c.usage) for c in COMMANDS)
    lines = [f"{c.usage:<{width}}  {c.help}" for c in COMMANDS]
    lines.append("")
    lines.append("SQL statements end with ';' and may span lines. Tab completes keywords, "
                 "tables,")
    lines.append("columns and dot-commands; Up/Down recall history; Ctrl-C cancels; Ctrl-D "
                 "quits.")
    shell.write("\n".join(lines) + "\n")


def cmd_quit(shell: "Shell", args: list[str]) -> None:
    code = 0
    if args:
        try:
            code = int(args[0])
        except ValueError:
            raise ProgrammingError(f".exit takes a number, not {args[0]!r}") from None
    raise ExitShell(code)


def cmd_tables(shell: "Shell", args: list[str]) -> None:
    names = sorted(shell.target.table_names() + shell.target.view_names(), key=str.lower)
    if args:
        rx = _like(args[0])
        names = [n for n in names if rx.match(n)]
    if not names:
        return
    if shell.out_is_tty:
        shell.write(_in_columns(names, shutil.get_terminal_size().columns) + "\n")
    else:
        shell.write("\n".join(names) + "\n")


def _in_columns(names: list[str], width: int) -> str:
    """Names in as many columns as fit, filled top to bottom (as ``ls`` and sqlite3 do)."""
    cell = max(len(n) for n in names) + 2
    ncols = max(1, width // cell)
    nrows = -(-len(names) // ncols)
    rows = []
    for r in range(nrows):
        row = [names[c * nrows + r] for c in range(ncols) if c * nrows + r < len(names)]
        rows.append("".join(n.ljust(cell) for n in row).rstrip())
    return "\n".join(rows)


def cmd_schema(shell: "Shell", args: list[str]) -> None:
    target = shell.target
    if args:
        name = args[0]
        if target.columns(name) is None:
            known = target.table_names() + target.view_names()
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise BindError(f"unknown table {name!r}{hint}", table=name)
        stmts = target.schema(name)
    else:
        stmts = target.schema()
    if stmts:
        shell.write("\n".join(stmts) + "\n")


def cmd_mode(shell: "Shell", args: list[str]) -> None:
    if not args:
        shell.write(f"current output mode: {shell.mode}\n")
        return
    mode = args[0].lower()
    if mode not in MODES:
        raise ProgrammingError(f"unknown mode {args[0]!r}: expected one of {', '.join(MODES)}")
    shell.mode = mode


def cmd_timer(shell: "Shell", args: list[str]) -> None:
    if not args:
        shell.write(f"timer is {'on' if shell.timer else 'off'}\n")
        return
    shell.timer = _on_off(args[0], ".timer")


def cmd_maxrows(shell: "Shell", args: list[str]) -> None:
    if not args:
        shell.write(f"maxrows is {shell.max_rows}\n")
        return
    try:
        n = int(args[0])
    except ValueError:
        raise ProgrammingError(f".maxrows takes a number, not {args[0]!r}") from None
    if n < 0:
        raise ProgrammingError(".maxrows takes a number >= 0 (0 shows every row)")
    shell.max_rows = n


def cmd_read(shell: "Shell", args: list[str]) -> None:
    shell.run_file(args[0])


def cmd_import(shell: "Shell", args: list[str]) -> None:
    pos, opts = _options(args, ("format",))
    if len(pos) != 2:
        raise ProgrammingError("usage: " + find("import").usage)
    path, table = pos
    progress = transfer.ProgressBar(f"Importing {path}", stream=shell.err) \
        if shell.err_is_tty else None
    stats = transfer.import_file(shell.target, path, table, opts.get("format"), progress)
    shell.status(str(stats))


def cmd_export(shell: "Shell", args: list[str]) -> None:
    pos, opts = _options(args, ("format",))
    if len(pos) != 2:
        raise ProgrammingError("usage: " + find("export").usage)
    what, path = pos
    fmt = transfer.detect_format(path, opts.get("format"), transfer.EXPORT_FORMATS)
    result = shell.target.execute(transfer.export_query(what))
    n = transfer.export_result(result, path, fmt)
    shell.status(f"Exported {n:,} rows to {path}")


def _text(b: bytes) -> str:
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return "\\x" + b.hex()


def cmd_kv(shell: "Shell", args: list[str]) -> None:
    op = args[0].lower()
    rest = args[1:]
    need = {"get": (1, 1), "put": (2, 2), "delete": (1, 1), "scan": (0, 2)}
    if op not in need:
        raise ProgrammingError(f".kv {op}: expected get, put, delete or scan")
    lo, hi = need[op]
    if not lo <= len(rest) <= hi:
        raise ProgrammingError("usage: " + find("kv").usage)
    target = shell.target
    if op == "get":
        value = target.kv_get(rest[0].encode("utf-8"))
        if value is None:
            shell.note(f"no value for key {rest[0]!r}")
        else:
            shell.write(_text(value) + "\n")
    elif op == "put":
        target.kv_put(rest[0].encode("utf-8"), rest[1].encode("utf-8"))
        shell.status("OK")
    elif op == "delete":
        target.kv_delete(rest[0].encode("utf-8"))
        shell.status("OK")
    else:
        prefix = rest[0].encode("utf-8") if rest else b""
        try:
            limit = int(rest[1]) if len(rest) > 1 else 1000
        except ValueError:
            raise ProgrammingError(f".kv scan: LIMIT must be a number, not {rest[1]!r}") \
                from None
        pairs, more = target.kv_scan(prefix, limit)
        keys = [k for k, _ in pairs]
        values = [v for _, v in pairs]
        table = pa.table({"key": _kv_array(keys), "value": _kv_array(values)})
        shell.show_table(["key", "value"], [_kv_type(table, 0), _kv_type(table, 1)], table)
        if more:
            shell.note(f"more keys follow; showing the first {limit} "
                       f"(.kv scan PREFIX LIMIT shows more)")


def _kv_array(items: list[bytes]) -> pa.Array:
    try:
        return pa.array([b.decode("utf-8") for b in items], pa.string())
    except UnicodeDecodeError:
        return pa.array(items, pa.binary())


def _kv_type(table: pa.Table, i: int) -> str:
    return "VARCHAR" if pa.types.is_string(table.schema.field(i).type) else "BLOB"


def cmd_stats(shell: "Shell", args: list[str]) -> None:
    stats = shell.target.stats()
    table = pa.table({"stat": pa.array(list(stats), pa.string()),
                      "value": pa.array([_stat_text(v) for v in stats.values()], pa.string())})
    shell.show_table(["stat", "value"], ["VARCHAR", "VARCHAR"], table)


def _stat_text(v: object) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def cmd_checkpoint(shell: "Shell", args: list[str]) -> None:
    lsn = shell.target.checkpoint()
    shell.status(f"Checkpoint done (LSN {lsn})")


COMMANDS: tuple[DotCommand, ...] = (
    DotCommand("help", ".help [COMMAND]", "Show the dot-commands, or one command's help",
               cmd_help, 0, 1, ("command",)),
    DotCommand("tables", ".tables [PATTERN]",
               "List tables and views (PATTERN is a LIKE pattern, e.g. user%)",
               cmd_tables, 0, 1, ("text",)),
    DotCommand("schema", ".schema [TABLE]",
               "Show the CREATE statements of every table and view, or of one",
               cmd_schema, 0, 1, ("table",)),
    DotCommand("mode", ".mode [MODE]",
               "Set the output mode: " + "|".join(MODES) + " (no MODE: show it)",
               cmd_mode, 0, 1, ("mode",)),
    DotCommand("timer", ".timer on|off", "Print how long each SQL statement took",
               cmd_timer, 0, 1, ("onoff",)),
    DotCommand("maxrows", ".maxrows [N]",
               "Rows the table mode shows before eliding the middle (0: all; default 40)",
               cmd_maxrows, 0, 1, ("text",)),
    DotCommand("read", ".read FILE", "Run the SQL statements and dot-commands of FILE",
               cmd_read, 1, 1, ("file",)),
    DotCommand("import", ".import FILE TABLE [--format F]",
               "Load a CSV/TSV/Parquet/JSONL/JSON/Arrow file into TABLE (created when "
               "missing) in one transaction", cmd_import, 2, 4, ("file", "table")),
    DotCommand("export", ".export TABLE|QUERY FILE [--format F]",
               "Write a table, view or quoted SELECT to FILE, in the format its extension "
               "names", cmd_export, 2, 4, ("table", "file")),
    DotCommand("kv", ".kv get KEY | put KEY VALUE | delete KEY | scan [PREFIX] [LIMIT]",
               "Read and write the key-value store (keys and values as UTF-8 text)",
               cmd_kv, 1, 3, ("kvop", "text", "text")),
    DotCommand("stats", ".stats", "Show database statistics", cmd_stats),
    DotCommand("checkpoint", ".checkpoint",
               "Write everything to segment files and trim the write-ahead log",
               cmd_checkpoint),
    DotCommand("quit", ".quit", "Leave the shell (Ctrl-D does the same)", cmd_quit,
               aliases=("q",)),
    DotCommand("exit", ".exit [CODE]", "Leave the shell with exit status CODE (default 0)",
               cmd_quit, 0, 1, ("text",)),
)

_BY_NAME = {c.name: c for c in COMMANDS} | {a: c for c in COMMANDS for a in c.aliases}


def names() -> list[str]:
    return [c.name for c in COMMANDS]


def find(name: str) -> DotCommand:
    cmd = _BY_NAME.get(name.lower())
    if cmd is None:
        close = difflib.get_close_matches(name.lower(), list(_BY_NAME), n=1)
        hint = f"; did you mean .{close[0]}?" if close else ""
        raise ProgrammingError(f"unknown command .{name}{hint} (.help lists the commands)")
    return cmd


def run(shell: "Shell", line: str) -> None:
    """Run one dot-command line (``.mode csv``)."""
    words = _split(line.strip()[1:])
    if not words:
        raise ProgrammingError("a lone '.' is not a command (.help lists the commands)")
    cmd = find(words[0])
    args = words[1:]
    if not cmd.min_args <= len(args) <= cmd.max_args:
        raise ProgrammingError(f"usage: {cmd.usage}")
    cmd.handler(shell, args)
