"""Operations on Python objects from Mojo that keep Python's exception.

Mojo 1.2.0's standard library turns a Python exception raised inside its own
operations (`Int(py=x)`, `obj[key]`, `obj.attr`, `obj(...)`,
`Python.import_module`) into an `Error` holding only the exception's text,
and clears the exception: its class, attributes and traceback are gone before
Mojo code sees the error (and the references to its class and traceback are
never released). The functions here do the same operations through
CPython's C API and, when Python raises, raise `pending_python_error`: the
wrappers of this package (`py_method`, `py_function`) then raise that very
exception object in Python (a KeyboardInterrupt, a KeyError, a user's own
exception class with its attributes), with its traceback, and `reworded`
keeps its class. An exception caught and handled in Mojo is gone: nothing
is left pending, and its record is dropped when the wrapped function
returns normally.

Every function needs the GIL (a function called through `py_method` or
`py_function` holds it).

A value whose address is handed to CPython as an integer (a name's str, an
argument array) is kept alive past the call with `_ = value^`: Mojo ends a
value's life at its last use, which is before the call that reads the
address. `py_call` and `py_call_method` are `@always_inline`: called out of
line as `return py_call(f, items[i])` with `items` a List argument, Mojo
1.2.0 reuses the caller's stack slot that holds the argument pack before the
call reads it (tests/mojo/test_errors.py calls them that way).
"""

from std.ffi import c_int, external_call
from std.memory import stack_allocation
from std.python import PythonObject

from ._private import PyObjectPtr, address_of, object_address, object_at
from .errors import pending_python_error

comptime _VECTORCALL_ARGUMENTS_OFFSET = 1 << 63
"""CPython's PY_VECTORCALL_ARGUMENTS_OFFSET: the callee may overwrite the slot
before the arguments for the duration of the call (a bound method puts its
`self` there instead of copying the arguments). Every array here keeps slot 0
free for it."""

comptime _STACK_ARGUMENTS = 8
"""Slots of the argument array built on the stack (slot 0 free, then the
object of a method call, then the arguments); a longer array is allocated."""


@always_inline
def _owned(result: Int) raises -> PythonObject:
    """Wraps a new reference, or raises the pending exception for NULL."""
    if result == 0:
        raise pending_python_error(String(""))
    return PythonObject(from_owned=object_at(result))


def index_of(obj: PyObjectPtr) raises -> Int:
    """Converts a borrowed object to an Int as `operator.index` does.

    Args:
        obj: The object (borrowed).

    Returns:
        The value.

    Raises:
        The TypeError (not an integer: a float, a str), OverflowError (out of
        Int's range) or any exception `__index__` raises, as that very
        exception.
    """
    var number = external_call["PyNumber_Index", Int](obj)
    if number == 0:
        raise pending_python_error(String(""))
    var value = external_call["PyLong_AsSsize_t", Int](number)
    external_call["Py_DecRef", NoneType](number)
    if value == -1 and external_call["PyErr_Occurred", Int]() != 0:
        raise pending_python_error(String(""))
    return value


def py_index(obj: PythonObject) raises -> Int:
    """Converts `obj` to an Int as `operator.index` does (ints, bools, numpy
    integers, anything with `__index__`; never a float or a str).

    Args:
        obj: The object.

    Returns:
        The value.

    Raises:
        The TypeError, OverflowError or exception of `__index__` Python
        raises, as that very exception.
    """
    return index_of(object_address(obj))


def py_float(obj: PythonObject) raises -> Float64:
    """Converts `obj` to a Float64 as `float(obj)` does for numbers (floats,
    ints, numpy scalars, anything with `__float__` or `__index__`; not a str).

    Args:
        obj: The object.

    Returns:
        The value.

    Raises:
        The TypeError, OverflowError or exception of `__float__` Python
        raises, as that very exception.
    """
    var value = external_call["PyFloat_AsDouble", Float64](object_address(obj))
    if value == -1.0 and external_call["PyErr_Occurred", Int]() != 0:
        raise pending_python_error(String(""))
    return value


def py_getitem(obj: PythonObject, key: PythonObject) raises -> PythonObject:
    """Returns `obj[key]`.

    Args:
        obj: The container.
        key: The key or index.

    Returns:
        The item (a new reference).

    Raises:
        The KeyError, IndexError or other exception Python raises, as that
        very exception.
    """
    return _owned(
        external_call["PyObject_GetItem", Int](
            object_address(obj), object_address(key)
        )
    )


def py_getattr(obj: PythonObject, name: StringSlice) raises -> PythonObject:
    """Returns `getattr(obj, name)`.

    Args:
        obj: The object.
        name: The attribute's name.

    Returns:
        The attribute (a new reference).

    Raises:
        The AttributeError (with its `name` and `obj`) or other exception
        Python raises, as that very exception.
    """
    var key = _name(name)
    var result = external_call["PyObject_GetAttr", Int](
        object_address(obj), object_address(key)
    )
    _ = key^
    return _owned(result)


