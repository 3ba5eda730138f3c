"""The README's worked example is real: build its Mojo block, run its Python block, and check that
every `print(...)  # expected` line prints what its comment says."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from bufferable.build import cached_build, compiler_environment, extension_suffix

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_block(marker: str) -> str:
    """The fenced code block that follows `<!-- readme-example: {marker}` in the README."""
    text = README.read_text()
    match = re.search(re.escape(f"<!-- readme-example: {marker}") + r".*?\n```\w*\n(.*?)\n```",
                      text, re.S)
    assert match, f"README.md has no example block marked {marker!r}"
    return match.group(1)


def build_readme_module(folder: Path, cache_dir: Path, mojo_marker: str) -> Path:
    """Build the README's Mojo block `mojo_marker` (cached in `cache_dir`) into `folder` as
    `<stem><EXT_SUFFIX>`, where `python -m bufferable build` leaves it; returns that path."""
    source = folder / mojo_marker
    source.write_text(readme_block(mojo_marker))
    target = folder / f"{source.stem}{extension_suffix()}"
    shutil.copy(cached_build(source, cache_dir), target)
    return target


def run_readme_example(tmp_path, cache_dir, mojo_markers: str | tuple[str, ...],
                       python_marker: str, *, comment_ends_at_colon: bool = False) -> None:
    """Build the README's Mojo blocks `mojo_markers` (cached in `cache_dir`), run its Python block
    `python_marker` beside them, and check that each `print(...)  # expected` line printed what
    its comment says (only up to a ':' when `comment_ends_at_colon`: the rest is prose)."""
    for marker in (mojo_markers,) if isinstance(mojo_markers, str) else mojo_markers:
        build_readme_module(tmp_path, cache_dir, marker)
    script = tmp_path / python_marker
    script.write_text(readme_block(python_marker))

    run = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                         text=True, env=compiler_environment(), timeout=120)
    assert run.returncode == 0, run.stderr
    expected = []
    for line in script.read_text().splitlines():
        if line.lstrip().startswith("print(") and "#" in line:
            comment = line.split("#", 1)[1]
            expected.append((comment.split(":")[0] if comment_ends_at_colon else comment).strip())
    assert run.stdout.splitlines() == expected


def test_readme_example(tmp_path, mojo_cache_dir):
    run_readme_example(tmp_path, mojo_cache_dir, "grid.mojo", "use.py", comment_ends_at_colon=True)


def test_readme_records_example(tmp_path, mojo_cache_dir):
    run_readme_example(tmp_path, mojo_cache_dir, "particles.mojo", "use_particles.py")


def test_readme_tables_example(tmp_path, mojo_cache_dir):
    run_readme_example(tmp_path, mojo_cache_dir, "trades.mojo", "use_trades.py")


def test_readme_pickling_example(tmp_path, mojo_cache_dir):
    run_readme_example(tmp_path, mojo_cache_dir, ("grid.mojo", "matrix.mojo"), "use_matrix.py")


def test_readme_from_buffer_errors_keep_their_class(tmp_path, mojo_cache_dir):
    """What a bad payload does to the README Matrix's `__from_buffer__` (bound with py_method)."""
    build_readme_module(tmp_path, mojo_cache_dir, "matrix.mojo")
    script = tmp_path / "bad_payloads.py"
    script.write_text(
        "import numpy as np, matrix\n"
        "from bufferable.exports import rebuild\n"
        "for bad in (np.zeros(3), np.zeros((2, 2), np.float32), 'x'):\n"
        "    try:\n"
        "        rebuild(matrix.Matrix, bad)\n"
        "    except Exception as error:\n"
        "        print(type(error).__name__)\n")
    run = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                         text=True, env=compiler_environment(), timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["ValueError", "ValueError", "TypeError"]
