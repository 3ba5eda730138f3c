"""Typed bindings (mojo/bufferable/typed_calls.mojo): Mojo functions and methods with typed
parameters and results, bound with `bind_function` / `bind_method`
(tests/mojo/modules/bftyped.mojo).

Every supported parameter and result type round-trips; a wrong argument is a TypeError naming
the function, the position and the name; arity and keyword errors are worded as Python's; errors
raised inside keep their class; methods see the value inside the instance; results that are bound
structs become new instances whose value is destroyed once; reference counts stay put over 100k
calls."""
from __future__ import annotations

import gc
import inspect
import sys
import tracemalloc

import numpy as np
import pytest

from conftest import MODULES


@pytest.fixture(scope="module")
def t(mojo_module):
    return mojo_module(MODULES / "bftyped.mojo")


# --- parameters and results of every supported type ----------------------------------------------

INTEGERS = [
    ("id_int", -(2**63), 2**63 - 1), ("id_i8", -128, 127), ("id_i16", -(2**15), 2**15 - 1),
    ("id_i32", -(2**31), 2**31 - 1), ("id_i64", -(2**63), 2**63 - 1), ("id_u8", 0, 255),
    ("id_u16", 0, 2**16 - 1), ("id_u32", 0, 2**32 - 1), ("id_u64", 0, 2**64 - 1),
]


@pytest.mark.parametrize("name, low, high", INTEGERS)
def test_integers_round_trip_and_overflow(t, name, low, high):
    f = getattr(t, name)
    for value in (low, high, 0, 1, True, np.int16(7)):
        if low <= int(value) <= high:
            out = f(value)
            assert out == int(value) and type(out) is int
    for value in (low - 1, high + 1):
        with pytest.raises(OverflowError, match=rf"^{name}\(\) argument 1 'x': "):
            f(value)
    with pytest.raises(TypeError, match=rf"^{name}\(\) argument 1 'x': expected int.*, got float$"):
        f(1.5)
    with pytest.raises(TypeError, match=rf"^{name}\(\) argument 1 'x': expected int.*, got str$"):
        f("1")


def test_floats_bools_strings_objects(t):
    assert t.id_f64(1.25) == 1.25 and type(t.id_f64(1.25)) is float
    assert t.id_f64(3) == 3.0 and t.id_f64(np.float32(0.5)) == 0.5
    assert t.id_f32(0.1) == pytest.approx(0.1, rel=1e-7) and t.id_f32(0.1) != 0.1
    with pytest.raises(TypeError, match=r"^id_f64\(\) argument 1 'x': expected float, got str$"):
        t.id_f64("1.0")
    assert t.id_bool(True) is True and t.id_bool(False) is False and t.negate(True) is False
    with pytest.raises(TypeError, match=r"^id_bool\(\) argument 1 'x': expected bool, got int$"):
        t.id_bool(1)
    assert t.scalar_true() is True
    for s in ("", "abc", "héllo wörld", "日本", "\0nul"):
        assert t.id_str(s) == s
    assert t.utf8_length("é") == 2
    with pytest.raises(TypeError, match=r"^utf8_length\(\) argument 1 'text': expected str, got bytes$"):
        t.utf8_length(b"x")
    with pytest.raises(UnicodeEncodeError):
        t.id_str("\ud800")  # a lone surrogate has no UTF-8
    o = object()
    assert t.id_obj(o) is o and t.id_obj(None) is None
    assert t.id_int_alias(3) == 3


def test_optionals_take_none_and_may_be_omitted(t):
    assert t.id_opt_int(None) is None and t.id_opt_int(5) == 5
    assert t.id_opt_str(None) is None and t.id_opt_str("s") == "s"
    with pytest.raises(TypeError, match=r"^id_opt_int\(\) argument 1 'x': expected int or None, got str$"):
        t.id_opt_int("5")
    assert t.id_opt_int() is None  # a trailing Optional may be omitted
    assert t.maybe_block(3) == 3 and t.maybe_block(0) is None


def test_no_arguments_and_no_result(t):
    assert t.zero() == 0
    assert t.nothing(3) is None
    with pytest.raises(TypeError):
        t.zero(1)


