"""The Python methods the core gives every exporting type: a short ``repr`` and pickling.

``install_interop`` (buffer exporters: Mojo ``Bufferable`` types, bound ``MemoryView``/``Records``
types, C/C++ producers) and ``install_table_interop`` (Mojo tables) give the type ``__repr__`` and
``__reduce_ex__`` methods that call the functions below (the core's python_methods.cpp), so a
module built against an older bufferable gets both from the installed core, unrebuilt. The repr
replaces Mojo's reflective one (every field, every element: megabytes for a large array); a type
that binds a ``__repr__`` method of its own keeps it.

Pickling sends what an export is: its memory and its description. Every protocol gives the
receiver a zero-copy view of what arrived, not a copy of it:

- a buffer export pickles as the numpy array :func:`bufferable.asarray` views it as (a structured
  array for records, ml_dtypes' dtypes for extension formats). At protocol 5 the memory travels
  out of band (``pickle.PickleBuffer``: Ray's object store and Dask's frames carry it as is, and
  the receiver's array views the received memory); below 5 it is bytes inside the pickle. A
  non-contiguous export is sent C-contiguous (one copy, at the sender).
- a table pickles as the ``pyarrow.Table`` over its columns (pyarrow sends each column's buffer out
  of band at protocol 5).
- a type that binds a static method ``__from_buffer__`` (taking that numpy array, returning an
  instance) is rebuilt as itself: the receiver imports the type's module and calls it.

What arrives is read-only where the transport's memory is (Ray's object store), writable where it
is private (in-band bytes are copied into a writable array by numpy; Dask's frames).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["buffer_repr", "rebuild", "reduce_buffer", "reduce_table", "table_repr"]


def _qualified_name(obj: object) -> str:
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def buffer_repr(obj: object) -> str:
    """``<module.Type shape=(3, 4) format='d'>``: what the export is, never its data."""
    try:
        with memoryview(obj) as view:  # type: ignore[arg-type]
            return f"<{_qualified_name(obj)} shape={view.shape} format={view.format!r}>"
    except Exception as error:  # an object that cannot export now still has a repr
        return f"<{_qualified_name(obj)} (no export: {type(error).__name__})>"


def table_repr(obj: object) -> str:
    """``<module.Type rows=4 columns=['id', 'price']>`` (with pyarrow; the type alone without)."""
    try:
        import pyarrow as pa  # type: ignore[import-untyped]

        table = pa.table(obj)
        return f"<{_qualified_name(obj)} rows={table.num_rows} columns={table.column_names}>"
    except Exception as error:
        return f"<{_qualified_name(obj)} (Arrow table; {type(error).__name__})>"


def rebuild(cls: Any, array: np.ndarray) -> Any:
    """The receiving side of a type with ``__from_buffer__``: ``cls.__from_buffer__(array)``."""
    return cls.__from_buffer__(array)


def reduce_buffer(obj: object, protocol: int) -> str | tuple[Any, ...]:
    """``__reduce_ex__`` of a buffer exporter (see the module docstring)."""
    from .arrays import asarray

    array = asarray(obj)  # type: ignore[arg-type]
    if not (array.flags.c_contiguous or array.flags.f_contiguous):
        array = np.ascontiguousarray(array)
    if getattr(type(obj), "__from_buffer__", None) is not None:
        return rebuild, (type(obj), array)
    return array.__reduce_ex__(protocol)


def reduce_table(obj: object, protocol: int) -> str | tuple[Any, ...]:
    """``__reduce_ex__`` of a table (see the module docstring).

    Raises:
        TypeError: pyarrow is not installed.
    """
    try:
        import pyarrow as pa
    except ImportError:
        raise TypeError(f"cannot pickle {_qualified_name(obj)!r} object: pickling a table "
                        "sends it as a pyarrow.Table (pip install pyarrow)") from None
    reduced: str | tuple[Any, ...] = pa.table(obj).__reduce_ex__(protocol)
    return reduced
