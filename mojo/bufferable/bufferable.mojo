"""The `Bufferable` trait: a Mojo struct whose memory Python can see."""

from .buffer import Buffer, BufferFlags


trait Bufferable(Movable):
    """A struct that exports its memory through Python's buffer protocol
    (PEP 688's names: `__buffer__`, `__release_buffer__`).

    Bind the struct with `PythonModuleBuilder.add_type[T]`, then call
    `add_buffer_protocol[T]` on its type builder: `memoryview(obj)`,
    `numpy.asarray(obj)` and every other buffer consumer then read and write
    the struct's memory in place, with no copy.

    A conforming struct counts its live exports (embed an `ExportCounter`),
    and refuses, with BufferError, anything that would move or free its
    memory while an export is live.
    """

    def __buffer__(mut self, flags: BufferFlags) raises -> Buffer:
        """Describes the memory to export for one request.

        Called once per export, holding the GIL, from the type's
        `bf_getbuffer` slot. Count the export here (`ExportCounter.acquire`).
        If the core then refuses the request (e.g. WRITABLE on a read-only
        buffer), `__release_buffer__` is called for it, so every successful
        `__buffer__` is matched by exactly one `__release_buffer__`.

        Args:
            flags: What the consumer asked for (`BufferFlags.WRITABLE`, ...);
                the core applies them, so most producers ignore them.

        Returns:
            The descriptor; every pointer in it must stay valid until the
            matching `__release_buffer__`.

        Raises:
            To refuse the export; the message reaches Python as BufferError.
        """
        ...

    def __release_buffer__(mut self, buffer: Buffer):
        """Told that the consumer of one export is done with it.

        Called exactly once per successful `__buffer__`, holding the GIL.
        Uncount the export here (`ExportCounter.release`).

        Args:
            buffer: What the consumer held (rebuilt from its Py_buffer: data,
                itemsize, ndim, readonly and, when the consumer asked for
                them, format, shape and strides).
        """
        ...
