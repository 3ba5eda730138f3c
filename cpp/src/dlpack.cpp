// dlpack.cpp -- DLPack for every bufferable exporter: __dlpack__ / __dlpack_device__ built on the
// object's own buffer export, so any type the core exports (the testing Producer, Mojo Bufferable
// types, C/C++ producers) speaks DLPack with no code of its own.
//
// Lifetime design
//   __dlpack__ takes ONE buffer export of `self` (PyObject_GetBuffer, RECORDS_RO) and parks the
//   Py_buffer in a heap block (DLPackExport) that also holds the managed tensor and its shape and
//   strides arrays: one allocation per capsule. The block belongs to exactly one party at a time:
//     - the capsule, while its name is still "dltensor[_versioned]": its destructor calls the
//       deleter (a capsule that is never consumed still releases the export);
//     - the consumer, once it renamed the capsule "used_dltensor[_versioned]": it calls the
//       deleter when done (possibly on another thread, without the GIL).
//   The deleter is the only place the export is released (PyBuffer_Release, under the GIL) and the
//   block freed. So the producer's release runs exactly once per capsule, and its memory (held by
//   view.obj) outlives every consumer of the tensor.
//   With copy=True the data is copied into a private C-contiguous block, the export is released at
//   once, and the tensor is flagged IS_COPIED.
//
// The C exchange API (DLPack 1.3, interop_abi.h): install_interop also gives the type a capsule
// `__dlpack_c_exchange_api__` holding one static table whose managed_tensor_from_py_object_no_sync
// makes exactly the tensor __dlpack__(max_version=(1, 1)) would, without a capsule or a Python
// call. On import, acquire_dlpack calls a producer's table when the object's type has one.
//
// Devices: the export is made through export_any_device(), so memory the descriptor places on a
//   device (which the buffer protocol refuses) is exported here, with the descriptor's device in
//   the DLTensor and in __dlpack_device__.
#include "dlpack.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "interop_abi.h"
#include "scalar_types.h"

