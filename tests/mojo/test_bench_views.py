"""The benchmarks' 2-D float64 MemoryView functions (benchmarks/mojo/bench_views.mojo, timed
against Cython by benchmarks/bench_peers.py) give the right answers on every shape and stride the
benchmark does not time: empty, short and odd rows, reversed and wide strides."""
from pathlib import Path

import numpy as np
import pytest

BENCH_VIEWS = Path(__file__).resolve().parents[2] / "benchmarks" / "mojo" / "bench_views.mojo"

SHAPES = [(0, 0), (0, 5), (1, 1), (3, 5), (4, 16), (5, 33), (32, 32), (2, 131)]
COLUMNS = [slice(None), slice(None, None, 2), slice(None, None, 3), slice(None, None, -1), slice(1, None, 2)]


@pytest.fixture(scope="module")
def views(mojo_module):
    return mojo_module(BENCH_VIEWS)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("columns", COLUMNS)
def test_sums(views, shape, columns):
    # Small integers: every summation order gives the exact sum.
    a = (np.arange(shape[0] * shape[1]) % 13).astype(np.float64).reshape(shape)[:, columns]
    assert views.sum_strided(a) == float(a.sum())
    assert views.sum_strided(a[::-1]) == float(a.sum())
    if a.flags.c_contiguous:
        assert views.sum_c(a) == float(a.sum())


def test_acquisitions(views):
    a = np.zeros((6, 4))
    assert views.acquire(a) == views.acquire_c(a) == views.acquire(a[:, ::2]) == 6
    with pytest.raises(BufferError):
        views.acquire_c(a[:, ::2])
    with pytest.raises(ValueError, match="float32, not float64"):
        views.acquire(np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError):
        views.sum_strided(np.zeros(3))
