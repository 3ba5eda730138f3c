# The bufferable side of the benchmarks' MemoryView rows (benchmarks/bench_peers.py): 2-D float64
# MemoryViews acquired from Python and summed in Mojo, beside the Cython typed-memoryview functions
# of benchmarks/peers/peer_cython.pyx that do the same. Every function is bound through
# `py_function` (METH_FASTCALL), as a bufferable user binds a function called in a loop.

from std.python import PythonObject
from std.python.bindings import PythonModuleBuilder
from std.sys import simd_width_of

from bufferable import (
    MemoryLayout,
    MemoryView,
    finalize_module,
    module_init_error,
    py_function,
)
from bufferable.calls import Arguments

comptime C = MemoryLayout.C_CONTIGUOUS
comptime F64Pointer = MemoryView[DType.float64, 2].ElementPointer


comptime WIDTH = simd_width_of[DType.float64]()
comptime Vector = SIMD[DType.float64, WIDTH]


@fieldwise_init
struct _Sums(Copyable):
    """Four vector accumulators (independent add chains) and a scalar one."""

    var a0: Vector
    var a1: Vector
    var a2: Vector
    var a3: Vector
    var scalar: Float64

    def total(self) -> Float64:
        return ((self.a0 + self.a1) + (self.a2 + self.a3)).reduce_add() + self.scalar


def _add_contiguous(mut s: _Sums, p: F64Pointer, n: Int):
    """Adds n contiguous float64: blocks of four vectors, then single vectors
    (so a row shorter than a block is still loaded a vector at a time), then
    the tail one element at a time."""
    var i = 0
    while i + 4 * WIDTH <= n:
        s.a0 += p.unsafe_load[width=WIDTH, alignment=1](i)
        s.a1 += p.unsafe_load[width=WIDTH, alignment=1](i + WIDTH)
        s.a2 += p.unsafe_load[width=WIDTH, alignment=1](i + 2 * WIDTH)
        s.a3 += p.unsafe_load[width=WIDTH, alignment=1](i + 3 * WIDTH)
        i += 4 * WIDTH
    if i + 2 * WIDTH <= n:
        s.a0 += p.unsafe_load[width=WIDTH, alignment=1](i)
        s.a1 += p.unsafe_load[width=WIDTH, alignment=1](i + WIDTH)
        i += 2 * WIDTH
    if i + WIDTH <= n:
        s.a2 += p.unsafe_load[width=WIDTH, alignment=1](i)
        i += WIDTH
    while i < n:
        s.scalar += p[unsafe_offset=i]
        i += 1


@always_inline
def _lanes[odd: Int](p: F64Pointer, offset: Int) -> Vector:
    """The even (odd = 0) or odd (odd = 1) elements of the 2 * WIDTH
    contiguous float64 from `offset`."""
    var halves = p.unsafe_load[width=2 * WIDTH, alignment=1](offset).deinterleave()
    return rebind[Vector](halves[odd])


def _add_every_other(mut s: _Sums, p: F64Pointer, n: Int):
    """Adds n float64 two elements apart: contiguous loads of 2 * WIDTH split
    into their even lanes, the last one shifted back one element (its odd
    lanes) so that nothing past element 2 * (n - 1) is read."""
    var i = 0
    while i + 2 * WIDTH <= n - 1:
        s.a0 += _lanes[0](p, 2 * i)
        s.a1 += _lanes[0](p, 2 * i + 2 * WIDTH)
        i += 2 * WIDTH
    if i + WIDTH <= n - 1:
        s.a2 += _lanes[0](p, 2 * i)
        i += WIDTH
    if i >= 1 and i + WIDTH == n:
        s.a3 += _lanes[1](p, 2 * i - 1)
        i += WIDTH
    while i < n:
        s.scalar += p[unsafe_offset=2 * i]
        i += 1


def _add_strided(mut s: _Sums, p: F64Pointer, n: Int, step: Int):
    """Adds n float64 `step` elements apart, four at a time."""
    var i = 0
    var q = p
    while i + 4 <= n:
        s.a0[0] += q[]
        s.a1[0] += q[unsafe_offset=step]
        s.a2[0] += q[unsafe_offset=2 * step]
        s.a3[0] += q[unsafe_offset=3 * step]
        q = q.unsafe_offset(4 * step)
        i += 4
    while i < n:
        s.scalar += q[]
        q = q.unsafe_offset(step)
        i += 1


def _sum_2d(v: MemoryView[DType.float64, 2, mut=False]) -> Float64:
    """Sums every element of a 2-D view, the accumulators carried across rows
    (one reduction at the end, however short the rows)."""
    var s = _Sums(Vector(0), Vector(0), Vector(0), Vector(0), 0.0)
    var rows = v.dim(0)
    var cols = v.dim(1)
    var step = v.stride(1)
    if step == 1 and v.stride(0) == cols:  # one contiguous run
        _add_contiguous(s, v.unsafe_ptr(), rows * cols)
        return s.total()
    for r in range(rows):
        var row = v.unsafe_ptr().unsafe_offset(r * v.stride(0))
        if step == 1:
            _add_contiguous(s, row, cols)
        elif step == 2:
            _add_every_other(s, row, cols)
        else:
            _add_strided(s, row, cols, step)
    return s.total()


