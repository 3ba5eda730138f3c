"""The demo on a Ray cluster: the picture cut into bands of rows, each rendered by a Ray task in
Mojo (`python -m bufferable demo --ray`).

What crosses the object store, and how:

- the background (a float32 numpy array) and the scene (a numpy structured array) are put once;
  every task's Mojo code reads them in place, through a `MemoryView` and a `RecordView`, as the
  read-only object-store memory they are (no copy on the node);
- each task returns its band as the Mojo `Image` itself, which pickles out of band
  (`bufferable.exports`): the worker packs its pixels without their padding lane into the store,
  and the driver gets a read-only numpy view of them there;
- the driver joins the bands into one picture with one copy (`np.concatenate`).

A band renders exactly the rows the whole picture has (`render_rows`), so the result is the
threaded demo's picture, bit for bit.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .background import make_background
from .rendering import default_thread_count
from .scene import default_scene

#: What to install for `--ray` (pyproject's `ray` extra).
RAY_EXTRA = "pip install 'bufferable[ray]'"


@dataclass
class Band:
    """One band of rows: where it is, how long its task rendered, what came back."""

    first_row: int
    row_count: int
    seconds: float
    nbytes: int


@dataclass
class ClusterRender:
    """A picture rendered on Ray, and what it cost."""

    pixels: np.ndarray  # float32 (H, W, 3), C-contiguous: the joined bands
    bands: list[Band] = field(default_factory=list)
    seconds: float = 0.0  # wall time from the first task submitted to the picture joined
    bytes_in: int = 0  # put once into the object store: background and scene
    bytes_out: int = 0  # returned through it: the bands
    cpus: int = 0


def _import_ray(local: bool) -> Any:
    """Imports Ray; a cluster started on this machine then listens on loopback only (on Linux
    Ray otherwise takes the machine's network address, even for a cluster of one machine)."""
    if local and "ray" not in sys.modules:
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        import ray
    except ImportError as error:
        raise ImportError(f"the demo on Ray needs Ray: {RAY_EXTRA}") from error
    return ray


def band_rows(height: int, bands: int) -> list[tuple[int, int]]:
    """(first_row, row_count) of `bands` bands as equal as can be, covering `height` rows."""
    bands = max(1, min(bands, height))
    edges = [round(i * height / bands) for i in range(bands + 1)]
    return [(edges[i], edges[i + 1] - edges[i]) for i in range(bands)]


def _render_band(background: np.ndarray, scene: np.ndarray, width: int, height: int,
                 first_row: int, row_count: int, samples_per_side: int) -> tuple[Any, float]:
    """The task: one band in Mojo (one thread: Ray runs a task per CPU), and its render time."""
    from .build import load_extension

    module = load_extension(progress=None)  # the driver built it (or a worker, under a lock)
    start = time.perf_counter()
    image = module.render_rows(width, height, background, samples_per_side, 1, scene, first_row,
                               row_count)
    return image, time.perf_counter() - start


def render_on_ray(width: int, height: int, *, bands: int = 16, samples_per_side: int = 2,
                  background: np.ndarray | None = None, scene: np.ndarray | None = None,
                  address: str | None = None) -> ClusterRender:
    """Renders the demo's picture on Ray, one task per band.

    Joins the cluster at `address` ("auto", "host:port", ...) when given, else uses the Ray
    instance this process already started, else starts one on this machine (and stops it).

    Args:
        width, height: The picture's size (as for `rendering.render`).
        bands: How many bands (tasks) to cut the rows into (at most one per row).
        samples_per_side: Antialiasing, as for `rendering.render`.
        background: The environment (`make_background()` if None).
        scene: The spheres (`default_scene()` if None).
        address: A running cluster to join.

    Raises:
        ImportError: Ray is not installed (the message names the extra to install).
        ValueError, TypeError, BufferError: as `rendering.render`, raised by a task.
    """
    ray = _import_ray(local=address is None)
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address, include_dashboard=False, logging_level="ERROR",
                 num_cpus=None if address else default_thread_count())
    try:
        background = make_background() if background is None else background
        scene = default_scene() if scene is None else scene
        task = ray.remote(num_cpus=1)(_render_band)
        start = time.perf_counter()
        background_ref, scene_ref = ray.put(background), ray.put(scene)
        rows = band_rows(height, bands)
        results = ray.get([task.remote(background_ref, scene_ref, width, height, first, count,
                                       samples_per_side) for first, count in rows])
        pixels = np.concatenate([band for band, _ in results])  # the one copy
        render = ClusterRender(pixels=pixels, seconds=time.perf_counter() - start,
                               bytes_in=background.nbytes + scene.nbytes,
                               cpus=int(ray.cluster_resources().get("CPU", 0)))
        for (first, count), (band, seconds) in zip(rows, results):
            render.bands.append(Band(first, count, seconds, band.nbytes))
            render.bytes_out += band.nbytes
        return render
    finally:
        if started_here:
            ray.shutdown()
