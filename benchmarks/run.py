"""Every comparison of bufferable in one process: a table, a JSON file and a plot.

    python benchmarks/run.py [--out DIR] [--quick]

Measured in one run and one process, over sizes from 1 KiB to 256 MiB (ratios are only ever
taken between numbers measured in the same run, timed in interleaved rounds, best round wins: see timing.py):

- export: ``memoryview(x)`` and ``np.asarray(x)`` on the core's testing ``Producer``, on a Mojo
  ``Bufferable`` struct (``Float64`` of tests/mojo/modules/bftest.mojo) and on an ndarray
  (bench_mojo_export.py);
- copies, so the plot shows what zero-copy avoids: ``np.copy(ndarray)`` and ``np.array(obj)`` (a
  copy of the Mojo object, through the buffer protocol) next to ``np.asarray(obj)`` (a view);
- DLPack and Arrow: ``np.from_dlpack(obj)`` and ``pyarrow.array(obj)`` on the Producer and the
  Mojo struct vs the same on an ndarray (bench_interop.py);
- MemoryView: sums in Mojo through a ``MemoryView`` vs ``np.sum``, contiguous and ``a[::2]``;
  acquiring a view vs the standard library's ``from_numpy_tensor`` (bench_memory_view.py);
- the demo: handing a 1024x768 Mojo image to numpy as a view vs through a per-channel copy loop;
- records: a field summed in Mojo through a ``RecordView`` vs numpy over 10M structured records,
  and ``np.asarray`` vs ``np.array`` of a Mojo ``Records[Particle]`` (bench_records.py);
- tables: ``pa.table(x)`` and ``pl.DataFrame(x)`` on a Mojo table struct vs on a dict of numpy
  columns (bench_tables.py);
- vs peers: the README's ``Grid`` (and a Grid that stores its own byte strides) and 2-D float64
  ``MemoryView`` acquisitions and sums beside the same jobs done by Cython, nanobind and pybind11
  (and numpy's own DLPack export), each row with the ratio to the fastest peer (bench_peers.py;
  the peers are built by peer_modules.py);
- calls: a no-op with one and three arguments and the README's ``total(a)`` on 8 KiB, bound every
  way (typed ``bind_function``, ``py_function``, ``py_method``, Mojo's own ``def_function``) beside
  a Cython ``def``, a nanobind ``m.def`` and a pybind11 ``m.def`` (bench_calls.py);
- engines: the README's ``Grid`` through ``ray.put``/``ray.get`` (out of band, and in band for
  scale) and Dask's ``scatter`` vs a numpy array of the same size, and the demo rendered by Ray
  tasks vs the threaded demo (bench_engines.py; Ray and Dask run on this machine only).

Writes ``DIR/bench.json`` (every row, plus the machine, versions and the peers' compiler flags)
and ``DIR/bench.png`` (cost per call vs size, log-log: zero-copy paths stay flat, copies rise;
and the ratio of every peer comparison); DIR defaults to ``bench-results``. Mojo modules and
peers are compiled once into the user's cache (``mojo_modules.py``, ``peer_modules.py``; the
demo's own cache for the ray tracer); a fresh cache adds the build time, reported apart.
``--quick`` takes fewer rounds per measurement (noisier, about half the time).
"""
from __future__ import annotations

import argparse
import concurrent.futures
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

import bench_calls  # noqa: E402
import bench_demo  # noqa: E402
import bench_engines  # noqa: E402
import bench_interop  # noqa: E402
import bench_memory_view  # noqa: E402
import bench_mojo_export  # noqa: E402
import bench_peers  # noqa: E402
import bench_records  # noqa: E402
import bench_tables  # noqa: E402
import mojo_modules  # noqa: E402
import peer_modules  # noqa: E402
import report  # noqa: E402
import timing  # noqa: E402

Row = report.Row


