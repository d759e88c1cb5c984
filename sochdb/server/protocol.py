"""The IPC wire protocol: frames, opcodes and payload codecs shared by server and client.

A frame is a 1-byte opcode, a 4-byte little-endian payload length, then the payload;
docs/protocol.md describes every layout. Imports the standard library and sochdb.errors;
pyarrow only inside the SQL codecs.
"""

from __future__ import annotations

import json
import struct
import sys
from array import array
from collections.abc import Iterable, Mapping, Sequence
from itertools import accumulate
from typing import Any

from sochdb.errors import Error, ProgrammingError, error_from_code

#: The protocol version this package speaks. Version 1 is the original SochDB protocol
#: (not-found is an empty VALUE, errors are bare text); a HELLO with version >= 2 switches a
#: connection to NOT_FOUND replies and coded errors.
VERSION = 2
MIN_VERSION = 1
#: Default largest payload accepted in one frame (the server's --max-frame-bytes).
DEFAULT_MAX_FRAME = 16 * 1024 * 1024
#: Streams (scans, SQL results) are cut into frames of at most this many payload bytes.
STREAM_CHUNK = 1024 * 1024

HEADER = struct.Struct("<BI")
HEADER_SIZE = HEADER.size
U16 = struct.Struct("<H")
U32 = struct.Struct("<I")
U64 = struct.Struct("<Q")
HELLO_REPLY = struct.Struct("<HII")  # version, max_frame, server pid
ERROR_HEAD = struct.Struct("<IH")    # numeric code, length of the code string

# -- request opcodes (0x01-0x0F keep the original SochDB numbers) -------------------------
PUT = 0x01
GET = 0x02
DELETE = 0x03
BEGIN = 0x04
COMMIT = 0x05
ABORT = 0x06
QUERY = 0x07
CREATE_TABLE = 0x08
PUT_PATH = 0x09
GET_PATH = 0x0A
SCAN = 0x0B
CHECKPOINT = 0x0C
STATS = 0x0D
PING = 0x0E
EXECUTE_SQL = 0x0F
HELLO = 0x10
DELETE_PATH = 0x11
SCAN_RANGE = 0x12
PUT_MANY = 0x13
#: ``TXN | op`` runs ``op`` inside a transaction: the payload starts with the u64 txn id.
TXN = 0x40
TXN_OPS = frozenset({PUT, GET, DELETE, QUERY, PUT_PATH, GET_PATH, SCAN, EXECUTE_SQL,
                     DELETE_PATH, SCAN_RANGE})

# -- reply opcodes -------------------------------------------------------------------------
OK = 0x80
ERROR = 0x81
VALUE = 0x82
TXN_ID = 0x83
ROW = 0x84          # reserved (original protocol), never sent
END_STREAM = 0x85
STATS_REPLY = 0x86
PONG = 0x87
NOT_FOUND = 0x88
HELLO_OK = 0x89
ENTRIES = 0x8A
RESULT = 0x8B
ARROW = 0x8C

REQUEST_NAMES = {
    PUT: "PUT", GET: "GET", DELETE: "DELETE", BEGIN: "BEGIN", COMMIT: "COMMIT",
    ABORT: "ABORT", QUERY: "QUERY", CREATE_TABLE: "CREATE_TABLE", PUT_PATH: "PUT_PATH",
    GET_PATH: "GET_PATH", SCAN: "SCAN", CHECKPOINT: "CHECKPOINT", STATS: "STATS", PING: "PING",
    EXECUTE_SQL: "EXECUTE_SQL", HELLO: "HELLO", DELETE_PATH: "DELETE_PATH",
    SCAN_RANGE: "SCAN_RANGE", PUT_MANY: "PUT_MANY",
}
REQUEST_NAMES.update({TXN | op: "TXN_" + REQUEST_NAMES[op] for op in TXN_OPS})
REPLY_NAMES = {
    OK: "OK", ERROR: "ERROR", VALUE: "VALUE", TXN_ID: "TXN_ID", ROW: "ROW",
    END_STREAM: "END_STREAM", STATS_REPLY: "STATS", PONG: "PONG", NOT_FOUND: "NOT_FOUND",
    HELLO_OK: "HELLO", ENTRIES: "ENTRIES", RESULT: "RESULT", ARROW: "ARROW",
}

_pack_header = HEADER.pack
_LITTLE = sys.byteorder == "little"


