"""Importing a Mojo module leaves the process as it found it (bufferable.mojo_runtime).

Mojo 1.2.0's Python interop, started by the first Mojo module a process loads, finds libpython by
running the first `python3` on PATH and then writes PYTHONEXECUTABLE, PYTHONPATH and
MOJO_PYTHON_LIBRARY into the C environment, which children inherit. Each test runs a child the way
IDEs, Jupyter kernels and cron run a venv: its python called by its path, with PATH not holding the
venv. The first `python3` on that PATH is a recording stand-in for the base interpreter, so the
tests see every discovery child Mojo starts. The module is the README's Grid, built from the
README and imported as the README says (`import grid` beside the built file, or through
`bufferable.importer`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bufferable.build import cached_build, extension_suffix
from bufferable.mojo_runtime import MOJO_ENVIRONMENT_VARIABLES
from conftest import ide_environment
from test_readme_example import readme_block

@pytest.fixture(scope="module")
def grid_build(mojo_cache_dir, tmp_path_factory) -> Path:
    """The README's grid.mojo, built (cached)."""
    source = tmp_path_factory.mktemp("grid-source") / "grid.mojo"
    source.write_text(readme_block("grid.mojo"))
    return cached_build(source, mojo_cache_dir)


@pytest.fixture
def project(tmp_path, grid_build) -> Path:
    """A folder holding grid<EXT_SUFFIX> (as `python -m bufferable build grid.mojo` leaves it)."""
    shutil.copy(grid_build, tmp_path / f"grid{extension_suffix()}")
    return tmp_path


def stand_in_python3(folder: Path, log: Path, target: str) -> Path:
    """A `python3` that appends one line to `log` per run and then runs `target` (refusing after
    20 runs, so that a recursion this test provokes cannot grow without end)."""
    folder.mkdir(exist_ok=True)
    script = folder / "python3"
    script.write_text(textwrap.dedent(f"""\
        #!/bin/sh
        echo "$$" >> '{log}'
        [ "$(wc -l < '{log}')" -gt 20 ] && exit 1
        exec '{target}' "$@"
        """))
    script.chmod(0o755)
    return script


def run_as_an_ide_would(tmp_path: Path, code: str, *, python3_target: str | None = None,
                        extra_env: dict[str, str] | None = None, timeout: float = 240):
    """Run `code` with this venv's python by path, PATH without the venv and with a recording
    `python3` (the base interpreter, or `python3_target`) first. Returns (process, discovery runs)."""
    log = tmp_path / "python3-runs.log"
    log.write_text("")
    base = getattr(sys, "_base_executable", None) or shutil.which("python3") or sys.executable
    fake = stand_in_python3(tmp_path / "fake-bin", log, python3_target or base)
    env = ide_environment(**(extra_env or {}))
    env["PATH"] = os.pathsep.join([str(fake.parent), env["PATH"]])
    for name in MOJO_ENVIRONMENT_VARIABLES:
        if name not in (extra_env or {}):
            env.pop(name, None)
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(code))
    process = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=timeout)
    runs = [line for line in log.read_text().splitlines() if line]
    return process, runs


# What a child reports: the C environment's view of the three variables against os.environ's.
ENVIRONMENT_CHECK = """
import ctypes, os
libc = ctypes.CDLL(None)
libc.getenv.restype = ctypes.c_char_p
def c_environment():
    return {k: (libc.getenv(k.encode()) or b"").decode() or None
            for k in %r}
def python_environment():
    return {k: os.environ.get(k) for k in %r}
""" % (MOJO_ENVIRONMENT_VARIABLES, MOJO_ENVIRONMENT_VARIABLES)


@pytest.mark.parametrize("user_pythonpath", [None, "/nonexistent/user/dir"])
def test_a_direct_import_leaves_the_environment_as_it_was(tmp_path, project, user_pythonpath):
    extra = {"PYTHONPATH": user_pythonpath} if user_pythonpath else {}
    process, runs = run_as_an_ide_would(project, ENVIRONMENT_CHECK + """
import sys
sys.path.insert(0, %r)
before = c_environment()
import grid
assert c_environment() == python_environment() == before, (c_environment(), before)
print("ok", before["PYTHONPATH"])
""" % str(project), extra_env=extra)
    assert process.returncode == 0, process.stderr[-3000:]
    assert process.stdout.split() == ["ok", str(user_pythonpath)]
    # Imported directly, the module starts Mojo's discovery before bufferable runs: pinned, to
    # notice the day Mojo stops doing it (through bufferable it never runs: the next tests).
    assert len(runs) == 1, runs


