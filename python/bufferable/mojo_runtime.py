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

It also needs the Mojo runtime libraries (``libKGENCompilerRTShared.so`` and the two it loads),
which ``mojo build`` records as an absolute RUNPATH into the environment that built the module.
:func:`load_mojo_runtime` loads this environment's copies first (a library already loaded
satisfies a module's dependency on its name), so a module built in one environment imports in any
other that has the same bufferable and Mojo: another venv, another machine, a cluster's workers.

bufferable leaves the process as it found it:

- :func:`loading_mojo_extension` wraps every load that bufferable makes (the importer,
  :func:`bufferable.build.load_extension`): it loads the runtime, ``MOJO_PYTHON_LIBRARY`` names
  this interpreter's libpython during the load, so no discovery child runs, and the three
  variables are put back afterwards;
- the Mojo package calls :func:`restore_environment` once per process, when it first loads the
  core, so a module imported directly (``import grid`` of a built ``grid.so``) leaves the
  environment as it was too (its discovery child has already run by then).

"As it was" is what ``os.environ`` holds: each variable set to its value there, unset where it is
absent.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import importlib.metadata
import os
import sysconfig
from pathlib import Path
from typing import Iterator

__all__ = ["MOJO_ENVIRONMENT_VARIABLES", "MOJO_RUNTIME_LIBRARIES", "libpython_path",
           "load_mojo_runtime", "loading_mojo_extension", "mojo_runtime_dir",
           "restore_environment"]

#: The Mojo runtime a Mojo-built extension needs, each after the ones it depends on.
MOJO_RUNTIME_LIBRARIES = ("libMSupportGlobals.so", "libAsyncRTRuntimeGlobals.so",
                          "libKGENCompilerRTShared.so")

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


@functools.cache
def mojo_runtime_dir() -> Path | None:
    """The folder of this environment's Mojo runtime libraries (``.../modular/lib`` of the
    ``mojo-compiler`` distribution that ``pip install 'bufferable[mojo]'`` brings), or None when
    Mojo is not installed in this environment."""
    try:
        distribution = importlib.metadata.distribution("mojo-compiler")
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in distribution.files or ():
        if file.name == MOJO_RUNTIME_LIBRARIES[-1]:
            return Path(str(distribution.locate_file(file))).parent
    return None


@functools.cache
def load_mojo_runtime() -> Path | None:
    """Loads this environment's Mojo runtime (once per process; about 10 ms), so that a Mojo
    module built in another environment finds it. Call it before a plain ``import`` of such a
    module; bufferable's own loads call it.

    Returns:
        The runtime's folder, or None when this environment has no Mojo (a module built
        elsewhere then loads the runtime its RUNPATH names, if that still exists).

    Raises:
        OSError: a runtime library exists but cannot be loaded.
    """
    folder = mojo_runtime_dir()
    if folder is not None:
        for name in MOJO_RUNTIME_LIBRARIES:
            ctypes.CDLL(str(folder / name))  # kept loaded: ctypes never unloads
    return folder


@contextlib.contextmanager
def loading_mojo_extension() -> Iterator[None]:
    """Around a load of a Mojo-built extension: no discovery child, and the environment as it was
    afterwards (also when the load fails).

    ``MOJO_PYTHON_LIBRARY`` is set (in the C environment only) to :func:`libpython_path` unless
    ``os.environ`` already sets it (the user's choice wins).
    """
    load_mojo_runtime()
    if "MOJO_PYTHON_LIBRARY" not in os.environ:
        library = libpython_path()
        if library is not None:
            os.putenv("MOJO_PYTHON_LIBRARY", library)
    try:
        yield
    finally:
        restore_environment()
