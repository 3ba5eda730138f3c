"""Errors raised inside Mojo functions bound with py_method / py_function reach Python with their
class: bufferable's own errors as BufferError/ValueError/IndexError/..., a Python exception that
bufferable took (in its own operations and in the Python operations of python_ops.mojo: calls,
items, attributes, numbers, imports) as that very object (KeyboardInterrupt included), and
anything else as a plain Exception, whatever its text says. Python exceptions raised inside Mojo's
standard library still reach Python as plain Exception (the last test pins that)."""
import gc
import os
import sys
import threading
import types
import weakref

import numpy as np
import pytest

from conftest import MODULES


@pytest.fixture(scope="module")
def bferrors(mojo_module):
    return mojo_module(MODULES / "errors" / "bferrors.mojo")


def test_a_class_is_never_read_from_the_text(bferrors):
    for text in ("IndexError: not really", "BufferError: x", "KeyError: 'k'", "plain"):
        with pytest.raises(Exception) as info:
            bferrors.plain(text)
        assert type(info.value) is Exception and str(info.value) == text


def test_bufferable_errors_keep_their_class(bferrors):
    with pytest.raises(BufferError, match="^the producer refuses$"):
        bferrors.bufferable_error()
    with pytest.raises(ValueError, match="float32, not float64"):
        bferrors.view_1d(np.zeros(3, np.float32))
    with pytest.raises(IndexError, match="argument 0 is missing"):
        bferrors.fast_first()


def test_a_dropped_error_does_not_lend_its_class(bferrors):
    with pytest.raises(Exception) as info:
        bferrors.dropped_then_plain()
    assert type(info.value) is Exception and str(info.value) == "unrelated"


class Interrupting:
    def __init__(self, exception):
        self.exception = exception

    def __dlpack__(self, **kwargs):
        raise self.exception


def test_a_python_exception_comes_back_as_the_same_object(bferrors):
    interrupt = KeyboardInterrupt("stop")
    with pytest.raises(KeyboardInterrupt) as info:
        bferrors.view_1d_dlpack(Interrupting(interrupt))
    assert info.value is interrupt


def test_a_reworded_python_exception_keeps_its_class_and_cause(bferrors):
    original = KeyError("k")
    with pytest.raises(KeyError) as info:
        bferrors.view_1d_dlpack(Interrupting(original))
    assert info.value.__cause__ is original
    assert "cannot view 'Interrupting'" in str(info.value)


def test_fast_arguments_keep_python_classes(bferrors):
    assert bferrors.fast_int(41) == 42
    with pytest.raises(OverflowError):
        bferrors.fast_int(10**30)
    with pytest.raises(TypeError, match="integer"):
        bferrors.fast_int("x")
    a = np.zeros((2, 3))
    assert bferrors.fast_view(a, None, None) == 3
    with pytest.raises(ValueError, match="expected 2"):
        bferrors.fast_view(np.zeros(3))
    o = object()
    assert bferrors.fast_first(o) is o


class Custom(Exception):
    """A user's own exception class, with an attribute of its own."""

    def __init__(self, message, code=0):
        super().__init__(message)
        self.code = code


class Strict(Exception):
    """An exception class that cannot be built from a message alone."""

    def __init__(self, message, code):
        super().__init__(message)
        self.code = code


def raiser(exception):
    def callback(*args, **kwargs):
        raise exception

    return callback


@pytest.mark.parametrize("name", ["call_back", "fast_call_back"])
def test_a_callback_exception_comes_back_as_the_same_object(bferrors, name):
    """py_call from a py_method (tuple) and a py_function (fastcall): KeyboardInterrupt, KeyError
    and a user's subclass come back as the object the callback raised, traceback included."""
    call = getattr(bferrors, name)
    for exception in (KeyboardInterrupt("stop"), KeyError("k"), Custom("mine", 7)):
        with pytest.raises(type(exception)) as info:
            call(raiser(exception), 1, "two")
        assert info.value is exception
        frames = [entry.name for entry in info.traceback]
        assert "callback" in frames  # the callback's frame is kept
    assert info.value.code == 7


@pytest.mark.parametrize("name", ["call_back", "fast_call_back"])
def test_a_callback_gets_its_arguments_and_returns_its_result(bferrors, name):
    call = getattr(bferrors, name)
    for count in (0, 1, 2, 7, 8, 9, 20):  # across the small-call limit
        given = tuple(object() for _ in range(count))
        assert call(lambda *args: args, *given) == given


def test_calls_with_keywords(bferrors):
    def f(*args, **kwargs):
        return args, kwargs

    assert bferrors.call_with(f, (1, 2), {"a": 3}) == ((1, 2), {"a": 3})
    assert bferrors.call_with(f, [1], None) == ((1,), {})
    assert bferrors.call_with(f, iter(()), types.MappingProxyType({"b": 4})) == ((), {"b": 4})
    kwargs = {"a": 1}
    bferrors.call_with(lambda **kw: kw.update(z=2), (), kwargs)
    assert kwargs == {"a": 1}  # the callee gets a copy, as with f(**kwargs)
    exception = Custom("kw", 9)
    with pytest.raises(Custom) as info:
        bferrors.call_with(raiser(exception), (), {"a": 1})
    assert info.value is exception
    with pytest.raises(TypeError):
        bferrors.call_with(f, 5, None)  # not iterable
    with pytest.raises(TypeError):
        bferrors.call_with(f, (), {1: 2})  # a key that is not a str
    with pytest.raises(AttributeError):
        bferrors.call_with(f, (), 5)  # not a mapping: dict.update's own error


