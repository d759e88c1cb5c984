"""Execute one parsed sqllogictest script on an engine adapter and judge every record.

Test-tooling layer: imports the parser, formatter, adapters and result classes next to it.
SQLite-dialect queries are formatted by type letter and compared exactly; DuckDB-dialect
queries are rendered by column kind and compared with DuckDB's tolerances.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from typing import Any

from sochdb.errors import ParseError
from sochdb.testing.sqllogic_adapters import Engine, Output
from sochdb.testing.sqllogic_format import (
    duckdb_equal, duckdb_value, error_matches, lines_hash, result_hash, sort_values,
    sqlite_value,
)
from sochdb.testing.sqllogic_parse import (
    Command, Loop, Query, Record, Script, Statement, is_hash_line, substitute,
)
from sochdb.testing.sqllogic_results import FileResult, RecordResult, shorten

__all__ = ["FileRunner"]

#: ``require`` arguments every engine satisfies (DuckDB build properties of a normal build).
_ALWAYS_PRESENT = {"notwindows", "64bit", "skip_reload", "noforcestorage", "nothreadsan",
                   "strinline", "notmingw", "noalternativeverify", "no_alternative_verify",
                   "no_vector_verification", "no_extension_autoloading"}
_MAX_SHOWN = 8


# --------------------------------------------------------------------------- timeouts

class _Watchdog:
    """A polling thread that interrupts a connection whose statement runs past the limit.

    ``arm``/``disarm`` only set attributes (no locks or wake-ups), so watching costs next to
    nothing per statement; the deadline is honoured to within one polling tick.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._tick = min(max(seconds / 10, 0.005), 0.1)
        self._token = 0
        self._target: Any = None
        self._started: float | None = None
        self._fired = -1
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="slt-watchdog", daemon=True)
        self._thread.start()

    def arm(self, conn: Any) -> None:
        self._token += 1
        self._target = conn
        self._started = time.monotonic()

    def disarm(self) -> bool:
        """Stop watching; True if this statement was interrupted."""
        self._started = None
        return self._fired == self._token

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(self._tick):
            started, token, target = self._started, self._token, self._target
            if started is None or time.monotonic() - started <= self.seconds:
                continue
            if self._fired == token or self._started is not started:
                continue  # already interrupted, or a new statement began meanwhile
            try:
                target.interrupt()
                self._fired = token
            except Exception:  # noqa: BLE001 - an engine that cannot interrupt just runs on
                pass


# --------------------------------------------------------------------------- running

