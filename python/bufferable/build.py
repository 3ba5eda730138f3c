"""Building Python extensions from Mojo sources that use the bufferable Mojo package.

``mojo_path()`` is the directory to give ``mojo build -I`` (it holds the ``bufferable`` Mojo
package); ``build()`` compiles one ``.mojo`` file into an importable extension module with that
directory on the import path and checks that it defines ``PyInit_<stem>``; ``cached_build()``
does the same into a cache keyed by a hash of an explicit list of inputs (``build_inputs()``: the
source, the local modules and packages it imports, the bufferable Mojo package) plus the compiler
and the flags, which is what :mod:`bufferable.importer`, the demo, the benchmarks and the test
suite use; ``user_cache_dir()`` is where they keep builds that have no place of their own. A
cache folder is used only if you own it and no one else can write to it, a cached build only if
the same holds for it (``private_directory()``, ``trusted_build()``).

A Mojo-built extension references the Mojo runtime libraries by absolute path (a RUNPATH into the
environment whose ``mojo`` built it), so build in the environment that will import the module:
never inside pip's isolated build environment, which is deleted after the install.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import importlib.machinery
import importlib.metadata
import importlib.util
import os
import re
import shutil
import stat
import struct
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Iterator, Sequence

from .mojo_runtime import loading_mojo_extension

__all__ = [
    "MojoBuildError",
    "MojoExtensionLoader",
    "OutputDirectoryError",
    "build",
    "build_inputs",
    "cached_build",
    "cached_path",
    "compiler_environment",
    "content_hash",
    "exported_symbols",
    "extension_suffix",
    "find_mojo",
    "mojo_path",
    "private_directory",
    "trusted_build",
    "user_cache_dir",
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


class OutputDirectoryError(OSError):
    """The directory an extension is written to (an output or cache directory) cannot be created
    or written, or a cache directory is not private (:func:`private_directory`); ``errno`` is that
    of the underlying error, which is the ``__cause__`` (EPERM for a cache directory that is not
    private)."""


def user_cache_dir(kind: str) -> Path:
    """Where builds of ``kind`` ("mojo" for the importer, "demo", "bench") are kept when they
    have no place of their own: ``<base>/<kind>/<environment>``.

    ``<base>`` is ``$BUFFERABLE_CACHE`` if that variable is set, else ``~/.cache/bufferable``;
    ``<environment>`` is a short hash of this Python environment (``sys.prefix``). One directory
    per environment: a build is tied to the Mojo runtime of the environment that made it, and
    :func:`cached_build` removes a module's older builds from its directory, so two environments
    sharing one directory would evict each other's builds. Nothing is created here:
    :func:`cached_build` makes it (and its parents) private, or refuses one that is not.
    """
    base = os.environ.get("BUFFERABLE_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "bufferable"
    )
    environment = hashlib.sha256(os.path.realpath(sys.prefix).encode()).hexdigest()[:12]
    return Path(base) / kind / environment


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
    # Python would take any identifier (PyInitU_ for a non-ASCII one); Mojo compiles only ASCII ones
    if not (name.isascii() and name.isidentifier()):
        raise ValueError(
            f"{source.name}: the module name {name!r} is not an ASCII Python identifier "
            "(letters, digits and _, not starting with a digit: the extension must define "
            "PyInit_<name>)"
        )
    return name


def _flags(include: Sequence[str | os.PathLike[str]], *, labelled: bool = False,
           flags: Sequence[str] = ()) -> list[str]:
    """The options of ``mojo build`` (``flags``: extra ones, such as ``-O2`` or ``-g``);
    ``labelled`` names the directories by their role (the cache key: the files they hold are
    inputs of their own, so the key does not depend on where they are)."""
    if labelled:
        directories = ["<bufferable>", *(f"<include {i}>" for i in range(len(include)))]
    else:
        directories = [mojo_path(), *(str(d) for d in include)]
    options: list[str] = []
    for directory in directories:
        options += ["-I", directory]
    return options + [*flags, "--emit", "shared-lib"]


def _run_mojo(source: Path, output: Path, include: Sequence[str | os.PathLike[str]],
              flags: Sequence[str] = ()) -> None:
    command = [find_mojo(), "build", *_flags(include, flags=flags), str(source), "-o", str(output)]
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
    flags: Sequence[str] = (),
) -> Path:
    """Compile ``source`` (a ``.mojo`` file defining ``PyInit_<stem>``) into a Python extension.

    The bufferable Mojo package (``mojo_path()``) and every directory of ``include`` are on the
    import path; ``flags`` are further options of ``mojo build`` (``-O2``, ``-g``, ``-DKEY=V``). ``output`` defaults to ``<stem><EXT_SUFFIX>`` in the current directory; a directory
    (existing, or written with a trailing slash) gets that name inside it; a file name must start
    with ``<stem>.`` (Python looks for ``PyInit_<stem>``). The file is replaced atomically, so a process importing it
    meanwhile never sees half a file.

    Returns the path of the built extension. Raises FileNotFoundError (no source or no compiler),
    IsADirectoryError (``source`` is a directory), ValueError (not a ``.mojo`` file, or a stem
    that is not an ASCII Python identifier), OutputDirectoryError (the output's
    directory cannot be created or written) or MojoBuildError (the compiler's message, or a
    library that defines no ``PyInit_<stem>``).
    """
    source = Path(source).resolve()
    if source.is_dir():
        raise IsADirectoryError(f"{source} is a directory, not a .mojo file")
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
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        scratch = tempfile.TemporaryDirectory(prefix=".mojo-build-", dir=target.parent)
    except OSError as error:
        raise _unwritable(target.parent, error) from error
    with scratch as tmp:
        partial = Path(tmp) / f"{name}{extension_suffix()}"
        _run_mojo(source, partial, include, flags)
        _check_pyinit(source, partial, name)
        try:
            os.replace(partial, target)
        except OSError as error:
            raise _unwritable(target.parent, error) from error
    return target


def _unwritable(directory: Path, error: OSError) -> OutputDirectoryError:
    reason = error.strerror or str(error)
    unusable = OutputDirectoryError(f"cannot write the extension into {directory}: {reason}")
    unusable.errno = error.errno
    return unusable


def exported_symbols(path: str | os.PathLike[str]) -> set[str]:
    """The names of the symbols an ELF shared library defines for dynamic linking (what
    ``nm -D --defined-only`` lists, global and weak ones).

    Raises:
        ValueError: ``path`` is not an ELF file, or has no section headers to find them by.
    """
    data = Path(path).read_bytes()
    if data[:4] != b"\x7fELF" or len(data) < 64 or data[4] not in (1, 2) or data[5] not in (1, 2):
        raise ValueError(f"{path} is not an ELF file")
    e = "<" if data[5] == 1 else ">"
    if data[4] == 2:  # 64-bit: Elf64_Shdr, Elf64_Sym
        (shoff,) = struct.unpack_from(e + "Q", data, 0x28)
        shentsize, shnum = struct.unpack_from(e + "HH", data, 0x3A)
        section, symbol = e + "IIQQQQIIQQ", e + "IBBHQQ"
        name_at, info_at, shndx_at = 0, 1, 3
    else:  # 32-bit: Elf32_Shdr, Elf32_Sym
        (shoff,) = struct.unpack_from(e + "I", data, 0x20)
        shentsize, shnum = struct.unpack_from(e + "HH", data, 0x2E)
        section, symbol = e + "IIIIIIIIII", e + "IIIBBH"
        name_at, info_at, shndx_at = 0, 3, 5
    if shoff == 0 or shnum == 0:
        raise ValueError(f"{path} has no section headers")
    sections = [struct.unpack_from(section, data, shoff + i * shentsize) for i in range(shnum)]
    names: set[str] = set()
    for _, kind, _, _, offset, size, link, _, _, entsize in sections:
        if kind != 11 or not entsize:  # SHT_DYNSYM
            continue
        strings = sections[link][4]
        for at in range(offset, offset + size, entsize):
            entry = struct.unpack_from(symbol, data, at)
            binding = entry[info_at] >> 4
            if entry[shndx_at] == 0 or binding not in (1, 2):  # undefined, or local
                continue
            start = strings + entry[name_at]
            names.add(data[start : data.index(b"\0", start)].decode("utf-8", "replace"))
    return names


def _check_pyinit(source: Path, library: Path, name: str) -> None:
    """Raise MojoBuildError unless ``library`` defines ``PyInit_<name>`` (the function Python
    calls to import it). Libraries that are not ELF are checked by their source instead."""
    wanted = f"PyInit_{name}"
    try:
        found = sorted(s for s in exported_symbols(library) if s.startswith("PyInit_"))
        defined = wanted in found
    except ValueError:
        text = source.read_text(errors="replace")
        found = sorted(set(re.findall(r"\bdef\s+(PyInit_\w+)\s*\(", text)))
        defined = wanted in found and "@export" in text
    if defined:
        return
    message = (
        f"{source.name} compiled, but the library defines no {wanted}, the function Python calls "
        f"to import a module named {name!r}"
    )
    if found:
        message += (
            f"; it defines {', '.join(found)}: name the function {wanted} or the file "
            f"{found[0][len('PyInit_'):]}.mojo"
        )
    else:
        message += f': add  @export def {wanted}() abi("C") -> PythonObject'
    raise MojoBuildError(message, source=source, output=message)


_SOURCE_SUFFIXES = (".mojo", ".🔥")
_PRECOMPILED_SUFFIXES = (".mojoc", ".mojopkg")
# Mojo's tokens as far as imports need them: strings, comments and line continuations (skipped:
# an import in a string or a comment is none), brackets (a newline inside them does not end a
# statement), what ends a statement (a newline, `;`, the `:` before a one-line body) and the words
# of an import statement. Anything else (a string prefix, an operator) is passed over or is a word
# no import statement starts with.
_STRING = (r""""{3}(?:\\.|[^\\])*?"{3}|'{3}(?:\\.|[^\\])*?'{3}"""
           r"""|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'""")
