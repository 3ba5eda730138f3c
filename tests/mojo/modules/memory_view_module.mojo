# Test entry points for bufferable.MemoryView (tests/mojo/test_memory_view.py
# and benchmarks/bench_memory_view.py): one module, built once per session.
#
# Every function is bound through `py_method`, so bufferable's errors reach
# Python with their class (the tests check classes and messages).

from std.python import Python, PythonObject
from std.python.bindings import PythonModuleBuilder
from std.python.numpy import from_numpy_tensor
from std.os import abort
from std.time import perf_counter_ns
from std.sys import simd_width_of

from bufferable import (
    Buffer,
    BufferFlags,
    add_buffer_protocol,
    finalize_module,
    py_method,
    to_numpy,
)
from bufferable.layout import MemoryLayout
from bufferable.memory_view import MemoryView

comptime C = MemoryLayout.C_CONTIGUOUS
comptime F = MemoryLayout.F_CONTIGUOUS

comptime View1D = MemoryView[DType.float64, 1]
comptime View2D = MemoryView[DType.float64, 2]
comptime View3D = MemoryView[DType.float64, 3]
comptime CView2D = MemoryView[DType.float64, 2, layout=C]
comptime FView2D = MemoryView[DType.float64, 2, layout=F]
comptime ReadOnlyBytes = MemoryView[DType.uint8, 1, mut=False]
comptime Float32View = MemoryView[DType.float32, 1]


# ===-----------------------------------------------------------------------===#
# Helpers
# ===-----------------------------------------------------------------------===#


def _slice(obj: PythonObject) raises -> Slice:
    """A Mojo Slice from a Python slice object (or None: everything)."""
    if obj is None:
        return Slice(None, None, None)
    var start: Optional[Int] = None
    var stop: Optional[Int] = None
    var step: Optional[Int] = None
    if not (obj.start is None):
        start = Int(py=obj.start)
    if not (obj.stop is None):
        stop = Int(py=obj.stop)
    if not (obj.step is None):
        step = Int(py=obj.step)
    return Slice(start, stop, step)


def _tuple[rank: Int](values: Array[Int, rank]) raises -> PythonObject:
    var l = Python.list()
    comptime for d in range(rank):
        l.append(values[d])
    return Python.import_module("builtins").tuple(l)


def _info[
    rank: Int, layout: MemoryLayout, mut: Bool
](v: MemoryView[DType.float64, rank, layout=layout, mut=mut]) raises -> PythonObject:
    var d = Python.dict()
    d["shape"] = _tuple(v.shape())
    var strides = Array[Int, rank](fill=0)
    comptime for k in range(rank):
        strides[k] = v.stride(k)
    d["strides"] = _tuple(strides)
    d["byte_strides"] = _tuple(v.byte_strides())
    d["aligned"] = v.is_aligned()
    d["c_contiguous"] = v.is_c_contiguous()
    d["f_contiguous"] = v.is_f_contiguous()
    d["address"] = Int(v.unsafe_ptr())
    d["repr"] = String(v)
    return d


def _tolist2[
    layout: MemoryLayout, mut: Bool
](v: MemoryView[DType.float64, 2, layout=layout, mut=mut]) raises -> PythonObject:
    var rows = Python.list()
    for i in range(v.dim(0)):
        var row = Python.list()
        for j in range(v.dim(1)):
            row.append(v[i, j])
        rows.append(row)
    return rows


# ===-----------------------------------------------------------------------===#
# Construction, geometry, layouts
# ===-----------------------------------------------------------------------===#


