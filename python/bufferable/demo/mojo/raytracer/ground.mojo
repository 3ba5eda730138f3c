"""The checkerboard ground: an infinite horizontal plane of two materials."""

from std.math import floor

from .material import Material
from .sphere import NO_HIT, SELF_HIT_EPSILON
from .vector import Vec3


@fieldwise_init
struct CheckerboardGround(Copyable, Movable):
    """The plane `y == height`, tiled in squares of two alternating materials."""

    var height: Float32
    """The y coordinate of the plane."""
    var tile_size: Float32
    """Edge length of one square tile."""
    var even_tile: Material
    """Material of the tiles whose integer coordinates sum to an even number."""
    var odd_tile: Material
    """Material of the other tiles."""

    @always_inline
    def hit_distance(self, origin: Vec3, direction: Vec3) -> Float32:
        """Distance along a ray to the plane, or `NO_HIT` if it never gets there.

        Args:
            origin: Start of the ray.
            direction: Unit direction of the ray.
        """
        if abs(direction[1]) < 1.0e-6:
            return NO_HIT
        var distance = (self.height - origin[1]) / direction[1]
        if distance > SELF_HIT_EPSILON:
            return distance
        return NO_HIT

    @always_inline
    def is_even_tile(self, point: Vec3) -> Bool:
        """Whether `point` (on the plane) lies on an even tile."""
        # Offset by half a tile so that x = 0 runs through the middle of a tile.
        var column = Int(floor(point[0] / self.tile_size + 0.5))
        var row = Int(floor(point[2] / self.tile_size))
        return ((column + row) & 1) == 0
