"""What loading a Mojo-built extension does to the process, and how bufferable undoes it.

The first Mojo-built extension a process loads starts Mojo's Python interop (Mojo 1.2.0), which

- looks for libpython by running ``python3 -c ...`` in a shell, the first ``python3`` on ``PATH``,
  unless ``MOJO_PYTHON_LIBRARY`` names it: about 0.2 s per process, and a child that inherits the
  environment, so a start-up that loads a Mojo module (a ``sitecustomize``, a ``.pth``) recursed
  without end;
- then writes ``PYTHONEXECUTABLE`` (that ``python3``), ``PYTHONPATH=":"`` and
  ``MOJO_PYTHON_LIBRARY`` into the C environment. ``os.environ`` does not see it, but every child
  started with the default environment does: from a venv whose python is run by its path (IDEs,
  Jupyter kernels, cron), ``subprocess.run([sys.executable, ...])``, multiprocessing's spawn and
  forkserver workers and Dask's nannies start the base interpreter without the venv's packages.

bufferable leaves the process as it found it:

- :func:`loading_mojo_extension` wraps every load that bufferable makes (the importer,
  :func:`bufferable.build.load_extension`): ``MOJO_PYTHON_LIBRARY`` names this interpreter's
  libpython during the load, so no discovery child runs, and the three variables are put back
  afterwards;
- the Mojo package calls :func:`restore_environment` once per process, when it first loads the
  core, so a module imported directly (``import grid`` of a built ``grid.so``) leaves the
  environment as it was too (its discovery child has already run by then).

"As it was" is what ``os.environ`` holds: each variable set to its value there, unset where it is
absent.
"""

from __future__ import annotations

import contextlib
import os
import sysconfig
from typing import Iterator

__all__ = ["MOJO_ENVIRONMENT_VARIABLES", "libpython_path", "loading_mojo_extension",
           "restore_environment"]

#: The variables Mojo 1.2.0's Python interop writes into the C environment.
MOJO_ENVIRONMENT_VARIABLES = ("PYTHONEXECUTABLE", "PYTHONPATH", "MOJO_PYTHON_LIBRARY")


def libpython_path() -> str | None:
    """This interpreter's shared libpython (what Mojo's discovery would find), or None when the
    interpreter has none (a static build: then Mojo's own discovery is left to run)."""
    libdir = sysconfig.get_config_var("LIBDIR")
    name = sysconfig.get_config_var("INSTSONAME")
    shared = bool(name) and (name.endswith((".so", ".dylib")) or ".so." in name)  # not a .a
    if not libdir or not shared:
        return None
    path = os.path.join(libdir, name)
    return path if os.path.isfile(path) else None


def restore_environment() -> None:
    """Puts :data:`MOJO_ENVIRONMENT_VARIABLES` of the C environment back to what ``os.environ``
    holds (unset where it has none). Idempotent; cheap (three ``putenv``/``unsetenv`` calls)."""
    for name in MOJO_ENVIRONMENT_VARIABLES:
        value = os.environ.get(name)
        if value is None:
            os.unsetenv(name)
        else:
            os.putenv(name, value)


@contextlib.contextmanager
def loading_mojo_extension() -> Iterator[None]:
    """Around a load of a Mojo-built extension: no discovery child, and the environment as it was
    afterwards (also when the load fails).

    ``MOJO_PYTHON_LIBRARY`` is set (in the C environment only) to :func:`libpython_path` unless
    ``os.environ`` already sets it (the user's choice wins).
    """
    if "MOJO_PYTHON_LIBRARY" not in os.environ:
        library = libpython_path()
        if library is not None:
            os.putenv("MOJO_PYTHON_LIBRARY", library)
    try:
        yield
    finally:
        restore_environment()
