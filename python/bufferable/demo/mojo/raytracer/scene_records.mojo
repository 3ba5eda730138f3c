"""The scene's spheres as records: `SphereRecord` is one sphere laid out as a
numpy structured array's element (all float32, no padding), and
`spheres_from_records` reads such an array in place through bufferable's
`RecordView`, so a scene made or edited in numpy is what Mojo renders.

numpy's dtype for it (`bufferable.demo.scene.SPHERE_DTYPE`):
    [('center', '<f4', (3,)), ('radius', '<f4'), ('color', '<f4', (3,)),
     ('albedo', '<f4'), ('specular', '<f4'), ('specular_exponent', '<f4'),
     ('reflectivity', '<f4')]
"""

from std.python import PythonObject

from bufferable import RecordView, value_error

from .material import Material
from .sphere import Sphere
from .vector import vec3


struct SphereRecord(Copyable):
    """One sphere of a scene array: centre, radius, and its material."""

    var center: Array[Float32, 3]
    """Centre (x, y, z)."""
    var radius: Float32
    """Radius (> 0)."""
    var color: Array[Float32, 3]
    """Base RGB colour, each channel in [0, 1]."""
    var albedo: Float32
    """Fraction of the incoming light scattered diffusely."""
    var specular: Float32
    """Weight of the specular highlight."""
    var specular_exponent: Float32
    """Blinn-Phong exponent."""
    var reflectivity: Float32
    """Fraction taken from the mirror-reflected ray, in [0, 1]."""


comptime MAX_SPHERES = 4096
"""The most spheres a scene may hold (every ray tests every sphere)."""


def spheres_from_records(obj: PythonObject) raises -> List[Sphere]:
    """Reads a 1-D buffer of `SphereRecord`s (a numpy structured array of
    `SPHERE_DTYPE`, any strides) in place.

    Args:
        obj: The scene array.

    Returns:
        The spheres, in order.

    Raises:
        ValueError if the array's records are not `SphereRecord`s (the message
        names the first field that differs), if it is not 1-D, holds more than
        `MAX_SPHERES` spheres, or a radius is not positive; TypeError if it
        exports no buffer.
    """
    var records = RecordView[SphereRecord, 1, mut=False](obj)
    if len(records) > MAX_SPHERES:
        raise value_error(
            String(
                "the scene has ", len(records), " spheres, at most ",
                MAX_SPHERES, " are allowed",
            )
        )
    var spheres = List[Sphere](capacity=len(records))
    for i in range(len(records)):
        ref r = records[i]
        if not r.radius > 0:
            raise value_error(
                String("sphere ", i, " has radius ", r.radius, "; it must be > 0")
            )
        spheres.append(
            Sphere(
                vec3(r.center[0], r.center[1], r.center[2]),
                r.radius,
                Material(
                    vec3(r.color[0], r.color[1], r.color[2]),
                    r.albedo,
                    r.specular,
                    r.specular_exponent,
                    r.reflectivity,
                ),
            )
        )
    return spheres^
