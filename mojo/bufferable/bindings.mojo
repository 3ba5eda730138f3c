"""Giving a type bound with `PythonModuleBuilder` the buffer protocol, and the
fixes Mojo 1.2.0's bindings need (`__module__`, the type reference leaked by
every instance, exceptions of a chosen class).

An instance of a type given the buffer protocol holds, after its Mojo value,
one word counting its live exports, then its export memo (`export_memo`: the
exports the core accepted, answered again without it); the slots below keep
both, and the type's basic size makes room for them. Its `__init__` is
guarded with the count: Python can call `obj.__init__(...)` again on a live
object, and Mojo 1.2.0's own `tp_init` then overwrites the value without
destroying it; the guard refuses that with BufferError while an export is
live (a consumer still reads the old memory), and otherwise destroys the old
value once the new one is made (a failed `__init__` keeps the old one). A
table type (`add_table_protocol`) has the same guard, counting the locks of
its live Arrow arrays and streams instead (its `ExportCounter` field).
"""

from std.ffi import c_char, c_int
from std.memory import Layout
from std.sys.info import size_of
from std.python import Python, PythonObject
from std.python.bindings import PythonModuleBuilder, PythonTypeBuilder

from ._private import (
    MojoObject,
    object_address,
    PyObjectPtr,
    RawPointer,
    address_of,
    insert_slot,
    object_at,
    slot_function,
    static_word,
    type_word,
)
from .api import (
    ERROR_BUFFER,
    PyBufferView,
    bf_api,
    load_api,
    set_error,
)
from .buffer import Buffer, BufferFlags
from .bufferable import Bufferable
from .errors import set_python_error
from .export_memo import ExportMemo, remember, replay
from .refcount import require_gil_build

# CPython's slot numbers (Include/typeslots.h).
comptime _BF_GETBUFFER = 1
comptime _BF_RELEASEBUFFER = 2
comptime _TP_DEALLOC = 52
comptime _TP_INIT = 60

comptime _InitFunction = def(
    PyObjectPtr, PyObjectPtr, PyObjectPtr
) thin abi("C") -> c_int
"""A `tp_init` slot function (self, args, kwargs)."""

comptime _LockCount = def(PyObjectPtr) thin abi("C") -> Int
"""Counts the live locks of a table instance (`add_table_protocol`)."""


@always_inline
def _function_address[F: TrivialRegisterPassable](f: F) -> RawPointer:
    """The address of a (thin, C-ABI) function value."""
    var copy = f
    return Pointer(to=copy).unsafe_bitcast[RawPointer]()[]


@always_inline
def _live_exports[
    T: Deinitable
](py_self: PyObjectPtr) -> Pointer[Int, MutUntrackedOrigin]:
    """The live-export count of an instance: the word after its Mojo value
    (zeroed when CPython allocates the instance)."""
    return Pointer[Int, MutUntrackedOrigin](
        unsafe_from_address=address_of(py_self) + size_of[MojoObject[T]]()
    )


@always_inline
def _memo[
    T: Deinitable
](py_self: PyObjectPtr) -> Pointer[ExportMemo, MutUntrackedOrigin]:
    """The export memo of an instance: after its live-export count."""
    return Pointer[ExportMemo, MutUntrackedOrigin](
        unsafe_from_address=address_of(py_self)
        + size_of[MojoObject[T]]()
        + size_of[Int]()
    )


@always_inline
def _storage[
    T: Deinitable
](py_self: PyObjectPtr) -> Pointer[MojoObject[T], MutUntrackedOrigin]:
    """The storage of the Mojo value inside its Python object."""
    return Pointer[MojoObject[T], MutUntrackedOrigin](
        unsafe_from_address=address_of(py_self)
    )


# ===-----------------------------------------------------------------------===#
# The slots
# ===-----------------------------------------------------------------------===#


def _bf_getbuffer[
    T: Bufferable & Deinitable
](py_self: PyObjectPtr, view: Optional[RawPointer], flags: c_int) abi("C") -> c_int:
    """bf_getbuffer: T.__buffer__ describes; the instance's memo, or else the
    core, fills the Py_buffer."""
    if not view:
        return set_error(
            ERROR_BUFFER, "bf_getbuffer: a NULL view argument is obsolete"
        )
    var storage = _storage[T](py_self)
    if not storage[].is_initialized:
        return set_error(
            ERROR_BUFFER,
            "cannot export an uninitialized object (its __init__ never ran)",
        )
    ref value = storage[].mojo_value
    var desc: Buffer
    try:
        desc = value.__buffer__(BufferFlags(flags))
    except e:
        return set_python_error(e, ERROR_BUFFER)
    if replay(_memo[T](py_self)[], desc, flags, py_self, view.value()):
        _live_exports[T](py_self)[] += 1
        return 0
    return _export_through_core[T](py_self, view.value(), desc, flags)


