"""bufferable: zero-copy memory sharing between Mojo, C/C++ and Python.

Python sees a producer's memory through the buffer protocol (``memoryview``, ``numpy.asarray``)
with no copy; :func:`inspect` shows what any export really contains, with the request flags of
:class:`BufferFlags`; :func:`parse_format` validates a PEP 3118 format string. The C API that Mojo
and C/C++ producers call is the capsule ``bufferable._core._C_API`` (see ``bufferable.h``).
"""
from . import _core
from ._core import BufferInfo, inspect, install_interop, parse_format
from .arrays import asarray, extension_dtype
from .flags import BufferFlags
from .build import mojo_path

__version__ = "0.1.0"


def load_ipython_extension(ipython: object) -> None:
    """``%load_ext bufferable`` in IPython or Jupyter: the ``%%mojo`` cell magic, which compiles a
    cell holding a Mojo module with bufferable on the import path and imports it
    (:mod:`bufferable.notebook`)."""
    from .notebook import load_ipython_extension as load

    load(ipython)


__all__ = [
    "BufferFlags", "BufferInfo", "asarray", "extension_dtype", "inspect", "install_interop",
    "parse_format", "__version__",
]
