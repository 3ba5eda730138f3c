"""Three-component float32 vectors stored in the lanes of a 4-lane SIMD vector.

Points, directions and RGB colours all use `Vec3`: lanes 0-2 hold x, y, z (or r,
g, b) and lane 3 is kept at zero, so a whole vector is one SIMD register and an
image pixel is 16 bytes.
"""

from std.math import rsqrt, sqrt

comptime Vec3 = SIMD[DType.float32, 4]
"""A point, direction or RGB colour in lanes 0-2; lane 3 stays zero."""


@always_inline
def vec3(x: Float32, y: Float32, z: Float32) -> Vec3:
    """Makes a vector from its three components (lane 3 is zero)."""
    return Vec3(x, y, z, 0)


@always_inline
def splat3(value: Float32) -> Vec3:
    """Makes a vector with `value` in the three used lanes (lane 3 is zero)."""
    return Vec3(value, value, value, 0)


@always_inline
def dot(a: Vec3, b: Vec3) -> Float32:
    """The dot product of two vectors."""
    return (a * b).reduce_add()


@always_inline
def length(a: Vec3) -> Float32:
    """The Euclidean length of a vector."""
    return sqrt(dot(a, a))


@always_inline
def normalize(a: Vec3) -> Vec3:
    """The unit vector in the direction of `a` (which must not be zero)."""
    return a * rsqrt(dot(a, a))


@always_inline
def cross(a: Vec3, b: Vec3) -> Vec3:
    """The cross product `a x b`."""
    var a_yzx = a.shuffle[1, 2, 0, 3]()
    var b_yzx = b.shuffle[1, 2, 0, 3]()
    var c = a * b_yzx - a_yzx * b
    return c.shuffle[1, 2, 0, 3]()


@always_inline
def reflect(incident: Vec3, normal: Vec3) -> Vec3:
    """Mirrors the direction `incident` about the unit `normal`."""
    return incident - normal * (2 * dot(incident, normal))
