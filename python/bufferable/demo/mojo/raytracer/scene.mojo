"""The camera, the objects in view, and the demo's stage (floor, lights,
camera); the spheres come from a numpy array (`scene_records`)."""

from std.math import tan, pi

from .ground import CheckerboardGround
from .light import PointLight
from .material import Material
from .sphere import NO_HIT, Sphere
from .vector import Vec3, cross, normalize, splat3, vec3


@fieldwise_init
struct Camera(Copyable, Movable):
    """A pinhole camera: an eye, an orthonormal basis and a field of view."""

    var eye: Vec3
    """Where the rays start."""
    var forward: Vec3
    """Unit vector along the line of sight."""
    var right: Vec3
    """Unit vector towards the right edge of the image."""
    var up: Vec3
    """Unit vector towards the top edge of the image."""
    var tan_half_fov: Float32
    """tan(vertical field of view / 2)."""

    @staticmethod
    def looking_at(
        eye: Vec3, target: Vec3, vertical_fov_degrees: Float32
    ) -> Camera:
        """A camera at `eye` looking at `target`, with world +y up."""
        var forward = normalize(target - eye)
        var right = normalize(cross(forward, vec3(0, 1, 0)))
        var up = cross(right, forward)
        return Camera(
            eye,
            forward,
            right,
            up,
            tan(vertical_fov_degrees * Float32(pi) / 360),
        )

    @always_inline
    def ray_direction(
        self, x: Float32, y: Float32, width: Int, height: Int
    ) -> Vec3:
        """Unit direction through image position (`x`, `y`) in pixels.

        (0, 0) is the top-left corner of the image, (width, height) the
        bottom-right one; pixel centres are at half-integers.
        """
        var aspect = Float32(width) / Float32(height)
        var screen_x = (2 * x / Float32(width) - 1) * self.tan_half_fov * aspect
        var screen_y = (1 - 2 * y / Float32(height)) * self.tan_half_fov
        return normalize(
            self.forward + self.right * screen_x + self.up * screen_y
        )


comptime HIT_NOTHING = -1
"""`Hit.sphere_index` when the ray left the scene."""

comptime HIT_GROUND = -2
"""`Hit.sphere_index` when the ray hit the ground."""


@fieldwise_init
struct Hit(Copyable, Movable):
    """The first surface a ray meets."""

    var distance: Float32
    """Distance along the ray (`NO_HIT` if nothing was hit)."""
    var sphere_index: Int
    """Index into `Scene.spheres`, or `HIT_GROUND`, or `HIT_NOTHING`."""


struct Scene(Movable):
    """Everything the renderer draws, except the environment image."""

    var spheres: List[Sphere]
    """The spheres."""
    var lights: List[PointLight]
    """The point lights (hard shadows are cast for each)."""
    var ground: CheckerboardGround
    """The floor."""
    var camera: Camera
    """The viewpoint."""
    var ambient: Float32
    """Weight of the light taken from the environment in the normal's
    direction, a cheap stand-in for indirect light."""
    var fog_distance: Float32
    """Distance over which the ground fades into the environment (e-folding)."""

    def __init__(
        out self,
        var spheres: List[Sphere],
        var lights: List[PointLight],
        var ground: CheckerboardGround,
        var camera: Camera,
        ambient: Float32,
        fog_distance: Float32,
    ):
        """Assembles a scene from its parts."""
        self.spheres = spheres^
        self.lights = lights^
        self.ground = ground^
        self.camera = camera^
        self.ambient = ambient
        self.fog_distance = fog_distance

    def first_hit(self, origin: Vec3, direction: Vec3) -> Hit:
        """The nearest surface along a ray."""
        var nearest = self.ground.hit_distance(origin, direction)
        var index = HIT_GROUND if nearest < NO_HIT else HIT_NOTHING
        for i in range(len(self.spheres)):
            var distance = self.spheres[i].hit_distance(origin, direction)
            if distance < nearest:
                nearest = distance
                index = i
        return Hit(nearest, index)

    def is_blocked(self, origin: Vec3, direction: Vec3, distance: Float32) -> Bool:
        """Whether anything lies on the ray within `distance` (shadow test)."""
        for i in range(len(self.spheres)):
            if self.spheres[i].hit_distance(origin, direction) < distance:
                return True
        return self.ground.hit_distance(origin, direction) < distance


def demo_scene(var spheres: List[Sphere]) -> Scene:
    """The demo's stage around `spheres` (read from the scene array): a
    checkerboard floor, two lights, seen from slightly above.

    Args:
        spheres: The spheres to draw.

    Returns:
        The scene.
    """
    var lights = List[PointLight]()
    lights.append(PointLight(vec3(-10.0, 9.0, -3.0), vec3(1.0, 0.95, 0.85)))
    lights.append(PointLight(vec3(9.0, 6.0, -2.0), vec3(0.35, 0.4, 0.5)))

    var ground = CheckerboardGround(
        -1.5,
        1.0,
        Material(vec3(0.80, 0.78, 0.72), 0.8, 0.25, 40.0, 0.10),
        Material(vec3(0.025, 0.03, 0.04), 0.8, 0.25, 40.0, 0.10),
    )
    var camera = Camera.looking_at(vec3(0.0, 1.4, 2.0), vec3(0.0, -0.3, -7.0), 50.0)
    return Scene(spheres^, lights^, ground^, camera^, 0.18, 40.0)
