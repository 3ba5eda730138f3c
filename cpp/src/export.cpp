// export.cpp -- BfBuffer -> Py_buffer: the producer side of the contract.
//
// Lifetime design
// ---------------
// A producer owns its memory *and* the small arrays that describe it (shape, strides, suboffsets,
// format). export_buffer() does not copy them: the Py_buffer it fills points straight into the
// producer's storage. That is safe because of three invariants, which every producer upholds:
//
//   (1) view->obj holds a strong reference to the exporter from the moment export_buffer()
//       succeeds until CPython's PyBuffer_Release() drops it (after the exporter's
//       bf_releasebuffer slot has run). So the exporter, and whatever storage it owns, outlives
//       every consumer, even one that outlives every other reference to the exporter.
//   (2) While an export is live, the producer neither moves nor frees the memory nor the
//       descriptor arrays (it counts live exports and refuses to resize with BufferError, as
//       bytearray does). So the pointers copied into the Py_buffer stay valid and truthful.
//   (3) Each successful export_buffer() is matched by exactly one release_buffer() on the same
//       Py_buffer, from the exporter's bf_releasebuffer slot.
//
// The one thing the descriptor cannot supply is strides when the producer left strides == NULL
// ("C-contiguous") and the consumer asked for them:
//   - ndim == 1: strides point at view->itemsize (the C stride of a 1-D array is the item size;
//     CPython's PyBuffer_FillInfo uses the same field for the same purpose).
//   - ndim >= 2: strides point into a small table of interned stride arrays owned by the core
//     (static storage, no allocation): a slot holds one array and counts the live exports that
//     point at it, so it is only ever rewritten while nobody reads it. view->internal records the
//     slot and release_buffer() drops its count, which is why (3) matters. Only when every slot
//     the array may use is taken by other live arrays (or ndim exceeds the slot size) is a block
//     allocated with PyMem_Malloc instead, recorded the same way and freed by release_buffer().
// view->internal is NULL in every other case, so release_buffer() is a no-op for the common case.
//
// Validation (a descriptor is refused, never trusted) covers ndim, shape,
// overflow of the byte size and of the strided extent, NULL data, the device (memory the CPU does
// not address is refused, except for the one export DLPack makes through export_any_device(),
// which learns the device from it), and the format against the item size. The format is the one
// costly check (the grammar): a small table remembers the text of the formats that parsed and
// their item sizes, compared byte for byte on every export, so a producer that hands a different
// (or mutated) string is parsed again and a format that lies is still refused. A refusal leaves
// view->obj == NULL with a BufferError set, as CPython requires of bf_getbuffer.
//
// A producer hands the same descriptor export after export, so the outcome of a validation is
// remembered by content (the validated-export cache): the BfBuffer's bytes, the values its shape
// and strides point at, its format's text and the request flags. Validation is a function of
// exactly these (for memory on {CPU, 0}, the only device cached), so an export equal to a
// remembered one in all of them reuses the remembered Py_buffer; one that differs anywhere (a
// resized shape, a mutated format string, a lie) misses and is validated in full. A remembered
// outcome holds one count on the stride slot it uses, so the slot is not rewritten while the
// cache can hand it out. Exports and releases run holding the GIL, which guards every table.
//
// Where CPython leaves a choice, numpy's array_getbuffer is the reference: without PyBUF_ND the
// view has ndim = 0 and shape = NULL but keeps the real itemsize and len; readonly reflects the
// memory whatever the request; 0-d arrays export shape = strides = NULL; strides the core
// computes are numpy's canonical ones (Fortran order only when F_CONTIGUOUS is requested and
// holds). Two deliberate differences: refusals are BufferError, as the buffer protocol documents
// (numpy raises ValueError); and strides the producer gave are exported as given, never rewritten,
// even where numpy would canonicalise the stride of an extent-1 dimension of a contiguous array
// (rewriting would need an allocation; both address the same bytes).
#include "core.h"

#include <cstring>

