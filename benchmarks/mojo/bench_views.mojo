# The bufferable side of the benchmarks' MemoryView rows (benchmarks/bench_peers.py): 2-D float64
# MemoryViews acquired from Python and summed in Mojo, beside the Cython typed-memoryview functions
# of benchmarks/peers/peer_cython.pyx that do the same. Every function is bound through
# `py_method`, as a bufferable user binds theirs.

from std.python import PythonObject
from std.python.bindings import PythonModuleBuilder
from std.sys import simd_width_of

from bufferable import (
    MemoryLayout,
    MemoryView,
    finalize_module,
    module_init_error,
    py_method,
)

comptime C = MemoryLayout.C_CONTIGUOUS
comptime F64Pointer = MemoryView[DType.float64, 2].ElementPointer


def _sum_contiguous(p: F64Pointer, n: Int) -> Float64:
    """Returns the sum of n contiguous float64: 4 SIMD accumulators, then the
    tail one element at a time."""
    comptime width = simd_width_of[DType.float64]()
    comptime block = 4 * width
    var acc0 = SIMD[DType.float64, width](0)
    var acc1 = SIMD[DType.float64, width](0)
    var acc2 = SIMD[DType.float64, width](0)
    var acc3 = SIMD[DType.float64, width](0)
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


def _sum_strided(p: F64Pointer, n: Int, step: Int) -> Float64:
    """Returns the sum of n float64 `step` elements apart: 4 scalar
    accumulators."""
    var a0: Float64 = 0
    var a1: Float64 = 0
    var a2: Float64 = 0
    var a3: Float64 = 0
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


def acquire(mut module: PythonObject, mut args: PythonObject) raises -> PythonObject:
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


def acquire_c(mut module: PythonObject, mut args: PythonObject) raises -> PythonObject:
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


def sum_strided(mut module: PythonObject, mut args: PythonObject) raises -> PythonObject:
    """Sums any 2-D float64 buffer through a strided MemoryView, row by row:
    SIMD loads when a row is contiguous, a pointer walk otherwise.

    Args:
        module: The module (unused).
        args: (a 2-D float64 buffer,).

    Returns:
        The sum, as a Python float.

    Raises:
        BufferError, ValueError or TypeError as MemoryView does.
    """
    var v = MemoryView[DType.float64, 2, mut=False](args[0])
    var rows = v.dim(0)
    var cols = v.dim(1)
    var step = v.stride(1)
    var total: Float64 = 0
    for r in range(rows):
        var row = v.unsafe_ptr().unsafe_offset(r * v.stride(0))
        if step == 1:
            total += _sum_contiguous(row, cols)
        else:
            total += _sum_strided(row, cols, step)
    return total


def sum_c(mut module: PythonObject, mut args: PythonObject) raises -> PythonObject:
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
    return _sum_contiguous(v.unsafe_ptr(), v.num_elements())


@export
def PyInit_bench_views() abi("C") -> PythonObject:
    try:
        var m = PythonModuleBuilder("bench_views")
        m.def_py_c_function(py_method[acquire], "acquire")
        m.def_py_c_function(py_method[acquire_c], "acquire_c")
        m.def_py_c_function(py_method[sum_strided], "sum_strided")
        m.def_py_c_function(py_method[sum_c], "sum_c")
        return finalize_module(m)
    except e:
        return module_init_error(e)