def test_loading_through_bufferable_starts_no_discovery_child(tmp_path, project):
    process, runs = run_as_an_ide_would(project, ENVIRONMENT_CHECK + """
from bufferable.build import load_extension
grid = load_extension(%r, "grid")
assert c_environment() == python_environment(), c_environment()
print(grid.total(grid.Grid(2, 3)))
""" % str(next(project.glob("grid*.so"))))
    assert process.returncode == 0, process.stderr[-3000:]
    assert process.stdout.split() == ["0.0"]
    assert runs == []


def test_the_importer_starts_no_discovery_child(tmp_path, grid_build):
    (tmp_path / "grid.mojo").write_text(readme_block("grid.mojo"))
    process, runs = run_as_an_ide_would(tmp_path, ENVIRONMENT_CHECK + """
import bufferable.importer
import grid
assert c_environment() == python_environment(), c_environment()
print(type(grid.Grid(1, 1)).__name__)
""")
    assert process.returncode == 0, process.stderr[-3000:]
    assert process.stdout.split() == ["Grid"]
    assert runs == []


def test_children_start_this_venv_after_a_mojo_import(tmp_path, project):
    process, _ = run_as_an_ide_would(project, """
import subprocess, sys
sys.path.insert(0, %r)
import grid
child = subprocess.run([sys.executable, "-c", "import sys, numpy; print(sys.prefix)"],
                       capture_output=True, text=True, timeout=60)
assert child.returncode == 0, child.stderr
print(child.stdout.strip() == sys.prefix)
""" % str(project))
    assert process.returncode == 0, process.stderr[-3000:]
    assert process.stdout.split() == ["True"]


WORKERS = """
import sys
import numpy as np

def total_in_mojo(n):
    \"\"\"A Mojo sum in a worker, and the environment the worker runs in (a worker started by
    the base interpreter reads the venv's packages through the sys.path multiprocessing sends)\"\"\"
    import grid
    g = grid.Grid(n, n)
    np.asarray(g)[:] = 1.0
    return grid.total(g), sys.prefix
"""


@pytest.mark.parametrize("pool", ["spawn", "forkserver", "executor-spawn"])
def test_process_pools_run_mojo_after_a_mojo_import(tmp_path, project, pool):
    (project / "workers.py").write_text(WORKERS)
    process, _ = run_as_an_ide_would(project, """
import multiprocessing, sys
sys.path.insert(0, %r)
import grid, workers

if __name__ == "__main__":
    kind = %r
    if kind == "executor-spawn":
        from concurrent.futures import ProcessPoolExecutor
        with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as ex:
            results = list(ex.map(workers.total_in_mojo, [1, 2, 3]))
    else:
        with multiprocessing.get_context(kind).Pool(2) as p:
            results = p.map(workers.total_in_mojo, [1, 2, 3])
    print([total for total, _ in results], {prefix == sys.prefix for _, prefix in results})
""" % (str(project), pool), timeout=180)
    assert process.returncode == 0, process.stderr[-3000:]
    assert process.stdout.strip() == "[1.0, 4.0, 9.0] {True}"


def test_a_start_up_that_loads_a_mojo_module_does_not_recurse(tmp_path, project):
    """A sitecustomize that loads a Mojo module through bufferable: Mojo's discovery child would
    run the same start-up (here `python3` is this venv's python, so it could) and recurse."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        "from bufferable.build import load_extension\n"
        f"grid = load_extension({str(next(project.glob('grid*.so')))!r}, 'grid')\n")
    process, runs = run_as_an_ide_would(
        project, "import sys; print(sys.modules['grid'].Grid(2, 2).__class__.__name__)",
        python3_target=sys.executable, extra_env={"PYTHONPATH": str(site)}, timeout=120)
    assert process.returncode == 0, process.stderr[-3000:]
    assert process.stdout.split() == ["Grid"]
    assert runs == []
