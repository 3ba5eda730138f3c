// arrow.cpp -- the Arrow PyCapsule interface for 1-D exports of fixed-width primitive types:
// __arrow_c_schema__ and __arrow_c_array__, built on the object's own buffer export.
//
// Lifetime design
//   __arrow_c_array__ takes ONE buffer export of `self` and parks it in the ArrowArray's
//   private_data (ArrowExport), together with the two-entry `buffers` array the C Data Interface
//   wants ([no validity bitmap, values]). The ArrowArray's release callback is the only place that
//   export is released (PyBuffer_Release, under the GIL) and private_data freed; it then sets
//   release = NULL, as the interface requires. Consumers may move the struct (memcpy it elsewhere
//   and mark the source released): nothing here depends on the struct's address, only on
//   private_data. The "arrow_array" capsule owns the struct; its destructor calls release only if
//   nobody moved the array out, then frees the struct. Schemas own nothing but static strings.
#include "arrow.h"

#include <cstdlib>
#include <cstring>
#include <string>

#include "interop_abi.h"
#include "scalar_types.h"

namespace bf {
using namespace abi;

namespace {

constexpr const char *kSchemaCapsule = "arrow_schema";
constexpr const char *kArrayCapsule = "arrow_array";

struct ArrowExport {
  Py_buffer view;
  const void *buffers[2];
};

// Arrow's format string for a buffer format, or NULL with BufferError when Arrow has no
// fixed-width primitive type for it.
const char *arrow_format(const Py_buffer &view) {
  BfFormatInfo info;
  const char *fmt = view.format ? view.format : "B";
  if (parse_format(fmt, &info) != 0) return nullptr;
  const BfDataType t = info.dtype;
  if (t.code != BF_DTYPE_NONE && !info.native_order) {
    PyErr_Format(PyExc_BufferError, "format '%s' is not in this machine's byte order; Arrow "
                 "arrays are native-endian", fmt);
    return nullptr;
  }
  if (t.code == BF_DTYPE_BOOL) {
    PyErr_SetString(PyExc_BufferError, "Arrow booleans are bit-packed: a one-byte-per-value "
                    "'?' buffer cannot be shared with Arrow without a copy");
    return nullptr;
  }
  const ScalarType *s = t.code == BF_DTYPE_NONE ? nullptr : scalar_by_dtype(t);
  if (s != nullptr && s->arrow != nullptr) return s->arrow;
  PyErr_Format(PyExc_BufferError, "Arrow has no fixed-width primitive type for format '%s'", fmt);
  return nullptr;
}

// The export behind both methods: 1-D, contiguous, with an Arrow type.
int export_1d(PyObject *self, Py_buffer &view, const char *&format) {
  if (PyObject_GetBuffer(self, &view, PyBUF_RECORDS_RO) != 0) return -1;
  if (view.ndim != 1) {
    PyErr_Format(PyExc_BufferError, "an Arrow array is 1-D; this export has %d dimensions",
                 view.ndim);
  } else if (view.strides != nullptr && view.strides[0] != view.itemsize && view.shape[0] > 1) {
    PyErr_Format(PyExc_BufferError, "an Arrow array is contiguous; this export has stride %zd "
                 "for itemsize %zd", view.strides[0], view.itemsize);
  } else if ((format = arrow_format(view)) != nullptr) {
    return 0;
  }
  PyBuffer_Release(&view);
  return -1;
}

void release_schema(ArrowSchema *schema) { schema->release = nullptr; }

void release_array(ArrowArray *array) {
  auto *ex = static_cast<ArrowExport *>(array->private_data);
  release_with_gil([ex] { PyBuffer_Release(&ex->view); });  // any thread, even after shutdown
  std::free(ex);
  array->release = nullptr;
}

void schema_capsule_destructor(PyObject *capsule) {
  auto *schema = static_cast<ArrowSchema *>(PyCapsule_GetPointer(capsule, kSchemaCapsule));
  if (schema == nullptr) { PyErr_WriteUnraisable(capsule); return; }
  if (schema->release) schema->release(schema);
  std::free(schema);
}

void array_capsule_destructor(PyObject *capsule) {
  auto *array = static_cast<ArrowArray *>(PyCapsule_GetPointer(capsule, kArrayCapsule));
  if (array == nullptr) { PyErr_WriteUnraisable(capsule); return; }
  if (array->release) array->release(array);
  std::free(array);
}

PyObject *new_schema_capsule(const char *format) {
  auto *schema = static_cast<ArrowSchema *>(std::malloc(sizeof(ArrowSchema)));
  if (schema == nullptr) return PyErr_NoMemory();
  *schema = ArrowSchema{format, "", nullptr, 0, 0, nullptr, nullptr, release_schema, nullptr};
  PyObject *capsule = PyCapsule_New(schema, kSchemaCapsule, schema_capsule_destructor);
  if (capsule == nullptr) std::free(schema);
  return capsule;
}

}  // namespace

PyObject *arrow_schema_method(PyObject *self, PyObject *) {
  Py_buffer view;
  const char *format;
  if (export_1d(self, view, format) != 0) return nullptr;
  PyBuffer_Release(&view);
  return new_schema_capsule(format);
}

PyObject *arrow_array_method(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                             PyObject *kwnames) {
  Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
  if (nargs + nkw > 1 ||
      (nkw == 1 && PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0),
                                                    "requested_schema") != 0)) {
    PyErr_SetString(PyExc_TypeError,
                    "__arrow_c_array__() takes one optional argument, requested_schema");
    return nullptr;
  }
  // A requested schema may be honoured or ignored (the consumer then casts); we always answer
  // with the exported type, but a wrong kind of object is still an error.
  PyObject *requested = nargs + nkw == 1 ? args[0] : Py_None;
  if (requested != Py_None && !PyCapsule_IsValid(requested, kSchemaCapsule)) {
    PyErr_SetString(PyExc_TypeError,
                    "requested_schema must be None or an 'arrow_schema' PyCapsule");
    return nullptr;
  }

  Py_buffer view;
  const char *format;
  if (export_1d(self, view, format) != 0) return nullptr;
  auto *ex = static_cast<ArrowExport *>(std::malloc(sizeof(ArrowExport)));
  auto *array = static_cast<ArrowArray *>(std::malloc(sizeof(ArrowArray)));
  if (ex == nullptr || array == nullptr) {
    std::free(ex);
    std::free(array);
    PyBuffer_Release(&view);
    return PyErr_NoMemory();
  }
  ex->view = view;
  ex->buffers[0] = nullptr;  // no validity bitmap: no nulls
  ex->buffers[1] = view.buf;
  *array = ArrowArray{view.shape[0], 0, 0, 2, 0, ex->buffers, nullptr, nullptr, release_array, ex};
  PyObject *array_capsule = PyCapsule_New(array, kArrayCapsule, array_capsule_destructor);
  if (array_capsule == nullptr) {
    release_array(array);
    std::free(array);
    return nullptr;
  }
  PyObject *schema_capsule = new_schema_capsule(format);
  if (schema_capsule == nullptr) {
    Py_DECREF(array_capsule);
    return nullptr;
  }
  PyObject *pair = PyTuple_Pack(2, schema_capsule, array_capsule);
  Py_DECREF(schema_capsule);
  Py_DECREF(array_capsule);
  return pair;
}

}  // namespace bf