NOTES = [
    "time: best interleaved round, per call. ratio: time / baseline time, both measured in this run, "
    "in the same interleaved rounds (copy rows: how many times the copy costs more than the view).",
    *bench_mojo_export.NOTES,
    *bench_interop.NOTES,
    *bench_memory_view.NOTES,
    *bench_demo.NOTES,
    *bench_peers.NOTES,
    *bench_calls.NOTES,
    *bench_records.NOTES,
    *bench_tables.NOTES,
    *bench_engines.NOTES,
]


def _draw_peers(ax, rows: list[Row]) -> None:
    """Horizontal bars: every bufferable row of the peer comparisons as its ratio to the fastest
    peer (log scale; 1 = level, left of it = ahead), labelled with both times."""
    ours = [r for r in rows if r.section in (bench_peers.SECTION, bench_calls.SECTION) and r.kind != "peer"
            and r.baseline is not None]
    names = [f"{r.path}, {r.size}" for r in ours]
    ratios = [r.ratio for r in ours]
    ys = range(len(ours))
    colors = [{True: "tab:green", False: "tab:red", None: "tab:gray"}[r.passed] for r in ours]
    ax.barh(list(ys), [x - 1 for x in ratios], left=1, color=colors, height=0.7)
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_xscale("log")
    ax.set_yticks(list(ys), names, fontsize=7)
    ax.invert_yaxis()
    for y, r in zip(ys, ours):
        ax.text(max(r.ratio, 1.0) * 1.02, y, f"{timing.format_seconds(r.seconds)} vs "
                f"{timing.format_seconds(r.baseline_seconds)} ({r.baseline})", va="center", fontsize=6)
    lo, hi = min(ratios + [1.0]), max(ratios + [1.0])
    ax.set_xlim(lo / 1.3, hi * 3)
    ax.set_xlabel("time / fastest peer's time (log; green = target met, red = missed, gray = no target)")
    ax.set_title("bufferable vs Cython, nanobind, pybind11 and numpy doing the same job (exports, views, calls)",
                 fontsize=11)
    ax.grid(True, axis="x", which="both", alpha=0.3)


