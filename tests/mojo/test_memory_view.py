"""bufferable.MemoryView: Mojo code viewing Python buffers.

Every test goes through tests/mojo/modules/memory_view_module.mojo, compiled once per session: numpy
arrays of any layout, bytes, bytearray, memoryview, array.array, bufferable's testing Producer and
MemoryViews handed back to Python. Refusals are checked for their class and message; releases are
counted on Producer; writes are checked from numpy.
"""

from __future__ import annotations

import array
import gc
import os
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def mv(mojo_module):
    """The compiled test module (built once per session, cached by content hash)."""
    return mojo_module(HERE / "modules" / "memory_view_module.mojo")


def Producer(*args, **kwargs):
    from bufferable.testing import Producer as _Producer

    return _Producer(*args, **kwargs)


def element_strides(a) -> tuple:
    """The strides the buffer export reports (numpy may tidy the strides of empty arrays and of
    extents of 1 when it exports), in elements."""
    m = memoryview(a)
    return tuple(s // m.itemsize for s in m.strides)


def address(a) -> int:
    return np.asarray(a).__array_interface__["data"][0]


# --------------------------------------------------------------------------------------------
# Sources: numpy of every layout, bytes, bytearray, memoryview, array.array, Producer, our views
# --------------------------------------------------------------------------------------------

BASE = np.arange(7 * 9, dtype=np.float64).reshape(7, 9)

NUMPY_LAYOUTS = {
    "c": lambda: BASE.copy(),
    "f": lambda: np.asfortranarray(BASE),
    "rows_step2": lambda: BASE.copy()[::2],
    "cols_step3": lambda: BASE.copy()[:, ::3],
    "negative_rows": lambda: BASE.copy()[::-1],
    "negative_both": lambda: BASE.copy()[::-2, ::-3],
    "sliced_window": lambda: BASE.copy()[1:6, 2:7],
    "transposed": lambda: BASE.copy().T,
    "broadcast_zero_stride": lambda: np.broadcast_to(np.arange(9.0), (7, 9)),
    "empty": lambda: np.zeros((0, 4)),
    "single_row": lambda: BASE.copy()[3:4],
}


@pytest.mark.parametrize("layout", sorted(NUMPY_LAYOUTS))
def test_numpy_layouts_are_viewed_in_place(mv, layout):
    a = NUMPY_LAYOUTS[layout]()
    info = mv.info_2d_readonly(a)
    assert info["shape"] == a.shape
    assert info["strides"] == element_strides(a)
    assert info["address"] == a.__array_interface__["data"][0]
    assert info["c_contiguous"] == a.flags.c_contiguous
    assert info["f_contiguous"] == a.flags.f_contiguous
    if a.flags.writeable:
        assert mv.tolist_2d(a) == a.tolist()


def test_three_dimensions_with_negative_strides(mv):
    a = np.arange(2 * 3 * 4, dtype=np.float64).reshape(2, 3, 4)[::-1, :, ::-2]
    assert mv.tolist_3d(a) == a.ravel().tolist()


def test_bytes_is_read_only(mv):
    assert mv.read_u8(b"\x00\x01\xff") == [0, 1, 255]
    with pytest.raises(BufferError, match=r"MemoryView\[uint8, 1\]: the buffer of 'bytes' is read-only"):
        mv.write_u8(b"abc", 0)


def test_bytearray_is_written_in_place(mv):
    b = bytearray(b"abc")
    assert mv.read_u8(b) == [97, 98, 99]
    mv.write_u8(b, 1)
    assert b == bytearray(b"acc")


def test_memoryview_sources(mv):
    b = bytearray(range(10))
    m = memoryview(b)[2:8:2]
    assert mv.read_u8(m) == [2, 4, 6]
    mv.write_u8(m, -1)
    assert b[6] == 7
    with pytest.raises(BufferError, match="read-only"):
        mv.write_u8(memoryview(b).toreadonly(), 0)
    a = np.arange(12.0).reshape(3, 4)
    assert mv.tolist_2d(memoryview(a)[::-1]) == a[::-1].tolist()


def test_array_array_source(mv):
    arr = array.array("d", [1.5, 2.5, 3.5])
    assert mv.values_float64(arr) == [1.5, 2.5, 3.5]
    mv.double_float64(arr)
    assert arr.tolist() == [3.0, 5.0, 7.0]
    with pytest.raises(ValueError, match=r"format 'i' is int32, not float64"):
        mv.values_float64(array.array("i", [1, 2]))


def test_producer_source(mv):
    p = Producer((3, 4), "d", strides=(-8, 24))
    info = mv.info_2d(p)
    assert info["shape"] == (3, 4)
    assert info["strides"] == (-1, 3)
    mv.fill_pattern_2d(p)
    assert mv.tolist_2d(p) == [[100.0 * i + j for j in range(4)] for i in range(3)]
    np.testing.assert_array_equal(np.asarray(p), [[100 * i + j for j in range(4)] for i in range(3)])


def test_memory_view_export_is_a_source(mv):
    a = np.arange(20.0).reshape(4, 5)
    v = mv.slice_2d(a, slice(None, None, -1), slice(1, None, 2))
    assert mv.tolist_2d(v) == a[::-1, 1::2].tolist()
    info = mv.info_2d(v)
    assert info["address"] == address(a[::-1, 1::2])


def test_not_a_buffer_is_a_type_error(mv):
    with pytest.raises(TypeError, match=r"MemoryView\[float64, 2\]: cannot view 'list'"):
        mv.info_2d([[1.0, 2.0]])
    with pytest.raises(TypeError, match="cannot view 'NoneType'"):
        mv.info_2d(None)


# --------------------------------------------------------------------------------------------
# Refusals: dtype, byte order, rank, read-only, layout demanded at compile time, indirect
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source, message",
    [
        (np.zeros((2, 2), np.float32), r"format 'f' is float32, not float64"),
        (np.zeros((2, 2), np.int64), r"format 'l' is int64, not float64"),
        (np.zeros((2, 2), np.complex128), r"format 'Zd' is complex128, not float64"),
        (np.zeros((2, 2), dtype="f8,f8"), r"format 'T\{.*\}' is not a single scalar, not float64"),
    ],
)
def test_wrong_dtype_is_a_value_error(mv, source, message):
    with pytest.raises(ValueError, match=r"MemoryView\[float64, 2\]: the buffer's " + message):
        mv.info_2d(source)


