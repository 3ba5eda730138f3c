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


# A producer hands the same descriptor export after export, and the core remembers what it
# validated by content. A descriptor rewritten in place (same addresses, new contents) between two
# exports must be judged on its new contents: a lie is still refused, a truthful change is seen.
IN_PLACE_LIES = [
    (dict(format="i"), "itemsize 8, but its format 'i' describes items of 4"),
    (dict(format="Z"), "invalid format 'Z'"),
    (dict(shape=(2, -3)), r"negative shape\[1\] = -3"),
    (dict(shape=(2**40, 2**40)), "too large"),
    (dict(strides=(8, 2**62)), "strides overflow"),
    (dict(itemsize=4), "itemsize 4, but its format 'd' describes items of 8"),
]


@pytest.mark.parametrize("change,message", IN_PLACE_LIES, ids=[m for _, m in IN_PLACE_LIES])
@pytest.mark.parametrize("flags", [BufferFlags.FULL_RO, BufferFlags.STRIDED, BufferFlags.RECORDS])
def test_a_descriptor_rewritten_in_place_into_a_lie_is_refused(change, message, flags):
    p = Producer.lying((2, 3), "d", strides=(24, 8), nbytes=48)
    for _ in range(3):  # validated once, then exported again as remembered
        assert inspect(p, flags).shape == (2, 3)
    assert p.live_exports == 0
    p.rewrite_in_place(**change)
    for _ in range(2):
        with pytest.raises(BufferError, match=message):
            inspect(p, flags)
    assert p.live_exports == 0 and p.gets == 3 and p.refusals == 2


def test_a_descriptor_rewritten_in_place_truthfully_is_exported_as_it_now_is():
    p = Producer.lying((2, 3), "d", strides=(24, 8), nbytes=48)
    assert memoryview(p).shape == (2, 3)
    p.rewrite_in_place(shape=(3, 2), strides=(16, 8))
    m = memoryview(p)
    assert (m.shape, m.strides, m.format) == ((3, 2), (16, 8), "d")
    m.release()
    p.rewrite_in_place(format="q")  # same size, another type
    assert memoryview(p).format == "q" and np.asarray(p).dtype == np.int64
    c = Producer.lying((2, 3), "d", nbytes=48)  # strides NULL: the core computes them
    assert memoryview(c).strides == (24, 8)
    c.rewrite_in_place(shape=(3, 2))
    assert memoryview(c).strides == (16, 8) and np.asarray(c).shape == (3, 2)
    assert p.live_exports == 0 and c.live_exports == 0


def test_many_producers_interleaved_export_their_own_layouts():
    # More producers than the core remembers descriptors, every export checked against its own
    # producer, with views kept alive across rounds: nothing remembered leaks into another export.
    producers = [Producer((n + 1, 7 - n % 5), "d") for n in range(40)]
    for p in producers:
        np.asarray(p)[...] = p.shape[0]
    for _ in range(3):
        views = [np.asarray(p) for p in producers] + [memoryview(p) for p in producers[::3]]
        for p, a in zip(producers, views):
            assert a.shape == p.shape and a.strides == (8 * p.shape[1], 8) and (a == p.shape[0]).all()
            assert a.__array_interface__["data"][0] == p.address
        del views, a
    assert all(p.live_exports == 0 and p.gets == p.releases for p in producers)
