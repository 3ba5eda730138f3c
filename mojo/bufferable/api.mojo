"""The core's C function table (`BfApi` of bufferable.h), loaded once per
process from the capsule `bufferable._core._C_API`.

Everything Mojo does with Python buffers goes through this table: the core
fills and releases Py_buffers (export side), acquires views of any Python
object (consumer side), parses formats and sets Python exceptions of the
right class. Mojo never re-implements any of it.

Usage:

```mojo
from bufferable.api import bf_api, load_api, ERROR_BUFFER

load_api()               # once, where raising is fine (e.g. module init)
ref api = bf_api()       # then anywhere, cheaply (one load: no Python call,
                         # no runtime lookup)
_ = api.set_error(ERROR_BUFFER, "message".unsafe_ptr().bitcast[c_char]())
```
"""

from std.ffi import c_char, c_int
from std.memory import OpaquePointer
from std.python import Python, PythonObject
from std.sys.info import size_of

from ._private import (
    RawPointer,
    PyObjectPtr,
    get_global,
    object_address,
    static_word,
)
from .buffer import Buffer

comptime API_VERSION_MAJOR = 1
"""The major version of bufferable.h this package was written for."""
comptime API_VERSION_MINOR = 0
"""The minor version of bufferable.h this package needs at least."""
comptime API_CAPSULE_NAME = "bufferable._core._C_API"
"""The capsule's name (`BF_API_CAPSULE_NAME`)."""
comptime MAX_NDIM = 64
"""Largest ndim the core exports or acquires (`BF_MAX_NDIM`)."""

comptime ERROR_BUFFER = 1
"""`BF_ERROR_BUFFER`: BufferError."""
comptime ERROR_VALUE = 2
"""`BF_ERROR_VALUE`: ValueError."""
comptime ERROR_TYPE = 3
"""`BF_ERROR_TYPE`: TypeError."""
comptime ERROR_INDEX = 4
"""`BF_ERROR_INDEX`: IndexError."""
comptime ERROR_MEMORY = 5
"""`BF_ERROR_MEMORY`: MemoryError."""
comptime ERROR_RUNTIME = 6
"""`BF_ERROR_RUNTIME`: RuntimeError."""

@fieldwise_init
struct ErrorClass(ImplicitlyCopyable):
    """One row of `ERROR_CLASSES`: a Python exception class in each of the
    forms bufferable names it."""

    var kind: Int
    """The `ERROR_*` kind (C's `BfErrorKind`)."""
    var exception: StaticString
    """CPython's exception object (`PyExc_...`)."""


comptime ERROR_CLASSES = (
    ErrorClass(ERROR_BUFFER, "PyExc_BufferError"),
    ErrorClass(ERROR_VALUE, "PyExc_ValueError"),
    ErrorClass(ERROR_TYPE, "PyExc_TypeError"),
    ErrorClass(ERROR_INDEX, "PyExc_IndexError"),
    ErrorClass(ERROR_MEMORY, "PyExc_MemoryError"),
    ErrorClass(ERROR_RUNTIME, "PyExc_RuntimeError"),
)
"""Every `ERROR_*` kind, one row each."""


@fieldwise_init
struct DataType(Copyable, TrivialRegisterPassable):
    """C's `BfDataType`: an element type in DLPack's encoding (4 bytes)."""

    var code: UInt8
    """One of the `DTYPE_*` codes of `bufferable.dtype`."""
    var bits: UInt8
    """Width of one lane in bits; 0 for DTYPE_NONE."""
    var lanes: UInt16
    """Number of lanes (1 for every buffer-protocol format)."""


struct FormatInfo(Copyable, Defaultable):
    """C's `BfFormatInfo`: what `BfApi.parse_format` learns from a format."""

    var itemsize: Int64
    """Size in bytes of one item (struct.calcsize)."""
    var alignment: Int64
    """Alignment in bytes the format asks for."""
    var byteorder: c_char
    """'<', '>', '@', '=' or '|' (order does not matter)."""
    var native_order: UInt8
    """Nonzero when every multi-byte scalar is in this machine's order."""
    var nfields: Int32
    """Number of top-level fields (1 for a scalar)."""
    var dtype: DataType
    """The element type when the item is one scalar, else code DTYPE_NONE."""

    def __init__(out self):
        """A zeroed record, to be filled by `parse_format`."""
        self.itemsize = 0
        self.alignment = 0
        self.byteorder = 0
        self.native_order = 0
        self.nfields = 0
        self.dtype = DataType(0, 0, 0)


