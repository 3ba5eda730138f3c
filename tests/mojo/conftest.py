"""Fixtures of the Mojo tests: every Mojo test module lives in tests/mojo/modules and is compiled
once per session (several seconds each) with bufferable's own build tooling, into a cache keyed by
a hash of the files that build reads (so an unchanged module reuses the previous session's build,
and an edit of one module rebuilds that module alone), and imported from there."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
#: The folder of every Mojo test module.
MODULES = HERE / "modules"


def _cache_dir() -> Path:
    """$BUFFERABLE_TEST_CACHE, else the per-user cache's "tests" folder (private to the user, as
    every build cache is: bufferable.build.private_directory)."""
    from bufferable.build import user_cache_dir

    explicit = os.environ.get("BUFFERABLE_TEST_CACHE")
    return Path(explicit) if explicit else user_cache_dir("tests")


def require_mojo() -> str:
    """The Mojo compiler's path. The Mojo tests are part of the suite (README: install the `mojo`
    extra), so a missing compiler fails them loudly instead of skipping them."""
    from bufferable.build import find_mojo

    try:
        return find_mojo()
    except FileNotFoundError as error:
        pytest.fail(f"no Mojo compiler ({error}): install bufferable with the `mojo` extra")


@pytest.fixture(scope="session")
def mojo_compiler() -> str:
    """`require_mojo()` as a fixture."""
    return require_mojo()


def load_mojo_module(source: Path):
    """Build `source` (cached) and import it under its stem."""
    require_mojo()
    from bufferable.build import cached_build, load_extension

    if source.stem in sys.modules:
        return sys.modules[source.stem]
    return load_extension(cached_build(source, _cache_dir()), source.stem)


@pytest.fixture(scope="session")
def mojo_module():
    """`load_mojo_module`, for test files that build a module of their own."""
    return load_mojo_module


@pytest.fixture(scope="session")
def bftest():
    """The module of test producers (tests/mojo/modules/bftest.mojo)."""
    return load_mojo_module(MODULES / "bftest.mojo")


@pytest.fixture(scope="session")
def mojo_cache_dir() -> Path:
    return _cache_dir()


def ide_environment(**extra: str) -> dict[str, str]:
    """The environment a venv's python gets from an IDE, a Jupyter kernel or cron: this one with
    the venv neither activated nor on PATH (its python is then called by its path), plus `extra`.
    The first `python3` on PATH is then the base interpreter, which is what a child process finds
    if anything rewrote its environment."""
    venv_bin = Path(sys.executable).parent.resolve()
    path = [p for p in os.environ.get("PATH", "").split(os.pathsep)
            if p and Path(p).resolve() != venv_bin]
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env["PATH"] = os.pathsep.join(path)
    env.update(extra)
    return env


def run_like_an_ide(script: Path, *args: str, cwd: Path, timeout: float, **extra: str):
    """Run `script` with this venv's python by path in `ide_environment(**extra)`."""
    import subprocess

    return subprocess.run([sys.executable, str(script), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env=ide_environment(**extra))


@pytest.fixture(scope="session")
def readme_modules(tmp_path_factory) -> Path:
    """A folder holding the README's grid, matrix, particles and trades modules, built (cached)
    and named as `python -m bufferable build` names them."""
    from test_readme_example import build_readme_module

    folder = tmp_path_factory.mktemp("readme-modules")
    for marker in ("grid.mojo", "matrix.mojo", "particles.mojo", "trades.mojo"):
        build_readme_module(folder, _cache_dir(), marker)
    return folder
