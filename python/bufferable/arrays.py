"""numpy views of any buffer export, extension formats included, never a copy."""
from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ._core import inspect, parse_format
from .flags import BufferFlags
from .records import is_struct, struct_dtype

if TYPE_CHECKING:
    from typing_extensions import Buffer


_NATIVE = "<" if sys.byteorder == "little" else ">"


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


def extension_dtype(fmt: str) -> np.dtype[Any] | None:
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
        ValueError: ``fmt`` is not a valid format, puts an extension type inside a struct or
            sub-array (numpy cannot describe that from the buffer protocol), or gives a multi-byte
            extension type a byte order that is not this machine's (ml_dtypes' non-native arrays
            store and list scalars in native order: refused rather than misread).
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
        dtype: np.dtype[Any] = np.dtype(scalar_type)
    except (ImportError, AttributeError, TypeError) as exc:
        raise TypeError(f"format {fmt!r} names {module}.{qualname}, which is not an importable "
                        f"numpy scalar type ({exc})") from exc
    # '@', '=' and '^' are native, '|' (one byte) has no order; '<' and '>' ('!' is reported as
    # '>') are native only on a machine of that order.
    order = extension[0].byteorder
    if order in "<>" and order != _NATIVE:
        raise ValueError(
            f"format {fmt!r}: {module}.{qualname} in byte order {order!r}, which is not this "
            f"machine's ({_NATIVE!r}); asarray views memory without copying, and extension "
            "dtypes such as ml_dtypes' are only correct in native order (a non-native one "
            "stores and lists scalars in native order), so it cannot view this buffer: export "
            "it in native "
            "order, or copy it: np.frombuffer(memoryview(obj).tobytes(), "
            f"'{order}u{dtype.itemsize}').astype('=u{dtype.itemsize}').view({module}.{qualname})"
        )
    return dtype


def asarray(obj: Buffer) -> npt.NDArray[Any]:
    """A numpy array viewing ``obj``'s buffer export, without a copy.

    Plain formats go through numpy's own buffer support. Struct formats (``T{...}``) give a
    structured array whose dtype follows the core's parse of the format, field for field (numpy's
    parser is used when it agrees; see ``bufferable.records`` for the formats it gets wrong).
    Extension formats
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
    try:
        dtype = extension_dtype(view.format)
        if dtype is None:
            parsed = parse_format(view.format)
            if not is_struct(parsed):
                return np.asarray(view)
            # numpy's own PEP 3118 parser refuses or misreads some struct formats
            # (bufferable.records): keep its array only when it agrees with the core.
            dtype = struct_dtype(parsed.fields, view.itemsize)
            try:
                array = np.asarray(view)
            except (ValueError, RuntimeError, TypeError, NotImplementedError):
                array = None
            if array is not None and array.dtype == dtype:
                return array
    except BaseException:
        view.release()  # a refusal holds no export (its traceback keeps this frame alive)
        raise
    if view.suboffsets:
        view.release()
        raise BufferError("asarray: indirect (suboffset) buffers cannot be viewed by numpy")
    address = inspect(view, BufferFlags.STRIDED_RO).address
    raw = np.asarray(_ArrayInterface(view, f"|V{view.itemsize}", address))
    return raw.view(dtype)
