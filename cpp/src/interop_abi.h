// interop_abi.h -- the two foreign ABIs the core speaks besides the buffer protocol, declared from
// their specifications: DLPack 1.1 (dlpack.h) and the Arrow C Data Interface. Only the parts the
// core uses; layouts must match the specifications byte for byte (checked by static_asserts).
#pragma once

#include <cstdint>

namespace bf::abi {

// ---- DLPack 1.1 -------------------------------------------------------------------------------

constexpr uint32_t kDLPackMajor = 1;
constexpr uint32_t kDLPackMinor = 1;
constexpr uint64_t kDLFlagReadOnly = 1u << 0;  // DLPACK_FLAG_BITMASK_READ_ONLY
constexpr uint64_t kDLFlagIsCopied = 1u << 1;  // DLPACK_FLAG_BITMASK_IS_COPIED

struct DLPackVersion {
  uint32_t major, minor;
};
struct DLDevice {
  int32_t device_type, device_id;
};
struct DLDataType {
  uint8_t code, bits;
  uint16_t lanes;
};

struct DLTensor {
  void *data;  // start of the allocation; element 0 is at data + byte_offset
  DLDevice device;
  int32_t ndim;
  DLDataType dtype;
  int64_t *shape;    // ndim extents
  int64_t *strides;  // ndim strides in ELEMENTS; NULL means compact C order (legacy)
  uint64_t byte_offset;
};

struct DLManagedTensor {  // the legacy (unversioned) form, capsule name "dltensor"
  DLTensor dl_tensor;
  void *manager_ctx;
  void (*deleter)(DLManagedTensor *self);
};

struct DLManagedTensorVersioned {  // capsule name "dltensor_versioned"
  DLPackVersion version;
  void *manager_ctx;
  void (*deleter)(DLManagedTensorVersioned *self);
  uint64_t flags;
  DLTensor dl_tensor;
};

// The C exchange API of DLPack 1.2+ (`__dlpack_c_exchange_api__`): a capsule named
// "dlpack_exchange_api" on the TYPE of a tensor, holding a static table of these functions, so a
// consumer converts an instance without a Python-level __dlpack__ call. Every function returns 0,
// or -1 with a Python exception set, and needs the GIL.
constexpr uint32_t kExchangeMajor = 1;
constexpr uint32_t kExchangeMinor = 3;  // the table layout below is DLPack 1.3's
constexpr const char *kExchangeCapsule = "dlpack_exchange_api";
constexpr const char *kExchangeAttribute = "__dlpack_c_exchange_api__";

struct DLPackExchangeAPIHeader {
  DLPackVersion version;
  DLPackExchangeAPIHeader *prev_api;  // an older table of the chain, or NULL
};

struct DLPackExchangeAPI {
  DLPackExchangeAPIHeader header;
  // A new tensor of the producer's own kind shaped like `prototype` (dtype, ndim, shape, device).
  int (*managed_tensor_allocator)(DLTensor *prototype, DLManagedTensorVersioned **out,
                                  void *error_ctx,
                                  void (*set_error)(void *error_ctx, const char *kind,
                                                    const char *message));
  // The instance `py_object` (of the type the table came from) as an owned managed tensor.
  int (*managed_tensor_from_py_object_no_sync)(void *py_object, DLManagedTensorVersioned **out);
  // An owned managed tensor (stolen) as a Python object of the producer's kind.
  int (*managed_tensor_to_py_object_no_sync)(DLManagedTensorVersioned *tensor,
                                             void **out_py_object);
  // A borrowed DLTensor of `py_object`, valid until control returns; may be NULL.
  int (*dltensor_from_py_object_no_sync)(void *py_object, DLTensor *out);
  // The current work stream of a device (NULL for the CPU).
  int (*current_work_stream)(int32_t device_type, int32_t device_id, void **out_current_stream);
};

static_assert(sizeof(DLTensor) == 48, "DLTensor layout");
static_assert(sizeof(DLPackExchangeAPIHeader) == 16, "DLPackExchangeAPIHeader layout");
static_assert(sizeof(DLPackExchangeAPI) == 56, "DLPackExchangeAPI layout");
static_assert(sizeof(DLManagedTensor) == 64, "DLManagedTensor layout");
static_assert(sizeof(DLManagedTensorVersioned) == 80, "DLManagedTensorVersioned layout");

// ---- Arrow C Data Interface -------------------------------------------------------------------

constexpr int64_t kArrowFlagNullable = 2;  // ARROW_FLAG_NULLABLE

struct ArrowSchema {
  const char *format;  // e.g. "f" float32, "l" int64 (a type description, not PEP 3118)
  const char *name;
  const char *metadata;
  int64_t flags;
  int64_t n_children;
  ArrowSchema **children;
  ArrowSchema *dictionary;
  void (*release)(ArrowSchema *);  // NULL once released; the struct may be moved before that
  void *private_data;
};

struct ArrowArray {
  int64_t length;
  int64_t null_count;
  int64_t offset;  // in elements, applies to every buffer
  int64_t n_buffers;
  int64_t n_children;
  const void **buffers;  // primitive arrays: [validity bitmap or NULL, values]
  ArrowArray **children;
  ArrowArray *dictionary;
  void (*release)(ArrowArray *);  // NULL once released; the struct may be moved before that
  void *private_data;
};

static_assert(sizeof(ArrowSchema) == 72, "ArrowSchema layout");
struct ArrowArrayStream {  // the C Stream Interface: a sequence of arrays of one schema
  int (*get_schema)(ArrowArrayStream *, ArrowSchema *out);
  int (*get_next)(ArrowArrayStream *, ArrowArray *out);  // out->release == NULL: end of stream
  const char *(*get_last_error)(ArrowArrayStream *);
  void (*release)(ArrowArrayStream *);
  void *private_data;
};

static_assert(sizeof(ArrowArray) == 80, "ArrowArray layout");
static_assert(sizeof(ArrowArrayStream) == 40, "ArrowArrayStream layout");

}  // namespace bf::abi
