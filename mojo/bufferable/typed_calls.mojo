"""Typed bindings: a Mojo function with typed parameters and result, called
from Python with its arguments converted and its errors keeping their class.

```mojo
def total(a: MemoryView[DType.float64, 2, mut=False]) -> Float64:
    ...

bind_function[total](m, "total", "a", doc="Sums any 2-D float64 buffer.")
bind_method[Grid.fill](grid_type, "fill", "value")
```

Mojo 1.2.0 reflects a function's parameter and result types (the parameter
pack `def(*args: *Ts) -> R` binds any function, each `Ts[i]` its own type)
but not its parameter names, so the names are given to `bind_function`:
they name arguments in messages, select keyword arguments, and make the
function's `__text_signature__` (`inspect.signature(mod.total)` reads
`(a)`). Without names the function takes positional arguments only.

Parameters (each converted from the Python argument; see `FromPython`):

| Mojo parameter | Python argument |
|---|---|
| `MemoryView[dtype, rank, layout=..., mut=...]` | any buffer of that element type and rank (numpy array, Grid, bytearray, ...), viewed in place |
| `RecordView[T, rank, mut=...]` | any buffer of T records, viewed in place |
| `TableView` | any Arrow table (pyarrow, Polars, DuckDB, a Mojo table) |
| `Int`, `Int8` ... `UInt64` | an int (anything with `__index__`; not a float) |
| `Float64`, `Float32`, `Float16` | a float or an int (anything with `__float__`) |
| `Bool` | `True` or `False` |
| `String` | a str |
| `PythonObject` | anything, passed as it is (no reference taken) |
| `Optional[T]` | `None`, or what T takes; trailing ones may be omitted |
| a bound struct `S` | an instance of the type bound to S, by reference (no copy) |
| a struct conforming to `FromPython` | whatever its `from_python` takes |

Results: `None`, the scalars above, `String`, `PythonObject` (returned as
it is), `Optional[T]` (None or T's conversion), a struct conforming to
`ToPython`, and any other struct: a new Python object of the type bound to
it (`PythonObject(alloc=...)`; a `Bufferable` struct is then an exporter,
its value destroyed once, when that object dies).

Calls: a function of no argument is METH_NOARGS, of one argument METH_O, of
more (or of one that may be omitted) METH_FASTCALL | METH_KEYWORDS; no
tuple or dict is ever built, and the wrappers keep no error bookkeeping
beyond two reads of one word on the success path. Methods take `self` as
`self`, `mut self` or `self: PythonObject`, and follow the same
conventions.

Errors: a wrong argument is a TypeError naming the function, the position
and the name (`total() argument 1 'a': expected a 2-D float64 buffer, got
str`); a buffer of the wrong kind keeps the class of the view's error
(ValueError for another element type or rank, BufferError for a read-only
buffer under a mutable view) behind the same prefix; a Python exception
raised while converting (an exporter's own refusal, `__index__` raising)
keeps its class. Arity and keyword errors are TypeErrors worded as
Python's. Errors raised by the function keep their class as through
`py_function` (see `bufferable.errors`).
"""

from std.builtin.rebind import downcast
from std.ffi import c_int, external_call
from std.memory import Layout
from std.python import Python, PythonObject
from std.python.bindings import (
    PythonModuleBuilder,
    PythonTypeBuilder,
    lookup_py_type_object,
)
from std.sys.info import size_of

from ._private import (
    MojoObject,
    PyObjectPtr,
    RawPointer,
    address_of,
    call_method_with_pack,
    call_with_pack,
    function_word,
    object_at,
    set_last_function_flags,
    set_last_method_flags,
    static_word,
    type_word,
)
from .bindings import _leak_static
from .calls import _raised
from .errors import (
    error_note_counter,
    forget_error,
    pending_python_error,
    reworded,
    type_error,
    value_error,
)
from .layout import MemoryLayout
from .memory_view import MemoryView
from .record_view import RecordView
from .table_view import TableView

# CPython's METH_* flags (Include/methodobject.h).
comptime _METH_KEYWORDS = 0x0002
comptime _METH_NOARGS = 0x0004
comptime _METH_O = 0x0008
comptime _METH_STATIC = 0x0020
comptime _METH_FASTCALL = 0x0080

comptime _NARGS_MASK = ~(1 << 63)
"""Clears CPython's PY_VECTORCALL_ARGUMENTS_OFFSET from `nargsf`."""

# Offsets into CPython objects, the same in every GIL build from 3.10 on.
comptime _OB_TYPE = 8
"""`PyObject.ob_type`."""
comptime _OB_SIZE = 16
"""`PyVarObject.ob_size` (a tuple's length)."""
comptime _TUPLE_ITEMS = 24
"""`PyTupleObject.ob_item`."""
comptime _TP_NAME = 24
"""`PyTypeObject.tp_name`."""
comptime _TP_FLAGS = 168
"""`PyTypeObject.tp_flags`."""
comptime _LONG_SUBCLASS = 1 << 24
comptime _UNICODE_SUBCLASS = 1 << 28


# ===-----------------------------------------------------------------------===#
# Conversion traits
# ===-----------------------------------------------------------------------===#


