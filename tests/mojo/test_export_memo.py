"""The export memo of a bound Mojo type (mojo/bufferable/export_memo.mojo): an export whose
descriptor and request equal, in content, one the core accepted before is answered from the
instance without the core. What these tests hold it to: every change of the descriptor is seen,
whenever it happens (between exports, or while exported: a lie), a lie is still refused, a view
answered from the memo is the view the core would have made, and no view's strides change under
it. `Reshaping` (tests/mojo/modules/bftest.mojo) rewrites its descriptor in place on request."""

from __future__ import annotations

import sys
import threading
import tracemalloc

import numpy as np
import pytest

from bufferable import BufferFlags
from bufferable.testing import Acquisition

C_ORDER_2x3 = ([2, 3], None, "d", 8, False)


def describe(r, shape, strides=None, fmt="d", itemsize=8, readonly=False):
    r.describe(shape, strides, fmt, itemsize, readonly)


def views_of(r, count=3):
    """`count` exports in a row, each released before the next (the first may fill the memo, the
    others are answered from it)."""
    seen = []
    for _ in range(count):
        with memoryview(r) as m:
            seen.append((m.shape, m.strides, m.format, m.itemsize, m.readonly, m.tolist()))
    return seen


def assert_released(r):
    live, acquired, released = r.stats()
    assert live == 0 and acquired == released, r.stats()


def test_repeated_exports_are_the_core_s_view(bftest):
    r = bftest.Reshaping()
    describe(r, [2, 3])
    first, *replayed = views_of(r)
    assert first == ((2, 3), (24, 8), "d", 8, False, [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])
    assert replayed == [first, first]
    a = np.asarray(r)
    b = np.asarray(r)
    assert a.ctypes.data == b.ctypes.data and a.strides == b.strides == (24, 8)
    del a, b
    assert_released(r)


def test_each_view_holds_one_reference(bftest):
    """A view answered from the memo takes its reference to the instance inline (refcount.mojo:
    the count is the object's first word in a CPython with the GIL); the core's views and
    CPython's release must agree with it exactly."""
    r = bftest.Reshaping()
    describe(r, [2, 3])
    views_of(r)
    base = sys.getrefcount(r)
    held = [memoryview(r) for _ in range(5)] + [np.asarray(r) for _ in range(5)]
    assert sys.getrefcount(r) == base + 10
    del held
    assert sys.getrefcount(r) == base
    assert_released(r)


def test_one_dimension_without_strides_points_at_its_item_size(bftest):
    r = bftest.Reshaping()
    describe(r, [5])
    views = views_of(r, 4)
    assert views == [((5,), (8,), "d", 8, False, [0.0, 1.0, 2.0, 3.0, 4.0])] * 4
    held = [memoryview(r) for _ in range(3)]  # several live copies of a 1-D answer
    assert [m.strides for m in held] == [(8,)] * 3 and all(m.c_contiguous for m in held)
    del held
    assert_released(r)


@pytest.mark.parametrize("change", [
    ([3, 2], None, "d", 8, False),          # resized
    ([2, 3], [8, 16], "d", 8, False),       # Fortran order
    ([2, 3], [24, 8], "d", 8, False),       # the same layout, strides now given
    ([2, 3], None, "q", 8, False),          # another format of the same size
    ([2, 3], None, "d", 8, True),           # read-only
    ([6], None, "d", 8, False),             # another rank
    ([], None, "d", 8, False),              # 0-d
    ([2, 1, 3, 1, 1], None, "d", 8, False),  # more dimensions than the memo holds
    ([2, 3], None, "T{d:a:}", 8, False),    # a struct format
    ([2], None, "T{d:a:d:b:d:c:d:d:}", 32, False),  # a format longer than the memo holds
])
def test_a_change_between_exports_is_seen(bftest, change):
    r = bftest.Reshaping()
    views_of(r)
    describe(r, *C_ORDER_2x3[:1])
    views_of(r)
    r.describe(*change)
    with memoryview(r) as expected:
        want = (expected.shape, expected.strides, expected.format, expected.itemsize,
                expected.readonly, expected.tobytes())
    for _ in range(3):
        with memoryview(r) as m:
            assert (m.shape, m.strides, m.format, m.itemsize, m.readonly, m.tobytes()) == want
    shape, strides, fmt, itemsize, readonly = change
    assert want[0] == tuple(shape) and want[2] == fmt and want[4] == readonly
    if strides is not None:
        assert want[1] == tuple(strides)
    assert_released(r)


def test_strides_rewritten_in_place_are_seen(bftest):
    r = bftest.Reshaping()
    describe(r, [2, 3], [24, 8])
    views_of(r)
    describe(r, [2, 3], [8, 16])  # the same arrays, other values
    assert [v[:2] for v in views_of(r)] == [((2, 3), (8, 16))] * 3
    assert_released(r)


