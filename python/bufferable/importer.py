"""Import Mojo source files as Python modules.

After ``import bufferable.importer``, ``import mymod`` finds ``mymod.mojo`` on ``sys.path`` (or in
a package's ``__path__`` for ``import pkg.mymod``), compiles it with the bufferable Mojo package on
the import path, and imports the result::

    import bufferable.importer
    import mymod            # compiles mymod.mojo the first time (several seconds)

The module must define ``@export def PyInit_mymod() abi("C") -> PythonObject``. Builds are cached in
``__mojocache__`` next to the source, keyed by a hash of the source, its sibling ``.mojo`` files and
the bufferable Mojo package: an unchanged module imports at once, an edited one is rebuilt. When the
source directory is not writable the cache goes to ``$BUFFERABLE_CACHE`` or
``~/.cache/bufferable/mojo``. A compile error raises ImportError carrying the compiler's message.

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

from .build import MojoBuildError, cached_build

__all__ = ["MojoFinder", "install", "uninstall"]


def _cache_dir_for(source: Path) -> Path:
    local = source.parent / "__mojocache__"
    try:
        local.mkdir(exist_ok=True)
        if os.access(local, os.W_OK):
            return local
    except OSError:
        pass
    base = os.environ.get("BUFFERABLE_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "bufferable", "mojo"
    )
    return Path(base)


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
            directory = Path(entry or os.getcwd())
            source = directory / f"{name}.mojo"
            try:
                if not source.is_file():
                    continue
            except OSError:
                continue
            try:
                extension = cached_build(source, _cache_dir_for(source))
            except MojoBuildError as error:
                raise ImportError(
                    f"cannot import {fullname}: compiling {source} failed:\n{error.output}",
                    name=fullname,
                    path=str(source),
                ) from None
            except (FileNotFoundError, ValueError) as error:
                raise ImportError(
                    f"cannot import {fullname} from {source}: {error}",
                    name=fullname,
                    path=str(source),
                ) from None
            loader = importlib.machinery.ExtensionFileLoader(fullname, str(extension))
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
