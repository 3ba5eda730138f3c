"""A user's build shows no warning from bufferable's own sources: the README's Mojo examples and
the demo's ray tracer compile without a single warning (Mojo 1.2.0 deprecated `__del__` and
`alloc` without a `Layout`, which the package once used: every user's build printed them, before
the user's own error when there was one)."""

from __future__ import annotations

import re
import subprocess

import pytest

from bufferable.build import compiler_environment, extension_suffix, find_mojo, mojo_path
from bufferable.demo.build import EXTENSION_ROOT, MOJO_SOURCE_DIR
from test_readme_example import readme_block

README_MOJO_BLOCKS = ["grid.mojo", "particles.mojo", "trades.mojo", "matrix.mojo"]


def compiler_output(source, output, *include) -> str:
    """What `mojo build` prints for `source` with the package (and `include`) on the path."""
    flags = [arg for d in (mojo_path(), *include) for arg in ("-I", str(d))]
    run = subprocess.run([find_mojo(), "build", *flags, str(source), "--emit", "shared-lib",
                          "-o", str(output)], capture_output=True, text=True, timeout=600,
                         env=compiler_environment())
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout + run.stderr


def warnings_in(text: str) -> list[str]:
    return [line for line in text.splitlines() if re.search(r"\bwarning:", line)]


@pytest.mark.parametrize("marker", README_MOJO_BLOCKS)
def test_the_readme_examples_build_without_a_warning(tmp_path, marker):
    source = tmp_path / marker
    source.write_text(readme_block(marker))
    output = compiler_output(source, tmp_path / f"{source.stem}{extension_suffix()}")
    assert warnings_in(output) == []


def test_the_demo_builds_without_a_warning(tmp_path):
    output = compiler_output(EXTENSION_ROOT, tmp_path / f"{EXTENSION_ROOT.stem}{extension_suffix()}",
                             MOJO_SOURCE_DIR)
    assert warnings_in(output) == []
