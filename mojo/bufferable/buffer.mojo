"""`Buffer`, the descriptor of one strided array (C's `BfBuffer`);
`BufferFlags`, the request flags of the buffer protocol (C's `BF_BUF_*`); and
`format_of`, the PEP 3118 format of a DType element (from `bufferable.dtype`)
or of a record struct (from `bufferable.record_format`)."""

from std.ffi import c_char
from std.memory import OpaquePointer
from std.sys.info import size_of

from ._private import RawPointer
from .dtype import dtype_format
from .errors import buffer_error, value_error
from .record_format import record_format_of


# ===-----------------------------------------------------------------------===#
# BufferFlags
# ===-----------------------------------------------------------------------===#


@fieldwise_init
struct BufferFlags(Equatable, TrivialRegisterPassable, Writable):
    """What a consumer asks of an export: CPython's `PyBUF_*` values (the
    `BF_BUF_*` of bufferable.h), passed to `Bufferable.__buffer__` unchanged.

    Combine with `|`; test with `in` (`BufferFlags.WRITABLE in flags`).
    """

    var value: Int32
    """The raw flag bits."""

    # The single bits CPython defines; the composites below are built from
    # them as CPython's own PyBUF_* macros are.
    comptime _STRIDES_BIT = BufferFlags(0x0010)
    comptime _C_CONTIGUOUS_BIT = BufferFlags(0x0020)
    comptime _F_CONTIGUOUS_BIT = BufferFlags(0x0040)
    comptime _ANY_CONTIGUOUS_BIT = BufferFlags(0x0080)
    comptime _INDIRECT_BIT = BufferFlags(0x0100)

    comptime SIMPLE = BufferFlags(0x0000)
    """One contiguous run of bytes; no format, shape or strides."""
    comptime WRITABLE = BufferFlags(0x0001)
    """The consumer will write: a read-only export is refused."""
    comptime FORMAT = BufferFlags(0x0004)
    """The consumer wants the format string."""
    comptime ND = BufferFlags(0x0008)
    """The consumer wants the shape (C-contiguous memory only)."""
    comptime STRIDES = Self._STRIDES_BIT | Self.ND
    """The consumer can follow strides."""
    comptime C_CONTIGUOUS = Self._C_CONTIGUOUS_BIT | Self.STRIDES
    """The memory must be C-contiguous."""
    comptime F_CONTIGUOUS = Self._F_CONTIGUOUS_BIT | Self.STRIDES
    """The memory must be Fortran-contiguous."""
    comptime ANY_CONTIGUOUS = Self._ANY_CONTIGUOUS_BIT | Self.STRIDES
    """The memory must be C- or Fortran-contiguous."""
    comptime INDIRECT = Self._INDIRECT_BIT | Self.STRIDES
    """The consumer can follow suboffsets."""
    comptime CONTIG = Self.ND | Self.WRITABLE
    """ND | WRITABLE."""
    comptime CONTIG_RO = Self.ND
    """ND."""
    comptime STRIDED = Self.STRIDES | Self.WRITABLE
    """STRIDES | WRITABLE."""
    comptime STRIDED_RO = Self.STRIDES
    """STRIDES."""
    comptime RECORDS = Self.STRIDES | Self.WRITABLE | Self.FORMAT
    """STRIDES | WRITABLE | FORMAT."""
    comptime RECORDS_RO = Self.STRIDES | Self.FORMAT
    """STRIDES | FORMAT."""
    comptime FULL = Self.INDIRECT | Self.WRITABLE | Self.FORMAT
    """INDIRECT | WRITABLE | FORMAT."""
    comptime FULL_RO = Self.INDIRECT | Self.FORMAT
    """INDIRECT | FORMAT."""

    @always_inline
    def __init__(out self, value: Int):
        """Wraps raw flag bits.

        Args:
            value: The bits (a `PyBUF_*` combination).
        """
        self.value = Int32(value)

    @always_inline
    def __eq__(self, other: Self) -> Bool:
        """Compares the raw bits.

        Args:
            other: The flags to compare with.

        Returns:
            True if the bits are identical.
        """
        return self.value == other.value

    @always_inline
    def __or__(self, other: Self) -> Self:
        """Combines two requests.

        Args:
            other: The flags to add.

        Returns:
            The union of both.
        """
        return Self(self.value | other.value)

    @always_inline
    def __contains__(self, other: Self) -> Bool:
        """Tells whether every bit of `other` is requested.

        Args:
            other: The flags to look for.

        Returns:
            True if all bits of `other` are set in `self`.
        """
        return (self.value & other.value) == other.value

    @always_inline
    def writable(self) -> Bool:
        """Tells whether the consumer asked to write.

        Returns:
            True if WRITABLE is set.
        """
        return Self.WRITABLE in self

    def write_to(self, mut writer: Some[Writer]):
        """Writes the flags as `BufferFlags(0x..)`.

        Args:
            writer: Where to write.
        """
        writer.write("BufferFlags(", hex(Int(self.value)), ")")


