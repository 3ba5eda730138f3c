"""The ray tracer as a Python extension module, `_raytrace`.

Python API:
    render(width, height, background, samples_per_side, thread_count) -> Image
        Renders the demo scene at width x height. `background` is a float32
        numpy array of shape (H, W, 3) or (H, W, 4), an equirectangular
        environment, read in place. Each pixel averages samples_per_side**2
        rays; thread_count threads render rows in parallel.
    Image.to_numpy_copy() -> numpy.ndarray
        A new (H, W, 3) float32 array holding a copy of the pixels (the old
        notebook's hand-off, kept for comparison).
    Image.data_address() -> int
        Address of pixel (0, 0): where a zero-copy export points.
    Image.pixel(row, column) -> (r, g, b)
    Image.set_pixel(row, column, (r, g, b))
        Read or write one pixel from the Mojo side.
    Image.shape() -> (H, W, 3)
    Image.strides() -> (16 * W, 16, 4), in bytes.

Build: mojo build _raytrace.mojo --emit shared-lib -o _raytrace.so
(with this directory on the import path).
"""

from std.python import Python, PythonObject
from std.python.bindings import PythonModuleBuilder, raise_python_exception

from background_bridge import environment_from_numpy_bridge
from raytracer.image import Image
from raytracer.render import render
from raytracer.scene import demo_scene
from raytracer.vector import vec3


def _render(
    width: PythonObject,
    height: PythonObject,
    background: PythonObject,
    samples_per_side: PythonObject,
    thread_count: PythonObject,
) raises -> PythonObject:
    var columns = Int(py=width)
    var rows = Int(py=height)
    if columns < 1 or rows < 1:
        raise Error("width and height must be at least 1")
    var samples = Int(py=samples_per_side)
    if samples < 1 or samples > 16:
        raise Error("samples_per_side must be in 1..16")
    var threads = max(Int(py=thread_count), 1)
    var environment = environment_from_numpy_bridge(background)
    var scene = demo_scene()
    var image = Image(rows, columns)
    render(scene, environment, image, threads, samples)
    return PythonObject(alloc=image^)


def _image_to_numpy_copy(py_self: PythonObject) raises -> PythonObject:
    return py_self.downcast_value_ptr[Image]()[].to_numpy_copy()


def _image_data_address(py_self: PythonObject) raises -> PythonObject:
    return PythonObject(py_self.downcast_value_ptr[Image]()[].data_address())


def _image_pixel(
    py_self: PythonObject, row: PythonObject, column: PythonObject
) raises -> PythonObject:
    var pixel = py_self.downcast_value_ptr[Image]()[].pixel(
        Int(py=row), Int(py=column)
    )
    return Python.tuple(
        Float64(pixel[0]), Float64(pixel[1]), Float64(pixel[2])
    )


def _image_set_pixel(
    py_self: PythonObject,
    row: PythonObject,
    column: PythonObject,
    rgb: PythonObject,
) raises -> PythonObject:
    if len(rgb) != 3:
        raise Error("set_pixel needs three values (r, g, b)")
    var value = vec3(
        Float32(Float64(py=rgb[0])),
        Float32(Float64(py=rgb[1])),
        Float32(Float64(py=rgb[2])),
    )
    py_self.downcast_value_ptr[Image]()[].set_pixel(
        Int(py=row), Int(py=column), value
    )
    return PythonObject(None)


def _image_shape(py_self: PythonObject) raises -> PythonObject:
    ref image = py_self.downcast_value_ptr[Image]()[]
    return Python.tuple(
        Int(image.shape[0]), Int(image.shape[1]), Int(image.shape[2])
    )


def _image_strides(py_self: PythonObject) raises -> PythonObject:
    ref image = py_self.downcast_value_ptr[Image]()[]
    return Python.tuple(
        Int(image.strides[0]), Int(image.strides[1]), Int(image.strides[2])
    )


@export
def PyInit__raytrace() abi("C") -> PythonObject:
    """Creates the `_raytrace` module."""
    try:
        var module = PythonModuleBuilder("_raytrace")
        _ = (
            module.add_type[Image]("_raytrace.Image")
            .def_method[_image_to_numpy_copy](
                "to_numpy_copy",
                "A new (H, W, 3) float32 numpy array holding a copy of the pixels.",
            )
            .def_method[_image_data_address](
                "data_address", "Address of pixel (0, 0), channel 0."
            )
            .def_method[_image_pixel](
                "pixel", "pixel(row, column) -> (r, g, b), read in Mojo."
            )
            .def_method[_image_set_pixel](
                "set_pixel", "set_pixel(row, column, (r, g, b)), written in Mojo."
            )
            .def_method[_image_shape]("shape", "(H, W, 3).")
            .def_method[_image_strides](
                "strides", "Byte strides (16 * W, 16, 4)."
            )
        )
        module.def_function[_render](
            "render",
            (
                "render(width, height, background, samples_per_side,"
                " thread_count) -> Image"
            ),
        )
        return module.finalize()
    except e:
        # A NULL module with the exception set: `import` raises it in Python.
        return PythonObject(
            from_owned=raise_python_exception(
                Error("could not create the _raytrace module: ", e)
            )
        )
