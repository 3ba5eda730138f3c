"""`MemoryView`: a typed, strided view of memory that a Python object exports
(a numpy array, a bytearray, an image, a bufferable export) or that Mojo owns.

```mojo
from bufferable import MemoryView, MemoryLayout

def scale(obj: PythonObject, factor: Float64) raises:
    var v = MemoryView[DType.float64, 2](obj)   # any strides; writable
    for i in range(v.dim(0)):
        for j in range(v.dim(1)):
            v[i, j] = v[i, j] * factor           # bounds-checked
    var rows = v[1:5, ::-2]                      # same memory, same acquisition

def total(obj: PythonObject) raises -> Float32:
    # C order demanded at compile time: unit inner stride, so unsafe_load
    # is one vector load (a strided buffer is refused with BufferError).
    var v = MemoryView[DType.float32, 1, layout=MemoryLayout.C_CONTIGUOUS,
                       mut=False](obj)
    var acc = SIMD[DType.float32, 8](0)
    var i = 0
    while i + 8 <= len(v):
        acc += v.unsafe_load[8](i)
        i += 8
    var s = acc.reduce_add()
    while i < len(v):
        s += v.unsafe_get(i)
        i += 1
    return s
```

Conventions:
- Shape and strides live inline in the view (`rank` entries each, no heap
  allocation per view). `v.stride(d)` counts ELEMENTS between neighbours
  along axis d (negative or zero allowed); `v.byte_stride(d)` counts bytes.
- Unaligned memory is read and written as numpy and Cython read it: a data
  address that is not a multiple of the element's alignment (Dask hands
  workers such arrays after a transfer) and byte strides that are not whole
  elements (a field of packed records, 13 bytes apart). Element access,
  SIMD `load`/`store` (vector loads, gathers, scatters), slices, transposes,
  `copy()` and exports all work on it, because the view's loads and stores
  never claim more than one byte of alignment: on x86-64 and arm64 that is
  the instruction an aligned access is, so aligned views lose nothing
  (testing a per-view flag on each access cost write loops their
  vectorization). `is_aligned()` records, once per acquisition, whether
  every element is aligned, for code that loads through `unsafe_ptr()`
  (with `alignment=1` when it is False). `stride(d)` is exact when the byte
  stride is a whole number of elements (always, in an aligned view).
- A view made from a Python object owns one reference to the core's
  acquisition (`BfAcquisition`: one `PyObject_GetBuffer`, or one DLPack
  managed tensor for `from_dlpack`, or one ArrowArray for `from_arrow`). `view()`, slices,
  transposes and permutations share it (incref); the Py_buffer is released
  exactly once, when the last of them dies (CPython's managed buffer: no
  daisy chain), so slices may outlive the view they came from.
- `copy()` returns a C-contiguous view of a fresh allocation owned by Mojo
  (reference-counted the same way): there is one view type for borrowed and
  owned memory.
- A view is `Bufferable`: bind it with `PythonModuleBuilder.add_type` and
  `add_buffer_protocol`, and numpy sees the (sliced, transposed) view's
  memory in place (`to_numpy(view)`).

Errors raised (each records the Python class the bufferable wrappers raise,
see `bufferable.errors`; the classes follow Cython's typed memoryviews):
- TypeError: the object does not export a buffer.
- ValueError: the buffer's element type is not `dtype` (byte order included:
  a non-native order is refused), or it has another number of dimensions.
- BufferError: a mutable view of a read-only buffer; a buffer that is not
  laid out as `layout` demands; indirect (suboffset, PIL-style) buffers.
- IndexError: an index out of range (checked access; `unsafe_*` access does
  not check).
- MemoryError: `full` or `copy` asked for more memory than can be allocated.
"""

from std.ffi import c_char, c_int, external_call
from std.memory import ArcPointer, unsafe_memcpy
from std.python import PythonObject
from std.sys.info import size_of

from .acquire import (
    VIA_ARROW,
    VIA_BUFFER,
    VIA_DLPACK,
    Geometry,
    acquire,
    check_descriptor,
    checked_geometry,
    view_name,
)
from .api import ERROR_MEMORY, AcquisitionPtr, bf_api, load_api
from .buffer import Buffer, BufferFlags
from .bufferable import Bufferable
from .dtype import dtype_format
from .errors import index_error, python_error, value_error
from .export_counter import ExportCounter
from .layout import (
    MemoryLayout,
    c_strides,
    is_c_contiguous,
    is_f_contiguous,
    shape_text,
    slice_axis,
)


comptime _OWNED_ALIGNMENT = 64
"""Alignment of memory `MemoryView.copy()` allocates (a cache line; enough
for any SIMD width)."""


struct _OwnedMemory(Movable):
    """A heap block owned by Mojo, shared (through `ArcPointer`) by every view
    of it; freed when the last view dies.

    Allocated with C's `posix_memalign`, which reports failure, rather than
    Mojo 1.2.0's allocator, which aborts the process on failure: a size that
    fits in an Int but not in memory is a MemoryError."""

    var _address: Int

    def __init__(out self, count: Int, itemsize: Int) raises:
        """Allocates `count` items of `itemsize` bytes (at least one byte).

        Raises:
            MemoryError if the size overflows an Int or cannot be allocated.
        """
        var address = Int(0)
        var failed = count > Int.MAX // itemsize
        if not failed:
            failed = external_call["posix_memalign", c_int](
                Pointer(to=address), _OWNED_ALIGNMENT, max(count * itemsize, 1)
            ) != 0
        if failed:
            raise python_error(
                ERROR_MEMORY,
                String(
                    "cannot allocate ",
                    count,
                    " elements of ",
                    itemsize,
                    " bytes for a MemoryView",
                ),
            )
        self._address = address

    def __deinit__(deinit self):
        external_call["free", NoneType](self._address)

    def address(self) -> Int:
        return self._address


