"""Malformed input gets an ERROR reply or a closed connection, and the server keeps serving
everyone else."""

from __future__ import annotations

import random
import socket
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sochdb.errors import ProgrammingError, ResourceLimitError
from sochdb.server import protocol as P


def _raw(path: str) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    return s


def _hello(s: socket.socket) -> None:
    s.sendall(P.frame(P.HELLO, P.encode_hello()))
    assert _frame(s)[0] == P.HELLO_OK


def _frame(s: socket.socket) -> tuple[int, bytes]:
    data = b""
    while len(data) < 5:
        chunk = s.recv(5 - len(data))
        if not chunk:
            raise EOFError("connection closed")
        data += chunk
    op, n = struct.unpack("<BI", data)
    body = b""
    while len(body) < n:
        body += s.recv(n - len(body))
    return op, body


def _drain(s: socket.socket, timeout: float = 0.3) -> bytes:
    """Everything the server sends until it closes or goes quiet."""
    s.settimeout(timeout)
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return out


@pytest.fixture
def witness(shared_server):
    """A well-behaved client that must keep working around the misbehaving ones."""
    c = shared_server.connect(timeout=30)
    c.put(b"witness", b"ok")
    yield c
    assert c.get(b"witness") == b"ok"
    c.close()


def test_unknown_opcode_gets_an_error_and_the_connection_lives(shared_server, witness):
    s = _raw(shared_server.socket_path)
    _hello(s)
    s.sendall(P.frame(0x55, b"junk") + P.frame(P.PING, b"still here"))
    op, body = _frame(s)
    err = P.decode_error(body)
    assert op == P.ERROR and isinstance(err, ProgrammingError)
    assert "unknown opcode 0x55" in err.message
    assert _frame(s) == (P.PONG, b"still here")
    assert witness.get(b"witness") == b"ok"
    s.close()


def test_reply_opcodes_sent_as_requests_are_unknown(shared_server):
    s = _raw(shared_server.socket_path)
    s.sendall(P.frame(P.OK) + P.frame(P.PING))
    op, body = _frame(s)
    assert op == P.ERROR and b"unknown opcode 0x80" in body  # version 1: plain text
    assert _frame(s)[0] == P.PONG
    s.close()


def test_oversized_length_is_refused_before_reading_it(shared_server, witness):
    s = _raw(shared_server.socket_path)
    _hello(s)
    s.sendall(struct.pack("<BI", P.PUT, 0xFFFFFFF0))  # claims 4 GB, sends nothing more
    op, body = _frame(s)
    err = P.decode_error(body)
    assert op == P.ERROR and isinstance(err, ResourceLimitError)
    assert "over the server's limit of 16777216 bytes" in err.message
    assert _drain(s) == b""  # then the server hangs up
    assert witness.get(b"witness") == b"ok"
    s.close()


def test_bad_payloads_are_errors_not_crashes(shared_server, witness):
    s = _raw(shared_server.socket_path)
    _hello(s)
    bad = [
        P.frame(P.PUT, b"\x01"),                          # no room for the key length
        P.frame(P.PUT, b"\xff\x00\x00\x00k"),             # key length past the end
        P.frame(P.PUT_PATH, b"\x05\x00"),                 # segment count without segments
        P.frame(P.GET_PATH, b"\x01\x00\x01\x00\xff"),     # path not UTF-8
        P.frame(P.COMMIT, b"\x01"),                       # short transaction id
        P.frame(P.ABORT, struct.pack("<Q", 987654321)),   # unknown transaction
        P.frame(P.TXN | P.GET, struct.pack("<Q", 5)),     # not this connection's txn
        P.frame(P.SCAN_RANGE, b"\x00\x00\x00\x00\x07"),   # has_end must be 0 or 1
        P.frame(P.EXECUTE_SQL, b"\x10\x00\x00\x00SEL"),   # SQL length past the end
        P.frame(P.EXECUTE_SQL, b"\x01\x00\x00\x00X\x01garbage"),  # params not Arrow
        P.frame(P.PUT_MANY, b"\x05\x00\x00\x00"),         # entries that do not fit
        P.frame(P.CREATE_TABLE, b"{not json"),
        P.frame(P.QUERY, b"\x09\x00ab"),
        P.frame(P.HELLO, b""),
        P.frame(P.BEGIN, b"\xff\xfe"),                    # isolation not UTF-8
    ]
    s.sendall(b"".join(bad) + P.frame(P.PING))
    for f in bad:
        op, body = _frame(s)
        assert op == P.ERROR, (f, body)
        assert P.decode_error(body).code in ("PROGRAMMING", "TXN_CLOSED"), (f, body)
    assert _frame(s)[0] == P.PONG
    assert witness.get(b"witness") == b"ok"
    s.close()


def test_truncated_frame_then_disconnect(shared_server, witness):
    for cut in (1, 3, 5, 9):
        s = _raw(shared_server.socket_path)
        s.sendall(P.frame(P.PUT, P.encode_put(b"trunc", b"value"))[:cut])
        s.close()
        assert witness.get(b"witness") == b"ok"
    assert witness.get(b"trunc") is None


def test_disconnect_mid_frame_of_a_large_request(shared_server, witness):
    s = _raw(shared_server.socket_path)
    s.sendall(struct.pack("<BI", P.PUT, 8_000_000) + b"\x05\x00\x00\x00" + b"x" * 500_000)
    s.close()
    assert witness.get(b"witness") == b"ok"


def test_garbage_bytes_seeded(shared_server, witness):
    rng = random.Random(7)
    for _ in range(30):
        s = _raw(shared_server.socket_path)
        s.sendall(bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 3000))))
        _drain(s, 0.05)
        s.close()
        assert witness.get(b"witness") == b"ok"


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(min_size=1, max_size=2000))
def test_garbage_bytes_property(shared_server, witness, data):
    s = _raw(shared_server.socket_path)
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server already hung up on an oversized length
    _drain(s, 0.02)
    s.close()
    assert witness.ping() < 5
