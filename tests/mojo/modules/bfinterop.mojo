# Test module of tests/mojo/test_mojo_interop.py and
# benchmarks/bench_interop.py: Mojo producers that Python consumes through
# DLPack and Arrow (their __dlpack__ / __arrow_c_*__ come from the core via
# finalize_module), and MemoryViews that Mojo builds from DLPack tensors and
# Arrow arrays. It lives in its own folder so that edits to other test modules
# do not invalidate its cached build (the cache key covers sibling files).
#
# Functions are bound through `py_method`, so bufferable's errors reach
# Python with their class (BufferError, ValueError, ...).

from std.os import abort
from std.python import Python, PythonObject
from std.python.bindings import PythonModuleBuilder
from std.memory import bitcast
from std.sys.info import size_of

from bufferable import (
    Buffer,
    BufferFlags,
    Bufferable,
    ExportCounter,
    add_buffer_protocol,
    finalize_module,
    index_error,
    module_init_error,
    py_method,
    value_error,
)
from bufferable.layout import MemoryLayout
from bufferable.memory_view import MemoryView

comptime C = MemoryLayout.C_CONTIGUOUS


def _stats(c: ExportCounter) raises -> PythonObject:
    return Python.tuple(c.live, c.acquired, c.released)


def _as_float[dtype: DType](x: Scalar[dtype]) -> Float64:
    """The value as a Python-ready float (bool: 0/1). Mojo 1.2.0 cannot
    convert float8_e3m4 (the cast is "not implemented"): for it, the raw bits
    as an integer."""
    comptime if dtype == DType.bool:
        return 1.0 if rebind[Scalar[DType.bool]](x) else 0.0
    elif dtype == DType.float8_e3m4:
        return Float64(Int(bitcast[DType.uint8, 1](x)))
    else:
        return x.cast[DType.float64]()


def _is_float8[dtype: DType]() -> Bool:
    return (
        dtype == DType.float8_e3m4
        or dtype == DType.float8_e4m3fn
        or dtype == DType.float8_e4m3fnuz
        or dtype == DType.float8_e5m2
        or dtype == DType.float8_e5m2fnuz
        or dtype == DType.float8_e8m0fnu
    )


def initial_value[dtype: DType](k: Int) -> Scalar[dtype]:
    """What element k of a fresh Grid holds: k % 2 for bool, 2 ** (k % 4)
    for float8 types (exact in all of them, even e8m0fnu, which has no zero),
    else k."""
    comptime if dtype == DType.bool:
        return rebind[Scalar[dtype]](Scalar[DType.bool](k % 2 == 1))
    elif dtype == DType.float8_e3m4:
        # 2 ** (k % 4) spelled in bits (exponent bias 3, 4 mantissa bits).
        return bitcast[dtype, 1](UInt8((3 + k % 4) << 4))
    elif _is_float8[dtype]():
        return Scalar[DType.float32](Float32(1 << (k % 4))).cast[dtype]()
    else:
        return Scalar[DType.float32](Float32(k)).cast[dtype]()


# ===-----------------------------------------------------------------------===#
# Grid: a 1-D or 2-D array of any element type, C or Fortran order,
# optionally read-only; counts its exports.
# ===-----------------------------------------------------------------------===#


