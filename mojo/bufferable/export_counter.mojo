"""`ExportCounter`: the resize lock of a `Bufferable` struct."""

from .errors import buffer_error


struct ExportCounter(Copyable, Defaultable, Writable):
    """Counts the live exports of a `Bufferable` struct, so that methods that
    would move or free its memory can refuse while a consumer can still reach
    it (as `bytearray` refuses to resize while a memoryview exists).

    Embed one in the struct; call `acquire` in `__buffer__`, `release` in
    `__release_buffer__`, and `check_unexported` first thing in every method
    that reallocates, resizes or frees.
    """

    var live: Int
    """Exports made and not yet released."""
    var acquired: Int
    """Exports made since the struct was created."""
    var released: Int
    """Exports released since the struct was created."""

    def __init__(out self):
        """A counter with no export."""
        self.live = 0
        self.acquired = 0
        self.released = 0

    @always_inline
    def acquire(mut self):
        """Counts one more live export (call it from `__buffer__`)."""
        self.live += 1
        self.acquired += 1

    @always_inline
    def release(mut self):
        """Counts one export released (call it from `__release_buffer__`).

        A release with no live export is a bug in the caller: it is ignored
        (the count never goes negative) but still counted in `released`.
        """
        if self.live > 0:
            self.live -= 1
        self.released += 1

    @always_inline
    def is_exported(self) -> Bool:
        """Tells whether any export is live.

        Returns:
            True if a consumer may still read or write the memory.
        """
        return self.live > 0

    def check_unexported(self, action: StringSlice) raises:
        """Refuses an action that would move or free the memory while it is
        exported.

        Args:
            action: What was attempted, for the message (e.g. "resize a Vector").

        Raises:
            BufferError (see `bufferable.errors`) naming the action and the
            number of live exports.
        """
        if self.live > 0:
            raise buffer_error(
                String(
                    "cannot ",
                    action,
                    " while it is exported (",
                    self.live,
                    " live export",
                    "" if self.live == 1 else "s",
                    "): release every memoryview/array of it first",
                )
            )

    def write_to(self, mut writer: Some[Writer]):
        """Writes `ExportCounter(live=.., acquired=.., released=..)`.

        Args:
            writer: Where to write.
        """
        writer.write(
            "ExportCounter(live=",
            self.live,
            ", acquired=",
            self.acquired,
            ", released=",
            self.released,
            ")",
        )
