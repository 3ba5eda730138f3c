// arrow.cpp -- the Arrow PyCapsule interface of buffer exports: __arrow_c_schema__,
// __arrow_c_array__ and __arrow_c_stream__ over the object's own buffer export.
//
// A 1-D export of a fixed-width primitive type is an Arrow primitive array (buffers: no validity
// bitmap, the values). An N-D C-contiguous export is an array of the canonical extension type
// arrow.fixed_shape_tensor: a fixed-size list of the inner dimensions' element count, one list
// per index of the first dimension, over one child holding every element. The stream is one
// record batch with one column named "value" (the name DuckDB gives a plain array).
//
// Lifetime: each __arrow_c_array__/__arrow_c_stream__ call takes ONE buffer export of `self`,
// held by a Holder (arrow_c.h) that every array node and the stream reference; the last release,
// from any thread, releases the export exactly once.
#include "arrow.h"

#include <cstring>
#include <string>

#include "arrow_c.h"
#include "scalar_types.h"

namespace bf {
using namespace abi;

namespace {

constexpr const char *kColumnName = "value";

struct BufferHolder final : Holder {
  Py_buffer view;
  void finish() override { PyBuffer_Release(&view); }
};

// Arrow's format string for a buffer format, or NULL with BufferError when Arrow has no
// fixed-width primitive type for it.
const char *arrow_format(const Py_buffer &view) {
  BfFormatInfo info;
  const char *fmt = view.format ? view.format : "B";
  if (parse_format(fmt, &info) != 0) return nullptr;
  if (std::strchr(fmt, ':') != nullptr || std::strstr(fmt, "T{") != nullptr) {
    PyErr_Format(PyExc_BufferError,
                 "format '%s' is a struct (named fields or T{...}): Arrow "
                 "keeps one array per field, so an array of records would need a copy",
                 fmt);
    return nullptr;
  }
  const BfDataType t = info.dtype;
  if (t.code != BF_DTYPE_NONE && !info.native_order) {
    PyErr_Format(PyExc_BufferError,
                 "format '%s' is not in this machine's byte order; Arrow "
                 "arrays are native-endian",
                 fmt);
    return nullptr;
  }
  if (t.code == BF_DTYPE_BOOL) {
    PyErr_SetString(PyExc_BufferError,
                    "Arrow booleans are bit-packed: a one-byte-per-value "
                    "'?' buffer cannot be shared with Arrow without a copy");
    return nullptr;
  }
  const ScalarType *s = t.code == BF_DTYPE_NONE ? nullptr : scalar_by_dtype(t);
  if (s != nullptr && s->arrow != nullptr) return s->arrow;
  PyErr_Format(PyExc_BufferError, "Arrow has no fixed-width primitive type for format '%s'", fmt);
  return nullptr;
}

// The Arrow description of one export: the column's schema and array.
struct Column {
  SchemaSpec schema;
  ArraySpec array;
};

// Take one buffer export of `self` and describe it as an Arrow column. 0, or -1 with the
// export already released.
int export_column(PyObject *self, BufferHolder &h, Column &col) {
  Py_buffer &view = h.view;
  if (PyObject_GetBuffer(self, &view, PyBUF_RECORDS_RO) != 0) return -1;
  const char *format = nullptr;
  if (view.ndim == 0) {
    PyErr_SetString(PyExc_BufferError,
                    "an Arrow array has at least one dimension; this export "
                    "is 0-D");
  } else if (!PyBuffer_IsContiguous(&view, 'C')) {
    PyErr_Format(PyExc_BufferError,
                 "an Arrow array is C-contiguous; this %d-D export has "
                 "strides that are not",
                 view.ndim);
  } else if ((format = arrow_format(view)) != nullptr) {
    const int64_t n = view.shape[0];
    col.schema.format = format;
    col.schema.name = kColumnName;
    col.array.length = n;
    col.array.buffers = {nullptr, view.buf};
    if (view.ndim == 1) return 0;
    // arrow.fixed_shape_tensor: a fixed-size list of the inner dimensions' elements.
    int64_t inner = 1;
    std::string shape = "[";
    for (int d = 1; d < view.ndim; ++d) {
      inner *= view.shape[d];
      shape += (d > 1 ? "," : "") + std::to_string(view.shape[d]);
    }
    SchemaSpec values{format, "item", "", 0, {}};
    col.schema =
        SchemaSpec{"+w:" + std::to_string(inner),
                   kColumnName,
                   encode_metadata({{"ARROW:extension:name", "arrow.fixed_shape_tensor"},
                                    {"ARROW:extension:metadata", "{\"shape\":" + shape + "]}"}}),
                   0,
                   {values}};
    col.array = ArraySpec{n, {nullptr}, {ArraySpec{n * inner, {nullptr, view.buf}, {}}}};
    return 0;
  }
  PyBuffer_Release(&view);
  return -1;
}

// Allocate a holder and export into it; NULL with an exception on failure.
BufferHolder *export_holder(PyObject *self, Column &col) {
  auto *h = new (std::nothrow) BufferHolder();
  if (h == nullptr) return static_cast<BufferHolder *>((void *) PyErr_NoMemory());
  if (export_column(self, *h, col) != 0) {
    delete h;
    return nullptr;
  }
  return h;
}

}  // namespace

PyObject *arrow_schema_method(PyObject *self, PyObject *) {
  Column col;
  BufferHolder *h = export_holder(self, col);
  if (h == nullptr) return nullptr;
  holder_decref(h);  // only the description was needed
  ArrowSchema schema;
  return build_schema(col.schema, &schema) ? schema_capsule(&schema) : nullptr;
}

PyObject *arrow_array_method(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                             PyObject *kwnames) {
  // A requested schema may be honoured or ignored (the consumer then casts); the exported type
  // is the only one this memory has without a copy, so it is always the answer.
  const ArrowSchema *requested;
  if (requested_schema_arg("__arrow_c_array__", args, nargs, kwnames, &requested) != 0)
    return nullptr;
  Column col;
  BufferHolder *h = export_holder(self, col);
  if (h == nullptr) return nullptr;
  PyObject *pair = schema_and_array(col.schema, col.array, h);
  holder_decref(h);
  return pair;
}

PyObject *arrow_stream_method(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                              PyObject *kwnames) {
  const ArrowSchema *requested;
  if (requested_schema_arg("__arrow_c_stream__", args, nargs, kwnames, &requested) != 0)
    return nullptr;
  Column col;
  BufferHolder *h = export_holder(self, col);
  if (h == nullptr) return nullptr;
  PyObject *stream;
  try {
    // Honoured without a copy: the column's own type as a plain stream of arrays, or a record
    // batch whose one field has the column's type under another name. Anything else gets the
    // exported schema.
    auto same = [](const std::string &ours, const char *theirs) {
      return theirs != nullptr && ours == theirs;
    };
    const bool plain = requested != nullptr && same(col.schema.format, requested->format);
    const bool renamed = requested != nullptr && same("+s", requested->format) &&
                         requested->n_children == 1 &&
                         same(col.schema.format, requested->children[0]->format) &&
                         requested->children[0]->name != nullptr;
    if (plain) {
      stream = stream_capsule(col.schema, {col.array}, h);
    } else {
      if (renamed) col.schema.name = requested->children[0]->name;
      const int64_t n = col.array.length;
      stream = stream_capsule(SchemaSpec{"+s", "", "", 0, {col.schema}},
                              {ArraySpec{n, {nullptr}, {col.array}}}, h);
    }
  } catch (const std::bad_alloc &) { stream = PyErr_NoMemory(); }
  holder_decref(h);
  return stream;
}

}  // namespace bf
