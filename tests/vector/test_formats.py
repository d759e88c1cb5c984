"""Vector files: round trips through npy, raw_f32 and fvecs, and one clear error per bad file."""

from __future__ import annotations

import mmap
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sochdb.errors import DataError, OperationalError, ProgrammingError
from sochdb.vector.formats import (FORMATS, as_matrix, check_finite, detect_format,
                                   read_vectors, write_vectors)

EXT = {"npy": ".npy", "raw_f32": ".raw", "fvecs": ".fvecs"}


def _vectors(n: int = 7, d: int = 5, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)


def _one_line_error(excinfo: pytest.ExceptionInfo, path: os.PathLike) -> str:
    msg = str(excinfo.value)
    assert msg.startswith(str(path)), msg
    assert "\n" not in msg
    return msg


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_each_format(tmp_path, fmt):
    x = _vectors()
    path = tmp_path / f"v{EXT[fmt]}"
    size = write_vectors(path, x)
    assert size == path.stat().st_size
    back = read_vectors(path, dimension=5 if fmt == "raw_f32" else None)
    assert back.dtype == np.float32 and back.shape == x.shape
    np.testing.assert_array_equal(back, x)
    assert detect_format(path) == fmt


@settings(max_examples=25, deadline=None)
@given(n=st.integers(0, 20), d=st.integers(1, 9), src=st.sampled_from(FORMATS),
       dst=st.sampled_from(FORMATS))
def test_conversion_property(tmp_path_factory, n, d, src, dst):
    """Any format converts to any other without changing a bit (empty fvecs excepted)."""
    if n == 0 and "fvecs" in (src, dst):
        return
    tmp = tmp_path_factory.mktemp("conv")
    x = np.random.default_rng(n * 31 + d).standard_normal((n, d)).astype(np.float32)
    a, b = tmp / f"a{EXT[src]}", tmp / f"b{EXT[dst]}"
    write_vectors(a, x, src)
    write_vectors(b, read_vectors(a, src, d), dst)
    back = read_vectors(b, dst, d)
    assert back.shape == (n, d)
    np.testing.assert_array_equal(back, x)


def test_raw_layout_is_little_endian_float32_rows(tmp_path):
    x = _vectors(3, 4)
    write_vectors(tmp_path / "v.raw", x)
    np.testing.assert_array_equal(np.fromfile(tmp_path / "v.raw", dtype="<f4"), x.reshape(-1))


def test_fvecs_layout_has_dimension_before_each_row(tmp_path):
    x = _vectors(3, 4)
    write_vectors(tmp_path / "v.fvecs", x)
    raw = np.fromfile(tmp_path / "v.fvecs", dtype="<i4").reshape(3, 5)
    assert (raw[:, 0] == 4).all()
    np.testing.assert_array_equal(raw[:, 1:].view("<f4"), x)


def test_npy_is_memory_mapped_and_raw_too(tmp_path):
    x = _vectors(50, 8)
    np.save(tmp_path / "v.npy", x)
    x.tofile(tmp_path / "v.raw")
    assert _is_mapped(read_vectors(tmp_path / "v.npy"))
    assert _is_mapped(read_vectors(tmp_path / "v.raw", dimension=8))
    assert not _is_mapped(read_vectors(tmp_path / "v.npy", mmap=False))


def _is_mapped(arr: np.ndarray) -> bool:
    """True when the array is a view of a file mapping (no copy of the data was made)."""
    base = arr
    while base is not None:
        if isinstance(base, mmap.mmap):
            return True
        base = getattr(base, "base", None)
    return False


def test_npy_variants_convert_to_float32(tmp_path):
    x = _vectors(4, 3)
    np.save(tmp_path / "f64.npy", x.astype(np.float64))
    np.save(tmp_path / "be.npy", x.astype(">f4"))
    np.save(tmp_path / "fortran.npy", np.asfortranarray(x))
    np.save(tmp_path / "one.npy", x[0])
    for name in ("f64", "be", "fortran"):
        got = read_vectors(tmp_path / f"{name}.npy")
        assert got.dtype == np.float32 and got.flags.c_contiguous
        np.testing.assert_array_equal(got, x)
    np.testing.assert_array_equal(read_vectors(tmp_path / "one.npy"), x[:1])


def test_detect_format_sniffs_npy_without_extension(tmp_path):
    np.save(tmp_path / "v.npy", _vectors())
    os.rename(tmp_path / "v.npy", tmp_path / "vectors")
    assert detect_format(tmp_path / "vectors") == "npy"
    (tmp_path / "other").write_bytes(b"\0" * 16)
    assert detect_format(tmp_path / "other") == "raw_f32"
    assert detect_format(tmp_path / "other", "fvecs") == "fvecs"
    with pytest.raises(ProgrammingError, match="unknown vector file format"):
        detect_format(tmp_path / "other", "csv")


def test_dimension_mismatch(tmp_path):
    np.save(tmp_path / "v.npy", _vectors(3, 5))
    with pytest.raises(DataError) as ei:
        read_vectors(tmp_path / "v.npy", dimension=6)
    assert "dimension 5, expected 6" in _one_line_error(ei, tmp_path / "v.npy")


