"""Test module for Mojo tables: a struct of columns that pyarrow, Polars and
DuckDB read in place (`add_table_protocol`, bound exactly as the README binds
its Trades table), with a resize that the lock refuses while a batch is alive
and a count of the tables destroyed."""

from std.python import Python, PythonObject
from std.python.bindings import PythonModuleBuilder

from bufferable import (
    ExportCounter,
    MemoryView,
    TableView,
    add_table_protocol,
    finalize_module,
    module_init_error,
    py_method,
)
from bufferable._private import static_word


def destroyed() raises -> PythonObject:
    """Returns the number of Prices values destroyed so far (`destroyed()`)."""
    return static_word["bftables.destroyed"]()[]


struct Prices(Writable):
    """Three columns of `n` rows: id (Int64), price (Float64), qty (Int32)."""

    var id: List[Int64]
    var price: List[Float64]
    var qty: List[Int32]
    var exports: ExportCounter

    def __init__(out self, n: Int):
        self.id = List[Int64](length=n, fill=0)
        self.price = List[Float64](length=n, fill=0.0)
        self.qty = List[Int32](length=n, fill=0)
        for i in range(n):
            self.id[i] = Int64(i)
            self.price[i] = Float64(i) * 0.5
            self.qty[i] = Int32(i % 7)
        self.exports = ExportCounter()

    def __init__(out self, *, deinit move: Self):
        self.id = move.id^
        self.price = move.price^
        self.qty = move.qty^
        self.exports = move.exports^

    def __deinit__(deinit self):
        static_word["bftables.destroyed"]()[] += 1

    def write_to(self, mut w: Some[Writer]):
        w.write("Prices(", len(self.id), " rows)")

    @staticmethod
    def py_init(out self: Prices, args: PythonObject, kwargs: PythonObject) raises:
        var n = Int(py=args[0])
        if n < 0:
            raise Error("Prices: negative row count")
        self = Prices(n)


struct Late(Writable):
    """A one-column table whose initializer is declared after
    `add_table_protocol` (`finalize_module` must guard it too)."""

    var x: List[Float64]
    var exports: ExportCounter

    def __init__(out self, n: Int):
        self.x = List[Float64](length=n, fill=1.0)
        self.exports = ExportCounter()

    def write_to(self, mut w: Some[Writer]):
        w.write("Late(", len(self.x), " rows)")

    @staticmethod
    def py_init(out self: Late, args: PythonObject, kwargs: PythonObject) raises:
        self = Late(Int(py=args[0]))


def _prices(obj: PythonObject) raises -> Pointer[Prices, MutUnsafeAnyOrigin]:
    return obj.downcast_value_ptr[Prices]()


def resize(mut self_obj: PythonObject, mut args: PythonObject) raises -> PythonObject:
    """Prices.resize(n): every column to n rows (refused while exported)."""
    var p = _prices(self_obj)
    p[].exports.check_unexported("resize a Prices table")
    var n = Int(py=args[0])
    p[].id.resize(n, 0)
    p[].price.resize(n, 0.0)
    p[].qty.resize(n, 0)
    return None


def drop_last_price(mut self_obj: PythonObject, mut args: PythonObject) raises -> PythonObject:
    """Removes the last price only (columns then differ in length)."""
    var p = _prices(self_obj)
    p[].exports.check_unexported("shrink a column")
    _ = p[].price.pop()
    return None


def stats(mut self_obj: PythonObject, mut args: PythonObject) raises -> PythonObject:
    """(live, acquired, released) locks."""
    var p = _prices(self_obj)
    return Python.tuple(p[].exports.live, p[].exports.acquired, p[].exports.released)


def address(mut self_obj: PythonObject, mut args: PythonObject) raises -> PythonObject:
    """The address of the named column's storage."""
    var p = _prices(self_obj)
    var name = String(args[0])
    if name == "id":
        return Int(p[].id.unsafe_ptr())
    elif name == "price":
        return Int(p[].price.unsafe_ptr())
    return Int(p[].qty.unsafe_ptr())


def set_price(mut self_obj: PythonObject, mut args: PythonObject) raises -> PythonObject:
    """Stores price[i] = v."""
    var p = _prices(self_obj)
    p[].price[Int(py=args[0])] = Float64(py=args[1])
    return None


