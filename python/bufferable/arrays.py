"""numpy views of any buffer export, extension formats included, never a copy."""
from __future__ import annotations

import importlib

import numpy as np

from ._core import inspect, parse_format
from .flags import BufferFlags


class _ArrayInterface:
    """Holds a memoryview (the export) and describes it to numpy; numpy keeps it as the base."""

    __slots__ = ("__array_interface__", "_view")

    def __init__(self, view: memoryview, typestr: str, address: int):
        self._view = view
        self.__array_interface__ = {
            "version": 3,
            "shape": view.shape,
            "strides": view.strides,
            "typestr": typestr,
            "data": (address, view.readonly),
        }


def extension_dtype(fmt: str) -> np.dtype | None:
    """The numpy dtype of an extension format ``[module$qualname$param]``, or None.

    Follows the convention proposed on discuss.python.org ("Buffer protocol and arbitrary (data)
    types"): ``module.qualname`` names a numpy scalar type, e.g. ``[ml_dtypes$bfloat16$]`` is
    ``ml_dtypes.bfloat16``. Formats without an extension type give None.

    Args:
        fmt: A PEP 3118 format string.

    Returns:
        The dtype when ``fmt`` is one extension item (with an optional byte-order prefix), else
        None.

    Raises:
        ValueError: ``fmt`` is not a valid format, or puts an extension type inside a struct or
            sub-array (numpy cannot describe that from the buffer protocol).
        TypeError: the named module or type cannot be imported or is not a numpy scalar type.
    """
    parsed = parse_format(fmt)
    extension = [f for f in parsed.fields if f.code.startswith("[")]
    if not extension:
        if "[" in fmt:
            raise ValueError(f"format {fmt!r}: extension types inside a struct are not supported "
                             "by asarray")
        return None
    if len(parsed.fields) != 1 or extension[0].shape:
        raise ValueError(f"format {fmt!r}: asarray supports one extension item per element, "
                         "not a struct or sub-array of them")
    module, qualname, _param = extension[0].code[1:-1].split("$")
    try:
        scalar_type = getattr(importlib.import_module(module), qualname)
        return np.dtype(scalar_type)
    except (ImportError, AttributeError, TypeError) as exc:
        raise TypeError(f"format {fmt!r} names {module}.{qualname}, which is not an importable "
                        f"numpy scalar type ({exc})") from exc


def asarray(obj) -> np.ndarray:
    """A numpy array viewing ``obj``'s buffer export, without a copy.

    Plain formats go through numpy's own buffer support. Extension formats
    (``[ml_dtypes$bfloat16$]``, ``[ml_dtypes$float8_e4m3fn$]``, ...), which numpy cannot parse,
    give an array of the extension's dtype (ml_dtypes must be installed) over the same memory,
    with the same shape and strides. The array keeps the export alive; it is read-only when the
    export is.

    Args:
        obj: Any object exporting the buffer protocol.

    Returns:
        An ndarray sharing ``obj``'s memory.

    Raises:
        TypeError: ``obj`` does not export a buffer, or its extension type is unknown.
        BufferError: the exporter refused the request (e.g. an indirect layout).
        ValueError: the format cannot be described to numpy.
    """
    if isinstance(obj, np.ndarray):
        return obj
    view = memoryview(obj)
    dtype = extension_dtype(view.format)
    if dtype is None:
        return np.asarray(view)
    if view.suboffsets:
        raise BufferError("asarray: indirect (suboffset) buffers cannot be viewed by numpy")
    address = inspect(view, BufferFlags.STRIDED_RO).address
    raw = np.asarray(_ArrayInterface(view, f"|V{view.itemsize}", address))
    return raw.view(dtype)
