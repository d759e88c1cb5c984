"""Path keys: ``"users/alice/email"`` is stored as the UTF-8 key ``b"users/alice/email"``.

Paths are kept exactly as given (no normalisation), so a path and its bytes key are the same
entry and ``scan_prefix(b"users/alice/")`` finds every path below ``users/alice``.
"""

from __future__ import annotations


def path_key(path: str) -> bytes:
    if not isinstance(path, str):
        raise TypeError(f"path must be str, not {type(path).__name__}; "
                        f"use put/get with bytes keys for binary keys")
    if not path:
        raise ValueError("path must not be empty")
    return path.encode("utf-8")