_TOKEN = re.compile(
    rf"(?P<skip>{_STRING}|#[^\n]*|\\\r?\n)|(?P<open>[(\[{{])|(?P<close>[)\]}}])|(?P<end>[\n;:])"
    r"|(?P<word>\w+|[.,])"
)


def _statements(text: str) -> Iterator[list[str]]:
    """The statements of a Mojo source, each as its words (names, keywords, "." and ",")."""
    depth, words = 0, []
    for token in _TOKEN.finditer(text):
        kind = token.lastgroup
        if kind == "open":
            depth += 1
        elif kind == "close":
            depth = max(depth - 1, 0)
        elif kind == "word":
            words.append(token.group())
        elif kind == "end" and depth == 0 and words:
            yield words
            words = []
    if words:
        yield words


def _first_words(words: list[str]) -> list[str]:
    """The first word of each ","-separated item: the names ``a . b as c , d`` imports."""
    return [item.split()[0] for item in " ".join(words).split(",") if item.split()]


def _imports(path: Path) -> Iterator[tuple[Path | None, str]]:
    """What ``path`` imports: (None, top-level name) for a name looked up on the search path,
    (directory, name) for a relative import. Every import statement counts: after a ``;``, inside
    a function, over several lines (in parentheses or after a backslash)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return
    for words in _statements(text):
        if words[0] == "import":  # import a.b as c, d
            yield from ((None, name) for name in _first_words(words[1:]))
        elif words[0] == "from" and "import" in words:  # from ..a.b import (x as y, z)
            at = words.index("import")
            dotted = "".join(words[1:at])
            module = dotted.lstrip(".").split(".")[0]
            dots = len(dotted) - len(dotted.lstrip("."))
            if not dots:
                if module:
                    yield None, module
                continue
            # relative (Mojo allows them inside packages only): from the file's directory up
            base = path.parent
            for _ in range(dots - 1):
                base = base.parent
            if module:
                yield base, module
            else:  # from . import x, y: the package's __init__, or modules and packages beside it
                yield base, "__init__"
                yield from ((base, name) for name in _first_words(words[at + 1 :]))


def _module_files(directory: Path, name: str) -> list[Path]:
    """The files of the module or package ``name`` in ``directory`` (none if it is not there)."""
    found: list[Path] = []
    package = directory / name
    if any((package / f"__init__{suffix}").is_file() for suffix in _SOURCE_SUFFIXES):
        found += sorted(p for p in package.rglob("*") if p.suffix in _SOURCE_SUFFIXES and p.is_file())
    for suffix in _SOURCE_SUFFIXES + _PRECOMPILED_SUFFIXES:
        candidate = directory / f"{name}{suffix}"
        if candidate.is_file():
            found.append(candidate)
    return found


def build_inputs(
    source: str | os.PathLike[str], include: Sequence[str | os.PathLike[str]] = ()
) -> list[Path]:
    """The files a build of ``source`` reads, as absolute paths: the source; every module
    (``name.mojo``) and package (a folder with ``__init__.mojo``, all of its files) it imports,
    directly or through another of them, that is found in the source's directory or an
    ``include`` directory (the places ``mojo build`` looks, besides the standard library); and
    every file of the bufferable Mojo package. This is the default list of inputs of
    :func:`content_hash`; names found nowhere (``std``, ...) belong to the compiler.
    """
    source = Path(source).resolve()
    roots = [source.parent, *(Path(d).resolve() for d in include), Path(mojo_path())]
    inputs: dict[Path, None] = {source: None}
    pending = [source]
    while pending:
        path = pending.pop()
        for base, name in _imports(path):
            for directory in roots if base is None else [base]:
                for found in _module_files(directory, name):
                    if found not in inputs:
                        inputs[found] = None
                        if found.suffix in _SOURCE_SUFFIXES:
                            pending.append(found)
    inputs.update((p, None) for p in sorted(Path(mojo_path()).rglob("*.mojo")))
    return list(inputs)


def _mojo_version() -> str:
    """The version of the installed ``mojo`` distribution ("" when Mojo came from elsewhere)."""
    try:
        return importlib.metadata.version("mojo")
    except importlib.metadata.PackageNotFoundError:
        return ""


def content_hash(
    source: str | os.PathLike[str],
    inputs: Sequence[str | os.PathLike[str]] | None = None,
    *,
    include: Sequence[str | os.PathLike[str]] = (),
    flags: Sequence[str] = (),
) -> str:
    """The cache key of a build of ``source``: a hash of the bytes of every file of ``inputs``
    (default :func:`build_inputs`), the ``mojo build`` flags (``include`` directories by their
    position, then ``flags``), the compiler's path and installed version (an upgrade in place must rebuild) and
    this Python's extension suffix (an extension built by another environment's Mojo points at
    that environment's runtime).

    Each input is named in the key by its path relative to the directory it was found in (the
    source's, an ``include`` one, the bufferable package's), so the same project in another place
    has the same key.
    """
    source = Path(source).resolve()
    files = build_inputs(source, include) if inputs is None else [Path(p).resolve() for p in inputs]
    roots = [(source.parent, "<source>"), (Path(mojo_path()), "<bufferable>")]
    roots[1:1] = [(Path(d).resolve(), f"<include {i}>") for i, d in enumerate(include)]
    digest = hashlib.sha256()
    for path in files:
        label = str(path)
        for root, name in roots:
            if path.is_relative_to(root):
                label = f"{name}/{path.relative_to(root).as_posix()}"
                break
        digest.update(label.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    digest.update("\0".join(_flags(include, labelled=True, flags=flags)).encode())
    digest.update(os.path.realpath(find_mojo()).encode())
    digest.update(_mojo_version().encode())
    digest.update(extension_suffix().encode())
    return digest.hexdigest()[:20]


def _not_private(status: os.stat_result) -> str | None:
    """Why a file or folder with ``status`` may hold someone else's code (None: it cannot): it is
    another user's, or its group or others can write to it."""
    if status.st_uid != os.geteuid():
        return f"it is owned by uid {status.st_uid}, not by you (uid {os.geteuid()})"
    if status.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"its group or others can write to it (mode {stat.S_IMODE(status.st_mode):04o})"
    return None


