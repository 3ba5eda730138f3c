"""How a surface answers light: colour, diffuse albedo, highlight, mirror."""

from .vector import Vec3


@fieldwise_init
struct Material(Copyable, Movable):
    """The optical properties of a surface.

    The shaded colour of a point is
    `(1 - reflectivity) * (albedo * color * diffuse + specular * highlight)
    + reflectivity * color_of_reflected_ray`, where `diffuse` is the Lambert
    term and `highlight` the Blinn-Phong term with `specular_exponent`.
    """

    var color: Vec3
    """Base RGB colour, each channel in [0, 1]; also tints reflections."""
    var albedo: Float32
    """Fraction of the incoming light scattered diffusely."""
    var specular: Float32
    """Weight of the specular highlight."""
    var specular_exponent: Float32
    """Blinn-Phong exponent: larger values give smaller, sharper highlights."""
    var reflectivity: Float32
    """Fraction of the result taken from the mirror-reflected ray, in [0, 1]."""
