"""bufferable beside the tools a Mojo or C++ author would otherwise use, doing the same job, in one run.

    python benchmarks/bench_peers.py [--quick]

Every comparison is 2-D float64, at 8 KiB (32 x 32) and 16 MiB (1024 x 2048), timed in interleaved
rounds (best round wins); each bufferable row's baseline is the fastest of its peers in the same
rounds, and every peer's time is a row of its own:

- ``memoryview(x)`` and ``np.asarray(x)`` of the README's ``Grid`` (built from the README's own
  block) and of ``StridedGrid`` (the same grid describing itself with explicit byte strides,
  benchmarks/mojo/bench_bindings.mojo) vs a Cython ``cdef class`` with ``__getbuffer__``, a nanobind class with a
  ``bf_getbuffer`` slot (``nb::type_slots``) and a pybind11 ``def_buffer`` class, all holding the
  same grid; for ``np.asarray`` also a nanobind method returning ``nb::ndarray<nb::numpy>``;
- ``np.from_dlpack(Grid)`` vs ``np.from_dlpack(ndarray)``; ``torch.from_dlpack(Grid)`` vs
  ``torch.from_dlpack`` of an ``nb::ndarray`` made once;
- a ``MemoryView[float64, 2]`` (strided, and ``C_CONTIGUOUS``) acquired and released by a Mojo
  function called from Python, on an ndarray and on ``a[:, ::2]``, vs a Cython function taking a
  ``double[:, :]`` / ``double[:, ::1]`` argument;
- ``MemoryView.from_dlpack`` of a torch tensor through DLPack's C exchange API vs through the
  tensor's ``__dlpack__`` method (target: half the time or less);
- sums in Mojo through a MemoryView (benchmarks/mojo/bench_views.mojo) vs Cython loops over
  ``const double[:, ::1]`` / ``const double[:, :]`` with four accumulators, on ``a`` and
  ``a[:, ::2]``, and on a copy of ``a`` at an odd address, which Mojo sums through the view's own
  SIMD loads (they assume no alignment); the target applies at 8 KiB, at 16 MiB both are bound by
  memory.

The peers are benchmarks/peers/ (built by peer_modules.py with the same compiler flags).
"""
from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import numpy as np

import mojo_modules
import peer_modules
import report
import timing

HERE = Path(__file__).resolve().parent
README = HERE.parent / "README.md"
#: The Mojo side of the MemoryView rows.
BENCH_VIEWS = HERE / "mojo" / "bench_views.mojo"
#: StridedGrid (the Grid with its own byte strides) lives with the calls benchmark's module.
BENCH_CALLS = HERE / "mojo" / "bench_bindings.mojo"
#: label -> (rows, cols) of the 2-D float64 arrays compared.
SHAPES = {"8 KiB": (32, 32), "16 MiB": (1024, 2048)}
#: Sizes at which the sums have a target (larger sums are bound by memory bandwidth on every side).
SUM_TARGET_SIZES = {"8 KiB"}
SECTION = "vs peers"
#: Calls per timed loop of the torch comparison.
TORCH_CALLS = 128
Row = report.Row

NOTES = [
    "vs peers: Grid = the README's Grid (built from the README's block); StridedGrid = the same grid "
    "describing itself with explicit byte strides (benchmarks/mojo/bench_bindings.mojo); Cython/nanobind/pybind11 Grid = "
    "benchmarks/peers/, the same rows x cols float64 grid exported by hand; ratio = bufferable / the "
    "fastest peer (the indented rows) in the same interleaved rounds. a = np.random.random((rows, cols)).",
]


def readme_grid_source() -> Path:
    """The README's ``grid.mojo`` block, written (when it changed) to its own folder of the
    benchmarks' cache, so that it is built exactly as the README shows it."""
    text = README.read_text()
    match = re.search(r"<!-- readme-example: grid\.mojo.*?\n```\w*\n(.*?)\n```", text, re.S)
    if match is None:
        raise RuntimeError(f"{README} has no block marked 'readme-example: grid.mojo'")
    source = mojo_modules.cache_dir() / "readme" / "grid.mojo"
    source.parent.mkdir(parents=True, exist_ok=True)
    if not source.exists() or source.read_text() != match.group(1) + "\n":
        source.write_text(match.group(1) + "\n")
    return source


def mojo_sources() -> list[Path]:
    """The Mojo modules these comparisons load (for run.py to build them with the others)."""
    return [readme_grid_source(), BENCH_VIEWS, BENCH_CALLS]


