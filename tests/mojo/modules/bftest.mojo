# Test producers for tests/mojo: every struct the acceptance tests exercise,
# in one module so that the test session compiles Mojo once.

from std.ffi import c_char
from std.os import abort
from std.python import Python, PythonObject
from std.python.bindings import PythonModuleBuilder
from std.sys.info import size_of

from bufferable import (
    Buffer,
    BufferFlags,
    Bufferable,
    ExportCounter,
    add_buffer_protocol,
    buffer_error,
    finalize_module,
    index_error,
    module_init_error,
    py_method,
    to_numpy,
    type_error,
    value_error,
)
from bufferable._private import RawPointer, get_global


# ===-----------------------------------------------------------------------===#
# A process-wide tally, so the tests can check counts across objects that are
# already gone (100,000 create/export/delete cycles).
# ===-----------------------------------------------------------------------===#


struct Tally:
    var created: Int
    var destroyed: Int
    var acquired: Int
    var released: Int


def _tally_init() -> Optional[RawPointer]:
    var p = alloc[Tally](1)
    p[].created = 0
    p[].destroyed = 0
    p[].acquired = 0
    p[].released = 0
    return RawPointer(unsafe_from_address=Int(p))


def _tally_destroy(p: Optional[RawPointer]):
    pass


def tally() -> ref[MutUntrackedOrigin] Tally:
    return get_global["bftest.tally", _tally_init, _tally_destroy]().value().unsafe_bitcast[Tally]()[]


def tally_py() raises -> PythonObject:
    ref t = tally()
    return Python.tuple(t.created, t.destroyed, t.acquired, t.released)


def stats_of(c: ExportCounter) raises -> PythonObject:
    return Python.tuple(c.live, c.acquired, c.released)


# ===-----------------------------------------------------------------------===#
# Matrix: 2-D float64, C-contiguous
# ===-----------------------------------------------------------------------===#


struct Matrix(Bufferable, Writable):
    var data: List[Float64]
    var shape: Array[Int64, 2]
    var exports: ExportCounter

    def __init__(out self, rows: Int, cols: Int):
        self.data = List[Float64](length=rows * cols, fill=0.0)
        for i in range(rows * cols):
            self.data[i] = Float64(i)
        self.shape = Array[Int64, 2](fill=0)
        self.shape[0] = Int64(rows)
        self.shape[1] = Int64(cols)
        self.exports = ExportCounter()
        tally().created += 1

    def __init__(out self, *, deinit move: Self):
        self.data = move.data^
        self.shape = move.shape^
        self.exports = move.exports^

    def __deinit__(deinit self):
        tally().destroyed += 1

    def write_to(self, mut w: Some[Writer]):
        w.write("Matrix(", self.shape[0], ", ", self.shape[1], ")")

    def write_repr_to(self, mut w: Some[Writer]):
        self.write_to(w)

    def __buffer__(mut self, flags: BufferFlags) raises -> Buffer:
        self.exports.acquire()
        tally().acquired += 1
        return Buffer(self.data.unsafe_ptr(), Span(self.shape))

    def __release_buffer__(mut self, buffer: Buffer):
        self.exports.release()
        tally().released += 1

    @staticmethod
    def py_init(out self: Matrix, args: PythonObject, kwargs: PythonObject) raises:
        var rows = Int(py=args[0])
        var cols = Int(py=args[1])
        if rows < 0 or cols < 0:
            raise Error("Matrix: negative shape")
        self = Matrix(rows, cols)

    @staticmethod
    def stats(self_ptr: Pointer[Matrix, MutUnsafeAnyOrigin]) raises -> PythonObject:
        return stats_of(self_ptr[].exports)

    @staticmethod
    def get(self_ptr: Pointer[Matrix, MutUnsafeAnyOrigin], i: PythonObject, j: PythonObject) raises -> PythonObject:
        return PythonObject(self_ptr[].data[Int(py=i) * Int(self_ptr[].shape[1]) + Int(py=j)])

    @staticmethod
    def set(self_ptr: Pointer[Matrix, MutUnsafeAnyOrigin], i: PythonObject, j: PythonObject, v: PythonObject) raises -> PythonObject:
        self_ptr[].data[Int(py=i) * Int(self_ptr[].shape[1]) + Int(py=j)] = Float64(py=v)
        return PythonObject(None)


