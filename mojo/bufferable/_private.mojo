"""Every private Mojo standard-library name that bufferable relies on, in one place.

Mojo 1.2.0's Python bindings do not (yet) offer raw type slots, a process-wide
value, a static variable, or access to the storage of a bound object.
bufferable needs all four,
so it reaches into the standard library here, and only here: each private name
is re-exported under a name of ours, and the test
`tests/mojo/test_private_api.py` builds a module that uses every one of them,
so that an upgrade of Mojo that moves or changes any of them fails loudly in
one obvious place instead of miscompiling somewhere else.

The supported Mojo version is pinned in `pyproject.toml` (extra `mojo`).

Private names used (Mojo 1.2.0):

- `std.ffi._get_global`: a process-wide value created once by name.
- `std.builtin.string_literal._get_kgen_string` and the compiler operation
  `pop.global_alloc` (no library wrapper for host code in 1.2.0): a static
  word in the data segment of the module being built (`static_word`).
- `std.python._cpython.PyObjectPtr`, `PyType_Slot`: the CPython ABI types.
- `PyObjectPtr._unsized_obj_ptr`: the address held by a `PyObjectPtr`.
- `PythonObject._obj_ptr`: the `PyObject*` a `PythonObject` holds.
- `PythonTypeBuilder._insert_slot`: installs any type slot.
- `std.python.bindings.PyMojoObject` (public name, internal layout): the
  storage of a bound Mojo value inside its Python object.
- `PythonTypeBuilder._slots`: the slots installed so far (to wrap one).
"""

from std.builtin.string_literal import _get_kgen_string
from std.ffi import c_int, _get_global as _std_get_global
from std.memory import OpaquePointer
from std.python import PythonObject
from std.python._cpython import (
    PyObjectPtr as _PyObjectPtr,
    PyType_Slot as _PyType_Slot,
)
from std.python.bindings import PythonTypeBuilder, PyMojoObject as _PyMojoObject

comptime MOJO_VERSION = "1.2.0"
"""The Mojo version these private names were checked against."""

comptime RawPointer = OpaquePointer[MutUntrackedOrigin]
"""An untyped address whose lifetime is managed by hand (C's `void *`)."""

comptime PyObjectPtr = _PyObjectPtr
"""CPython's `PyObject *` as the standard library spells it (private)."""

comptime MojoObject = _PyMojoObject
"""The layout of a Python object holding a bound Mojo value: the PyObject
header, then the value, then a flag telling whether the value was initialized."""


@always_inline
def get_global[
    name: StaticString,
    init_fn: def() thin -> Optional[RawPointer],
    destroy_fn: def(Optional[RawPointer]) thin -> None,
]() -> Optional[RawPointer]:
    """Returns the process-wide value registered under `name`, creating it with
    `init_fn` on first use (the Mojo runtime keeps it until the process exits,
    then calls `destroy_fn`).

    Parameters:
        name: The unique name of the value.
        init_fn: Creates the value; returning None means "not available" (the
            next call tries again).
        destroy_fn: Destroys the value at exit.

    Returns:
        The value's address, or None if `init_fn` returned None.
    """
    return _std_get_global[name, init_fn, destroy_fn]()


@no_inline
def static_word[name: StaticString]() -> Pointer[Int, MutUntrackedOrigin]:
    """Returns the address of a zero-initialized, pointer-sized static variable
    of the shared library being built: C's `static intptr_t name;`, which Mojo
    1.2.0 has no syntax for ("global variables are not supported").

    Reading it is one load, where `get_global` is a call into the Mojo runtime
    that looks the name up (about 10 ns). Each extension module built with
    bufferable gets its own copy (so use it as a per-module cache of a value
    that `get_global` records process-wide), and threads share it (a word
    written once before other threads can read it, or written with the same
    value by every writer, needs no lock).

    `@no_inline` is load-bearing: the compiler operation that allocates the
    variable is pure, so every inlined copy of it would allocate a variable of
    its own and a value written through one copy would not be seen through
    another. Out of line, every caller in the module gets the same address
    (tests/mojo/test_private_api.py checks it).

    Parameters:
        name: The variable's symbol name (local to the module).

    Returns:
        The variable's address (valid for the life of the process).
    """
    return Pointer[Int, MutUntrackedOrigin](
        _mlir_value=__mlir_op.`pop.global_alloc`[
            name=_get_kgen_string[name](),
            count=Int(1).__mlir_index__(),
            _type=Pointer[Int, MutUntrackedOrigin]._mlir_type,
            alignment=Int(8).__mlir_index__(),
        ]()
    )


@no_inline
def type_word[
    name: StaticString, T: AnyType
]() -> Pointer[Int, MutUntrackedOrigin]:
    """Returns the address of a zero-initialized, pointer-sized static variable
    of the shared library being built, one per (`name`, `T`): `static_word`
    for a value that belongs to one type (its symbol is `name` followed by
    T's qualified name, which Mojo's bindings already require to be unique
    among bound types).

    Parameters:
        name: The variable's name prefix (local to the module).
        T: The type it belongs to.

    Returns:
        The variable's address (valid for the life of the process).
    """
    return Pointer[Int, MutUntrackedOrigin](
        _mlir_value=__mlir_op.`pop.global_alloc`[
            name=_get_kgen_string[
                name, reflect[T].name[qualified_builtins=True]()
            ](),
            count=Int(1).__mlir_index__(),
            _type=Pointer[Int, MutUntrackedOrigin]._mlir_type,
            alignment=Int(8).__mlir_index__(),
        ]()
    )


def slot_function(builder: PythonTypeBuilder, slot_id: Int) -> Int:
    """Returns the address of the function installed in one type slot of a
    type being built, or 0 if none is.

    Args:
        builder: The type builder (before its module is finalized).
        slot_id: The slot number from CPython's `typeslots.h`.

    Returns:
        The function's address, or 0.
    """
    var found = builder._slots.get(slot_id)
    if found:
        var function = found.value()
        if function:
            return Int(function.value())
    return 0


@always_inline
def object_address(obj: PythonObject) -> PyObjectPtr:
    """Returns the borrowed `PyObject *` held by a `PythonObject`.

    Args:
        obj: The object.

    Returns:
        Its address (borrowed: `obj` still owns the reference).
    """
    return obj._obj_ptr


@always_inline
def address_of(ptr: PyObjectPtr) -> Int:
    """Returns the numeric address held by a `PyObjectPtr` (0 for NULL).

    Args:
        ptr: The pointer.

    Returns:
        The address as an integer.
    """
    if ptr._unsized_obj_ptr:
        return Int(ptr._unsized_obj_ptr.value())
    return 0


@always_inline
def object_at(address: Int) -> PyObjectPtr:
    """Returns a `PyObjectPtr` for a numeric address.

    Args:
        address: The address of a live Python object (or 0 for NULL).

    Returns:
        The pointer.
    """
    var p = PyObjectPtr()
    if address != 0:
        p._unsized_obj_ptr = type_of(p._unsized_obj_ptr.value())(
            unsafe_from_address=address
        )
    return p


def insert_slot(
    mut builder: PythonTypeBuilder, slot_id: Int, function: RawPointer
):
    """Installs (or replaces) one CPython type slot on a type being built.

    Args:
        builder: The type builder (before its module is finalized).
        slot_id: The slot number from CPython's `typeslots.h` (e.g. 1 for
            `bf_getbuffer`, 52 for `tp_dealloc`).
        function: The address of the slot's C-ABI function.
    """
    builder._insert_slot(_PyType_Slot(c_int(slot_id), function))
