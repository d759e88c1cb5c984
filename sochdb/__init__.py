"""sochdb: an embedded, SQL-first database for Python.

The whole public surface is listed in ``__all__``; every other module may change.
"""

from __future__ import annotations

from sochdb.database import Database
from sochdb.errors import *  # noqa: F401,F403 - the error tree is public
from sochdb.errors import __all__ as _error_names
from sochdb.transaction import Transaction
from sochdb.server import IpcClient
from sochdb.sql.result import Result

__version__ = "0.5.0"

__all__ = ["Database", "Transaction", "IpcClient", "Result", "VectorIndex", "SearchHit",
           *_error_names, "__version__"]


def __getattr__(name: str):
    # The vector classes import usearch: load them when first asked for, not on import.
    if name in ("VectorIndex", "SearchHit"):
        from sochdb.vector import collection
        return getattr(collection, name)
    raise AttributeError(f"module 'sochdb' has no attribute {name!r}")