def test_wrong_dtype(tmp_path):
    np.save(tmp_path / "i.npy", np.arange(12).reshape(3, 4))
    with pytest.raises(DataError) as ei:
        read_vectors(tmp_path / "i.npy")
    assert "expected float32 vectors, found dtype int64" in _one_line_error(ei, tmp_path / "i.npy")


def test_three_dimensional_npy(tmp_path):
    np.save(tmp_path / "c.npy", np.zeros((2, 3, 4), np.float32))
    with pytest.raises(DataError, match=r"2-D array .* shape \(2, 3, 4\)"):
        read_vectors(tmp_path / "c.npy")


def test_truncated_npy(tmp_path):
    path = tmp_path / "t.npy"
    np.save(path, _vectors(100, 8))
    data = path.read_bytes()
    path.write_bytes(data[:len(data) - 10])
    with pytest.raises(DataError) as ei:
        read_vectors(path)
    assert "truncated .npy file" in _one_line_error(ei, path)
    path.write_bytes(data[:40])
    with pytest.raises(DataError):
        read_vectors(path)


def test_not_npy(tmp_path):
    path = tmp_path / "text.npy"
    path.write_text("hello, world\n")
    with pytest.raises(DataError) as ei:
        read_vectors(path)
    assert "not a .npy file" in _one_line_error(ei, path)


def test_raw_needs_dimension_and_whole_rows(tmp_path):
    path = tmp_path / "v.raw"
    _vectors(3, 4).tofile(path)
    with pytest.raises(ProgrammingError, match="need the dimension"):
        read_vectors(path)
    with pytest.raises(DataError) as ei:
        read_vectors(path, dimension=5)
    assert "not a whole number of 5-dimensional float32 vectors" in _one_line_error(ei, path)
    path.write_bytes(path.read_bytes()[:-2])
    with pytest.raises(DataError):
        read_vectors(path, dimension=4)
    with pytest.raises(ProgrammingError, match="positive integer"):
        read_vectors(path, dimension=0)


def test_empty_raw_is_zero_vectors(tmp_path):
    (tmp_path / "e.raw").write_bytes(b"")
    assert read_vectors(tmp_path / "e.raw", dimension=3).shape == (0, 3)


def test_fvecs_errors(tmp_path):
    path = tmp_path / "v.fvecs"
    write_vectors(path, _vectors(4, 6))
    data = path.read_bytes()
    path.write_bytes(data[:-3])
    with pytest.raises(DataError) as ei:
        read_vectors(path)
    assert "truncated .fvecs file" in _one_line_error(ei, path)
    mixed = bytearray(data)
    mixed[28:32] = np.int32(5).tobytes()          # second record's dimension
    path.write_bytes(bytes(mixed))
    with pytest.raises(DataError, match="record 1 declares dimension 5, expected 6"):
        read_vectors(path)
    path.write_bytes(np.int32(-3).tobytes() + b"\0" * 12)
    with pytest.raises(DataError, match="not an .fvecs file"):
        read_vectors(path)
    path.write_bytes(b"")
    with pytest.raises(DataError, match="empty"):
        read_vectors(path)
    path.write_bytes(b"\1\0")
    with pytest.raises(DataError, match="truncated"):
        read_vectors(path)


def test_missing_file(tmp_path):
    with pytest.raises(OperationalError) as ei:
        read_vectors(tmp_path / "nope.npy")
    assert "no such file" in _one_line_error(ei, tmp_path / "nope.npy")


def test_write_needs_a_known_format(tmp_path):
    with pytest.raises(ProgrammingError, match="cannot tell the format"):
        write_vectors(tmp_path / "v.dat", _vectors())
    write_vectors(tmp_path / "v.dat", _vectors(), "raw_f32")
    assert os.listdir(tmp_path) == ["v.dat"]      # no temporary file left behind
    with pytest.raises(OperationalError, match="cannot write"):
        write_vectors(tmp_path / "missing" / "v.npy", _vectors())


def test_as_matrix_checks():
    x = _vectors(2, 3)
    assert as_matrix(x) is x
    assert as_matrix(x[0]).shape == (1, 3)
    with pytest.raises(DataError, match="floating-point"):
        as_matrix(np.arange(6).reshape(2, 3))
    with pytest.raises(DataError, match="2-D"):
        as_matrix(x[0], allow_1d=False)
    with pytest.raises(DataError, match="dimension 3, expected 4"):
        as_matrix(x, dimension=4)
    with pytest.raises(DataError, match="dimension 0"):
        as_matrix(np.zeros((2, 0), np.float32))
    assert as_matrix(x.T).flags.c_contiguous


def test_check_finite_names_the_row():
    x = _vectors(40000, 2)
    check_finite(x)
    x[33333, 1] = np.nan
    with pytest.raises(DataError, match="row 33333 holds NaN"):
        check_finite(x, name="embeddings")
    y = _vectors(3, 2)
    y[2, 0] = np.inf
    with pytest.raises(DataError, match="row 2"):
        check_finite(y)
