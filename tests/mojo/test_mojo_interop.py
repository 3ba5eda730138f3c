"""DLPack and Arrow on the Mojo side, through tests/mojo/modules/bfinterop.mojo.

- Mojo Bufferable types (``Grid[dtype]``, ``Packed``) and MemoryViews handed back to Python are
  consumed by numpy (``np.from_dlpack``), torch (``torch.from_dlpack``), pyarrow (``pa.array``)
  and ml_dtypes (``bufferable.asarray``): same address, read-only kept, every export released
  exactly once (counted by the Mojo type's ExportCounter), refusals of the right class.
- Mojo builds ``MemoryView``s from DLPack tensors (torch, numpy, bufferable's Producer) and from
  Arrow arrays (pyarrow, Producer) with the checks of the buffer path; the producer's deleter /
  release callback runs exactly once, when the last view sharing it dies (counted on Producer and
  on pyarrow's memory pool).
- bfloat16 and float8: Mojo exports ``[ml_dtypes$...$]`` formats; values agree between Mojo's
  conversions and ml_dtypes'/torch's.
"""

from __future__ import annotations

import ctypes
import gc
import sys
from pathlib import Path

import numpy as np
import pytest

pa = pytest.importorskip("pyarrow")
ml_dtypes = pytest.importorskip("ml_dtypes")

import bufferable  # noqa: E402
from bufferable.testing import Producer  # noqa: E402

try:
    import torch
except ImportError:  # the torch tests skip where the test extra installs no torch, fail elsewhere
    torch = None

needs_torch = pytest.mark.usefixtures("torch")  # tests/conftest.py


SOURCE = Path(__file__).resolve().parent / "modules" / "bfinterop.mojo"


@pytest.fixture(scope="module")
def b(mojo_module):
    """The compiled test module (built once per content hash)."""
    return mojo_module(SOURCE)


# --- helpers ------------------------------------------------------------------------------------

_capsule_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_capsule_pointer.restype = ctypes.c_void_p
_capsule_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
_capsule_name = ctypes.pythonapi.PyCapsule_GetName
_capsule_name.restype = ctypes.c_char_p
_capsule_name.argtypes = [ctypes.py_object]


def versioned_header(capsule):
    """(major, minor, flags) of an unconsumed DLManagedTensorVersioned capsule."""
    assert _capsule_name(capsule) == b"dltensor_versioned"
    p = _capsule_pointer(capsule, b"dltensor_versioned")
    major = ctypes.c_uint32.from_address(p).value
    minor = ctypes.c_uint32.from_address(p + 4).value
    flags = ctypes.c_uint64.from_address(p + 24).value
    return major, minor, flags


def address(a) -> int:
    if torch is not None and isinstance(a, torch.Tensor):
        return a.data_ptr()
    return a.__array_interface__["data"][0]


# torch.from_dlpack(obj) calls obj.__dlpack_device__() (whose answer comes from one export of obj,
# released at once) and then obj.__dlpack__() (the export the tensor holds).
TORCH_EXPORTS = 2


def balanced(obj, acquired=None):
    """No live export, every export released (and `acquired` of them, if given)."""
    gc.collect()
    live, got, released = obj.stats()
    return live == 0 and got == released and (acquired is None or got == acquired)


def producer_balanced(p, gets=None):
    gc.collect()
    return p.live_exports == 0 and p.gets == p.releases and (gets is None or p.gets == gets)


# ===============================================================================================
# 1. Mojo Bufferable types exported through DLPack
# ===============================================================================================

GRIDS = [("GridF32", np.float32), ("GridF64", np.float64), ("GridI64", np.int64),
         ("GridBool", np.bool_)]


@pytest.mark.parametrize("name,dtype", GRIDS)
def test_np_from_dlpack_shares_memory(b, name, dtype):
    g = getattr(b, name)((3, 4))
    a = np.from_dlpack(g)
    assert a.dtype == dtype and a.shape == (3, 4) and a.strides == (4 * a.itemsize, a.itemsize)
    assert address(a) == g.address()
    np.testing.assert_array_equal(a.ravel(), np.array(g.values()).astype(dtype))
    assert g.stats()[0] == 1
    a[2, 3] = 1
    assert g.values()[11] == 1.0
    del a
    assert balanced(g, acquired=1)


