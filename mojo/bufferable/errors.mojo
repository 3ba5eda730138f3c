"""Errors crossing between Python and Mojo, both ways, keeping their class.

A Mojo `Error` carries only text, and Mojo 1.2.0's own wrappers raise every
error in Python as a plain `Exception`. bufferable carries the class out of
band: `buffer_error("...")` and its siblings record, in the core, for the
calling thread, that this very text stands for a BufferError (ValueError, ...),
and `pending_python_error` records the Python exception object a failed
Python call left pending. The wrappers of this package (`py_method`,
`py_function`, the buffer slots) then raise, through `set_python_error`, the
recorded exception for the text of the error they caught: the same object
for a Python exception (KeyboardInterrupt included), the recorded class for
bufferable's own errors, and a plain Exception (or the slot's default class)
for any error nobody recorded. A class is never read from the text, so an
error whose message a user wrote ("IndexError: ...") stays what it is.

Rewording an error (`reworded`) moves its record to the new text. An error
caught and dropped keeps its record until the wrapped call returns:
`py_method` and `py_function` drop every record made during a call that
returns normally (`error_note_counter`, `forget_error`), so a handled error
lends its class to no later error, and its exception object is released.
Within the call, a later error with the very same text is raised as the
recorded one. A thread has one record: an error held while a nested call
(Python calling back into Mojo) records another is raised as a plain
Exception; nested calls that record nothing leave it in place.

Mojo 1.2.0's standard library converts a failed Python operation inside its
own API (`Int(py=x)`, `obj[i]`, `obj.attr`, calls, `Python.import_module`)
into `Error(str(exception))` and clears the exception before user code sees
it: those errors reach Python as a plain Exception with the exception's
message. bufferable's own conversions (`Arguments[i]`, `Arguments.int(i)`)
and the operations of `python_ops` (`py_call`, `py_call_with`,
`py_call_method`, `py_getitem`, `py_getattr`, `py_index`, `py_float`,
`py_import`) keep the exception object.
"""

from std.ffi import c_int, external_call
from std.python import Python

from ._private import PyObjectPtr, object_at, static_word
from .api import (
    BfApi,
    ERROR_BUFFER,
    ERROR_INDEX,
    ERROR_TYPE,
    ERROR_VALUE,
    loaded_api,
    set_error,
)


@always_inline
def error_note_counter() -> Pointer[Int, MutUntrackedOrigin]:
    """Returns the address of the count of errors the code of this extension
    module has recorded so far, on any thread (the wrappers read it before
    and after a call: a call that recorded nothing leaves no record to drop).

    Returns:
        The address of the count (it only grows, modulo 2**64).
    """
    return static_word["bufferable_error_note_counter"]()


@always_inline
def _count_note():
    """Counts one record made by this extension module."""
    var count = error_note_counter()
    count[] = count[] + 1


def forget_error():
    """Drops this thread's error record, if any, and the reference it holds to
    an exception object (a function that recorded an error, caught it and
    returned normally leaves a stale one). An exception pending in Python
    stays pending. Needs the GIL.
    """
    var table = loaded_api()
    if table != 0:
        Pointer[BfApi, MutUntrackedOrigin](
            unsafe_from_address=table
        )[].forget_error()


def _noted(kind: Int, message: String) -> Error:
    """Records `message` as an error of class `kind` and returns it."""
    var table = loaded_api()
    if table != 0:
        _count_note()
        Pointer[BfApi, MutUntrackedOrigin](
            unsafe_from_address=table
        )[].note_error(kind, message, PyObjectPtr())
    return Error(message)


def python_error(kind: Int, message: String) -> Error:
    """Builds an error that reaches Python as the class `kind` (any `ERROR_*`
    of `bufferable.api`) through bufferable's wrappers.

    Args:
        kind: The class.
        message: What went wrong.

    Returns:
        The error, to `raise`.
    """
    return _noted(kind, message)


def buffer_error(message: String) -> Error:
    """Builds an error that reaches Python as BufferError.

    Args:
        message: What went wrong.

    Returns:
        The error, to `raise`.
    """
    return _noted(ERROR_BUFFER, message)