def test_operations_keep_the_exception(bferrors):
    d = {"a": 1}
    assert bferrors.get_item(d, "a") == 1
    with pytest.raises(KeyError) as info:
        bferrors.get_item(d, "missing")
    assert info.value.args == ("missing",)
    with pytest.raises(IndexError):
        bferrors.get_item([1, 2], 5)
    with pytest.raises(AttributeError, match="nope") as info:
        bferrors.get_attr(d, "nope")
    assert info.value.name == "nope" and info.value.obj is d
    assert bferrors.get_attr(Custom("m", 3), "code") == 3
    assert bferrors.call_method([3, 1, 2], "index", 2) == 2
    with pytest.raises(ValueError, match="is not in list"):
        bferrors.call_method([3, 1, 2], "index", 9)
    with pytest.raises(AttributeError):
        bferrors.call_method([], "no_such_method")
    assert bferrors.import_module("json").dumps([1]) == "[1]"
    assert bferrors.import_module("os.path") is os.path  # the submodule, as import_module does
    with pytest.raises(ModuleNotFoundError) as info:
        bferrors.import_module("bufferable_no_such_module")
    assert info.value.name == "bufferable_no_such_module"


class Interrupts:
    """Interrupts whoever reads it as a number or an attribute."""

    def __index__(self):
        raise KeyboardInterrupt("index")

    def __float__(self):
        raise KeyboardInterrupt("float")

    def __getattr__(self, name):
        raise KeyboardInterrupt(name)

    def __getitem__(self, key):
        raise KeyboardInterrupt(key)


def test_number_conversions_keep_the_exception(bferrors):
    assert bferrors.to_index(41) == 41 and bferrors.to_index(True) == 1
    assert bferrors.to_index(np.int16(-3)) == -3
    with pytest.raises(TypeError, match="integer"):
        bferrors.to_index("x")
    with pytest.raises(TypeError):
        bferrors.to_index(1.5)  # operator.index semantics: no truncation
    with pytest.raises(OverflowError):
        bferrors.to_index(2**63)
    assert bferrors.to_index(-(2**63)) == -(2**63)
    assert bferrors.to_float(1.5) == 1.5 and bferrors.to_float(3) == 3.0
    assert bferrors.to_float(np.float32(0.5)) == 0.5
    with pytest.raises(TypeError):
        bferrors.to_float("1.5")  # float(x) of a number, not of a string
    with pytest.raises(OverflowError):
        bferrors.to_float(10**400)
    for operation, argument in (
        (bferrors.to_index, Interrupts()),
        (bferrors.to_float, Interrupts()),
        (bferrors.get_attr, (Interrupts(), "x")),
        (bferrors.get_item, (Interrupts(), "k")),
    ):
        arguments = argument if isinstance(argument, tuple) else (argument,)
        with pytest.raises(KeyboardInterrupt):
            operation(*arguments)


def test_a_reworded_callback_exception_keeps_its_class(bferrors):
    """`reworded` raises a new exception of the class with the new text, caused by the original;
    the original itself when its class cannot be built from a message, or is not an Exception."""
    original = Custom("mine", 7)
    with pytest.raises(Custom) as info:
        bferrors.reworded_call(raiser(original))
    assert str(info.value) == "calling back: mine" and info.value.__cause__ is original
    for original in (Strict("strict", 8), KeyboardInterrupt("stop")):
        with pytest.raises(type(original)) as info:
            bferrors.reworded_call(raiser(original))
        assert info.value is original


def test_an_exception_handled_in_mojo_leaves_nothing_behind(bferrors):
    """The helper's exception caught in Mojo: the function returns normally, no exception is left
    pending, the exception object is released, and a later error with the same text is not
    given its class."""
    exception = Custom("mine", 7)
    ref = weakref.ref(exception)
    callback = raiser(exception)
    before = sys.getrefcount(exception)
    for _ in range(100):
        assert bferrors.handled_call(callback) == "handled: mine"
    exception.__traceback__ = None
    assert sys.getrefcount(exception) == before
    del exception, callback
    gc.collect()
    assert ref() is None  # no stale record keeps it
    with pytest.raises(Exception) as info:
        bferrors.plain("mine")
    assert type(info.value) is Exception and str(info.value) == "mine"
    assert bferrors.fast_handled_call(raiser(KeyError("k"))) == "handled: 'k'"
    with pytest.raises(Exception) as info:
        bferrors.plain("'k'")
    assert type(info.value) is Exception and str(info.value) == "'k'"


