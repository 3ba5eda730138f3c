"""The private Mojo stdlib names bufferable relies on (mojo/bufferable/_private.mojo) still exist
and still behave as bufferable assumes; and the installed Mojo is the pinned one.

If this file fails after a Mojo upgrade: re-verify every name listed in _private.mojo against the
new standard library, adapt _private.mojo (only there), then update the pin in pyproject.toml,
bufferable/build.py (MOJO_VERSION) and _private.mojo (MOJO_VERSION)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import HERE, MODULES, load_mojo_module

REPO = HERE.parent.parent


@pytest.fixture(scope="module")
def bfprivate():
    return load_mojo_module(MODULES / "bfprivate.mojo")


def test_installed_mojo_is_the_pinned_version(mojo_compiler):
    from bufferable.build import MOJO_VERSION, compiler_environment

    mojo = mojo_compiler
    done = subprocess.run(
        [mojo, "--version"], capture_output=True, text=True, env=compiler_environment()
    )
    out = done.stdout + done.stderr
    found = re.search(r"Mojo (\d+\.\d+\.\d+)", out)
    assert found, f"cannot parse `mojo --version`: {out!r}"
    assert found.group(1) == MOJO_VERSION, (
        f"installed Mojo {found.group(1)} but bufferable's private stdlib use was verified for "
        f"Mojo {MOJO_VERSION}: re-verify mojo/bufferable/_private.mojo before moving the pin"
    )
    pyproject = REPO / "pyproject.toml"
    if pyproject.is_file():
        assert f'"mojo=={MOJO_VERSION}"' in pyproject.read_text(), "pyproject's mojo pin moved"


def test_private_module_declares_the_verified_version(bfprivate):
    from bufferable.build import MOJO_VERSION

    assert bfprivate.version() == MOJO_VERSION


def test_get_global_creates_once(bfprivate):
    assert bfprivate.global_checks() == (True, 1)
    assert bfprivate.global_checks() == (True, 1)


def test_static_word_is_one_persistent_variable(bfprivate):
    # zero-initialized, one address for every caller, and a write persists across calls
    assert bfprivate.static_word_checks(1234) == (0, True, 1234)
    assert bfprivate.static_word_checks(-5) == (1234, True, -5)


def test_object_addresses(bfprivate):
    obj = object()
    address, same, null = bfprivate.address_checks(obj)
    assert address == id(obj) and same is True and null == 0


def test_mojo_object_layout(bfprivate):
    p = bfprivate.Probe(1234)
    offset, tag, initialized = bfprivate.layout_checks(p)
    assert offset == 16, "PyMojoObject no longer stores the value right after the PyObject header"
    assert (tag, initialized) == (1234, True)


def test_insert_slot_installs_a_raw_slot(bfprivate):
    assert len(bfprivate.Probe(77)) == 77
    # an instance whose __init__ never ran reads as uninitialized through the layout
    assert len(bfprivate.Probe.__new__(bfprivate.Probe)) == 0


def test_fixed_dealloc_and_module_name(bfprivate):
    t = bfprivate.Probe
    assert t.__module__ == "bfprivate" and t.__name__ == "Probe"
    for _ in range(100):
        bfprivate.Probe(1)
    before = sys.getrefcount(t)
    for _ in range(1000):
        bfprivate.Probe(1)
    assert sys.getrefcount(t) == before


def test_type_word_is_one_variable_per_type(bfprivate):
    assert bfprivate.type_word_checks(77) == (0, 77, 0, True)
    assert bfprivate.type_word_checks(-3) == (77, -3, 0, True)


def test_slot_function_reads_an_installed_slot(bfprivate):
    assert bfprivate.slot_function_checks() == (True, 0)


def test_function_word_is_one_variable_per_function(bfprivate):
    assert bfprivate.function_word_checks(41) == (0, 41, 0, True)
    assert bfprivate.function_word_checks(-2) == (41, -2, 0, True)


def test_functions_are_called_with_arguments_read_in_place(bfprivate):
    # _call_with_dynamic_pack_pointers and _create_dynamic_pack (the typed bindings' call)
    assert bfprivate.pack_checks() == ("7|2.5|c", 8, 8)


def test_method_flags_set_the_calling_convention(bfprivate):
    marker = object()
    assert bfprivate.one_argument(marker) is marker  # METH_O: the argument, not a tuple
    assert bfprivate.Probe(1).one_argument(marker) is marker
    with pytest.raises(TypeError, match="exactly one argument"):
        bfprivate.one_argument(1, 2)