def test_non_native_byte_order_is_a_value_error(mv):
    big = np.arange(4.0).reshape(2, 2).astype(">f8")
    with pytest.raises(ValueError, match=r"format '>d' is big-endian, and this machine is little-endian"):
        mv.info_2d_readonly(big)
    # Native order spelled explicitly is accepted.
    assert mv.values_float64(np.arange(3.0).astype("<f8")) == [0.0, 1.0, 2.0]
    assert mv.values_float64(Producer((2,), "=d")) == [0.0, 0.0]
    assert mv.values_float64(Producer((2,), "@d")) == [0.0, 0.0]
    with pytest.raises(ValueError, match=r"format '!d' is big-endian"):
        mv.values_float64(Producer((2,), "!d"))


@pytest.mark.parametrize("ndim", [1, 3])
def test_wrong_rank_is_a_value_error(mv, ndim):
    a = np.zeros((2,) * ndim)
    with pytest.raises(ValueError, match=rf"the buffer has {ndim} dimensions?, expected 2"):
        mv.info_2d(a)


def test_read_only_source_for_mutable_view_is_a_buffer_error(mv):
    ro = np.zeros((2, 2))
    ro.setflags(write=False)
    with pytest.raises(BufferError, match=r"MemoryView\[float64, 2\]: the buffer of 'ndarray' is read-only"):
        mv.info_2d(ro)
    with pytest.raises(BufferError, match="read-only"):
        mv.info_2d(Producer((2, 2), "d", readonly=True))
    # A read-only view reads it.
    assert mv.info_2d_readonly(ro)["shape"] == (2, 2)


