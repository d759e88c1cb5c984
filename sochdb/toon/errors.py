"""Typed errors of the TOON codecs.

Layer: sochdb.toon; imports only sochdb.errors. Both classes are ``DataError`` subclasses
(malformed or unwritable *data*, not a wrong request), so they keep ``DataError``'s stable
``code`` and travel over the wire as ``DataError``.
"""

from __future__ import annotations

from sochdb.errors import DataError

__all__ = ["ToonDecodeError", "ToonEncodeError"]


class ToonDecodeError(DataError):
    """TOON text that does not parse.

    ``line`` and ``column`` (both 1-based) point at the fault; the message repeats them and
    says what was expected there, e.g. ``line 3: expected 2 rows for 'items', found 1``.
    """

    def __init__(self, message: str, line: int | None = None, column: int | None = None,
                 **details: object) -> None:
        where = ""
        if line is not None:
            where = f"line {line}" + (f", column {column}" if column is not None else "") + ": "
        super().__init__(where + message, line=line, column=column, **details)
        self.line = line
        self.column = column


class ToonEncodeError(DataError):
    """A value that TOON cannot represent (an unsupported host type, a non-string key)."""
