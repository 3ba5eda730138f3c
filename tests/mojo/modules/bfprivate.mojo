# Uses every private Mojo stdlib name that bufferable/_private.mojo re-exports, so that
# tests/mojo/test_private_api.py fails loudly (at compile time or on a wrong result) when
# the installed Mojo changes any of them.

from std.ffi import c_int
from std.python import Python, PythonObject
from std.python.bindings import PythonModuleBuilder, PythonTypeBuilder
from std.sys.info import size_of

from bufferable import finalize_module, fix_dealloc, module_init_error
from bufferable._private import (
    MOJO_VERSION,
    MojoObject,
    PyObjectPtr,
    RawPointer,
    address_of,
    call_method_with_pack,
    call_with_pack,
    function_word,
    get_global,
    insert_slot,
    slot_function,
    type_word,
    object_address,
    object_at,
    static_word,
    set_last_function_flags,
    set_last_method_flags,
)


struct Counter:
    var inits: Int


def _init() -> Optional[RawPointer]:
    var p = alloc[Counter](1)
    p[].inits = 1
    return RawPointer(unsafe_from_address=Int(p))


def _destroy(p: Optional[RawPointer]):
    pass


struct Probe(Movable, Writable):
    var tag: Int64
    var other: Float64

    def __init__(out self, tag: Int64):
        self.tag = tag
        self.other = 0.5

    def write_to(self, mut w: Some[Writer]):
        w.write("Probe(", self.tag, ")")

    @staticmethod
    def py_init(out self: Probe, args: PythonObject, kwargs: PythonObject) raises:
        self = Probe(Int64(Int(py=args[0])))

    def bump(mut self, step: Int64) -> Int64:
        self.tag += step
        return self.tag


def _mp_length(py_self: PyObjectPtr) abi("C") -> Int:
    # the Probe's tag, read through the MojoObject layout
    var storage = Pointer[MojoObject[Probe], MutUntrackedOrigin](
        unsafe_from_address=address_of(py_self)
    )
    if not storage[].is_initialized:
        return 0
    return Int(storage[].mojo_value.tag)


def global_checks() raises -> PythonObject:
    """(same pointer on two calls, init ran once)."""
    var a = get_global["bfprivate.counter", _init, _destroy]()
    var b = get_global["bfprivate.counter", _init, _destroy]()
    var same = Int(a.value()) == Int(b.value())
    var inits = a.value().unsafe_bitcast[Counter]()[].inits
    return Python.tuple(same, inits)


def _write_word(value: Int):
    static_word["bfprivate.word"]()[] = value


def _read_word() -> Int:
    return static_word["bfprivate.word"]()[]


def static_word_checks(value: PythonObject) raises -> PythonObject:
    """(value read back before the write, same address from two call sites,
    value read back by another function after the write)."""
    var before = _read_word()
    _write_word(Int(py=value))
    var same = Int(static_word["bfprivate.word"]()) == Int(
        static_word["bfprivate.word"]()
    )
    return Python.tuple(before, same, _read_word())


def type_word_checks(value: PythonObject) raises -> PythonObject:
    """(Probe's word before the write, the write read back, another type's word
    is another variable, one address for every call)."""
    var before = type_word["bfprivate.tw.", Probe]()[]
    type_word["bfprivate.tw.", Probe]()[] = Int(py=value)
    var other = type_word["bfprivate.tw.", Counter]()[]
    var same = Int(type_word["bfprivate.tw.", Probe]()) == Int(
        type_word["bfprivate.tw.", Probe]()
    )
    return Python.tuple(before, type_word["bfprivate.tw.", Probe]()[], other, same)


def slot_function_checks() raises -> PythonObject:
    """(mp_length read back as installed, an absent slot reads 0)."""
    var tb = PythonTypeBuilder("Scratch", basicsize=16)  # never finalized
    var f = _mp_length
    var address = Pointer(to=f).unsafe_bitcast[RawPointer]()[]
    insert_slot(tb, 4, address)
    return Python.tuple(slot_function(tb, 4) == Int(address), slot_function(tb, 5))


