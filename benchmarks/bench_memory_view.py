"""MemoryView speed: Mojo loops over numpy memory, and the cost of taking a view.

Prints, from one run:
  1. the sum of 10M float32 computed in Mojo through a ``MemoryView`` beside ``np.sum`` on the
     same array, for the contiguous array and for ``a[::2]`` (target: ratio <= 1.0, i.e. Mojo at
     least as fast);
  2. the cost of acquiring (and releasing) a ``MemoryView[DType.float32, 1]`` beside the standard
     library's ``std.python.numpy.from_numpy_tensor`` on the same array, both called from Python
     and both timed in a loop inside Mojo (target: ratio <= 1.5).

The Mojo side is tests/mojo/memory_view_module.mojo (``sum_f32``: a strided MemoryView with a
runtime unit-stride check, four 8-lane SIMD accumulators when contiguous, four scalar
accumulators walking a pointer otherwise; ``sum_f32_c``: a C_CONTIGUOUS MemoryView whose
``unsafe_load`` is a vector load known at compile time). Single-threaded on both sides.

Run: ``python benchmarks/bench_memory_view.py [--repeat N]`` (needs bufferable and Mojo 1.2.0;
the module is compiled on first use and cached, see mojo_modules.py). ``benchmarks/run.py``
calls :func:`measure_sums` and :func:`measure_acquire` over its own sizes.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys

import numpy as np

import mojo_modules
import timing

N = 10_000_000
SUM_TARGET = 1.0
ACQUIRE_TARGET = 1.5


def load_module():
    """Build (cached) and import tests/mojo/memory_view_module.mojo."""
    return mojo_modules.load(mojo_modules.MEMORY_VIEW)


@dataclasses.dataclass
class SumRow:
    """A Mojo sum and np.sum of the same float32 array, timed interleaved (seconds per call)."""

    label: str
    """Which array: "contiguous", "contiguous (C layout)" or "a[::2]"."""
    nbytes: int
    """Bytes of the whole (contiguous) array the row was taken from."""
    mojo: float
    numpy: float

    @property
    def ratio(self) -> float:
        """mojo / numpy (target <= SUM_TARGET)."""
        return self.mojo / self.numpy


def measure_sums(
    sizes: dict[str, int], *, repeat: int = 15, min_time: float = 0.005, budget: float | None = None
) -> list[SumRow]:
    """For each size (name -> bytes of a float32 array): Mojo sums (``sum_f32``, ``sum_f32_c``) vs
    ``np.sum`` on the contiguous array and on ``a[::2]``, interleaved (``repeat``, ``min_time``,
    ``budget``: see ``timing.interleaved``). Checks the sums against numpy first."""
    mv = load_module()
    rng = np.random.default_rng(0)
    rows = []
    for nbytes in sizes.values():
        a = rng.random(nbytes // 4, dtype=np.float32)
        strided = a[::2]
        # Correctness first: the sums agree with numpy (float32 rounding differs by order).
        for x in (a, strided):
            for f in (mv.sum_f32,) + ((mv.sum_f32_c,) if x.flags.c_contiguous else ()):
                assert abs(f(x) - float(np.sum(x, dtype=np.float64))) <= 1e-4 * x.size + 1e-3, f
        cases = [
            ("contiguous", lambda: mv.sum_f32(a), lambda: np.sum(a)),
            ("contiguous (C layout)", lambda: mv.sum_f32_c(a), lambda: np.sum(a)),
            ("a[::2]", lambda: mv.sum_f32(strided), lambda: np.sum(strided)),
        ]
        for label, mojo, numpy in cases:
            t_mojo, t_numpy = timing.paired(mojo, numpy, repeat=repeat, min_time=min_time, budget=budget)
            rows.append(SumRow(label, a.nbytes, t_mojo, t_numpy))
        del a, strided
    return rows


@dataclasses.dataclass
class AcquireResult:
    """MemoryView acquisition+release vs the stdlib's from_numpy_tensor (seconds per call)."""

    view_from_python: float
    stdlib_from_python: float
    view_in_mojo: float
    stdlib_in_mojo: float

    @property
    def ratios(self) -> tuple[float, float]:
        """(called from Python, looped inside Mojo): MemoryView / from_numpy_tensor."""
        return (self.view_from_python / self.stdlib_from_python, self.view_in_mojo / self.stdlib_in_mojo)


def measure_acquire(
    nbytes: int = 4000, *, repeat: int = 15, number: int = 20_000, budget: float | None = None
) -> AcquireResult:
    """Acquiring (and releasing) a ``MemoryView[DType.float32, 1]`` of an ndarray of ``nbytes``
    vs ``from_numpy_tensor`` on it: called from Python (interleaved: ``repeat`` rounds of
    ``number`` calls, ``budget`` as in ``timing.interleaved``), and looped inside Mojo."""
    mv = load_module()
    array = np.zeros(nbytes // 4, dtype=np.float32)
    t_view, t_std = timing.paired(
        lambda: mv.acquire_f32(array), lambda: mv.acquire_f32_stdlib(array), repeat=repeat, number=number,
        budget=budget,
    )
    inside = [mv.time_acquire(array, number) for _ in range(max(3, repeat // 3))]
    return AcquireResult(t_view, t_std, min(x[0] for x in inside) * 1e-9, min(x[1] for x in inside) * 1e-9)


def main(argv=None) -> int:
    """Command line entry point: measure and print both tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args(argv)

    print(f"Sum of float32 (best of {args.repeat}; ratio = Mojo / np.sum, target <= {SUM_TARGET})")
    print(f"{'array':<28}{'Mojo MemoryView':>18}{'np.sum':>12}{'ratio':>8}")
    names = {"contiguous": "contiguous, 10M", "contiguous (C layout)": "contiguous, 10M (C layout)",
             "a[::2]": "a[::2], 5M stride 2"}
    sums = measure_sums({"10M float32": N * 4}, repeat=args.repeat)
    for r in sums:
        print(f"{names[r.label]:<28}{r.mojo * 1e3:>15.2f} ms{r.numpy * 1e3:>9.2f} ms{r.ratio:>8.2f}")
    worst_sum = max(r.ratio for r in sums)

    acq = measure_acquire(repeat=args.repeat)
    print()
    print(f"Acquiring a view of a 1-D float32 ndarray (ratio = MemoryView / from_numpy_tensor, target <= {ACQUIRE_TARGET})")
    print(f"{'path':<28}{'MemoryView':>14}{'from_numpy_tensor':>20}{'ratio':>8}")
    r_py, r_in = acq.ratios
    print(f"{'call from Python':<28}{acq.view_from_python * 1e9:>11.0f} ns{acq.stdlib_from_python * 1e9:>17.0f} ns{r_py:>8.2f}")
    print(f"{'loop inside Mojo':<28}{acq.view_in_mojo * 1e9:>11.0f} ns{acq.stdlib_in_mojo * 1e9:>17.0f} ns{r_in:>8.2f}")
    worst_acquire = max(acq.ratios)

    print()
    ok = worst_sum <= SUM_TARGET and worst_acquire <= ACQUIRE_TARGET
    print(f"targets {'met' if ok else 'NOT met'}: worst sum ratio {worst_sum:.2f}, worst acquisition ratio {worst_acquire:.2f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
