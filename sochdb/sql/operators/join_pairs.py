"""Equi-join matching: (left row, right row) index pairs for key columns of a common type.

When one side's single key is unique (a primary or dimension key, the usual case), every row of
the other side has at most one match, found with one vectorized lookup: a direct-address table
in numpy for integers of a small range, else ``pyarrow.compute.index_in``. The pairs then come
out in the probing side's order without a sort. Everything else goes through Arrow's hash
join. Imports numpy and pyarrow only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: A direct-address table is used for integer keys whose range is at most this many slots
#: (4 bytes each) and not much larger than the two inputs together (filling it must cost
#: less than hashing them).
MAX_LUT_SLOTS = 1 << 25


@dataclass
class Pairs:
    """Matching rows. ``ordered``: sorted by left row, then right row (the output order).
    ``strict``: additionally every left row appears at most once."""

    left: np.ndarray
    right: np.ndarray
    ordered: bool
    strict: bool = False


def key_array(a: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A join key as one plain array: chunks combined, dictionaries decoded."""
    if isinstance(a, pa.ChunkedArray):
        a = a.combine_chunks() if a.num_chunks != 1 else a.chunk(0)
    return a.dictionary_decode() if pa.types.is_dictionary(a.type) else a


#: Integer keys spanning at most this many values are checked for duplicates with a bitmap.
MAX_BITMAP_SPAN = 1 << 26


def is_unique(keys: pa.Array) -> bool:
    """No non-NULL key occurs twice (NULL keys never match, so they do not count).

    Integers are checked with a bitmap over their range, or by sorting: Arrow's hash kernels
    slow down sharply once millions of distinct keys outgrow the CPU caches."""
    valid = len(keys) - keys.null_count
    if valid <= 1:
        return True
    if keys.null_count:
        keys = pc.drop_null(keys)
    if pa.types.is_integer(keys.type):
        x = keys.to_numpy(zero_copy_only=False)
        lo, hi = int(x.min()), int(x.max())
        span = hi - lo + 1
        if span < valid:  # more keys than values they can take
            return False
        if span <= MAX_BITMAP_SPAN:
            seen = np.zeros(span, dtype=np.bool_)
            seen[x - lo if lo else x] = True
            return int(np.count_nonzero(seen)) == valid
        s = np.sort(x)
        return not bool((s[1:] == s[:-1]).any())
    return len(pc.unique(keys)) == valid


def lookup(probe: pa.Array, build: pa.Array) -> np.ndarray:
    """For each probe key, the position of the equal key in ``build`` (unique keys), or -1."""
    t = build.type
    if (pa.types.is_signed_integer(t) or t in (pa.uint8(), pa.uint16(), pa.uint32())) and \
            len(build) > build.null_count and len(build) < 2**31:
        lo, hi = (x.as_py() for x in pc.min_max(build).values())
        span = hi - lo + 1
        if span <= MAX_LUT_SLOTS and span <= max(8 * len(build) + 4 * len(probe), 1 << 22):
            return _lut_lookup(probe, build, lo, span)
    pos = pc.index_in(probe, value_set=build, skip_nulls=True)
    return pc.fill_null(pos, -1).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)


def _lut_lookup(probe: pa.Array, build: pa.Array, lo: int, span: int) -> np.ndarray:
    lut = np.full(span + 1, -1, dtype=np.int32)  # the last slot answers out-of-range keys
    if build.null_count:
        valid = np.flatnonzero(build.is_valid().to_numpy(zero_copy_only=False))
        bvals = pc.drop_null(build).to_numpy()
    else:
        valid = np.arange(len(build), dtype=np.int32)
        bvals = build.to_numpy()
    lut[bvals.astype(np.int64) - lo] = valid
    null_mask = None
    if probe.null_count:
        null_mask = ~probe.is_valid().to_numpy(zero_copy_only=False)
        probe = pc.fill_null(probe, pa.scalar(lo, probe.type))
    idx = probe.to_numpy().astype(np.int64)
    if lo:
        idx -= lo
    out_of_range = (idx < 0) | (idx >= span)
    if out_of_range.any():
        idx[out_of_range] = span
    pos = lut[idx]
    if null_mask is not None:
        pos[null_mask] = -1
    return pos


