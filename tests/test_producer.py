"""bufferable.testing.Producer: construction, layouts (incl. PIL-style indirect) and bad arguments."""
import ctypes

import numpy as np
import pytest

from bufferable import BufferFlags, inspect
from bufferable.testing import Producer


def test_defaults_and_properties():
    p = Producer((2, 3))
    assert (p.shape, p.format, p.itemsize, p.strides, p.suboffsets, p.readonly) == ((2, 3), "B", 1, None, None, False)
    assert p.offset == 0 and p.nbytes == 6 and p.address != 0
    assert bytes(memoryview(p)) == bytes(6)  # zero-initialised
    assert Producer(5, "d").shape == (5,)
    assert Producer((), "d").nbytes == 8 and memoryview(Producer((), "d")).shape == ()
    assert "Producer" in repr(p)


def test_negative_strides_get_the_smallest_offset():
    p = Producer((3, 4), "i", strides=(-16, -4))
    assert p.offset == 44 and p.nbytes == 48
    a = np.asarray(p)
    a[...] = np.arange(12).reshape(3, 4)
    raw = np.frombuffer((ctypes.c_char * 48).from_address(p.address - p.offset), "i4")
    assert raw.tolist() == list(range(11, -1, -1))
    del a
    q = Producer((3,), "i", strides=(-4,), offset=100)
    assert q.offset == 100 and q.nbytes == 104 and q.address == q.address  # element 0 at byte 100


def test_zero_strides_and_overlap_are_allowed():
    p = Producer((4, 3), "h", strides=(0, 2))
    assert p.nbytes == 6
    a = np.asarray(p)
    a[0, 1] = 5
    assert a[:, 1].tolist() == [5, 5, 5, 5]
    del a


@pytest.mark.parametrize(
    "args,kwargs,exc,message",
    [
        (("abc",), {}, TypeError, "shape must be a sequence of ints, not str"),
        (((2, 1.5),), {}, TypeError, r"shape\[1\] must be an int, not float"),
        ((None,), {}, TypeError, "shape must be a sequence of ints, not NoneType"),
        (((2, -1),), {}, ValueError, r"shape\[1\] = -1 is negative"),
        (((1,) * 65,), {}, ValueError, "65 dimensions; at most 64"),
        (((2**63,),), {}, ValueError, "does not fit in 64 bits"),
        (((2**40, 2**40),), {"format": "d"}, ValueError, "too large"),
        (((2,), 3), {}, TypeError, "format must be a str, not int"),
        (((2,), "Q!z"), {}, ValueError, "unknown type code 'z'"),
        (((2, 3),), {"strides": (1,)}, ValueError, "strides has 1 entries but shape has 2"),
        (((2,),), {"strides": ("a",)}, TypeError, r"strides\[0\] must be an int"),
        (((2,),), {"offset": -1}, ValueError, "offset must be >= 0"),
        (((3,),), {"strides": (-4,), "offset": 4}, ValueError, "offset 4 is too small"),
        (((2, 3),), {"suboffsets": (0, -1)}, ValueError, "suboffsets need explicit strides"),
        (((2, 3),), {"strides": (8, 1), "suboffsets": (0,)}, ValueError, "suboffsets has 1 entries"),
        (((2, 3),), {"strides": (4, 1), "suboffsets": (0, -1)}, ValueError, "overlap"),
        (((2**20, 2**20),), {"strides": (8, 1), "suboffsets": (0, -1)}, ValueError, "too large"),
    ],
)
def test_bad_arguments(args, kwargs, exc, message):
    with pytest.raises(exc, match=message):
        Producer(*args, **kwargs)


def test_bad_resize_arguments():
    p = Producer((4,))
    with pytest.raises(ValueError, match="needs at least 4"):
        p.resize(-1)
    with pytest.raises(TypeError):
        p.resize("big")


def chase(p, index):
    """Address of an element by following strides and suboffsets by hand (PEP 3118's rule)."""
    ptr = p.address
    for i, stride, sub in zip(index, p.strides, p.suboffsets):
        ptr += i * stride
        if sub >= 0:
            ptr = ctypes.c_void_p.from_address(ptr).value + sub
    return ptr


