"""`to_numpy`: hand a Mojo value to numpy without copying it."""

from std.python import Python, PythonObject

from .bufferable import Bufferable
from .errors import type_error


def to_numpy[T: Bufferable & Deinitable](var value: T) raises -> PythonObject:
    """Moves `value` into a new Python object of its bound type and returns a
    numpy array viewing its memory (no copy). The array keeps the object,
    hence the value, alive for as long as it (or any view of it) exists.

    T must have been bound (`PythonModuleBuilder.add_type[T]`) and given the
    buffer protocol (`add_buffer_protocol[T]`) by a module initialized in
    this process.

    Parameters:
        T: The struct.

    Args:
        value: The value, moved in.

    Returns:
        A `numpy.ndarray` sharing the value's memory.

    Raises:
        If T was never bound, if its type has no buffer protocol
        (TypeError), or if the export is refused.
    """
    var obj = PythonObject(alloc=value^)
    var np = Python.import_module("numpy")
    var array = np.asarray(obj)
    # Without bf_getbuffer numpy wraps `obj` in a 0-d object array instead.
    if String(array.dtype.char) == "O":
        raise type_error(
            String(
                "to_numpy: the Python type bound to this struct has no buffer",
                " protocol (call add_buffer_protocol[T] on its type builder)",
            )
        )
    return array