def test_fortran_order_strides_in_elements(b):
    g = b.GridF32((3, 4), True)
    c = g.__dlpack__(max_version=(1, 1))
    a = np.from_dlpack(g)
    assert a.strides == (4, 12) and a.flags.f_contiguous and address(a) == g.address()
    np.testing.assert_array_equal(a, np.arange(12, dtype=np.float32).reshape(4, 3).T)
    del a, c
    assert balanced(g, acquired=2)


def test_dlpack_device_and_capsule_versions(b):
    g = b.GridF64((4,))
    assert g.__dlpack_device__() == (1, 0)
    assert versioned_header(g.__dlpack__(max_version=(1, 1)))[:2] == (1, 1)
    assert versioned_header(g.__dlpack__(max_version=(1, 0)))[:2] == (1, 0)
    assert versioned_header(g.__dlpack__(max_version=(2, 0)))[:2] == (1, 1)
    assert _capsule_name(g.__dlpack__()) == b"dltensor"  # a writable export may be legacy
    assert _capsule_name(g.__dlpack__(max_version=(0, 9))) == b"dltensor"
    assert balanced(g, acquired=6)  # __dlpack_device__ reads the device from one export


def test_unconsumed_capsules_release_once(b):
    g = b.GridF32((2, 2))
    capsules = [g.__dlpack__(max_version=(1, 1)), g.__dlpack__(), g.__dlpack__(copy=True)]
    # the copy released its export at once; the two others hold one each
    assert g.stats() == (2, 3, 1)
    del capsules
    assert balanced(g, acquired=3)


def test_read_only_propagates(b):
    g = b.GridF32((2, 3), False, True)
    major, minor, flags = versioned_header(g.__dlpack__(max_version=(1, 1)))
    assert flags & 1  # DLPACK_FLAG_BITMASK_READ_ONLY
    a = np.from_dlpack(g)
    assert not a.flags.writeable and address(a) == g.address()
    with pytest.raises(ValueError):
        a[0, 0] = 1
    # the legacy capsule has no read-only flag: refused rather than made writable
    with pytest.raises(BufferError, match="read-only"):
        g.__dlpack__()
    w = b.GridF32((2, 3))
    assert versioned_header(w.__dlpack__(max_version=(1, 0)))[2] & 1 == 0
    del a
    assert balanced(g, acquired=3) and balanced(w, acquired=1)


def test_copy_true_is_a_copy(b):
    g = b.GridF64((3,))
    a = np.from_dlpack(g, copy=True)
    assert address(a) != g.address() and a.tolist() == [0.0, 1.0, 2.0]
    a[0] = 5
    assert g.values()[0] == 0.0
    assert balanced(g, acquired=1)


def test_dlpack_refusals(b):
    p = b.Packed(4)
    mv = memoryview(p)
    assert mv.strides == (5,) and mv.format == "f"
    mv.release()
    with pytest.raises(BufferError, match="multiple of the itemsize"):
        np.from_dlpack(p)
    with pytest.raises(BufferError, match="multiple of the itemsize"):
        p.__dlpack__(max_version=(1, 1))
    g = b.GridF32((2,))
    with pytest.raises(BufferError, match="device"):
        g.__dlpack__(dl_device=(2, 0))
    with pytest.raises(ValueError, match="stream"):
        g.__dlpack__(stream=1)
    with pytest.raises(TypeError):
        g.__dlpack__(1)
    with pytest.raises(TypeError):
        g.__dlpack__(max_version=1)
    # the device refusals are made once the export tells the device (each released at once)
    assert balanced(p, acquired=3) and balanced(g, acquired=2)


@needs_torch
@pytest.mark.parametrize("name,tdtype", [("GridF32", "float32"), ("GridF64", "float64"),
                                         ("GridI64", "int64"), ("GridBool", "bool")])
