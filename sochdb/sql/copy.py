"""COPY: tables and query results to and from Parquet, CSV and JSON-lines files.

``COPY t FROM 'file'`` loads through the same path as INSERT (casts, constraints, triggers) in
the statement's transaction; CSV fields are read as text and cast like string values in an
INSERT (an unquoted empty field is NULL, a quoted one the empty string). ``COPY t TO 'file'`` /
``COPY (query) TO 'file'`` write with pyarrow's writers. The format comes from ``(FORMAT ...)``
or the file extension. Errors name the file, and for bad values the row and column.
"""

from __future__ import annotations

import os
import re

import pyarrow as pa
from sqlglot import exp

from sochdb.errors import BindError, DataError, NotSupportedError, OperationalError
from sochdb.sql import types as T
from sochdb.sql.result import Result
from sochdb.sql.statement import StmtCtx

FORMATS = ("parquet", "csv", "json", "jsonl", "ndjson", "arrow", "feather")


def _options(stmt: exp.Copy) -> dict[str, str]:
    out = {}
    for p in stmt.args.get("params") or []:
        key = p.this.name.lower() if isinstance(p.this, exp.Expression) else str(p.this).lower()
        val = p.args.get("expression")
        if isinstance(val, exp.Boolean):  # HEADER false
            v = "true" if val.this else "false"
        elif isinstance(val, exp.Expression):
            v = val.name if not isinstance(val, exp.Literal) else val.this
        else:
            v = str(val) if val is not None else "true"
        out[key] = str(v)
    return out


def _format(path: str, opts: dict[str, str]) -> str:
    fmt = opts.get("format")
    if fmt is None:
        ext = os.path.splitext(path)[1].lower().lstrip(".")
        fmt = {"parq": "parquet", "tsv": "csv", "ipc": "arrow"}.get(ext, ext)
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise NotSupportedError(f"COPY {path!r}: format {fmt!r} is not supported; use one of "
                                f"parquet, csv, json (lines) or arrow, or name it with "
                                f"(FORMAT ...)")
    return "jsonl" if fmt in ("json", "ndjson") else "arrow" if fmt == "feather" else fmt


def _csv_options(path: str, opts: dict[str, str]) -> tuple[str, bool]:
    delim = opts.get("delimiter") or opts.get("delim") or opts.get("sep") or (
        "\t" if path.endswith(".tsv") else ",")
    header = opts.get("header", "true").lower() not in ("false", "0", "off")
    return delim, header


def _csv_columns(path: str, delim: str, header: bool) -> list[str]:
    """The column names pyarrow gives the file: its header, or f0, f1, ... (the first record
    is read, so that every column can be read as text)."""
    import csv
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        first = next((r for r in csv.reader(f, delimiter=delim) if r), [])
    return first if header else [f"f{i}" for i in range(len(first))]


def _read_csv(path: str, opts: dict[str, str]) -> pa.Table:
    import pyarrow.csv as pcsv
    delim, header = _csv_options(path, opts)
    names = _csv_columns(path, delim, header)
    convert = pcsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                  strings_can_be_null=True, quoted_strings_can_be_null=False)
    # In a one-column file an empty line is a NULL (that is how NULL is written there).
    parse = pcsv.ParseOptions(delimiter=delim, ignore_empty_lines=len(names) != 1)

    def read(threads: bool) -> pa.Table:
        return pcsv.read_csv(path, read_options=pcsv.ReadOptions(
            autogenerate_column_names=not header, use_threads=threads),
            parse_options=parse, convert_options=convert)

    try:
        return read(True)
    except pa.ArrowInvalid as first:
        err = first
        # Only a single-threaded read knows the row number of a malformed row.
        try:
            read(False)
        except pa.ArrowInvalid as again:
            err = again
        msg = str(err).splitlines()[0]
        m = re.search(r"Row #(\d+): ", msg)
        if m:
            row = int(m.group(1)) - header
            msg = f"row {row}: " + msg.replace(m.group(0), "")
        raise DataError(f"COPY: cannot read {path!r} as csv: {msg}", path=path) from None


def read_file(path: str, fmt: str, opts: dict[str, str]) -> pa.Table:
    if not os.path.exists(path):
        raise OperationalError(f"COPY: no such file {path!r}", path=path)
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq
            return pq.read_table(path)
        if fmt == "csv":
            return _read_csv(path, opts)
        if fmt == "jsonl":
            import pyarrow.json as pj
            return pj.read_json(path)
        with pa.memory_map(path) as src:
            try:
                return pa.ipc.open_file(src).read_all()
            except pa.ArrowInvalid:
                src.seek(0)
                return pa.ipc.open_stream(src).read_all()
    except (pa.ArrowException, OSError, UnicodeDecodeError) as e:
        raise DataError(f"COPY: cannot read {path!r} as {fmt}: {str(e).splitlines()[0]}",
                        path=path) from None


