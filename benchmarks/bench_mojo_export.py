"""Exports: memoryview(x) and np.asarray(x) on a Mojo Bufferable struct, on the core's testing
Producer and on a numpy ndarray; and the copies zero-copy avoids, beside the views.

    python benchmarks/bench_mojo_export.py [--quick]

The Mojo object is ``Float64`` from tests/mojo/modules/bftest.mojo (a ``List[Float64]`` exported
1-D through bufferable's slots), built once (see mojo_modules.py); the Producer is
``bufferable.testing.Producer((n,), "d")`` (the C contract with no Mojo); the ndarray is
``np.zeros(n)``. Run on its own it measures the two ends of run.py's sweep.

The ndarray reference of ``np.asarray(x)`` is ``np.asarray(memoryview(ndarray))``: numpy going
through the buffer protocol of an ndarray. ``np.asarray(ndarray)`` returns its argument without
any export, a floor no buffer exporter (the Producer included) can approach; it is a row too.
"""
from __future__ import annotations

import gc
import sys

import numpy as np

import mojo_modules
import report
import timing

Row = report.Row
NOTES = [
    "np.asarray baseline: np.asarray(memoryview(ndarray)), numpy consuming an ndarray's buffer export; "
    "np.asarray(ndarray) returns its argument without any export (a floor no exporter can reach) and is "
    "listed for information.",
    "Mojo = Float64 of tests/mojo/modules/bftest.mojo (1-D float64, List storage); Producer = "
    "bufferable.testing.Producer((n,), 'd'); ndarray = np.zeros(n).",
    "copy rows compare a copy with the view of the same bytes: zero-copy stays flat, the copy grows with size.",
]


def _export_rows(op: str, size: str, nbytes: int, mojo: float, producer: float, ndarray: float) -> list[Row]:
    """The rows of one operation ("memoryview" or "np.asarray") timed on the three exporters."""
    ref = "memoryview(ndarray)" if op == "memoryview" else "np.asarray(memoryview(ndarray))"
    common = dict(section="export", size=size, nbytes=nbytes)
    return [
        Row(path=ref if op == "np.asarray" else f"{op}(ndarray)", seconds=ndarray, **common),
        Row(path=f"{op}(Producer)", seconds=producer, baseline=ref, baseline_seconds=ndarray,
            target=report.PRODUCER_VS_NDARRAY, **common),
        Row(path=f"{op}(Mojo)", seconds=mojo, baseline=f"{op}(Producer)", baseline_seconds=producer,
            target=report.MOJO_VS_PRODUCER, **common),
        Row(path=f"{op}(Mojo)", seconds=mojo, baseline=ref, baseline_seconds=ndarray,
            target=report.MOJO_VS_NDARRAY, **common),
    ]


def measure(sizes: dict[str, int] = report.END_SIZES, rounds: report.Rounds = report.FULL) -> list[Row]:
    """Times both exports of a Mojo ``Float64``, a Producer and an ndarray of each size (label ->
    bytes), the three of one operation interleaved; checks that every export was released."""
    from bufferable.testing import Producer

    bftest = mojo_modules.load(mojo_modules.BFTEST)
    rows = []
    for label, nbytes in sizes.items():
        n = nbytes // 8
        mojo_obj = bftest.Float64(n)
        producer = Producer((n,), "d")
        ndarray = np.zeros(n)
        assert memoryview(mojo_obj).nbytes == memoryview(producer).nbytes == ndarray.nbytes == n * 8
        t = timing.interleaved(
            [lambda: memoryview(mojo_obj), lambda: memoryview(producer), lambda: memoryview(ndarray)],
            **rounds.kw())
        rows += _export_rows("memoryview", label, n * 8, *t)
        *t, floor = timing.interleaved(
            [lambda: np.asarray(mojo_obj), lambda: np.asarray(producer),
             lambda: np.asarray(memoryview(ndarray)), lambda: np.asarray(ndarray)],
            **rounds.kw())
        rows += _export_rows("np.asarray", label, n * 8, *t)
        rows.append(Row(section="export", path="np.asarray(ndarray) (no export)", size=label, nbytes=n * 8,
                        seconds=floor))
        live, acquired, released = mojo_obj.stats()
        assert live == 0 and acquired == released, mojo_obj.stats()
        assert producer.live_exports == 0 and producer.gets == producer.releases
        del mojo_obj, producer, ndarray
    return rows


def measure_copies(sizes: dict[str, int] = report.END_SIZES, rounds: report.Rounds = report.FULL) -> list[Row]:
    """What zero-copy avoids: ``np.array(Mojo)`` (a copy through the buffer protocol) and
    ``np.copy(ndarray)`` beside the views of the same bytes, at each size (label -> bytes)."""
    bftest = mojo_modules.load(mojo_modules.BFTEST)
    rows = []
    for label, nbytes in sizes.items():
        n = nbytes // 8
        ndarray = np.ones(n)
        mojo_obj = bftest.Float64(n)
        assert np.array(mojo_obj).sum() == n * (n - 1) / 2  # a real copy of the Mojo memory
        t_view, t_copy, t_np_copy, t_nd_view = timing.interleaved(
            [lambda: np.asarray(mojo_obj), lambda: np.array(mojo_obj), lambda: np.copy(ndarray),
             lambda: np.asarray(memoryview(ndarray))],
            **rounds.kw(),
        )
        common = dict(section="copy", size=label, nbytes=n * 8, kind="copy")
        rows += [
            Row(path="np.array(Mojo) (copy)", seconds=t_copy, baseline="np.asarray(Mojo)",
                baseline_seconds=t_view, **common),
            Row(path="np.copy(ndarray)", seconds=t_np_copy, baseline="np.asarray(memoryview(ndarray))",
                baseline_seconds=t_nd_view, **common),
        ]
        del ndarray, mojo_obj
        gc.collect()
    return rows


def main(argv=None) -> int:
    """Command line entry point: ``[--quick]``, measure, print the table (see ``report.main``)."""
    return report.main(__doc__, lambda rounds: measure(rounds=rounds) + measure_copies(rounds=rounds), NOTES, argv)


if __name__ == "__main__":
    sys.exit(main())
