"""Shared fixtures: every test must leave no bufferable.testing.Producer export unreleased."""
import gc
import os

import pytest

# Every Ray cluster a test starts (in this process or a child) listens on loopback only: on Linux
# Ray otherwise takes the machine's network address even for a cluster of one machine.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")


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
