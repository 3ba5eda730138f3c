"""The build cache of bufferable.build: its key is an explicit list of the files a build reads (the
source, the local modules and packages it imports, the bufferable Mojo package) plus the compiler
and the flags; one cache-directory convention for the importer, the demo and the benchmarks;
unusable cache directories are reported as such; a built module must define PyInit_<stem>."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bufferable import build


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def run(args, cwd, env=None):
    full = dict(os.environ)
    full.update(env or {})
    return subprocess.run([sys.executable, *args], cwd=cwd, env=full, capture_output=True,
                          text=True, timeout=600)


@pytest.fixture
def project(tmp_path):
    """A module that imports a sibling package, a sibling module (which imports another) and a
    module from an -I directory, next to files it does not import."""
    src = tmp_path / "src"
    write(src / "main.mojo", """
        from std.python import PythonObject
        from sibpkg import value
        from sibpkg.inner import other_value
        import helper as h, std.math
        from bufferable import Buffer

        def f():
            from extra_mod import thing   # an import inside a function counts too
    """)
    write(src / "sibpkg" / "__init__.mojo", "from .inner import other_value\ncomptime value = 1\n")
    write(src / "sibpkg" / "inner.mojo", "comptime other_value = 2\n")
    write(src / "helper.mojo", "from helper_dep import x\n")
    write(src / "helper_dep.mojo", "comptime x = 3\n")
    write(src / "unrelated.mojo", "comptime y = 4\n")
    write(src / "unrelated_pkg" / "__init__.mojo", "comptime z = 5\n")
    inc = tmp_path / "inc"
    write(inc / "extra_mod.mojo", "comptime thing = 6\n")
    write(inc / "not_imported.mojo", "comptime w = 7\n")
    return src, inc


def test_build_inputs_are_the_files_the_build_reads(project):
    src, inc = project
    inputs = build.build_inputs(src / "main.mojo", include=[inc])
    package = sorted(Path(build.mojo_path()).rglob("*.mojo"))
    local = [p for p in inputs if p not in package]
    assert sorted(local) == sorted([
        src / "main.mojo", src / "sibpkg" / "__init__.mojo", src / "sibpkg" / "inner.mojo",
        src / "helper.mojo", src / "helper_dep.mojo", inc / "extra_mod.mojo",
    ])
    assert set(package) <= set(inputs)  # the bufferable Mojo package, every file of it


def test_cache_key_covers_every_input_and_nothing_else(project):
    src, inc = project
    main = src / "main.mojo"
    key = lambda: build.content_hash(main, include=[inc])  # noqa: E731
    before = key()
    # files the build does not read do not change the key
    (src / "unrelated.mojo").write_text("comptime y = 40\n")
    (src / "unrelated_pkg" / "__init__.mojo").write_text("comptime z = 50\n")
    (inc / "not_imported.mojo").write_text("comptime w = 70\n")
    write(src / "new_sibling.mojo", "comptime n = 1\n")
    assert key() == before
    # every file it reads does: the source, a sibling package, a module imported by a sibling
    # module, a module of an -I directory
    for path, text in [(main, main.read_text() + "\n# edited\n"),
                       (src / "sibpkg" / "inner.mojo", "comptime other_value = 20\n"),
                       (src / "helper_dep.mojo", "comptime x = 30\n"),
                       (inc / "extra_mod.mojo", "comptime thing = 60\n")]:
        previous = key()
        path.write_text(text)
        assert key() != previous, path
    # so do the flags (another -I directory) and an explicit list of inputs
    assert build.content_hash(main, include=[inc, src / "sibpkg"]) != key()
    assert build.content_hash(main, inputs=[main], include=[inc]) != key()
    # the project's location does not: a copy of it elsewhere has the same key
    copy = src.parent.parent / "elsewhere"
    shutil.copytree(src.parent, copy)
    assert build.content_hash(copy / "src" / "main.mojo", include=[copy / "inc"]) == key()


def test_cached_build_takes_an_explicit_input_list(project, tmp_path):
    src, inc = project
    main = src / "main.mojo"
    explicit = [main, src / "unrelated.mojo"]
    path = build.cached_path(main, tmp_path / "cache", include=[inc], inputs=explicit)
    assert path.name.startswith("main.")
    before = path
    (src / "unrelated.mojo").write_text("comptime y = 41\n")
    assert build.cached_path(main, tmp_path / "cache", include=[inc], inputs=explicit) != before
    # without it, the discovered list, which that file is not in
    discovered = build.cached_path(main, tmp_path / "cache", include=[inc])
    (src / "unrelated.mojo").write_text("comptime y = 42\n")
    assert build.cached_path(main, tmp_path / "cache", include=[inc]) == discovered


def test_one_user_cache_directory_convention(monkeypatch, tmp_path):
    from bufferable import importer
    from bufferable.demo import build as demo_build

    environment = hashlib.sha256(os.path.realpath(sys.prefix).encode()).hexdigest()[:12]
    monkeypatch.setenv("BUFFERABLE_CACHE", str(tmp_path / "base"))
    assert build.user_cache_dir("demo") == tmp_path / "base" / "demo" / environment
    assert demo_build.cache_dir() == build.user_cache_dir("demo")
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    try:
        import mojo_modules
    finally:
        sys.path.pop(0)
    assert mojo_modules.cache_dir() == build.user_cache_dir("bench")
    # the importer keeps builds next to the source, else in the user cache
    source = write(tmp_path / "ro" / "m.mojo", "")
    assert importer.cache_dir_for(source) == tmp_path / "ro" / "__mojocache__"
    (tmp_path / "ro" / "__mojocache__").rmdir()
    (tmp_path / "ro" / "__mojocache__").write_text("a file where the cache would go")
    assert importer.cache_dir_for(source) == build.user_cache_dir("mojo")
    monkeypatch.delenv("BUFFERABLE_CACHE")
    assert build.user_cache_dir("mojo") == Path.home() / ".cache" / "bufferable" / "mojo" / environment


# --- unusable cache and output directories --------------------------------------------------------

# /sys refuses new entries even to root; a regular file cannot hold a directory.
UNWRITABLE = "/sys/bufferable-test-cache"


@pytest.mark.parametrize("base", ["unwritable", "file"])
def test_importer_unusable_cache_is_an_import_error(tmp_path, base, mojo_compiler):
    write(tmp_path / "cachetest.mojo", "")
    (tmp_path / "__mojocache__").write_text("a file: the local cache cannot be used")
    if base == "file":
        (tmp_path / "plain").write_text("")
        base = str(tmp_path / "plain" / "cache")
    else:
        base = UNWRITABLE
    program = (
        "import bufferable.importer\n"
        "try:\n"
        "    import cachetest\n"
        "except ImportError as e:\n"
        "    print('IMPORTERROR', type(e).__name__, e)\n"
    )
    out = run(["-c", program], cwd=tmp_path, env={"BUFFERABLE_CACHE": base})
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("IMPORTERROR ImportError"), out.stdout + out.stderr
    assert "cache directory" in out.stdout and base in out.stdout and "BUFFERABLE_CACHE" in out.stdout


@pytest.mark.parametrize("where", ["unwritable", "file"])
def test_build_cli_unusable_output_directory_is_a_clear_error(tmp_path, where, mojo_compiler):
    write(tmp_path / "outtest.mojo", "")
    if where == "file":
        (tmp_path / "plain").write_text("")
        target = str(tmp_path / "plain" / "out") + "/"
    else:
        target = UNWRITABLE + "/"
    out = run(["-m", "bufferable", "build", "outtest.mojo", "-o", target], cwd=tmp_path)
    assert out.returncode == 2, out.stdout + out.stderr
    assert "Traceback" not in out.stderr, out.stderr
    assert out.stderr.startswith("error: cannot write the extension into"), out.stderr
    assert target.rstrip("/") in out.stderr


# --- builds (each compiles a small module) --------------------------------------------------------

MODULE = """
from std.python import PythonObject
from std.python.bindings import PythonModuleBuilder
from constants import VALUE


