# Test module of tests/mojo/test_errors.py: errors raised inside functions
# bound with `py_method` (METH_VARARGS) and `py_function` (METH_FASTCALL),
# and the Python class (or exception object) each one reaches Python with;
# Python operations done through python_ops (py_call & co) and through the
# standard library, compared.
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
    py_call,
    py_call_method,
    py_call_with,
    py_float,
    py_function,
    py_getattr,
    py_getitem,
    py_import,
    py_index,
    py_method,
    reworded,
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


def stdlib_call(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    return a[0]()


def stdlib_get_item(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    return a[0][a[1]]


def _call_with(f: PythonObject, items: List[PythonObject]) raises -> PythonObject:
    """Calls `f` with `items` through py_call (one call per arity the tests use)."""
    var n = len(items)
    if n == 0:
        return py_call(f)
    if n == 1:
        return py_call(f, items[0])
    if n == 2:
        return py_call(f, items[0], items[1])
    if n == 7:
        return py_call(f, items[0], items[1], items[2], items[3], items[4], items[5], items[6])
    if n == 8:
        return py_call(
            f, items[0], items[1], items[2], items[3], items[4], items[5], items[6], items[7]
        )
    if n == 9:
        return py_call(
            f, items[0], items[1], items[2], items[3], items[4], items[5], items[6], items[7],
            items[8],
        )
    if n == 20:
        return py_call(
            f, items[0], items[1], items[2], items[3], items[4], items[5], items[6], items[7],
            items[8], items[9], items[10], items[11], items[12], items[13], items[14], items[15],
            items[16], items[17], items[18], items[19],
        )
    raise Error(String("no call of arity ", n))


def call_back(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """Calls a[0] with the other arguments."""
    var items = List[PythonObject]()
    for i in range(1, len(a)):
        items.append(a[i])
    return _call_with(a[0], items)


def fast_call_back(s: PythonObject, args: Arguments) raises -> PythonObject:
    """Calls args[0] with the other arguments."""
    var items = List[PythonObject]()
    for i in range(1, len(args)):
        items.append(args[i])
    return _call_with(args[0], items)


def call_with(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """Calls a[0](*a[1], **a[2])."""
    return py_call_with(a[0], a[1], a[2])


def get_item(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    return py_getitem(a[0], a[1])


def get_attr(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    return py_getattr(a[0], String(a[1]))


def call_method(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """Calls method a[1] of a[0] with a[2] (or with nothing)."""
    if len(a) == 2:
        return py_call_method(a[0], String(a[1]))
    return py_call_method(a[0], String(a[1]), a[2])


def import_module(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    return py_import(String(a[0]))


def to_index(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    return PythonObject(py_index(a[0]))


def to_float(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    return PythonObject(py_float(a[0]))


def reworded_call(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """Calls a[0](); its error is raised again with the text 'calling back: ...'."""
    try:
        return py_call(a[0])
    except e:
        raise reworded(e, String("calling back: ", e))


def handled_call(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """Calls a[0](), catches its error and returns 'handled: <text>'."""
    try:
        return py_call(a[0])
    except e:
        return PythonObject(String("handled: ", e))


def held_across_call(mut s: PythonObject, mut a: PythonObject) raises -> PythonObject:
    """Calls a[0](), holds its error while calling a[1](), then raises it."""
    try:
        _ = py_call(a[0])
    except e:
        _ = py_call(a[1])
        raise e^
    return PythonObject(None)


def fast_handled_call(s: PythonObject, args: Arguments) raises -> PythonObject:
    """`handled_call` bound with py_function."""
    try:
        return py_call(args[0])
    except e:
        return PythonObject(String("handled: ", e))


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
        m.def_py_c_function(py_method[stdlib_call], "stdlib_call")
        m.def_py_c_function(py_method[stdlib_get_item], "stdlib_get_item")
        m.def_py_c_function(py_method[call_back], "call_back")
        m.def_py_c_function(py_function[fast_call_back], "fast_call_back")
        m.def_py_c_function(py_method[call_with], "call_with")
        m.def_py_c_function(py_method[get_item], "get_item")
        m.def_py_c_function(py_method[get_attr], "get_attr")
        m.def_py_c_function(py_method[call_method], "call_method")
        m.def_py_c_function(py_method[import_module], "import_module")
        m.def_py_c_function(py_method[to_index], "to_index")
        m.def_py_c_function(py_method[to_float], "to_float")
        m.def_py_c_function(py_method[reworded_call], "reworded_call")
        m.def_py_c_function(py_method[handled_call], "handled_call")
        m.def_py_c_function(py_function[fast_handled_call], "fast_handled_call")
        m.def_py_c_function(py_method[held_across_call], "held_across_call")
        return finalize_module(m)
    except e:
        return module_init_error(e)
