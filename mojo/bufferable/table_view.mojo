"""`TableView`: an Arrow table (a pyarrow Table or RecordBatch, a Polars
DataFrame, a DuckDB result: anything with `__arrow_c_stream__` or a struct
`__arrow_c_array__`) read in place from Mojo, column by column, as typed
1-D `MemoryView`s.

```mojo
var t = TableView(df)                             # a Polars DataFrame
var price = t.column[DType.float64]("price")      # no copy
var total = 0.0
for i in range(len(price)):
    total += price[i]
```

The core reads every batch of the stream when the view is made and keeps
them in one acquisition; the TableView and every column view share it, and
the last of them to die releases each batch exactly once. Columns are
checked: the element type (ValueError naming the column), the layout (a
dictionary-encoded, nested, temporal, variable-size or boolean column is
refused with BufferError naming its Arrow type), nulls (refused unless asked
for with `nulls=True`; `is_valid` then reads the validity bitmap; counted
within the rows viewed, also for a slice of a struct array) and chunks (a
table of several batches gives one view per chunk, `chunk=i`; asking without
`chunk` is refused with a message saying so). Messages show column names as
Python's `repr` does (`'a\\x00b'`): whole, with control characters escaped.
"""

from std.ffi import c_char
from std.python import PythonObject

from ._private import RawPointer, object_address
from .acquire import _is_native_format, checked_geometry
from .api import AcquisitionPtr, FormatInfo, bf_api, load_api
from .buffer import Buffer
from .dtype import dlpack_type, element_name
from .errors import buffer_error, index_error, pending_python_error, value_error
from .layout import MemoryLayout
from .memory_view import MemoryView


@always_inline
def _word(address: Int) -> Int:
    """The pointer-sized word at `address`."""
    return Pointer[Int, MutUntrackedOrigin](unsafe_from_address=address)[]


def _c_text(address: Int) -> String:
    """A copy of the NUL-terminated UTF-8 text at `address` ("" for NULL)."""
    if address == 0:
        return String("")
    return String(
        unsafe_from_utf8_ptr=Pointer[Byte, MutUntrackedOrigin](
            unsafe_from_address=address
        )
    )


def _quoted(name: StringSlice) -> String:
    """`name` as Python's `repr` writes a str: in single quotes (double ones
    when it holds a ' and no "), with backslashes, that quote and ASCII
    control characters escaped (`\\t`, `\\n`, `\\r`, `\\x00`), so that a
    message shows the whole name (a NUL would end it: messages reach Python
    as C strings)."""
    var double = "'" in name and "\"" not in name
    var quote = String("\"") if double else String("'")
    var out = quote.copy()
    for c in name.codepoints():
        var u = Int(c.to_u32())
        if u == ord("\\") or String(c) == quote:
            out += String("\\", c)
        elif u == ord("\t"):
            out += "\\t"
        elif u == ord("\n"):
            out += "\\n"
        elif u == ord("\r"):
            out += "\\r"
        elif u < 0x20 or u == 0x7F:
            out += String("\\x", "0" if u < 0x10 else "", hex(u, prefix=""))
        else:
            out += String(c)
    out += quote
    return out^


def _check_element_type[dtype: DType](desc: Buffer, name: String) raises:
    """Refuses a column whose values are not of type `dtype` (ValueError
    naming the column and both types). The format is parsed only when it is
    not `dtype`'s own letter (another letter may spell the same type)."""
    if _is_native_format[dtype](desc):
        return
    var info = FormatInfo()
    if (
        bf_api().parse_format(
            desc.format.value().unsafe_origin_cast[MutUnsafeAnyOrigin](),
            Pointer(to=info).unsafe_origin_cast[MutUnsafeAnyOrigin](),
        )
        != 0
    ):
        raise pending_python_error(
            String("TableView: column ", _quoted(name), ": ")
        )
    comptime expected = dlpack_type[dtype]()
    var code = Int(info.dtype.code)
    var bits = Int(info.dtype.bits)
    if code != expected[0] or bits != expected[1]:
        raise value_error(
            String(
                "TableView: column ",
                _quoted(name),
                " is ",
                element_name(code, bits),
                ", not ",
                dtype,
            )
        )


