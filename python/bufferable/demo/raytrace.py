"""Python face of the Mojo ray tracer: render, convert to 8-bit, save as PNG."""

from __future__ import annotations

import os
import sys
from typing import TextIO

import numpy as np

from .background import make_background
from .build import load_extension


def default_thread_count() -> int:
    """The number of CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def render(
    width: int,
    height: int,
    *,
    background: np.ndarray | None = None,
    samples_per_side: int = 1,
    thread_count: int | None = None,
    progress: TextIO | None = sys.stderr,
):
    """Renders the demo scene in Mojo and returns the Mojo `Image`.

    Args:
        width: Image width in pixels.
        height: Image height in pixels.
        background: float32 (H, W, 3) or (H, W, 4) equirectangular environment,
            read in place; `make_background()` if None.
        samples_per_side: Antialiasing; each pixel averages this many squared rays.
        thread_count: Render threads; all CPUs available to the process if None.
        progress: Where a first-run compilation reports progress (None: quiet).
    """
    module = load_extension(progress)
    if background is None:
        background = make_background()
    if thread_count is None:
        thread_count = default_thread_count()
    return module.render(int(width), int(height), background, int(samples_per_side), int(thread_count))


def to_srgb8(linear_rgb: np.ndarray) -> np.ndarray:
    """Linear float RGB (any strides) -> gamma-encoded uint8 RGB, for display."""
    clipped = np.clip(np.asarray(linear_rgb, dtype=np.float32), 0.0, 1.0)
    return (np.power(clipped, 1 / 2.2) * 255 + 0.5).astype(np.uint8)


def save_png(linear_rgb: np.ndarray, path: str | os.PathLike) -> None:
    """Writes a linear float RGB image as an 8-bit sRGB-ish PNG (Pillow)."""
    from PIL import Image as PillowImage

    PillowImage.fromarray(to_srgb8(linear_rgb), mode="RGB").save(os.fspath(path))