@no_inline
def _export_through_core[
    T: Bufferable & Deinitable
](py_self: PyObjectPtr, view: RawPointer, mut desc: Buffer, flags: c_int) -> c_int:
    """The export of a descriptor the instance's memo does not hold: the core
    validates it and fills the view; an accepted one is remembered. Out of
    line, so that the replay path of `_bf_getbuffer` stays short."""
    var rc = bf_api().export_buffer(
        py_self,
        view,
        Pointer(to=desc).unsafe_origin_cast[MutUnsafeAnyOrigin](),
        flags,
    )
    ref live = _live_exports[T](py_self)[]
    if rc != 0:
        # The core refused (exception set, view->obj NULL): undo the count.
        _storage[T](py_self)[].mojo_value.__release_buffer__(desc)
        return rc
    if live == 0:  # nothing points into the memo: it may change
        remember(_memo[T](py_self)[], desc, flags, view)
    live += 1
    return 0


def _bf_releasebuffer[
    T: Bufferable & Deinitable
](py_self: PyObjectPtr, view: RawPointer) abi("C"):
    """bf_releasebuffer: tell T, then let the core free what it holds for the
    view (nothing for a view answered from the memo)."""
    ref v = view.unsafe_bitcast[PyBufferView]()[]
    var desc = Buffer()
    desc.data = v.buf
    desc.itemsize = Int64(v.itemsize)
    desc.format = v.format
    desc.ndim = v.ndim
    desc.readonly = v.readonly
    if v.shape:
        desc.shape = v.shape.value().unsafe_bitcast[Int64]()
    if v.strides:
        desc.strides = v.strides.value().unsafe_bitcast[Int64]()
    if v.suboffsets:
        desc.suboffsets = v.suboffsets.value().unsafe_bitcast[Int64]()
    # T first: the core may free a strides block `desc` points into.
    _storage[T](py_self)[].mojo_value.__release_buffer__(desc)
    if v.internal:  # else the core holds nothing for this view
        bf_api().release_buffer(view)
    _live_exports[T](py_self)[] -= 1


def _exports_of[T: Deinitable](py_self: PyObjectPtr) -> Int:
    """The live exports of an instance, for its `__init__` guard: its buffer
    exports if T has the buffer protocol, plus its table's locks if T is a
    table."""
    var live = 0
    if type_word["bufferable_buffer_guard.", T]()[] != 0:
        live += _live_exports[T](py_self)[]
    var locks = type_word["bufferable_table_locks.", T]()[]
    if locks != 0:
        live += Pointer(to=locks).unsafe_bitcast[_LockCount]()[](py_self)
    return live


def _tp_init[
    T: Movable & Deinitable
](py_self: PyObjectPtr, args: PyObjectPtr, kwargs: PyObjectPtr) abi("C") -> c_int:
    """tp_init: the type's own initializer (`def_py_init`'s), guarded
    against a second call while exported, and destroying the value it
    replaces (see the module docstring)."""
    var address = type_word["bufferable_tp_init.", T]()[]
    var init = Pointer(to=address).unsafe_bitcast[_InitFunction]()[]
    var storage = _storage[T](py_self)
    if not storage[].is_initialized:
        return init(py_self, args, kwargs)
    var live = _exports_of[T](py_self)
    if live > 0:
        return set_error(
            ERROR_BUFFER,
            String(
                "cannot call __init__ again on a ",
                reflect[T].name(),
                " while it is exported (",
                live,
                " live export",
                "" if live == 1 else "s",
                "): release every memoryview/array of it first",
            ),
        )
    var old = Pointer(to=storage[].mojo_value).unsafe_take_pointee()
    storage[].is_initialized = False
    var rc = init(py_self, args, kwargs)
    if rc != 0:  # the new value was not made: keep the old one
        Pointer(to=storage[].mojo_value).unsafe_write(old^)
        storage[].is_initialized = True
        return rc
    _ = old^  # replaced: destroyed now
    return 0


@fieldwise_init
struct _InitGuard(Copyable):
    """One type's guarded `__init__`: its tp_dealloc (`_tp_dealloc[T]`, which
    identifies the type builder), the guard, and where the guard finds the
    initializer."""

    var dealloc: Int
    var guard: Int
    var initializer: Int


def _init_guards() -> Pointer[List[_InitGuard], MutUntrackedOrigin]:
    """The guards `add_buffer_protocol` and `add_table_protocol` installed in
    this module (for `finalize_module`)."""
    var word = static_word["bufferable_init_guards"]()
    if word[] == 0:
        var guards = alloc(Layout[List[_InitGuard]](count=1)).unsafe_leak()
        guards.unsafe_write(List[_InitGuard]())
        word[] = Int(guards)
    return Pointer[List[_InitGuard], MutUntrackedOrigin](
        unsafe_from_address=word[]
    )