# ===-----------------------------------------------------------------------===#
# Image: H x W x 3 float32, stored as 4-lane SIMD pixels, exported strided
# ===-----------------------------------------------------------------------===#


struct Image(Bufferable, Writable):
    var pixels: List[SIMD[DType.float32, 4]]
    var shape: Array[Int64, 3]
    var strides: Array[Int64, 3]
    var exports: ExportCounter

    def __init__(out self, height: Int, width: Int):
        self.pixels = List[SIMD[DType.float32, 4]](
            length=height * width, fill=SIMD[DType.float32, 4](0)
        )
        for i in range(height * width):
            var v = Float32(i)
            # lane 3 is padding: a sentinel the tests must never see
            self.pixels[i] = SIMD[DType.float32, 4](v, v + 0.25, v + 0.5, -1.0)
        self.shape = Array[Int64, 3](fill=0)
        self.shape[0] = Int64(height)
        self.shape[1] = Int64(width)
        self.shape[2] = 3
        self.strides = Array[Int64, 3](fill=0)
        comptime pixel = size_of[SIMD[DType.float32, 4]]()
        self.strides[0] = Int64(width * pixel)
        self.strides[1] = Int64(pixel)
        self.strides[2] = Int64(size_of[Float32]())
        self.exports = ExportCounter()

    def write_to(self, mut w: Some[Writer]):
        w.write("Image(", self.shape[0], ", ", self.shape[1], ")")

    def write_repr_to(self, mut w: Some[Writer]):
        self.write_to(w)

    def __buffer__(mut self, flags: BufferFlags) raises -> Buffer:
        self.exports.acquire()
        return Buffer(
            self.pixels.unsafe_ptr().unsafe_bitcast[Float32](),
            Span(self.shape),
            Span(self.strides),
        )

    def __release_buffer__(mut self, buffer: Buffer):
        self.exports.release()

    @staticmethod
    def py_init(out self: Image, args: PythonObject, kwargs: PythonObject) raises:
        self = Image(Int(py=args[0]), Int(py=args[1]))

    @staticmethod
    def stats(self_ptr: Pointer[Image, MutUnsafeAnyOrigin]) raises -> PythonObject:
        return stats_of(self_ptr[].exports)

    @staticmethod
    def pixel(self_ptr: Pointer[Image, MutUnsafeAnyOrigin], i: PythonObject, j: PythonObject) raises -> PythonObject:
        var p = self_ptr[].pixels[Int(py=i) * Int(self_ptr[].shape[1]) + Int(py=j)]
        return Python.tuple(p[0], p[1], p[2], p[3])


# ===-----------------------------------------------------------------------===#
# ReadOnlyBytes: a read-only byte buffer
# ===-----------------------------------------------------------------------===#


struct ReadOnlyBytes(Bufferable, Writable):
    var data: List[UInt8]
    var shape: Array[Int64, 1]
    var exports: ExportCounter

    def __init__(out self, n: Int):
        self.data = List[UInt8](length=n, fill=0)
        for i in range(n):
            self.data[i] = UInt8(i % 256)
        self.shape = Array[Int64, 1](fill=Int64(n))
        self.exports = ExportCounter()

    def write_to(self, mut w: Some[Writer]):
        w.write("ReadOnlyBytes(", self.shape[0], ")")

    def write_repr_to(self, mut w: Some[Writer]):
        self.write_to(w)

    def __buffer__(mut self, flags: BufferFlags) raises -> Buffer:
        self.exports.acquire()
        return Buffer(self.data.unsafe_ptr(), Span(self.shape), readonly=True)

    def __release_buffer__(mut self, buffer: Buffer):
        self.exports.release()

    @staticmethod
    def py_init(out self: ReadOnlyBytes, args: PythonObject, kwargs: PythonObject) raises:
        self = ReadOnlyBytes(Int(py=args[0]))

    @staticmethod
    def stats(self_ptr: Pointer[ReadOnlyBytes, MutUnsafeAnyOrigin]) raises -> PythonObject:
        return stats_of(self_ptr[].exports)