struct Grid[dtype: DType](Bufferable, Writable):
    var data: List[Scalar[Self.dtype]]
    var shape: Array[Int64, 2]
    var strides: Array[Int64, 2]
    var ndim: Int
    var readonly: Bool
    var exports: ExportCounter

    def __init__(out self, shape: List[Int], fortran: Bool, readonly: Bool) raises:
        if len(shape) < 1 or len(shape) > 2:
            raise value_error("Grid: shape must have 1 or 2 extents")
        var n = 1
        for e in shape:
            if e < 0:
                raise value_error("Grid: negative extent")
            n *= e
        self.data = List[Scalar[Self.dtype]](length=n, fill=Scalar[Self.dtype](0))
        for k in range(n):
            self.data[k] = initial_value[Self.dtype](k)
        self.ndim = len(shape)
        self.shape = Array[Int64, 2](fill=0)
        self.strides = Array[Int64, 2](fill=0)
        comptime itemsize = size_of[Scalar[Self.dtype]]()
        for d in range(self.ndim):
            self.shape[d] = Int64(shape[d])
        if self.ndim == 1:
            self.strides[0] = Int64(itemsize)
        elif fortran:
            self.strides[0] = Int64(itemsize)
            self.strides[1] = Int64(itemsize * shape[0])
        else:
            self.strides[0] = Int64(itemsize * shape[1])
            self.strides[1] = Int64(itemsize)
        self.readonly = readonly
        self.exports = ExportCounter()

    def write_to(self, mut w: Some[Writer]):
        w.write("Grid[", Self.dtype, "](ndim=", self.ndim, ")")

    def write_repr_to(self, mut w: Some[Writer]):
        self.write_to(w)

    def __buffer__(mut self, flags: BufferFlags) raises -> Buffer:
        self.exports.acquire()
        return Buffer(
            self.data.unsafe_ptr(),
            Span(self.shape)[0 : self.ndim],
            Span(self.strides)[0 : self.ndim],
            readonly=self.readonly,
        )

    def __release_buffer__(mut self, buffer: Buffer):
        self.exports.release()

    @staticmethod
    def py_init(out self: Grid[Self.dtype], args: PythonObject, kwargs: PythonObject) raises:
        var shape = List[Int]()
        for e in args[0]:
            shape.append(Int(py=e))
        var fortran = len(args) > 1 and Bool(py=args[1])
        var readonly = len(args) > 2 and Bool(py=args[2])
        self = Grid[Self.dtype](shape, fortran, readonly)

    @staticmethod
    def stats(self_ptr: Pointer[Grid[Self.dtype], MutUnsafeAnyOrigin]) raises -> PythonObject:
        """(live, acquired, released) exports."""
        return _stats(self_ptr[].exports)

    @staticmethod
    def address(self_ptr: Pointer[Grid[Self.dtype], MutUnsafeAnyOrigin]) raises -> PythonObject:
        """The address of the storage."""
        return Int(self_ptr[].data.unsafe_ptr())

    @staticmethod
    def values(self_ptr: Pointer[Grid[Self.dtype], MutUnsafeAnyOrigin]) raises -> PythonObject:
        """The storage, in memory order, as Python floats (Mojo's cast)."""
        var l = Python.list()
        for x in self_ptr[].data:
            l.append(_as_float[Self.dtype](x))
        return l

    @staticmethod
    def put(
        self_ptr: Pointer[Grid[Self.dtype], MutUnsafeAnyOrigin], k: PythonObject, v: PythonObject
    ) raises -> PythonObject:
        """Stores float v (cast to dtype) at storage index k."""
        var i = Int(py=k)
        if i < 0 or i >= len(self_ptr[].data):
            raise index_error("Grid.put: index out of range")
        comptime if Self.dtype == DType.bool:
            self_ptr[].data[i] = rebind[Scalar[Self.dtype]](Scalar[DType.bool](Float64(py=v) != 0))
        elif Self.dtype == DType.float8_e3m4:
            self_ptr[].data[i] = bitcast[Self.dtype, 1](UInt8(Int(py=v)))
        else:
            self_ptr[].data[i] = Scalar[DType.float64](Float64(py=v)).cast[Self.dtype]()
        return None


def bind_grid[dtype: DType](mut m: PythonModuleBuilder, name: StaticString) raises:
    ref tb = m.add_type[Grid[dtype]](name).def_py_init[Grid[dtype].py_init]()
    _ = tb.def_method[Grid[dtype].stats]("stats")
    _ = tb.def_method[Grid[dtype].address]("address")
    _ = tb.def_method[Grid[dtype].values]("values")
    _ = tb.def_method[Grid[dtype].put]("put")
    add_buffer_protocol[Grid[dtype]](tb)


# ===-----------------------------------------------------------------------===#
# Packed: n float32 items 5 bytes apart (a layout the buffer protocol can
# describe and DLPack cannot: strides count elements there).
# ===-----------------------------------------------------------------------===#


