"""Result records of a sqllogictest run: per record, per file, per folder, and timings.

Test-tooling layer: standard library only.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["RecordResult", "FileResult", "Totals", "RunResult", "shorten"]


def shorten(text: str, limit: int = 300) -> str:
    """One line of at most ``limit`` characters, for reasons and listings."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


@dataclass(slots=True)
class RecordResult:
    """The outcome of one statement or query record.

    ``status`` is ``passed``, ``failed`` or ``skipped``; ``reason`` says why it failed or was
    skipped. For a DuckDB ``statement error`` with a message block, ``expected_error`` holds
    the message and ``message_matched`` whether the raised error matched it; the record
    itself passes as soon as an error is raised.
    """

    path: str
    line: int
    kind: str
    sql: str
    status: str
    reason: str = ""
    seconds: float = 0.0
    expected_error: str | None = None
    message_matched: bool | None = None
    loop: str = ""

    @property
    def location(self) -> str:
        """``path:line``, plus the loop variables for records inside loops."""
        return f"{self.path}:{self.line}" + (f"[{self.loop}]" if self.loop else "")

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    @property
    def skipped(self) -> bool:
        return self.status == "skipped"

    def to_dict(self) -> dict[str, Any]:
        return {"location": self.location, "line": self.line, "kind": self.kind,
                "status": self.status, "reason": self.reason,
                "seconds": round(self.seconds, 6), "sql": self.sql,
                "message_matched": self.message_matched}


@dataclass
class FileResult:
    """All record results of one file, plus file-level notes (``require`` skips, parse or
    connection errors)."""

    path: str
    dialect: str
    records: list[RecordResult] = field(default_factory=list)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    error: str | None = None

    def _count(self, status: str) -> int:
        return sum(1 for r in self.records if r.status == status)

    @property
    def passed(self) -> int:
        return self._count("passed")

    @property
    def failed(self) -> int:
        return self._count("failed") + (1 if self.error else 0)

    @property
    def skipped(self) -> int:
        return self._count("skipped")

    @property
    def executed(self) -> int:
        return self.passed + self.failed

    @property
    def messages_checked(self) -> int:
        return sum(1 for r in self.records if r.message_matched is not None)

    @property
    def messages_matched(self) -> int:
        return sum(1 for r in self.records if r.message_matched)

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def failures(self) -> list[RecordResult]:
        return [r for r in self.records if r.status == "failed"]

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "dialect": self.dialect, "passed": self.passed,
                "failed": self.failed, "skipped": self.skipped,
                "messages_checked": self.messages_checked,
                "messages_matched": self.messages_matched, "seconds": round(self.seconds, 3),
                "notes": self.notes, "error": self.error,
                "failures": [r.to_dict() for r in self.failures()]}


@dataclass
class Totals:
    """Summed counts over several files."""

    files: int = 0
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    messages_checked: int = 0
    messages_matched: int = 0
    seconds: float = 0.0

    def add(self, result: FileResult) -> None:
        self.files += 1
        self.passed += result.passed
        self.failed += result.failed
        self.skipped += result.skipped
        self.messages_checked += result.messages_checked
        self.messages_matched += result.messages_matched
        self.seconds += result.seconds

    @property
    def executed(self) -> int:
        return self.passed + self.failed

    @property
    def pass_rate(self) -> float:
        """Passed over executed records (1.0 when nothing ran)."""
        return self.passed / self.executed if self.executed else 1.0

    def to_dict(self) -> dict[str, Any]:
        return {"files": self.files, "passed": self.passed, "failed": self.failed,
                "skipped": self.skipped, "executed": self.executed,
                "pass_rate": round(self.pass_rate, 6),
                "messages_checked": self.messages_checked,
                "messages_matched": self.messages_matched, "seconds": round(self.seconds, 3)}


@dataclass
class RunResult:
    """The results of a run over several files; ``root`` is what paths are shown relative to."""

    files: list[FileResult] = field(default_factory=list)
    root: str = "."

    def totals(self) -> Totals:
        total = Totals()
        for f in self.files:
            total.add(f)
        return total

    def relative(self, path: str) -> str:
        try:
            return os.path.relpath(path, self.root)
        except ValueError:
            return path

    def by_folder(self, depth: int | None = 1) -> dict[str, Totals]:
        """Totals per folder (relative to ``root``), cut to ``depth`` components;
        ``depth=None`` groups by each file's own folder."""
        groups: dict[str, Totals] = {}
        for f in self.files:
            parts = Path(self.relative(f.path)).parent.parts
            key = "/".join(parts if depth is None else parts[:depth]) or "."
            groups.setdefault(key, Totals()).add(f)
        return dict(sorted(groups.items()))

    def records(self) -> Iterator[RecordResult]:
        for f in self.files:
            yield from f.records

    def slowest(self, n: int = 10) -> list[RecordResult]:
        ran = [r for r in self.records() if r.status != "skipped"]
        return sorted(ran, key=lambda r: r.seconds, reverse=True)[:n]

    def over(self, seconds: float = 1.0) -> list[RecordResult]:
        """Records that took longer than ``seconds`` (issue 4: none may take over 1 s)."""
        return [r for r in self.records() if r.seconds > seconds]

    def to_dict(self, slow_seconds: float = 1.0) -> dict[str, Any]:
        return {"root": self.root, "totals": self.totals().to_dict(),
                "folders": {k: v.to_dict() for k, v in self.by_folder(None).items()},
                "files": [dict(f.to_dict(), path=self.relative(f.path)) for f in self.files],
                "slowest": [r.to_dict() for r in self.slowest(20)],
                "over_limit": [r.to_dict() for r in self.over(slow_seconds)]}