def draw(rows: list[Row], path: Path) -> None:
    """The plot: two log-log panels of time per call vs bytes, Python taking memory (exports,
    DLPack, Arrow, copies, the demo) and Mojo reading numpy memory (MemoryView acquisitions and
    sums), where zero-copy paths are solid, copies dashed, computations that read every byte
    dotted; below them, every peer comparison as a ratio to the fastest peer."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels: list[dict[str, dict[int, tuple[str, float]]]] = [{}, {}]

    def add(panel: int, name: str, kind: str, nbytes: int, seconds: float) -> None:
        panels[panel].setdefault(name, {}).setdefault(nbytes, (kind, seconds))

    for r in rows:
        if r.section in (bench_peers.SECTION, bench_calls.SECTION, bench_engines.SECTION):  # not a size sweep
            continue
        panel = 1 if r.section == "MemoryView" else 0
        add(panel, r.path, r.kind, r.nbytes, r.seconds)
        if panel == 1 and r.baseline is not None:  # np.sum and from_numpy_tensor beside Mojo's
            add(panel, r.baseline, r.kind, r.nbytes, r.baseline_seconds)
    styles = {"zero-copy": "-", "copy": "--", "compute": ":"}
    titles = ["Python viewing Mojo/C memory: views stay flat, copies grow",
              "Mojo reading numpy memory (MemoryView)"]
    ticks = sorted({r.nbytes for r in rows if r.section == "export"})
    labels = [next(r.size for r in rows if r.nbytes == t and r.section == "export") for t in ticks]
    has_peers = any(r.section in (bench_peers.SECTION, bench_calls.SECTION) for r in rows)
    fig = plt.figure(figsize=(15, 15 if has_peers else 6.5))
    grid = fig.add_gridspec(2 if has_peers else 1, 2, height_ratios=[6.5, 8.5] if has_peers else None)
    axes = [fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])]
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
        if ticks:
            ax.set_xticks(ticks, labels)
        ax.set_xlabel("buffer size")
        ax.set_ylabel("time per call (s)")
        ax.set_title(title, fontsize=11)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7, loc="upper left")
    if has_peers:
        _draw_peers(fig.add_subplot(grid[1, :]), rows)
    fig.suptitle("bufferable: cost per call vs buffer size (log-log; solid = zero-copy, dashed = copy, "
                 "dotted = reads every byte), and against its peers", fontsize=11)
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
    import torch

    info["torch"] = torch.__version__
    info["peers"] = peer_modules.versions()
    return info


def main(argv=None) -> int:
    """Command line entry point: build, measure every section, print, write JSON and PNG."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench-results"), help="output directory (default bench-results)")
    parser.add_argument("--quick", action="store_true", help="fewer rounds per measurement (noisier)")
    args = parser.parse_args(argv)
    rounds = report.QUICK if args.quick else report.FULL
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    # 1. Build what is not cached (two compilers at a time), and time it apart.
    print("building Mojo modules and peers (cached after the first run)...", file=sys.stderr, flush=True)
    build_started = time.perf_counter()

    def build_demo_and_peers() -> None:
        from bufferable.demo.build import cache_dir

        before = set(cache_dir().glob("*")) if cache_dir().is_dir() else set()
        t0 = time.perf_counter()
        bench_demo.build()
        if set(cache_dir().glob("*")) != before:
            mojo_modules.BUILD_SECONDS["demo ray tracer"] = time.perf_counter() - t0
        peer_modules.build_all(jobs=1)

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        other_builds = pool.submit(build_demo_and_peers)
        mojo_modules.build_all([mojo_modules.BFTEST, mojo_modules.MEMORY_VIEW, bench_interop.INTEROP,
                                bench_records.BFRECORDS, bench_tables.TABLES, *bench_peers.mojo_sources(),
                                *bench_calls.mojo_sources()], jobs=1)
        other_builds.result()
    build_seconds = time.perf_counter() - build_started

    # 2. Measure.
    sections = [  # the peers first: their small fixed costs are measured before the 256 MiB sections
        (bench_peers.SECTION, lambda: bench_peers.measure(bench_peers.SHAPES, rounds)),
        (bench_calls.SECTION, lambda: bench_calls.measure(rounds)),
        ("export", lambda: bench_mojo_export.measure(report.SIZES, rounds)),
        ("copy", lambda: bench_mojo_export.measure_copies(report.SIZES, rounds)),
        ("DLPack/Arrow", lambda: bench_interop.measure(report.SIZES, rounds)),
        ("MemoryView", lambda: bench_memory_view.measure(report.SIZES, rounds)),
        ("demo", lambda: bench_demo.measure(rounds)),
        ("records", lambda: bench_records.measure(rounds)),
        (bench_tables.SECTION, lambda: bench_tables.measure(report.SIZES, rounds)),
        (bench_engines.SECTION, lambda: bench_engines.measure(rounds)),
    ]
    rows: list[Row] = []
    section_seconds = {}
    for name, run in sections:
        print(f"measuring: {name}...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        rows += run()
        section_seconds[name] = time.perf_counter() - t0
        gc.collect()
    total = time.perf_counter() - started

    # 3. Report.
    report.print_report(rows, NOTES)
    failed = [r for r in rows if r.passed is False]
    module_builds = {**mojo_modules.BUILD_SECONDS, **peer_modules.BUILD_SECONDS}
    built = ", ".join(f"{k} {v:.0f} s" for k, v in module_builds.items()) or "all cached"
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
                    "module_builds": module_builds},
        "sizes": report.SIZES,
        "notes": NOTES,
        "rows": [r.as_dict() for r in rows],
    }
    (args.out / "bench.json").write_text(json.dumps(result, indent=1))
    draw(rows, args.out / "bench.png")
    print(f"wrote {args.out / 'bench.json'} and {args.out / 'bench.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