# ===-----------------------------------------------------------------------===#
# DType or struct -> PEP 3118 format
# ===-----------------------------------------------------------------------===#


def format_of[dtype: DType]() -> StaticString:
    """Returns the PEP 3118 format of one element of `dtype` (a NUL-terminated
    literal, so it can live in a `Buffer` for ever), from the element-type
    table of `bufferable.dtype`.

    Types with no struct-module code use the extension form
    `[module$qualname$]` naming the ml_dtypes scalar type with the same bits
    (`bufferable.asarray` turns it into that numpy dtype; DLPack carries it
    as kDLBfloat / kDLFloat8_*).

    Parameters:
        dtype: The element type: bool, int8..uint64, float16, float32,
            float64, bfloat16, or one of the float8 types Mojo has
            (checked at compile time).

    Returns:
        `?`, `b B h H i I q Q`, `e`, `f`, `d`, `[ml_dtypes$bfloat16$]` or
        `[ml_dtypes$float8_...$]`.
    """
    return dtype_format[dtype]()


def format_of[T: AnyType]() -> StaticString:
    """Returns the PEP 3118 format of one record of struct T (`T{...}`, every
    field named, every padding byte explicit; itemsize `size_of[T]()`),
    derived at compile time by reflection; see `record_format_of`.

    Parameters:
        T: A struct of Bool, Int, UInt, the integers and floats, `SIMD` and
            `Array` of them, and such structs (anything else does not
            compile).

    Returns:
        The format, in static memory (NUL-terminated).
    """
    return record_format_of[T]()


# ===-----------------------------------------------------------------------===#
# Buffer
# ===-----------------------------------------------------------------------===#


