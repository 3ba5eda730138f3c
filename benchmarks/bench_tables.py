"""Tables: pa.table(x) and pl.DataFrame(x) on a Mojo table struct (add_table_protocol), beside the
same calls on a dict of numpy columns holding the same data.

    python benchmarks/bench_tables.py [--quick]

The Mojo object is ``Prices`` from tests/mojo/modules/tables/bftables.mojo (three columns: id
int64, price float64, qty int32; 20 bytes per row), built once (see mojo_modules.py). A size is
the bytes of all three columns. The Mojo rows are zero-copy at every size (asserted: every column's
address), so 1 KiB and 256 MiB should cost the same. Run on its own it measures the two ends of
run.py's sweep.
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
TABLES = Path(__file__).resolve().parent.parent / "tests" / "mojo" / "modules" / "tables" / "bftables.mojo"
SECTION = "Tables"
ROW_BYTES = 8 + 8 + 4
NOTES = ["Tables: Mojo = Prices of tests/mojo/modules/tables/bftables.mojo (id int64, price float64, "
         "qty int32); dict = {'id': ..., 'price': ..., 'qty': ...} of numpy arrays of the same rows."]


def _check_zero_copy(obj, pa, pl) -> None:
    table = pa.table(obj)
    df = pl.DataFrame(obj)
    for name in ("id", "price", "qty"):
        address = obj.address(name)
        assert table.column(name).chunk(0).buffers()[1].address == address, "pa.table copied"
        assert df[name].to_numpy().ctypes.data == address, "pl.DataFrame copied"
    del table, df


def measure(sizes: dict[str, int] = report.END_SIZES, rounds: report.Rounds = report.FULL) -> list[Row]:
    """Times ``pa.table(x)`` and ``pl.DataFrame(x)`` for x = a Mojo ``Prices`` table and a dict of
    numpy columns of each size (label -> bytes of the three columns), the two of one operation
    interleaved. Asserts that the Mojo calls are zero-copy and that every lock was released.

    Returns:
        Per size and operation: the dict row (no baseline), then the Mojo row with the dict row as
        baseline.
    """
    import polars as pl
    import pyarrow as pa

    m = mojo_modules.load(TABLES)
    ops = {"pa.table": pa.table, "pl.DataFrame": pl.DataFrame}
    rows: list[Row] = []
    for label, nbytes in sizes.items():
        n = max(nbytes // ROW_BYTES, 1)
        mojo_table = m.Prices(n)
        columns = {"id": np.arange(n, dtype=np.int64), "price": np.arange(n) * 0.5,
                   "qty": (np.arange(n) % 7).astype(np.int32)}
        _check_zero_copy(mojo_table, pa, pl)
        common = dict(section=SECTION, size=label, nbytes=n * ROW_BYTES)
        for op, fn in ops.items():
            t_mojo, t_dict = timing.interleaved(
                [lambda: fn(mojo_table), lambda: fn(columns)], **rounds.kw())
            reference = f"{op}(dict of numpy)"
            rows += [
                Row(path=reference, seconds=t_dict, **common),
                Row(path=f"{op}(Mojo table)", seconds=t_mojo, baseline=reference,
                    baseline_seconds=t_dict, target=report.TABLE_VS_NUMPY_DICT, **common),
            ]
        gc.collect()
        live, acquired, released = mojo_table.stats()
        assert live == 0 and acquired == released, mojo_table.stats()
        del mojo_table, columns
        gc.collect()
    return rows


def main(argv=None) -> int:
    """Command line entry point: ``[--quick]``, measure, print the table (see ``report.main``)."""
    return report.main(__doc__, lambda rounds: measure(rounds=rounds), NOTES, argv)


if __name__ == "__main__":
    sys.exit(main())