trait FromPython(Deinitable, Movable):
    """A parameter type of typed functions (`bind_function`): built from the
    Python argument. bufferable gives this conformance to its views, the
    scalars, `Bool`, `String`, `PythonObject` and `Optional`; conform a
    struct of your own to accept it too.
    """

    @staticmethod
    def from_python(obj: PythonObject) raises -> Self:
        """Converts an argument.

        Args:
            obj: The argument (borrowed: copy it to keep a reference).

        Returns:
            The value.

        Raises:
            A TypeError "expected ..., got ..." for an argument of another
            kind (`typed_calls.expected_error` builds it), or any error
            with its class; the caller puts the function, the position and
            the name before the message.
        """
        ...

    @staticmethod
    def python_description() -> String:
        """What the parameter takes, for messages: "a 2-D float64 buffer".

        Returns:
            The description.
        """
        ...


trait ToPython(Deinitable, Movable):
    """A result type of typed functions, converted to a new Python object.
    bufferable gives this conformance to the scalars, `Bool`, `String` and
    `Optional`; a struct that is neither this nor `PythonObject` becomes a
    new object of the Python type bound to it."""

    @staticmethod
    def to_python(value: Self) raises -> PythonObject:
        """Converts a result.

        Args:
            value: The result (destroyed after the call).

        Returns:
            The Python object.
        """
        ...


trait _Omittable:
    """`Optional`: a trailing parameter that Python may omit (None)."""

    pass


# ===-----------------------------------------------------------------------===#
# CPython's layout, singletons, names
# ===-----------------------------------------------------------------------===#


@always_inline
def _word(address: Int) -> Int:
    """The pointer-sized word at `address`."""
    return Pointer[Int, MutUntrackedOrigin](unsafe_from_address=address)[]


@always_inline
def _type_of(obj: Int) -> Int:
    """`Py_TYPE(obj)`."""
    return _word(obj + _OB_TYPE)


@always_inline
def _type_flags(obj: Int) -> Int:
    """`Py_TYPE(obj)->tp_flags`."""
    return _word(_type_of(obj) + _TP_FLAGS)


@always_inline
def _address(obj: PythonObject) -> Int:
    """The address a `PythonObject` holds (0 for NULL)."""
    return address_of(obj._obj_ptr)


def type_name_of(obj: PythonObject) -> String:
    """The name CPython's own messages give the type of `obj` (`tp_name`:
    "int", "numpy.ndarray").

    Args:
        obj: The object.

    Returns:
        The name.
    """
    var address = _address(obj)
    if address == 0:
        return "nothing"
    return String(
        unsafe_from_utf8_ptr=Pointer[UInt8, ImmutAnyOrigin](
            unsafe_from_address=_word(_type_of(address) + _TP_NAME)
        )
    )


@no_inline
def _singletons_slow() -> Int:
    """Records the addresses of None, True and False (once per module)."""
    var none = PythonObject(None)
    var yes = PythonObject(True)
    var no = PythonObject(False)
    var table = alloc(Layout[Int](count=3)).unsafe_leak()
    table[unsafe_offset=0] = _address(none)
    table[unsafe_offset=1] = _address(yes)
    table[unsafe_offset=2] = _address(no)
    var word = static_word["bufferable_typed_singletons"]()
    word[] = Int(table)
    return word[]


@always_inline
def _singleton(index: Int) -> Int:
    """The address of None (0), True (1) or False (2) (they live as long as
    the interpreter)."""
    var table = static_word["bufferable_typed_singletons"]()[]
    if table == 0:
        table = _singletons_slow()
    return _word(table + 8 * index)


@always_inline
def _new_reference(address: Int) -> PyObjectPtr:
    """A new reference to a singleton (`Py_IncRef`: they are immortal in
    3.12+, which an inline add would not respect)."""
    external_call["Py_IncRef", NoneType](address)
    return object_at(address)


def expected_error(description: String, obj: PythonObject) -> Error:
    """The TypeError of an argument that is not what a parameter takes:
    "expected `description`, got `type(obj)`" (for `FromPython`
    conversions; the caller adds the function, position and name).

    Args:
        description: What the parameter takes ("a 2-D float64 buffer").
        obj: The argument.

    Returns:
        The error, to `raise`.
    """
    return type_error(
        String("expected ", description, ", got ", type_name_of(obj))
    )


def _exception_class(name: StaticString) -> Int:
    """The address of one of CPython's exception classes (`PyExc_*`)."""
    ref cpy = Python().cpython()
    return address_of(cpy.get_error_global(name))


@no_inline
def _number_error(obj: PythonObject, description: String) -> Error:
    """The error of a failed number conversion: the TypeError Python set for
    an argument that is no number becomes "expected int, got str"; any
    other exception (`__index__` raising, an overflow) is kept."""
    if (
        external_call["PyErr_ExceptionMatches", c_int](
            _exception_class("PyExc_TypeError")
        )
        != 0
    ):
        external_call["PyErr_Clear", NoneType]()
        return expected_error(description, obj)
    return pending_python_error(String(""))


@no_inline
def _overflow(value: Int, dtype: DType) -> Error:
    """An OverflowError (a Python exception, kept as such)."""
    var message = String(
        "Python int ", value, " does not fit in ", dtype
    )
    external_call["PyErr_SetString", NoneType](
        _exception_class("PyExc_OverflowError"),
        message.as_c_string_span().ptr(),
    )
    _ = message^
    return pending_python_error(String(""))


# ===-----------------------------------------------------------------------===#
# Conversions
# ===-----------------------------------------------------------------------===#


