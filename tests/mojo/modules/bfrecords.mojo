# Record test producers and readers: structs of every layout case exported
# through Records[T] (format derived by reflection), a rank-2 record export,
# and RecordView readers. This module is the only one in the test suite that
# binds Records[...] of these structs (Mojo 1.2.0 binds a type once per
# process).

from std.python import Python, PythonObject
from std.python.bindings import PythonModuleBuilder
from std.sys.info import size_of

from bufferable import (
    Buffer,
    BufferFlags,
    Bufferable,
    ExportCounter,
    RecordView,
    Records,
    add_buffer_protocol,
    finalize_module,
    format_of,
    index_error,
    module_init_error,
    py_method,
    to_numpy,
)


# ===-----------------------------------------------------------------------===#
# Record structs: one per layout case
# ===-----------------------------------------------------------------------===#


@fieldwise_init
struct Particle(Copyable, Defaultable, Movable):
    var pos: SIMD[DType.float32, 4]
    var mass: Float64
    var id: Int32
    var alive: Bool

    def __init__(out self):
        self = Particle(SIMD[DType.float32, 4](0), 0.0, 0, False)


@fieldwise_init
struct InnerPad(Copyable, Defaultable, Movable):
    """Padding between fields: 7 bytes after `tag`."""

    var tag: Int8
    var value: Float64

    def __init__(out self):
        self = InnerPad(0, 0.0)


@fieldwise_init
struct TrailingPad(Copyable, Defaultable, Movable):
    """Padding at the end: 7 bytes after `tag`."""

    var value: Float64
    var tag: Int8

    def __init__(out self):
        self = TrailingPad(0.0, 0)


@fieldwise_init
struct Nested(Copyable, Defaultable, Movable):
    """A nested struct with its own inner and trailing padding, placed after a
    2-byte field (so it starts at 8), and trailing padding of the outer."""

    var kind: Int16
    var inner: TrailingPad
    var flag: Bool

    def __init__(out self):
        self = Nested(0, TrailingPad(), False)


@fieldwise_init
struct Arrays(Copyable, Defaultable, Movable):
    """SIMD and Array fields of several element types, and every scalar."""

    var v: SIMD[DType.float64, 2]
    var a: Array[Int16, 3]
    var flags: Array[Bool, 2]
    var b: Bool
    var i8: Int8
    var u8: UInt8
    var u16: UInt16
    var u32: UInt32
    var i64: Int64
    var u64: UInt64
    var n: Int
    var h: Float16
    var f: Float32

    def __init__(out self):
        self = Arrays(
            SIMD[DType.float64, 2](0),
            Array[Int16, 3](fill=0),
            Array[Bool, 2](fill=False),
            False, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        )


@fieldwise_init
struct OneField(Copyable, Defaultable, Movable):
    var x: Float32

    def __init__(out self):
        self = OneField(0.0)


# ===-----------------------------------------------------------------------===#
# Records[T] bound to Python: Records(n) holds n default records
# ===-----------------------------------------------------------------------===#


def _init[
    T: Copyable & Deinitable & Defaultable
](out self: Records[T], args: PythonObject, kwargs: PythonObject) raises:
    self = Records[T](length=Int(py=args[0]), fill=T())


def _resize[
    T: Copyable & Deinitable & Defaultable
](mut py_self: PythonObject, mut args: PythonObject) raises -> PythonObject:
    py_self.downcast_value_ptr[Records[T]]()[].resize(Int(py=args[0]), T())
    return PythonObject(None)


def _reserve[
    T: Copyable & Deinitable & Defaultable
](mut py_self: PythonObject, mut args: PythonObject) raises -> PythonObject:
    py_self.downcast_value_ptr[Records[T]]()[].reserve(Int(py=args[0]))
    return PythonObject(None)


def _append[
    T: Copyable & Deinitable & Defaultable
](mut py_self: PythonObject, mut args: PythonObject) raises -> PythonObject:
    py_self.downcast_value_ptr[Records[T]]()[].append(T())
    return PythonObject(None)