def info_1d(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    return _info(View1D(a[0]))


def info_2d(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    return _info(View2D(a[0]))


def info_2d_c(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    return _info(CView2D(a[0]))


def info_2d_f(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    return _info(FView2D(a[0]))


def info_2d_readonly(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    return _info(MemoryView[DType.float64, 2, mut=False](a[0]))


def tolist_2d(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    return _tolist2(View2D(a[0]))


def tolist_2d_c(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    return _tolist2(CView2D(a[0]))


def tolist_2d_f(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    return _tolist2(FView2D(a[0]))


def tolist_3d(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    var v = View3D(a[0])
    var out = Python.list()
    for i in range(v.dim(0)):
        for j in range(v.dim(1)):
            for k in range(v.dim(2)):
                out.append(v[i, j, k])
    return out


def view_2d(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """The view itself, as a Python object (exports its memory)."""
    return PythonObject(alloc=View2D(a[0]))


def view_2d_readonly(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    return PythonObject(alloc=MemoryView[DType.float64, 2, mut=False](a[0]))


# ===-----------------------------------------------------------------------===#
# Element access
# ===-----------------------------------------------------------------------===#


def get_2d(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    var v = View2D(a[0])
    return v[Int(py=a[1]), Int(py=a[2])]


def set_2d(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    var v = View2D(a[0])
    v[Int(py=a[1]), Int(py=a[2])] = Float64(py=a[3])
    return None


def unsafe_roundtrip_2d(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """Adds 1 to every element with the unchecked accessors; returns the sum
    read back with the checked ones."""
    var v = View2D(a[0])
    for i in range(v.dim(0)):
        for j in range(v.dim(1)):
            v.unsafe_set(i, j, value=v.unsafe_get(i, j) + 1)
    var total = 0.0
    for i in range(v.dim(0)):
        for j in range(v.dim(1)):
            total += v[i, j]
    return total


def load4_2d(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """Checked SIMD load of 4 elements along the last axis."""
    var v = View2D(a[0])
    var x = v.load[4](Int(py=a[1]), Int(py=a[2]))
    var l = Python.list()
    comptime for k in range(4):
        l.append(x[k])
    return l


def store4_2d(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """Unchecked SIMD store of (x, x+1, x+2, x+3) at (i, j..j+3)."""
    var v = View2D(a[0])
    var x = Float64(py=a[3])
    v.unsafe_store[4](
        Int(py=a[1]), Int(py=a[2]), value=SIMD[DType.float64, 4](x, x + 1, x + 2, x + 3)
    )
    return None


def fill_pattern_2d(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """Sets v[i, j] = 100 * i + j through a (possibly strided) view."""
    var v = View2D(a[0])
    for i in range(v.dim(0)):
        for j in range(v.dim(1)):
            v[i, j] = Float64(100 * i + j)
    return None


def scale_slice_2d(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """Multiplies v[s0, s1] by a factor, through a slice made in Mojo."""
    var v = View2D(a[0])
    var w = v[_slice(a[1]), _slice(a[2])]
    var factor = Float64(py=a[3])
    for i in range(w.dim(0)):
        for j in range(w.dim(1)):
            w[i, j] = w[i, j] * factor
    return None


def write_u8(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """Increments element i of a writable byte buffer."""
    var v = MemoryView[DType.uint8, 1](a[0])
    var i = Int(py=a[1])
    v[i] = v[i] + 1
    return None


def read_u8(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """The bytes of a (possibly read-only) byte buffer, as a list."""
    var v = ReadOnlyBytes(a[0])
    var l = Python.list()
    for i in range(len(v)):
        l.append(Int(v[i]))
    return l


def tolist_2d_readonly(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    return _tolist2(MemoryView[DType.float64, 2, mut=False](a[0]))


def sum_2d_readonly(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """Sum of a read-only view through `unsafe_get`, in C order with one
    accumulator (the order of Python's `sum(a.flat)`)."""
    var v = MemoryView[DType.float64, 2, mut=False](a[0])
    var total = 0.0
    for i in range(v.dim(0)):
        for j in range(v.dim(1)):
            total += v.unsafe_get(i, j)
    return total


def sum_rows_simd(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """Sum of a read-only view through checked SIMD loads of 4 along each row
    (vector loads or gathers), the rest of each row element by element."""
    var v = MemoryView[DType.float64, 2, mut=False](a[0])
    var acc = SIMD[DType.float64, 4](0)
    var rest = 0.0
    for i in range(v.dim(0)):
        var j = 0
        while j + 4 <= v.dim(1):
            acc += v.load[4](i, j)
            j += 4
        while j < v.dim(1):
            rest += v[i, j]
            j += 1
    return acc.reduce_add() + rest


def copy_2d_readonly(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """The copy() of a read-only view: a C-contiguous CView2D owned by Mojo."""
    return PythonObject(alloc=MemoryView[DType.float64, 2, mut=False](a[0]).copy())


# ===-----------------------------------------------------------------------===#
# Element types
# ===-----------------------------------------------------------------------===#


def _values[dtype: DType](mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """The elements of a 1-D view as Python floats (bool: 0.0/1.0)."""
    var v = MemoryView[dtype, 1, mut=False](a[0])
    var l = Python.list()
    for i in range(len(v)):
        comptime if dtype == DType.bool:
            l.append(1.0 if v[i] else 0.0)
        else:
            l.append(v[i].cast[DType.float64]())
    return l


def _double[dtype: DType](mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """v[i] = v[i] + v[i] (bool: v[i] = not v[i]) through a mutable view."""
    var v = MemoryView[dtype, 1](a[0])
    for i in range(len(v)):
        comptime if dtype == DType.bool:
            v[i] = ~v[i]
        else:
            v[i] = v[i] + v[i]
    return None


# ===-----------------------------------------------------------------------===#
# Views of views: slicing, transposes, copies, lifetimes
# ===-----------------------------------------------------------------------===#


def slice_1d(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    return PythonObject(alloc=View1D(a[0])[_slice(a[1])])


def slice_2d(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    return PythonObject(alloc=View2D(a[0])[_slice(a[1]), _slice(a[2])])


def slice_2d_twice(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """Returns v[s0, s1][s2, s3]: a slice of a slice (still one acquisition)."""
    var v = View2D(a[0])
    var w = v[_slice(a[1]), _slice(a[2])]
    return PythonObject(alloc=w[_slice(a[3]), _slice(a[4])])


def slice_2d_to_numpy(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """Slices in Mojo and hands the slice to numpy with `to_numpy`."""
    return to_numpy(View2D(a[0])[_slice(a[1]), _slice(a[2])])


def transpose_2d(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    return PythonObject(alloc=View2D(a[0]).transpose())


def transpose_2d_c(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """The transpose of a C-contiguous view is F-contiguous at compile time."""
    var t = CView2D(a[0]).transpose()
    return PythonObject(alloc=t^)


def permute_3d(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    var v = View3D(a[0])
    var p = v.permute(Int(py=a[1][0]), Int(py=a[1][1]), Int(py=a[1][2]))
    var out = Python.list()
    for i in range(p.dim(0)):
        for j in range(p.dim(1)):
            for k in range(p.dim(2)):
                out.append(p[i, j, k])
    return Python.tuple(_tuple(p.shape()), out)


def permute_3d_bad(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    var v = View3D(a[0])
    _ = v.permute(0, 0, 1)
    return None


def select_2d(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """v.select[axis](i) of a 2-D view, as a 1-D view object."""
    var v = View2D(a[0])
    if Int(py=a[1]) == 0:
        return PythonObject(alloc=v.select[0](Int(py=a[2])))
    return PythonObject(alloc=v.select[1](Int(py=a[2])))


def select_3d(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """v.select[1](i) of a 3-D view, to a Python list of lists."""
    var v = View3D(a[0]).select[1](Int(py=a[1]))
    return _tolist2(v)


def from_buffer_2d(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """A view built from another view's Buffer descriptor (no owner), read
    while the first view keeps the memory alive."""
    var v = View2D(a[0])
    var desc = v.__buffer__(BufferFlags.FULL_RO)
    var w = MemoryView[DType.float64, 2, mut=False](unsafe_buffer=desc)
    var result = _tolist2(w)
    v.__release_buffer__(desc)
    return result


def from_buffer_wrong_dtype(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    var v = View2D(a[0])
    var desc = v.__buffer__(BufferFlags.FULL_RO)  # points into v: v must outlive its use
    try:
        _ = MemoryView[DType.float32, 2](unsafe_buffer=desc)
    finally:
        v.__release_buffer__(desc)
    return None


def unsafe_lie_1d(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """MemoryView(unsafe_buffer=...) of a float64 descriptor with extent a[0],
    NULL data if a[1], on DLPack device type a[2]; returns the view's extent
    (no element is read)."""
    var values = Array[Float64, 4](fill=1.0)
    var shape = Array[Int64, 1](fill=Int64(Int(py=a[0])))
    var desc = Buffer(Pointer(to=values[0]), Span(shape))
    if Bool(py=a[1]):
        desc.data = None
    desc.device_type = Int32(Int(py=a[2]))
    var v = MemoryView[DType.float64, 1, mut=False](unsafe_buffer=desc)
    _ = shape^  # the descriptor points into both
    _ = values^
    return PythonObject(v.dim(0))


def copy_2d(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """A C-contiguous copy owned by Mojo, as a Python object."""
    return PythonObject(alloc=View2D(a[0]).copy())


def copy_2d_transposed(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """Returns copy() then transpose: an F-contiguous view of Mojo-owned memory."""
    return PythonObject(alloc=View2D(a[0]).copy().transpose())


def copy_then_write(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """Writes into the copy only; returns the copy (the source must not change)."""
    var c = View2D(a[0]).copy()
    for i in range(c.dim(0)):
        for j in range(c.dim(1)):
            c[i, j] = -1.0
    return PythonObject(alloc=c^)


def full_2d(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    return to_numpy(
        CView2D.full([Int(py=a[0]), Int(py=a[1])], Float64(py=a[2]))
    )


def _child_of(obj: PythonObject) raises -> View2D:
    var parent = View2D(obj)
    var child = parent[1:, ::2]
    return child^  # `parent` dies here; the child keeps the acquisition


def slice_outlives_parent(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    return PythonObject(alloc=_child_of(a[0]))


def many_views(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """Makes n views, slices and transposes of one acquisition, drops them in
    creation order, and returns how many there were."""
    var n = Int(py=a[1])
    var views = List[View2D]()
    var root = View2D(a[0])
    for i in range(n):
        if i % 3 == 0:
            views.append(root.view())
        elif i % 3 == 1:
            views.append(root[::-1, :])
        else:
            views.append(rebind_var[View2D](root.transpose().transpose()))
    _ = root^
    var count = len(views)
    while len(views) > 0:
        _ = views.pop(0)
    return count


def export_count(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """Live exports of a bound View2D object."""
    return a[0].downcast_value_ptr[View2D]()[].export_count()


# ===-----------------------------------------------------------------------===#
# Speed (benchmarks/bench_memory_view.py)
# ===-----------------------------------------------------------------------===#


def _sum_contiguous(p: Float32View.ElementPointer, n: Int) -> Float32:
    """Sum of n contiguous float32: 4 SIMD accumulators, then the tail."""
    comptime width = simd_width_of[DType.float32]()
    comptime block = 4 * width
    var acc0 = SIMD[DType.float32, width](0)
    var acc1 = SIMD[DType.float32, width](0)
    var acc2 = SIMD[DType.float32, width](0)
    var acc3 = SIMD[DType.float32, width](0)
    var i = 0
    while i + block <= n:
        acc0 += p.unsafe_load[width=width, alignment=1](i)
        acc1 += p.unsafe_load[width=width, alignment=1](i + width)
        acc2 += p.unsafe_load[width=width, alignment=1](i + 2 * width)
        acc3 += p.unsafe_load[width=width, alignment=1](i + 3 * width)
        i += block
    var total = ((acc0 + acc1) + (acc2 + acc3)).reduce_add()
    while i < n:
        total += p[unsafe_offset=i]
        i += 1
    return total


def _sum_strided(p: Float32View.ElementPointer, n: Int, step: Int) -> Float32:
    """Sum of n float32 `step` elements apart: 4 scalar accumulators."""
    var a0: Float32 = 0
    var a1: Float32 = 0
    var a2: Float32 = 0
    var a3: Float32 = 0
    var q = p
    var i = 0
    while i + 4 <= n:
        a0 += q[]
        a1 += q[unsafe_offset=step]
        a2 += q[unsafe_offset=2 * step]
        a3 += q[unsafe_offset=3 * step]
        q = q.unsafe_offset(4 * step)
        i += 4
    var total = (a0 + a1) + (a2 + a3)
    while i < n:
        total += q[]
        q = q.unsafe_offset(step)
        i += 1
    return total


@always_inline
def _evens[width: Int](q: Float32View.ElementPointer) -> SIMD[DType.float32, width]:
    """Elements 0, 2, ..., 2 * width - 2 from q: one 2 * width vector load."""
    var both = q.unsafe_load[width = 2 * width, alignment=1]()
    return rebind[SIMD[DType.float32, width]](both.deinterleave()[0])


def _sum_stride2(p: Float32View.ElementPointer, n: Int) -> Float32:
    """Sum of n float32 two elements apart: each 16-lane vector load covers
    8 wanted elements (and the 8 between them, on the same cache lines);
    `deinterleave` keeps the wanted ones. 4 accumulators."""
    comptime width = simd_width_of[DType.float32]()
    comptime block = 4 * width
    var acc0 = SIMD[DType.float32, width](0)
    var acc1 = SIMD[DType.float32, width](0)
    var acc2 = SIMD[DType.float32, width](0)
    var acc3 = SIMD[DType.float32, width](0)
    var i = 0
    # `< n`, not `<= n`: the last load reads one element past element
    # i + block - 1, which must still lie inside the view (element i + block).
    while i + block < n:
        var q = p.unsafe_offset(2 * i)
        acc0 += _evens[width](q)
        acc1 += _evens[width](q.unsafe_offset(2 * width))
        acc2 += _evens[width](q.unsafe_offset(4 * width))
        acc3 += _evens[width](q.unsafe_offset(6 * width))
        i += block
    var total = ((acc0 + acc1) + (acc2 + acc3)).reduce_add()
    while i < n:
        total += p[unsafe_offset=2 * i]
        i += 1
    return total


def sum_f32(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """Sum of a 1-D float32 buffer of any stride, through a strided
    MemoryView: SIMD loads when the stride is 1 or 2, a pointer walk with
    four accumulators otherwise."""
    var v = MemoryView[DType.float32, 1, mut=False](a[0])
    var step = v.stride(0)
    if step == 1:
        return Float64(_sum_contiguous(v.unsafe_ptr(), len(v)))
    if step == 2:
        return Float64(_sum_stride2(v.unsafe_ptr(), len(v)))
    return Float64(_sum_strided(v.unsafe_ptr(), len(v), step))


def sum_f32_c(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """Sum through a C-contiguous MemoryView using its SIMD loads."""
    var v = MemoryView[DType.float32, 1, layout=C, mut=False](a[0])
    comptime width = simd_width_of[DType.float32]()
    var n = len(v)
    var acc0 = SIMD[DType.float32, width](0)
    var acc1 = SIMD[DType.float32, width](0)
    var acc2 = SIMD[DType.float32, width](0)
    var acc3 = SIMD[DType.float32, width](0)
    var i = 0
    while i + 4 * width <= n:
        acc0 += v.unsafe_load[width](i)
        acc1 += v.unsafe_load[width](i + width)
        acc2 += v.unsafe_load[width](i + 2 * width)
        acc3 += v.unsafe_load[width](i + 3 * width)
        i += 4 * width
    var total = ((acc0 + acc1) + (acc2 + acc3)).reduce_add()
    while i < n:
        total += v.unsafe_get(i)
        i += 1
    return Float64(total)


def acquire_f32(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """Acquires (and releases) a MemoryView once; returns its length."""
    var v = MemoryView[DType.float32, 1](a[0])
    return len(v)


def acquire_f32_stdlib(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """The same through the standard library's from_numpy_tensor."""
    var v = from_numpy_tensor[DType.float32, 1](a[0])
    return len(v.data)


def time_acquire(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """(ns per MemoryView acquisition+release, ns per from_numpy_tensor),
    each averaged over n calls made from Mojo."""
    var obj = a[0]
    var n = Int(py=a[1])
    var sink = 0
    var t0 = perf_counter_ns()
    for _ in range(n):
        var v = MemoryView[DType.float32, 1](obj)
        sink += len(v)
    var t1 = perf_counter_ns()
    for _ in range(n):
        var v = from_numpy_tensor[DType.float32, 1](obj)
        sink += len(v.data)
    var t2 = perf_counter_ns()
    if sink < 0:
        print(sink)
    return Python.tuple(
        Float64(Int(t1 - t0)) / Float64(n), Float64(Int(t2 - t1)) / Float64(n)
    )


# ===-----------------------------------------------------------------------===#
# The module
# ===-----------------------------------------------------------------------===#


@export
def PyInit_memory_view_module() abi("C") -> PythonObject:
    try:
        var m = PythonModuleBuilder("memory_view_module")
        ref t1 = m.add_type[View1D]("View1D")
        add_buffer_protocol[View1D](t1)
        ref t2 = m.add_type[View2D]("View2D")
        add_buffer_protocol[View2D](t2)
        ref t3 = m.add_type[CView2D]("CView2D")
        add_buffer_protocol[CView2D](t3)
        ref t4 = m.add_type[FView2D]("FView2D")
        add_buffer_protocol[FView2D](t4)
        ref t5 = m.add_type[MemoryView[DType.float64, 2, mut=False]](
            "ReadOnlyView2D"
        )
        add_buffer_protocol[MemoryView[DType.float64, 2, mut=False]](t5)

        m.def_py_c_function(py_method[info_1d], "info_1d")
        m.def_py_c_function(py_method[info_2d], "info_2d")
        m.def_py_c_function(py_method[info_2d_c], "info_2d_c")
        m.def_py_c_function(py_method[info_2d_f], "info_2d_f")
        m.def_py_c_function(py_method[info_2d_readonly], "info_2d_readonly")
        m.def_py_c_function(py_method[tolist_2d], "tolist_2d")
        m.def_py_c_function(py_method[tolist_2d_c], "tolist_2d_c")
        m.def_py_c_function(py_method[tolist_2d_f], "tolist_2d_f")
        m.def_py_c_function(py_method[tolist_3d], "tolist_3d")
        m.def_py_c_function(py_method[view_2d], "view_2d")
        m.def_py_c_function(py_method[view_2d_readonly], "view_2d_readonly")
        m.def_py_c_function(py_method[get_2d], "get_2d")
        m.def_py_c_function(py_method[set_2d], "set_2d")
        m.def_py_c_function(py_method[unsafe_roundtrip_2d], "unsafe_roundtrip_2d")
        m.def_py_c_function(py_method[load4_2d], "load4_2d")
        m.def_py_c_function(py_method[store4_2d], "store4_2d")
        m.def_py_c_function(py_method[fill_pattern_2d], "fill_pattern_2d")
        m.def_py_c_function(py_method[scale_slice_2d], "scale_slice_2d")
        m.def_py_c_function(py_method[tolist_2d_readonly], "tolist_2d_readonly")
        m.def_py_c_function(py_method[sum_2d_readonly], "sum_2d_readonly")
        m.def_py_c_function(py_method[sum_rows_simd], "sum_rows_simd")
        m.def_py_c_function(py_method[copy_2d_readonly], "copy_2d_readonly")
        m.def_py_c_function(py_method[write_u8], "write_u8")
        m.def_py_c_function(py_method[read_u8], "read_u8")

        m.def_py_c_function(py_method[_values[DType.bool]], "values_bool")
        m.def_py_c_function(py_method[_values[DType.int8]], "values_int8")
        m.def_py_c_function(py_method[_values[DType.int16]], "values_int16")
        m.def_py_c_function(py_method[_values[DType.int32]], "values_int32")
        m.def_py_c_function(py_method[_values[DType.int64]], "values_int64")
        m.def_py_c_function(py_method[_values[DType.uint8]], "values_uint8")
        m.def_py_c_function(py_method[_values[DType.uint16]], "values_uint16")
        m.def_py_c_function(py_method[_values[DType.uint32]], "values_uint32")
        m.def_py_c_function(py_method[_values[DType.uint64]], "values_uint64")
        m.def_py_c_function(py_method[_values[DType.float16]], "values_float16")
        m.def_py_c_function(py_method[_values[DType.float32]], "values_float32")
        m.def_py_c_function(py_method[_values[DType.float64]], "values_float64")
        m.def_py_c_function(py_method[_values[DType.bfloat16]], "values_bfloat16")
        m.def_py_c_function(py_method[_double[DType.bool]], "double_bool")
        m.def_py_c_function(py_method[_double[DType.int8]], "double_int8")
        m.def_py_c_function(py_method[_double[DType.int16]], "double_int16")
        m.def_py_c_function(py_method[_double[DType.int32]], "double_int32")
        m.def_py_c_function(py_method[_double[DType.int64]], "double_int64")
        m.def_py_c_function(py_method[_double[DType.uint8]], "double_uint8")
        m.def_py_c_function(py_method[_double[DType.uint16]], "double_uint16")
        m.def_py_c_function(py_method[_double[DType.uint32]], "double_uint32")
        m.def_py_c_function(py_method[_double[DType.uint64]], "double_uint64")
        m.def_py_c_function(py_method[_double[DType.float16]], "double_float16")
        m.def_py_c_function(py_method[_double[DType.float32]], "double_float32")
        m.def_py_c_function(py_method[_double[DType.float64]], "double_float64")

        m.def_py_c_function(py_method[slice_1d], "slice_1d")
        m.def_py_c_function(py_method[slice_2d], "slice_2d")
        m.def_py_c_function(py_method[slice_2d_twice], "slice_2d_twice")
        m.def_py_c_function(py_method[slice_2d_to_numpy], "slice_2d_to_numpy")
        m.def_py_c_function(py_method[transpose_2d], "transpose_2d")
        m.def_py_c_function(py_method[transpose_2d_c], "transpose_2d_c")
        m.def_py_c_function(py_method[permute_3d], "permute_3d")
        m.def_py_c_function(py_method[permute_3d_bad], "permute_3d_bad")
        m.def_py_c_function(py_method[select_2d], "select_2d")
        m.def_py_c_function(py_method[select_3d], "select_3d")
        m.def_py_c_function(py_method[from_buffer_2d], "from_buffer_2d")
        m.def_py_c_function(py_method[from_buffer_wrong_dtype], "from_buffer_wrong_dtype")
        m.def_py_c_function(py_method[copy_2d], "copy_2d")
        m.def_py_c_function(py_method[copy_2d_transposed], "copy_2d_transposed")
        m.def_py_c_function(py_method[copy_then_write], "copy_then_write")
        m.def_py_c_function(py_method[full_2d], "full_2d")
        m.def_py_c_function(py_method[unsafe_lie_1d], "unsafe_lie_1d")
        m.def_py_c_function(py_method[slice_outlives_parent], "slice_outlives_parent")
        m.def_py_c_function(py_method[many_views], "many_views")
        m.def_py_c_function(py_method[export_count], "export_count")

        m.def_py_c_function(py_method[sum_f32], "sum_f32")
        m.def_py_c_function(py_method[sum_f32_c], "sum_f32_c")
        m.def_py_c_function(py_method[acquire_f32], "acquire_f32")
        m.def_py_c_function(py_method[acquire_f32_stdlib], "acquire_f32_stdlib")
        m.def_py_c_function(py_method[time_acquire], "time_acquire")
        return finalize_module(m)
    except e:
        abort(String("memory_view_module: ", e))
