"""Acquiring a Python object's memory for a view, and validating it.

`acquire` obtains a `Buffer` description and the core's reference-counted
acquisition of any object, through the buffer protocol, DLPack or the Arrow
PyCapsule interface. `checked_geometry` checks a description against a
`MemoryView`'s compile-time parameters (element type and byte order, rank,
writability, layout) and converts it into the view's geometry: strides in
bytes, and whether every item is aligned, decided here once (any address and
any byte strides are viewed); `check_direct` and `strided_geometry` are the
checks any view of items shares (`RecordView` adds its own record check
between them). Every refusal raises an error whose
Python class is recorded (see `bufferable.errors`).
"""

from std.ffi import c_char, c_int, external_call
from std.python import Python, PythonObject
from std.sys.info import align_of, size_of

from ._private import RawPointer, object_address, object_at
from .api import AcquisitionPtr, BfApi, FormatInfo, PyBufferView, bf_api, load_api
from .buffer import Buffer, BufferFlags
from .dtype import dlpack_type, dtype_format, element_name
from .errors import (
    buffer_error,
    pending_python_error,
    reworded,
    type_error,
    value_error,
)
from .layout import (
    MemoryLayout,
    c_strides,
    is_c_contiguous,
    is_f_contiguous,
    shape_text,
)


comptime VIA_BUFFER = 0
"""`acquire` through the buffer protocol (`PyObject_GetBuffer`)."""
comptime VIA_DLPACK = 1
"""`acquire` through `__dlpack__`."""
comptime VIA_ARROW = 2
"""`acquire` through `__arrow_c_array__`."""


def view_name[
    dtype: DType, rank: Int, layout: MemoryLayout, mut: Bool
]() -> String:
    """Names a view type in messages: `MemoryView[float32, 2]`, plus the
    layout and `mut=False` when they are not the defaults.

    Parameters:
        dtype: The element type.
        rank: The number of dimensions.
        layout: The layout demanded.
        mut: Whether the view writes.

    Returns:
        The name.
    """
    var s = String("MemoryView[", dtype, ", ", rank)
    comptime if layout != MemoryLayout.STRIDED:
        s += String(", ", layout.name())
    comptime if not mut:
        s += ", mut=False"
    s += "]"
    return s^


def type_name(obj: PythonObject) -> String:
    """Returns the Python type name of `obj`, for messages. Needs the GIL and
    no pending exception.

    Args:
        obj: Any object.

    Returns:
        `type(obj).__name__`, or "?" if that fails.
    """
    try:
        return String(Python.type(obj).__name__)
    except:
        return "?"


def _cannot_view(error: Error, name: String, obj: PythonObject) -> Error:
    """The error for a refused acquisition: "name: cannot view 'type': "
    before the text of `error` (the exporter's exception, whose class or
    object it keeps)."""
    return reworded(
        error,
        String(name, ": cannot view '", type_name(obj), "': ", String(error)),
    )


def _read_only_error(name: String, source: String) -> Error:
    return buffer_error(
        String(
            name,
            ": the buffer of '",
            source,
            "' is read-only; a mutable view needs a writable buffer (use",
            " mut=False to read it)",
        )
    )


comptime NameFunction = def() thin -> String
"""Names a view in messages (called only when an error is raised)."""


