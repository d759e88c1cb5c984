"""SQL semantics through sqllogictest files.

Our own files under sql_tests/ must pass completely. The third-party corpus under
sql_tests/upstream/ (SQLite's and DuckDB's own tests, never edited) is held to the per-file
pass counts recorded in sql_tests/upstream_baseline.json: a drop fails, and an improvement is
recorded with ``python sql_tests/update_baseline.py``. Known failures and their reasons are
listed in sql_tests/KNOWN_FAILURES.md.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sochdb.testing import SochDBAdapter, run_file

ROOT = Path(__file__).resolve().parent.parent
SQL_TESTS = ROOT / "sql_tests"
UPSTREAM = SQL_TESTS / "upstream"
BASELINE = SQL_TESTS / "upstream_baseline.json"

OWN = sorted(p for p in SQL_TESTS.rglob("*.test") if UPSTREAM not in p.parents)
UPSTREAM_FILES = sorted(UPSTREAM.rglob("*.test"))


def _describe(fr, limit: int = 15) -> str:
    lines = [f"{fr.failed} failed of {fr.executed} executed"]
    if fr.error:
        lines.append(f"file error: {fr.error}")
    for r in fr.failures()[:limit]:
        lines.append(f"  {r.location}: {r.reason}")
    return "\n".join(lines)


@pytest.mark.parametrize("path", OWN, ids=[str(p.relative_to(SQL_TESTS)) for p in OWN])
def test_own_sql_file(path: Path) -> None:
    fr = run_file(path, SochDBAdapter(storage="disk"))
    assert fr.error is None and fr.failed == 0, _describe(fr)
    assert fr.executed > 0


def _baseline() -> dict[str, int]:
    return json.loads(BASELINE.read_text()) if BASELINE.exists() else {}


@pytest.mark.upstream
@pytest.mark.parametrize("path", UPSTREAM_FILES,
                         ids=[str(p.relative_to(UPSTREAM)) for p in UPSTREAM_FILES])
def test_upstream_file_keeps_baseline(path: Path) -> None:
    rel = str(path.relative_to(UPSTREAM))
    expected = _baseline().get(rel)
    assert expected is not None, f"{rel} has no baseline; run sql_tests/update_baseline.py"
    fr = run_file(path, SochDBAdapter(storage="memory"))
    assert fr.passed >= expected, (f"{rel}: {fr.passed} records pass, baseline {expected}\n"
                                   + _describe(fr))
