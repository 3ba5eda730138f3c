"""MemoryView constructors that take sizes or descriptors from their caller check them: full()
refuses a shape whose byte size overflows (it allocated 1 byte for [2**31, 2**33] and indexed past
it) or a negative extent, and MemoryView(unsafe_buffer=...) validates the descriptor exactly as the
core validates every export (NULL data with elements, a negative extent, device memory)."""
from __future__ import annotations

import pytest

from test_memory_view import mv  # noqa: F401  (the session's compiled module)


@pytest.mark.parametrize("rows,cols", [(2**31, 2**33), (2**60, 2), (2**62, 2**62), (-1, 3)])
def test_full_refuses_sizes_that_do_not_fit(mv, rows, cols):
    with pytest.raises(ValueError, match="too large|negative"):
        mv.full_2d(rows, cols, 0.0)


def test_full_of_an_empty_shape_with_a_huge_extent(mv):
    assert mv.full_2d(0, 2**50, 1.0).shape == (0, 2**50)


def test_unsafe_buffer_is_validated_like_an_export(mv):
    assert mv.unsafe_lie_1d(4, False, 1) == 4
    with pytest.raises(BufferError, match="NULL data"):
        mv.unsafe_lie_1d(4, True, 1)
    with pytest.raises(BufferError, match="negative shape"):
        mv.unsafe_lie_1d(-3, False, 1)
    with pytest.raises(BufferError, match=r"device \(2, 0\)"):
        mv.unsafe_lie_1d(4, False, 2)
    assert mv.unsafe_lie_1d(0, True, 1) == 0  # no element: no data needed


# 2**57 float64 elements: 2**60 bytes, which fits in an Int but in no address space (x86-64 and
# arm64 map at most 2**57 bytes), whatever the machine's overcommit policy. Mojo 1.2.0's own
# allocator aborts the process on such a request; MemoryView's memory must raise MemoryError. Each
# case runs in a child process, so a regression shows as a failed test, not a dead test run.
_TOO_BIG = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location({name!r}, {path!r})
mv = importlib.util.module_from_spec(spec); spec.loader.exec_module(mv)
from bufferable.testing import Producer
try:
    {call}
except MemoryError as e:
    print("MemoryError:", e)
"""


@pytest.mark.parametrize("call", [
    "mv.full_2d(2**30, 2**27, 0.0)",
    # a view whose zero strides describe 2**57 elements over one 8-byte item, copied
    "mv.copy_2d(Producer.lying((2**30, 2**27), 'd', strides=(0, 0), nbytes=8))",
])
def test_an_allocation_that_cannot_be_satisfied_is_a_memory_error(mv, call):
    import subprocess
    import sys

    code = _TOO_BIG.format(name=mv.__name__, path=mv.__file__, call=call)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.startswith("MemoryError: cannot allocate"), (run.stdout, run.stderr[-2000:])
