"""DLPack's C exchange API (`type.__dlpack_c_exchange_api__`): the table every bufferable exporter's
type carries, called through ctypes as a C consumer would, and the core's DLPack acquisition using a
producer's table instead of a Python-level __dlpack__ call."""
import ctypes
import gc

import numpy as np
import pytest

from bufferable import BufferFlags
from bufferable.testing import Acquisition, Producer

_get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_get_pointer.restype = ctypes.c_void_p
_get_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]


class DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class DLTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("device_type", ctypes.c_int32),
                ("device_id", ctypes.c_int32), ("ndim", ctypes.c_int32), ("dtype", DLDataType),
                ("shape", ctypes.POINTER(ctypes.c_int64)), ("strides", ctypes.POINTER(ctypes.c_int64)),
                ("byte_offset", ctypes.c_uint64)]


class DLManagedTensorVersioned(ctypes.Structure):
    pass


_Deleter = ctypes.CFUNCTYPE(None, ctypes.POINTER(DLManagedTensorVersioned))
DLManagedTensorVersioned._fields_ = [
    ("major", ctypes.c_uint32), ("minor", ctypes.c_uint32), ("manager_ctx", ctypes.c_void_p),
    ("deleter", _Deleter), ("flags", ctypes.c_uint64), ("dl_tensor", DLTensor)]
_TensorOut = ctypes.POINTER(ctypes.POINTER(DLManagedTensorVersioned))
_SetError = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p)


class ExchangeAPI(ctypes.Structure):
    _fields_ = [
        ("major", ctypes.c_uint32), ("minor", ctypes.c_uint32), ("prev_api", ctypes.c_void_p),
        ("managed_tensor_allocator", ctypes.CFUNCTYPE(
            ctypes.c_int, ctypes.POINTER(DLTensor), _TensorOut, ctypes.c_void_p, _SetError)),
        # PYFUNCTYPE: these set Python exceptions, which ctypes then raises.
        ("managed_tensor_from_py_object_no_sync", ctypes.PYFUNCTYPE(
            ctypes.c_int, ctypes.py_object, _TensorOut)),
        ("managed_tensor_to_py_object_no_sync", ctypes.PYFUNCTYPE(
            ctypes.c_int, ctypes.POINTER(DLManagedTensorVersioned), ctypes.POINTER(ctypes.c_void_p))),
        ("dltensor_from_py_object_no_sync", ctypes.c_void_p),
        ("current_work_stream", ctypes.CFUNCTYPE(
            ctypes.c_int, ctypes.c_int32, ctypes.c_int32, ctypes.POINTER(ctypes.c_void_p))),
    ]


def exchange_api(obj) -> ExchangeAPI:
    capsule = type(obj).__dlpack_c_exchange_api__
    return ExchangeAPI.from_address(_get_pointer(capsule, b"dlpack_exchange_api"))


def test_every_exporter_type_has_a_table():
    api = exchange_api(Producer((2,), "f"))
    assert (api.major, api.minor) == (1, 3) and not api.prev_api
    assert not api.dltensor_from_py_object_no_sync
    stream = ctypes.c_void_p(1)
    assert api.current_work_stream(1, 0, ctypes.byref(stream)) == 0 and not stream.value


def test_managed_tensor_from_py_object_holds_one_export():
    p = Producer((3, 4), "d", strides=(8, 24))
    api = exchange_api(p)
    out = ctypes.POINTER(DLManagedTensorVersioned)()
    assert api.managed_tensor_from_py_object_no_sync(p, ctypes.byref(out)) == 0
    assert p.live_exports == 1
    m = out.contents
    t = m.dl_tensor
    assert (m.major, m.flags) == (1, 0)
    assert t.data == p.address and t.ndim == 2 and (t.device_type, t.device_id) == (1, 0)
    assert (t.dtype.code, t.dtype.bits, t.dtype.lanes) == (2, 64, 1)
    assert (t.shape[0], t.shape[1]) == (3, 4) and (t.strides[0], t.strides[1]) == (1, 3)
    m.deleter(out)
    assert p.live_exports == 0 and p.gets == p.releases == 1


def test_managed_tensor_from_py_object_refusal_keeps_its_class():
    p = Producer((3,), "3s")  # no DLPack data type
    out = ctypes.POINTER(DLManagedTensorVersioned)()
    with pytest.raises(BufferError, match="DLPack has no data type"):
        exchange_api(p).managed_tensor_from_py_object_no_sync(p, ctypes.byref(out))
    assert not out and p.live_exports == 0