def test_views_of_any_buffer(t):
    a = np.arange(12.0).reshape(3, 4)
    assert t.view_sum(a) == 66.0 and t.view_sum(a[:, ::2]) == 30.0 and t.view_sum(a.T) == 66.0
    assert t.view_sum(memoryview(a)) == 66.0
    b = np.zeros(5, np.int32)
    assert t.fill(b, 9) is None and b.tolist() == [9] * 5  # a mutable view writes in place
    assert t.c_rows(np.zeros((3, 2), np.float32)) == 3
    with pytest.raises(TypeError, match=r"^view_sum\(\) argument 1 'a': expected a 2-D float64 buffer, got list$"):
        t.view_sum([[1.0]])
    with pytest.raises(ValueError, match=r"^view_sum\(\) argument 1 'a': MemoryView\[float64, 2, mut=False\]: .*float32"):
        t.view_sum(np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError, match=r"^view_sum\(\) argument 1 'a': .*1 dimension, expected 2"):
        t.view_sum(np.zeros(3))
    read_only = np.zeros(3, np.int32)
    read_only.setflags(write=False)
    with pytest.raises(BufferError, match=r"^fill\(\) argument 1 'a': .*read-only"):
        t.fill(read_only, 1)
    with pytest.raises(TypeError, match=r"^fill\(\) argument 1 'a': expected a writable 1-D int32 buffer, got int$"):
        t.fill(3, 1)
    with pytest.raises(BufferError, match=r"^c_rows\(\) argument 1 'a': .*not C-contiguous"):
        t.c_rows(np.zeros((2, 4), np.float32)[:, ::2])


def test_record_and_table_views(t):
    dtype = np.dtype([("pos", "<f4", (4,)), ("mass", "<f8"), ("id", "<i4"), ("alive", "?")], align=True)
    r = np.zeros(3, dtype)
    r["mass"], r["id"], r["alive"] = [1, 3, 2], [7, 8, 9], True
    assert t.heaviest(r) == 8 and t.heaviest(r[::-2]) == 9
    with pytest.raises(TypeError, match=r"^heaviest\(\) argument 1 'v': expected a 1-D buffer of Particle records, got int$"):
        t.heaviest(1)
    with pytest.raises(ValueError, match=r"^heaviest\(\) argument 1 'v': RecordView"):
        t.heaviest(np.zeros(3))
    pa = pytest.importorskip("pyarrow")
    table = pa.table({"price": [1.5, 2.5], "qty": [1, 2]})
    assert t.column_sum(table, "price") == 4.0
    assert t.column_sum(table=table, name="price") == 4.0
    with pytest.raises(TypeError, match=r"^column_sum\(\) argument 1 'table': expected an Arrow table, got dict$"):
        t.column_sum({}, "price")


def test_a_struct_of_ones_own_converts_both_ways(t):
    assert t.widen((1, 2), 0.5) == (0.5, 2.5)
    with pytest.raises(TypeError, match=r"^widen\(\) argument 1 'interval': expected a \(low, high\) tuple, got list$"):
        t.widen([1, 2], 0.5)


# --- argument passing: many arguments, mixed types, keywords ---------------------------------------


def test_many_arguments_arrive_in_their_places(t):
    rng = np.random.default_rng(1)
    for _ in range(200):
        values = [int(v) for v in rng.integers(-1000, 1000, 10)]
        expected = sum(v << i for i, v in enumerate(values))
        assert t.ten(*values) == expected
        assert t.ten_positional(*values) == expected
        names = [f"a{i}" for i in range(10)]
        order = rng.permutation(10)
        assert t.ten(**{names[i]: values[i] for i in order}) == expected
        k = int(rng.integers(0, 10))
        assert t.ten(*values[:k], **{names[i]: values[i] for i in range(k, 10)}) == expected


def test_mixed_types_arrive_in_their_places(t):
    a = np.arange(4.0)
    marker = ["marker"]
    assert t.mixed(7, 2.5, "s", marker, True, a, 3, "h") == "7|2.5|s|['marker']|True|6.0|3|h"
    assert t.mixed(7, 2.5, "s", marker, False, a, None, None) == "7|2.5|s|['marker']|False|6.0|None|None"
    assert t.mixed(h="x", g=1, f=a[::2], e=True, d=None, c="", b=-1.0, a=0) == "0|-1.0||None|True|2.0|1|x"
    assert t.mixed(1, 2.0, "c", None, True, a) == "1|2.0|c|None|True|6.0|None|None"
    for position, bad in enumerate([1.5, "x", 3, None, 1, [1.0], "g", 2]):
        args = [7, 2.5, "s", marker, True, a, 3, "h"]
        if position == 3:  # a PythonObject takes anything
            continue
        args[position] = bad
        name = "abcdefgh"[position]
        with pytest.raises(TypeError, match=rf"^mixed\(\) argument {position + 1} '{name}': expected "):
            t.mixed(*args)


def test_keyword_calls(t):
    assert t.keywords(1, 2) == 1200
    assert t.keywords(1, 2, d=4) == 1204
    assert t.keywords(d=1, c=2, b=3, a=4) == 4321
    assert t.keywords(1, b=2, c=3) == 1230
    kw = {"a": 5, "b": 6}
    assert t.keywords(**kw) == 5600
    assert t.keywords(*[1, 2], **{"c": 3}) == 1230