struct Buffer(Copyable, Writable):
    """The description of one strided array in memory: the Mojo spelling of
    C's `BfBuffer`, laid out exactly like it (64 bytes), so a pointer to it is
    handed to the core as is.

    Every pointer in it belongs to the producer and must stay valid, with its
    contents unchanged, until the producer's `__release_buffer__` has run for
    the export: keep shape and strides in the producer itself (its resize lock
    keeps them stable) or in static storage, never in a temporary.
    """

    var data: Optional[RawPointer]
    """Address of element (0, ..., 0); None only if there are no elements."""
    var itemsize: Int64
    """Size of one element in bytes."""
    var format: Optional[Pointer[c_char, MutUntrackedOrigin]]
    """PEP 3118 format, NUL-terminated (None means "B")."""
    var ndim: Int32
    """Number of dimensions, 0 to 64."""
    var readonly: Int32
    """Nonzero: consumers must not write."""
    var shape: Optional[Pointer[Int64, MutUntrackedOrigin]]
    """`ndim` extents in elements (None only if ndim == 0)."""
    var strides: Optional[Pointer[Int64, MutUntrackedOrigin]]
    """`ndim` steps in BYTES (None means C-contiguous)."""
    var suboffsets: Optional[Pointer[Int64, MutUntrackedOrigin]]
    """None, or `ndim` PIL-style suboffsets."""
    var device_type: Int32
    """DLPack device type (1: CPU)."""
    var device_id: Int32
    """DLPack device ordinal (0 for the CPU)."""

    # --- constructors ------------------------------------------------------

    def __init__(out self):
        """An empty descriptor: a 0-d, NULL, read-only "B" buffer (a value to
        overwrite, never to export)."""
        self.data = None
        self.itemsize = 1
        self.format = None
        self.ndim = 0
        self.readonly = 1
        self.shape = None
        self.strides = None
        self.suboffsets = None
        self.device_type = 1
        self.device_id = 0

    def __init__[
        dtype: DType
    ](
        out self,
        data: Pointer[Scalar[dtype], _],
        shape: Span[Int64, _],
        *,
        readonly: Bool = False,
    ):
        """Describes a C-contiguous array of `dtype` with the given shape.

        Parameters:
            dtype: The element type (its format comes from `format_of`).

        Args:
            data: Address of the first element.
            shape: The extents, in elements; must live in the producer (or in
                static storage) for as long as the export does.
            readonly: Whether consumers are refused write access.
        """
        self = Self(
            data.unsafe_bitcast[NoneType](),
            itemsize=size_of[Scalar[dtype]](),
            format=format_of[dtype](),
            shape=shape,
            readonly=readonly,
        )

    def __init__[
        dtype: DType
    ](
        out self,
        data: Pointer[Scalar[dtype], _],
        shape: Span[Int64, _],
        strides: Span[Int64, _],
        *,
        readonly: Bool = False,
    ) raises:
        """Describes a strided array of `dtype`.

        Parameters:
            dtype: The element type (its format comes from `format_of`).

        Args:
            data: Address of element (0, ..., 0).
            shape: The extents, in elements.
            strides: The step of each dimension in BYTES (may be negative or
                zero); same length as `shape`.
            readonly: Whether consumers are refused write access.

        Both spans must live in the producer (or in static storage) for as
        long as the export does.

        Raises:
            BufferError if `strides` and `shape` differ in length.
        """
        self = Self(
            data.unsafe_bitcast[NoneType](),
            itemsize=size_of[Scalar[dtype]](),
            format=format_of[dtype](),
            shape=shape,
            readonly=readonly,
        )
        self.strides = Self._per_dimension(strides, len(shape), "strides")

    def __init__(
        out self,
        data: Pointer[NoneType, _],
        *,
        itemsize: Int,
        format: StaticString,
        shape: Span[Int64, _],
        readonly: Bool = False,
    ):
        """Describes a C-contiguous array of items of any PEP 3118 format
        (structs, padding, extension formats such as `[ml_dtypes$bfloat16$]`).

        Args:
            data: Address of the first item.
            itemsize: Size of one item in bytes; the core checks it against
                the format.
            format: The item's format (a literal: it must outlive the export).
            shape: The extents, in items.
            readonly: Whether consumers are refused write access.
        """
        self = Self()
        self.data = RawPointer(unsafe_from_address=Int(data))
        self.itemsize = Int64(itemsize)
        self.format = Pointer[c_char, MutUntrackedOrigin](
            unsafe_from_address=Int(format.unsafe_ptr())
        )
        self.ndim = Int32(len(shape))
        self.readonly = 1 if readonly else 0
        self.shape = Self._ptr(shape) if len(shape) > 0 else None

    def __init__[
        T: AnyType
    ](
        out self,
        *,
        records: Pointer[T, _],
        shape: Span[Int64, _],
        readonly: Bool = False,
    ):
        """Describes a C-contiguous array of records of struct T, with the
        format `format_of[T]()` derives (no format written by hand).

        Parameters:
            T: The record struct (see `format_of[T]`).

        Args:
            records: Address of the first record.
            shape: The extents, in records; must live in the producer (or in
                static storage) for as long as the export does.
            readonly: Whether consumers are refused write access.
        """
        self = Self(
            records.unsafe_bitcast[NoneType](),
            itemsize=size_of[T](),
            format=format_of[T](),
            shape=shape,
            readonly=readonly,
        )

    def __init__[
        T: AnyType
    ](
        out self,
        *,
        records: Pointer[T, _],
        shape: Span[Int64, _],
        strides: Span[Int64, _],
        readonly: Bool = False,
    ) raises:
        """Describes a strided array of records of struct T.

        Parameters:
            T: The record struct (see `format_of[T]`).

        Args:
            records: Address of record (0, ..., 0).
            shape: The extents, in records.
            strides: The step of each dimension in BYTES (may be negative or
                zero); same length as `shape`.
            readonly: Whether consumers are refused write access.

        Both spans must live in the producer (or in static storage) for as
        long as the export does.

        Raises:
            BufferError if `strides` and `shape` differ in length.
        """
        self = Self(records=records, shape=shape, readonly=readonly)
        self.strides = Self._per_dimension(strides, len(shape), "strides")

    def __init__[
        T: AnyType
    ](
        out self,
        *,
        records: Span[T, _],
        shape: Span[Int64, _],
        readonly: Bool = False,
    ) raises:
        """Describes the records of a span as a C-contiguous array of the
        given shape (`[len(records)]` for a 1-D export).

        Parameters:
            T: The record struct (see `format_of[T]`).

        Args:
            records: The records; the product of `shape` must equal their
                count.
            shape: The extents, in records; must live in the producer (or in
                static storage) for as long as the export does.
            readonly: Whether consumers are refused write access.

        Raises:
            ValueError if the shape does not hold exactly `len(records)`
            records.
        """
        var count = 1
        for extent in shape:
            count *= Int(extent)
        if count != len(records):
            raise value_error(
                String(
                    "Buffer: the shape holds ",
                    count,
                    " records, the span has ",
                    len(records),
                )
            )
        self = Self(
            RawPointer(unsafe_from_address=Int(records.unsafe_ptr())),
            itemsize=size_of[T](),
            format=format_of[T](),
            shape=shape,
            readonly=readonly,
        )

    @staticmethod
    def scalar[
        dtype: DType
    ](data: Pointer[Scalar[dtype], _], *, readonly: Bool = False) -> Buffer:
        """Describes a single value (a 0-d array: `memoryview(x).shape == ()`).

        Parameters:
            dtype: The element type.

        Args:
            data: Address of the value.
            readonly: Whether consumers are refused write access.

        Returns:
            The descriptor.
        """
        var b = Buffer()
        b.data = RawPointer(unsafe_from_address=Int(data))
        b.itemsize = Int64(size_of[Scalar[dtype]]())
        b.format = Pointer[c_char, MutUntrackedOrigin](
            unsafe_from_address=Int(format_of[dtype]().unsafe_ptr())
        )
        b.readonly = 1 if readonly else 0
        return b^

    @staticmethod
    @always_inline
    def _ptr(
        span: Span[Int64, _]
    ) -> Optional[Pointer[Int64, MutUntrackedOrigin]]:
        return Pointer[Int64, MutUntrackedOrigin](
            unsafe_from_address=Int(span.unsafe_ptr())
        )

    # --- modifiers ---------------------------------------------------------

    def read_only(self) -> Buffer:
        """Returns the same description marked read-only.

        Returns:
            A copy with `readonly` set.
        """
        var b = self.copy()
        b.readonly = 1
        return b^

    def with_suboffsets(self, suboffsets: Span[Int64, _]) raises -> Buffer:
        """Returns the same description with PIL-style suboffsets.

        Args:
            suboffsets: One entry per dimension (negative: no indirection);
                must outlive the export.

        Returns:
            A copy with `suboffsets` set.

        Raises:
            BufferError if `suboffsets` has not one entry per dimension.
        """
        var b = self.copy()
        b.suboffsets = Self._per_dimension(suboffsets, Int(self.ndim), "suboffsets")
        return b^

    @staticmethod
    def _per_dimension(
        span: Span[Int64, _], ndim: Int, what: StaticString
    ) raises -> Optional[Pointer[Int64, MutUntrackedOrigin]]:
        """The address of a per-dimension span, which must hold `ndim`
        entries (the core reads exactly `ndim` of them)."""
        if len(span) != ndim:
            raise buffer_error(
                String(
                    "Buffer: ", what, " has ", len(span), " entries, shape has ", ndim
                )
            )
        return Self._ptr(span)

    # --- queries -----------------------------------------------------------

    def rank(self) -> Int:
        """Returns the number of dimensions.

        Returns:
            `ndim`.
        """
        return Int(self.ndim)

    def dim(self, i: Int) -> Int:
        """Returns the extent of dimension `i` (no bounds check).

        Args:
            i: The dimension, 0 <= i < ndim.

        Returns:
            The extent in elements.
        """
        return Int(self.shape.value()[unsafe_offset=i])

    def num_elements(self) -> Int:
        """Returns the product of the shape (1 for a scalar).

        Returns:
            The number of elements.
        """
        var n = 1
        for i in range(Int(self.ndim)):
            n *= self.dim(i)
        return n

    def is_readonly(self) -> Bool:
        """Tells whether consumers are refused write access.

        Returns:
            True if read-only.
        """
        return self.readonly != 0

    def write_to(self, mut writer: Some[Writer]):
        """Writes a short description (`Buffer(ndim=2, itemsize=8, ...)`).

        Args:
            writer: Where to write.
        """
        writer.write(
            "Buffer(ndim=",
            self.ndim,
            ", itemsize=",
            self.itemsize,
            ", readonly=",
            self.readonly != 0,
            ")",
        )