def py_import(name: StringSlice) raises -> PythonObject:
    """Imports a module, as `importlib.import_module(name)` does.

    Args:
        name: The module's absolute dotted name.

    Returns:
        The module.

    Raises:
        The ModuleNotFoundError (with its `name`), ImportError or exception
        the module's code raises, as that very exception.
    """
    var key = _name(name)
    var result = external_call["PyImport_Import", Int](object_address(key))
    _ = key^
    return _owned(result)


@always_inline
def py_call(callable: PythonObject, *args: PythonObject) raises -> PythonObject:
    """Returns `callable(*args)`, through CPython's vectorcall (no tuple is
    built for callables that support it).

    Args:
        callable: The function, type or other callable.
        args: The positional arguments.

    Returns:
        The result (a new reference).

    Raises:
        The exception the call raises (KeyboardInterrupt included), as that
        very exception.
    """
    var count = len(args)
    if count + 1 <= _STACK_ARGUMENTS:
        var slots = stack_allocation[_STACK_ARGUMENTS, Int]()
        for i in range(count):
            slots[unsafe_offset=1 + i] = address_of(object_address(args[i]))
        return _owned(_vectorcall(callable, slots, count))
    var slots = List[Int](length=1 + count, fill=0)
    for i in range(count):
        slots[1 + i] = address_of(object_address(args[i]))
    var result = _vectorcall(callable, slots.unsafe_ptr(), count)
    _ = slots^
    return _owned(result)


def py_call_with(
    callable: PythonObject, args: PythonObject, kwargs: PythonObject
) raises -> PythonObject:
    """Returns `callable(*args, **kwargs)`: the call with keyword arguments,
    or with arguments gathered at run time.

    Args:
        callable: The function, type or other callable.
        args: The positional arguments: a tuple (passed as it is) or any
            iterable.
        kwargs: The keyword arguments: a mapping with str keys, or None.

    Returns:
        The result (a new reference).

    Raises:
        The TypeError of positional arguments that are not iterable or of a
        keyword that is not a str, the AttributeError of keyword arguments
        without `keys()` (as `dict.update` checks them), or the exception the
        call raises, as that very exception.
    """
    var positional = _owned(
        external_call["PySequence_Tuple", Int](object_address(args))
    )
    var keywords = PythonObject(None)
    var keywords_address = 0
    if address_of(object_address(kwargs)) != address_of(
        object_address(keywords)
    ):
        keywords = _owned(external_call["PyDict_New", Int]())
        if (
            external_call["PyDict_Update", c_int](
                object_address(keywords), object_address(kwargs)
            )
            != 0
        ):
            raise pending_python_error(String(""))
        keywords_address = address_of(object_address(keywords))
    var result = external_call["PyObject_Call", Int](
        object_address(callable), object_address(positional), keywords_address
    )
    _ = positional^
    _ = keywords^
    return _owned(result)


@always_inline
def py_call_method(
    obj: PythonObject, name: StringSlice, *args: PythonObject
) raises -> PythonObject:
    """Returns `obj.name(*args)`, without building the bound method when
    CPython can avoid it.

    Args:
        obj: The object whose method is called.
        name: The method's name.
        args: The positional arguments.

    Returns:
        The result (a new reference).

    Raises:
        The AttributeError of a missing method, or the exception the call
        raises, as that very exception.
    """
    var key = _name(name)
    var count = len(args)
    var result: Int
    if count + 2 <= _STACK_ARGUMENTS:
        var slots = stack_allocation[_STACK_ARGUMENTS, Int]()
        slots[unsafe_offset=1] = address_of(object_address(obj))
        for i in range(count):
            slots[unsafe_offset=2 + i] = address_of(object_address(args[i]))
        result = _method_call(key, slots, count)
    else:
        var slots = List[Int](length=2 + count, fill=0)
        slots[1] = address_of(object_address(obj))
        for i in range(count):
            slots[2 + i] = address_of(object_address(args[i]))
        result = _method_call(key, slots.unsafe_ptr(), count)
        _ = slots^
    _ = key^
    return _owned(result)


def _name(text: StringSlice) raises -> PythonObject:
    """A Python str of `text`."""
    return _owned(
        external_call["PyUnicode_FromStringAndSize", Int](
            Int(text.unsafe_ptr()), text.byte_length()
        )
    )


@always_inline
def _vectorcall(
    callable: PythonObject, slots: Pointer[Int, _], count: Int
) -> Int:
    """Calls `callable` with the `count` borrowed pointers that follow the
    free slot 0 of `slots` (slots[1], slots[2], ...); returns the new
    reference or 0."""
    return external_call["PyObject_Vectorcall", Int](
        object_address(callable),
        slots.unsafe_offset(1),
        count | _VECTORCALL_ARGUMENTS_OFFSET,
        0,
    )


@always_inline
def _method_call(name: PythonObject, slots: Pointer[Int, _], count: Int) -> Int:
    """Calls method `name` of the object at slots[1] with the `count` borrowed
    pointers that follow it (slot 0 is free); returns the new reference or
    0."""
    return external_call["PyObject_VectorcallMethod", Int](
        object_address(name),
        slots.unsafe_offset(1),
        (count + 1) | _VECTORCALL_ARGUMENTS_OFFSET,
        0,
    )
