"""Calling Mojo functions from Python with the errors' classes kept.

`py_function[f]` wraps `def f(self, args: Arguments) raises -> PythonObject`
(or a function returning nothing) as a METH_FASTCALL C function: no tuple is
built, CPython hands over its own argument array and `args[i]` reads it in
place. `py_method[f]` wraps `def f(mut self, mut args) raises -> PythonObject`
as a METH_VARARGS one (args is the positional tuple CPython builds for every
call): the slower convention, kept for compatibility. Register either with
`PythonModuleBuilder.def_py_c_function(py_function[f], "name")` or
`PythonTypeBuilder.def_py_c_method(...)`. Typed functions (`bind_function`,
`typed_calls.mojo`) need neither.

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

from std.ffi import external_call
from std.python import PythonObject

from ._private import (
    PyObjectPtr,
    address_of,
    object_address,
    object_at,
    static_word,
)
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
    # New references taken (and dropped below) with CPython's own
    # Py_IncRef/Py_DecRef: the standard library's PythonObject(from_borrowed=)
    # and its destructor look the interpreter up and check the GIL each time
    # (about 70 instructions apiece). `func` may assign to either (they are
    # `mut`): what is in them afterwards is what gets released.
    external_call["Py_IncRef", NoneType](py_self)
    external_call["Py_IncRef", NoneType](args)
    var s = PythonObject(from_owned=py_self)
    var a = PythonObject(from_owned=args)
    var noted = error_note_counter()
    var before = noted[]
    var result: PyObjectPtr
    try:
        result = _returned(func(s, a), noted, before)
    except e:
        result = _raised(e)
    external_call["Py_DecRef", NoneType](s^.steal_data())
    external_call["Py_DecRef", NoneType](a^.steal_data())
    return result


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
    def __getitem__(
        self, index: Int
    ) raises -> ref[ImmutAnyOrigin] PythonObject:
        """Returns argument `index`: a reference to CPython's own slot, valid
        for the call (no reference is taken; copy it, `var x = args[0]`, to
        keep one).

        Args:
            index: 0 <= index < len(self).

        Returns:
            The argument.

        Raises:
            IndexError if there is no such argument.
        """
        _ = self.borrowed(index)  # bounds
        return Pointer[PythonObject, ImmutAnyOrigin](
            unsafe_from_address=self._items + 8 * index
        )[]

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
"""A function taking (self, positional arguments) (`py_function` wraps it;
it also wraps one that returns nothing)."""


def py_function[
    R: Deinitable & Movable, //, func: def(PythonObject, Arguments) thin raises -> R
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

    A function that returns nothing (`def fill(module: PythonObject, args:
    Arguments) raises:`) returns None to Python, without the standard
    library's `PythonObject(None)` (which looks the interpreter up and
    checks the GIL on every call).

    Parameters:
        R: `PythonObject`, or `None` for a function that returns nothing
            (inferred).
        func: `def(self: PythonObject, args: Arguments) raises ->
            PythonObject` (or returning nothing).

    Args:
        py_self: The instance or module (borrowed).
        args: CPython's array of positional arguments (borrowed).
        nargs: Their number.

    Returns:
        A new reference to the result, or NULL with an exception set.
    """
    comptime assert R == PythonObject or R == type_of(None), (
        "py_function: the function returns PythonObject or nothing"
    )
    var noted = error_note_counter()
    var before = noted[]
    # `self` is read in place (a borrowed PythonObject, no reference taken).
    var self_slot = py_self
    try:
        comptime if R == PythonObject:
            var result = rebind_var[PythonObject](
                func(
                    Pointer[PythonObject, ImmutAnyOrigin](
                        unsafe_from_address=Int(Pointer(to=self_slot))
                    )[],
                    Arguments(Int(args), nargs),
                )
            )
            _ = self_slot
            return _returned(result^, noted, before)
        else:
            _ = func(
                Pointer[PythonObject, ImmutAnyOrigin](
                    unsafe_from_address=Int(Pointer(to=self_slot))
                )[],
                Arguments(Int(args), nargs),
            )
            _ = self_slot
            if noted[] != before:
                forget_error()
            return none_reference()
    except e:
        return _raised(e)


@always_inline
def none_reference() -> PyObjectPtr:
    """A new reference to None, through CPython's `Py_IncRef` (None is
    immortal from 3.12 on, which an inline add would not respect)."""
    var table = static_word["bufferable_none"]()[]
    if table == 0:
        table = _none_slow()
    external_call["Py_IncRef", NoneType](table)
    return object_at(table)


@no_inline
def _none_slow() -> Int:
    """Records the address of None (it lives as long as the interpreter)."""
    var none = PythonObject(None)
    var word = static_word["bufferable_none"]()
    word[] = address_of(object_address(none))
    return word[]


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
