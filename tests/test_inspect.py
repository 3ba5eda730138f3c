"""bufferable.inspect, BufferInfo and BufferFlags, on every kind of exporter."""
import array
import re
from pathlib import Path

import numpy as np
import pytest

import bufferable
from bufferable import BufferFlags, BufferInfo, inspect
from bufferable.testing import Producer

HEADER = Path(__file__).resolve().parents[1] / "cpp" / "include" / "bufferable" / "bufferable.h"

# CPython's Include/pybuffer.h values, written out (not derived from our code).
PYBUF = dict(SIMPLE=0, WRITABLE=1, FORMAT=4, ND=8, STRIDES=0x18, C_CONTIGUOUS=0x38,
             F_CONTIGUOUS=0x58, ANY_CONTIGUOUS=0x98, INDIRECT=0x118, CONTIG=0x9, CONTIG_RO=0x8,
             STRIDED=0x19, STRIDED_RO=0x18, RECORDS=0x1D, RECORDS_RO=0x1C, FULL=0x11D, FULL_RO=0x11C)


def test_buffer_flags_are_cpythons():
    assert {name: int(getattr(BufferFlags, name)) for name in PYBUF} == PYBUF
    assert issubclass(BufferFlags, int)
    header = set(re.findall(r"#define BF_BUF_(\w+) ", HEADER.read_text()))
    assert set(header) == set(PYBUF)  # the C contract names the same flags


def test_public_names():
    assert set(bufferable.__all__) >= {"inspect", "parse_format", "BufferFlags", "__version__"}
    for name in bufferable.__all__:
        assert getattr(bufferable, name) is not None
        if name != "__version__":
            assert getattr(bufferable, name).__doc__
    assert bufferable.__version__ == "0.1.0"


# Each case is a factory: an exporter made at collection time would live as long as pytest
# (a Producer parked there outlives the core at interpreter exit; nanobind reports it as leaked).
@pytest.mark.parametrize(
    "make,expected",
    [
        (lambda: b"abc", dict(format="B", itemsize=1, ndim=1, shape=(3,), strides=(1,), readonly=True, nbytes=3)),
        (lambda: bytearray(4), dict(format="B", ndim=1, shape=(4,), readonly=False, nbytes=4)),
        (lambda: array.array("i", [1, 2]), dict(format="i", itemsize=4, shape=(2,), strides=(4,), nbytes=8)),
        (lambda: np.zeros((2, 3), "<f4")[:, ::2], dict(format="f", shape=(2, 2), strides=(12, 8), c_contiguous=False)),
        (lambda: np.zeros((2, 3), order="F"), dict(format="d", strides=(8, 16), c_contiguous=False, f_contiguous=True)),
        (lambda: memoryview(b"abcd").cast("B", (2, 2)), dict(shape=(2, 2), strides=(2, 1), c_contiguous=True)),
        (lambda: Producer((2, 3), "<i"), dict(format="<i", itemsize=4, strides=(12, 4), suboffsets=None)),
    ],
)
def test_inspect_reports_what_was_exported(make, expected):
    obj = make()
    info = inspect(obj)
    assert isinstance(info, BufferInfo)
    d = info.as_dict()
    assert {k: d[k] for k in expected} == expected
    assert info.exporter is obj or isinstance(obj, memoryview)
    assert set(d) == {"format", "itemsize", "ndim", "shape", "strides", "suboffsets", "readonly",
                      "nbytes", "c_contiguous", "f_contiguous", "address"}
    assert "address" not in repr(info) and repr(info).startswith("BufferInfo(format=")


def test_inspect_simple_request_and_fields_left_null():
    info = inspect(np.zeros((3, 4), "i2"), BufferFlags.SIMPLE)
    assert (info.format, info.ndim, info.shape, info.strides, info.itemsize, info.nbytes) == (None, 0, None, None, 2, 24)
    info = inspect(b"xyz", BufferFlags.SIMPLE)
    assert (info.ndim, info.shape, info.c_contiguous, info.f_contiguous) == (1, None, True, True)


def test_inspect_propagates_the_exporters_own_errors():
    with pytest.raises(BufferError):
        inspect(b"abc", BufferFlags.WRITABLE)
    with pytest.raises(ValueError, match="not C-contiguous"):
        inspect(np.zeros((4, 4))[::2], BufferFlags.C_CONTIGUOUS)
    with pytest.raises(BufferError, match="not C-contiguous"):
        inspect(Producer((4, 4), strides=(8, 1)), BufferFlags.C_CONTIGUOUS)
    with pytest.raises(TypeError):
        inspect(object())
    with pytest.raises(TypeError):
        inspect(b"abc", "FULL")
