# Test module of tests/mojo/test_errors.py: errors raised inside functions
# bound with `py_method` (METH_VARARGS) and `py_function` (METH_FASTCALL),
# and the Python class (or exception object) each one reaches Python with.
# It lives in its own folder so that edits to other test modules do not
# invalidate its cached build.

from std.python import PythonObject
from std.python.bindings import PythonModuleBuilder

from bufferable import (
    Arguments,
    MemoryView,
    buffer_error,
    finalize_module,
    index_error,
    module_init_error,
    py_function,
    py_method,
)


def plain(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """Raises a Mojo error with the text given."""
    raise Error(String(a[0]))


def bufferable_error(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    raise buffer_error("the producer refuses")


def dropped_then_plain(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """A bufferable error caught and dropped, then an unrelated error."""
    try:
        raise index_error("dropped")
    except:
        pass
    raise Error("unrelated")


def view_1d(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    _ = MemoryView[DType.float64, 1](a[0])
    return PythonObject(None)


def view_1d_dlpack(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    _ = MemoryView[DType.float64, 1, mut=False].from_dlpack(a[0])
    return PythonObject(None)


def stdlib_int(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    return PythonObject(Int(py=a[0]))


def fast_first(s: PythonObject, args: Arguments) raises -> PythonObject:
    return args[0]


def fast_int(s: PythonObject, args: Arguments) raises -> PythonObject:
    return PythonObject(args.int(0) + 1)


def fast_view(s: PythonObject, args: Arguments) raises -> PythonObject:
    _ = MemoryView[DType.float64, 2, mut=False](args[0])
    return PythonObject(len(args))


@export
def PyInit_bferrors() abi("C") -> PythonObject:
    try:
        var m = PythonModuleBuilder("bferrors")
        m.def_py_c_function(py_method[plain], "plain")
        m.def_py_c_function(py_method[bufferable_error], "bufferable_error")
        m.def_py_c_function(py_method[dropped_then_plain], "dropped_then_plain")
        m.def_py_c_function(py_method[view_1d], "view_1d")
        m.def_py_c_function(py_method[view_1d_dlpack], "view_1d_dlpack")
        m.def_py_c_function(py_method[stdlib_int], "stdlib_int")
        m.def_py_c_function(py_function[fast_first], "fast_first")
        m.def_py_c_function(py_function[fast_int], "fast_int")
        m.def_py_c_function(py_function[fast_view], "fast_view")
        return finalize_module(m)
    except e:
        return module_init_error(e)
