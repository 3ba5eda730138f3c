"""The element types bufferable knows, in one table (`ELEMENT_TYPES`): each
row ties a Mojo `DType` (when Mojo has one) to its PEP 3118 format, its DLPack
type code and width (C's `BF_DTYPE_*`, what the core's `parse_format`
reports) and its name (numpy's; the ml_dtypes scalar type for the extension
formats `[ml_dtypes$name$]`). Everything else on the Mojo side that maps
element types (`format_of`, the record formats' letters, `dlpack_type`,
`element_name`, the DType checks of `Buffer` and `MemoryView`) reads this
table: supporting another element
type is one row here (and one in the core's `scalar_types.cpp`).
"""

from std.sys.info import size_of

# ===-----------------------------------------------------------------------===#
# DLPack type codes (C's BfDataTypeCode, DLPack's DLDataTypeCode)
# ===-----------------------------------------------------------------------===#

comptime DTYPE_INT = 0
"""`BF_DTYPE_INT` (DLPack kDLInt)."""
comptime DTYPE_UINT = 1
"""`BF_DTYPE_UINT` (kDLUInt)."""
comptime DTYPE_FLOAT = 2
"""`BF_DTYPE_FLOAT` (kDLFloat)."""
comptime DTYPE_BFLOAT = 4
"""`BF_DTYPE_BFLOAT` (kDLBfloat)."""
comptime DTYPE_COMPLEX = 5
"""`BF_DTYPE_COMPLEX` (kDLComplex)."""
comptime DTYPE_BOOL = 6
"""`BF_DTYPE_BOOL` (kDLBool)."""
comptime DTYPE_FLOAT8_E3M4 = 7
"""`BF_DTYPE_FLOAT8_E3M4` (kDLFloat8_e3m4)."""
comptime DTYPE_FLOAT8_E4M3 = 8
"""`BF_DTYPE_FLOAT8_E4M3` (kDLFloat8_e4m3)."""
comptime DTYPE_FLOAT8_E4M3B11FNUZ = 9
"""`BF_DTYPE_FLOAT8_E4M3B11FNUZ` (kDLFloat8_e4m3b11fnuz)."""
comptime DTYPE_FLOAT8_E4M3FN = 10
"""`BF_DTYPE_FLOAT8_E4M3FN` (kDLFloat8_e4m3fn)."""
comptime DTYPE_FLOAT8_E4M3FNUZ = 11
"""`BF_DTYPE_FLOAT8_E4M3FNUZ` (kDLFloat8_e4m3fnuz)."""
comptime DTYPE_FLOAT8_E5M2 = 12
"""`BF_DTYPE_FLOAT8_E5M2` (kDLFloat8_e5m2)."""
comptime DTYPE_FLOAT8_E5M2FNUZ = 13
"""`BF_DTYPE_FLOAT8_E5M2FNUZ` (kDLFloat8_e5m2fnuz)."""
comptime DTYPE_FLOAT8_E8M0FNU = 14
"""`BF_DTYPE_FLOAT8_E8M0FNU` (kDLFloat8_e8m0fnu)."""
comptime DTYPE_NONE = 255
"""`BF_DTYPE_NONE`: not a single scalar (a struct, padding, bytes...)."""


# ===-----------------------------------------------------------------------===#
# The table
# ===-----------------------------------------------------------------------===#


@fieldwise_init
struct ElementType(ImplicitlyCopyable):
    """One row of `ELEMENT_TYPES`: one element type in every vocabulary."""

    var dtype: Optional[DType]
    """The Mojo DType, or None when a buffer may hold the type but Mojo has
    no DType for it (its row still names it in error messages)."""
    var format: StaticString
    """The canonical native PEP 3118 format of one element (a NUL-terminated
    literal: a `Buffer` may point at it for ever)."""
    var code: Int
    """The DLPack type code (a `DTYPE_*`)."""
    var bits: Int
    """The width in bits."""
    var name: StaticString
    """numpy's name; for an extension format, the ml_dtypes scalar type."""


