"""Test tooling for sochdb: a sqllogictest runner that drives any SQL engine through a small
adapter (sochdb itself, stdlib sqlite3, or duckdb as reference engines).

Test-tooling layer: nothing in the database imports it. Names are loaded on first use, so that
``python -m sochdb.testing.sqllogic`` does not import its own module twice.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "sochdb.testing.sqllogic": [
        "FileResult", "RecordResult", "RunResult", "Totals", "collect_records", "common_root",
        "find_test_files", "iter_results", "run_file", "run_paths", "run_script"],
    "sochdb.testing.sqllogic_adapters": [
        "Connection", "DuckDBAdapter", "Engine", "Output", "SochDBAdapter", "SqliteAdapter",
        "make_adapter"],
    "sochdb.testing.sqllogic_parse": ["Script", "detect_dialect", "parse_file", "parse_text"],
}
_WHERE = {name: module for module, names in _HOMES.items() for name in names}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'sochdb.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
