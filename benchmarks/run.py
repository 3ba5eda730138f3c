"""Every comparison of bufferable's issues in one process: a table, a JSON file and a log-log plot.

    python benchmarks/run.py [--out DIR] [--quick]

Measured in one run and one process, over sizes from 1 KiB to 256 MiB (ratios are only ever
taken between numbers measured in the same run, timed in interleaved rounds, best round wins: see timing.py):

- export (issues 2 and 3): ``memoryview(x)`` and ``np.asarray(x)`` on the core's testing
  ``Producer``, on a Mojo ``Bufferable`` struct (``Float64`` of tests/mojo/modules/bftest.mojo)
  and on an ndarray (bench_mojo_export.py);
- copies, so the plot shows what zero-copy avoids: ``np.copy(ndarray)`` and ``np.array(obj)`` (a
  copy of the Mojo object, through the buffer protocol) next to ``np.asarray(obj)`` (a view);
- DLPack and Arrow (issue 6): ``np.from_dlpack(obj)`` and ``pyarrow.array(obj)`` on the Producer
  and the Mojo struct vs the same on an ndarray (bench_interop.py);
- MemoryView (issue 4): sums in Mojo through a ``MemoryView`` vs ``np.sum``, contiguous and
  ``a[::2]``; acquiring a view vs the standard library's ``from_numpy_tensor``
  (bench_memory_view.py);
- the demo (issue 5): handing a 1024x768 Mojo image to numpy without a copy vs with one.

Writes ``DIR/bench.json`` (every row, plus the machine and versions) and ``DIR/bench.png`` (cost
per call vs size, log-log: zero-copy paths stay flat, copies rise); DIR defaults to
``bench-results``. Mojo modules are compiled once into the user's cache (``mojo_modules.py``;
the demo's own cache for the ray tracer); a fresh cache adds the build time, reported apart.
``--quick`` takes fewer rounds per measurement (noisier, about half the time).
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import gc
import json
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402

import bench_interop  # noqa: E402
import bench_memory_view  # noqa: E402
import bench_mojo_export  # noqa: E402
import mojo_modules  # noqa: E402
import timing  # noqa: E402

KIB, MIB = 1 << 10, 1 << 20
#: Sizes of every size sweep: label -> bytes.
SIZES = {"1 KiB": KIB, "64 KiB": 64 * KIB, "1 MiB": MIB, "16 MiB": 16 * MIB, "256 MiB": 256 * MIB}
#: The demo's image (issue 5), and a larger one to show the copy growing.
DEMO_IMAGES = [(1024, 768), (2048, 1536)]

# Targets of the issues: (maximum ratio, or minimum for "at least", and the issue).
TARGET_PRODUCER_VS_NDARRAY = 1.15  # issue 2
TARGET_MOJO_VS_PRODUCER = 1.2  # issue 3
TARGET_MOJO_VS_NDARRAY = 1.5  # issue 3
TARGET_SUM = 1.0  # issue 4: at least as fast as np.sum
TARGET_ACQUIRE = 1.5  # issue 4
TARGET_HAND_OFF = 1000.0  # issue 5: copy / zero-copy >= 1000 at 1024x768
TARGET_INTEROP = 1.3  # issue 6


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
    """"zero-copy", "copy" or "compute" (plotted solid, dashed, dotted)."""

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


@dataclasses.dataclass
class Rounds:
    """How long each comparison is measured (see ``timing.interleaved``)."""

    repeat: int
    """Most rounds per comparison."""
    min_time: float
    """Shortest timed loop, in seconds (short loops fit between the scheduler's interruptions)."""
    budget: float
    """Seconds after which a comparison starts no new round (a 256 MiB copy gets a few)."""

    def kw(self) -> dict:
        """The keyword arguments of ``timing.interleaved``."""
        return dict(repeat=self.repeat, min_time=self.min_time, budget=self.budget)


FULL = Rounds(repeat=31, min_time=0.002, budget=1.5)
QUICK = Rounds(repeat=11, min_time=0.002, budget=0.5)


def _release_memory() -> None:
    gc.collect()


# ===-----------------------------------------------------------------------===#
# Sections
# ===-----------------------------------------------------------------------===#


def export_rows(sizes: dict[str, int], rounds: Rounds) -> list[Row]:
    """Issues 2 and 3: memoryview / np.asarray on the Producer, the Mojo struct and an ndarray."""
    rows = []
    for r in bench_mojo_export.measure(sizes, **rounds.kw()):
        op = r.operation  # "memoryview(x)" or "np.asarray(x)"
        ref = "memoryview(ndarray)" if op.startswith("memoryview") else "np.asarray(memoryview(ndarray))"
        on = lambda what: op.replace("(x)", f"({what})")  # noqa: E731
        common = dict(section="export", size=r.size, nbytes=r.nbytes)
        rows += [
            Row(path=on("ndarray") if op.startswith("memoryview") else ref, seconds=r.ndarray, **common),
            Row(path=on("Producer"), seconds=r.producer, baseline=ref, baseline_seconds=r.ndarray,
                target=f"<= {TARGET_PRODUCER_VS_NDARRAY}", **common),
            Row(path=on("Mojo"), seconds=r.mojo, baseline=on("Producer"), baseline_seconds=r.producer,
                target=f"<= {TARGET_MOJO_VS_PRODUCER}", **common),
            Row(path=on("Mojo"), seconds=r.mojo, baseline=ref, baseline_seconds=r.ndarray,
                target=f"<= {TARGET_MOJO_VS_NDARRAY}", **common),
        ]
        if r.floor is not None:
            rows.append(Row(path="np.asarray(ndarray) (no export)", seconds=r.floor, **common))
    return rows


def copy_rows(sizes: dict[str, int], rounds: Rounds) -> list[Row]:
    """What zero-copy avoids: copying the same bytes, beside the view of them."""
    bftest = mojo_modules.load(mojo_modules.BFTEST)
    rows = []
    for label, nbytes in sizes.items():
        n = nbytes // 8
        ndarray = np.ones(n)
        mojo_obj = bftest.Float64(n)
        assert np.array(mojo_obj).sum() == n * (n - 1) / 2  # a real copy of the Mojo memory
        t_view, t_copy, t_np_copy, t_nd_view = timing.interleaved(
            [lambda: np.asarray(mojo_obj), lambda: np.array(mojo_obj), lambda: np.copy(ndarray),
             lambda: np.asarray(memoryview(ndarray))],
            **rounds.kw(),
        )
        common = dict(section="copy", size=label, nbytes=n * 8, kind="copy")
        rows += [
            Row(path="np.array(Mojo) (copy)", seconds=t_copy, baseline="np.asarray(Mojo)",
                baseline_seconds=t_view, **common),
            Row(path="np.copy(ndarray)", seconds=t_np_copy, baseline="np.asarray(memoryview(ndarray))",
                baseline_seconds=t_nd_view, **common),
        ]
        del ndarray, mojo_obj
        _release_memory()
    return rows


def interop_rows(sizes: dict[str, int], rounds: Rounds) -> list[Row]:
    """Issue 6: np.from_dlpack / pyarrow.array on the Producer and the Mojo struct vs an ndarray."""
    return [Row(section="DLPack/Arrow", path=r.path, size=r.size, nbytes=r.nbytes,
                seconds=r.seconds, baseline=r.baseline, baseline_seconds=r.baseline_seconds,
                target=None if r.baseline is None else f"<= {TARGET_INTEROP}")
            for r in bench_interop.measure(sizes, **rounds.kw())]


def memory_view_rows(sizes: dict[str, int], rounds: Rounds) -> list[Row]:
    """Issue 4: Mojo sums through a MemoryView vs np.sum; acquisition vs from_numpy_tensor."""
    rows = []
    label_of = {v: k for k, v in sizes.items()}
    names = {"contiguous": "Mojo sum, contiguous", "contiguous (C layout)": "Mojo sum, contiguous (C layout)",
             "a[::2]": "Mojo sum, a[::2]"}
    baselines = {"contiguous": "np.sum(a)", "contiguous (C layout)": "np.sum(a)", "a[::2]": "np.sum(a[::2])"}
    for r in bench_memory_view.measure_sums(sizes, **rounds.kw()):
        rows.append(Row(section="MemoryView", path=names[r.label], size=label_of[r.nbytes], nbytes=r.nbytes,
                        seconds=r.mojo, baseline=baselines[r.label], baseline_seconds=r.numpy,
                        target=f"<= {TARGET_SUM}", kind="compute"))
        _release_memory()
    for label, nbytes in sizes.items():
        acq = bench_memory_view.measure_acquire(nbytes, repeat=rounds.repeat, number=5_000, budget=rounds.budget)
        common = dict(section="MemoryView", size=label, nbytes=nbytes)
        rows += [
            Row(path="MemoryView acquisition (from Python)", seconds=acq.view_from_python,
                baseline="from_numpy_tensor (from Python)", baseline_seconds=acq.stdlib_from_python,
                target=f"<= {TARGET_ACQUIRE}", **common),
            Row(path="MemoryView acquisition (Mojo loop)", seconds=acq.view_in_mojo,
                baseline="from_numpy_tensor (Mojo loop)", baseline_seconds=acq.stdlib_in_mojo,
                target=f"<= {TARGET_ACQUIRE}", **common),
        ]
        _release_memory()
    return rows


def demo_rows(rounds: Rounds) -> list[Row]:
    """Issue 5: the ray tracer's image handed to numpy as a view vs as a copy."""
    from bufferable.demo.raytrace import blank_image

    rows = []
    for width, height in DEMO_IMAGES:
        image = blank_image(width, height, progress=None)
        view = np.asarray(image)
        assert view.shape == (height, width, 3)
        assert view.__array_interface__["data"][0] == image.data_address(), "the hand-off copied"
        del view
        t_view, t_copy = timing.paired(lambda: np.asarray(image), image.to_numpy_copy, **rounds.kw())
        nbytes = width * height * 3 * 4
        target = f">= {TARGET_HAND_OFF:.0f}" if (width, height) == (1024, 768) else None
        common = dict(section="demo", size=f"{width}x{height}", nbytes=nbytes)
        rows += [
            Row(path="demo hand-off np.asarray(image)", seconds=t_view, **common),
            Row(path="demo hand-off copy (to_numpy_copy)", seconds=t_copy, baseline="np.asarray(image)",
                baseline_seconds=t_view, target=target, kind="copy", **common),
        ]
        del image
    return rows


# ===-----------------------------------------------------------------------===#
# Output
# ===-----------------------------------------------------------------------===#

NOTES = [
    "time: best interleaved round, per call. ratio: time / baseline time, both measured in this run, "
    "in the same interleaved rounds (copy rows: how many times the copy costs more than the view).",
    "np.asarray baseline: np.asarray(memoryview(ndarray)), numpy consuming an ndarray's buffer export; "
    "np.asarray(ndarray) returns its argument without any export (a floor no exporter can reach) and is "
    "listed for information.",
    "Mojo = Float64 of tests/mojo/modules/bftest.mojo (1-D float64, List storage; GridF64 of "
    "tests/mojo/modules/interop/bfinterop.mojo for DLPack/Arrow); Producer = "
    "bufferable.testing.Producer((n,), 'd'); ndarray = np.zeros(n).",
    "copy rows compare a copy with the view of the same bytes: zero-copy stays flat, the copy grows with size.",
    "MemoryView sums: float32, single thread on both sides; 'C layout' is a MemoryView declared C-contiguous.",
]


def format_table(rows: list[Row]) -> str:
    """The rows as one aligned text table, grouped by section, followed by the notes."""
    header = ("section", "path", "size", "time", "baseline", "base time", "ratio", "target", "")
    body = []
    for r in rows:
        ratio = "" if r.ratio is None else (f"{r.ratio:.0f}x" if r.ratio >= 100 else f"{r.ratio:.2f}x")
        verdict = {None: "", True: "pass", False: "FAIL"}[r.passed]
        body.append((r.section, r.path, r.size, timing.format_seconds(r.seconds), r.baseline or "",
                     "" if r.baseline_seconds is None else timing.format_seconds(r.baseline_seconds),
                     ratio, r.target or "", verdict))
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
    lines.append("")
    lines += [f"note: {n}" for n in NOTES]
    return "\n".join(lines)


def headline(rows: list[Row]) -> list[str]:
    """One line per target: the worst ratio over every size, and whether every row passes."""
    groups: dict[tuple[str, str, str], list[Row]] = {}
    for r in rows:
        if r.target is not None:
            groups.setdefault((r.path, r.baseline or "", r.target), []).append(r)
    lines = []
    for (path, baseline, target), rs in groups.items():
        worst = (min if target.startswith(">=") else max)(r.ratio for r in rs)
        ok = all(r.passed for r in rs)
        lines.append(f"{'pass' if ok else 'FAIL'}  {path} vs {baseline}: worst {worst:.2f}x (target {target}, "
                     f"{len(rs)} size{'s' if len(rs) > 1 else ''})")
    return lines


def draw(rows: list[Row], path: Path) -> None:
    """Log-log plot of time per call vs bytes, in two panels: Python taking memory (exports, DLPack,
    Arrow, copies, the demo) and Mojo reading numpy memory (MemoryView acquisitions and sums).
    Zero-copy paths are solid, copies dashed, computations that read every byte dotted."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels: list[dict[str, dict[int, tuple[str, float]]]] = [{}, {}]

    def add(panel: int, name: str, kind: str, nbytes: int, seconds: float) -> None:
        panels[panel].setdefault(name, {}).setdefault(nbytes, (kind, seconds))

    for r in rows:
        panel = 1 if r.section == "MemoryView" else 0
        add(panel, r.path, r.kind, r.nbytes, r.seconds)
        if panel == 1 and r.baseline is not None:  # np.sum and from_numpy_tensor beside Mojo's
            add(panel, r.baseline, r.kind, r.nbytes, r.baseline_seconds)
    styles = {"zero-copy": "-", "copy": "--", "compute": ":"}
    titles = ["Python viewing Mojo/C memory: views stay flat, copies grow",
              "Mojo reading numpy memory (MemoryView)"]
    ticks = sorted({r.nbytes for r in rows if r.section == "export"})
    labels = [next(r.size for r in rows if r.nbytes == t and r.section == "export") for t in ticks]
    fig, axes = plt.subplots(1, 2, figsize=(15, 6.5))
    for ax, series, title in zip(axes, panels, titles):
        colors = plt.get_cmap("tab20").colors
        for i, (name, points) in enumerate(series.items()):
            if len(points) < 2:
                continue
            xs = sorted(points)
            kind = points[xs[0]][0]
            ax.plot(xs, [points[x][1] for x in xs], styles[kind], marker="o", markersize=3, label=name,
                    linewidth=1.4, color=colors[(2 * i) % 20 if i < 10 else (2 * i + 1) % 20])
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(ticks, labels)
        ax.set_xlabel("buffer size")
        ax.set_ylabel("time per call (s)")
        ax.set_title(title, fontsize=11)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7, loc="upper left")
    fig.suptitle("bufferable: cost per call vs buffer size (log-log; solid = zero-copy, dashed = copy, "
                 "dotted = reads every byte)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def versions() -> dict:
    """Versions and machine facts recorded with the results."""
    import bufferable

    info = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "bufferable": getattr(bufferable, "__version__", None),
        "machine": platform.machine(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }
    try:
        from bufferable.build import MOJO_VERSION

        info["mojo"] = MOJO_VERSION
    except ImportError:
        pass
    try:
        import pyarrow

        info["pyarrow"] = pyarrow.__version__
    except ImportError:
        pass
    return info


def main(argv=None) -> int:
    """Command line entry point: build, measure every section, print, write JSON and PNG."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench-results"), help="output directory (default bench-results)")
    parser.add_argument("--quick", action="store_true", help="fewer rounds per measurement (noisier)")
    args = parser.parse_args(argv)
    rounds = QUICK if args.quick else FULL
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    # 1. Build what is not cached (overlapping the compilers), and time it apart.
    print("building Mojo modules (cached after the first run)...", file=sys.stderr, flush=True)
    build_started = time.perf_counter()
    from bufferable.demo.build import build_extension, load_extension

    import concurrent.futures

    def build_demo() -> None:
        from bufferable.demo.build import cache_dir

        before = set(cache_dir().glob("*")) if cache_dir().is_dir() else set()
        t0 = time.perf_counter()
        path = build_extension(None)
        if path not in before:
            mojo_modules.BUILD_SECONDS["demo ray tracer"] = time.perf_counter() - t0

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        demo_build = pool.submit(build_demo)
        mojo_modules.build_all([mojo_modules.BFTEST, mojo_modules.MEMORY_VIEW, bench_interop.INTEROP], jobs=1)
        demo_build.result()
    load_extension(None)
    build_seconds = time.perf_counter() - build_started

    # 2. Measure.
    sections = [
        ("export", lambda: export_rows(SIZES, rounds)),
        ("copy", lambda: copy_rows(SIZES, rounds)),
        ("DLPack/Arrow", lambda: interop_rows(SIZES, rounds)),
        ("MemoryView", lambda: memory_view_rows(SIZES, rounds)),
        ("demo", lambda: demo_rows(rounds)),
    ]
    rows: list[Row] = []
    section_seconds = {}
    for name, run in sections:
        print(f"measuring: {name}...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        rows += run()
        section_seconds[name] = time.perf_counter() - t0
        _release_memory()
    total = time.perf_counter() - started

    # 3. Report.
    print(format_table(rows))
    print()
    print("headline (worst ratio over every size):")
    for line in headline(rows):
        print("  " + line)
    failed = [r for r in rows if r.passed is False]
    built = ", ".join(f"{k} {v:.0f} s" for k, v in mojo_modules.BUILD_SECONDS.items()) or "all cached"
    print()
    print(f"{len(rows)} rows, {sum(r.passed is True for r in rows)} targets met, {len(failed)} missed; "
          f"total {total:.0f} s (builds {build_seconds:.0f} s: {built}; measuring "
          f"{total - build_seconds:.0f} s)")

    result = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "quick": args.quick,
        "rounds": dataclasses.asdict(rounds),
        "versions": versions(),
        "seconds": {"total": total, "builds": build_seconds, "sections": section_seconds,
                    "module_builds": dict(mojo_modules.BUILD_SECONDS)},
        "sizes": SIZES,
        "notes": NOTES,
        "rows": [r.as_dict() for r in rows],
    }
    (args.out / "bench.json").write_text(json.dumps(result, indent=1))
    draw(rows, args.out / "bench.png")
    print(f"wrote {args.out / 'bench.json'} and {args.out / 'bench.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
