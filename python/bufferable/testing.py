"""bufferable.testing: exporters and consumer handles for testing code that uses buffers.

The helpers live in the extension ``bufferable._testing``, apart from the core, and use only the
core's C API (the ``bufferable._core._C_API`` capsule). ``Producer`` exports any layout (shape, strides, offset, format, suboffsets, read-only) through
bufferable's C contract, exactly as a Mojo or C/C++ producer does, and counts its exports, so a
test can prove that every get is released exactly once and that memory is freed exactly once.
"""
from ._testing import Producer, _Acquisition, export_totals, live_allocation_bytes, live_allocations

__all__ = ["Producer", "Acquisition", "export_totals", "live_allocations", "live_allocation_bytes"]


class Acquisition(_Acquisition):
    """A held consumer acquisition (``bf::acquire``), as Mojo's ``MemoryView`` holds one.

    ``Acquisition(obj, flags=BufferFlags.FULL_RO, via="buffer")`` acquires ``obj``'s memory
    through the C API's ``acquire`` (``via="dlpack"``: ``acquire_dlpack``, ``via="arrow"``:
    ``acquire_arrow``) with one reference. ``incref()``/``decref()`` change the (atomic) count; the last
    ``decref`` releases the export exactly once. ``decref_in_thread()`` drops a reference from a
    native thread without the GIL (the core then takes the GIL itself). ``desc`` is the BfBuffer
    that was filled in, ``obj`` the exporter, ``held`` the references this handle still owns;
    whatever it holds when it dies is dropped.
    """
