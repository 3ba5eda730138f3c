"""Calling Mojo functions from Python with the errors' classes kept.

`py_method[f]` wraps `def f(mut self, mut args) raises -> PythonObject` as a
METH_VARARGS C function (args is the positional tuple); `py_function[f]`
wraps `def f(self, args: Arguments) raises -> PythonObject` as a
METH_FASTCALL one (no tuple is built: CPython hands over its own argument
array), the fast convention for functions called in tight loops. Register
either with `PythonModuleBuilder.def_py_c_function(py_function[f], "name")`
or `PythonTypeBuilder.def_py_c_method(...)`.

Both raise a caught error in Python as `bufferable.errors` recorded it: the
same exception object for a Python exception bufferable took (KeyboardInterrupt
included), BufferError/ValueError/TypeError/IndexError for bufferable's own
errors, and a plain Exception for any other error (Mojo 1.2.0's own wrappers
make every error a plain Exception). bufferable takes the Python exceptions
of `Arguments` (`args[i]`, `args.int(i)`) and of the operations of
`python_ops` (`py_call`, `py_call_with`, `py_call_method`, `py_getitem`,
`py_getattr`, `py_index`, `py_float`, `py_import`); the same operations
through Mojo's standard library (`Int(py=x)`, `obj[i]`, `obj(...)`) reach
Python as a plain Exception carrying the message, because the standard
library clears the exception. A call that returns normally drops the records
it made, so an error handled in Mojo lends its class to no later error.
"""

from std.python import PythonObject

from ._private import PyObjectPtr, object_at
from .errors import (
    error_note_counter,
    forget_error,
    index_error,
    set_python_error,
)
from .python_ops import index_of


comptime PyMethodFunction = def(
    mut PythonObject, mut PythonObject
) thin raises -> PythonObject
"""A function taking (self, args tuple) as Python objects (`py_method` wraps
it)."""


def py_method[
    func: PyMethodFunction
](py_self: PyObjectPtr, args: PyObjectPtr) abi("C") -> PyObjectPtr:
    """A METH_VARARGS C function that calls `func` and raises its errors in
    Python with the class `bufferable.errors` recorded for them.

    Parameters:
        func: `def(mut self: PythonObject, mut args: PythonObject) raises ->
            PythonObject`; get a bound struct with
            `self.downcast_value_ptr[T]()`.

    Args:
        py_self: The instance or module (borrowed).
        args: The positional arguments tuple (borrowed).

    Returns:
        A new reference to the result, or NULL with an exception set.
    """
    var s = PythonObject(from_borrowed=py_self)
    var a = PythonObject(from_borrowed=args)
    var noted = error_note_counter()
    var before = noted[]
    try:
        return _returned(func(s, a), noted, before)
    except e:
        return _raised(e)


struct Arguments(Sized):
    """The positional arguments of a `py_function` call: CPython's own array,
    borrowed for the duration of the call (no tuple is built)."""

    var _items: Int
    """Address of the first `PyObject *`."""
    var _count: Int
    """Number of arguments."""

    @doc_hidden
    def __init__(out self, items: Int, count: Int):
        """Wraps CPython's argument array."""
        self._items = items
        self._count = count

    @always_inline
    def __len__(self) -> Int:
        """Returns the number of positional arguments.

        Returns:
            The count.
        """
        return self._count

    @always_inline
    def borrowed(self, index: Int) raises -> PyObjectPtr:
        """Returns argument `index` without a new reference (valid for the
        call).

        Args:
            index: 0 <= index < len(self).

        Returns:
            The borrowed `PyObject *`.

        Raises:
            IndexError if there is no such argument.
        """
        if index < 0 or index >= self._count:
            raise index_error(
                String(
                    "argument ",
                    index,
                    " is missing: the function was given ",
                    self._count,
                    " positional argument",
                    "" if self._count == 1 else "s",
                )
            )
        return object_at(
            Pointer[Int, MutUntrackedOrigin](
                unsafe_from_address=self._items + 8 * index
            )[]
        )

    @always_inline
    def __getitem__(self, index: Int) raises -> PythonObject:
        """Returns argument `index` (a new reference).

        Args:
            index: 0 <= index < len(self).

        Returns:
            The argument.

        Raises:
            IndexError if there is no such argument.
        """
        return PythonObject(from_borrowed=self.borrowed(index))

    def int(self, index: Int) raises -> Int:
        """Converts argument `index` to an Int as `operator.index` does.

        Args:
            index: 0 <= index < len(self).

        Returns:
            The value.

        Raises:
            IndexError if there is no such argument; the TypeError or
            OverflowError Python raises, as that very exception.
        """
        return index_of(self.borrowed(index))


comptime PyFunction = def(PythonObject, Arguments) thin raises -> PythonObject
"""A function taking (self, positional arguments) (`py_function` wraps it)."""


def py_function[
    func: PyFunction
](
    py_self: PyObjectPtr,
    args: Pointer[PyObjectPtr, MutUntrackedOrigin],
    nargs: Int,
) abi("C") -> PyObjectPtr:
    """A METH_FASTCALL C function that calls `func` and raises its errors in
    Python with the class `bufferable.errors` recorded for them.

    ```mojo
    def total(module: PythonObject, args: Arguments) raises -> PythonObject:
        var v = MemoryView[DType.float64, 2, mut=False](args[0])
        ...

    m.def_py_c_function(py_function[total], "total")
    ```

    Parameters:
        func: `def(self: PythonObject, args: Arguments) raises ->
            PythonObject`.

    Args:
        py_self: The instance or module (borrowed).
        args: CPython's array of positional arguments (borrowed).
        nargs: Their number.

    Returns:
        A new reference to the result, or NULL with an exception set.
    """
    var s = PythonObject(from_borrowed=py_self)
    var noted = error_note_counter()
    var before = noted[]
    try:
        return _returned(func(s, Arguments(Int(args), nargs)), noted, before)
    except e:
        return _raised(e)


@always_inline
def _returned(
    var result: PythonObject,
    noted: Pointer[Int, MutUntrackedOrigin],
    before: Int,
) -> PyObjectPtr:
    """Hands `result` over; drops the record of an error the call recorded
    and handled (`noted`: `error_note_counter()`, which held `before` when
    the call began)."""
    if noted[] != before:
        forget_error()
    return result^.steal_data()


@no_inline
def _raised(error: Error) -> PyObjectPtr:
    """Sets the Python exception for `error`; returns NULL."""
    _ = set_python_error(error, 0)
    return PyObjectPtr()
