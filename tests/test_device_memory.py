"""Memory a descriptor places on a device (BfBuffer.device): the buffer protocol carries host memory
only, so every buffer consumer (memoryview, numpy through the buffer protocol, inspect, Arrow,
acquisitions) is refused with BufferError, while DLPack carries the real device in
__dlpack_device__ and in the capsule's DLTensor."""
import ctypes

import numpy as np
import pytest

import bufferable
from bufferable import BufferFlags
from bufferable.testing import Acquisition, Producer

pa = pytest.importorskip("pyarrow")

CUDA = (2, 3)  # kDLCUDA, ordinal 3
CUDA_HOST = (3, 0)  # kDLCUDAHost: pinned host memory, which the CPU addresses


class DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class DLTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("device", DLDevice), ("ndim", ctypes.c_int32),
                ("dtype", ctypes.c_uint32), ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("strides", ctypes.POINTER(ctypes.c_int64)), ("byte_offset", ctypes.c_uint64)]


class DLManagedTensorVersioned(ctypes.Structure):
    _fields_ = [("major", ctypes.c_uint32), ("minor", ctypes.c_uint32), ("manager_ctx", ctypes.c_void_p),
                ("deleter", ctypes.c_void_p), ("flags", ctypes.c_uint64), ("dl_tensor", DLTensor)]


class DLManagedTensor(ctypes.Structure):
    _fields_ = [("dl_tensor", DLTensor), ("manager_ctx", ctypes.c_void_p), ("deleter", ctypes.c_void_p)]


_get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_get_pointer.restype = ctypes.c_void_p
_get_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]


def capsule_tensor(capsule) -> DLTensor:
    """The DLTensor inside an unconsumed DLPack capsule (read in place, the capsule stays
    unconsumed, so its destructor still releases the export)."""
    for name, struct in ((b"dltensor_versioned", DLManagedTensorVersioned), (b"dltensor", DLManagedTensor)):
        if ctypes.pythonapi.PyCapsule_IsValid(ctypes.py_object(capsule), name):
            return struct.from_address(_get_pointer(capsule, name)).dl_tensor
    raise AssertionError(f"not a DLPack capsule: {capsule!r}")


def test_producer_device_argument():
    assert Producer((4,), "f").device == (1, 0)
    assert Producer((4,), "f", device=CUDA).device == CUDA
    for bad in [(1,), "cpu", (1, 2, 3)]:
        with pytest.raises(TypeError):
            Producer((4,), "f", device=bad)


def test_buffer_protocol_refuses_device_memory():
    p = Producer((2, 3), "f", device=CUDA)
    for consume in (memoryview, bufferable.inspect, lambda o: Acquisition(o, BufferFlags.FULL_RO),
                    pa.array, lambda o: Acquisition(o, via="arrow")):
        with pytest.raises(BufferError, match=r"device \(2, 3\)"):
            consume(p)
    # numpy ignores a refused buffer export and wraps the object instead: no host view of it
    a = np.asarray(p)
    assert a.dtype == object and a.shape == ()
    assert p.gets == 0 and p.refusals >= 4


def test_dlpack_carries_the_device():
    p = Producer((2, 3), "f", device=CUDA)
    assert p.__dlpack_device__() == CUDA
    assert p.gets == p.releases == 1 and p.live_exports == 0  # the device came from one export
    for kwargs in ({"max_version": (1, 1)}, {}):
        capsule = p.__dlpack__(**kwargs)
        t = capsule_tensor(capsule)
        assert (t.device.device_type, t.device.device_id) == CUDA
        assert t.data == p.address and t.ndim == 2 and (t.shape[0], t.shape[1]) == (2, 3)
        assert p.live_exports == 1
        del capsule, t
        assert p.live_exports == 0
    assert p.__dlpack__(dl_device=CUDA)
    with pytest.raises(BufferError, match=r"device \(2, 3\)"):
        p.__dlpack__(dl_device=(1, 0))
    with pytest.raises(BufferError, match=r"device \(2, 3\)"):
        p.__dlpack__(max_version=(1, 1), copy=True)  # a host copy would read device memory
    assert p.live_exports == 0 and p.gets == p.releases


def test_dlpack_consumers_refuse_device_memory():
    p = Producer((2, 3), "f", device=CUDA)
    with pytest.raises(BufferError, match=r"device \(2, 3\)"):
        Acquisition(p, via="dlpack")
    # numpy's own refusal of the DLTensor (RuntimeError before numpy 2.5, BufferError since)
    with pytest.raises((RuntimeError, BufferError), match="device"):
        np.from_dlpack(p)
    assert p.live_exports == 0 and p.gets == p.releases


def test_cpu_reachable_device_memory_is_exported():
    """Pinned host memory (kDLCUDAHost) is addressed by the CPU: the buffer protocol carries it,
    and DLPack reports its real device."""
    p = Producer((4,), "i", device=CUDA_HOST)
    np.asarray(p)[:] = [1, 2, 3, 4]
    assert memoryview(p).tolist() == [1, 2, 3, 4]
    assert p.__dlpack_device__() == CUDA_HOST
    t = capsule_tensor(p.__dlpack__(max_version=(1, 1)))
    assert (t.device.device_type, t.device.device_id) == CUDA_HOST


def test_host_memory_unchanged():
    p = Producer((3,), "d")
    assert p.__dlpack_device__() == (1, 0)
    assert np.from_dlpack(p).shape == (3,)
    t = capsule_tensor(p.__dlpack__(max_version=(1, 1)))
    assert (t.device.device_type, t.device.device_id) == (1, 0)