def test_torch_from_dlpack_shares_memory(b, name, tdtype):
    g = getattr(b, name)((3, 4))
    t = torch.from_dlpack(g)
    assert t.dtype == getattr(torch, tdtype) and tuple(t.shape) == (3, 4)
    assert t.data_ptr() == g.address() and t.stride() == (4, 1)
    t[1, 2] = 1
    assert g.values()[6] == 1.0
    del t
    assert balanced(g, acquired=TORCH_EXPORTS)


@needs_torch
def test_torch_fortran_and_read_only(b):
    g = b.GridF64((3, 4), True)
    t = torch.from_dlpack(g)
    assert t.stride() == (1, 3) and t.data_ptr() == g.address()
    assert t[2, 1].item() == 5.0
    r = b.GridF64((3,), False, True)
    tr = torch.from_dlpack(r)  # torch has no read-only tensors: it takes the memory as is
    assert tr.data_ptr() == r.address()
    del t, tr
    assert balanced(g, acquired=TORCH_EXPORTS) and balanced(r, acquired=TORCH_EXPORTS)


# ===============================================================================================
# 2. Mojo Bufferable types exported through Arrow
# ===============================================================================================


@pytest.mark.parametrize("name,atype", [("GridF32", "float"), ("GridF64", "double"),
                                        ("GridI64", "int64")])
def test_pyarrow_array_zero_copy(b, name, atype):
    g = getattr(b, name)((1000,))
    arr = pa.array(g)
    assert str(arr.type) == atype and len(arr) == 1000 and arr.null_count == 0
    assert arr.buffers()[1].address == g.address()
    assert arr.to_pylist()[:4] == [0, 1, 2, 3]
    assert g.stats()[0] == 1
    g.put(3, 42)
    assert arr[3].as_py() == 42
    del arr
    assert balanced(g, acquired=1)


def test_arrow_capsules_release_once(b):
    g = b.GridF64((5,))
    schema = g.__arrow_c_schema__()
    assert _capsule_name(schema) == b"arrow_schema"
    assert g.stats() == (0, 1, 1)  # the schema holds no export
    pair = g.__arrow_c_array__()
    assert [_capsule_name(c) for c in pair] == [b"arrow_schema", b"arrow_array"]
    assert g.stats()[0] == 1
    del pair  # never consumed: the capsule's destructor calls release
    assert balanced(g, acquired=2)
    pair = g.__arrow_c_array__(requested_schema=None)
    arr = pa.Array._import_from_c_capsule(*pair)  # consumed: moved out of the capsule
    del pair
    assert g.stats()[0] == 1 and arr.buffers()[1].address == g.address()
    del arr
    assert balanced(g, acquired=3)


def test_arrow_refusals(b):
    cases = [(b.GridF64((2, 3), True), "C-contiguous"), (b.GridBool((4,)), "bit-packed"),
             (b.GridBF16((4,)), "no fixed-width"), (b.Packed(3), "contiguous")]
    for obj, message in cases:
        with pytest.raises(BufferError, match=message):
            obj.__arrow_c_array__()
        with pytest.raises(BufferError, match=message):
            obj.__arrow_c_schema__()
        with pytest.raises(BufferError, match=message):
            obj.__arrow_c_stream__()
        with pytest.raises(BufferError):
            pa.array(obj)
        assert balanced(obj)
    g = b.GridF64((3,))
    with pytest.raises(TypeError):
        g.__arrow_c_array__(requested_schema=3)
    with pytest.raises(TypeError):
        g.__arrow_c_array__(1, 2)
    assert balanced(g, acquired=0)


def test_arrow_stream_polars_and_duckdb_read_a_mojo_struct_in_place(b):
    pl = pytest.importorskip("polars")
    duckdb = pytest.importorskip("duckdb")
    g = b.GridF64((100,))
    t = pa.table(g)
    assert t.column_names == ["value"] and t.column(0).chunk(0).buffers()[1].address == g.address()
    s = pl.Series(g)
    assert address(s.to_numpy()) == g.address() and s.sum() == 4950.0
    g.put(0, 1000)
    assert t.column(0)[0].as_py() == 1000 and s[0] == 1000  # the same memory
    assert _duckdb_sum(duckdb, g) == [(5950.0, 100)]
    del t, s
    assert balanced(g)
    capsule = g.__arrow_c_stream__()  # a stream nobody reads releases its export too
    assert g.stats()[0] == 1
    del capsule
    assert balanced(g)


