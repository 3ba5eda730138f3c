"""The peers' extension modules (benchmarks/peers/): built once with the C/C++ compiler, cached, imported.

The peers are what a Mojo or C++ author would otherwise write by hand: a Cython ``cdef class`` with
``__getbuffer__`` and Cython typed-memoryview functions (``peer_cython.pyx``), a nanobind class with
a ``bf_getbuffer`` slot and ``nb::ndarray`` returns (``peer_nanobind.cpp``), a pybind11
``def_buffer`` class (``peer_pybind11.cpp``). Their build dependencies are the ``bench`` extra
(cython, nanobind, pybind11) and the C/C++ compiler that builds bufferable's core.

Every peer is compiled with the same flags (:data:`CFLAGS`: ``-O3 -march=native``, as Mojo targets
the host CPU) straight into the benchmarks' cache directory (``mojo_modules.cache_dir()/peers``),
keyed by a hash of the sources, the flags, the compiler and the tools' versions; nothing is
written into the repository. :func:`load` builds what is missing (the three peers in parallel)
and imports each module once per process.
"""
from __future__ import annotations

import concurrent.futures
import functools
import hashlib
import importlib.machinery
import importlib.util
import json
import os
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from types import ModuleType

import mojo_modules

SOURCES = Path(__file__).resolve().parent / "peers"
#: Compiler flags of every peer (C and C++ alike), before the include paths.
CFLAGS = ["-O3", "-march=native", "-DNDEBUG", "-fPIC", "-fvisibility=hidden", "-fno-strict-aliasing"]
CXXFLAGS = ["-std=c++17"]
#: Module name -> its source under benchmarks/peers/.
PEERS = {"peer_cython": "peer_cython.pyx", "peer_nanobind": "peer_nanobind.cpp", "peer_pybind11": "peer_pybind11.cpp"}

#: Seconds each build of this process took, by module name (absent: it was cached).
BUILD_SECONDS: dict[str, float] = {}

__all__ = ["BUILD_SECONDS", "CFLAGS", "PEERS", "build_all", "load", "load_all", "versions"]


def _compilers() -> tuple[str, str]:
    """The C and C++ compilers: $CC / $CXX, else cc / c++."""
    return os.environ.get("CC", "cc"), os.environ.get("CXX", "c++")


def _compiler_version(compiler: str) -> str:
    try:
        done = subprocess.run([compiler, "--version"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as error:
        raise RuntimeError(f"the benchmark peers need a C/C++ compiler: {compiler!r} does not run "
                           f"({error}); set CC and CXX") from error
    return done.stdout.split("\n")[0]


@functools.lru_cache(maxsize=None)
def versions() -> dict:
    """The peers' tools, compilers and flags (recorded with the results, and part of the cache
    key: any change rebuilds the peers)."""
    import Cython
    import nanobind
    import pybind11

    cc, cxx = _compilers()
    return {"cython": Cython.__version__, "nanobind": nanobind.__version__, "pybind11": pybind11.__version__,
            "cc": _compiler_version(cc), "cxx": _compiler_version(cxx), "cflags": CFLAGS, "cxxflags": CXXFLAGS}


def _key(name: str) -> str:
    h = hashlib.sha256()
    h.update((SOURCES / PEERS[name]).read_bytes())
    h.update(json.dumps(versions(), sort_keys=True).encode())
    h.update(sys.version.encode())
    return h.hexdigest()[:16]


def _run(cmd: list[str], cwd: Path) -> None:
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"building a benchmark peer failed: {' '.join(cmd)}\n{done.stdout}{done.stderr}")


def _compile(name: str, work: Path, out: Path) -> None:
    """Compiles peer ``name`` in the scratch directory ``work`` into the extension ``out``."""
    cc, cxx = _compilers()
    python_include = ["-I", sysconfig.get_paths()["include"]]
    link = ["-shared"]
    source = SOURCES / PEERS[name]
    if name == "peer_cython":
        c_file = work / f"{name}.c"
        _run([sys.executable, "-m", "cython", "-3", "--module-name", name, str(source), "-o", str(c_file)], work)
        _run([cc, *CFLAGS, *python_include, str(c_file), *link, "-o", str(out)], work)
    elif name == "peer_nanobind":
        import nanobind

        nb = Path(nanobind.include_dir()).parent
        includes = [*python_include, "-I", str(nb / "include"), "-I", str(nb / "ext" / "robin_map" / "include")]
        flags = [*CFLAGS, *CXXFLAGS, "-DNB_COMPACT_ASSERTIONS", *includes]
        library = work / "nb_combined.o"
        _run([cxx, *flags, "-DNB_BUILD", "-c", str(nb / "src" / "nb_combined.cpp"), "-o", str(library)], work)
        _run([cxx, *flags, str(source), str(library), *link, "-o", str(out)], work)
    elif name == "peer_pybind11":
        import pybind11

        _run([cxx, *CFLAGS, *CXXFLAGS, *python_include, "-I", pybind11.get_include(), str(source), *link,
              "-o", str(out)], work)
    else:
        raise ValueError(f"no benchmark peer named {name!r}")


def _path(name: str) -> Path:
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    return mojo_modules.cache_dir() / "peers" / f"{name}.{_key(name)}{suffix}"


def _build(name: str) -> Path:
    """The cached extension of peer ``name``, compiled first if it is not there."""
    path = _path(name)
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"{name}-", dir=path.parent) as work:
        scratch = Path(work) / path.name
        _compile(name, Path(work), scratch)
        os.replace(scratch, path)  # atomic: a concurrent run sees the whole file or none
    BUILD_SECONDS[name] = time.perf_counter() - start
    for stale in path.parent.glob(f"{name}.*{path.suffix}"):  # builds of older sources or tools
        if stale != path:
            stale.unlink(missing_ok=True)
    return path


def build_all(jobs: int = 2) -> None:
    """Builds every peer not cached yet, ``jobs`` compilers at a time."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        for future in [pool.submit(_build, name) for name in PEERS]:
            future.result()


def load(name: str) -> ModuleType:
    """Builds peer ``name`` if needed and imports it (once per process)."""
    if name in sys.modules:
        return sys.modules[name]
    path = _build(name)
    loader = importlib.machinery.ExtensionFileLoader(name, str(path))
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    sys.modules[name] = module
    return module


def load_all() -> dict[str, ModuleType]:
    """Every peer, by module name (built in parallel first if needed)."""
    build_all()
    return {name: load(name) for name in PEERS}


if __name__ == "__main__":
    for name, module in load_all().items():
        print(name, module.__file__, f"built in {BUILD_SECONDS[name]:.0f} s" if name in BUILD_SECONDS else "cached")
