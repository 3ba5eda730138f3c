"""MemoryView speed: Mojo loops over numpy memory, and the cost of taking a view.

    python benchmarks/bench_memory_view.py [--quick]

Measures, in one run:
  1. the sum of a float32 array computed in Mojo through a ``MemoryView`` beside ``np.sum`` on
     the same array, for the contiguous array and for ``a[::2]`` (Mojo at least as fast);
  2. the cost of acquiring (and releasing) a ``MemoryView[DType.float32, 1]`` beside the standard
     library's ``std.python.numpy.from_numpy_tensor`` on the same array, both called from Python
     and both timed in a loop inside Mojo.

The Mojo side is tests/mojo/modules/memory_view_module.mojo (``sum_f32``: a strided MemoryView with a
runtime unit-stride check, four 8-lane SIMD accumulators when contiguous, four scalar
accumulators walking a pointer otherwise; ``sum_f32_c``: a C_CONTIGUOUS MemoryView whose
``unsafe_load`` is a vector load known at compile time). Single-threaded on both sides. Run on
its own it measures the two ends of run.py's sweep.
"""
from __future__ import annotations

import gc
import sys

import numpy as np

import mojo_modules
import report
import timing

Row = report.Row
NOTES = ["MemoryView sums: float32, single thread on both sides; 'C layout' is a MemoryView declared C-contiguous."]


def load_module():
    """Build (cached) and import tests/mojo/modules/memory_view_module.mojo."""
    return mojo_modules.load(mojo_modules.MEMORY_VIEW)


def measure_sums(sizes: dict[str, int], rounds: report.Rounds) -> list[Row]:
    """For each size (label -> bytes of a float32 array): Mojo sums (``sum_f32``, ``sum_f32_c``)
    vs ``np.sum`` on the contiguous array and on ``a[::2]``, each pair interleaved. Checks the sums
    against numpy first."""
    mv = load_module()
    rng = np.random.default_rng(0)
    rows = []
    for label, nbytes in sizes.items():
        a = rng.random(nbytes // 4, dtype=np.float32)
        strided = a[::2]
        # Correctness first: the sums agree with numpy (float32 rounding differs by order).
        for x in (a, strided):
            for f in (mv.sum_f32,) + ((mv.sum_f32_c,) if x.flags.c_contiguous else ()):
                assert abs(f(x) - float(np.sum(x, dtype=np.float64))) <= 1e-4 * x.size + 1e-3, f
        cases = [
            ("Mojo sum, contiguous", lambda: mv.sum_f32(a), "np.sum(a)", lambda: np.sum(a)),
            ("Mojo sum, contiguous (C layout)", lambda: mv.sum_f32_c(a), "np.sum(a)", lambda: np.sum(a)),
            ("Mojo sum, a[::2]", lambda: mv.sum_f32(strided), "np.sum(a[::2])", lambda: np.sum(strided)),
        ]
        for path, mojo, baseline, numpy in cases:
            t_mojo, t_numpy = timing.paired(mojo, numpy, **rounds.kw())
            rows.append(Row(section="MemoryView", path=path, size=label, nbytes=a.nbytes, seconds=t_mojo,
                            baseline=baseline, baseline_seconds=t_numpy, target=report.SUM_VS_NUMPY,
                            kind="compute"))
        del a, strided
        gc.collect()
    return rows


def measure_acquire(sizes: dict[str, int], rounds: report.Rounds, number: int = 5_000) -> list[Row]:
    """Acquiring (and releasing) a ``MemoryView[DType.float32, 1]`` of an ndarray of each size
    (label -> bytes) vs ``from_numpy_tensor`` on it: called from Python (interleaved rounds of
    ``number`` calls), and looped ``number`` times inside Mojo."""
    mv = load_module()
    rows = []
    for label, nbytes in sizes.items():
        array = np.zeros(nbytes // 4, dtype=np.float32)
        t_view, t_std = timing.paired(lambda: mv.acquire_f32(array), lambda: mv.acquire_f32_stdlib(array),
                                      repeat=rounds.repeat, number=number, budget=rounds.budget,
                                      span=rounds.span)
        inside = [mv.time_acquire(array, number) for _ in range(max(3, rounds.repeat // 3))]
        common = dict(section="MemoryView", size=label, nbytes=nbytes, target=report.ACQUIRE_VS_STDLIB)
        rows += [
            Row(path="MemoryView acquisition (from Python)", seconds=t_view,
                baseline="from_numpy_tensor (from Python)", baseline_seconds=t_std, **common),
            Row(path="MemoryView acquisition (Mojo loop)", seconds=min(x[0] for x in inside) * 1e-9,
                baseline="from_numpy_tensor (Mojo loop)", baseline_seconds=min(x[1] for x in inside) * 1e-9,
                **common),
        ]
        del array
        gc.collect()
    return rows


def measure(sizes: dict[str, int] = report.END_SIZES, rounds: report.Rounds = report.FULL) -> list[Row]:
    """The sums, then the acquisitions, at each size (label -> bytes of a float32 array)."""
    return measure_sums(sizes, rounds) + measure_acquire(sizes, rounds)


def main(argv=None) -> int:
    """Command line entry point: ``[--quick]``, measure, print the table (see ``report.main``)."""
    return report.main(__doc__, lambda rounds: measure(rounds=rounds), NOTES, argv)


if __name__ == "__main__":
    sys.exit(main())
