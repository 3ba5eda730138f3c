"""The environment: a latitude-longitude image around the scene.

Rays that leave the scene take their colour from this image, and so do mirror
reflections of the sky. The image is any Python object exporting a float32
(H, W, 3) or (H, W, 4) buffer (a numpy array, a slice of one, ...): Mojo reads
it in place through a bufferable `MemoryView`, with no copy, and holds the
view, hence the buffer, for as long as the `EnvironmentMap` lives.
"""

from std.math import asin, atan2, floor, pi
from std.python import PythonObject

from bufferable import MemoryView, value_error

from .vector import Vec3, vec3

comptime BackgroundView = MemoryView[DType.float32, 3, mut=False]
"""A read-only, strided float32 view of a (H, W, channels) Python buffer."""


struct EnvironmentMap(Movable):
    """A read-only, strided float32 image in equirectangular projection.

    Row 0 is straight up, the last row straight down; columns sweep a full turn
    of longitude, with the image centre in front of the camera (towards -z).
    The pixels belong to a Python object; the map owns a `MemoryView` of them
    (one buffer acquisition, released when the map is destroyed), so they stay
    valid while the map is used.
    """

    var view: BackgroundView
    """The view that keeps the Python buffer acquired."""
    var data: Pointer[UInt8, ImmUntrackedOrigin]
    """Address of channel 0 of pixel (0, 0)."""
    var height: Int
    """Number of rows."""
    var width: Int
    """Number of columns."""
    var row_stride: Int
    """Bytes from one row to the next (may be negative)."""
    var column_stride: Int
    """Bytes from one pixel to the next in a row (may be negative)."""
    var channel_stride: Int
    """Bytes from one colour channel to the next."""

    def __init__(out self, source: PythonObject) raises:
        """Views the float32 (H, W, 3) or (H, W, 4) buffer of `source`.

        Args:
            source: Any object exporting such a buffer, with any strides; a
                fourth channel is ignored.

        Raises:
            TypeError if `source` exports no buffer; ValueError if its
            elements are not native float32, it is not 3-dimensional, it has
            other than 3 or 4 channels, or it has no pixels;
            BufferError if its strides are not whole elements or it is
            indirect (the "Class: " prefix of the error names the class).
        """
        var view = BackgroundView(source)
        self = EnvironmentMap(view^)

    def __init__(out self, var view: BackgroundView) raises:
        """Takes over a view of a float32 (H, W, 3) or (H, W, 4) image.

        Args:
            view: The view (moved in; the map keeps it alive).

        Raises:
            ValueError if the view has other than 3 or 4 channels, or no
            pixels.
        """
        var channels = view.dim(2)
        if channels != 3 and channels != 4:
            raise value_error(
                String(
                    "the background must have shape (H, W, 3) or (H, W, 4),",
                    " got (",
                    view.dim(0),
                    ", ",
                    view.dim(1),
                    ", ",
                    channels,
                    ")",
                )
            )
        if view.dim(0) < 1 or view.dim(1) < 1:
            raise value_error(
                String(
                    "the background has no pixels (shape (",
                    view.dim(0),
                    ", ",
                    view.dim(1),
                    ", ",
                    channels,
                    "))",
                )
            )
        self.data = Pointer[UInt8, ImmUntrackedOrigin](
            unsafe_from_address=Int(view.unsafe_ptr())
        )
        self.height = view.dim(0)
        self.width = view.dim(1)
        self.row_stride = view.byte_stride(0)
        self.column_stride = view.byte_stride(1)
        self.channel_stride = view.byte_stride(2)
        self.view = view^

    @always_inline
    def _channel(self, byte_offset: Int) -> Float32:
        # Any address: a background delivered by an engine may be unaligned.
        return (
            self.data.unsafe_offset(byte_offset)
            .unsafe_bitcast[Float32]()
            .unsafe_load[width=1, alignment=1]()
        )

    @always_inline
    def texel(self, row: Int, column: Int) -> Vec3:
        """The RGB value stored at (`row`, `column`); both must be in range."""
        var offset = row * self.row_stride + column * self.column_stride
        return vec3(
            self._channel(offset),
            self._channel(offset + self.channel_stride),
            self._channel(offset + 2 * self.channel_stride),
        )

    def sample(self, direction: Vec3) -> Vec3:
        """The colour seen looking along the unit vector `direction`.

        Bilinear between the four nearest texels; longitude wraps around,
        latitude is clamped at the poles.
        """
        var longitude = atan2(direction[0], -direction[2])
        var latitude = asin(min(max(direction[1], -1.0), 1.0))
        var u = (0.5 + longitude / Float32(2 * pi)) * Float32(self.width) - 0.5
        var v = (0.5 - latitude / Float32(pi)) * Float32(self.height) - 0.5
        var u_floor = floor(u)
        var v_floor = floor(v)
        var u_weight = u - u_floor
        var v_weight = v - v_floor
        var column0 = Int(u_floor) % self.width
        if column0 < 0:
            column0 += self.width
        var column1 = column0 + 1
        if column1 == self.width:
            column1 = 0
        var row0 = min(max(Int(v_floor), 0), self.height - 1)
        var row1 = min(max(Int(v_floor) + 1, 0), self.height - 1)
        var top = self.texel(row0, column0) * (1 - u_weight) + self.texel(
            row0, column1
        ) * u_weight
        var bottom = self.texel(row1, column0) * (
            1 - u_weight
        ) + self.texel(row1, column1) * u_weight
        return top * (1 - v_weight) + bottom * v_weight
