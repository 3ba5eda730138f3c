"""The build tooling from a directory outside the repository: `python -m bufferable --mojo-path`,
`python -m bufferable build FILE.mojo [-o OUT]` and `import bufferable.importer`."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest


TEMPLATE = textwrap.dedent(
    """
    from std.python import Python, PythonObject
    from std.python.bindings import PythonModuleBuilder
    from bufferable import (
        Buffer, BufferFlags, Bufferable, ExportCounter, add_buffer_protocol,
        finalize_module, module_init_error,
    )

    struct Ramp(Bufferable, Writable):
        var data: List[Int16]
        var shape: Array[Int64, 1]
        var exports: ExportCounter

        def __init__(out self, n: Int):
            self.data = List[Int16](length=n, fill=0)
            for i in range(n):
                self.data[i] = Int16(i * STEP)
            self.shape = Array[Int64, 1](fill=Int64(n))
            self.exports = ExportCounter()

        def write_to(self, mut w: Some[Writer]):
            w.write("Ramp")

        def __buffer__(mut self, flags: BufferFlags) raises -> Buffer:
            self.exports.acquire()
            return Buffer(self.data.unsafe_ptr(), Span(self.shape))

        def __release_buffer__(mut self, buffer: Buffer):
            self.exports.release()

        @staticmethod
        def py_init(out self: Ramp, args: PythonObject, kwargs: PythonObject) raises:
            self = Ramp(Int(py=args[0]))

    @export
    def PyInit_NAME() abi("C") -> PythonObject:
        try:
            var m = PythonModuleBuilder("NAME")
            ref tb = m.add_type[Ramp]("Ramp").def_py_init[Ramp.py_init]()
            add_buffer_protocol[Ramp](tb)
            return finalize_module(m)
        except e:
            return module_init_error(e)
    """
)


def module_source(name: str, step: int) -> str:
    return TEMPLATE.replace("NAME", name).replace("STEP", str(step))


def test_compiler_environment_survives_a_loaded_mojo_module(bftest, tmp_path, mojo_compiler):
    # Loading a Mojo extension rewrites the C-level PYTHONPATH (adds ''): building another
    # module from a directory holding a `mojo/` folder must still find the `mojo` package.
    from bufferable.build import build

    (tmp_path / "mojo").mkdir()
    (tmp_path / "ramp_after_load.mojo").write_text(module_source("ramp_after_load", 4))
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        built = build("ramp_after_load.mojo", "out/")
    finally:
        os.chdir(cwd)
    assert built.is_file()


def run(args, cwd, **kw):
    env = dict(os.environ)
    # only the installed package: nothing from the repository's source tree
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and "tests" not in p
    )
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, **kw
    )


CHECK = (
    "import numpy as np, {name}\n"
    "r = {name}.Ramp(5)\n"
    "mv = memoryview(r)\n"
    "assert (mv.format, mv.shape) == ('h', (5,)), (mv.format, mv.shape)\n"
    "print(np.asarray(r).tolist(), type(r).__module__)\n"
)


def test_mojo_path_cli(tmp_path):
    out = run(["-m", "bufferable", "--mojo-path"], cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    path = Path(out.stdout.strip())
    assert (path / "bufferable" / "__init__.mojo").is_file()
    assert (path / "bufferable" / "_private.mojo").is_file()
    import bufferable

    assert bufferable.mojo_path() == str(path)


def test_build_cli_outside_repo(tmp_path, mojo_compiler):
    (tmp_path / "ramp_built.mojo").write_text(module_source("ramp_built", 3))
    out = run(["-m", "bufferable", "build", "ramp_built.mojo", "-o", "out/"], cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    built = Path(out.stdout.strip())
    assert built.parent == tmp_path / "out" and built.name.startswith("ramp_built.")
    check = run(["-c", CHECK.format(name="ramp_built")], cwd=tmp_path / "out")
    assert check.returncode == 0, check.stderr
    assert check.stdout.split() == ["[0,", "3,", "6,", "9,", "12]", "ramp_built"]


def test_build_cli_errors(tmp_path):
    out = run(["-m", "bufferable", "build", "missing.mojo"], cwd=tmp_path)
    assert out.returncode == 2 and "no such Mojo source" in out.stderr
    (tmp_path / "bad-name.mojo").write_text("")
    out = run(["-m", "bufferable", "build", "bad-name.mojo"], cwd=tmp_path)
    assert out.returncode == 2 and "not an ASCII Python identifier" in out.stderr
    (tmp_path / "named.mojo").write_text("")
    out = run(["-m", "bufferable", "build", "named.mojo", "-o", "other.so"], cwd=tmp_path)
    assert out.returncode == 2 and "must be named named" in out.stderr


def test_build_refuses_a_directory_and_a_non_ascii_name_up_front(tmp_path, monkeypatch):
    # Both before any compiler runs: a directory is not a missing file, and a name Mojo cannot
    # compile (non-ASCII, though a Python identifier) is said to be one.
    from bufferable.build import build

    (tmp_path / "somedir").mkdir()
    (tmp_path / "café.mojo").write_text("")
    monkeypatch.setenv("BUFFERABLE_MOJO", str(tmp_path / "no-compiler"))  # no compiler may run
    for argument, error, message in [
        ("somedir", IsADirectoryError, "somedir is a directory, not a .mojo file"),
        ("café.mojo", ValueError, "'café' is not an ASCII Python identifier"),
    ]:
        out = run(["-m", "bufferable", "build", argument], cwd=tmp_path)
        assert out.returncode == 2, out.stdout + out.stderr
        assert out.stderr.startswith("error: ") and message in out.stderr, out.stderr
        assert "Traceback" not in out.stderr
        with pytest.raises(error, match=message):
            build(tmp_path / argument)


def test_importer_builds_caches_rebuilds_and_reports(tmp_path, mojo_compiler):
    src = tmp_path / "ramp_imported.mojo"
    src.write_text(module_source("ramp_imported", 2))
    program = "import bufferable.importer\n" + CHECK.format(name="ramp_imported")

    first = run(["-c", program], cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.split()[:5] == ["[0,", "2,", "4,", "6,", "8]"]
    cache = tmp_path / "__mojocache__"
    builds = sorted(cache.glob("ramp_imported.*"))
    assert len(builds) == 1
    stamp = builds[0].stat().st_mtime_ns

    # unchanged source: reused, not rebuilt
    start = time.perf_counter()
    again = run(["-c", program], cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert sorted(cache.glob("ramp_imported.*")) == builds
    assert builds[0].stat().st_mtime_ns == stamp
    assert time.perf_counter() - start < 5

    # edited source: rebuilt, the stale build removed
    src.write_text(module_source("ramp_imported", 10))
    edited = run(["-c", program], cwd=tmp_path)
    assert edited.returncode == 0, edited.stderr
    assert edited.stdout.split()[:5] == ["[0,", "10,", "20,", "30,", "40]"]
    rebuilt = sorted(cache.glob("ramp_imported.*"))
    assert len(rebuilt) == 1 and rebuilt != builds

    # a compile error is an ImportError carrying the compiler's message
    (tmp_path / "ramp_broken.mojo").write_text(
        module_source("ramp_broken", 1).replace("Int16(i * 1)", "undefined_name(i)")
    )
    broken = run(
        ["-c", "import bufferable.importer\ntry:\n import ramp_broken\n"
               "except ImportError as e:\n print('IMPORTERROR', e)\n"],
        cwd=tmp_path,
    )
    assert broken.returncode == 0, broken.stderr
    assert "IMPORTERROR" in broken.stdout
    assert "ramp_broken.mojo" in broken.stdout and "undefined_name" in broken.stdout


def test_importer_leaves_other_imports_alone_when_the_working_directory_is_gone(tmp_path):
    # `python -c` puts '' (the working directory) on sys.path; with the directory deleted a
    # missing module must still be ModuleNotFoundError, so `except ImportError` fallbacks work.
    gone = tmp_path / "gone"
    gone.mkdir()
    program = (
        "import os, sys\n"
        "os.chdir(sys.argv[1]); os.rmdir(sys.argv[1])\n"
        "import bufferable.importer\n"
        "try:\n"
        "    import bufferable_no_such_module\n"
        "except ModuleNotFoundError as e:\n"
        "    print('MISSING', e.name)\n"
        "import json\n"
        "print('FOUND', json.__name__)\n"
    )
    out = run(["-c", program, str(gone)], cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["MISSING", "bufferable_no_such_module", "FOUND", "json"]