def acquire(module: PythonObject, args: Arguments) raises -> PythonObject:
    """Acquires a strided MemoryView[float64, 2] of args[0] and releases it.

    Args:
        module: The module (unused).
        args: (a 2-D float64 buffer,).

    Returns:
        The row count.

    Raises:
        BufferError, ValueError or TypeError as MemoryView does.
    """
    var v = MemoryView[DType.float64, 2](args[0])
    return v.dim(0)


def acquire_c(module: PythonObject, args: Arguments) raises -> PythonObject:
    """Acquires a C_CONTIGUOUS MemoryView[float64, 2] of args[0] and releases it.

    Args:
        module: The module (unused).
        args: (a C-contiguous 2-D float64 buffer,).

    Returns:
        The row count.

    Raises:
        BufferError, ValueError or TypeError as MemoryView does.
    """
    var v = MemoryView[DType.float64, 2, layout=C](args[0])
    return v.dim(0)


def sum_strided(module: PythonObject, args: Arguments) raises -> PythonObject:
    """Sums any 2-D float64 buffer through a strided MemoryView, row by row:
    SIMD loads when rows are contiguous or every other element, a pointer
    walk otherwise.

    Args:
        module: The module (unused).
        args: (a 2-D float64 buffer,).

    Returns:
        The sum, as a Python float.

    Raises:
        BufferError, ValueError or TypeError as MemoryView does.
    """
    return _sum_2d(MemoryView[DType.float64, 2, mut=False](args[0]))


def sum_c(module: PythonObject, args: Arguments) raises -> PythonObject:
    """Sums a C-contiguous 2-D float64 buffer through a C_CONTIGUOUS
    MemoryView, as one run of SIMD loads.

    Args:
        module: The module (unused).
        args: (a C-contiguous 2-D float64 buffer,).

    Returns:
        The sum, as a Python float.

    Raises:
        BufferError, ValueError or TypeError as MemoryView does.
    """
    var v = MemoryView[DType.float64, 2, layout=C, mut=False](args[0])
    var s = _Sums(Vector(0), Vector(0), Vector(0), Vector(0), 0.0)
    _add_contiguous(s, v.unsafe_ptr(), v.num_elements())
    return s.total()


def sum_loads(module: PythonObject, args: Arguments) raises -> PythonObject:
    """Sums any 2-D float64 buffer through the view's own accessors, row by
    row: `unsafe_load` vectors (gathers when a row is strided), four
    accumulators, `unsafe_get` for the rest. They assume no alignment, so
    this is the sum that stays valid at any address (the unaligned row).

    Args:
        module: The module (unused).
        args: (a 2-D float64 buffer,).

    Returns:
        The sum, as a Python float.

    Raises:
        BufferError, ValueError or TypeError as MemoryView does.
    """
    var v = MemoryView[DType.float64, 2, mut=False](args[0])
    var s = _Sums(Vector(0), Vector(0), Vector(0), Vector(0), 0.0)
    var cols = v.dim(1)
    for r in range(v.dim(0)):
        var j = 0
        while j + 4 * WIDTH <= cols:
            s.a0 += v.unsafe_load[WIDTH](r, j)
            s.a1 += v.unsafe_load[WIDTH](r, j + WIDTH)
            s.a2 += v.unsafe_load[WIDTH](r, j + 2 * WIDTH)
            s.a3 += v.unsafe_load[WIDTH](r, j + 3 * WIDTH)
            j += 4 * WIDTH
        while j + WIDTH <= cols:
            s.a0 += v.unsafe_load[WIDTH](r, j)
            j += WIDTH
        while j < cols:
            s.scalar += v.unsafe_get(r, j)
            j += 1
    return s.total()


def from_dlpack(module: PythonObject, args: Arguments) raises -> PythonObject:
    """Acquires a read-only MemoryView[float64, 2] of args[0] through DLPack
    (the exchange API of its type when it has one) and releases it.

    Args:
        module: The module (unused).
        args: (a 2-D float64 DLPack producer,).

    Returns:
        The row count.

    Raises:
        BufferError, ValueError or TypeError as MemoryView.from_dlpack does.
    """
    var v = MemoryView[DType.float64, 2, mut=False].from_dlpack(args[0])
    return v.dim(0)


@export
def PyInit_bench_views() abi("C") -> PythonObject:
    try:
        var m = PythonModuleBuilder("bench_views")
        m.def_py_c_function(py_function[acquire], "acquire")
        m.def_py_c_function(py_function[acquire_c], "acquire_c")
        m.def_py_c_function(py_function[sum_strided], "sum_strided")
        m.def_py_c_function(py_function[sum_c], "sum_c")
        m.def_py_c_function(py_function[sum_loads], "sum_loads")
        m.def_py_c_function(py_function[from_dlpack], "from_dlpack")
        return finalize_module(m)
    except e:
        return module_init_error(e)
