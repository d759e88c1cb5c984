"""Name suggestions for error messages ("did you mean ...?"), shared by catalog and binder."""

from __future__ import annotations

import difflib
from typing import Iterable


def suggest(name: str, candidates: Iterable[str], cutoff: float = 0.6) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest candidate, or an empty string."""
    cands = list(candidates)
    lowered = {c.lower(): c for c in cands}
    match = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=cutoff)
    return f"; did you mean {lowered[match[0]]!r}?" if match else ""