@pytest.mark.parametrize(
    "shape,fmt,strides,suboffsets",
    [
        ((3, 4), "B", (8, 1), (0, -1)),  # PIL: a table of row pointers
        ((3, 4), "i", (8, 4), (16, -1)),  # rows start 16 bytes after where the pointers point
        ((2, 3, 4), "h", (8, 8, 2), (0, 0, -1)),  # two levels of tables
        ((2, 3, 4), "h", (24, 8, -2), (-1, 0, -1)),  # table strided in 2 dims, rows reversed
        ((4, 3), "d", (8, 8), (0, 0)),  # every element behind a pointer
    ],
)
def test_indirect_layouts_are_real(shape, fmt, strides, suboffsets):
    p = Producer(shape, fmt, strides=strides, suboffsets=suboffsets)
    info = inspect(p, BufferFlags.FULL)
    assert info.suboffsets == suboffsets and info.strides == strides and info.shape == shape
    assert not info.c_contiguous and not info.f_contiguous
    m = memoryview(p)
    values = np.arange(np.prod(shape)).reshape(shape)
    for index in np.ndindex(*shape):
        m[index] = int(values[index])
    assert m.tolist() == values.tolist()
    ctype = {"B": ctypes.c_uint8, "i": ctypes.c_int32, "h": ctypes.c_int16, "d": ctypes.c_double}[fmt]
    for index in np.ndindex(*shape):
        assert ctype.from_address(chase(p, index)).value == values[index]
    m.release()


def test_reported_negative_stride_offset_layout_under_debug_allocator():
    # Regression: a scalar offset (or shape) was wrapped in a temporary tuple that died before it
    # was read: a segfault under pytest, a TypeError naming freed memory's type when run directly.
    # PYTHONMALLOC=debug poisons freed memory, so a use after free crashes this child every time.
    import os
    import subprocess
    import sys

    code = (
        "from bufferable.testing import Producer\n"
        "import numpy as np\n"
        "p = Producer((3, 4), 'd', strides=(-8, 24), offset=128)\n"
        "q = Producer(7, 'h', offset=3)\n"
        "assert (p.offset, p.nbytes, q.shape, q.offset) == (128, 208, (7,), 3)\n"
        "a = np.asarray(p); a[...] = np.arange(12).reshape(3, 4)\n"
        "assert memoryview(p).tolist() == a.tolist() and a.strides == (-8, 24)\n"
        "print('ok')\n"
    )
    env = dict(os.environ, PYTHONMALLOC="debug", PYTHONPATH=os.pathsep.join(sys.path))
    run = subprocess.run([sys.executable, "-X", "dev", "-c", code], capture_output=True, text=True,
                         env=env, timeout=120)
    assert run.returncode == 0 and run.stdout == "ok\n", run.stderr


@pytest.mark.parametrize(
    "kwargs,exc,message",
    [
        ({"offset": ()}, TypeError, "offset must be an int, not tuple"),  # one int, never a sequence
        ({"offset": [200]}, TypeError, "offset must be an int, not list"),
        ({"offset": "8"}, TypeError, "offset must be an int, not str"),
        ({"offset": True}, TypeError, "offset must be an int, not bool"),
        ({"offset": 2**64}, ValueError, "offset does not fit in 64 bits"),
        ({"offset": 8}, ValueError, "offset 8 is too small"),
        ({"format": "d\x00"}, ValueError, "NUL"),
        ({"format": "\ud800"}, ValueError, "UTF-8"),
        ({"format": b"d"}, TypeError, "format must be a str, not bytes"),
    ],
)
def test_bad_offset_and_format_arguments(kwargs, exc, message):
    kw = dict(format="d", strides=(-8, 24), offset=128)
    kw.update(kwargs)
    with pytest.raises(exc, match=message):
        Producer((3, 4), **kw)


@pytest.mark.parametrize(
    "kwargs,exc,message",
    [
        ({"ndim": "2"}, TypeError, "ndim must be an int, not str"),
        ({"ndim": 2**40}, ValueError, "ndim must fit in 32 bits"),
        ({"itemsize": 1.0}, TypeError, "itemsize must be an int, not float"),
        ({"itemsize": 2**70}, ValueError, "itemsize does not fit in 64 bits"),
        ({"format": 3}, TypeError, "format must be a str, not int"),
        ({"nbytes": 2**62}, MemoryError, "cannot allocate"),
    ],
)
def test_bad_lying_arguments(kwargs, exc, message):
    # (these were RuntimeError('std::bad_cast') / MemoryError('std::bad_alloc'))
    with pytest.raises(exc, match=message):
        Producer.lying((3,), **kwargs)


def test_core_supplied_strides_stay_right_with_many_live_exports():
    """Strides the core supplies for strides=NULL descriptors (ndim >= 2) come from a table of
    shared arrays while few shapes are live, and from a private block once many are: every view
    keeps its own strides while others come and go, and every export is released once."""
    producers = [Producer((k % 7 + 1, k + 2, 3), "d") for k in range(150)]
    views = [memoryview(p) for p in producers]
    for k, v in enumerate(views):
        assert v.strides == ((k + 2) * 24, 24, 8)
    del views[::2]
    again = [memoryview(p) for p in producers]
    for k, v in enumerate(again):
        assert v.strides == ((k + 2) * 24, 24, 8)
    del views, again, v
    for p in producers:
        assert p.live_exports == 0 and p.gets == p.releases
