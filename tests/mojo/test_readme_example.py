"""The README's worked example is real: build its Mojo block, run its Python block, and check that
every `print(...)  # expected` line prints what its comment says."""
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


def run_readme_example(tmp_path, cache_dir, mojo_marker: str, python_marker: str, *,
                       comment_ends_at_colon: bool = False) -> None:
    """Build the README's Mojo block `mojo_marker` (cached in `cache_dir`), run its Python block
    `python_marker` beside it, and check that each `print(...)  # expected` line printed what its
    comment says (only up to a ':' when `comment_ends_at_colon`: the rest is prose)."""
    source = tmp_path / mojo_marker
    source.write_text(readme_block(mojo_marker))
    script = tmp_path / python_marker
    script.write_text(readme_block(python_marker))
    built = cached_build(source, cache_dir)
    shutil.copy(built, tmp_path / f"{source.stem}{extension_suffix()}")

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
