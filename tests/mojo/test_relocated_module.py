"""A Mojo module built in one environment imports in another (bufferable.mojo_runtime).

`mojo build` records the Mojo runtime as an absolute RUNPATH into the environment that built the
module. Imported where that environment is gone (another venv, another machine, a cluster's
workers), a plain import failed with `libKGENCompilerRTShared.so: cannot open shared object file`.
bufferable's loads load this environment's runtime first. Two ways to be elsewhere: the README's
Grid with its RUNPATH pointed at a folder that does not exist (always), and the Grid built by a
second venv at another path (CI names one in BUFFERABLE_TEST_OTHER_PYTHON)."""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from bufferable.build import extension_suffix
from bufferable.mojo_runtime import mojo_runtime_dir
from conftest import run_like_an_ide
from test_readme_example import readme_block

OTHER_PYTHON = os.environ.get("BUFFERABLE_TEST_OTHER_PYTHON")

USE_GRID = """
import sys
import numpy as np
sys.path.insert(0, {folder!r})
{load}
g = grid.Grid(2, 2)
np.asarray(g)[:] = 2.0
print(grid.total(g))
"""

LOADS = {
    "load_extension": "from bufferable.build import load_extension\n"
                      "grid = load_extension({path!r}, 'grid')",
    "load_mojo_runtime": "from bufferable.mojo_runtime import load_mojo_runtime\n"
                         "load_mojo_runtime()\nimport grid",
    "plain import": "import grid",
}


def run_grid(tmp_path: Path, module: Path, how: str):
    script = tmp_path / "use_grid.py"
    load = LOADS[how].format(path=str(module))
    script.write_text(textwrap.dedent(USE_GRID.format(folder=str(module.parent), load=load)))
    return run_like_an_ide(script, cwd=tmp_path, timeout=120)


def runpath(module: Path) -> bytes:
    runtime = os.fsencode(mojo_runtime_dir())
    data = module.read_bytes()
    assert data.count(runtime + b"\0") == 1, "the module names this environment's runtime once"
    return runtime


@pytest.fixture
def relocated_grid(tmp_path, readme_modules) -> Path:
    """The README's Grid as if built in an environment that no longer exists."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    module = folder / f"grid{extension_suffix()}"
    shutil.copy(next(readme_modules.glob("grid.*")), module)
    old = runpath(module)
    new = b"/nonexistent-build-venv/".ljust(len(old), b"x")
    module.write_bytes(module.read_bytes().replace(old + b"\0", new + b"\0"))
    return module


@pytest.mark.parametrize("how", ["load_extension", "load_mojo_runtime"])
def test_a_module_whose_build_environment_is_gone_imports_through_bufferable(
        tmp_path, relocated_grid, how):
    process = run_grid(tmp_path, relocated_grid, how)
    assert process.returncode == 0, process.stderr[-3000:]
    assert process.stdout.split() == ["8.0"]


def test_a_plain_import_of_such_a_module_needs_the_runtime(tmp_path, relocated_grid):
    """What happened before: pinned, so that the day Mojo stops recording the build environment
    shows up here."""
    process = run_grid(tmp_path, relocated_grid, "plain import")
    assert process.returncode != 0
    assert "libKGENCompilerRTShared.so: cannot open shared object file" in process.stderr


@pytest.mark.skipif(not OTHER_PYTHON, reason="BUFFERABLE_TEST_OTHER_PYTHON names no second venv "
                                             "(CI names one)")
@pytest.mark.parametrize("how", ["load_extension", "load_mojo_runtime"])
def test_a_module_built_by_another_venv_imports_here(tmp_path, how):
    source = tmp_path / "grid.mojo"
    source.write_text(readme_block("grid.mojo"))
    built = subprocess.run([OTHER_PYTHON, "-m", "bufferable", "build", str(source), "-o",
                            str(tmp_path / "built") + os.sep], capture_output=True, text=True,
                           timeout=600)
    assert built.returncode == 0, built.stderr
    module = Path(built.stdout.strip())
    other_venv = Path(OTHER_PYTHON).absolute().parents[1]
    assert os.fsencode(other_venv) in module.read_bytes()  # it names the other venv's runtime
    assert not Path(mojo_runtime_dir()).is_relative_to(other_venv)
    process = run_grid(tmp_path, module, how)
    assert process.returncode == 0, process.stderr[-3000:]
    assert process.stdout.split() == ["8.0"]
