"""Building Python extensions from Mojo sources that use the bufferable Mojo package.

``mojo_path()`` is the directory to give ``mojo build -I`` (it holds the ``bufferable`` Mojo
package); ``build()`` compiles one ``.mojo`` file into an importable extension module with that
directory on the import path; ``cached_build()`` does the same into a cache keyed by a content
hash (what :mod:`bufferable.importer` and the test suite use).

A Mojo-built extension references the Mojo runtime libraries by absolute path (a RUNPATH into the
environment whose ``mojo`` built it), so build in the environment that will import the module:
never inside pip's isolated build environment, which is deleted after the install.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Iterable, Sequence

__all__ = [
    "MojoBuildError",
    "build",
    "cached_build",
    "cached_path",
    "compiler_environment",
    "content_hash",
    "extension_suffix",
    "find_mojo",
    "mojo_path",
]

#: The Mojo version the package's Mojo sources are written for (the ``mojo`` extra pins it).
MOJO_VERSION = "1.2.0"


class MojoBuildError(RuntimeError):
    """``mojo build`` failed; the message carries the compiler's diagnostics."""

    def __init__(self, message: str, *, source: Path | None = None, output: str = "") -> None:
        super().__init__(message)
        #: The ``.mojo`` file that failed to build.
        self.source = source
        #: What the compiler printed (stdout and stderr).
        self.output = output


def mojo_path() -> str:
    """The directory holding the ``bufferable`` Mojo package: pass it to ``mojo build -I``.

    In an installed wheel it is ``bufferable/mojo`` inside the Python package; in a source checkout
    (``python/bufferable`` importable from the repository) it is ``<repo>/mojo``.
    """
    here = Path(__file__).resolve().parent
    for candidate in (here / "mojo", here.parent.parent / "mojo"):
        if (candidate / "bufferable" / "__init__.mojo").is_file():
            return str(candidate)
    raise FileNotFoundError(
        f"the bufferable Mojo package is missing: looked for bufferable/__init__.mojo in "
        f"{here / 'mojo'} and {here.parent.parent / 'mojo'} (reinstall bufferable)"
    )


def find_mojo() -> str:
    """The ``mojo`` compiler to use: ``$BUFFERABLE_MOJO``, else the one installed next to this
    Python (``pip install 'bufferable[mojo]'``), else the first on ``PATH``."""
    explicit = os.environ.get("BUFFERABLE_MOJO")
    if explicit:
        if not Path(explicit).is_file():
            raise FileNotFoundError(f"BUFFERABLE_MOJO={explicit!r} is not a file")
        return explicit
    scripts = Path(sysconfig.get_path("scripts"))
    for name in ("mojo", "mojo.exe"):
        candidate = scripts / name
        if candidate.is_file():
            return str(candidate)
    beside = Path(sys.executable).parent / "mojo"
    if beside.is_file():
        return str(beside)
    found = shutil.which("mojo")
    if found:
        return found
    raise FileNotFoundError(
        f"no Mojo compiler found (looked in {scripts} and on PATH): install it into this "
        f"environment with  pip install 'bufferable[mojo]'  (mojo=={MOJO_VERSION})"
    )


def compiler_environment() -> dict[str, str]:
    """The environment to run ``mojo`` in: this process's ``os.environ`` with empty ``PYTHONPATH``
    entries dropped.

    Loading any Mojo-built extension (Mojo 1.2.0) rewrites the process's C-level environment:
    ``PYTHONPATH`` gains an empty entry (the current directory) and ``MOJO_PYTHON_LIBRARY`` is
    set. A child started with the inherited environment then puts its working directory first on
    ``sys.path``, where a ``mojo/`` folder (such as this repository's) hides the ``mojo`` Python
    package and the ``mojo`` command fails. ``os.environ`` still holds the user's environment, so
    pass it explicitly.
    """
    env = dict(os.environ)
    if "PYTHONPATH" in env:
        entries = [p for p in env["PYTHONPATH"].split(os.pathsep) if p]
        if entries:
            env["PYTHONPATH"] = os.pathsep.join(entries)
        else:
            del env["PYTHONPATH"]
    return env


def extension_suffix() -> str:
    """The file suffix of an extension module for this Python (e.g. ``.cpython-311-x86_64-linux-gnu.so``)."""
    return sysconfig.get_config_var("EXT_SUFFIX") or ".so"


def _module_name(source: Path) -> str:
    name = source.stem
    if not name.isidentifier():
        raise ValueError(
            f"{source.name}: the module name {name!r} is not a Python identifier "
            "(the extension must define PyInit_<name>)"
        )
    return name


def _run_mojo(source: Path, output: Path, include: Sequence[str | os.PathLike[str]]) -> None:
    command = [find_mojo(), "build"]
    for directory in (mojo_path(), *include):
        command += ["-I", str(directory)]
    command += [str(source), "--emit", "shared-lib", "-o", str(output)]
    process = subprocess.run(command, capture_output=True, text=True, env=compiler_environment())
    text = (process.stdout + process.stderr).strip()
    # The compiler prints this on machines without its crash reporter; it is noise.
    lines = [line for line in text.splitlines() if "Crashpad" not in line]
    text = "\n".join(lines)
    if process.returncode != 0 or not output.is_file():
        raise MojoBuildError(
            f"mojo build {source} failed (exit status {process.returncode}):\n{text}",
            source=source,
            output=text,
        )


