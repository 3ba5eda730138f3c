"""Python face of the Mojo ray tracer: render, make blank images, convert to 8-bit, save as PNG.

The images `render` and `blank_image` return are Mojo `Image` objects: `numpy.asarray(image)` is
a float32 (H, W, 3) view of their pixels with byte strides (16 * W, 16, 4), no copy (the array
keeps the image alive); `image.to_numpy_copy()` is a per-channel copy loop, the copying hand-off
it is compared with.
"""

from __future__ import annotations

import os
import sys
from typing import Protocol, TextIO

import numpy as np
import numpy.typing as npt

from .background import make_background
from .build import load_extension
from .scene import default_scene


class Image(Protocol):
    """What Python uses of the Mojo `Image` type (it also exports the buffer protocol)."""

    def data_address(self) -> int:
        """Address of the first pixel."""

    def to_numpy_copy(self) -> npt.NDArray[np.float32]:
        """A new (H, W, 3) float32 array, filled by Mojo pixel by pixel."""

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
    scene: np.ndarray | None = None,
    samples_per_side: int = 1,
    thread_count: int | None = None,
    progress: TextIO | None = sys.stderr,
) -> Image:
    """Renders a scene in Mojo and returns the Mojo `Image`.

    Args:
        width: Image width in pixels (1 to 16384).
        height: Image height in pixels (1 to 16384; at most 2**26 pixels in all).
        background: Any float32 (H, W, 3) or (H, W, 4) buffer (a numpy array, any strides): the
            equirectangular environment, which Mojo reads in place through a `MemoryView`;
            `make_background()` if None.
        scene: The spheres, a 1-D numpy structured array of `scene.SPHERE_DTYPE` (any strides),
            which Mojo reads in place through a `RecordView`; `scene.default_scene()` if None.
        samples_per_side: Antialiasing, 1 to 16; each pixel averages this many squared rays.
        thread_count: Render threads; all CPUs available to the process if None.
        progress: Where a first-run compilation reports progress (None: quiet).

    Raises:
        TypeError: An argument of the wrong type, or a background that exports no buffer.
        ValueError: A size out of range, a background that is not float32 (H, W, 3|4), or a
            scene whose records are not SPHERE_DTYPE's (the message names the field), or with a
            radius that is not positive.
        BufferError: A background the view cannot follow (e.g. strides that are not whole floats).
        FileNotFoundError, bufferable.build.MojoBuildError: No Mojo compiler, or the first-run
            compilation failed.
    """
    module = load_extension(progress)
    if background is None:
        background = make_background()
    if scene is None:
        scene = default_scene()
    if thread_count is None:
        thread_count = min(default_thread_count(), 1024)
    image: Image = module.render(width, height, background, samples_per_side, thread_count, scene)
    return image


def blank_image(width: int, height: int, *, progress: TextIO | None = sys.stderr) -> Image:
    """Returns a black Mojo `Image` of `width` x `height` pixels (sizes as for `render`).

    Used to time hand-offs at sizes that were not rendered.

    Raises:
        TypeError, ValueError: A size of the wrong type or out of range.
    """
    image: Image = load_extension(progress).blank_image(height, width)
    return image


def to_srgb8(linear_rgb: np.ndarray) -> np.ndarray:
    """Linear float RGB (any strides) -> gamma-encoded uint8 RGB, for display."""
    clipped = np.clip(np.asarray(linear_rgb, dtype=np.float32), 0.0, 1.0)
    return (np.power(clipped, 1 / 2.2) * 255 + 0.5).astype(np.uint8)


def save_png(linear_rgb: np.ndarray, path: str | os.PathLike[str]) -> None:
    """Writes a linear float RGB image (H, W, 3), any strides, as an 8-bit gamma-encoded PNG.

    Raises:
        ImportError: Pillow is not installed (the message says how to install it).
        OSError: The file cannot be written.
    """
    try:
        from PIL import Image as PillowImage
    except ImportError as error:
        raise ImportError(
            "writing the PNG needs Pillow: pip install pillow  (or pip install 'bufferable[mojo]')"
        ) from error

    PillowImage.fromarray(to_srgb8(linear_rgb)).save(os.fspath(path), format="PNG")