def value_error(message: String) -> Error:
    """Builds an error that reaches Python as ValueError.

    Args:
        message: What went wrong.

    Returns:
        The error, to `raise`.
    """
    return _noted(ERROR_VALUE, message)


def type_error(message: String) -> Error:
    """Builds an error that reaches Python as TypeError.

    Args:
        message: What went wrong.

    Returns:
        The error, to `raise`.
    """
    return _noted(ERROR_TYPE, message)


def index_error(message: String) -> Error:
    """Builds an error that reaches Python as IndexError.

    Args:
        message: What went wrong.

    Returns:
        The error, to `raise`.
    """
    return _noted(ERROR_INDEX, message)


def reworded(error: Error, message: String) -> Error:
    """Builds an error with a new text that reaches Python as `error` would
    have (its recorded class; a recorded exception object is raised as a new
    exception of its class, caused by the original).

    Args:
        error: The error being reworded.
        message: The new text.

    Returns:
        The error, to `raise`.
    """
    var table = loaded_api()
    if table != 0:
        Pointer[BfApi, MutUntrackedOrigin](
            unsafe_from_address=table
        )[].reword_error(String(error), message)
    return Error(message)


def set_python_error(error: Error, default_kind: Int) -> c_int:
    """Sets the current Python exception for a caught Mojo error: the one
    recorded for its text (see the module docstring), else a new exception of
    class `default_kind` (0: Exception) with its text. Needs the GIL.

    Args:
        error: The error.
        default_kind: The `ERROR_*` kind for an error nobody recorded.

    Returns:
        -1.
    """
    var table = loaded_api()
    if table == 0:
        return set_error(default_kind, String(error))
    return Pointer[BfApi, MutUntrackedOrigin](
        unsafe_from_address=table
    )[].raise_error(String(error), default_kind)


def pending_python_error(context: String) -> Error:
    """Takes the pending Python exception (clearing it) and returns an error
    whose text is `context` followed by the exception's message, recorded so
    that the wrappers raise that very exception object (or, once reworded, a
    new one of its class). Needs the GIL and a pending exception.

    Args:
        context: Text put before the exception's message.

    Returns:
        The error, to `raise`.
    """
    var kind = Int(0)
    var value = Int(0)
    var traceback = Int(0)
    external_call["PyErr_Fetch", NoneType](
        Pointer(to=kind), Pointer(to=value), Pointer(to=traceback)
    )
    if kind == 0:
        return Error(context, "(no Python exception was set)")
    external_call["PyErr_NormalizeException", NoneType](
        Pointer(to=kind), Pointer(to=value), Pointer(to=traceback)
    )
    if traceback != 0:
        _ = external_call["PyException_SetTraceback", c_int](value, traceback)
    var text = String(context)
    var described = external_call["PyObject_Str", Int](value)
    if described != 0:
        var size = Int(0)
        var utf8 = external_call["PyUnicode_AsUTF8AndSize", Int](
            described, Pointer(to=size)
        )
        if utf8 != 0:
            text += StringSlice(
                unsafe_from_utf8=Span[Byte, ImmutAnyOrigin](
                    unsafe_ptr=Pointer[Byte, ImmutAnyOrigin](
                        unsafe_from_address=utf8
                    ),
                    length=size,
                )
            )
        external_call["Py_DecRef", NoneType](described)
    if external_call["PyErr_Occurred", Int]() != 0:
        external_call["PyErr_Clear", NoneType]()  # str() itself failed
    var table = loaded_api()
    if table != 0:
        _count_note()
        ref api = Pointer[BfApi, MutUntrackedOrigin](
            unsafe_from_address=table
        )[]
        api.note_error(0, text, object_at(value))
        if context:  # the text is not the exception's own: raise a reworded one
            api.reword_error(text, text)
    external_call["Py_DecRef", NoneType](kind)
    external_call["Py_DecRef", NoneType](value)
    if traceback != 0:
        external_call["Py_DecRef", NoneType](traceback)
    return Error(text^)
