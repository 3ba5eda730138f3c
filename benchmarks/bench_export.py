"""Export cost: a bufferable producer beside numpy, at 1 KiB and 256 MiB.

Prints, from one run, the per-call time of ``memoryview(x)`` and ``np.asarray(x)`` for a
``bufferable.testing.Producer`` (which exports through the same C contract as a Mojo producer)
next to ``memoryview(ndarray)`` and ``np.asarray(memoryview(ndarray))``, with the ratios. Zero-copy
exports cost the same at every size; the target is a ratio of at most 1.15.

Run: ``python benchmarks/bench_export.py [--repeat N]``. Other tools (e.g. ``python -m
bufferable.bench``) import :func:`measure` and :func:`format_table`.
"""
from __future__ import annotations

import argparse
import dataclasses

import numpy as np

import timing

SIZES = {"1 KiB": 1 << 10, "256 MiB": 256 << 20}
TARGET_RATIO = 1.15


@dataclasses.dataclass
class Row:
    """One comparison: the producer's path and numpy's equivalent, per call, in nanoseconds."""

    size: str
    operation: str
    producer_ns: float
    numpy_ns: float

    @property
    def ratio(self) -> float:
        """producer_ns / numpy_ns (lower is better; the target is <= TARGET_RATIO)."""
        return self.producer_ns / self.numpy_ns


def measure(sizes: dict[str, int] | None = None, repeat: int = 7, number: int = 100_000) -> list[Row]:
    """Time the exports for each size (name -> bytes) and return one Row per comparison.

    The producer has explicit C-contiguous float32 strides (the common case: the export allocates
    nothing); numpy's array is the same shape. The two sides are timed in alternating rounds
    (``timing.paired``), so drifting machine load affects both alike.
    """
    from bufferable.testing import Producer

    rows = []
    for name, nbytes in (sizes or SIZES).items():
        n = nbytes // 4
        producer = Producer((n,), "f", strides=(4,))
        array = np.zeros(n, dtype=np.float32)
        pairs = [
            ("memoryview(x)", lambda: memoryview(producer), lambda: memoryview(array)),
            ("np.asarray(x)", lambda: np.asarray(producer), lambda: np.asarray(memoryview(array))),
        ]
        for op, prod, ref in pairs:
            p_best, r_best = timing.paired(prod, ref, repeat=repeat, number=number)
            rows.append(Row(name, op, p_best * 1e9, r_best * 1e9))
        del producer, array
    return rows


def format_table(rows: list[Row]) -> str:
    """The rows as an aligned text table."""
    lines = [
        f"{'size':>8}  {'operation':<15} {'Producer':>10} {'ndarray':>10}  {'ratio':>6}",
        f"{'':>8}  {'':<15} {'':>10} {'(numpy ref)':>10}",
    ]
    for r in rows:
        ok = "ok" if r.ratio <= TARGET_RATIO else f"> {TARGET_RATIO}"
        lines.append(
            f"{r.size:>8}  {r.operation:<15} {r.producer_ns:>8.1f}ns {r.numpy_ns:>8.1f}ns  "
            f"{r.ratio:>6.3f} {ok}"
        )
    lines.append(
        "numpy reference: memoryview(ndarray) and np.asarray(memoryview(ndarray)); "
        "best of repeats, per call"
    )
    return "\n".join(lines)


def main(argv=None) -> None:
    """Command line entry point: measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="timeit repeats per side (best wins)")
    parser.add_argument("--number", type=int, default=100_000, help="calls per repeat")
    args = parser.parse_args(argv)
    print(format_table(measure(repeat=args.repeat, number=args.number)))


if __name__ == "__main__":
    main()
