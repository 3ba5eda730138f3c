"""Beyond one process: the README's Grid through Ray's object store and Dask's scatter, beside a
numpy array of the same size, and the demo rendered by Ray tasks beside the threaded demo.

    python benchmarks/bench_engines.py [--quick]

- ``ray.put(grid)`` / ``ray.get(ref)`` vs the same on an ndarray (both out of band: the Grid
  pickles as the numpy array it exports, ``bufferable.exports``), at 1, 16 and 256 MiB: a put
  copies the memory into the store once, a get views it there, so the ratio should be flat;
- the same pair in band (the Grid pickled at protocol 4 inside the object: bytes in the pickle),
  for scale: what out-of-band transfer saves;
- ``client.scatter(grid)`` vs ``client.scatter(ndarray)`` to a ``LocalCluster(processes=True)``;
- the demo at 1024x768 on Ray (16 bands, Ray already started) vs the threaded demo, both with
  every CPU of this machine.

Ray and Dask start once for the section, on this machine only, and are shut down at its end.
"""
from __future__ import annotations

import os
import pickle
import sys

import numpy as np

import bench_peers
import mojo_modules
import report
import timing

# Ray on this machine listens on loopback only (on Linux it otherwise takes the network address).
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")

Row = report.Row
SECTION = "engines"
#: Sizes of the object-store rows (256 MiB fits the store Ray sizes on 24 GiB).
SIZES = {"1 MiB": report.MIB, "16 MiB": 16 * report.MIB, "256 MiB": 256 * report.MIB}
PUT_VS_NDARRAY = "<= 1.1"
GET_VS_NDARRAY = "<= 1.0"
SCATTER_VS_NDARRAY = "<= 1.1"
NOTES = ["engines: Grid = the README's Grid; ndarray = np.ones of the same bytes; in band = the "
         "object pickled at protocol 4 (its bytes inside the pickle) and put the same way; Dask: "
         "LocalCluster(processes=True, n_workers=1), scatter(hash=False); demo on Ray: 16 bands, "
         "Ray started beforehand, vs the threaded demo with every CPU."]


class InBand:
    """Holds an object that Ray then pickles in band (protocol 4 bytes inside the pickle)."""

    def __init__(self, obj: object) -> None:
        self.data = pickle.dumps(obj, protocol=4)

    def __reduce__(self):
        return pickle.loads, (self.data,)


def _grid(grid, nbytes: int):
    columns = 1024
    g = grid.Grid(max(nbytes // (8 * columns), 1), columns)
    np.asarray(g)[:] = 1.0
    return g


def measure_ray(grid, sizes: dict[str, int], rounds: report.Rounds) -> list[Row]:
    """put/get out of band and in band, then the demo on Ray vs threads (Ray started here)."""
    import ray

    from bufferable.demo.background import make_background
    from bufferable.demo.cluster import render_on_ray
    from bufferable.demo.rendering import default_thread_count, render

    rows: list[Row] = []
    ray.init(num_cpus=default_thread_count(), include_dashboard=False, logging_level="ERROR")
    try:
        for label, nbytes in sizes.items():
            g = _grid(grid, nbytes)
            a = np.ones_like(np.asarray(g))
            common = dict(section=SECTION, size=label, nbytes=a.nbytes)
            seen = ray.get(ray.put(g))
            assert isinstance(seen, np.ndarray) and not seen.flags.writeable, "not a store view"
            del seen
            t_grid, t_array = timing.interleaved([lambda: ray.put(g), lambda: ray.put(a)],
                                                 **rounds.kw())
            rows += [Row(path="ray.put(ndarray)", seconds=t_array, **common),
                     Row(path="ray.put(Grid)", seconds=t_grid, baseline="ray.put(ndarray)",
                         baseline_seconds=t_array, target=PUT_VS_NDARRAY, **common)]
            ref_g, ref_a = ray.put(g), ray.put(a)
            t_grid, t_array = timing.interleaved([lambda: ray.get(ref_g), lambda: ray.get(ref_a)],
                                                 **rounds.kw())
            rows += [Row(path="ray.get(ndarray)", seconds=t_array, **common),
                     Row(path="ray.get(Grid)", seconds=t_grid, baseline="ray.get(ndarray)",
                         baseline_seconds=t_array, target=GET_VS_NDARRAY, **common)]
            in_band = InBand(g)
            t_put_in, t_put_out = timing.interleaved(
                [lambda: ray.put(in_band), lambda: ray.put(g)], **rounds.kw())
            ref_in = ray.put(in_band)
            t_get_in, t_get_out = timing.interleaved(
                [lambda: ray.get(ref_in), lambda: ray.get(ref_g)], **rounds.kw())
            rows += [Row(path="ray.put(Grid), in band", seconds=t_put_in, baseline="ray.put(Grid)",
                         baseline_seconds=t_put_out, kind="copy", **common),
                     Row(path="ray.get(Grid), in band", seconds=t_get_in, baseline="ray.get(Grid)",
                         baseline_seconds=t_get_out, kind="copy", **common)]
            del g, a, ref_g, ref_a, in_band, ref_in
        background = make_background()
        threads = default_thread_count()
        t_ray, t_threads = timing.interleaved(
            [lambda: render_on_ray(1024, 768, bands=16, background=background),
             lambda: render(1024, 768, background=background, samples_per_side=2,
                            thread_count=threads, progress=None)],
            repeat=3, numbers=[1, 1], budget=rounds.budget * 10, min_rounds=2)
        rows.append(Row(section=SECTION, path="demo 1024x768 on Ray (16 bands)", size="1024x768",
                        nbytes=1024 * 768 * 12, seconds=t_ray, baseline="demo, threads",
                        baseline_seconds=t_threads, kind="compute"))
    finally:
        ray.shutdown()
    return rows


def measure_dask(grid, sizes: dict[str, int], rounds: report.Rounds) -> list[Row]:
    """scatter of a Grid vs of an ndarray to one worker process (a cluster started here)."""
    from dask.distributed import Client, LocalCluster

    rows: list[Row] = []
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        for label, nbytes in sizes.items():
            g = _grid(grid, nbytes)
            a = np.ones_like(np.asarray(g))
            common = dict(section=SECTION, size=label, nbytes=a.nbytes)
            t_grid, t_array = timing.interleaved(
                [lambda: client.scatter(g, hash=False).result(),
                 lambda: client.scatter(a, hash=False).result()], **rounds.kw())
            rows += [Row(path="Dask scatter(ndarray)", seconds=t_array, **common),
                     Row(path="Dask scatter(Grid)", seconds=t_grid,
                         baseline="Dask scatter(ndarray)", baseline_seconds=t_array,
                         target=SCATTER_VS_NDARRAY, **common)]
            del g, a
    return rows


def measure(rounds: report.Rounds = report.FULL, sizes: dict[str, int] = SIZES) -> list[Row]:
    """Every row of this section (the README's Grid is built once, see mojo_modules.py)."""
    grid = mojo_modules.load(bench_peers.readme_grid_source())
    return measure_ray(grid, sizes, rounds) + measure_dask(grid, sizes, rounds)


def main(argv=None) -> int:
    """Command line entry point: ``[--quick]``, measure, print the table (see ``report.main``)."""
    return report.main(__doc__, lambda rounds: measure(rounds), NOTES, argv)


if __name__ == "__main__":
    sys.exit(main())