def test_arity_and_keyword_errors_are_worded_as_pythons(t):
    cases = [
        (lambda: t.keywords(1), r"^keywords\(\) missing 1 required positional argument: 'b'$"),
        (lambda: t.keywords(), r"^keywords\(\) missing 2 required positional arguments: 'a' and 'b'$"),
        (lambda: t.keywords(1, 2, 3, 4, 5), r"^keywords\(\) takes from 2 to 4 positional arguments but 5 were given$"),
        (lambda: t.ten(*range(11)), r"^ten\(\) takes 10 positional arguments but 11 were given$"),
        (lambda: t.keywords(1, 2, e=3), r"^keywords\(\) got an unexpected keyword argument 'e'$"),
        (lambda: t.keywords(1, 2, a=3), r"^keywords\(\) got multiple values for argument 'a'$"),
        (lambda: t.ten_positional(*range(9), a9=1), r"^ten_positional\(\) takes no keyword arguments$"),
        (lambda: t.ten_positional(*range(9)), r"^ten_positional\(\) missing 1 required positional argument: 'arg10'$"),
        (lambda: t.view_sum(), r"takes exactly one argument \(0 given\)"),
        (lambda: t.view_sum(1, 2), r"takes exactly one argument \(2 given\)"),
        (lambda: t.view_sum(a=1), r"takes no keyword arguments"),  # METH_O
        (lambda: t.zero(1), r"takes no arguments \(1 given\)"),
    ]
    for call, message in cases:
        with pytest.raises(TypeError, match=message):
            call()


def test_signatures_and_docstrings(t):
    assert str(inspect.signature(t.keywords)) == "(a, b, c=None, d=None)"
    assert str(inspect.signature(t.view_sum)) == "(a)"
    assert str(inspect.signature(t.zero)) == "()"
    assert t.zero.__doc__ == "Returns 0." and t.keywords.__doc__ == "Digits."
    assert str(inspect.signature(t.Block.relabel)) == "(self, /, label, suffix=None)"
    assert str(inspect.signature(t.Block.ones)) == "(n)"


# --- errors raised inside keep their class ----------------------------------------------------------


def test_errors_raised_inside_keep_their_class(t):
    for kind, cls in (("buffer", BufferError), ("value", ValueError), ("index", IndexError), ("type", TypeError)):
        with pytest.raises(cls) as info:
            t.raiser(kind)
        assert type(info.value) is cls
    with pytest.raises(Exception) as info:
        t.raiser("other")
    assert type(info.value) is Exception and str(info.value) == "plain: other"


def test_a_python_exception_comes_back_as_the_same_object(t):
    interrupt = KeyboardInterrupt("stop")

    def boom(x):
        raise interrupt

    with pytest.raises(KeyboardInterrupt) as info:
        t.call_back(boom, 1)
    assert info.value is interrupt
    assert t.call_back(lambda x: x * 2, 21) == 42


def test_a_handled_error_lends_its_class_to_no_later_call(t):
    assert t.handled_then_ok() == 7  # recorded a ValueError "handled inside", caught it
    with pytest.raises(Exception) as info:
        t.plain("handled inside")
    assert type(info.value) is Exception and str(info.value) == "handled inside"


def test_an_exception_of_a_conversion_keeps_its_class(t):
    class Index:
        def __index__(self):
            raise KeyError("from __index__")

    with pytest.raises(KeyError) as info:
        t.id_int(Index())
    assert "from __index__" in str(info.value)


# --- methods of a bound type, bound structs by reference and as results ------------------------------


def test_methods_see_the_value_in_place(t):
    b = t.Block(3)
    assert b.size() == 3 and b.total() == 0.0
    assert b.add(2.5) == 2.5 and b.size() == 4 and b.total() == 2.5  # mut self changed it
    assert b.label() == "block"
    assert b.relabel("x", "y") is None and b.label() == "xy"
    assert b.relabel(label="z") is None and b.label() == "z"
    assert b.same_size(t.Block(4)) is True and b.same_size(t.Block(1)) is False
    with pytest.raises(TypeError, match="takes no keyword arguments"):
        b.same_size(other=b)  # one argument: METH_O, positional only
    pair = b.identity(5)
    assert pair[0] is b and pair[1] == 5
    with pytest.raises(TypeError, match=r"^Block\.same_size\(\) argument 1 'other': expected a bftyped\.Block, got int$"):
        b.same_size(3)
    with pytest.raises(TypeError, match=r"^Block\.add\(\) argument 1 'value': expected float, got str$"):
        b.add("x")
    view = memoryview(b)
    with pytest.raises(BufferError, match="add to a block"):  # an error of the method keeps its class
        b.add(1.0)
    view.release()
    with pytest.raises(TypeError):
        t.Block.size(object())  # CPython checks self's type before the call


