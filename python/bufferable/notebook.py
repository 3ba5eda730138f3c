"""Mojo cells in Jupyter and IPython: ``%load_ext bufferable``, then a cell that starts with
``%%mojo`` and holds a Mojo module (the code a ``.mojo`` file given to ``python -m bufferable
build`` would hold, with its ``@export def PyInit_<name>() abi("C") -> PythonObject``).

The cell is compiled with the bufferable Mojo package and the notebook's working directory on the
import path, into the per-user cache (:func:`bufferable.build.user_cache_dir` ``("notebook")``,
keyed by the cell, the files it imports, the flags and the compiler, as every build of
:func:`bufferable.build.cached_build` is), imported, and bound in the notebook's namespace under
its name: after a cell defining ``PyInit_grid``, ``grid.Grid(3, 4)`` works in the next cell, and
so does ``import grid``.

Editing and running the cell again loads the new code. Python cannot reload an extension module,
and Mojo 1.2.0 binds a Mojo type to one Python type per process (a second module binding the
same Mojo type fails to import), so each distinct content is compiled and imported as a module of
its own, ``<name>_<key>`` (its ``PyInit_<name>`` renamed to match; a Mojo type's identity comes
from that module name, so the edited cell's ``struct Grid`` is a new Mojo type), and the name is
bound to the newest. Objects made by an older version keep working with that version's code; they
are not instances of the new version's types. Running an unchanged cell again reuses the module
already loaded. Limit: a type of the bufferable package itself (``MemoryView[DType.float64, 2]``
bound with ``add_type``) is the same Mojo type in every version of a cell, so a second version
that binds it again fails to import (ImportError, the kernel lives on): bind such types in a cell
of their own, run once.

A compile error is raised in the cell (:class:`MojoCellError`) with the compiler's message, its
locations written ``cell:LINE:COLUMN`` with lines counted in the cell as Jupyter numbers them
(the ``%%mojo`` line is line 1).

Options on the ``%%mojo`` line: ``-O LEVEL`` (0-3, the compiler's default is 3), ``-g``
(full debug info) or ``--debug-level none|line-tables|full``, ``-D KEY=VALUE`` (a compile-time
define, repeatable) and ``--name NAME`` (the module to use when the cell defines several
``PyInit_`` functions, and the name it is bound under).
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any, MutableMapping, NoReturn, Sequence

from .build import (MojoBuildError, cached_build, content_hash, extension_suffix, load_extension,
                    private_directory, user_cache_dir)

__all__ = ["MojoCellError", "load_ipython_extension", "run_cell"]

#: How many builds of one module name the notebook cache keeps (the most recently used ones).
KEEP_BUILDS = 8

# A module's init function, as the cell defines it (a comment or a string starts otherwise).
_PYINIT = re.compile(r"^[ \t]*(?:def|fn)[ \t]+PyInit_(\w+)[ \t]*[\[(]", re.MULTILINE)

#: Module names this process bound in ``sys.modules`` to the newest version of a cell.
_ALIASED: dict[str, ModuleType] = {}


class MojoCellError(Exception):
    """A ``%%mojo`` cell failed: options that do not parse, no module in the cell, a compile
    error (the compiler's message, located in the cell) or a module that fails to import.

    IPython shows the message alone, without a traceback into this module."""

    def _render_traceback_(self) -> list[str]:
        return f"{type(self).__name__}: {self}".splitlines()


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise MojoCellError(f"%%mojo: {message}\nusage: {self.format_usage().split(': ', 1)[1]}")


def _parser() -> _Parser:
    parser = _Parser(prog="%%mojo", add_help=False)
    parser.add_argument("-O", dest="optimization", type=int, choices=range(4), metavar="LEVEL")
    parser.add_argument("-g", dest="debug", action="store_const", const="full")
    parser.add_argument("--debug-level", dest="debug", choices=("none", "line-tables", "full"))
    parser.add_argument("-D", dest="defines", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--name")
    return parser


def _flags(options: argparse.Namespace) -> list[str]:
    flags = []
    if options.optimization is not None:
        flags.append(f"--optimization-level={options.optimization}")
    if options.debug is not None:
        flags.append(f"--debug-level={options.debug}")
    for define in options.defines:
        if "=" not in define or not define.split("=", 1)[0].isidentifier():
            raise MojoCellError(f"%%mojo: -D {define!r}: expected KEY=VALUE")
        flags.append(f"-D{define}")
    return flags


def _module_name(cell: str, name: str | None) -> str:
    """The module the cell defines: ``name`` if given (the cell must define ``PyInit_<name>``),
    else the one ``PyInit_`` function of the cell."""
    found: list[str] = list(dict.fromkeys(_PYINIT.findall(cell)))
    if name is not None:
        if not (name.isascii() and name.isidentifier()):
            raise MojoCellError(f"%%mojo: --name {name!r} is not an ASCII Python identifier")
        if name not in found:
            defined = f"it defines {', '.join('PyInit_' + n for n in found)}" if found else "it defines none"
            raise MojoCellError(f"%%mojo --name {name}: the cell defines no PyInit_{name} ({defined})")
        return name
    if not found:
        raise MojoCellError(
            "%%mojo: the cell defines no module: a %%mojo cell is a Mojo module for Python, with\n"
            '    @export\n    def PyInit_<name>() abi("C") -> PythonObject:\n'
            "(the module is then bound to <name> in the notebook)"
        )
    if len(found) > 1:
        raise MojoCellError(
            f"%%mojo: the cell defines several modules ({', '.join('PyInit_' + n for n in found)}): "
            "choose one with --name NAME"
        )
    return found[0]


def _located_in_cell(text: str, source: Path, name: str, stem: str) -> str:
    """The compiler's message about ``source`` (the cell, as module ``stem``) as the cell's
    author reads it: ``cell:LINE:COLUMN`` with LINE counted from the ``%%mojo`` line, and the
    module called ``name``."""
    renamed = f"PyInit_{stem}"
    lines = source.read_text().splitlines()

    def locate(match: re.Match[str]) -> str:
        line, column = int(match.group(1)), match.group(2)
        where = f"cell:{line + 1}"
        if column is not None:
            # the renamed init function is longer than the cell's: count columns as in the cell
            before = lines[line - 1][: int(column) - 1] if 0 < line <= len(lines) else ""
            shift = before.count(renamed) * (len(stem) - len(name))
            where += f":{int(column) - shift}"
        return where

    text = re.sub(re.escape(str(source)) + r":(\d+)(?::(\d+))?", locate, text)
    text = text.replace(str(source), "cell").replace(str(source.parent), "<cell>")
    return re.sub(rf"\b{re.escape(stem)}\b", name, text)


def _evict(directory: Path, name: str, keep: str) -> None:
    """Keep the builds of the :data:`KEEP_BUILDS` most recently used versions of cells named
    ``name`` in ``directory`` (``keep``, the stem just used, among them) and remove the others,
    with the lock files of versions that have no build (a cell that failed to compile)."""
    suffix = re.escape(extension_suffix())
    build = re.compile(rf"({re.escape(name)}_[0-9a-f]{{12}})\.[0-9a-f]+{suffix}")
    lock = re.compile(rf"\.({re.escape(name)}_[0-9a-f]{{12}})\.lock")
    builds, locks = [], []
    try:
        entries = list(directory.iterdir())
    except OSError:
        return
    for path in entries:
        if (match := build.fullmatch(path.name)) and match.group(1) != keep:
            try:
                builds.append((path.stat().st_mtime, path))
            except OSError:
                pass
        elif (match := lock.fullmatch(path.name)) and match.group(1) != keep:
            locks.append((match.group(1), path))
    builds.sort(reverse=True)
    kept = {path.name.split(".")[0] for _, path in builds[: KEEP_BUILDS - 1]}
    stale = [path for _, path in builds[KEEP_BUILDS - 1:]] + [p for s, p in locks if s not in kept]
    for path in stale:
        try:
            path.unlink()
        except OSError:  # removed meanwhile
            pass


def run_cell(line: str, cell: str, namespace: MutableMapping[str, Any] | None = None) -> ModuleType:
    """What a ``%%mojo`` cell does: compile ``cell`` with the options of ``line`` (cached), import
    it, bind it in ``namespace`` under its name and return the module.

    Raises:
        MojoCellError: Bad options, no module in the cell, a compile error, or an import that failed.
        FileNotFoundError: No Mojo compiler (install bufferable's ``mojo`` extra).
        bufferable.build.OutputDirectoryError: The per-user cache is not usable.
    """
    options = _parser().parse_args(shlex.split(line))
    flags = _flags(options)
    name = _module_name(cell, options.name)
    try:
        include: Sequence[Path] = [Path.cwd()]
    except OSError:  # the working directory was removed: nothing to import from it
        include = []
    cache = private_directory(user_cache_dir("notebook"))
    with tempfile.TemporaryDirectory(prefix="bufferable-cell-") as tmp:
        # The key of everything the build reads: the cell, the Mojo files it imports (from the
        # working directory), the bufferable package, the flags and the compiler.
        draft = Path(tmp) / f"{name}.mojo"
        draft.write_text(cell)
        stem = f"{name}_{content_hash(draft, include=include, flags=flags)[:12]}"
        module = sys.modules.get(stem)
        if module is None:
            source = Path(tmp) / f"{stem}.mojo"
            source.write_text(re.sub(rf"\bPyInit_{name}\b", f"PyInit_{stem}", cell))
            try:
                built = cached_build(source, cache, include=include, flags=flags)
            except MojoBuildError as error:
                message = _located_in_cell(error.output, source, name, stem)
                raise MojoCellError(f"{name} failed to compile:\n{message}") from None
            finally:
                _evict(cache, name, stem)
            os.utime(built)  # the most recently used version
            try:
                module = load_extension(built, stem)
            except ImportError as error:
                message = _located_in_cell(str(error), source, name, stem)
                raise MojoCellError(f"{name} compiled but failed to import: {message}") from error
    if sys.modules.get(name) is None or sys.modules.get(name) is _ALIASED.get(name):
        sys.modules[name] = _ALIASED[name] = module  # `import grid` gives the newest version
    if namespace is not None:
        namespace[name] = module
    return module


_MAGIC_DOC = """%%mojo [-O LEVEL] [-g | --debug-level LEVEL] [-D KEY=VALUE ...] [--name NAME]

Compile the cell, a Mojo module with an ``@export def PyInit_<name>() abi("C") -> PythonObject``,
with bufferable on the import path, import it and bind it to ``<name>``. Builds are cached by
content; an edited cell is a new module (objects of the old one keep working). A compile error is
located as cell:LINE:COLUMN, the %%mojo line being line 1. See bufferable.notebook.
"""


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext bufferable``: registers the ``%%mojo`` cell magic in the shell ``ipython``."""

    def mojo(line: str, cell: str) -> None:
        run_cell(line, cell, ipython.user_ns)

    mojo.__doc__ = _MAGIC_DOC
    ipython.register_magic_function(mojo, magic_kind="cell", magic_name="mojo")
