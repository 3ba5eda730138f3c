"""`RecordView[T, rank, mut=...]`: Mojo reads a buffer of records (a numpy
structured array, a `Records[T]` export, any `T{...}` buffer) in place, as
references to struct T, or as copies where the records are not aligned.

```mojo
from bufferable import RecordView

def total_mass(obj: PythonObject) raises -> Float64:
    var v = RecordView[Particle, 1, mut=False](obj)   # np.zeros(n, dtype)
    var s = 0.0
    for i in range(len(v)):
        s += v[i].mass          # a reference to the record in numpy's memory
    return s
```

The buffer's format is checked against T's reflection (`format_of[T]()`):
the same itemsize (`size_of[T]()`), the same field offsets and types, nested
structs included, and T's field names wherever the buffer names its fields
(numpy always does). A format that is `format_of[T]()` verbatim is accepted
at once; any other spelling (numpy's, which leaves the trailing padding to
the itemsize; `=`/`<` byte orders; `l` for `q`) goes through the core's parser
(`bufferable.records.record_mismatch`), and the first mismatch is a
ValueError naming the field and both sides, e.g. "field 'mass': the buffer
has int32 at offset 8, Particle has float64 at offset 16".

Conventions are `MemoryView`'s: one shared acquisition (`view()` and slices
hold a reference; the buffer is released once, when the last of them dies),
`len`, `dim`, strides in records (`stride`) and in bytes (`byte_stride`:
any number, negative allowed), checked `v[i]` / `v[i, j]` (IndexError) and
unchecked `unsafe_get`. A mutable view asks for a writable buffer.

Unaligned records are viewed too (what engines deliver: an array whose data
address is odd after a transfer, or the T field of packed outer records, 33
bytes apart). Acquisition decides once whether every record is aligned as T
needs (`is_aligned()`). A reference must point at an aligned T (its fields
are read with their alignment), so on an unaligned view `v[i]` and
`v[i, j]` raise BufferError naming what works instead: `v.load(i)` returns a
copy of the record (copied byte-wise: reading one field of it compiles to
one unaligned load) and `v.store(i, value)` writes one back. `load`,
`store`, slices and `view()` work on any view; `unsafe_get` needs an aligned
one (a debug assertion).

```mojo
def total_mass_anywhere(obj: PythonObject) raises -> Float64:
    var v = RecordView[Particle, 1, mut=False](obj)   # aligned or not
    var s = 0.0
    for i in range(len(v)):
        s += v.load(i).mass     # a copy: valid at any address
    return s
```
"""

from std.memory import MaybeUninit, unsafe_memcpy
from std.python import Python, PythonObject
from std.reflection import reflect
from std.sys.info import align_of, size_of

from .acquire import VIA_BUFFER, acquire, check_direct, strided_geometry
from .api import AcquisitionPtr, bf_api
from .buffer import Buffer, format_of
from .layout import MemoryLayout, shape_text, slice_axis
from .errors import buffer_error, index_error, value_error
from .record_format import _scalar_code


comptime _BytePointer = Pointer[Byte, MutUntrackedOrigin]


def _copy_fields[T: AnyType, i: Int](dest: _BytePointer, src: _BytePointer):
    """Copies fields i.. of a T from `src` to `dest` (each a T's address, any
    alignment), nested records field by field: no padding byte is written,
    so a buffer that keeps something there (numpy lets fields of an outer
    record sit in it) keeps it."""
    comptime r = reflect[T]
    comptime if i < r.field_count():
        comptime F = r.field_at[i].T
        comptime offset = r.field_offset[index=i]()
        comptime if _scalar_code[F]() == "":  # a nested record
            _copy_fields[F, 0](
                dest.unsafe_offset(offset), src.unsafe_offset(offset)
            )
        else:
            unsafe_memcpy(
                dest=dest.unsafe_offset(offset),
                src=src.unsafe_offset(offset),
                count=size_of[F](),
            )
        _copy_fields[T, i + 1](dest, src)


