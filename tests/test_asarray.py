"""bufferable.asarray: numpy views of any buffer export without a copy, extension formats
(``[ml_dtypes$bfloat16$]``, ``[ml_dtypes$float8_...$]``) included; refusals of the right class."""

from __future__ import annotations

import ctypes
import gc
import sys
import weakref

import numpy as np
import pytest

import bufferable
from bufferable import asarray, extension_dtype
from bufferable.testing import Producer

ml_dtypes = pytest.importorskip("ml_dtypes")

EXTENSIONS = ["bfloat16", "float8_e3m4", "float8_e4m3", "float8_e4m3b11fnuz", "float8_e4m3fn",
              "float8_e4m3fnuz", "float8_e5m2", "float8_e5m2fnuz", "float8_e8m0fnu"]


def address(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


def settled(p: Producer, gets: int | None = None) -> bool:
    gc.collect()
    return p.live_exports == 0 and p.gets == p.releases and (gets is None or p.gets == gets)


# --- plain formats: numpy's own view -------------------------------------------------------------


@pytest.mark.parametrize("fmt,dtype", [("f", np.float32), ("<d", np.float64), ("?", np.bool_),
                                       ("q", np.int64), ("B", np.uint8), ("Zf", np.complex64)])
def test_plain_formats_are_numpy_views(fmt, dtype):
    p = Producer((3, 4), fmt)
    a = asarray(p)
    assert type(a) is np.ndarray and a.dtype == dtype and a.shape == (3, 4)
    assert address(a) == p.address and a.flags.writeable
    a[1, 2] = 1
    assert np.asarray(p)[1, 2] == 1
    assert p.live_exports == 1
    del a
    assert settled(p, gets=2)


def test_plain_strided_and_read_only():
    p = Producer((3, 4), "i", strides=(4, -12), readonly=True)
    a = asarray(p)
    assert a.strides == (4, -12) and address(a) == p.address and not a.flags.writeable
    del a
    assert settled(p)


def test_ndarray_is_returned_as_is():
    a = np.arange(3)
    assert asarray(a) is a


def test_bytes_and_bytearray():
    ba = bytearray(b"abcd")
    a = asarray(ba)
    a[0] = ord("z")
    assert ba == bytearray(b"zbcd") and a.dtype == np.uint8
    assert not asarray(b"xy").flags.writeable


# --- extension formats ---------------------------------------------------------------------------


@pytest.mark.parametrize("ext", EXTENSIONS)
def test_extension_gives_ml_dtypes_view(ext):
    dtype = np.dtype(getattr(ml_dtypes, ext))
    p = Producer((2, 3), f"[ml_dtypes${ext}$]")
    a = asarray(p)
    assert a.dtype == dtype and a.shape == (2, 3) and a.strides == (3 * a.itemsize, a.itemsize)
    assert address(a) == p.address and a.flags.writeable
    values = np.array([[1, 2, 4], [0.5, 0.25, 8]]).astype(dtype)
    a[...] = values
    # the same bytes through memoryview and through a second view: no copy was made
    assert memoryview(p).tobytes() == values.tobytes()
    np.testing.assert_array_equal(asarray(p).astype(np.float32), values.astype(np.float32))
    del a
    assert settled(p, gets=3)


@pytest.mark.parametrize("ext", ["bfloat16", "float8_e4m3fn", "float8_e5m2"])
def test_extension_strided_and_negative_strides(ext):
    dtype = np.dtype(getattr(ml_dtypes, ext))
    size = dtype.itemsize
    p = Producer((3, 4), f"[ml_dtypes${ext}$]", strides=(-8 * size, 2 * size))
    a = asarray(p)
    assert a.strides == (-8 * size, 2 * size) and address(a) == p.address
    a[...] = np.arange(12).reshape(3, 4).astype(dtype)
    # the memory holds row 0 at the highest address, every other element
    raw = memoryview(p)
    assert raw.strides == (-8 * size, 2 * size)
    assert raw.tobytes() == np.arange(12).reshape(3, 4).astype(dtype).tobytes()
    raw.release()
    del a
    assert settled(p, gets=2)


def test_extension_read_only_is_kept():
    p = Producer((4,), "[ml_dtypes$bfloat16$]", readonly=True)
    a = asarray(p)
    assert a.dtype == ml_dtypes.bfloat16 and not a.flags.writeable and address(a) == p.address
    with pytest.raises(ValueError):
        a[0] = 1
    del a
    assert settled(p, gets=1)


def test_extension_scalar_and_empty():
    s = Producer((), "[ml_dtypes$bfloat16$]")
    assert asarray(s).shape == () and asarray(s).dtype == ml_dtypes.bfloat16
    e = Producer((0, 3), "[ml_dtypes$float8_e4m3fn$]")
    assert asarray(e).shape == (0, 3)
    assert settled(s) and settled(e)


def test_extension_keeps_the_exporter_alive():
    p = Producer((1000,), "[ml_dtypes$bfloat16$]")
    asarray(p)[...] = 3
    ref = weakref.ref(p)
    a = asarray(p)
    del p
    gc.collect()
    assert ref() is not None  # the array's base holds the export, which holds the producer
    assert a.astype(np.float32).sum() == 3000
    b = a[::10]  # views of the view keep it too
    del a
    gc.collect()
    assert ref() is not None and b.astype(np.float32).sum() == 300
    del b
    gc.collect()
    assert ref() is None


def test_extension_byte_order_prefix():
    p = Producer((2,), "<[ml_dtypes$bfloat16$]")
    assert asarray(p).dtype == ml_dtypes.bfloat16


@pytest.mark.parametrize("order", ["<", ">", "!", "=", "@", "^"])
@pytest.mark.parametrize("ext", ["bfloat16", "float8_e4m3fn"])
def test_extension_byte_order_is_honoured_or_refused(order, ext):
    # Native order (and any order for one-byte types) is viewed as it is; a multi-byte type in
    # the other order is refused: ml_dtypes' non-native arrays store and list scalars in native
    # order, so a view would misread or corrupt the exporter's memory.
    dtype = np.dtype(getattr(ml_dtypes, ext))
    big = order in ">!" or (order in "=@^" and sys.byteorder == "big")
    swapped = dtype.itemsize > 1 and big != (sys.byteorder == "big")
    fmt = f"{order}[ml_dtypes${ext}$]"
    p = Producer((2,), fmt)
    if swapped:
        with pytest.raises(ValueError, match=r"byte order '[<>]', which is not this machine's"):
            asarray(p)
        with pytest.raises(ValueError, match="not this machine's"):
            extension_dtype(fmt)
        assert settled(p, gets=1)
        return
    a = asarray(p)
    assert a.dtype == dtype and extension_dtype(fmt) == dtype
    a[...] = [1.0, 2.0]
    assert memoryview(p).tobytes() == np.array([1.0, 2.0]).astype(dtype).tobytes()
    assert asarray(p).tolist() == [1.0, 2.0]
    del a
    assert settled(p)


def test_extension_in_the_other_byte_order_has_a_way_around():
    # The copy the refusal suggests reads the right values.
    other = ">" if sys.byteorder == "little" else "<"
    p = Producer((2,), f"{other}[ml_dtypes$bfloat16$]")
    swapped = np.array([1.5, -2.0]).astype(ml_dtypes.bfloat16).byteswap().tobytes()
    ctypes.memmove(p.address, swapped, len(swapped))
    with pytest.raises(ValueError) as exc:
        asarray(p)
    recipe = f"np.frombuffer(memoryview(obj).tobytes(), '{other}u2').astype('=u2').view(ml_dtypes.bfloat16)"
    assert recipe in str(exc.value)
    copy = np.frombuffer(memoryview(p).tobytes(), f"{other}u2").astype("=u2").view(ml_dtypes.bfloat16)
    assert copy.tolist() == [1.5, -2.0]
    assert settled(p)


def test_extension_dtype_helper():
    assert extension_dtype("f") is None
    assert extension_dtype("[ml_dtypes$float8_e5m2$]") == ml_dtypes.float8_e5m2


# --- refusals ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def registered():
    """Extension types the core can size but that name no importable numpy scalar type
    (registration is process-wide and idempotent; the names are private to this file)."""
    from bufferable import _core

    _core.register_format_extension("bufferable_test_no_such_module", "thing", 4)
    _core.register_format_extension("numpy", "bufferable_test_no_such_type", 2)
    _core.register_format_extension("math", "tau", 8)  # importable, not a numpy scalar type


def test_unknown_extension_module_is_a_type_error(registered):
    p = Producer((2,), "[bufferable_test_no_such_module$thing$]")
    assert memoryview(p).tobytes() == bytes(8)  # memoryview itself accepts the format
    with pytest.raises(TypeError, match="bufferable_test_no_such_module"):
        asarray(p)
    assert settled(p, gets=2)


@pytest.mark.parametrize("fmt", ["[numpy$bufferable_test_no_such_type$]", "[math$tau$]"])
def test_unknown_extension_type_is_a_type_error(registered, fmt):
    p = Producer((2,), fmt)
    with pytest.raises(TypeError, match="numpy scalar type"):
        asarray(p)
    assert settled(p, gets=1)


def test_unsized_extension_is_refused_by_the_format_parser():
    with pytest.raises(ValueError, match="unknown extension type"):
        extension_dtype("[bufferable_test_unsized$thing$]")


def test_struct_with_extension_field_is_a_value_error():
    p = Producer((2,), "T{[ml_dtypes$bfloat16$]:a:h:b:}")
    with pytest.raises(ValueError, match="struct"):
        asarray(p)
    assert settled(p)


def test_sub_array_of_extension_is_a_value_error():
    p = Producer((2,), "(2)[ml_dtypes$bfloat16$]")
    with pytest.raises(ValueError):
        asarray(p)
    assert settled(p)


def test_suboffsets_are_a_buffer_error():
    p = Producer((2, 3), "[ml_dtypes$bfloat16$]", strides=(8, 2), suboffsets=(0, -1))
    with pytest.raises(BufferError):
        asarray(p)
    q = Producer((2, 3), "B", strides=(8, 1), suboffsets=(0, -1))
    with pytest.raises(BufferError):
        asarray(q)
    assert settled(p) and settled(q)


@pytest.mark.parametrize("obj", [3, "text", [1.0, 2.0], object()])
def test_non_buffers_are_type_errors(obj):
    with pytest.raises(TypeError):
        asarray(obj)


def test_invalid_format_is_a_value_error():
    with pytest.raises(ValueError):
        extension_dtype("[ml_dtypes$bfloat16")


def test_asarray_is_exported_at_package_level():
    assert bufferable.asarray is asarray and asarray.__doc__
