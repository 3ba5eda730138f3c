"""What every benchmark in this directory shares: the sizes, the targets, how long to measure, one
result row, the printed table, and the command line of a bench_*.py run on its own.

``run.py`` measures every section into :class:`Row` objects and prints them with
:func:`format_table` and :func:`headline`; each ``bench_*.py`` returns the same rows for its own
section, so run standalone it prints the same table for that section alone.
"""
from __future__ import annotations

import argparse
import dataclasses
from typing import Callable, Sequence

import timing

KIB, MIB = 1 << 10, 1 << 20
#: Sizes of every size sweep of run.py: label -> bytes.
SIZES = {"1 KiB": KIB, "64 KiB": 64 * KIB, "1 MiB": MIB, "16 MiB": 16 * MIB, "256 MiB": 256 * MIB}
#: The two ends of the sweep, for a bench_*.py run on its own.
END_SIZES = {"1 KiB": KIB, "256 MiB": 256 * MIB}

# Targets, as "<= x" or ">= x" of a ratio time / baseline time, named by what they compare.
PRODUCER_VS_NDARRAY = "<= 1.15"
"""``memoryview``/``np.asarray`` of the core's testing Producer vs the same on an ndarray."""
MOJO_VS_PRODUCER = "<= 1.2"
"""The same on a Mojo Bufferable struct vs on the Producer (the Mojo slots' own cost)."""
MOJO_VS_NDARRAY = "<= 1.5"
"""The same on a Mojo Bufferable struct vs on an ndarray."""
INTEROP_VS_NDARRAY = "<= 1.3"
"""``np.from_dlpack``/``pyarrow.array`` of a bufferable export vs of an ndarray."""
TABLE_VS_NUMPY_DICT = "<= 1.0"
"""``pa.table``/``pl.DataFrame`` of a Mojo table struct vs of a dict of numpy columns."""
SUM_VS_NUMPY = "<= 1.0"
"""A Mojo sum through a MemoryView vs ``np.sum`` of the same array."""
ACQUIRE_VS_STDLIB = "<= 1.5"
"""Acquiring a MemoryView vs the Mojo standard library's ``from_numpy_tensor``."""
COPY_VS_VIEW = ">= 1000"
"""The demo image handed to numpy by a per-channel copy loop vs as a view."""
VS_BEST_PEER = "<= 1.0"
#: A DLPack C exchange API call against the same acquisition through a Python-level __dlpack__.
EXCHANGE_VS_DLPACK = "<= 0.5"
"""bufferable vs the fastest of Cython, nanobind and pybind11 (or numpy's own) doing the same job."""


@dataclasses.dataclass
class Rounds:
    """How long each comparison is measured (see ``timing.interleaved``)."""

    repeat: int
    """Most rounds per comparison."""
    min_time: float
    """Shortest timed loop, in seconds: long enough to swamp the timer's resolution, short enough to
    fit between the scheduler's interruptions on a loaded machine."""
    span: float
    """Seconds over which the rounds of a comparison are spread at least (more rounds than
    ``repeat`` if need be), so that one burst of load cannot disturb every round."""
    budget: float
    """Seconds after which a comparison starts no new round (a 256 MiB copy gets a few)."""

    def kw(self) -> dict:
        """The keyword arguments of ``timing.interleaved``."""
        return dict(repeat=self.repeat, min_time=self.min_time, span=self.span, budget=self.budget)


FULL = Rounds(repeat=31, min_time=0.0003, span=0.6, budget=1.5)
QUICK = Rounds(repeat=11, min_time=0.0003, span=0.25, budget=0.5)