namespace bf {
using namespace abi;

namespace {

constexpr const char *kCapsuleVersioned = "dltensor_versioned";
constexpr const char *kCapsuleLegacy = "dltensor";

struct DLPackExport {
  Py_buffer view;  // the export this tensor borrows; view.obj == NULL when copied
  void *copy;      // the private copy (copy=True), else NULL
  bool pooled;     // allocated with room for kPooledDims (may go back to the pool)
  union {
    DLManagedTensorVersioned versioned;
    DLManagedTensor legacy;
  } tensor;
  int64_t dims[];  // shape[ndim] then strides[ndim], in elements
};

// Blocks of tensors of up to kPooledDims dimensions are recycled: the deleter that releases an
// export (holding the GIL) puts its block on a short free list that __dlpack__ (GIL held too)
// takes from, so exporting and consuming a capsule in a loop allocates nothing. The GIL guards it.
constexpr int kPooledDims = 8;
constexpr size_t kPooledSize = sizeof(DLPackExport) + 2 * sizeof(int64_t) * kPooledDims;
DLPackExport *pool[16];
int pool_count = 0;

// The strides, in elements, of a C-contiguous tensor of `shape`.
void c_order_strides(const int64_t *shape, int ndim, int64_t *strides) {
  int64_t step = 1;
  for (int d = ndim - 1; d >= 0; --d) {
    strides[d] = step;
    step *= shape[d];
  }
}

// A block for a tensor of `ndim` dimensions (GIL held); NULL when out of memory.
DLPackExport *alloc_export(int ndim) {
  if (ndim <= kPooledDims && pool_count > 0) return pool[--pool_count];
  const bool pooled = ndim <= kPooledDims;
  auto *ex = static_cast<DLPackExport *>(std::malloc(
      pooled ? kPooledSize : sizeof(DLPackExport) + 2 * sizeof(int64_t) * (size_t) ndim));
  if (ex != nullptr) ex->pooled = pooled;
  return ex;
}

void free_export(DLPackExport *ex) {
  // A deleter may run on any thread, even after the interpreter is gone (see release_with_gil).
  std::free(ex->copy);
  ex->copy = nullptr;
  bool kept = false;
  if (ex->view.obj != nullptr) {
    release_with_gil([ex, &kept] {
      PyBuffer_Release(&ex->view);
      if (ex->pooled && pool_count < 16) {
        pool[pool_count++] = ex;
        kept = true;
      }
    });
  }
  if (!kept) std::free(ex);
}

void delete_versioned(DLManagedTensorVersioned *self) {
  free_export(static_cast<DLPackExport *>(self->manager_ctx));
}
void delete_legacy(DLManagedTensor *self) {
  free_export(static_cast<DLPackExport *>(self->manager_ctx));
}

// Capsule destructors: only an unconsumed capsule (still carrying the original name) owns the
// tensor. PyCapsule_IsValid sets no exception.
void capsule_versioned_destructor(PyObject *capsule) {
  if (PyCapsule_IsValid(capsule, kCapsuleVersioned)) {
    auto *t =
        static_cast<DLManagedTensorVersioned *>(PyCapsule_GetPointer(capsule, kCapsuleVersioned));
    t->deleter(t);
  }
}
void capsule_legacy_destructor(PyObject *capsule) {
  if (PyCapsule_IsValid(capsule, kCapsuleLegacy)) {
    auto *t = static_cast<DLManagedTensor *>(PyCapsule_GetPointer(capsule, kCapsuleLegacy));
    t->deleter(t);
  }
}

// The arguments of __dlpack__, all keyword-only (Python array API standard, DLPack 1.x).
struct DLPackRequest {
  bool versioned = false;  // the consumer passed max_version with major >= 1
  uint32_t max_minor = 0;  // the highest minor version of major 1 the consumer reads
  int copy = -1;           // -1 None (no copy), 0 False (never copy), 1 True (always copy)
  bool stream = false;     // a stream other than None was given
  bool dl_device = false;  // a target device was given: `device`
  BfDevice device{BF_DEVICE_CPU, 0};
};

// The request against the device the memory is on (known once the export is made): no stream
// for host memory (nothing to synchronise; bufferable synchronises no device stream either: a
// producer of device memory exports it ready), no target device other than its own, and no copy
// of memory the CPU cannot read. 0, or -1 with an exception set.
int check_device(const DLPackRequest &req, BfDevice device) {
  if (req.stream && host_memory(device))
    return fail_with(PyExc_ValueError,
                     "__dlpack__: stream must be None for host memory "
                     "(device (%d, %d))",
                     (int) device.device_type, (int) device.device_id);
  if (req.dl_device &&
      (req.device.device_type != device.device_type || req.device.device_id != device.device_id))
    return fail_with(PyExc_BufferError,
                     "__dlpack__: the memory is on device (%d, %d); it "
                     "cannot be exported to device (%d, %d)",
                     (int) device.device_type, (int) device.device_id, (int) req.device.device_type,
                     (int) req.device.device_id);
  if (req.copy == 1 && !host_memory(device))
    return fail_with(PyExc_BufferError,
                     "__dlpack__: the memory is on device (%d, %d), "
                     "which the CPU cannot copy (copy=True)",
                     (int) device.device_type, (int) device.device_id);
  return 0;
}

bool parse_int_pair(PyObject *obj, const char *what, long long &a, long long &b) {
  if (!PyTuple_Check(obj) || PyTuple_GET_SIZE(obj) != 2) {
    PyErr_Format(PyExc_TypeError, "__dlpack__: %s must be a tuple of two ints, not %R", what, obj);
    return false;
  }
  a = PyLong_AsLongLong(PyTuple_GET_ITEM(obj, 0));
  if (a == -1 && PyErr_Occurred()) return false;
  b = PyLong_AsLongLong(PyTuple_GET_ITEM(obj, 1));
  return !(b == -1 && PyErr_Occurred());
}

// The keyword names of __dlpack__, interned once. Callers (numpy, torch, CPython's own call
// machinery for literal keywords) pass interned names, so a pointer comparison decides; any other
// string object falls back to comparing characters.
enum Keyword { kMaxVersion, kStream, kDlDevice, kCopy, kUnknown };

Keyword keyword_of(PyObject *key) {
  static const char *const names[] = {"max_version", "stream", "dl_device", "copy"};
  static PyObject *const *interned = [] {
    static PyObject *table[4];
    for (int i = 0; i < 4; ++i)
      if ((table[i] = PyUnicode_InternFromString(names[i])) == nullptr)
        PyErr_Clear();  // compare chars
    return table;
  }();
  for (int i = 0; i < 4; ++i)
    if (key == interned[i]) return static_cast<Keyword>(i);
  for (int i = 0; i < 4; ++i)
    if (PyUnicode_CompareWithASCIIString(key, names[i]) == 0) return static_cast<Keyword>(i);
  return kUnknown;
}

bool parse_request(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, DLPackRequest &req) {
  if (nargs != 0) {
    PyErr_SetString(PyExc_TypeError,
                    "__dlpack__() takes keyword-only arguments "
                    "(stream, max_version, dl_device, copy)");
    return false;
  }
  Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
  for (Py_ssize_t i = 0; i < nkw; ++i) {
    PyObject *key = PyTuple_GET_ITEM(kwnames, i), *value = args[i];
    const Keyword which = keyword_of(key);
    if (which == kMaxVersion) {
      if (value == Py_None) continue;
      long long major, minor;
      if (!parse_int_pair(value, "max_version", major, minor)) return false;
      req.versioned = major >= 1;
      req.max_minor = major > 1 ? kDLPackMinor : (uint32_t) (minor < 0 ? 0 : minor);
    } else if (which == kStream) {
      req.stream = value != Py_None;
    } else if (which == kDlDevice) {
      if (value == Py_None) continue;
      long long type, id;
      if (!parse_int_pair(value, "dl_device", type, id)) return false;
      if (type < INT32_MIN || type > INT32_MAX || id < INT32_MIN || id > INT32_MAX) {
        PyErr_Format(PyExc_BufferError, "__dlpack__: no device (%lld, %lld)", type, id);
        return false;
      }
      req.dl_device = true;
      req.device = BfDevice{(int32_t) type, (int32_t) id};
    } else if (which == kCopy) {
      if (value == Py_None) continue;
      int truth = PyObject_IsTrue(value);
      if (truth < 0) return false;
      req.copy = truth;
    } else {
      PyErr_Format(PyExc_TypeError, "__dlpack__() got an unexpected keyword argument %R", key);
      return false;
    }
  }
  return true;
}

}  // namespace

int dlpack_dtype(const Py_buffer &view, DLDataType &dtype) {
  // The common case without the format parser: one native-order letter.
  if (const ScalarType *s = scalar_by_letter(view.format)) {
    dtype = DLDataType{s->dtype.code, s->dtype.bits, s->dtype.lanes};
    return 0;
  }
  BfFormatInfo info;
  if (parse_format(view.format, &info) != 0) return -1;
  if (std::strchr(view.format, ':') != nullptr || std::strstr(view.format, "T{") != nullptr) {
    PyErr_Format(PyExc_BufferError,
                 "DLPack has no record type: format '%s' is a struct (named fields or T{...}); "
                 "read it through the buffer protocol (memoryview, numpy's structured arrays)",
                 view.format);
    return -1;
  }
  if (info.dtype.code == BF_DTYPE_NONE || info.dtype.lanes != 1) {
    PyErr_Format(PyExc_BufferError,
                 "DLPack has no data type for format '%s' (only single scalars are supported)",
                 view.format ? view.format : "B");
    return -1;
  }
  if (!info.native_order) {
    PyErr_Format(PyExc_BufferError,
                 "format '%s' is not in this machine's byte order; DLPack carries native order "
                 "only",
                 view.format);
    return -1;
  }
  dtype = DLDataType{info.dtype.code, info.dtype.bits, info.dtype.lanes};
  return 0;
}

namespace {

// One export of `self` as a managed tensor (versioned or legacy, as `req` asks), in a DLPackExport
// block whose deleter releases the export. NULL with an exception set on failure.
DLPackExport *make_tensor(PyObject *self, const DLPackRequest &req) {
  // One export of self: strides and format, read-only is fine (the flag travels in the tensor),
  // on whatever device the memory is.
  Py_buffer view;
  BfDevice device;
  if (export_any_device(self, &view, PyBUF_RECORDS_RO, &device) != 0) return nullptr;
  if (check_device(req, device) != 0) {
    PyBuffer_Release(&view);
    return nullptr;
  }

  DLDataType dtype;
  const int ndim = view.ndim;
  if (dlpack_dtype(view, dtype) != 0) {
    PyBuffer_Release(&view);
    return nullptr;
  }
  // The float8 type codes were named in DLPack 1.1, but consumers that ask for (1, 0) read them
  // (torch 2.x asks for (1, 0) and exports float8 itself in 1.0 capsules; a consumer that does
  // not know a code refuses the tensor by its dtype). Only pre-1.0 (legacy) consumers are refused.
  if (dtype.code >= BF_DTYPE_FLOAT8_E3M4 && !req.versioned) {
    PyBuffer_Release(&view);
    PyErr_Format(PyExc_BufferError,
                 "format '%s' needs a versioned DLPack capsule (float8 type "
                 "codes, DLPack 1.1); the consumer asked for a legacy one",
                 view.format);
    return nullptr;
  }
  if (view.readonly && !req.versioned && req.copy != 1) {
    PyBuffer_Release(&view);
    PyErr_SetString(PyExc_BufferError,
                    "cannot export a read-only buffer as a legacy DLPack capsule, which has no "
                    "read-only flag; ask for max_version >= (1, 0)");
    return nullptr;
  }

  DLPackExport *ex = alloc_export(ndim);
  if (ex == nullptr) {
    PyBuffer_Release(&view);
    PyErr_NoMemory();
    return nullptr;
  }
  ex->view = view;
  ex->copy = nullptr;
  int64_t *shape = ex->dims, *strides = ex->dims + ndim;
  const int64_t itemsize = view.itemsize;
  for (int d = 0; d < ndim; ++d) shape[d] = view.shape[d];
  if (req.copy == 1) {
    // A private C-contiguous copy, owned by the tensor; the export goes back at once.
    ex->copy = std::malloc(view.len > 0 ? (size_t) view.len : 1);
    if (ex->copy == nullptr || PyBuffer_ToContiguous(ex->copy, &view, view.len, 'C') != 0) {
      if (ex->copy == nullptr) PyErr_NoMemory();
      free_export(ex);
      return nullptr;
    }
    c_order_strides(shape, ndim, strides);
    PyBuffer_Release(&ex->view);
    ex->view.obj = nullptr;
  } else if (view.strides == nullptr) {  // exporters may leave C-contiguous strides implicit
    c_order_strides(shape, ndim, strides);
  } else {
    for (int d = 0; d < ndim; ++d) {
      if (view.strides[d] % itemsize != 0) {
        PyErr_Format(PyExc_BufferError,
                     "stride %zd bytes of dimension %d is not a multiple of the itemsize %zd; "
                     "DLPack counts strides in elements",
                     view.strides[d], d, view.itemsize);
        free_export(ex);
        return nullptr;
      }
      strides[d] = view.strides[d] / itemsize;
    }
  }

  const DLDevice dl_device =
      ex->copy ? DLDevice{BF_DEVICE_CPU, 0} : DLDevice{device.device_type, device.device_id};
  DLTensor t{ex->copy ? ex->copy : view.buf, dl_device, ndim, dtype, ndim ? shape : nullptr,
             ndim ? strides : nullptr,       0};
  if (req.versioned) {
    auto &m = ex->tensor.versioned;
    m.version =
        DLPackVersion{kDLPackMajor, req.max_minor < kDLPackMinor ? req.max_minor : kDLPackMinor};
    m.manager_ctx = ex;
    m.deleter = delete_versioned;
    m.flags = (ex->copy ? kDLFlagIsCopied : (view.readonly ? kDLFlagReadOnly : 0));
    m.dl_tensor = t;
  } else {
    auto &m = ex->tensor.legacy;
    m.manager_ctx = ex;
    m.deleter = delete_legacy;
    m.dl_tensor = t;
  }
  return ex;
}

}  // namespace

PyObject *dlpack_method(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                        PyObject *kwnames) {
  DLPackRequest req;
  if (!parse_request(args, nargs, kwnames, req)) return nullptr;
  DLPackExport *ex = make_tensor(self, req);
  if (ex == nullptr) return nullptr;
  PyObject *capsule =
      req.versioned
          ? PyCapsule_New(&ex->tensor.versioned, kCapsuleVersioned, capsule_versioned_destructor)
          : PyCapsule_New(&ex->tensor.legacy, kCapsuleLegacy, capsule_legacy_destructor);
  if (capsule == nullptr) free_export(ex);
  return capsule;
}

int dlpack_managed_tensor(PyObject *self, abi::DLManagedTensorVersioned **out) {
  DLPackRequest req;
  req.versioned = true;
  req.max_minor = kDLPackMinor;
  DLPackExport *ex = make_tensor(self, req);
  *out = ex ? &ex->tensor.versioned : nullptr;
  return ex ? 0 : -1;
}

PyObject *exchange_attribute() {
  static PyObject *name = PyUnicode_InternFromString(kExchangeAttribute);
  return name;
}

// ---- the exchange API every bufferable exporter's type carries --------------------------------
namespace {

int exchange_from_py_object(void *py_object, DLManagedTensorVersioned **out) {
  return dlpack_managed_tensor(static_cast<PyObject *>(py_object), out);
}

// A fresh C-contiguous CPU tensor shaped like `prototype`, owned by its deleter (a DLPackExport
// with no buffer export, only the private block).
int exchange_allocate(DLTensor *prototype, DLManagedTensorVersioned **out, void *error_ctx,
                      void (*set_error)(void *, const char *, const char *)) {
  *out = nullptr;
  const int ndim = prototype->ndim;
  int64_t nbytes = ((int64_t) prototype->dtype.bits * prototype->dtype.lanes + 7) / 8;
  const char *problem = nullptr;
  char text[80];
  if (prototype->device.device_type != BF_DEVICE_CPU)
    problem = "bufferable allocates CPU memory only";
  else if (prototype->dtype.bits == 0 || prototype->dtype.lanes == 0) {
    std::snprintf(text, sizeof text, "a DLPack data type of %u bits and %u lanes has no size",
                  (unsigned) prototype->dtype.bits, (unsigned) prototype->dtype.lanes);
    problem = text;
  } else if (ndim < 0 || ndim > BF_MAX_NDIM)
    problem = "ndim outside 0..64";
  for (int d = 0; problem == nullptr && d < ndim; ++d)
    if (prototype->shape[d] < 0 || __builtin_mul_overflow(nbytes, prototype->shape[d], &nbytes))
      problem = "a negative extent, or a size that overflows";
  if (problem != nullptr) {
    set_error(error_ctx, "BufferError", problem);
    return -1;
  }
  auto *ex = static_cast<DLPackExport *>(std::calloc(
      1, sizeof(DLPackExport) + 2 * sizeof(int64_t) * (size_t) ndim));  // pooled = false
  if (ex != nullptr) ex->copy = std::malloc(nbytes > 0 ? (size_t) nbytes : 1);
  if (ex == nullptr || ex->copy == nullptr) {
    std::free(ex);
    set_error(error_ctx, "MemoryError", "out of memory allocating a DLPack tensor");
    return -1;
  }
  int64_t *shape = ex->dims, *strides = ex->dims + ndim;
  for (int d = 0; d < ndim; ++d) shape[d] = prototype->shape[d];
  c_order_strides(shape, ndim, strides);
  auto &m = ex->tensor.versioned;
  m.version = DLPackVersion{kDLPackMajor, kDLPackMinor};
  m.manager_ctx = ex;
  m.deleter = delete_versioned;
  m.flags = 0;
  m.dl_tensor = DLTensor{ex->copy,
                         DLDevice{BF_DEVICE_CPU, 0},
                         ndim,
                         prototype->dtype,
                         ndim ? shape : nullptr,
                         ndim ? strides : nullptr,
                         0};
  *out = &m;
  return 0;
}

int exchange_to_py_object(DLManagedTensorVersioned *tensor, void **) {
  // The tensor is ours (stolen) even though we refuse it.
  if (tensor != nullptr && tensor->deleter != nullptr) tensor->deleter(tensor);
  PyErr_SetString(PyExc_BufferError,
                  "bufferable has no tensor type of its own to make from a DLPack tensor; view "
                  "it with MemoryView.from_dlpack or numpy.from_dlpack instead");
  return -1;
}

int exchange_current_work_stream(int32_t, int32_t, void **out_current_stream) {
  *out_current_stream = nullptr;  // CPU memory: no stream
  return 0;
}

const DLPackExchangeAPI exchange_table = {
    {{kExchangeMajor, kExchangeMinor}, nullptr},
    exchange_allocate,
    exchange_from_py_object,
    exchange_to_py_object,
    nullptr,  // no borrowed DLTensor: its shape and strides in elements would need storage
    exchange_current_work_stream,
};

}  // namespace

int install_exchange_api(PyObject *type) {
  PyObject *name = exchange_attribute();
  if (name == nullptr) return -1;
  PyObject *capsule =
      PyCapsule_New(const_cast<DLPackExchangeAPI *>(&exchange_table), kExchangeCapsule, nullptr);
  if (capsule == nullptr) return -1;
  const int rc = PyObject_SetAttr(type, name, capsule);
  Py_DECREF(capsule);
  return rc;
}

PyObject *dlpack_device_method(PyObject *self, PyObject *) {
  // The device is the descriptor's: one export tells it (any layout, released at once).
  Py_buffer view;
  BfDevice device;
  if (export_any_device(self, &view, PyBUF_FULL_RO, &device) != 0) return nullptr;
  PyBuffer_Release(&view);
  // The usual answer, (1, 0), is one tuple made once and kept (a tuple is immutable).
  static PyObject *cpu = nullptr;
  const bool on_cpu = device.device_type == BF_DEVICE_CPU && device.device_id == 0;
  if (on_cpu && cpu != nullptr) return Py_NewRef(cpu);
  PyObject *answer = Py_BuildValue("(ii)", (int) device.device_type, (int) device.device_id);
  if (on_cpu && answer != nullptr) cpu = Py_NewRef(answer);
  return answer;
}

}  // namespace bf

