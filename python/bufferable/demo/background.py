"""The demo's background: a procedural sky-and-hills environment, numpy only.

The image is an equirectangular (latitude-longitude) panorama: row 0 looks
straight up, the last row straight down, the middle column looks along -z (where
the camera looks) and longitude grows to the right. The ray tracer reads it in
place: it is what the camera sees past the scene and what the mirror ball
reflects.

Everything is computed from a fixed seed, so the same size always gives the
same image (the golden-image test relies on that).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

#: The direction the sun is in, seen from the middle of the scene: towards the
#: scene's main light (high on the left, a little behind the camera), so the
#: mirror ball shows the sun where the highlights and shadows say it is.
SUN_DIRECTION = np.array([-10.0, 9.0, 4.0]) / np.linalg.norm([-10.0, 9.0, 4.0])

_SEED = 20240605


def _smooth_noise(rng: np.random.Generator, height: int, width: int, cells: int) -> np.ndarray:
    """Value noise in [0, 1]: a random (cells/2 x cells) grid, bicubically smoothed.

    Wraps around horizontally, so the panorama has no seam at the back.
    """
    grid_h, grid_w = max(cells // 2, 2), cells
    grid = rng.random((grid_h + 1, grid_w), dtype=np.float64)
    y = np.linspace(0.0, grid_h, height, endpoint=False)[:, None]
    x = np.linspace(0.0, grid_w, width, endpoint=False)[None, :]
    y0 = np.floor(y).astype(np.intp)
    x0 = np.floor(x).astype(np.intp)
    fy, fx = y - y0, x - x0
    sy, sx = fy * fy * (3 - 2 * fy), fx * fx * (3 - 2 * fx)  # smoothstep weights
    y1 = np.minimum(y0 + 1, grid_h)
    x1 = (x0 + 1) % grid_w
    top = grid[y0, x0] * (1 - sx) + grid[y0, x1] * sx
    bottom = grid[y1, x0] * (1 - sx) + grid[y1, x1] * sx
    return top * (1 - sy) + bottom * sy


def _fractal_noise(rng: np.random.Generator, height: int, width: int, base_cells: int, octaves: int) -> np.ndarray:
    """Sum of `octaves` value-noise layers, each twice as fine and half as strong."""
    total = np.zeros((height, width))
    amplitude, norm = 1.0, 0.0
    for octave in range(octaves):
        total += amplitude * _smooth_noise(rng, height, width, base_cells * 2**octave)
        norm += amplitude
        amplitude *= 0.5
    return total / norm


def _mix(a: npt.ArrayLike, b: npt.ArrayLike, t: npt.ArrayLike) -> npt.NDArray[np.floating[Any]]:
    """Linear blend of colours `a` and `b` by `t` (broadcast over the last axis)."""
    t = np.asarray(t)[..., None]
    mixed: npt.NDArray[np.floating[Any]] = np.asarray(a) * (1 - t) + np.asarray(b) * t
    return mixed


def make_background(height: int = 512, width: int | None = None, channels: int = 3) -> np.ndarray:
    """Makes the environment panorama.

    Args:
        height: Rows of the panorama (latitude resolution).
        width: Columns (longitude resolution); 2 * height by default.
        channels: 3 for RGB, or 4 for RGB plus an unused fourth channel (1.0).

    Returns:
        A C-contiguous float32 array of shape (height, width, channels) with
        linear RGB values (the sun's core is brighter than 1).
    """
    if width is None:
        width = 2 * height
    if height < 2 or width < 2:
        raise ValueError("the background needs at least 2 x 2 pixels")
    if channels not in (3, 4):
        raise ValueError("channels must be 3 or 4")
    rng = np.random.default_rng(_SEED)

    latitude = (0.5 - (np.arange(height) + 0.5) / height)[:, None] * np.pi  # +pi/2 is up
    longitude = ((np.arange(width) + 0.5) / width - 0.5)[None, :] * 2 * np.pi
    direction_x = np.cos(latitude) * np.sin(longitude)
    direction_y = np.sin(latitude) * np.ones_like(longitude)
    direction_z = -np.cos(latitude) * np.cos(longitude)
    elevation = np.clip(latitude / (np.pi / 2), -1.0, 1.0) * np.ones_like(longitude)

    # Sky: pale warm haze at the horizon to deep blue overhead.
    horizon = np.array([0.93, 0.86, 0.78])
    zenith = np.array([0.22, 0.45, 0.85])
    sky = _mix(horizon, zenith, np.clip(elevation, 0, 1) ** 0.35)

    # Clouds: fractal noise, thresholded, thinning out towards the zenith.
    clouds = _fractal_noise(rng, height, width, base_cells=8, octaves=5)
    cover = np.clip((clouds - 0.52) * 3.2, 0, 1) * np.clip(elevation * 4, 0, 1) * np.clip(1.6 - elevation * 1.8, 0, 1)
    sky = _mix(sky, np.array([0.98, 0.97, 0.95]), cover * 0.85)

    # Hills on the horizon: ridge lines from 1-D noise, edges antialiased over
    # one row; the farther range is hazier.
    rows_per_unit = height / 2  # image rows per unit of elevation (a quarter turn)
    far_ridge = 0.02 + 0.07 * _fractal_noise(rng, 2, width, base_cells=12, octaves=4)[0] ** 1.5
    near_ridge = 0.008 + 0.035 * _fractal_noise(rng, 2, width, base_cells=24, octaves=3)[1]
    above_horizon = elevation >= 0
    far_cover = np.clip((far_ridge[None, :] - elevation) * rows_per_unit, 0, 1) * above_horizon
    near_cover = np.clip((near_ridge[None, :] - elevation) * rows_per_unit, 0, 1) * above_horizon
    haze = np.clip(elevation / far_ridge[None, :], 0, 1)
    sky = _mix(sky, _mix(np.array([0.47, 0.55, 0.62]), np.array([0.68, 0.72, 0.76]), haze), far_cover)
    sky = _mix(sky, np.array([0.33, 0.45, 0.36]), near_cover)

    # Below the horizon: haze fading into dark meadow, so far floor tiles blend in.
    depth = np.clip(-elevation, 0, 1)
    meadow_texture = 0.85 + 0.3 * _fractal_noise(rng, height, width, base_cells=32, octaves=3)
    ground = _mix(np.array([0.62, 0.66, 0.66]), np.array([0.16, 0.22, 0.14]), np.clip(depth * 6, 0, 1) ** 0.7)
    ground = ground * np.where(depth > 0.02, meadow_texture, 1.0)[..., None]
    image = np.where((elevation < 0)[..., None], ground, sky)

    # The colours above were chosen as they should look on screen; the renderer
    # works in linear light (the demo gamma-encodes its output), so decode them.
    image = image**2.2

    # Sun: a wide warm glow and a bright core (linear light, brighter than 1).
    cos_sun = direction_x * SUN_DIRECTION[0] + direction_y * SUN_DIRECTION[1] + direction_z * SUN_DIRECTION[2]
    image += np.array([1.0, 0.8, 0.5]) * (0.35 * np.clip(cos_sun, 0, 1) ** 32)[..., None]
    image += np.array([8.0, 7.0, 5.5]) * (np.clip((cos_sun - 0.9990) / 0.0006, 0, 1))[..., None]

    if channels == 4:
        image = np.concatenate([image, np.ones((height, width, 1))], axis=2)
    return np.ascontiguousarray(image, dtype=np.float32)
