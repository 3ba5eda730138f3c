# Typed bindings (bufferable.typed_calls): functions and methods with typed
# parameters and results, bound with bind_function / bind_method, for
# tests/mojo/test_typed_calls.py.

from std.memory import Layout
from std.python import Python, PythonObject
from std.python.bindings import PythonModuleBuilder

from bufferable import (
    Buffer,
    BufferFlags,
    Bufferable,
    ExportCounter,
    FromPython,
    MemoryLayout,
    MemoryView,
    RecordView,
    TableView,
    ToPython,
    add_buffer_protocol,
    bind_function,
    bind_method,
    buffer_error,
    expected_error,
    finalize_module,
    index_error,
    module_init_error,
    py_call,
    py_index,
    type_error,
    value_error,
)
from bufferable._private import RawPointer, get_global


# --- a process-wide count of Blocks made and destroyed ------------------------------------------


struct Counts:
    var made: Int
    var destroyed: Int
    var acquired: Int
    var released: Int


def _counts_init() -> Optional[RawPointer]:
    var p = alloc(Layout[Counts](count=1)).unsafe_leak()
    p[].made = 0
    p[].destroyed = 0
    p[].acquired = 0
    p[].released = 0
    return RawPointer(unsafe_from_address=Int(p))


def _counts_destroy(p: Optional[RawPointer]):
    pass


def counts() -> ref[MutUntrackedOrigin] Counts:
    return get_global["bftyped.counts", _counts_init, _counts_destroy]().value().unsafe_bitcast[Counts]()[]


def block_counts() raises -> PythonObject:
    ref c = counts()
    return Python.tuple(c.made, c.destroyed, c.acquired, c.released)


# --- scalars, strings, objects, optionals: each returned as it came ------------------------------


def id_int(x: Int) -> Int:
    return x


def id_i8(x: Int8) -> Int8:
    return x


def id_i16(x: Int16) -> Int16:
    return x


def id_i32(x: Int32) -> Int32:
    return x


def id_i64(x: Int64) -> Int64:
    return x


def id_u8(x: UInt8) -> UInt8:
    return x


def id_u16(x: UInt16) -> UInt16:
    return x


def id_u32(x: UInt32) -> UInt32:
    return x


def id_u64(x: UInt64) -> UInt64:
    return x


def id_f64(x: Float64) -> Float64:
    return x


def id_f32(x: Float32) -> Float32:
    return x


def id_bool(x: Bool) -> Bool:
    return x


def id_str(x: String) -> String:
    return x


def id_obj(x: PythonObject) -> PythonObject:
    return x


def id_opt_int(x: Optional[Int]) -> Optional[Int]:
    return x


def id_opt_str(x: Optional[String]) -> Optional[String]:
    return x


def negate(x: Bool) -> Bool:
    return not x


def utf8_length(x: String) -> Int:
    return x.byte_length()


def zero() -> Int:
    return 0


def nothing(x: Int):
    pass


def scalar_true() -> Scalar[DType.bool]:
    return True


# --- many arguments of mixed types: checks each arrives in its place ----------------------------


def ten(a0: Int, a1: Int, a2: Int, a3: Int, a4: Int, a5: Int, a6: Int, a7: Int, a8: Int, a9: Int) -> Int:
    return a0 + 2 * a1 + 4 * a2 + 8 * a3 + 16 * a4 + 32 * a5 + 64 * a6 + 128 * a7 + 256 * a8 + 512 * a9


def ten_plain(a0: Int, a1: Int, a2: Int, a3: Int, a4: Int, a5: Int, a6: Int, a7: Int, a8: Int, a9: Int) -> Int:
    return ten(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9)


def mixed(
    a: Int,
    b: Float64,
    c: String,
    d: PythonObject,
    e: Bool,
    f: MemoryView[DType.float64, 1, mut=False],
    g: Optional[Int],
    h: Optional[String],
) raises -> String:
    var total = 0.0
    for i in range(len(f)):
        total += f[i]
    return String(
        a, "|", b, "|", c, "|", String(d), "|", e, "|", total, "|",
        String(g.value()) if g else "None", "|", h.value() if h else "None",
    )


def keywords(a: Int, b: Int, c: Optional[Int], d: Optional[Int]) -> Int:
    return 1000 * a + 100 * b + 10 * (c.value() if c else 0) + (d.value() if d else 0)


# --- views ---------------------------------------------------------------------------------------


