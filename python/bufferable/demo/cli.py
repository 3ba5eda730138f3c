"""`python -m bufferable demo`: render the scene, save a PNG, compare hand-offs.

The scene's spheres are a numpy structured array (`scene.SPHERE_DTYPE`) that the Mojo
renderer reads in place: `--save-scene FILE.npy` writes the default one, `--scene FILE.npy`
renders an edited one.

The table it prints measures, in one run and the same way (best of several
timed loops), what it costs to hand a Mojo image to numpy:

- zero-copy: `np.asarray(image)`, a view of the image's own memory through the
  buffer protocol (one export and its release);
- copy: a per-channel copy loop in Mojo (allocate `np.zeros((H, W, 3))`,
  then store every channel of every pixel through a raw pointer), the way a
  Mojo image reached numpy before zero-copy.

Both are measured for the rendered image and for a blank image with twice the
width and height: the copy grows with the pixel count, the view does not.
"""

from __future__ import annotations

import argparse
import sys
import time
import timeit
from pathlib import Path
from typing import Callable

import numpy as np

from ..build import MojoBuildError
from .background import make_background
from .build import load_extension
from .cluster import RAY_EXTRA, render_on_ray
from .rendering import Image, blank_image, default_thread_count, render, save_png
from .scene import load_scene, save_scene

#: Largest side and pixel count of an image (the Mojo module refuses more).
MAX_SIDE, MAX_PIXELS = 16384, 1 << 26


def per_call_seconds(function: Callable[[], object], *, min_total: float = 0.1, repeat: int = 5) -> float:
    """Best-of-`repeat` time of one call of `function`, each repeat a loop of >= `min_total` s."""
    timer = timeit.Timer(function)
    number = 1
    while timer.timeit(number) < min_total / 4 and number < 10**7:
        number *= 4
    return min(timer.repeat(repeat=repeat, number=number)) / number


def format_seconds(seconds: float) -> str:
    """`seconds` in the largest unit (s, ms, us) in which it is at least 1.00 once rounded, with
    two decimals; in ns below 1 us."""
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "us")):
        if round(seconds / scale, 2) >= 1:
            return f"{seconds / scale:.2f} {unit}"
    return f"{seconds * 1e9:.0f} ns"


def hand_off_seconds(image: Image, *, min_total: float = 0.1) -> tuple[float, float]:
    """(zero-copy, copy) hand-off times of a Mojo image, best of 5 loops of >= `min_total` s each.

    Raises:
        RuntimeError: numpy's array does not view the image's memory (the export is broken).
    """
    view = np.asarray(image)
    if view.__array_interface__["data"][0] != image.data_address():
        raise RuntimeError("numpy's array does not view the Mojo image's memory")
    del view
    zero_copy = per_call_seconds(lambda: np.asarray(image), min_total=min_total)
    copy = per_call_seconds(image.to_numpy_copy, min_total=min_total)
    return zero_copy, copy


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bufferable demo",
        description=(
            "Render a ray-traced scene in Mojo, hand the image to numpy without a copy, save it as PNG, "
            "and compare the zero-copy hand-off with a copying one."
        ),
    )
    parser.add_argument("--width", type=int, default=1024, help="image width in pixels (default 1024)")
    parser.add_argument("--height", type=int, default=768, help="image height in pixels (default 768)")
    parser.add_argument("--out", type=Path, default=Path("scene.png"), help="PNG to write (default scene.png)")
    parser.add_argument(
        "--samples", type=int, default=2, help="antialiasing: rays per pixel side, 1-16 (default 2: 4 rays)"
    )
    parser.add_argument("--threads", type=int, default=None, help="render threads (default: all CPUs available)")
    parser.add_argument(
        "--scene", type=Path, default=None, metavar="FILE.npy",
        help="render the spheres of this .npy structured array (see --save-scene) instead of the default scene",
    )
    parser.add_argument(
        "--save-scene", type=Path, default=None, metavar="FILE.npy",
        help="write the default scene as a .npy structured array to edit in numpy, and exit",
    )
    parser.add_argument(
        "--ray", action="store_true",
        help=f"render on Ray, one task per band of rows (needs Ray: {RAY_EXTRA})",
    )
    parser.add_argument(
        "--address", default=None, metavar="ADDR",
        help="with --ray: join this running cluster (default: start one on this machine)",
    )
    parser.add_argument("--bands", type=int, default=16, help="with --ray: bands of rows (default 16)")
    return parser


