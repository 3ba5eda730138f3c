"""`add_table_protocol[T]`: a Mojo struct whose fields are columns, read in
place by Arrow consumers (pyarrow, Polars, DuckDB) as one record batch.

The columns are found by reflection: every field of type
`List[Scalar[dtype]]` is a column named after the field (int8..int64,
uint8..uint64, Int, UInt, float16/32/64), all of the same length; one field
of type `ExportCounter` is the lock that keeps the columns from being resized
or freed while any Arrow array or stream made from them is alive (methods
that resize call `exports.check_unexported(...)`, which raises BufferError).
Any other field type is a compile-time error naming the field; `List[Bool]`
is refused at compile time too, because Arrow's booleans are bit-packed
(store a `List[UInt8]` column instead). The lock also guards `__init__`, as
`add_buffer_protocol`'s exports do: a second call raises BufferError while
any lock is live, and otherwise destroys the table it replaces.

The core (`BfApi.install_table_interop`) builds the schema, the struct array
and the stream; this module only describes the columns and counts the locks.
"""

from std.collections.string.string_span import get_static_string
from std.ffi import c_int
from std.python import Python, PythonObject
from std.python.bindings import PythonTypeBuilder
from std.reflection import reflect

from ._private import PyObjectPtr, RawPointer, object_address
from .api import ERROR_BUFFER, ERROR_VALUE, bf_api, load_api, set_error
from .export_counter import ExportCounter
from .bindings import _function_address, _guard_init, _storage
from .dtype import SCALAR_DTYPE_COUNT, scalar_dtype_at, struct_letter
from .record_format import _same_type


def _is_column_dtype[dtype: DType]() -> Bool:
    """Tells whether Arrow has a fixed-width primitive type for `dtype`:
    every element type with a struct letter but bool (Arrow packs booleans
    into bits)."""
    return struct_letter[dtype]() != "" and dtype != DType.bool


def _column_dtype[F: AnyType, k: Int = 0]() -> DType:
    """The element DType if F is `List[Scalar[dtype]]` for a column dtype,
    else `DType.bool` (never a column dtype)."""
    comptime if k >= SCALAR_DTYPE_COUNT:
        return DType.bool
    else:
        comptime dtype = scalar_dtype_at[k]()
        comptime if dtype:
            comptime if _is_column_dtype[dtype.value()]() and _same_type[
                F, List[Scalar[dtype.value()]]
            ]():
                return dtype.value()
        return _column_dtype[F, k + 1]()


def _lock_index[T: AnyType, i: Int = 0]() -> Int:
    """The index of T's first `ExportCounter` field, or -1."""
    comptime if i >= reflect[T].field_count():
        return -1
    elif _same_type[reflect[T].field_at[i].T, ExportCounter]():
        return i
    else:
        return _lock_index[T, i + 1]()


def _column_count[T: AnyType]() -> Int:
    """The number of columns of T (its fields other than the lock)."""
    return reflect[T].field_count() - 1


def _check_fields[T: AnyType]():
    """Compile-time checks of T's fields (errors name the field)."""
    comptime r = reflect[T]
    comptime assert _lock_index[T]() >= 0, get_static_string[
        "bufferable.add_table_protocol: ",
        r.name(),
        " needs a field of type ExportCounter (the lock of its columns)",
    ]()
    comptime for i in range(r.field_count()):
        comptime F = r.field_at[i].T
        comptime name = r.field_names()[i]
        comptime if i != _lock_index[T]():
            comptime assert not _same_type[F, List[Bool]](), get_static_string[
                "bufferable.add_table_protocol: column '",
                name,
                "' of ",
                r.name(),
                " is List[Bool]; Arrow booleans are bit-packed, so it cannot",
                " be shared without a copy (store a List[UInt8] column)",
            ]()
            comptime assert _column_dtype[F]() != DType.bool, get_static_string[
                "bufferable.add_table_protocol: field '",
                name,
                "' of ",
                r.name(),
                " has type ",
                reflect[F].name(),
                ", which is not a column with an Arrow type (List of int8..int64,",
                " uint8..uint64, Int, UInt, float16, float32 or float64) nor",
                " the ExportCounter",
            ]()


@always_inline
def _lock_of[
    T: Deinitable
](py_self: PyObjectPtr) -> Pointer[ExportCounter, MutUntrackedOrigin]:
    """The lock of a table instance: T's `ExportCounter` field."""
    ref value = _storage[T](py_self)[].mojo_value
    return Pointer(
        to=rebind[ExportCounter](reflect[T].field_ref[_lock_index[T]()](value))
    ).unsafe_origin_cast[MutUntrackedOrigin]()


