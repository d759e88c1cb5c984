"""The interactive SQL shell and the script runner behind ``sochdb [DB_PATH]``.

Input is read line by line: a line starting with ``.`` between statements is a dot-command,
anything else goes to the statement splitter and each completed statement runs in the
shell's own SQL session. Errors print as one line plus the statement line with the fault
marked; scripts stop at the first error (``--keep-going`` runs on) with the error's code as
exit status. Imports the cli modules; readline only when interactive.
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
import threading
import time
from typing import Any, Callable, Iterable, TextIO

from sochdb.cli import dot_commands
from sochdb.cli.diagnostics import format_error
from sochdb.cli.dot_commands import ExitShell
from sochdb.cli.render import MAX_ROWS, write_result
from sochdb.cli.statements import Statement, StatementSplitter
from sochdb.errors import Error, InternalError, OperationalError, ParseError

PROMPT = "sochdb> "
TXN_PROMPT = "sochdb*> "     # an explicit transaction is open
CONTINUATION = "   ...> "
HISTORY_FILE = "~/.sochdb_history"
HISTORY_LENGTH = 2000
MAX_READ_DEPTH = 16           # .read files that .read files...
INTERRUPTED = 130             # exit status after Ctrl-C, as shells use


class ScriptFailed(Exception):
    """A ``.read`` file stopped at an error that was already shown."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def exit_code(exc: BaseException) -> int:
    """The exit status for an error: the error's numeric code (see docs/shell.md)."""
    if isinstance(exc, ScriptFailed):
        return exc.code
    if isinstance(exc, Error):
        return exc.numeric or 1
    if isinstance(exc, OSError):
        return OperationalError.numeric
    if isinstance(exc, KeyboardInterrupt):
        return INTERRUPTED
    return InternalError.numeric


