"""The BfApi table published as the capsule bufferable._core._C_API, called through ctypes with
the C ABI exactly as a Mojo or C/C++ user calls it (PYFUNCTYPE: the GIL stays held and a Python
exception set by the callee is raised)."""
import ctypes
import sys

import pytest

from bufferable import BufferFlags, _core
from bufferable.testing import Producer

I64P = ctypes.POINTER(ctypes.c_int64)


class BfDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class BfBuffer(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("itemsize", ctypes.c_int64), ("format", ctypes.c_char_p),
                ("ndim", ctypes.c_int32), ("readonly", ctypes.c_int32), ("shape", I64P),
                ("strides", I64P), ("suboffsets", I64P), ("device", BfDevice)]


class BfDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class BfFormatInfo(ctypes.Structure):
    _fields_ = [("itemsize", ctypes.c_int64), ("alignment", ctypes.c_int64), ("byteorder", ctypes.c_char),
                ("native_order", ctypes.c_uint8), ("nfields", ctypes.c_int32), ("dtype", BfDataType)]


class PyBuffer(ctypes.Structure):
    _fields_ = [("buf", ctypes.c_void_p), ("obj", ctypes.c_void_p), ("len", ctypes.c_ssize_t),
                ("itemsize", ctypes.c_ssize_t), ("readonly", ctypes.c_int), ("ndim", ctypes.c_int),
                ("format", ctypes.c_char_p), ("shape", ctypes.POINTER(ctypes.c_ssize_t)),
                ("strides", ctypes.POINTER(ctypes.c_ssize_t)),
                ("suboffsets", ctypes.POINTER(ctypes.c_ssize_t)), ("internal", ctypes.c_void_p)]


F = ctypes.PYFUNCTYPE
c_int, vp, obj = ctypes.c_int, ctypes.c_void_p, ctypes.py_object


class BfApi(ctypes.Structure):
    _fields_ = [
        ("version_major", ctypes.c_uint16), ("version_minor", ctypes.c_uint16), ("size", ctypes.c_uint32),
        ("export_buffer", F(c_int, obj, vp, ctypes.POINTER(BfBuffer), c_int)),
        ("release_buffer", F(None, vp)),
        ("acquire", F(c_int, obj, c_int, ctypes.POINTER(BfBuffer), ctypes.POINTER(vp))),
        ("acquisition_incref", F(None, vp)),
        ("acquisition_decref", F(None, vp)),
        ("acquisition_object", F(vp, vp)),  # a borrowed reference: not py_object (ctypes would steal it)
        ("parse_format", F(c_int, ctypes.c_char_p, ctypes.POINTER(BfFormatInfo))),
        ("set_error", F(c_int, c_int, ctypes.c_char_p)),
        # version 1.1
        ("install_interop", F(c_int, obj)),
        ("acquire_dlpack", F(c_int, obj, c_int, ctypes.POINTER(BfBuffer), ctypes.POINTER(vp))),
        ("acquire_arrow", F(c_int, obj, c_int, ctypes.POINTER(BfBuffer), ctypes.POINTER(vp))),
        # version 1.2 (tables: not called from here)
        ("install_table_interop", vp), ("acquire_arrow_table", vp),
        # version 1.3
        ("note_error", F(None, c_int, ctypes.c_char_p, obj)),
        ("raise_error", F(c_int, ctypes.c_char_p, c_int)),
        ("reword_error", F(None, ctypes.c_char_p, ctypes.c_char_p)),
        # version 1.4
        ("forget_error", F(None)),
    ]


@pytest.fixture(scope="module")
def api():
    get = ctypes.pythonapi.PyCapsule_GetPointer
    get.restype, get.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    address = get(_core._C_API, b"bufferable._core._C_API")
    return BfApi.from_address(address)


def test_capsule_name_and_version(api):
    assert api.version_major == 1 and api.version_minor == 4
    assert _core.API_VERSION == (1, 4)
    assert api.size == ctypes.sizeof(BfApi) == 144  # the layout the core's static_asserts pin
    assert ctypes.sizeof(BfBuffer) == 64 and ctypes.sizeof(BfFormatInfo) == 32 and ctypes.sizeof(PyBuffer) == 80
    get = ctypes.pythonapi.PyCapsule_GetPointer
    get.restype, get.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    with pytest.raises(ValueError):  # a wrong name is refused by CPython
        get(_core._C_API, b"wrong.name")


def test_parse_format_through_the_table(api):
    info = BfFormatInfo()
    assert api.parse_format(b"<i", ctypes.byref(info)) == 0
    assert (info.itemsize, info.byteorder, info.dtype.code, info.dtype.bits) == (4, b"<", 0, 32)
    assert api.parse_format(None, ctypes.byref(info)) == 0 and info.itemsize == 1  # NULL is "B"
    with pytest.raises(ValueError, match="unknown type code"):
        api.parse_format(b"Q!z", ctypes.byref(info))


def describe(data, shape, strides=None, fmt=b"q", itemsize=8, readonly=0):
    nd = len(shape)
    keep = [(ctypes.c_int64 * nd)(*shape), (ctypes.c_int64 * nd)(*strides) if strides else None]
    desc = BfBuffer(ctypes.cast(data, ctypes.c_void_p), itemsize, fmt, nd, readonly,
                    ctypes.cast(keep[0], I64P), ctypes.cast(keep[1], I64P) if strides else None,
                    None, BfDevice(1, 0))
    return desc, keep