namespace bf {
namespace {

// A request includes `mask` only if all its bits are set (CPython's REQ_* macros, numpy alike).
constexpr bool FLAG(int mask, int flags) { return (flags & mask) == mask; }

// CPython's definition of contiguity (Objects/abstract.c): extents of 1 do not constrain their
// stride; the caller handles zero-size arrays (always contiguous) and indirect arrays (never).
bool c_contiguous(int ndim, const int64_t *shape, const int64_t *strides, int64_t itemsize) {
  if (!strides) return true;
  int64_t expected = itemsize;
  for (int i = ndim - 1; i >= 0; --i) {
    if (shape[i] > 1 && strides[i] != expected) return false;
    expected *= shape[i];  // cannot overflow: the byte size was checked
  }
  return true;
}

bool f_contiguous(int ndim, const int64_t *shape, const int64_t *strides, int64_t itemsize) {
  if (!strides) {  // C-contiguous: also Fortran-contiguous iff at most one extent exceeds 1
    int big = 0;
    for (int i = 0; i < ndim; ++i) big += shape[i] > 1;
    return big <= 1;
  }
  int64_t expected = itemsize;
  for (int i = 0; i < ndim; ++i) {
    if (shape[i] > 1 && strides[i] != expected) return false;
    expected *= shape[i];
  }
  return true;
}

// The export export_any_device() is making on this thread, if any: the exporter it asked, and the
// device its descriptor names (written by export_buffer).
struct DeviceRequest {
  PyObject *exporter;
  BfDevice device;
};
thread_local DeviceRequest *device_request = nullptr;

// A descriptor whose device is not {CPU, 0}: accepted for DLPack (recording the device), or when
// the CPU addresses it; else refused with BufferError.
bool accept_device(PyObject *exporter, BfDevice device) {
  if (device_request != nullptr && device_request->exporter == exporter) {
    device_request->device = device;
    return true;
  }
  if (host_memory(device)) return true;
  PyErr_Format(PyExc_BufferError,
               "the buffer descriptor places its memory on device (%d, %d), not in host memory: "
               "the buffer protocol carries only memory the CPU addresses (DLPack carries this "
               "one: __dlpack__)",
               (int) device.device_type, (int) device.device_id);
  return false;
}

// Replace a ValueError from the format grammar with a BufferError that names the descriptor's
// problem, keeping the grammar's message (and the original exception as __cause__).
int refuse_format(const char *fmt) {
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  PyErr_NormalizeException(&type, &value, &tb);
  PyObject *msg = value ? PyObject_Str(value) : nullptr;
  const char *text = msg ? PyUnicode_AsUTF8(msg) : nullptr;
  if (!text) PyErr_Clear();
  PyErr_Format(PyExc_BufferError, "invalid format '%s' in the buffer descriptor: %s", fmt,
               text ? text : "(no message)");
  Py_XDECREF(msg);
  if (value) {  // chain: raise BufferError(...) from the grammar's exception
    PyObject *t2, *v2, *tb2;
    PyErr_Fetch(&t2, &v2, &tb2);
    PyErr_NormalizeException(&t2, &v2, &tb2);
    if (tb) PyException_SetTraceback(value, tb);
    PyException_SetCause(v2, value);  // steals value
    Py_INCREF(value);                 // ... but PyException_SetContext steals it too
    PyException_SetContext(v2, value);
    PyErr_Restore(t2, v2, tb2);
  }
  Py_XDECREF(type);
  Py_XDECREF(tb);
  return -1;
}

// --- formats known to be valid, by text -------------------------------------------------------
// Both tables below keep a format's text when it is shorter than this (longer ones are not kept).
constexpr size_t kFormatText = 16;

// Copy `fmt` into `text` (kFormatText bytes) if it fits with its NUL; false, copying nothing, if not.
inline bool keep_text(char *text, const char *fmt) {
  const size_t n = std::strlen(fmt);
  if (n >= kFormatText) return false;
  std::memcpy(text, fmt, n + 1);
  return true;
}

struct KnownFormat {
  char text[kFormatText];  // NUL-terminated; empty = unused
  int64_t itemsize;
};
KnownFormat known_formats[8];
unsigned next_known_format = 0;

// `fmt` is exactly `text` (compared inline: formats are a few bytes).
inline bool same_text(const char *text, const char *fmt) {
  for (int i = 0;; ++i) {
    if (text[i] != fmt[i]) return false;
    if (text[i] == '\0') return true;
  }
}

// The item size of a valid format, from the table or the grammar; -1 with the grammar's error.
int64_t format_itemsize(const char *fmt) {
  for (const KnownFormat &k : known_formats)
    if (k.text[0] != '\0' && same_text(k.text, fmt)) return k.itemsize;
  BfFormatInfo info;
  if (parse_format(fmt, &info) < 0) return -1;
  if (fmt[0] != '\0') {
    KnownFormat &k = known_formats[next_known_format % 8];
    if (keep_text(k.text, fmt)) {
      k.itemsize = info.itemsize;
      ++next_known_format;
    }
  }
  return info.itemsize;
}

// --- interned stride arrays for producers that give strides == NULL (see the header) -----------
constexpr int kSlotDims = 8;
constexpr int kSlots = 64;
struct StrideSlot {
  Py_ssize_t live;  // exports pointing at `strides`
  int ndim;
  Py_ssize_t strides[kSlotDims];
};
StrideSlot stride_slots[kSlots];

bool is_slot(void *p) { return p >= (void *) stride_slots && p < (void *) (stride_slots + kSlots); }

inline bool same_strides(const StrideSlot &s, const Py_ssize_t *strides, int ndim) {
  if (s.ndim != ndim) return false;
  for (int i = 0; i < ndim; ++i)
    if (s.strides[i] != strides[i]) return false;
  return true;
}

// A stable array equal to strides[0..ndim), counted as one more live use; NULL if none is free.
StrideSlot *intern_strides(const Py_ssize_t *strides, int ndim) {
  static StrideSlot *last = stride_slots;  // the slot found last time: the usual answer
  if (same_strides(*last, strides, ndim)) {
    ++last->live;
    return last;
  }
  if (ndim > kSlotDims) return nullptr;
  uint64_t h = (uint64_t) ndim;
  for (int i = 0; i < ndim; ++i) h = (h ^ (uint64_t) strides[i]) * 0x100000001b3ull;
  StrideSlot *free_slot = nullptr;
  for (int probe = 0; probe < 4; ++probe) {
    StrideSlot &s = stride_slots[(h + (uint64_t) probe) % kSlots];
    if (same_strides(s, strides, ndim)) {
      ++s.live;
      return last = &s;
    }
    if (s.live == 0 && !free_slot) free_slot = &s;
  }
  if (!free_slot) return nullptr;
  free_slot->ndim = ndim;
  std::memcpy(free_slot->strides, strides, sizeof(Py_ssize_t) * ndim);
  free_slot->live = 1;
  return last = free_slot;
}

// Validates `desc` against request `flags` and fills `view` (all but view->obj); 0, or -1 with
// BufferError (the exporter is only needed for the device check).
int validate_and_fill(PyObject *exporter, Py_buffer *view, const BfBuffer *desc, int flags) {
  // --- 1. the descriptor must be truthful ---------------------------------------------------
  const int ndim = desc->ndim;
  const int64_t itemsize = desc->itemsize;
  const int64_t *shape = desc->shape, *strides = desc->strides;
  if (ndim < 0 || ndim > BF_MAX_NDIM)
    return fail_with(PyExc_BufferError, "buffer descriptor has ndim %d, outside 0..%d", ndim,
                     BF_MAX_NDIM);
  if (ndim > 0 && !shape)
    return fail_with(PyExc_BufferError, "buffer descriptor has ndim %d but shape is NULL", ndim);
  if (itemsize < 1)
    return fail_with(PyExc_BufferError, "buffer descriptor has itemsize %lld (must be >= 1)",
                     (long long) itemsize);
  if ((desc->device.device_type != BF_DEVICE_CPU || desc->device.device_id != 0) &&
      !accept_device(exporter, desc->device))
    return -1;

  int64_t nitems = 1;
  bool empty = false, overflow = false;
  for (int i = 0; i < ndim; ++i) {
    if (shape[i] < 0)
      return fail_with(PyExc_BufferError, "buffer descriptor has negative shape[%d] = %lld", i,
                       (long long) shape[i]);
    empty |= shape[i] == 0;
    overflow |= __builtin_mul_overflow(nitems, shape[i], &nitems);
  }
  int64_t len = 0;
  if (!empty) {
    if (overflow || __builtin_mul_overflow(nitems, itemsize, &len))
      return fail_with(PyExc_BufferError,
                       "buffer descriptor is too large: the product of its shape times itemsize "
                       "%lld overflows a 64-bit size",
                       (long long) itemsize);
    if (strides) {  // the farthest byte any index reaches must be addressable too
      int64_t reach = 0;
      for (int i = 0; i < ndim; ++i) {
        int64_t step;
        if (__builtin_mul_overflow(shape[i] - 1, strides[i] < 0 ? -strides[i] : strides[i],
                                   &step) ||
            __builtin_add_overflow(reach, step, &reach))
          return fail_with(PyExc_BufferError,
                           "buffer descriptor strides overflow: stride[%d] = %lld times "
                           "shape[%d] = %lld reaches beyond a 64-bit offset",
                           i, (long long) strides[i], i, (long long) shape[i]);
      }
    }
    if (!desc->data)
      return fail_with(PyExc_BufferError,
                       "buffer descriptor has NULL data but a size of %lld bytes", (long long) len);
  }

  const char *fmt = desc->format ? desc->format : "B";
  const int64_t format_size = format_itemsize(fmt);
  if (format_size < 0) return refuse_format(fmt);
  if (format_size != itemsize)
    return fail_with(PyExc_BufferError,
                     "buffer descriptor has itemsize %lld, but its format '%s' describes "
                     "items of %lld bytes",
                     (long long) itemsize, fmt, (long long) format_size);

  // PEP 3118 / CPython: if no dimension is indirect, suboffsets must be NULL.
  const int64_t *suboffsets = nullptr;
  if (desc->suboffsets)
    for (int i = 0; i < ndim; ++i)
      if (desc->suboffsets[i] >= 0) {
        suboffsets = desc->suboffsets;
        break;
      }

  // --- 2. the request must be satisfiable ----------------------------------------------------
  if ((flags & PyBUF_WRITABLE) && desc->readonly)
    return fail_with(PyExc_BufferError, "buffer is read-only: a writable view was requested");
  if (suboffsets && !FLAG(PyBUF_INDIRECT, flags))
    return fail_with(PyExc_BufferError,
                     "buffer is indirect (has suboffsets, PIL-style) but the request lacks "
                     "PyBUF_INDIRECT");
  // Computed lazily: only requests that constrain the layout pay for the loops.
  const bool need_c = FLAG(PyBUF_C_CONTIGUOUS, flags) || !FLAG(PyBUF_STRIDES, flags) ||
                      FLAG(PyBUF_ANY_CONTIGUOUS, flags);
  const bool need_f = FLAG(PyBUF_F_CONTIGUOUS, flags) || FLAG(PyBUF_ANY_CONTIGUOUS, flags);
  bool is_c = false, is_f = false;
  if (need_c) is_c = !suboffsets && (empty || c_contiguous(ndim, shape, strides, itemsize));
  if (need_f) is_f = !suboffsets && (empty || f_contiguous(ndim, shape, strides, itemsize));
  if (FLAG(PyBUF_C_CONTIGUOUS, flags) && !is_c)
    return fail_with(PyExc_BufferError, "buffer is not C-contiguous");
  if (FLAG(PyBUF_F_CONTIGUOUS, flags) && !is_f)
    return fail_with(PyExc_BufferError, "buffer is not Fortran-contiguous");
  if (FLAG(PyBUF_ANY_CONTIGUOUS, flags) && !is_c && !is_f)
    return fail_with(PyExc_BufferError, "buffer is neither C- nor Fortran-contiguous");
  if (!FLAG(PyBUF_STRIDES, flags) && !is_c)
    return fail_with(PyExc_BufferError,
                     "buffer is not C-contiguous: the request lacks PyBUF_STRIDES");

  // --- 3. fill the view (pointers into the producer's storage) -------------------------------
  view->buf = desc->data;
  view->len = len;
  view->itemsize = itemsize;
  view->readonly = desc->readonly != 0;
  view->format = FLAG(PyBUF_FORMAT, flags) ? const_cast<char *>(fmt) : nullptr;
  view->internal = nullptr;
  view->suboffsets = (Py_ssize_t *) suboffsets;  // non-NULL only if INDIRECT was requested
  view->strides = nullptr;
  if (FLAG(PyBUF_ND, flags) && ndim > 0) {
    view->ndim = ndim;
    view->shape = (Py_ssize_t *) shape;
    if (FLAG(PyBUF_STRIDES, flags)) {
      if (strides)
        view->strides = (Py_ssize_t *) strides;
      else if (ndim == 1)
        view->strides = &view->itemsize;
      else {  // strides the core supplies (see the header comment)
        // numpy's canonical strides for a contiguous array: Fortran ones if the request demands
        // Fortran order and the layout is also F-contiguous, else C ones (zero extents included).
        // (A product can only overflow for an empty array, whose strides address nothing: the
        // wrapped value is harmless, and __builtin_mul_overflow keeps the wrap defined.)
        Py_ssize_t computed[BF_MAX_NDIM];
        int64_t step = itemsize;
        const bool f_order = FLAG(PyBUF_F_CONTIGUOUS, flags) && is_f;
        for (int k = 0; k < ndim; ++k) {
          const int i = f_order ? k : ndim - 1 - k;
          computed[i] = step;
          (void) __builtin_mul_overflow(step, shape[i], &step);
        }
        if (StrideSlot *slot = intern_strides(computed, ndim)) {
          view->strides = slot->strides;
          view->internal = slot;
        } else {
          auto *block = (Py_ssize_t *) PyMem_Malloc(sizeof(Py_ssize_t) * (size_t) ndim);
          if (!block) return PyErr_NoMemory(), -1;
          std::memcpy(block, computed, sizeof(Py_ssize_t) * (size_t) ndim);
          view->strides = block;
          view->internal = block;
        }
      }
    }
  } else {  // no ND (numpy's choice: ndim 0, no shape), or a 0-d array
    view->ndim = 0;
    view->shape = nullptr;
  }
  return 0;
}

// --- the validated-export cache (see the header) -----------------------------------------------
constexpr int kCacheDims = 4;  // descriptors of more dimensions are validated every time
constexpr unsigned kCacheEntries = 16;
struct ValidExport {
  BfBuffer desc;  // as given; data == NULL marks an unused entry
  int flags;
  int64_t shape[kCacheDims];    // the values desc.shape pointed at
  int64_t strides[kCacheDims];  // the values desc.strides pointed at (if not NULL)
  char format[kFormatText];     // the text desc.format pointed at
  Py_buffer view;               // the outcome (obj unused; strides fixed up on a hit)
  bool strides_at_itemsize;     // view.strides pointed at view.itemsize (1-D, NULL strides)
};
ValidExport valid_exports[kCacheEntries];

// A descriptor the cache can hold: host memory, few dimensions, no suboffsets (and, checked when
// it is remembered, a format shorter than kFormatText).
inline bool cacheable(const BfBuffer *desc) {
  return desc->data && desc->ndim >= 0 && desc->ndim <= kCacheDims && !desc->suboffsets &&
         desc->device.device_type == BF_DEVICE_CPU && desc->device.device_id == 0;
}

inline ValidExport &entry_for(const BfBuffer *desc) {
  const auto key = (uintptr_t) desc->data ^ ((uintptr_t) desc->shape >> 3);
  return valid_exports[(key ^ (key >> 7) ^ (key >> 17)) % kCacheEntries];
}

// Whether `e` remembers the validation of exactly this descriptor and request (see the header).
inline bool remembers(const ValidExport &e, const BfBuffer *desc, int flags) {
  if (e.flags != flags || std::memcmp(&e.desc, desc, sizeof(BfBuffer)) != 0) return false;
  for (int i = 0; i < desc->ndim; ++i)
    if (e.shape[i] != desc->shape[i]) return false;
  if (desc->strides)
    for (int i = 0; i < desc->ndim; ++i)
      if (e.strides[i] != desc->strides[i]) return false;
  return same_text(e.format, desc->format ? desc->format : "B");
}

// Remember a successful validation of `desc` (a cacheable descriptor) that filled `view`.
void remember(ValidExport &e, const BfBuffer *desc, int flags, const Py_buffer *view) {
  if (!keep_text(e.format, desc->format ? desc->format : "B")) return;  // the entry stays as it was
  if (e.desc.data && e.view.internal) --static_cast<StrideSlot *>(e.view.internal)->live;
  e.desc = *desc;
  e.flags = flags;
  for (int i = 0; i < desc->ndim; ++i) e.shape[i] = desc->shape[i];
  if (desc->strides)
    for (int i = 0; i < desc->ndim; ++i) e.strides[i] = desc->strides[i];
  e.view = *view;
  e.strides_at_itemsize = view->strides == &view->itemsize;
  if (e.view.internal) ++static_cast<StrideSlot *>(e.view.internal)->live;  // the entry's count
}

// The export of a descriptor the cache does not remember (entry `e`, or NULL for one it cannot
// hold): validated in full, then remembered. Out of line, so that the hit path in export_buffer
// stays short and needs few registers.
[[gnu::noinline]] int export_checked(PyObject *exporter, Py_buffer *view, const BfBuffer *desc,
                                     int flags, ValidExport *e) {
  view->obj = nullptr;
  if (!exporter || !desc) {
    PyErr_SetString(PyExc_BufferError, exporter ? "export_buffer: descriptor is NULL"
                                                : "export_buffer: exporter is NULL");
    return -1;
  }
  if (validate_and_fill(exporter, view, desc, flags) != 0) return -1;
  // Only slot-backed strides are shared; a PyMem_Malloc block belongs to this one export.
  if (e && (!view->internal || is_slot(view->internal))) remember(*e, desc, flags, view);
  view->obj = Py_NewRef(exporter);
  return 0;
}

}  // namespace

int export_buffer(PyObject *exporter, Py_buffer *view, const BfBuffer *desc, int flags) {
  if (!view) {
    PyErr_SetString(PyExc_BufferError, "export_buffer: view is NULL");
    return -1;
  }
  if (!exporter || !desc || !cacheable(desc))
    return export_checked(exporter, view, desc, flags, nullptr);
  ValidExport &e = entry_for(desc);
  if (!remembers(e, desc, flags)) return export_checked(exporter, view, desc, flags, &e);
  *view = e.view;
  if (e.strides_at_itemsize) view->strides = &view->itemsize;
  if (view->internal) ++static_cast<StrideSlot *>(view->internal)->live;
  view->obj = Py_NewRef(exporter);
  return 0;
}

void release_buffer(Py_buffer *view) {
  if (view && view->internal) {
    if (is_slot(view->internal))
      --static_cast<StrideSlot *>(view->internal)->live;
    else
      PyMem_Free(view->internal);
    view->internal = nullptr;
  }
}

int export_any_device(PyObject *exporter, Py_buffer *view, int flags, BfDevice *device) {
  DeviceRequest request{exporter, BfDevice{BF_DEVICE_CPU, 0}};
  DeviceRequest *outer = device_request;
  device_request = &request;
  const int rc = PyObject_GetBuffer(exporter, view, flags);
  device_request = outer;
  *device = request.device;
  return rc;
}

int check_request(PyObject *owner, const BfBuffer *desc, int flags) {
  // The engine itself is the check: a throwaway export validates the descriptor and the request by
  // exactly the rules every export obeys, and is undone at once.
  Py_buffer probe;
  if (export_buffer(owner, &probe, desc, flags) != 0) return -1;
  release_buffer(&probe);
  Py_DECREF(probe.obj);
  return 0;
}

}  // namespace bf