__extension SIMD(FromPython, ToPython):
    @staticmethod
    @always_inline
    def from_python(obj: PythonObject) raises -> Self:
        comptime assert (
            Self.length == 1
        ), "bind_function: a SIMD parameter must be a scalar (width 1)"
        var address = _address(obj)
        comptime if Self.dtype.is_floating_point():
            var value = external_call["PyFloat_AsDouble", Float64](address)
            if value == -1.0 and external_call["PyErr_Occurred", Int]() != 0:
                raise _number_error(obj, Self.python_description())
            return Self(value.cast[Self.dtype]())
        elif Self.dtype == DType.bool:
            if address == _singleton(1):
                return Self(True)
            if address == _singleton(2):
                return Self(False)
            raise expected_error(Self.python_description(), obj)
        else:
            var number = address
            if (_type_flags(address) & _LONG_SUBCLASS) == 0:
                number = external_call["PyNumber_Index", Int](address)
                if number == 0:
                    raise _number_error(obj, Self.python_description())
            var value: Int
            comptime if Self.dtype.is_unsigned():
                value = Int(
                    external_call["PyLong_AsUnsignedLongLong", UInt64](number)
                )
            else:
                value = external_call["PyLong_AsLongLong", Int](number)
            var failed = (
                value == -1 and external_call["PyErr_Occurred", Int]() != 0
            )
            if number != address:
                external_call["Py_DecRef", NoneType](number)
            if failed:
                raise pending_python_error(String(""))
            comptime if size_of[Self.dtype]() < 8:
                if Int(Scalar[Self.dtype](value)) != value:
                    raise _overflow(value, Self.dtype)
            return Self(value)

    @staticmethod
    def python_description() -> String:
        comptime if Self.dtype.is_floating_point():
            return "float"
        elif Self.dtype == DType.bool:
            return "bool"
        elif Self.dtype == DType.int:
            return "int"
        else:
            return String("int (", Self.dtype, ")")

    @staticmethod
    def to_python(value: Self) raises -> PythonObject:
        comptime assert (
            Self.length == 1
        ), "bind_function: a SIMD result must be a scalar (width 1)"
        var result: Int
        comptime if Self.dtype.is_floating_point():
            result = external_call["PyFloat_FromDouble", Int](
                value.cast[DType.float64]()[0]
            )
        elif Self.dtype == DType.bool:
            return PythonObject(
                from_owned=_new_reference(_singleton(1 if value[0] else 2))
            )
        elif Self.dtype.is_unsigned():
            result = external_call["PyLong_FromUnsignedLongLong", Int](
                value.cast[DType.uint64]()[0]
            )
        else:
            result = external_call["PyLong_FromLongLong", Int](
                value.cast[DType.int64]()[0]
            )
        if result == 0:
            raise pending_python_error(String(""))
        return PythonObject(from_owned=object_at(result))


__extension Bool(FromPython, ToPython):
    @staticmethod
    @always_inline
    def from_python(obj: PythonObject) raises -> Self:
        var address = _address(obj)
        if address == _singleton(1):
            return True
        if address == _singleton(2):
            return False
        raise expected_error(Self.python_description(), obj)

    @staticmethod
    def python_description() -> String:
        return "bool"

    @staticmethod
    def to_python(value: Self) raises -> PythonObject:
        return PythonObject(
            from_owned=_new_reference(_singleton(1 if value else 2))
        )


__extension String(FromPython, ToPython):
    @staticmethod
    @always_inline
    def from_python(obj: PythonObject) raises -> Self:
        var address = _address(obj)
        if (_type_flags(address) & _UNICODE_SUBCLASS) == 0:
            raise expected_error(Self.python_description(), obj)
        var size = 0
        var utf8 = external_call["PyUnicode_AsUTF8AndSize", Int](
            address, Pointer(to=size)
        )
        if utf8 == 0:  # a lone surrogate: UnicodeEncodeError
            raise pending_python_error(String(""))
        return String(
            StringSlice(
                unsafe_from_utf8=Span[Byte, ImmutAnyOrigin](
                    unsafe_ptr=Pointer[Byte, ImmutAnyOrigin](
                        unsafe_from_address=utf8
                    ),
                    length=size,
                )
            )
        )

    @staticmethod
    def python_description() -> String:
        return "str"

    @staticmethod
    def to_python(value: Self) raises -> PythonObject:
        var result = external_call["PyUnicode_FromStringAndSize", Int](
            Int(value.unsafe_ptr()), value.byte_length()
        )
        if result == 0:
            raise pending_python_error(String(""))
        return PythonObject(from_owned=object_at(result))


__extension PythonObject(FromPython):
    @staticmethod
    def from_python(obj: PythonObject) raises -> Self:
        return obj.copy()

    @staticmethod
    def python_description() -> String:
        return "an object"


__extension Optional(FromPython, ToPython, _Omittable):
    @staticmethod
    @always_inline
    def from_python(obj: PythonObject) raises -> Self:
        comptime assert conforms_to(Self.T, FromPython), (
            "bind_function: Optional[T] takes a T that is a FromPython"
            " parameter type"
        )
        var address = _address(obj)
        if address == 0 or address == _singleton(0):
            return None
        try:
            return Self(
                rebind_var[Self.T](
                    downcast[Self.T, FromPython].from_python(obj)
                )
            )
        except e:
            raise _or_none(e, downcast[Self.T, FromPython].python_description())

    @staticmethod
    def python_description() -> String:
        comptime if conforms_to(Self.T, FromPython):
            return String(
                downcast[Self.T, FromPython].python_description(), " or None"
            )
        else:
            return "None"

    @staticmethod
    def to_python(value: Self) raises -> PythonObject:
        if not value:
            return PythonObject(None)
        comptime if Self.T == PythonObject:
            return rebind[PythonObject](value.unsafe_value()).copy()
        else:
            comptime assert conforms_to(Self.T, ToPython), (
                "bind_function: an Optional[T] result takes a T that is"
                " ToPython or PythonObject"
            )
            return downcast[Self.T, ToPython].to_python(
                rebind[downcast[Self.T, ToPython]](value.unsafe_value())
            )


