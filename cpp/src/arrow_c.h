// arrow_c.h -- building Arrow C Data Interface objects that point at memory something else owns:
// schemas (which own their strings), arrays and record-batch streams (which keep that memory's
// owner alive through a reference-counted Holder), and the PyCapsules that carry them.
//
// Lifetime design
//   One export (a buffer export of an object, a lock on a Mojo table) is one Holder. Every
//   ArrowArray built over it, parent and each child alike, and every stream that may still hand
//   out batches, holds one reference; the reference that drops the count to zero runs the
//   Holder's finish() exactly once, holding the GIL, from whatever thread released last.
//   Children hold their own reference because a consumer may move a child out of its parent and
//   release the two at different times (the C Data Interface allows it). Releasing a parent
//   releases the children still inside it. Nothing depends on a struct's address: consumers may
//   move any struct (copy it, then mark the source released).
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "core.h"
#include "interop_abi.h"

namespace bf {

constexpr const char *kSchemaCapsule = "arrow_schema";
constexpr const char *kArrayCapsule = "arrow_array";
constexpr const char *kStreamCapsule = "arrow_array_stream";

// What an export holds until its last Arrow object is released.
struct Holder {
  std::atomic<int64_t> refs{1};
  virtual ~Holder() = default;
  // Undo the export (called once, GIL held).
  virtual void finish() = 0;
};
void holder_incref(Holder *h);
void holder_decref(Holder *h);  // any thread

// A schema node, as data: Arrow format, field name, metadata (already encoded), children.
struct SchemaSpec {
  std::string format;
  std::string name;
  std::string metadata;  // the C Data Interface's binary key/value encoding, or empty
  int64_t flags = 0;
  std::vector<SchemaSpec> children;
};
// Arrow's metadata encoding of key/value pairs (int32 count, then length-prefixed strings).
std::string encode_metadata(const std::vector<std::pair<std::string, std::string>> &pairs);
// A fresh ArrowSchema for `spec` (owning copies of its strings); false + MemoryError on failure.
bool build_schema(const SchemaSpec &spec, abi::ArrowSchema *out);

// An array node: length, buffers (validity first, never a bitmap here: null_count is 0) and
// children. Every node built takes its own reference on `holder`.
struct ArraySpec {
  int64_t length = 0;
  std::vector<const void *> buffers;
  std::vector<ArraySpec> children;
};
bool build_array(const ArraySpec &spec, Holder *holder, abi::ArrowArray *out);

// The schema and array inside `pair`, what `obj`.__arrow_c_array__() returned (borrowed: the
// capsules keep them); false + TypeError naming obj's type unless `pair` is a tuple of an
// 'arrow_schema' and an 'arrow_array' capsule.
bool array_pair_capsules(PyObject *pair, PyObject *obj, abi::ArrowSchema **schema,
                         abi::ArrowArray **array);

// Capsules owning a heap copy of the struct (moved in: *schema / *array are marked released).
// The destructor releases what the consumer did not move out. NULL + exception on failure, after
// releasing the struct.
PyObject *schema_capsule(abi::ArrowSchema *schema);
PyObject *array_capsule(abi::ArrowArray *array);
// (schema capsule, array capsule) for a spec pair; the holder reference is taken per node.
PyObject *schema_and_array(const SchemaSpec &schema, const ArraySpec &array, Holder *holder);
// A stream of record batches, all of `schema` (a struct): the stream keeps one holder reference
// until it is released, and hands out each batch once. A stream released half-read releases the
// batches it never handed out.
PyObject *stream_capsule(const SchemaSpec &schema, const std::vector<ArraySpec> &batches,
                         Holder *holder);

// The PEP 3118 format (static) and item size of an Arrow schema of a fixed-width primitive type,
// or NULL with `why` saying, naming the Arrow type, why it has no buffer layout (dictionary-
// encoded, nested, temporal, variable-size, bit-packed booleans).
const char *primitive_format(const abi::ArrowSchema &schema, int64_t &itemsize, std::string &why);

// The `requested_schema` argument of __arrow_c_array__/__arrow_c_stream__: None (NULL out) or
// an "arrow_schema" capsule (its borrowed schema). -1 + TypeError otherwise. Parses the method's
// (requested_schema=None) signature for `method`.
int requested_schema_arg(const char *method, PyObject *const *args, Py_ssize_t nargs,
                         PyObject *kwnames, const abi::ArrowSchema **out);

}  // namespace bf
