"""The one exception hierarchy of sochdb, with PEP 249 (DB-API 2.0) names at the top.

Every class carries a stable ``code`` string that servers put on the wire and the CLI maps to
an exit status; messages name the table, column, key, file or SQL position at fault. This module
imports nothing from the rest of the package so that every layer can use it.
"""

from __future__ import annotations

__all__ = [
    "Warning", "Error", "InterfaceError", "DatabaseError", "DataError", "OperationalError",
    "IntegrityError", "InternalError", "ProgrammingError", "NotSupportedError",
    "ParseError", "BindError", "ConstraintError", "TransactionConflictError",
    "DatabaseLockedError", "TransactionClosedError", "CorruptionError", "ExecutionError",
    "ConfigError", "TriggerAbort", "PluginError", "QueryInterruptedError", "ResourceLimitError",
    "NotFoundError", "AlreadyExistsError", "ReadOnlyError", "error_from_code",
]


class Warning(Exception):  # noqa: A001 - the DB-API name
    """Important warnings such as data truncation (PEP 249)."""

    code = "WARNING"


class Error(Exception):
    """Base class of every sochdb error."""

    code = "ERROR"
    numeric = 1

    def __init__(self, message: str = "", **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def __str__(self) -> str:
        return self.message


class InterfaceError(Error):
    """Misuse of the client interface itself (a closed connection, a dead server)."""

    code = "INTERFACE"
    numeric = 2


class DatabaseError(Error):
    """Errors related to the database."""

    code = "DATABASE"
    numeric = 3


class DataError(DatabaseError):
    """Bad data: a value out of range, a failed cast, a division that cannot be done."""

    code = "DATA"
    numeric = 4


class OperationalError(DatabaseError):
    """Errors of the environment: I/O, locks, conflicts, limits."""

    code = "OPERATIONAL"
    numeric = 5


class IntegrityError(DatabaseError):
    """A relational integrity rule was broken."""

    code = "INTEGRITY"
    numeric = 6


class InternalError(DatabaseError):
    """A bug in sochdb: please report it with the statement that caused it."""

    code = "INTERNAL"
    numeric = 7


class ProgrammingError(DatabaseError):
    """The request itself is wrong: bad SQL, unknown names, wrong parameter count."""

    code = "PROGRAMMING"
    numeric = 8


class NotSupportedError(DatabaseError):
    """A feature sochdb does not implement."""

    code = "NOT_SUPPORTED"
    numeric = 9


class ParseError(ProgrammingError):
    """SQL text that does not parse; ``line`` and ``column`` point at the fault."""

    code = "PARSE"
    numeric = 10

    def __init__(self, message: str = "", line: int | None = None, column: int | None = None,
                 **details: object) -> None:
        super().__init__(message, **details)
        self.line = line
        self.column = column


class BindError(ProgrammingError):
    """An unknown table, column or function, or an ambiguous name."""

    code = "BIND"
    numeric = 11


class ConstraintError(IntegrityError):
    """A named constraint (PRIMARY KEY, UNIQUE, NOT NULL, CHECK, FOREIGN KEY) was violated."""

    code = "CONSTRAINT"
    numeric = 12


class TransactionConflictError(OperationalError):
    """First committer wins: another transaction committed a write to the same key or row."""

    code = "TXN_CONFLICT"
    numeric = 13


class DatabaseLockedError(OperationalError):
    """Another process holds the database directory; ``pid`` names it."""

    code = "LOCKED"
    numeric = 14


class TransactionClosedError(ProgrammingError):
    """The transaction was already committed or aborted."""

    code = "TXN_CLOSED"
    numeric = 15


class CorruptionError(DatabaseError):
    """A file failed its checksum or framing; ``path`` and ``offset`` say where."""

    code = "CORRUPTION"
    numeric = 16


class ExecutionError(DatabaseError):
    """A query operator failed; the message names the operator and the cause is chained."""

    code = "EXECUTION"
    numeric = 17


class ConfigError(ProgrammingError):
    """An unknown configuration key or a bad value for a known one."""

    code = "CONFIG"
    numeric = 18


class TriggerAbort(DatabaseError):
    """Raised by a BEFORE trigger to reject a row; the statement has no effect.

    ``code`` is the trigger's own code (``TriggerAbort("Age cannot be negative",
    code="INVALID_AGE")``), so it is an instance attribute here rather than a class constant.
    """

    code = "TRIGGER_ABORT"
    numeric = 19

    def __init__(self, message: str = "", code: str = "TRIGGER_ABORT", **details: object) -> None:
        super().__init__(message, **details)
        self.code = code


class PluginError(DatabaseError):
    """A plugin's trigger raised an exception other than TriggerAbort."""

    code = "PLUGIN"
    numeric = 20


class QueryInterruptedError(OperationalError):
    """The statement was cancelled by ``db.interrupt()`` or a statement timeout."""

    code = "INTERRUPTED"
    numeric = 21


class ResourceLimitError(OperationalError):
    """A configured limit (memory, frame size, clients) was exceeded."""

    code = "RESOURCE_LIMIT"
    numeric = 22


class NotFoundError(BindError):
    """A named object outside SQL's tables (a vector index) does not exist; the message lists
    the ones that do."""

    code = "NOT_FOUND"
    numeric = 23


class AlreadyExistsError(ProgrammingError):
    """Creating a named object (a vector index) whose name is taken."""

    code = "ALREADY_EXISTS"
    numeric = 24


class ReadOnlyError(OperationalError):
    """A write to a database opened with ``read_only`` (sqlite3's "attempt to write a
    readonly database")."""

    code = "READ_ONLY"
    numeric = 25


_BY_CODE: dict[str, type[Error]] = {}
_BY_NUMERIC: dict[int, type[Error]] = {}


def _register(cls: type[Error]) -> None:
    _BY_CODE[cls.code] = cls
    _BY_NUMERIC[cls.numeric] = cls
    for sub in cls.__subclasses__():
        _register(sub)


_register(Error)


def error_from_code(code: str | int, message: str) -> Error:
    """Rebuild an error received from a server: the class is found by its code."""
    cls = _BY_NUMERIC.get(code) if isinstance(code, int) else _BY_CODE.get(code)
    if cls is None:
        return DatabaseError(message)
    if cls is TriggerAbort and isinstance(code, str):
        return TriggerAbort(message, code=code)
    return cls(message)
