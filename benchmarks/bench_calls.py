"""Calling Mojo from Python: one function bound every way, beside Cython, nanobind and pybind11.

    python benchmarks/bench_calls.py [--quick]

Every row is one call from Python, timed in interleaved rounds (best round wins) with the peers
doing the same job in the same rounds:

- a no-op with one argument and with three (objects passed and ignored, None returned);
- ``rows(a)``: a 2-D float64 ndarray of 8 KiB (32 x 32) taken as a typed 2-D view, its row count
  returned (the cost of a call with one array argument: conversion, acquisition, release);
- ``total(a)``: the README's element-by-element sum of the same array: the argument taken as a
  typed 2-D view, summed, the float returned.

bufferable's side (benchmarks/mojo/bench_bindings.mojo): the typed binding (``bind_function``: a
Mojo function ``def total(a: MemoryView[DType.float64, 2, mut=False]) -> Float64``, METH_O for one
argument, METH_FASTCALL | METH_KEYWORDS for more), ``py_function`` (METH_FASTCALL, written against
``Arguments``), ``py_method`` (METH_VARARGS, the slower convention kept for compatibility), and
Mojo 1.2.0's own ``def_function``. The peers: a Cython ``def`` (``def total(double[:, :] a)``), a
nanobind ``m.def`` (``nb::ndarray<const double, nb::ndim<2>>``) and a pybind11 ``m.def``
(``py::array_t<double>``), all compiled by peer_modules.py with the same flags.

Targets (ratio of the same run): the no-op calls of the typed binding and of ``py_function`` at
most 1.0x the Cython ``def`` with the same arguments and at most 1.0x Mojo's ``def_function``;
``rows(a)`` and ``total(a)`` at most 1.0x Cython's ``def rows(double[:, :] a)`` / ``def total(double[:, :] a)``. ``py_method`` has no target (its
rows show what the faster conventions save). Every side sums in the same order without bounds
checks (the Cython peer is compiled with ``boundscheck=False, wraparound=False``; the Mojo one
reads through ``unsafe_ptr()`` and the strides).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import mojo_modules
import peer_modules
import report
import timing

HERE = Path(__file__).resolve().parent
#: The Mojo side of the calls.
BENCH_CALLS = HERE / "mojo" / "bench_bindings.mojo"
SECTION = "calls"
#: The array of ``total(a)``: 32 x 32 float64 (8 KiB).
SHAPE = (32, 32)
VS_CYTHON = "<= 1.0"
"""A bufferable call vs the Cython ``def`` doing the same."""
VS_DEF_FUNCTION = "<= 1.0"
"""A bufferable call vs Mojo 1.2.0's own ``def_function`` binding doing the same."""
Row = report.Row

NOTES = [
    "calls: bufferable = benchmarks/mojo/bench_bindings.mojo (typed = bind_function; py_function = "
    "METH_FASTCALL by hand; py_method = METH_VARARGS; def_function = Mojo 1.2.0's own binding); "
    "peers = benchmarks/peers/ (Cython def, nanobind m.def, pybind11 m.def). total(a) sums a 32 x 32 "
    "float64 ndarray element by element on every side.",
]


def mojo_sources() -> list[Path]:
    """The Mojo modules of this section (for run.py to build them with the others)."""
    return [BENCH_CALLS]


def _rows(size: str, nbytes: int, ours: dict[str, float], peers: dict[str, float],
          targets: list[tuple[str, str, str]]) -> list[Row]:
    """One row per (path, baseline, target) of ``targets``, then every peer's own row, and the
    bufferable paths without a target as informative rows."""
    common = dict(section=SECTION, size=size, nbytes=nbytes)
    times = {**ours, **peers}
    rows = [Row(path=p, seconds=times[p], baseline=b, baseline_seconds=times[b], target=t,
                peers=peers, **common) for p, b, t in targets]
    targeted = {p for p, _, _ in targets}
    rows += [Row(path=p, seconds=t, baseline=min(peers, key=peers.get), baseline_seconds=min(peers.values()),
                 **common) for p, t in ours.items() if p not in targeted]
    rows += [Row(path=p, seconds=t, kind="peer", **common) for p, t in peers.items()]
    return rows


