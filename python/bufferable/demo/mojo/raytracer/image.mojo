"""The rendered image: float32 RGB pixels, one 16-byte SIMD vector each.

The fourth lane of every pixel is padding, so a pixel is loaded and stored as
one `SIMD[DType.float32, 4]`. Python sees the same memory as a float32 array of
shape (H, W, 3) with byte strides (16 * W, 16, 4): the padding lane is simply
skipped by the strides, and nothing is repacked on the way out.
"""

from std.memory.alloc import ManagedAllocation, Layout, alloc
from std.python import Python, PythonObject

from bufferable import (
    Buffer,
    BufferFlags,
    Bufferable,
    ExportCounter,
    index_error,
    value_error,
)

from .vector import Vec3

comptime Pixel = SIMD[DType.float32, 4]
"""One pixel: R, G, B in lanes 0-2, lane 3 unused (zero)."""

comptime PIXEL_BYTES = 16
"""Size of a `Pixel` in bytes: the column stride of the exported array."""

comptime CHANNEL_BYTES = 4
"""Size of one float32 channel: the channel stride of the exported array."""

comptime MAX_SIDE = 16384
"""The largest width or height an image may have."""

comptime MAX_PIXELS = 1 << 26
"""The largest number of pixels an image may have (1 GiB of pixels)."""


def check_image_size(height: Int, width: Int) raises:
    """Refuses sizes the demo cannot allocate sensibly.

    Args:
        height: Requested number of rows.
        width: Requested number of columns.

    Raises:
        ValueError if either side is below 1 or above
        `MAX_SIDE`, or the image would have more than `MAX_PIXELS` pixels.
    """
    if height < 1 or width < 1:
        raise value_error(
            String(
                "width and height must be at least 1, got ", width, "x", height
            )
        )
    if height > MAX_SIDE or width > MAX_SIDE or height * width > MAX_PIXELS:
        raise value_error(
            String(
                "a ", width, "x", height, " image is too large (at most ",
                MAX_SIDE, " pixels a side and ", MAX_PIXELS, " pixels)",
            )
        )