@pytest.mark.parametrize(
    "make",
    [lambda: np.zeros((4, 6))[:, ::2], lambda: np.zeros((4, 6), order="F"), lambda: np.zeros((4, 6))[::-1]],
)
def test_c_layout_refuses_other_layouts(mv, make):
    a = make()
    with pytest.raises(BufferError, match=r"MemoryView\[float64, 2, C_CONTIGUOUS\]: the buffer is not C-contiguous"):
        mv.info_2d_c(a)


@pytest.mark.parametrize("make", [lambda: np.zeros((4, 6)), lambda: np.zeros((4, 6), order="F")[::2]])
def test_f_layout_refuses_other_layouts(mv, make):
    with pytest.raises(BufferError, match=r"MemoryView\[float64, 2, F_CONTIGUOUS\]: the buffer is not F-contiguous"):
        mv.info_2d_f(make())


def test_demanded_layouts_accept_matching_buffers(mv):
    c = np.arange(12.0).reshape(3, 4)
    f = np.asfortranarray(c)
    assert mv.tolist_2d_c(c) == c.tolist()
    assert mv.tolist_2d_f(f) == f.tolist()
    assert mv.info_2d_c(c)["repr"] == "MemoryView[float64, 2, C_CONTIGUOUS](shape=(3, 4), strides=(4, 1))"
    # Extents of 1 may have any stride (CPython's rule), as numpy says.
    one_row = np.zeros((1, 5))[:, :]
    assert mv.info_2d_c(one_row)["c_contiguous"]
    # Strided views take both.
    assert mv.info_2d(c)["c_contiguous"] and mv.info_2d(f)["f_contiguous"]


def test_indirect_buffers_are_refused(mv):
    p = Producer((2, 3), "d", strides=(8, 8), suboffsets=(0, -1))
    with pytest.raises(BufferError, match="indirect \\(PIL-style suboffsets\\)"):
        mv.info_2d(p)
    assert p.live_exports == 0 and p.gets == p.releases


def test_unaligned_data_and_strides_are_read(mv):
    """Both were refused with BufferError; test_memory_view_unaligned.py covers every access."""
    raw = np.arange(64, dtype=np.uint8)  # bytes below 0x40: every float64 in it is finite
    odd = np.ndarray((3,), dtype=np.float64, buffer=raw, offset=0, strides=(12,))
    assert mv.values_float64(odd) == odd.tolist()
    info = mv.info_1d(odd)
    assert info["byte_strides"] == (12,) and not info["aligned"]
    assert info["repr"] == "MemoryView[float64, 1](shape=(3,), byte_strides=(12,))"
    unaligned = np.ndarray((3,), dtype=np.float64, buffer=raw, offset=1)
    assert mv.values_float64(unaligned) == unaligned.tolist()
    info = mv.info_1d(unaligned)
    assert info["strides"] == (1,) and not info["aligned"]
    assert mv.info_1d(np.zeros(3))["aligned"]


def test_refusals_release_what_they_acquired(mv):
    p = Producer((2, 2), "f")
    with pytest.raises(ValueError):
        mv.info_2d(p)
    q = Producer((2, 2), "d", readonly=True)
    with pytest.raises(BufferError):
        mv.info_2d(q)
    r = Producer((2, 6), "d", strides=(48, 16))
    with pytest.raises(BufferError):
        mv.info_2d_c(r)
    for producer in (p, q, r):
        assert producer.live_exports == 0
        assert producer.gets == producer.releases


# --------------------------------------------------------------------------------------------
# Access: bounds checks, unchecked path, SIMD loads/stores, writes seen by numpy
# --------------------------------------------------------------------------------------------


def test_checked_indexing(mv):
    a = np.arange(12.0).reshape(3, 4)
    assert mv.get_2d(a, 2, 3) == 11.0
    assert mv.get_2d(a, -1, -4) == 8.0
    for i, j, axis, size in [(3, 0, 0, 3), (0, 4, 1, 4), (-4, 0, 0, 3), (0, -5, 1, 4)]:
        index = i if axis == 0 else j
        with pytest.raises(IndexError, match=rf"index {index} is out of bounds for axis {axis} with size {size}"):
            mv.get_2d(a, i, j)
    with pytest.raises(IndexError):
        mv.set_2d(a, 0, 9, 1.0)
    mv.set_2d(a, -1, 0, 42.0)
    assert a[2, 0] == 42.0