def compare(rounds: report.Rounds, size: str, nbytes: int, ours: dict, peers: dict, target: str | None,
            kind: str = "zero-copy", number: int | None = None) -> list[Row]:
    """Times ``ours`` and ``peers`` (path -> callable) in the same interleaved rounds (``number``
    calls per loop for every callable if given, else calibrated).

    Returns:
        One row per path of ``ours``, its baseline the fastest peer and ``peers`` every peer's
        time; then one row per peer (kind "peer", no baseline).
    """
    numbers = None if number is None else [number] * (len(ours) + len(peers))
    times = timing.interleaved([*ours.values(), *peers.values()], numbers=numbers, **rounds.kw())
    ours_times = dict(zip(ours, times[:len(ours)]))
    peer_times = dict(zip(peers, times[len(ours):]))
    best = min(peer_times, key=peer_times.get)
    common = dict(section=SECTION, size=size, nbytes=nbytes)
    return ([Row(path=p, seconds=t, baseline=best, baseline_seconds=peer_times[best], target=target,
                 kind=kind, peers=peer_times, **common) for p, t in ours_times.items()]
            + [Row(path=p, seconds=t, kind="peer", **common) for p, t in peer_times.items()])


def _check_view(exporter, rows: int, cols: int) -> None:
    """``np.asarray(exporter)`` is a (rows, cols) float64 view of memory the exporter keeps: a
    write through one view is read back through another, at the same address."""
    a = np.asarray(exporter)
    assert a.shape == (rows, cols) and a.dtype == np.float64, (type(exporter), a.shape, a.dtype)
    a[-1, -1] = 7.0
    b = np.asarray(exporter)
    assert b.__array_interface__["data"][0] == a.__array_interface__["data"][0] and b[-1, -1] == 7.0
    a[-1, -1] = 0.0