@no_inline
def _or_none(error: Error, description: String) -> Error:
    """"expected int, got str" of an Optional[Int] parameter says "expected
    int or None, got str" (its class kept)."""
    var text = String(error)
    var expected = String("expected ", description)
    if not text.startswith(expected):
        return error.copy()
    return reworded(
        error,
        String(
            expected,
            " or None",
            StringSlice(text)[byte = expected.byte_length() :],
        ),
    )


__extension MemoryView(FromPython):
    @staticmethod
    @always_inline
    def from_python(obj: PythonObject) raises -> Self:
        try:
            return Self(obj)
        except e:
            raise _buffer_error(e^, obj, Self.python_description())

    @staticmethod
    def python_description() -> String:
        var text = String("a ")
        comptime if Self.mut:
            text += "writable "
        comptime if Self.layout == MemoryLayout.C_CONTIGUOUS:
            text += "C-contiguous "
        elif Self.layout == MemoryLayout.F_CONTIGUOUS:
            text += "Fortran-contiguous "
        text += String(Self.rank, "-D ", Self.dtype, " buffer")
        return text^


__extension RecordView(FromPython):
    @staticmethod
    @always_inline
    def from_python(obj: PythonObject) raises -> Self:
        try:
            return Self(obj)
        except e:
            raise _buffer_error(e^, obj, Self.python_description())

    @staticmethod
    def python_description() -> String:
        var text = String("a ")
        comptime if Self.mut:
            text += "writable "
        text += String(
            Self.rank, "-D buffer of ", reflect[Self.T].base_name(), " records"
        )
        return text^


__extension TableView(FromPython):
    @staticmethod
    @always_inline
    def from_python(obj: PythonObject) raises -> Self:
        try:
            return Self(obj)
        except e:
            var address = _address(obj)
            if (
                external_call["PyObject_HasAttrString", c_int](
                    address, StaticString("__arrow_c_stream__").as_c_string_span().ptr()
                )
                == 0
                and external_call["PyObject_HasAttrString", c_int](
                    address, StaticString("__arrow_c_array__").as_c_string_span().ptr()
                )
                == 0
            ):
                raise expected_error(Self.python_description(), obj)
            raise e^

    @staticmethod
    def python_description() -> String:
        return "an Arrow table"


@no_inline
def _buffer_error(var error: Error, obj: PythonObject, description: String) -> Error:
    """A view's refusal: an argument that exports no buffer at all is a
    TypeError "expected ..., got ..."; any other refusal keeps its class."""
    if external_call["PyObject_CheckBuffer", c_int](_address(obj)) == 0:
        return expected_error(description, obj)
    return error^


# ===-----------------------------------------------------------------------===#
# Bound structs, by reference
# ===-----------------------------------------------------------------------===#


@no_inline
def _bound_type_slow[T: AnyType]() raises -> Int:
    """Looks up (once per module) the Python type bound to T."""
    var type_object: PythonObject
    try:
        type_object = lookup_py_type_object[T]()
    except:
        raise type_error(
            String(
                "no Python type is bound to ",
                reflect[T].name(),
                " (a parameter or result of a bound function must be a",
                " FromPython/ToPython type or a struct bound with add_type)",
            )
        )
    var word = type_word["bufferable_typed_type.", T]()
    word[] = _address(type_object)  # the module keeps the type alive
    return word[]


@always_inline
def _bound_type[T: AnyType]() raises -> Int:
    """The address of the Python type bound to T."""
    var known = type_word["bufferable_typed_type.", T]()[]
    if known != 0:
        return known
    return _bound_type_slow[T]()


@always_inline
def _value_address[T: AnyType](obj: Int) raises -> Int:
    """The address of the value inside an instance of T's bound type,
    checked to be initialized."""
    comptime assert conforms_to(T, Deinitable), "a bound struct is Deinitable"
    ref storage = Pointer[
        MojoObject[downcast[T, Deinitable]], MutUntrackedOrigin
    ](unsafe_from_address=obj)[]
    if not storage.is_initialized:
        raise _uninitialized[T]()
    return Int(Pointer(to=storage.mojo_value))


@no_inline
def _uninitialized[T: AnyType]() -> Error:
    return value_error(
        String(
            "the ", reflect[T].base_name(), " object is not initialized (its",
            " __init__ never ran)",
        )
    )


@no_inline
def _not_an_instance[T: AnyType](obj: Int) -> Error:
    var name = String(reflect[T].base_name())
    try:
        name = String(
            unsafe_from_utf8_ptr=Pointer[UInt8, ImmutAnyOrigin](
                unsafe_from_address=_word(_bound_type[T]() + _TP_NAME)
            )
        )
    except:
        pass
    return expected_error(
        String("a ", name), PythonObject(from_borrowed=object_at(obj))
    )


# ===-----------------------------------------------------------------------===#
# Results
# ===-----------------------------------------------------------------------===#