def build(
    source: str | os.PathLike[str],
    output: str | os.PathLike[str] | None = None,
    *,
    include: Sequence[str | os.PathLike[str]] = (),
) -> Path:
    """Compile ``source`` (a ``.mojo`` file defining ``PyInit_<stem>``) into a Python extension.

    The bufferable Mojo package (``mojo_path()``) and every directory of ``include`` are on the
    import path. ``output`` defaults to ``<stem><EXT_SUFFIX>`` in the current directory; a directory
    (existing, or written with a trailing slash) gets that name inside it; a file name must start
    with ``<stem>.`` (Python looks for ``PyInit_<stem>``). The file is replaced atomically, so a process importing it
    meanwhile never sees half a file.

    Returns the path of the built extension. Raises FileNotFoundError (no source or no compiler),
    ValueError (a stem that is not a Python identifier) or MojoBuildError (the compiler's message).
    """
    source = Path(source).resolve()
    if not source.is_file():
        raise FileNotFoundError(f"no such Mojo source: {source}")
    if source.suffix != ".mojo":
        raise ValueError(f"{source.name}: expected a .mojo file")
    name = _module_name(source)
    if output is None:
        target = Path.cwd() / f"{name}{extension_suffix()}"
    else:
        target = Path(output)
        if target.is_dir() or str(output).endswith((os.sep, "/")):
            target = target / f"{name}{extension_suffix()}"
        elif target.name.split(".")[0] != name:
            raise ValueError(
                f"output {target.name!r}: an extension built from {source.name} must be named "
                f"{name}{extension_suffix()} or {name}.so (Python calls PyInit_{name}); "
                "or give a directory"
            )
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".mojo-build-", dir=target.parent) as tmp:
        partial = Path(tmp) / f"{name}{extension_suffix()}"
        _run_mojo(source, partial, include)
        os.replace(partial, target)
    return target


def _package_files() -> list[Path]:
    return sorted(Path(mojo_path()).rglob("*.mojo"))


def _mojo_version() -> str:
    """The version of the installed ``mojo`` distribution ("" when Mojo came from elsewhere)."""
    try:
        return importlib.metadata.version("mojo")
    except importlib.metadata.PackageNotFoundError:
        return ""


def content_hash(source: str | os.PathLike[str], extra: Iterable[str | os.PathLike[str]] = ()) -> str:
    """A hash of everything a build of ``source`` depends on: its bytes, the ``.mojo`` files next
    to it (which it may import), the bufferable Mojo package, the ``extra`` files, the compiler's
    path and installed version (an upgrade in place must rebuild) and this Python's extension
    suffix (an extension built by another environment's Mojo points at that environment's
    runtime)."""
    source = Path(source).resolve()
    digest = hashlib.sha256()
    files = [source]
    files += sorted(p for p in source.parent.glob("*.mojo") if p != source)
    files += _package_files()
    files += [Path(p).resolve() for p in extra]
    for path in files:
        digest.update(str(path.name).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    digest.update(os.path.realpath(find_mojo()).encode())
    digest.update(_mojo_version().encode())
    digest.update(extension_suffix().encode())
    return digest.hexdigest()[:20]


def cached_path(
    source: str | os.PathLike[str],
    cache_dir: str | os.PathLike[str] | None = None,
    *,
    include: Sequence[str | os.PathLike[str]] = (),
) -> Path:
    """Where :func:`cached_build` keeps (or would put) the build of ``source``.

    The file exists if and only if an up-to-date build is cached, so a caller can tell a user that
    a (slow) compilation is about to start. Same arguments as :func:`cached_build`.
    """
    source = Path(source).resolve()
    name = _module_name(source)
    directory = Path(cache_dir) if cache_dir is not None else source.parent / "__mojocache__"
    key = content_hash(source, extra=[p for d in include for p in Path(d).rglob("*.mojo")])
    return directory / f"{name}.{key}{extension_suffix()}"


def cached_build(
    source: str | os.PathLike[str],
    cache_dir: str | os.PathLike[str] | None = None,
    *,
    include: Sequence[str | os.PathLike[str]] = (),
) -> Path:
    """Build ``source`` unless an up-to-date build is cached; return the extension's path.

    The cache entry is ``<cache_dir>/<stem>.<hash><EXT_SUFFIX>`` (``cache_dir`` defaults to
    ``__mojocache__`` next to the source), keyed by :func:`content_hash` (the ``.mojo`` files under
    each ``include`` directory count too), so any change to the source, its sibling ``.mojo`` files,
    the bufferable package or the included sources rebuilds it. Older entries for the same module
    are removed after a successful build.
    """
    source = Path(source).resolve()
    name = _module_name(source)
    target = cached_path(source, cache_dir, include=include)
    if target.is_file():
        return target
    build(source, target, include=include)
    for stale in target.parent.glob(f"{name}.*{extension_suffix()}"):
        if stale != target:
            try:
                stale.unlink()
            except OSError:  # another process may be using or removing it
                pass
    return target


def load_extension(path: str | os.PathLike[str], name: str) -> ModuleType:
    """Import the extension module file ``path`` as ``name`` (once per process).

    A Mojo-built extension is named ``<stem>.<hash><EXT_SUFFIX>`` in a cache, so the ordinary
    import machinery would not find it under ``name``. A module already in ``sys.modules`` under
    ``name`` is returned as it is: Mojo 1.2.0 binds each Mojo type to one Python type per process,
    so loading a second copy would fail.

    Args:
        path: The built shared library.
        name: The module name (the ``PyInit_<name>`` it defines).

    Returns:
        The module, registered in ``sys.modules``.

    Raises:
        ImportError: The module failed to initialize.
    """
    loaded = sys.modules.get(name)
    if loaded is not None:
        return loaded
    loader = importlib.machinery.ExtensionFileLoader(name, str(path))
    spec = importlib.util.spec_from_file_location(name, str(path), loader=loader)
    if spec is None:
        raise ImportError(f"{path}: not loadable as the extension module {name!r}", name=name)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    sys.modules[name] = module
    return module
