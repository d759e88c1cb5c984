"""Query results as text in the shell's output modes: table, csv, json, jsonl, markdown, toon.

Cells are converted column by column with pyarrow.compute; Python touches single values only
for types Arrow cannot cast to text (binary, nested, intervals). The table mode shows the
first and last rows of a long result, as the DuckDB shell does. Imports pyarrow and the
standard library; ``toon`` goes through ``Result.toon``.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any, Sequence, TextIO

import pyarrow as pa
import pyarrow.compute as pc

MODES = ("table", "csv", "json", "jsonl", "markdown", "toon")
MAX_ROWS = 40          # rows the table mode shows (half from the start, half from the end)
MAX_CELL = 40          # characters of one table cell before it is cut with "…"
_BATCH = 65_536        # rows converted at a time by the streaming modes

_UNICODE_BOX = ("┌", "┬", "┐", "├", "┼", "┤", "└", "┴", "┘", "─", "│", "…", "·")
_ASCII_BOX = ("+", "+", "+", "+", "+", "+", "+", "+", "+", "-", "|", "~", ".")


# -- cell conversion -----------------------------------------------------------------------

def _python_text(v: Any) -> str:
    if isinstance(v, (bytes, bytearray)):
        return "\\x" + bytes(v).hex()
    if isinstance(v, (list, dict, tuple)):
        return json.dumps(v, default=str, ensure_ascii=False)
    return str(v)


def _is_numeric(t: pa.DataType) -> bool:
    return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)


def text_cells(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Each value as display text (nulls stay null): ``1.0`` keeps its point, booleans are
    ``true``/``false``, timestamps drop zero fractions, bytes show as ``\\x`` hex."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    t = arr.type
    if pa.types.is_dictionary(t):
        arr = arr.dictionary_decode()
        t = arr.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return arr.cast(pa.string())
    if pa.types.is_floating(t):
        s = pc.cast(arr, pa.string())
        integral = pc.match_substring_regex(s, r"^-?\d+$")
        return pc.if_else(integral, pc.binary_join_element_wise(s, ".0", ""), s)
    if pa.types.is_timestamp(t) or pa.types.is_time(t):
        s = pc.cast(arr, pa.string())
        s = pc.replace_substring_regex(s, r"(\.\d*?)0+(Z?)$", r"\1\2")
        return pc.replace_substring_regex(s, r"\.(Z?)$", r"\1")
    if (pa.types.is_integer(t) or pa.types.is_boolean(t) or pa.types.is_decimal(t)
            or pa.types.is_date(t) or pa.types.is_null(t)):
        return pc.cast(arr, pa.string())
    return pa.array([None if v is None else _python_text(v) for v in arr.to_pylist()],
                    pa.string())


def _escape_json_strings(s: pa.Array) -> pa.Array:
    if pc.any(pc.match_substring_regex(s, "[\x00-\x08\x0b\x0e-\x1f]")).as_py():
        # rare control characters: let json.dumps spell them (\u0001...)
        return pa.array([None if v is None else json.dumps(v, ensure_ascii=False)
                         for v in s.to_pylist()], pa.string())
    for old, new in (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"),
                     ("\t", "\\t"), ("\b", "\\b"), ("\f", "\\f")):
        s = pc.replace_substring(s, old, new)
    return pc.binary_join_element_wise('"', s, '"', "")


def json_literals(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Each value as a JSON literal (``null`` for NULL and for NaN/infinity)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    t = arr.type
    if pa.types.is_dictionary(t):
        arr = arr.dictionary_decode()
        t = arr.type
    if pa.types.is_integer(t) or pa.types.is_boolean(t) or pa.types.is_decimal(t):
        out = pc.cast(arr, pa.string())
    elif pa.types.is_floating(t):
        finite = pc.is_finite(arr)
        out = pc.if_else(finite, text_cells(arr), pa.scalar(None, pa.string()))
    elif pa.types.is_string(t) or pa.types.is_large_string(t):
        out = _escape_json_strings(arr.cast(pa.string()))
    elif (pa.types.is_date(t) or pa.types.is_timestamp(t) or pa.types.is_time(t)):
        out = _escape_json_strings(text_cells(arr))
    elif pa.types.is_null(t):
        out = pa.nulls(len(arr), pa.string())
    else:
        out = pa.array([None if v is None else json.dumps(_jsonable(v), ensure_ascii=False)
                        for v in arr.to_pylist()], pa.string())
    return pc.fill_null(out, "null")


def _jsonable(v: Any) -> Any:
    if isinstance(v, (bytes, bytearray)):
        return "\\x" + bytes(v).hex()
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        if v and all(isinstance(x, tuple) and len(x) == 2 for x in v):
            return {str(k): _jsonable(x) for k, x in v}  # a MAP arrives as key/value pairs
        return [_jsonable(x) for x in v]
    if isinstance(v, float) and v != v:
        return None
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return str(v)


# -- width of text on a terminal -----------------------------------------------------------

def display_width(s: str) -> int:
    """Columns ``s`` takes on a terminal: East Asian wide characters take two."""
    if s.isascii():
        return len(s)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else
               0 if unicodedata.combining(ch) else 1 for ch in s)


def _clip(s: str, limit: int, ellipsis: str) -> str:
    s = s.replace("\n", "\\n").replace("\r", "\\r").replace("\t", " ")
    if display_width(s) <= limit:
        return s
    out, w = [], 0
    for ch in s:
        cw = display_width(ch)
        if w + cw > limit - 1:
            break
        out.append(ch)
        w += cw
    return "".join(out) + ellipsis


def _pad(s: str, width: int, right: bool) -> str:
    gap = " " * (width - display_width(s))
    return gap + s if right else s + gap


# -- table mode ----------------------------------------------------------------------------

def format_table(columns: Sequence[str], types: Sequence[str], table: pa.Table, *,
                 max_rows: int = MAX_ROWS, max_width: int | None = None,
                 ascii_only: bool = False, null: str = "NULL") -> list[str]:
    """A box-drawn table with a header of names and SQL types; numbers right-aligned.

    Long results show the first and last ``max_rows // 2`` rows around a ``·`` row; a table
    wider than ``max_width`` hides middle columns behind a ``…`` column. The footer line says
    what was left out.
    """
    (tl, tm, tr, ml, mm, mr, bl, bm, br, hz, vt, ell, dot) = _ASCII_BOX if ascii_only \
        else _UNICODE_BOX
    n = table.num_rows
    cut = max_rows > 0 and n > max_rows
    half = max(max_rows // 2, 1)
    parts = [table.slice(0, half), table.slice(n - half)] if cut else [table]
    ncols = len(columns)
    cols: list[list[str]] = []
    for i in range(ncols):
        cells: list[str] = []
        for part in parts:
            cells.extend(null if v is None else _clip(v, MAX_CELL, ell)
                         for v in text_cells(part.column(i)).to_pylist())
        cols.append(cells)
    names = [_clip(str(c), MAX_CELL, ell) for c in columns]
    tnames = [_clip(t, MAX_CELL, ell) for t in types]
    widths = [max([display_width(names[i]), display_width(tnames[i])] +
                  [display_width(c) for c in cols[i]]) for i in range(ncols)]
    right = [_is_numeric(table.schema.field(i).type) for i in range(ncols)]

    shown = list(range(ncols))
    if max_width is not None and ncols > 1:
        shown = _fit_columns(widths, max_width)
    order: list[int | None] = []
    for k, i in enumerate(shown):
        if k and shown[k - 1] + 1 != i:
            order.append(None)  # the hidden columns' place
        order.append(i)

    def w(i: int | None) -> int:
        return 1 if i is None else widths[i]

    def rule(left: str, mid: str, end: str) -> str:
        return left + mid.join(hz * (w(i) + 2) for i in order) + end

    def line(cell) -> str:
        return vt + vt.join(" " + cell(i) + " " for i in order) + vt

    out = [rule(tl, tm, tr),
           line(lambda i: ell if i is None else _pad(names[i], widths[i], False)),
           line(lambda i: " " if i is None else _pad(tnames[i], widths[i], False)),
           rule(ml, mm, mr)]
    nshown = len(cols[0]) if cols else 0
    for r in range(nshown):
        if cut and r == half:
            out.append(line(lambda i: " " if i is None else _pad(dot, widths[i], right[i])))
        out.append(line(lambda i, r=r: ell if i is None else
                        _pad(cols[i][r], widths[i], right[i])))
    out.append(rule(bl, bm, br))
    notes = []
    if cut:
        notes.append(f"{n:,} rows ({2 * half} shown)")
    if len(shown) < ncols:
        notes.append(f"{ncols} columns ({len(shown)} shown)")
    if notes:
        out.append("  ".join(notes))
    return out


def _fit_columns(widths: list[int], max_width: int) -> list[int]:
    """Indexes of the columns to show: all when they fit, else as many as fit taken from
    both ends (the ``…`` column takes 4 characters)."""
    total = sum(w + 3 for w in widths) + 1
    if total <= max_width:
        return list(range(len(widths)))
    left, right = [], []
    used = 1 + 4
    lo, hi = 0, len(widths) - 1
    take_left = True
    while lo <= hi:
        i = lo if take_left else hi
        if used + widths[i] + 3 > max_width:
            break
        used += widths[i] + 3
        if take_left:
            left.append(i)
            lo += 1
        else:
            right.append(i)
            hi -= 1
        take_left = not take_left
    if not left:
        left = [0]
    return left + sorted(right)


# -- streaming modes -----------------------------------------------------------------------

def _batches(table: pa.Table) -> list[pa.Table]:
    return [table.slice(i, _BATCH) for i in range(0, table.num_rows, _BATCH)] or [table]


def write_jsonl(out: TextIO, columns: Sequence[str], table: pa.Table, array: bool = False,
                ) -> None:
    """One JSON object per row: ``jsonl`` lines, or a JSON array of them (``array``)."""
    keys = [json.dumps(str(c), ensure_ascii=False) + ":" for c in columns]
    first = True
    if array:
        out.write("[")
    for part in _batches(table):
        if part.num_rows == 0:
            continue
        if keys:
            pieces: list[Any] = []
            for i, key in enumerate(keys):
                pieces.append(("{" if i == 0 else ",") + key)
                pieces.append(json_literals(part.column(i)))
            pieces.append("}")
            objects = pc.binary_join_element_wise(*pieces, "").to_pylist()
        else:
            objects = ["{}"] * part.num_rows
        sep = ",\n" if array else "\n"
        text = sep.join(objects)
        if array and not first:
            out.write(",\n")
        out.write(text)
        if not array:
            out.write("\n")
        first = False
    if array:
        out.write("]\n")


def _csv_fields(arr: pa.Array | pa.ChunkedArray, delimiter: str) -> pa.Array:
    """Each value as a CSV field: quoted only when it holds the delimiter, a quote or a line
    break (and when it is the empty string, so that it differs from NULL, an empty field)."""
    t = arr.type
    s = text_cells(arr)
    if _is_numeric(t) or pa.types.is_boolean(t) or pa.types.is_date(t) or \
            pa.types.is_timestamp(t) or pa.types.is_time(t):
        return pc.fill_null(s, "")
    needs = pc.or_(pc.match_substring_regex(s, "[\"\r\n" + _re_char(delimiter) + "]"),
                   pc.equal(pc.utf8_length(s), 0))
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(s, '"', '""'), '"', "")
    return pc.fill_null(pc.if_else(needs, quoted, s), "")


def _re_char(ch: str) -> str:
    return "\\t" if ch == "\t" else "\\" + ch if ch in "\\^]-[" else ch


def write_csv(out: TextIO, columns: Sequence[str], table: pa.Table, delimiter: str = ",",
              header: bool = True) -> None:
    """RFC 4180 CSV with a header line; NULL is an empty field, ``""`` the empty string."""
    if not columns:
        return
    if header:
        names = pa.array([str(c) for c in columns], pa.string())
        out.write(delimiter.join(_csv_fields(names, delimiter).to_pylist()) + "\n")
    for part in _batches(table):
        if part.num_rows == 0:
            continue
        fields = [_csv_fields(col, delimiter) for col in part.columns]
        lines = fields[0] if len(fields) == 1 else \
            pc.binary_join_element_wise(*fields, delimiter)
        out.write("\n".join(lines.to_pylist()) + "\n")


def write_markdown(out: TextIO, columns: Sequence[str], types: Sequence[str],
                   table: pa.Table, null: str = "NULL") -> None:
    """A GitHub-flavoured Markdown table of every row; numbers right-aligned."""
    if not columns:
        return
    cells = []
    for col in table.columns:
        s = pc.fill_null(text_cells(col), null)
        s = pc.replace_substring(s, "|", "\\|")
        s = pc.replace_substring_regex(s, "[\r\n]+", " ")
        cells.append(s)
    names = [str(c).replace("|", "\\|") for c in columns]
    widths = [max([len(n), 3] + ([pc.max(pc.utf8_length(c)).as_py() or 0] if len(c) else []))
              for n, c in zip(names, cells)]
    right = [_is_numeric(f.type) for f in table.schema]
    out.write("| " + " | ".join(n.ljust(w) for n, w in zip(names, widths)) + " |\n")
    out.write("|" + "|".join(("-" * (w + 1) + ":") if r else ("-" * (w + 2))
                             for w, r in zip(widths, right)) + "|\n")
    if table.num_rows == 0:
        return
    padded = [pc.utf8_lpad(c, w) if r else pc.utf8_rpad(c, w)
              for c, w, r in zip(cells, widths, right)]
    lines = pc.binary_join_element_wise("| ", *[x for p in padded for x in (p, " | ")][:-1],
                                        " |", "")
    out.write("\n".join(lines.to_pylist()) + "\n")


def write_result(out: TextIO, mode: str, columns: Sequence[str], types: Sequence[str],
                 table: pa.Table, *, toon: str | None = None, max_rows: int = MAX_ROWS,
                 max_width: int | None = None, ascii_only: bool = False) -> None:
    """Write rows in ``mode`` (one of MODES); ``toon`` is the pre-rendered TOON text."""
    if mode == "table":
        out.write("\n".join(format_table(columns, types, table, max_rows=max_rows,
                                         max_width=max_width, ascii_only=ascii_only)) + "\n")
    elif mode == "csv":
        write_csv(out, columns, table)
    elif mode == "json":
        write_jsonl(out, columns, table, array=True)
    elif mode == "jsonl":
        write_jsonl(out, columns, table)
    elif mode == "markdown":
        write_markdown(out, columns, types, table)
    elif mode == "toon":
        out.write((toon or "") + "\n")
    else:
        raise ValueError(f"unknown mode {mode!r}")