struct TableView(Movable, Sized):
    """A read-only view of an Arrow table's columns (see the module doc)."""

    var _acquisition: AcquisitionPtr
    var _table: Int
    """Address of the core's `BfArrowTable` (valid while the acquisition is)."""

    def __init__(out self, obj: PythonObject) raises:
        """Acquires `obj`'s Arrow table: `obj.__arrow_c_stream__()` (every
        batch is read now), else a struct `obj.__arrow_c_array__()`.

        Args:
            obj: A pyarrow Table/RecordBatch, a Polars DataFrame, a DuckDB
                result, or any other Arrow table producer.

        Raises:
            TypeError if `obj` is no Arrow table; BufferError if the stream
            fails or the batch has null rows; errors from the producer keep
            their class.
        """
        ref api = load_api()[]
        var acquisition: AcquisitionPtr = None
        var table = 0
        var rc = api.call_acquire_arrow_table(
            object_address(obj),
            Pointer(to=acquisition).unsafe_origin_cast[MutUnsafeAnyOrigin](),
            Pointer(to=table).unsafe_origin_cast[MutUnsafeAnyOrigin](),
        )
        if rc != 0:
            raise pending_python_error(String("TableView: "))
        self._acquisition = acquisition
        self._table = table

    def __init__(out self, *, deinit move: Self):
        """Moves the view (the acquisition moves with it).

        Args:
            move: The view moved from.
        """
        self._acquisition = move._acquisition
        self._table = move._table

    def __deinit__(deinit self):
        """Drops this view's share of the acquisition (the last share
        releases every batch)."""
        bf_api().acquisition_decref(self._acquisition)

    def __len__(self) -> Int:
        """Returns the number of rows, over every chunk."""
        return _word(self._table + 16)

    def num_columns(self) -> Int:
        """Returns the number of columns."""
        return _word(self._table)

    def num_chunks(self) -> Int:
        """Returns the number of chunks (record batches)."""
        return _word(self._table + 8)

    def column_name(self, index: Int) raises -> String:
        """Returns the name of column `index`.

        Args:
            index: 0 <= index < num_columns().

        Raises:
            IndexError if out of range.
        """
        self._check_index(index)
        return _c_text(_word(_word(self._table + 24) + 8 * index))

    def column_index(self, name: StringSlice) raises -> Int:
        """Returns the index of the first column named `name`.

        Args:
            name: The column's name.

        Raises:
            ValueError naming the columns there are, if none is `name`.
        """
        var names = String("")
        for i in range(self.num_columns()):
            var n = self.column_name(i)
            if n == name:
                return i
            names += String(", " if i else "", _quoted(n))
        raise value_error(
            String(
                "TableView: no column ",
                _quoted(name),
                " (columns: ",
                names,
                ")",
            )
        )

    def _check_index(self, index: Int) raises:
        if index < 0 or index >= self.num_columns():
            raise index_error(
                String(
                    "TableView: column ",
                    index,
                    " out of range (",
                    self.num_columns(),
                    " columns)",
                )
            )

    def _chunk_address(self, index: Int, chunk: Int) raises -> Int:
        """The address of the core's `BfArrowChunk` for (column, chunk);
        `chunk` -1 means "the only one"."""
        self._check_index(index)
        var n = self.num_chunks()
        var k = chunk
        if k == -1:
            if n > 1:
                raise buffer_error(
                    String(
                        "TableView: the table has ",
                        n,
                        " chunks; view one at a time with chunk=0..",
                        n - 1,
                        ", or combine them first (e.g. pyarrow's",
                        " Table.combine_chunks())",
                    )
                )
            k = 0
        if k < 0 or k >= max(n, 1):
            raise index_error(
                String("TableView: chunk ", chunk, " out of range (", n, " chunks)")
            )
        if n == 0:
            return 0  # no batch
        return _word(self._table + 32) + 64 * (k * self.num_columns() + index)

    def null_count(self, index: Int, chunk: Int = -1) raises -> Int:
        """Returns the nulls of column `index` in `chunk` (-1 if the producer
        did not count them but gave a validity bitmap).

        Args:
            index: The column.
            chunk: The chunk (-1: the only one).

        Raises:
            IndexError or BufferError as `column` does.
        """
        var c = self._chunk_address(index, chunk)
        return 0 if c == 0 else _word(c + 56)

    def is_valid(self, index: Int, row: Int, chunk: Int = -1) raises -> Bool:
        """Tells whether row `row` of column `index` (in `chunk`) holds a
        value (reads the validity bitmap; True when there is none).

        Args:
            index: The column.
            row: The row within the chunk.
            chunk: The chunk (-1: the only one).

        Raises:
            IndexError for a row, column or chunk out of range.
        """
        var c = self._chunk_address(index, chunk)
        if c == 0 or row < 0 or row >= _word(c + 24):
            raise index_error(String("TableView: row ", row, " out of range"))
        var bitmap = _word(c + 40)
        if bitmap == 0:
            return True
        var bit = _word(c + 48) + row
        var byte = Pointer[UInt8, MutUntrackedOrigin](
            unsafe_from_address=bitmap + bit // 8
        )[]
        return (byte >> UInt8(bit % 8)) & 1 == 1

    def column[
        dtype: DType
    ](self, name: StringSlice, chunk: Int = -1, nulls: Bool = False) raises -> MemoryView[
        dtype, 1, mut=False
    ]:
        """Views the column named `name` (see the index overload).

        Parameters:
            dtype: The element type the column must have.

        Args:
            name: The column's name.
            chunk: The chunk (-1: the only one).
            nulls: Accept a column with nulls (their values are unspecified:
                check `is_valid`).

        Returns:
            A read-only 1-D view of the column's values, sharing the table's
            acquisition.

        Raises:
            ValueError for an unknown name; as the index overload.
        """
        return self.column[dtype](self.column_index(name), chunk, nulls)

    def column[
        dtype: DType
    ](self, index: Int, chunk: Int = -1, nulls: Bool = False) raises -> MemoryView[
        dtype, 1, mut=False
    ]:
        """Views column `index` of `chunk` in place.

        Parameters:
            dtype: The element type the column must have.

        Args:
            index: The column.
            chunk: The chunk (-1: the only one; a table of several chunks is
                then refused).
            nulls: Accept a column with nulls.

        Returns:
            A read-only 1-D view of the column's values, sharing the table's
            acquisition (the batches live while any view does).

        Raises:
            IndexError for a column or chunk out of range; BufferError for a
            column with no buffer layout (names its Arrow type), with nulls
            (unless `nulls`), or several chunks without `chunk`; ValueError
            naming the column if its element type is not `dtype`.
        """
        var c = self._chunk_address(index, chunk)
        var name = self.column_name(index)
        if c == 0:
            raise buffer_error(
                String(
                    "TableView: the table has no batch (0 rows), so column ",
                    _quoted(name),
                    " has no memory to view",
                )
            )
        if _word(c + 8) == 0:
            raise buffer_error(
                String(
                    "TableView: column ",
                    _quoted(name),
                    ": ",
                    _c_text(_word(c + 16)),
                )
            )
        var null_count = _word(c + 56)
        if null_count != 0 and not nulls:
            raise buffer_error(
                String(
                    "TableView: column ",
                    _quoted(name),
                    " has ",
                    String(null_count) if null_count > 0 else String(
                        "an unknown number of"
                    ),
                    " null(s), which a view cannot represent; pass",
                    " nulls=True and check is_valid()",
                )
            )
        var shape = Int64(_word(c + 24))
        var desc = Buffer()
        desc.ndim = 1
        desc.readonly = 1
        desc.shape = Pointer(to=shape).unsafe_origin_cast[MutUntrackedOrigin]()
        desc.itemsize = Int64(_word(c + 32))
        desc.format = Pointer[c_char, MutUntrackedOrigin](
            unsafe_from_address=_word(c + 8)
        )
        var values = _word(c)
        if values != 0:
            desc.data = RawPointer(unsafe_from_address=values)
        _check_element_type[dtype](desc, name)
        ref api = bf_api()
        api.acquisition_incref(self._acquisition)
        try:
            var geometry = checked_geometry[
                dtype, 1, MemoryLayout.STRIDED, False
            ](desc, None)
            _ = shape  # read through desc.shape until here
            return MemoryView[dtype, 1, mut=False]._from_geometry(
                geometry, self._acquisition
            )
        except e:
            api.acquisition_decref(self._acquisition)
            raise e^