def value() raises -> PythonObject:
    return PythonObject(VALUE)


@export
def PyInit_NAME() abi("C") -> PythonObject:
    try:
        var m = PythonModuleBuilder("NAME")
        m.def_function[value]("value")
        return m.finalize()
    except e:
        return PythonObject()
"""


def test_importer_rebuilds_when_an_imported_sibling_package_changes(tmp_path, mojo_compiler):
    write(tmp_path / "siblingtest.mojo", MODULE.replace("NAME", "siblingtest"))
    write(tmp_path / "constants" / "__init__.mojo", "from .numbers import VALUE\n")
    write(tmp_path / "constants" / "numbers.mojo", "comptime VALUE = 1\n")
    program = "import bufferable.importer, siblingtest\nprint(siblingtest.value())\n"
    first = run(["-c", program], cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.split() == ["1"]
    builds = sorted((tmp_path / "__mojocache__").glob("siblingtest.*"))
    # an edit of a sibling it does not import leaves the build alone
    write(tmp_path / "unrelated.mojo", "comptime OTHER = 5\n")
    assert run(["-c", program], cwd=tmp_path).stdout.split() == ["1"]
    assert sorted((tmp_path / "__mojocache__").glob("siblingtest.*")) == builds
    # an edit inside the package it imports rebuilds it
    write(tmp_path / "constants" / "numbers.mojo", "comptime VALUE = 2\n")
    again = run(["-c", program], cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout.split() == ["2"]
    assert sorted((tmp_path / "__mojocache__").glob("siblingtest.*")) != builds


def test_build_without_pyinit_of_its_name_fails_and_says_so(tmp_path, mojo_compiler):
    write(tmp_path / "constants" / "__init__.mojo", "comptime VALUE = 1\n")
    write(tmp_path / "misnamed.mojo", MODULE.replace("NAME", "other_name"))
    out = run(["-m", "bufferable", "build", "misnamed.mojo", "-o", "out/"], cwd=tmp_path)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "PyInit_misnamed" in out.stderr and "PyInit_other_name" in out.stderr, out.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_exported_symbols_of_a_real_extension():
    # The ELF reader behind the check, on an extension built by CMake (not by Mojo).
    from bufferable import _core

    symbols = build.exported_symbols(_core.__file__)
    assert "PyInit__core" in symbols and not any(s.startswith("PyInit_") and s != "PyInit__core"
                                                 for s in symbols)
    with pytest.raises(ValueError, match="not an ELF"):
        build.exported_symbols(__file__)


def test_workers_importing_a_new_module_at_once_compile_it_once(tmp_path):
    """Pool or cluster workers that import the same new module together: one compiles it, the
    others wait for that build (a file lock in the cache folder) and load it."""
    from bufferable.build import find_mojo

    log = tmp_path / "compiles.log"
    wrapper = tmp_path / "logging-mojo"
    wrapper.write_text(f"#!/bin/sh\necho \"$$\" >> '{log}'\nexec '{find_mojo()}' \"$@\"\n")
    wrapper.chmod(0o755)
    project = tmp_path / "project"
    write(project / "together.mojo", f"""
        # {tmp_path.name}: a module no earlier run has built
        from std.python import PythonObject
        from std.python.bindings import PythonModuleBuilder

        @export
        def PyInit_together() abi("C") -> PythonObject:
            try:
                var m = PythonModuleBuilder("together")
                return m.finalize()
            except e:
                return PythonObject()
    """)
    env = dict(os.environ, BUFFERABLE_MOJO=str(wrapper), BUFFERABLE_CACHE=str(tmp_path / "cache"))
    workers = [subprocess.Popen([sys.executable, "-c", "import bufferable.importer, together; "
                                 "print(together.__file__)"], cwd=project, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(4)]
    results = [worker.communicate(timeout=600) for worker in workers]
    assert [worker.returncode for worker in workers] == [0] * 4, [err for _, err in results]
    assert len({out.strip() for out, _ in results}) == 1  # all load the one build
    assert len(log.read_text().split()) == 1
