"""Errors raised inside Mojo functions bound with py_method / py_function reach Python with their
class: bufferable's own errors as BufferError/ValueError/IndexError/..., a Python exception that
bufferable took as that very object (KeyboardInterrupt included), and anything else as a plain
Exception, whatever its text says."""
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


def test_stdlib_conversions_lose_the_class(bferrors):
    """Mojo 1.2.0's standard library turns a failed Python call into Error(str(exception)) and
    clears the exception before the function sees it: the text survives, the class cannot."""
    with pytest.raises(Exception) as info:
        bferrors.stdlib_int("x")
    assert type(info.value) is Exception and "invalid literal for int()" in str(info.value)
