"""The Python extension module `raytracer_extension`: the bindings that let
Python call the `raytracer` package (render, images, their buffers).

Python API (errors are raised with the class they name: TypeError for an
argument of the wrong type or a background that exports no buffer,
ValueError for a bad size or background format, IndexError for a pixel
outside the image):

    render(width, height, background, samples_per_side, thread_count, scene)
        -> Image
        Renders `scene` at width x height: a 1-D numpy structured array of
        spheres (`bufferable.demo.scene.SPHERE_DTYPE`, any strides) that Mojo
        reads in place through a bufferable `RecordView` (ValueError naming
        the field if its records are not `SphereRecord`s). `background` is any object
        exporting a float32 (H, W, 3) or (H, W, 4) buffer (a numpy array, any
        strides): an equirectangular environment that Mojo reads in place
        through a bufferable `MemoryView`, held for the whole render. Each
        pixel averages samples_per_side**2 rays; thread_count threads render
        rows in parallel.
    render_rows(width, height, background, samples_per_side, thread_count,
                scene, first_row, row_count) -> Image
        Rows first_row..first_row+row_count of the picture `render` makes
        (the same pixels, bit for bit): one band, for rendering a picture in
        pieces on a cluster (`python -m bufferable demo --ray`).
    blank_image(height, width) -> Image
        A black image (to measure hand-offs at sizes that were not rendered).
        `Image` itself has no Python constructor.
    numpy.asarray(image), memoryview(image)
        The pixels themselves, no copy: float32, shape (H, W, 3), byte strides
        (16 * W, 16, 4) (each pixel is a 16-byte SIMD vector; the strides skip
        its padding lane). The array keeps the image alive.
    Image.to_numpy_copy() -> numpy.ndarray
        A new (H, W, 3) float32 array holding a copy of the pixels, made by a
        per-channel copy loop (`np.zeros`, then every channel of every pixel
        stored through a pointer): the copying hand-off, for comparison.
    Image.data_address() -> int
        Address of pixel (0, 0): where a zero-copy export points.
    Image.pixel(row, column) -> (r, g, b)
    Image.set_pixel(row, column, (r, g, b))
        Read or write one pixel from the Mojo side.
    Image.shape() -> (H, W, 3)
    Image.strides() -> (16 * W, 16, 4), in bytes.
    Image.export_stats() -> (live, acquired, released)
        Buffer exports live now, made, and released since the image was made.

Build (what `bufferable.demo.build` does, with the bufferable Mojo package and
this directory on the import path):
    mojo build -I $(python -m bufferable --mojo-path) -I . \
        raytracer_extension.mojo --emit shared-lib -o raytracer_extension.so
"""

from std.python import Python, PythonObject
from std.python.bindings import PythonModuleBuilder

from bufferable import (
    add_buffer_protocol,
    finalize_module,
    module_init_error,
    py_method,
    type_error,
    value_error,
)

from raytracer.environment import EnvironmentMap
from raytracer.image import Image, check_image_size
from raytracer.render import render
from raytracer.scene import demo_scene
from raytracer.scene_records import spheres_from_records
from raytracer.vector import vec3


def _check_arity(args: PythonObject, count: Int, signature: String) raises:
    """Raises TypeError unless `args` holds exactly `count` values."""
    var given = len(args)
    if given != count:
        raise type_error(
            String(
                signature, " takes ", count, " argument",
                "" if count == 1 else "s", " (", given, " given)",
            )
        )


def _int_argument(value: PythonObject, name: String) raises -> Int:
    """`value` as an Int, or TypeError naming the argument."""
    var builtins = Python.import_module("builtins")
    if not Bool(builtins.isinstance(value, builtins.int)) or Bool(
        builtins.isinstance(value, builtins.bool)
    ):
        raise type_error(
            String(
                name, " must be an int, not ", builtins.type(value).__name__
            )
        )
    return Int(py=value)


