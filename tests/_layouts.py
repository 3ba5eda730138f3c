"""Layouts and helpers shared by the export tests: a Producer and its numpy twin over the same bytes."""
import ctypes
import itertools

import numpy as np

from bufferable.testing import Producer

# Every combination of the PyBUF_* request bits (the 9 bits CPython's flags are made of, 0x2 is
# unused): 256 requests, a superset of the 72 distinct combinations of the named flags.
FLAG_BITS = (0x1, 0x4, 0x8, 0x10, 0x20, 0x40, 0x80, 0x100)
ALL_FLAGS = [sum(c) for n in range(len(FLAG_BITS) + 1) for c in itertools.combinations(FLAG_BITS, n)]

# format -> the numpy dtype it means (None: numpy cannot parse it; compared via memoryview only)
FORMATS = {
    "B": np.dtype("u1"),
    "<i": np.dtype("<i4"),
    ">d": np.dtype(">f8"),
    "Zd": np.dtype("c16"),
    "e": np.dtype("f2"),
    "?": np.dtype("?"),
    "T{<i:x:d:y:}": np.dtype([("x", "<i4"), ("y", "<f8")]),
    "(2,3)f": np.dtype(("f4", (2, 3))),
    "[ml_dtypes$bfloat16$]": None,
}


def c_strides(shape, itemsize):
    out, step = [], itemsize
    for n in reversed(shape):
        out.append(step)
        step *= max(n, 1)
    return tuple(reversed(out))


def f_strides(shape, itemsize):
    out, step = [], itemsize
    for n in shape:
        out.append(step)
        step *= max(n, 1)
    return tuple(out)


def stride_patterns(shape, itemsize):
    """name -> strides (None = the descriptor says NULL) for a shape: contiguous and not."""
    pats = {"C-null": None, "C": c_strides(shape, itemsize)}
    if len(shape) >= 2:
        pats["F"] = f_strides(shape, itemsize)
    if shape:
        big = list(c_strides(shape[:-1] + (2 * shape[-1],), itemsize))
        big[-1] *= 2
        pats["sliced"] = tuple(big)  # a[..., ::2] of a twice-wider array
        neg = list(c_strides(shape, itemsize))
        neg[0] = -neg[0]
        pats["negative"] = tuple(neg)  # a[::-1]
        zero = list(c_strides(shape, itemsize))
        zero[0] = 0
        pats["zero"] = tuple(zero)  # broadcast along axis 0
        if len(shape) >= 2:
            pats["transposed-neg"] = tuple(-s for s in f_strides(shape, itemsize))
    return pats


SHAPES = [(), (5,), (0,), (1,), (3, 4), (1, 4), (4, 1), (2, 0, 3), (2, 3, 4), (2, 1, 3, 2)]


def layouts():
    """(id, kwargs) for Producer: every shape x stride pattern in 'B' and '<i', and a smaller
    set of shapes for every other format, read-only and writable."""
    out = []
    for fmt, dtype in FORMATS.items():
        itemsize = dtype.itemsize if dtype is not None else 2
        shapes = SHAPES if fmt in ("B", "<i") else [(), (5,), (3, 4), (2, 0, 3), (2, 1, 3, 2)]
        for shape in shapes:
            for name, strides in stride_patterns(shape, itemsize).items():
                for ro in (False, True) if fmt == "<i" else (False,):
                    kid = f"{fmt}-{shape}-{name}{'-ro' if ro else ''}"
                    out.append((kid, dict(shape=shape, format=fmt, strides=strides, readonly=ro)))
    return out


def raw_bytes(p):
    """A writable numpy uint8 array over a Producer's whole storage (the Producer must outlive it)."""
    base = p.address - p.offset  # a Producer always owns at least one byte (even for nbytes 0)
    return np.frombuffer((ctypes.c_char * max(p.nbytes, 1)).from_address(base), np.uint8)[: p.nbytes]


def numpy_twin(p, dtype):
    """An ndarray with the Producer's layout over the Producer's own bytes, and its read-only flag."""
    raw = raw_bytes(p)
    twin = np.ndarray(p.shape, dtype=dtype, buffer=raw, offset=p.offset, strides=p.strides)
    if p.readonly:
        twin.flags.writeable = False
    return twin
