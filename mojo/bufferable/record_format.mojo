"""`format_of[T]()` for structs: the PEP 3118 `T{...}` format of a Mojo struct,
derived at compile time by reflection (`std.reflection.reflect`).

A struct whose fields are supported scalars (Bool, Int, UInt, the fixed-width
integers, float16/32/64), `SIMD[dtype, n]`, `Array[Scalar[dtype], n]` or
nested such structs gets a format that names every field and spells every
padding byte, trailing padding included, as `x`:

```mojo
struct Particle:
    var pos: SIMD[DType.float32, 4]
    var mass: Float64
    var id: Int32
    var alive: Bool

format_of[Particle]()    # "T{(4)f:pos:d:mass:i:id:?:alive:3x}", itemsize 32
```

so the format's itemsize equals `size_of[T]()` and its field offsets are the
ones Mojo lays out. The string is built by the compiler into static memory
(NUL-terminated), so it can live in a `Buffer` for ever. A field of any
other type is a compile-time error naming the struct, the field and its type.
"""

from std.collections.string.string_span import get_static_string
from std.reflection import reflect
from std.sys.info import size_of

from .dtype import SCALAR_DTYPE_COUNT, scalar_dtype_at, struct_letter


# ===-----------------------------------------------------------------------===#
# Compile-time text
# ===-----------------------------------------------------------------------===#


def _digit[d: Int]() -> StaticString:
    """The decimal digit `d` (0-9)."""
    comptime if d == 0:
        return "0"
    elif d == 1:
        return "1"
    elif d == 2:
        return "2"
    elif d == 3:
        return "3"
    elif d == 4:
        return "4"
    elif d == 5:
        return "5"
    elif d == 6:
        return "6"
    elif d == 7:
        return "7"
    elif d == 8:
        return "8"
    else:
        return "9"


