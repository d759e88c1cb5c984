"""Vector files on disk: .npy, raw little-endian float32 (``raw_f32``) and ``.fvecs``.

Readers return a 2-D float32 array (memory-mapped where the format allows) after checking the
file: a wrong dimension, a wrong dtype or a truncated file is one ``DataError`` whose message
starts with the path and says what is wrong. Imports numpy and sochdb.errors only.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from sochdb.errors import DataError, OperationalError, ProgrammingError

__all__ = ["FORMATS", "detect_format", "read_vectors", "write_vectors", "as_matrix",
           "check_finite"]

FORMATS = ("npy", "raw_f32", "fvecs")
_EXTENSIONS = {".npy": "npy", ".fvecs": "fvecs", ".raw": "raw_f32", ".f32": "raw_f32",
               ".bin": "raw_f32", ".fbin": "raw_f32"}
_NPY_MAGIC = b"\x93NUMPY"
_MAX_DIMENSION = 1 << 20
_WRITE_CHUNK_ROWS = 65536


def _normalize_format(fmt: str) -> str:
    name = fmt.strip().lower().replace("-", "_")
    name = {"raw": "raw_f32", "f32": "raw_f32", "numpy": "npy"}.get(name, name)
    if name not in FORMATS:
        raise ProgrammingError(f"unknown vector file format {fmt!r}; valid formats: "
                               f"{', '.join(FORMATS)}", format=fmt)
    return name


def detect_format(path: str | os.PathLike, fmt: str | None = None) -> str:
    """The format of ``path``: ``fmt`` when given, else by extension, else by sniffing.

    Files without a known extension are ``npy`` when they start with the .npy magic and
    ``raw_f32`` otherwise (``.fvecs`` cannot be recognised by content, so it needs its name).
    """
    if fmt:
        return _normalize_format(fmt)
    ext = Path(path).suffix.lower()
    if ext in _EXTENSIONS:
        return _EXTENSIONS[ext]
    try:
        with open(path, "rb") as f:
            head = f.read(len(_NPY_MAGIC))
    except OSError:
        return "raw_f32"
    return "npy" if head == _NPY_MAGIC else "raw_f32"


def _size(path: str | os.PathLike) -> int:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        raise OperationalError(f"{path}: no such file", path=str(path)) from None
    except OSError as exc:
        raise OperationalError(f"{path}: {exc.strerror}", path=str(path)) from exc


def read_vectors(path: str | os.PathLike, fmt: str | None = None, dimension: int | None = None,
                 *, mmap: bool = True) -> np.ndarray:
    """Read a vector file as a 2-D float32 array of shape (count, dimension).

    Args:
        path: the file.
        fmt: ``npy``, ``raw_f32`` or ``fvecs``; detected from the name when omitted.
        dimension: required for ``raw_f32``; for the other formats, the dimension the file
            must have (a mismatch is an error naming both numbers).
        mmap: map the file instead of reading it when the layout allows (npy and raw_f32).

    A 1-D ``.npy`` array is one vector. float16/float64 ``.npy`` data is converted to float32;
    any other dtype is an error.
    """
    fmt = detect_format(path, fmt)
    size = _size(path)
    if dimension is not None and (not isinstance(dimension, (int, np.integer))
                                  or isinstance(dimension, bool) or dimension <= 0):
        raise ProgrammingError(f"dimension must be a positive integer, got {dimension!r}")
    if fmt == "npy":
        arr = _read_npy(path, size, mmap)
    elif fmt == "raw_f32":
        arr = _read_raw(path, size, dimension, mmap)
    else:
        arr = _read_fvecs(path, size)
    if dimension is not None and arr.shape[1] != dimension:
        raise DataError(f"{path}: vectors have dimension {arr.shape[1]}, expected {dimension}",
                        path=str(path))
    return arr


def _read_npy(path: str | os.PathLike, size: int, mmap: bool) -> np.ndarray:
    fmt = np.lib.format
    try:
        with open(path, "rb") as f:
            if f.read(len(_NPY_MAGIC)) != _NPY_MAGIC:
                raise DataError(f"{path}: not a .npy file (bad magic)", path=str(path))
            f.seek(0)
            version = fmt.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = fmt.read_array_header_1_0(f)
            elif version in ((2, 0), (3, 0)):
                shape, fortran, dtype = fmt.read_array_header_2_0(f)
            else:
                raise DataError(f"{path}: unsupported .npy version {version}", path=str(path))
            offset = f.tell()
    except DataError:
        raise
    except (ValueError, OSError, EOFError) as exc:
        raise DataError(f"{path}: not a readable .npy file ({exc})", path=str(path)) from None
    if dtype.kind != "f" or dtype.fields is not None:
        raise DataError(f"{path}: expected float32 vectors, found dtype {dtype}",
                        path=str(path))
    if len(shape) not in (1, 2):
        raise DataError(f"{path}: expected a 2-D array (vectors x dimension), found shape "
                        f"{tuple(shape)}", path=str(path))
    expected = int(np.prod(shape)) * dtype.itemsize
    if size - offset < expected:
        raise DataError(f"{path}: truncated .npy file: header promises {expected} data bytes "
                        f"for shape {tuple(shape)} {dtype}, file holds {size - offset}",
                        path=str(path))
    if shape and shape[-1] == 0:
        raise DataError(f"{path}: vectors have dimension 0", path=str(path))
    count = int(np.prod(shape))
    if mmap and count:
        arr = np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=tuple(shape),
                        order="F" if fortran else "C")
    else:
        with open(path, "rb") as f:
            f.seek(offset)
            arr = np.fromfile(f, dtype=dtype, count=count).reshape(
                shape, order="F" if fortran else "C")
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    return as_matrix(arr, name=str(path))


def _read_raw(path: str | os.PathLike, size: int, dimension: int | None,
              mmap: bool) -> np.ndarray:
    if dimension is None:
        raise ProgrammingError(f"{path}: raw_f32 files need the dimension (--dimension)",
                               path=str(path))
    row = 4 * dimension
    if size % row:
        raise DataError(f"{path}: {size} bytes is not a whole number of {dimension}-dimensional "
                        f"float32 vectors ({row} bytes each): truncated file or wrong dimension",
                        path=str(path))
    count = size // row
    if count == 0:
        return np.empty((0, dimension), dtype=np.float32)
    if mmap:
        return np.memmap(path, dtype="<f4", mode="r", shape=(count, dimension))
    return np.fromfile(path, dtype="<f4").reshape(count, dimension)


def _read_fvecs(path: str | os.PathLike, size: int) -> np.ndarray:
    if size == 0:
        raise DataError(f"{path}: empty .fvecs file", path=str(path))
    if size < 4:
        raise DataError(f"{path}: truncated .fvecs file ({size} bytes)", path=str(path))
    with open(path, "rb") as f:
        dim = int(np.frombuffer(f.read(4), dtype="<i4")[0])
    if dim <= 0 or dim > _MAX_DIMENSION:
        raise DataError(f"{path}: not an .fvecs file (first record declares dimension {dim})",
                        path=str(path))
    row = 4 * (dim + 1)
    if size % row:
        raise DataError(f"{path}: truncated .fvecs file: {size} bytes is not a whole number of "
                        f"{dim}-dimensional records ({row} bytes each)", path=str(path))
    raw = np.memmap(path, dtype="<i4", mode="r", shape=(size // row, dim + 1))
    dims = raw[:, 0]
    bad = np.flatnonzero(dims != dim)
    if bad.size:
        raise DataError(f"{path}: record {int(bad[0])} declares dimension {int(dims[bad[0]])}, "
                        f"expected {dim} like the first record", path=str(path))
    return np.ascontiguousarray(raw[:, 1:].view("<f4"), dtype=np.float32)


def as_matrix(vectors: object, dimension: int | None = None, name: str = "vectors",
              allow_1d: bool = True) -> np.ndarray:
    """Validate ``vectors`` as a C-contiguous 2-D float32 matrix without copying when possible.

    A 1-D array is one vector when ``allow_1d``. Integers, booleans, objects and complex
    numbers are rejected rather than guessed at.
    """
    arr = np.asarray(vectors)
    if arr.dtype.kind not in "f" or arr.dtype.fields is not None:
        raise DataError(f"{name}: expected floating-point vectors, found dtype {arr.dtype}")
    if arr.ndim == 1 and allow_1d:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2:
        raise DataError(f"{name}: expected a 2-D array (vectors x dimension), found shape "
                        f"{arr.shape}")
    if arr.shape[1] == 0:
        raise DataError(f"{name}: vectors have dimension 0")
    if dimension is not None and arr.shape[1] != dimension:
        raise DataError(f"{name}: vectors have dimension {arr.shape[1]}, expected {dimension}")
    if arr.dtype != np.float32 or not arr.flags.c_contiguous:
        arr = np.ascontiguousarray(arr, dtype=np.float32)
    return arr


def check_finite(vectors: np.ndarray, name: str = "vectors", chunk_rows: int = 16384) -> None:
    """Raise DataError naming the first row that holds a NaN or an infinity.

    Works in chunks so a memory-mapped input is scanned without a full-size temporary.
    """
    if vectors.shape[0] <= chunk_rows and np.isfinite(vectors).all():
        return
    for start in range(0, vectors.shape[0], chunk_rows):
        block = vectors[start:start + chunk_rows]
        ok = np.isfinite(block).all(axis=1)
        if not ok.all():
            row = start + int(np.flatnonzero(~ok)[0])
            raise DataError(f"{name}: row {row} holds NaN or infinite values", row=row)


def write_vectors(path: str | os.PathLike, vectors: np.ndarray, fmt: str | None = None) -> int:
    """Write a 2-D float32 matrix in ``fmt`` (from the extension when omitted).

    The file appears atomically (written to a temporary name, then renamed), so a failure
    never leaves half a file. Returns the number of bytes written.
    """
    if fmt:
        fmt = _normalize_format(fmt)
    else:
        fmt = _EXTENSIONS.get(Path(path).suffix.lower())
        if fmt is None:
            raise ProgrammingError(f"{path}: cannot tell the format from the file name; name "
                                   f"one of {', '.join(FORMATS)}", path=str(path))
    arr = as_matrix(vectors, name=str(path))
    tmp = f"{os.fspath(path)}.tmp-{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            if fmt == "npy":
                np.lib.format.write_array(f, arr, allow_pickle=False)
            elif fmt == "raw_f32":
                for start in range(0, arr.shape[0], _WRITE_CHUNK_ROWS):
                    f.write(arr[start:start + _WRITE_CHUNK_ROWS].astype("<f4", copy=False)
                            .tobytes())
            else:
                dim = arr.shape[1]
                for start in range(0, arr.shape[0], _WRITE_CHUNK_ROWS):
                    block = arr[start:start + _WRITE_CHUNK_ROWS]
                    rec = np.empty((block.shape[0], dim + 1), dtype="<f4")
                    rec.view("<i4")[:, 0] = dim
                    rec[:, 1:] = block
                    f.write(rec.tobytes())
        os.replace(tmp, path)
    except OSError as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise OperationalError(f"{path}: cannot write ({exc.strerror})", path=str(path)) from exc
    return os.stat(path).st_size
