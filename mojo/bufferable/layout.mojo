"""`MemoryLayout`, the memory order a `MemoryView` demands at compile time,
and the geometry of strided arrays behind it: the contiguity tests, C-order
strides, slicing one axis, and shapes written for messages."""

from .errors import value_error


@fieldwise_init
struct MemoryLayout(
    Equatable, ImplicitlyCopyable, TrivialRegisterPassable, Writable
):
    """The memory order a `MemoryView` demands of its buffer, fixed at compile
    time as Cython's `double[:, ::1]` (C order) or `double[::1, :]` (Fortran
    order) fix it.

    - `STRIDED`: any strides (negative, zero, sliced); the default.
    - `C_CONTIGUOUS`: row-major with no gaps: the last axis has unit stride,
      so inner loops over it can use SIMD loads without a runtime check.
    - `F_CONTIGUOUS`: column-major with no gaps: the first axis has unit
      stride.

    A view that demands C or F order refuses, with BufferError, a buffer laid
    out otherwise.
    """

    var value: Int
    """0: strided, 1: C-contiguous, 2: F-contiguous."""

    comptime STRIDED = MemoryLayout(0)
    """Any strides."""
    comptime C_CONTIGUOUS = MemoryLayout(1)
    """Row-major, no gaps (the last axis has unit stride)."""
    comptime F_CONTIGUOUS = MemoryLayout(2)
    """Column-major, no gaps (the first axis has unit stride)."""

    @always_inline
    def __eq__(self, other: Self) -> Bool:
        """Compares two layouts.

        Args:
            other: The layout to compare with.

        Returns:
            True if both are the same layout.
        """
        return self.value == other.value

    @always_inline
    def transposed(self) -> MemoryLayout:
        """Returns the layout of the transpose of a view with this layout.

        Returns:
            F for C, C for F, STRIDED for STRIDED.
        """
        if self.value == 1:
            return MemoryLayout.F_CONTIGUOUS
        if self.value == 2:
            return MemoryLayout.C_CONTIGUOUS
        return MemoryLayout.STRIDED

    def name(self) -> StaticString:
        """Returns the layout's name as spelled in code.

        Returns:
            "STRIDED", "C_CONTIGUOUS" or "F_CONTIGUOUS".
        """
        if self.value == 1:
            return "C_CONTIGUOUS"
        if self.value == 2:
            return "F_CONTIGUOUS"
        return "STRIDED"

    def write_to(self, mut writer: Some[Writer]):
        """Writes the layout's name.

        Args:
            writer: Where to write.
        """
        writer.write(self.name())


def is_c_contiguous[
    rank: Int
](
    shape: Array[Int, rank], strides: Array[Int, rank], itemsize: Int
) -> Bool:
    """Tells whether an array is row-major with no gaps, by CPython's rule
    (`PyBuffer_IsContiguous(view, 'C')`): extents of 1 may have any stride,
    and an array with no elements is contiguous.

    Parameters:
        rank: The number of dimensions.

    Args:
        shape: The extents.
        strides: The strides, in bytes.
        itemsize: The size of one element, in bytes.

    Returns:
        True if element (i0, ..., in) sits at byte offset
        (i0 * (shape[1] * ... * shape[n]) + ... + in) * itemsize.
    """
    return _is_contiguous[rank, fortran=False](shape, strides, itemsize)


def is_f_contiguous[
    rank: Int
](
    shape: Array[Int, rank], strides: Array[Int, rank], itemsize: Int
) -> Bool:
    """Tells whether an array is column-major with no gaps, by CPython's rule
    (`PyBuffer_IsContiguous(view, 'F')`).

    Parameters:
        rank: The number of dimensions.

    Args:
        shape: The extents.
        strides: The strides, in bytes.
        itemsize: The size of one element, in bytes.

    Returns:
        True if element (i0, ..., in) sits at byte offset
        (i0 + i1 * shape[0] + ... + in * (shape[0] * ... * shape[n-1]))
        * itemsize.
    """
    return _is_contiguous[rank, fortran=True](shape, strides, itemsize)


def _is_contiguous[
    rank: Int, *, fortran: Bool
](shape: Array[Int, rank], strides: Array[Int, rank], itemsize: Int) -> Bool:
    """CPython's contiguity rule, axes taken from the last (C) or the first
    (Fortran) outwards."""
    comptime for d in range(rank):
        if shape[d] == 0:
            return True
    var expected = itemsize
    comptime for k in range(rank):
        comptime d = k if fortran else rank - 1 - k
        if shape[d] != 1:
            if strides[d] != expected:
                return False
            expected *= shape[d]
    return True


def slice_axis(
    s: Slice, mut extent: Int, mut stride: Int
) raises -> Int:
    """Applies one slice to one axis with Python's rules (`start:stop:step`,
    negative values counting from the end, clamped).

    Args:
        s: The slice.
        extent: The axis' extent; becomes the number of selected elements.
        stride: The axis' stride; becomes the stride times the slice's step.

    Returns:
        The offset, in strides of the original axis times their count, of
        the first selected element (0 when none is selected).

    Raises:
        ValueError if the step is zero.
    """
    if s.step and s.step.value() == 0:
        raise value_error("slice step cannot be zero")
    var bounds = s.indices(extent)
    var start = bounds[0]
    var end = bounds[1]
    var step = bounds[2]
    var count = 0
    if step > 0 and end > start:
        count = (end - start + step - 1) // step
    elif step < 0 and start > end:
        count = (start - end - step - 1) // (-step)
    var offset = start * stride if count > 0 else 0
    extent = count
    stride *= step
    return offset


def c_strides[
    rank: Int
](shape: Array[Int, rank], itemsize: Int) -> Array[Int, rank]:
    """Returns the byte strides of a C-contiguous (row-major) array.

    Parameters:
        rank: The number of dimensions.

    Args:
        shape: The extents.
        itemsize: The size of one element, in bytes.

    Returns:
        The strides, in bytes: `itemsize` for the last axis, then each axis
        the product of `itemsize` and the extents after it.
    """
    var strides = Array[Int, rank](fill=0)
    var step = itemsize
    comptime for k in range(rank):
        comptime d = rank - 1 - k
        strides[d] = step
        step *= shape[d]
    return strides^


def shape_text[rank: Int](values: Array[Int, rank]) -> String:
    """Writes extents or strides as Python writes a tuple, for messages.

    Parameters:
        rank: The number of values.

    Args:
        values: The values.

    Returns:
        `(a, b)`, or `(a,)` for one value.
    """
    var s = String("(")
    comptime for d in range(rank):
        comptime if d > 0:
            s += ", "
        s += String(values[d])
    comptime if rank == 1:
        s += ","
    s += ")"
    return s^
