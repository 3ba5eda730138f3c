"""Raising Python exceptions of a chosen class from Mojo.

A Mojo `raise` inside a function bound with Mojo 1.2.0's `def_method`
reaches Python as a plain `Exception`. bufferable's convention: an `Error`
whose message starts with a Python exception class name and ": " (as the
standard library's own argument checks do: "TypeError: ...") is raised in
Python as that class by the wrappers of this package (`py_method`, the
buffer slots). `buffer_error("...")` etc. build such errors.
"""

from std.ffi import c_int

from .api import (
    ERROR_BUFFER,
    ERROR_INDEX,
    ERROR_MEMORY,
    ERROR_RUNTIME,
    ERROR_TYPE,
    ERROR_VALUE,
    set_error,
)


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
    comptime prefixes = (
        ("BufferError: ", ERROR_BUFFER),
        ("ValueError: ", ERROR_VALUE),
        ("TypeError: ", ERROR_TYPE),
        ("IndexError: ", ERROR_INDEX),
        ("MemoryError: ", ERROR_MEMORY),
        ("RuntimeError: ", ERROR_RUNTIME),
    )
    comptime for i in range(6):
        if message.startswith(prefixes[i][0]):
            return (prefixes[i][1], prefixes[i][0].byte_length())
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