@always_inline
def _to_python_object[R: Deinitable & Movable](var result: R) raises -> PyObjectPtr:
    """A new reference to the Python object for a result."""
    comptime if R == type_of(None) or R == NoneType:
        _ = result^
        return _new_reference(_singleton(0))
    elif R == PythonObject:
        return rebind_var[PythonObject](result^).steal_data()
    elif conforms_to(R, ToPython):
        var converted = downcast[R, ToPython].to_python(
            rebind[downcast[R, ToPython]](result)
        )
        _ = result^
        return converted^.steal_data()
    else:
        comptime assert conforms_to(R, Deinitable), String(
            "bind_function: the result type ", reflect[R].name(), " cannot be"
            " destroyed, so it cannot live in a Python object"
        )
        return PythonObject(
            alloc=rebind_var[downcast[R, Deinitable & Movable]](result^)
        ).steal_data()


# ===-----------------------------------------------------------------------===#
# Signatures: the names given at binding time
# ===-----------------------------------------------------------------------===#


struct _Signature(Movable):
    """What `bind_function`/`bind_method` were told about a function: its
    name in messages and its parameters' names (for keywords)."""

    var function: String
    """"total", "Grid.fill"."""
    var names: List[String]
    """The parameters' names (empty: positional only)."""
    var keys: List[Int]
    """The names as interned Python str (references never released)."""
    var arity: Int
    """The number of parameters (self excluded)."""
    var required: Int
    """The number that may not be omitted."""

    def __init__(
        out self,
        var function: String,
        var names: List[String],
        arity: Int,
        required: Int,
    ) raises:
        self.function = function^
        self.keys = List[Int]()
        for name in names:
            var text = name.copy()
            var key = external_call["PyUnicode_InternFromString", Int](
                text.as_c_string_span().ptr()
            )
            _ = text^
            if key == 0:
                raise pending_python_error(String(""))
            self.keys.append(key)
        self.names = names^
        self.arity = arity
        self.required = required


