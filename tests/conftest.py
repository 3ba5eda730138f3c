"""Shared fixtures: every test must leave no bufferable.testing.Producer export unreleased; the
`torch` fixture; and which tests CI runs on every supported Python (the `every_python` marker)."""
import gc
import os
import sys
from pathlib import Path

import pytest

# Every Ray cluster a test starts (in this process or a child) listens on loopback only: on Linux
# Ray otherwise takes the machine's network address even for a cluster of one machine.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")

TESTS = Path(__file__).resolve().parent

#: CI runs the whole suite on one CPython (3.11) and, on every other supported one, the tests
#: marked `every_python` (`pytest -m every_python`): the core's tests (every file directly in
#: tests/, the demo at a small size included) and these Mojo tests.
EVERY_PYTHON_MOJO_TESTS = frozenset({
    "test_readme_example.py",   # the README's Mojo examples
    "test_records.py",          # records: format_of, Records, RecordView
    "test_mojo_tables.py",      # tables: Arrow exports of Mojo tables, TableView
    "test_mojo_interop.py",     # DLPack with numpy (torch where installed), Arrow interop
    "test_notebook.py",         # %%mojo cells and the docs notebook in a real kernel
})

#: The one CPython the test extra installs torch for (`torch==2.13.0; python_version == '3.11'`).
TORCH_PYTHON = (3, 11)
NO_TORCH_HERE = (
    "torch is installed by the test extra for CPython 3.11 only (the CPU build these machines carry; "
    f"on {sys.version_info.major}.{sys.version_info.minor} pip would download a CUDA build of several GB)"
)


def pytest_collection_modifyitems(config, items):
    every_python = pytest.mark.every_python
    for item in items:
        path = Path(str(item.path)).resolve()
        if path.parent == TESTS or (path.parent == TESTS / "mojo" and path.name in EVERY_PYTHON_MOJO_TESTS):
            item.add_marker(every_python)


@pytest.fixture(scope="session")
def torch():
    """The torch module. On a Python the test extra installs no torch for, the test skips saying
    why, as it does where $BUFFERABLE_TEST_NO_TORCH gives a reason (valgrind's run blocks torch);
    anywhere else a missing torch fails it (the test extra was not installed)."""
    if sys.version_info[:2] != TORCH_PYTHON:
        pytest.skip(NO_TORCH_HERE)
    if os.environ.get("BUFFERABLE_TEST_NO_TORCH"):
        pytest.skip(os.environ["BUFFERABLE_TEST_NO_TORCH"])
    import torch as module

    return module


@pytest.fixture(autouse=True)
def _producer_exports_balanced():
    """After each test, every Producer export made during it has been released exactly once.

    Producers count gets and releases in C++ (bufferable.testing.export_totals sums them over all
    Producers ever made), so a leaked or doubly released export in any test fails that test.
    """
    try:
        from bufferable.testing import export_totals
    except ImportError:  # the core is not built: nothing to check
        yield
        return
    gets0, releases0 = export_totals()
    yield
    gc.collect()
    gets, releases = export_totals()
    assert gets - gets0 == releases - releases0, (
        f"unbalanced Producer exports in this test: {gets - gets0} gets, "
        f"{releases - releases0} releases"
    )