def _guard_init[
    T: Movable & Deinitable
](mut builder: PythonTypeBuilder, table_locks: Int = 0):
    """Installs `_tp_init[T]` over the initializer the builder has now
    (`finalize_module` re-wraps one installed after this call), and the
    dealloc fix, which identifies the type builder there.

    Args:
        builder: The type builder of T.
        table_locks: 0 for the buffer protocol (the guard counts the buffer
            exports), else the address of a `_LockCount` for a table (the
            guard counts its locks). A type given both counts both.
    """
    if table_locks != 0:
        type_word["bufferable_table_locks.", T]()[] = table_locks
    else:
        type_word["bufferable_buffer_guard.", T]()[] = 1
    fix_dealloc[T](builder)
    var initializer = type_word["bufferable_tp_init.", T]()
    var guard = Int(_function_address(_tp_init[T]))
    var current = slot_function(builder, _TP_INIT)
    if current != guard:
        initializer[] = current
    insert_slot(builder, _TP_INIT, RawPointer(unsafe_from_address=guard))
    _init_guards()[].append(
        _InitGuard(
            dealloc=Int(_function_address(_tp_dealloc[T])),
            guard=guard,
            initializer=Int(initializer),
        )
    )


def _tp_dealloc[T: Deinitable](py_self: PyObjectPtr) abi("C"):
    """tp_dealloc: destroy the value, free the object, and drop the
    instance's reference to its heap type (Mojo 1.2.0's own dealloc leaks it:
    the type's refcount grew by one per instance ever destroyed)."""
    ref cpy = Python().cpython()
    var type_ptr = PyObjectPtr(upcast_from=cpy.Py_TYPE(py_self))
    var storage = _storage[T](py_self)
    if storage[].is_initialized:
        storage[].is_initialized = False
        Pointer(to=storage[].mojo_value).unsafe_deinit_pointee()
    cpy.PyObject_Free(
        Pointer[NoneType, MutUntrackedOrigin](
            unsafe_from_address=address_of(py_self)
        )
    )
    cpy.Py_DecRef(type_ptr)


# ===-----------------------------------------------------------------------===#
# Public API
# ===-----------------------------------------------------------------------===#


def add_buffer_protocol[
    T: Bufferable & Deinitable
](mut builder: PythonTypeBuilder) raises:
    """Gives the Python type bound to `T` the buffer protocol: `memoryview`,
    `numpy.asarray` and every buffer consumer then see T's memory in place.

    Installs `bf_getbuffer`/`bf_releasebuffer` slots that call
    `T.__buffer__`/`T.__release_buffer__` and let the core
    (`bufferable._core`) fill and release the Py_buffer, and a `tp_dealloc`
    that releases the type reference Mojo 1.2.0's own leaks (see
    `fix_dealloc`). Guards `__init__`: calling it again on an exported
    instance raises BufferError, and on an unexported one destroys the value
    it replaces (`finalize_module` also guards an initializer declared after
    this call). Loads the core's C API now, so a missing or mismatched core
    fails the module import with a clear message.

    Call it on the builder `PythonModuleBuilder.add_type[T]` returned, before
    the module is finalized; finish with `finalize_module` to also fix
    `__module__`.

    Parameters:
        T: The bound struct.

    Args:
        builder: The type builder of T.

    Raises:
        If the core cannot be loaded (not installed, wrong version).
    """
    _ = load_api()
    require_gil_build()
    insert_slot(
        builder, _BF_GETBUFFER, _function_address(_bf_getbuffer[T])
    )
    insert_slot(
        builder, _BF_RELEASEBUFFER, _function_address(_bf_releasebuffer[T])
    )
    builder.basicsize = (
        size_of[MojoObject[T]]() + size_of[Int]() + size_of[ExportMemo]()
    )
    _guard_init[T](builder)  # with fix_dealloc


def fix_dealloc[T: Deinitable](mut builder: PythonTypeBuilder):
    """Replaces the `tp_dealloc` of a type bound with Mojo 1.2.0's
    `PythonModuleBuilder.add_type[T]` by one that also releases the
    instance's reference to its (heap) type, as CPython requires; without it
    the type's refcount grows by one per instance ever destroyed.
    (`add_buffer_protocol` and `add_table_protocol` call it.)

    Parameters:
        T: The bound struct.

    Args:
        builder: The type builder of T.
    """
    insert_slot(builder, _TP_DEALLOC, _function_address(_tp_dealloc[T]))


