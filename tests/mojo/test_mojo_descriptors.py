"""Mojo descriptors that must never reach a consumer: strides or suboffsets spans shorter than the
shape (the Buffer constructors refuse them), and memory on a device (the buffer protocol refuses
it; DLPack carries the device)."""
from __future__ import annotations

import numpy as np
import pytest

from bufferable.testing import Acquisition


@pytest.mark.parametrize("mode,what", [(0, "strides"), (1, "suboffsets")])
def test_short_span_is_refused(bftest, mode, what):
    m = bftest.Mismatched(mode)
    with pytest.raises(BufferError, match=f"{what} has 2 entries, shape has 3"):
        memoryview(m)
    with pytest.raises(BufferError, match=what):
        Acquisition(m)
    assert m.stats()[0] == 0 and m.stats()[1] == m.stats()[2]


def test_device_memory_is_not_a_host_buffer(bftest):
    d = bftest.OnDevice(2, 3)
    with pytest.raises(BufferError, match=r"device \(2, 3\)"):
        memoryview(d)
    with pytest.raises(BufferError, match=r"device \(2, 3\)"):
        Acquisition(d)
    assert d.__dlpack_device__() == (2, 3)
    with pytest.raises(RuntimeError, match="device"):
        np.from_dlpack(d)
    assert d.stats()[0] == 0 and d.stats()[1] == d.stats()[2]
    host = bftest.OnDevice(1, 0)
    assert memoryview(host).tolist() == [[1.5] * 3] * 2
    assert host.__dlpack_device__() == (1, 0)