struct PyBufferView(Copyable, Defaultable):
    """CPython's `Py_buffer` (80 bytes), as the slots receive it."""

    var buf: Optional[RawPointer]
    """Start of the memory."""
    var obj: Optional[RawPointer]
    """The exporter (a strong reference while the view is live)."""
    var len: Int
    """product(shape) * itemsize."""
    var itemsize: Int
    """Size of one item in bytes."""
    var readonly: Int32
    """Nonzero if read-only."""
    var ndim: Int32
    """Number of dimensions."""
    var format: Optional[Pointer[c_char, MutUntrackedOrigin]]
    """Format, or None (= "B") when the consumer did not ask for it."""
    var shape: Optional[Pointer[Int, MutUntrackedOrigin]]
    """Extents, or None when the consumer did not ask for them."""
    var strides: Optional[Pointer[Int, MutUntrackedOrigin]]
    """Byte strides, or None."""
    var suboffsets: Optional[Pointer[Int, MutUntrackedOrigin]]
    """Suboffsets, or None."""
    var internal: Optional[RawPointer]
    """Exporter's private pointer (the core's)."""

    def __init__(out self):
        """A zeroed view."""
        self.buf = None
        self.obj = None
        self.len = 0
        self.itemsize = 0
        self.readonly = 0
        self.ndim = 0
        self.format = None
        self.shape = None
        self.strides = None
        self.suboffsets = None
        self.internal = None


comptime AcquisitionPtr = Optional[RawPointer]
"""An opaque `BfAcquisition *` (None is NULL)."""

comptime BufferPtr = Pointer[Buffer, MutUnsafeAnyOrigin]
"""A `BfBuffer *`.

Pointers handed to the core are typed with `MutUnsafeAnyOrigin` ("may alias
anything"), never `MutUntrackedOrigin`: with an untracked origin the compiler
does not see that the core reads the local a pointer was taken from and may
drop its stores (measured with Mojo 1.2.0: the core then read garbage). Take
them as `Pointer(to=local).unsafe_origin_cast[MutUnsafeAnyOrigin]()`."""

comptime AcquireFunction = def(
    PyObjectPtr, c_int, BufferPtr, Pointer[AcquisitionPtr, MutUnsafeAnyOrigin]
) thin abi("C") -> c_int
"""The signature shared by `acquire`, `acquire_dlpack` and `acquire_arrow`:
(obj, flags, out: BfBuffer*, acq: BfAcquisition**) -> 0, or -1 with an
exception set."""