struct RecordView[T: AnyType, rank: Int, *, mut: Bool = True](
    Sized, Writable
):
    """A strided view of `rank` dimensions of records of struct T, in memory
    a Python object exports.

    Parameters:
        T: The record struct (see `format_of[T]`).
        rank: The number of dimensions (at least 1).
        mut: Whether the view writes (asks for a writable buffer).
    """

    comptime Pointer = Pointer[Self.T, MutUntrackedOrigin]
    """A pointer to one record."""
    comptime RecordOrigin = UntrackedOrigin[mut=Self.mut]
    """The origin of the references `v[i]` returns: immutable when
    `mut=False`, so a read-only view cannot be written through."""

    var _data: Self.Pointer
    """Record (0, ..., 0) of this view (dangling if the view is empty; not
    aligned if `_aligned` is False)."""
    var _shape: Array[Int, Self.rank]
    """Extents, in records."""
    var _strides: Array[Int, Self.rank]
    """Steps between neighbours of each axis, in BYTES."""
    var _aligned: Bool
    """Whether every record is aligned as T needs (decided at acquisition;
    views made from this one inherit it): references only when True."""
    var _acquisition: AcquisitionPtr
    """The core's acquisition this view holds one reference to."""

    # --- construction ------------------------------------------------------

    def __init__(out self, obj: PythonObject) raises:
        """Views the records `obj` exports, with no copy.

        Args:
            obj: Any object exporting a buffer of records of T.

        Raises:
            TypeError if `obj` exports no buffer; ValueError if its records
            are not T's (itemsize, field offsets, types, names: the message
            names the first field that differs and both sides) or its ndim
            is not `rank`; BufferError if the view is mutable and the buffer
            read-only, or if it is indirect. Any address and any byte
            strides are accepted (see `is_aligned`).
        """
        comptime assert Self.rank >= 1, "RecordView: rank must be at least 1"
        var acquired = acquire[Self._name](obj, VIA_BUFFER, Self.mut)
        var desc = acquired[0].copy()
        var acquisition = acquired[1]
        try:
            self = Self._from_descriptor(desc, acquisition, obj)
        except e:
            bf_api().acquisition_decref(acquisition)
            raise e^

    @staticmethod
    def _from_descriptor(
        desc: Buffer, acquisition: AcquisitionPtr, source: PythonObject
    ) raises -> Self:
        """Checks an acquired descriptor against T and the view's parameters;
        takes over `acquisition` only on success."""
        check_direct[Self._name](desc, source)
        # The records: T's own format verbatim, or field by field.
        comptime expected = format_of[Self.T]()
        var format = String("B")
        if desc.format:
            format = String(
                unsafe_from_utf8_ptr=desc.format.value().unsafe_bitcast[
                    Byte
                ]()
            )
        if format != expected or Int(desc.itemsize) != size_of[Self.T]():
            var records = Python.import_module("bufferable.records")
            var mismatch = records.record_mismatch(
                format,
                Int(desc.itemsize),
                String(expected),
                String(reflect[Self.T].base_name()),
                source,
            )
            if mismatch is not None:
                raise value_error(String(Self._name(), ": ", mismatch))
        var geometry = strided_geometry[
            Self.rank,
            size_of[Self.T](),
            align_of[Self.T](),
            MemoryLayout.STRIDED,
            Self.mut,
            Self._name,
        ](desc, source)
        var data = Self.Pointer.unsafe_dangling()
        if geometry.address != 0:
            data = Self.Pointer(unsafe_from_address=geometry.address)
        return Self(
            _data=data,
            _shape=geometry.shape.copy(),
            _strides=geometry.strides.copy(),
            _aligned=geometry.aligned,
            _acquisition=acquisition,
        )

    @doc_hidden
    def __init__(
        out self,
        *,
        _data: Self.Pointer,
        var _shape: Array[Int, Self.rank],
        var _strides: Array[Int, Self.rank],
        _aligned: Bool,
        _acquisition: AcquisitionPtr,
    ):
        """Assembles a view (strides in bytes); takes over one reference to
        `_acquisition`."""
        self._data = _data
        self._shape = _shape^
        self._strides = _strides^
        self._aligned = _aligned
        self._acquisition = _acquisition

    def view(self) -> Self:
        """Returns another view of the same records, sharing the acquisition.

        Returns:
            The new view.
        """
        return self._rebuilt(self._data, self._shape.copy(), self._strides.copy())

    def _rebuilt(
        self,
        data: Self.Pointer,
        var shape: Array[Int, Self.rank],
        var strides: Array[Int, Self.rank],
    ) -> Self:
        """A view of the same acquisition with another geometry (strides in
        bytes); as aligned as this one."""
        if self._acquisition:
            bf_api().acquisition_incref(self._acquisition)
        return Self(
            _data=data,
            _shape=shape^,
            _strides=strides^,
            _aligned=self._aligned,
            _acquisition=self._acquisition,
        )

    def __deinit__(deinit self):
        """Drops this view's reference to the acquisition (the last view
        releases the buffer, exactly once)."""
        if self._acquisition:
            bf_api().acquisition_decref(self._acquisition)

    @staticmethod
    def _name() -> String:
        """`RecordView[Particle, 1]` (plus `mut=False` when set)."""
        var s = String(
            "RecordView[", reflect[Self.T].base_name(), ", ", Self.rank
        )
        comptime if not Self.mut:
            s += ", mut=False"
        s += "]"
        return s^

    # --- geometry ----------------------------------------------------------

    def __len__(self) -> Int:
        """Returns the extent of the first axis.

        Returns:
            `dim(0)`.
        """
        return self._shape[0]

    def dim(self, axis: Int) -> Int:
        """Returns the extent of `axis` (no bounds check).

        Args:
            axis: 0 <= axis < rank.

        Returns:
            The number of records along it.
        """
        return self._shape.unsafe_get(axis)

    def stride(self, axis: Int) -> Int:
        """Returns the step of `axis` in records (no bounds check); exact
        when the byte stride is a whole number of records (see
        `byte_stride`).

        Args:
            axis: 0 <= axis < rank.

        Returns:
            Records between neighbours along it (may be negative or zero).
        """
        return self._strides.unsafe_get(axis) // size_of[Self.T]()

    def byte_stride(self, axis: Int) -> Int:
        """Returns the step of `axis` in bytes (no bounds check).

        Args:
            axis: 0 <= axis < rank.

        Returns:
            Bytes between neighbours along it (may be negative, zero, or not
            a multiple of the record's size).
        """
        return self._strides.unsafe_get(axis)

    def is_aligned(self) -> Bool:
        """Tells whether every record is aligned as T needs (the data address
        and every byte stride applied are multiples of T's alignment), so
        that `v[i]` may return references. Decided at acquisition; views
        made from this one inherit the answer.

        Returns:
            False for unaligned records: read them with `load`, write them
            with `store`.
        """
        return self._aligned

    def num_records(self) -> Int:
        """Returns the product of the shape.

        Returns:
            The number of records viewed.
        """
        var n = 1
        comptime for d in range(Self.rank):
            n *= self._shape[d]
        return n

    def unsafe_ptr(self) -> Self.Pointer:
        """Returns the address of record (0, ..., 0).

        Returns:
            The pointer (dangling for an empty view; not aligned for T when
            `is_aligned()` is False).
        """
        return self._data

    @always_inline
    def _at(self, offset: Int) -> Self.Pointer:
        """The record `offset` BYTES after record (0, ..., 0)."""
        return (
            self._data.unsafe_bitcast[Byte]()
            .unsafe_offset(offset)
            .unsafe_bitcast[Self.T]()
        )

    # --- records -----------------------------------------------------------

    @always_inline
    def unsafe_get(self, i: Int) -> ref[Self.RecordOrigin] Self.T:
        """Returns record `i` of a rank-1 view, unchecked.

        Args:
            i: 0 <= i < len(self).

        Returns:
            A reference into the buffer's memory (the view must be aligned:
            see `is_aligned`).
        """
        comptime assert Self.rank == 1, "unsafe_get(i) needs rank 1"
        debug_assert(self._aligned, "RecordView.unsafe_get: unaligned records")
        return Pointer[Self.T, Self.RecordOrigin](
            unsafe_from_address=Int(self._at(i * self._strides[0]))
        )[]

    @always_inline
    def unsafe_get(self, i: Int, j: Int) -> ref[Self.RecordOrigin] Self.T:
        """Returns record (i, j) of a rank-2 view, unchecked.

        Args:
            i: 0 <= i < dim(0).
            j: 0 <= j < dim(1).

        Returns:
            A reference into the buffer's memory (the view must be aligned:
            see `is_aligned`).
        """
        comptime assert Self.rank == 2, "unsafe_get(i, j) needs rank 2"
        debug_assert(self._aligned, "RecordView.unsafe_get: unaligned records")
        return Pointer[Self.T, Self.RecordOrigin](
            unsafe_from_address=Int(
                self._at(i * self._strides[0] + j * self._strides[1])
            )
        )[]

    def _checked(self, axis: Int, index: Int) raises -> Int:
        """`index` (negative counts from the end) checked against `axis`."""
        var n = self._shape.unsafe_get(axis)
        var i = index + n if index < 0 else index
        if i < 0 or i >= n:
            raise index_error(
                String(
                    "RecordView index ",
                    index,
                    " out of range for axis ",
                    axis,
                    " of extent ",
                    n,
                )
            )
        return i

    @no_inline
    def _unaligned_error(self) -> Error:
        """The refusal of a reference into unaligned records, naming `load`
        and `store`."""
        comptime at = "(i" if Self.rank == 1 else "(i, j"
        return buffer_error(
            String(
                Self._name(),
                ": the buffer's records are not aligned to ",
                align_of[Self.T](),
                " bytes, as references to ",
                reflect[Self.T].base_name(),
                " need (data address ",
                hex(Int(self._data)),
                ", byte strides ",
                shape_text(self._strides),
                "); use v.load",
                at,
                ") to read a copy and v.store",
                at,
                ", value) to write one",
            )
        )

    def __getitem__(self, i: Int) raises -> ref[Self.RecordOrigin] Self.T:
        """Returns record `i` of a rank-1 view (negative counts from the end).
        Writes through the reference change the buffer (the reference of a
        `mut=False` view is immutable).

        Args:
            i: The index.

        Returns:
            A reference into the buffer's memory.

        Raises:
            BufferError if the records are not aligned (no reference can
            point at them: use `load` and `store`); IndexError when out of
            range.
        """
        comptime assert Self.rank == 1, "v[i] needs rank 1; use v[i, j]"
        if not self._aligned:
            raise self._unaligned_error()
        return self.unsafe_get(self._checked(0, i))

    def __getitem__(
        self, i: Int, j: Int
    ) raises -> ref[Self.RecordOrigin] Self.T:
        """Returns record (i, j) of a rank-2 view (negative counts from the
        end).

        Args:
            i: The index along axis 0.
            j: The index along axis 1.

        Returns:
            A reference into the buffer's memory.

        Raises:
            BufferError if the records are not aligned (use `load` and
            `store`); IndexError when out of range.
        """
        comptime assert Self.rank == 2, "v[i, j] needs rank 2"
        if not self._aligned:
            raise self._unaligned_error()
        return self.unsafe_get(self._checked(0, i), self._checked(1, j))

    @always_inline
    def _copied(self, offset: Int) -> Self.T where conforms_to(Self.T, Movable):
        """A copy of the record `offset` bytes from record (0, ..., 0),
        copied byte by byte (any alignment)."""
        var record = MaybeUninit[Self.T]()
        unsafe_memcpy(
            dest=record.unsafe_ptr().unsafe_bitcast[Byte](),
            src=self._at(offset).unsafe_bitcast[Byte](),
            count=size_of[Self.T](),
        )
        var value = record.unsafe_ptr().unsafe_take_pointee()
        record^.unsafe_forget()
        return value^

    @always_inline
    def _stored(self, offset: Int, value: Self.T):
        """Copies the fields of `value` byte by byte over the record `offset`
        bytes from record (0, ..., 0) (any alignment; padding untouched)."""
        _copy_fields[Self.T, 0](
            self._at(offset).unsafe_bitcast[Byte](),
            Pointer(to=value)
            .unsafe_bitcast[Byte]()
            .unsafe_mut_cast[True]()
            .unsafe_origin_cast[MutUntrackedOrigin](),
        )

    def load(self, i: Int) raises -> Self.T where conforms_to(Self.T, Movable):
        """Returns a copy of record `i` of a rank-1 view (negative counts from
        the end), at any alignment.

        Args:
            i: The index.

        Returns:
            The record's value.

        Raises:
            IndexError when out of range.
        """
        comptime assert (
            Self.rank == 1
        ), "v.load(i) needs rank 1; use v.load(i, j)"
        return self._copied(self._checked(0, i) * self._strides[0])

    def load(
        self, i: Int, j: Int
    ) raises -> Self.T where conforms_to(Self.T, Movable):
        """Returns a copy of record (i, j) of a rank-2 view (negative counts
        from the end), at any alignment.

        Args:
            i: The index along axis 0.
            j: The index along axis 1.

        Returns:
            The record's value.

        Raises:
            IndexError when out of range.
        """
        comptime assert Self.rank == 2, "v.load(i, j) needs rank 2"
        return self._copied(
            self._checked(0, i) * self._strides[0]
            + self._checked(1, j) * self._strides[1]
        )

    def store(self, i: Int, value: Self.T) raises where Self.mut:
        """Writes `value` over record `i` of a rank-1 view (negative counts
        from the end), at any alignment: the bytes of T's fields, not its
        padding (as assigning every field through a reference would).

        Args:
            i: The index.
            value: The new record.

        Raises:
            IndexError when out of range.
        """
        comptime assert Self.rank == 1, (
            "v.store(i, value) needs rank 1; use v.store(i, j, value)"
        )
        self._stored(self._checked(0, i) * self._strides[0], value)

    def store(self, i: Int, j: Int, value: Self.T) raises where Self.mut:
        """Writes `value` over record (i, j) of a rank-2 view (negative counts
        from the end), at any alignment (T's fields, not its padding).

        Args:
            i: The index along axis 0.
            j: The index along axis 1.
            value: The new record.

        Raises:
            IndexError when out of range.
        """
        comptime assert Self.rank == 2, "v.store(i, j, value) needs rank 2"
        self._stored(
            self._checked(0, i) * self._strides[0]
            + self._checked(1, j) * self._strides[1],
            value,
        )

    def __getitem__(self, *slices: Slice) raises -> Self:
        """Slices with Python's rules (`v[1:5]`, `v[::-1, ::2]`): one slice
        per leading axis. The result shares the acquisition.

        Args:
            slices: Up to `rank` slices.

        Returns:
            A view of the selected records.

        Raises:
            IndexError if there are more slices than axes; ValueError if a
            step is zero.
        """
        if len(slices) > Self.rank:
            raise index_error(
                String(
                    "too many slices (",
                    len(slices),
                    ") for a RecordView of rank ",
                    Self.rank,
                )
            )
        var shape = self._shape.copy()
        var strides = self._strides.copy()
        var offset = 0
        for d in range(len(slices)):
            offset += slice_axis(
                slices[d], shape.unsafe_get(d), strides.unsafe_get(d)
            )
        return self._rebuilt(self._at(offset), shape^, strides^)

    def write_to(self, mut writer: Some[Writer]):
        """Writes `RecordView[Particle, 1](shape=(n,))`.

        Args:
            writer: Where to write.
        """
        writer.write(Self._name(), "(shape=(")
        comptime for d in range(Self.rank):
            comptime if d > 0:
                writer.write(", ")
            writer.write(self._shape[d])
        comptime if Self.rank == 1:
            writer.write(",")
        writer.write("))")
