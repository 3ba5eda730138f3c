"""Lifetime: exports keep the exporter alive, are released exactly once, and lock resizing."""
import gc
import threading
import weakref

import numpy as np
import pytest

from bufferable import BufferFlags, inspect
from bufferable.testing import Producer, live_allocation_bytes, live_allocations

from _layouts import raw_bytes


def test_counters_follow_exports():
    p = Producer((4,), "i")
    assert (p.gets, p.releases, p.live_exports, p.refusals) == (0, 0, 0, 0)
    m = memoryview(p)
    m2 = memoryview(m)  # a view of a view shares the managed buffer: no new export
    a = np.asarray(p)
    assert (p.gets, p.live_exports) == (2, 2)
    del m2
    m.release()
    assert (p.releases, p.live_exports) == (1, 1)
    del a
    assert (p.gets, p.releases, p.live_exports) == (2, 2, 0)
    inspect(p)  # inspect releases before returning
    assert (p.gets, p.releases) == (3, 3)
    q = Producer((2, 2), strides=(1, 2))
    with pytest.raises(BufferError):
        inspect(q, BufferFlags.C_CONTIGUOUS)
    assert (q.gets, q.releases, q.refusals) == (0, 0, 1)


def test_numpy_array_keeps_the_producer_alive():
    base = live_allocations()
    p = Producer((3, 4), "d")
    ref = weakref.ref(p)
    a = np.asarray(p)
    a[...] = 7.5
    del p
    gc.collect()
    assert ref() is not None, "the array's export must hold the Producer"
    assert live_allocations() == base + 1
    assert a.sum() == 7.5 * 12  # memory still valid
    assert ref().live_exports == 1
    del a
    gc.collect()
    assert ref() is None
    assert live_allocations() == base


def test_memoryview_keeps_the_producer_alive_and_obj_is_the_exporter():
    p = Producer((5,), "B")
    m = memoryview(p)
    assert m.obj is p and inspect(p).exporter is p
    ref = weakref.ref(p)
    del p
    gc.collect()
    assert ref() is not None and m.obj is ref()
    m[0] = 200
    assert m[0] == 200
    m.release()
    gc.collect()
    assert ref() is None


def test_memory_freed_exactly_once():
    base, base_bytes = live_allocations(), live_allocation_bytes()
    ps = [
        Producer((10,), "d"),
        Producer((3, 4), "<i", strides=(-16, 4)),
        Producer((0, 5), "f"),
        Producer((2, 3), "B", strides=(8, 1), suboffsets=(0, -1)),  # 1 table + 2 row blocks
    ]
    assert live_allocations() == base + 3 + 3
    assert live_allocation_bytes() > base_bytes
    views = [memoryview(p) for p in ps]
    del ps
    gc.collect()
    assert live_allocations() == base + 6  # held by the views
    del views
    gc.collect()
    assert live_allocations() == base and live_allocation_bytes() == base_bytes


def test_resize_is_refused_while_exported_and_keeps_the_data():
    p = Producer((16,), "B", strides=(1,))
    raw_bytes(p)[:] = np.arange(16, dtype=np.uint8)
    address, before = p.address, bytes(memoryview(p))
    m = memoryview(p)
    with pytest.raises(BufferError, match="1 export"):
        p.resize(64)
    a = np.asarray(p)
    with pytest.raises(BufferError, match="2 export"):
        p.resize(8)
    assert p.address == address and p.nbytes == 16 and bytes(m) == before
    m.release()
    del a
    p.resize(64)  # allowed now: moves, keeps the bytes, zero-fills the growth
    assert p.address != address and p.nbytes == 64
    assert bytes(memoryview(p)) == before
    assert raw_bytes(p)[16:].tolist() == [0] * 48
    with pytest.raises(ValueError, match="needs at least 16 bytes"):
        p.resize(15)
    p.resize(16)
    assert bytes(memoryview(p)) == before
    assert (p.gets, p.releases) == (p.gets, p.gets)


def test_resize_of_strided_and_indirect_layouts():
    p = Producer((3, 4), "<i", strides=(-16, 4))
    np.asarray(p)[...] = np.arange(12).reshape(3, 4)
    p.resize(p.nbytes + 100)
    assert np.asarray(p).tolist() == np.arange(12).reshape(3, 4).tolist()
    q = Producer((2, 3), "B", strides=(8, 1), suboffsets=(0, -1))
    m = memoryview(q)
    m[1, 2] = 9
    with pytest.raises(BufferError):
        q.resize(64)
    m.release()
    q.resize(64)  # the pointer table moves; the rows it points to do not
    assert memoryview(q).tolist() == [[0, 0, 0], [0, 0, 9]]


def test_strides_block_is_freed_per_export():
    # strides == NULL with ndim >= 2: each strided export allocates a block that release frees
    # (PYTHONMALLOC=debug would flag a leak or double free; the counts must stay balanced)
    p = Producer((3, 4, 5), "h")
    views = [memoryview(p) for _ in range(100)]
    assert all(v.strides == (40, 10, 2) for v in views)
    del views
    assert p.live_exports == 0 and p.gets == 100
    # numpy's canonical strides: Fortran ones only when F_CONTIGUOUS is asked for and holds
    q = Producer((3, 1, 2), "h")  # C-contiguous, not F
    assert inspect(q, BufferFlags.STRIDES).strides == (4, 4, 2)
    with pytest.raises(BufferError, match="Fortran"):
        inspect(q, BufferFlags.F_CONTIGUOUS)
    r = Producer((3, 1), "h")  # both C- and F-contiguous
    assert inspect(r, BufferFlags.STRIDES).strides == (2, 2)
    assert inspect(r, BufferFlags.F_CONTIGUOUS).strides == (2, 6)
    assert inspect(r, BufferFlags.C_CONTIGUOUS | 0x40).strides == (2, 6)
    assert r.gets == r.releases == 3


def test_exports_from_many_threads_balance():
    p = Producer((64, 64), "f")

    def work():
        for _ in range(2000):
            np.asarray(p).sum()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert p.gets == p.releases == 8000
