"""The consumer side through DLPack and Arrow (BfApi.acquire_dlpack / acquire_arrow), as Mojo's
MemoryView uses it: descriptors, refusals and exactly-once release of the foreign export."""
import gc
import re

import numpy as np
import pytest

from bufferable import BufferFlags
from bufferable.testing import Acquisition, Producer


def test_dlpack_from_numpy_describes_the_array():
    a = np.arange(24, dtype=np.float32).reshape(4, 6)[::2, ::-3]
    acq = Acquisition(a, BufferFlags.STRIDED_RO | BufferFlags.FORMAT, via="dlpack")
    d = acq.desc
    assert d["format"] == "f" and d["itemsize"] == 4 and d["ndim"] == 2
    assert d["shape"] == a.shape and d["strides"] == a.strides
    assert d["address"] == a.__array_interface__["data"][0]
    assert acq.obj is a


@pytest.mark.parametrize("dtype,fmt", [
    (np.bool_, "?"), (np.int8, "b"), (np.uint16, "H"), (np.int32, "i"), (np.uint64, "Q"),
    (np.float16, "e"), (np.float64, "d"), (np.complex64, "Zf"),
])
def test_dlpack_formats(dtype, fmt):
    acq = Acquisition(np.zeros(3, dtype), BufferFlags.RECORDS_RO, via="dlpack")
    assert acq.desc["format"] == fmt


def test_dlpack_bfloat16_format(torch):  # numpy's DLPack export has no bfloat16
    acq = Acquisition(torch.zeros(3, dtype=torch.bfloat16), BufferFlags.RECORDS_RO, via="dlpack")
    assert acq.desc["format"] == "[ml_dtypes$bfloat16$]" and acq.desc["itemsize"] == 2


def test_dlpack_releases_exactly_once():
    p = Producer((5,), "d")
    acq = Acquisition(p, BufferFlags.RECORDS_RO, via="dlpack")
    assert p.live_exports == 1
    acq.incref()
    acq.decref()
    assert p.live_exports == 1
    acq.decref()
    assert p.live_exports == 0 and p.gets == p.releases == 1


def test_dlpack_release_from_another_thread():
    p = Producer((5,), "d")
    acq = Acquisition(p, BufferFlags.RECORDS_RO, via="dlpack")
    acq.decref_in_thread()
    assert p.live_exports == 0 and p.releases == 1


def test_dlpack_read_only_refuses_writable():
    p = Producer((3,), "f", readonly=True)
    with pytest.raises(BufferError, match="read-only"):
        Acquisition(p, BufferFlags.RECORDS, via="dlpack")
    gc.collect()
    assert p.live_exports == 0 and p.gets == p.releases == 1
    acq = Acquisition(p, BufferFlags.RECORDS_RO, via="dlpack")
    assert acq.desc["readonly"]


def test_dlpack_contiguity_demands():
    a = np.zeros((4, 4), np.float32)[:, ::2]
    with pytest.raises(BufferError, match="C-contiguous"):
        Acquisition(a, BufferFlags.C_CONTIGUOUS | BufferFlags.FORMAT, via="dlpack")
    Acquisition(a, BufferFlags.STRIDED_RO, via="dlpack")


def test_dlpack_refusals():
    with pytest.raises(TypeError, match="DLPack"):
        Acquisition(bytearray(3), via="dlpack")

    class Liar:
        def __dlpack__(self, **kwargs):
            return "not a capsule"

    with pytest.raises(TypeError, match="capsule"):
        Acquisition(Liar(), via="dlpack")


def test_dlpack_from_torch(torch):
    t = torch.arange(12, dtype=torch.float32).reshape(3, 4).t()
    acq = Acquisition(t, BufferFlags.STRIDED_RO | BufferFlags.FORMAT, via="dlpack")
    assert acq.desc["shape"] == (4, 3) and acq.desc["strides"] == (4, 16)
    assert acq.desc["address"] == t.data_ptr()


def test_arrow_from_pyarrow():
    pa = pytest.importorskip("pyarrow")
    arr = pa.array(np.arange(10, dtype=np.int64)).slice(3, 4)
    acq = Acquisition(arr, BufferFlags.RECORDS_RO, via="arrow")
    d = acq.desc
    assert d["format"] == "q" and d["shape"] == (4,) and d["strides"] == (8,) and d["readonly"]
    assert d["address"] == arr.buffers()[1].address + 3 * 8
    with pytest.raises(BufferError, match="read-only"):
        Acquisition(arr, BufferFlags.RECORDS, via="arrow")


def test_arrow_releases_the_producer_exactly_once():
    p = Producer((6,), "f")
    acq = Acquisition(p, BufferFlags.RECORDS_RO, via="arrow")
    assert p.live_exports == 1
    acq.decref()
    assert p.live_exports == 0 and p.gets == p.releases == 1


def test_arrow_refusals():
    pa = pytest.importorskip("pyarrow")
    with pytest.raises(BufferError, match="null"):
        Acquisition(pa.array([1, None, 3]), BufferFlags.RECORDS_RO, via="arrow")
    with pytest.raises(BufferError, match="bit-packed"):
        Acquisition(pa.array([True, False]), BufferFlags.RECORDS_RO, via="arrow")
    with pytest.raises(BufferError, match="fixed-width"):
        Acquisition(pa.array(["a", "b"]), BufferFlags.RECORDS_RO, via="arrow")
    with pytest.raises(TypeError, match="Arrow"):
        Acquisition(bytearray(3), via="arrow")
    with pytest.raises(ValueError, match="via"):
        Acquisition(bytearray(3), via="carrier pigeon")


@pytest.mark.parametrize("make,named", [
    (lambda pa: pa.array([1.5, 2.5, 1.5, 9.0]).dictionary_encode(), "dictionary"),
    (lambda pa: pa.array(["x", "y", "x"]).dictionary_encode(), "dictionary"),
    (lambda pa: pa.array([[1, 2], [3]]), "'+l'"),
    (lambda pa: pa.array([{"a": 1}]), "'+s'"),
    (lambda pa: pa.array([1, 2], pa.timestamp("us")), "'tsu:'"),
    (lambda pa: pa.FixedSizeListArray.from_arrays(pa.array([1.0, 2.0]), 2), "'+w:2'"),
])
def test_arrow_refuses_every_non_primitive_layout(make, named):
    """A dictionary array's buffers are its codes: acquiring them would read [0, 1, 0, 2] for
    [1.5, 2.5, 1.5, 9.0]. Every layout other than a primitive fixed-width array is refused,
    naming the Arrow type."""
    pa = pytest.importorskip("pyarrow")
    arr = make(pa)
    with pytest.raises(BufferError, match=re.escape(named)):
        Acquisition(arr, BufferFlags.RECORDS_RO, via="arrow")


class _ArrowAnswer:
    """An object whose __arrow_c_array__ answers `answer` (a hostile or broken producer)."""

    def __init__(self, answer):
        self.answer = answer

    def __arrow_c_array__(self, requested_schema=None):
        return self.answer


def _bad_arrow_answers():
    pa = pytest.importorskip("pyarrow")
    schema, array = pa.array([1.0, 2.0]).__arrow_c_array__()
    return [None, (schema,), (schema, array, schema), (array, schema), (schema, b"not a capsule"),
            [schema, array]]


def test_arrow_answer_that_is_not_a_schema_and_array_pair_is_a_type_error():
    for answer in _bad_arrow_answers():
        with pytest.raises(TypeError, match=r"_ArrowAnswer.__arrow_c_array__\(\) must return a tuple"):
            Acquisition(_ArrowAnswer(answer), BufferFlags.RECORDS_RO, via="arrow")