struct Packed(Bufferable, Writable):
    var bytes: List[UInt8]
    var shape: Array[Int64, 1]
    var strides: Array[Int64, 1]
    var exports: ExportCounter

    def __init__(out self, n: Int):
        self.bytes = List[UInt8](length=5 * n + 3, fill=0)
        self.shape = Array[Int64, 1](fill=Int64(n))
        self.strides = Array[Int64, 1](fill=5)
        self.exports = ExportCounter()

    def write_to(self, mut w: Some[Writer]):
        w.write("Packed(", self.shape[0], ")")

    def write_repr_to(self, mut w: Some[Writer]):
        self.write_to(w)

    def __buffer__(mut self, flags: BufferFlags) raises -> Buffer:
        self.exports.acquire()
        return Buffer(
            self.bytes.unsafe_ptr().unsafe_bitcast[Float32](),
            Span(self.shape),
            Span(self.strides),
        )

    def __release_buffer__(mut self, buffer: Buffer):
        self.exports.release()

    @staticmethod
    def py_init(out self: Packed, args: PythonObject, kwargs: PythonObject) raises:
        self = Packed(Int(py=args[0]))

    @staticmethod
    def stats(self_ptr: Pointer[Packed, MutUnsafeAnyOrigin]) raises -> PythonObject:
        return _stats(self_ptr[].exports)


# ===-----------------------------------------------------------------------===#
# MemoryViews built from DLPack and Arrow
# ===-----------------------------------------------------------------------===#


comptime View2F32 = MemoryView[DType.float32, 2]
comptime View2F32RO = MemoryView[DType.float32, 2, mut=False]
# float32, not float64: memory_view_module binds MemoryView[float64, 1], and Mojo 1.2.0 binds a
# Mojo type to one Python type per process (the second import fails).
comptime View1F32 = MemoryView[DType.float32, 1]
comptime View1F64RO = MemoryView[DType.float64, 1, mut=False]


def _tuple[rank: Int](values: Array[Int, rank]) raises -> PythonObject:
    var l = Python.list()
    comptime for d in range(rank):
        l.append(values[d])
    return Python.import_module("builtins").tuple(l)


def _info[
    dtype: DType, rank: Int, layout: MemoryLayout, mut: Bool
](v: MemoryView[dtype, rank, layout=layout, mut=mut]) raises -> PythonObject:
    """shape, strides (elements), address and the values in C order (as
    floats) of a 1-D or 2-D view."""
    comptime assert rank == 1 or rank == 2
    var d = Python.dict()
    d["shape"] = _tuple(v.shape())
    var strides = Array[Int, rank](fill=0)
    comptime for k in range(rank):
        strides[k] = v.stride(k)
    d["strides"] = _tuple(strides)
    d["address"] = Int(v.unsafe_ptr())
    var values = Python.list()
    comptime if rank == 1:
        for i in range(v.dim(0)):
            values.append(_as_float[dtype](v.unsafe_get(i)))
    else:
        for i in range(v.dim(0)):
            for j in range(v.dim(1)):
                values.append(_as_float[dtype](v.unsafe_get(i, j)))
    d["values"] = values
    return d