def acquire[
    name_of: NameFunction
](obj: PythonObject, via: Int, writable: Bool) raises -> Tuple[
    Buffer, AcquisitionPtr
]:
    """Acquires the memory `obj` exports, through the core. Builds no string
    and makes no Python call unless it raises.

    Parameters:
        name_of: The view's name, for messages.

    Args:
        obj: The exporter.
        via: `VIA_BUFFER`, `VIA_DLPACK` or `VIA_ARROW`.
        writable: Through the buffer protocol: ask for a writable buffer
            (DLPack and Arrow report writability in the description).

    Returns:
        The description, and the acquisition (one reference, for the caller
        to release with `acquisition_decref`).

    Raises:
        The exporter's refusal with its class, after "name: cannot view
        'type': "; BufferError if `writable` and the buffer is read-only;
        TypeError if the core cannot acquire through `via`.
    """
    ref api = load_api()[]
    var desc = Buffer()
    var acquisition: AcquisitionPtr = None
    var flags = BufferFlags.FULL_RO
    if writable:
        flags = flags | BufferFlags.WRITABLE
    var desc_ptr = Pointer(to=desc).unsafe_origin_cast[MutUnsafeAnyOrigin]()
    var acquisition_ptr = Pointer(to=acquisition).unsafe_origin_cast[
        MutUnsafeAnyOrigin
    ]()
    var rc: c_int
    if via == VIA_BUFFER:
        rc = api.acquire(
            object_address(obj), c_int(flags.value), desc_ptr, acquisition_ptr
        )
    elif not api.has(BfApi.INTEROP):
        raise type_error(
            String(
                name_of(),
                ": the installed bufferable core cannot acquire through ",
                "DLPack" if via == VIA_DLPACK else "the Arrow PyCapsule interface",
                " (it predates it: reinstall bufferable)",
            )
        )
    elif via == VIA_DLPACK:
        rc = api.call_acquire_dlpack(
            object_address(obj), c_int(flags.value), desc_ptr, acquisition_ptr
        )
    else:
        rc = api.call_acquire_arrow(
            object_address(obj), c_int(flags.value), desc_ptr, acquisition_ptr
        )
    if rc == 0:
        return (desc^, acquisition)
    # Take the pending exception before any other Python call (the type-name
    # lookup must not run with an exception set).
    var error = pending_python_error(String(""))
    if writable and via == VIA_BUFFER:
        # A read-only buffer refuses WRITABLE with whatever class its
        # exporter picked (numpy: ValueError). Ask again without it: if that
        # succeeds, say plainly that the buffer is read-only.
        rc = api.acquire(
            object_address(obj),
            c_int(BufferFlags.FULL_RO.value),
            desc_ptr,
            acquisition_ptr,
        )
        if rc == 0:
            var readonly = desc.readonly != 0
            api.acquisition_decref(acquisition)
            if readonly:
                raise _read_only_error(name_of(), type_name(obj))
        else:
            external_call["PyErr_Clear", NoneType]()
    raise _cannot_view(error, name_of(), obj)


def _any_origin(
    p: Optional[Pointer[c_char, MutUntrackedOrigin]]
) -> Optional[Pointer[c_char, MutUnsafeAnyOrigin]]:
    """The same C string pointer, typed as the core's table takes it."""
    if p:
        return p.value().unsafe_origin_cast[MutUnsafeAnyOrigin]()
    return None


struct Geometry[rank: Int](Movable):
    """Where a view's items are: what `checked_geometry` returns."""

    var address: Int
    """Address of item (0, ..., 0); 0 when the buffer has no data."""
    var shape: Array[Int, Self.rank]
    """Extents, in items."""
    var strides: Array[Int, Self.rank]
    """Steps between neighbours of each axis, in BYTES (any number: a field
    of packed records is 13 bytes from the next)."""
    var aligned: Bool
    """Whether every item is aligned as its type needs: the address and every
    stride of an axis of extent > 1 are multiples of the alignment (True for
    a view of no item)."""

    def __init__(
        out self,
        address: Int,
        var shape: Array[Int, Self.rank],
        var strides: Array[Int, Self.rank],
        aligned: Bool,
    ):
        """Assembles a geometry.

        Args:
            address: Address of item (0, ..., 0).
            shape: Extents, in items.
            strides: Strides, in bytes.
            aligned: Whether every item is aligned.
        """
        self.address = address
        self.shape = shape^
        self.strides = strides^
        self.aligned = aligned


def check_descriptor(desc: Buffer, writable: Bool, name: String) raises:
    """Validates a description exactly as the core validates every export
    (ndim, extents, size overflow, NULL data, the format against the item
    size, the device, and a writable request against `readonly`): the core
    makes one export of it, undone at once.

    Args:
        desc: The description (a producer's `Buffer`).
        writable: Whether the memory will be written.
        name: The view's name, for messages.

    Raises:
        BufferError naming the problem.
    """
    ref api = load_api()[]
    var owner = Python.none()  # the probe export's view->obj
    var probe = PyBufferView()
    var copy = desc.copy()
    var flags = BufferFlags.FULL_RO
    if writable:
        flags = flags | BufferFlags.WRITABLE
    var view = RawPointer(unsafe_from_address=Int(Pointer(to=probe)))
    if (
        api.export_buffer(
            object_address(owner),
            view,
            Pointer(to=copy).unsafe_origin_cast[MutUnsafeAnyOrigin](),
            c_int(flags.value),
        )
        != 0
    ):
        raise pending_python_error(String(name, ": "))
    api.release_buffer(view)
    Python().cpython().Py_DecRef(object_at(Int(probe.obj.value())))
    _ = copy^
    _ = probe^