def measure(shapes: dict[str, tuple[int, int]] | None = None, rounds: report.Rounds = report.FULL) -> list[Row]:
    """Every comparison of the module docstring at each size (label -> (rows, cols)); checks that
    every path is zero-copy (or sums right) before timing it, and that every export was released."""
    import torch

    grid = mojo_modules.load(readme_grid_source())
    views = mojo_modules.load(BENCH_VIEWS)
    calls = mojo_modules.load(BENCH_CALLS)
    peer = peer_modules.load_all()
    cy, nb, pb = peer["peer_cython"], peer["peer_nanobind"], peer["peer_pybind11"]
    rows: list[Row] = []
    for size, (r, c) in (shapes or SHAPES).items():
        nbytes = r * c * 8
        g, cg, ng, pg = grid.Grid(r, c), cy.Grid(r, c), nb.Grid(r, c), pb.Grid(r, c)
        sg = calls.StridedGrid(r, c)
        assert memoryview(sg).strides == memoryview(g).strides
        for exporter in (g, sg, cg, ng, pg):
            _check_view(exporter, r, c)
        nb_numpy = ng.numpy()
        assert nb_numpy.__array_interface__["data"][0] == np.asarray(ng).__array_interface__["data"][0]
        del nb_numpy
        nd = ng.ndarray()  # nanobind's nb_ndarray, made once
        ndarray = np.zeros((r, c))
        assert torch.from_dlpack(g).data_ptr() == np.asarray(g).__array_interface__["data"][0]
        assert torch.from_dlpack(nd).data_ptr() == np.asarray(ng).__array_interface__["data"][0]
        assert np.from_dlpack(g).__array_interface__["data"][0] == np.asarray(g).__array_interface__["data"][0]

        run = lambda ours, peers, target=report.VS_BEST_PEER, kind="zero-copy", number=None: compare(  # noqa: E731
            rounds, size, nbytes, ours, peers, target, kind, number)
        rows += run({"memoryview(Grid)": lambda: memoryview(g), "memoryview(StridedGrid)": lambda: memoryview(sg)},
                    {"memoryview(Cython Grid)": lambda: memoryview(cg),
                     "memoryview(nanobind Grid)": lambda: memoryview(ng),
                     "memoryview(pybind11 Grid)": lambda: memoryview(pg)})
        rows += run({"np.asarray(Grid)": lambda: np.asarray(g), "np.asarray(StridedGrid)": lambda: np.asarray(sg)},
                    {"np.asarray(Cython Grid)": lambda: np.asarray(cg),
                     "np.asarray(nanobind Grid)": lambda: np.asarray(ng),
                     "np.asarray(pybind11 Grid)": lambda: np.asarray(pg),
                     "nanobind Grid.numpy() (nb::ndarray<nb::numpy>)": ng.numpy})
        rows += run({"np.from_dlpack(Grid)": lambda: np.from_dlpack(g)},
                    {"np.from_dlpack(ndarray)": lambda: np.from_dlpack(ndarray)})
        # torch's cost per call grows in long loops (about 2x at 4096 calls, whatever the exporter):
        # the same short loop for both sides.
        rows += run({"torch.from_dlpack(Grid)": lambda: torch.from_dlpack(g)},
                    {"torch.from_dlpack(nb::ndarray)": lambda: torch.from_dlpack(nd)}, number=TORCH_CALLS)

        a = np.random.default_rng(0).random((r, c))
        s = a[:, ::2]
        for f, x in ((views.sum_strided, a), (views.sum_c, a), (cy.sum_contiguous, a),
                     (views.sum_strided, s), (cy.sum_strided, s)):
            assert abs(f(x) - float(np.sum(x))) <= 1e-9 * x.size, f
        assert views.acquire(s) == views.acquire_c(a) == cy.acquire_strided(s) == cy.acquire_contiguous(a) == r
        rows += run({"MemoryView[float64, 2](a), from Python": lambda: views.acquire(a)},
                    {"Cython double[:, :] argument": lambda: cy.acquire_strided(a)})
        rows += run({"MemoryView[float64, 2, C_CONTIGUOUS](a), from Python": lambda: views.acquire_c(a)},
                    {"Cython double[:, ::1] argument": lambda: cy.acquire_contiguous(a)})
        rows += run({"MemoryView[float64, 2](a[:, ::2]), from Python": lambda: views.acquire(s)},
                    {"Cython double[:, :] argument, a[:, ::2]": lambda: cy.acquire_strided(s)})
        sum_target = report.VS_BEST_PEER if size in SUM_TARGET_SIZES else None
        rows += run({"Mojo sum, MemoryView strided": lambda: views.sum_strided(a),
                     "Mojo sum, MemoryView C_CONTIGUOUS": lambda: views.sum_c(a)},
                    {"Cython sum, double[:, ::1], 4 accumulators": lambda: cy.sum_contiguous(a)},
                    sum_target, "compute")
        rows += run({"Mojo sum, a[:, ::2]": lambda: views.sum_strided(s)},
                    {"Cython sum, double[:, :], 4 accumulators, a[:, ::2]": lambda: cy.sum_strided(s)},
                    sum_target, "compute")
        # The same values at an odd address, as Dask hands them to workers: Mojo through the view's
        # own loads (which assume no alignment) vs Cython's contiguous sum, which reads them too.
        u = np.frombuffer(bytearray(a.nbytes + 1), np.float64, count=a.size, offset=1).reshape(r, c)
        u[...] = a
        assert u.__array_interface__["data"][0] % 8 != 0
        for f in (views.sum_loads, cy.sum_contiguous):
            assert abs(f(u) - float(np.sum(a))) <= 1e-9 * a.size, f
        rows += run({"Mojo sum, MemoryView loads, unaligned a": lambda: views.sum_loads(u)},
                    {"Cython sum, double[:, ::1], 4 accumulators, unaligned a": lambda: cy.sum_contiguous(u)},
                    sum_target, "compute")
        # DLPack's C exchange API (torch tensors' type carries one) vs the same tensor reached only
        # through its bound __dlpack__ method.
        t = torch.zeros((r, c), dtype=torch.float64)
        t_dlpack_only = types.SimpleNamespace(__dlpack__=t.__dlpack__)
        assert views.from_dlpack(t) == views.from_dlpack(t_dlpack_only) == r
        rows += run({"MemoryView.from_dlpack(torch), C exchange API": lambda: views.from_dlpack(t)},
                    {"MemoryView.from_dlpack(torch), __dlpack__": lambda: views.from_dlpack(t_dlpack_only)},
                    report.EXCHANGE_VS_DLPACK)
        assert cg.live_exports == 0 and ng.live_exports == 0, (cg.live_exports, ng.live_exports)
        del g, sg, cg, ng, pg, nd, ndarray, a, s, u
    return rows


def main(argv=None) -> int:
    """Command line entry point: ``[--quick]``, measure, print the table (see ``report.main``)."""
    return report.main(__doc__, lambda rounds: measure(rounds=rounds), NOTES, argv)


if __name__ == "__main__":
    sys.exit(main())