def finalize_module(mut builder: PythonModuleBuilder) raises -> PythonObject:
    """Finalizes a module like `PythonModuleBuilder.finalize`, then sets the
    `__module__` of every type it binds to the module's name (Mojo 1.2.0
    leaves it unset: `T.__module__` reads "builtins", pickling and
    documentation tools get it wrong, and Python warns), and gives every
    type with the buffer protocol the core's DLPack and Arrow methods
    (`__dlpack__`, `__dlpack_device__`, `__arrow_c_schema__`,
    `__arrow_c_array__`, `__arrow_c_stream__`) when the installed core
    provides them, and every type given `add_table_protocol` its table
    methods; an initializer declared after `add_buffer_protocol` or
    `add_table_protocol` is guarded too.

    Args:
        builder: The module builder.

    Returns:
        The finished module (return it from `PyInit_<name>`).

    Raises:
        If finalizing fails.
    """
    # Qualify each type's name ("mod.T") before CPython creates it: the
    # type's __module__ and __name__ then come out right, with no warning.
    var module_name = String(builder.module.__name__)
    var short_names = List[String]()
    var qualified_names = List[String]()
    ref guards = _init_guards()[]
    for ref tb in builder.type_builders:
        # An initializer declared after add_buffer_protocol (or
        # add_table_protocol) replaced the guard: put the guard back in front
        # of it.
        var dealloc = slot_function(tb, _TP_DEALLOC)
        for g in guards:
            var current = slot_function(tb, _TP_INIT)
            if g.dealloc == dealloc and current != g.guard:
                Pointer[Int, MutUntrackedOrigin](
                    unsafe_from_address=g.initializer
                )[] = current
                insert_slot(
                    tb, _TP_INIT, RawPointer(unsafe_from_address=g.guard)
                )
        var short = String(tb.type_name)
        short_names.append(short)
        if "." in short:
            qualified_names.append(short)
            continue
        var qualified = String(module_name, ".", short)
        tb.type_name = _leak_static(qualified)
        qualified_names.append(qualified)
    var module = builder.finalize()
    var builtins = Python.import_module("builtins")
    for i in range(len(short_names)):
        var t = builtins.getattr(module, qualified_names[i])
        if short_names[i] != qualified_names[i]:
            _ = builtins.setattr(module, short_names[i], t)
            _ = builtins.delattr(module, qualified_names[i])
        if builtins.hasattr(t, "__bufferable_install_table__"):
            _ = t.__bufferable_install_table__(t)  # add_table_protocol's hook
            _ = builtins.delattr(t, "__bufferable_install_table__")
        if _has_getbuffer(t):
            if bf_api().install_interop(object_address(t)) != 0:
                raise Error(
                    "bufferable: giving ",
                    short_names[i],
                    " DLPack/Arrow methods failed: ",
                    Python().cpython().get_error(),
                )
    return module


def _leak_static(text: String) -> StaticString:
    """A NUL-terminated copy of `text` that lives for the rest of the process
    (CPython keeps pointing at a heap type's spec name)."""
    var n = text.byte_length()
    var p = alloc(Layout[UInt8](count=n + 1)).unsafe_leak()
    var src = text.unsafe_ptr()
    for i in range(n):
        p[unsafe_offset=i] = src[unsafe_offset=i]
    p[unsafe_offset=n] = 0
    return StaticString(
        unsafe_from_utf8=Span[UInt8, ImmStaticOrigin](
            unsafe_ptr=Pointer[UInt8, ImmStaticOrigin](unsafe_from_address=Int(p)),
            length=n,
        )
    )


def _has_getbuffer(type_object: PythonObject) raises -> Bool:
    """Whether a type has a bf_getbuffer slot (PyType_GetSlot)."""
    ref cpy = Python().cpython()
    var get_slot = cpy.lib.get_function[Int]("PyType_GetSlot")
    var slot: Int = get_slot(object_address(type_object), c_int(_BF_GETBUFFER))
    return slot != 0


def module_init_error(error: Error) -> PythonObject:
    """Reports a failed module initialization to Python as ImportError
    (instead of aborting the process): return its result from
    `PyInit_<name>`.

    ```mojo
    @export
    def PyInit_mymod() abi("C") -> PythonObject:
        try:
            ...
            return finalize_module(m)
        except e:
            return module_init_error(e)
    ```

    Args:
        error: Why the initialization failed.

    Returns:
        A NULL object (CPython then raises the ImportError set here).
    """
    ref cpy = Python().cpython()
    var message = String(error)
    cpy.PyErr_SetString(
        cpy.get_error_global("PyExc_ImportError"),
        Pointer[c_char, ImmutAnyOrigin](
            unsafe_from_address=Int(message.as_c_string_span().ptr())
        ),
    )
    _ = message^
    return PythonObject(from_owned=PyObjectPtr())