struct BfApi:
    """C's `BfApi`: the core's function table, field for field (version 1.0
    plus the appended DLPack/Arrow entries, which a core may not fill: see
    `has`).

    Obtain it with `bf_api()`; never build one. Every `c_int` function
    returns 0 on success and -1 with a Python exception set; all of them
    need the GIL except `acquisition_incref`/`acquisition_decref`.
    """

    var version_major: UInt16
    """The core's BF_API_VERSION_MAJOR."""
    var version_minor: UInt16
    """The core's BF_API_VERSION_MINOR."""
    var size: UInt32
    """sizeof(BfApi) as the core was compiled."""

    var export_buffer: def(
        PyObjectPtr, RawPointer, BufferPtr, c_int
    ) thin abi("C") -> c_int
    """export_buffer(exporter, view: Py_buffer*, desc, flags): fill `view`
    for a request from `desc` (validated); view->obj takes a reference."""

    var release_buffer: def(RawPointer) thin abi("C") -> None
    """release_buffer(view): undo what export_buffer allocated, once per
    successful export, from the exporter's bf_releasebuffer slot."""

    var acquire: AcquireFunction
    """acquire(obj, flags, out: BfBuffer*, acq: BfAcquisition**): a
    consumer view of any Python buffer, with a reference-counted owner."""

    var acquisition_incref: def(AcquisitionPtr) thin abi("C") -> None
    """Adds a reference to an acquisition (atomic; no GIL needed)."""

    var acquisition_decref: def(AcquisitionPtr) thin abi("C") -> None
    """Drops a reference; the last one releases the Py_buffer exactly once
    (taking the GIL itself if needed). NULL is ignored."""

    var acquisition_object: def(AcquisitionPtr) thin abi("C") -> PyObjectPtr
    """The Python object an acquisition holds (borrowed)."""

    var parse_format: def(
        Optional[Pointer[c_char, MutUnsafeAnyOrigin]],
        Pointer[FormatInfo, MutUnsafeAnyOrigin],
    ) thin abi("C") -> c_int
    """parse_format(format, out): validate a PEP 3118 format (NULL = "B")."""

    var set_error: def(
        c_int, Pointer[c_char, MutUnsafeAnyOrigin]
    ) thin abi("C") -> c_int
    """set_error(kind, message): set the Python exception of class `kind`
    (an `ERROR_*`); returns -1."""

    # --- later minor versions: read a field only when `has(...)` its version ---

    var _install_interop: Int
    """install_interop(type) -> int: give a buffer-exporting type
    __dlpack__, __dlpack_device__, __arrow_c_schema__, __arrow_c_array__.
    Call through `install_interop`."""
    var _acquire_dlpack: Int
    """acquire_dlpack(obj, flags, out, acq) -> int (like `acquire`, through
    __dlpack__). Address; call with `call_acquire_dlpack`."""
    var _acquire_arrow: Int
    """acquire_arrow(obj, flags, out, acq) -> int (like `acquire`, through
    __arrow_c_array__). Address; call with `call_acquire_arrow`."""
    var _install_table_interop: Int
    """install_table_interop(type, describe, release) -> int (1.2): the Arrow
    methods of a table type. Call through `install_table_interop`."""
    var _acquire_arrow_table: Int
    """acquire_arrow_table(obj, acq, table) -> int (1.2): an Arrow table read
    in place. Call through `call_acquire_arrow_table`."""
    var _note_error: Int
    """note_error(kind, message, exception) (1.3): record which Python exception
    an error text stands for. Call through `note_error`."""
    var _raise_error: Int
    """raise_error(message, default_kind) -> int: set the recorded exception
    for an error text. Call through `raise_error`."""
    var _reword_error: Int
    """reword_error(message, new_message): move the record to a new text.
    Call through `reword_error`."""
    var _forget_error: Int
    """forget_error() (1.4): drop this thread's record. Call through
    `forget_error`."""

    def has(self, minor: Int) -> Bool:
        """Tells whether the core has the entries of a minor version of the
        contract (bufferable.h: fields are only appended, each minor version
        after the previous one's).

        Args:
            minor: `BfApi.INTEROP` (1.1), `BfApi.TABLES` (1.2),
                `BfApi.ERRORS` (1.3) or `BfApi.FORGET` (1.4).

        Returns:
            True if the core's `version_minor` is at least `minor`.
        """
        return Int(self.version_minor) >= minor

    comptime INTEROP = 1
    """Version 1.1: `install_interop`, `acquire_dlpack`, `acquire_arrow`."""
    comptime TABLES = 2
    """Version 1.2: `install_table_interop`, `acquire_arrow_table`."""
    comptime ERRORS = 3
    """Version 1.3: `note_error`, `raise_error`, `reword_error`."""
    comptime FORGET = 4
    """Version 1.4: `forget_error`."""

    def install_interop(self, type_object: PyObjectPtr) -> c_int:
        """Calls `install_interop` if the core has it.

        Args:
            type_object: A type whose instances export the buffer protocol.

        Returns:
            0 on success or when the core lacks the function (nothing done);
            -1 with a Python exception set on failure.
        """
        if not self.has(Self.INTEROP):
            return 0
        var f = Pointer(to=self._install_interop).unsafe_bitcast[
            def(PyObjectPtr) thin abi("C") -> c_int
        ]()[]
        return f(type_object)

    def note_error(
        self, kind: Int, message: String, exception: PyObjectPtr
    ):
        """Records, for this thread, the Python exception an error text stands
        for (nothing if the core lacks the function).

        Args:
            kind: An `ERROR_*` kind (used when `exception` is NULL).
            message: The error's text.
            exception: The exception object (borrowed; NULL for none). Not
                NULL only while holding the GIL.
        """
        if not self.has(Self.ERRORS):
            return
        var m = message.copy()
        var f = Pointer(to=self._note_error).unsafe_bitcast[
            def(
                c_int, Pointer[c_char, MutUnsafeAnyOrigin], PyObjectPtr
            ) thin abi("C") -> None
        ]()[]
        f(
            c_int(kind),
            Pointer[c_char, MutUnsafeAnyOrigin](
                unsafe_from_address=Int(m.as_c_string_span().ptr())
            ),
            exception,
        )
        _ = m^

    def raise_error(self, message: String, default_kind: Int) -> c_int:
        """Sets the Python exception recorded for an error text, or one of
        class `default_kind` (0: Exception) when none was recorded for it.
        Needs the GIL.

        Args:
            message: The error's text.
            default_kind: The `ERROR_*` kind for an unrecorded text.

        Returns:
            -1.
        """
        if not self.has(Self.ERRORS):
            return set_error(default_kind, message)
        var m = message.copy()
        var f = Pointer(to=self._raise_error).unsafe_bitcast[
            def(Pointer[c_char, MutUnsafeAnyOrigin], c_int) thin abi("C") -> c_int
        ]()[]
        var rc = f(
            Pointer[c_char, MutUnsafeAnyOrigin](
                unsafe_from_address=Int(m.as_c_string_span().ptr())
            ),
            c_int(default_kind),
        )
        _ = m^
        return rc

    def reword_error(self, message: String, new_message: String):
        """Moves this thread's record from one error text to another.

        Args:
            message: The text the record is for.
            new_message: The text of the error that replaces it.
        """
        if not self.has(Self.ERRORS):
            return
        var a = message.copy()
        var b = new_message.copy()
        var f = Pointer(to=self._reword_error).unsafe_bitcast[
            def(
                Pointer[c_char, MutUnsafeAnyOrigin],
                Pointer[c_char, MutUnsafeAnyOrigin],
            ) thin abi("C") -> None
        ]()[]
        f(
            Pointer[c_char, MutUnsafeAnyOrigin](
                unsafe_from_address=Int(a.as_c_string_span().ptr())
            ),
            Pointer[c_char, MutUnsafeAnyOrigin](
                unsafe_from_address=Int(b.as_c_string_span().ptr())
            ),
        )
        _ = a^
        _ = b^

    def forget_error(self):
        """Drops this thread's record, if any (nothing if the core lacks the
        function)."""
        if not self.has(Self.FORGET):
            return
        var f = Pointer(to=self._forget_error).unsafe_bitcast[
            def() thin abi("C") -> None
        ]()[]
        f()

    def call_acquire_dlpack(
        self,
        obj: PyObjectPtr,
        flags: c_int,
        out_desc: BufferPtr,
        out_acquisition: Pointer[AcquisitionPtr, MutUnsafeAnyOrigin],
    ) -> c_int:
        """Calls `acquire_dlpack` (check `has(BfApi.INTEROP)` first).

        Args:
            obj: The object exporting `__dlpack__`.
            flags: The request (BF_BUF_*).
            out_desc: Filled with the description.
            out_acquisition: Receives the acquisition (count 1).

        Returns:
            0, or -1 with a Python exception set.
        """
        var f = Pointer(to=self._acquire_dlpack).unsafe_bitcast[
            AcquireFunction
        ]()[]
        return f(obj, flags, out_desc, out_acquisition)

    def call_acquire_arrow(
        self,
        obj: PyObjectPtr,
        flags: c_int,
        out_desc: BufferPtr,
        out_acquisition: Pointer[AcquisitionPtr, MutUnsafeAnyOrigin],
    ) -> c_int:
        """Calls `acquire_arrow` (check `has(BfApi.INTEROP)` first).

        Args:
            obj: The object exporting `__arrow_c_array__`.
            flags: The request (BF_BUF_*).
            out_desc: Filled with the description.
            out_acquisition: Receives the acquisition (count 1).

        Returns:
            0, or -1 with a Python exception set.
        """
        var f = Pointer(to=self._acquire_arrow).unsafe_bitcast[
            AcquireFunction
        ]()[]
        return f(obj, flags, out_desc, out_acquisition)

    def install_table_interop(
        self, type_object: PyObjectPtr, describe: RawPointer, release: RawPointer
    ) raises:
        """Calls `install_table_interop`: gives a table type the Arrow
        methods, built on its `describe` and `release` callbacks (C-ABI
        functions of the `BfDescribeTable` / `BfReleaseTable` shapes).

        Args:
            type_object: The bound type.
            describe: Address of the describe callback.
            release: Address of the release callback.

        Raises:
            If the core is older than contract 1.2 or refuses.
        """
        if not self.has(Self.TABLES):
            raise Error(
                "bufferable: tables need the core's C API 1.2; this core is ",
                self.version_major,
                ".",
                self.version_minor,
                " (upgrade the bufferable package)",
            )
        var f = Pointer(to=self._install_table_interop).unsafe_bitcast[
            def(PyObjectPtr, RawPointer, RawPointer) thin abi("C") -> c_int
        ]()[]
        if f(type_object, describe, release) != 0:
            raise Error(
                "bufferable: install_table_interop failed: ",
                Python().cpython().get_error(),
            )


    def call_acquire_arrow_table(
        self,
        obj: PyObjectPtr,
        out_acquisition: Pointer[AcquisitionPtr, MutUnsafeAnyOrigin],
        out_table: Pointer[Int, MutUnsafeAnyOrigin],
    ) raises -> c_int:
        """Calls `acquire_arrow_table`.

        Args:
            obj: The object exporting `__arrow_c_stream__` or a struct
                `__arrow_c_array__`.
            out_acquisition: Receives the acquisition (count 1).
            out_table: Receives the address of the `BfArrowTable`.

        Returns:
            0, or -1 with a Python exception set.

        Raises:
            If the core is older than contract 1.2.
        """
        if not self.has(Self.TABLES):
            raise Error(
                "bufferable: TableView needs the core's C API 1.2; this core",
                " is ",
                self.version_major,
                ".",
                self.version_minor,
                " (upgrade the bufferable package)",
            )
        var f = Pointer(to=self._acquire_arrow_table).unsafe_bitcast[
            def(
                PyObjectPtr,
                Pointer[AcquisitionPtr, MutUnsafeAnyOrigin],
                Pointer[Int, MutUnsafeAnyOrigin],
            ) thin abi("C") -> c_int
        ]()[]
        return f(obj, out_acquisition, out_table)


