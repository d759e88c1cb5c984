"""``.import`` and ``.export``: CSV, TSV, Parquet, JSON Lines, JSON and Arrow files.

Files are read in record batches with pyarrow's streaming readers and inserted in one
transaction (the table is created first when it is missing, in the same transaction); a
progress bar on stderr appears when an import takes longer than half a second. Exports write
a query's Arrow result by the file's extension. Imports pyarrow and sochdb.cli helpers.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator, TextIO

import pyarrow as pa
import pyarrow.compute as pc

from sochdb.cli.render import json_literals, write_csv, write_jsonl, write_markdown
from sochdb.cli.target import quote_ident
from sochdb.errors import DataError, OperationalError, ProgrammingError

#: File extension -> format name.
EXTENSIONS = {
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv",
    ".parquet": "parquet", ".pq": "parquet",
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json",
    ".arrow": "arrow", ".feather": "arrow", ".ipc": "arrow",
    ".md": "markdown", ".toon": "toon",
}
IMPORT_FORMATS = ("csv", "tsv", "parquet", "jsonl", "json", "arrow")
EXPORT_FORMATS = ("csv", "tsv", "parquet", "jsonl", "json", "arrow", "markdown", "toon")
BLOCK_BYTES = 4 << 20      # CSV/JSONL read block; column types are guessed from the first one
PARQUET_BATCH = 65_536
PROGRESS_DELAY = 0.5       # seconds before the progress bar appears (SOCHDB_PROGRESS_DELAY)


def detect_format(path: str, fmt: str | None, allowed: tuple[str, ...]) -> str:
    """The format named by ``fmt`` or by the file's extension; a clear error otherwise."""
    if fmt is None:
        ext = os.path.splitext(path)[1].lower()
        fmt = EXTENSIONS.get(ext)
        if fmt is None:
            known = ", ".join(sorted(k for k, v in EXTENSIONS.items() if v in allowed))
            raise ProgrammingError(f"{path}: cannot tell the format from the extension "
                                   f"{ext or '(none)'}; use one of {known} or --format")
    fmt = fmt.lower()
    if fmt not in allowed:
        raise ProgrammingError(f"unknown format {fmt!r}: expected one of {', '.join(allowed)}")
    return fmt


# -- progress ----------------------------------------------------------------------------

class ProgressBar:
    """A one-line bar on ``stream`` that shows up only once the work has run ``delay``
    seconds, is redrawn at most 10 times a second and is erased by ``finish``."""

    def __init__(self, label: str, stream: TextIO | None = None, delay: float | None = None,
                 width: int = 30) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        if delay is None:
            delay = _env_float("SOCHDB_PROGRESS_DELAY", PROGRESS_DELAY)
        self.delay, self.width = delay, width
        self.start = time.perf_counter()
        self._last = 0.0
        self._drawn = 0

    def update(self, fraction: float, rows: int) -> None:
        now = time.perf_counter()
        elapsed = now - self.start
        if elapsed < self.delay or now - self._last < 0.1:
            return
        self._last = now
        frac = min(max(fraction, 0.0), 1.0)
        filled = int(frac * self.width)
        text = (f"{self.label} {frac:4.0%} |{'#' * filled}{' ' * (self.width - filled)}| "
                f"{rows:,} rows, {rows / max(elapsed, 1e-9):,.0f} rows/s")
        self.stream.write("\r" + text + " " * max(0, self._drawn - len(text)))
        self.stream.flush()
        self._drawn = len(text)

    def finish(self) -> None:
        if self._drawn:
            self.stream.write("\r" + " " * self._drawn + "\r")
            self.stream.flush()
            self._drawn = 0


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


# -- reading -------------------------------------------------------------------------------

@dataclass
class Source:
    """Batches of a file plus a way to tell how far reading has got (0..1)."""

    schema: pa.Schema
    batches: Iterator[pa.RecordBatch]
    done: Callable[[int], float]  # rows read so far -> fraction of the file
    close: Callable[[], None]


def open_source(path: str, fmt: str, types: dict[str, pa.DataType] | None = None) -> Source:
    """Open ``path`` for batch reading; ``types`` fixes column types (of an existing table)
    instead of guessing them. Raises OperationalError for a missing file; pyarrow's errors
    for unreadable contents."""
    if not os.path.isfile(path):
        raise OperationalError(f"{path}: no such file", path=path)
    return _open(path, fmt, types or {})


