"""Fixtures of the Mojo tests: every Mojo test module lives in tests/mojo/modules and is compiled
once per session (several seconds each) with bufferable's own build tooling, into a cache keyed by
a hash of the files that build reads (so an unchanged module reuses the previous session's build,
and an edit of one module rebuilds that module alone), and imported from there."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
#: The folder of every Mojo test module.
MODULES = HERE / "modules"


def _cache_dir() -> Path:
    explicit = os.environ.get("BUFFERABLE_TEST_CACHE")
    if explicit:
        return Path(explicit)
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    return Path(tempfile.gettempdir()) / f"bufferable-mojo-tests-{uid}"


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
