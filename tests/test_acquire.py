"""The consumer side: bf::acquire and its reference-counted acquisitions (via bufferable.testing)."""
import array

import numpy as np
import pytest

from bufferable import BufferFlags
from bufferable.testing import Acquisition, Producer


def test_acquisition_holds_one_export_until_the_last_reference():
    p = Producer((3, 4), "f")
    acq = Acquisition(p)
    assert p.live_exports == 1 and acq.held == 1 and acq.obj is p
    d = acq.desc
    assert d["address"] == p.address and d["format"] == "f" and d["itemsize"] == 4
    assert d["shape"] == (3, 4) and d["strides"] == (16, 4) and d["device"] == (1, 0)
    acq.incref()
    acq.incref()
    assert acq.held == 3 and p.live_exports == 1
    acq.decref()
    acq.decref()
    assert p.live_exports == 1
    acq.decref()  # the last one releases, exactly once
    assert (p.gets, p.releases) == (1, 1)
    with pytest.raises(ValueError, match="holds no reference"):
        acq.decref()
    with pytest.raises(ValueError):
        acq.desc


def test_last_decref_from_a_thread_without_the_gil():
    p = Producer((8,), "d")
    acq = Acquisition(p)
    acq.incref()
    acq.decref_in_thread()
    assert p.live_exports == 1
    acq.decref_in_thread()  # the core takes the GIL itself to release
    assert (p.gets, p.releases) == (1, 1)


def test_dropping_the_handle_releases():
    p = Producer((8,), "d")
    acq = Acquisition(p)
    acq.incref()
    del acq
    assert (p.gets, p.releases) == (1, 1)


def test_acquire_keeps_the_exporter_alive():
    import weakref

    p = Producer((2,), "i")
    ref = weakref.ref(p)
    acq = Acquisition(p)
    del p
    assert ref() is not None and acq.obj is ref()
    acq.decref()
    assert ref() is None


@pytest.mark.parametrize(
    "obj,flags,shape,fmt,itemsize",
    [
        (b"abcdef", BufferFlags.SIMPLE, (6,), "B", 1),  # shapeless export: described as 1-D
        (bytearray(5), BufferFlags.FULL, (5,), "B", 1),
        (array.array("d", [1, 2, 3]), BufferFlags.ND, (3,), "d", 8),
        (np.zeros((3, 4), "<i4"), BufferFlags.SIMPLE, (12,), "i", 4),  # numpy: ndim 0, no shape
        (np.zeros((), "f8"), BufferFlags.ND, (), "d", 8),  # a true 0-d array
        (memoryview(np.zeros((2, 5), "u2"))[::2], BufferFlags.FULL_RO, (1, 5), "H", 2),
    ],
)
def test_acquire_any_exporter(obj, flags, shape, fmt, itemsize):
    acq = Acquisition(obj, flags)
    d = acq.desc
    assert (d["shape"] if d["ndim"] else d["shape"] or ()) == shape  # 0-d: shape may be NULL
    assert d["format"] == fmt and d["itemsize"] == itemsize  # format always asked
    assert d["ndim"] == len(shape)
    acq.decref()


def test_acquire_refusals_are_the_exporters():
    with pytest.raises(TypeError):
        Acquisition(object())
    with pytest.raises(BufferError):
        Acquisition(b"abc", BufferFlags.WRITABLE)
    p = Producer((2, 2), strides=(1, 2))
    with pytest.raises(BufferError, match="not C-contiguous"):
        Acquisition(p, BufferFlags.C_CONTIGUOUS)
    assert p.gets == 0 and p.refusals == 1
    with pytest.raises(ValueError, match="not C-contiguous"):  # numpy's own class
        Acquisition(np.zeros((4, 4))[:, ::2], BufferFlags.C_CONTIGUOUS)