struct Image(Bufferable, Movable, Writable):
    """A height x width float32 RGB image on the heap, row-major.

    `shape` and `strides` describe the memory exactly as a buffer export
    reports it (shape (H, W, 3), byte strides (16 * W, 16, 4)); they live in
    the image, so they stay valid for as long as the image does. Bound as a
    Python type with `add_buffer_protocol`, the image is what `numpy.asarray`
    returns a view of: no pixel is copied or repacked on the way out. The
    pixel memory is allocated once and never moved or freed before the image
    itself, so an export never needs to lock anything; `exports` counts them.
    """

    var height: Int
    """Number of rows."""
    var width: Int
    """Number of columns."""
    var pixels: ManagedAllocation[Pixel]
    """height * width pixels, row after row."""
    var shape: Array[Int64, 3]
    """(height, width, 3): the exported shape."""
    var strides: Array[Int64, 3]
    """(16 * width, 16, 4): the exported byte strides."""
    var exports: ExportCounter
    """Buffer exports made, released and live."""

    def __init__(out self, height: Int, width: Int):
        """Allocates a black image.

        Args:
            height: Number of rows (1 to `MAX_SIDE`; see `check_image_size`,
                which callers taking sizes from users run first).
            width: Number of columns (1 to `MAX_SIDE`).
        """
        self.height = height
        self.width = width
        self.pixels = alloc(Layout[Pixel](count=height * width)).into_managed()
        self.shape = [Int64(height), Int64(width), 3]
        self.strides = [
            Int64(PIXEL_BYTES * width),
            Int64(PIXEL_BYTES),
            Int64(CHANNEL_BYTES),
        ]
        self.exports = ExportCounter()
        var first = self.unsafe_pixel_pointer()
        for i in range(height * width):
            first.unsafe_offset(i)[] = Pixel(0)

    @always_inline
    def unsafe_pixel_pointer(self) -> Pointer[Pixel, MutUntrackedOrigin]:
        """Returns a pointer to pixel (0, 0).

        Returns:
            The pointer; valid while the image lives.
        """
        return (
            self.pixels.unsafe_ptr()
            .unsafe_mut_cast[True]()
            .unsafe_origin_cast[MutUntrackedOrigin]()
        )

    @always_inline
    def unsafe_row_pointer(self, row: Int) -> Pointer[Pixel, MutUntrackedOrigin]:
        """Returns a pointer to the first pixel of `row` (no bounds check).

        Args:
            row: The row, 0 <= row < height.

        Returns:
            The pointer; valid while the image lives.
        """
        return self.unsafe_pixel_pointer().unsafe_offset(row * self.width)

    def data_address(self) -> Int:
        """Returns the address of pixel (0, 0), channel 0.

        Returns:
            The address; it is the data pointer of every buffer export.
        """
        return Int(self.unsafe_pixel_pointer())

    def pixel(self, row: Int, column: Int) raises -> Pixel:
        """Returns the pixel at (`row`, `column`).

        Args:
            row: The row, 0 <= row < height.
            column: The column, 0 <= column < width.

        Returns:
            The pixel (R, G, B in lanes 0-2).

        Raises:
            IndexError if the position is outside
            the image.
        """
        self._check_position(row, column)
        return self.unsafe_row_pointer(row).unsafe_offset(column)[]

    def set_pixel(mut self, row: Int, column: Int, value: Vec3) raises:
        """Stores `value` (lane 3 is cleared) at (`row`, `column`).

        Args:
            row: The row, 0 <= row < height.
            column: The column, 0 <= column < width.
            value: The colour (lanes 0-2).

        Raises:
            IndexError if the position is outside
            the image.
        """
        self._check_position(row, column)
        var pixel = value
        pixel[3] = 0
        self.unsafe_row_pointer(row).unsafe_offset(column)[] = pixel

    def _check_position(self, row: Int, column: Int) raises:
        if row < 0 or row >= self.height or column < 0 or column >= self.width:
            raise index_error(
                String(
                    "pixel (", row, ", ", column, ") is outside the ",
                    self.height, "x", self.width, " image",
                )
            )

    def __buffer__(mut self, flags: BufferFlags) raises -> Buffer:
        """Exports the pixels as float32 (H, W, 3) with byte strides
        (16 * W, 16, 4): the padding lane is skipped by the strides.

        Args:
            flags: The consumer's request (the core checks it against this
                strided, writable descriptor).

        Returns:
            The descriptor; its shape and strides live in the image.
        """
        self.exports.acquire()
        return Buffer(
            self.unsafe_pixel_pointer().unsafe_bitcast[Float32](),
            Span(self.shape),
            Span(self.strides),
        )

    def __release_buffer__(mut self, buffer: Buffer):
        """Counts the end of one export.

        Args:
            buffer: The export that ended.
        """
        self.exports.release()

    def to_numpy_copy(self) raises -> PythonObject:
        """Copies the image into a new numpy float32 array of shape (H, W, 3).

        A per-channel copy loop: allocate `np.zeros`, then store every channel
        of every pixel through a raw pointer into the array's memory. It is
        the copying hand-off the zero-copy export is measured against.

        Returns:
            A new numpy array that owns its memory.

        Raises:
            If numpy cannot be imported or cannot allocate the array.
        """
        var np = Python.import_module("numpy")
        var array = np.zeros(
            Python.tuple(self.height, self.width, 3), dtype=np.float32
        )
        var address = Int(py=array.__array_interface__["data"][0])
        var destination = Pointer[Float32, MutUntrackedOrigin](
            unsafe_from_address=address
        )
        var source = self.unsafe_pixel_pointer()
        for i in range(self.height * self.width):
            var pixel = source.unsafe_offset(i)[]
            var out = destination.unsafe_offset(3 * i)
            out.unsafe_offset(0)[] = pixel[0]
            out.unsafe_offset(1)[] = pixel[1]
            out.unsafe_offset(2)[] = pixel[2]
        return array

    def write_to(self, mut writer: Some[Writer]):
        """Writes `Image(HxW)`.

        Args:
            writer: Where to write.
        """
        writer.write("Image(", self.height, "x", self.width, ")")

    def write_repr_to(self, mut writer: Some[Writer]):
        """Writes `Image(HxW)`, as `write_to` does (Python's repr).

        Args:
            writer: Where to write.
        """
        self.write_to(writer)
