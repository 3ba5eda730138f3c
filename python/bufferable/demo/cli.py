"""`python -m bufferable demo`: render the scene, save a PNG, compare hand-offs.

The table it prints measures, in one run, what it costs to hand the rendered
Mojo image to numpy: without a copy (numpy views the image's own memory through
the buffer protocol), and with the copy the old Mojo ray-tracing notebook made
(allocate `np.zeros((H, W, 3))`, then store every channel through a raw
pointer).
"""

from __future__ import annotations

import argparse
import sys
import time
import timeit
from pathlib import Path

import numpy as np

from .background import make_background
from .build import MojoBuildError, load_extension
from .raytrace import default_thread_count, render, save_png


def _per_call_seconds(function, *, min_total: float = 0.2, repeat: int = 5) -> float:
    """Best-of-`repeat` time of one call, each repeat looping for >= `min_total` s."""
    timer = timeit.Timer(function)
    number = 1
    while timer.timeit(number) < min_total / 4 and number < 10**7:
        number *= 4
    return min(timer.repeat(repeat=repeat, number=number)) / number


def _format_seconds(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    if seconds >= 1e-6:
        return f"{seconds * 1e6:.2f} us"
    return f"{seconds * 1e9:.0f} ns"


def exports_buffer(image) -> bool:
    """Whether the Mojo `Image` speaks the buffer protocol (zero-copy hand-off)."""
    try:
        memoryview(image).release()
    except TypeError:
        return False
    return True


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bufferable demo",
        description=(
            "Render a ray-traced scene in Mojo, hand the image to numpy, save it as PNG, "
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
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs the demo; returns the process exit status."""
    args = _parser().parse_args(argv)
    if args.width < 1 or args.height < 1:
        print("error: --width and --height must be positive", file=sys.stderr)
        return 2
    if not 1 <= args.samples <= 16:
        print("error: --samples must be in 1..16", file=sys.stderr)
        return 2
    threads = args.threads or default_thread_count()

    try:
        load_extension(progress=sys.stderr)
    except MojoBuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1

    background = make_background()
    start = time.perf_counter()
    image = render(args.width, args.height, background=background, samples_per_side=args.samples, thread_count=threads)
    render_seconds = time.perf_counter() - start

    copy_seconds = _per_call_seconds(image.to_numpy_copy)
    zero_copy_seconds = None
    if exports_buffer(image):
        pixels = np.asarray(image)
        if pixels.__array_interface__["data"][0] != image.data_address():
            print("error: numpy's array does not view the image's memory", file=sys.stderr)
            return 1
        zero_copy_seconds = _per_call_seconds(lambda: np.asarray(image))
    else:
        pixels = image.to_numpy_copy()

    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_png(pixels, args.out)

    rays = args.samples * args.samples
    print(
        f"bufferable demo: {args.width}x{args.height}, {rays} ray{'s' if rays > 1 else ''}/pixel, "
        f"{threads} thread{'s' if threads > 1 else ''} -> {args.out}"
    )
    rows = [
        ("render (Mojo)", _format_seconds(render_seconds)),
        (
            "hand-off to numpy, zero-copy (np.asarray)",
            _format_seconds(zero_copy_seconds)
            if zero_copy_seconds is not None
            else "n/a: this build's Image has no buffer export yet",
        ),
        ("hand-off to numpy, copy (old notebook)", _format_seconds(copy_seconds)),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"  {name:<{width}}  {value:>12}")
    if zero_copy_seconds is not None:
        print(f"  zero-copy hand-off is {copy_seconds / zero_copy_seconds:,.0f}x faster than the copy")
    return 0
