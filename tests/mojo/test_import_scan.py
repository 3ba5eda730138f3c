"""build_inputs follows Mojo's import syntax. Generated projects (modules, packages and precompiled
packages, in the source's directory and in an -I directory, imported by the source or through one
another, in every spelling below) are scanned: the inputs are exactly the files of the imported
modules and packages, an edit of any of them changes the cache key and an edit of any other file
(a module that only a comment, a string or an unimported module mentions) does not. Every spelling
is checked to compile with the installed Mojo. Derandomized hypothesis, no database."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from bufferable import build

# How a file imports the module or package {n}, which defines {v} (a package: in __init__.mojo,
# and S_{n} in its submodule sub.mojo). `;` separated statements, parenthesised names over
# several lines, `as`, comments after an import, a backslash continuation, imports inside
# functions (nested ones and one-line bodies too; Mojo refuses them in an `if`).
SPELLINGS = [
    "import {n}",
    "import {n} as alias_{n}",
    "import std.math, {n}",
    "import std.math as math_{n}, {n} as a_{n}  # a comment",
    "from {n} import {v}",
    "from {n} import ({v},)",
    "from {n} import (\n    {v},  # a comment\n)",
    "from {n} import (\n    {v} as w_{n}\n    )",
    "import std.math; import {n}",
    "import std.math;import {n}  # a comment",
    "comptime c_{n} = 1; from {n} import {v} as v_{n}",
    "from std.math import sqrt; from {n} import {v} as x_{n}; comptime d_{n} = 2",
    "import std.math, \\\n    {n}",
    "def f_{n}():\n    import {n}",
    "def g_{n}() -> Int: import {n}; return 1",
    "def h_{n}():\n    def inner():\n        from {n} import ({v},\n            {v} as y_{n})",
]
PACKAGE_SPELLINGS = SPELLINGS + [
    "import {n}.sub",
    "from {n}.sub import S_{n}",
    "from {n} import sub",
    "from {n}.deep import S_{n}",
    "import std.math; from {n}.sub import (\n    S_{n},\n)",
]
# How a file mentions {n} without importing it.
MENTIONS = [
    "# import {n}",
    "comptime s_{n} = 'import {n}'",
    'comptime t_{n} = "x; import {n}"',
    'def doc_{n}():\n    """Not an import.\n\n    import {n}\n    from {n} import {v}\n    """\n    pass',
    "comptime u_{n} = 1  # ; import {n}",
]


def unit_files(root: Path, kind: str, name: str, imports: list[str]) -> list[Path]:
    """Write the module or package ``name`` of ``kind`` into ``root``, its files holding the
    statements ``imports``; return its files."""
    body = "\n".join(imports) + "\n"
    if kind == "module":
        path = root / f"{name}.mojo"
        path.write_text(f"{body}comptime V_{name} = 1\n")
        return [path]
    if kind == "precompiled":
        path = root / f"{name}.mojoc"
        path.write_bytes(b"MPKG\0" + name.encode())
        return [path]
    package = root / name
    (package / "deep").mkdir(parents=True)
    files = [package / "__init__.mojo", package / "sub.mojo", package / "deep" / "__init__.mojo"]
    files[0].write_text(f"from .sub import S_{name}\ncomptime V_{name} = 1\n")
    files[1].write_text(f"{body}comptime S_{name} = 2\n")
    files[2].write_text("from ..sub import *\n")
    return files


@st.composite
def projects(draw):
    """A layout: units (kind, place, importer: "main", an earlier source unit, or None), and for
    each the statement that imports it (or only mentions it, when nothing imports it)."""
    units = []
    for i in range(draw(st.integers(1, 7))):
        kind = draw(st.sampled_from(["module", "package", "precompiled"]))
        sources = [j for j, u in enumerate(units) if u[0] != "precompiled"]
        importer = draw(st.sampled_from(["main", None, *sources]))
        texts = MENTIONS if importer is None else (
            PACKAGE_SPELLINGS if kind == "package" else SPELLINGS)
        units.append((kind, draw(st.sampled_from(["src", "inc"])), importer,
                      draw(st.sampled_from(texts))))
    return units


@settings(max_examples=150, derandomize=True, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(projects())
def test_inputs_are_exactly_the_imported_files(units):
    with tempfile.TemporaryDirectory() as tmp:
        src, inc = Path(tmp) / "src", Path(tmp) / "inc"
        src.mkdir(), inc.mkdir()
        names = [f"{kind[0]}{i}" for i, (kind, *_) in enumerate(units)]
        statements: dict[object, list[str]] = {"main": []}
        for i, (kind, place, importer, text) in enumerate(units):
            statements.setdefault("main" if importer is None else importer, []).append(
                text.format(n=names[i], v=f"V_{names[i]}"))
        main = src / "main.mojo"
        main.write_text("\n".join(statements["main"]) + "\ndef main():\n    pass\n")
        files = {i: unit_files(src if place == "src" else inc, kind, names[i], statements.get(i, []))
                 for i, (kind, place, _, _) in enumerate(units)}
        imported, pending = set(), ["main"]
        while pending:
            at = pending.pop()
            for i, unit in enumerate(units):
                if unit[2] == at and i not in imported:
                    imported.add(i)
                    pending.append(i)
        expected = {main, *(f for i in imported for f in files[i])}
        unimported = {f for i in files if i not in imported for f in files[i]}

        package = set(Path(build.mojo_path()).rglob("*.mojo"))
        inputs = build.build_inputs(main, include=[inc])
        assert len(inputs) == len(set(inputs))
        assert set(inputs) - package == expected, "\n" + main.read_text()

        key = lambda: build.content_hash(main, include=[inc])  # noqa: E731
        before = key()
        for path in sorted(expected | unimported):
            text = path.read_bytes()
            path.write_bytes(text + b"\n# edited\n")
            assert (key() != before) == (path in expected), path
            path.write_bytes(text)
        assert key() == before


def test_every_spelling_compiles(tmp_path, mojo_compiler):
    # Each spelling and mention once, of its own module or package, in one program that Mojo
    # builds: the spellings above are Mojo, not guesses.
    lines = []
    for i, text in enumerate(SPELLINGS + PACKAGE_SPELLINGS + MENTIONS):
        kind = "package" if i >= len(SPELLINGS) and i < len(SPELLINGS + PACKAGE_SPELLINGS) else "module"
        name = f"{kind[0]}{i}"
        unit_files(tmp_path, kind, name, [])
        lines.append(text.format(n=name, v=f"V_{name}"))
    (tmp_path / "main.mojo").write_text("\n".join(lines) + "\ndef main():\n    print('ok')\n")
    out = subprocess.run([mojo_compiler, "build", "main.mojo", "-o", "main"], cwd=tmp_path,
                         capture_output=True, text=True, env=build.compiler_environment())
    assert out.returncode == 0, out.stdout + out.stderr
    assert subprocess.run([str(tmp_path / "main")], capture_output=True, text=True).stdout == "ok\n"
