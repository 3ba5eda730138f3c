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
- `std.builtin.variadics._call_with_dynamic_pack_pointers` and
  `_create_dynamic_pack`: call a function whose parameters are a pack
  (`def(*args: *Ts)`) with values held at run-time addresses (the typed
  bindings, `typed_calls.mojo`).
- `PyMethodDef.method_flags` (`std.python._cpython`), in the entries of
  `PythonModuleBuilder.functions` and `PythonTypeBuilder.methods`: the
  calling convention of a C function (METH_O, METH_FASTCALL | METH_KEYWORDS,
  ...), which the builders' own `def_py_c_*` fix to others.
"""

from std.builtin.string_literal import _get_kgen_string
from std.builtin.variadics import (
    _call_with_dynamic_pack_pointers,
    _create_dynamic_pack,
)
from std.ffi import c_int, _get_global as _std_get_global
from std.memory import OpaquePointer
from std.python import PythonObject
from std.python._cpython import (
    PyObjectPtr as _PyObjectPtr,
    PyType_Slot as _PyType_Slot,
)
from std.python.bindings import (
    PythonModuleBuilder,
    PythonTypeBuilder,
    PyMojoObject as _PyMojoObject,
)
from std.reflection import get_linkage_name

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


@no_inline
def function_word[
    func_type: AnyType, //, name: StaticString, func: func_type
]() -> Pointer[Int, MutUntrackedOrigin]:
    """Returns the address of a zero-initialized, pointer-sized static variable
    of the shared library being built, one per (`name`, `func`): `type_word`
    for a value that belongs to one function (its symbol is `name` followed
    by the function's linkage name).

    Parameters:
        name: The variable's name prefix (local to the module).
        func_type: The function's type (inferred).
        func: The function it belongs to.

    Returns:
        The variable's address (valid for the life of the process).
    """
    return Pointer[Int, MutUntrackedOrigin](
        _mlir_value=__mlir_op.`pop.global_alloc`[
            name=_get_kgen_string[name, get_linkage_name[func]()](),
            count=Int(1).__mlir_index__(),
            _type=Pointer[Int, MutUntrackedOrigin]._mlir_type,
            alignment=Int(8).__mlir_index__(),
        ]()
    )


@always_inline
def call_with_pack[
    Ts: TypeList[Trait=AnyType, ...],
    R: AnyType,
    //,
    func: def(*args: *Ts) raises thin -> R,
](addresses: Int) raises -> R:
    """Calls `func` with its arguments read in place: argument `i` is the
    value at the address stored in the word `addresses + 8 * i` (borrowed:
    each must stay alive until the call returns).

    Parameters:
        Ts: The parameter types (inferred).
        R: The result type (inferred).
        func: The function.

    Args:
        addresses: The address of `len(Ts)` words, each an argument's
            address.

    Returns:
        What `func` returns.
    """

    @always_inline
    def get_arg_ptr[
        idx: Int
    ]() {addresses} -> Pointer[Ts[idx], MutUnsafeAnyOrigin]:
        return Pointer[Ts[idx], MutUnsafeAnyOrigin](
            unsafe_from_address=Pointer[Int, MutUntrackedOrigin](
                unsafe_from_address=addresses + 8 * idx
            )[]
        )

    return _call_with_dynamic_pack_pointers[ArgTrait=AnyType, func](
        get_arg_ptr
    )


@always_inline
def call_method_with_pack[
    S: AnyType,
    Ts: TypeList[Trait=AnyType, ...],
    R: AnyType,
    //,
    method: def(mut self_: S, *args: *Ts) raises thin -> R,
](self_address: Int, addresses: Int) raises -> R:
    """`call_with_pack` for a method taking `mut self`: `self` is the value
    at `self_address`.

    Parameters:
        S: The type of `self` (inferred).
        Ts: The other parameter types (inferred).
        R: The result type (inferred).
        method: The method.

    Args:
        self_address: The address of `self`.
        addresses: As for `call_with_pack`.

    Returns:
        What `method` returns.
    """

    @always_inline
    def make_elem_ptr[
        idx: Int
    ]() {addresses} -> Pointer[Ts[idx], MutUnsafeAnyOrigin]:
        return Pointer[Ts[idx], MutUnsafeAnyOrigin](
            unsafe_from_address=Pointer[Int, MutUntrackedOrigin](
                unsafe_from_address=addresses + 8 * idx
            )[]
        )

    var pack = _create_dynamic_pack[ArgTrait=AnyType, Ts](make_elem_ptr)
    return method(
        Pointer[S, MutUnsafeAnyOrigin](unsafe_from_address=self_address)[],
        *pack,
    )


def set_last_function_flags(mut builder: PythonModuleBuilder, flags: Int):
    """Sets the calling convention (`ml_flags`) of the function declared
    last on a module builder.

    Args:
        builder: The module builder.
        flags: CPython's METH_* bits.
    """
    builder.functions[len(builder.functions) - 1].method_flags = c_int(flags)


def set_last_method_flags(mut builder: PythonTypeBuilder, flags: Int):
    """Sets the calling convention (`ml_flags`) of the method declared last
    on a type builder.

    Args:
        builder: The type builder.
        flags: CPython's METH_* bits.
    """
    builder.methods[len(builder.methods) - 1].method_flags = c_int(flags)
