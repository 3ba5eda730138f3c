"""A Mojo struct implementing Bufferable, seen from Python: formats, layouts, shared memory,
lifetime, read-only exports, release counting, the resize lock and errors of the right class."""

from __future__ import annotations

import gc
import sys

import numpy as np
import pytest

from bufferable import BufferFlags, inspect

DTYPES = [
    # (type name in bftest, PEP 3118 format, numpy dtype)
    ("Bool", "?", np.bool_),
    ("Int8", "b", np.int8),
    ("UInt8", "B", np.uint8),
    ("Int16", "h", np.int16),
    ("UInt16", "H", np.uint16),
    ("Int32", "i", np.int32),
    ("UInt32", "I", np.uint32),
    ("Int64", "q", np.int64),
    ("UInt64", "Q", np.uint64),
    ("Float16", "e", np.float16),
    ("Float32", "f", np.float32),
    ("Float64", "d", np.float64),
]


def balanced(obj):
    live, acquired, released = obj.stats()
    return live == 0 and acquired == released


# --- formats, shapes, strides -------------------------------------------------------------------


def test_matrix_layout(bftest):
    m = bftest.Matrix(3, 4)
    mv = memoryview(m)
    assert (mv.format, mv.itemsize, mv.shape, mv.strides, mv.readonly) == ("d", 8, (3, 4), (32, 8), False)
    assert mv.c_contiguous and mv.nbytes == 96
    assert mv.tolist() == [[float(4 * i + j) for j in range(4)] for i in range(3)]
    mv.release()
    assert m.stats() == (0, 1, 1)


def test_image_is_strided_over_simd_pixels(bftest):
    img = bftest.Image(5, 7)
    mv = memoryview(img)
    assert (mv.format, mv.shape, mv.strides, mv.readonly) == ("f", (5, 7, 3), (7 * 16, 16, 4), False)
    assert not mv.c_contiguous
    a = np.asarray(img)
    assert a.shape == (5, 7, 3) and a.strides == (112, 16, 4) and a.dtype == np.float32
    expected = np.arange(35, dtype=np.float32).reshape(5, 7, 1) + np.array([0, 0.25, 0.5], np.float32)
    np.testing.assert_array_equal(a, expected)
    # the padding lane (-1 sentinel) is never part of the view
    assert not (a == -1).any()
    a[2, 3] = [10, 20, 30]
    assert img.pixel(2, 3) == (10.0, 20.0, 30.0, -1.0)
    # contiguity requests are checked against the real strides
    with pytest.raises(BufferError):
        inspect(img, BufferFlags.C_CONTIGUOUS)
    del a, mv
    assert balanced(img)


def test_read_only_bytes(bftest):
    r = bftest.ReadOnlyBytes(300)
    mv = memoryview(r)
    assert (mv.format, mv.shape, mv.readonly) == ("B", (300,), True)
    assert mv.tobytes() == bytes(i % 256 for i in range(300))
    with pytest.raises(TypeError):
        mv[0] = 1
    a = np.asarray(r)
    assert not a.flags.writeable
    with pytest.raises(ValueError):
        a[0] = 1
    before = r.stats()
    with pytest.raises(BufferError):
        inspect(r, BufferFlags.WRITABLE)
    with pytest.raises(BufferError):
        inspect(r, BufferFlags.FULL)
    # refused exports are undone: every __buffer__ still matched by one __release_buffer__
    del a, mv
    after = r.stats()
    assert after[0] == 0 and after[1] == after[2] and after[1] == before[1] + 2


def test_scalar_is_zero_dimensional(bftest):
    s = bftest.Scalar64(2.5)
    mv = memoryview(s)
    assert (mv.format, mv.ndim, mv.shape, mv.strides, mv.itemsize) == ("d", 0, (), (), 8)
    a = np.asarray(s)
    assert a.shape == () and a == 2.5
    a[()] = -4.0
    assert s.get() == -4.0
    del a, mv
    assert balanced(s)


@pytest.mark.parametrize("name,fmt,dtype", DTYPES)
def test_every_dtype(bftest, name, fmt, dtype):
    obj = getattr(bftest, name)(6)
    mv = memoryview(obj)
    assert (mv.format, mv.itemsize, mv.shape, mv.strides) == (fmt, np.dtype(dtype).itemsize, (6,), (np.dtype(dtype).itemsize,))
    a = np.asarray(obj)
    assert a.dtype == dtype
    if dtype is np.bool_:
        np.testing.assert_array_equal(a, [False, True, False, True, False, True])
    else:
        np.testing.assert_array_equal(a, np.arange(6, dtype=dtype))
    a[0] = 1
    assert np.asarray(obj)[0] == 1
    del a, mv
    gc.collect()
    assert balanced(obj)


def test_type_module_name(bftest):
    assert bftest.Matrix.__module__ == "bftest"
    assert bftest.Float16.__module__ == "bftest"
    assert bftest.Matrix.__name__ == "Matrix"


# --- shared memory and lifetime -----------------------------------------------------------------


def test_numpy_shares_memory_both_ways(bftest):
    m = bftest.Matrix(2, 3)
    a = np.asarray(m)
    b = np.asarray(m)
    assert np.shares_memory(a, b)
    a[1, 2] = 42.0  # Python -> Mojo
    assert m.get(1, 2) == 42.0
    m.set(0, 1, -7.5)  # Mojo -> Python
    assert a[0, 1] == -7.5 and b[0, 1] == -7.5
    assert m.stats()[0] == 2
    del a, b
    assert m.stats() == (0, 2, 2)