def _float_argument(value: PythonObject, name: String) raises -> Float32:
    """`value` (an int or a float) as a Float32, or TypeError."""
    var builtins = Python.import_module("builtins")
    if not Bool(
        builtins.isinstance(value, Python.tuple(builtins.int, builtins.float))
    ):
        raise type_error(
            String(
                name, " must be a number, not ", builtins.type(value).__name__
            )
        )
    return Float32(Float64(py=value))


def _render(mut module: PythonObject, mut args: PythonObject) raises -> PythonObject:
    comptime signature = (
        "render(width, height, background, samples_per_side, thread_count,"
        " scene)"
    )
    _check_arity(args, 6, signature)
    var rows = _int_argument(args[1], "height")
    return _render_band(args, 0, rows)


def _render_rows(
    mut module: PythonObject, mut args: PythonObject
) raises -> PythonObject:
    comptime signature = (
        "render_rows(width, height, background, samples_per_side,"
        " thread_count, scene, first_row, row_count)"
    )
    _check_arity(args, 8, signature)
    var first = _int_argument(args[6], "first_row")
    var count = _int_argument(args[7], "row_count")
    var height = _int_argument(args[1], "height")
    if first < 0 or count < 1 or first + count > height:
        raise value_error(
            String(
                "rows ", first, "..", first + count,
                " are not a band of a picture ", height, " rows high",
            )
        )
    return _render_band(args, first, count)


def _render_band(
    args: PythonObject, first_row: Int, row_count: Int
) raises -> PythonObject:
    """Renders rows `first_row`..+`row_count` of the picture `args` describes
    (render's first six arguments) into a new Image of that many rows."""
    var columns = _int_argument(args[0], "width")
    var height = _int_argument(args[1], "height")
    check_image_size(height, columns)
    var samples = _int_argument(args[3], "samples_per_side")
    if samples < 1 or samples > 16:
        raise value_error(
            String("samples_per_side must be in 1..16, got ", samples)
        )
    var threads = _int_argument(args[4], "thread_count")
    if threads < 1 or threads > 1024:
        raise value_error(
            String("thread_count must be in 1..1024, got ", threads)
        )
    # The environment holds a MemoryView of the background: the buffer stays
    # acquired (and the array alive) until `environment` dies after render().
    var environment = EnvironmentMap(args[2])
    var scene = demo_scene(spheres_from_records(args[5]))
    var image = Image(row_count, columns)
    render(scene, environment, image, threads, samples, first_row, height)
    _ = environment^
    return PythonObject(alloc=image^)


def _blank_image(
    mut module: PythonObject, mut args: PythonObject
) raises -> PythonObject:
    _check_arity(args, 2, "blank_image(height, width)")
    var rows = _int_argument(args[0], "height")
    var columns = _int_argument(args[1], "width")
    check_image_size(rows, columns)
    return PythonObject(alloc=Image(rows, columns))


def _image_to_numpy_copy(
    mut py_self: PythonObject, mut args: PythonObject
) raises -> PythonObject:
    _check_arity(args, 0, "to_numpy_copy()")
    return py_self.downcast_value_ptr[Image]()[].to_numpy_copy()


def _image_data_address(
    mut py_self: PythonObject, mut args: PythonObject
) raises -> PythonObject:
    _check_arity(args, 0, "data_address()")
    return PythonObject(py_self.downcast_value_ptr[Image]()[].data_address())


def _image_pixel(
    mut py_self: PythonObject, mut args: PythonObject
) raises -> PythonObject:
    _check_arity(args, 2, "pixel(row, column)")
    var pixel = py_self.downcast_value_ptr[Image]()[].pixel(
        _int_argument(args[0], "row"), _int_argument(args[1], "column")
    )
    return Python.tuple(
        Float64(pixel[0]), Float64(pixel[1]), Float64(pixel[2])
    )


