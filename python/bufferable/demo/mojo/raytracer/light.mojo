"""Point lights."""

from .vector import Vec3


@fieldwise_init
struct PointLight(Copyable, Movable):
    """A light that shines equally in every direction from one point."""

    var position: Vec3
    """Where the light is."""
    var color: Vec3
    """RGB intensity; channels may exceed 1 for a bright light."""
