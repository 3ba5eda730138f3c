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
