"""Shading, hard shadows, mirror reflections, and the row-parallel render loop.

Each pixel shoots `samples_per_side`^2 rays through a regular grid inside the
pixel. A ray is followed through up to `MAX_REFLECTION_DEPTH` mirror bounces;
at every surface the colour is Lambert diffuse plus a Blinn-Phong highlight for
each point light that is not in shadow, plus a little light from the
environment. Rows go to worker threads through a shared atomic row counter.
"""

from std.atomic import Atomic
from std.math import exp, log

from .environment import EnvironmentMap
from .image import Image, Pixel
from .material import Material
from .scene import HIT_GROUND, HIT_NOTHING, Scene
from .sphere import NO_HIT
from .threads import ThreadArgument, run_on_threads
from .vector import Vec3, dot, length, normalize, reflect, splat3

comptime MAX_REFLECTION_DEPTH = 4
"""How many times a ray may bounce off mirrors after its first hit."""

comptime SURFACE_OFFSET: Float32 = 2.0e-3
"""Secondary rays start this far off the surface, along its normal."""


@always_inline
def _power(base: Float32, exponent: Float32) -> Float32:
    """`base ** exponent` for base >= 0."""
    if base <= 0:
        return 0
    return exp(exponent * log(base))


def shade(
    scene: Scene,
    environment: EnvironmentMap,
    point: Vec3,
    normal: Vec3,
    view_direction: Vec3,
    material: Material,
) -> Vec3:
    """The local colour of a surface point, before reflections.

    Args:
        scene: Supplies the lights and the shadow casters.
        environment: Supplies the ambient light.
        point: The surface point.
        normal: Unit surface normal, facing the incoming ray.
        view_direction: Unit direction of the incoming ray.
        material: The surface's material.
    """
    var diffuse = Vec3(0)
    var highlight = Vec3(0)
    var shadow_origin = point + normal * SURFACE_OFFSET
    for i in range(len(scene.lights)):
        var to_light = scene.lights[i].position - point
        var distance = length(to_light)
        var light_direction = to_light / distance
        var facing = dot(normal, light_direction)
        if facing <= 0:
            continue
        if scene.is_blocked(shadow_origin, light_direction, distance):
            continue
        var light_color = scene.lights[i].color
        diffuse += light_color * facing
        var halfway = normalize(light_direction - view_direction)
        highlight += light_color * _power(
            dot(normal, halfway), material.specular_exponent
        )
    var ambient = environment.sample(normal) * scene.ambient
    return (
        material.color * (diffuse * material.albedo + ambient)
        + highlight * material.specular
    )


def trace(
    scene: Scene, environment: EnvironmentMap, origin: Vec3, direction: Vec3
) -> Vec3:
    """The colour seen along a ray, following mirror reflections.

    Args:
        scene: What the ray can hit.
        environment: What the ray sees when it leaves the scene.
        origin: Start of the ray.
        direction: Unit direction of the ray.
    """
    var color = Vec3(0)
    var weight: Float32 = 1
    var ray_origin = origin
    var ray_direction = direction
    for _ in range(MAX_REFLECTION_DEPTH + 1):
        var hit = scene.first_hit(ray_origin, ray_direction)
        if hit.sphere_index == HIT_NOTHING:
            return color + environment.sample(ray_direction) * weight
        var point = ray_origin + ray_direction * hit.distance
        var normal: Vec3
        var material: Material
        if hit.sphere_index == HIT_GROUND:
            normal = Vec3(0, 1, 0, 0)
            if scene.ground.is_even_tile(point):
                material = scene.ground.even_tile.copy()
            else:
                material = scene.ground.odd_tile.copy()
            # Far away, the floor fades into the horizon of the environment.
            var fog = 1 - exp(-hit.distance / scene.fog_distance)
            color += environment.sample(ray_direction) * (weight * fog)
            weight *= 1 - fog
        else:
            ref sphere = scene.spheres[hit.sphere_index]
            normal = (point - sphere.center) / sphere.radius
            material = sphere.material.copy()
        if dot(normal, ray_direction) > 0:
            normal = -normal
        var local = shade(
            scene, environment, point, normal, ray_direction, material
        )
        color += local * (weight * (1 - material.reflectivity))
        weight *= material.reflectivity
        ray_direction = reflect(ray_direction, normal)
        ray_origin = point + normal * SURFACE_OFFSET
        if weight < 1.0e-3:
            return color
    # Out of bounces: what is left of the ray sees the environment.
    return color + environment.sample(ray_direction) * weight


