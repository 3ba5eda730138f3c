# The bufferable side of the benchmarks' "calls" section (benchmarks/bench_calls.py): the same
# no-op and one-array functions bound every way a Mojo author can bind them (bufferable's typed
# `bind_function`, `py_function`, `py_method`, and Mojo 1.2.0's own `def_function`), beside the
# Cython, nanobind and pybind11 functions of benchmarks/peers/ doing the same. Also `StridedGrid`,
# the README's Grid storing its own byte strides (the export rows of benchmarks/bench_peers.py).

from std.python import PythonObject
from std.python.bindings import PythonModuleBuilder

from bufferable import (
    Arguments,
    Buffer,
    BufferFlags,
    Bufferable,
    ExportCounter,
    MemoryView,
    add_buffer_protocol,
    bind_function,
    finalize_module,
    module_init_error,
    py_function,
    py_method,
)


# --- typed (bind_function) ---------------------------------------------------------------------


def noop(a: PythonObject):
    """Does nothing with one argument (METH_O)."""
    pass


def noop3(a: PythonObject, b: PythonObject, c: PythonObject):
    """Does nothing with three arguments (METH_FASTCALL | METH_KEYWORDS)."""
    pass


def total(a: MemoryView[DType.float64, 2, mut=False]) -> Float64:
    """Sums any 2-D float64 buffer element by element, in order, without
    bounds checks: the loop Cython compiles for `def total(double[:, :] a)`
    with `boundscheck=False, wraparound=False` (the peer's directives)."""
    var s = 0.0
    var p = a.unsafe_ptr()
    var rows = a.dim(0)
    var cols = a.dim(1)
    var row_step = a.stride(0)
    var col_step = a.stride(1)
    for i in range(rows):
        var row = p.unsafe_offset(i * row_step)
        for j in range(cols):
            s += row[unsafe_offset=j * col_step]
    return s


def rows(a: MemoryView[DType.float64, 2, mut=False]) -> Int:
    """Takes a typed view of any 2-D float64 buffer and returns its row count."""
    return a.dim(0)


# --- py_function (METH_FASTCALL, by hand) ------------------------------------------------------


def noop_fast(module: PythonObject, args: Arguments) raises:
    pass


def noop3_fast(module: PythonObject, args: Arguments) raises:
    pass


def rows_fast(module: PythonObject, args: Arguments) raises -> PythonObject:
    return MemoryView[DType.float64, 2, mut=False](args[0]).dim(0)


def total_fast(module: PythonObject, args: Arguments) raises -> PythonObject:
    return total(MemoryView[DType.float64, 2, mut=False](args[0]))


# --- py_method (METH_VARARGS, by hand) ---------------------------------------------------------


def noop_varargs(mut module: PythonObject, mut args: PythonObject) raises -> PythonObject:
    return None


def rows_varargs(mut module: PythonObject, mut args: PythonObject) raises -> PythonObject:
    return MemoryView[DType.float64, 2, mut=False](args[0]).dim(0)


def total_varargs(mut module: PythonObject, mut args: PythonObject) raises -> PythonObject:
    return total(MemoryView[DType.float64, 2, mut=False](args[0]))


# --- Mojo 1.2.0's own def_function -------------------------------------------------------------


def noop_std(a: PythonObject):
    pass


def noop3_std(a: PythonObject, b: PythonObject, c: PythonObject):
    pass


def rows_std(a: PythonObject) raises -> PythonObject:
    return MemoryView[DType.float64, 2, mut=False](a).dim(0)


def total_std(a: PythonObject) raises -> PythonObject:
    return total(MemoryView[DType.float64, 2, mut=False](a))


# --- a producer that stores its own byte strides -----------------------------------------------


struct StridedGrid(Bufferable, Writable):
    """The README's Grid, describing its layout with explicit byte strides."""

    var cells: List[Float64]
    var shape: Array[Int64, 2]
    var strides: Array[Int64, 2]
    var exports: ExportCounter

    def __init__(out self, rows: Int, cols: Int):
        self.cells = List[Float64](length=rows * cols, fill=0.0)
        self.shape = Array[Int64, 2](fill=0)
        self.shape[0] = Int64(rows)
        self.shape[1] = Int64(cols)
        self.strides = Array[Int64, 2](fill=0)
        self.strides[0] = Int64(8 * cols)
        self.strides[1] = 8
        self.exports = ExportCounter()

    def __init__(out self, *, deinit move: Self):
        self.cells = move.cells^
        self.shape = move.shape^
        self.strides = move.strides^
        self.exports = move.exports^

    def write_to(self, mut w: Some[Writer]):
        w.write("StridedGrid(", self.shape[0], ", ", self.shape[1], ")")

    def __buffer__(mut self, flags: BufferFlags) raises -> Buffer:
        self.exports.acquire()
        return Buffer(self.cells.unsafe_ptr(), Span(self.shape), Span(self.strides))

    def __release_buffer__(mut self, buffer: Buffer):
        self.exports.release()

    @staticmethod
    def py_init(out self: StridedGrid, args: PythonObject, kwargs: PythonObject) raises:
        self = StridedGrid(Int(py=args[0]), Int(py=args[1]))


@export
def PyInit_bench_bindings() abi("C") -> PythonObject:
    try:
        var m = PythonModuleBuilder("bench_bindings")
        bind_function[noop](m, "noop", "a")
        bind_function[noop3](m, "noop3", "a", "b", "c")
        bind_function[total](m, "total", "a")
        bind_function[rows](m, "rows", "a")
        m.def_py_c_function(py_function[rows_fast], "rows_fast")
        m.def_py_c_function(py_method[rows_varargs], "rows_varargs")
        m.def_function[rows_std]("rows_std")
        m.def_py_c_function(py_function[noop_fast], "noop_fast")
        m.def_py_c_function(py_function[noop3_fast], "noop3_fast")
        m.def_py_c_function(py_function[total_fast], "total_fast")
        m.def_py_c_function(py_method[noop_varargs], "noop_varargs")
        m.def_py_c_function(py_method[total_varargs], "total_varargs")
        m.def_function[noop_std]("noop_std")
        m.def_function[noop3_std]("noop3_std")
        m.def_function[total_std]("total_std")
        ref grid = m.add_type[StridedGrid]("StridedGrid").def_py_init[StridedGrid.py_init]()
        add_buffer_protocol[StridedGrid](grid)
        return finalize_module(m)
    except e:
        return module_init_error(e)