class Shell:
    """One shell over one target (embedded database or server).

    ``interactive`` selects prompts, readline, the banner and status lines ("2 rows
    inserted"); scripts print only query results unless ``verbose``.
    """

    def __init__(self, target: Any, out: TextIO | None = None, err: TextIO | None = None,
                 mode: str = "table", interactive: bool = False, verbose: bool = False,
                 bail: bool = True) -> None:
        self.target = target
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.mode = mode
        self.interactive = interactive
        self.verbose = verbose
        self.bail = bail
        self.timer = False
        self.max_rows = MAX_ROWS
        self.splitter = StatementSplitter()
        self._chunk: list[str] = []
        self._depth = 0
        self._history: str | None = None
        self.out_is_tty = _isatty(self.out)
        self.err_is_tty = _isatty(self.err)
        self._ascii = not _can_encode(self.out, "┌─│…·")

    # -- output ------------------------------------------------------------------------------

    def write(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()

    def status(self, text: str) -> None:
        """A statement's status ("Table 'users' created"): shown interactively or verbose."""
        if self.interactive or self.verbose:
            self.write(text + "\n")

    def note(self, text: str) -> None:
        """A notice that is not a result (on stderr, so piped output stays clean)."""
        self.err.write(text + "\n")
        self.err.flush()

    def show_table(self, columns: list[str], types: list[str], table: Any,
                   toon: str | None = None) -> None:
        width = shutil.get_terminal_size().columns if self.out_is_tty else None
        write_result(self.out, self.mode, columns, types, table, toon=toon,
                     max_rows=self.max_rows, max_width=width, ascii_only=self._ascii)
        self.out.flush()

    def show_result(self, result: Any) -> None:
        if result.columns:
            toon = result.toon() if self.mode == "toon" else None
            self.show_table(result.columns, result.types, result.arrow(), toon)
        elif result.message is not None:
            self.status(str(result.message))

    def show_error(self, exc: BaseException, sql: str | None = None, where: str = "") -> None:
        if isinstance(exc, ScriptFailed):
            return
        if isinstance(exc, KeyboardInterrupt):
            self.note(f"{where}Interrupted")
            return
        self.note("\n".join(format_error(exc, sql, where)))

    # -- running -----------------------------------------------------------------------------

    def run_statement(self, stmt: Statement) -> None:
        start = time.perf_counter()
        result = self.target.execute(stmt.text)
        elapsed = time.perf_counter() - start
        self.show_result(result)
        if self.timer:
            self.write(f"Run time: {elapsed:.3f} s\n")

    def _attempt(self, work: Callable[[], None], sql: str | None,
                 where: str | Callable[[BaseException], str] = "") -> int:
        """Run ``work``; show any error and return its exit status (0: it went well).
        ``where`` prefixes the message (``script.sql:3: ``), or computes it from the error."""
        try:
            work()
            return 0
        except (ExitShell, SystemExit, BrokenPipeError):
            raise
        except BaseException as exc:  # noqa: BLE001 - the shell shows errors, never tracebacks
            self.show_error(exc, sql, where(exc) if callable(where) else where)
            return exit_code(exc)

    def run_lines(self, lines: Iterable[str], source: str | None = None) -> int:
        """Run a script's lines; return 0, or the exit status of the first error (of the
        last one with ``bail`` off). ``source`` names the script in error messages."""
        splitter = StatementSplitter()
        status = 0

        def where(line: int) -> str:
            return f"{source}:{line}: " if source else ""

        def run_sql(st: Statement) -> int:
            return self._attempt(functools.partial(self.run_statement, st), st.text,
                                 lambda exc: where(script_line_of(st, exc)))

        lineno = 0
        for lineno, raw in enumerate(lines, 1):
            line = raw.rstrip("\r\n")
            if not splitter.pending and line.lstrip().startswith("."):
                splitter.feed("")
                code = self._attempt(functools.partial(dot_commands.run, self, line), None,
                                     where(lineno))
            else:
                code = 0
                for st in splitter.feed(line):
                    code = run_sql(st) or code
                    if code and self.bail:
                        break
            if code:
                status = code
                if self.bail:
                    return status
        last = splitter.flush()
        if last is not None:
            status = run_sql(last) or status
        return status

    def run_file(self, path: str) -> None:
        """``.read FILE``: run a file's statements and dot-commands here."""
        if self._depth >= MAX_READ_DEPTH:
            raise OperationalError(f".read {path}: files nest more than {MAX_READ_DEPTH} deep")
        self._depth += 1
        try:
            with open(path, encoding="utf-8") as f:
                code = self.run_lines(f, path)
        finally:
            self._depth -= 1
        if code:
            raise ScriptFailed(code)

    # -- interactive -------------------------------------------------------------------------

    def prompt(self) -> str:
        if self.splitter.pending:
            return CONTINUATION
        return TXN_PROMPT if self.target.in_transaction else PROMPT

    def feed_line(self, line: str) -> None:
        """One line typed at the prompt."""
        if not self.splitter.pending and line.lstrip().startswith("."):
            self._add_history(line.strip())
            self._attempt(lambda: dot_commands.run(self, line), None, "")
            return
        if line.strip() or self.splitter.pending:
            self._chunk.append(line)
        stmts = self.splitter.feed(line)
        if not self.splitter.pending and self._chunk:
            self._add_history(" ".join(p.strip() for p in self._chunk if p.strip()))
            self._chunk = []
        for st in stmts:
            self._attempt(functools.partial(self.run_statement, st), st.text, "")

    def cancel_input(self) -> None:
        """Ctrl-C at a prompt: drop the statement being typed."""
        self.splitter.reset()
        self._chunk = []

    def run_interactive(self, banner: str | None = None) -> int:
        """Prompt, read, run until ``.quit`` or end of input; return the exit status."""
        self._setup_readline()
        warm = threading.Thread(target=self.target.warm_up, name="sochdb-warm-up", daemon=True)
        warm.start()
        if banner:
            self.write(banner + "\n")
        try:
            return self._loop()
        finally:
            warm.join(10)  # do not close the database under it

    def _loop(self) -> int:
        try:
            while True:
                try:
                    line = input(self.prompt())
                except EOFError:
                    self.write("\n")
                    break
                except KeyboardInterrupt:
                    self.write("^C\n")
                    self.cancel_input()
                    continue
                self.feed_line(line)
            last = self.splitter.flush()
            if last is not None:
                self._attempt(lambda: self.run_statement(last), last.text, "")
            return 0
        except ExitShell as e:
            return e.code

    def _setup_readline(self) -> None:
        try:
            import readline
        except ImportError:  # no line editing on this platform: plain input() still works
            return
        from sochdb.cli.complete import Completer
        completer = Completer(self.target, lambda: "\n".join(self._chunk))
        readline.set_completer(completer.complete)
        readline.set_completer_delims(Completer.DELIMS)
        if "libedit" in (readline.__doc__ or ""):
            readline.parse_and_bind("bind ^I rl_complete")
        else:
            readline.parse_and_bind("tab: complete")
        readline.set_auto_history(False)
        readline.set_history_length(HISTORY_LENGTH)
        path = os.environ.get("SOCHDB_HISTORY", HISTORY_FILE)
        if not path:
            return
        path = os.path.expanduser(path)
        try:
            if os.path.exists(path):
                readline.read_history_file(path)
            else:
                open(path, "a").close()
            self._history = path
        except OSError as e:
            self.note(f"history is not saved: {path}: {e.strerror or e}")

    def _add_history(self, entry: str) -> None:
        if not entry or not self.interactive:
            return
        try:
            import readline
        except ImportError:
            return
        n = readline.get_current_history_length()
        if n and readline.get_history_item(n) == entry:
            return  # do not repeat the previous entry
        readline.add_history(entry)
        if self._history:
            try:
                readline.append_history_file(1, self._history)
            except OSError:
                self._history = None


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _can_encode(stream: TextIO, text: str) -> bool:
    enc = getattr(stream, "encoding", None) or "utf-8"
    try:
        text.encode(enc)
        return True
    except (UnicodeEncodeError, LookupError):
        return False


def script_line_of(st: Statement, exc: BaseException) -> int:
    """The script line an error of ``st`` points at: the statement's first line, moved to
    the parse error's line when there is one."""
    if isinstance(exc, ParseError) and exc.line:
        return st.line + exc.line - 1
    return st.line