@dataclasses.dataclass
class Row:
    """One measured path at one size, with the baseline it is compared with (measured in the same
    interleaved rounds); ``ratio`` is ``seconds / baseline_seconds``."""

    section: str
    path: str
    size: str
    nbytes: int
    seconds: float
    baseline: str | None = None
    baseline_seconds: float | None = None
    target: str | None = None
    """"<= 1.2", ">= 1000", or None for an informative row."""
    kind: str = "zero-copy"
    """"zero-copy", "copy", "compute" (plotted solid, dashed, dotted) or "peer" (a peer's own time)."""
    peers: dict[str, float] | None = None
    """Every peer's time for the same job, by path, when the baseline is the best of them."""

    @property
    def ratio(self) -> float | None:
        """The ratio to the baseline (see the class docstring), or None without a baseline."""
        if self.baseline_seconds is None:
            return None
        return self.seconds / self.baseline_seconds

    @property
    def passed(self) -> bool | None:
        """Whether the ratio meets the target (None without a target)."""
        if self.target is None or self.ratio is None:
            return None
        op, value = self.target.split()
        return self.ratio <= float(value) if op == "<=" else self.ratio >= float(value)

    def as_dict(self) -> dict:
        """The row as JSON-ready values (times in seconds)."""
        d = dataclasses.asdict(self)
        d["ratio"] = self.ratio
        d["passed"] = self.passed
        return d


def format_ratio(ratio: float | None) -> str:
    """``1.23x``, ``2164x`` for large ratios, "" for none."""
    if ratio is None:
        return ""
    return f"{ratio:.0f}x" if ratio >= 100 else f"{ratio:.2f}x"


def format_table(rows: list[Row], notes: Sequence[str] = ()) -> str:
    """The rows as one aligned text table, grouped by section, followed by the notes."""
    header = ("section", "path", "size", "time", "baseline", "base time", "ratio", "target", "")
    body = []
    for r in rows:
        verdict = {None: "", True: "pass", False: "FAIL"}[r.passed]
        body.append((r.section, ("  " if r.kind == "peer" else "") + r.path, r.size,
                     timing.format_seconds(r.seconds), r.baseline or "",
                     "" if r.baseline_seconds is None else timing.format_seconds(r.baseline_seconds),
                     format_ratio(r.ratio), r.target or "", verdict))
    widths = [max(len(line[i]) for line in [header] + body) for i in range(len(header))]
    right = {3, 5, 6}

    def fmt(cells):
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    lines = [fmt(header), fmt(["-" * w for w in widths])]
    previous = None
    for r, cells in zip(rows, body):
        if previous is not None and r.section != previous:
            lines.append("")
        previous = r.section
        lines.append(fmt(cells))
    if notes:
        lines.append("")
        lines += [f"note: {n}" for n in notes]
    return "\n".join(lines)


def headline(rows: list[Row]) -> list[str]:
    """One line per target: the worst ratio over every size, and whether every row passes."""
    groups: dict[tuple[str, str], list[Row]] = {}
    for r in rows:
        if r.target is not None:
            groups.setdefault((r.path, r.target), []).append(r)
    lines = []
    for (path, target), rs in groups.items():
        worst = (min if target.startswith(">=") else max)(r.ratio for r in rs)
        ok = all(r.passed for r in rs)
        baselines = " / ".join(dict.fromkeys(r.baseline or "" for r in rs))
        lines.append(f"{'pass' if ok else 'FAIL'}  {path} vs {baselines}: worst {worst:.2f}x (target {target}, "
                     f"{len(rs)} size{'s' if len(rs) > 1 else ''})")
    return lines


def print_report(rows: list[Row], notes: Sequence[str] = ()) -> int:
    """Prints the table and the headline; returns 0 if every target is met, else 1 (the exit
    status of a bench_*.py run on its own)."""
    print(format_table(rows, notes))
    print()
    print("headline (worst ratio over every size):")
    for line in headline(rows):
        print("  " + line)
    return 0 if all(r.passed is not False for r in rows) else 1


def main(doc: str, measure: Callable[[Rounds], list[Row]], notes: Sequence[str] = (), argv=None) -> int:
    """The command line of a ``bench_*.py`` run on its own: ``[--quick]`` (:data:`QUICK` rounds
    instead of :data:`FULL`), ``measure(rounds)``, then :func:`print_report`.

    Args:
        doc: The module's docstring (its first line describes the command).
        measure: Measures the module's section with the given rounds.
        notes: Printed under the table.
        argv: The arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit status: 0 if every target is met, else 1.
    """
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds per measurement (noisier)")
    args = parser.parse_args(argv)
    return print_report(measure(QUICK if args.quick else FULL), notes)
