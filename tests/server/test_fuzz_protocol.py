"""Fuzzing the IPC payload decoders: arbitrary bytes decode or raise ProgrammingError (a
"malformed payload" the server answers with an ERROR frame), never another exception. The
server's frame loop itself is fuzzed over a socket in test_malformed.py."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sochdb.errors import Error, ProgrammingError
from sochdb.server import protocol as P

_EXAMPLES = int(os.environ.get("SOCHDB_FUZZ_EXAMPLES", "0"))
FUZZ = settings(max_examples=_EXAMPLES or 300, deadline=None, derandomize=not _EXAMPLES)

DECODERS = [P.decode_put, P.decode_path, P.decode_range, P.txn_split, P.decode_entries,
            P.decode_query_rows, P.decode_query, P.decode_hello, P.decode_hello_reply,
            P.decode_sql, P.decode_arrow]
PAYLOADS = st.binary(max_size=200) | st.builds(
    lambda n, rest: P.U32.pack(n) + rest, st.integers(0, 2**32 - 1), st.binary(max_size=60))


@FUZZ
@given(st.sampled_from(DECODERS), PAYLOADS)
def test_decoders_raise_only_malformed_errors(decoder, payload):
    try:
        decoder(payload)
    except ProgrammingError as e:
        assert "malformed" in str(e)


@FUZZ
@given(PAYLOADS, st.sampled_from([1, 2]))
def test_error_decoder_always_gives_an_error(payload, version):
    assert isinstance(P.decode_error(payload, version), Error)


@FUZZ
@given(st.sampled_from([P.decode_put, P.decode_range, P.decode_entries, P.decode_sql]),
       st.binary(max_size=80), st.data())
def test_truncated_valid_payloads(decoder, blob, data):
    good = {P.decode_put: P.encode_put(blob[:5], blob[5:]),
            P.decode_range: P.encode_range(blob[:5], blob[5:] or None),
            P.decode_entries: P.encode_entries([blob[:3], blob[3:6]], [blob[6:], b""]),
            P.decode_sql: P.encode_sql("SELECT ?", [blob.hex()])}[decoder]
    cut = data.draw(st.integers(0, len(good)))
    try:
        decoder(good[:cut])
    except ProgrammingError:
        if cut == len(good):
            pytest.fail("a complete payload was rejected")
