"""numpy structured dtypes from the core's parse of a PEP 3118 struct format.

numpy reads a struct format with its own PEP 3118 parser, which disagrees with the struct module
(and with the core) on some formats. Every format ``format_of[T]()`` derives from a Mojo struct is
read correctly by numpy 1.26 and 2.4 (``T{...}`` with every padding byte explicit; the tests check
a few thousand generated layouts), so ``np.asarray(records)`` is exact. Other producers' struct
formats are not always: numpy refuses ``db`` and ``T{d:a:}T{b:b:}`` (it pads the top level to the
alignment: itemsize 16, not 9), refuses ``T{d:a:b:b:}3x`` (24, not 19), and misreads ``2T{b:a:}``
(itemsize 1, not 2). ``struct_dtype`` builds the dtype from the core's parse instead, and
``bufferable.asarray`` uses it whenever numpy refuses a struct format or reads it differently.

``record_mismatch`` is the check Mojo's ``RecordView[T, ...]`` runs on a buffer's format: the
core's parse of it against the core's parse of ``format_of[T]()``, field by field. numpy's export
of a nested struct that has trailing padding is wrong the other way round: it writes
``T{d:value:b:tag:}:inner:xxxxxxx`` (the nested struct unpadded, its padding after it), which
numpy's own parser and the core read as the padding twice, so the fields after it land 7 bytes
too far. For a numpy array RecordView then checks the array's dtype instead of its format.
"""
from __future__ import annotations

import math
from types import SimpleNamespace
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._core import parse_format

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


_NAMES = {"?": "bool", "c": "char", "s": "bytes", "p": "bytes", "P": "pointer"}


def _describe(field: Any) -> str:
    """``float64``, ``float32[4]``, ``a struct of 2 fields``: a field's type, for messages."""
    if field.code == "T":
        text = f"a struct of {len(field.fields)} field{'s' if len(field.fields) != 1 else ''}"
    else:
        count = math.prod(field.shape) if field.shape else 1
        bits = 8 * (field.itemsize // count if count else 0)
        kind = _KINDS.get(field.code, "")
        if field.code in _NAMES:
            text = _NAMES[field.code]
        elif kind == "i":
            text = f"int{bits}"
        elif kind == "u":
            text = f"uint{bits}"
        elif kind == "f":
            text = f"float{bits}"
        elif kind == "c":
            text = f"complex{bits}"
        else:
            text = field.code
        if field.shape:
            text += "[" + ", ".join(str(n) for n in field.shape) + "]"
    if field.byteorder in "<>" and field.byteorder != _NATIVE:
        text = ("big" if field.byteorder == ">" else "little") + "-endian " + text
    return text


_NATIVE = "<" if np.little_endian else ">"


def _fields_mismatch(theirs: Sequence[Any], mine: Sequence[Any], type_name: str,
                     path: str) -> str | None:
    where = f"field '{path[:-1]}': " if path else ""
    if len(theirs) != len(mine):
        return (f"{where}the buffer has {len(theirs)} field{'s' if len(theirs) != 1 else ''}, "
                f"{type_name} has {len(mine)}")
    for index, (a, b) in enumerate(zip(theirs, mine)):
        name = path + b.name
        if a.name is not None and a.name != b.name:
            return (f"field {index} of {type_name}{' ' + path[:-1] if path else ''} is "
                    f"'{b.name}', the buffer names it '{a.name}'")
        mine_text, their_text = _describe(b), _describe(a)
        if a.offset != b.offset or mine_text != their_text or (
                a.code == "T") != (b.code == "T"):
            return (f"field '{name}': the buffer has {their_text} at offset {a.offset}, "
                    f"{type_name} has {mine_text} at offset {b.offset}")
        if a.code == "T":
            nested = _fields_mismatch(a.fields, b.fields, type_name, name + ".")
            if nested is not None:
                return nested
    return None


_LETTERS = {("b", 1): "?", ("i", 1): "b", ("i", 2): "h", ("i", 4): "i", ("i", 8): "q",
            ("u", 1): "B", ("u", 2): "H", ("u", 4): "I", ("u", 8): "Q", ("f", 2): "e",
            ("f", 4): "f", ("f", 8): "d", ("c", 8): "Zf", ("c", 16): "Zd"}


def _dtype_fields(dtype: np.dtype[Any]) -> list[Any]:
    """A structured dtype's fields in the shape of the core's ``Field`` (name, offset, code,
    shape, byteorder, itemsize, fields), in offset order."""
    fields = []
    for name, (field_dtype, offset, *_title) in sorted((dtype.fields or {}).items(),
                                                       key=lambda item: item[1][1]):
        base, shape = field_dtype.base, field_dtype.shape
        nested = _dtype_fields(base) if base.fields is not None else None
        code = "T" if nested is not None else _LETTERS.get((base.kind, base.itemsize), base.char)
        order = "@" if base.byteorder == "=" else base.byteorder
        fields.append(SimpleNamespace(name=name, offset=offset, code=code, shape=shape,
                                      byteorder=order, itemsize=field_dtype.itemsize,
                                      fields=nested))
    return fields


def record_mismatch(buffer_format: str, buffer_itemsize: int, expected_format: str,
                    type_name: str, source: object = None) -> str | None:
    """Why a buffer's records are not records of a Mojo struct, or None if they are.

    Mojo's ``RecordView[T, ...]`` calls this (with ``format_of[T]()``) when the buffer's format
    is not that string verbatim. Both formats go through the core's parser; the buffer matches
    when its itemsize is ``size_of[T]()`` and its fields, nested structs included, have T's
    offsets and types (any spelling: ``l`` or ``q``, ``@``, ``=`` or this machine's order) and
    T's names wherever the buffer names them.

    Args:
        buffer_format: The buffer's format.
        buffer_itemsize: The buffer's itemsize.
        expected_format: ``format_of[T]()``.
        type_name: T's name, for the message.
        source: The exporter; when it is a numpy array with a structured dtype, a format that
            does not match is checked again through that dtype (numpy misdescribes nested
            structs with trailing padding in its format).

    Returns:
        None, or the first mismatch, naming the field and both sides (e.g. ``field 'mass': the
        buffer has int32 at offset 8, Particle has float64 at offset 16``).
    """
    mine = parse_format(expected_format)
    try:
        theirs = parse_format(buffer_format)
    except ValueError as error:
        return f"the buffer's format is invalid: {error}"
    if buffer_itemsize != mine.itemsize:
        return (f"the buffer's records are {buffer_itemsize} byte{'s' if buffer_itemsize != 1 else ''}"
                f" (format '{buffer_format}'), {type_name} is {mine.itemsize}")
    mismatch = _fields_mismatch(theirs.fields, mine.fields, type_name, "")
    dtype = getattr(source, "dtype", None)
    if mismatch is not None and isinstance(dtype, np.dtype) and dtype.fields is not None:
        # numpy exports a nested struct with trailing padding as "T{...}" followed by that
        # padding again as "x"s, which its own parser and the core both read as a struct padded
        # to its alignment, so every later field lands too far: trust the array's dtype.
        return _fields_mismatch(_dtype_fields(dtype), mine.fields, type_name, "")
    return mismatch