def _load_error(e: DataError, path: str, tdef, cols, data: pa.Table) -> DataError:
    """``e`` (a value that does not cast to its column) with the file and the first row at
    fault, found by halving: each step casts half of the remaining range, so the search costs
    about two casts of the column."""
    given = {c.id: data.column(i) for i, c in enumerate(cols)}

    def fails(v, to, lo: int, hi: int) -> bool:
        try:
            T.cast(v.slice(lo, hi - lo), to)
        except DataError:
            return True
        return False

    for c in tdef.columns:
        v = given.get(c.id)
        if v is None or v.type == c.type or not fails(v, c.type, 0, len(v)):
            continue
        lo, hi = 0, len(v)  # the first row that fails is in [lo, hi)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if fails(v, c.type, lo, mid) else (mid, hi)
        return DataError(f"COPY: cannot load {path!r}: row {lo + 1}: {e.message}",
                         path=path, row=lo + 1, column=c.name)
    return DataError(f"COPY: cannot load {path!r}: {e.message}", path=path)


def write_file(table: pa.Table, path: str, fmt: str, opts: dict[str, str]) -> None:
    tmp = path + ".tmp"
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq
            pq.write_table(table, tmp, compression=opts.get("compression", "zstd"))
        elif fmt == "csv":
            import pyarrow.csv as pcsv
            delim, header = _csv_options(path, opts)
            pcsv.write_csv(table, tmp, pcsv.WriteOptions(include_header=header,
                                                          delimiter=delim))
        elif fmt == "jsonl":
            import json
            with open(tmp, "w", encoding="utf-8") as f:
                for row in table.to_pylist():
                    f.write(json.dumps(row, default=_json_value) + "\n")
        else:
            with pa.OSFile(tmp, "wb") as sink, pa.ipc.new_file(sink, table.schema) as w:
                w.write_table(table)
        os.replace(tmp, path)
    except OSError as e:
        raise OperationalError(f"COPY: cannot write {path!r}: {e.strerror or e}",
                               path=path) from None
    except (pa.ArrowNotImplementedError, pa.ArrowTypeError, pa.ArrowInvalid) as e:
        raise NotSupportedError(f"COPY: cannot write {path!r} as {fmt}: "
                                f"{str(e).splitlines()[0]}", path=path) from None
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def copy(ctx: StmtCtx, stmt: exp.Copy) -> Result:
    files = stmt.args.get("files") or []
    if len(files) != 1:
        raise NotSupportedError("COPY takes exactly one file")
    path = files[0].this if isinstance(files[0], exp.Literal) else files[0].name
    opts = _options(stmt)
    fmt = _format(path, opts)
    target = stmt.this
    loading = bool(stmt.args.get("kind"))
    if loading:
        from sochdb.sql import dml
        if not isinstance(target, (exp.Table, exp.Schema)):
            raise NotSupportedError("COPY ... FROM needs a table name")
        table_node = target.this if isinstance(target, exp.Schema) else target
        tdef = ctx.catalog.get(table_node.name)
        if tdef is None:
            raise BindError(f"COPY: unknown table {table_node.name!r}")
        data = read_file(path, fmt, opts)
        if isinstance(target, exp.Schema) and target.expressions:
            cols = [tdef.column(c.name) for c in target.expressions]
        elif all(tdef.has_column(n) for n in data.schema.names):
            cols = [tdef.column(n) for n in data.schema.names]
        else:
            cols = list(tdef.columns)
        if len(cols) != data.num_columns:
            raise DataError(f"COPY: {path!r} has {data.num_columns} columns, table "
                            f"{tdef.name} expects {len(cols)}", path=path)
        data = data.rename_columns([c.name for c in cols])
        try:
            full = dml.complete_rows(ctx, tdef, cols, data)
        except DataError as e:
            raise _load_error(e, path, tdef, cols, data) from e
        n = dml.insert_table(ctx, tdef, full)
        return Result(message=f"{_rows(n)} copied from {path}", rowcount=n, statement="COPY")
    if isinstance(target, exp.Subquery):
        op = ctx.planner().plan_query(target.this)
        names = [c.name for c in op.columns]
    elif isinstance(target, exp.Table):
        sel = exp.select("*").from_(target.copy())
        op = ctx.planner().plan_query(sel)
        names = [c.name for c in op.columns]
    else:
        raise NotSupportedError("COPY ... TO needs a table or a (query)")
    table = op.execute(ctx.exec_ctx()).rename_columns(names)
    write_file(table, path, fmt, opts)
    return Result(message=f"{_rows(table.num_rows)} copied to {path}", rowcount=table.num_rows,
                  statement="COPY")


def _json_value(v: object) -> str:
    """JSON text for values JSON has no type for; a BLOB is written with ``\\xHH`` escapes,
    which the cast of text to BLOB decodes, so it reads back unchanged."""
    if isinstance(v, bytes):
        return "".join(chr(b) if 32 <= b < 127 and b != 92 else f"\\x{b:02X}" for b in v)
    return str(v)


def _rows(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"
