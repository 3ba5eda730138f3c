"""The exports an instance made last, remembered inside the instance so that
the next identical export skips the core.

Lifetime design
---------------
A bound instance exports through its `bf_getbuffer` slot: `T.__buffer__`
describes the memory, the core validates that descriptor against the request
and fills the Py_buffer (`export_buffer`). The core's answer is a function of
the descriptor's content alone (its 64 bytes, the values its shape and strides
point at, its format's text) and of the request flags. So each instance keeps
an `ExportMemo` after its live-export word: for each of the last
`MEMO_ENTRIES` request flags it was exported with (consumers differ:
memoryview asks for FULL_RO, numpy and DLPack for RECORDS_RO, and
`torch.from_dlpack` asks for both, one after the other), the content of the
last export the core accepted and the Py_buffer it filled. An export whose
content and flags equal an entry's is answered by copying that Py_buffer,
without a call into the core; any difference (a resize, a mutated format
string, a lie) misses and goes to the core, which validates in full.

Invariants:

  (1) The memo only holds an outcome of the core, taken from a successful
      export of memory the CPU addresses ({CPU, 0}), without suboffsets, with
      at most `MEMO_DIMS` dimensions and a format shorter than
      `MEMO_FORMAT_BYTES`. An export the core made for another device (the
      one DLPack asks for) is never remembered, so a plain consumer can never
      be handed memory it cannot read.
  (2) The remembered Py_buffer holds nothing of the core (`internal` is NULL):
      strides the core computed for a producer that gave none are copied into
      the memo itself (`strides`), and a replayed view points there. So a
      replayed view needs no `release_buffer`, and the release slot only calls
      the core for a view whose `internal` is set.
  (3) An entry is rewritten only while the instance has no live export, so no
      view ever points into an entry that changes under it. The instance itself
      outlives every view (view->obj holds a strong reference to it).
  (4) Memory CPython zeroes when it allocates the instance is an empty memo
      (no entry is `remembered`): nothing is replayed before the core
      accepted an export.
  (5) A format text is compared byte by byte unless the descriptor points at
      one of the literals of bufferable's element-type table (`format_of`
      of a DType), which the loader maps read-only: nobody can rewrite those
      bytes, so the equal pointer (among the 64 bytes compared) proves the
      equal text.

Every access holds the GIL (bf_getbuffer and bf_releasebuffer run with it).
"""

from std.ffi import c_int
from std.sys.info import size_of

from ._private import PyObjectPtr, RawPointer, address_of
from .api import PyBufferView
from .buffer import Buffer
from .dtype import ELEMENT_TYPES
from .refcount import incref

comptime MEMO_ENTRIES = 2
"""How many request flags an instance remembers an export for."""

comptime MEMO_DIMS = 4
"""The most dimensions a remembered export has."""

comptime MEMO_FORMAT_BYTES = 16
"""Room for a remembered format's text, its NUL included."""

comptime _DESC_WORDS = size_of[Buffer]() // 8
"""The descriptor's size in 64-bit words (8: `Buffer` is C's 64-byte
`BfBuffer`)."""


struct RememberedExport(Copyable):
    """One export of an instance that the core accepted (see the module
    docstring). Never constructed: it lives in the zeroed memory at the end of
    the instance, written by `remember` and read by `replay`."""

    var remembered: Bool
    """Whether the fields below hold an export (False when zeroed)."""
    var strides_at_itemsize: Bool
    """The view's strides pointed at its own `itemsize` (a 1-D export without
    producer strides: CPython's convention, which a copy has to redo)."""
    var static_format: Bool
    """`desc.format` points at one of bufferable's own format literals (the
    element-type table's), which live in read-only memory: the same pointer
    is the same text, and the text is not compared again (5)."""
    var flags: c_int
    """The request flags of that export."""
    var desc: Buffer
    """The descriptor as `__buffer__` returned it (compared as 64 bytes)."""
    var shape: Array[Int64, MEMO_DIMS]
    """The values `desc.shape` pointed at."""
    var producer_strides: Array[Int64, MEMO_DIMS]
    """The values `desc.strides` pointed at (unused when it is None)."""
    var format: Array[UInt8, MEMO_FORMAT_BYTES]
    """The text `desc.format` pointed at, with its NUL ("B" for None)."""
    var view: PyBufferView
    """The Py_buffer the core filled, `obj` aside."""
    var strides: Array[Int, MEMO_DIMS]
    """Strides the core computed, when the view points at them (2)."""


struct ExportMemo:
    """The remembered exports of one instance, one per request flags (see the
    module docstring); zeroed memory is an empty memo."""

    var entries: Array[RememberedExport, MEMO_ENTRIES]
    """The remembered exports."""
    var written_last: Int
    """The index of the entry `remember` wrote last."""


@always_inline
def _same_words(a: Buffer, b: Buffer) -> Bool:
    """Whether two descriptors are equal as 64 bytes. Word by word: the
    descriptor was just written field by field, and one wide load of it
    would wait for those stores to retire instead of forwarding them."""
    var x = Pointer(to=a).unsafe_bitcast[UInt64]()
    var y = Pointer(to=b).unsafe_bitcast[UInt64]()
    comptime for i in range(_DESC_WORDS):
        if x[unsafe_offset=i] != y[unsafe_offset=i]:
            return False
    return True


