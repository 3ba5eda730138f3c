"""Pickling and repr of bound Mojo types (bufferable.exports, installed by the core): a bound
MemoryView (a view of numpy memory, transposed: sent contiguous), bfloat16 views (ml_dtypes'
dtype kept), Records (a structured array), a table (a pyarrow.Table, its columns out of band),
the short repr whatever the size, and every export and table lock released once."""

from __future__ import annotations

import gc
import pickle

import numpy as np
import pytest

from bufferable import asarray
from bufferable.testing import Producer
from conftest import MODULES

pa = pytest.importorskip("pyarrow")
ml_dtypes = pytest.importorskip("ml_dtypes")


@pytest.fixture(scope="module")
def interop(mojo_module):
    return mojo_module(MODULES / "bfinterop.mojo")


@pytest.fixture(scope="module")
def tables(mojo_module):
    return mojo_module(MODULES / "tables" / "bftables.mojo")


@pytest.fixture(scope="module")
def records(mojo_module):
    return mojo_module(MODULES / "bfrecords.mojo")


def out_of_band(obj):
    buffers: list[pickle.PickleBuffer] = []
    data = pickle.dumps(obj, protocol=5, buffer_callback=buffers.append)
    return pickle.loads(data, buffers=buffers), buffers


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_a_bound_memory_view_pickles_as_the_memory_it_views(interop, protocol):
    src = np.arange(12, dtype=np.float32).reshape(3, 4)
    v = interop.view_f32_2d(src)
    back = pickle.loads(pickle.dumps(v, protocol=protocol))
    assert isinstance(back, np.ndarray) and back.dtype == np.float32
    np.testing.assert_array_equal(back, src)
    t = interop.view_f32_2d_transposed(src)  # (4, 3), strides (4, 16): sent as a C copy
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(t, protocol=protocol)), src.T)
    del back, v, t
    gc.collect()


def test_out_of_band_the_receiver_views_the_sent_buffer(interop):
    src = np.arange(6, dtype=np.float32).reshape(2, 3)
    v = interop.view_f32_2d(src)
    back, buffers = out_of_band(v)
    assert len(buffers) == 1
    assert np.shares_memory(back, src)  # in one process the buffer is the view's memory itself
    assert interop.exports_f32_2d(v) >= 1  # held by the buffer until it is dropped
    del back, buffers
    gc.collect()
    assert interop.exports_f32_2d(v) == 0


def test_bfloat16_keeps_its_dtype(interop):
    src = Producer((2, 2), "[ml_dtypes$bfloat16$]")  # numpy exports no bfloat16 buffer
    asarray(src)[:] = np.array([[1.5, -2.0], [0.25, 3.0]], dtype=ml_dtypes.bfloat16)
    v = interop.view_bf16_2d(src)
    for protocol in (2, 5):
        back = pickle.loads(pickle.dumps(v, protocol=protocol))
        assert back.dtype == np.dtype(ml_dtypes.bfloat16)
        assert back.astype(np.float32).tolist() == [[1.5, -2.0], [0.25, 3.0]]
        del back
    del v
    gc.collect()
    assert src.live_exports == 0


def test_records_pickle_as_a_structured_array(records):
    r = records.Particles(4)
    a = np.asarray(r)
    a["mass"] = [1.0, 2.5, 3.0, 4.5]
    a["id"] = [7, 8, 9, 10]
    expected = a.copy()
    del a
    for protocol in (2, 5):
        back = pickle.loads(pickle.dumps(r, protocol=protocol))
        assert back.dtype.names == expected.dtype.names and back.dtype.itemsize == expected.dtype.itemsize
        for name in expected.dtype.names:
            np.testing.assert_array_equal(back[name], expected[name])
    assert repr(r).startswith("<bfrecords.Particles shape=(4,) format='T{")
    gc.collect()
    live, acquired, released = r.stats()
    assert live == 0 and acquired == released


def test_a_table_pickles_as_a_pyarrow_table_with_its_columns_out_of_band(tables):
    p = tables.Prices(1000)
    expected = pa.table(p)
    back, buffers = out_of_band(p)
    assert isinstance(back, pa.Table) and back.equals(expected)
    assert len(buffers) >= 3  # one per column's data (pyarrow's pickling)
    assert pickle.loads(pickle.dumps(p, protocol=2)).equals(expected)
    del back, buffers, expected
    gc.collect()
    live, acquired, released = p.stats()
    assert live == 0 and acquired == released


def test_the_repr_is_short_and_cheap_whatever_the_size(interop, tables):
    big = np.zeros((4096, 2048), np.float32)  # 32 MiB
    v = interop.view_f32_2d(big)
    text = repr(v)
    assert text.endswith("shape=(4096, 2048) format='f'>") and len(text) < 100
    assert str(v) == text
    p = tables.Prices(3)
    assert repr(p) == "<bftables.Prices rows=3 columns=['id', 'price', 'qty']>"
    del v
    gc.collect()
    assert interop.exports_f32_2d(interop.view_f32_2d(big)) == 0
