"""Box-drawn text tables with column types, as the shells of DuckDB and sqlite3 print them."""

from __future__ import annotations

from typing import Any, Sequence

MAX_ROWS = 40
MAX_WIDTH = 40


def render_value(v: Any) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, bytes):
        return "\\x" + v.hex() if len(v) <= 16 else f"<{len(v)} bytes>"
    return str(v)


def _clip(s: str) -> str:
    s = s.replace("\n", "\\n")
    return s if len(s) <= MAX_WIDTH else s[:MAX_WIDTH - 1] + "…"


def format_table(columns: Sequence[str], types: Sequence[str], rows: Sequence[tuple],
                 max_rows: int = MAX_ROWS) -> str:
    shown = list(rows) if len(rows) <= max_rows else \
        list(rows[:max_rows // 2]) + [None] + list(rows[-(max_rows // 2):])
    cells = [[_clip(render_value(v)) for v in r] if r is not None else None for r in shown]
    widths = [max(len(c), len(t)) for c, t in zip(columns, types)]
    for r in cells:
        if r is not None:
            widths = [max(w, len(x)) for w, x in zip(widths, r)]

    def line(left: str, mid: str, right: str) -> str:
        return left + mid.join("─" * (w + 2) for w in widths) + right

    def row(values: Sequence[str]) -> str:
        return "│" + "│".join(f" {v:<{w}} " for v, w in zip(values, widths)) + "│"

    out = [line("┌", "┬", "┐"), row(columns), row(types), line("├", "┼", "┤")]
    for r in cells:
        out.append(row(["·"] * len(widths)) if r is None else row(r))
    out.append(line("└", "┴", "┘"))
    if len(rows) > max_rows:
        out.append(f"{len(rows)} rows ({max_rows} shown)")
    return "\n".join(out)
