"""The calls benchmark's Mojo functions (benchmarks/mojo/bench_bindings.mojo, timed against Cython,
nanobind and pybind11 by benchmarks/bench_calls.py) give the right answers on every shape and
stride the benchmark does not time, and StridedGrid exports what the README's Grid exports."""
from pathlib import Path

import numpy as np
import pytest

BENCH_CALLS = Path(__file__).resolve().parents[2] / "benchmarks" / "mojo" / "bench_bindings.mojo"

SHAPES = [(0, 0), (0, 5), (1, 1), (3, 5), (32, 32), (2, 131)]
COLUMNS = [slice(None), slice(None, None, 2), slice(None, None, -1), slice(1, None, 3)]


@pytest.fixture(scope="module")
def calls(mojo_module):
    return mojo_module(BENCH_CALLS)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("columns", COLUMNS)
def test_totals(calls, shape, columns):
    a = (np.arange(shape[0] * shape[1]) % 13).astype(np.float64).reshape(shape)[:, columns]
    for f in (calls.total, calls.total_fast, calls.total_varargs, calls.total_std):
        assert f(a) == float(a.sum()) and f(a[::-1]) == float(a.sum())
    for f in (calls.rows, calls.rows_fast, calls.rows_varargs, calls.rows_std):
        assert f(a) == shape[0]


def test_no_ops_and_errors(calls):
    x = object()
    for f in (calls.noop, calls.noop_fast, calls.noop_varargs, calls.noop_std):
        assert f(x) is None
    for f in (calls.noop3, calls.noop3_fast, calls.noop3_std):
        assert f(x, 1, 2.5) is None
    with pytest.raises(TypeError, match=r"^total\(\) argument 1 'a': expected a 2-D float64 buffer, got int$"):
        calls.total(1)
    with pytest.raises(ValueError, match="float32, not float64"):
        calls.total_fast(np.zeros((2, 2), np.float32))


def test_strided_grid_exports_as_a_grid(calls):
    g = calls.StridedGrid(3, 4)
    a = np.asarray(g)
    assert a.shape == (3, 4) and a.strides == (32, 8) and a.dtype == np.float64
    a[:] = np.arange(12).reshape(3, 4)
    assert calls.total(g) == 66.0 and np.from_dlpack(g).sum() == 66.0
    m = memoryview(g)
    assert m.format == "d" and m.strides == (32, 8)