def test_unchecked_accessors(mv):
    base = np.arange(12.0).reshape(3, 4)
    a = base[::-1, ::2]
    total = mv.unsafe_roundtrip_2d(a)
    assert total == (np.arange(12.0).reshape(3, 4)[::-1, ::2] + 1).sum()
    np.testing.assert_array_equal(base, np.arange(12.0).reshape(3, 4) + np.tile([1, 0, 1, 0], (3, 1)))


def test_simd_load_and_store(mv):
    a = np.arange(24.0).reshape(3, 8)
    assert mv.load4_2d(a, 1, 2) == [10.0, 11.0, 12.0, 13.0]
    s = a[:, ::2]  # a gather along a stride-2 axis
    assert mv.load4_2d(s, 2, 0) == [16.0, 18.0, 20.0, 22.0]
    with pytest.raises(IndexError, match="a load of 4 elements from index 5 runs past the end of axis 1"):
        mv.load4_2d(a, 0, 5)
    mv.store4_2d(a, 0, 4, -1.0)
    assert a[0, 4:].tolist() == [-1.0, 0.0, 1.0, 2.0]
    b = np.zeros((2, 8))
    mv.store4_2d(b[:, ::2], 1, 0, 5.0)  # a scatter through a strided view
    assert b[1].tolist() == [5.0, 0, 6.0, 0, 7.0, 0, 8.0, 0]


def test_writes_are_visible_in_numpy(mv):
    a = np.zeros((5, 6))
    mv.fill_pattern_2d(a)
    np.testing.assert_array_equal(a, 100 * np.arange(5)[:, None] + np.arange(6))


def test_writes_through_a_strided_slice_are_visible_in_numpy(mv):
    a = np.ones((6, 8))
    mv.scale_slice_2d(a, slice(5, 0, -2), slice(1, None, 3), 7.0)
    expected = np.ones((6, 8))
    expected[5:0:-2, 1::3] *= 7.0
    np.testing.assert_array_equal(a, expected)
    # ... and through a numpy-strided source.
    b = np.zeros((6, 8))
    mv.fill_pattern_2d(b[::-2, 1::3])
    expected = np.zeros((6, 8))
    expected[::-2, 1::3] = 100 * np.arange(3)[:, None] + np.arange(3)
    np.testing.assert_array_equal(b, expected)


# --------------------------------------------------------------------------------------------
# Slicing, transpose, permute, copy: against numpy, sharing memory
# --------------------------------------------------------------------------------------------

SLICES = [
    slice(None),
    slice(1, 5),
    slice(None, None, 2),
    slice(None, None, -1),
    slice(-2, None, -3),
    slice(5, 1, -2),
    slice(3, 3),
    slice(10, 20),
    slice(-100, 100, 4),
]


@pytest.mark.parametrize("s0", SLICES, ids=str)
@pytest.mark.parametrize("s1", SLICES[:5], ids=str)
def test_slices_match_numpy_and_share_memory(mv, s0, s1):
    a = np.arange(7 * 9, dtype=np.float64).reshape(7, 9)
    view = mv.slice_2d(a, s0, s1)
    got = np.asarray(view)
    expected = a[s0, s1]
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)
    if expected.size:
        assert got.strides == expected.strides
        assert np.shares_memory(got, a)
        assert address(got) == address(expected)


def test_slice_of_a_slice(mv):
    a = np.arange(10 * 10, dtype=np.float64).reshape(10, 10)
    v = mv.slice_2d_twice(a, slice(1, None, 2), slice(None, None, -1), slice(None, None, -1), slice(1, 6, 2))
    np.testing.assert_array_equal(np.asarray(v), a[1::2, ::-1][::-1, 1:6:2])


def test_one_d_slices(mv):
    a = np.arange(10.0)
    for s in SLICES:
        np.testing.assert_array_equal(np.asarray(mv.slice_1d(a, s)), a[s])


def test_zero_step_is_a_value_error(mv):
    with pytest.raises(ValueError, match="slice step cannot be zero"):
        mv.slice_1d(np.arange(3.0), slice(None, None, 0))