# ===-----------------------------------------------------------------------===#
# Vector: resizable Int32; resize refused while exported
# ===-----------------------------------------------------------------------===#


struct Vector(Bufferable, Writable):
    var data: List[Int32]
    var shape: Array[Int64, 1]
    var exports: ExportCounter

    def __init__(out self, n: Int):
        self.data = List[Int32](length=n, fill=0)
        for i in range(n):
            self.data[i] = Int32(i)
        self.shape = Array[Int64, 1](fill=Int64(n))
        self.exports = ExportCounter()

    def write_to(self, mut w: Some[Writer]):
        w.write("Vector(", len(self.data), ")")

    def write_repr_to(self, mut w: Some[Writer]):
        self.write_to(w)

    def __buffer__(mut self, flags: BufferFlags) raises -> Buffer:
        self.exports.acquire()
        return Buffer(self.data.unsafe_ptr(), Span(self.shape))

    def __release_buffer__(mut self, buffer: Buffer):
        self.exports.release()

    def resize(mut self, n: Int) raises:
        self.exports.check_unexported("resize a Vector")
        if n < 0:
            raise value_error(String("Vector.resize: negative size ", n))
        self.data.resize(n, Int32(-1))
        self.shape[0] = Int64(n)

    @staticmethod
    def py_init(out self: Vector, args: PythonObject, kwargs: PythonObject) raises:
        self = Vector(Int(py=args[0]))

    @staticmethod
    def stats(self_ptr: Pointer[Vector, MutUnsafeAnyOrigin]) raises -> PythonObject:
        return stats_of(self_ptr[].exports)

    @staticmethod
    def py_resize(mut py_self: PythonObject, mut args: PythonObject) raises -> PythonObject:
        var self_ptr = py_self.downcast_value_ptr[Vector]()
        if len(args) != 1:
            raise type_error("Vector.resize() takes exactly one argument")
        self_ptr[].resize(Int(py=args[0]))
        return PythonObject(None)

    @staticmethod
    def py_get(mut py_self: PythonObject, mut args: PythonObject) raises -> PythonObject:
        var self_ptr = py_self.downcast_value_ptr[Vector]()
        var i = Int(py=args[0])
        if i < 0 or i >= len(self_ptr[].data):
            raise index_error(String("Vector index ", i, " out of range"))
        return PythonObject(self_ptr[].data[i])


# ===-----------------------------------------------------------------------===#
# Scalar: a 0-d float64
# ===-----------------------------------------------------------------------===#


struct Scalar64(Bufferable, Writable):
    var value: Float64
    var exports: ExportCounter

    def __init__(out self, value: Float64):
        self.value = value
        self.exports = ExportCounter()

    def write_to(self, mut w: Some[Writer]):
        w.write("Scalar64(", self.value, ")")

    def write_repr_to(self, mut w: Some[Writer]):
        self.write_to(w)

    def __buffer__(mut self, flags: BufferFlags) raises -> Buffer:
        self.exports.acquire()
        return Buffer.scalar(Pointer(to=self.value))

    def __release_buffer__(mut self, buffer: Buffer):
        self.exports.release()

    @staticmethod
    def py_init(out self: Scalar64, args: PythonObject, kwargs: PythonObject) raises:
        self = Scalar64(Float64(py=args[0]))

    @staticmethod
    def stats(self_ptr: Pointer[Scalar64, MutUnsafeAnyOrigin]) raises -> PythonObject:
        return stats_of(self_ptr[].exports)

    @staticmethod
    def get(self_ptr: Pointer[Scalar64, MutUnsafeAnyOrigin]) raises -> PythonObject:
        return PythonObject(self_ptr[].value)


# ===-----------------------------------------------------------------------===#
# Refusing: __buffer__ raises (the error reaches Python as BufferError) when
# asked to, and a producer whose __buffer__ lies (negative shape).
# ===-----------------------------------------------------------------------===#


