"""Equi-join matching: every shortcut (direct-address lookups, a unique key among several)
gives the same pairs as Arrow's hash join, NULL keys matching nothing."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from sochdb.sql.operators import join_pairs
from sochdb.sql.operators.join_pairs import equi_pairs


def hash_join_pairs(lcols, rcols) -> set[tuple[int, int]]:
    names = [f"k{i}" for i in range(len(lcols))]
    lt = pa.table(lcols + [pa.array(np.arange(len(lcols[0])))], names=names + ["l"])
    rt = pa.table(rcols + [pa.array(np.arange(len(rcols[0])))], names=names + ["r"])
    j = lt.join(rt, keys=names, join_type="inner")
    return set(zip(j.column("l").to_pylist(), j.column("r").to_pylist()))


keys = st.lists(st.one_of(st.none(), st.integers(0, 12)), min_size=0, max_size=40)


@settings(max_examples=150, deadline=None)
@given(l0=keys, l1=keys, r0=keys, r1=keys, unique_right=st.booleans())
def test_pairs_match_a_hash_join(l0, l1, r0, r1, unique_right):
    nl, nr = min(len(l0), len(l1)), min(len(r0), len(r1))
    l0, l1, r0, r1 = l0[:nl], l1[:nl], r0[:nr], r1[:nr]
    if unique_right:  # a key of the right side, with a redundant second condition
        r0 = list(range(nr))
    lcols = [pa.array(l0, pa.int64()), pa.array(l1, pa.int64())]
    rcols = [pa.array(r0, pa.int64()), pa.array(r1, pa.int64())]
    want = hash_join_pairs(lcols, rcols)
    p = equi_pairs(lcols, rcols)
    got = set(zip(p.left.tolist(), p.right.tolist()))
    assert got == want
    assert len(got) == len(p.left)  # no pair twice
    if p.ordered:
        assert list(zip(p.left.tolist(), p.right.tolist())) == sorted(got)
    for one_l, one_r in ((lcols[:1], rcols[:1]), (lcols[1:], rcols[1:])):
        q = equi_pairs(one_l, one_r)
        assert set(zip(q.left.tolist(), q.right.tolist())) == hash_join_pairs(one_l, one_r)


def test_a_unique_key_among_several_is_matched_by_lookup():
    rng = np.random.default_rng(4)
    lcols = [pa.array(rng.integers(0, 100, 1000)), pa.array(rng.integers(0, 3, 1000))]
    rcols = [pa.array(np.arange(100)), pa.array(rng.integers(0, 3, 100))]
    p = join_pairs._unique_column_pairs(lcols, rcols)
    assert p is not None and p.strict and p.ordered
    assert set(zip(p.left.tolist(), p.right.tolist())) == hash_join_pairs(lcols, rcols)
    # neither key unique on the smaller side: left to the hash join
    assert join_pairs._unique_column_pairs(lcols, [rcols[1], rcols[1]]) is None
