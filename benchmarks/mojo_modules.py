"""The Mojo extension modules the benchmarks time, compiled once and reused.

Every module is built with :func:`bufferable.build.cached_build` into the user's cache directory
(``bufferable.build.user_cache_dir("bench")``, the convention of the demo and the importer),
keyed by a hash of its sources, the bufferable Mojo package and the compiler, so an unchanged
checkout never compiles twice. :func:`load` imports a module at most once per process
(Mojo refuses to bind the same type twice in one process) and records how long a build took.
"""
from __future__ import annotations

import concurrent.futures
import sys
import time
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parent.parent
#: tests/mojo/modules/bftest.mojo: the test producers (``Float64`` is a 1-D float64 Bufferable).
BFTEST = REPO / "tests" / "mojo" / "modules" / "bftest.mojo"
#: tests/mojo/modules/memory_view_module.mojo: MemoryView sums and acquisitions.
MEMORY_VIEW = REPO / "tests" / "mojo" / "modules" / "memory_view_module.mojo"

#: Seconds each build of this process took, by module name (absent: it was cached).
BUILD_SECONDS: dict[str, float] = {}

__all__ = ["BFTEST", "BUILD_SECONDS", "MEMORY_VIEW", "build_all", "cache_dir", "load"]


def cache_dir() -> Path:
    """Where the benchmarks' builds are kept: :func:`bufferable.build.user_cache_dir` ("bench")."""
    from bufferable.build import user_cache_dir

    return user_cache_dir("bench")


def _build(source: Path) -> Path:
    from bufferable.build import cached_build

    directory = cache_dir()
    before = set(directory.glob(f"{source.stem}.*")) if directory.is_dir() else set()
    start = time.perf_counter()
    path = cached_build(source, directory)
    if path not in before:
        BUILD_SECONDS[source.stem] = time.perf_counter() - start
    return path


def build_all(sources: list[Path], jobs: int = 2) -> None:
    """Builds every source not cached yet, ``jobs`` compilers at a time (each compiler is a
    separate process, so the builds overlap)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        for future in [pool.submit(_build, source) for source in sources]:
            future.result()


def load(source: Path) -> ModuleType:
    """Builds ``source`` if needed and imports it under its stem (once per process)."""
    from bufferable.build import load_extension

    if source.stem in sys.modules:
        return sys.modules[source.stem]
    return load_extension(_build(source), source.stem)
