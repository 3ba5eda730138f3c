"""The demo's scene as a numpy structured array: one record per sphere (centre, radius, colour,
material), which the Mojo renderer reads in place through bufferable's ``RecordView`` (its Mojo
twin is ``SphereRecord`` in ``mojo/raytracer/scene_records.mojo``).

Edit a scene in numpy and render it::

    python -m bufferable demo --save-scene scene.npy     # the default scene
    python -c "import numpy as np; s = np.load('scene.npy'); s['radius'] *= 1.2; np.save('scene.npy', s)"
    python -m bufferable demo --scene scene.npy
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import numpy.typing as npt

#: One sphere: float32 fields, no padding (44 bytes), the layout of Mojo's ``SphereRecord``.
SPHERE_DTYPE = np.dtype([
    ("center", "<f4", (3,)),
    ("radius", "<f4"),
    ("color", "<f4", (3,)),
    ("albedo", "<f4"),
    ("specular", "<f4"),
    ("specular_exponent", "<f4"),
    ("reflectivity", "<f4"),
])

#: The default scene: a mirror in the middle, a glossy red ball and a matte blue one beside it, a
#: golden ball behind, a small ivory one in front and a green one at the back.
_DEFAULT = [
    # center, radius, color, albedo, specular, specular_exponent, reflectivity
    ((0.0, 0.0, -7.0), 1.5, (0.90, 0.90, 0.92), 0.05, 1.0, 1500.0, 0.85),
    ((-3.1, -0.5, -6.0), 1.0, (0.70, 0.03, 0.02), 0.9, 0.6, 80.0, 0.10),
    ((2.9, -0.6, -5.6), 0.9, (0.03, 0.10, 0.62), 0.95, 0.12, 12.0, 0.0),
    ((1.6, -0.1, -10.5), 1.4, (0.95, 0.55, 0.10), 0.8, 0.9, 200.0, 0.25),
    ((-0.9, -1.05, -4.2), 0.45, (0.85, 0.80, 0.62), 0.85, 0.5, 60.0, 0.06),
    ((-2.3, -0.85, -9.8), 0.65, (0.03, 0.45, 0.10), 0.85, 0.5, 50.0, 0.12),
]


def default_scene() -> npt.NDArray[np.void]:
    """A new array of the default scene's spheres (``SPHERE_DTYPE``)."""
    return np.array(_DEFAULT, dtype=SPHERE_DTYPE)


def save_scene(path: str | os.PathLike[str], scene: npt.NDArray[Any] | None = None) -> None:
    """Writes ``scene`` (the default scene if None) as a ``.npy`` file.

    Raises:
        OSError: The file cannot be written.
    """
    np.save(os.fspath(path), default_scene() if scene is None else scene, allow_pickle=False)


def load_scene(path: str | os.PathLike[str]) -> npt.NDArray[Any]:
    """Reads a scene written by ``save_scene`` (or any ``.npy`` file of ``SPHERE_DTYPE`` records).

    The renderer checks the records field by field when it reads them (a ValueError names the
    first field that differs from ``SPHERE_DTYPE``).

    Raises:
        OSError: The file cannot be read.
        ValueError: The file is not a ``.npy`` array (pickled objects are refused).
    """
    scene: npt.NDArray[Any] = np.load(os.fspath(path), allow_pickle=False)
    return scene