def measure(rounds: report.Rounds = report.FULL) -> list[Row]:
    """The no-op calls and ``total(a)`` of every binding, interleaved with the peers'; checks that
    every side returns the same thing first."""
    calls = mojo_modules.load(BENCH_CALLS)
    peer = peer_modules.load_all()
    cy, nb, pb = peer["peer_cython"], peer["peer_nanobind"], peer["peer_pybind11"]
    a = np.random.default_rng(0).random(SHAPE)
    x, y, z = object(), 1, 2.5
    expected = float(a.sum())
    for f in (calls.total, calls.total_fast, calls.total_varargs, calls.total_std, cy.total, nb.total, pb.total):
        assert abs(f(a) - expected) <= 1e-9 * a.size, f
    for f in (calls.rows, calls.rows_fast, calls.rows_varargs, calls.rows_std, cy.acquire_strided, nb.rows, pb.rows):
        assert f(a) == SHAPE[0], f
    for f in (calls.noop, calls.noop_fast, calls.noop_varargs, calls.noop_std, cy.noop, nb.noop, pb.noop):
        assert f(x) is None, f
    for f in (calls.noop3, calls.noop3_fast, calls.noop3_std, cy.noop3, nb.noop3, pb.noop3):
        assert f(x, y, z) is None, f

    def run(ours: dict, peers: dict) -> tuple[dict[str, float], dict[str, float]]:
        times = timing.interleaved([*ours.values(), *peers.values()], **rounds.kw())
        return dict(zip(ours, times[:len(ours)])), dict(zip(peers, times[len(ours):]))

    rows: list[Row] = []
    ours, peers = run({"typed noop(a)": lambda: calls.noop(x),
                       "py_function noop(a)": lambda: calls.noop_fast(x),
                       "py_method noop(a)": lambda: calls.noop_varargs(x),
                       "def_function noop(a)": lambda: calls.noop_std(x)},
                      {"Cython def noop(a)": lambda: cy.noop(x),
                       "nanobind m.def noop(a)": lambda: nb.noop(x),
                       "pybind11 m.def noop(a)": lambda: pb.noop(x)})
    peers_and_std = {**peers, "def_function noop(a)": ours.pop("def_function noop(a)")}
    rows += _rows("1 argument", 0, ours, peers_and_std, [
        ("typed noop(a)", "Cython def noop(a)", VS_CYTHON),
        ("typed noop(a)", "def_function noop(a)", VS_DEF_FUNCTION),
        ("py_function noop(a)", "Cython def noop(a)", VS_CYTHON),
        ("py_function noop(a)", "def_function noop(a)", VS_DEF_FUNCTION),
    ])
    ours, peers = run({"typed noop3(a, b, c)": lambda: calls.noop3(x, y, z),
                       "py_function noop3(a, b, c)": lambda: calls.noop3_fast(x, y, z),
                       "def_function noop3(a, b, c)": lambda: calls.noop3_std(x, y, z)},
                      {"Cython def noop3(a, b, c)": lambda: cy.noop3(x, y, z),
                       "nanobind m.def noop3(a, b, c)": lambda: nb.noop3(x, y, z),
                       "pybind11 m.def noop3(a, b, c)": lambda: pb.noop3(x, y, z)})
    peers_and_std = {**peers, "def_function noop3(a, b, c)": ours.pop("def_function noop3(a, b, c)")}
    rows += _rows("3 arguments", 0, ours, peers_and_std, [
        ("typed noop3(a, b, c)", "Cython def noop3(a, b, c)", VS_CYTHON),
        ("typed noop3(a, b, c)", "def_function noop3(a, b, c)", VS_DEF_FUNCTION),
        ("py_function noop3(a, b, c)", "Cython def noop3(a, b, c)", VS_CYTHON),
        ("py_function noop3(a, b, c)", "def_function noop3(a, b, c)", VS_DEF_FUNCTION),
    ])
    ours, peers = run({"typed rows(a)": lambda: calls.rows(a),
                       "py_function rows(a)": lambda: calls.rows_fast(a),
                       "py_method rows(a)": lambda: calls.rows_varargs(a),
                       "def_function rows(a)": lambda: calls.rows_std(a)},
                      {"Cython def rows(double[:, :] a)": lambda: cy.acquire_strided(a),
                       "nanobind m.def rows(nb::ndarray)": lambda: nb.rows(a),
                       "pybind11 m.def rows(py::array_t)": lambda: pb.rows(a)})
    peers_and_std = {**peers, "def_function rows(a)": ours.pop("def_function rows(a)")}
    rows += _rows("8 KiB, rows", a.nbytes, ours, peers_and_std, [
        ("typed rows(a)", "Cython def rows(double[:, :] a)", VS_CYTHON),
        ("py_function rows(a)", "Cython def rows(double[:, :] a)", VS_CYTHON),
    ])
    ours, peers = run({"typed total(a)": lambda: calls.total(a),
                       "py_function total(a)": lambda: calls.total_fast(a),
                       "py_method total(a)": lambda: calls.total_varargs(a),
                       "def_function total(a)": lambda: calls.total_std(a)},
                      {"Cython def total(double[:, :] a)": lambda: cy.total(a),
                       "nanobind m.def total(nb::ndarray)": lambda: nb.total(a),
                       "pybind11 m.def total(py::array_t)": lambda: pb.total(a)})
    peers_and_std = {**peers, "def_function total(a)": ours.pop("def_function total(a)")}
    rows += _rows("8 KiB, total", a.nbytes, ours, peers_and_std, [
        ("typed total(a)", "Cython def total(double[:, :] a)", VS_CYTHON),
        ("py_function total(a)", "Cython def total(double[:, :] a)", VS_CYTHON),
    ])
    return rows


def main(argv=None) -> int:
    """Command line entry point: ``[--quick]``, measure, print the table (see ``report.main``)."""
    return report.main(__doc__, lambda rounds: measure(rounds=rounds), NOTES, argv)


if __name__ == "__main__":
    sys.exit(main())