def _len[
    T: Copyable & Deinitable & Defaultable
](mut py_self: PythonObject, mut args: PythonObject) raises -> PythonObject:
    return PythonObject(len(py_self.downcast_value_ptr[Records[T]]()[]))


def _exports[
    T: Copyable & Deinitable & Defaultable
](mut py_self: PythonObject, mut args: PythonObject) raises -> PythonObject:
    return PythonObject(py_self.downcast_value_ptr[Records[T]]()[].export_count())


def _stats[
    T: Copyable & Deinitable & Defaultable
](mut py_self: PythonObject, mut args: PythonObject) raises -> PythonObject:
    var counter = py_self.downcast_value_ptr[Records[T]]()[].export_counter()
    return Python.tuple(counter.live, counter.acquired, counter.released)


def _format[
    T: Copyable & Deinitable & Defaultable
](mut py_self: PythonObject, mut args: PythonObject) raises -> PythonObject:
    return Python.tuple(String(format_of[T]()), size_of[T]())


def bind_records[
    T: Copyable & Deinitable & Defaultable
](mut m: PythonModuleBuilder, name: StaticString) raises:
    ref t = m.add_type[Records[T]](name).def_py_init[_init[T]]()
    _ = t.def_py_c_method(py_method[_resize[T]], "resize")
    _ = t.def_py_c_method(py_method[_reserve[T]], "reserve")
    _ = t.def_py_c_method(py_method[_append[T]], "append_default")
    _ = t.def_py_c_method(py_method[_len[T]], "length")
    _ = t.def_py_c_method(py_method[_exports[T]], "exports")
    _ = t.def_py_c_method(py_method[_format[T]], "format")
    _ = t.def_py_c_method(py_method[_stats[T]], "stats")
    add_buffer_protocol[Records[T]](t)


# ===-----------------------------------------------------------------------===#
# Particle access from the Mojo side (references into the array)
# ===-----------------------------------------------------------------------===#


def particle_get(mut module: PythonObject, mut args: PythonObject) raises -> PythonObject:
    """(pos, mass, id, alive) of record args[1] of the Particles args[0]."""
    ref p = args[0].downcast_value_ptr[Records[Particle]]()[][Int(py=args[1])]
    return Python.tuple(
        Python.tuple(p.pos[0], p.pos[1], p.pos[2], p.pos[3]), p.mass, p.id, p.alive
    )


def particle_scale_mass(mut module: PythonObject, mut args: PythonObject) raises -> PythonObject:
    """Multiplies every mass of the Particles args[0] by args[1], in Mojo."""
    ref r = args[0].downcast_value_ptr[Records[Particle]]()[]
    var factor = Float64(py=args[1])
    for i in range(len(r)):
        r[i].mass *= factor
    return PythonObject(None)


def particles_to_numpy(mut module: PythonObject, mut args: PythonObject) raises -> PythonObject:
    """The first n particles made in Mojo, handed over with to_numpy (no copy)."""
    var n = Int(py=args[0])
    var r = Records[Particle](capacity=n)
    for i in range(n):
        r.append(
            Particle(
                SIMD[DType.float32, 4](Float32(i), Float32(i) + 0.5, -Float32(i), 1),
                Float64(i) * 0.25,
                Int32(i),
                i % 2 == 0,
            )
        )
    return to_numpy(r^)


# ===-----------------------------------------------------------------------===#
# A rank-2 record export: rows x cols particles, rows given in reverse order
# (negative byte stride), so the strided Buffer constructor is exercised
# ===-----------------------------------------------------------------------===#