def private_directory(path: str | os.PathLike[str]) -> Path:
    """Make the cache folder ``path``, and the parents it lacks, each readable and writable by you
    alone (0700), or check the folder that is there: a cache folder is used only if you own it and
    no one else can write to it, since whoever can write to it chooses what a build loads.

    Returns:
        Its real path (symlinks resolved once: a link changed afterwards does not move it).

    Raises:
        OutputDirectoryError: It cannot be made, is not a folder, you cannot write to it, or it is
            not private (errno EPERM: another user owns it, or its group or others can write).
    """
    path = Path(os.path.abspath(path))
    try:
        for directory in reversed([path, *path.parents]):
            if not directory.is_dir():
                try:
                    os.mkdir(directory, 0o700)
                except FileExistsError:  # made meanwhile, or not a folder: checked below
                    pass
        real = Path(os.path.realpath(path))
        status = real.stat()
    except OSError as error:
        raise _unwritable(path, error) from error
    reason: str | None
    if not stat.S_ISDIR(status.st_mode):
        reason, code = "it is not a folder", errno.ENOTDIR
    else:
        reason, code = _not_private(status), errno.EPERM
        if reason is None and not os.access(real, os.W_OK | os.X_OK):
            reason, code = "you cannot write to it", errno.EACCES
    if reason is None:
        return real
    refused = OutputDirectoryError(f"{path} is not usable as a private cache folder: {reason}")
    refused.errno = code
    raise refused


