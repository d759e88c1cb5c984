"""Host-type normalization for the TOON codecs: map Python values onto the JSON data model.

Layer: sochdb.toon; imports only the standard library and sochdb.toon.errors (numpy and
pyarrow values are recognised by duck typing, never imported). The mapping is the one
documented in docs/toon.md ("Host types").
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as _dt
import enum
import math
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from sochdb.toon.errors import ToonEncodeError

__all__ = [
    "PRIMITIVE_TYPES",
    "DecimalText",
    "decimal_text",
    "float_column",
    "float_text",
    "key_text",
    "normalize",
]


class DecimalText(str):
    """The exact canonical digits of a ``Decimal``, written unquoted as a number."""

    __slots__ = ()


#: Exact types the encoders write as primitives without normalization.
PRIMITIVE_TYPES = frozenset({str, int, float, bool, type(None), DecimalText})


def float_text(value: float) -> str:
    """Canonical decimal text of a finite float (TOON spec §2): no exponent, no ``.0``.

    An integral float is written as its exact integer (the decoder reads integer tokens as
    exact ints, so ``4.093345461632403e16`` must become ``40933454616324032``, not repr's
    ``...030``); any other float keeps repr's shortest round-trip digits in plain notation.
    Either way the decoded value equals ``value``.

    >>> float_text(1e-06), float_text(100.0), float_text(-0.0), float_text(1.5e20)
    ('0.000001', '100', '0', '150000000000000000000')
    """
    if value.is_integer():
        return str(int(value))
    text = repr(value)
    if "e" in text:
        text = format(Decimal(text), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def float_column(values: list[float], nonfinite: Callable[[float], str]) -> list[str]:
    """:func:`float_text` of a whole column, with string operations over the joined reprs.

    Only columns holding exponents, NaN/inf or -0.0 fall back to one call per value.
    """
    if not values:
        return []
    joined = "\n" + "\n".join(map(repr, values)) + "\n"
    if "e" not in joined and "n" not in joined:  # no exponent, nan or inf
        # below 1e16 repr writes an integral float's exact digits: dropping '.0' suffices
        joined = joined.replace(".0\n", "\n")
        if "\n-0\n" not in joined:
            return joined[1:-1].split("\n")
    return [float_text(f) if f - f == 0 else nonfinite(f) for f in values]


def decimal_text(value: Decimal) -> str:
    """Canonical decimal text of a finite ``Decimal``: exact digits, no exponent."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return text


def _sorted_if_possible(items: Any) -> list[Any]:
    values = list(items)
    try:
        return sorted(values)
    except TypeError:
        return values


def normalize(value: Any) -> Any:
    """Map one non-JSON host value onto the JSON model, one level deep.

    Returns a ``str``, ``int``, ``float``, ``bool``, ``None``, :class:`DecimalText`,
    ``list`` or ``dict``; containers are converted shallowly (their items are normalized
    when the encoder reaches them). Non-finite floats are left to the caller, because the
    two codecs treat them differently.

    Raises:
        ToonEncodeError: the type has no TOON mapping.
    """
    if isinstance(value, enum.Enum):
        return normalize(value.value)
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, Decimal):
        return DecimalText(decimal_text(value)) if value.is_finite() else float(value)
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, _dt.timedelta):
        return value.total_seconds()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (set, frozenset)):
        return _sorted_if_possible(value)
    if isinstance(value, (list, tuple)):
        return list(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    module = type(value).__module__ or ""
    if module.startswith("numpy") and hasattr(value, "tolist"):
        return normalize(value.tolist())  # numpy scalars give a Python scalar, arrays a list
    if module.startswith("pyarrow"):
        if hasattr(value, "as_py"):
            return normalize(value.as_py())
        if hasattr(value, "to_pylist"):
            return value.to_pylist()
    raise ToonEncodeError(f"cannot encode a value of type {type(value).__qualname__} "
                          f"({value!r:.60}) as TOON")


def key_text(key: Any) -> str:
    """The string form of an object key, as ``json.dumps`` would write it."""
    if type(key) is str:
        return key
    if isinstance(key, enum.Enum):
        return key_text(key.value)
    if isinstance(key, str):
        return str(key)
    if key is True or key is False:
        return "true" if key else "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return str(int(key))
    if isinstance(key, float):
        return float_text(key) if math.isfinite(key) else repr(key)
    raise ToonEncodeError(f"object keys must be strings, got {type(key).__qualname__} {key!r:.60}")
