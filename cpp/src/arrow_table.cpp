// arrow_table.cpp -- tables whose columns Arrow consumers read in place (BfApi
// install_table_interop): a producer describes its columns (name, PEP 3118 format, data) and
// locks them; the core answers __arrow_c_schema__, __arrow_c_array__ and __arrow_c_stream__
// with a struct schema, a struct array whose children point at the columns, and a stream of
// that one record batch.
//
// Each type keeps its two callbacks in a capsule attribute, __bufferable_table__, which the
// methods (shared by every table type) look up on type(self). Lifetime: one describe call is one
// TableHolder (arrow_c.h), holding a strong reference to the instance; the last release of an
// array node or stream built on it calls the producer's release exactly once.
#include <cstring>
#include <string>
#include <vector>

#include "arrow_c.h"
#include "scalar_types.h"

namespace bf {
using namespace abi;

namespace {

constexpr const char *kCallbacksCapsule = "bufferable.table_callbacks";
constexpr int64_t kInlineColumns = 64;

struct TableCallbacks {
  BfDescribeTable describe;
  BfReleaseTable release;
};

struct TableHolder final : Holder {
  PyObject *table;
  BfReleaseTable release;
  TableHolder(PyObject *t, BfReleaseTable r) : table(t), release(r) { Py_INCREF(t); }
  void finish() override {
    release(table);
    Py_DECREF(table);
  }
};

struct Table {
  std::vector<SchemaSpec> fields;
  std::vector<ArraySpec> columns;
  int64_t length = 0;
};

const TableCallbacks *callbacks_of(PyObject *self) {
  PyObject *capsule = PyObject_GetAttrString((PyObject *) Py_TYPE(self), "__bufferable_table__");
  if (capsule == nullptr) return nullptr;
  auto *cb = static_cast<const TableCallbacks *>(PyCapsule_GetPointer(capsule, kCallbacksCapsule));
  Py_DECREF(capsule);  // the type keeps the capsule alive
  return cb;
}

// Describe and lock `self`; on success *holder owns the lock (one reference).
int describe(PyObject *self, Table &t, TableHolder **holder) {
  const TableCallbacks *cb = callbacks_of(self);
  if (cb == nullptr) return -1;
  std::vector<BfColumn> cols(kInlineColumns);
  int64_t length = 0;
  int64_t n = cb->describe(self, cols.data(), kInlineColumns, &length);
  if (n > kInlineColumns) {
    cols.resize(n);
    n = cb->describe(self, cols.data(), n, &length);
  }
  if (n < 0) return -1;
  if (n > static_cast<int64_t>(cols.size())) {  // nothing was locked
    PyErr_SetString(PyExc_RuntimeError,
                    "a table's describe callback asked twice for more "
                    "room for its columns");
    return -1;
  }
  *holder = new TableHolder(self, cb->release);
  for (int64_t i = 0; i < n; ++i) {
    const BfColumn &c = cols[i];
    const ScalarType *s = scalar_by_letter(c.format);
    if (s == nullptr || s->arrow == nullptr || (c.data == nullptr && length != 0)) {
      PyErr_Format(
          PyExc_BufferError, "column '%s' (format '%s') %s", c.name ? c.name : "",
          c.format ? c.format : "(null)",
          c.data == nullptr && length != 0 ? "has no data" : "has no fixed-width Arrow type");
      holder_decref(*holder);
      return -1;
    }
    t.fields.push_back(SchemaSpec{s->arrow, c.name ? c.name : "", "", 0, {}});
    t.columns.push_back(ArraySpec{length, {nullptr, c.data}, {}});
  }
  t.length = length;
  return 0;
}

// The columns a requested schema selects (a struct naming some of ours with their types), in its
// order, or all of them when it cannot be honoured without a copy.
void select(Table &t, const ArrowSchema *requested) {
  if (requested == nullptr || requested->format == nullptr ||
      std::strcmp(requested->format, "+s") != 0 || requested->n_children <= 0)
    return;
  Table chosen;
  for (int64_t i = 0; i < requested->n_children; ++i) {
    const ArrowSchema *r = requested->children[i];
    size_t k = 0;
    while (k < t.fields.size() && !(r->name != nullptr && t.fields[k].name == r->name &&
                                    r->format != nullptr && t.fields[k].format == r->format))
      ++k;
    if (k == t.fields.size()) return;
    chosen.fields.push_back(t.fields[k]);
    chosen.columns.push_back(t.columns[k]);
  }
  t.fields = std::move(chosen.fields);
  t.columns = std::move(chosen.columns);
}

PyObject *table_schema(PyObject *self, PyObject *) {
  Table t;
  TableHolder *h;
  if (describe(self, t, &h) != 0) return nullptr;
  holder_decref(h);  // only the description was needed
  ArrowSchema schema;
  try {
    if (!build_schema(SchemaSpec{"+s", "", "", 0, t.fields}, &schema)) return nullptr;
  } catch (const std::bad_alloc &) { return PyErr_NoMemory(); }
  return schema_capsule(&schema);
}

template <bool kStream>
PyObject *table_export(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames) {
  const ArrowSchema *requested;
  if (requested_schema_arg(kStream ? "__arrow_c_stream__" : "__arrow_c_array__", args, nargs,
                           kwnames, &requested) != 0)
    return nullptr;
  Table t;
  TableHolder *h;
  if (describe(self, t, &h) != 0) return nullptr;
  PyObject *out;
  try {
    select(t, requested);
    SchemaSpec schema{"+s", "", "", 0, t.fields};
    ArraySpec batch{t.length, {nullptr}, t.columns};
    out = kStream ? stream_capsule(schema, {batch}, h) : schema_and_array(schema, batch, h);
  } catch (const std::bad_alloc &) { out = PyErr_NoMemory(); }
  holder_decref(h);
  return out;
}

PyMethodDef table_methods[] = {
    {"__arrow_c_schema__", (PyCFunction) table_schema, METH_NOARGS,
     PyDoc_STR("__arrow_c_schema__()\n--\n\nThe Arrow schema of this table: a struct with one "
               "field per column, as an 'arrow_schema' PyCapsule.")},
    {"__arrow_c_array__", (PyCFunction) (void (*)(void)) table_export<false>,
     METH_FASTCALL | METH_KEYWORDS,
     PyDoc_STR("__arrow_c_array__(requested_schema=None)\n--\n\nThis table as one Arrow record "
               "batch (a struct array over the columns' memory, no copy): a tuple of "
               "'arrow_schema' and 'arrow_array' PyCapsules.")},
    {"__arrow_c_stream__", (PyCFunction) (void (*)(void)) table_export<true>,
     METH_FASTCALL | METH_KEYWORDS,
     PyDoc_STR("__arrow_c_stream__(requested_schema=None)\n--\n\nThis table as an Arrow stream "
               "of one record batch over the columns' memory (no copy): an "
               "'arrow_array_stream' PyCapsule.")},
    {nullptr, nullptr, 0, nullptr}};

void free_callbacks(PyObject *capsule) {
  delete static_cast<TableCallbacks *>(PyCapsule_GetPointer(capsule, kCallbacksCapsule));
}

}  // namespace

int install_table_interop(PyObject *type, BfDescribeTable describe_fn, BfReleaseTable release_fn) {
  if (!PyType_Check(type) || describe_fn == nullptr || release_fn == nullptr) {
    PyErr_SetString(PyExc_TypeError, "install_table_interop() needs a type and two callbacks");
    return -1;
  }
  auto *cb = new (std::nothrow) TableCallbacks{describe_fn, release_fn};
  if (cb == nullptr) return PyErr_NoMemory(), -1;
  PyObject *capsule = PyCapsule_New(cb, kCallbacksCapsule, free_callbacks);
  if (capsule == nullptr) {
    delete cb;
    return -1;
  }
  int rc = PyObject_SetAttrString(type, "__bufferable_table__", capsule);
  Py_DECREF(capsule);
  if (rc != 0) return -1;
  if (install_methods(type, table_methods) != 0) return -1;
  return install_methods(type, table_python_methods);
}

}  // namespace bf