def _duckdb_sum(duckdb, g):
    """DuckDB finds `g` through the caller's frame locals; on Python 3.11 that snapshot keeps
    every local of the frame alive, so the query runs in a frame of its own. DuckDB before 2.0
    (1.5 is the last for Python 3.10) takes any object with `__arrow_c_schema__` for a schema, an
    empty table: it reads a pyarrow table viewing `g` instead."""
    if int(duckdb.__version__.split(".")[0]) < 2:
        g = pa.table(g)
    return duckdb.sql("select sum(value), count(*) from g").fetchall()


def test_mojo_grid_as_fixed_shape_tensor(b):
    g = b.GridF32((4, 3))
    arr = pa.array(g)
    assert isinstance(arr.type, pa.FixedShapeTensorType) and arr.type.shape == [3]
    back = arr.to_numpy_ndarray()
    assert address(back) == g.address()
    np.testing.assert_array_equal(back, np.arange(12, dtype=np.float32).reshape(4, 3))
    del arr, back
    assert balanced(g, acquired=1)


# ===============================================================================================
# 3. MemoryViews exported back to Python
# ===============================================================================================


def test_memory_view_exports_through_dlpack(b):
    src = np.arange(12, dtype=np.float32).reshape(3, 4)
    v = b.view_f32_2d(src)
    a = np.from_dlpack(v)
    assert address(a) == address(src) and a.strides == src.strides
    assert b.exports_f32_2d(v) == 1
    a[0, 1] = 9
    assert src[0, 1] == 9
    del a
    gc.collect()
    assert b.exports_f32_2d(v) == 0
    t = b.view_f32_2d_transposed(src)
    at = np.from_dlpack(t)
    assert address(at) == address(src) and at.shape == (4, 3) and at.strides == (4, 16)
    np.testing.assert_array_equal(at, src.T)


def test_memory_view_export_releases_its_source_once(b):
    p = Producer((3, 4), "f")
    v = b.view_f32_2d(p)
    assert p.live_exports == 1
    c = v.__dlpack__(max_version=(1, 1))
    a = np.from_dlpack(v)
    assert address(a) == p.address
    del c, a
    gc.collect()
    assert b.exports_f32_2d(v) == 0 and p.live_exports == 1
    del v
    assert producer_balanced(p, gets=1)


def test_read_only_memory_view_export(b):
    src = np.ones((2, 3), np.float32)
    v = b.view_f32_2d_ro(src)
    assert versioned_header(v.__dlpack__(max_version=(1, 1)))[2] & 1
    a = np.from_dlpack(v)
    assert not a.flags.writeable and address(a) == address(src)
    with pytest.raises(BufferError, match="read-only"):
        v.__dlpack__()
    del a
    gc.collect()
    assert b.exports_f32_2d_ro(v) == 0


def test_memory_view_exports_through_arrow(b):
    src = np.linspace(0, 1, 101, dtype=np.float32)
    v = b.view_f32_1d(src)
    arr = pa.array(v)
    assert arr.buffers()[1].address == address(src) and arr.to_pylist() == src.tolist()
    assert b.exports_f32_1d(v) == 1
    del arr
    gc.collect()
    assert b.exports_f32_1d(v) == 0
    # a strided view: DLPack carries it, Arrow refuses it
    s = b.view_f32_1d_step(src)
    assert np.from_dlpack(s).strides == (8,)
    with pytest.raises(BufferError, match="contiguous"):
        s.__arrow_c_array__()
    gc.collect()
    assert b.exports_f32_1d(s) == 0