def _source_text(source: Optional[PythonObject]) -> String:
    """What the messages call the exporter: its type name, or "Buffer"."""
    if source:
        return type_name(source.value())
    return "Buffer"


def check_direct[
    name: NameFunction
](desc: Buffer, source: Optional[PythonObject]) raises:
    """Refuses an indirect (PIL-style) buffer: views follow strides, never
    suboffsets.

    Parameters:
        name: Names the view in the message.

    Args:
        desc: The description.
        source: The exporter, named in the message (None: "Buffer").

    Raises:
        BufferError if a suboffset is >= 0.
    """
    if not desc.suboffsets:
        return
    var sub = desc.suboffsets.value()
    for d in range(Int(desc.ndim)):
        if sub[unsafe_offset=d] >= 0:
            raise buffer_error(
                String(
                    name(),
                    ": the buffer of '",
                    _source_text(source),
                    "' is indirect (PIL-style suboffsets), which views do",
                    " not follow; copy it into a strided array first (e.g.",
                    " numpy.array(obj))",
                )
            )


def strided_geometry[
    rank: Int,
    itemsize: Int,
    alignment: Int,
    layout: MemoryLayout,
    mut: Bool,
    name: NameFunction,
](desc: Buffer, source: Optional[PythonObject]) raises -> Geometry[rank]:
    """Checks a description's rank, writability and layout for a view of
    `rank` axes of `itemsize`-byte items, once the items themselves are
    checked, and returns the view's geometry, with whether every item is
    aligned (any address and any byte strides are accepted).

    Parameters:
        rank: The view's number of dimensions.
        itemsize: The size of one item in bytes.
        alignment: The alignment one item needs (a power of two).
        layout: The layout the view demands.
        mut: Whether the view writes.
        name: Names the view in messages.

    Args:
        desc: The description.
        source: The exporter, named in messages (None: "Buffer").

    Returns:
        The address, shape, strides (in bytes) and alignment.

    Raises:
        ValueError for another rank; BufferError for a read-only buffer
        under a mutable view or a layout other than `layout`.
    """
    comptime assert (
        alignment > 0 and alignment & (alignment - 1) == 0
    ), "strided_geometry: the alignment must be a power of two"
    if Int(desc.ndim) != rank:
        raise value_error(
            String(
                name(),
                ": the buffer has ",
                desc.ndim,
                " dimension",
                "" if desc.ndim == 1 else "s",
                ", expected ",
                rank,
            )
        )
    # Mutability (an exporter should have refused WRITABLE already).
    comptime if mut:
        if desc.readonly != 0:
            raise _read_only_error(name(), _source_text(source))
    # Shape and strides, in bytes.
    var shape = Array[Int, rank](fill=0)
    var shape_ptr = desc.shape.value()
    var count = 1
    comptime for d in range(rank):
        shape[d] = Int(shape_ptr[unsafe_offset=d])
        count *= shape[d]
    var address = Int(desc.data.value()) if desc.data else 0
    # The bits below the alignment of every address an item can have: the
    # OR of the address and of the strides that are ever applied.
    var low_bits = address
    var strides: Array[Int, rank]
    if desc.strides:
        strides = Array[Int, rank](fill=0)
        var stride_ptr = desc.strides.value()
        comptime for d in range(rank):
            var s = Int(stride_ptr[unsafe_offset=d])
            if shape[d] > 1:
                low_bits |= s
            elif s % alignment != 0:
                s = 0  # never applied: an unaligned stride would only mislead
            strides[d] = s
    else:
        strides = c_strides(shape, itemsize)
    var aligned = count == 0 or low_bits % alignment == 0
    # The layout demanded at compile time.
    comptime if layout != MemoryLayout.STRIDED:
        var ok: Bool
        comptime if layout == MemoryLayout.C_CONTIGUOUS:
            ok = is_c_contiguous(shape, strides, itemsize)
        else:
            ok = is_f_contiguous(shape, strides, itemsize)
        if not ok:
            raise buffer_error(
                String(
                    name(),
                    ": the buffer is not ",
                    "C" if layout == MemoryLayout.C_CONTIGUOUS else "F",
                    "-contiguous (shape ",
                    shape_text(shape),
                    ", strides ",
                    shape_text(strides),
                    " in bytes)",
                )
            )
    return Geometry[rank](address, shape^, strides^, aligned)


