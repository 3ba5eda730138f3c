// arrow_table_import.cpp -- an Arrow table acquired for reading in place
// (BfApi.acquire_arrow_table): a stream of record batches (pyarrow Table, Polars DataFrame,
// DuckDB result), or one struct array (a pyarrow RecordBatch), described column by column and
// chunk by chunk.
//
// Lifetime: the stream and the array are moved out of their capsules into a TableImport owned by
// one acquisition; every batch is read when the table is acquired and kept until the
// acquisition's count drops to zero, which releases each batch, the schema and the stream
// exactly once (holding the GIL, from any thread).
#include <bitset>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "arrow_c.h"

namespace bf {
using namespace abi;

namespace {

struct TableImport {
  ArrowSchema schema{};
  ArrowArrayStream stream{};
  std::vector<ArrowArray> batches;
  std::vector<const char *> names;
  std::vector<BfArrowChunk> chunks;
  std::vector<std::string> refusals;  // one per column, "" when viewable
  BfArrowTable table{};

  ~TableImport() {
    for (ArrowArray &b : batches)
      if (b.release) b.release(&b);
    if (schema.release) schema.release(&schema);
    if (stream.release) stream.release(&stream);
  }
};

void release_table_import(void *p) { delete static_cast<TableImport *>(p); }

// Read every batch of a stream into `im`; 0 or -1 with an exception.
int read_stream(PyObject *capsule, TableImport &im) {
  auto *source = static_cast<ArrowArrayStream *>(PyCapsule_GetPointer(capsule, kStreamCapsule));
  if (source == nullptr) return -1;
  im.stream = *source;  // move: the capsule's struct is marked released
  source->release = nullptr;
  auto failed = [&im](int code, const char *what) {
    const char *detail = im.stream.get_last_error ? im.stream.get_last_error(&im.stream) : nullptr;
    PyErr_Format(PyExc_BufferError, "the Arrow stream failed to give its %s (error %d: %s)", what,
                 code, detail ? detail : "no message");
    return -1;
  };
  if (int rc = im.stream.get_schema(&im.stream, &im.schema)) return failed(rc, "schema");
  for (;;) {
    ArrowArray batch{};
    if (int rc = im.stream.get_next(&im.stream, &batch)) return failed(rc, "next batch");
    if (batch.release == nullptr) return 0;
    im.batches.push_back(batch);
  }
}

// Move a (schema, array) pair into `im`; 0 or -1 with an exception.
int read_array(PyObject *pair, PyObject *obj, TableImport &im) {
  ArrowSchema *schema = nullptr;
  ArrowArray *array = nullptr;
  if (!array_pair_capsules(pair, obj, &schema, &array)) return -1;
  im.schema = *schema;
  schema->release = nullptr;
  im.batches.push_back(*array);
  array->release = nullptr;
  if (std::strcmp(im.schema.format, "+s") != 0) {
    PyErr_Format(PyExc_TypeError,
                 "%.200s.__arrow_c_array__() gave Arrow type '%s', not a "
                 "struct (a record batch): a table needs named columns (use a stream, or "
                 "MemoryView.from_arrow for one array)",
                 Py_TYPE(obj)->tp_name, im.schema.format);
    return -1;
  }
  return 0;
}

// The nulls among the `length` validity bits that start at bit `offset` (LSB first).
int64_t count_nulls(const uint8_t *validity, int64_t offset, int64_t length) {
  int64_t valid = 0, i = offset;
  const int64_t end = offset + length;
  for (; i < end && i % 8 != 0; ++i) valid += (validity[i / 8] >> (i % 8)) & 1;
  for (; i + 8 <= end; i += 8)
    valid += static_cast<int64_t>(std::bitset<8>(validity[i / 8]).count());
  for (; i < end; ++i) valid += (validity[i / 8] >> (i % 8)) & 1;
  return length - valid;
}

// Describe every column of every batch.
int describe(TableImport &im) {
  const ArrowSchema &s = im.schema;
  const bool is_struct = std::strcmp(s.format, "+s") == 0;
  const int64_t ncolumns = is_struct ? s.n_children : 1;
  std::vector<const char *> formats(ncolumns);
  std::vector<int64_t> itemsizes(ncolumns);
  im.refusals.resize(ncolumns);
  for (int64_t c = 0; c < ncolumns; ++c) {
    const ArrowSchema &col = is_struct ? *s.children[c] : s;
    im.names.push_back(col.name ? col.name : "");
    formats[c] = primitive_format(col, itemsizes[c], im.refusals[c]);
  }
  int64_t rows = 0;
  for (const ArrowArray &b : im.batches) {
    if (is_struct && b.null_count != 0 && b.n_buffers > 0 && b.buffers[0] != nullptr) {
      PyErr_SetString(PyExc_BufferError,
                      "the Arrow record batch has null rows (a validity "
                      "bitmap on the struct itself), which column views cannot represent");
      return -1;
    }
    if (is_struct && b.n_children != ncolumns) {
      PyErr_Format(PyExc_BufferError, "an Arrow batch has %lld columns; its schema %lld",
                   (long long) b.n_children, (long long) ncolumns);
      return -1;
    }
    for (int64_t c = 0; c < ncolumns; ++c) {
      const ArrowArray &a = is_struct ? *b.children[c] : b;
      const int64_t offset = a.offset + (is_struct ? b.offset : 0);
      BfArrowChunk chunk{nullptr, nullptr, nullptr, b.length, itemsizes[c], nullptr, 0, 0};
      if (formats[c] != nullptr && (a.n_buffers != 2 || a.buffers == nullptr)) {
        im.refusals[c] = "the column's Arrow array has " + std::to_string(a.n_buffers) +
                         " buffers; a primitive array has 2";
      } else if (formats[c] != nullptr) {
        chunk.format = formats[c];
        chunk.values = a.buffers[1] == nullptr
                           ? nullptr
                           : static_cast<const char *>(a.buffers[1]) + offset * itemsizes[c];
        chunk.validity = static_cast<const uint8_t *>(a.buffers[0]);
        chunk.validity_offset = offset;
        // A child's null_count covers the child's own rows; a struct that is a slice of its
        // children (offset, or fewer rows) views only some of them, so count those.
        const bool sliced = is_struct && (b.offset != 0 || b.length != a.length);
        chunk.null_count = chunk.validity == nullptr || a.null_count == 0 ? 0
                           : sliced ? count_nulls(chunk.validity, offset, b.length)
                                    : a.null_count;
      }
      im.chunks.push_back(chunk);
    }
    rows += b.length;
  }
  for (int64_t c = 0; c < ncolumns; ++c) {
    if (im.refusals[c].empty()) continue;
    for (size_t k = 0; k < im.batches.size(); ++k) {
      BfArrowChunk &chunk = im.chunks[k * ncolumns + c];
      chunk.format = nullptr;
      chunk.values = nullptr;
      chunk.refusal = im.refusals[c].c_str();
    }
  }
  im.table = BfArrowTable{ncolumns, static_cast<int64_t>(im.batches.size()), rows, im.names.data(),
                          im.chunks.data()};
  return 0;
}

}  // namespace

int acquire_arrow_table(PyObject *obj, BfAcquisition **acq, const BfArrowTable **table) {
  *acq = nullptr;
  *table = nullptr;
  const bool stream = PyObject_HasAttrString(obj, "__arrow_c_stream__");
  if (!stream && !PyObject_HasAttrString(obj, "__arrow_c_array__")) {
    PyErr_Format(PyExc_TypeError,
                 "%.200s is not an Arrow table (no __arrow_c_stream__ or "
                 "__arrow_c_array__ method)",
                 Py_TYPE(obj)->tp_name);
    return -1;
  }
  PyObject *result =
      PyObject_CallMethod(obj, stream ? "__arrow_c_stream__" : "__arrow_c_array__", nullptr);
  if (result == nullptr) return -1;
  auto *im = new (std::nothrow) TableImport();
  if (im == nullptr) {
    Py_DECREF(result);
    return PyErr_NoMemory(), -1;
  }
  int rc;
  try {
    rc = stream ? read_stream(result, *im) : read_array(result, obj, *im);
    if (rc == 0) rc = describe(*im);
  } catch (const std::bad_alloc &) {
    PyErr_NoMemory();
    rc = -1;
  }
  Py_DECREF(result);
  if (rc == 0) {
    *acq = acquisition_new_foreign(obj, im, release_table_import);
    if (*acq != nullptr) {
      *table = &im->table;
      return 0;
    }
  }
  delete im;
  return -1;
}

}  // namespace bf