@always_inline
def _store(address: Int, value: Int):
    """Stores one pointer-sized word at `address`."""
    Pointer[Int, MutUntrackedOrigin](unsafe_from_address=address)[] = value


def _describe[
    T: Deinitable
](py_self: PyObjectPtr, columns: Int, capacity: Int64, length: Int) abi("C") -> Int64:
    """BfDescribeTable: writes (name, format, data) per column, checks the
    lengths agree, and takes one lock."""
    comptime r = reflect[T]
    comptime n = _column_count[T]()
    comptime lock = _lock_index[T]()
    if capacity < Int64(n):
        return Int64(n)
    var storage = _storage[T](py_self)
    if not storage[].is_initialized:
        return Int64(
            set_error(ERROR_BUFFER, "cannot export an uninitialized table")
        )
    ref value = storage[].mojo_value
    var rows = -1
    var k = 0
    comptime for i in range(r.field_count()):
        comptime if i != lock:
            comptime dtype = _column_dtype[r.field_at[i].T]()
            comptime name = get_static_string[r.field_names()[i]]()
            comptime letter = struct_letter[dtype]()
            ref column = rebind[List[Scalar[dtype]]](r.field_ref[i](value))
            if rows < 0:
                rows = len(column)
            elif len(column) != rows:
                return Int64(
                    set_error(
                        ERROR_VALUE,
                        String(
                            "table columns differ in length: '",
                            name,
                            "' has ",
                            len(column),
                            " rows, the columns before it ",
                            rows,
                        ),
                    )
                )
            var at = columns + 24 * k
            _store(at, Int(name.unsafe_ptr()))
            _store(at + 8, Int(letter.unsafe_ptr()))
            _store(at + 16, Int(column.unsafe_ptr()))
            k += 1
    _lock_of[T](py_self)[].acquire()
    _store(length, max(rows, 0))
    return Int64(n)


def _release[T: Deinitable](py_self: PyObjectPtr) abi("C"):
    """BfReleaseTable: drops one lock."""
    _lock_of[T](py_self)[].release()


def _live_locks[T: Deinitable](py_self: PyObjectPtr) abi("C") -> Int:
    """The live locks of an initialized instance (for the `__init__` guard,
    which refuses to replace a table while any is live)."""
    return _lock_of[T](py_self)[].live


def _install[T: Deinitable](type_object: PythonObject) raises -> PythonObject:
    """Gives the finished type the core's table methods (`finalize_module`
    calls it once, then removes it)."""
    bf_api().install_table_interop(
        object_address(type_object),
        _function_address(_describe[T]),
        _function_address(_release[T]),
    )
    return None


def add_table_protocol[
    T: Movable & Deinitable
](mut builder: PythonTypeBuilder) raises:
    """Makes the Python type bound to `T` an Arrow table: `pa.table(obj)`,
    `pl.DataFrame(obj)` and `duckdb.sql("select ... from obj")` read its
    columns in place, as one record batch (`__arrow_c_schema__`,
    `__arrow_c_array__`, `__arrow_c_stream__`).

    Every field of T must be a column (`List[Scalar[dtype]]`, named after
    the field) except one `ExportCounter`, which counts the live Arrow
    arrays and streams: resize a column only after
    `exports.check_unexported("...")`. Other field types, and `List[Bool]`,
    are compile-time errors naming the field. Columns must have equal lengths
    when exported (ValueError otherwise). Finish the module with
    `finalize_module`, which installs the methods.

    Also guards `__init__` (as `add_buffer_protocol` does): calling it again
    on an instance raises BufferError while any Arrow array or stream of it
    is alive, and otherwise destroys the table it replaces (a failed
    `__init__` keeps it); and replaces the type's `tp_dealloc` by one that
    releases the type reference Mojo 1.2.0's own leaks (`fix_dealloc`).

    Parameters:
        T: The bound struct.

    Args:
        builder: The type builder of T.

    Raises:
        If the core cannot be loaded.
    """
    _check_fields[T]()
    # Without a lock the assert above fails the build; the code below would
    # fail it first, with a rebind error naming neither T nor the lock.
    comptime if _lock_index[T]() >= 0:
        _ = load_api()
        _guard_init[T](builder, Int(_function_address(_live_locks[T])))
        _ = builder.def_staticmethod[_install[T]](
            "__bufferable_install_table__"
        )
