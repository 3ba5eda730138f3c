"""memoryview(x) and np.asarray(x) on a Mojo Bufferable struct, beside the core's testing Producer
and a numpy ndarray, at 1 KiB and 256 MiB: one run, ratios printed.

    python benchmarks/bench_mojo_export.py [--quick]

The Mojo object is `Float64` from tests/mojo/modules/bftest.mojo (a List[Float64] exported 1-D
through bufferable's slots), built once with bufferable.build.cached_build (see mojo_modules.py).
Targets (issue 3): Mojo within 1.2x of the Producer and 1.5x of the ndarray, independent of size.

The ndarray reference of ``np.asarray(x)`` is ``np.asarray(memoryview(ndarray))``: numpy going
through the buffer protocol of an ndarray. ``np.asarray(ndarray)`` returns its argument without
any export, a floor no buffer exporter (the Producer included) can approach; it is printed too.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

import numpy as np

import mojo_modules
import timing

SIZES = {"1 KiB": 1 << 10, "256 MiB": 256 << 20}
TARGET_PRODUCER = 1.2
TARGET_NDARRAY = 1.5
OPERATIONS = ("memoryview(x)", "np.asarray(x)")


@dataclasses.dataclass
class Row:
    """One export, timed on the three exporters in the same interleaved rounds (seconds per call)."""

    size: str
    nbytes: int
    operation: str
    mojo: float
    producer: float
    ndarray: float
    """The ndarray reference: memoryview(ndarray) or np.asarray(memoryview(ndarray))."""
    floor: float | None = None
    """np.asarray(ndarray) (no export at all) for the np.asarray row, else None."""

    @property
    def vs_producer(self) -> float:
        """mojo / producer (target <= TARGET_PRODUCER)."""
        return self.mojo / self.producer

    @property
    def vs_ndarray(self) -> float:
        """mojo / ndarray reference (target <= TARGET_NDARRAY)."""
        return self.mojo / self.ndarray

    @property
    def producer_vs_ndarray(self) -> float:
        """producer / ndarray reference (issue 2's ratio)."""
        return self.producer / self.ndarray


def measure(
    sizes: dict[str, int] | None = None, *, repeat: int = 25, min_time: float = 0.01, budget: float | None = None
) -> list[Row]:
    """Times both exports of a Mojo ``Float64``, a ``Producer((n,), "d")`` and ``np.zeros(n)`` of
    each size (name -> bytes), interleaved (``repeat``, ``min_time``, ``budget``: see
    ``timing.interleaved``); checks that every export was released."""
    from bufferable.testing import Producer

    bftest = mojo_modules.load(mojo_modules.BFTEST)
    rows = []
    for label, nbytes in (sizes or SIZES).items():
        n = nbytes // 8
        mojo_obj = bftest.Float64(n)
        producer = Producer((n,), "d")
        ndarray = np.zeros(n)
        assert memoryview(mojo_obj).nbytes == memoryview(producer).nbytes == ndarray.nbytes == n * 8
        t = timing.interleaved(
            [lambda: memoryview(mojo_obj), lambda: memoryview(producer), lambda: memoryview(ndarray)],
            repeat=repeat, min_time=min_time, budget=budget,
        )
        rows.append(Row(label, n * 8, "memoryview(x)", *t))
        t = timing.interleaved(
            [lambda: np.asarray(mojo_obj), lambda: np.asarray(producer),
             lambda: np.asarray(memoryview(ndarray)), lambda: np.asarray(ndarray)],
            repeat=repeat, min_time=min_time, budget=budget,
        )
        rows.append(Row(label, n * 8, "np.asarray(x)", *t))
        live, acquired, released = mojo_obj.stats()
        assert live == 0 and acquired == released, mojo_obj.stats()
        del mojo_obj, producer, ndarray
    return rows


def format_table(rows: list[Row]) -> str:
    """The rows as an aligned text table, with the worst ratios and the verdict."""
    lines = [
        f"{'size':>8}  {'operation':<14} {'Mojo':>9} {'Producer':>9} {'ndarray':>9}"
        f"  {'Mojo/Producer':>13} {'Mojo/ndarray':>12}"
    ]
    for r in rows:
        lines.append(
            f"{r.size:>8}  {r.operation:<14} {r.mojo * 1e9:7.0f}ns {r.producer * 1e9:7.0f}ns "
            f"{r.ndarray * 1e9:7.0f}ns  {r.vs_producer:12.2f}x {r.vs_ndarray:11.2f}x"
        )
    worst_producer = max(r.vs_producer for r in rows)
    worst_ndarray = max(r.vs_ndarray for r in rows)
    ok = worst_producer <= TARGET_PRODUCER and worst_ndarray <= TARGET_NDARRAY
    lines.append(
        f"worst: {worst_producer:.2f}x the Producer (target <= {TARGET_PRODUCER}x), "
        f"{worst_ndarray:.2f}x the ndarray (target <= {TARGET_NDARRAY}x): {'met' if ok else 'NOT met'}"
    )
    floors = [r.floor for r in rows if r.floor is not None]
    lines.append(
        "ndarray column: memoryview(ndarray), and np.asarray(memoryview(ndarray)) for np.asarray. "
        f"np.asarray(ndarray) itself returns its argument (no export at all): {min(floors) * 1e9:.0f} ns, "
        "a floor no buffer exporter (the Producer included) can approach"
    )
    return "\n".join(lines)


def main(argv=None) -> int:
    """Command line entry point: measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args(argv)
    repeat, min_time = (5, 0.005) if args.quick else (25, 0.01)
    print(format_table(measure(repeat=repeat, min_time=min_time)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