@needs_torch
def test_memory_view_to_torch(b):
    src = np.arange(6, dtype=np.float32).reshape(2, 3)
    v = b.view_f32_2d(src)
    t = torch.from_dlpack(v)
    assert t.data_ptr() == address(src)
    t.mul_(2)
    np.testing.assert_array_equal(src, np.arange(6, dtype=np.float32).reshape(2, 3) * 2)
    del t
    gc.collect()
    assert b.exports_f32_2d(v) == 0


# ===============================================================================================
# 4. MemoryView.from_dlpack
# ===============================================================================================


def test_from_dlpack_numpy(b):
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    info = b.dlpack_f32_2d(a)
    assert info["shape"] == (3, 4) and info["strides"] == (4, 1)
    assert info["address"] == address(a) and info["values"] == list(range(12))
    info = b.dlpack_f32_2d(a[::2, ::-1])
    assert info["strides"] == (8, -1) and info["address"] == address(a[::2, ::-1])
    assert info["values"] == [3, 2, 1, 0, 11, 10, 9, 8]
    b.dlpack_scale_f32_2d(a.T, 2.0)
    np.testing.assert_array_equal(a, np.arange(12).reshape(3, 4) * 2)


def test_from_dlpack_numpy_read_only(b):
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    a.flags.writeable = False
    assert b.dlpack_f32_2d_ro(a)["values"] == list(range(6))
    with pytest.raises(BufferError, match="read-only"):
        b.dlpack_f32_2d(a)
    with pytest.raises(BufferError, match="read-only"):
        b.dlpack_scale_f32_2d(a, 2.0)


@pytest.mark.parametrize("fn,dtype,values", [
    ("dlpack_bool_1d", np.bool_, [True, False, True]),
    ("dlpack_i64_1d", np.int64, [-5, 0, 7]),
    ("dlpack_f16_1d", np.float16, [0.5, -2.0, 1024.0]),
])
def test_from_dlpack_element_types(b, fn, dtype, values):
    a = np.array(values, dtype=dtype)
    info = getattr(b, fn)(a)
    assert info["values"] == [float(x) for x in values] and info["address"] == address(a)


def test_from_dlpack_refusals(b):
    p = Producer((3, 4), "f")
    with pytest.raises(ValueError, match="float64"):
        b.dlpack_f64_1d(p)  # float32, 2-D
    with pytest.raises(ValueError, match="dimension"):
        b.dlpack_f64_1d(Producer((2, 2), "d"))
    with pytest.raises(BufferError, match="C-contiguous"):
        b.dlpack_f32_2d_c(np.arange(12, dtype=np.float32).reshape(3, 4).T)
    with pytest.raises(TypeError, match="DLPack"):
        b.dlpack_f32_2d(b"abcd")
    with pytest.raises(TypeError, match="DLPack"):
        b.dlpack_f32_2d([1.0, 2.0])
    # the producer's own refusal keeps its class
    with pytest.raises(BufferError, match="multiple of the itemsize"):
        b.dlpack_f32_2d(Producer((2, 2), "f", strides=(10, 5)))
    with pytest.raises(BufferError, match="multiple of the itemsize"):
        b.dlpack_f32_2d(b.Packed(3))
    b.dlpack_f32_2d_c(p)  # accepted
    assert producer_balanced(p, gets=2)


def test_from_dlpack_releases_producer_once(b):
    p = Producer((3, 4), "f")
    info = b.dlpack_f32_2d(p)
    assert info["address"] == p.address and info["values"] == [0.0] * 12
    assert producer_balanced(p, gets=1)
    held = b.dlpack_hold_f32_2d(p)
    assert p.live_exports == 1
    a = np.asarray(held)  # the view exports the tensor's memory in turn
    assert address(a) == p.address
    del held
    gc.collect()
    assert p.live_exports == 1  # numpy still holds the view object
    del a
    assert producer_balanced(p, gets=2)
    # a slice outlives the view it was cut from; one deleter call when it dies
    s = b.dlpack_hold_slice_f32_2d(p)
    assert p.live_exports == 1 and np.asarray(s).shape == (2, 2)
    assert address(np.asarray(s)) == p.address + 16
    del s
    assert producer_balanced(p, gets=3)