struct ParticleGrid(Bufferable, Writable):
    var cells: List[Particle]
    var shape: Array[Int64, 2]
    var strides: Array[Int64, 2]
    var exports: ExportCounter

    def __init__(out self, rows: Int, cols: Int):
        self.cells = List[Particle](length=rows * cols, fill=Particle())
        for i in range(rows * cols):
            self.cells[i].id = Int32(i)
            self.cells[i].mass = Float64(i)
        self.shape = Array[Int64, 2](fill=0)
        self.shape[0] = Int64(rows)
        self.shape[1] = Int64(cols)
        self.strides = Array[Int64, 2](fill=0)
        self.strides[0] = -Int64(cols * size_of[Particle]())
        self.strides[1] = Int64(size_of[Particle]())
        self.exports = ExportCounter()

    def write_to(self, mut w: Some[Writer]):
        w.write("ParticleGrid(", self.shape[0], ", ", self.shape[1], ")")

    def write_repr_to(self, mut w: Some[Writer]):
        self.write_to(w)

    def __buffer__(mut self, flags: BufferFlags) raises -> Buffer:
        self.exports.acquire()
        var last_row = (Int(self.shape[0]) - 1) * Int(self.shape[1])
        return Buffer(
            records=self.cells.unsafe_ptr().unsafe_offset(max(last_row, 0)),
            shape=Span(self.shape),
            strides=Span(self.strides),
        )

    def __release_buffer__(mut self, buffer: Buffer):
        self.exports.release()

    @staticmethod
    def py_init(out self: ParticleGrid, args: PythonObject, kwargs: PythonObject) raises:
        self = ParticleGrid(Int(py=args[0]), Int(py=args[1]))


# ===-----------------------------------------------------------------------===#
# A record export from a Span: SpanExport(n, claimed) holds n InnerPad records
# and exports them as shape (claimed,) through Buffer(records=span, ...), which
# refuses a shape that does not hold exactly the span's records
# ===-----------------------------------------------------------------------===#


struct SpanExport(Bufferable, Writable):
    var items: List[InnerPad]
    var shape: Array[Int64, 1]
    var exports: ExportCounter

    def __init__(out self, n: Int, claimed: Int):
        self.items = List[InnerPad](length=n, fill=InnerPad())
        for i in range(n):
            self.items[i].tag = Int8(i)
            self.items[i].value = Float64(i) / 4
        self.shape = Array[Int64, 1](fill=Int64(claimed))
        self.exports = ExportCounter()

    def write_to(self, mut w: Some[Writer]):
        w.write("SpanExport(", len(self.items), ")")

    def write_repr_to(self, mut w: Some[Writer]):
        self.write_to(w)

    def __buffer__(mut self, flags: BufferFlags) raises -> Buffer:
        var b = Buffer(records=Span(self.items), shape=Span(self.shape), readonly=True)
        self.exports.acquire()
        return b^

    def __release_buffer__(mut self, buffer: Buffer):
        self.exports.release()

    @staticmethod
    def py_init(out self: SpanExport, args: PythonObject, kwargs: PythonObject) raises:
        self = SpanExport(Int(py=args[0]), Int(py=args[1]))

    @staticmethod
    def live(self_ptr: Pointer[SpanExport, MutUnsafeAnyOrigin]) raises -> PythonObject:
        return PythonObject(self_ptr[].exports.live)


# ===-----------------------------------------------------------------------===#
# RecordView: Mojo reads numpy structured arrays in place
# ===-----------------------------------------------------------------------===#


def total_mass(mut module: PythonObject, mut args: PythonObject) raises -> PythonObject:
    """Sum of `mass` over a 1-D buffer of Particle records (read-only view)."""
    var v = RecordView[Particle, 1, mut=False](args[0])
    var s = 0.0
    for i in range(len(v)):
        s += v[i].mass
    return PythonObject(s)


