"""MemoryView over unaligned memory: what engines deliver (Dask hands workers arrays whose data
address is odd after a transfer; a field of a packed structured array has odd strides).

Every array here is numpy's own view of a bytearray at a chosen misalignment, read and written
through tests/mojo/modules/memory_view_module.mojo and compared with numpy: element access,
SIMD loads and stores, slices, transposes, copies, exports, and the bytes a write changes
(nothing outside the written elements). Before views read unaligned memory, every call here
raised BufferError ("not aligned to 8 bytes", "not a whole number of 8-byte elements").
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

HERE = Path(__file__).resolve().parent

#: Integers, so that every sum is exact in any order.
ROWS, COLS = 5, 7


@pytest.fixture(scope="module")
def mv(mojo_module):
    return mojo_module(HERE / "modules" / "memory_view_module.mojo")


def address(a) -> int:
    return a.__array_interface__["data"][0]


def at_misalignment(nbytes: int, misalignment: int, modulus: int = 8) -> tuple[bytearray, int]:
    """A zeroed bytearray with room for ``nbytes`` from the returned offset, whose address at that
    offset is ``misalignment`` modulo ``modulus`` (whatever the allocator's alignment)."""
    raw = bytearray(nbytes + 2 * modulus)
    base = address(np.frombuffer(raw, np.uint8))
    return raw, (misalignment - base) % modulus + modulus


def unaligned(shape, misalignment: int, dtype="<f8", order="C"):
    """``np.arange`` in ``shape`` (C or F order) over a bytearray, its data address
    ``misalignment`` modulo 8; returns (array, the bytearray)."""
    dtype = np.dtype(dtype)
    n = int(np.prod(shape))
    raw, offset = at_misalignment(n * dtype.itemsize, misalignment)
    a = np.frombuffer(raw, dtype, count=n, offset=offset)
    a[:] = np.arange(n) % 100
    a = a.reshape(shape, order=order)
    assert address(a) % 8 == misalignment
    return a, raw


def same_layout(raw: bytearray, a: np.ndarray) -> np.ndarray:
    """The array over a copy of ``raw`` with the geometry of ``a`` (a view of ``raw``): numpy's
    expectation of what a write through ``a`` does to every byte."""
    copy = bytearray(raw)
    offset = address(a) - address(np.frombuffer(raw, np.uint8))
    return np.ndarray(a.shape, a.dtype, buffer=copy, offset=offset, strides=a.strides), copy


OFFSETS = range(1, 8)
LAYOUTS = {
    "c": lambda m: unaligned((ROWS, COLS), m),
    "f": lambda m: unaligned((ROWS, COLS), m, order="F"),
    "transposed": lambda m: (lambda a, raw: (a.T, raw))(*unaligned((COLS, ROWS), m)),
    "strided": lambda m: (lambda a, raw: (a[::2, ::3], raw))(*unaligned((ROWS, COLS), m)),
    "negative": lambda m: (lambda a, raw: (a[::-1, ::-2], raw))(*unaligned((ROWS, COLS), m)),
    "window": lambda m: (lambda a, raw: (a[1:4, 2:6], raw))(*unaligned((ROWS, COLS), m)),
    "one_row": lambda m: (lambda a, raw: (a[2:3], raw))(*unaligned((ROWS, COLS), m)),
}


# --------------------------------------------------------------------------------------------
# Reads
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("misalignment", OFFSETS)
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_unaligned_reads_match_numpy(mv, layout, misalignment):
    a, _ = LAYOUTS[layout](misalignment)
    info = mv.info_2d_readonly(a)
    assert info["shape"] == a.shape
    exported = memoryview(a).strides  # numpy may tidy the stride of an extent of 1 when it exports
    assert info["byte_strides"] == exported
    assert info["strides"] == tuple(s // 8 for s in exported)
    assert info["address"] == address(a)
    assert info["aligned"] is False
    assert mv.tolist_2d_readonly(a) == a.tolist()  # checked reads
    assert mv.tolist_2d(a) == a.tolist()  # through a mutable view of the writable source
    assert mv.sum_2d_readonly(a) == a.sum()  # unchecked reads
    assert mv.sum_rows_simd(a) == a.sum()  # SIMD loads (vector or gather) along rows
    j = a.shape[1] - 4
    if j >= 0:
        assert mv.load4_2d(a, a.shape[0] - 1, j) == a[-1, j:].tolist()


@pytest.mark.parametrize("misalignment", OFFSETS)
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_unaligned_views_of_views_match_numpy(mv, layout, misalignment):
    a, _ = LAYOUTS[layout](misalignment)
    # The view exported back to numpy: the same unaligned memory, no copy.
    back = np.asarray(mv.view_2d_readonly(a))
    assert address(back) == address(a) and back.strides == a.strides
    np.testing.assert_array_equal(back, a)
    for s0, s1 in [(slice(1, None), slice(None, None, -2)), (slice(None, None, -1), slice(1, 3))]:
        got = np.asarray(mv.slice_2d(a, s0, s1))
        np.testing.assert_array_equal(got, a[s0, s1])
        if got.size:
            assert got.strides == a[s0, s1].strides
    np.testing.assert_array_equal(np.asarray(mv.transpose_2d(a)), a.T)
    np.testing.assert_array_equal(np.asarray(mv.select_2d(a, 0, -1)), a[-1])
    np.testing.assert_array_equal(np.asarray(mv.select_2d(a, 1, 0)), a[:, 0])
    for copy in (mv.copy_2d_readonly(a), mv.copy_2d(a)):
        c = np.asarray(copy)
        np.testing.assert_array_equal(c, a)
        assert c.flags.c_contiguous and address(c) % 64 == 0


@pytest.mark.parametrize("misalignment", OFFSETS)
def test_unaligned_c_contiguous_views(mv, misalignment):
    a, _ = unaligned((ROWS, COLS), misalignment)
    assert mv.tolist_2d_c(a) == a.tolist()
    t = np.asarray(mv.transpose_2d_c(a))  # F_CONTIGUOUS at compile time
    np.testing.assert_array_equal(t, a.T)
    assert mv.tolist_2d_f(np.asarray(a.T)) == a.T.tolist()
    # float32 through a C_CONTIGUOUS view: unsafe_load[8] vectors, unsafe_get for the tail.
    for n in (3, 37, 100):
        f, _ = unaligned((n,), misalignment % 4 or 1, dtype="<f4")
        assert mv.sum_f32_c(f) == float(f.sum(dtype=np.float64))


@pytest.mark.parametrize("dtype,misalignment", [
    (dtype, m) for dtype in ["<i2", "<u2", "<f2", "<i4", "<u4", "<f4", "<i8", "<u8", "<f8"]
    for m in OFFSETS if m % np.dtype(dtype).itemsize])
def test_unaligned_1d_of_every_width(mv, dtype, misalignment):
    name = np.dtype(dtype).name
    a, raw = unaligned((13,), misalignment, dtype)
    assert getattr(mv, f"values_{name}")(a) == a.astype(np.float64).tolist()
    assert getattr(mv, f"values_{name}")(a[::-3]) == a[::-3].astype(np.float64).tolist()
    expected, expected_raw = same_layout(raw, a)
    expected += expected
    getattr(mv, f"double_{name}")(a)  # v[i] = v[i] + v[i] through a mutable view
    assert raw == expected_raw


def test_read_only_unaligned_buffers(mv):
    a, raw = unaligned((ROWS, COLS), 3)
    a.flags.writeable = False
    assert mv.tolist_2d_readonly(a) == a.tolist()
    assert mv.sum_rows_simd(a[:, ::-1]) == a.sum()
    np.testing.assert_array_equal(np.asarray(mv.copy_2d_readonly(a.T)), a.T)
    with pytest.raises(BufferError, match="read-only; a mutable view needs a writable buffer"):
        mv.info_2d(a)
    b = np.frombuffer(bytes(raw), np.float64, count=ROWS * COLS, offset=address(a) - address(
        np.frombuffer(raw, np.uint8))).reshape(ROWS, COLS)  # immutable bytes
    assert mv.tolist_2d_readonly(b) == a.tolist()
    with pytest.raises(BufferError, match="read-only"):
        mv.set_2d(b, 0, 0, 1.0)


# --------------------------------------------------------------------------------------------
# Writes land in the right bytes, and only there
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("misalignment", OFFSETS)
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_unaligned_writes_land_in_the_right_bytes(mv, layout, misalignment):
    a, raw = LAYOUTS[layout](misalignment)
    rows, cols = a.shape

    def check(write, numpy_write):
        expected, expected_raw = same_layout(raw, a)
        numpy_write(expected)
        write()
        assert raw == expected_raw

    check(lambda: mv.set_2d(a, -1, 1, -2.5), lambda e: e.__setitem__((-1, 1), -2.5))
    check(lambda: mv.fill_pattern_2d(a),
          lambda e: e.__setitem__(..., 100 * np.arange(rows)[:, None] + np.arange(cols)))
    total = (a + 1).sum()
    check(lambda: mv.unsafe_roundtrip_2d(a), lambda e: e.__iadd__(1))
    assert a.sum() == total
    if cols >= 4:  # a vector store along a unit-stride row, else a scatter
        check(lambda: mv.store4_2d(a, rows - 1, cols - 4, 7.0),
              lambda e: e.__setitem__((rows - 1, slice(cols - 4, None)), [7.0, 8.0, 9.0, 10.0]))
    check(lambda: mv.scale_slice_2d(a, slice(None, None, -2), slice(1, None), 3.0),
          lambda e: e.__setitem__((slice(None, None, -2), slice(1, None)), e[::-2, 1:] * 3.0))


# --------------------------------------------------------------------------------------------
# Strides that are not whole elements (a field of a packed record; an unaligned row pitch)
# --------------------------------------------------------------------------------------------


def odd_strides(misalignment: int, strides=(53, 9), shape=(4, 5)):
    """float64 elements 9 bytes apart in rows 53 bytes apart, the first at ``misalignment``
    modulo 8, filled with distinct integers; returns (array, the bytearray)."""
    span = (shape[0] - 1) * abs(strides[0]) + (shape[1] - 1) * abs(strides[1]) + 8
    raw, offset = at_misalignment(span, misalignment)
    offset += sum((n - 1) * -s for n, s in zip(shape, strides) if s < 0)
    a = np.ndarray(shape, np.float64, buffer=raw, offset=offset, strides=strides)
    a[...] = np.arange(a.size).reshape(shape)
    return a, raw


@pytest.mark.parametrize("misalignment", [0, 3, 6])
@pytest.mark.parametrize("strides", [(53, 9), (9, 53), (-61, 12), (60, -9)])
def test_strides_that_are_not_whole_elements(mv, strides, misalignment):
    a, raw = odd_strides(misalignment, strides)
    info = mv.info_2d_readonly(a)
    assert info["byte_strides"] == a.strides and info["aligned"] is False
    assert info["repr"] == f"MemoryView[float64, 2, mut=False](shape=(4, 5), byte_strides={a.strides})"
    assert mv.tolist_2d_readonly(a) == a.tolist()
    assert mv.sum_2d_readonly(a) == mv.sum_rows_simd(a) == a.sum()
    assert mv.load4_2d(a, 2, 1) == a[2, 1:].tolist()  # a gather
    np.testing.assert_array_equal(np.asarray(mv.copy_2d_readonly(a)), a)
    back = np.asarray(mv.view_2d_readonly(a))
    assert back.strides == a.strides and address(back) == address(a)
    np.testing.assert_array_equal(np.asarray(mv.slice_2d(a, slice(None, None, -2), slice(1, 4))),
                                  a[::-2, 1:4])
    np.testing.assert_array_equal(np.asarray(mv.transpose_2d(a)), a.T)
    expected, expected_raw = same_layout(raw, a)
    expected[...] = 100 * np.arange(4)[:, None] + np.arange(5)
    expected[1, 1:] = [7.0, 8.0, 9.0, 10.0]
    mv.fill_pattern_2d(a)
    mv.store4_2d(a, 1, 1, 7.0)  # a scatter
    assert raw == expected_raw


def test_a_field_of_packed_records(mv):
    """numpy's view of one field of a packed structured array: odd address, 13-byte stride."""
    packed = np.dtype([("tag", "u1"), ("x", "<f8"), ("id", "<i4")])
    assert packed.itemsize == 13
    raw, offset = at_misalignment(13 * 10, 0)
    records = np.frombuffer(raw, packed, count=10, offset=offset)
    records["x"] = np.arange(10) * 1.5
    records["tag"], records["id"] = 0xAB, -1
    x = records["x"]
    assert x.strides == (13,) and address(x) % 8 == 1
    assert mv.values_float64(x) == records["x"].tolist()
    mv.double_float64(x)
    assert records["x"].tolist() == (np.arange(10) * 3.0).tolist()
    assert (records["tag"] == 0xAB).all() and (records["id"] == -1).all()  # neighbours untouched


# --------------------------------------------------------------------------------------------
# Any geometry (hypothesis): address and byte strides drawn freely
# --------------------------------------------------------------------------------------------


@st.composite
def geometries(draw):
    shape = (draw(st.integers(0, 5)), draw(st.integers(0, 5)))
    strides = (draw(st.integers(-48, 48)), draw(st.integers(-48, 48)))
    return shape, strides, draw(st.integers(0, 7))


@settings(max_examples=300, derandomize=True, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(geometries())
def test_any_unaligned_geometry(mv, geometry):
    shape, strides, misalignment = geometry
    low = sum((n - 1) * s for n, s in zip(shape, strides) if s < 0 and n > 0)
    high = sum((n - 1) * s for n, s in zip(shape, strides) if s > 0 and n > 0)
    raw, offset = at_misalignment(high - low + 8, misalignment)
    # Bytes below 0x40 make every 8-byte window a finite float64 (no NaN to compare).
    raw[:] = np.random.default_rng(len(raw)).integers(0, 0x40, len(raw), dtype=np.uint8).tobytes()
    a = np.ndarray(shape, np.float64, buffer=raw, offset=offset - low, strides=strides)
    assert mv.tolist_2d_readonly(a) == a.tolist()
    assert mv.sum_2d_readonly(a) == sum(a.flat, 0.0)  # same order: bit for bit
    np.testing.assert_array_equal(np.asarray(mv.copy_2d_readonly(a)), a)
    offsets = sorted(i * strides[0] + j * strides[1] for i in range(shape[0]) for j in range(shape[1]))
    if all(b - a >= 8 for a, b in zip(offsets, offsets[1:])):  # no element overlaps another
        expected, expected_raw = same_layout(raw, a)
        expected[...] = 100 * np.arange(shape[0])[:, None] + np.arange(shape[1])
        mv.fill_pattern_2d(a)
        assert raw == expected_raw


# --------------------------------------------------------------------------------------------
# The benchmark's unaligned sum (benchmarks/bench_peers.py times it against Cython)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("misalignment", [0, 1, 4, 7])
@pytest.mark.parametrize("shape", [(0, 3), (1, 1), (3, 5), (4, 16), (5, 33), (32, 32)])
def test_benchmark_sum_through_view_loads(mojo_module, shape, misalignment):
    views = mojo_module(HERE.parents[1] / "benchmarks" / "mojo" / "bench_views.mojo")
    a, _ = unaligned(shape, misalignment)
    for x in (a, a[:, ::2], a[::-1, ::-3], a.T):
        assert views.sum_loads(x) == x.sum()
