"""How failures become gRPC status codes: one table from the sochdb error tree to codes, and
decorators that turn an exception raised in a servicer method into ``context.abort``.

The sochdb error's stable ``code`` travels in the trailing metadata key ``sochdb-error-code``
so that clients can tell, say, a bad dimension (``DATA``) from a bad argument
(``PROGRAMMING``). Imports grpc and sochdb.errors.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from typing import Any

import grpc

from sochdb import errors

__all__ = [
    "ERROR_CODE_KEY",
    "RpcFailure",
    "invalid",
    "not_found",
    "status_for",
    "streaming",
    "unary",
]

log = logging.getLogger("sochdb.grpc")

#: Trailing metadata key carrying the sochdb error code of a failed call.
ERROR_CODE_KEY = "sochdb-error-code"


class RpcFailure(Exception):
    """A request the servicer rejects with an explicit status (not a sochdb error)."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def invalid(message: str) -> RpcFailure:
    return RpcFailure(grpc.StatusCode.INVALID_ARGUMENT, message)


def not_found(message: str) -> RpcFailure:
    return RpcFailure(grpc.StatusCode.NOT_FOUND, message)


# Most specific first: the first class the exception is an instance of decides.
_TABLE: tuple[tuple[type[BaseException], grpc.StatusCode], ...] = (
    (errors.DatabaseLockedError, grpc.StatusCode.UNAVAILABLE),
    (errors.TransactionConflictError, grpc.StatusCode.ABORTED),
    (errors.QueryInterruptedError, grpc.StatusCode.CANCELLED),
    (errors.ResourceLimitError, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (errors.TransactionClosedError, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.BindError, grpc.StatusCode.NOT_FOUND),  # and its NotFoundError
    (errors.AlreadyExistsError, grpc.StatusCode.ALREADY_EXISTS),
    (errors.IntegrityError, grpc.StatusCode.INVALID_ARGUMENT),  # e.g. an id twice in a batch
    (errors.ProgrammingError, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.DataError, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.NotSupportedError, grpc.StatusCode.UNIMPLEMENTED),
    (errors.CorruptionError, grpc.StatusCode.DATA_LOSS),
    (errors.InterfaceError, grpc.StatusCode.UNAVAILABLE),
    (errors.OperationalError, grpc.StatusCode.UNAVAILABLE),
    (errors.InternalError, grpc.StatusCode.INTERNAL),
    (errors.Error, grpc.StatusCode.INTERNAL),
    (TypeError, grpc.StatusCode.INVALID_ARGUMENT),
    (ValueError, grpc.StatusCode.INVALID_ARGUMENT),
)


def status_for(exc: BaseException) -> grpc.StatusCode:
    """The status code a failed call reports for ``exc`` (INTERNAL for anything unexpected)."""
    if isinstance(exc, RpcFailure):
        return exc.code
    for cls, code in _TABLE:
        if isinstance(exc, cls):
            return code
    return grpc.StatusCode.INTERNAL


def _abort(context: grpc.ServicerContext, method: str, exc: Exception) -> None:
    code = status_for(exc)
    if isinstance(exc, RpcFailure):
        message = exc.message
    elif isinstance(exc, errors.Error):
        message = str(exc)
        context.set_trailing_metadata(((ERROR_CODE_KEY, exc.code),))
    elif isinstance(exc, (TypeError, ValueError)):
        message = str(exc)
    else:
        log.exception("%s failed", method)
        message = f"internal error in {method}: {type(exc).__name__}: {exc}"
    log.debug("%s -> %s: %s", method, code.name, message)
    context.abort(code, message)


def unary(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a unary-response servicer method so that exceptions become statuses."""
    @functools.wraps(fn)
    def wrapper(self: Any, request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return fn(self, request, context)
        except Exception as exc:  # noqa: BLE001 - every failure must become a status
            _abort(context, fn.__name__, exc)
    return wrapper


def streaming(fn: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
    """Wrap a server-streaming servicer method (a generator) the same way."""
    @functools.wraps(fn)
    def wrapper(self: Any, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        try:
            yield from fn(self, request, context)
        except Exception as exc:  # noqa: BLE001
            _abort(context, fn.__name__, exc)
    return wrapper
