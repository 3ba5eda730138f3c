"""DLPack and Arrow: np.from_dlpack(x) and pyarrow.array(x) on a Mojo Bufferable struct and on the
core's testing Producer, beside the same call on a numpy ndarray.

    python benchmarks/bench_interop.py [--quick]

The Mojo object is ``GridF64`` from tests/mojo/modules/bfinterop.mojo (a 1-D float64
``List`` exported through bufferable's slots; its ``__dlpack__`` and ``__arrow_c_array__`` are the
core's, installed by ``finalize_module``), built once (see mojo_modules.py). Run on its own it
measures the two ends of run.py's sweep.

All three are zero-copy at every size (asserted): the time is the export and the capsule, not
the bytes, so 1 KiB and 256 MiB should cost the same.
"""
from __future__ import annotations

import gc
import sys
from pathlib import Path

import numpy as np

import mojo_modules
import report
import timing

Row = report.Row
INTEROP = Path(__file__).resolve().parent.parent / "tests" / "mojo" / "modules" / "bfinterop.mojo"
NOTES = ["DLPack/Arrow: Mojo = GridF64 of tests/mojo/modules/bfinterop.mojo (1-D float64); "
         "Producer = bufferable.testing.Producer((n,), 'd'); ndarray = np.zeros(n)."]


def _check_zero_copy(obj, address: int, pa) -> None:
    a = np.from_dlpack(obj)
    assert a.__array_interface__["data"][0] == address, "np.from_dlpack copied"
    arr = pa.array(obj)
    assert arr.buffers()[1].address == address, "pyarrow.array copied"
    del a, arr


def measure(sizes: dict[str, int] = report.END_SIZES, rounds: report.Rounds = report.FULL) -> list[Row]:
    """Times ``np.from_dlpack(x)`` and ``pyarrow.array(x)`` for x = a Mojo ``GridF64``, a
    ``Producer((n,), "d")`` and ``np.zeros(n)`` of each size (label -> bytes), the three of one
    operation interleaved. Asserts that every call is zero-copy and that every export was released.

    Returns:
        Per size and operation: the ndarray row (no baseline), then the Producer and the Mojo rows
        with the ndarray row as baseline.
    """
    import pyarrow as pa

    from bufferable.testing import Producer

    b = mojo_modules.load(INTEROP)
    ops = {"np.from_dlpack": np.from_dlpack, "pyarrow.array": pa.array}
    rows: list[Row] = []
    for label, nbytes in sizes.items():
        n = nbytes // 8
        mojo_obj = b.GridF64((n,))
        producer = Producer((n,), "d")
        ndarray = np.zeros(n)
        _check_zero_copy(mojo_obj, mojo_obj.address(), pa)
        _check_zero_copy(producer, producer.address, pa)
        _check_zero_copy(ndarray, ndarray.__array_interface__["data"][0], pa)
        common = dict(section="DLPack/Arrow", size=label, nbytes=n * 8)
        for op, fn in ops.items():
            t_mojo, t_producer, t_ndarray = timing.interleaved(
                [lambda: fn(mojo_obj), lambda: fn(producer), lambda: fn(ndarray)], **rounds.kw())
            reference = f"{op}(ndarray)"
            rows += [
                Row(path=reference, seconds=t_ndarray, **common),
                Row(path=f"{op}(Producer)", seconds=t_producer, baseline=reference, baseline_seconds=t_ndarray,
                    target=report.INTEROP_VS_NDARRAY, **common),
                Row(path=f"{op}(Mojo)", seconds=t_mojo, baseline=reference, baseline_seconds=t_ndarray,
                    target=report.INTEROP_VS_NDARRAY, **common),
            ]
        gc.collect()
        live, acquired, released = mojo_obj.stats()
        assert live == 0 and acquired == released, mojo_obj.stats()
        assert producer.live_exports == 0 and producer.gets == producer.releases
        del mojo_obj, producer, ndarray
        gc.collect()
    return rows


def main(argv=None) -> int:
    """Command line entry point: ``[--quick]``, measure, print the table (see ``report.main``)."""
    return report.main(__doc__, lambda rounds: measure(rounds=rounds), NOTES, argv)


if __name__ == "__main__":
    sys.exit(main())
