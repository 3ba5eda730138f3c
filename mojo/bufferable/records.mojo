"""`Records[T]`: a growable array of struct T that Python sees as a numpy
structured array, with no format written by hand.

```mojo
@fieldwise_init
struct Particle(Copyable, Movable):
    var pos: SIMD[DType.float32, 4]
    var mass: Float64
    var id: Int32
    var alive: Bool

var r = Records[Particle]()
r.append(Particle(SIMD[DType.float32, 4](0), 1.5, 7, True))
r[0].mass *= 2                  # a reference into the array
var a = to_numpy(r^)            # a['mass'], a['pos'][:, 0], ... no copy
```

Bind it like any Bufferable struct (`add_type[Records[Particle]]`, then
`add_buffer_protocol[Records[Particle]]`). Each export describes the records
with `format_of[T]()`; while any export is live, everything that could move
the memory or change the exported length (`append`, `resize`, `reserve`) is
refused with BufferError and leaves the records unchanged, as `bytearray`
does.
"""

from std.sys.info import size_of

from .buffer import Buffer, BufferFlags
from .bufferable import Bufferable
from .errors import index_error, value_error
from .export_counter import ExportCounter


def _check_count[T: AnyType](count: Int, what: StaticString) raises:
    """Refuses a record count that is negative or whose size in bytes does
    not fit in an Int (List would allocate a wrapped size and index past it).
    """
    if count < 0:
        raise value_error(String(what, ": negative length ", count))
    if count > Int.MAX // max(size_of[T](), 1):
        raise value_error(
            String(
                what,
                ": ",
                count,
                " records of ",
                size_of[T](),
                " bytes overflow a 64-bit size",
            )
        )


struct Records[T: Copyable & Deinitable](Bufferable, Sized, Writable):
    """A growable, contiguous array of records of struct T, exported as a 1-D
    buffer of `format_of[T]()` (numpy: a structured array).

    Parameters:
        T: The record struct (see `format_of[T]`: scalars, SIMD, Array and
            nested structs of them).
    """

    var _items: List[Self.T]
    """The records, contiguous."""
    var _shape: Array[Int64, 1]
    """The exported shape (stable while exported: nothing resizes then)."""
    var _exports: ExportCounter
    """Live exports; every size change is refused while one is live."""

    def __init__(out self):
        """An empty array (exportable: numpy sees shape (0,))."""
        self._items = List[Self.T]()
        self._shape = Array[Int64, 1](fill=0)
        self._exports = ExportCounter()

    def __init__(out self, *, capacity: Int) raises:
        """An empty array with room for `capacity` records.

        Args:
            capacity: Records to reserve.

        Raises:
            ValueError if `capacity` records do not fit in memory's address
            range (negative, or a byte size that overflows).
        """
        _check_count[Self.T](capacity, "Records(capacity=...)")
        self._items = List[Self.T](capacity=capacity)
        self._shape = Array[Int64, 1](fill=0)
        self._exports = ExportCounter()

    def __init__(out self, *, length: Int, fill: Self.T) raises:
        """`length` copies of `fill`.

        Args:
            length: The number of records.
            fill: The value of each.

        Raises:
            ValueError for a negative length, or one whose byte size
            overflows.
        """
        _check_count[Self.T](length, "Records(length=...)")
        self._items = List[Self.T](length=length, fill=fill)
        self._shape = Array[Int64, 1](fill=Int64(length))
        self._exports = ExportCounter()

    def __init__(out self, *, deinit move: Self):
        """Moves the records (only a value that is not exported moves: an
        exported value lives inside its Python object).

        Args:
            move: The array moved from.
        """
        self._items = move._items^
        self._shape = move._shape^
        self._exports = move._exports^

    # --- size --------------------------------------------------------------

    def __len__(self) -> Int:
        """Returns the number of records.

        Returns:
            The length.
        """
        return len(self._items)

    def capacity(self) -> Int:
        """Returns how many records fit before the memory moves.

        Returns:
            The capacity.
        """
        return self._items.capacity

    def append(mut self, var value: Self.T) raises:
        """Adds a record at the end.

        Args:
            value: The record, moved in.

        Raises:
            BufferError while exported (the length is part of every live
            export, and the memory may move).
        """
        self._exports.check_unexported("append to a Records")
        self._items.append(value^)
        self._shape[0] = Int64(len(self._items))

    def resize(mut self, length: Int, fill: Self.T) raises:
        """Sets the length: keeps the first records, adds copies of `fill`.

        Args:
            length: The new length (>= 0).
            fill: The value of added records.

        Raises:
            BufferError while exported; ValueError for a negative length or
            one whose byte size overflows.
        """
        self._exports.check_unexported("resize a Records")
        _check_count[Self.T](length, "Records.resize")
        self._items.resize(length, fill)
        self._shape[0] = Int64(length)

    def reserve(mut self, capacity: Int) raises:
        """Makes room for `capacity` records (the memory may move).

        Args:
            capacity: The capacity wanted.

        Raises:
            BufferError while exported; ValueError for a negative capacity
            or one whose byte size overflows.
        """
        self._exports.check_unexported("reserve in a Records")
        _check_count[Self.T](capacity, "Records.reserve")
        self._items.reserve(capacity)

    # --- access ------------------------------------------------------------

    def __getitem__(ref self, index: Int) raises -> ref[self._items[0]] Self.T:
        """Returns a reference to record `index` (negative counts from the
        end); writes through it are seen by every export.

        Args:
            index: The record.

        Returns:
            A reference into the array.

        Raises:
            IndexError when out of range.
        """
        var n = len(self._items)
        var i = index + n if index < 0 else index
        if i < 0 or i >= n:
            raise index_error(
                String("Records index ", index, " out of range for length ", n)
            )
        return self._items[i]

    def unsafe_ptr(ref self) -> Pointer[Self.T, origin_of(self)]:
        """Returns the address of record 0 (valid until a size change).

        Returns:
            The pointer.
        """
        return self._items.unsafe_ptr().unsafe_origin_cast[origin_of(self)]()

    def export_count(self) -> Int:
        """Returns the number of live exports.

        Returns:
            How many consumers still hold the memory.
        """
        return self._exports.live

    def export_counter(self) -> ExportCounter:
        """Returns a copy of the export counter (live, acquired, released).

        Returns:
            The counts so far.
        """
        return self._exports.copy()

    # --- Bufferable --------------------------------------------------------

    def __buffer__(mut self, flags: BufferFlags) raises -> Buffer:
        """Describes the records: 1-D, `format_of[T]()`, itemsize
        `size_of[T]()`, writable.

        Args:
            flags: The consumer's request (checked by the core).

        Returns:
            The descriptor.
        """
        self._exports.acquire()
        return Buffer(records=self._items.unsafe_ptr(), shape=Span(self._shape))

    def __release_buffer__(mut self, buffer: Buffer):
        """Counts the end of one export.

        Args:
            buffer: The descriptor `__buffer__` returned.
        """
        self._exports.release()

    def write_to(self, mut writer: Some[Writer]):
        """Writes `Records(length=.., itemsize=..)`.

        Args:
            writer: Where to write.
        """
        writer.write(
            "Records(length=",
            len(self._items),
            ", itemsize=",
            size_of[Self.T](),
            ")",
        )

    def write_repr_to(self, mut writer: Some[Writer]):
        """Writes the same text as `write_to`.

        Args:
            writer: Where to write.
        """
        self.write_to(writer)