struct Refusing(Bufferable, Writable):
    var data: List[Float32]
    var shape: Array[Int64, 1]
    var mode: Int
    var exports: ExportCounter

    def __init__(out self, mode: Int):
        self.data = List[Float32](length=4, fill=1.0)
        self.shape = Array[Int64, 1](fill=4)
        if mode == 2:
            self.shape[0] = -3  # a lying descriptor: the core must refuse it
        self.mode = mode
        self.exports = ExportCounter()

    def write_to(self, mut w: Some[Writer]):
        w.write("Refusing(", self.mode, ")")

    def write_repr_to(self, mut w: Some[Writer]):
        self.write_to(w)

    def __buffer__(mut self, flags: BufferFlags) raises -> Buffer:
        if self.mode == 1:
            raise Error("Refusing does not export")
        if self.mode == 3:
            raise value_error("Refusing: mode 3 raises ValueError")
        self.exports.acquire()
        return Buffer(self.data.unsafe_ptr(), Span(self.shape))

    def __release_buffer__(mut self, buffer: Buffer):
        self.exports.release()

    @staticmethod
    def py_init(out self: Refusing, args: PythonObject, kwargs: PythonObject) raises:
        self = Refusing(Int(py=args[0]))

    @staticmethod
    def stats(self_ptr: Pointer[Refusing, MutUnsafeAnyOrigin]) raises -> PythonObject:
        return stats_of(self_ptr[].exports)


# ===-----------------------------------------------------------------------===#
# OnDevice: a 2 x 3 float32 whose descriptor places it on a DLPack device;
# bound with add_buffer_protocol before def_py_init (finalize_module must
# still guard that initializer).
# ===-----------------------------------------------------------------------===#


struct OnDevice(Bufferable, Writable):
    var data: List[Float32]
    var shape: Array[Int64, 2]
    var device_type: Int
    var device_id: Int
    var exports: ExportCounter

    def __init__(out self, device_type: Int, device_id: Int):
        self.data = List[Float32](length=6, fill=1.5)
        self.shape = Array[Int64, 2](fill=0)
        self.shape[0] = 2
        self.shape[1] = 3
        self.device_type = device_type
        self.device_id = device_id
        self.exports = ExportCounter()
        tally().created += 1

    def __init__(out self, *, deinit move: Self):
        self.data = move.data^
        self.shape = move.shape^
        self.device_type = move.device_type
        self.device_id = move.device_id
        self.exports = move.exports^

    def __deinit__(deinit self):
        tally().destroyed += 1

    def write_to(self, mut w: Some[Writer]):
        w.write("OnDevice(", self.device_type, ", ", self.device_id, ")")

    def write_repr_to(self, mut w: Some[Writer]):
        self.write_to(w)

    def __buffer__(mut self, flags: BufferFlags) raises -> Buffer:
        self.exports.acquire()
        var b = Buffer(self.data.unsafe_ptr(), Span(self.shape))
        b.device_type = Int32(self.device_type)
        b.device_id = Int32(self.device_id)
        return b^

    def __release_buffer__(mut self, buffer: Buffer):
        self.exports.release()

    @staticmethod
    def py_init(out self: OnDevice, args: PythonObject, kwargs: PythonObject) raises:
        self = OnDevice(Int(py=args[0]), Int(py=args[1]))

    @staticmethod
    def stats(self_ptr: Pointer[OnDevice, MutUnsafeAnyOrigin]) raises -> PythonObject:
        return stats_of(self_ptr[].exports)


# ===-----------------------------------------------------------------------===#
# Reshaping: a producer whose descriptor Python rewrites in place at will,
# even while it is exported (a producer that lies): its shape, strides, format
# text, item size and read-only flag, over a fixed block of 64 float64.
# ===-----------------------------------------------------------------------===#