def frame(op: int, payload: bytes = b"") -> bytes:
    """One frame: opcode, length, payload."""
    return _pack_header(op, len(payload)) + payload


def malformed(what: str, detail: str) -> ProgrammingError:
    return ProgrammingError(f"malformed {what} payload: {detail}")


# -- keys, paths, values -------------------------------------------------------------------

def encode_put(key: bytes, value: bytes) -> bytes:
    """PUT: u32 key length, key, value (the rest)."""
    return U32.pack(len(key)) + key + value


def decode_put(p: bytes) -> tuple[bytes, bytes]:
    if len(p) < 4:
        raise malformed("PUT", f"{len(p)} bytes, need at least 4 for the key length")
    n = U32.unpack_from(p)[0]
    if 4 + n > len(p):
        raise malformed("PUT", f"key length {n} runs past the {len(p)}-byte payload")
    return p[4:4 + n], p[4 + n:]


def encode_path(path: str) -> bytes:
    """A path as the original protocol sends it: u16 segment count, then u16-length segments.

    Splitting on "/" and joining back is exact ("a//b" and "/a" round-trip unchanged)."""
    if not isinstance(path, str):
        raise TypeError(f"path must be str, not {type(path).__name__}")
    if not path:
        raise ValueError("path must not be empty")
    segs = [s.encode("utf-8") for s in path.split("/")]
    if len(segs) > 0xFFFF:
        raise ValueError(f"path has {len(segs)} segments, more than the protocol's 65535")
    parts = [U16.pack(len(segs))]
    for s in segs:
        if len(s) > 0xFFFF:
            raise ValueError(f"path segment of {len(s)} bytes is over the protocol's 65535")
        parts.append(U16.pack(len(s)))
        parts.append(s)
    return b"".join(parts)


def decode_path(p: bytes, what: str = "path") -> tuple[str, int]:
    """The path at the start of ``p`` and the offset just after it."""
    if len(p) < 2:
        raise malformed(what, "missing the segment count")
    count = U16.unpack_from(p)[0]
    pos = 2
    segs = []
    for _ in range(count):
        if pos + 2 > len(p):
            raise malformed(what, "truncated segment length")
        n = U16.unpack_from(p, pos)[0]
        pos += 2
        if pos + n > len(p):
            raise malformed(what, f"segment of {n} bytes runs past the payload")
        segs.append(p[pos:pos + n])
        pos += n
    try:
        path = b"/".join(segs).decode("utf-8")
    except UnicodeDecodeError as e:
        raise malformed(what, f"path is not UTF-8 ({e.reason} at byte {e.start})") from None
    return path, pos


def encode_range(start: bytes, end: bytes | None) -> bytes:
    """SCAN_RANGE: u32 start length, start, u8 has_end, end (the rest)."""
    return b"".join((U32.pack(len(start)), start, b"\x01" if end is not None else b"\x00",
                     end or b""))


def decode_range(p: bytes) -> tuple[bytes, bytes | None]:
    start, rest = decode_put(p)
    if not rest:
        raise malformed("SCAN_RANGE", "missing the has_end byte")
    if rest[0] not in (0, 1):
        raise malformed("SCAN_RANGE", f"has_end must be 0 or 1, got {rest[0]}")
    return start, (bytes(rest[1:]) if rest[0] else None)


def txn_split(p: bytes) -> tuple[int, bytes]:
    """A TXN_* payload: u64 transaction id, then the plain operation's payload."""
    if len(p) < 8:
        raise malformed("transaction", "missing the 8-byte transaction id")
    return U64.unpack_from(p)[0], p[8:]


# -- entries (scan results) ---------------------------------------------------------------

def _u32_array(values: Iterable[int]) -> bytes:
    a = array("I", values)
    if not _LITTLE:
        a.byteswap()
    return a.tobytes()


def _u32_list(p: bytes, pos: int, n: int) -> array:
    a = array("I")
    a.frombytes(p[pos:pos + 4 * n])
    if not _LITTLE:
        a.byteswap()
    return a


def encode_entries(keys: Sequence[bytes], values: Sequence[bytes]) -> bytes:
    """ENTRIES: u32 count, u32 key lengths, u32 value lengths, all keys, all values.

    Column-wise like an Arrow binary array, so both sides (de)code with C loops only."""
    return b"".join((U32.pack(len(keys)), _u32_array(map(len, keys)),
                     _u32_array(map(len, values)), b"".join(keys), b"".join(values)))