class FileRunner:
    """Runs one parsed script on fresh connections of one adapter."""

    def __init__(self, script: Script, adapter: Engine, names: Sequence[str],
                 timeout: float | None) -> None:
        self.script = script
        self.adapter = adapter
        self.sqlite = script.dialect == "sqlite"
        self.names = {n.lower() for n in names}
        self.timeout = timeout
        self.hash_threshold = 8 if self.sqlite else 0
        self.labels: dict[str, str] = {}
        self.skip_level = 0
        self.stop_reason: str | None = None
        self.ignore_messages: list[str] = []
        self.env: dict[str, str] = {}
        self.error_types = tuple(getattr(adapter, "error_types", (Exception,)))
        self.internal_types = tuple(getattr(adapter, "internal_error_types", ()))
        self.result = FileResult(script.path, script.dialect)
        self.conns: dict[str | None, Any] = {}
        self.watchdog: _Watchdog | None = None

    # ---- driver
    def run(self) -> FileResult:
        start = time.perf_counter()
        try:
            self.conns[None] = self.adapter.connect()
            set_dialect = getattr(self.conns[None], "set_dialect", None)
            if set_dialect is not None:
                set_dialect(self.script.dialect)
        except Exception as exc:  # noqa: BLE001 - reported as the file's error
            self.result.error = f"cannot connect: {type(exc).__name__}: {exc}"
            self.stop_reason = "no connection"
        if self.timeout and hasattr(self.conns.get(None), "interrupt"):
            self.watchdog = _Watchdog(self.timeout)
        try:
            self._run_records(self.script.records, {})
        finally:
            if self.watchdog is not None:
                self.watchdog.stop()
            for conn in reversed(list(self.conns.values())):
                try:
                    conn.close()
                except Exception as exc:  # noqa: BLE001 - noted, the results stand
                    self.result.notes.append(f"close failed: {type(exc).__name__}: {exc}")
        self.result.seconds = time.perf_counter() - start
        return self.result

    def _run_records(self, records: Sequence[Record], loop_vars: dict[str, str]) -> None:
        for rec in records:
            if isinstance(rec, (Statement, Query)):
                self.result.records.append(self._run_exec(rec, loop_vars))
            elif isinstance(rec, Loop):
                self._run_loop(rec, loop_vars)
            elif self.stop_reason is None:
                self._command(rec)

    def _run_loop(self, loop: Loop, loop_vars: dict[str, str]) -> None:
        names = loop.var.split(",")
        for value in loop.values:
            values = value.split(",") if len(names) > 1 else [value]
            if len(values) != len(names):
                raise ParseError(f"{self.script.path}:{loop.line}: foreach value {value!r} does"
                                 f" not match the variables {loop.var!r}", line=loop.line)
            inner = dict(loop_vars)
            inner.update(zip(names, values))
            self._run_records(loop.body, inner)

    def _skip_condition(self, rec: Record) -> str | None:
        for kind, name in rec.conditions:
            match = name.lower() in self.names
            if (kind == "skipif") == match:
                return f"{kind} {name}"
        return None

    # ---- commands
    def _command(self, cmd: Command) -> None:
        name, args = cmd.name, cmd.args
        if self._skip_condition(cmd):
            return
        if name == "mode":
            if args and args[0] == "skip":
                self.skip_level += 1
            elif args and args[0] == "unskip":
                self.skip_level = max(0, self.skip_level - 1)
            return
        if self.skip_level:
            return
        if name == "hash-threshold":
            try:
                self.hash_threshold = int(args[0])
            except (IndexError, ValueError):
                self._stop(cmd, "hash-threshold needs an integer")
        elif name == "halt":
            self._stop(cmd, "after halt")
        elif name == "require":
            if not args or not self._has(args):
                self._stop(cmd, "require " + " ".join(args), note=True)
        elif name == "require-env":
            value = os.environ.get(args[0]) if args else None
            if value is None or (len(args) > 1 and value != args[1]):
                self._stop(cmd, "require-env " + " ".join(args), note=True)
            else:
                self.env[args[0]] = value
        elif name == "set":
            if args and args[0] in ("ignore_error_messages", "always_fail_error_messages"):
                items = [s.strip() for s in " ".join(args[1:]).split(",") if s.strip()]
                if args[0] == "ignore_error_messages":
                    self.ignore_messages = items
            elif not args or args[0] not in ("seed",):
                self._stop(cmd, "unsupported 'set " + " ".join(args) + "'", note=True)
        elif name in ("restart", "reconnect"):
            self._restart(cmd)
        elif name == "reset" and len(args) >= 2 and args[0] == "label":
            self.labels.pop(args[1], None)
        elif name in ("sleep", "tags", "test-env", "continue"):
            return  # timing aids and metadata have no effect on results
        else:
            self._stop(cmd, f"unsupported command '{name}'", note=True)

    def _has(self, args: tuple[str, ...]) -> bool:
        feature = args[0].lower()
        if feature in _ALWAYS_PRESENT:
            return True
        if feature == "vector_size" and len(args) > 1 and args[1].isdigit():
            return int(args[1]) <= 2048
        supports = getattr(self.adapter, "supports", None)
        return bool(supports and supports(feature))

    def _stop(self, cmd: Command, reason: str, note: bool = False) -> None:
        self.stop_reason = f"{reason} (line {cmd.line})"
        if note:
            self.result.notes.append(self.stop_reason)

    def _restart(self, cmd: Command) -> None:
        conn = self.conns.get(None)
        method = getattr(conn, cmd.name, None) or getattr(conn, "restart", None)
        if method is None:
            self._stop(cmd, f"{cmd.name} is not supported by engine {self.adapter.name}",
                       note=True)
            return
        for key in [k for k in self.conns if k is not None]:
            self.conns.pop(key).close()
        try:
            self.conns[None] = method()
        except Exception as exc:  # noqa: BLE001 - reported on the file
            self._stop(cmd, f"{cmd.name} failed: {type(exc).__name__}: {exc}", note=True)

    # ---- statements and queries
    def _connection(self, name: str | None) -> Any:
        if name not in self.conns:
            sibling = getattr(self.conns[None], "sibling", None)
            if sibling is None:
                return None
            self.conns[name] = sibling()
        return self.conns[name]

    def _execute(self, conn: Any, sql: str) -> tuple[Output | None, BaseException | None,
                                                      float, bool]:
        if self.watchdog is not None:
            self.watchdog.arm(conn)
        start = time.perf_counter()
        out: Output | None = None
        err: BaseException | None = None
        try:
            out = conn.execute(sql)
        except Exception as exc:  # noqa: BLE001 - every engine error is data here
            err = exc
        seconds = time.perf_counter() - start
        fired = self.watchdog.disarm() if self.watchdog is not None else False
        return out, err, seconds, fired

    def _run_exec(self, rec: Statement | Query, loop_vars: dict[str, str]) -> RecordResult:
        kind = "query" if isinstance(rec, Query) else "statement"
        sql = rec.sql
        if loop_vars:
            sql = substitute(sql, loop_vars)
        if self.env:
            sql = substitute(sql, self.env)
        loop = ",".join(f"{k}={v}" for k, v in loop_vars.items())
        res = RecordResult(self.script.path, rec.line, kind, sql, "skipped", loop=loop)
        if isinstance(rec, Statement) and rec.error:
            res.expected_error = rec.error
        reason = self.stop_reason or ("mode skip" if self.skip_level else None)
        reason = reason or self._skip_condition(rec)
        if reason is None and isinstance(rec, Statement) and rec.expect == "debug_skip":
            reason = "statement debug_skip"
        if reason is not None:
            if isinstance(rec, Query) and rec.label and self.sqlite and not self.stop_reason:
                # the reference runner records a skipped query's expected hash under its label
                self.labels.setdefault(rec.label, lines_hash(rec.expected))
            res.reason = reason
            return res
        conn = self._connection(rec.connection)
        if conn is None:
            res.reason = f"engine {self.adapter.name} has no named connections"
            return res
        out, err, res.seconds, fired = self._execute(conn, sql)
        expects_error = isinstance(rec, Statement) and rec.expect == "error"
        if err is not None and self.ignore_messages and not expects_error:
            text = str(err)
            hit = next((m for m in self.ignore_messages if m in text), None)
            if hit is not None:
                self.stop_reason = f"error message ignored by the file: {hit!r}"
                res.reason = self.stop_reason
                return res
        if fired:
            failure = (f"timed out: over the {self.timeout:g} s per-query limit (stopped after"
                       f" {res.seconds:.3f} s)")
        elif self.timeout and res.seconds > self.timeout:
            failure = f"took {res.seconds:.3f} s, over the {self.timeout:g} s per-query limit"
        elif isinstance(rec, Statement):
            failure = self._check_statement(rec, err, res)
        else:
            expected = tuple(substitute(v, loop_vars) for v in rec.expected) if loop_vars \
                else rec.expected
            failure = self._check_query(rec, out, err, expected)
        res.status = "failed" if failure else "passed"
        res.reason = failure or ""
        return res

    def _error_text(self, err: BaseException) -> str | None:
        """None if the exception is a proper SQL error, else why it is not acceptable."""
        if isinstance(err, self.error_types) and not isinstance(err, self.internal_types):
            return None
        return f"internal error {type(err).__name__}: {shorten(str(err))}"

    def _check_statement(self, rec: Statement, err: BaseException | None,
                         res: RecordResult) -> str | None:
        if err is not None:
            bad = self._error_text(err)
            if bad:
                return bad
        if rec.expect in ("ok", "debug"):
            return None if err is None else f"unexpected error: {shorten(str(err))}"
        if rec.expect == "error":
            if err is None:
                return "statement succeeded, but an error was expected"
            if rec.error:
                res.message_matched = error_matches(rec.error, str(err))
            return None
        if rec.expect == "maybe":
            if err is not None and rec.error:
                res.message_matched = error_matches(rec.error, str(err))
                if not res.message_matched:
                    return f"error message did not match: {shorten(str(err))}"
            return None
        return f"unknown statement mode {rec.expect!r}"

    def _check_query(self, rec: Query, out: Output | None, err: BaseException | None,
                     expected: Sequence[str]) -> str | None:
        if err is not None:
            return self._error_text(err) or f"query failed: {shorten(str(err))}"
        out = _normalise(out)
        ncols = len(out.columns)
        if self.sqlite:
            if ncols != len(rec.types):
                return (f"wrong number of result columns: expected {len(rec.types)},"
                        f" got {ncols}")
            letters = rec.types
            values = [sqlite_value(v, letters[j]) for row in out.rows for j, v in enumerate(row)]
        else:
            kinds = out.kinds
            values = [duckdb_value(v, kinds[j]) for row in out.rows for j, v in enumerate(row)]
        values = sort_values(values, ncols, rec.sort)
        n = len(values)
        hash_form = len(expected) == 1 and is_hash_line(expected[0]) is not None
        digest = None
        if rec.label or hash_form or (self.hash_threshold > 0 and n > self.hash_threshold):
            digest = result_hash(values)
        if hash_form:
            got = f"{n} values hashing to {digest}"
            if got != expected[0]:
                return f"wrong result hash: expected '{expected[0]}', got '{got}'"
        elif self.sqlite:
            failure = _compare_exact(values, expected, ncols)
            if failure:
                return failure
        else:
            failure = _compare_duckdb(values, expected, out, len(rec.types))
            if failure:
                return failure
        if rec.label:
            previous = self.labels.setdefault(rec.label, digest or "")
            if previous != digest:
                return f"result disagrees with an earlier query labelled {rec.label}"
        return None


