"""Descriptors that lie are refused at export time by the engine (BufferError naming the problem)."""
import numpy as np
import pytest

from bufferable import BufferFlags, inspect
from bufferable.testing import Producer

LIES = [
    (dict(shape=(2, -1)), r"negative shape\[1\] = -1"),
    (dict(shape=(-5,)), r"negative shape\[0\] = -5"),
    (dict(shape=(2**40, 2**40)), "too large"),
    (dict(shape=(2**61,), format="d"), "too large"),  # product fits, times itemsize does not
    (dict(shape=(1,) * 65), "ndim 65, outside 0..64"),
    (dict(shape=(), ndim=-1), "ndim -1"),
    (dict(shape=(4,), format="i", itemsize=3), "itemsize 3, but its format 'i' describes items of 4"),
    (dict(shape=(4,), format=None, itemsize=4), "itemsize 4, but its format 'B'"),
    (dict(shape=(4,), format="d", itemsize=0), "itemsize 0"),
    (dict(shape=(4,), format="Q!z", itemsize=8), "invalid format 'Q!z'"),
    (dict(shape=(4,), format="T{i", itemsize=4), "invalid format 'T{i'"),
    (dict(shape=(4,), null_data=True), "NULL data but a size of 4 bytes"),
    (dict(shape=(2, 3), null_shape=True), "ndim 2 but shape is NULL"),
    (dict(shape=(3,), strides=(2**62,)), "strides overflow"),
    (dict(shape=(3, 3), strides=(-(2**62), 2**62)), "strides overflow"),
]


@pytest.mark.parametrize("kw,message", LIES, ids=[m for _, m in LIES])
def test_lies_are_refused(kw, message):
    p = Producer.lying(**kw)
    for flags in (BufferFlags.SIMPLE, BufferFlags.FULL_RO, BufferFlags.FULL, BufferFlags.RECORDS):
        with pytest.raises(BufferError, match=message):
            inspect(p, flags)
    with pytest.raises(BufferError, match=message):
        memoryview(p)
    assert p.gets == 0 and p.refusals == 5


def test_invalid_format_keeps_the_grammars_error_as_cause():
    p = Producer.lying((4,), "Q!z", itemsize=8)
    with pytest.raises(BufferError) as info:
        memoryview(p)
    assert isinstance(info.value.__cause__, ValueError)


@pytest.mark.parametrize(
    "kw",
    [
        dict(shape=(0,), null_data=True),  # no bytes: NULL data is fine
        dict(shape=(3, 0, 2**62), format="d", null_data=True),  # empty: no overflow to speak of
        dict(shape=(4,), format=None),  # NULL format means 'B'
        dict(shape=(2, 2), suboffsets=(-1, -1)),  # no indirect dimension: suboffsets dropped
    ],
)
def test_truthful_edge_cases_are_accepted(kw):
    p = Producer.lying(**kw)
    info = inspect(p)
    assert info.suboffsets is None
    assert info.format == ("B" if kw.get("format", "B") in (None, "B") else kw["format"])
    info = inspect(p, BufferFlags.STRIDES)  # no INDIRECT needed
    m = memoryview(p)
    assert m.nbytes == info.nbytes
    m.release()


@pytest.mark.parametrize(
    "flags,message",
    [
        (BufferFlags.WRITABLE, "read-only"),
        (BufferFlags.CONTIG, "read-only"),
        (BufferFlags.FULL, "read-only"),
    ],
)
def test_writable_request_on_read_only_buffer(flags, message):
    p = Producer((4,), "f", readonly=True)
    with pytest.raises(BufferError, match=message):
        inspect(p, flags)
    assert inspect(p, flags & ~BufferFlags.WRITABLE).readonly
    m = memoryview(p)
    assert m.readonly
    with pytest.raises(TypeError):
        m[0] = 1.0
    m.release()
    with pytest.raises((ValueError, BufferError)):  # numpy: ValueError
        np.asarray(p)[0] = 1.0


@pytest.mark.parametrize(
    "layout,flags,message",
    [
        (dict(shape=(3, 4), strides=(4, 12)), BufferFlags.C_CONTIGUOUS, "not C-contiguous"),
        (dict(shape=(3, 4), strides=(16, 4)), BufferFlags.F_CONTIGUOUS, "not Fortran-contiguous"),
        (dict(shape=(3, 4), strides=(32, 4)), BufferFlags.ANY_CONTIGUOUS, "neither C- nor Fortran"),
        (dict(shape=(3, 4), strides=(4, 12)), BufferFlags.ND, "lacks PyBUF_STRIDES"),
        (dict(shape=(3, 4), strides=(4, 12)), BufferFlags.SIMPLE, "lacks PyBUF_STRIDES"),
        (dict(shape=(4,), strides=(-4,)), BufferFlags.CONTIG_RO, "lacks PyBUF_STRIDES"),
        (dict(shape=(2, 3), strides=(8, 1), suboffsets=(0, -1)), BufferFlags.RECORDS_RO, "PyBUF_INDIRECT"),
        (dict(shape=(2, 3), strides=(8, 1), suboffsets=(0, -1)), BufferFlags.STRIDES, "PyBUF_INDIRECT"),
        (dict(shape=(2, 3), strides=(8, 1), suboffsets=(0, -1)), BufferFlags.INDIRECT | 0x20, "not C-contiguous"),
        (dict(shape=(2, 3), strides=(8, 1), suboffsets=(0, -1)), BufferFlags.INDIRECT | 0x80, "neither"),
    ],
)
def test_requests_the_layout_cannot_meet(layout, flags, message):
    p = Producer(layout.pop("shape"), "i" if "suboffsets" not in layout else "B", **layout)
    with pytest.raises(BufferError, match=message):
        inspect(p, flags)
    assert p.refusals == 1 and p.gets == 0
