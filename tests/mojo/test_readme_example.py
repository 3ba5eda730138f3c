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


def test_readme_example(tmp_path, mojo_cache_dir):
    source = tmp_path / "grid.mojo"
    source.write_text(readme_block("grid.mojo"))
    script = tmp_path / "use.py"
    script.write_text(readme_block("use.py"))
    built = cached_build(source, mojo_cache_dir)
    shutil.copy(built, tmp_path / f"grid{extension_suffix()}")

    run = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                         text=True, env=compiler_environment(), timeout=120)
    assert run.returncode == 0, run.stderr
    expected = [line.split("#", 1)[1].split(":")[0].strip()
                for line in script.read_text().splitlines()
                if line.startswith("print(") and "#" in line]
    assert run.stdout.splitlines() == expected


def test_readme_records_example(tmp_path, mojo_cache_dir):
    source = tmp_path / "particles.mojo"
    source.write_text(readme_block("particles.mojo"))
    script = tmp_path / "use_particles.py"
    script.write_text(readme_block("use_particles.py"))
    built = cached_build(source, mojo_cache_dir)
    shutil.copy(built, tmp_path / f"particles{extension_suffix()}")

    run = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                         text=True, env=compiler_environment(), timeout=120)
    assert run.returncode == 0, run.stderr
    expected = [line.split("#", 1)[1].strip()
                for line in script.read_text().splitlines()
                if line.lstrip().startswith("print(") and "#" in line]
    assert run.stdout.splitlines() == expected


def test_readme_tables_example(tmp_path, mojo_cache_dir):
    source = tmp_path / "trades.mojo"
    source.write_text(readme_block("trades.mojo"))
    script = tmp_path / "use_trades.py"
    script.write_text(readme_block("use_trades.py"))
    built = cached_build(source, mojo_cache_dir)
    shutil.copy(built, tmp_path / f"trades{extension_suffix()}")

    run = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                         text=True, env=compiler_environment(), timeout=120)
    assert run.returncode == 0, run.stderr
    expected = [line.split("#", 1)[1].strip()
                for line in script.read_text().splitlines()
                if line.lstrip().startswith("print(") and "#" in line]
    assert run.stdout.splitlines() == expected
