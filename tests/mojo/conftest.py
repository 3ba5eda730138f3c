"""Fixtures of the Mojo tests: the test modules under tests/mojo/modules are compiled once per
session (several seconds each) with bufferable's own build tooling, into a cache keyed by a content
hash (so an unchanged checkout reuses the previous session's build), and imported from there."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
import tempfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
MODULES = HERE / "modules"


def _cache_dir() -> Path:
    explicit = os.environ.get("BUFFERABLE_TEST_CACHE")
    if explicit:
        return Path(explicit)
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    return Path(tempfile.gettempdir()) / f"bufferable-mojo-tests-{uid}"


def _require_mojo() -> None:
    from bufferable.build import find_mojo

    try:
        find_mojo()
    except FileNotFoundError as error:
        pytest.skip(f"no Mojo compiler: {error}")


def load_mojo_module(source: Path):
    """Build `source` (cached) and import it under its stem."""
    _require_mojo()
    from bufferable.build import cached_build

    name = source.stem
    if name in sys.modules:
        return sys.modules[name]
    path = cached_build(source, _cache_dir())
    loader = importlib.machinery.ExtensionFileLoader(name, str(path))
    spec = importlib.util.spec_from_file_location(name, str(path), loader=loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    sys.modules[name] = module
    return module


@pytest.fixture(scope="session")
def bftest():
    """The module of test producers (tests/mojo/modules/bftest.mojo)."""
    return load_mojo_module(MODULES / "bftest.mojo")


@pytest.fixture(scope="session")
def mojo_cache_dir() -> Path:
    return _cache_dir()