def _read_capsule() raises -> RawPointer:
    """Imports bufferable._core and returns the validated table address."""
    ref cpy = Python().cpython()
    var core: PythonObject
    try:
        core = Python.import_module("bufferable._core")
    except e:
        raise Error(
            "bufferable: cannot import bufferable._core (the compiled core;"
            " is the bufferable package installed in this Python?): ",
            e,
        )
    var capsule: PythonObject
    try:
        capsule = core._C_API
    except e:
        raise Error("bufferable: bufferable._core has no _C_API capsule: ", e)
    var address = cpy.PyCapsule_GetPointer(
        object_address(capsule), API_CAPSULE_NAME
    )
    var api = address.unsafe_bitcast[BfApi]()
    if Int(api[].version_major) != API_VERSION_MAJOR:
        raise Error(
            "bufferable: the core's C API is version ",
            api[].version_major,
            ".",
            api[].version_minor,
            "; this Mojo package needs ",
            API_VERSION_MAJOR,
            ".x (reinstall matching versions)",
        )
    if Int(api[].version_minor) < API_VERSION_MINOR:
        raise Error(
            "bufferable: the core's C API (version ",
            api[].version_major,
            ".",
            api[].version_minor,
            ") is older than this Mojo package needs (",
            API_VERSION_MAJOR,
            ".",
            API_VERSION_MINOR,
            ")",
        )
    return address.unsafe_origin_cast[MutUntrackedOrigin]()


