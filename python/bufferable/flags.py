"""bufferable.BufferFlags: the request flags of CPython's buffer protocol (PyBUF_*)."""
import enum

__all__ = ["BufferFlags"]


class BufferFlags(enum.IntFlag):
    """Request flags for ``PyObject_GetBuffer`` with CPython's ``PyBUF_*`` names and values.

    The compound flags include the bits they imply (``STRIDES`` includes ``ND``, the contiguity
    flags and ``INDIRECT`` include ``STRIDES``), exactly as in ``Include/pybuffer.h`` and in
    ``bufferable.h`` (``BF_BUF_*``). Pass them to :func:`bufferable.inspect`.
    """

    SIMPLE = 0x0000
    WRITABLE = 0x0001
    FORMAT = 0x0004
    ND = 0x0008
    STRIDES = 0x0010 | ND
    C_CONTIGUOUS = 0x0020 | STRIDES
    F_CONTIGUOUS = 0x0040 | STRIDES
    ANY_CONTIGUOUS = 0x0080 | STRIDES
    INDIRECT = 0x0100 | STRIDES
    CONTIG = ND | WRITABLE
    CONTIG_RO = ND
    STRIDED = STRIDES | WRITABLE
    STRIDED_RO = STRIDES
    RECORDS = STRIDES | WRITABLE | FORMAT
    RECORDS_RO = STRIDES | FORMAT
    FULL = INDIRECT | WRITABLE | FORMAT
    FULL_RO = INDIRECT | FORMAT
