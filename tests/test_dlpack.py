"""DLPack export (__dlpack__ / __dlpack_device__) of core exports, tested with real consumers."""
import ctypes
import gc
import sys

import numpy as np
import pytest

import bufferable
from bufferable.testing import Producer

_get_name = ctypes.pythonapi.PyCapsule_GetName
_get_name.restype = ctypes.c_char_p
_get_name.argtypes = [ctypes.py_object]


def capsule_name(capsule):
    return _get_name(capsule).decode()


def filled(shape, format, dtype, **kw):
    """A Producer whose elements hold 0, 1, 2, ... (written through numpy)."""
    p = Producer(shape, format, **kw)
    if not kw.get("readonly") and int(np.prod(shape)) > 0:
        a = np.asarray(p)
        a[...] = np.arange(a.size).reshape(a.shape).astype(dtype)
        del a
    return p


def address(a):
    return a.__array_interface__["data"][0]


def test_device_is_cpu():
    assert Producer((3,), "f").__dlpack_device__() == (1, 0)


@pytest.mark.parametrize("fmt,dtype", [
    ("f", np.float32), ("<d", np.float64), ("=i", np.int32), ("b", np.int8), ("B", np.uint8),
    ("h", np.int16), ("H", np.uint16), ("q", np.int64), ("Q", np.uint64), ("e", np.float16),
    ("?", np.bool_), ("Zf", np.complex64), ("Zd", np.complex128),
])
def test_from_dlpack_shares_memory(fmt, dtype):
    p = filled((4, 3), fmt, dtype)
    a = np.from_dlpack(p)
    assert a.dtype == dtype and a.shape == (4, 3)
    assert address(a) == p.address
    np.testing.assert_array_equal(a, np.asarray(p))
    if dtype is not np.bool_:
        a[1, 2] = 7
        assert np.asarray(p)[1, 2] == 7
    del a
    assert p.live_exports == 0 and p.gets == p.releases


@pytest.mark.parametrize("shape,strides", [
    ((4, 3), (4, 16)),          # Fortran order, float32
    ((5,), (-4,)),              # negative stride
    ((3, 2), (0, 4)),           # broadcast (zero stride)
    ((2, 3), (24, 8)),          # sliced rows (every other element)
    ((), ()),                   # a scalar
    ((0, 3), (12, 4)),          # empty
])
def test_strided_layouts(shape, strides):
    p = Producer(shape, "f", strides=strides, offset=64)
    ref = np.asarray(p)
    if ref.size and all(s != 0 for s in strides):
        ref[...] = np.arange(ref.size, dtype=np.float32).reshape(ref.shape)
    a = np.from_dlpack(p)
    assert a.shape == shape and a.strides == strides
    np.testing.assert_array_equal(a, ref)
    del a, ref
    assert p.live_exports == 0


def test_capsule_kinds_and_versions():
    p = Producer((2,), "f")
    assert capsule_name(p.__dlpack__()) == "dltensor"
    assert capsule_name(p.__dlpack__(max_version=(0, 8))) == "dltensor"
    assert capsule_name(p.__dlpack__(max_version=(1, 0))) == "dltensor_versioned"
    assert capsule_name(p.__dlpack__(max_version=(2, 3))) == "dltensor_versioned"
    gc.collect()
    assert p.live_exports == 0 and p.gets == p.releases == 4


def test_unconsumed_capsule_releases_once():
    p = Producer((8,), "d")
    c = p.__dlpack__(max_version=(1, 0))
    assert p.live_exports == 1
    del c
    assert p.live_exports == 0 and p.gets == 1 and p.releases == 1


def test_array_keeps_producer_alive():
    p = filled((16,), "i", np.int32)
    a = np.from_dlpack(p)
    ref = sys.getrefcount(p)
    del p
    gc.collect()
    np.testing.assert_array_equal(a, np.arange(16))
    assert ref >= 3  # the export holds the Producer


def test_read_only():
    p = Producer((3,), "f", readonly=True)
    a = np.from_dlpack(p)  # numpy asks for a versioned capsule: READ_ONLY travels
    assert not a.flags.writeable
    del a
    with pytest.raises(BufferError, match="read-only"):
        p.__dlpack__()  # legacy capsules cannot say read-only
    assert p.live_exports == 0 and p.gets == p.releases


def test_copy_true_makes_a_private_copy():
    p = filled((2, 3), "f", np.float32, strides=(4, 8))
    c = p.__dlpack__(max_version=(1, 0), copy=True)
    assert p.live_exports == 0  # the export went back at once
    a = np.from_dlpack(p, copy=True)
    assert address(a) != p.address and a.flags.c_contiguous
    np.testing.assert_array_equal(a, np.asarray(p))
    del c