comptime ELEMENT_TYPES = (
    ElementType(DType.bool, "?", DTYPE_BOOL, 8, "bool"),
    ElementType(DType.int8, "b", DTYPE_INT, 8, "int8"),
    ElementType(DType.uint8, "B", DTYPE_UINT, 8, "uint8"),
    ElementType(DType.int16, "h", DTYPE_INT, 16, "int16"),
    ElementType(DType.uint16, "H", DTYPE_UINT, 16, "uint16"),
    ElementType(DType.int32, "i", DTYPE_INT, 32, "int32"),
    ElementType(DType.uint32, "I", DTYPE_UINT, 32, "uint32"),
    ElementType(DType.int64, "q", DTYPE_INT, 64, "int64"),
    ElementType(DType.uint64, "Q", DTYPE_UINT, 64, "uint64"),
    ElementType(DType.float16, "e", DTYPE_FLOAT, 16, "float16"),
    ElementType(DType.float32, "f", DTYPE_FLOAT, 32, "float32"),
    ElementType(DType.float64, "d", DTYPE_FLOAT, 64, "float64"),
    ElementType(None, "g", DTYPE_FLOAT, 128, "float128"),
    ElementType(None, "Zf", DTYPE_COMPLEX, 64, "complex64"),
    ElementType(None, "Zd", DTYPE_COMPLEX, 128, "complex128"),
    ElementType(
        DType.bfloat16, "[ml_dtypes$bfloat16$]", DTYPE_BFLOAT, 16, "bfloat16"
    ),
    ElementType(
        DType.float8_e3m4,
        "[ml_dtypes$float8_e3m4$]",
        DTYPE_FLOAT8_E3M4,
        8,
        "float8_e3m4",
    ),
    ElementType(
        None, "[ml_dtypes$float8_e4m3$]", DTYPE_FLOAT8_E4M3, 8, "float8_e4m3"
    ),
    ElementType(
        None,
        "[ml_dtypes$float8_e4m3b11fnuz$]",
        DTYPE_FLOAT8_E4M3B11FNUZ,
        8,
        "float8_e4m3b11fnuz",
    ),
    ElementType(
        DType.float8_e4m3fn,
        "[ml_dtypes$float8_e4m3fn$]",
        DTYPE_FLOAT8_E4M3FN,
        8,
        "float8_e4m3fn",
    ),
    ElementType(
        DType.float8_e4m3fnuz,
        "[ml_dtypes$float8_e4m3fnuz$]",
        DTYPE_FLOAT8_E4M3FNUZ,
        8,
        "float8_e4m3fnuz",
    ),
    ElementType(
        DType.float8_e5m2,
        "[ml_dtypes$float8_e5m2$]",
        DTYPE_FLOAT8_E5M2,
        8,
        "float8_e5m2",
    ),
    ElementType(
        DType.float8_e5m2fnuz,
        "[ml_dtypes$float8_e5m2fnuz$]",
        DTYPE_FLOAT8_E5M2FNUZ,
        8,
        "float8_e5m2fnuz",
    ),
    ElementType(
        DType.float8_e8m0fnu,
        "[ml_dtypes$float8_e8m0fnu$]",
        DTYPE_FLOAT8_E8M0FNU,
        8,
        "float8_e8m0fnu",
    ),
)
"""Every element type bufferable maps, one row each (see `ElementType`)."""


# ===-----------------------------------------------------------------------===#
# Lookups
# ===-----------------------------------------------------------------------===#


def _sized[dtype: DType]() -> DType:
    """`dtype`, with `DType.int`/`DType.uint` (Int, UInt) replaced by the
    integer type of the same width."""
    comptime if dtype == DType.int:
        return DType.int64 if size_of[DType.int]() == 8 else DType.int32
    elif dtype == DType.uint:
        return DType.uint64 if size_of[DType.uint]() == 8 else DType.uint32
    else:
        return dtype


def _row_of[dtype: DType]() -> Int:
    """The index of `dtype`'s row in `ELEMENT_TYPES`, or -1."""
    comptime key = _sized[dtype]()
    comptime for i in range(len(ELEMENT_TYPES)):
        comptime if (
            ELEMENT_TYPES[i].dtype and ELEMENT_TYPES[i].dtype.value() == key
        ):
            return i
    return -1