def test_an_uninitialized_instance_is_refused(t):
    b = t.Block.__new__(t.Block)
    with pytest.raises(ValueError, match="not initialized"):
        b.size()
    with pytest.raises(ValueError, match=r"^block_total\(\) argument 1 'block': the Block object is not initialized"):
        t.block_total(b)


def test_struct_results_are_new_instances_destroyed_once(t):
    gc.collect()
    made, destroyed, acquired, released = t.block_counts()
    b = t.make_block(4, 1.5)
    assert type(b) is t.Block and t.block_total(b) == 6.0
    a = np.asarray(b)
    assert a.tolist() == [1.5] * 4 and a.base is not None
    c = b.scaled(2.0)
    assert type(c) is t.Block and c.total() == 12.0
    ones = t.Block.ones(2)  # a static method
    assert ones.total() == 2.0
    del b, c, ones
    gc.collect()
    now = t.block_counts()
    assert now[0] - made == 3 and now[1] - destroyed == 2  # `a` keeps the first alive
    assert now[2] - acquired == 1 and now[3] - released == 0
    del a
    gc.collect()
    now = t.block_counts()
    assert now[1] - destroyed == 3 and now[2] - acquired == now[3] - released == 1
    for _ in range(1000):
        t.make_block(8, 1.0)
    gc.collect()
    now = t.block_counts()
    assert now[0] - now[1] == made - destroyed  # every one destroyed, exactly once


# --- reference counts stay put ---------------------------------------------------------------------------


def test_reference_counts_are_stable_over_100k_calls(t):
    a = np.arange(6.0).reshape(2, 3)
    o = object()
    s = "a string"
    b = t.Block(2)
    before = [sys.getrefcount(x) for x in (a, o, s, b, t.Block, None)]
    for _ in range(100_000):
        t.view_sum(a)
        t.id_obj(o)
        t.id_str(s)
        t.nothing(1)
        t.mixed(1, 2.0, s, o, True, a[0], None, s)
        b.same_size(b)
        b.size()
        t.block_total(b)
    after = [sys.getrefcount(x) for x in (a, o, s, b, t.Block, None)]
    assert after[:5] == before[:5]
    assert abs(after[5] - before[5]) <= 1  # None is immortal from 3.12 on


def test_failing_calls_leak_nothing(t):
    a = np.zeros(3)
    o = object()
    before = [sys.getrefcount(x) for x in (a, o)]

    def fail_all():
        for call in (lambda: t.view_sum(a), lambda: t.id_int(o), lambda: t.keywords(1, e=o),
                     lambda: t.raiser("value"), lambda: t.mixed(o, 2.0, "s", o, True, a, None, None)):
            try:
                call()
            except Exception:
                pass

    for _ in range(1000):
        fail_all()
    gc.collect()
    tracemalloc.start()
    first = tracemalloc.take_snapshot()
    for _ in range(20_000):
        fail_all()
    gc.collect()
    grown = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(first, "filename"))
    tracemalloc.stop()
    assert [sys.getrefcount(x) for x in (a, o)] == before
    assert grown < 64 * 1024, grown


@pytest.mark.parametrize("binding, message", [
    ('bind_function[f](m, "f", "a")', r"f: 1 parameter name given for 2 parameters"),
    ('bind_function[f](m, "f", "a", "b")\n        bind_function[f](m, "g", "x", "y")',
     r"g: this Mojo function is already bound as f with other parameter names"),
])
def test_names_must_match_the_parameters(mojo_module, tmp_path, binding, message):
    """bind_function refuses a wrong number of names, and other names for a function bound
    already: the module fails to import, saying so."""
    source = tmp_path / f"bftyped_badnames{len(binding)}.mojo"
    source.write_text(
        "from std.python import PythonObject\n"
        "from std.python.bindings import PythonModuleBuilder\n"
        "from bufferable import bind_function, finalize_module, module_init_error\n\n"
        "def f(a: Int, b: Int) -> Int:\n    return a + b\n\n"
        "@export\n"
        f"def PyInit_{source.stem}() abi(\"C\") -> PythonObject:\n"
        "    try:\n"
        f"        var m = PythonModuleBuilder(\"{source.stem}\")\n"
        f"        {binding}\n"
        "        return finalize_module(m)\n"
        "    except e:\n"
        "        return module_init_error(e)\n"
    )
    with pytest.raises(ImportError, match=message):
        mojo_module(source)