@always_inline
def _signature_of[func_type: AnyType, //, func: func_type]() -> Int:
    """The address of the `_Signature` bound for `func` (0 if none)."""
    return function_word["bufferable_signature.", func]()[]


def _record_signature[
    func_type: AnyType, //, func: func_type
](var signature: _Signature) raises:
    """Keeps `signature` for `func` (for the life of the process). A Mojo
    function has one: binding it again (an alias) must give the same
    parameter names, and messages keep the name of the first binding."""
    var word = function_word["bufferable_signature.", func]()
    if word[] != 0:
        ref known = Pointer[_Signature, MutUntrackedOrigin](
            unsafe_from_address=word[]
        )[]
        if known.names != signature.names:
            raise Error(
                signature.function,
                ": this Mojo function is already bound as ",
                known.function,
                " with other parameter names (a Mojo function has one",
                " signature: bind a second function to name them otherwise)",
            )
        return  # an alias: messages keep the name it was bound under first
    var p = alloc(Layout[_Signature](count=1)).unsafe_leak()
    p.unsafe_write(signature^)
    function_word["bufferable_signature.", func]()[] = Int(p)


@no_inline
def _function_name(signature: Int) -> String:
    if signature == 0:
        return "function"
    return Pointer[_Signature, MutUntrackedOrigin](
        unsafe_from_address=signature
    )[].function.copy()


@no_inline
def _argument_error(signature: Int, index: Int, error: Error) -> Error:
    """`error` of argument `index`, its text after "f() argument 1 'a': "
    (its class kept)."""
    var prefix = String(_function_name(signature), "() argument ", index + 1)
    if signature != 0:
        ref sig = Pointer[_Signature, MutUntrackedOrigin](
            unsafe_from_address=signature
        )[]
        if index < len(sig.names):
            prefix += String(" '", sig.names[index], "'")
    return reworded(error, String(prefix, ": ", error))


def _plural(count: Int, word: String) -> String:
    return String(count, " ", word, "" if count == 1 else "s")


def _quoted_list(names: List[String]) -> String:
    """'a', 'a' and 'b', 'a', 'b' and 'c' (as Python lists missing
    arguments)."""
    var text = String()
    for i in range(len(names)):
        if i > 0:
            text += " and " if i == len(names) - 1 else ", "
        text += String("'", names[i], "'")
    return text^


@no_inline
def _bind_arguments(
    signature: Int,
    args: Int,
    nargs: Int,
    kwnames: Int,
    slots: Int,
    arity: Int,
    required: Int,
) raises:
    """Places the positional and keyword arguments of a METH_FASTCALL |
    METH_KEYWORDS call in `slots` (`arity` words; 0 stands for an omitted
    argument), or raises the TypeError Python raises for the same call of a
    Python function."""
    for i in range(arity):
        Pointer[Int, MutUntrackedOrigin](unsafe_from_address=slots + 8 * i)[] = 0
    var name = _function_name(signature)
    if nargs > arity:
        var takes: String
        if required == arity:
            takes = _plural(arity, "positional argument")
        else:
            takes = String("from ", required, " to ", arity, " positional arguments")
        raise type_error(
            String(
                name,
                "() takes ",
                takes,
                " but ",
                nargs,
                " were given" if nargs != 1 else " was given",
            )
        )
    for i in range(nargs):
        Pointer[Int, MutUntrackedOrigin](unsafe_from_address=slots + 8 * i)[] = _word(
            args + 8 * i
        )
    var names = List[String]()
    var keys = List[Int]()
    if signature != 0:
        ref sig = Pointer[_Signature, MutUntrackedOrigin](
            unsafe_from_address=signature
        )[]
        names = sig.names.copy()
        keys = sig.keys.copy()
    if kwnames != 0:
        var count = _word(kwnames + _OB_SIZE)
        if count > 0 and len(keys) == 0:
            raise type_error(String(name, "() takes no keyword arguments"))
        for k in range(count):
            var key = _word(kwnames + _TUPLE_ITEMS + 8 * k)
            var found = -1
            for j in range(len(keys)):
                if keys[j] == key:
                    found = j
                    break
            if found < 0:
                for j in range(len(keys)):
                    if external_call["PyUnicode_Compare", c_int](key, keys[j]) == 0:
                        found = j
                        break
            if found < 0:
                raise type_error(
                    String(
                        name,
                        "() got an unexpected keyword argument ",
                        PythonObject(from_borrowed=object_at(key)).__repr__(),
                    )
                )
            ref slot = Pointer[Int, MutUntrackedOrigin](
                unsafe_from_address=slots + 8 * found
            )[]
            if slot != 0:
                raise type_error(
                    String(
                        name,
                        "() got multiple values for argument '",
                        names[found],
                        "'",
                    )
                )
            slot = _word(args + 8 * (nargs + k))
    var missing = List[String]()
    for i in range(required):
        if _word(slots + 8 * i) == 0:
            missing.append(names[i] if i < len(names) else String("arg", i + 1))
    if missing:
        raise type_error(
            String(
                name,
                "() missing ",
                _plural(len(missing), "required positional argument"),
                ": ",
                _quoted_list(missing),
            )
        )


# ===-----------------------------------------------------------------------===#
# Converting the arguments, then calling
# ===-----------------------------------------------------------------------===#


comptime _Call[R: AnyType] = def(Int, Int) raises thin -> R
"""Calls the bound function: (address of self or 0, address of the words
holding each argument's address)."""


@always_inline
def _convert[
    Ts: TypeList[Trait=AnyType, ...],
    R: Deinitable & Movable,
    call: _Call[R],
    signature: def() thin -> Int,
    i: Int,
](self_address: Int, slots: Int, addresses: Int) raises -> R:
    """Converts arguments i, i+1, ... (each read from the word `slots + 8 *
    i`: a borrowed PyObject*, or 0 for an omitted one), storing each value's
    address at `addresses + 8 * i`, then calls. Converted values live in
    this frame until the call returns."""
    comptime if i == Ts.length:
        return call(self_address, addresses)
    else:
        comptime T = Ts[i]
        ref address = Pointer[Int, MutUntrackedOrigin](
            unsafe_from_address=addresses + 8 * i
        )[]
        var slot = slots + 8 * i
        comptime if T == PythonObject:
            # The slot holds the PyObject*: that is a borrowed PythonObject.
            address = slot
            return _convert[Ts, R, call, signature, i + 1](
                self_address, slots, addresses
            )
        elif conforms_to(T, FromPython):
            var value: downcast[T, FromPython]
            try:
                value = downcast[T, FromPython].from_python(
                    Pointer[PythonObject, MutUntrackedOrigin](
                        unsafe_from_address=slot
                    )[]
                )
            except e:
                raise _argument_error(signature(), i, e)
            address = Int(Pointer(to=value))
            var result = _convert[Ts, R, call, signature, i + 1](
                self_address, slots, addresses
            )
            _ = value^  # alive until the call returned
            return result^
        else:
            var obj = _word(slot)
            try:
                if _type_of(obj) != _bound_type[T]():
                    raise _not_an_instance[T](obj)
                address = _value_address[T](obj)
            except e:
                raise _argument_error(signature(), i, e)
            return _convert[Ts, R, call, signature, i + 1](
                self_address, slots, addresses
            )


@always_inline
def _call_function[
    Ts: TypeList[Trait=AnyType, ...],
    R: Deinitable & Movable,
    //,
    func: def(*args: *Ts) raises thin -> R,
](self_address: Int, addresses: Int) raises -> R:
    return call_with_pack[func](addresses)


@always_inline
def _call_mut_method[
    S: AnyType,
    Ts: TypeList[Trait=AnyType, ...],
    R: Deinitable & Movable,
    //,
    method: def(mut self_: S, *args: *Ts) raises thin -> R,
](self_address: Int, addresses: Int) raises -> R:
    return call_method_with_pack[method](self_address, addresses)


@always_inline
def _self_address[S: AnyType](py_self: Int, self_slot: Int) raises -> Int:
    """`self` of a method: the bound value inside the instance (CPython
    checked its type before the call), or the slot holding the instance
    when S is PythonObject."""
    comptime if S == PythonObject:
        return self_slot
    else:
        return _value_address[S](py_self)


@always_inline
def _finish[R: Deinitable & Movable](
    var result: R, noted: Pointer[Int, MutUntrackedOrigin], before: Int
) raises -> PyObjectPtr:
    """The result as a new reference; the records of errors the call
    handled are dropped (see `py_function`)."""
    var p = _to_python_object(result^)
    if noted[] != before:
        forget_error()
    return p


# ===-----------------------------------------------------------------------===#
# The C functions CPython calls
# ===-----------------------------------------------------------------------===#


def _noargs[
    R: Deinitable & Movable,
    call: _Call[R],
    self_type: AnyType,
    is_method: Bool,
](py_self: PyObjectPtr, unused: PyObjectPtr) abi("C") -> PyObjectPtr:
    """METH_NOARGS."""
    var noted = error_note_counter()
    var before = noted[]
    var self_slot = address_of(py_self)
    try:
        var self_address = 0
        comptime if is_method:
            self_address = _self_address[self_type](
                self_slot, Int(Pointer(to=self_slot))
            )
        var result = call(self_address, 0)
        _ = self_slot
        return _finish(result^, noted, before)
    except e:
        return _raised(e)


def _one[
    Ts: TypeList[Trait=AnyType, ...],
    R: Deinitable & Movable,
    call: _Call[R],
    signature: def() thin -> Int,
    self_type: AnyType,
    is_method: Bool,
](py_self: PyObjectPtr, arg: PyObjectPtr) abi("C") -> PyObjectPtr:
    """METH_O."""
    var noted = error_note_counter()
    var before = noted[]
    var self_slot = address_of(py_self)
    var slot = address_of(arg)
    var addresses = Array[Int, 1](uninitialized=True)
    try:
        var self_address = 0
        comptime if is_method:
            self_address = _self_address[self_type](
                self_slot, Int(Pointer(to=self_slot))
            )
        var result = _convert[Ts, R, call, signature, 0](
            self_address, Int(Pointer(to=slot)), Int(Pointer(to=addresses))
        )
        _ = slot
        _ = self_slot
        _ = addresses
        return _finish(result^, noted, before)
    except e:
        return _raised(e)


def _fast[
    Ts: TypeList[Trait=AnyType, ...],
    R: Deinitable & Movable,
    call: _Call[R],
    signature: def() thin -> Int,
    required: Int,
    self_type: AnyType,
    is_method: Bool,
](py_self: PyObjectPtr, args: Int, nargsf: Int, kwnames: Int) abi("C") -> PyObjectPtr:
    """METH_FASTCALL | METH_KEYWORDS."""
    comptime arity = Ts.length
    var noted = error_note_counter()
    var before = noted[]
    var self_slot = address_of(py_self)
    var nargs = nargsf & _NARGS_MASK
    var slots = args
    var placed = Array[Int, arity](uninitialized=True)
    var addresses = Array[Int, arity](uninitialized=True)
    try:
        if kwnames != 0 or nargs != arity:
            _bind_arguments(
                signature(), args, nargs, kwnames,
                Int(Pointer(to=placed)), arity, required,
            )
            slots = Int(Pointer(to=placed))
        var self_address = 0
        comptime if is_method:
            self_address = _self_address[self_type](
                self_slot, Int(Pointer(to=self_slot))
            )
        var result = _convert[Ts, R, call, signature, 0](
            self_address, slots, Int(Pointer(to=addresses))
        )
        _ = placed
        _ = addresses
        _ = self_slot
        return _finish(result^, noted, before)
    except e:
        return _raised(e)


# ===-----------------------------------------------------------------------===#
# Binding
# ===-----------------------------------------------------------------------===#


def _required[Ts: TypeList[Trait=AnyType, ...]]() -> Int:
    """How many leading parameters may not be omitted (the trailing
    `Optional` ones may)."""
    var required = 0
    comptime for i in range(Ts.length):
        comptime if not conforms_to(Ts[i], _Omittable):
            required = i + 1
    return required


def _text_signature(
    name: String,
    names: List[String],
    arity: Int,
    required: Int,
    is_method: Bool,
    doc: String,
) -> String:
    """The docstring, led by the signature `inspect.signature` reads
    ("total(a, b=None)\\n--\\n\\n"); none for parameters without names."""
    if len(names) != arity:
        return doc.copy()
    var text = String(name, "(")
    if is_method:
        text += "$self"
    for i in range(len(names)):
        if i > 0 or is_method:
            text += ", "
        text += names[i]
        if i >= required:
            text += "=None"
    text += ")\n--\n\n"
    text += doc
    return text^


def _names_list(
    function: String, arity: Int, var result: List[String]
) raises -> List[String]:
    if len(result) != 0 and len(result) != arity:
        raise Error(
            function,
            ": ",
            len(result),
            " parameter name",
            "" if len(result) == 1 else "s",
            " given for ",
            arity,
            " parameter",
            "" if arity == 1 else "s",
        )
    return result^


def _strings(names: VariadicList[StaticString, ...]) -> List[String]:
    var result = List[String]()
    for n in names:
        result.append(String(n))
    return result^


@always_inline
def _address_of_c_function[F: TrivialRegisterPassable](f: F) -> RawPointer:
    var copy = f
    return Pointer(to=copy).unsafe_bitcast[RawPointer]()[]


comptime _PyCFunction = def(PyObjectPtr, PyObjectPtr) thin abi("C") -> PyObjectPtr


def _as_py_c_function(address: RawPointer) -> _PyCFunction:
    var a = address
    return Pointer(to=a).unsafe_bitcast[_PyCFunction]()[]


def _c_function[
    Ts: TypeList[Trait=AnyType, ...],
    R: Deinitable & Movable,
    call: _Call[R],
    signature: def() thin -> Int,
    self_type: AnyType,
    is_method: Bool,
]() -> Tuple[RawPointer, Int]:
    """The C function for a call of this shape, and its METH_* flags."""
    comptime required = _required[Ts]()
    comptime if Ts.length == 0:
        return (
            _address_of_c_function(_noargs[R, call, self_type, is_method]),
            _METH_NOARGS,
        )
    elif Ts.length == 1 and required == 1:
        return (
            _address_of_c_function(
                _one[Ts, R, call, signature, self_type, is_method]
            ),
            _METH_O,
        )
    else:
        return (
            _address_of_c_function(
                _fast[Ts, R, call, signature, required, self_type, is_method]
            ),
            _METH_FASTCALL | _METH_KEYWORDS,
        )


def bind_function[
    Ts: TypeList[Trait=AnyType, ...],
    R: Deinitable & Movable,
    //,
    func: def(*args: *Ts) raises thin -> R,
](
    mut module: PythonModuleBuilder,
    name: StaticString,
    *names: StaticString,
    doc: StaticString = "",
) raises:
    """Binds a Mojo function with typed parameters and result as the module
    function `name` (see the module docstring for the types it converts).

    ```mojo
    def total(a: MemoryView[DType.float64, 2, mut=False]) -> Float64: ...

    bind_function[total](m, "total", "a", doc="Sums a 2-D float64 buffer.")
    ```

    Parameters:
        Ts: The parameter types (inferred).
        R: The result type (inferred).
        func: The function.

    Args:
        module: The module builder.
        name: The function's name in Python.
        names: The parameters' names (for messages and keyword arguments),
            all of them or none (positional arguments only).
        doc: The docstring (led by the signature).

    Raises:
        If `names` has another length than the function's parameters.
    """
    comptime required = _required[Ts]()
    var parameter_names = _names_list(String(name), Ts.length, _strings(names))
    var text = _text_signature(
        String(name), parameter_names, Ts.length, required, False, String(doc)
    )
    _record_signature[func](
        _Signature(String(name), parameter_names^, Ts.length, required)
    )
    var c = _c_function[
        Ts,
        R,
        _call_function[func],
        _signature_of[func],
        NoneType,
        False,
    ]()
    module.def_py_c_function(
        _as_py_c_function(c[0]), name, _leak_static(text)
    )
    set_last_function_flags(module, c[1])


def bind_function[
    Ts: TypeList[Trait=AnyType, ...],
    R: Deinitable & Movable,
    //,
    func: def(*args: *Ts) raises thin -> R,
](
    mut type_builder: PythonTypeBuilder,
    name: StaticString,
    *names: StaticString,
    doc: StaticString = "",
) raises:
    """Binds a Mojo function with typed parameters and result as the static
    method `name` of a bound type (as the module function above).

    Parameters:
        Ts: The parameter types (inferred).
        R: The result type (inferred).
        func: The function.

    Args:
        type_builder: The type builder.
        name: The static method's name in Python.
        names: The parameters' names, all or none.
        doc: The docstring.

    Raises:
        If `names` has another length than the function's parameters.
    """
    comptime required = _required[Ts]()
    var qualified = String(type_builder.type_name, ".", name)
    var parameter_names = _names_list(qualified, Ts.length, _strings(names))
    var text = _text_signature(
        String(name), parameter_names, Ts.length, required, False, String(doc)
    )
    _record_signature[func](
        _Signature(qualified, parameter_names^, Ts.length, required)
    )
    var c = _c_function[
        Ts,
        R,
        _call_function[func],
        _signature_of[func],
        NoneType,
        False,
    ]()
    _ = type_builder.def_py_c_method[static_method=True](
        _as_py_c_function(c[0]), name, _leak_static(text)
    )
    set_last_method_flags(type_builder, c[1] | _METH_STATIC)


def _bind_method_of[
    Ts: TypeList[Trait=AnyType, ...],
    R: Deinitable & Movable,
    S: AnyType,
    call: _Call[R],
    signature: def() thin -> Int,
](
    mut type_builder: PythonTypeBuilder,
    name: StaticString,
    names: List[String],
    doc: StaticString,
    record: def(var _Signature) thin raises -> None,
) raises:
    comptime required = _required[Ts]()
    var qualified = String(type_builder.type_name, ".", name)
    var parameter_names = _names_list(qualified, Ts.length, names.copy())
    var text = _text_signature(
        String(name), parameter_names, Ts.length, required, True, String(doc)
    )
    record(_Signature(qualified, parameter_names^, Ts.length, required))
    var c = _c_function[Ts, R, call, signature, S, True]()
    _ = type_builder.def_py_c_method(
        _as_py_c_function(c[0]), name, _leak_static(text)
    )
    set_last_method_flags(type_builder, c[1])


def bind_method[
    S: AnyType,
    Ts: TypeList[Trait=AnyType, ...],
    R: Deinitable & Movable,
    //,
    method: def(mut self_: S, *args: *Ts) raises thin -> R,
](
    mut type_builder: PythonTypeBuilder,
    name: StaticString,
    *names: StaticString,
    doc: StaticString = "",
) raises:
    """Binds a method with typed parameters and result as the method `name`
    of its bound type. `self` is the value inside the Python object, in
    place (a `mut self` method changes it), or the Python object itself for
    a function whose first parameter is a PythonObject.

    ```mojo
    bind_method[Grid.fill](grid_type, "fill", "value")
    ```

    Parameters:
        S: The type of `self`: the bound struct, or PythonObject for the
            instance itself (inferred).
        Ts: The other parameter types (inferred).
        R: The result type (inferred).
        method: The method.

    Args:
        type_builder: The type builder of S.
        name: The method's name in Python.
        names: The parameters' names (self excluded), all or none.
        doc: The docstring.

    Raises:
        If `names` has another length than the method's parameters.
    """
    _bind_method_of[
        Ts,
        R,
        S,
        _call_mut_method[method],
        _signature_of[method],
    ](type_builder, name, _strings(names), doc, _record_signature[method])