def test_array_keeps_object_alive(bftest):
    created, destroyed, _, _ = bftest.tally()
    m = bftest.Matrix(50, 50)
    a = np.asarray(m)
    view = memoryview(m)[10:20]
    del m
    gc.collect()
    assert bftest.tally()[1] == destroyed  # not destroyed: the array holds it
    assert a[49, 49] == 2499.0
    a[0, 0] = 3.0
    assert view.obj is not None
    del a
    gc.collect()
    assert bftest.tally()[1] == destroyed  # the memoryview slice still holds it
    assert view.tolist()[0][0] == 500.0
    view.release()
    del view
    gc.collect()
    c2, d2, acquired, released = bftest.tally()
    assert (c2 - created, d2 - destroyed) == (1, 1)
    assert acquired == released


def test_release_exactly_once_across_consumers(bftest):
    m = bftest.Matrix(8, 8)
    consumers = [
        memoryview(m),
        memoryview(m).cast("B"),
        np.asarray(m),
        np.frombuffer(m, dtype=np.float64),
        np.array(m, copy=False),
        bytes(memoryview(m)),
    ]
    mv = memoryview(m)
    sliced = mv[2:4]
    nested = memoryview(sliced)
    strided = np.asarray(m)[2:6, ::3]
    live, acquired, released = m.stats()
    assert live >= 5 and acquired - released == live
    del consumers, mv, sliced, nested, strided
    gc.collect()
    live, acquired, released = m.stats()
    assert live == 0 and acquired == released
    with memoryview(m) as v:
        assert m.stats()[0] == 1
        assert v[1, 1] == 9.0
    assert m.stats()[0] == 0


def test_uninitialized_object_refuses(bftest):
    raw = bftest.Matrix.__new__(bftest.Matrix)
    with pytest.raises(BufferError, match="uninitialized"):
        memoryview(raw)


def test_type_refcount_stable(bftest):
    t = bftest.Matrix
    for _ in range(200):
        memoryview(bftest.Matrix(1, 1)).release()
    gc.collect()
    before = sys.getrefcount(t)
    for _ in range(5000):
        a = np.asarray(bftest.Matrix(2, 2))
        del a
    gc.collect()
    assert sys.getrefcount(t) == before


# --- the resize lock ----------------------------------------------------------------------------


def test_resize_refused_while_exported(bftest):
    v = bftest.Vector(5)
    mv = memoryview(v)
    a = np.asarray(v)
    with pytest.raises(BufferError, match="cannot resize a Vector while it is exported"):
        v.resize(1000)
    assert mv.tolist() == [0, 1, 2, 3, 4]
    assert a.tolist() == [0, 1, 2, 3, 4]
    assert len(memoryview(v)) == 5
    mv.release()
    with pytest.raises(BufferError):
        v.resize(0)  # `a` still exports
    del a
    v.resize(8)
    assert memoryview(v).tolist() == [0, 1, 2, 3, 4, -1, -1, -1]
    v.resize(2)
    assert np.asarray(v).tolist() == [0, 1]
    assert balanced(v)


def test_method_errors_have_the_right_class(bftest):
    v = bftest.Vector(3)
    with pytest.raises(IndexError, match="Vector index 3 out of range"):
        v.get(3)
    with pytest.raises(ValueError, match="negative size"):
        v.resize(-1)
    with pytest.raises(TypeError, match="exactly one argument"):
        v.resize(1, 2)
    assert v.get(2) == 2


# --- refused exports ----------------------------------------------------------------------------


def test_buffer_raising_becomes_buffer_error(bftest):
    r = bftest.Refusing(1)
    with pytest.raises(BufferError, match="Refusing does not export"):
        memoryview(r)
    with pytest.raises(BufferError):
        np.frombuffer(r, dtype=np.float32)
    assert r.stats() == (0, 0, 0)


def test_buffer_raising_with_class(bftest):
    with pytest.raises(ValueError, match="mode 3 raises ValueError"):
        memoryview(bftest.Refusing(3))


def test_lying_descriptor_is_refused_and_undone(bftest):
    r = bftest.Refusing(2)  # negative shape
    with pytest.raises(BufferError, match="negative"):
        memoryview(r)
    with pytest.raises(BufferError, match="negative"):
        inspect(r)
    live, acquired, released = r.stats()
    assert live == 0 and acquired == released >= 2


# --- from Mojo: to_numpy ------------------------------------------------------------------------


def test_to_numpy_from_mojo(bftest):
    created, destroyed, _, _ = bftest.tally()
    a = bftest.matrix_to_numpy(3, 5)
    assert isinstance(a, np.ndarray) and a.shape == (3, 5) and a.dtype == np.float64
    np.testing.assert_array_equal(a, np.arange(15).reshape(3, 5) * 0.5)
    assert a.flags.writeable
    owner = a.base.obj if isinstance(a.base, memoryview) else a.base
    assert type(owner).__name__ == "Matrix" and owner.stats()[0] == 1
    a[2, 4] = 99.0
    assert owner.get(2, 4) == 99.0
    del owner
    gc.collect()
    assert bftest.tally()[1] == destroyed  # the array keeps the moved value alive
    del a
    gc.collect()
    assert bftest.tally()[1] == destroyed + 1


def test_to_numpy_strided_image(bftest):
    a = bftest.image_to_numpy(4, 6)
    assert a.shape == (4, 6, 3) and a.strides == (96, 16, 4)
    assert a[3, 5, 2] == 23.5


def test_to_numpy_without_buffer_protocol(bftest):
    with pytest.raises(TypeError, match="no buffer\\s+protocol"):
        bftest.unexported_to_numpy()
