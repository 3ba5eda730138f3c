// arrow_c.cpp -- see arrow_c.h: Arrow schemas, arrays, streams and their capsules.
#include "arrow_c.h"

#include "scalar_types.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

namespace bf {
using namespace abi;

void holder_incref(Holder *h) { h->refs.fetch_add(1, std::memory_order_relaxed); }

void holder_decref(Holder *h) {
  if (h->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  release_with_gil([h] { h->finish(); });  // any thread, even after shutdown
  delete h;
}

std::string encode_metadata(const std::vector<std::pair<std::string, std::string>> &pairs) {
  std::string out;
  auto put_int = [&out](int32_t v) { out.append(reinterpret_cast<const char *>(&v), 4); };
  put_int(static_cast<int32_t>(pairs.size()));
  for (const auto &kv : pairs) {
    put_int(static_cast<int32_t>(kv.first.size()));
    out += kv.first;
    put_int(static_cast<int32_t>(kv.second.size()));
    out += kv.second;
  }
  return out;
}

// ---- schemas ------------------------------------------------------------------------------------

namespace {

struct SchemaPrivate {
  std::string format, name, metadata;
  std::vector<ArrowSchema> children;
  std::vector<ArrowSchema *> child_ptrs;
};

void release_schema(ArrowSchema *schema) {
  auto *p = static_cast<SchemaPrivate *>(schema->private_data);
  for (ArrowSchema &c : p->children)
    if (c.release) c.release(&c);
  delete p;
  schema->release = nullptr;
}

void fill_schema(const SchemaSpec &spec, ArrowSchema *out) {
  auto *p = new SchemaPrivate{spec.format, spec.name, spec.metadata, {}, {}};
  p->children.resize(spec.children.size());
  p->child_ptrs.resize(spec.children.size());
  for (size_t i = 0; i < spec.children.size(); ++i) {
    fill_schema(spec.children[i], &p->children[i]);
    p->child_ptrs[i] = &p->children[i];
  }
  *out = ArrowSchema{p->format.c_str(),
                     p->name.c_str(),
                     p->metadata.empty() ? nullptr : p->metadata.data(),
                     spec.flags,
                     static_cast<int64_t>(spec.children.size()),
                     spec.children.empty() ? nullptr : p->child_ptrs.data(),
                     nullptr,
                     release_schema,
                     p};
}

// ---- arrays -------------------------------------------------------------------------------------

struct ArrayPrivate {
  Holder *holder;
  std::vector<const void *> buffers;
  std::vector<ArrowArray> children;
  std::vector<ArrowArray *> child_ptrs;
};

void release_array(ArrowArray *array) {
  auto *p = static_cast<ArrayPrivate *>(array->private_data);
  for (ArrowArray &c : p->children)
    if (c.release) c.release(&c);  // children the consumer did not move out
  Holder *h = p->holder;
  delete p;
  array->release = nullptr;
  holder_decref(h);
}

void fill_array(const ArraySpec &spec, Holder *holder, ArrowArray *out) {
  auto *p = new ArrayPrivate{holder, spec.buffers, {}, {}};
  p->children.resize(spec.children.size());
  p->child_ptrs.resize(spec.children.size());
  for (size_t i = 0; i < spec.children.size(); ++i) {
    fill_array(spec.children[i], holder, &p->children[i]);
    p->child_ptrs[i] = &p->children[i];
  }
  holder_incref(holder);
  *out = ArrowArray{spec.length,
                    0,
                    0,
                    static_cast<int64_t>(p->buffers.size()),
                    static_cast<int64_t>(spec.children.size()),
                    p->buffers.data(),
                    spec.children.empty() ? nullptr : p->child_ptrs.data(),
                    nullptr,
                    release_array,
                    p};
}

// ---- capsules -----------------------------------------------------------------------------------

template <class T>
void capsule_destructor(PyObject *capsule, const char *name) {
  auto *s = static_cast<T *>(PyCapsule_GetPointer(capsule, name));
  if (s == nullptr) {
    PyErr_WriteUnraisable(capsule);
    return;
  }
  if (s->release) s->release(s);
  std::free(s);
}
void schema_capsule_destructor(PyObject *c) { capsule_destructor<ArrowSchema>(c, kSchemaCapsule); }
void array_capsule_destructor(PyObject *c) { capsule_destructor<ArrowArray>(c, kArrayCapsule); }
void stream_capsule_destructor(PyObject *c) {
  capsule_destructor<ArrowArrayStream>(c, kStreamCapsule);
}

template <class T>
PyObject *new_capsule(T *value, const char *name, PyCapsule_Destructor destructor) {
  auto *heap = static_cast<T *>(std::malloc(sizeof(T)));
  if (heap == nullptr) {
    value->release(value);
    return PyErr_NoMemory();
  }
  *heap = *value;
  value->release = nullptr;
  PyObject *capsule = PyCapsule_New(heap, name, destructor);
  if (capsule == nullptr) {
    heap->release(heap);
    std::free(heap);
  }
  return capsule;
}

// ---- streams ------------------------------------------------------------------------------------

struct StreamPrivate {
  SchemaSpec schema;
  std::vector<ArrowArray> batches;  // built up front; each handed out once
  size_t next = 0;
  Holder *holder;
};

int stream_get_schema(ArrowArrayStream *stream, ArrowSchema *out) {
  auto *p = static_cast<StreamPrivate *>(stream->private_data);
  return build_schema(p->schema, out) ? 0 : ENOMEM;
}

int stream_get_next(ArrowArrayStream *stream, ArrowArray *out) {
  auto *p = static_cast<StreamPrivate *>(stream->private_data);
  if (p->next == p->batches.size()) {
    out->release = nullptr;  // end of stream
    return 0;
  }
  ArrowArray &batch = p->batches[p->next++];
  *out = batch;
  batch.release = nullptr;
  return 0;
}

const char *stream_get_last_error(ArrowArrayStream *) { return "out of memory"; }

void release_stream(ArrowArrayStream *stream) {
  auto *p = static_cast<StreamPrivate *>(stream->private_data);
  for (ArrowArray &b : p->batches)
    if (b.release) b.release(&b);  // never handed out
  Holder *h = p->holder;
  delete p;
  stream->release = nullptr;
  holder_decref(h);
}

}  // namespace

bool build_schema(const SchemaSpec &spec, ArrowSchema *out) {
  try {
    fill_schema(spec, out);
    return true;
  } catch (const std::bad_alloc &) {
    PyErr_NoMemory();
    return false;
  }
}

bool build_array(const ArraySpec &spec, Holder *holder, ArrowArray *out) {
  try {
    fill_array(spec, holder, out);
    return true;
  } catch (const std::bad_alloc &) {
    PyErr_NoMemory();
    return false;
  }
}

PyObject *schema_capsule(ArrowSchema *schema) {
  return new_capsule(schema, kSchemaCapsule, schema_capsule_destructor);
}

PyObject *array_capsule(ArrowArray *array) {
  return new_capsule(array, kArrayCapsule, array_capsule_destructor);
}

PyObject *schema_and_array(const SchemaSpec &schema_spec, const ArraySpec &array_spec,
                           Holder *holder) {
  ArrowArray array;
  if (!build_array(array_spec, holder, &array)) return nullptr;
  PyObject *a = array_capsule(&array);
  if (a == nullptr) return nullptr;
  ArrowSchema schema;
  PyObject *s = build_schema(schema_spec, &schema) ? schema_capsule(&schema) : nullptr;
  if (s == nullptr) {
    Py_DECREF(a);
    return nullptr;
  }
  PyObject *pair = PyTuple_Pack(2, s, a);
  Py_DECREF(s);
  Py_DECREF(a);
  return pair;
}

PyObject *stream_capsule(const SchemaSpec &schema, const std::vector<ArraySpec> &batches,
                         Holder *holder) {
  StreamPrivate *p = nullptr;
  try {
    p = new StreamPrivate{schema, {}, 0, holder};
    p->batches.reserve(batches.size());
    for (const ArraySpec &b : batches) {
      p->batches.emplace_back();
      fill_array(b, holder, &p->batches.back());
    }
  } catch (const std::bad_alloc &) {
    if (p != nullptr) {
      for (ArrowArray &b : p->batches)
        if (b.release) b.release(&b);
      delete p;
    }
    return PyErr_NoMemory();
  }
  holder_incref(holder);
  ArrowArrayStream stream{stream_get_schema, stream_get_next, stream_get_last_error, release_stream,
                          p};
  return new_capsule(&stream, kStreamCapsule, stream_capsule_destructor);
}

const char *primitive_format(const ArrowSchema &schema, int64_t &itemsize, std::string &why) {
  const char *arrow = schema.format ? schema.format : "(null)";
  if (schema.dictionary != nullptr) {
    const char *values = schema.dictionary->format ? schema.dictionary->format : "(null)";
    why = std::string("Arrow type dictionary<values='") + values + "', indices='" + arrow +
          "'> is dictionary-encoded: its buffer holds the codes, not the values (decode it "
          "first, e.g. pyarrow's dictionary_decode())";
    return nullptr;
  }
  const ScalarType *s = schema.n_children == 0 ? scalar_by_arrow(arrow) : nullptr;
  if (s != nullptr) return itemsize = s->dtype.bits / 8, s->format;
  why = std::string("Arrow type '") + arrow +
        "' is not a fixed-width primitive type that a "
        "buffer can describe (booleans are bit-packed; nested, temporal and variable-size "
        "types have other layouts)";
  return nullptr;
}

bool array_pair_capsules(PyObject *pair, PyObject *obj, ArrowSchema **schema, ArrowArray **array) {
  if (PyTuple_Check(pair) && PyTuple_GET_SIZE(pair) == 2 &&
      (*schema = static_cast<ArrowSchema *>(
           PyCapsule_GetPointer(PyTuple_GET_ITEM(pair, 0), kSchemaCapsule))) &&
      (*array = static_cast<ArrowArray *>(
           PyCapsule_GetPointer(PyTuple_GET_ITEM(pair, 1), kArrayCapsule))))
    return true;
  PyErr_Clear();
  PyErr_Format(PyExc_TypeError,
               "%.200s.__arrow_c_array__() must return a tuple of "
               "'arrow_schema' and 'arrow_array' capsules",
               Py_TYPE(obj)->tp_name);
  return false;
}

int requested_schema_arg(const char *method, PyObject *const *args, Py_ssize_t nargs,
                         PyObject *kwnames, const ArrowSchema **out) {
  *out = nullptr;
  Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
  if (nargs + nkw > 1 || (nkw == 1 && PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0),
                                                                       "requested_schema") != 0)) {
    PyErr_Format(PyExc_TypeError, "%s() takes one optional argument, requested_schema", method);
    return -1;
  }
  PyObject *requested = nargs + nkw == 1 ? args[0] : Py_None;
  if (requested == Py_None) return 0;
  if (!PyCapsule_IsValid(requested, kSchemaCapsule)) {
    PyErr_SetString(PyExc_TypeError,
                    "requested_schema must be None or an 'arrow_schema' PyCapsule");
    return -1;
  }
  *out = static_cast<const ArrowSchema *>(PyCapsule_GetPointer(requested, kSchemaCapsule));
  return 0;
}

}  // namespace bf