@always_inline
def _same_extents(
    given: Pointer[Int64, MutUntrackedOrigin],
    remembered: Array[Int64, MEMO_DIMS],
    ndim: Int,
) -> Bool:
    """Whether `ndim` values at `given` equal the remembered ones: one
    vector compare for 2 dimensions (the values live in the producer, not
    in a descriptor just written, so a wide load forwards nothing)."""
    if ndim == 2:
        var a = given.unsafe_load[width=2, alignment=1](0)
        var b = SIMD[DType.int64, 2](
            remembered.unsafe_get(0), remembered.unsafe_get(1)
        )
        return a.eq(b).reduce_and()
    for i in range(ndim):
        if given[unsafe_offset=i] != remembered.unsafe_get(i):
            return False
    return True


def _is_static_format(desc: Buffer) -> Bool:
    """Whether `desc.format` points at a literal of the element-type table
    (read-only memory; see (5))."""
    if not desc.format:
        return False
    var address = Int(desc.format.value())
    comptime for i in range(len(ELEMENT_TYPES)):
        if address == Int(ELEMENT_TYPES[i].format.unsafe_ptr()):
            return True
    return False


@always_inline
def _format_text(desc: Buffer) -> Pointer[UInt8, MutUntrackedOrigin]:
    """The descriptor's format text ("B" when it has none)."""
    if desc.format:
        return desc.format.value().unsafe_bitcast[UInt8]()
    return Pointer[UInt8, MutUntrackedOrigin](
        unsafe_from_address=Int(StaticString("B").unsafe_ptr())
    )


@always_inline
def _holds(entry: RememberedExport, desc: Buffer, flags: c_int) -> Bool:
    """Whether `entry` remembers an export of exactly this content and flags."""
    if not entry.remembered or entry.flags != flags:
        return False
    if not _same_words(desc, entry.desc):
        return False
    var ndim = Int(desc.ndim)
    if ndim > 0:
        if not _same_extents(desc.shape.unsafe_value(), entry.shape, ndim):
            return False
    if desc.strides:
        if not _same_extents(
            desc.strides.unsafe_value(), entry.producer_strides, ndim
        ):
            return False
    if entry.static_format:  # (5): the same read-only literal
        return True
    var text = _format_text(desc)
    for i in range(MEMO_FORMAT_BYTES):
        var c = text[unsafe_offset=i]
        if c != entry.format.unsafe_get(i):
            return False
        if c == 0:
            break
    return True


@always_inline
def replay(
    mut memo: ExportMemo,
    desc: Buffer,
    flags: c_int,
    exporter: PyObjectPtr,
    view: RawPointer,
) -> Bool:
    """Fills `view` from the memo if it remembers an export of `desc`'s
    content with these `flags`.

    Args:
        memo: The exporting instance's memo.
        desc: What `__buffer__` returned for this export.
        flags: The request flags.
        exporter: The instance (the view takes a strong reference to it).
        view: The Py_buffer to fill.

    Returns:
        True if the view was filled (the export succeeded), False if the core
        must validate this export.
    """
    comptime for i in range(MEMO_ENTRIES):
        ref entry = memo.entries[i]
        if _holds(entry, desc, flags):
            ref v = view.unsafe_bitcast[PyBufferView]()[]
            v = entry.view.copy()
            if entry.strides_at_itemsize:
                v.strides = Pointer(to=v.itemsize).unsafe_origin_cast[
                    MutUntrackedOrigin
                ]()
            incref(exporter)
            v.obj = RawPointer(unsafe_from_address=address_of(exporter))
            return True
    return False


def remember(
    mut memo: ExportMemo, desc: Buffer, flags: c_int, view: RawPointer
):
    """Remembers an export the core just accepted, if the memo can hold it
    (1): in the entry of the same flags, else in the one written longest ago.
    Call it only while the instance has no other live export (3).

    Args:
        memo: The exporting instance's memo.
        desc: What `__buffer__` returned for this export.
        flags: The request flags.
        view: The Py_buffer the core filled.
    """
    ref v = view.unsafe_bitcast[PyBufferView]()[]
    var ndim = Int(desc.ndim)
    if (
        ndim > MEMO_DIMS
        or desc.suboffsets
        or desc.device_type != 1
        or desc.device_id != 0
    ):
        return
    var text = _format_text(desc)
    var length = 0
    while text[unsafe_offset=length] != 0:
        length += 1
        if length >= MEMO_FORMAT_BYTES:
            return
    var index = (memo.written_last + 1) % MEMO_ENTRIES
    for i in range(MEMO_ENTRIES):
        if memo.entries[i].remembered and memo.entries[i].flags == flags:
            index = i
    memo.written_last = index
    ref entry = memo.entries[index]
    entry.remembered = False
    for i in range(length + 1):
        entry.format[i] = text[unsafe_offset=i]
    for i in range(ndim):
        entry.shape[i] = desc.shape.value()[unsafe_offset=i]
        if desc.strides:
            entry.producer_strides[i] = desc.strides.value()[unsafe_offset=i]
    entry.desc = desc.copy()
    entry.flags = flags
    entry.view = v.copy()
    entry.view.obj = None
    entry.strides_at_itemsize = False
    entry.static_format = _is_static_format(desc)
    if v.strides:
        var strides = v.strides.value()
        if Int(strides) == Int(Pointer(to=v.itemsize)):
            entry.strides_at_itemsize = True
        elif v.internal:  # the core's own strides (2): keep a copy
            for i in range(ndim):
                entry.strides[i] = strides[unsafe_offset=i]
            entry.view.strides = Pointer(to=entry.strides[0]).unsafe_origin_cast[
                MutUntrackedOrigin
            ]()
    entry.view.internal = None
    entry.remembered = True