def _open(path: str, fmt: str, types: dict[str, pa.DataType]) -> Source:
    if fmt in ("csv", "tsv", "jsonl"):
        f = pa.OSFile(path, "rb")
        size = max(os.path.getsize(path), 1)
        try:
            if fmt == "jsonl":
                import pyarrow.json as pa_json
                schema = pa.schema([(k, v) for k, v in types.items()]) if types else None
                reader = pa_json.open_json(
                    f, read_options=pa_json.ReadOptions(block_size=BLOCK_BYTES),
                    parse_options=pa_json.ParseOptions(
                        explicit_schema=schema,
                        unexpected_field_behavior="infer" if schema is not None else None))
            else:
                import pyarrow.csv as pa_csv
                reader = pa_csv.open_csv(
                    f, read_options=pa_csv.ReadOptions(block_size=BLOCK_BYTES),
                    parse_options=pa_csv.ParseOptions(delimiter="\t" if fmt == "tsv" else ","),
                    convert_options=pa_csv.ConvertOptions(column_types=types or None,
                                                          strings_can_be_null=True))
        except BaseException:
            f.close()
            raise
        return Source(reader.schema, iter(reader), lambda rows: f.tell() / size, f.close)
    if fmt == "parquet":
        import pyarrow.parquet as pq
        pf = pq.ParquetFile(path)
        total = max(pf.metadata.num_rows, 1)
        return Source(pf.schema_arrow, pf.iter_batches(batch_size=PARQUET_BATCH),
                      lambda rows: rows / total, pf.close)
    if fmt == "arrow":
        source = pa.memory_map(path, "r")
        try:
            reader = pa.ipc.open_file(source)
            batches = (reader.get_batch(i) for i in range(reader.num_record_batches))
            total = max(sum(reader.get_batch(i).num_rows
                            for i in range(reader.num_record_batches)), 1)
        except pa.ArrowInvalid:
            source.seek(0)
            reader = pa.ipc.open_stream(source)
            batches, total = iter(reader), 0
        return Source(reader.schema, batches,
                      (lambda rows: rows / total) if total else (lambda rows: 0.0),
                      source.close)
    if fmt == "json":
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        if isinstance(data, dict):
            data = [data]
        if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
            raise DataError(f"{path}: expected a JSON array of objects (or use .jsonl with one "
                            f"object per line)", path=path)
        table = pa.Table.from_pylist(data)
        total = max(table.num_rows, 1)
        return Source(table.schema, iter(table.to_batches(PARQUET_BATCH)),
                      lambda rows: rows / total, lambda: None)
    raise ProgrammingError(f"cannot import {fmt} files")


# -- SQL types for new tables --------------------------------------------------------------

def sql_type(t: pa.DataType) -> str:
    """The column type a new table gets for an Arrow type; nested values are kept as JSON
    text (VARCHAR)."""
    if pa.types.is_dictionary(t):
        return sql_type(t.value_type)
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    if pa.types.is_int8(t) or pa.types.is_int16(t):
        return "SMALLINT"
    if pa.types.is_signed_integer(t):
        return "BIGINT"
    if pa.types.is_unsigned_integer(t):
        return "UBIGINT" if t.bit_width == 64 else "UINTEGER"
    if pa.types.is_floating(t):
        return "DOUBLE"
    if pa.types.is_decimal(t):
        return f"DECIMAL({t.precision},{t.scale})"
    if pa.types.is_date(t):
        return "DATE"
    if pa.types.is_timestamp(t):
        return "TIMESTAMPTZ" if t.tz else "TIMESTAMP"
    if pa.types.is_time(t):
        return "TIME"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return "BLOB"
    if pa.types.is_fixed_size_list(t) and pa.types.is_floating(t.value_type):
        return f"FLOAT[{t.list_size}]"
    if (pa.types.is_list(t) or pa.types.is_large_list(t)) and not pa.types.is_nested(
            t.value_type) and not pa.types.is_null(t.value_type):
        return sql_type(t.value_type) + "[]"
    return "VARCHAR"


def _column_values(col: pa.Array | pa.ChunkedArray, target_sql: str) -> list:
    """Python values of one column for executemany; nested values become JSON text."""
    t = col.type
    if pa.types.is_dictionary(t):
        col = col.dictionary_decode() if isinstance(col, pa.Array) else pc.cast(col, t.value_type)
        t = col.type
    if target_sql == "VARCHAR" and pa.types.is_nested(t):
        return pc.if_else(pc.is_null(col), pa.scalar(None, pa.string()),
                          json_literals(col)).to_pylist()
    if pa.types.is_null(t):
        return [None] * len(col)
    return col.to_pylist()


# -- import --------------------------------------------------------------------------------

@dataclass
class ImportStats:
    rows: int
    seconds: float
    created: bool
    table: str
    in_open_transaction: bool

    def __str__(self) -> str:
        made = " (new table)" if self.created else ""
        note = "; inside the open transaction: COMMIT to keep it" if \
            self.in_open_transaction else ""
        rate = self.rows / self.seconds if self.seconds > 0 else 0.0
        return (f"Imported {self.rows:,} rows into {self.table}{made} in "
                f"{self.seconds:.2f} s ({rate:,.0f} rows/s){note}")