def _init_api() -> Optional[RawPointer]:
    """Creates the process-wide record of the table (once per process), and
    undoes what starting Mojo's Python interop did to the process
    environment (`bufferable.mojo_runtime`: children would otherwise start
    the wrong interpreter)."""
    try:
        _ = Python.import_module(
            "bufferable.mojo_runtime"
        ).restore_environment()
    except:
        pass  # no bufferable package: _read_capsule says so below
    try:
        return _read_capsule()
    except:
        return None


def _destroy_api(p: Optional[RawPointer]):
    # The table is static storage of the core, which is never unloaded.
    pass


comptime _GLOBAL_NAME = "bufferable.BfApi.v1"


def load_api() raises -> Pointer[BfApi, MutUntrackedOrigin]:
    """Loads the core's table (importing `bufferable._core` the first time in
    the process) and returns it. Call it once where raising is fine, e.g.
    while a module initializes; `add_buffer_protocol` does.

    Once it has succeeded, later calls cost one load (the module's cache
    that `bf_api` reads), so code that may run before any module init (e.g.
    a `MemoryView` constructor) can call it every time.

    Returns:
        The table (static storage of the core: valid for the process).

    Raises:
        If bufferable._core cannot be imported, has no capsule, or its
        version does not match this package (the message says which).
    """
    var cached = _api_cache()[]
    if cached != 0:  # validated before: only a checked table is cached
        return Pointer[BfApi, MutUntrackedOrigin](unsafe_from_address=cached)
    # Validate with full error reporting first, so a failure says why; the
    # process-wide slot is then created from a capsule known to be good.
    var p = get_global[_GLOBAL_NAME, _init_api, _destroy_api]()
    if not p:
        _ = _read_capsule()  # raises the reason
        p = get_global[_GLOBAL_NAME, _init_api, _destroy_api]()
        if not p:
            raise Error("bufferable: could not record the core's C API")
    _api_cache()[] = Int(p.value())
    return p.value().unsafe_bitcast[BfApi]()


