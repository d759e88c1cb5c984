"""Per-session settings and per-execution context shared by the planner and the operators."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from sochdb.errors import ProgrammingError, QueryInterruptedError, ResourceLimitError

if TYPE_CHECKING:
    from sochdb.engine.transaction import TxnState

NULL_ORDERS = ("nulls_last", "nulls_first", "nulls_first_on_asc_last_on_desc",
               "nulls_last_on_asc_first_on_desc")


@dataclass(frozen=True)
class Settings:
    """SQL dialect switches, changed with ``SET name = value``.

    - ``integer_division``: ``/`` on two integers truncates (SQLite) instead of giving a
      DOUBLE (DuckDB, the default). ``//`` always divides integers.
    - ``default_null_order``: where NULLs sort when ORDER BY does not say (DuckDB's names;
      the default ``nulls_last`` is DuckDB's, SQLite's is ``nulls_first_on_asc_last_on_desc``).
    - ``order_by_non_integer_literal``: accept and ignore ``ORDER BY 'constant'``.
    - ``loose_group_by``: a column that is neither grouped nor aggregated takes a value from
      the group (SQLite) instead of being an error (DuckDB, PostgreSQL, the default).
    """

    integer_division: bool = False
    default_null_order: str = "nulls_last"
    order_by_non_integer_literal: bool = False
    loose_group_by: bool = False

    def with_value(self, name: str, value: Any) -> "Settings":
        name = name.lower()
        if name == "default_null_order":
            v = str(value).lower()
            if v in ("nulls_first", "nulls first"):
                v = "nulls_first"
            if v in ("nulls_last", "nulls last"):
                v = "nulls_last"
            if v not in NULL_ORDERS:
                raise ProgrammingError(f"default_null_order must be one of {', '.join(NULL_ORDERS)}")
            return replace(self, default_null_order=v)
        if name in ("integer_division", "order_by_non_integer_literal", "loose_group_by"):
            return replace(self, **{name: _truth(value, name)})
        raise ProgrammingError(f"unknown setting {name!r}")

    def nulls_first(self, descending: bool) -> bool:
        o = self.default_null_order
        if o == "nulls_first":
            return True
        if o == "nulls_last":
            return False
        if o == "nulls_first_on_asc_last_on_desc":
            return not descending
        return descending


#: Settings that exist only to steer another engine's execution strategy; accepted, ignored.
IGNORED_SETTINGS = {"debug_force_external", "threads", "memory_limit_hint", "verify_parallelism",
                    "enable_verification", "disable_verification", "preserve_insertion_order",
                    "enable_progress_bar", "explain_output"}


def _truth(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    v = str(value).lower()
    if v in ("true", "1", "on", "yes"):
        return True
    if v in ("false", "0", "off", "no"):
        return False
    raise ProgrammingError(f"setting {name} takes true or false, not {value!r}")


@dataclass
class ExecContext:
    """What operators need while running one statement.

    Operators call ``check_interrupt()`` in their loops (``Database.interrupt()`` and the
    ``statement_timeout`` config end a statement there) and ``check_memory()`` on the tables
    they build: no single intermediate result may exceed the ``memory_limit`` config.
    """

    txn: "TxnState"
    params: Any = None
    settings: Settings = field(default_factory=Settings)
    outer: dict[str, Any] = field(default_factory=dict)
    cache: dict[int, Any] = field(default_factory=dict)
    ctes: dict[str, Any] = field(default_factory=dict)
    session: Any = None
    interrupt: Any = None
    scans: dict[Any, Any] = field(default_factory=dict)  # table reads shared by subqueries
    deadline: float | None = None  # time.monotonic() past which the statement stops
    memory_limit: int | None = None

    def __post_init__(self) -> None:
        config = getattr(getattr(self.txn, "engine", None), "config", None)
        if config is None:
            return
        if self.memory_limit is None:
            self.memory_limit = config.memory_limit
        if self.deadline is None and config.statement_timeout:
            self.deadline = time.monotonic() + config.statement_timeout

    def check_interrupt(self) -> None:
        if self.interrupt is not None and self.interrupt.is_set():
            raise QueryInterruptedError("statement interrupted")
        if self.deadline is not None and time.monotonic() > self.deadline:
            timeout = self.txn.engine.config.statement_timeout
            raise QueryInterruptedError(f"statement cancelled: it ran longer than the "
                                        f"statement_timeout of {timeout:g} s")

    def check_memory(self, nbytes: int, what: str) -> None:
        """Fail cleanly when ``what`` would hold more than ``memory_limit`` bytes."""
        limit = self.memory_limit
        if limit is not None and nbytes > limit:
            raise ResourceLimitError(f"{what} needs about {nbytes:,} bytes, more than the "
                                     f"memory_limit of {limit:,} bytes", limit=limit)

    def with_outer(self, values: dict[str, Any]) -> "ExecContext":
        return ExecContext(self.txn, self.params, self.settings, {**self.outer, **values},
                           {}, self.ctes, self.session, self.interrupt, self.scans,
                           self.deadline, self.memory_limit)
