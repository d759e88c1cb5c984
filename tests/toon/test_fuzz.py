"""Fuzzing the TOON decoders: arbitrary and mutated text gives a value or ToonDecodeError,
never another exception. ``SOCHDB_FUZZ_EXAMPLES=N`` runs N random examples instead of the
fixed CI sample."""

from __future__ import annotations

import os

from hypothesis import given, settings
from hypothesis import strategies as st

from sochdb.toon import ToonDecodeError, decode, encode, from_compact, to_compact

_EXAMPLES = int(os.environ.get("SOCHDB_FUZZ_EXAMPLES", "0"))
FUZZ = settings(max_examples=_EXAMPLES or 300, deadline=None, derandomize=not _EXAMPLES)

ALPHABET = st.sampled_from(list("[]{}:,;|\t\n \"\\-#0123456789.eE+abcnultrsf") + ["\r\n"])
TOONISH = st.lists(ALPHABET, max_size=60).map("".join)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=4),
    max_leaves=12)


def decodes_or_rejects(fn, text, *args):
    try:
        fn(text, *args)
    except ToonDecodeError:
        pass


@FUZZ
@given(st.text(max_size=120) | TOONISH, st.booleans(), st.sampled_from([1, 2, 4]))
def test_spec_decoder_on_arbitrary_text(text, strict, indent):
    decodes_or_rejects(decode, text, strict, indent)


@FUZZ
@given(st.text(max_size=120) | TOONISH)
def test_compact_decoder_on_arbitrary_text(text):
    decodes_or_rejects(from_compact, text)


def mutate(text: str, data) -> str:
    chars = list(text)
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, max(len(chars), 1)))
        how = data.draw(st.sampled_from(["del", "ins", "rep"]))
        c = data.draw(ALPHABET)
        if how == "del" and i < len(chars):
            del chars[i]
        elif how == "rep" and i < len(chars):
            chars[i] = c
        else:
            chars.insert(i, c)
    return "".join(chars)


@FUZZ
@given(JSON, st.data())
def test_spec_decoder_on_mutated_documents(value, data):
    decodes_or_rejects(decode, mutate(encode(value), data))


@FUZZ
@given(st.lists(st.dictionaries(st.sampled_from(["a", "b", "c d"]),
                                st.none() | st.integers() | st.text(max_size=6), max_size=3),
                max_size=4), st.data())
def test_compact_decoder_on_mutated_lines(records, data):
    decodes_or_rejects(from_compact, mutate(to_compact("t", records), data))