def decode_entries(p: bytes) -> list[tuple[bytes, bytes]]:
    if len(p) < 4:
        raise malformed("ENTRIES", "missing the count")
    n = U32.unpack_from(p)[0]
    head = 4 + 8 * n
    if head > len(p):
        raise malformed("ENTRIES", f"{n} entries do not fit in {len(p)} bytes")
    klens = _u32_list(p, 4, n)
    vlens = _u32_list(p, 4 + 4 * n, n)
    koffs = list(accumulate(klens, initial=head))
    voffs = list(accumulate(vlens, initial=koffs[-1]))
    if voffs[-1] != len(p):
        raise malformed("ENTRIES", f"lengths add up to {voffs[-1]} bytes, payload has {len(p)}")
    keys = [p[a:b] for a, b in zip(koffs, koffs[1:])]
    vals = [p[a:b] for a, b in zip(voffs, voffs[1:])]
    return list(zip(keys, vals))


def entry_chunks(pairs: Iterable[tuple[bytes, bytes]], limit: int) -> Iterable[bytes]:
    """ENTRIES payloads of at most ``limit`` bytes each (an oversized pair raises)."""
    keys: list[bytes] = []
    vals: list[bytes] = []
    size = 4
    for k, v in pairs:
        add = 8 + len(k) + len(v)
        if add + 4 > limit:
            from sochdb.errors import ResourceLimitError
            raise ResourceLimitError(
                f"entry {bytes(k[:40])!r} is {add} bytes, over the {limit}-byte frame limit")
        if size + add > limit:
            yield encode_entries(keys, vals)
            keys, vals, size = [], [], 4
        keys.append(k)
        vals.append(v)
        size += add
    yield encode_entries(keys, vals)


def encode_entries_v1(pairs: Iterable[tuple[bytes, bytes]]) -> bytes:
    """The original SCAN reply: u32 count, then (u16 key length, key, u32 value length, value)."""
    parts = []
    n = 0
    for k, v in pairs:
        if len(k) > 0xFFFF:
            raise ProgrammingError(f"key of {len(k)} bytes does not fit the version-1 SCAN "
                                   f"reply (65535 at most); send HELLO with version 2")
        parts += (U16.pack(len(k)), k, U32.pack(len(v)), v)
        n += 1
    return U32.pack(n) + b"".join(parts)


def encode_query_rows(pairs: Iterable[tuple[bytes, bytes]]) -> bytes:
    """The original QUERY reply: u32 count, then (u32 key length, key, u32 value length, value)."""
    parts = []
    n = 0
    for k, v in pairs:
        parts += (U32.pack(len(k)), k, U32.pack(len(v)), v)
        n += 1
    return U32.pack(n) + b"".join(parts)


def decode_query_rows(p: bytes, key_width: int = 4) -> list[tuple[bytes, bytes]]:
    """Decode an original QUERY reply (``key_width=4``) or version-1 SCAN reply (2)."""
    if len(p) < 4:
        return []
    n = U32.unpack_from(p)[0]
    kfmt = U32 if key_width == 4 else U16
    pos = 4
    out = []
    try:
        for _ in range(n):
            kl = kfmt.unpack_from(p, pos)[0]
            pos += key_width
            k = p[pos:pos + kl]
            pos += kl
            vl = U32.unpack_from(p, pos)[0]
            pos += 4
            out.append((k, p[pos:pos + vl]))
            pos += vl
    except struct.error:
        raise malformed("QUERY reply", "truncated") from None
    return out


def encode_query(prefix: str, limit: int = 0, offset: int = 0,
                 columns: Sequence[str] = ()) -> bytes:
    """QUERY: u16 prefix length, prefix, u32 limit (0: none), u32 offset, u16 column count,
    then (u16 length, name) per column."""
    p = prefix.encode("utf-8")
    parts = [U16.pack(len(p)), p, U32.pack(limit), U32.pack(offset), U16.pack(len(columns))]
    for c in columns:
        b = c.encode("utf-8")
        parts += (U16.pack(len(b)), b)
    return b"".join(parts)


