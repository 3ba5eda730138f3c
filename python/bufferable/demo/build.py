"""Compile the demo's Mojo extension on first use and cache the result.

`mojo build` needs the Mojo compiler of the user's environment (the built
library links the Mojo runtime of the environment that built it, by absolute
path), so the extension is compiled on the user's machine, once: the shared
library is cached under the user cache directory, keyed by a hash of every
Mojo source it is built from, the Mojo version, the compiler's location and the
Python version. Later runs load it in about a millisecond.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import TextIO

#: The Mojo sources of the demo: the `raytracer` package and the extension's root.
MOJO_SOURCE_DIR = Path(__file__).resolve().parent / "mojo"
#: The file that defines `PyInit__raytrace`.
EXTENSION_ROOT = MOJO_SOURCE_DIR / "_raytrace.mojo"
#: The name Python imports the extension under (its last part picks PyInit__raytrace).
EXTENSION_MODULE_NAME = "bufferable.demo._raytrace"


class MojoBuildError(RuntimeError):
    """The Mojo compiler is missing or failed; the message holds its output."""


def bufferable_mojo_package_dir() -> Path | None:
    """The directory holding bufferable's Mojo package (for `mojo build -I`).

    In an installed wheel that is `<site-packages>/bufferable/mojo`; in a source
    checkout it is `<repo>/mojo`. Returns None if neither exists.
    """
    package_dir = Path(__file__).resolve().parent.parent
    for candidate in (package_dir / "mojo", package_dir.parent.parent / "mojo"):
        if (candidate / "bufferable" / "__init__.mojo").is_file():
            return candidate
    return None


def find_mojo() -> Path:
    """The `mojo` executable: $BUFFERABLE_MOJO, else the one next to this Python, else PATH."""
    override = os.environ.get("BUFFERABLE_MOJO")
    if override:
        return Path(override)
    beside_python = Path(sys.executable).parent / "mojo"
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        return beside_python
    on_path = shutil.which("mojo")
    if on_path:
        return Path(on_path)
    raise MojoBuildError(
        "the demo compiles Mojo code, but no `mojo` compiler was found; "
        "install it with: pip install 'bufferable[mojo]'  (or pip install mojo==1.2.0)"
    )


def mojo_version(mojo: Path) -> str:
    """The compiler's version line, e.g. 'Mojo 1.2.0 (2016d0cd)'."""
    result = subprocess.run([str(mojo), "--version"], capture_output=True, text=True, check=False)
    lines = [line for line in result.stdout.splitlines() if line.startswith("Mojo")]
    if result.returncode != 0 or not lines:
        raise MojoBuildError(f"`{mojo} --version` failed:\n{result.stdout}{result.stderr}")
    return lines[0].strip()


def _source_files(include_dirs: list[Path]) -> list[Path]:
    return sorted(p for d in include_dirs for p in d.rglob("*.mojo") if p.is_file())


def cache_root() -> Path:
    """$BUFFERABLE_CACHE_DIR, else $XDG_CACHE_HOME/bufferable, else ~/.cache/bufferable."""
    override = os.environ.get("BUFFERABLE_CACHE_DIR")
    if override:
        return Path(override)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "bufferable"


def build_key(mojo: Path, version: str, include_dirs: list[Path]) -> str:
    """A hash of everything the built library depends on."""
    digest = hashlib.sha256()
    for part in (version, str(mojo.resolve()), sys.implementation.cache_tag, sys.platform):
        digest.update(part.encode() + b"\0")
    for directory in include_dirs:
        for path in _source_files([directory]):
            digest.update(str(path.relative_to(directory)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


class _ElapsedTicker:
    """Shows 'compiling... N s' on a terminal while a build runs."""

    def __init__(self, stream: TextIO, label: str):
        self._stream, self._label = stream, label
        self._done = threading.Event()
        self._start = time.perf_counter()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._interactive = stream.isatty()

    def __enter__(self):
        if self._interactive:
            self._thread.start()
        return self

    def _run(self):
        while not self._done.wait(0.25):
            self._stream.write(f"\r  {self._label}... {time.perf_counter() - self._start:4.1f} s")
            self._stream.flush()

    def __exit__(self, *exc):
        self._done.set()
        if self._interactive:
            self._thread.join()
            self._stream.write("\r" + " " * (len(self._label) + 20) + "\r")
        return False

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self._start


def build_extension(progress: TextIO | None = sys.stderr, force: bool = False) -> Path:
    """Returns the path of the compiled extension, compiling it if needed.

    Args:
        progress: Where to report a first-run compilation (None: stay quiet).
        force: Compile even if a cached build exists.

    Raises:
        MojoBuildError: No compiler, or the compilation failed.
    """
    mojo = find_mojo()
    version = mojo_version(mojo)
    include_dirs = [MOJO_SOURCE_DIR]
    package_dir = bufferable_mojo_package_dir()
    if package_dir is not None:
        include_dirs.append(package_dir)
    target_dir = cache_root() / "raytrace" / build_key(mojo, version, include_dirs)
    target = target_dir / "_raytrace.so"
    if target.is_file() and not force:
        return target

    target_dir.mkdir(parents=True, exist_ok=True)
    if progress is not None:
        progress.write(
            f"bufferable demo: compiling the Mojo ray tracer with {version} "
            f"(first run only; cached in {target_dir})\n"
        )
        progress.flush()
    command = [str(mojo), "build", str(EXTENSION_ROOT), "--emit", "shared-lib"]
    for directory in include_dirs:
        command += ["-I", str(directory)]
    # Build beside the target and rename: a concurrent or interrupted build never
    # leaves a half-written library under the final name.
    handle, partial = tempfile.mkstemp(prefix="_raytrace.", suffix=".so.partial", dir=target_dir)
    os.close(handle)
    try:
        with _ElapsedTicker(progress or sys.stderr, "compiling") as ticker:
            if progress is None:
                ticker._interactive = False
            result = subprocess.run(command + ["-o", partial], capture_output=True, text=True, check=False)
        if result.returncode != 0 or not os.path.getsize(partial):
            raise MojoBuildError(
                f"compiling {EXTENSION_ROOT.name} failed:\n$ {' '.join(command)}\n"
                f"{result.stdout}{result.stderr}"
            )
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    if progress is not None:
        progress.write(f"bufferable demo: compiled in {ticker.elapsed:.1f} s\n")
        progress.flush()
    return target


def load_extension(progress: TextIO | None = sys.stderr) -> ModuleType:
    """Imports the ray tracer's extension module, compiling it on first use."""
    loaded = sys.modules.get(EXTENSION_MODULE_NAME)
    if loaded is not None:
        return loaded
    path = build_extension(progress)
    loader = importlib.machinery.ExtensionFileLoader(EXTENSION_MODULE_NAME, str(path))
    spec = importlib.util.spec_from_file_location(EXTENSION_MODULE_NAME, path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[EXTENSION_MODULE_NAME] = module
    return module
