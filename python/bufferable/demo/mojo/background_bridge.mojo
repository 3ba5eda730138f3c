"""TEMPORARY BRIDGE: read a numpy background through `__array_interface__`.

This module exists only until bufferable's `MemoryView` lands. It asks numpy
for the address and byte strides of a float32 (H, W, 3) or (H, W, 4) array and
describes that memory as an `EnvironmentMap`, without copying. It is numpy-only
(no buffer protocol, no release hook, no lifetime tracking: the caller keeps
the array alive for the duration of the render). Replace
`environment_from_numpy_bridge(background)` with a `MemoryView[DType.float32,
3](background)` and `environment_from_view(view)`; then delete this file.
"""

from std.python import PythonObject

from raytracer.environment import EnvironmentMap


def environment_from_numpy_bridge(
    background: PythonObject,
) raises -> EnvironmentMap:
    """TEMPORARY: views a numpy float32 (H, W, 3|4) array as an environment.

    Args:
        background: A numpy array of dtype float32 (native byte order) and
            shape (H, W, 3) or (H, W, 4), any strides; it must stay alive and
            unchanged while the returned value is used.

    Returns:
        An `EnvironmentMap` over the array's memory (no copy).

    Raises:
        If `background` is not such an array.
    """
    var interface = background.__array_interface__
    var typestr = String(interface["typestr"])
    if typestr != "<f4":
        raise Error(
            "background must be a float32 array (typestr '<f4'), got '",
            typestr,
            "'",
        )
    var shape = interface["shape"]
    if len(shape) != 3:
        raise Error("background must have shape (H, W, 3) or (H, W, 4)")
    var height = Int(py=shape[0])
    var width = Int(py=shape[1])
    var channels = Int(py=shape[2])
    if height < 1 or width < 1 or (channels != 3 and channels != 4):
        raise Error("background must have shape (H, W, 3) or (H, W, 4)")
    var row_stride = width * channels * 4
    var column_stride = channels * 4
    var channel_stride = 4
    var strides = interface["strides"]
    if strides is not PythonObject(None):
        row_stride = Int(py=strides[0])
        column_stride = Int(py=strides[1])
        channel_stride = Int(py=strides[2])
    return EnvironmentMap(
        unsafe_data_address=Int(py=interface["data"][0]),
        height=height,
        width=width,
        row_stride=row_stride,
        column_stride=column_stride,
        channel_stride=channel_stride,
    )