struct Reshaping(Bufferable, Writable):
    var data: List[Float64]
    var shape: Array[Int64, 12]
    var strides: Array[Int64, 12]
    var format: Array[UInt8, 40]
    var ndim: Int
    var itemsize: Int
    var has_strides: Bool
    var readonly: Bool
    var exports: ExportCounter

    def __init__(out self):
        self.data = List[Float64](length=64, fill=0.0)
        for i in range(64):
            self.data[i] = Float64(i)
        self.shape = Array[Int64, 12](fill=0)
        self.strides = Array[Int64, 12](fill=0)
        self.format = Array[UInt8, 40](fill=0)
        self.format[0] = UInt8(ord("B"))
        self.ndim = 1
        self.shape[0] = 64
        self.itemsize = 1
        self.has_strides = False
        self.readonly = False
        self.exports = ExportCounter()

    def write_to(self, mut w: Some[Writer]):
        w.write("Reshaping(ndim=", self.ndim, ")")

    def write_repr_to(self, mut w: Some[Writer]):
        self.write_to(w)

    def __buffer__(mut self, flags: BufferFlags) raises -> Buffer:
        self.exports.acquire()
        var b = Buffer()
        b.data = RawPointer(unsafe_from_address=Int(self.data.unsafe_ptr()))
        b.itemsize = Int64(self.itemsize)
        b.format = Pointer(to=self.format[0]).unsafe_bitcast[c_char]().unsafe_origin_cast[MutUntrackedOrigin]()
        b.ndim = Int32(self.ndim)
        b.readonly = 1 if self.readonly else 0
        if self.ndim > 0:
            b.shape = Pointer(to=self.shape[0]).unsafe_origin_cast[MutUntrackedOrigin]()
        if self.has_strides:
            b.strides = Pointer(to=self.strides[0]).unsafe_origin_cast[MutUntrackedOrigin]()
        return b^

    def __release_buffer__(mut self, buffer: Buffer):
        self.exports.release()

    @staticmethod
    def py_init(out self: Reshaping, args: PythonObject, kwargs: PythonObject) raises:
        self = Reshaping()

    @staticmethod
    def stats(self_ptr: Pointer[Reshaping, MutUnsafeAnyOrigin]) raises -> PythonObject:
        return stats_of(self_ptr[].exports)

    @staticmethod
    def py_describe(mut py_self: PythonObject, mut args: PythonObject) raises -> PythonObject:
        """describe(shape, strides or None, format, itemsize, readonly):
        rewrites the descriptor in place, exported or not."""
        var self_ptr = py_self.downcast_value_ptr[Reshaping]()
        if len(args) != 5:
            raise type_error("Reshaping.describe() takes 5 arguments")
        ref r = self_ptr[]
        var ndim = len(args[0])
        var text = String(py=args[2])
        if ndim > 12 or text.byte_length() >= 40:
            raise value_error("Reshaping.describe: at most 12 dimensions and 39 format bytes")
        r.ndim = ndim
        for i in range(ndim):
            r.shape[i] = Int64(Int(py=args[0][i]))
        r.has_strides = not (args[1] is None)
        if r.has_strides:
            for i in range(ndim):
                r.strides[i] = Int64(Int(py=args[1][i]))
        var bytes = text.as_bytes()
        for i in range(len(bytes)):
            r.format[i] = bytes[i]
        r.format[len(bytes)] = 0
        r.itemsize = Int(py=args[3])
        r.readonly = Bool(py=args[4])
        return PythonObject(None)


# ===-----------------------------------------------------------------------===#
# Mismatched: a descriptor built from a strides (mode 0) or suboffsets
# (mode 1) span shorter than its shape.
# ===-----------------------------------------------------------------------===#