def test_a_held_exception_survives_nested_successful_calls(bferrors):
    """A function holding a taken exception while Python calls back into this module: the nested
    calls return normally without dropping the outer call's record."""
    exception = Custom("outer", 5)
    with pytest.raises(Custom) as info:
        bferrors.held_across_call(raiser(exception), lambda: bferrors.fast_int(1))
    assert info.value is exception
    with pytest.raises(Custom) as info:
        bferrors.held_across_call(raiser(exception), lambda: bferrors.get_item({"a": 1}, "a"))
    assert info.value is exception


def test_threads_keep_their_own_exceptions(bferrors):
    """Records are per thread: threads raising, handling and succeeding at once each get their own
    exception object back."""
    failures = []

    def raising(index):
        for _ in range(300):
            exception = Custom(f"thread {index}", index)
            try:
                bferrors.fast_call_back(raiser(exception))
            except Custom as caught:
                if caught is not exception:
                    failures.append((index, caught))
            else:
                failures.append((index, "no exception"))

    def handling():
        for _ in range(300):
            if bferrors.handled_call(raiser(KeyError("h"))) != "handled: 'h'":
                failures.append("handled")
            bferrors.call_back(len, "abc")

    threads = [threading.Thread(target=raising, args=(i,)) for i in range(3)]
    threads += [threading.Thread(target=handling) for _ in range(2)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as CPython allows
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert failures == []


def test_successful_calls_keep_reference_counts(bferrors):
    result, argument, key, value = object(), object(), "key", object()
    callback = lambda *args, **kwargs: result  # noqa: E731
    mapping = {key: value}
    holder = Custom("m", value)
    counted = (result, argument, callback, mapping, key, value, holder)
    before = [sys.getrefcount(o) for o in counted]
    for _ in range(2000):
        assert bferrors.call_back(callback, argument) is result
        assert bferrors.fast_call_back(callback, argument, argument) is result
        assert bferrors.get_item(mapping, key) is value
        assert bferrors.get_attr(holder, "code") is value
        assert bferrors.call_method(mapping, "get", key) is value
        assert bferrors.call_with(callback, (argument,), mapping) is result
    assert [sys.getrefcount(o) for o in counted] == before


def test_failing_calls_keep_reference_counts(bferrors):
    exception = KeyError("k")
    callback = raiser(exception)
    argument = object()
    counted = (exception, callback, argument)
    before = [sys.getrefcount(o) for o in counted]
    for _ in range(2000):
        try:
            bferrors.fast_call_back(callback, argument)
        except KeyError as caught:
            assert caught is exception
        try:
            bferrors.handled_call(callback)
        except KeyError:
            raise AssertionError("handled in Mojo")
    exception.__traceback__ = None
    assert [sys.getrefcount(o) for o in counted] == before


def _leftovers(call, callback, times):
    """Tracebacks and frames alive after `times` failing calls (each caught), and the growth of
    the exception class's reference count."""

    def count():
        gc.collect()
        return sum(type(o).__name__ in ("traceback", "frame") for o in gc.get_objects())

    objects, references = count(), sys.getrefcount(KeyError)
    for _ in range(times):
        try:
            call(callback)
        except BaseException:  # noqa: PERF203 - each call is meant to fail
            pass
    return count() - objects, sys.getrefcount(KeyError) - references


def test_failing_operations_leak_nothing(bferrors):
    """The exception, its traceback and its frames are released once Python is done with them,
    whether it reached Python (call_back) or was handled in Mojo (handled_call)."""

    def callback():
        raise KeyError("k")

    for call in (bferrors.call_back, bferrors.fast_call_back, bferrors.handled_call):
        assert _leftovers(call, callback, 500) == (0, 0)


def test_stdlib_conversions_lose_the_class(bferrors):
    """Mojo 1.2.0's standard library turns a failed Python call into Error(str(exception)) and
    clears the exception before the function sees it: the text survives, the class cannot. If
    this fails after a Mojo upgrade, the standard library keeps exceptions now: update the
    README (Errors) and the docstrings of calls.mojo, errors.mojo and python_ops.mojo."""
    with pytest.raises(Exception) as info:
        bferrors.stdlib_int("x")
    assert type(info.value) is Exception and "invalid literal for int()" in str(info.value)
    with pytest.raises(Exception) as info:
        bferrors.stdlib_call(raiser(KeyboardInterrupt("stop")))
    assert type(info.value) is Exception and "stop" in str(info.value)
    with pytest.raises(Exception) as info:
        bferrors.stdlib_get_item({}, "missing")
    assert type(info.value) is Exception and "missing" in str(info.value)


def test_stdlib_conversions_leak_the_class_and_traceback(bferrors):
    """Mojo 1.2.0's standard library never releases its reference to the class of a Python
    exception it converts, nor the traceback (with its frames) of one raised by Python code:
    memory grows with every failed operation. If this fails after a Mojo upgrade, the leak is
    fixed: update the README (Errors) and python_ops.mojo's docstring."""

    def callback():
        raise KeyError("k")

    frames, references = _leftovers(bferrors.stdlib_call, callback, 500)
    assert frames >= 500 and references >= 500
    frames, references = _leftovers(lambda key: bferrors.stdlib_get_item({}, key), "k", 500)
    assert references >= 500
