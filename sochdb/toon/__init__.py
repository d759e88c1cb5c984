"""TOON codecs: the guide's one-line compact form and the official TOON format (spec v4.0).

Layer: sochdb.toon depends only on the standard library and ``sochdb.errors``; the database
exposes ``to_compact``/``from_compact`` as ``Database.to_toon``/``Database.from_toon``.
See docs/toon.md for the rules of both forms.
"""

from __future__ import annotations

from sochdb.toon.compact import from_compact, to_compact
from sochdb.toon.errors import ToonDecodeError, ToonEncodeError
from sochdb.toon.spec_decode import decode
from sochdb.toon.spec_encode import encode

__all__ = ["ToonDecodeError", "ToonEncodeError", "decode", "encode", "from_compact",
           "to_compact"]