comptime SCALAR_DTYPE_COUNT = len(ELEMENT_TYPES) + 2
"""How many entries `scalar_dtype_at` enumerates."""


def scalar_dtype_at[k: Int]() -> Optional[DType]:
    """Enumerates, at compile time, the DTypes of the Mojo scalar types this
    table maps, for code that must find which one a type is made of (record
    fields, table columns).

    Parameters:
        k: An index below `SCALAR_DTYPE_COUNT`.

    Returns:
        The Mojo DType of row k of `ELEMENT_TYPES` (None for a row Mojo has
        no DType for); past the rows, `DType.int` then `DType.uint` (Int and
        UInt are types of their own, mapped to the integer of their width).
    """
    comptime if k < len(ELEMENT_TYPES):
        return ELEMENT_TYPES[k].dtype
    elif k == len(ELEMENT_TYPES):
        return DType.int
    else:
        return DType.uint


def is_supported[dtype: DType]() -> Bool:
    """Tells whether buffers of `dtype` elements can be exported and viewed.

    Parameters:
        dtype: A Mojo DType.

    Returns:
        True if `ELEMENT_TYPES` has a row for `dtype`: bool, int8..uint64,
        float16, float32, float64, bfloat16 and the float8 types Mojo has.
    """
    return _row_of[dtype]() >= 0


def dtype_format[dtype: DType]() -> StaticString:
    """Returns the PEP 3118 format of one element of `dtype` (a NUL-terminated
    literal, so it can live in a `Buffer` for ever); `bufferable.format_of`
    for a DType.

    Parameters:
        dtype: An element type `is_supported` accepts (checked at compile
            time).

    Returns:
        `?`, `b B h H i I q Q`, `e`, `f`, `d`, `[ml_dtypes$bfloat16$]` or
        `[ml_dtypes$float8_...$]`.
    """
    comptime row = _row_of[dtype]()
    comptime assert row >= 0, String(
        "bufferable: no buffer-protocol element type for ", dtype
    )
    return ELEMENT_TYPES[row].format


def struct_letter[dtype: DType]() -> StaticString:
    """Returns the struct-module letter of `dtype`: its format when that is
    one letter.

    Parameters:
        dtype: Any DType.

    Returns:
        `?`, `b B h H i I q Q`, `e`, `f` or `d`; "" for a DType with no
        letter (bfloat16, the float8 types, anything outside the table).
    """
    comptime row = _row_of[dtype]()
    comptime if row < 0:
        return ""
    elif ELEMENT_TYPES[row].format.byte_length() != 1:
        return ""
    else:
        return ELEMENT_TYPES[row].format


def dlpack_type[dtype: DType]() -> Tuple[Int, Int]:
    """Returns the DLPack (type code, bits) of `dtype`: what the core's
    `parse_format` reports for `format_of[dtype]()`.

    Parameters:
        dtype: An element type `is_supported` accepts (checked at compile
            time).

    Returns:
        (a `DTYPE_*` code, the width in bits).
    """
    comptime row = _row_of[dtype]()
    comptime assert row >= 0, String(
        "bufferable: no buffer-protocol element type for ", dtype
    )
    return (ELEMENT_TYPES[row].code, ELEMENT_TYPES[row].bits)


def element_name(code: Int, bits: Int) -> String:
    """Names a DLPack (type code, bits) pair for messages.

    Args:
        code: A `DTYPE_*` code.
        bits: The width in bits.

    Returns:
        The row's name (`float64`, `bfloat16`, ...), "not a single scalar"
        for `DTYPE_NONE`, or the raw pair for a type outside the table.
    """
    comptime for i in range(len(ELEMENT_TYPES)):
        if ELEMENT_TYPES[i].code == code and ELEMENT_TYPES[i].bits == bits:
            return String(ELEMENT_TYPES[i].name)
    if code == DTYPE_NONE:
        return "not a single scalar"
    return String("element code ", code, "/", bits, " bits")