struct Mismatched(Bufferable, Writable):
    var data: List[Float64]
    var shape: Array[Int64, 3]
    var short: Array[Int64, 2]
    var mode: Int
    var exports: ExportCounter

    def __init__(out self, mode: Int):
        self.data = List[Float64](length=8, fill=0.0)
        self.shape = Array[Int64, 3](fill=2)
        self.short = Array[Int64, 2](fill=-1)
        if mode == 0:
            self.short[0] = 32
            self.short[1] = 16
        self.mode = mode
        self.exports = ExportCounter()

    def write_to(self, mut w: Some[Writer]):
        w.write("Mismatched(", self.mode, ")")

    def write_repr_to(self, mut w: Some[Writer]):
        self.write_to(w)

    def __buffer__(mut self, flags: BufferFlags) raises -> Buffer:
        var b: Buffer
        if self.mode == 0:
            b = Buffer(self.data.unsafe_ptr(), Span(self.shape), Span(self.short))
        else:
            b = Buffer(self.data.unsafe_ptr(), Span(self.shape)).with_suboffsets(Span(self.short))
        self.exports.acquire()  # counted once the descriptor is made
        return b^

    def __release_buffer__(mut self, buffer: Buffer):
        self.exports.release()

    @staticmethod
    def py_init(out self: Mismatched, args: PythonObject, kwargs: PythonObject) raises:
        self = Mismatched(Int(py=args[0]))

    @staticmethod
    def stats(self_ptr: Pointer[Mismatched, MutUnsafeAnyOrigin]) raises -> PythonObject:
        return stats_of(self_ptr[].exports)


# ===-----------------------------------------------------------------------===#
# One struct per DType of the design's table
# ===-----------------------------------------------------------------------===#


struct Typed[dtype: DType](Bufferable, Writable):
    var data: List[Scalar[Self.dtype]]
    var shape: Array[Int64, 1]
    var exports: ExportCounter

    def __init__(out self, n: Int):
        self.data = List[Scalar[Self.dtype]](length=n, fill=Scalar[Self.dtype](0))
        for i in range(n):
            comptime if Self.dtype == DType.bool:
                self.data[i] = rebind[Scalar[Self.dtype]](Scalar[DType.bool](i % 2 == 1))
            else:
                self.data[i] = Scalar[Self.dtype](i)
        self.shape = Array[Int64, 1](fill=Int64(n))
        self.exports = ExportCounter()

    def write_to(self, mut w: Some[Writer]):
        w.write("Typed[", Self.dtype, "](", len(self.data), ")")

    def write_repr_to(self, mut w: Some[Writer]):
        self.write_to(w)

    def __buffer__(mut self, flags: BufferFlags) raises -> Buffer:
        self.exports.acquire()
        return Buffer(self.data.unsafe_ptr(), Span(self.shape))

    def __release_buffer__(mut self, buffer: Buffer):
        self.exports.release()

    @staticmethod
    def py_init(out self: Typed[Self.dtype], args: PythonObject, kwargs: PythonObject) raises:
        self = Typed[Self.dtype](Int(py=args[0]))

    @staticmethod
    def stats(self_ptr: Pointer[Typed[Self.dtype], MutUnsafeAnyOrigin]) raises -> PythonObject:
        return stats_of(self_ptr[].exports)


def bind_typed[dtype: DType](mut m: PythonModuleBuilder, name: StaticString) raises:
    ref tb = m.add_type[Typed[dtype]](name).def_py_init[Typed[dtype].py_init]()
    _ = tb.def_method[Typed[dtype].stats]("stats")
    add_buffer_protocol[Typed[dtype]](tb)


# ===-----------------------------------------------------------------------===#
# Unexported: Bufferable, bound, but never given the buffer protocol
# ===-----------------------------------------------------------------------===#


struct Unexported(Bufferable, Writable):
    var x: Float64

    def __init__(out self):
        self.x = 0.0

    def write_to(self, mut w: Some[Writer]):
        w.write("Unexported()")

    def __buffer__(mut self, flags: BufferFlags) raises -> Buffer:
        return Buffer.scalar(Pointer(to=self.x))

    def __release_buffer__(mut self, buffer: Buffer):
        pass


# ===-----------------------------------------------------------------------===#
# From Mojo: to_numpy
# ===-----------------------------------------------------------------------===#


def matrix_to_numpy(rows: PythonObject, cols: PythonObject) raises -> PythonObject:
    var m = Matrix(Int(py=rows), Int(py=cols))
    for i in range(len(m.data)):
        m.data[i] = Float64(i) * 0.5
    return to_numpy(m^)


