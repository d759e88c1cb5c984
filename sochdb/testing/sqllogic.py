"""Run sqllogictest files through an engine adapter and report per-record, per-file and
per-folder results, with per-query timings.

Test-tooling layer: imports the parser, runner, results and adapters next to it.
``python -m sochdb.testing.sqllogic PATH...`` is the command-line entry point.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from sochdb.errors import NotSupportedError, ParseError
from sochdb.testing.sqllogic_adapters import ADAPTERS, Engine, make_adapter
from sochdb.testing.sqllogic_parse import Script, parse_file
from sochdb.testing.sqllogic_results import (
    FileResult, RecordResult, RunResult, Totals, shorten,
)
from sochdb.testing.sqllogic_runner import FileRunner

__all__ = [
    "RecordResult", "FileResult", "Totals", "RunResult", "common_root", "find_test_files",
    "run_script", "run_file", "run_paths", "iter_results", "collect_records", "main",
]

_DEFAULT_NAMES = {"sqlite": ("sqlite",), "duckdb": ("duckdb",)}


# --------------------------------------------------------------------------- public API

def common_root(paths: Sequence[str | Path]) -> str:
    """The folder that results are shown relative to: the common parent of ``paths``."""
    if not paths:
        return "."
    root = Path(os.path.commonpath([str(Path(p).resolve()) for p in paths]))
    return str(root.parent if root.is_file() else root)


def find_test_files(paths: Sequence[str | Path]) -> list[Path]:
    """Files named directly, plus every ``*.test`` below named folders, sorted per folder."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found.extend(sorted(q for q in p.rglob("*.test") if q.is_file()))
        elif p.is_file():
            found.append(p)
        else:
            raise FileNotFoundError(f"no such test file or folder: {p}")
    return found


def _names_for(engine_names: Sequence[str] | Mapping[str, Sequence[str]] | None,
               dialect: str) -> Sequence[str]:
    if engine_names is None:
        return _DEFAULT_NAMES[dialect]
    if isinstance(engine_names, Mapping):
        return engine_names.get(dialect, _DEFAULT_NAMES[dialect])
    return engine_names


def run_script(script: Script, adapter: Engine, *,
               engine_names: Sequence[str] | Mapping[str, Sequence[str]] | None = None,
               timeout: float | None = None) -> FileResult:
    """Run a parsed script on a fresh database from ``adapter``.

    ``engine_names`` are the names ``skipif``/``onlyif`` match (default ``sqlite`` for the
    SQLite dialect, ``duckdb`` for the DuckDB dialect; a mapping gives names per dialect).
    ``timeout`` fails any statement slower than that many seconds, interrupting it when the
    connection can be interrupted.
    """
    runner = FileRunner(script, adapter, _names_for(engine_names, script.dialect), timeout)
    return runner.run()


def run_file(path: str | Path, adapter: Engine, dialect: str | None = None, *,
             engine_names: Sequence[str] | Mapping[str, Sequence[str]] | None = None,
             timeout: float | None = None) -> FileResult:
    """Parse and run one file; a file that does not parse gives a FileResult with ``error``.

    >>> from sochdb.testing import SqliteAdapter
    >>> r = run_file("sql_tests/upstream/sqlite/select1.test", SqliteAdapter())  # doctest: +SKIP
    >>> (r.passed, r.failed, r.skipped)                                          # doctest: +SKIP
    (1031, 0, 0)
    """
    try:
        script = parse_file(path, dialect)
    except (ParseError, UnicodeDecodeError, OSError) as exc:
        return FileResult(str(path), dialect or "?", error=f"cannot parse: {exc}")
    return run_script(script, adapter, engine_names=engine_names, timeout=timeout)


def run_paths(paths: Sequence[str | Path], adapter: Engine, dialect: str | None = None, *,
              engine_names: Sequence[str] | Mapping[str, Sequence[str]] | None = None,
              timeout: float | None = None,
              progress: Any = None) -> RunResult:
    """Run every test file under ``paths``; ``progress(file_result)`` is called per file."""
    files = find_test_files(paths)
    result = RunResult(root=common_root(paths))
    for path in files:
        fr = run_file(path.resolve(), adapter, dialect, engine_names=engine_names,
                      timeout=timeout)
        result.files.append(fr)
        if progress is not None:
            progress(fr)
    return result


def iter_results(paths: Sequence[str | Path], adapter: Engine, dialect: str | None = None,
                 **options: Any) -> Iterator[RecordResult]:
    """Record results file by file (``location`` is ``path:line``), e.g. for pytest."""
    for path in find_test_files(paths):
        fr = run_file(path, adapter, dialect, **options)
        if fr.error:
            yield RecordResult(str(path), 0, "file", "", "failed", fr.error)
        yield from fr.records