def view_sum(a: MemoryView[DType.float64, 2, mut=False]) raises -> Float64:
    var s = 0.0
    for i in range(a.dim(0)):
        for j in range(a.dim(1)):
            s += a[i, j]
    return s


def fill(a: MemoryView[DType.int32, 1], value: Int32) raises:
    for i in range(len(a)):
        a[i] = value


def c_rows(a: MemoryView[DType.float32, 2, layout=MemoryLayout.C_CONTIGUOUS, mut=False]) -> Int:
    return a.dim(0)


@fieldwise_init
struct Particle(Copyable):
    var pos: SIMD[DType.float32, 4]
    var mass: Float64
    var id: Int32
    var alive: Bool


def heaviest(v: RecordView[Particle, 1, mut=False]) raises -> Int:
    var best = -1
    var best_mass = -1.0
    for i in range(len(v)):
        ref p = v[i]
        if p.alive and p.mass > best_mass:
            best = Int(p.id)
            best_mass = p.mass
    return best


def column_sum(t: TableView, name: String) raises -> Float64:
    var column = t.column[DType.float64](name)
    var s = 0.0
    for i in range(len(column)):
        s += column[i]
    return s


# --- errors raised inside ------------------------------------------------------------------------


def raiser(kind: String) raises:
    if kind == "buffer":
        raise buffer_error("refused")
    if kind == "value":
        raise value_error("bad value")
    if kind == "index":
        raise index_error("out of range")
    if kind == "type":
        raise type_error("wrong type")
    raise Error("plain: ", kind)


def plain(text: String) raises:
    raise Error(text)


def call_back(f: PythonObject, x: PythonObject) raises -> PythonObject:
    return py_call(f, x)


def handled_then_plain() raises:
    try:
        raise value_error("handled")
    except:
        pass
    raise Error("handled")


def handled_then_ok() -> Int:
    try:
        raise value_error("handled inside")
    except:
        pass
    return 7


# --- a struct of one's own conforming to FromPython / ToPython ----------------------------------


struct Interval(FromPython, ToPython):
    """A closed interval, from and to a 2-tuple of numbers."""

    var low: Float64
    var high: Float64

    def __init__(out self, low: Float64, high: Float64):
        self.low = low
        self.high = high

    @staticmethod
    def from_python(obj: PythonObject) raises -> Self:
        if String(Python.type(obj).__name__) != "tuple" or len(obj) != 2:
            raise expected_error(Self.python_description(), obj)
        return Self(Float64(py=obj[0]), Float64(py=obj[1]))

    @staticmethod
    def python_description() -> String:
        return "a (low, high) tuple"

    @staticmethod
    def to_python(value: Self) raises -> PythonObject:
        return Python.tuple(value.low, value.high)


def widen(i: Interval, by: Float64) -> Interval:
    return Interval(i.low - by, i.high + by)


# --- a bound type: methods, by-reference arguments, results of its type --------------------------


struct Block(Bufferable, Writable):
    """A Bufferable block of float64 that counts its lives and exports."""

    var cells: List[Float64]
    var shape: Array[Int64, 1]
    var label: String
    var exports: ExportCounter

    def __init__(out self, n: Int, fill: Float64):
        self.cells = List[Float64](length=n, fill=fill)
        self.shape = Array[Int64, 1](fill=Int64(n))
        self.label = String("block")
        self.exports = ExportCounter()
        counts().made += 1

    def __init__(out self, *, deinit move: Self):
        self.cells = move.cells^
        self.shape = move.shape^
        self.label = move.label^
        self.exports = move.exports^

    def __deinit__(deinit self):
        counts().destroyed += 1

    def write_to(self, mut w: Some[Writer]):
        w.write("Block(", len(self.cells), ")")

    def __buffer__(mut self, flags: BufferFlags) raises -> Buffer:
        self.exports.acquire()
        counts().acquired += 1
        return Buffer(self.cells.unsafe_ptr(), Span(self.shape))

    def __release_buffer__(mut self, buffer: Buffer):
        self.exports.release()
        counts().released += 1

    @staticmethod
    def py_init(out self: Block, args: PythonObject, kwargs: PythonObject) raises:
        self = Block(py_index(args[0]), 0.0)

    # Methods (bind_method): `mut self` changes the value in place.
    def add(mut self, value: Float64) raises -> Float64:
        self.exports.check_unexported("add to a block")
        self.cells.append(value)
        self.shape[0] = Int64(len(self.cells))
        return value

    def size(self) -> Int:
        return len(self.cells)

    def total(self) -> Float64:
        var s = 0.0
        for x in self.cells:
            s += x
        return s

    def relabel(mut self, label: String, suffix: Optional[String]):
        self.label = label + (suffix.value() if suffix else "")

    def get_label(self) -> String:
        return self.label

    def same_size(self, other: Block) -> Bool:
        return len(self.cells) == len(other.cells)

    def scaled(self, factor: Float64) -> Block:
        var b = Block(len(self.cells), 0.0)
        for i in range(len(self.cells)):
            b.cells[i] = self.cells[i] * factor
        return b^

    @staticmethod
    def ones(n: Int) -> Block:
        return Block(n, 1.0)