comptime _CACHE_NAME = "bufferable.BfApi.v1.cache"


@always_inline
def _api_cache() -> Pointer[Int, MutUntrackedOrigin]:
    """This module's cache of the table's address (0 until the first
    `load_api` or `bf_api` in this extension module)."""
    return static_word[_CACHE_NAME]()


@no_inline
def _api_slow() -> Int:
    """The table's address from the process-wide record, cached for the next
    calls (the first `bf_api` of a module that did not call `load_api`)."""
    var address = Int(
        get_global[_GLOBAL_NAME, _init_api, _destroy_api]().value()
    )
    _api_cache()[] = address
    return address


@always_inline
def bf_api() -> ref[MutUntrackedOrigin] BfApi:
    """Returns the core's table, which `load_api` must have loaded before.
    Calling it before `load_api` succeeded in this process is a bug.

    Cheap enough for every buffer-protocol slot call: one load of a static
    variable of the extension module (`_private.static_word`), filled by
    `load_api`; a module that never called `load_api` fills it on its first
    call from the process-wide record (`get_global`, a runtime lookup of
    about 10 ns, once).

    Returns:
        The table.
    """
    var address = _api_cache()[]
    if address == 0:
        address = _api_slow()
    return Pointer[BfApi, MutUntrackedOrigin](unsafe_from_address=address)[]


def loaded_api() -> Int:
    """Returns the address of the core's table if some module of this process
    loaded it, else 0 (never imports anything, never raises).

    Returns:
        The table's address, or 0.
    """
    var table = _api_cache()[]
    if table == 0:
        var recorded = get_global[_GLOBAL_NAME, _init_api, _destroy_api]()
        if recorded:
            table = Int(recorded.value())
            _api_cache()[] = table
    return table


def set_error(kind: Int, message: String) -> c_int:
    """Sets the current Python exception (class by `kind`), through the core
    when its table is loaded, else through CPython directly. Needs the GIL.

    Args:
        kind: One of `ERROR_BUFFER`, `ERROR_VALUE`, `ERROR_TYPE`,
            `ERROR_INDEX`, `ERROR_MEMORY`, `ERROR_RUNTIME`; 0 (or anything
            else) sets a plain `Exception`.
        message: The exception's message.

    Returns:
        -1, so a C-ABI slot can `return set_error(...)`.
    """
    var m = message.copy()
    var ptr = Pointer[c_char, MutUnsafeAnyOrigin](
        unsafe_from_address=Int(m.as_c_string_span().ptr())
    )
    var table = _api_cache()[]
    if table == 0:
        var recorded = get_global[_GLOBAL_NAME, _init_api, _destroy_api]()
        if recorded:
            table = Int(recorded.value())
    if table != 0 and kind >= ERROR_BUFFER and kind <= ERROR_RUNTIME:
        _ = Pointer[BfApi, MutUntrackedOrigin](unsafe_from_address=table)[].set_error(
            c_int(kind), ptr
        )
    else:
        ref cpy = Python().cpython()
        var name: StaticString = "PyExc_Exception"
        comptime for i in range(len(ERROR_CLASSES)):
            if kind == ERROR_CLASSES[i].kind:
                name = ERROR_CLASSES[i].exception
        cpy.PyErr_SetString(
            cpy.get_error_global(name),
            Pointer[c_char, ImmutAnyOrigin](unsafe_from_address=Int(ptr)),
        )
    _ = m^
    return -1