// ---- import: a 1-D Arrow array as a consumer acquisition ---------------------------------------
//
// Lifetime: the ArrowArray is moved out of the producer's capsule into ArrowImport (the capsule's
// copy is marked released, so its destructor does nothing); the acquisition's last decref calls
// the producer's release callback exactly once. The schema is only read, then released with its
// capsule.
namespace bf {
namespace {

struct ArrowImport {
  ArrowArray array;
  int64_t shape[1];
  int64_t strides[1];
};

void release_arrow_import(void *ctx) {
  auto *im = static_cast<ArrowImport *>(ctx);
  if (im->array.release) im->array.release(&im->array);
  delete im;
}

// The buffer format and item size of an Arrow primitive format string, or NULL with BufferError.
const char *buffer_format(const char *arrow, int64_t &itemsize) {
  if (const ScalarType *s = scalar_by_arrow(arrow)) return itemsize = s->dtype.bits / 8, s->format;
  PyErr_Format(PyExc_BufferError, "Arrow type '%s' is not a fixed-width primitive type that a "
               "buffer can describe (booleans are bit-packed; nested and variable-size types "
               "have several buffers)", arrow);
  return nullptr;
}

}  // namespace

int acquire_arrow(PyObject *obj, int flags, BfBuffer *out, BfAcquisition **acq) {
  *acq = nullptr;
  PyObject *pair = PyObject_CallMethod(obj, "__arrow_c_array__", nullptr);
  if (pair == nullptr) {
    if (PyErr_ExceptionMatches(PyExc_AttributeError)) {
      PyErr_Clear();
      PyErr_Format(PyExc_TypeError, "%.200s does not support the Arrow PyCapsule interface "
                   "(no __arrow_c_array__ method)", Py_TYPE(obj)->tp_name);
    }
    return -1;
  }
  ArrowSchema *schema = nullptr;
  ArrowArray *source = nullptr;
  if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2 ||
      !(schema = static_cast<ArrowSchema *>(
            PyCapsule_GetPointer(PyTuple_GET_ITEM(pair, 0), kSchemaCapsule))) ||
      !(source = static_cast<ArrowArray *>(
            PyCapsule_GetPointer(PyTuple_GET_ITEM(pair, 1), kArrayCapsule)))) {
    PyErr_Clear();
    PyErr_Format(PyExc_TypeError, "%.200s.__arrow_c_array__() must return a tuple of "
                 "'arrow_schema' and 'arrow_array' capsules", Py_TYPE(obj)->tp_name);
    Py_DECREF(pair);
    return -1;
  }
  auto *im = new (std::nothrow) ArrowImport{};
  if (im == nullptr) { Py_DECREF(pair); return PyErr_NoMemory(), -1; }
  im->array = *source;          // move: the capsule's struct is marked released
  source->release = nullptr;