def trusted_build(path: str | os.PathLike[str]) -> bool:
    """Whether the cached build ``path`` may be loaded: it is a file you own that no one else can
    write to, in a folder of which the same holds (anyone who can write to either could have put
    their code there). :func:`cached_build` rebuilds over a build that is not trusted."""
    try:
        status, folder = os.stat(path), os.stat(Path(path).parent)
    except OSError:
        return False
    return (stat.S_ISREG(status.st_mode) and _not_private(status) is None
            and _not_private(folder) is None)


def cached_path(
    source: str | os.PathLike[str],
    cache_dir: str | os.PathLike[str] | None = None,
    *,
    include: Sequence[str | os.PathLike[str]] = (),
    inputs: Sequence[str | os.PathLike[str]] | None = None,
    flags: Sequence[str] = (),
) -> Path:
    """Where :func:`cached_build` keeps (or would put) the build of ``source``.

    An up-to-date build is cached if and only if the file exists and :func:`trusted_build` holds
    for it, so a caller can tell a user that a (slow) compilation is about to start. Same
    arguments as :func:`cached_build`; nothing is created or checked here.
    """
    source = Path(source).resolve()
    name = _module_name(source)
    directory = Path(cache_dir) if cache_dir is not None else source.parent / "__mojocache__"
    key = content_hash(source, inputs, include=include, flags=flags)
    return directory / f"{name}.{key}{extension_suffix()}"