// ---- import: a DLPack producer's tensor as a consumer acquisition ------------------------------
//
// Lifetime: acquire_dlpack() consumes the capsule (renames it "used_dltensor[_versioned]", as the
// protocol requires), so from then on the managed tensor belongs to the acquisition, whose last
// decref calls the producer's deleter exactly once. The byte strides and the format the BfBuffer
// points at live in the same block (DLPackImport) as the tensor pointer.
namespace bf {
namespace {

struct DLPackImport {
  DLManagedTensorVersioned *versioned;  // exactly one of the two is set
  DLManagedTensor *legacy;
  int64_t byte_strides[BF_MAX_NDIM];
};

void release_import(void *ctx) {
  auto *im = static_cast<DLPackImport *>(ctx);
  if (im->versioned && im->versioned->deleter) im->versioned->deleter(im->versioned);
  if (im->legacy && im->legacy->deleter) im->legacy->deleter(im->legacy);
  delete im;
}

// The PEP 3118 format of a DLPack data type (static strings), or NULL with BufferError.
const char *format_of(const DLDataType &t) {
  if (const ScalarType *s = scalar_by_dtype(BfDataType{t.code, t.bits, t.lanes})) return s->format;
  PyErr_Format(PyExc_BufferError,
               "DLPack data type (code %d, bits %d, lanes %d) has no buffer "
               "format",
               (int) t.code, (int) t.bits, (int) t.lanes);
  return nullptr;
}

// obj.__dlpack__(max_version=(1, 1)), falling back to obj.__dlpack__() for producers that predate
// DLPack 1.0 and reject the keyword (TypeError), as numpy's from_dlpack does.
PyObject *call_dlpack(PyObject *obj) {
  PyObject *method = PyObject_GetAttrString(obj, "__dlpack__");
  if (method == nullptr) {
    if (PyErr_ExceptionMatches(PyExc_AttributeError)) {
      PyErr_Clear();
      PyErr_Format(PyExc_TypeError, "%.200s does not support DLPack (no __dlpack__ method)",
                   Py_TYPE(obj)->tp_name);
    }
    return nullptr;
  }
  PyObject *kwargs =
      Py_BuildValue("{s(ii)}", "max_version", (int) kDLPackMajor, (int) kDLPackMinor);
  PyObject *args = PyTuple_New(0);
  PyObject *capsule = (kwargs && args) ? PyObject_Call(method, args, kwargs) : nullptr;
  Py_XDECREF(kwargs);
  Py_XDECREF(args);
  if (capsule == nullptr && PyErr_ExceptionMatches(PyExc_TypeError)) {
    PyErr_Clear();
    capsule = PyObject_CallNoArgs(method);
  }
  Py_DECREF(method);
  return capsule;
}

// The exchange API table of `type` (its __dlpack_c_exchange_api__ capsule), or NULL when it has
// none (no exception). A small cache keyed by the type and its version tag (which CPython changes
// whenever an attribute of the type changes, and never reuses) saves the lookup per call.
const DLPackExchangeAPI *exchange_api_of(PyTypeObject *type) {
  struct Entry {
    PyTypeObject *type;
    unsigned int tag;
    const DLPackExchangeAPI *api;
  };
  static Entry cache[8];  // under the GIL
  const bool tagged = PyType_HasFeature(type, Py_TPFLAGS_VALID_VERSION_TAG) && type->tp_version_tag;
  Entry &e = cache[(reinterpret_cast<uintptr_t>(type) >> 4) & 7];
  if (tagged && e.type == type && e.tag == type->tp_version_tag) return e.api;
  const DLPackExchangeAPI *api = nullptr;
  PyObject *capsule = _PyType_Lookup(type, exchange_attribute());  // borrowed, no exception
  if (capsule != nullptr && PyCapsule_IsValid(capsule, kExchangeCapsule)) {
    auto *candidate =
        static_cast<const DLPackExchangeAPI *>(PyCapsule_GetPointer(capsule, kExchangeCapsule));
    // Walk the chain to a table of the major version this core reads.
    for (auto *h = &candidate->header; h != nullptr; h = h->prev_api)
      if (h->version.major == kExchangeMajor) {
        api = reinterpret_cast<const DLPackExchangeAPI *>(h);
        break;
      }
    if (api != nullptr && api->managed_tensor_from_py_object_no_sync == nullptr) api = nullptr;
  }
  if (tagged && PyType_HasFeature(type, Py_TPFLAGS_VALID_VERSION_TAG) && type->tp_version_tag)
    e = Entry{type, type->tp_version_tag, api};
  return api;
}

}  // namespace

int acquire_dlpack(PyObject *obj, int flags, BfBuffer *out, BfAcquisition **acq) {
  *acq = nullptr;
  if (exchange_attribute() == nullptr) return -1;
  auto *im = new (std::nothrow) DLPackImport{nullptr, nullptr, {}};
  if (im == nullptr) return PyErr_NoMemory(), -1;

  const DLTensor *t = nullptr;
  uint64_t dlflags = 0;
  if (const DLPackExchangeAPI *api = exchange_api_of(Py_TYPE(obj))) {
    // The producer's C function: no Python call, no capsule.
    if (api->managed_tensor_from_py_object_no_sync(obj, &im->versioned) != 0) {
      delete im;
      return -1;
    }
  } else {
    PyObject *capsule = call_dlpack(obj);
    if (capsule == nullptr) {
      delete im;
      return -1;
    }
    if (PyCapsule_IsValid(capsule, kCapsuleVersioned)) {
      im->versioned =
          static_cast<DLManagedTensorVersioned *>(PyCapsule_GetPointer(capsule, kCapsuleVersioned));
      PyCapsule_SetName(capsule, "used_dltensor_versioned");
    } else if (PyCapsule_IsValid(capsule, kCapsuleLegacy)) {
      im->legacy = static_cast<DLManagedTensor *>(PyCapsule_GetPointer(capsule, kCapsuleLegacy));
      PyCapsule_SetName(capsule, "used_dltensor");
    } else {
      PyErr_Format(PyExc_TypeError,
                   "%.200s.__dlpack__() returned %R, not an unconsumed DLPack "
                   "capsule",
                   Py_TYPE(obj)->tp_name, capsule);
      Py_DECREF(capsule);
      delete im;
      return -1;
    }
    Py_DECREF(capsule);  // the tensor is ours now: the renamed capsule's destructor leaves it alone
  }
  if (im->versioned) {
    if (im->versioned->version.major != kDLPackMajor) {
      PyErr_Format(PyExc_BufferError, "DLPack major version %u is not supported (expected %u)",
                   im->versioned->version.major, kDLPackMajor);
      release_import(im);
      return -1;
    }
    t = &im->versioned->dl_tensor;
    dlflags = im->versioned->flags;
  } else {
    t = &im->legacy->dl_tensor;
  }

  const char *format = nullptr;
  if (!host_memory(BfDevice{t->device.device_type, t->device.device_id})) {
    PyErr_Format(PyExc_BufferError,
                 "the DLPack tensor is on device (%d, %d); only CPU memory "
                 "can be viewed",
                 (int) t->device.device_type, (int) t->device.device_id);
  } else if (t->ndim < 0 || t->ndim > BF_MAX_NDIM) {
    PyErr_Format(PyExc_BufferError, "the DLPack tensor has %d dimensions (0 to %d supported)",
                 (int) t->ndim, BF_MAX_NDIM);
  } else if ((format = format_of(t->dtype)) != nullptr) {
    const int64_t itemsize = t->dtype.bits / 8;
    int64_t step = itemsize;
    for (int d = t->ndim - 1; d >= 0; --d) {
      im->byte_strides[d] = t->strides ? t->strides[d] * itemsize : step;
      step *= t->shape[d];
    }
    *out = BfBuffer{static_cast<char *>(t->data) + t->byte_offset,
                    itemsize,
                    format,
                    t->ndim,
                    (dlflags & kDLFlagReadOnly) ? 1 : 0,
                    t->shape,
                    im->byte_strides,
                    nullptr,
                    BfDevice{BF_DEVICE_CPU, 0}};
    if (check_request(obj, out, flags) == 0) {
      *acq = acquisition_new_foreign(obj, im, release_import);
      if (*acq != nullptr) return 0;
    }
  }
  release_import(im);
  return -1;
}

}  // namespace bf