def _image_set_pixel(
    mut py_self: PythonObject, mut args: PythonObject
) raises -> PythonObject:
    _check_arity(args, 3, "set_pixel(row, column, (r, g, b))")
    var rgb = args[2]
    var builtins = Python.import_module("builtins")
    if not Bool(
        builtins.isinstance(rgb, Python.tuple(builtins.tuple, builtins.list))
    ) or len(rgb) != 3:
        raise type_error("set_pixel needs three values (r, g, b)")
    var value = vec3(
        _float_argument(rgb[0], "r"),
        _float_argument(rgb[1], "g"),
        _float_argument(rgb[2], "b"),
    )
    py_self.downcast_value_ptr[Image]()[].set_pixel(
        _int_argument(args[0], "row"), _int_argument(args[1], "column"), value
    )
    return PythonObject(None)


def _image_shape(
    mut py_self: PythonObject, mut args: PythonObject
) raises -> PythonObject:
    _check_arity(args, 0, "shape()")
    ref image = py_self.downcast_value_ptr[Image]()[]
    return Python.tuple(
        Int(image.shape[0]), Int(image.shape[1]), Int(image.shape[2])
    )


def _image_strides(
    mut py_self: PythonObject, mut args: PythonObject
) raises -> PythonObject:
    _check_arity(args, 0, "strides()")
    ref image = py_self.downcast_value_ptr[Image]()[]
    return Python.tuple(
        Int(image.strides[0]), Int(image.strides[1]), Int(image.strides[2])
    )


def _image_export_stats(
    mut py_self: PythonObject, mut args: PythonObject
) raises -> PythonObject:
    _check_arity(args, 0, "export_stats()")
    ref exports = py_self.downcast_value_ptr[Image]()[].exports
    return Python.tuple(exports.live, exports.acquired, exports.released)


@export
def PyInit_raytracer_extension() abi("C") -> PythonObject:
    """Creates the `raytracer_extension` module.

    Returns:
        The module, or NULL with ImportError set if it cannot be built (e.g.
        bufferable's core is missing).
    """
    try:
        var module = PythonModuleBuilder("raytracer_extension")
        # No Python initializer: `Image()` raises TypeError; images come
        # from render() and blank_image().
        ref image_type = module.add_type[Image]("Image")
        _ = image_type.def_py_c_method(
            py_method[_image_to_numpy_copy],
            "to_numpy_copy",
            "A new (H, W, 3) float32 numpy array holding a copy of the pixels.",
        )
        _ = image_type.def_py_c_method(
            py_method[_image_data_address],
            "data_address",
            "Address of pixel (0, 0), channel 0.",
        )
        _ = image_type.def_py_c_method(
            py_method[_image_pixel],
            "pixel",
            "pixel(row, column) -> (r, g, b), read in Mojo.",
        )
        _ = image_type.def_py_c_method(
            py_method[_image_set_pixel],
            "set_pixel",
            "set_pixel(row, column, (r, g, b)), written in Mojo.",
        )
        _ = image_type.def_py_c_method(
            py_method[_image_shape], "shape", "(H, W, 3)."
        )
        _ = image_type.def_py_c_method(
            py_method[_image_strides], "strides", "Byte strides (16 * W, 16, 4)."
        )
        _ = image_type.def_py_c_method(
            py_method[_image_export_stats],
            "export_stats",
            "(live, acquired, released) buffer exports of this image.",
        )
        add_buffer_protocol[Image](image_type)
        module.def_py_c_function(
            py_method[_render],
            "render",
            (
                "render(width, height, background, samples_per_side,"
                " thread_count, scene) -> Image"
            ),
        )
        module.def_py_c_function(
            py_method[_render_rows],
            "render_rows",
            (
                "render_rows(width, height, background, samples_per_side,"
                " thread_count, scene, first_row, row_count) -> Image: rows"
                " first_row.. of the picture render() makes, exactly"
            ),
        )
        module.def_py_c_function(
            py_method[_blank_image],
            "blank_image",
            "blank_image(height, width) -> Image: a black image.",
        )
        return finalize_module(module)
    except e:
        # A NULL module with ImportError set: `import` raises it in Python.
        return module_init_error(e)
