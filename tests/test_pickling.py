"""Pickling and repr of every export (bufferable.exports), through the testing Producer, which the
core gives the same methods as a Mojo type: every protocol, out-of-band buffers viewed in place by
the receiver, non-contiguous layouts sent contiguous, struct and extension formats, read-only
memory, 0-d and empty exports, refusals keeping their class, and exports released exactly once."""

from __future__ import annotations

import copy
import gc
import pickle

import numpy as np
import pytest

from bufferable import asarray
from bufferable.testing import Producer

PROTOCOLS = range(pickle.HIGHEST_PROTOCOL + 1)


def filled(shape, fmt="d", **kwargs) -> Producer:
    p = Producer(shape, fmt, **kwargs)
    a = asarray(p)
    if a.dtype.names is None:
        a[...] = np.arange(a.size, dtype=np.float64).reshape(a.shape).astype(a.dtype)
    else:
        raw = a.view(np.uint8) if a.ndim else a.reshape(1).view(np.uint8)
        raw[...] = np.arange(raw.size) % 251
    del a
    return p


def roundtrip(obj, protocol, out_of_band=False):
    if not out_of_band:
        return pickle.loads(pickle.dumps(obj, protocol=protocol))
    buffers: list[pickle.PickleBuffer] = []
    data = pickle.dumps(obj, protocol=protocol, buffer_callback=buffers.append)
    return pickle.loads(data, buffers=buffers), buffers


LAYOUTS = [
    ((3, 4), "d", {}),
    ((2, 3, 4), "<i", {}),
    ((5,), "B", {}),
    ((), "d", {}),
    ((0, 3), "f", {}),
    ((3, 4), "d", {"strides": (8, 24)}),            # Fortran order
    ((3, 4), "h", {"strides": (16, 4)}),            # every other element
    ((3, 4), "i", {"strides": (-16, -4)}),          # reversed
    ((4,), "T{d:x:i:n:3x}", {}),                    # a record with padding
    ((2, 2), ">q", {}),                             # non-native order
    ((3,), "Zd", {}),                               # complex
]


@pytest.mark.parametrize("shape, fmt, kwargs", LAYOUTS)
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_every_protocol_gives_back_the_exported_array(shape, fmt, kwargs, protocol):
    p = filled(shape, fmt, **kwargs)
    expected = asarray(p).copy()
    back = roundtrip(p, protocol)
    assert isinstance(back, np.ndarray) and back.shape == expected.shape
    assert back.tolist() == expected.tolist()
    # numpy's in-band pickles turn a non-native byte order into native values.
    assert back.dtype == (expected.dtype if protocol >= 5 else expected.dtype.newbyteorder("="))
    del back
    gc.collect()
    assert p.live_exports == 0 and p.gets == p.releases


@pytest.mark.parametrize("shape, fmt, kwargs", LAYOUTS)
def test_protocol_5_sends_the_memory_out_of_band_and_the_receiver_views_it(shape, fmt, kwargs):
    p = filled(shape, fmt, **kwargs)
    expected = asarray(p).copy()
    back, buffers = roundtrip(p, 5, out_of_band=True)
    assert len(buffers) == 1
    received = buffers[0].raw()
    assert received.nbytes == expected.nbytes
    if expected.nbytes:
        # The receiver's array is a view of the buffer that arrived, not a copy of it.
        assert np.shares_memory(back, np.frombuffer(received, np.uint8))
    assert back.tolist() == expected.tolist() and back.dtype == expected.dtype
    contiguous = kwargs.get("strides") in (None, (8, 24))
    if expected.nbytes:
        # A contiguous export is sent as itself (the buffer is the producer's memory); any other
        # is sent as one C-contiguous copy.
        producer_memory = asarray(p)
        assert np.shares_memory(np.frombuffer(received, np.uint8), producer_memory) == contiguous
        del producer_memory
    del back, buffers, received
    gc.collect()
    assert p.live_exports == 0


def test_non_contiguous_exports_are_sent_contiguous():
    p = filled((4, 6), "d", strides=(96, 16))
    buffers: list[pickle.PickleBuffer] = []
    pickle.dumps(p, protocol=5, buffer_callback=buffers.append)
    raw = buffers[0].raw()
    assert raw.contiguous and raw.nbytes == 4 * 6 * 8
    assert not np.shares_memory(np.frombuffer(raw, np.uint8), asarray(p))  # one copy, sender side
    del raw, buffers


def test_read_only_memory_arrives_read_only_and_private_memory_writable():
    p = Producer((3,), "d", readonly=True)
    back, buffers = roundtrip(p, 5, out_of_band=True)
    assert not back.flags.writeable  # the buffer that arrived is the read-only export
    assert roundtrip(p, 4).flags.writeable  # in band: numpy's own copy
    del back, buffers


def test_extension_formats_keep_their_dtype():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    p = Producer((4,), "[ml_dtypes$bfloat16$]")
    asarray(p)[:] = np.array([1.5, -2, 3, 0.25], dtype=ml_dtypes.bfloat16)
    for protocol in (2, 5):
        back = roundtrip(p, protocol)
        assert back.dtype == np.dtype(ml_dtypes.bfloat16)
        assert back.astype(np.float32).tolist() == [1.5, -2, 3, 0.25]
        del back


def test_copy_and_deepcopy_give_what_unpickling_gives():
    p = filled((2, 3), "d")
    for clone in (copy.copy(p), copy.deepcopy(p)):
        assert isinstance(clone, np.ndarray) and clone.tolist() == asarray(p).tolist()
        assert not np.shares_memory(clone, asarray(p))
    del clone


def test_an_export_that_is_refused_keeps_its_class():
    p = Producer((2, 3), "B", strides=(8, 1), suboffsets=(0, -1))  # indirect: numpy can't view it
    with pytest.raises(BufferError, match="suboffsets"):
        pickle.dumps(p)
    gc.collect()
    assert p.live_exports == 0


def test_a_format_numpy_cannot_describe_is_a_value_error():
    p = Producer((2,), "T{[ml_dtypes$bfloat16$]:a:i:b:}")
    with pytest.raises(ValueError, match="not a struct or sub-array"):
        pickle.dumps(p)
    gc.collect()
    assert p.live_exports == 0


def test_the_repr_is_short_whatever_the_size():
    small, large = Producer((3, 4), "d"), Producer((4096, 1024), "d")  # 32 MiB
    assert repr(small) == "<Producer shape=(3, 4) format='d' live_exports=0>"  # its own repr
    from bufferable.exports import buffer_repr

    assert buffer_repr(small).endswith("Producer shape=(3, 4) format='d'>")
    assert len(buffer_repr(large)) < 100
    gc.collect()
    assert small.live_exports == large.live_exports == 0
