"""The environment: a latitude-longitude image around the scene.

Rays that leave the scene take their colour from this image, and so do mirror
reflections of the sky. The image is read in place through a data pointer and
byte strides, so any strided float32 (H, W, 3) or (H, W, 4) buffer works: a
numpy array, a slice of one, or a bufferable `MemoryView`.
"""

from std.math import asin, atan2, floor, pi

from .vector import Vec3, vec3


struct EnvironmentMap(Copyable, Movable):
    """A read-only, strided float32 image in equirectangular projection.

    Row 0 is straight up, the last row straight down; columns sweep a full turn
    of longitude, with the image centre in front of the camera (towards -z).
    The memory belongs to someone else and must outlive this value.
    """

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

    def __init__(
        out self,
        *,
        unsafe_data_address: Int,
        height: Int,
        width: Int,
        row_stride: Int,
        column_stride: Int,
        channel_stride: Int,
    ):
        """Describes an image that lives at `unsafe_data_address`.

        Args:
            unsafe_data_address: Address of channel 0 of pixel (0, 0); the
                memory must stay valid and unchanged while this value is used.
            height: Number of rows (at least 1).
            width: Number of columns (at least 1).
            row_stride: Bytes between rows.
            column_stride: Bytes between pixels of a row.
            channel_stride: Bytes between the R, G and B values of a pixel.
        """
        self.data = Pointer[UInt8, ImmUntrackedOrigin](
            unsafe_from_address=unsafe_data_address
        )
        self.height = height
        self.width = width
        self.row_stride = row_stride
        self.column_stride = column_stride
        self.channel_stride = channel_stride

    @always_inline
    def _channel(self, byte_offset: Int) -> Float32:
        return self.data.unsafe_offset(byte_offset).unsafe_bitcast[Float32]()[]

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
