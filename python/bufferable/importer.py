"""Import Mojo source files as Python modules.

After ``import bufferable.importer``, ``import mymod`` finds ``mymod.mojo`` on ``sys.path`` (or in
a package's ``__path__`` for ``import pkg.mymod``), compiles it with the bufferable Mojo package on
the import path, and imports the result::

    import bufferable.importer
    import mymod            # compiles mymod.mojo the first time (several seconds)

The module must define ``@export def PyInit_mymod() abi("C") -> PythonObject``. Builds are cached in
``__mojocache__`` next to the source, keyed by a hash of the files the build reads (the source, the
local modules and packages it imports, the bufferable Mojo package; see
:func:`bufferable.build.build_inputs`), the compiler and the flags: an unchanged module imports at
once, an edit of any of those files rebuilds it. A cache folder is used only if you own it and no
one else can write to it, a cached build only if the same holds for it: when ``__mojocache__``
cannot be made or is not private (another user made it first in a shared folder, or its group or
others can write to it) the cache goes to :func:`bufferable.build.user_cache_dir` ("mojo"), which
is held to the same rule. A compile error, or a cache directory that cannot be written or is not
private, raises ImportError saying so.

Python modules and already compiled extensions of the same name win: this finder comes last on
``sys.meta_path``. ``install()`` / ``uninstall()`` add and remove it (importing this module installs
it).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Sequence

from .build import (
    MojoBuildError,
    MojoExtensionLoader,
    OutputDirectoryError,
    cached_build,
    private_directory,
    user_cache_dir,
)

__all__ = ["MojoFinder", "cache_dir_for", "install", "uninstall"]


def cache_dir_for(source: Path) -> Path:
    """Where the build of ``source`` is cached: ``__mojocache__`` next to it (made here, 0700)
    when it is or can be made a private folder (:func:`bufferable.build.private_directory`: you
    own it and no one else can write to it), else :func:`bufferable.build.user_cache_dir`
    ("mojo"), which :func:`bufferable.build.cached_build` checks the same way."""
    try:
        return private_directory(source.parent / "__mojocache__")
    except OutputDirectoryError:
        return user_cache_dir("mojo")


class MojoFinder(importlib.abc.MetaPathFinder):
    """Finds ``<name>.mojo`` on the search path and returns a spec for its compiled extension."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        name = fullname.rpartition(".")[2]
        for entry in path if path is not None else sys.path:
            try:
                # '' is the working directory, which may have been deleted: then it holds nothing
                source = Path(entry or os.getcwd()) / f"{name}.mojo"
                if not source.is_file():
                    continue
            except (OSError, TypeError, ValueError):  # gone, unreadable, or not a path
                continue
            cache = cache_dir_for(source)
            try:
                extension = cached_build(source, cache)
            except MojoBuildError as error:
                raise ImportError(
                    f"cannot import {fullname}: building {source} failed:\n{error.output}",
                    name=fullname,
                    path=str(source),
                ) from None
            except OutputDirectoryError as error:
                raise ImportError(
                    f"cannot import {fullname} from {source}: cannot use the cache directory "
                    f"{cache} ({error}); set BUFFERABLE_CACHE to a directory that you own and "
                    "only you can write to",
                    name=fullname,
                    path=str(source),
                ) from error
            except (OSError, ValueError) as error:
                raise ImportError(
                    f"cannot import {fullname} from {source}: {error}",
                    name=fullname,
                    path=str(source),
                ) from error
            loader = MojoExtensionLoader(fullname, str(extension))
            spec = importlib.util.spec_from_file_location(fullname, str(extension), loader=loader)
            return spec
        return None


_finder = MojoFinder()


def install() -> None:
    """Add the Mojo finder at the end of ``sys.meta_path`` (idempotent)."""
    if not any(isinstance(f, MojoFinder) for f in sys.meta_path):
        sys.meta_path.append(_finder)


def uninstall() -> None:
    """Remove the Mojo finder from ``sys.meta_path``."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, MojoFinder)]


install()