def test_export_and_release_through_the_table(api):
    exporter = bytearray(b"the exporter")
    data = (ctypes.c_int64 * 6)(*range(6))
    desc, keep = describe(data, (2, 3))  # strides NULL: the core allocates them for STRIDES
    view = PyBuffer()
    before = sys.getrefcount(exporter)
    assert api.export_buffer(exporter, ctypes.byref(view), ctypes.byref(desc), BufferFlags.FULL_RO) == 0
    assert view.obj == id(exporter) and sys.getrefcount(exporter) == before + 1
    assert (view.len, view.itemsize, view.ndim, view.format, view.readonly) == (48, 8, 2, b"q", 0)
    assert [view.shape[i] for i in range(2)] == [2, 3] and [view.strides[i] for i in range(2)] == [24, 8]
    assert ctypes.addressof(view.shape.contents) == ctypes.addressof(keep[0])  # not copied
    assert view.internal  # the strides block
    api.release_buffer(ctypes.byref(view))
    assert not view.internal
    ctypes.pythonapi.Py_DecRef.argtypes = [ctypes.c_void_p]
    ctypes.pythonapi.Py_DecRef(view.obj)  # what PyBuffer_Release does after the slot
    assert sys.getrefcount(exporter) == before

    desc, keep = describe(data, (2, 3), readonly=1)
    view = PyBuffer()
    with pytest.raises(BufferError, match="read-only"):
        api.export_buffer(exporter, ctypes.byref(view), ctypes.byref(desc), BufferFlags.FULL)
    assert view.obj is None and sys.getrefcount(exporter) == before
    desc, keep = describe(data, (2, -3))
    with pytest.raises(BufferError, match="negative shape"):
        api.export_buffer(exporter, ctypes.byref(view), ctypes.byref(desc), 0)
    desc, keep = describe(None, (2, 3))
    with pytest.raises(BufferError, match="NULL data"):
        api.export_buffer(exporter, ctypes.byref(view), ctypes.byref(desc), 0)


def test_acquire_through_the_table(api):
    p = Producer((3, 2), "<i")
    out, acq = BfBuffer(), ctypes.c_void_p()
    assert api.acquire(p, BufferFlags.STRIDES, ctypes.byref(out), ctypes.byref(acq)) == 0
    assert (out.data, out.itemsize, out.format, out.ndim) == (p.address, 4, b"<i", 2)
    assert [out.shape[i] for i in range(2)] == [3, 2] and [out.strides[i] for i in range(2)] == [8, 4]
    assert (out.device.device_type, out.device.device_id) == (1, 0)
    assert api.acquisition_object(acq) == id(p) and p.live_exports == 1
    api.acquisition_incref(acq)
    api.acquisition_decref(acq)
    assert p.live_exports == 1
    api.acquisition_decref(acq)
    assert (p.gets, p.releases) == (1, 1)
    api.acquisition_decref(None)  # NULL is ignored
    with pytest.raises(TypeError):
        api.acquire(object(), 0, ctypes.byref(out), ctypes.byref(acq))


def test_version_1_1_entries_through_the_table(api):
    p = Producer((4,), "<f")
    out, acq = BfBuffer(), ctypes.c_void_p()
    assert api.acquire_dlpack(p, BufferFlags.STRIDES, ctypes.byref(out), ctypes.byref(acq)) == 0
    assert (out.data, out.itemsize, out.format, out.ndim, out.shape[0]) == (p.address, 4, b"f", 1, 4)
    assert p.live_exports == 1
    api.acquisition_decref(acq)
    assert (p.gets, p.releases) == (1, 1)
    pyarrow = pytest.importorskip("pyarrow")
    column = pyarrow.array([1.0, 2.0, 3.0])
    assert api.acquire_arrow(column, BufferFlags.STRIDES, ctypes.byref(out), ctypes.byref(acq)) == 0
    assert (out.format, out.ndim, out.shape[0], out.readonly) == (b"d", 1, 3, 1)
    assert ctypes.cast(out.data, ctypes.POINTER(ctypes.c_double))[2] == 3.0
    api.acquisition_decref(acq)
    with pytest.raises(TypeError):
        api.install_interop(42)


@pytest.mark.parametrize("kind,exc", [(1, BufferError), (2, ValueError), (3, TypeError), (4, IndexError),
                                      (5, MemoryError), (6, RuntimeError), (99, SystemError)])
def test_set_error(api, kind, exc):
    with pytest.raises(exc, match="caf\u00e9 broke"):
        api.set_error(kind, "café broke".encode())


def test_error_records_through_the_table(api):
    # A recorded exception object comes back as itself for its own text only; forget_error drops it.
    exc = KeyError("k")
    api.note_error(0, b"the text", exc)
    with pytest.raises(KeyError) as info:
        api.raise_error(b"the text", 0)
    assert info.value is exc
    api.note_error(0, b"typed", TypeError("t"))
    with pytest.raises(ValueError):  # another text: the default class, never the record's
        api.raise_error(b"other", 2)
    api.note_error(0, b"held", exc)
    before = sys.getrefcount(exc)
    api.forget_error()
    assert sys.getrefcount(exc) == before - 1  # the record's reference is dropped
    with pytest.raises(Exception) as info:  # nothing recorded any more: a plain Exception
        api.raise_error(b"held", 0)
    assert type(info.value) is Exception and str(info.value) == "held"
    api.forget_error()  # no record: nothing to do