def _normalise(out: Output | None) -> Output:
    """A statement without columns answers a query with its affected-row count, if any."""
    if out is None:
        return Output([], [], [])
    if not out.columns:
        if out.rowcount is not None and out.rowcount >= 0:
            return Output(["Count"], ["integer"], [(out.rowcount,)])
        return Output([], [], [])
    return out


def _preview(values: Sequence[str], ncols: int) -> str:
    ncols = max(ncols, 1)
    rows = ["\t".join(values[i:i + ncols]) for i in range(0, len(values), ncols)]
    shown = " | ".join(rows[:_MAX_SHOWN])
    return shown + (f" | ... ({len(rows)} rows)" if len(rows) > _MAX_SHOWN else "")


def _compare_exact(values: list[str], expected: Sequence[str], ncols: int) -> str | None:
    if list(expected) == values:
        return None
    for i, (got, want) in enumerate(zip(values, expected)):
        if got != want:
            row, col = divmod(i, max(ncols, 1))
            return (f"wrong value at row {row + 1}, column {col + 1}: expected {want!r},"
                    f" got {got!r}; result: {_preview(values, ncols)}")
    return (f"expected {len(expected)} values, got {len(values)};"
            f" result: {_preview(values, ncols)}")


def _compare_duckdb(values: list[str], expected: Sequence[str], out: Output,
                    declared: int) -> str | None:
    """DuckDB's CheckQueryResult for the non-hashed case."""
    ncols, nrows = len(out.columns), len(out.rows)
    if ncols == 0:
        return "the statement returned no result columns"
    row_wise = (ncols > 1 and len(expected) == nrows) or all("\t" in v for v in expected)
    if row_wise:
        flat: list[str] = []
        for i, line in enumerate(expected):
            parts = line.split("\t")
            if len(parts) != ncols:
                return (f"expected row {i + 1} has {len(parts)} values, the result has"
                        f" {ncols} columns")
            flat.extend(parts)
        want, expected_rows = flat, len(expected)
    else:
        if len(expected) % ncols:
            return (f"{len(expected)} expected values do not divide into {ncols} columns;"
                    f" result: {_preview(values, ncols)}")
        want, expected_rows = list(expected), len(expected) // ncols
    if expected_rows != nrows:
        return (f"expected {expected_rows} rows, got {nrows}; result:"
                f" {_preview(values, ncols)}")
    kinds = out.kinds
    for i, (got, exp) in enumerate(zip(values, want)):
        if not duckdb_equal(got, exp, kinds[i % ncols]):
            row, col = divmod(i, ncols)
            return (f"wrong value at row {row + 1}, column {out.columns[col]!r}: expected"
                    f" {exp!r}, got {got!r}; result: {_preview(values, ncols)}")
    if declared != ncols:
        return f"wrong number of result columns: expected {declared}, got {ncols}"
    return None
