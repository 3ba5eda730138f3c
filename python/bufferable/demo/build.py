"""Compile the demo's Mojo extension on first use (with :mod:`bufferable.build`) and import it.

The extension is built by the user's own ``mojo`` (a Mojo-built library points at the Mojo runtime
of the environment that built it), once: :func:`bufferable.build.cached_build` keeps it in
:func:`cache_dir`, keyed by a hash of the demo's Mojo sources, the bufferable Mojo package and the
compiler, so later runs import it at once and any change rebuilds it.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import TextIO

from ..build import (MojoBuildError, cached_build, cached_path, find_mojo, trusted_build,
                     user_cache_dir)
from ..build import load_extension as load_extension_file

__all__ = ["EXTENSION_MODULE_NAME", "EXTENSION_ROOT", "MOJO_SOURCE_DIR", "MojoBuildError", "build_extension",
           "cache_dir", "find_mojo", "load_extension"]

#: The Mojo sources of the demo: the ``raytracer`` package and the extension's root.
MOJO_SOURCE_DIR = Path(__file__).resolve().parent / "mojo"
#: The extension's root: the Python bindings of the ``raytracer`` package (``PyInit_raytracer_extension``).
EXTENSION_ROOT = MOJO_SOURCE_DIR / "raytracer_extension.mojo"
#: The name Python imports the extension under (its last part picks ``PyInit_raytracer_extension``).
EXTENSION_MODULE_NAME = "bufferable.demo.raytracer_extension"


def cache_dir() -> Path:
    """Where the compiled demo is kept: :func:`bufferable.build.user_cache_dir` ("demo")."""
    return user_cache_dir("demo")


class _ElapsedTicker:
    """Rewrites 'compiling... N s' on a terminal every quarter second while a build runs (on a
    stream that is not a terminal it stays silent)."""

    def __init__(self, stream: TextIO, label: str):
        self._stream, self._label = stream, label
        self._done = threading.Event()
        self._start = time.perf_counter()
        self._interactive = stream.isatty()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "_ElapsedTicker":
        if self._interactive:
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._done.wait(0.25):
            self._stream.write(f"\r  {self._label}... {time.perf_counter() - self._start:4.1f} s")
            self._stream.flush()

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        if self._interactive:
            self._thread.join()
            self._stream.write("\r" + " " * (len(self._label) + 20) + "\r")
            self._stream.flush()

    @property
    def elapsed(self) -> float:
        """Seconds since the ticker was made."""
        return time.perf_counter() - self._start


def build_extension(progress: TextIO | None = sys.stderr) -> Path:
    """Returns the path of the compiled extension, compiling it first if no current build is cached.

    Args:
        progress: Where to say that a (first-run) compilation starts, how long it has been running
            (on a terminal) and how long it took; None stays quiet.

    Raises:
        FileNotFoundError: No Mojo compiler (the message says how to install one).
        MojoBuildError: The compilation failed (the message holds the compiler's output).
    """
    include = [MOJO_SOURCE_DIR]
    target = cached_path(EXTENSION_ROOT, cache_dir(), include=include)
    if trusted_build(target):
        return target
    if progress is not None:
        progress.write(
            "bufferable demo: compiling the Mojo ray tracer (first run only, takes a while; "
            f"cached in {target.parent})\n"
        )
        progress.flush()
        with _ElapsedTicker(progress, "compiling") as ticker:
            built = cached_build(EXTENSION_ROOT, cache_dir(), include=include)
        progress.write(f"bufferable demo: compiled in {ticker.elapsed:.1f} s\n")
        progress.flush()
        return built
    return cached_build(EXTENSION_ROOT, cache_dir(), include=include)


def load_extension(progress: TextIO | None = sys.stderr) -> ModuleType:
    """Imports the ray tracer's extension module (once per process), compiling it on first use.

    Args:
        progress: Passed to :func:`build_extension`.

    Raises:
        FileNotFoundError, MojoBuildError: As :func:`build_extension`.
        ImportError: The built module failed to initialize (e.g. bufferable's core is missing).
    """
    loaded = sys.modules.get(EXTENSION_MODULE_NAME)
    if loaded is not None:
        return loaded
    return load_extension_file(build_extension(progress), EXTENSION_MODULE_NAME)