def decode_query(p: bytes) -> tuple[str, int, int, list[str]]:
    try:
        n = U16.unpack_from(p)[0]
        prefix = bytes(p[2:2 + n]).decode("utf-8")
        pos = 2 + n
        limit, offset = struct.unpack_from("<II", p, pos)
        pos += 8
        ncols = U16.unpack_from(p, pos)[0] if pos < len(p) else 0
        pos += 2
        cols = []
        for _ in range(ncols):
            cl = U16.unpack_from(p, pos)[0]
            cols.append(bytes(p[pos + 2:pos + 2 + cl]).decode("utf-8"))
            pos += 2 + cl
    except (struct.error, UnicodeDecodeError) as e:
        raise malformed("QUERY", str(e)) from None
    return prefix, limit, offset, cols


# -- many puts -----------------------------------------------------------------------------

def encode_put_many(pairs: Sequence[tuple[bytes, bytes]]) -> bytes:
    """PUT_MANY: an ENTRIES payload; all pairs are stored in one commit."""
    return encode_entries([k for k, _ in pairs], [v for _, v in pairs])


# -- handshake -----------------------------------------------------------------------------

def encode_hello(version: int = VERSION, client: str = "sochdb-python") -> bytes:
    return U16.pack(version) + client.encode("utf-8")


def decode_hello(p: bytes) -> tuple[int, str]:
    if len(p) < 2:
        raise malformed("HELLO", "missing the u16 version")
    return U16.unpack_from(p)[0], bytes(p[2:]).decode("utf-8", "replace")


def encode_hello_reply(version: int, max_frame: int, pid: int, server: str) -> bytes:
    return HELLO_REPLY.pack(version, max_frame, pid) + server.encode("utf-8")


def decode_hello_reply(p: bytes) -> tuple[int, int, int, str]:
    if len(p) < HELLO_REPLY.size:
        raise malformed("HELLO reply", f"{len(p)} bytes")
    v, mf, pid = HELLO_REPLY.unpack_from(p)
    return v, mf, pid, bytes(p[HELLO_REPLY.size:]).decode("utf-8", "replace")


# -- errors --------------------------------------------------------------------------------

def encode_error(err: BaseException) -> bytes:
    """ERROR (version 2): u32 numeric code, u16 code length, code, u32 message length,
    message, then an optional JSON object of details (``line``/``column``, ``pid``...)."""
    if isinstance(err, Error):
        numeric, code, message = err.numeric, str(err.code), err.message or str(err)
    else:
        from sochdb.errors import InternalError
        numeric, code = InternalError.numeric, InternalError.code
        message = f"{type(err).__name__}: {err}"
    details = {}
    for name in ("line", "column"):
        if getattr(err, name, None) is not None:
            details[name] = getattr(err, name)
    for k, v in (getattr(err, "details", None) or {}).items():
        if isinstance(v, (str, int, float, bool)) or v is None:
            details[k] = v
    c = code.encode("utf-8")
    m = message.encode("utf-8")
    tail = json.dumps(details).encode() if details else b""
    return b"".join((ERROR_HEAD.pack(numeric, len(c)), c, U32.pack(len(m)), m, tail))


def decode_error(p: bytes, version: int = VERSION) -> Error:
    """The exception an ERROR payload describes (version 1: the payload is the message)."""
    if version < 2:
        return error_from_code("DATABASE", bytes(p).decode("utf-8", "replace"))
    try:
        numeric, clen = ERROR_HEAD.unpack_from(p)
        pos = ERROR_HEAD.size
        code = bytes(p[pos:pos + clen]).decode("utf-8")
        pos += clen
        mlen = U32.unpack_from(p, pos)[0]
        pos += 4
        message = bytes(p[pos:pos + mlen]).decode("utf-8", "replace")
        pos += mlen
        details = json.loads(bytes(p[pos:])) if pos < len(p) else {}
    except (struct.error, UnicodeDecodeError, ValueError):
        return error_from_code("DATABASE", bytes(p).decode("utf-8", "replace"))
    err = error_from_code(numeric, message)
    if err.code != code:
        err.code = code  # e.g. a TriggerAbort's own code
    for k, v in details.items():
        if k in ("line", "column"):
            setattr(err, k, v)
        else:
            err.details[k] = v
    return err


# -- SQL -----------------------------------------------------------------------------------

_PARAMS_NONE, _PARAMS_SEQ, _PARAMS_NAMED = 0, 1, 2