def dlpack_f32_2d(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    return _info(View2F32.from_dlpack(a[0]))


def dlpack_f32_2d_ro(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    return _info(View2F32RO.from_dlpack(a[0]))


def dlpack_f32_2d_c(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    return _info(MemoryView[DType.float32, 2, layout=C, mut=False].from_dlpack(a[0]))


def dlpack_f64_1d(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    return _info(MemoryView[DType.float64, 1].from_dlpack(a[0]))


def dlpack_values[
    dtype: DType, rank: Int
](mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    return _info(MemoryView[dtype, rank, mut=False].from_dlpack(a[0]))


def buffer_values[
    dtype: DType, rank: Int
](mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """The same through the buffer protocol (`MemoryView(obj)`)."""
    return _info(MemoryView[dtype, rank, mut=False](a[0]))


def dlpack_scale_f32_2d(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """Multiplies v[i, j] by a factor through a mutable view of a DLPack tensor."""
    var v = View2F32.from_dlpack(a[0])
    var factor = Float32(Float64(py=a[1]))
    for i in range(v.dim(0)):
        for j in range(v.dim(1)):
            v[i, j] = v[i, j] * factor
    return None


def dlpack_hold_f32_2d(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """A mutable view of a DLPack tensor, as a Python object (it exports the
    tensor's memory in turn)."""
    return PythonObject(alloc=View2F32.from_dlpack(a[0]))


def dlpack_hold_slice_f32_2d(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """Returns v[1:, ::2] of a DLPack tensor; the parent view dies here, the slice
    keeps the tensor."""
    var v = View2F32.from_dlpack(a[0])
    return PythonObject(alloc=v[1:, ::2])


def arrow_f64(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    return _info(View1F64RO.from_arrow(a[0]))


def arrow_values[dtype: DType](mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    return _info(MemoryView[dtype, 1, mut=False].from_arrow(a[0]))


def arrow_f64_2d(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """A 2-D view of an Arrow array: refused (rank)."""
    return _info(MemoryView[DType.float64, 2, mut=False].from_arrow(a[0]))


def arrow_hold_f64(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """A view of an Arrow array's values, as a Python object; its reversed
    slice too, if a[1] is true."""
    var v = View1F64RO.from_arrow(a[0])
    if len(a) > 1 and Bool(py=a[1]):
        return PythonObject(alloc=v[::-1])
    return PythonObject(alloc=v^)


def arrow_sum_f64(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """The sum of an Arrow float64 array, through a C-contiguous view."""
    var v = MemoryView[DType.float64, 1, layout=C, mut=False].from_arrow(a[0])
    var total = 0.0
    for i in range(len(v)):
        total += v.unsafe_get(i)
    return total


# ===-----------------------------------------------------------------------===#
# MemoryViews of Python buffers, handed back to Python
# ===-----------------------------------------------------------------------===#


def view_f32_2d(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    return PythonObject(alloc=View2F32(a[0]))


def view_f32_2d_ro(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    return PythonObject(alloc=View2F32RO(a[0]))


def view_f32_2d_transposed(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    return PythonObject(alloc=View2F32(a[0]).permute(1, 0))


def view_f32_1d(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    return PythonObject(alloc=View1F32(a[0]))


def view_f32_1d_step(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """Returns v[::2], a strided 1-D view (Arrow refuses it)."""
    return PythonObject(alloc=View1F32(a[0])[::2])


def view_bf16_2d(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    return PythonObject(alloc=MemoryView[DType.bfloat16, 2](a[0]))


def view_f8e4m3fn_1d(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    return PythonObject(alloc=MemoryView[DType.float8_e4m3fn, 1](a[0]))


def view_exports[
    dtype: DType, rank: Int, mut: Bool
](mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """Live exports of a bound MemoryView[dtype, rank, mut=mut] object."""
    return a[0].downcast_value_ptr[MemoryView[dtype, rank, mut=mut]]()[].export_count()


# ===-----------------------------------------------------------------------===#
# The module
# ===-----------------------------------------------------------------------===#


@export
def PyInit_bfinterop() abi("C") -> PythonObject:
    try:
        var m = PythonModuleBuilder("bfinterop")
        bind_grid[DType.bool](m, "GridBool")
        bind_grid[DType.int64](m, "GridI64")
        bind_grid[DType.float32](m, "GridF32")
        bind_grid[DType.float64](m, "GridF64")
        bind_grid[DType.bfloat16](m, "GridBF16")
        bind_grid[DType.float8_e3m4](m, "GridF8E3M4")
        bind_grid[DType.float8_e4m3fn](m, "GridF8E4M3FN")
        bind_grid[DType.float8_e4m3fnuz](m, "GridF8E4M3FNUZ")
        bind_grid[DType.float8_e5m2](m, "GridF8E5M2")
        bind_grid[DType.float8_e5m2fnuz](m, "GridF8E5M2FNUZ")
        bind_grid[DType.float8_e8m0fnu](m, "GridF8E8M0FNU")

        ref packed = m.add_type[Packed]("Packed").def_py_init[Packed.py_init]()
        _ = packed.def_method[Packed.stats]("stats")
        add_buffer_protocol[Packed](packed)

        ref t1 = m.add_type[View2F32]("View2F32")
        add_buffer_protocol[View2F32](t1)
        ref t2 = m.add_type[View2F32RO]("View2F32RO")
        add_buffer_protocol[View2F32RO](t2)
        ref t3 = m.add_type[View1F32]("View1F32")
        add_buffer_protocol[View1F32](t3)
        ref t4 = m.add_type[View1F64RO]("View1F64RO")
        add_buffer_protocol[View1F64RO](t4)
        ref t5 = m.add_type[MemoryView[DType.bfloat16, 2]]("View2BF16")
        add_buffer_protocol[MemoryView[DType.bfloat16, 2]](t5)
        ref t6 = m.add_type[MemoryView[DType.float8_e4m3fn, 1]]("View1F8E4M3FN")
        add_buffer_protocol[MemoryView[DType.float8_e4m3fn, 1]](t6)

        m.def_py_c_function(py_method[dlpack_f32_2d], "dlpack_f32_2d")
        m.def_py_c_function(py_method[dlpack_f32_2d_ro], "dlpack_f32_2d_ro")
        m.def_py_c_function(py_method[dlpack_f32_2d_c], "dlpack_f32_2d_c")
        m.def_py_c_function(py_method[dlpack_f64_1d], "dlpack_f64_1d")
        m.def_py_c_function(py_method[dlpack_scale_f32_2d], "dlpack_scale_f32_2d")
        m.def_py_c_function(py_method[dlpack_hold_f32_2d], "dlpack_hold_f32_2d")
        m.def_py_c_function(py_method[dlpack_hold_slice_f32_2d], "dlpack_hold_slice_f32_2d")
        m.def_py_c_function(py_method[dlpack_values[DType.bool, 1]], "dlpack_bool_1d")
        m.def_py_c_function(py_method[dlpack_values[DType.int64, 1]], "dlpack_i64_1d")
        m.def_py_c_function(py_method[dlpack_values[DType.float16, 1]], "dlpack_f16_1d")
        m.def_py_c_function(py_method[dlpack_values[DType.bfloat16, 2]], "dlpack_bf16_2d")
        m.def_py_c_function(py_method[dlpack_values[DType.float8_e4m3fn, 1]], "dlpack_f8e4m3fn_1d")
        m.def_py_c_function(py_method[dlpack_values[DType.float8_e5m2, 1]], "dlpack_f8e5m2_1d")
        m.def_py_c_function(py_method[buffer_values[DType.bfloat16, 2]], "buffer_bf16_2d")
        m.def_py_c_function(py_method[buffer_values[DType.float8_e3m4, 1]], "buffer_f8e3m4_1d")
        m.def_py_c_function(py_method[buffer_values[DType.float8_e4m3fn, 1]], "buffer_f8e4m3fn_1d")
        m.def_py_c_function(py_method[buffer_values[DType.float8_e4m3fnuz, 1]], "buffer_f8e4m3fnuz_1d")
        m.def_py_c_function(py_method[buffer_values[DType.float8_e5m2, 1]], "buffer_f8e5m2_1d")
        m.def_py_c_function(py_method[buffer_values[DType.float8_e5m2fnuz, 1]], "buffer_f8e5m2fnuz_1d")
        m.def_py_c_function(py_method[buffer_values[DType.float8_e8m0fnu, 1]], "buffer_f8e8m0fnu_1d")

        m.def_py_c_function(py_method[arrow_f64], "arrow_f64")
        m.def_py_c_function(py_method[arrow_values[DType.int32]], "arrow_i32")
        m.def_py_c_function(py_method[arrow_values[DType.uint8]], "arrow_u8")
        m.def_py_c_function(py_method[arrow_values[DType.float32]], "arrow_f32")
        m.def_py_c_function(py_method[arrow_values[DType.bool]], "arrow_bool")
        m.def_py_c_function(py_method[arrow_f64_2d], "arrow_f64_2d")
        m.def_py_c_function(py_method[arrow_hold_f64], "arrow_hold_f64")
        m.def_py_c_function(py_method[arrow_sum_f64], "arrow_sum_f64")

        m.def_py_c_function(py_method[view_f32_2d], "view_f32_2d")
        m.def_py_c_function(py_method[view_f32_2d_ro], "view_f32_2d_ro")
        m.def_py_c_function(py_method[view_f32_2d_transposed], "view_f32_2d_transposed")
        m.def_py_c_function(py_method[view_f32_1d], "view_f32_1d")
        m.def_py_c_function(py_method[view_f32_1d_step], "view_f32_1d_step")
        m.def_py_c_function(py_method[view_bf16_2d], "view_bf16_2d")
        m.def_py_c_function(py_method[view_f8e4m3fn_1d], "view_f8e4m3fn_1d")
        m.def_py_c_function(py_method[view_exports[DType.float32, 2, True]], "exports_f32_2d")
        m.def_py_c_function(py_method[view_exports[DType.float32, 2, False]], "exports_f32_2d_ro")
        m.def_py_c_function(py_method[view_exports[DType.float32, 1, True]], "exports_f32_1d")
        m.def_py_c_function(py_method[view_exports[DType.float64, 1, False]], "exports_f64_1d_ro")
        return finalize_module(m)
    except e:
        return module_init_error(e)
