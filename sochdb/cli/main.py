"""The ``sochdb`` command: the SQL shell (interactive, ``-c`` or a script on stdin) and
``sochdb demo``.

Arguments are read here and handed to ``shell.Shell`` or ``demo.run_demo``. Failures end as
one ``sochdb: error: ...`` line (or the shell's error display) and a non-zero exit status:
the error's numeric code, 2 for bad arguments, 130 after Ctrl-C. Imports the cli modules.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from typing import Sequence

from sochdb.cli.render import MODES

PROG = "sochdb"
DEFAULT_PATH = "./sochdb_data"

#: Subcommands: name -> one-line help (each also has its own ``--help``).
SUBCOMMANDS = {
    "demo": "a narrated tour of KV, SQL, transactions, vectors and TOON on a fresh database",
}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        usage="%(prog)s [DB_PATH] [-c SQL] [--mode MODE] [options]\n"
              "       %(prog)s --connect SOCKET [options]\n"
              "       %(prog)s demo [DIR]",
        description=textwrap.fill(
            "The sochdb SQL shell. With a terminal on stdin it is interactive (multi-line "
            "statements ended by ';', history, tab completion, dot-commands: type .help); "
            "otherwise it runs the SQL given with -c or piped on stdin and exits non-zero at "
            "the first error.", 79),
        epilog="subcommands:\n" + "\n".join(
            textwrap.fill(f"{n:<10}{h} ({PROG} {n} --help)", 79, initial_indent="  ",
                          subsequent_indent=" " * 12) for n, h in SUBCOMMANDS.items())
               + "\n\nexamples:\n"
                 f"  {PROG}                         open ./sochdb_data interactively\n"
                 f"  {PROG} :memory:                a throwaway in-memory database\n"
                 f"  {PROG} mydb -c 'SELECT 1'      run SQL and exit\n"
                 f"  {PROG} mydb --mode csv < q.sql run a script, print CSV\n"
                 f"  {PROG} demo                    the tour",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("db_path", nargs="?", metavar="DB_PATH",
                   help=f"database directory (default {DEFAULT_PATH}; ':memory:' for a "
                        f"throwaway one); created when missing")
    p.add_argument("-c", "--command", action="append", metavar="SQL", dest="commands",
                   help="run SQL statements and dot-commands, then exit (may be repeated)")
    p.add_argument("--mode", choices=MODES, default="table",
                   help="output mode for query results (default table)")
    p.add_argument("--connect", metavar="SOCKET",
                   help="use a running sochdb-server (its socket, or its database directory)"
                        " instead of opening DB_PATH")
    p.add_argument("--keep-going", action="store_true",
                   help="in scripts, run on after an error (the exit status still reports "
                        "it)")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="in scripts, also print each statement's status ('2 rows inserted')")
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    return p


def build_demo_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=f"{PROG} demo",
        description="A narrated tour of sochdb on a fresh database: key-value and path "
                    "keys, SQL (create, insert, join, group by), transactions and conflicts, "
                    "vector search and TOON output. Takes a few seconds.")
    p.add_argument("dir", nargs="?", metavar="DIR",
                   help="where to create the demo database (default: a temporary directory, "
                        "removed afterwards); an existing demo_db inside it is replaced")
    return p


def _version() -> str:
    try:
        from sochdb import __version__
        return __version__
    except ImportError:  # pragma: no cover - the package is always importable here
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``sochdb``; return the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    for stream in (sys.stdout, sys.stderr):
        # a terminal or pipe that cannot show a character gets an escape, not a crash
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    try:
        if args and args[0] == "demo":
            return _demo(build_demo_parser().parse_args(args[1:]))
        return _shell(build_parser().parse_args(args))
    except BrokenPipeError:
        # the reader went away (``| head``): stop quietly, as Unix tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def _demo(ns: argparse.Namespace) -> int:
    from sochdb.cli.demo import run_demo
    return _guarded(lambda: run_demo(ns.dir))


def _shell(ns: argparse.Namespace) -> int:
    from sochdb.cli.shell import Shell
    if ns.connect and ns.db_path:
        print(f"{PROG}: error: give DB_PATH or --connect, not both", file=sys.stderr)
        return 2
    target = _open_target(ns)
    if isinstance(target, int):
        return target
    try:
        interactive = not ns.commands and sys.stdin.isatty()
        shell = Shell(target, mode=ns.mode, interactive=interactive, verbose=ns.verbose,
                      bail=not ns.keep_going)
        if ns.commands:
            code = 0
            for text in ns.commands:
                code = shell.run_lines(text.split("\n")) or code
                if code and shell.bail:
                    break
            return code
        if interactive:
            where = f"server {target.label}" if target.remote else target.label
            banner = (f"sochdb {_version()} · {where}\n"
                      f"Enter SQL ending with ';', or .help for the dot-commands.")
            return shell.run_interactive(banner)
        return shell.run_lines(sys.stdin, "<stdin>")
    except _exit_types() as e:
        return e.code
    except KeyboardInterrupt:
        print("Interrupted", file=sys.stderr)
        return 130
    finally:
        try:
            target.close()
        except Exception as e:  # noqa: BLE001 - report, but the run's status stands
            _fail(f"closing the database: {e}")


def _exit_types():
    from sochdb.cli.dot_commands import ExitShell
    from sochdb.cli.shell import ScriptFailed
    return (ExitShell, ScriptFailed)


def _open_target(ns: argparse.Namespace):
    from sochdb.cli.shell import exit_code
    from sochdb.cli.target import LocalTarget, RemoteTarget
    try:
        if ns.connect:
            return RemoteTarget.connect(ns.connect)
        return LocalTarget.open(ns.db_path or DEFAULT_PATH)
    except ImportError as e:
        _fail(f"--connect needs the IPC client ({e})")
        return 9
    except Exception as e:  # noqa: BLE001 - one line, never a traceback
        from sochdb.cli.diagnostics import error_message
        _fail(error_message(e))
        return exit_code(e)


def _guarded(work) -> int:
    from sochdb.cli.diagnostics import error_message
    from sochdb.cli.shell import exit_code
    try:
        return work()
    except KeyboardInterrupt:
        print("Interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        raise
    except Exception as e:  # noqa: BLE001 - one line, never a traceback
        _fail(error_message(e))
        return exit_code(e)


def _fail(message: str) -> None:
    print(f"{PROG}: error: {' '.join(message.split())}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
