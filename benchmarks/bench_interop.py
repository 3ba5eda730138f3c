"""np.from_dlpack(x) and pyarrow.array(x) on a Mojo Bufferable struct and on the core's testing
Producer, beside the same call on a numpy ndarray, at 1 KiB and 256 MiB: one run, ratios printed.

    python benchmarks/bench_interop.py [--quick]

The Mojo object is ``GridF64`` from tests/mojo/modules/interop/bfinterop.mojo (a 1-D float64
``List`` exported through bufferable's slots; its ``__dlpack__`` and ``__arrow_c_array__`` are the
core's, installed by ``finalize_module``), built once with bufferable.build.cached_build (see
mojo_modules.py). Target (issue 6): each within 1.3x of the same call on an ndarray.

All three are zero-copy at every size (asserted): the time is the export and the capsule, not
the bytes, so 1 KiB and 256 MiB should cost the same.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import sys
from pathlib import Path

import numpy as np

import mojo_modules
import timing

SIZES = {"1 KiB": 1 << 10, "256 MiB": 256 << 20}
TARGET = 1.3
INTEROP = Path(__file__).resolve().parent.parent / "tests" / "mojo" / "modules" / "interop" / "bfinterop.mojo"

OPERATIONS = ("np.from_dlpack", "pyarrow.array")


@dataclasses.dataclass
class Row:
    """One path at one size (seconds per call, best interleaved round), with its baseline."""

    size: str
    nbytes: int
    path: str
    """e.g. ``np.from_dlpack(Mojo)``."""
    seconds: float
    baseline: str | None = None
    """The ndarray path it is compared with (None for the ndarray rows themselves)."""
    baseline_seconds: float | None = None

    @property
    def ratio(self) -> float | None:
        """seconds / baseline_seconds (target <= TARGET), or None for a baseline row."""
        return None if self.baseline_seconds is None else self.seconds / self.baseline_seconds


def _load_mojo():
    return mojo_modules.load(INTEROP)


def _check_zero_copy(obj, address: int, pa) -> None:
    a = np.from_dlpack(obj)
    assert a.__array_interface__["data"][0] == address, "np.from_dlpack copied"
    arr = pa.array(obj)
    assert arr.buffers()[1].address == address, "pyarrow.array copied"
    del a, arr


def measure(
    sizes: dict[str, int] | None = None, *, repeat: int = 25, min_time: float = 0.01,
    budget: float | None = None,
) -> list[Row]:
    """Times ``np.from_dlpack(x)`` and ``pyarrow.array(x)`` for x = a Mojo ``GridF64``, a
    ``Producer((n,), "d")`` and ``np.zeros(n)`` of each size (name -> bytes), the three of one
    operation interleaved (``repeat``, ``min_time``, ``budget``: see ``timing.interleaved``).
    Asserts that every call is zero-copy and that every export was released.

    Returns:
        Per size and operation: the ndarray row (no baseline), then the Producer and the Mojo rows
        with the ndarray row as baseline.
    """
    import pyarrow as pa

    from bufferable.testing import Producer

    b = _load_mojo()
    ops = {"np.from_dlpack": np.from_dlpack, "pyarrow.array": pa.array}
    rows: list[Row] = []
    for label, nbytes in (sizes or SIZES).items():
        n = nbytes // 8
        mojo_obj = b.GridF64((n,))
        producer = Producer((n,), "d")
        ndarray = np.zeros(n)
        _check_zero_copy(mojo_obj, mojo_obj.address(), pa)
        _check_zero_copy(producer, producer.address, pa)
        _check_zero_copy(ndarray, ndarray.__array_interface__["data"][0], pa)
        for op, fn in ops.items():
            t_mojo, t_producer, t_ndarray = timing.interleaved(
                [lambda: fn(mojo_obj), lambda: fn(producer), lambda: fn(ndarray)],
                repeat=repeat, min_time=min_time, budget=budget,
            )
            reference = f"{op}(ndarray)"
            rows += [
                Row(label, n * 8, reference, t_ndarray),
                Row(label, n * 8, f"{op}(Producer)", t_producer, reference, t_ndarray),
                Row(label, n * 8, f"{op}(Mojo)", t_mojo, reference, t_ndarray),
            ]
        gc.collect()
        live, acquired, released = mojo_obj.stats()
        assert live == 0 and acquired == released, mojo_obj.stats()
        assert producer.live_exports == 0 and producer.gets == producer.releases
        del mojo_obj, producer, ndarray
        gc.collect()
    return rows


def format_table(rows: list[Row]) -> str:
    """The rows as an aligned text table, with the worst ratio and the verdict."""
    lines = [f"{'size':>8}  {'path':<26} {'time':>9}  {'vs ndarray':>10}"]
    for r in rows:
        ratio = "" if r.ratio is None else f"{r.ratio:9.2f}x"
        lines.append(f"{r.size:>8}  {r.path:<26} {r.seconds * 1e9:7.0f}ns  {ratio:>10}")
    compared = [r for r in rows if r.ratio is not None]
    worst = max(compared, key=lambda r: r.ratio)
    verdict = "met" if worst.ratio <= TARGET else "NOT met"
    lines.append(f"worst: {worst.path} at {worst.size}, {worst.ratio:.2f}x the ndarray "
                 f"(target <= {TARGET}x): {verdict}")
    return "\n".join(lines)


def main(argv=None) -> int:
    """Command line entry point: measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args(argv)
    repeat, min_time = (7, 0.005) if args.quick else (25, 0.01)
    print(format_table(measure(repeat=repeat, min_time=min_time, budget=3.0)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