def test_from_dlpack_mojo_producer(b):
    g = b.GridF32((3, 4), True)
    info = b.dlpack_f32_2d(g)
    assert info["address"] == g.address() and info["strides"] == (1, 3)
    assert balanced(g, acquired=1)


@needs_torch
def test_from_dlpack_torch(b):
    x = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    info = b.dlpack_f32_2d(x)
    assert info["address"] == x.data_ptr() and info["strides"] == (4, 1)
    info = b.dlpack_f32_2d(x.T)
    assert info["shape"] == (4, 3) and info["strides"] == (1, 4)
    assert info["values"] == x.T.flatten().tolist()
    y = x[::2, 1:]
    info = b.dlpack_f32_2d(y)
    assert info["address"] == y.data_ptr() and info["strides"] == (8, 1)
    assert info["values"] == y.flatten().tolist()
    b.dlpack_scale_f32_2d(x.T, 3.0)
    assert x.flatten().tolist() == [3.0 * i for i in range(12)]
    assert b.dlpack_bool_1d(torch.tensor([True, False]))["values"] == [1.0, 0.0]
    with pytest.raises(ValueError, match="float64"):
        b.dlpack_f64_1d(torch.zeros(3, dtype=torch.float32))


@needs_torch
def test_from_dlpack_torch_tensor_lifetime(b):
    x = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    ptr = x.data_ptr()
    held = b.dlpack_hold_f32_2d(x)
    del x
    gc.collect()
    a = np.asarray(held)  # the managed tensor keeps torch's storage alive
    assert address(a) == ptr and a.tolist() == [[0, 1, 2], [3, 4, 5]]


# ===============================================================================================
# 5. MemoryView.from_arrow
# ===============================================================================================


def test_from_arrow_pyarrow(b):
    arr = pa.array(np.arange(10, dtype=np.float64))
    info = b.arrow_f64(arr)
    assert info["values"] == list(range(10)) and info["address"] == arr.buffers()[1].address
    sliced = arr[3:7]
    info = b.arrow_f64(sliced)
    assert info["values"] == [3.0, 4.0, 5.0, 6.0]
    assert info["address"] == arr.buffers()[1].address + 3 * 8
    assert b.arrow_i32(pa.array([1, -2, 3], type=pa.int32()))["values"] == [1.0, -2.0, 3.0]
    assert b.arrow_u8(pa.array([], type=pa.uint8()))["shape"] == (0,)
    assert b.arrow_sum_f64(arr) == 45.0


def test_from_arrow_refusals(b):
    with pytest.raises(BufferError, match="null"):
        b.arrow_f64(pa.array([1.0, None, 3.0]))
    with pytest.raises(BufferError, match="bit-packed"):
        b.arrow_bool(pa.array([True, False]))
    with pytest.raises(BufferError):
        b.arrow_f64(pa.array(["a", "b"]))
    with pytest.raises(ValueError, match="float32"):
        b.arrow_f32(pa.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="dimension"):
        b.arrow_f64_2d(pa.array([1.0, 2.0]))
    with pytest.raises(TypeError, match="Arrow"):
        b.arrow_f64(np.arange(3.0))
    # a refusal after the import still calls the producer's release
    p = Producer((4,), "d")
    with pytest.raises(ValueError):
        b.arrow_f32(p)
    with pytest.raises(BufferError):
        b.arrow_f64(Producer((4,), "d", strides=(16,)))
    assert producer_balanced(p, gets=1)


def test_from_arrow_releases_once(b):
    p = Producer((5,), "d")
    np.asarray(p)[...] = np.arange(5)
    assert b.arrow_f64(p)["values"] == [0, 1, 2, 3, 4]
    assert producer_balanced(p, gets=2)  # np.asarray's export and the Arrow one
    held = b.arrow_hold_f64(p, True)  # the reversed slice; its parent view is gone
    assert p.live_exports == 1
    a = np.asarray(held)
    assert a.tolist() == [4, 3, 2, 1, 0] and address(a) == p.address + 32
    assert not a.flags.writeable  # Arrow views are read-only
    del held, a
    assert producer_balanced(p, gets=3)


