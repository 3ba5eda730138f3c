// arrow_import.cpp -- a 1-D Arrow array as a consumer acquisition (BfApi.acquire_arrow): only a
// primitive fixed-width array with no nulls is a buffer; every other layout (dictionary-encoded,
// nested, variable-size, bit-packed booleans, temporal types) is refused with BufferError naming
// its Arrow type.
//
// Lifetime: the ArrowArray is moved out of the producer's capsule into ArrowImport (the capsule's
// copy is marked released, so its destructor does nothing); the acquisition's last decref calls
// the producer's release callback exactly once. The schema is only read, then released with its
// capsule.
#include <new>
#include <string>

#include "arrow_c.h"
#include "scalar_types.h"

namespace bf {
using namespace abi;

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

// The buffer format and item size of a schema of an Arrow fixed-width primitive type, or NULL
// with BufferError naming the type.
const char *buffer_format(const ArrowSchema &schema, int64_t &itemsize) {
  std::string why;
  const char *format = primitive_format(schema, itemsize, why);
  if (format == nullptr) PyErr_SetString(PyExc_BufferError, why.c_str());
  return format;
}

}  // namespace

int acquire_arrow(PyObject *obj, int flags, BfBuffer *out, BfAcquisition **acq) {
  *acq = nullptr;
  PyObject *pair = PyObject_CallMethod(obj, "__arrow_c_array__", nullptr);
  if (pair == nullptr) {
    if (PyErr_ExceptionMatches(PyExc_AttributeError)) {
      PyErr_Clear();
      PyErr_Format(PyExc_TypeError,
                   "%.200s does not support the Arrow PyCapsule interface "
                   "(no __arrow_c_array__ method)",
                   Py_TYPE(obj)->tp_name);
    }
    return -1;
  }
  ArrowSchema *schema = nullptr;
  ArrowArray *source = nullptr;
  if (!array_pair_capsules(pair, obj, &schema, &source)) {
    Py_DECREF(pair);
    return -1;
  }
  auto *im = new (std::nothrow) ArrowImport{};
  if (im == nullptr) {
    Py_DECREF(pair);
    return PyErr_NoMemory(), -1;
  }
  im->array = *source;  // move: the capsule's struct is marked released
  source->release = nullptr;

  int64_t itemsize = 0;
  const char *format = buffer_format(*schema, itemsize);
  Py_DECREF(pair);  // releases the schema (we copied nothing out of it but `format`,
                    // which points at our static table)
  const ArrowArray &a = im->array;
  if (format != nullptr) {
    if (a.dictionary != nullptr) {
      PyErr_SetString(PyExc_BufferError,
                      "the Arrow array is dictionary-encoded but its schema "
                      "says it is not: refused");
    } else if (a.n_buffers != 2 || a.n_children != 0 || a.buffers == nullptr) {
      PyErr_Format(PyExc_BufferError,
                   "the Arrow array has %lld buffers and %lld children; a "
                   "primitive array has 2 and none",
                   (long long) a.n_buffers, (long long) a.n_children);
    } else if (a.null_count > 0 || (a.null_count < 0 && a.buffers[0] != nullptr)) {
      // null_count -1 means "not computed": with a validity bitmap there may be nulls.
      PyErr_Format(
          PyExc_BufferError,
          "the Arrow array has %s null(s); a buffer view cannot "
          "represent nulls",
          a.null_count > 0 ? std::to_string(a.null_count).c_str() : "an unknown number of");
    } else {
      im->shape[0] = a.length;
      im->strides[0] = itemsize;
      const char *values = static_cast<const char *>(a.buffers[1]);
      *out = BfBuffer{const_cast<char *>(values) + a.offset * itemsize,
                      itemsize,
                      format,
                      1,
                      /*readonly=*/1,
                      im->shape,
                      im->strides,
                      nullptr,
                      BfDevice{BF_DEVICE_CPU, 0}};
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