def import_file(target: Any, path: str, table: str, fmt: str | None = None,
                progress: ProgressBar | None = None) -> ImportStats:
    """Insert every row of ``path`` into ``table`` (created from the file's columns when it
    does not exist) in one transaction: on any error nothing is kept."""
    fmt = detect_format(path, fmt, IMPORT_FORMATS)
    start = time.perf_counter()
    existing = target.columns(table)
    own_txn = not target.in_transaction
    rows = 0
    source = None
    try:
        source = open_source(path, fmt)
        known = target.arrow_types(table) if existing and hasattr(target, "arrow_types") \
            else None
        if known and fmt in ("csv", "tsv", "jsonl"):
            # read the file with the table's column types instead of guessing them
            names = source.schema.names
            source.close()
            source = None
            source = open_source(path, fmt, {n: known[n.lower()] for n in names
                                             if n.lower() in known})
        names = source.schema.names
        if existing is None:
            sql_types = [sql_type(f.type) for f in source.schema]
            if not names:
                raise DataError(f"{path}: the file has no columns", path=path)
            ddl = f"CREATE TABLE {quote_ident(table)} (" + ", ".join(
                f"{quote_ident(n)} {t}" for n, t in zip(names, sql_types)) + ")"
            targets = names
        else:
            targets = _match_columns(path, names, [c for c, _ in existing], table)
            types_by_name = {c.lower(): t.upper() for c, t in existing}
            sql_types = [types_by_name.get(c.lower(), "") for c in targets]
        insert = (f"INSERT INTO {quote_ident(table)} ("
                  + ", ".join(quote_ident(c) for c in targets) + ") VALUES ("
                  + ", ".join("?" * len(targets)) + ")")
        if own_txn:
            target.execute("BEGIN")
        try:
            if existing is None:
                target.execute(ddl)
            for batch in source.batches:
                if batch.num_rows == 0:
                    continue
                columns = [_column_values(batch.column(i), sql_types[i])
                           for i in range(batch.num_columns)]
                target.executemany(insert, list(zip(*columns)))
                rows += batch.num_rows
                if progress is not None:
                    progress.update(source.done(rows), rows)
            if own_txn:
                target.execute("COMMIT")
        except BaseException:
            if own_txn and target.in_transaction:
                target.execute("ROLLBACK")
            raise
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError,
            json.JSONDecodeError, UnicodeDecodeError) as e:
        kept = "" if not own_txn else " (nothing was imported)"
        raise DataError(f"{path}: {_first_line(e)}{kept}", path=path) from None
    finally:
        if source is not None:
            source.close()
        if progress is not None:
            progress.finish()
    return ImportStats(rows, time.perf_counter() - start, existing is None, table,
                       not own_txn)


def _match_columns(path: str, names: list[str], table_cols: list[str], table: str,
                   ) -> list[str]:
    """Table columns for the file's columns: by name when every name matches, else by
    position when the counts agree."""
    by_lower = {c.lower(): c for c in table_cols}
    if all(n.lower() in by_lower for n in names):
        return [by_lower[n.lower()] for n in names]
    if len(names) == len(table_cols):
        return list(table_cols)
    raise ProgrammingError(f"{path} has columns ({', '.join(names)}) but table {table} has "
                           f"({', '.join(table_cols)}): use the same names or the same number "
                           f"of columns")


# -- export --------------------------------------------------------------------------------

def export_query(what: str) -> str:
    """The query for ``.export``'s first argument: a table/view name or a SELECT."""
    w = what.strip()
    head = w.split(None, 1)[0].lower() if w else ""
    if head in ("select", "with", "values", "from", "table") or w.startswith("("):
        return w.rstrip(";")
    return f"SELECT * FROM {quote_ident(w)}"


def export_result(result: Any, path: str, fmt: str | None = None) -> int:
    """Write ``result`` to ``path`` in the format its extension names; return the row count.
    A failed export leaves no partial file behind."""
    fmt = detect_format(path, fmt, EXPORT_FORMATS)
    table = result.arrow()
    columns = list(result.columns)
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq
            pq.write_table(table, tmp)
        elif fmt == "arrow":
            with pa.OSFile(tmp, "wb") as sink, pa.ipc.new_file(sink, table.schema) as w:
                w.write_table(table)
        else:
            with open(tmp, "w", encoding="utf-8", newline="") as out:
                if fmt in ("csv", "tsv"):
                    write_csv(out, columns, table, delimiter="\t" if fmt == "tsv" else ",")
                elif fmt == "jsonl":
                    write_jsonl(out, columns, table)
                elif fmt == "json":
                    write_jsonl(out, columns, table, array=True)
                elif fmt == "markdown":
                    write_markdown(out, columns, result.types, table)
                else:
                    out.write(result.toon() + "\n")
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return table.num_rows


def _first_line(e: BaseException) -> str:
    return " ".join(str(e).split("\n")[0].split())