def make_block(n: Int, value: Float64) -> Block:
    return Block(n, value)


def block_total(b: Block) -> Float64:
    return b.total()


def maybe_block(n: Int) -> Optional[Int]:
    return Optional[Int](n) if n > 0 else None


def identity_of(py_self: PythonObject, x: Int) raises -> PythonObject:
    """A method taking the instance itself as a PythonObject."""
    return Python.tuple(py_self, x)


@export
def PyInit_bftyped() abi("C") -> PythonObject:
    try:
        var m = PythonModuleBuilder("bftyped")
        bind_function[id_int](m, "id_int", "x")
        bind_function[id_i8](m, "id_i8", "x")
        bind_function[id_i16](m, "id_i16", "x")
        bind_function[id_i32](m, "id_i32", "x")
        bind_function[id_i64](m, "id_i64", "x")
        bind_function[id_u8](m, "id_u8", "x")
        bind_function[id_u16](m, "id_u16", "x")
        bind_function[id_u32](m, "id_u32", "x")
        bind_function[id_u64](m, "id_u64", "x")
        bind_function[id_f64](m, "id_f64", "x")
        bind_function[id_f32](m, "id_f32", "x")
        bind_function[id_bool](m, "id_bool", "x")
        bind_function[id_str](m, "id_str", "x")
        bind_function[id_obj](m, "id_obj", "x")
        bind_function[id_opt_int](m, "id_opt_int", "x")
        bind_function[id_opt_str](m, "id_opt_str", "x")
        bind_function[negate](m, "negate", "x")
        bind_function[utf8_length](m, "utf8_length", "text")
        bind_function[zero](m, "zero", doc="Returns 0.")
        bind_function[nothing](m, "nothing", "x")
        bind_function[scalar_true](m, "scalar_true")
        bind_function[ten](m, "ten", "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9")
        bind_function[ten_plain](m, "ten_positional")  # no names: positional only
        bind_function[id_int](m, "id_int_alias", "x")  # the same names: an alias
        bind_function[mixed](m, "mixed", "a", "b", "c", "d", "e", "f", "g", "h")
        bind_function[keywords](m, "keywords", "a", "b", "c", "d", doc="Digits.")
        bind_function[view_sum](m, "view_sum", "a")
        bind_function[fill](m, "fill", "a", "value")
        bind_function[c_rows](m, "c_rows", "a")
        bind_function[heaviest](m, "heaviest", "v")
        bind_function[column_sum](m, "column_sum", "table", "name")
        bind_function[raiser](m, "raiser", "kind")
        bind_function[plain](m, "plain", "text")
        bind_function[call_back](m, "call_back", "f", "x")
        bind_function[handled_then_plain](m, "handled_then_plain")
        bind_function[handled_then_ok](m, "handled_then_ok")
        bind_function[widen](m, "widen", "interval", "by")
        bind_function[make_block](m, "make_block", "n", "value")
        bind_function[block_total](m, "block_total", "block")
        bind_function[maybe_block](m, "maybe_block", "n")
        m.def_function[block_counts]("block_counts")
        ref block = m.add_type[Block]("Block").def_py_init[Block.py_init]()
        add_buffer_protocol[Block](block)
        bind_method[Block.add](block, "add", "value")
        bind_method[Block.size](block, "size")
        bind_method[Block.total](block, "total")
        bind_method[Block.relabel](block, "relabel", "label", "suffix")
        bind_method[Block.get_label](block, "label")
        bind_method[Block.same_size](block, "same_size", "other")
        bind_method[Block.scaled](block, "scaled", "factor")
        bind_method[identity_of](block, "identity", "x")
        bind_function[Block.ones](block, "ones", "n")
        return finalize_module(m)
    except e:
        return module_init_error(e)