def sum_mass(mut module: PythonObject, mut args: PythonObject) raises -> PythonObject:
    """Sum of `mass` over a 1-D buffer of Particle records, as a benchmark
    loop: unchecked references, four accumulators (any stride)."""
    var v = RecordView[Particle, 1, mut=False](args[0])
    var n = len(v)
    var s0 = 0.0
    var s1 = 0.0
    var s2 = 0.0
    var s3 = 0.0
    var i = 0
    while i + 4 <= n:
        s0 += v.unsafe_get(i).mass
        s1 += v.unsafe_get(i + 1).mass
        s2 += v.unsafe_get(i + 2).mass
        s3 += v.unsafe_get(i + 3).mass
        i += 4
    while i < n:
        s0 += v.unsafe_get(i).mass
        i += 1
    return PythonObject((s0 + s1) + (s2 + s3))


def move_particles(mut module: PythonObject, mut args: PythonObject) raises -> PythonObject:
    """pos += (dt, 2 dt, 3 dt, 0), id = -id, alive = not alive: writes in place."""
    var v = RecordView[Particle, 1](args[0])
    var dt = Float32(py=args[1])
    for i in range(len(v)):
        ref p = v[i]
        p.pos += SIMD[DType.float32, 4](dt, 2 * dt, 3 * dt, 0)
        p.id = -p.id
        p.alive = not p.alive
    return PythonObject(None)


def particle_ids(mut module: PythonObject, mut args: PythonObject) raises -> PythonObject:
    """ids of a rank-1 view, of its reverse (v[::-1]) and of v[1::2]."""
    var v = RecordView[Particle, 1, mut=False](args[0])
    var forward = Python.list()
    var backward = Python.list()
    var odd = Python.list()
    var r = v[::-1]
    var o = v[1::2]
    for i in range(len(v)):
        forward.append(v[i].id)
        backward.append(r[i].id)
    for i in range(len(o)):
        odd.append(o[i].id)
    return Python.tuple(forward, backward, odd)


def grid_ids(mut module: PythonObject, mut args: PythonObject) raises -> PythonObject:
    """ids of a rank-2 view, row by row; and v[-1, 0].id."""
    var v = RecordView[Particle, 2, mut=False](args[0])
    var rows = Python.list()
    for i in range(v.dim(0)):
        var row = Python.list()
        for j in range(v.dim(1)):
            row.append(v[i, j].id)
        rows.append(row)
    return Python.tuple(rows, v[-1, 0].id)


def get_particle(mut module: PythonObject, mut args: PythonObject) raises -> PythonObject:
    """v[i].mass of a rank-1 Particle view (IndexError when out of range)."""
    var v = RecordView[Particle, 1, mut=False](args[0])
    return PythonObject(v[Int(py=args[1])].mass)


def nested_sum(mut module: PythonObject, mut args: PythonObject) raises -> PythonObject:
    """Sum of inner.value + kind + flag over Nested records; doubles inner.value."""
    var v = RecordView[Nested, 1](args[0])
    var s = 0.0
    for i in range(len(v)):
        ref r = v[i]
        s += r.inner.value + Float64(r.kind) + (1.0 if r.flag else 0.0)
        r.inner.value *= 2
    return PythonObject(s)


def records_aligned(mut module: PythonObject, mut args: PythonObject) raises -> PythonObject:
    """RecordView[Particle, 1].is_aligned() of a buffer."""
    return PythonObject(RecordView[Particle, 1, mut=False](args[0]).is_aligned())


def _as_tuple(p: Particle) raises -> PythonObject:
    return Python.tuple(
        Python.tuple(p.pos[0], p.pos[1], p.pos[2], p.pos[3]), p.mass, p.id, p.alive
    )


def loaded_particles(mut module: PythonObject, mut args: PythonObject) raises -> PythonObject:
    """(pos, mass, id, alive) of every record, read as copies (v.load(i)):
    any alignment."""
    var v = RecordView[Particle, 1, mut=False](args[0])
    var out = Python.list()
    for i in range(len(v)):
        out.append(_as_tuple(v.load(i)))
    return out


def loaded_grid_ids(mut module: PythonObject, mut args: PythonObject) raises -> PythonObject:
    """The ids of a rank-2 view, row by row, read as copies (v.load(i, j))."""
    var v = RecordView[Particle, 2, mut=False](args[0])
    var rows = Python.list()
    for i in range(v.dim(0)):
        var row = Python.list()
        for j in range(v.dim(1)):
            row.append(v.load(i, j).id)
        rows.append(row)
    return rows