@pytest.mark.parametrize("kwargs,exc,match", [
    ({"stream": 1}, ValueError, "stream"),
    ({"dl_device": (2, 0)}, BufferError, "device"),
    ({"max_version": 1}, TypeError, "max_version"),
    ({"max_version": (1,)}, TypeError, "max_version"),
    ({"dl_device": "cpu"}, TypeError, "dl_device"),
    ({"bogus": 1}, TypeError, "bogus"),
])
def test_bad_arguments(kwargs, exc, match):
    p = Producer((2,), "f")
    with pytest.raises(exc, match=match):
        p.__dlpack__(**kwargs)
    assert p.live_exports == 0 and p.gets == p.releases


def test_positional_arguments_refused():
    with pytest.raises(TypeError, match="keyword"):
        Producer((2,), "f").__dlpack__(None)


def test_accepted_defaults():
    p = Producer((2,), "f")
    c = p.__dlpack__(stream=None, max_version=(1, 1), dl_device=(1, 0), copy=False)
    assert capsule_name(c) == "dltensor_versioned"


@pytest.mark.parametrize("fmt,shape,strides,match", [
    (">d", (3,), None, "byte order"),
    ("T{<i:x:<d:y:}", (2,), None, "no record type"),
    ("2f", (2,), None, "data type"),
    ("f", (3,), (6,), "multiple of the itemsize"),
])
def test_refusals(fmt, shape, strides, match):
    p = Producer(shape, fmt, strides=strides)
    with pytest.raises(BufferError, match=match):
        p.__dlpack__(max_version=(1, 0))
    assert p.live_exports == 0 and p.gets == p.releases


def test_suboffsets_refused_by_the_exporter():
    p = Producer((2, 3), "B", strides=(8, 1), suboffsets=(0, -1))
    with pytest.raises(BufferError):
        p.__dlpack__(max_version=(1, 0))
    assert p.live_exports == 0


def test_float8_needs_a_versioned_capsule():
    # torch asks for (1, 0) and reads float8 codes: only legacy consumers are refused.
    ml_dtypes = pytest.importorskip("ml_dtypes")
    p = Producer((4,), "[ml_dtypes$float8_e4m3fn$]")
    with pytest.raises(BufferError, match="1.1"):
        p.__dlpack__()
    with pytest.raises(BufferError, match="1.1"):
        p.__dlpack__(max_version=(0, 8))
    assert capsule_name(p.__dlpack__(max_version=(1, 0))) == "dltensor_versioned"
    assert capsule_name(p.__dlpack__(max_version=(1, 1))) == "dltensor_versioned"
    gc.collect()
    assert p.live_exports == 0
    del ml_dtypes


def test_install_interop_refuses_non_exporters():
    with pytest.raises(TypeError, match="buffer protocol"):
        bufferable.install_interop(dict)
    with pytest.raises(TypeError, match="type"):
        bufferable.install_interop(3)


class TestTorch:
    @pytest.fixture(autouse=True)
    def _torch(self, torch):
        self.torch = torch

    @pytest.mark.parametrize("fmt,dtype_name", [("f", "float32"), ("d", "float64"), ("?", "bool"),
                                                ("e", "float16"), ("q", "int64"), ("B", "uint8")])
    def test_from_dlpack_shares_memory(self, fmt, dtype_name):
        p = Producer((3, 4), fmt)
        t = self.torch.from_dlpack(p)
        assert t.dtype == getattr(self.torch, dtype_name)
        assert t.data_ptr() == p.address and tuple(t.shape) == (3, 4)
        if dtype_name != "bool":
            t[2, 1] = 5
            assert np.asarray(p)[2, 1] == 5
        del t
        gc.collect()
        assert p.live_exports == 0 and p.gets == p.releases

    def test_strided(self):
        # (Negative strides are not tried: torch 2.13 aborts the process on them, numpy's own
        # DLPack export included. np.from_dlpack handles them: see test_strided_layouts.)
        p = Producer((4, 3), "f", strides=(4, 16))
        np.asarray(p)[...] = np.arange(12, dtype=np.float32).reshape(4, 3)
        t = self.torch.from_dlpack(p)
        assert t.stride() == (1, 4) and t.tolist() == np.asarray(p).tolist()
        del t
        gc.collect()
        assert p.live_exports == 0

    def test_bfloat16(self):
        pytest.importorskip("ml_dtypes")
        p = Producer((3,), "[ml_dtypes$bfloat16$]")
        raw = np.array([0x3F80, 0x4000, 0xC040], dtype="<u2").tobytes()  # bfloat16 1, 2, -3
        ctypes.memmove(p.address, raw, len(raw))
        t = self.torch.from_dlpack(p)
        assert t.dtype == self.torch.bfloat16 and t.tolist() == [1.0, 2.0, -3.0]
        del t
        gc.collect()
        assert p.live_exports == 0