def _decimal[n: Int]() -> StaticString:
    """`n` (>= 0) in decimal, as a static string."""
    comptime if n < 10:
        return _digit[n]()
    else:
        return get_static_string[_decimal[n // 10](), _digit[n % 10]()]()


def _padding[n: Int]() -> StaticString:
    """`n` padding bytes: "", "x" or "<n>x"."""
    comptime if n <= 0:
        return ""
    elif n == 1:
        return "x"
    else:
        return get_static_string[_decimal[n](), "x"]()


# ===-----------------------------------------------------------------------===#
# Field types
# ===-----------------------------------------------------------------------===#


def _same_type[A: AnyType, B: AnyType]() -> Bool:
    """Whether A and B are the same type (their reflected names agree)."""
    return reflect[A].name() == reflect[B].name()


def _letter[dtype: DType]() -> StaticString:
    """The struct-module letter of a scalar DType ("" if it has none that a
    record may hold: bfloat16 and the float8 types have no letter)."""
    return struct_letter[dtype]()


def _code_as[F: AnyType, dtype: DType]() -> StaticString:
    """The format of F if F is `Scalar[dtype]`, `SIMD[dtype, n]` or
    `Array[Scalar[dtype], n]`, else ""."""
    comptime scalar = size_of[Scalar[dtype]]()
    comptime n = size_of[F]() // scalar
    comptime if n < 1 or n * scalar != size_of[F]() or _letter[dtype]() == "":
        return ""
    elif n == 1 and _same_type[F, Scalar[dtype]]():
        return _letter[dtype]()
    elif _same_type[F, SIMD[dtype, n]]() or _same_type[
        F, Array[Scalar[dtype], n]
    ]():
        return get_static_string["(", _decimal[n](), ")", _letter[dtype]()]()
    else:
        return ""


def _dtype_code[F: AnyType, k: Int]() -> StaticString:
    """The format of F as a scalar, SIMD vector or array of the DType
    `scalar_dtype_at[k]()` or of a later one, else "" (types without a struct
    letter give "": `_code_as` refuses them)."""
    comptime if k >= SCALAR_DTYPE_COUNT:
        return ""
    else:
        comptime dtype = scalar_dtype_at[k]()
        comptime if dtype:
            comptime code = _code_as[F, dtype.value()]()
            comptime if code != "":
                return code
        return _dtype_code[F, k + 1]()


def _scalar_code[F: AnyType]() -> StaticString:
    """The format of F if it is a supported scalar, SIMD vector or array of
    scalars, else ""."""
    comptime bools = size_of[F]() // size_of[Bool]()
    comptime if _same_type[F, Bool]():
        return "?"
    elif bools > 1 and _same_type[F, Array[Bool, bools]]():
        return get_static_string["(", _decimal[bools](), ")?"]()
    else:
        return _dtype_code[F, 0]()


def _field_code[F: AnyType]() -> StaticString:
    """The format of a field of type F, or "" if F cannot be described."""
    comptime scalar = _scalar_code[F]()
    comptime if scalar != "":
        return scalar
    elif reflect[F].is_struct() and _supported_struct[F]():
        return get_static_string["T{", _body[F, 0, 0](), "}"]()
    else:
        return ""


def _supported_struct[T: AnyType]() -> Bool:
    """Whether T is a struct with at least one field, all describable."""
    comptime if not reflect[T].is_struct() or reflect[T].field_count() == 0:
        return False
    else:
        return _fields_supported[T, 0]()


def _fields_supported[T: AnyType, i: Int]() -> Bool:
    """Whether fields i.. of T are all describable."""
    comptime if i >= reflect[T].field_count():
        return True
    elif _field_code[reflect[T].field_at[i].T]() == "":
        return False
    else:
        return _fields_supported[T, i + 1]()


def _body[T: AnyType, i: Int, position: Int]() -> StaticString:
    """The format of fields i.. of T, starting at byte `position` (the end of
    field i - 1): padding up to each field, the field, and trailing padding
    up to `size_of[T]()`."""
    comptime r = reflect[T]
    comptime if i >= r.field_count():
        return _padding[size_of[T]() - position]()
    else:
        comptime F = r.field_at[i].T
        comptime name = r.field_names()[i]
        comptime offset = r.field_offset[index=i]()
        comptime code = _field_code[F]()
        comptime assert code != "", get_static_string[
            "bufferable.format_of: field '",
            name,
            "' of ",
            r.name(),
            " has type ",
            reflect[F].name(),
            ", which has no PEP 3118 format (supported: Bool, Int, UInt,",
            " the integers and floats, SIMD and Array of them, and structs",
            " of those)",
        ]()
        return get_static_string[
            _padding[offset - position](),
            code,
            ":",
            name,
            ":",
            _body[T, i + 1, offset + size_of[F]()](),
        ]()


# ===-----------------------------------------------------------------------===#
# Public API
# ===-----------------------------------------------------------------------===#


def record_format_of[T: AnyType]() -> StaticString:
    """Returns the PEP 3118 format of one record of struct T: `T{...}` with
    every field named (`code:name:`) in declaration order, sub-arrays as
    `(n)code`, nested structs as `T{...}`, and every padding byte (between
    fields and at the end) as `x`. Its itemsize is `size_of[T]()`.

    Parameters:
        T: A struct whose fields are Bool, Int, UInt, the fixed-width integers,
            float16/32/64, `SIMD` or `Array` of those, or such structs.
            Anything else is a compile-time error naming the field.

    Returns:
        The format, in static memory (NUL-terminated).
    """
    comptime assert reflect[T].is_struct() and reflect[
        T
    ].field_count() > 0, get_static_string[
        "bufferable.format_of: ", reflect[T].name(), " has no fields"
    ]()
    comptime assert _scalar_code[T]() == "", get_static_string[
        "bufferable.format_of: ",
        reflect[T].name(),
        " is a scalar or vector, not a record (use format_of[dtype]())",
    ]()
    return get_static_string["T{", _body[T, 0, 0](), "}"]()