def store_particle(mut module: PythonObject, mut args: PythonObject) raises -> PythonObject:
    """Record args[1]: pos + 1, mass = args[2], id = args[3], alive negated;
    loaded and stored as a copy (v.load(i), v.store(i, value))."""
    var v = RecordView[Particle, 1](args[0])
    var i = Int(py=args[1])
    var p = v.load(i)
    p.pos += 1
    p.mass = Float64(py=args[2])
    p.id = Int32(Int(py=args[3]))
    p.alive = not p.alive
    v.store(i, p)
    return PythonObject(None)


def nested_store(mut module: PythonObject, mut args: PythonObject) raises -> PythonObject:
    """Record args[1] of Nested records: kind + 1, inner.value * 2, flag
    negated; loaded and stored as a copy (any alignment)."""
    var v = RecordView[Nested, 1](args[0])
    var i = Int(py=args[1])
    var r = v.load(i)
    r.kind += 1
    r.inner.value *= 2
    r.flag = not r.flag
    v.store(i, r)
    return PythonObject(None)


def view_len[T: AnyType, mut: Bool](mut module: PythonObject, mut args: PythonObject) raises -> PythonObject:
    var v = RecordView[T, 1, mut=mut](args[0])
    return PythonObject(len(v))


@export
def PyInit_bfrecords() abi("C") -> PythonObject:
    try:
        var m = PythonModuleBuilder("bfrecords")
        m.def_py_c_function(py_method[particles_to_numpy], "particles_to_numpy")
        m.def_py_c_function(py_method[particle_get], "particle_get")
        m.def_py_c_function(py_method[particle_scale_mass], "particle_scale_mass")
        m.def_py_c_function(py_method[total_mass], "total_mass")
        m.def_py_c_function(py_method[sum_mass], "sum_mass")
        m.def_py_c_function(py_method[move_particles], "move_particles")
        m.def_py_c_function(py_method[particle_ids], "particle_ids")
        m.def_py_c_function(py_method[grid_ids], "grid_ids")
        m.def_py_c_function(py_method[get_particle], "get_particle")
        m.def_py_c_function(py_method[nested_sum], "nested_sum")
        m.def_py_c_function(py_method[records_aligned], "records_aligned")
        m.def_py_c_function(py_method[loaded_particles], "loaded_particles")
        m.def_py_c_function(py_method[loaded_grid_ids], "loaded_grid_ids")
        m.def_py_c_function(py_method[store_particle], "store_particle")
        m.def_py_c_function(py_method[nested_store], "nested_store")
        m.def_py_c_function(py_method[view_len[Particle, False]], "view_particles")
        m.def_py_c_function(py_method[view_len[Particle, True]], "view_particles_mut")
        m.def_py_c_function(py_method[view_len[Nested, False]], "view_nested")
        m.def_py_c_function(py_method[view_len[Arrays, False]], "view_arrays")
        m.def_py_c_function(py_method[view_len[OneField, False]], "view_one_field")
        bind_records[Particle](m, "Particles")
        bind_records[InnerPad](m, "InnerPads")
        bind_records[TrailingPad](m, "TrailingPads")
        bind_records[Nested](m, "NestedRecords")
        bind_records[Arrays](m, "ArrayRecords")
        bind_records[OneField](m, "OneFields")
        ref span_export = m.add_type[SpanExport]("SpanExport").def_py_init[SpanExport.py_init]()
        _ = span_export.def_method[SpanExport.live]("live")
        add_buffer_protocol[SpanExport](span_export)
        ref grid = m.add_type[ParticleGrid]("ParticleGrid").def_py_init[ParticleGrid.py_init]()
        add_buffer_protocol[ParticleGrid](grid)
        return finalize_module(m)
    except e:
        return module_init_error(e)