def checked_geometry[
    dtype: DType, rank: Int, layout: MemoryLayout, mut: Bool
](desc: Buffer, source: Optional[PythonObject]) raises -> Geometry[rank]:
    """Checks an acquired description against a `MemoryView`'s parameters
    and returns the view's geometry.

    Parameters:
        dtype: The element type the view reads.
        rank: The view's number of dimensions.
        layout: The layout the view demands.
        mut: Whether the view writes.

    Args:
        desc: The description (from `acquire`, or a producer's `Buffer`).
        source: The exporter, named in messages (None: "Buffer").

    Returns:
        The address, shape, strides (in bytes) and alignment.

    Raises:
        BufferError for indirect buffers, a read-only buffer under a mutable
        view or a layout other than `layout`; ValueError for an invalid
        format, another element type or byte order, itemsize or rank.
    """
    comptime name = view_name[dtype, rank, layout, mut]
    comptime itemsize = size_of[Scalar[dtype]]()
    check_direct[name](desc, source)
    # The element type, byte order included: the grammar only when the format
    # is not the element's own letter (optionally after '@', '=' or '<').
    if not _is_native_format[dtype](desc):
        var info = FormatInfo()
        if (
            bf_api().parse_format(
                _any_origin(desc.format),
                Pointer(to=info).unsafe_origin_cast[MutUnsafeAnyOrigin](),
            )
            != 0
        ):
            raise pending_python_error(
                String(name(), ": the buffer's format is invalid: ")
            )
        comptime expected = dlpack_type[dtype]()
        var code = Int(info.dtype.code)
        var bits = Int(info.dtype.bits)
        if code != expected[0] or bits != expected[1]:
            raise value_error(
                String(
                    name(),
                    ": the buffer's format '",
                    _format_text(desc),
                    "' is ",
                    element_name(code, bits),
                    ", not ",
                    dtype,
                )
            )
        if info.native_order == 0:
            var big = info.byteorder == c_char(
                ord(">")
            ) or info.byteorder == c_char(ord("!"))
            raise value_error(
                String(
                    name(),
                    ": the buffer's format '",
                    _format_text(desc),
                    "' is ",
                    "big" if big else "non-native",
                    "-endian, and this machine is little-endian; convert it",
                    " first (e.g. numpy: a.astype(a.dtype.newbyteorder('=')))",
                )
            )
    if Int(desc.itemsize) != itemsize:
        raise value_error(
            String(
                name(),
                ": the buffer's items are ",
                desc.itemsize,
                " bytes, not ",
                itemsize,
            )
        )
    return strided_geometry[
        rank, itemsize, align_of[Scalar[dtype]](), layout, mut, name
    ](desc, source)


@always_inline
def _is_native_format[dtype: DType](desc: Buffer) -> Bool:
    """Tells whether the description's format is `dtype_format[dtype]()`,
    alone or after a native byte-order character ('@', '=', '<' on this
    little-endian machine); False (parse it) for anything else."""
    comptime expected = dtype_format[dtype]()
    if not desc.format:
        return False
    var p = desc.format.value().unsafe_bitcast[UInt8]()
    var start = 0
    var first = p[unsafe_offset=0]
    if first == UInt8(ord("@")) or first == UInt8(ord("=")) or first == UInt8(
        ord("<")
    ):
        start = 1
    comptime n = expected.byte_length()
    var e = expected.unsafe_ptr()
    comptime for i in range(n):
        if p[unsafe_offset=start + i] != e[unsafe_offset=i]:
            return False
    return p[unsafe_offset=start + n] == 0


def _format_text(desc: Buffer) -> String:
    """The description's format as text ("B" when it has none)."""
    if desc.format:
        return String(
            unsafe_from_utf8_ptr=desc.format.value().unsafe_bitcast[Byte]()
        )
    return String("B")