def test_a_request_is_answered_by_its_own_rules(bftest):
    """What was remembered for one request is never the answer to another: a writable request of
    read-only memory is refused however often a read-only one was granted, and a request without
    strides of strided memory is refused however often one with strides was granted."""
    r = bftest.Reshaping()
    describe(r, [2, 3], readonly=True)
    views_of(r)
    for _ in range(3):
        with pytest.raises(BufferError, match="read-only|writable"):
            Acquisition(r, flags=int(BufferFlags.FULL))
    assert not np.asarray(r).flags.writeable
    describe(r, [2, 3], [24, 8])
    c_order = int(BufferFlags.ND | BufferFlags.FORMAT)  # no strides: C-contiguous memory only
    for _ in range(3):
        Acquisition(r, flags=c_order).decref()
    describe(r, [2, 3], [8, 16])  # the same arrays, Fortran order
    views_of(r)
    for _ in range(3):
        with pytest.raises(BufferError, match="contiguous|strides"):
            Acquisition(r, flags=c_order)
    assert_released(r)


@pytest.mark.parametrize("ndim", [2, 10])
def test_strides_the_core_holds_are_given_back(bftest, ndim):
    """Beyond the dimensions its interned stride arrays hold, the core allocates the strides of a
    producer that gave none, and frees them when the export is released: through the memo or not,
    nothing stays allocated."""
    r = bftest.Reshaping()
    describe(r, [1] * (ndim - 1) + [6])
    views_of(r)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(2000):
            describe(r, [1] * (ndim - 1) + [1 + i % 7])  # a new descriptor each time: the core
            memoryview(r).release()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 2000 * 8, grown
    assert_released(r)


@pytest.mark.parametrize("lie,match", [
    (([2, 3], None, "i", 8, False), "item size|itemsize"),   # the format no longer fits the item
    (([2, 3], None, "d", 0, False), "item size|itemsize"),
    (([2, -3], None, "d", 8, False), "negative|shape"),
    (([2, 3], None, "d;", 8, False), "format"),
    (([2, 3], None, "d", 8, False), None),                     # no lie: the control
])
@pytest.mark.parametrize("while_exported", [False, True])
def test_a_lie_after_remembered_exports_is_refused(bftest, lie, match, while_exported):
    r = bftest.Reshaping()
    describe(r, [2, 3])
    views_of(r)  # remembered, for memoryview's request
    np.asarray(r)  # and for numpy's
    held = memoryview(r) if while_exported else None
    r.describe(*lie)
    if match is None:
        assert memoryview(r).shape == (2, 3) and np.asarray(r).shape == (2, 3)
    else:
        for consumer in (memoryview, Acquisition):  # numpy would fall back to an object array
            with pytest.raises(BufferError, match=match):
                consumer(r)
        # refused for as long as the lie lasts, and the truth is served again after it
        with pytest.raises(BufferError, match=match):
            memoryview(r)
        describe(r, [2, 3])
        assert views_of(r, 2)[1][:2] == ((2, 3), (24, 8))
    del held
    assert_released(r)


def test_a_view_keeps_its_strides_when_the_producer_changes_under_it(bftest):
    """Strides the core computed for a producer without strides live in the instance's memo for a
    view answered from it, so the memo must not be rewritten while that view is alive. (A
    memoryview copies the strides it is given; an acquisition reads them where they are.)"""
    r = bftest.Reshaping()
    describe(r, [2, 3])
    for _ in range(2):
        Acquisition(r).decref()
    held = Acquisition(r)  # answered from the memo: its strides point into the instance
    assert held.desc["strides"] == (24, 8)
    for shape in ([4, 2], [2, 2, 2], [8, 8], [3, 3]):
        describe(r, shape)  # a lie while exported, then exports of it
        for _ in range(2):
            a = Acquisition(r)
            assert a.desc["shape"] == tuple(shape)
            a.decref()
        assert held.desc["strides"] == (24, 8)
    held.decref()
    describe(r, [2, 3])
    assert views_of(r, 2) == views_of(r, 2)
    assert_released(r)


def test_every_consumer_in_turn_is_released_once(bftest, torch):
    r = bftest.Reshaping()
    describe(r, [2, 3])
    want = np.arange(6.0).reshape(2, 3)
    for _ in range(50):
        with memoryview(r) as m:
            assert m.tolist() == want.tolist()
        assert (np.asarray(r) == want).all()
        assert (np.from_dlpack(r) == want).all()
        assert r.__dlpack_device__() == (1, 0)
        assert torch.from_dlpack(r).tolist() == want.tolist()
        assert bytes(r) == want.tobytes()
    assert_released(r)


@pytest.mark.parametrize("device", [(2, 0), (2, 3), (13, 0)])
def test_device_memory_exported_through_dlpack_is_never_answered_to_a_host_consumer(bftest, device):
    d = bftest.OnDevice(*device)
    for _ in range(3):  # DLPack's export of device memory goes through the core, accepted...
        assert d.__dlpack_device__() == device
    for _ in range(3):  # ...and a host consumer is still refused
        with pytest.raises(BufferError, match=rf"device \({device[0]}, {device[1]}\)"):
            memoryview(d)
    assert d.stats()[0] == 0 and d.stats()[1] == d.stats()[2]


def test_threads_exporting_one_instance(bftest):
    r = bftest.Reshaping()
    describe(r, [4, 4])
    want = np.arange(16.0).reshape(4, 4)
    errors = []

    def work():
        try:
            for i in range(2000):
                if i % 2:
                    assert memoryview(r).strides == (32, 8)
                else:
                    assert (np.asarray(r) == want).all()
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert_released(r)