def _table(rows: list[tuple[str, ...]]) -> str:
    """Left-aligned first column, right-aligned others, two spaces apart, indented."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [cell.rjust(w) for cell, w in zip(row[1:], widths[1:])]
        lines.append("  " + "  ".join(cells).rstrip())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Runs the demo with command-line arguments `argv`; returns the process exit status."""
    args = _parser().parse_args(argv)
    if not (1 <= args.width <= MAX_SIDE and 1 <= args.height <= MAX_SIDE) or args.width * args.height > MAX_PIXELS:
        print(
            f"error: --width and --height must be 1..{MAX_SIDE}, at most {MAX_PIXELS} pixels in all",
            file=sys.stderr,
        )
        return 2
    if not 1 <= args.samples <= 16:
        print("error: --samples must be in 1..16", file=sys.stderr)
        return 2
    if args.threads is not None and not 1 <= args.threads <= 1024:
        print("error: --threads must be in 1..1024", file=sys.stderr)
        return 2
    threads = args.threads or min(default_thread_count(), 1024)
    if (args.address is not None or args.bands != 16) and not args.ray:
        print("error: --address and --bands go with --ray", file=sys.stderr)
        return 2
    if args.bands < 1:
        print("error: --bands must be at least 1 (more bands than rows: one row each)",
              file=sys.stderr)
        return 2

    if args.save_scene is not None:
        try:
            args.save_scene.parent.mkdir(parents=True, exist_ok=True)
            save_scene(args.save_scene)
        except OSError as error:
            print(f"error: cannot write {args.save_scene}: {error}", file=sys.stderr)
            return 1
        print(f"bufferable demo: wrote the default scene to {args.save_scene} "
              f"(render it with --scene {args.save_scene})")
        return 0
    scene = None
    if args.scene is not None:
        try:
            scene = load_scene(args.scene)
        except (OSError, ValueError) as error:
            print(f"error: cannot read the scene {args.scene}: {error}", file=sys.stderr)
            return 1

    try:
        load_extension(progress=sys.stderr)
    except (FileNotFoundError, MojoBuildError, ImportError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1

    background = make_background()
    if args.ray:
        return _main_on_ray(args, background, scene)
    start = time.perf_counter()
    try:
        image = render(args.width, args.height, background=background, scene=scene, samples_per_side=args.samples,
                       thread_count=threads)
    except (ValueError, TypeError, BufferError) as error:
        print(f"error: {error}" if args.scene is None else f"error: the scene {args.scene}: {error}", file=sys.stderr)
        return 1
    render_seconds = time.perf_counter() - start

    if not _saved(np.asarray(image), args.out):  # the image itself: strides (16 * W, 16, 4)
        return 1

    sizes = [(args.width, args.height, image, "")]
    big_width, big_height = 2 * args.width, 2 * args.height
    if big_width <= MAX_SIDE and big_height <= MAX_SIDE and big_width * big_height <= MAX_PIXELS:
        sizes.append((big_width, big_height, blank_image(big_width, big_height), " (blank)"))
    try:
        measured = [hand_off_seconds(entry[2]) for entry in sizes]
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1

    rays = args.samples * args.samples
    print(
        f"bufferable demo: {args.width}x{args.height}, {rays} ray{'s' if rays > 1 else ''}/pixel, "
        f"{threads} thread{'s' if threads > 1 else ''} -> {args.out}"
    )
    header = ("", *(f"{w}x{h}{note}" for w, h, _, note in sizes))
    rows = [
        header,
        ("render (Mojo)", format_seconds(render_seconds), *([""] * (len(sizes) - 1))),
        ("hand-off to numpy, zero-copy (np.asarray)", *(format_seconds(z) for z, _ in measured)),
        ("hand-off to numpy, per-channel copy loop", *(format_seconds(c) for _, c in measured)),
        ("zero-copy speed-up", *(f"{c / z:,.0f}x" for z, c in measured)),
    ]
    print(_table(rows))
    return 0


def _saved(pixels: np.ndarray, out: Path) -> bool:
    """Writes the PNG, or says on stderr why it cannot."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        save_png(pixels, out)
    except (OSError, ImportError) as error:
        print(f"error: cannot write {out}: {error}", file=sys.stderr)
        return False
    return True


def _main_on_ray(args: argparse.Namespace, background: np.ndarray, scene: np.ndarray | None) -> int:
    """`demo --ray`: render the bands on Ray, save the PNG, print what each band cost."""
    try:
        result = render_on_ray(args.width, args.height, bands=args.bands, samples_per_side=args.samples,
                               background=background, scene=scene, address=args.address)
    except (ImportError, ValueError, TypeError, BufferError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if not _saved(result.pixels, args.out):
        return 1
    rays = args.samples * args.samples
    print(
        f"bufferable demo on Ray: {args.width}x{args.height}, {rays} ray{'s' if rays > 1 else ''}/pixel, "
        f"{len(result.bands)} bands on {result.cpus} CPUs -> {args.out}"
    )
    rows: list[tuple[str, ...]] = [("band", "rows", "render (Mojo)", "returned")]
    for index, band in enumerate(result.bands):
        rows.append((str(index), f"{band.first_row}-{band.first_row + band.row_count - 1}",
                     format_seconds(band.seconds), format_bytes(band.nbytes)))
    print(_table(rows))
    print(f"  wall time {format_seconds(result.seconds)}; into the object store once: "
          f"{format_bytes(result.bytes_in)} (background, scene; read in place by every task); "
          f"bands back: {format_bytes(result.bytes_out)}")
    return 0


def format_bytes(count: int) -> str:
    """`count` bytes in B, KiB or MiB, one decimal above bytes."""
    for scale, unit in ((1 << 20, "MiB"), (1 << 10, "KiB")):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} B"
