"""Which bufferable the suite tests: the installed distribution, never the source tree.

Every run checks that ``bufferable`` and its core are files of the installed distribution (listed,
with matching hashes, in its RECORD), not ``python/bufferable`` of this checkout. When CI runs the
suite against a built wheel it names that wheel in ``BUFFERABLE_TEST_WHEEL``; the wheel test then
checks that the installed distribution came from exactly that file (pip's ``direct_url.json``
records its hash), that it is a repaired manylinux wheel, and that it carries the core's stubs,
``py.typed``, the C header and the Mojo package.
"""
from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import json
import os
import zipfile
from pathlib import Path

import pytest

import bufferable
import bufferable._core

SOURCE_PACKAGE = Path(__file__).resolve().parents[1] / "python" / "bufferable"
WHEEL = os.environ.get("BUFFERABLE_TEST_WHEEL")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _record_hashes() -> dict[Path, str]:
    """Installed path -> hex sha256, from the installed distribution's RECORD."""
    dist = importlib.metadata.distribution("bufferable")
    hashes = {}
    for file in dist.files or ():
        if file.hash is not None and file.hash.mode == "sha256":
            digest = base64.urlsafe_b64decode(file.hash.value + "=" * (-len(file.hash.value) % 4))
            hashes[Path(dist.locate_file(file)).resolve()] = digest.hex()
    return hashes


def test_imports_the_installed_distribution_not_the_source_tree():
    hashes = _record_hashes()
    for module in (bufferable, bufferable._core):
        path = Path(module.__file__).resolve()
        assert not path.is_relative_to(SOURCE_PACKAGE), (
            f"{module.__name__} was imported from the source tree ({path}), not the installed package"
        )
        assert path in hashes, f"{path} is not a file of the installed bufferable distribution"
        assert hashes[path] == _sha256(path), f"{path} differs from what was installed"


@pytest.mark.skipif(WHEEL is None, reason="BUFFERABLE_TEST_WHEEL is set only when CI tests a built wheel")
def test_installed_from_the_built_wheel():
    wheel = Path(WHEEL).resolve()
    dist = importlib.metadata.distribution("bufferable")
    direct_url = json.loads(dist.read_text("direct_url.json") or "{}")
    assert direct_url.get("url") == wheel.as_uri(), f"installed from {direct_url}, not from {wheel}"
    assert direct_url["archive_info"]["hashes"]["sha256"] == _sha256(wheel), (
        f"the installed distribution is not the current {wheel.name}"
    )

    tags = [line.split(":", 1)[1].strip() for line in (dist.read_text("WHEEL") or "").splitlines()
            if line.startswith("Tag:")]
    assert tags and all("manylinux" in tag for tag in tags), f"not a repaired manylinux wheel: {tags}"

    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    core = Path(bufferable._core.__file__).name
    for shipped in (f"bufferable/{core}", "bufferable/py.typed", "bufferable/include/bufferable/bufferable.h",
                    "bufferable/mojo/bufferable/__init__.mojo"):
        assert shipped in names, f"{wheel.name} lacks {shipped}"
    assert any(name.startswith("bufferable/_core") and name.endswith(".pyi") for name in names), (
        f"{wheel.name} lacks the core's type stubs"
    )
    assert Path(bufferable.mojo_path()).resolve() == (Path(bufferable.__file__).parent / "mojo").resolve()