def sum_column(mut module: PythonObject, mut args: PythonObject) raises -> PythonObject:
    """Returns sum_column(table, name, chunk=-1): the sum of a float64 column, read in
    place through TableView."""
    var t = TableView(args[0])
    var chunk = Int(py=args[2]) if len(args) > 2 else -1
    var v = t.column[DType.float64](String(args[1]), chunk)
    var s = 0.0
    for i in range(len(v)):
        s += v[i]
    return s


def column_address(mut module: PythonObject, mut args: PythonObject) raises -> PythonObject:
    """Returns column_address(table, index, dtype_name): where an int64/int32/float64
    column's view starts (to compare with the producer's buffer)."""
    var t = TableView(args[0])
    var kind = String(args[2])
    var i = Int(py=args[1])
    if kind == "int64":
        return Int(t.column[DType.int64](i).unsafe_ptr())
    elif kind == "int32":
        return Int(t.column[DType.int32](i).unsafe_ptr())
    return Int(t.column[DType.float64](i).unsafe_ptr())


def describe(mut module: PythonObject, mut args: PythonObject) raises -> PythonObject:
    """(rows, columns, chunks, names) of a TableView."""
    var t = TableView(args[0])
    var names = Python.list()
    for i in range(t.num_columns()):
        names.append(t.column_name(i))
    return Python.tuple(len(t), t.num_columns(), t.num_chunks(), names)


def valid_sum(mut module: PythonObject, mut args: PythonObject) raises -> PythonObject:
    """(sum of the valid values, nulls) of float64 column `name`, nulls
    allowed: reads the validity bitmap."""
    var t = TableView(args[0])
    var i = t.column_index(String(args[1]))
    var v = t.column[DType.float64](i, nulls=True)
    var s = 0.0
    for r in range(len(v)):
        if t.is_valid(i, r):
            s += v[r]
    return Python.tuple(s, t.null_count(i))


def validity(mut module: PythonObject, mut args: PythonObject) raises -> PythonObject:
    """(null_count, [is_valid per row]) of column `name` (the only chunk, or
    chunk `args[2]`)."""
    var t = TableView(args[0])
    var i = t.column_index(String(args[1]))
    var chunk = Int(py=args[2]) if len(args) > 2 else -1
    var rows = Python.list()
    for r in range(len(t.column[DType.float64](i, chunk, nulls=True))):
        rows.append(t.is_valid(i, r, chunk))
    return Python.tuple(t.null_count(i, chunk), rows)


def _column_of(
    obj: PythonObject, name: String
) raises -> MemoryView[DType.float64, 1, mut=False]:
    """A view of column `name`; the TableView it came from dies here."""
    var t = TableView(obj)
    return t.column[DType.float64](name)


def keep_column(mut module: PythonObject, mut args: PythonObject) raises -> PythonObject:
    """Views float64 column `name`, drops the TableView, then sums the view
    (the batches must outlive the TableView while the view lives)."""
    var v = _column_of(args[0], String(args[1]))
    var s = 0.0
    for i in range(len(v)):
        s += v[i]
    return s


@export
def PyInit_bftables() abi("C") -> PythonObject:
    try:
        var m = PythonModuleBuilder("bftables")
        ref t = m.add_type[Prices]("Prices").def_py_init[Prices.py_init]()
        add_table_protocol[Prices](t)
        _ = t.def_py_c_method(py_method[resize], "resize")
        _ = t.def_py_c_method(py_method[drop_last_price], "drop_last_price")
        _ = t.def_py_c_method(py_method[stats], "stats")
        _ = t.def_py_c_method(py_method[address], "address")
        _ = t.def_py_c_method(py_method[set_price], "set_price")
        ref late = m.add_type[Late]("Late")
        add_table_protocol[Late](late)
        _ = late.def_py_init[Late.py_init]()
        m.def_py_c_function(py_method[sum_column], "sum_column")
        m.def_py_c_function(py_method[column_address], "column_address")
        m.def_py_c_function(py_method[describe], "describe")
        m.def_py_c_function(py_method[valid_sum], "valid_sum")
        m.def_py_c_function(py_method[keep_column], "keep_column")
        m.def_py_c_function(py_method[validity], "validity")
        m.def_function[destroyed]("destroyed")
        return finalize_module(m)
    except e:
        return module_init_error(e)