def test_from_arrow_pyarrow_release_frees_memory(b):
    gc.collect()
    base = pa.total_allocated_bytes()
    arr = pa.array(range(100_000), type=pa.float64())  # pyarrow's own memory pool
    assert pa.total_allocated_bytes() >= base + 800_000
    held = b.arrow_hold_f64(arr)
    del arr
    gc.collect()
    assert pa.total_allocated_bytes() >= base + 800_000  # the view holds the ArrowArray
    assert np.asarray(held)[-1] == 99_999
    del held
    gc.collect()
    assert pa.total_allocated_bytes() == base  # release ran


# ===============================================================================================
# 6. bfloat16 and float8
# ===============================================================================================

EXT = [("GridBF16", "bfloat16"), ("GridF8E3M4", "float8_e3m4"),
       ("GridF8E4M3FN", "float8_e4m3fn"), ("GridF8E4M3FNUZ", "float8_e4m3fnuz"),
       ("GridF8E5M2", "float8_e5m2"), ("GridF8E5M2FNUZ", "float8_e5m2fnuz"),
       ("GridF8E8M0FNU", "float8_e8m0fnu")]


def expected_values(name, n):
    """What Grid[dtype] holds (initial_value in bfinterop.mojo)."""
    if name == "GridBF16":
        return np.arange(n, dtype=np.float64)
    return np.array([2.0 ** (k % 4) for k in range(n)])


@pytest.mark.parametrize("name,ext", EXT)
def test_extension_format_and_asarray(b, name, ext):
    g = getattr(b, name)((2, 3))
    dtype = np.dtype(getattr(ml_dtypes, ext))
    mv = memoryview(g)
    assert mv.format == f"[ml_dtypes${ext}$]" and mv.itemsize == dtype.itemsize
    assert mv.shape == (2, 3)
    a = bufferable.asarray(g)
    assert a.dtype == dtype and a.shape == (2, 3) and address(a) == g.address()
    assert mv.tobytes() == a.tobytes()
    np.testing.assert_array_equal(a.astype(np.float64).ravel(), expected_values(name, 6))
    if ext != "float8_e3m4":  # Mojo 1.2.0 cannot convert float8_e3m4 (values() gives bits)
        np.testing.assert_array_equal(np.array(g.values()), expected_values(name, 6))
        a[1, 1] = 4
        assert g.values()[4] == 4.0
    else:
        assert g.values() == a.view(np.uint8).ravel().tolist()
    del a, mv
    assert balanced(g, acquired=2)  # the memoryview, and asarray's


def test_extension_read_only_asarray(b):
    g = b.GridBF16((4,), False, True)
    a = bufferable.asarray(g)
    assert not a.flags.writeable and address(a) == g.address()
    del a
    assert balanced(g)


@pytest.mark.parametrize("name,ext", [e for e in EXT if e[1] != "float8_e3m4"])
def test_extension_memory_view_from_buffer(b, name, ext):
    """MemoryView[bfloat16 / float8] over a Producer exporting the extension format."""
    dtype = np.dtype(getattr(ml_dtypes, ext))
    values = expected_values(name, 6)
    rank2 = name == "GridBF16"
    p = Producer((2, 3) if rank2 else (6,), f"[ml_dtypes${ext}$]")
    bufferable.asarray(p)[...] = values.reshape((2, 3) if rank2 else (6,)).astype(dtype)
    fn = "buffer_bf16_2d" if rank2 else f"buffer_{ext.replace('float8_', 'f8')}_1d"
    info = getattr(b, fn)(p)
    assert info["values"] == values.tolist() and info["address"] == p.address
    with pytest.raises(ValueError, match=ext):
        b.dlpack_f32_2d_ro(Producer((2, 2), f"[ml_dtypes${ext}$]"))
    assert producer_balanced(p)


def test_float8_e3m4_memory_view_bits(b):
    p = Producer((4,), "[ml_dtypes$float8_e3m4$]")
    a = bufferable.asarray(p)
    a[...] = np.array([1, 2, 4, 8], dtype=ml_dtypes.float8_e3m4)
    assert b.buffer_f8e3m4_1d(p)["values"] == a.view(np.uint8).tolist()
    del a
    assert producer_balanced(p)