def test_transpose_and_permute(mv):
    a = np.arange(12.0).reshape(3, 4)
    t = mv.transpose_2d(a[::-1])
    np.testing.assert_array_equal(np.asarray(t), a[::-1].T)
    assert np.shares_memory(np.asarray(t), a)
    tc = mv.transpose_2d_c(a)
    assert type(tc).__name__ == "FView2D"  # C-contiguous -> F-contiguous, known at compile time
    assert repr(tc) == "<memory_view_module.FView2D shape=(4, 3) format='d'>"  # short, as every bound type
    np.testing.assert_array_equal(np.asarray(tc), a.T)
    assert np.asarray(tc).flags.f_contiguous
    b = np.arange(24.0).reshape(2, 3, 4)[:, ::-1]
    for axes in [(0, 1, 2), (2, 0, 1), (1, 2, 0), (-1, -2, -3)]:
        shape, values = mv.permute_3d(b, axes)
        expected = b.transpose(axes)
        assert tuple(shape) == expected.shape
        assert values == expected.ravel().tolist()
    with pytest.raises(ValueError, match="permute: axes must be a permutation of 0..2"):
        mv.permute_3d_bad(b)


def test_select_drops_one_axis(mv):
    a = np.arange(20.0).reshape(4, 5)[::-1, 1:]
    for axis, index in [(0, 0), (0, -1), (1, 2), (1, -4)]:
        got = np.asarray(mv.select_2d(a, axis, index))
        expected = a[index] if axis == 0 else a[:, index]
        np.testing.assert_array_equal(got, expected)
        assert address(got) == address(expected)
    with pytest.raises(IndexError, match="index 4 is out of bounds for axis 1 with size 4"):
        mv.select_2d(a, 1, 4)
    b = np.arange(24.0).reshape(2, 3, 4)[:, ::-1, ::2]
    assert mv.select_3d(b, 1) == b[:, 1, :].tolist()


def test_view_of_a_buffer_descriptor(mv):
    a = np.arange(12.0).reshape(3, 4)[::2, ::-1]
    assert mv.from_buffer_2d(a) == a.tolist()
    with pytest.raises(ValueError, match=r"MemoryView\[float32, 2\]: the buffer's format 'd' is float64, not float32"):
        mv.from_buffer_wrong_dtype(a)


def test_copy_is_c_contiguous_and_owned_by_mojo(mv):
    a = np.arange(30.0).reshape(5, 6)[::-2, 1::2]
    c = mv.copy_2d(a)
    assert type(c).__name__ == "CView2D"
    got = np.asarray(c)
    np.testing.assert_array_equal(got, a)
    assert got.flags.c_contiguous
    assert not np.shares_memory(got, a)
    assert address(got) % 64 == 0
    mv.fill_pattern_2d(c)  # a copy is writable and is itself a source
    np.testing.assert_array_equal(np.asarray(c), 100 * np.arange(3)[:, None] + np.arange(3))
    np.testing.assert_array_equal(a, np.arange(30.0).reshape(5, 6)[::-2, 1::2])  # source unchanged
    ct = mv.copy_2d_transposed(a)
    assert np.asarray(ct).flags.f_contiguous
    np.testing.assert_array_equal(np.asarray(ct), a.T)
    w = mv.copy_then_write(a)
    assert (np.asarray(w) == -1).all() and (a >= 0).all()


def test_full_allocates_mojo_memory_for_numpy(mv):
    got = mv.full_2d(3, 5, 2.5)
    assert got.shape == (3, 5) and got.flags.c_contiguous and got.flags.writeable
    assert (got == 2.5).all()
    got[1, 2] = 7
    assert got.sum() == 2.5 * 14 + 7


# --------------------------------------------------------------------------------------------
# Lifetime: exactly one release, counted on Producer
# --------------------------------------------------------------------------------------------


def test_one_acquisition_one_release(mv):
    p = Producer((4, 5), "d")
    mv.info_2d(p)
    assert (p.gets, p.releases) == (1, 1)


