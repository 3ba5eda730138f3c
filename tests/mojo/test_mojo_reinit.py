"""Calling __init__ again on a live Mojo object (Python allows `obj.__init__(...)` on any object):
refused with BufferError while the object is exported, since a consumer still reads its memory,
as CPython's own exporters refuse it (`bytearray.__init__` while exported); on an unexported
object the old value is destroyed once the new one is made, and a failed __init__ keeps it."""
from __future__ import annotations

import gc

import numpy as np
import pytest


def destroyed(bftest) -> int:
    return bftest.tally()[1]


def test_reinit_while_exported_is_refused(bftest):
    m = bftest.Matrix(3, 4)
    a = np.asarray(m)
    before = destroyed(bftest)
    with pytest.raises(BufferError, match="exported"):
        m.__init__(5, 6)
    assert destroyed(bftest) == before  # nothing replaced
    assert m.stats() == (1, 1, 0)  # the same value, its counter untouched
    a[2, 3] = 42.0  # the array still writes the object's own memory
    assert m.get(2, 3) == 42.0
    assert np.asarray(m).shape == (3, 4)
    del a
    gc.collect()
    assert m.stats() == (0, 2, 2)
    m.__init__(5, 6)  # released: allowed now
    assert np.asarray(m).shape == (5, 6)


def test_reinit_refused_for_every_kind_of_export(bftest):
    m = bftest.Matrix(2, 2)
    for hold in (memoryview, np.asarray, np.from_dlpack):
        held = hold(m)
        with pytest.raises(BufferError, match="1 live export"):
            m.__init__(1, 1)
        del held
    m.__init__(1, 1)
    assert m.stats() == (0, 0, 0) and np.asarray(m).shape == (1, 1)


def test_reinit_destroys_the_old_value(bftest):
    created0, destroyed0 = bftest.tally()[:2]
    m = bftest.Matrix(3, 4)
    for _ in range(100):
        m.__init__(50, 50)
    created, gone = bftest.tally()[:2]
    assert created - created0 == 101
    assert gone - destroyed0 == 100  # every replaced value destroyed: none leaked
    shape = np.asarray(m).shape
    assert shape == (50, 50) and m.stats() == (0, 1, 1)
    del m
    gc.collect()
    assert bftest.tally()[1] - destroyed0 == 101


def test_failed_reinit_keeps_the_old_value(bftest):
    m = bftest.Matrix(2, 3)
    np.asarray(m)[...] = 7.0
    before = bftest.tally()[:2]
    with pytest.raises(ValueError, match="negative"):
        m.__init__(-1, 3)
    assert bftest.tally()[:2] == before
    assert np.asarray(m).tolist() == [[7.0] * 3] * 2


def test_initializer_declared_after_add_buffer_protocol_is_guarded(bftest):
    d = bftest.OnDevice(1, 0)
    mv = memoryview(d)
    with pytest.raises(BufferError, match="exported"):
        d.__init__(1, 0)
    mv.release()
    before = destroyed(bftest)
    d.__init__(1, 0)
    assert destroyed(bftest) == before + 1