def _unique_side(lk: pa.Array, rk: pa.Array) -> str | None:
    """Which side ('right' or 'left') has unique keys; the smaller side is checked first."""
    first, second = (("right", rk), ("left", lk)) if len(rk) <= len(lk) else \
        (("left", lk), ("right", rk))
    if is_unique(first[1]):
        return first[0]
    # The larger side is checked only when it is not much larger (a cheap hash pass then).
    if len(second[1]) <= 4 * len(first[1]) and is_unique(second[1]):
        return second[0]
    return None


def _unique_column_pairs(lcols: list, rcols: list) -> Pairs | None:
    """Several keys, one of which is unique on the smaller side by itself (a primary key
    next to a redundant condition, as ``c_custkey = o_custkey AND c_nationkey =
    s_nationkey``): match on that key with one lookup, then keep the pairs whose other keys
    are equal too. None when no single key is unique there."""
    lks, rks = lcols, rcols
    right_small = len(rks[0]) <= len(lks[0])
    small = rks if right_small else lks
    for i, key in enumerate(small):
        if not is_unique(key):
            continue
        if right_small:
            pos = lookup(lks[i], rks[i])
            li = np.flatnonzero(pos >= 0)
            ri = pos[li].astype(np.int64)
        else:
            pos = lookup(rks[i], lks[i])
            ri = np.flatnonzero(pos >= 0)
            li = pos[ri].astype(np.int64)
        keep = np.ones(len(li), dtype=bool)
        for j in range(len(lks)):
            if j != i and len(li):
                eq = pc.equal(lks[j].take(pa.array(li)), rks[j].take(pa.array(ri)))
                keep &= pc.fill_null(eq, False).to_numpy(zero_copy_only=False)
        li, ri = li[keep], ri[keep]
        return Pairs(li, ri, right_small, right_small)
    return None


def equi_pairs(lcols: list, rcols: list, left_outer: bool = False) -> Pairs:
    """Pairs of rows whose key columns are all equal (NULL keys match nothing).

    With ``left_outer`` and a unique right key, every left row is returned once, with -1 as
    the right row when nothing matches (the LEFT JOIN output order, no sort needed).
    """
    lcols = [key_array(c) for c in lcols]
    rcols = [key_array(c) for c in rcols]
    if len(lcols) == 1:
        lk, rk = lcols[0], rcols[0]
        side = _unique_side(lk, rk)
        if side == "right":
            pos = lookup(lk, rk)
            if left_outer or pos.min(initial=0) >= 0:  # every left row once, in order
                return Pairs(np.arange(len(lk), dtype=np.int64), pos, True, True)
            li = np.flatnonzero(pos >= 0)
            return Pairs(li, pos[li], True, True)
        if side == "left":
            pos = lookup(rk, lk)
            ri = np.flatnonzero(pos >= 0)
            li = pos[ri]
            return Pairs(li, ri, False)
    else:
        pairs = _unique_column_pairs(lcols, rcols)
        if pairs is not None:
            return pairs
    names = [f"k{i}" for i in range(len(lcols))]
    nl = len(lcols[0])
    nr = len(rcols[0])
    lk_t = pa.table(lcols + [pa.array(np.arange(nl, dtype=np.int64))], names=names + ["__l"])
    rk_t = pa.table(rcols + [pa.array(np.arange(nr, dtype=np.int64))], names=names + ["__r"])
    joined = lk_t.join(rk_t, keys=names, join_type="inner", use_threads=True)
    return Pairs(joined.column("__l").to_numpy(), joined.column("__r").to_numpy(), False)