def test_slices_share_one_acquisition(mv):
    p = Producer((4, 5), "d")
    v = mv.slice_2d(p, slice(None, None, -1), slice(1, 4))
    assert (p.gets, p.releases) == (1, 0)
    w = mv.slice_2d_twice(p, slice(1, None), slice(None), slice(None, None, -1), slice(None))
    assert (p.gets, p.releases) == (2, 0)  # one per MemoryView made from Python, never per slice
    del v
    gc.collect()
    assert (p.gets, p.releases) == (2, 1)
    del w
    gc.collect()
    assert (p.gets, p.releases) == (2, 2)


def test_slice_outlives_the_view_it_was_sliced_from(mv):
    p = Producer((4, 6), "d")
    mv.fill_pattern_2d(p)
    assert (p.gets, p.releases) == (1, 1)
    child = mv.slice_outlives_parent(p)  # the parent view died inside Mojo
    assert (p.gets, p.releases) == (2, 1)
    pattern = 100 * np.arange(4)[:, None] + np.arange(6)
    np.testing.assert_array_equal(np.asarray(child), pattern[1:, ::2])
    assert address(child) == p.address + 6 * 8
    del child
    gc.collect()
    assert (p.gets, p.releases) == (2, 2)


def test_many_views_release_once(mv):
    p = Producer((3, 3), "d")
    assert mv.many_views(p, 300) == 300
    assert (p.gets, p.releases) == (1, 1)
    assert p.live_exports == 0


def test_numpy_view_of_a_mojo_view_keeps_the_source_alive(mv):
    p = Producer((3, 4), "d")
    mv.fill_pattern_2d(p)
    v = mv.slice_2d(p, slice(None, None, -1), slice(None))
    arr = np.asarray(v)
    assert mv.export_count(v) == 1
    del v
    gc.collect()
    assert (p.gets, p.releases) == (2, 1)  # the numpy array holds the view, the view the acquisition
    np.testing.assert_array_equal(arr, (100 * np.arange(3)[:, None] + np.arange(4))[::-1])
    del arr
    gc.collect()
    assert (p.gets, p.releases) == (2, 2)
    assert p.live_exports == 0


def test_source_deleted_while_a_view_lives(mv):
    a = np.arange(6.0).reshape(2, 3)
    v = mv.view_2d(a)
    del a
    gc.collect()
    np.testing.assert_array_equal(np.asarray(v), np.arange(6.0).reshape(2, 3))


def test_slice_to_numpy_is_zero_copy(mv):
    a = np.arange(20.0).reshape(4, 5)
    arr = mv.slice_2d_to_numpy(a, slice(1, None), slice(None, None, -2))
    np.testing.assert_array_equal(arr, a[1:, ::-2])
    assert address(arr) == address(a[1:, ::-2])
    arr[0, 0] = -7.0
    assert a[1, 4] == -7.0


def test_read_only_view_exports_read_only(mv):
    a = np.arange(4.0).reshape(2, 2)
    v = mv.view_2d_readonly(a)
    arr = np.asarray(v)
    assert not arr.flags.writeable
    with pytest.raises(BufferError):
        mv.info_2d(v)  # a mutable view of a read-only export
    assert np.asarray(mv.view_2d(a)).flags.writeable


# --------------------------------------------------------------------------------------------
# Element types: the design's table, bool and float16 included
# --------------------------------------------------------------------------------------------

DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16", "float32", "float64"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_dtype_reads_and_writes(mv, dtype):
    if dtype == "bool":
        a = np.array([True, False, True, True, False])
    else:
        a = (np.arange(10) % 7 + 1).astype(dtype)
    strided = a[::-2]
    assert getattr(mv, f"values_{dtype}")(strided) == strided.astype(np.float64).tolist()
    before = a.copy()
    getattr(mv, f"double_{dtype}")(strided)
    expected = before.copy()
    expected[::-2] = ~before[::-2] if dtype == "bool" else before[::-2] * 2
    np.testing.assert_array_equal(a, expected)


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_dtype_refuses_the_others(mv, dtype):
    other = "float64" if dtype != "float64" else "float32"
    with pytest.raises(ValueError, match=rf"MemoryView\[{dtype}, 1(, mut=False)?\]: the buffer's format '.+' is {other}, not {dtype}"):
        getattr(mv, f"values_{dtype}")(np.zeros(3, other))