  int64_t itemsize = 0;
  const char *format = buffer_format(schema->format, itemsize);
  Py_DECREF(pair);              // releases the schema (we copied nothing out of it but `format`,
                                // which points at our static table)
  const ArrowArray &a = im->array;
  if (format != nullptr) {
    if (a.n_buffers != 2 || a.n_children != 0 || a.buffers == nullptr) {
      PyErr_Format(PyExc_BufferError, "the Arrow array has %lld buffers and %lld children; a "
                   "primitive array has 2 and none", (long long)a.n_buffers,
                   (long long)a.n_children);
    } else if (a.null_count > 0 || (a.null_count < 0 && a.buffers[0] != nullptr)) {
      // null_count -1 means "not computed": with a validity bitmap there may be nulls.
      PyErr_Format(PyExc_BufferError, "the Arrow array has %s null(s); a buffer view cannot "
                   "represent nulls", a.null_count > 0 ? std::to_string(a.null_count).c_str()
                                                       : "an unknown number of");
    } else {
      im->shape[0] = a.length;
      im->strides[0] = itemsize;
      const char *values = static_cast<const char *>(a.buffers[1]);
      *out = BfBuffer{const_cast<char *>(values) + a.offset * itemsize, itemsize, format, 1,
                      /*readonly=*/1, im->shape, im->strides, nullptr, BfDevice{BF_DEVICE_CPU, 0}};
      if (a.length == 0 && values == nullptr) out->data = nullptr;
      if (check_request(obj, out, flags) == 0) {
        *acq = acquisition_new_foreign(obj, im, release_arrow_import);
        if (*acq != nullptr) return 0;
      }
    }
  }
  release_arrow_import(im);
  return -1;
}

}  // namespace bf