#: How many times :func:`cached_build` compiles while the inputs keep changing under the compiler.
_ATTEMPTS = 3


def _inputs_state(
    source: Path,
    inputs: Sequence[str | os.PathLike[str]] | None,
    include: Sequence[str | os.PathLike[str]],
    flags: Sequence[str] = (),
) -> tuple[str, list[tuple[Path, int, int, int, int]]]:
    """The cache key of a build of ``source`` and each input's inode, size, modification and
    change times, taken before it is hashed: a write during the hashing shows next time."""
    files = build_inputs(source, include) if inputs is None else [Path(p).resolve() for p in inputs]
    stamps = [(p, s.st_ino, s.st_size, s.st_mtime_ns, s.st_ctime_ns)
              for p in files for s in [p.stat()]]
    return content_hash(source, files, include=include, flags=flags), stamps


def cached_build(
    source: str | os.PathLike[str],
    cache_dir: str | os.PathLike[str] | None = None,
    *,
    include: Sequence[str | os.PathLike[str]] = (),
    inputs: Sequence[str | os.PathLike[str]] | None = None,
    flags: Sequence[str] = (),
) -> Path:
    """Build ``source`` unless an up-to-date build is cached; return the extension's path.

    The cache entry is ``<cache_dir>/<stem>.<hash><EXT_SUFFIX>`` (``cache_dir`` defaults to
    ``__mojocache__`` next to the source), keyed by :func:`content_hash` of ``inputs``, the files
    the build reads (default :func:`build_inputs`: the source, the local modules and packages it
    imports, the bufferable package), so a change to any of them, to the flags (``include``,
    ``flags``: as for :func:`build`) or to the compiler rebuilds it, and a change to any other file does not. Older entries for the same module are
    removed after a successful build.

    Whose code is loaded: ``cache_dir`` is made or checked by :func:`private_directory` (used
    only if you own it and no one else can write to it), and a cached build is used only if the
    same holds for it (:func:`trusted_build`); any other file of that name is rebuilt over,
    atomically. A build is stored only under the key of the inputs it was compiled from: if an
    input changes while the compiler runs, which version it read is unknown, so the build is
    dropped and made again from the new inputs. Builds of one module in one folder take turns
    (a file lock): processes that import the same new module at once compile it once.

    Raises:
        OutputDirectoryError: ``cache_dir`` cannot be created or written, or is not private.
        MojoBuildError: The compiler's message, or the inputs changed during every attempt.
        FileNotFoundError, IsADirectoryError, ValueError: as :func:`build`.
    """
    source = Path(source).resolve()
    name = _module_name(source)
    default = source.parent / "__mojocache__"
    directory = private_directory(default if cache_dir is None else cache_dir)
    for _ in range(_ATTEMPTS):
        key, stamps = _inputs_state(source, inputs, include, flags)
        target = directory / f"{name}.{key}{extension_suffix()}"
        if trusted_build(target):
            return target
        with _build_lock(directory, name):
            if trusted_build(target):  # another process built it while this one waited
                return target
            try:
                scratch = tempfile.TemporaryDirectory(prefix=".mojo-cache-", dir=directory)
            except OSError as error:
                raise _unwritable(directory, error) from error
            if _build_into(scratch, source, inputs, include, flags, key, stamps, target):
                break
    else:
        message = (f"{source}: its inputs changed while each of {_ATTEMPTS} builds ran, so none "
                   "of them is known to be the build of one version; nothing was cached")
        raise MojoBuildError(message, source=source, output=message)
    for stale in directory.glob(f"{name}.*{extension_suffix()}"):
        if stale != target:
            try:
                stale.unlink()
            except OSError:  # another process may be using or removing it
                pass
    return target


