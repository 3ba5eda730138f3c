"""The rendered image: float32 RGB pixels, one 16-byte SIMD vector each.

The fourth lane of every pixel is padding, so a pixel is loaded and stored as
one `SIMD[DType.float32, 4]`. Python sees the same memory as a float32 array of
shape (H, W, 3) with byte strides (16 * W, 16, 4): the padding lane is simply
skipped by the strides, and nothing is repacked on the way out.
"""

from std.memory.alloc import ManagedAllocation, Layout, alloc
from std.python import Python, PythonObject

from .vector import Vec3

comptime Pixel = SIMD[DType.float32, 4]
"""One pixel: R, G, B in lanes 0-2, lane 3 unused (zero)."""

comptime PIXEL_BYTES = 16
"""Size of a `Pixel` in bytes: the column stride of the exported array."""

comptime CHANNEL_BYTES = 4
"""Size of one float32 channel: the channel stride of the exported array."""


struct Image(Movable, Writable):
    """A height x width float32 RGB image on the heap, row-major.

    `shape` and `strides` describe the memory exactly as a buffer export
    reports it (shape (H, W, 3), byte strides (16 * W, 16, 4)); they live in
    the image, so they stay valid for as long as the image does.
    """

    var height: Int
    """Number of rows."""
    var width: Int
    """Number of columns."""
    var pixels: ManagedAllocation[Pixel]
    """height * width pixels, row after row."""
    var shape: SIMD[DType.int64, 4]
    """(height, width, 3) in lanes 0-2: the exported shape."""
    var strides: SIMD[DType.int64, 4]
    """(16 * width, 16, 4) in lanes 0-2: the exported byte strides."""

    def __init__(out self, height: Int, width: Int):
        """Allocates a black image.

        Args:
            height: Number of rows (at least 1).
            width: Number of columns (at least 1).
        """
        self.height = height
        self.width = width
        self.pixels = alloc(Layout[Pixel](count=height * width)).into_managed()
        self.shape = SIMD[DType.int64, 4](Int64(height), Int64(width), 3, 0)
        self.strides = SIMD[DType.int64, 4](
            Int64(PIXEL_BYTES * width), Int64(PIXEL_BYTES), Int64(CHANNEL_BYTES), 0
        )
        var first = self.unsafe_pixel_pointer()
        for i in range(height * width):
            first.unsafe_offset(i)[] = Pixel(0)

    @always_inline
    def unsafe_pixel_pointer(self) -> Pointer[Pixel, MutUntrackedOrigin]:
        """Pointer to pixel (0, 0); valid while the image lives."""
        return (
            self.pixels.unsafe_ptr()
            .unsafe_mut_cast[True]()
            .unsafe_origin_cast[MutUntrackedOrigin]()
        )

    @always_inline
    def unsafe_row_pointer(self, row: Int) -> Pointer[Pixel, MutUntrackedOrigin]:
        """Pointer to the first pixel of `row`; valid while the image lives."""
        return self.unsafe_pixel_pointer().unsafe_offset(row * self.width)

    def data_address(self) -> Int:
        """The address of pixel (0, 0), channel 0: the exported data pointer."""
        return Int(self.unsafe_pixel_pointer())

    def shape_pointer(self) -> Pointer[Int64, MutUntrackedOrigin]:
        """Three int64 values (H, W, 3), stable while the image lives."""
        return (
            Pointer(to=self.shape)
            .unsafe_bitcast[Int64]()
            .unsafe_mut_cast[True]()
            .unsafe_origin_cast[MutUntrackedOrigin]()
        )

    def strides_pointer(self) -> Pointer[Int64, MutUntrackedOrigin]:
        """Three int64 byte strides (16 * W, 16, 4), stable while the image lives.
        """
        return (
            Pointer(to=self.strides)
            .unsafe_bitcast[Int64]()
            .unsafe_mut_cast[True]()
            .unsafe_origin_cast[MutUntrackedOrigin]()
        )

    def pixel(self, row: Int, column: Int) raises -> Pixel:
        """The pixel at (`row`, `column`).

        Raises:
            If the position is outside the image.
        """
        self._check_position(row, column)
        return self.unsafe_row_pointer(row).unsafe_offset(column)[]

    def set_pixel(mut self, row: Int, column: Int, value: Vec3) raises:
        """Stores `value` (lane 3 is cleared) at (`row`, `column`).

        Raises:
            If the position is outside the image.
        """
        self._check_position(row, column)
        var pixel = value
        pixel[3] = 0
        self.unsafe_row_pointer(row).unsafe_offset(column)[] = pixel

    def _check_position(self, row: Int, column: Int) raises:
        if row < 0 or row >= self.height or column < 0 or column >= self.width:
            raise Error(
                "pixel (", row, ", ", column, ") is outside the ",
                self.height, "x", self.width, " image",
            )

    def to_numpy_copy(self) raises -> PythonObject:
        """Copies the image into a new numpy float32 array of shape (H, W, 3).

        This is the hand-off the old Mojo ray-tracing notebook used (allocate
        `np.zeros`, then store every channel through a raw pointer into the
        array's memory). It is kept to measure what zero-copy export saves.
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
        """Writes `Image(height x width)`."""
        writer.write("Image(", self.height, "x", self.width, ")")