def encode_sql(sql: str, params: Sequence[Any] | Mapping[str, Any] | None) -> bytes:
    """EXECUTE_SQL: u32 SQL length, SQL text, then optionally u8 kind (1 positional, 2 named)
    and the parameters as a one-row Arrow IPC stream (column i or column name = parameter)."""
    if not isinstance(sql, str):
        raise TypeError(f"sql must be str, not {type(sql).__name__}")
    text = sql.encode("utf-8")
    head = U32.pack(len(text)) + text
    if params is None:
        return head
    if isinstance(params, Mapping):
        kind, names, vals = _PARAMS_NAMED, [str(k) for k in params], list(params.values())
    elif isinstance(params, (str, bytes)) or not isinstance(params, Sequence):
        raise ProgrammingError(f"params must be a sequence or a dict, not "
                               f"{type(params).__name__}")
    else:
        kind, names, vals = _PARAMS_SEQ, [str(i) for i in range(len(params))], list(params)
    import pyarrow as pa
    try:
        arrays = [pa.array([v]) for v in vals]
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as e:
        raise ProgrammingError(f"parameter cannot be sent to the server: {e}") from None
    table = pa.table(arrays, names=names) if arrays else pa.table({})
    return head + bytes([kind]) + encode_arrow(table).to_pybytes()


def decode_sql(p: bytes) -> tuple[str, Any]:
    if len(p) < 4:
        raise malformed("EXECUTE_SQL", "missing the SQL length")
    n = U32.unpack_from(p)[0]
    if 4 + n > len(p):
        raise malformed("EXECUTE_SQL", f"SQL length {n} runs past the payload")
    try:
        sql = bytes(p[4:4 + n]).decode("utf-8")
    except UnicodeDecodeError as e:
        raise malformed("EXECUTE_SQL", f"SQL is not UTF-8 (byte {e.start})") from None
    rest = p[4 + n:]
    if not rest or rest[0] == _PARAMS_NONE:
        return sql, None
    kind = rest[0]
    if kind not in (_PARAMS_SEQ, _PARAMS_NAMED):
        raise malformed("EXECUTE_SQL", f"unknown parameter kind {kind}")
    table = decode_arrow(rest[1:])
    values = [col.to_pylist()[0] if len(col) else None for col in table.columns]
    if kind == _PARAMS_SEQ:
        return sql, values
    return sql, dict(zip(table.schema.names, values))


def encode_arrow(table) -> Any:
    """A pyarrow.Table as Arrow IPC stream bytes (a pyarrow Buffer)."""
    import pyarrow as pa
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    return sink.getvalue()


def decode_arrow(data: Any):
    import pyarrow as pa
    try:
        return pa.ipc.open_stream(pa.py_buffer(data)).read_all()
    except (pa.ArrowInvalid, OSError) as e:
        raise malformed("Arrow IPC", str(e)) from None


def result_frames(result: Any, chunk: int) -> list[bytes]:
    """The frames that carry a SQL Result: RESULT (JSON meta), ARROW chunks, END_STREAM.

    The ARROW payloads concatenate to one Arrow IPC stream; meta says whether the statement
    produced a table at all (DDL and DML carry only a status message)."""
    table = result.arrow()
    has_table = bool(result.columns) or table.num_columns > 0
    meta = {"columns": list(result.columns), "rowcount": result.rowcount,
            "message": result.message, "statement": result.statement,
            "has_table": has_table}
    frames = [frame(RESULT, json.dumps(meta).encode("utf-8"))]
    if has_table:
        data = memoryview(encode_arrow(table))
        for i in range(0, len(data), chunk):
            part = data[i:i + chunk]
            frames.append(_pack_header(ARROW, len(part)) + part.tobytes())
    frames.append(frame(END_STREAM))
    return frames


__all__ = [name for name in dir() if name.isupper() and not name.startswith("_")] + [
    "frame", "encode_put", "decode_put", "encode_path", "decode_path", "encode_range",
    "decode_range", "txn_split", "encode_entries", "decode_entries", "entry_chunks",
    "encode_entries_v1", "encode_query_rows", "decode_query_rows", "encode_query",
    "decode_query", "encode_put_many", "encode_hello", "decode_hello", "encode_hello_reply",
    "decode_hello_reply", "encode_error", "decode_error", "encode_sql", "decode_sql",
    "encode_arrow", "decode_arrow", "result_frames", "malformed",
]