# ===-----------------------------------------------------------------------===#
# MemoryView
# ===-----------------------------------------------------------------------===#


struct MemoryView[
    dtype: DType,
    rank: Int,
    *,
    layout: MemoryLayout = MemoryLayout.STRIDED,
    mut: Bool = True,
](Bufferable, Sized, Writable):
    """A typed, strided view of `rank` dimensions of `dtype` elements.

    Built from any Python object that exports a buffer
    (`MemoryView[DType.float32, 2](obj)`), a DLPack tensor (`from_dlpack`)
    or an Arrow array (`from_arrow`), checked against `dtype`, `rank`,
    `layout` and `mut`; or by `copy()` and `full()`, which own fresh memory.
    Views made from a view share the memory and its acquisition; the buffer
    is released once, when the last of them dies. See the module docstring
    for strides, unaligned memory, errors and ownership.

    A view is movable, not implicitly copyable (`copy()` copies the
    elements): take another view of the same memory with `view()`, a slice,
    `transpose()`, `permute()`, `select()` or `as_read_only()`; each holds
    one more reference to the acquisition. The reference count is atomic,
    so views may be dropped on any thread (the last drop takes the GIL to
    release the buffer).

    Parameters:
        dtype: The element type: bool, int8..int64, uint8..uint64, float16,
            float32, float64 (the buffer's format must say exactly that, in
            native byte order), bfloat16 and the float8 types (matching
            `[ml_dtypes$bfloat16$]`, `[ml_dtypes$float8_e4m3fn$]`, ...).
        rank: The number of dimensions (at least 1); the buffer's ndim must
            be equal.
        layout: The memory order demanded at compile time (`MemoryLayout`):
            STRIDED accepts any strides; C_CONTIGUOUS and F_CONTIGUOUS refuse
            other buffers and let inner loops assume unit stride.
        mut: Whether the view writes. A mutable view asks the exporter for a
            writable buffer and refuses a read-only one (BufferError); use
            `mut=False` to read bytes, read-only arrays and the like.
    """

    comptime Element = Scalar[Self.dtype]
    """The element type."""
    comptime ElementPointer = Pointer[Self.Element, MutUntrackedOrigin]
    """A pointer to one element."""
    comptime Strided = MemoryView[
        Self.dtype, Self.rank, layout=MemoryLayout.STRIDED, mut=Self.mut
    ]
    """The same view with no layout guarantee (what slicing returns)."""

    var _data: Self.ElementPointer
    """Element (0, ..., 0) of this view (dangling if the view is empty; not
    aligned if `_aligned` is False)."""
    var _shape: Array[Int, Self.rank]
    """Extents, in elements."""
    var _strides: Array[Int, Self.rank]
    """Steps between neighbours of each axis, in BYTES."""
    var _aligned: Bool
    """Whether every element is aligned as `Element` needs (decided when the
    memory was acquired; views made from this one inherit it). Element
    access never assumes it: this answers `is_aligned()`."""
    var _acquisition: AcquisitionPtr
    """The core's acquisition this view holds one reference to (None for
    memory Mojo owns)."""
    var _owned: Optional[ArcPointer[_OwnedMemory]]
    """The Mojo allocation this view shares (None for Python buffers)."""
    var _exports: ExportCounter
    """Live exports of this view (when bound as a Python object)."""
    var _export_strides: Array[Int64, Self.rank]
    """Byte strides handed to consumers of an export (stable while exported:
    an exported view lives inside its Python object)."""

    # --- construction ------------------------------------------------------

    def __init__(out self, obj: PythonObject) raises:
        """Views the buffer `obj` exports, with no copy.

        The core acquires it (`PyObject_GetBuffer` with strides, format and
        suboffsets, plus WRITABLE if `mut`); the view then holds that
        acquisition, shared by every copy and slice of it.

        Args:
            obj: Any object exporting the buffer protocol.

        Raises:
            TypeError if `obj` exports no buffer; ValueError if its element
            type is not `dtype` (or not in native byte order) or its ndim is
            not `rank`; BufferError if the view is mutable and the buffer
            read-only, if the buffer is not laid out as `layout` demands, or
            is indirect (suboffsets). Errors name the problem and reach
            Python with their class through bufferable's wrappers. Any
            address and any byte strides are accepted (see `is_aligned`).
        """
        self = Self._acquired(obj, VIA_BUFFER)

    @staticmethod
    def _acquired(obj: PythonObject, via: Int) raises -> Self:
        """Acquires `obj` through `via` and checks it; the view takes over the
        acquisition (released here if the checks refuse it)."""
        comptime assert Self.rank >= 1, "MemoryView: rank must be at least 1"
        var acquired = acquire[Self._name](obj, via, Self.mut)
        var acquisition = acquired[1]
        try:
            return Self._from_geometry(
                checked_geometry[Self.dtype, Self.rank, Self.layout, Self.mut](
                    acquired[0], obj
                ),
                acquisition,
            )
        except e:
            bf_api().acquisition_decref(acquisition)
            raise e^

    @staticmethod
    def _from_geometry(
        geometry: Geometry[Self.rank], acquisition: AcquisitionPtr
    ) -> Self:
        """Assembles a view of checked memory; takes over `acquisition`."""
        var data = Self.ElementPointer.unsafe_dangling()
        if geometry.address != 0:
            data = Self.ElementPointer(unsafe_from_address=geometry.address)
        return Self(
            _data=data,
            _shape=geometry.shape.copy(),
            _strides=geometry.strides.copy(),
            _aligned=geometry.aligned,
            _acquisition=acquisition,
            _owned=None,
        )

    def __init__(out self, *, unsafe_buffer: Buffer) raises:
        """Views memory described by a `Buffer` (C's `BfBuffer`), checked as
        the core checks every export (ndim, extents, size overflow, NULL
        data, format against item size, device, writability) and then like a
        Python buffer (element type, rank, layout, writability), but
        with NO owner: nothing keeps the memory alive. The caller guarantees
        that the memory outlives this view and every view made from it, and
        that the description is true (no check can tell how much memory lies
        behind `data`).

        Args:
            unsafe_buffer: The descriptor (e.g. what a producer's
                `__buffer__` returns).

        Raises:
            As `__init__(obj)` does for a Python buffer, except TypeError.
        """
        comptime assert Self.rank >= 1, "MemoryView: rank must be at least 1"
        check_descriptor(
            unsafe_buffer,
            Self.mut,
            view_name[Self.dtype, Self.rank, Self.layout, Self.mut](),
        )
        self = Self._from_geometry(
            checked_geometry[Self.dtype, Self.rank, Self.layout, Self.mut](
                unsafe_buffer, None
            ),
            None,
        )

    @staticmethod
    def from_dlpack(obj: PythonObject) raises -> Self:
        """Views the tensor `obj` exports through DLPack (a torch tensor, a
        numpy array, a bufferable export: anything with `__dlpack__`), with
        no copy.

        The core calls `obj.__dlpack__(max_version=(1, 1))` (or the legacy
        `obj.__dlpack__()` for producers that predate DLPack 1.0), consumes
        the capsule and keeps the managed tensor in an acquisition that every
        view, slice and transpose of the result shares: the producer's
        deleter runs exactly once, when the last of them dies. The tensor is
        checked exactly as a buffer is by `MemoryView(obj)`: DLPack's data
        type maps to the same format (bfloat16 and float8 types included),
        then element type, rank, writability (a tensor flagged READ_ONLY is
        refused by a mutable view) and layout; an unaligned tensor is read
        as `MemoryView(obj)` reads an unaligned buffer.

        ```mojo
        var t = torch.arange(12, dtype=torch.float32).reshape(3, 4)
        var v = MemoryView[DType.float32, 2].from_dlpack(t.T)  # strided
        v[0, 1] = 42.0                                        # torch sees it
        ```

        Args:
            obj: Any object with `__dlpack__` whose memory is on the CPU.

        Returns:
            A view holding the tensor (one acquisition).

        Raises:
            TypeError if `obj` has no `__dlpack__` (or its core lacks DLPack
            support); BufferError if the tensor is on another device, has a
            data type with no buffer format, is read-only and the view
            mutable, or is not laid out as `layout` demands; ValueError for
            a different element type or rank. Errors from `__dlpack__`
            itself come back as the same class, caused by the original
            exception (KeyboardInterrupt as the very object).
        """
        return Self._acquired(obj, VIA_DLPACK)

    @staticmethod
    def from_arrow(obj: PythonObject) raises -> Self:
        """Views the values of a 1-D Arrow array of a fixed-width primitive
        type (a `pyarrow.Array`, or anything with `__arrow_c_array__`), with
        no copy.

        The core calls `obj.__arrow_c_array__()`, moves the ArrowArray out of
        its capsule and keeps it in an acquisition shared by every view of
        the result; the array's release callback runs exactly once, when the
        last of them dies. The array's offset is applied (a sliced pyarrow
        array views just its slice). Arrow arrays are immutable, so the view
        must be `mut=False` (checked at compile time).

        ```mojo
        var col = pyarrow.array([1.0, 2.0, 3.0])
        var v = MemoryView[DType.float64, 1, mut=False].from_arrow(col)
        ```

        Args:
            obj: Any object with `__arrow_c_array__`.

        Returns:
            A read-only, 1-D view of the array's values.

        Raises:
            TypeError if `obj` has no `__arrow_c_array__`; BufferError if the
            array has nulls, is not a fixed-width primitive type (booleans
            are bit-packed; strings, lists and structs have several buffers)
            or not 1-D; ValueError if its element type is not `dtype`.
        """
        comptime assert not Self.mut, (
            "MemoryView.from_arrow: Arrow arrays are immutable; use a"
            " read-only view (mut=False)"
        )
        return Self._acquired(obj, VIA_ARROW)

    @doc_hidden
    def __init__(
        out self,
        *,
        _data: Self.ElementPointer,
        var _shape: Array[Int, Self.rank],
        var _strides: Array[Int, Self.rank],
        _aligned: Bool,
        _acquisition: AcquisitionPtr,
        var _owned: Optional[ArcPointer[_OwnedMemory]],
    ):
        """Assembles a view (strides in bytes); takes over one reference to
        `_acquisition`."""
        self._data = _data
        self._shape = _shape^
        self._strides = _strides^
        self._aligned = _aligned
        self._acquisition = _acquisition
        self._owned = _owned^
        self._exports = ExportCounter()
        self._export_strides = Array[Int64, Self.rank](fill=0)

    def view(self) -> Self:
        """Returns another view of the same memory and geometry, sharing the
        acquisition (one more reference; no Python call, no GIL needed).
        (A view is not implicitly copyable: `copy()` copies the elements.)

        Returns:
            The new view.
        """
        return self._rebuilt[Self.layout](
            self._data, self._shape.copy(), self._strides.copy()
        )

    def __deinit__(deinit self):
        """Drops this view's reference to the acquisition: the last view of a
        buffer releases it (exactly once, taking the GIL if needed)."""
        if self._acquisition:
            bf_api().acquisition_decref(self._acquisition)

    def _rebuilt[
        new_layout: MemoryLayout
    ](
        self,
        data: Self.ElementPointer,
        var shape: Array[Int, Self.rank],
        var strides: Array[Int, Self.rank],
    ) -> MemoryView[Self.dtype, Self.rank, layout=new_layout, mut=Self.mut]:
        """A view of the same memory and owner with another geometry (strides
        in bytes); as aligned as this one."""
        if self._acquisition:
            bf_api().acquisition_incref(self._acquisition)
        return MemoryView[
            Self.dtype, Self.rank, layout=new_layout, mut=Self.mut
        ](
            _data=data,
            _shape=shape^,
            _strides=strides^,
            _aligned=self._aligned,
            _acquisition=self._acquisition,
            _owned=self._owned.copy(),
        )

    @staticmethod
    def _name() -> String:
        """`MemoryView[float32, 2]` (plus layout and read-only when set)."""
        return view_name[Self.dtype, Self.rank, Self.layout, Self.mut]()

    # --- geometry ------------------------------------------------------------

    @always_inline
    def __len__(self) -> Int:
        """Returns the extent of the first axis.

        Returns:
            `dim(0)`.
        """
        return self._shape[0]

    @always_inline
    def dim(self, axis: Int) -> Int:
        """Returns the extent of one axis (no check of `axis`).

        Args:
            axis: 0 <= axis < rank.

        Returns:
            The number of elements along `axis`.
        """
        return self._shape.unsafe_get(axis)

    @always_inline
    def stride(self, axis: Int) -> Int:
        """Returns the step between neighbours along one axis, in elements
        (no check of `axis`).

        Exact when the byte stride is a whole number of elements, which it
        always is for an aligned view; otherwise (a field of packed records)
        there is no element stride: use `byte_stride`.

        Args:
            axis: 0 <= axis < rank.

        Returns:
            The stride in elements (may be negative or zero).
        """
        comptime if Self.layout == MemoryLayout.C_CONTIGUOUS:
            if axis == Self.rank - 1:
                return 1
        elif Self.layout == MemoryLayout.F_CONTIGUOUS:
            if axis == 0:
                return 1
        return self._strides.unsafe_get(axis) // size_of[Self.Element]()

    @always_inline
    def byte_stride(self, axis: Int) -> Int:
        """Returns the step between neighbours along one axis, in bytes (no
        check of `axis`).

        Args:
            axis: 0 <= axis < rank.

        Returns:
            The stride in bytes (may be negative, zero, or not a multiple of
            the element size).
        """
        comptime if Self.layout == MemoryLayout.C_CONTIGUOUS:
            if axis == Self.rank - 1:
                return size_of[Self.Element]()
        elif Self.layout == MemoryLayout.F_CONTIGUOUS:
            if axis == 0:
                return size_of[Self.Element]()
        return self._strides.unsafe_get(axis)

    def shape(self) -> Array[Int, Self.rank]:
        """Returns the extents.

        Returns:
            A copy of the `rank` extents.
        """
        return self._shape.copy()

    def strides(self) -> Array[Int, Self.rank]:
        """Returns the strides, in elements (exact as `stride` is).

        Returns:
            The `rank` strides.
        """
        var strides = Array[Int, Self.rank](fill=0)
        comptime for d in range(Self.rank):
            strides[d] = self.stride(d)
        return strides^

    def byte_strides(self) -> Array[Int, Self.rank]:
        """Returns the strides, in bytes.

        Returns:
            A copy of the `rank` byte strides.
        """
        return self._strides.copy()

    @always_inline
    def is_aligned(self) -> Bool:
        """Tells whether every element is aligned as its type needs: the data
        address and every byte stride that is applied (of an axis with more
        than one element) are multiples of the element's alignment. Decided
        when the memory was acquired; views made from this one inherit the
        answer (a slice of an unaligned view says False). The view's own
        accessors work either way.

        Returns:
            False if an element may be unaligned: loads and stores through
            `unsafe_ptr()` then need `alignment=1`.
        """
        return self._aligned

    def num_elements(self) -> Int:
        """Returns the number of elements (the product of the shape).

        Returns:
            The element count.
        """
        var n = 1
        comptime for d in range(Self.rank):
            n *= self._shape[d]
        return n

    @always_inline
    def unsafe_ptr(self) -> Self.ElementPointer:
        """Returns the address of element (0, ..., 0) of this view.

        Returns:
            The pointer; valid while this view (or any view sharing its
            memory) lives. Writing through it is allowed only if `mut`. If
            `is_aligned()` is False it may point at an unaligned element:
            load and store through it with `alignment=1`.
        """
        return self._data

    def is_c_contiguous(self) -> Bool:
        """Tells whether the view is row-major with no gaps (CPython's rule:
        extents of 1 may have any stride; an empty view is contiguous).

        Returns:
            True if C-contiguous.
        """
        comptime if Self.layout == MemoryLayout.C_CONTIGUOUS:
            return True
        return is_c_contiguous(
            self._shape, self._strides, size_of[Self.Element]()
        )

    def is_f_contiguous(self) -> Bool:
        """Tells whether the view is column-major with no gaps.

        Returns:
            True if Fortran-contiguous.
        """
        comptime if Self.layout == MemoryLayout.F_CONTIGUOUS:
            return True
        return is_f_contiguous(
            self._shape, self._strides, size_of[Self.Element]()
        )

    def is_owned(self) -> Bool:
        """Tells whether the memory belongs to Mojo (a `copy()`) rather than
        to a Python object.

        Returns:
            True for memory Mojo allocated.
        """
        return Bool(self._owned)

    # --- element access ------------------------------------------------------

    @staticmethod
    @always_inline
    def _advanced(p: Self.ElementPointer, offset: Int) -> Self.ElementPointer:
        """The element `offset` BYTES after `p` (any number of bytes)."""
        return (
            p.unsafe_bitcast[Byte]()
            .unsafe_offset(offset)
            .unsafe_bitcast[Self.Element]()
        )

    @staticmethod
    @always_inline
    def _read(p: Self.ElementPointer) -> Self.Element:
        """The element at `p`, loaded with no alignment assumed: `p` may be
        unaligned, and a false alignment is undefined behaviour. On x86-64
        and arm64 this is the instruction an aligned load is."""
        return p.unsafe_load[width=1, alignment=1]()

    @staticmethod
    @always_inline
    def _write(p: Self.ElementPointer, value: Self.Element):
        """Stores the element at `p`, with no alignment assumed."""
        p.unsafe_store[alignment=1](0, value)

    @always_inline
    def _checked_index(self, axis: Int, i: Int) raises -> Int:
        """`i` along `axis`, negative counting from the end, checked against
        the extent (IndexError, numpy's message)."""
        var n = self._shape.unsafe_get(axis)
        var wrapped = i + n if i < 0 else i
        if wrapped < 0 or wrapped >= n:
            raise index_error(
                String(
                    "index ",
                    i,
                    " is out of bounds for axis ",
                    axis,
                    " with size ",
                    n,
                )
            )
        return wrapped

    @always_inline
    def _checked_offset[*Ts: Indexer](self, *indices: *Ts) raises -> Int:
        """The byte offset of one index per axis, each checked by
        `_checked_index`."""
        comptime assert (
            indices.__len__() == Self.rank
        ), "MemoryView: the number of indices must equal the rank"
        var offset = 0
        comptime for d in range(Self.rank):
            offset += self._checked_index(
                d, index(indices[d])
            ) * self.byte_stride(d)
        return offset

    @always_inline
    def _offset[*Ts: Indexer](self, *indices: *Ts) -> Int:
        """The byte offset of one index per axis, unchecked (each index must
        be in 0 ..< dim(axis): a debug assertion)."""
        comptime assert (
            indices.__len__() == Self.rank
        ), "MemoryView: the number of indices must equal the rank"
        var offset = 0
        comptime for d in range(Self.rank):
            var i = index(indices[d])
            debug_assert(
                0 <= i < self._shape.unsafe_get(d),
                "MemoryView: index out of bounds",
            )
            offset += i * self.byte_stride(d)
        return offset

    @always_inline
    def __getitem__[*Ts: Indexer](self, *indices: *Ts) raises -> Self.Element:
        """Reads one element; negative indices count from the end.

        Parameters:
            Ts: The index types (inferred); exactly `rank` of them.

        Args:
            indices: One index per axis.

        Returns:
            The element.

        Raises:
            IndexError if an index is out of range.
        """
        return Self._read(
            Self._advanced(self._data, self._checked_offset(*indices))
        )

    @always_inline
    def __setitem__[
        *Ts: Indexer
    ](self, *indices: *Ts, value: Self.Element) raises where Self.mut:
        """Writes one element; negative indices count from the end.

        Parameters:
            Ts: The index types (inferred); exactly `rank` of them.

        Args:
            indices: One index per axis.
            value: The new value.

        Raises:
            IndexError if an index is out of range.
        """
        Self._write(
            Self._advanced(self._data, self._checked_offset(*indices)), value
        )

    @always_inline
    def unsafe_get[*Ts: Indexer](self, *indices: *Ts) -> Self.Element:
        """Reads one element with no bounds check (for inner loops whose
        ranges come from `dim`). Negative indices are not wrapped.

        Parameters:
            Ts: The index types (inferred); exactly `rank` of them.

        Args:
            indices: One index per axis, each in 0 ..< dim(axis).

        Returns:
            The element.
        """
        return Self._read(Self._advanced(self._data, self._offset(*indices)))

    @always_inline
    def unsafe_set[
        *Ts: Indexer
    ](self, *indices: *Ts, value: Self.Element) where Self.mut:
        """Writes one element with no bounds check.

        Parameters:
            Ts: The index types (inferred); exactly `rank` of them.

        Args:
            indices: One index per axis, each in 0 ..< dim(axis).
            value: The new value.
        """
        Self._write(Self._advanced(self._data, self._offset(*indices)), value)

    # --- SIMD access along the last axis -----------------------------------

    @always_inline
    def _gather[width: Int](self, p: Self.ElementPointer) -> SIMD[Self.dtype, width]:
        """`width` elements of the last axis from `p`: one vector load when
        the last axis has unit stride (alignment 1: any address), else a
        gather."""
        comptime itemsize = size_of[Self.Element]()
        comptime if Self.layout == MemoryLayout.C_CONTIGUOUS:
            return p.unsafe_load[width=width, alignment=1]()
        var step = self.byte_stride(Self.rank - 1)
        if step == itemsize:
            return p.unsafe_load[width=width, alignment=1]()
        var result = SIMD[Self.dtype, width]()
        comptime for k in range(width):
            result[k] = Self._read(Self._advanced(p, k * step))
        return result

    @always_inline
    def unsafe_load[
        width: Int, *Ts: Indexer
    ](self, *indices: *Ts) -> SIMD[Self.dtype, width]:
        """Loads `width` consecutive elements of the last axis, starting at an
        index, with no bounds check. One vector load when the last axis has
        unit stride (always, for C_CONTIGUOUS views; checked at run time
        otherwise), else a gather; neither assumes alignment.

        Parameters:
            width: The number of elements.
            Ts: The index types (inferred); exactly `rank` of them.

        Args:
            indices: The index of the first element; the last axis must have
                `width` elements from there.

        Returns:
            The elements, in order along the last axis.
        """
        debug_assert(
            index(indices[Self.rank - 1]) + width
            <= self._shape.unsafe_get(Self.rank - 1),
            "MemoryView.unsafe_load: runs past the end of the last axis",
        )
        return self._gather[width](
            Self._advanced(self._data, self._offset(*indices))
        )

    @always_inline
    def unsafe_store[
        width: Int, *Ts: Indexer
    ](self, *indices: *Ts, value: SIMD[Self.dtype, width]) where Self.mut:
        """Stores `width` consecutive elements of the last axis, starting at
        an index, with no bounds check (a vector store when the last axis has
        unit stride, else a scatter; neither assumes alignment).

        Parameters:
            width: The number of elements.
            Ts: The index types (inferred); exactly `rank` of them.

        Args:
            indices: The index of the first element.
            value: The elements, in order along the last axis.
        """
        debug_assert(
            index(indices[Self.rank - 1]) + width
            <= self._shape.unsafe_get(Self.rank - 1),
            "MemoryView.unsafe_store: runs past the end of the last axis",
        )
        comptime itemsize = size_of[Self.Element]()
        var p = Self._advanced(self._data, self._offset(*indices))
        comptime if Self.layout == MemoryLayout.C_CONTIGUOUS:
            p.unsafe_store[alignment=1](0, value)
            return
        var step = self.byte_stride(Self.rank - 1)
        if step == itemsize:
            p.unsafe_store[alignment=1](0, value)
            return
        comptime for k in range(width):
            Self._write(Self._advanced(p, k * step), value[k])

    def load[
        width: Int, *Ts: Indexer
    ](self, *indices: *Ts) raises -> SIMD[Self.dtype, width]:
        """Loads `width` consecutive elements of the last axis, checked.

        Parameters:
            width: The number of elements.
            Ts: The index types (inferred); exactly `rank` of them.

        Args:
            indices: The index of the first element (negative indices count
                from the end).

        Returns:
            The elements, in order along the last axis.

        Raises:
            IndexError if an index is out of range or fewer than `width`
            elements follow along the last axis.
        """
        comptime last_axis = Self.rank - 1
        var offset = self._checked_offset(*indices)
        var last = self._checked_index(last_axis, index(indices[last_axis]))
        if last + width > self._shape[last_axis]:
            raise index_error(
                String(
                    "a load of ",
                    width,
                    " elements from index ",
                    last,
                    " runs past the end of axis ",
                    last_axis,
                    " (size ",
                    self._shape[last_axis],
                    ")",
                )
            )
        return self._gather[width](Self._advanced(self._data, offset))

    # --- views of the same memory ------------------------------------------

    def __getitem__(self, *slices: Slice) raises -> Self.Strided:
        """Slices the view with Python's rules (`v[1:5, ::2]`, `v[::-1]`):
        one slice per leading axis (missing trailing axes are taken whole).
        The result shares this view's memory and acquisition and may outlive
        it.

        Args:
            slices: Up to `rank` slices.

        Returns:
            A strided view of the selected elements.

        Raises:
            IndexError if there are more slices than axes; ValueError if a
            step is zero.
        """
        if len(slices) > Self.rank:
            raise index_error(
                String(
                    "too many slices (",
                    len(slices),
                    ") for a view of rank ",
                    Self.rank,
                )
            )
        var shape = self._shape.copy()
        var strides = Array[Int, Self.rank](fill=0)
        comptime for d in range(Self.rank):
            strides[d] = self.byte_stride(d)
        var offset = 0
        for d in range(len(slices)):
            offset += slice_axis(
                slices[d], shape.unsafe_get(d), strides.unsafe_get(d)
            )
        return self._rebuilt[MemoryLayout.STRIDED](
            Self._advanced(self._data, offset), shape^, strides^
        )

    def transpose(
        self,
    ) -> MemoryView[
        Self.dtype, Self.rank, layout=Self.layout.transposed(), mut=Self.mut
    ]:
        """Reverses the order of the axes (numpy's `a.T`), sharing memory and
        acquisition. A C-contiguous view becomes F-contiguous and back.

        Returns:
            The transposed view.
        """
        var shape = Array[Int, Self.rank](fill=0)
        var strides = Array[Int, Self.rank](fill=0)
        comptime for d in range(Self.rank):
            shape[d] = self._shape[Self.rank - 1 - d]
            strides[d] = self.byte_stride(Self.rank - 1 - d)
        return self._rebuilt[Self.layout.transposed()](
            self._data, shape^, strides^
        )

    def permute(self, *axes: Int) raises -> Self.Strided:
        """Reorders the axes (numpy's `a.transpose(axes)`): axis d of the
        result is axis `axes[d]` of this view. Shares memory and acquisition.

        Args:
            axes: A permutation of 0 ..< rank (negative values count from the
                end).

        Returns:
            The permuted view.

        Raises:
            ValueError if `axes` is not a permutation of the axes.
        """
        if len(axes) != Self.rank:
            raise value_error(
                String(
                    "permute needs ",
                    Self.rank,
                    " axes, got ",
                    len(axes),
                )
            )
        var seen = Array[Bool, Self.rank](fill=False)
        var shape = Array[Int, Self.rank](fill=0)
        var strides = Array[Int, Self.rank](fill=0)
        for d in range(Self.rank):
            var a = axes[d]
            if a < 0:
                a += Self.rank
            if a < 0 or a >= Self.rank or seen.unsafe_get(a):
                raise value_error(
                    String(
                        "permute: axes must be a permutation of 0..",
                        Self.rank - 1,
                        " (axis ",
                        axes[d],
                        " is out of range or repeated)",
                    )
                )
            seen.unsafe_get(a) = True
            shape.unsafe_get(d) = self._shape.unsafe_get(a)
            strides.unsafe_get(d) = self.byte_stride(a)
        return self._rebuilt[MemoryLayout.STRIDED](
            self._data, shape^, strides^
        )

    def select[
        axis: Int
    ](self, index: Int) raises -> MemoryView[
        Self.dtype, Self.rank - 1, layout=MemoryLayout.STRIDED, mut=Self.mut
    ]:
        """Fixes one axis at an index and drops it (numpy's `a[i]` for axis
        0, `a[:, j]` for axis 1): a view of one rank less, sharing memory and
        acquisition.

        Parameters:
            axis: The axis to fix, 0 <= axis < rank (rank must be >= 2).

        Args:
            index: The position along `axis` (negative counts from the end).

        Returns:
            The view of the remaining axes.

        Raises:
            IndexError if `index` is out of range.
        """
        comptime assert Self.rank >= 2, "select: the view must have rank >= 2"
        comptime assert axis >= 0 and axis < Self.rank, "select: axis out of range"
        var i = self._checked_index(axis, index)
        var shape = Array[Int, Self.rank - 1](fill=0)
        var strides = Array[Int, Self.rank - 1](fill=0)
        comptime for d in range(Self.rank):
            comptime if d < axis:
                shape[d] = self._shape[d]
                strides[d] = self.byte_stride(d)
            elif d > axis:
                shape[d - 1] = self._shape[d]
                strides[d - 1] = self.byte_stride(d)
        if self._acquisition:
            bf_api().acquisition_incref(self._acquisition)
        return MemoryView[
            Self.dtype, Self.rank - 1, layout=MemoryLayout.STRIDED, mut=Self.mut
        ](
            _data=Self._advanced(self._data, i * self.byte_stride(axis)),
            _shape=shape^,
            _strides=strides^,
            _aligned=self._aligned,
            _acquisition=self._acquisition,
            _owned=self._owned.copy(),
        )

    def as_strided(self) -> Self.Strided:
        """Returns the same view with no compile-time layout guarantee (to
        pass a C- or F-contiguous view where a strided one is expected).

        Returns:
            The view, sharing memory and acquisition.
        """
        return self._rebuilt[MemoryLayout.STRIDED](
            self._data, self._shape.copy(), self._strides.copy()
        )

    def as_read_only(
        self,
    ) -> MemoryView[Self.dtype, Self.rank, layout=Self.layout, mut=False]:
        """Returns a read-only view of the same memory (its exports are
        read-only too).

        Returns:
            The view, sharing memory and acquisition.
        """
        if self._acquisition:
            bf_api().acquisition_incref(self._acquisition)
        return MemoryView[
            Self.dtype, Self.rank, layout=Self.layout, mut=False
        ](
            _data=self._data,
            _shape=self._shape.copy(),
            _strides=self._strides.copy(),
            _aligned=self._aligned,
            _acquisition=self._acquisition,
            _owned=self._owned.copy(),
        )

    # --- copies and new memory ----------------------------------------------

    @staticmethod
    def full(
        shape: Array[Int, Self.rank], value: Self.Element
    ) raises -> MemoryView[
        Self.dtype, Self.rank, layout=MemoryLayout.C_CONTIGUOUS, mut=True
    ]:
        """Allocates fresh C-contiguous memory owned by Mojo (64-byte aligned)
        and fills it with `value`; freed when the last view of it dies.

        Args:
            shape: The extents (each >= 0).
            value: The value of every element.

        Returns:
            A mutable, C-contiguous view of the new memory.

        Raises:
            ValueError for a negative extent, or a shape whose size in bytes
            does not fit in an Int; MemoryError if the memory cannot be
            allocated.
        """
        var extents = Array[Int, Self.rank](fill=0)
        var count = 1
        var overflow = False
        comptime for d in range(Self.rank):
            if shape[d] < 0:
                raise value_error(
                    String(
                        "MemoryView.full: negative extent ",
                        shape[d],
                        " in shape ",
                        shape_text(shape),
                    )
                )
            extents[d] = shape[d]
            if extents[d] != 0 and count > Int.MAX // extents[d]:
                overflow = True
            else:
                count *= extents[d]
        comptime itemsize = size_of[Self.Element]()
        if count == 0:
            overflow = False  # an empty array needs no memory
        if overflow or count > Int.MAX // itemsize:
            raise value_error(
                String(
                    "MemoryView.full: shape ",
                    shape_text(shape),
                    " of ",
                    itemsize,
                    "-byte elements is too large: its size in bytes",
                    " overflows a 64-bit integer",
                )
            )
        var memory = ArcPointer(_OwnedMemory(count, itemsize))
        var data = Self.ElementPointer(unsafe_from_address=memory[].address())
        for i in range(count):
            data[unsafe_offset=i] = value
        var strides = c_strides(extents, itemsize)
        return MemoryView[
            Self.dtype, Self.rank, layout=MemoryLayout.C_CONTIGUOUS, mut=True
        ](
            _data=data,
            _shape=extents^,
            _strides=strides^,
            _aligned=True,
            _acquisition=None,
            _owned=memory^,
        )

    def copy(
        self,
    ) raises -> MemoryView[
        Self.dtype, Self.rank, layout=MemoryLayout.C_CONTIGUOUS, mut=True
    ]:
        """Copies the elements into fresh C-contiguous memory owned by Mojo
        (64-byte aligned), whatever this view's strides.

        The result is a view like any other: it can be sliced, written and
        exported to Python; the memory is freed when the last view of it
        dies.

        Returns:
            A mutable, C-contiguous view of the copy.

        Raises:
            MemoryError if the memory cannot be allocated (a view with zero
            strides can describe more elements than memory holds).
        """
        comptime itemsize = size_of[Self.Element]()
        var count = self.num_elements()
        var memory = ArcPointer(_OwnedMemory(count, itemsize))
        var destination = Self.ElementPointer(
            unsafe_from_address=memory[].address()
        )
        var strides = c_strides(self._shape, itemsize)
        if count > 0:
            if self.is_c_contiguous():  # one run of bytes, at any alignment
                unsafe_memcpy(
                    dest=destination.unsafe_bitcast[Byte](),
                    src=self._data.unsafe_bitcast[Byte](),
                    count=count * itemsize,
                )
            else:
                self._copy_strided_into(destination)
        return MemoryView[
            Self.dtype, Self.rank, layout=MemoryLayout.C_CONTIGUOUS, mut=True
        ](
            _data=destination,
            _shape=self._shape.copy(),
            _strides=strides^,
            _aligned=True,
            _acquisition=None,
            _owned=memory^,
        )

    def _copy_strided_into(self, destination: Self.ElementPointer):
        """Copies every element, in C order, to `destination` (contiguous);
        the view must not be empty."""
        comptime last = Self.rank - 1
        var inner = self._shape[last]
        var inner_stride = self.byte_stride(last)
        var index = Array[Int, Self.rank](fill=0)
        var out = 0
        while True:
            var offset = 0
            comptime for d in range(last):
                offset += index[d] * self.byte_stride(d)
            var src = Self._advanced(self._data, offset)
            for j in range(inner):
                destination[unsafe_offset=out + j] = Self._read(
                    Self._advanced(src, j * inner_stride)
                )
            out += inner
            # Advance the odometer over the outer axes.
            var d = last - 1
            while d >= 0:
                index.unsafe_get(d) += 1
                if index.unsafe_get(d) < self._shape.unsafe_get(d):
                    break
                index.unsafe_get(d) = 0
                d -= 1
            if d < 0:
                return

    # --- Bufferable ----------------------------------------------------------

    def __buffer__(mut self, flags: BufferFlags) raises -> Buffer:
        """Describes this view's memory to a Python consumer (numpy,
        memoryview, ...): no copy; read-only unless `mut`.

        Args:
            flags: The consumer's request (the core applies it).

        Returns:
            The descriptor (shape and byte strides stored in this view, which
            lives in its Python object while exported).
        """
        self._exports.acquire()
        comptime itemsize = size_of[Self.Element]()
        comptime for d in range(Self.rank):
            self._export_strides[d] = Int64(self.byte_stride(d))
        var desc = Buffer()
        desc.data = self._data.unsafe_bitcast[NoneType]()
        desc.itemsize = Int64(itemsize)
        desc.format = (
            dtype_format[Self.dtype]()
            .unsafe_ptr()
            .unsafe_bitcast[c_char]()
            .unsafe_mut_cast[True]()
            .unsafe_origin_cast[MutUntrackedOrigin]()
        )
        desc.ndim = Int32(Self.rank)
        desc.readonly = 0 if Self.mut else 1
        desc.shape = (
            Pointer(to=self._shape)
            .unsafe_bitcast[Int64]()
            .unsafe_origin_cast[MutUntrackedOrigin]()
        )
        desc.strides = (
            Pointer(to=self._export_strides)
            .unsafe_bitcast[Int64]()
            .unsafe_origin_cast[MutUntrackedOrigin]()
        )
        return desc^

    def __release_buffer__(mut self, buffer: Buffer):
        """Counts the end of one export.

        Args:
            buffer: What the consumer held.
        """
        self._exports.release()

    def export_count(self) -> Int:
        """Returns how many Python exports of this view are live.

        Returns:
            Exports made and not yet released.
        """
        return self._exports.live

    # --- printing ------------------------------------------------------------

    def write_to(self, mut writer: Some[Writer]):
        """Writes `MemoryView[float32, 2](shape=(3, 4), strides=(4, 1))`, the
        strides in elements; `byte_strides=(53, 9)` instead when a stride is
        not a whole number of elements.

        Args:
            writer: Where to write.
        """
        var whole = True
        comptime for d in range(Self.rank):
            if self.byte_stride(d) % size_of[Self.Element]() != 0:
                whole = False
        writer.write(Self._name(), "(shape=", shape_text(self._shape))
        if whole:
            writer.write(", strides=", shape_text(self.strides()), ")")
        else:
            writer.write(", byte_strides=", shape_text(self._strides), ")")

    def write_repr_to(self, mut writer: Some[Writer]):
        """Writes the same text as `write_to` (what Python's repr shows).

        Args:
            writer: Where to write.
        """
        self.write_to(writer)