def image_to_numpy(h: PythonObject, w: PythonObject) raises -> PythonObject:
    return to_numpy(Image(Int(py=h), Int(py=w)))


def unexported_to_numpy_py(mut module: PythonObject, mut args: PythonObject) raises -> PythonObject:
    return to_numpy(Unexported())


@export
def PyInit_bftest() abi("C") -> PythonObject:
    try:
        var m = PythonModuleBuilder("bftest")
        m.def_function[tally_py]("tally")
        m.def_function[matrix_to_numpy]("matrix_to_numpy")
        m.def_function[image_to_numpy]("image_to_numpy")
        m.def_py_c_function(py_method[unexported_to_numpy_py], "unexported_to_numpy")

        ref matrix = m.add_type[Matrix]("Matrix").def_py_init[Matrix.py_init]()
        _ = matrix.def_method[Matrix.stats]("stats")
        _ = matrix.def_method[Matrix.get]("get")
        _ = matrix.def_method[Matrix.set]("set")
        add_buffer_protocol[Matrix](matrix)

        ref image = m.add_type[Image]("Image").def_py_init[Image.py_init]()
        _ = image.def_method[Image.stats]("stats")
        _ = image.def_method[Image.pixel]("pixel")
        add_buffer_protocol[Image](image)

        ref ro = m.add_type[ReadOnlyBytes]("ReadOnlyBytes").def_py_init[ReadOnlyBytes.py_init]()
        _ = ro.def_method[ReadOnlyBytes.stats]("stats")
        add_buffer_protocol[ReadOnlyBytes](ro)

        ref vector = m.add_type[Vector]("Vector").def_py_init[Vector.py_init]()
        _ = vector.def_method[Vector.stats]("stats")
        _ = vector.def_py_c_method(py_method[Vector.py_resize], "resize")
        _ = vector.def_py_c_method(py_method[Vector.py_get], "get")
        add_buffer_protocol[Vector](vector)

        ref scalar = m.add_type[Scalar64]("Scalar64").def_py_init[Scalar64.py_init]()
        _ = scalar.def_method[Scalar64.stats]("stats")
        _ = scalar.def_method[Scalar64.get]("get")
        add_buffer_protocol[Scalar64](scalar)

        ref refusing = m.add_type[Refusing]("Refusing").def_py_init[Refusing.py_init]()
        _ = refusing.def_method[Refusing.stats]("stats")
        add_buffer_protocol[Refusing](refusing)

        _ = m.add_type[Unexported]("Unexported")

        ref on_device = m.add_type[OnDevice]("OnDevice")
        add_buffer_protocol[OnDevice](on_device)
        _ = on_device.def_py_init[OnDevice.py_init]()
        _ = on_device.def_method[OnDevice.stats]("stats")

        ref reshaping = m.add_type[Reshaping]("Reshaping").def_py_init[Reshaping.py_init]()
        _ = reshaping.def_method[Reshaping.stats]("stats")
        _ = reshaping.def_py_c_method(py_method[Reshaping.py_describe], "describe")
        add_buffer_protocol[Reshaping](reshaping)

        ref mismatched = m.add_type[Mismatched]("Mismatched").def_py_init[Mismatched.py_init]()
        _ = mismatched.def_method[Mismatched.stats]("stats")
        add_buffer_protocol[Mismatched](mismatched)

        bind_typed[DType.bool](m, "Bool")
        bind_typed[DType.int8](m, "Int8")
        bind_typed[DType.uint8](m, "UInt8")
        bind_typed[DType.int16](m, "Int16")
        bind_typed[DType.uint16](m, "UInt16")
        bind_typed[DType.int32](m, "Int32")
        bind_typed[DType.uint32](m, "UInt32")
        bind_typed[DType.int64](m, "Int64")
        bind_typed[DType.uint64](m, "UInt64")
        bind_typed[DType.float16](m, "Float16")
        bind_typed[DType.float32](m, "Float32")
        bind_typed[DType.float64](m, "Float64")
        return finalize_module(m)
    except e:
        return module_init_error(e)
