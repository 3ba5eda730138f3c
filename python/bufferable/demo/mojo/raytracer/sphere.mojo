"""Spheres and ray-sphere intersection."""

from std.math import sqrt

from .material import Material
from .vector import Vec3, dot

comptime NO_HIT: Float32 = Float32.MAX
"""The distance reported when a ray misses."""

comptime SELF_HIT_EPSILON: Float32 = 1.0e-3
"""Hits nearer than this are ignored, so a ray leaving a surface misses it."""


@fieldwise_init
struct Sphere(Copyable, Movable):
    """A sphere with a material."""

    var center: Vec3
    """Centre of the sphere."""
    var radius: Float32
    """Radius of the sphere."""
    var material: Material
    """Surface of the sphere."""

    @always_inline
    def hit_distance(self, origin: Vec3, direction: Vec3) -> Float32:
        """Distance along a ray to its first hit with the sphere, or `NO_HIT`.

        Args:
            origin: Start of the ray.
            direction: Unit direction of the ray.

        Returns:
            The smallest distance greater than `SELF_HIT_EPSILON`, or `NO_HIT`.
        """
        var to_center = self.center - origin
        var along = dot(to_center, direction)
        var miss_squared = dot(to_center, to_center) - along * along
        var radius_squared = self.radius * self.radius
        if miss_squared > radius_squared:
            return NO_HIT
        var half_chord = sqrt(radius_squared - miss_squared)
        var near = along - half_chord
        if near > SELF_HIT_EPSILON:
            return near
        var far = along + half_chord
        if far > SELF_HIT_EPSILON:
            return far
        return NO_HIT
