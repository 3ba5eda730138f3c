"""Errors crossing between Python and Mojo, both ways, keeping their class.

Mojo -> Python: a Mojo `raise` inside a function bound with Mojo 1.2.0's `def_method`
reaches Python as a plain `Exception`. bufferable's convention: an `Error`
whose message starts with a Python exception class name and ": " (as the
standard library's own argument checks do: "TypeError: ...") is raised in
Python as that class by the wrappers of this package (`py_method`, the
buffer slots). `buffer_error("...")` etc. build such errors, and `set_python_error` raises
one in Python.

Python -> Mojo: `pending_python_error` turns the exception a Python call left
pending into such an error, so it can travel through Mojo code and reach
Python again with its class.
"""

from std.ffi import c_int, external_call
from std.python import Python

from .api import ERROR_CLASSES, set_error


def buffer_error(message: String) -> Error:
    """Builds an error that reaches Python as BufferError.

    Args:
        message: What went wrong.

    Returns:
        The error, to `raise`.
    """
    return Error("BufferError: ", message)


def value_error(message: String) -> Error:
    """Builds an error that reaches Python as ValueError.

    Args:
        message: What went wrong.

    Returns:
        The error, to `raise`.
    """
    return Error("ValueError: ", message)


def type_error(message: String) -> Error:
    """Builds an error that reaches Python as TypeError.

    Args:
        message: What went wrong.

    Returns:
        The error, to `raise`.
    """
    return Error("TypeError: ", message)


def index_error(message: String) -> Error:
    """Builds an error that reaches Python as IndexError.

    Args:
        message: What went wrong.

    Returns:
        The error, to `raise`.
    """
    return Error("IndexError: ", message)


def error_kind(message: StringSlice) -> Tuple[Int, Int]:
    """Finds the Python class an error message names.

    Args:
        message: An error's message.

    Returns:
        (kind, start): an `ERROR_*` of `bufferable.api` (0 when the message
        names no known class, meaning a plain Exception), and where the text
        after the "Class: " prefix begins.
    """
    comptime for i in range(len(ERROR_CLASSES)):
        comptime prefix = ERROR_CLASSES[i].prefix
        if message.startswith(prefix):
            return (ERROR_CLASSES[i].kind, prefix.byte_length())
    return (0, 0)


def set_python_error(error: Error, default_kind: Int) -> c_int:
    """Sets the current Python exception from a Mojo error, choosing the class
    from its "Class: " prefix (or `default_kind` when it has none). Needs the
    GIL and a loaded core table.

    Args:
        error: The error.
        default_kind: The `ERROR_*` kind for a message without a prefix.

    Returns:
        -1.
    """
    var text = String(error)
    var found = error_kind(text)
    if found[0] == 0:
        return set_error(default_kind, text)
    return set_error(found[0], String(text[byte=found[1]:]))


def pending_python_error(context: String) -> Error:
    """Turns the pending Python exception into an `Error` whose "Class: "
    prefix keeps its class (one of `ERROR_CLASSES`; anything else becomes a
    plain Exception), and clears it.
    Needs the GIL and a pending exception.

    Args:
        context: Text put between the prefix and the exception's message.

    Returns:
        The error, to `raise`.
    """
    ref cpy = Python().cpython()
    var prefix: StaticString = ""
    comptime for i in range(len(ERROR_CLASSES)):
        if not prefix and external_call["PyErr_ExceptionMatches", c_int](
            cpy.get_error_global(ERROR_CLASSES[i].exception)
        ) != 0:
            prefix = ERROR_CLASSES[i].prefix
    var error = cpy.get_error()
    return Error(prefix, context, String(error))
