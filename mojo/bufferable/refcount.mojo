"""New references taken the way CPython's headers take them: inline.

C code compiled against Python.h (Cython, nanobind, the core) adds to an
object's reference count in place (`Py_INCREF` is an inline function); Mojo
code is not compiled against Python.h and calls `Py_IncRef`, a call through
the PLT that costs about 3 ns, a visible share of a 100 ns `memoryview(x)`.
`incref` does what `Py_INCREF` does, inline.

That is right for every build of CPython that keeps the GIL (3.10 to 3.14):
each object starts with its reference count, a `Py_ssize_t`, and for a mortal
object (one that is not immortal, PEP 683) `Py_INCREF` adds one to it. A
free-threaded build lays the header out otherwise; bufferable does not
support it (the core's tables are guarded by the GIL too), and
`require_gil_build` refuses it with a clear error when a type is given the
buffer protocol, before `incref` can ever run.
"""

from std.python import Python

from ._private import PyObjectPtr, address_of


def require_gil_build() raises:
    """Refuses a free-threaded CPython
    (`sysconfig.get_config_var("Py_GIL_DISABLED")` is true).

    Raises:
        An error naming the build, if it is free-threaded.
    """
    var sysconfig = Python.import_module("sysconfig")
    if Bool(sysconfig.get_config_var("Py_GIL_DISABLED")):
        raise Error(
            "bufferable needs a CPython build with the GIL; this one is"
            " free-threaded (Py_GIL_DISABLED)"
        )


@always_inline
def incref(obj: PyObjectPtr):
    """Adds a reference to a mortal object, as CPython's `Py_INCREF` does.

    Only for an object that cannot be immortal: an instance of a type made at
    run time (a bound Mojo type), never None, a small int or an interned
    string. Needs the GIL, in a build that has one (`require_gil_build`).

    Args:
        obj: The object (not NULL).
    """
    Pointer[Int, MutUntrackedOrigin](unsafe_from_address=address_of(obj))[] += 1