@contextlib.contextmanager
def _build_lock(directory: Path, name: str) -> Iterator[None]:
    """Holds an exclusive lock on the builds of module ``name`` in ``directory`` (a file lock:
    N processes importing the same new module at once, pool or cluster workers, compile it once
    and the others wait for that build)."""
    descriptor = os.open(directory / f".{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # releases the lock


def _build_into(
    scratch: tempfile.TemporaryDirectory[str],
    source: Path,
    inputs: Sequence[str | os.PathLike[str]] | None,
    include: Sequence[str | os.PathLike[str]],
    flags: Sequence[str],
    key: str,
    stamps: list[tuple[Path, int, int, int, int]],
    target: Path,
) -> bool:
    """One attempt of :func:`cached_build`: build in ``scratch`` and move the result to
    ``target``, unless the inputs changed while the compiler ran (then False: build again)."""
    with scratch as tmp:
        built = build(source, tmp + os.sep, include=include, flags=flags)
        try:
            changed = _inputs_state(source, inputs, include, flags) != (key, stamps)
        except OSError:  # an input was removed meanwhile
            changed = True
        if changed:  # the compiler read one version of them or another: build again
            return False
        built.chmod(stat.S_IMODE(built.stat().st_mode) & ~0o022)  # whatever the umask
        try:
            os.replace(built, target)
        except OSError as error:
            raise _unwritable(target.parent, error) from error
    return True


class MojoExtensionLoader(importlib.machinery.ExtensionFileLoader):
    """The loader of a Mojo-built extension: creates the module inside
    :func:`bufferable.mojo_runtime.loading_mojo_extension`, so that the load starts no Python
    discovery child and leaves the process environment as it was."""

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        with loading_mojo_extension():
            return super().create_module(spec)


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
    loader = MojoExtensionLoader(name, str(path))
    spec = importlib.util.spec_from_file_location(name, str(path), loader=loader)
    if spec is None:
        raise ImportError(f"{path}: not loadable as the extension module {name!r}", name=name)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    sys.modules[name] = module
    return module