def test_allocator_makes_a_c_contiguous_cpu_tensor():
    api = exchange_api(Producer((1,), "B"))
    shape = (ctypes.c_int64 * 2)(2, 5)
    prototype = DLTensor(None, 1, 0, 2, DLDataType(2, 32, 1), shape, None, 0)
    out = ctypes.POINTER(DLManagedTensorVersioned)()
    errors = []
    set_error = _SetError(lambda ctx, kind, message: errors.append((kind, message)))
    assert api.managed_tensor_allocator(ctypes.byref(prototype), ctypes.byref(out), None, set_error) == 0
    t = out.contents.dl_tensor
    assert t.data and (t.shape[0], t.shape[1]) == (2, 5) and (t.strides[0], t.strides[1]) == (5, 1)
    ctypes.memset(t.data, 0, 40)  # the memory is really there
    out.contents.deleter(out)
    prototype.device_type = 2  # CUDA: refused through set_error, nothing allocated
    assert api.managed_tensor_allocator(ctypes.byref(prototype), ctypes.byref(out), None, set_error) == -1
    assert errors == [(b"BufferError", b"bufferable allocates CPU memory only")]


@pytest.mark.parametrize("bits, lanes", [(0, 1), (32, 0), (0, 0)])
def test_allocator_refuses_a_data_type_without_a_size(bits, lanes):
    api = exchange_api(Producer((1,), "B"))
    shape = (ctypes.c_int64 * 1)(4)
    prototype = DLTensor(None, 1, 0, 1, DLDataType(2, bits, lanes), shape, None, 0)
    out = ctypes.POINTER(DLManagedTensorVersioned)()
    errors = []
    set_error = _SetError(lambda ctx, kind, message: errors.append((kind, message)))
    assert api.managed_tensor_allocator(ctypes.byref(prototype), ctypes.byref(out), None, set_error) == -1
    assert not out
    assert errors == [(b"BufferError", f"a DLPack data type of {bits} bits and {lanes} lanes has no "
                                       "size".encode())]


def test_to_py_object_refuses_and_frees_the_stolen_tensor():
    p = Producer((2,), "f")
    api = exchange_api(p)
    out = ctypes.POINTER(DLManagedTensorVersioned)()
    assert api.managed_tensor_from_py_object_no_sync(p, ctypes.byref(out)) == 0
    with pytest.raises(BufferError, match="no tensor type of its own"):
        api.managed_tensor_to_py_object_no_sync(out, ctypes.byref(ctypes.c_void_p()))
    assert p.live_exports == 0 and p.releases == 1


def test_acquisition_uses_the_table_not_dlpack():
    """A Producer whose __dlpack__ is unusable is still acquired: through its type's table."""

    class NoMethod(Producer):
        def __dlpack__(self, **kwargs):
            raise AssertionError("__dlpack__ was called")

    p = NoMethod((2, 3), "f")
    acq = Acquisition(p, BufferFlags.RECORDS_RO, via="dlpack")
    assert acq.desc["shape"] == (2, 3) and p.live_exports == 1
    acq.decref()
    assert p.live_exports == 0 and p.releases == 1


def test_torch_acquired_through_its_table(torch):
    t = torch.arange(12, dtype=torch.float32).reshape(3, 4).T
    original = torch.Tensor.__dlpack__

    def refuse(self, *args, **kwargs):
        raise AssertionError("torch's __dlpack__ was called")

    torch.Tensor.__dlpack__ = refuse
    try:
        acq = Acquisition(t, BufferFlags.RECORDS_RO, via="dlpack")
    finally:
        torch.Tensor.__dlpack__ = original
    assert acq.desc["shape"] == (4, 3) and acq.desc["strides"] == (4, 16)
    assert acq.desc["address"] == t.data_ptr()
    acq.decref()


def test_objects_without_a_table_still_use_dlpack():
    a = np.arange(6.0)
    assert not hasattr(type(a), "__dlpack_c_exchange_api__")
    acq = Acquisition(a, BufferFlags.RECORDS_RO, via="dlpack")
    assert acq.desc["shape"] == (6,)
    acq.decref()
    gc.collect()