def test_bfloat16_extension_format(mv):
    p = Producer((3,), "[ml_dtypes$bfloat16$]")
    assert mv.values_bfloat16(p) == [0.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="format 'e' is float16, not bfloat16"):
        mv.values_bfloat16(np.zeros(2, np.float16))


def test_char_formats(mv):
    # struct's 'c' and 'B' are both one unsigned byte of data; Producer exports 'B' and '?' too.
    assert mv.values_uint8(Producer((3,), "B")) == [0.0, 0.0, 0.0]
    assert mv.values_bool(Producer((2,), "?")) == [0.0, 0.0]


# --------------------------------------------------------------------------------------------
# The benchmark's sums are right (benchmarks/bench_memory_view.py times them)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 31, 32, 33, 64, 65, 1000, 4099])
@pytest.mark.parametrize("step", [1, 2, 3, -1, -2])
def test_benchmark_sums(mv, n, step):
    a = (np.arange(n * abs(step)) % 11).astype(np.float32)[::step]
    assert mv.sum_f32(a) == float(a.sum(dtype=np.float64))
    if step == 1:
        assert mv.sum_f32_c(a) == float(a.sum(dtype=np.float64))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses mprotect")
@pytest.mark.parametrize("n", [1, 32, 33, 64, 65, 500])
def test_stride2_sum_reads_nothing_past_the_view(mv, n):
    """The view's last element is the last float before an inaccessible page: a read past it
    would crash the test."""
    import ctypes
    import mmap

    page = mmap.PAGESIZE
    region = mmap.mmap(-1, 2 * page)
    start = ctypes.addressof(ctypes.c_char.from_buffer(region))
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.mprotect(ctypes.c_void_p(start + page), ctypes.c_size_t(page), 1 | 2) == 0
    floats = np.frombuffer(region, np.float32, count=page // 4)
    floats[:] = 1
    assert libc.mprotect(ctypes.c_void_p(start + page), ctypes.c_size_t(page), 0) == 0
    view = floats[page // 4 - (2 * n - 1):][::2]
    assert mv.sum_f32(view) == n


# --------------------------------------------------------------------------------------------
# What the compiler refuses: wrong number of indices, writes through a read-only view
# --------------------------------------------------------------------------------------------

COMPILE_ERRORS = {
    "wrong_arity": (
        "def f(obj: PythonObject) raises -> Float64:\n"
        "    var v = MemoryView[DType.float64, 2](obj)\n"
        "    return v[1]\n",
        "the number of indices must equal the rank",
    ),
    "write_read_only": (
        "def f(obj: PythonObject) raises:\n"
        "    var v = MemoryView[DType.float64, 2, mut=False](obj)\n"
        "    v[0, 0] = 1.0\n",
        "expected 'mut'",
    ),
}


@pytest.mark.parametrize("case", sorted(COMPILE_ERRORS))
def test_compile_time_refusals(case, tmp_path, mojo_compiler):
    import subprocess

    from bufferable.build import mojo_path

    mojo = mojo_compiler
    body, expected = COMPILE_ERRORS[case]
    source = tmp_path / f"{case}.mojo"
    source.write_text(
        "from std.python import PythonObject\nfrom bufferable import MemoryView\n\n\n"
        + body
        + f'\n\n@export\ndef PyInit_{case}() abi("C") -> PythonObject:\n'
        + "    try:\n        _ = f(PythonObject())\n    except:\n        pass\n    return PythonObject()\n"
    )
    try:  # loading a Mojo extension rewrites PYTHONPATH; bufferable.build knows the fix-up
        from bufferable.build import compiler_environment

        env = compiler_environment()
    except ImportError:
        env = dict(os.environ)  # the user's environment, not the C-level one Mojo rewrote
    result = subprocess.run(
        [mojo, "build", "-I", mojo_path(), str(source), "--emit", "shared-lib", "-o", str(tmp_path / "out.so")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode != 0
    assert expected in result.stdout + result.stderr
