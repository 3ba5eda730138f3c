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
the module is compiled on first use and cached).
"""
from __future__ import annotations

import argparse
import importlib.machinery
import importlib.util
import os
import sys
import tempfile
import timeit
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
MODULE_SOURCE = ROOT / "tests" / "mojo" / "memory_view_module.mojo"
N = 10_000_000
SUM_TARGET = 1.0
ACQUIRE_TARGET = 1.5


def load_module():
    """Build (cached) and import tests/mojo/memory_view_module.mojo."""
    from bufferable.build import cached_build

    name = MODULE_SOURCE.stem
    cache = os.environ.get("BUFFERABLE_TEST_CACHE") or Path(tempfile.gettempdir()) / f"bufferable-mojo-tests-{os.getuid()}"
    path = cached_build(MODULE_SOURCE, cache)
    loader = importlib.machinery.ExtensionFileLoader(name, str(path))
    spec = importlib.util.spec_from_file_location(name, str(path), loader=loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    sys.modules[name] = module
    return module


def best_s(stmt, number: int, repeat: int) -> float:
    """Best per-call seconds of ``stmt`` over ``repeat`` runs of ``number`` calls."""
    return min(timeit.repeat(stmt, number=number, repeat=repeat)) / number


def paired(a, b, number: int, repeat: int) -> tuple[float, float]:
    """Best per-call seconds of two callables, alternating them within each repeat so that
    machine load drifts affect both alike."""
    best_a = best_b = float("inf")
    for _ in range(repeat):
        best_a = min(best_a, timeit.timeit(a, number=number) / number)
        best_b = min(best_b, timeit.timeit(b, number=number) / number)
    return best_a, best_b


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args(argv)

    mv = load_module()
    rng = np.random.default_rng(0)
    a = rng.random(N, dtype=np.float32)
    strided = a[::2]

    # Correctness first: the sums agree with numpy (float32 rounding differs by order).
    for x in (a, strided):
        for f in (mv.sum_f32,) + ((mv.sum_f32_c,) if x.flags.c_contiguous else ()):
            assert abs(f(x) - float(np.sum(x, dtype=np.float64))) <= 1e-4 * x.size, f

    print(f"Sum of float32 (best of {args.repeat}; ratio = Mojo / np.sum, target <= {SUM_TARGET})")
    print(f"{'array':<28}{'Mojo MemoryView':>18}{'np.sum':>12}{'ratio':>8}")
    rows = [
        ("contiguous, 10M", lambda: mv.sum_f32(a), lambda: np.sum(a)),
        ("contiguous, 10M (C layout)", lambda: mv.sum_f32_c(a), lambda: np.sum(a)),
        ("a[::2], 5M stride 2", lambda: mv.sum_f32(strided), lambda: np.sum(strided)),
    ]
    worst_sum = 0.0
    for label, mojo, numpy in rows:
        t_mojo, t_numpy = paired(mojo, numpy, number=3, repeat=args.repeat)
        ratio = t_mojo / t_numpy
        worst_sum = max(worst_sum, ratio)
        print(f"{label:<28}{t_mojo * 1e3:>15.2f} ms{t_numpy * 1e3:>9.2f} ms{ratio:>8.2f}")

    small = np.zeros(1000, dtype=np.float32)
    print()
    print(f"Acquiring a view of a 1-D float32 ndarray (ratio = MemoryView / from_numpy_tensor, target <= {ACQUIRE_TARGET})")
    print(f"{'path':<28}{'MemoryView':>14}{'from_numpy_tensor':>20}{'ratio':>8}")
    t_view, t_std = paired(lambda: mv.acquire_f32(small), lambda: mv.acquire_f32_stdlib(small), number=20_000, repeat=args.repeat)
    print(f"{'call from Python':<28}{t_view * 1e9:>11.0f} ns{t_std * 1e9:>17.0f} ns{t_view / t_std:>8.2f}")
    inside = [mv.time_acquire(small, 20_000) for _ in range(max(3, args.repeat // 3))]
    t_view_in = min(x[0] for x in inside)
    t_std_in = min(x[1] for x in inside)
    print(f"{'loop inside Mojo':<28}{t_view_in:>11.0f} ns{t_std_in:>17.0f} ns{t_view_in / t_std_in:>8.2f}")
    worst_acquire = max(t_view / t_std, t_view_in / t_std_in)

    print()
    ok = worst_sum <= SUM_TARGET and worst_acquire <= ACQUIRE_TARGET
    print(f"targets {'met' if ok else 'NOT met'}: worst sum ratio {worst_sum:.2f}, worst acquisition ratio {worst_acquire:.2f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
