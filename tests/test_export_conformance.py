"""Conformance of the export engine with numpy, over a grid of layouts and every request.

For each layout, a bufferable.testing.Producer and a numpy "twin" (an ndarray with the same
shape, strides, item size and read-only flag over the Producer's own bytes) are asked for the same
buffer with each of the 256 combinations of PyBUF_* bits: both must accept or both refuse, and an
accepted export must describe the same memory. Then memoryview(p), np.asarray(p) and
np.asarray(memoryview(p)) must mean what numpy's typed twin means.

Known, deliberate differences from numpy (see export.cpp): we refuse with BufferError where
numpy raises ValueError, and strides the producer gave are exported as given, whereas numpy
rewrites the stride of an extent-1 dimension (or of any dimension of an empty array) when the
array is contiguous; such strides address nothing, so they are compared only where they matter.
"""
import sys

import numpy as np
import pytest

import bufferable
from bufferable import BufferFlags, inspect
from bufferable.testing import Producer

from _layouts import ALL_FLAGS, FORMATS, layouts, numpy_twin, raw_bytes

LAYOUTS = layouts()

# CPython 3.13+ refuses a request of exactly 0x100 itself (PyObject_GetBuffer: SystemError, "bad
# argument to internal function") before asking the exporter, numpy's or ours: 0x100 is also
# PyBUF_READ, a memoryview access mode (PyBUF_INDIRECT is 0x100 with the STRIDES bits).
REFUSED_BY_CPYTHON = {0x100} if sys.version_info >= (3, 13) else set()


def outcome(obj, flags, errors):
    try:
        return inspect(obj, flags)
    except errors as e:
        return e


def strides_agree(ours, theirs, shape):
    if ours is None or theirs is None:
        return ours is theirs
    if 0 in shape:
        return len(ours) == len(theirs)
    return all(a == b for a, b, n in zip(ours, theirs, shape) if n > 1)


def test_grid_is_what_the_issue_asks_for():
    # ndim 0..4, every pattern, every listed format (a guard against the grid silently shrinking)
    assert {len(kw["shape"]) for _, kw in LAYOUTS} == {0, 1, 2, 3, 4}
    assert {kw["format"] for _, kw in LAYOUTS} == set(FORMATS)
    names = {kid.split("-", 2)[-1].removesuffix("-ro") for kid, _ in LAYOUTS}
    assert {"C-null", "C", "F", "sliced", "negative", "zero", "transposed-neg"} <= names
    assert len(ALL_FLAGS) == 256 and len(set(ALL_FLAGS)) == 256
    named = {f.value for f in BufferFlags.__members__.values()}
    assert named <= set(ALL_FLAGS)


@pytest.mark.parametrize("kw", [kw for _, kw in LAYOUTS], ids=[kid for kid, _ in LAYOUTS])
def test_every_request_agrees_with_numpy(kw):
    p = Producer(**kw)
    twin = numpy_twin(p, np.dtype(("V", p.itemsize)))  # numpy's choices depend only on the layout
    accepted = 0
    for flags in ALL_FLAGS:
        if flags in REFUSED_BY_CPYTHON:
            for exporter in (p, twin):
                with pytest.raises(SystemError):
                    inspect(exporter, flags)
            continue
        ours = outcome(p, flags, BufferError)
        theirs = outcome(twin, flags, (ValueError, BufferError))
        if isinstance(theirs, Exception):
            assert isinstance(ours, BufferError), f"flags {flags:#x}: numpy refused ({theirs}), we gave {ours}"
            assert str(ours), "a refusal must say why"
            continue
        assert not isinstance(ours, Exception), f"flags {flags:#x}: numpy accepted, we refused: {ours}"
        accepted += 1
        where = f"flags {flags:#x}"
        assert ours.exporter is p, where
        assert ours.address == theirs.address, where
        assert ours.nbytes == theirs.nbytes == twin.nbytes, where
        assert ours.itemsize == theirs.itemsize == p.itemsize, where
        assert ours.ndim == theirs.ndim, where
        assert ours.shape == theirs.shape, where
        assert ours.suboffsets is None and theirs.suboffsets is None, where
        assert ours.readonly == theirs.readonly == p.readonly, where
        assert ours.c_contiguous == theirs.c_contiguous, where
        assert ours.f_contiguous == theirs.f_contiguous, where
        if kw["strides"] is None:  # strides the core computes: numpy's canonical ones, exactly
            assert ours.strides == theirs.strides, where
        else:
            assert strides_agree(ours.strides, theirs.strides, p.shape), where
        if flags & BufferFlags.FORMAT:
            assert ours.format == p.format and theirs.format is not None, where
        else:
            assert ours.format is None and theirs.format is None, where
    assert accepted > 0


def fill_random(p, seed):
    raw = raw_bytes(p)
    raw[:] = np.random.default_rng(seed).integers(0, 256, raw.size, dtype=np.uint8)
    if p.format == "?":
        raw &= 1  # only 0 and 1 are bools


@pytest.mark.parametrize("kw", [kw for _, kw in LAYOUTS], ids=[kid for kid, _ in LAYOUTS])
def test_views_mean_what_numpy_means(kw):
    p = Producer(**kw)
    fill_random(p, len(p.shape))
    dtype = FORMATS[p.format]
    m = memoryview(p)
    assert m.format == p.format and m.itemsize == p.itemsize and m.readonly == p.readonly
    assert m.shape == p.shape and m.nbytes == p.itemsize * int(np.prod(p.shape))
    expected_strides = p.strides if p.strides is not None else memoryview(np.empty(p.shape, ("V", p.itemsize))).strides
    assert m.strides == tuple(expected_strides)
    if dtype is None:  # an extension format: numpy cannot parse it; memoryview can copy it
        twin = numpy_twin(p, np.dtype(("V", p.itemsize)))
        assert m.tobytes() == twin.tobytes()
        m.release()
        return
    twin = numpy_twin(p, dtype)
    for a in (np.asarray(p), np.asarray(m)):
        assert a.dtype == twin.dtype and a.shape == twin.shape
        assert a.__array_interface__["data"][0] == twin.__array_interface__["data"][0]
        assert strides_agree(a.strides, twin.strides, twin.shape)
        assert a.flags.writeable == (not p.readonly)
        assert a.tobytes() == twin.tobytes()
        del a
    if p.format in ("B", "?"):  # native formats memoryview.tolist unpacks (and no NaNs)
        assert m.tolist() == twin.tolist()
    m.release()


def test_writes_through_numpy_reach_the_producer():
    p = Producer((3, 4), "i", strides=(-16, 4))
    a = np.asarray(p)
    a[:] = np.arange(12).reshape(3, 4)
    assert memoryview(p).tolist() == a.tolist() == np.arange(12).reshape(3, 4).tolist()
    # element 0 is row 0, the last row of the allocation, at p.address
    raw = raw_bytes(p).view("<i4")
    assert raw[-4:].tolist() == [0, 1, 2, 3]
    assert p.address == raw_bytes(p).__array_interface__["data"][0] + p.offset
    del a


def test_extension_format_exports_as_given():
    p = Producer((2, 3), "[ml_dtypes$bfloat16$]")
    info = inspect(p)
    assert info.format == "[ml_dtypes$bfloat16$]" and info.itemsize == 2
    assert info.strides == (6, 2)
    assert bufferable.parse_format(info.format).itemsize == 2