def test_extension_memory_view_exports(b):
    g = b.GridBF16((2, 3))
    v = b.view_bf16_2d(g)
    assert memoryview(v).format == "[ml_dtypes$bfloat16$]"
    a = bufferable.asarray(v)
    assert a.dtype == ml_dtypes.bfloat16 and address(a) == g.address()
    f = b.view_f8e4m3fn_1d(Producer((3,), "[ml_dtypes$float8_e4m3fn$]"))
    assert bufferable.asarray(f).dtype == ml_dtypes.float8_e4m3fn
    del a, v, f
    assert balanced(g)


def test_np_from_dlpack_of_bfloat16(b):
    """numpy before 2.5 has no bfloat16 for DLPack: it refuses the tensor, and the export is still
    released. numpy 2.5 (Python >= 3.12) takes it as ml_dtypes' bfloat16 (imported above), a view
    of the same memory."""
    g = b.GridBF16((3,))
    if np.lib.NumpyVersion(np.__version__) < "2.5.0":
        with pytest.raises((BufferError, RuntimeError, TypeError)):
            np.from_dlpack(g)
    else:
        a = np.from_dlpack(g)
        assert a.dtype == ml_dtypes.bfloat16 and a.ctypes.data == g.address() and a.shape == (3,)
        del a
    assert balanced(g, acquired=1)


@needs_torch
def test_torch_bfloat16_both_ways(b):
    g = b.GridBF16((2, 3))
    t = torch.from_dlpack(g)
    assert t.dtype == torch.bfloat16 and t.data_ptr() == g.address()
    assert t.flatten().tolist() == list(range(6))
    t[0, 0] = 7
    assert g.values()[0] == 7.0
    del t
    assert balanced(g, acquired=TORCH_EXPORTS)
    x = torch.arange(6, dtype=torch.bfloat16).reshape(2, 3)
    info = b.dlpack_bf16_2d(x.T)
    assert info["address"] == x.data_ptr() and info["values"] == x.T.flatten().tolist()
    v = b.view_bf16_2d(g)
    assert torch.from_dlpack(v).data_ptr() == g.address()


TORCH_FLOAT8 = [("GridF8E4M3FN", "float8_e4m3fn"), ("GridF8E4M3FNUZ", "float8_e4m3fnuz"),
                ("GridF8E5M2", "float8_e5m2"), ("GridF8E5M2FNUZ", "float8_e5m2fnuz"),
                ("GridF8E8M0FNU", "float8_e8m0fnu")]


@needs_torch
@pytest.mark.parametrize("name,ext", TORCH_FLOAT8)
def test_torch_float8(b, name, ext):
    # torch is pinned (2.13.0, the test extra), which has all of these.
    g = getattr(b, name)((4,))
    t = torch.from_dlpack(g)
    assert t.dtype == getattr(torch, ext) and t.data_ptr() == g.address()
    assert t.float().tolist() == expected_values(name, 4).tolist()
    del t
    assert balanced(g, acquired=TORCH_EXPORTS)
    # and back: a torch float8 tensor viewed by Mojo
    if ext in ("float8_e4m3fn", "float8_e5m2"):
        x = torch.tensor([1.0, 0.5, -2.0, 8.0]).to(getattr(torch, ext))
        fn = "dlpack_f8e4m3fn_1d" if ext == "float8_e4m3fn" else "dlpack_f8e5m2_1d"
        info = getattr(b, fn)(x)
        assert info["values"] == [1.0, 0.5, -2.0, 8.0] and info["address"] == x.data_ptr()


def test_float8_legacy_capsule_refused(b):
    g = b.GridF8E5M2((3,))
    with pytest.raises(BufferError, match="versioned"):
        g.__dlpack__()
    assert versioned_header(g.__dlpack__(max_version=(1, 1)))[:2] == (1, 1)
    assert balanced(g, acquired=2)
