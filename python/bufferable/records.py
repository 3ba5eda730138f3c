"""numpy structured dtypes from the core's parse of a PEP 3118 struct format.

numpy reads a struct format with its own PEP 3118 parser, which disagrees with the struct module
(and with the core) on some formats. Every format ``format_of[T]()`` derives from a Mojo struct is
read correctly by numpy 1.26 and 2.4 (``T{...}`` with every padding byte explicit; the tests check
a few thousand generated layouts), so ``np.asarray(records)`` is exact. Other producers' struct
formats are not always: numpy refuses ``db`` and ``T{d:a:}T{b:b:}`` (it pads the top level to the
alignment: itemsize 16, not 9), refuses ``T{d:a:b:b:}3x`` (24, not 19), and misreads ``2T{b:a:}``
(itemsize 1, not 2). ``struct_dtype`` builds the dtype from the core's parse instead, and
``bufferable.asarray`` uses it whenever numpy refuses a struct format or reads it differently.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

_KINDS = {"?": "b", "s": "S", "P": "u", "p": "S"}
_KINDS.update(dict.fromkeys("bhilqn", "i"))
_KINDS.update(dict.fromkeys("BHILQN", "u"))
_KINDS.update(dict.fromkeys("efdg", "f"))
_KINDS.update(dict.fromkeys(("Zf", "Zd", "Zg"), "c"))


def _scalar_dtype(code: str, byteorder: str, size: int) -> np.dtype[Any]:
    kind = _KINDS.get(code)
    if kind is None:
        raise ValueError(f"format code {code!r} has no numpy dtype inside a struct")
    order = byteorder if byteorder in "<>|" else "="
    if kind in "fc" and size > (8 if kind == "f" else 16):
        long_type = np.longdouble if kind == "f" else np.clongdouble
        return np.dtype(f"{order}{np.dtype(long_type).char}")
    return np.dtype(f"{order}{kind}{size}")


def struct_dtype(fields: Sequence[Any], itemsize: int) -> np.dtype[Any]:
    """The numpy dtype of a parsed struct: one entry per field at its offset, unnamed fields
    named ``f0``, ``f1``, ... by position (as numpy does), padding left out, ``itemsize`` kept.

    Args:
        fields: ``bufferable.parse_format(fmt).fields`` (or a nested field's ``fields``).
        itemsize: The struct's size in bytes.

    Returns:
        A structured dtype whose offsets and itemsize are the core's.

    Raises:
        ValueError: a field type numpy has no dtype for (extension types, ``c`` characters).
    """
    names: list[str] = []
    formats: list[Any] = []
    offsets: list[int] = []
    for index, field in enumerate(fields):
        count = math.prod(field.shape) if field.shape else 1
        element_size = field.itemsize // count if count else 0
        element: np.dtype[Any]
        if field.code == "T":
            element = struct_dtype(field.fields, element_size)
        else:
            element = _scalar_dtype(field.code, field.byteorder, element_size)
        names.append(field.name if field.name else f"f{index}")
        formats.append((element, tuple(field.shape)) if field.shape else element)
        offsets.append(field.offset)
    return np.dtype({"names": names, "formats": formats, "offsets": offsets,
                     "itemsize": itemsize})


def is_struct(parsed: Any) -> bool:
    """Whether a parsed format is a struct (several fields, a named field, or a ``T{...}``)
    rather than one scalar or sub-array of scalars."""
    fields = parsed.fields
    return bool(len(fields) != 1 or fields[0].name is not None or fields[0].code == "T")