def collect_records(path: str | Path, dialect: str | None = None) -> list[str]:
    """``path:line`` of every statement and query of a file, without running anything
    (records inside loops are listed once)."""
    script = parse_file(path, dialect)
    return [f"{path}:{rec.line}" for rec in script.executable()]


# --------------------------------------------------------------------------- CLI

def _format_line(label: str, t: Totals | FileResult, seconds: float) -> str:
    checked = t.messages_checked
    msg = f"  msg {t.messages_matched}/{checked}" if checked else ""
    return (f"{t.passed:8d} pass {t.failed:6d} fail {t.skipped:6d} skip {seconds:9.2f}s"
            f"{msg}  {label}")


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry: run files/folders, print per-file and per-folder summaries."""
    parser = argparse.ArgumentParser(
        prog="python -m sochdb.testing.sqllogic",
        description="Run sqllogictest files (SQLite or DuckDB dialect) against an engine.")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="test files or folders")
    parser.add_argument("--engine", choices=sorted(ADAPTERS), default="sochdb")
    parser.add_argument("--dialect", choices=("auto", "sqlite", "duckdb"), default="auto")
    parser.add_argument("--engine-name", action="append", metavar="NAME",
                        help="name matched by skipif/onlyif (repeatable; default: sqlite for"
                             " the SQLite dialect, duckdb for the DuckDB dialect)")
    parser.add_argument("--timeout-per-query", type=float, metavar="S",
                        help="fail statements slower than S seconds (interrupting them)")
    parser.add_argument("--slow", type=float, default=1.0, metavar="S",
                        help="report statements slower than S seconds (default 1)")
    parser.add_argument("--slowest", type=int, default=10, metavar="N",
                        help="list the N slowest statements (default 10)")
    parser.add_argument("--show-failures", type=int, default=5, metavar="N",
                        help="failures to print per file (default 5)")
    parser.add_argument("--json", metavar="OUT", help="write the results as JSON to OUT")
    parser.add_argument("-q", "--quiet", action="store_true", help="only print totals")
    args = parser.parse_args(argv)

    try:
        adapter = make_adapter(args.engine)
        find_test_files(args.paths)
    except (FileNotFoundError, NotSupportedError) as exc:
        parser.error(str(exc))
    dialect = None if args.dialect == "auto" else args.dialect
    out = sys.stdout

    def progress(fr: FileResult) -> None:
        if args.quiet:
            return
        status = "ok  " if fr.ok else "FAIL"
        print(f"{status}{_format_line(shown.relative(fr.path), fr, fr.seconds)}", file=out,
              flush=True)
        for note in fr.notes:
            print(f"        note: {note}", file=out)
        if fr.error:
            print(f"        error: {fr.error}", file=out)
        for rec in fr.failures()[:args.show_failures]:
            print(f"        {shown.relative(rec.path)}:{rec.line}: {rec.reason}", file=out)
        extra = len(fr.failures()) - args.show_failures
        if extra > 0:
            print(f"        ... and {extra} more failures", file=out)

    shown = RunResult(root=common_root(args.paths))
    run = run_paths(args.paths, adapter, dialect, engine_names=args.engine_name,
                    timeout=args.timeout_per_query, progress=progress)

    print("\nper folder:", file=out)
    for folder, tot in run.by_folder(None).items():
        print(" " * 4 + _format_line(f"{folder}/ ({tot.files} files)", tot, tot.seconds),
              file=out)
    top = run.by_folder(1)
    if top != run.by_folder(None):
        print("\nper top-level folder:", file=out)
        for folder, tot in top.items():
            print(" " * 4 + _format_line(f"{folder}/ ({tot.files} files)", tot, tot.seconds),
                  file=out)
    total = run.totals()
    print(f"\ntotal: {total.files} files, {total.passed}/{total.executed} executed records"
          f" passed ({100 * total.pass_rate:.2f}%), {total.failed} failed,"
          f" {total.skipped} skipped, {total.seconds:.1f}s", file=out)
    if total.messages_checked:
        print(f"error messages matched: {total.messages_matched}/{total.messages_checked}",
              file=out)
    if args.slowest > 0:
        print(f"\nslowest {args.slowest} statements:", file=out)
        for rec in run.slowest(args.slowest):
            print(f"  {rec.seconds:8.3f}s  {run.relative(rec.path)}:{rec.line}"
                  f"  {shorten(rec.sql, 80)}", file=out)
    slow = run.over(args.slow)
    print(f"\nstatements over {args.slow:g} s: {len(slow)}", file=out)
    for rec in slow[:50]:
        print(f"  {rec.seconds:8.3f}s  {run.relative(rec.path)}:{rec.line}", file=out)
    if args.json:
        data = run.to_dict(args.slow)
        data["engine"] = args.engine
        Path(args.json).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return 0 if total.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