def render_row(
    scene: Scene,
    environment: EnvironmentMap,
    image: Image,
    row: Int,
    samples_per_side: Int,
    first_row: Int,
    full_height: Int,
):
    """Renders one row of `image`, averaging `samples_per_side`^2 rays a pixel.
    `image` is rows `first_row`.. of a picture `full_height` rows high (a band
    of it, or all of it), so `row` is the picture's row `first_row + row`.
    """
    var out = image.unsafe_row_pointer(row)
    var step = 1 / Float32(samples_per_side)
    var sample_weight = step * step
    for column in range(image.width):
        var sum = Vec3(0)
        for sy in range(samples_per_side):
            var y = Float32(first_row + row) + (Float32(sy) + 0.5) * step
            for sx in range(samples_per_side):
                var x = Float32(column) + (Float32(sx) + 0.5) * step
                var direction = scene.camera.ray_direction(
                    x, y, image.width, full_height
                )
                sum += trace(scene, environment, scene.camera.eye, direction)
        var pixel = sum * sample_weight
        pixel[3] = 0
        out.unsafe_offset(column)[] = pixel


struct _RenderJob:
    """What the render threads share: the inputs and the next row to take."""

    var scene: Pointer[Scene, ImmUntrackedOrigin]
    var environment: Pointer[EnvironmentMap, ImmUntrackedOrigin]
    var image: Pointer[Image, ImmUntrackedOrigin]
    var samples_per_side: Int
    var first_row: Int
    var full_height: Int
    var next_row: Atomic[Int]

    def __init__(
        out self,
        scene: Scene,
        environment: EnvironmentMap,
        image: Image,
        samples_per_side: Int,
        first_row: Int,
        full_height: Int,
    ):
        self.scene = Pointer(to=scene).unsafe_origin_cast[ImmUntrackedOrigin]()
        self.environment = Pointer(to=environment).unsafe_origin_cast[ImmUntrackedOrigin]()
        self.image = Pointer(to=image).unsafe_origin_cast[ImmUntrackedOrigin]()
        self.samples_per_side = samples_per_side
        self.first_row = first_row
        self.full_height = full_height
        self.next_row = Atomic[Int](0)


def _render_rows_until_done(argument: ThreadArgument) abi("C") -> ThreadArgument:
    """Thread entry: takes rows from the job's counter until none is left."""
    var job = argument.unsafe_bitcast[_RenderJob]()
    var height = job[].image[].height
    while True:
        var row = Int(job[].next_row.fetch_add(1))
        if row >= height:
            return argument
        render_row(
            job[].scene[],
            job[].environment[],
            job[].image[],
            row,
            job[].samples_per_side,
            job[].first_row,
            job[].full_height,
        )


def render(
    scene: Scene,
    environment: EnvironmentMap,
    mut image: Image,
    thread_count: Int,
    samples_per_side: Int = 1,
    first_row: Int = 0,
    full_height: Int = 0,
):
    """Renders `scene` into every pixel of `image`, rows in parallel.

    Args:
        scene: What to draw.
        environment: The background; must stay valid during the call.
        image: Receives the picture, or the band of it that starts at
            `first_row`; its width sets the horizontal resolution.
        thread_count: Threads to use, the caller's included.
        samples_per_side: Antialiasing: each pixel averages this many squared
            rays on a regular grid.
        first_row: The picture's row that is `image`'s first.
        full_height: The picture's height (0: `image.height`, the whole
            picture). A band renders exactly the rows the whole would.
    """
    var height = full_height if full_height > 0 else image.height
    var job = _RenderJob(
        scene, environment, image, max(samples_per_side, 1), first_row, height
    )
    run_on_threads(
        _render_rows_until_done,
        Pointer(to=job).unsafe_bitcast[NoneType]().unsafe_origin_cast[MutUntrackedOrigin](),
        thread_count,
    )
    _ = job^