def address_checks(obj: PythonObject) raises -> PythonObject:
    """(address of obj, round trip through object_at is the same object, NULL is 0)."""
    var address = address_of(object_address(obj))
    var back = PythonObject(from_borrowed=object_at(address))
    var null = address_of(PyObjectPtr())
    return Python.tuple(address, back is obj, null)


def layout_checks(obj: PythonObject) raises -> PythonObject:
    """(offset of the value in the object, tag read through the layout, is_initialized)."""
    var address = address_of(object_address(obj))
    var storage = Pointer[MojoObject[Probe], MutUntrackedOrigin](
        unsafe_from_address=address
    )
    var offset = Int(Pointer(to=storage[].mojo_value)) - address
    return Python.tuple(
        offset, Int(storage[].mojo_value.tag), storage[].is_initialized
    )


def _weigh(a: Int, b: Float64, c: String) -> String:
    return String(a, "|", b, "|", c)


def _other(a: Int) -> Int:
    return a


def function_word_checks(value: PythonObject) raises -> PythonObject:
    """(_weigh's word before the write, the write read back, another function's
    word is another variable, one address for every call)."""
    var before = function_word["bfprivate.fw.", _weigh]()[]
    function_word["bfprivate.fw.", _weigh]()[] = Int(py=value)
    var other = function_word["bfprivate.fw.", _other]()[]
    var same = Int(function_word["bfprivate.fw.", _weigh]()) == Int(
        function_word["bfprivate.fw.", _weigh]()
    )
    return Python.tuple(
        before, function_word["bfprivate.fw.", _weigh]()[], other, same
    )


def pack_checks() raises -> PythonObject:
    """_weigh called with its arguments read from addresses, and a method
    of Probe called the same way on a value in place."""
    var a = 7
    var b = 2.5
    var c = String("c")
    var addresses = Array[Int, 3](fill=0)
    addresses[0] = Int(Pointer(to=a))
    addresses[1] = Int(Pointer(to=b))
    addresses[2] = Int(Pointer(to=c))
    var text = call_with_pack[_weigh](Int(Pointer(to=addresses)))
    var probe = Probe(5)
    var step = Int64(3)
    var one = Array[Int, 1](fill=Int(Pointer(to=step)))
    var bumped = call_method_with_pack[Probe.bump](
        Int(Pointer(to=probe)), Int(Pointer(to=one))
    )
    _ = a
    _ = b
    _ = c^
    _ = addresses
    _ = step
    _ = one
    return Python.tuple(text, bumped, Int(probe.tag))


def _one_argument(py_self: PyObjectPtr, arg: PyObjectPtr) abi("C") -> PyObjectPtr:
    """METH_O: returns its argument."""
    return PythonObject(from_borrowed=arg).steal_data()


def version() raises -> PythonObject:
    return PythonObject(MOJO_VERSION)


@export
def PyInit_bfprivate() abi("C") -> PythonObject:
    try:
        var m = PythonModuleBuilder("bfprivate")
        m.def_function[global_checks]("global_checks")
        m.def_function[static_word_checks]("static_word_checks")
        m.def_function[address_checks]("address_checks")
        m.def_function[type_word_checks]("type_word_checks")
        m.def_function[slot_function_checks]("slot_function_checks")
        m.def_function[layout_checks]("layout_checks")
        m.def_function[version]("version")
        m.def_function[function_word_checks]("function_word_checks")
        m.def_function[pack_checks]("pack_checks")
        m.def_py_c_function(_one_argument, "one_argument")
        set_last_function_flags(m, 0x0008)  # METH_O
        ref tb = m.add_type[Probe]("Probe").def_py_init[Probe.py_init]()
        _ = tb.def_py_c_method(_one_argument, "one_argument")
        set_last_method_flags(tb, 0x0008)  # METH_O
        var f = _mp_length
        insert_slot(tb, 4, Pointer(to=f).unsafe_bitcast[RawPointer]()[])  # mp_length
        fix_dealloc[Probe](tb)
        return finalize_module(m)
    except e:
        return module_init_error(e)
