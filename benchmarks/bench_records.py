"""Records: Mojo reading one field of numpy structured records in place, and the zero-copy hand-off
of a Mojo ``Records[Particle]`` to numpy.

    python benchmarks/bench_records.py [--quick]

Measures, in one run:
  1. the sum of the ``mass`` field over a numpy structured array of 10M 32-byte ``Particle``
     records (pos (4)f, mass d, id i, alive ?) in Mojo through a ``RecordView`` beside
     ``a['mass'].sum()`` in numpy, on the same array (single thread on both sides; both read one
     float64 of every 32 bytes);
  2. ``np.asarray(records)`` (a view of the Mojo ``Records[Particle]``, format derived by
     reflection) beside ``np.array(records)`` (a copy through the buffer protocol), from 1K to 10M
     records: the view stays flat, the copy grows with the records.

The Mojo side is tests/mojo/modules/bfrecords.mojo (``sum_mass``: unchecked ``RecordView``
references, four accumulators; ``Particles``: ``Records[Particle]`` with the buffer protocol).
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
#: The Mojo module: Records[Particle] and the RecordView readers.
BFRECORDS = Path(__file__).resolve().parent.parent / "tests" / "mojo" / "modules" / "bfrecords.mojo"
#: Records summed by the field-sum comparison.
SUM_RECORDS = 10_000_000
#: (label, records) of the hand-off comparison.
HAND_OFF = [("1K records", 1_000), ("100K records", 100_000), ("10M records", 10_000_000)]
NOTES = ["records: 32-byte Particle records; the sum reads one float64 field of each in place "
         "(RecordView vs a['mass'].sum()); the hand-off is np.asarray(Records) vs np.array(Records)."]


def measure_sum(rounds: report.Rounds) -> list[Row]:
    """Mojo's RecordView sum of ``mass`` vs numpy's, over the same 10M records (checked equal)."""
    m = mojo_modules.load(BFRECORDS)
    a = np.zeros(SUM_RECORDS, np.asarray(m.Particles(0)).dtype)  # numpy's own structured array
    a["mass"] = np.random.default_rng(0).random(SUM_RECORDS)
    expected = float(a["mass"].sum())
    assert abs(m.sum_mass(a) - expected) <= 1e-9 * abs(expected), "RecordView sum differs from numpy"
    t_mojo, t_numpy = timing.paired(lambda: m.sum_mass(a), lambda: a["mass"].sum(), **rounds.kw())
    del a
    gc.collect()
    return [Row(section="records", path="RecordView sum of one field (mass)", size="10M records",
                nbytes=SUM_RECORDS * 32, seconds=t_mojo, baseline="a['mass'].sum()",
                baseline_seconds=t_numpy, target=report.SUM_VS_NUMPY, kind="compute")]


def measure_hand_off(rounds: report.Rounds) -> list[Row]:
    """``np.asarray(records)`` vs ``np.array(records)`` at each size; checks the view is the records'
    memory and the copy is not."""
    m = mojo_modules.load(BFRECORDS)
    rows = []
    for label, count in HAND_OFF:
        records = m.Particles(count)
        view, copy = np.asarray(records), np.array(records)
        assert view.dtype == copy.dtype and view.dtype.itemsize == 32
        assert view.__array_interface__["data"][0] != copy.__array_interface__["data"][0]
        del view, copy
        t_view, t_copy = timing.paired(lambda: np.asarray(records), lambda: np.array(records), **rounds.kw())
        common = dict(section="records", size=label, nbytes=count * 32)
        rows += [
            Row(path="Records hand-off np.asarray(records)", seconds=t_view, **common),
            Row(path="Records hand-off, copy np.array(records)", seconds=t_copy,
                baseline="np.asarray(records)", baseline_seconds=t_view,
                target=report.COPY_VS_VIEW if count == HAND_OFF[-1][1] else None, kind="copy",
                **common),
        ]
        assert records.exports() == 0
        del records
        gc.collect()
    return rows


def measure(rounds: report.Rounds = report.FULL) -> list[Row]:
    """The field sum, then the hand-offs."""
    return measure_sum(rounds) + measure_hand_off(rounds)


def main(argv=None) -> int:
    """Command line entry point: ``[--quick]``, measure, print the table (see ``report.main``)."""
    return report.main(__doc__, measure, NOTES, argv)


if __name__ == "__main__":
    sys.exit(main())
