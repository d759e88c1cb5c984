"""Shared fixtures: every database test runs on disk and in memory (tinydb's habit)."""

from __future__ import annotations

import os
import sys

import pytest

from sochdb import Database

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def db_path(tmp_path):
    return str(tmp_path / "db")


@pytest.fixture(params=["disk", "memory"])
def db(request, tmp_path):
    """An open database, once on disk and once in memory."""
    path = ":memory:" if request.param == "memory" else str(tmp_path / "db")
    d = Database.open(path)
    yield d
    d.close()


@pytest.fixture
def disk_db(db_path):
    d = Database.open(db_path)
    yield d
    d.close()


@pytest.fixture
def python_exe():
    return sys.executable
