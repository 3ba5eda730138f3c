/*
 * bufferable.h -- the C contract of bufferable (zero-copy memory sharing between Mojo, C/C++ and
 * Python).
 *
 * This one header is the whole agreement between a *producer* (a Mojo struct, a C or C++ library:
 * whoever owns memory), the *core* (the compiled module bufferable._core, which speaks CPython's
 * buffer protocol, DLPack and Arrow on the producer's behalf) and a *consumer* (code that wants to
 * read or write memory that some Python object exports).
 *
 * It is self-contained C99: it includes only <stdint.h> and <stddef.h> and never Python.h. Python
 * objects appear as the opaque `struct _object` (what CPython calls PyObject), and a `Py_buffer *`
 * travels as `void *`. Everything is ABI-stable within a major version (BF_API_VERSION_MAJOR).
 *
 * How a producer exports (from its bf_getbuffer slot, holding the GIL):
 *   1. describe the memory in a BfBuffer (the pointers in it belong to the producer and must stay
 *      valid until step 3 has run for this export; a producer that would move or free them while
 *      an export is live must refuse with BufferError instead);
 *   2. call api->export_buffer(self, view, &desc, flags): the core validates the descriptor,
 *      applies CPython's rules for the request flags and fills the Py_buffer. On failure it sets a
 *      Python exception, leaves view->obj NULL and the producer undoes whatever step 1 counted;
 *   3. in its bf_releasebuffer slot, call api->release_buffer(view) once, then drop its own count.
 *      A view whose `internal` is NULL holds nothing of the core (every 1.x core), so the call may
 *      be skipped for it. (Bound Mojo types go further: the core's answer is a function of the
 *      descriptor's content and the flags, so they keep a copy of it inside the instance and hand
 *      it out again for an equal export without calling the core; mojo/bufferable/export_memo.mojo.)
 *
 * How a consumer reads any Python buffer:
 *   api->acquire(obj, flags, &desc, &acq) fills a BfBuffer describing obj's export and returns a
 *   reference-counted acquisition. Views that share memory share the acquisition
 *   (acquisition_incref); the underlying PyBuffer_Release runs exactly once, when the last
 *   reference is dropped (acquisition_decref).
 *
 * The table of functions (BfApi) is published by the core as the PyCapsule named
 * BF_API_CAPSULE_NAME, attribute `_C_API` of the module `bufferable._core`. Read it once, check
 * version_major == BF_API_VERSION_MAJOR and version_minor >= the minor version you need, and keep
 * the pointer for the life of the process (the core module is never unloaded).
 */
/* clang-format off: this contract is laid out by hand (aligned comments), as dlpack.h is. */
#ifndef BUFFERABLE_H
#define BUFFERABLE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * Versions
 * ------------------------------------------------------------------------------------------- */

/* A change of major version breaks the ABI: a user built for another major must refuse the table. */
#define BF_API_VERSION_MAJOR 1
/* Minor versions only append fields to BfApi; a user needing minor m checks version_minor >= m.
 * 1.0: export_buffer .. set_error. 1.1: install_interop, acquire_dlpack, acquire_arrow.
 * 1.2: install_table_interop, acquire_arrow_table. 1.3: note_error, raise_error, reword_error.
 * 1.4: forget_error. */
#define BF_API_VERSION_MINOR 4

/* Name of the capsule holding `const BfApi *`, attribute `_C_API` of module `bufferable._core`. */
#define BF_API_CAPSULE_NAME "bufferable._core._C_API"

/* Largest ndim the core exports or acquires (CPython's PyBUF_MAX_NDIM). */
#define BF_MAX_NDIM 64

/* ---------------------------------------------------------------------------------------------
 * Request flags: the same values as CPython's PyBUF_* (Include/pybuffer.h), so a producer passes
 * the `flags` argument of its bf_getbuffer slot through unchanged.
 * ------------------------------------------------------------------------------------------- */

#define BF_BUF_SIMPLE 0x0000   /* one contiguous run of bytes; no format, shape or strides */
#define BF_BUF_WRITABLE 0x0001 /* the consumer will write: a read-only export is refused */
#define BF_BUF_FORMAT 0x0004   /* the consumer wants `format` (else format is NULL = "B") */
#define BF_BUF_ND 0x0008       /* the consumer wants `shape` (C-contiguous memory only) */
#define BF_BUF_STRIDES (0x0010 | BF_BUF_ND)             /* the consumer can follow `strides` */
#define BF_BUF_C_CONTIGUOUS (0x0020 | BF_BUF_STRIDES)   /* the memory must be C-contiguous */
#define BF_BUF_F_CONTIGUOUS (0x0040 | BF_BUF_STRIDES)   /* the memory must be Fortran-contiguous */
#define BF_BUF_ANY_CONTIGUOUS (0x0080 | BF_BUF_STRIDES) /* C- or Fortran-contiguous */
#define BF_BUF_INDIRECT (0x0100 | BF_BUF_STRIDES)       /* the consumer can follow `suboffsets` */
#define BF_BUF_CONTIG (BF_BUF_ND | BF_BUF_WRITABLE)
#define BF_BUF_CONTIG_RO (BF_BUF_ND)
#define BF_BUF_STRIDED (BF_BUF_STRIDES | BF_BUF_WRITABLE)
#define BF_BUF_STRIDED_RO (BF_BUF_STRIDES)
#define BF_BUF_RECORDS (BF_BUF_STRIDES | BF_BUF_WRITABLE | BF_BUF_FORMAT)
#define BF_BUF_RECORDS_RO (BF_BUF_STRIDES | BF_BUF_FORMAT)
#define BF_BUF_FULL (BF_BUF_INDIRECT | BF_BUF_WRITABLE | BF_BUF_FORMAT)
#define BF_BUF_FULL_RO (BF_BUF_INDIRECT | BF_BUF_FORMAT)

/* ---------------------------------------------------------------------------------------------
 * Devices: DLPack's device types (dlpack.h, DLDeviceType), so a descriptor converts to DLPack as is.
 * The buffer protocol carries only memory the CPU addresses (BF_DEVICE_CPU, BF_DEVICE_CUDA_HOST):
 * export_buffer refuses any other device with BufferError; __dlpack__ exports it with its device.
 * ------------------------------------------------------------------------------------------- */

typedef enum {
  BF_DEVICE_CPU = 1,       /* kDLCPU: ordinary host memory */
  BF_DEVICE_CUDA = 2,      /* kDLCUDA */
  BF_DEVICE_CUDA_HOST = 3, /* kDLCUDAHost: pinned host memory */
} BfDeviceType;

typedef struct {
  /* One of BfDeviceType (or any other DLDeviceType value). */
  int32_t device_type;
  /* Ordinal of the device of that type; 0 for the CPU. */
  int32_t device_id;
} BfDevice;

/* ---------------------------------------------------------------------------------------------
 * Element types, in DLPack's encoding (dlpack.h, DLDataType / DLDataTypeCode), which is how a
 * consumer compares a format with the element type it was compiled for.
 * ------------------------------------------------------------------------------------------- */

typedef enum {
  BF_DTYPE_INT = 0,     /* kDLInt: signed two's-complement integer */
  BF_DTYPE_UINT = 1,    /* kDLUInt: unsigned integer */
  BF_DTYPE_FLOAT = 2,   /* kDLFloat: IEEE 754 binary16/32/64 (bits 16, 32, 64; 128 = long double) */
  BF_DTYPE_BFLOAT = 4,  /* kDLBfloat: bfloat16 */
  BF_DTYPE_COMPLEX = 5, /* kDLComplex: two floats; bits counts both halves */
  BF_DTYPE_BOOL = 6,    /* kDLBool: one byte, 0 or 1 */
  BF_DTYPE_FLOAT8_E3M4 = 7, /* kDLFloat8_e3m4 and the float8 codes that follow in dlpack.h */
  BF_DTYPE_FLOAT8_E4M3 = 8,
  BF_DTYPE_FLOAT8_E4M3B11FNUZ = 9,
  BF_DTYPE_FLOAT8_E4M3FN = 10,
  BF_DTYPE_FLOAT8_E4M3FNUZ = 11,
  BF_DTYPE_FLOAT8_E5M2 = 12,
  BF_DTYPE_FLOAT8_E5M2FNUZ = 13,
  BF_DTYPE_FLOAT8_E8M0FNU = 14,
  /* DLPack's float6/float4 codes (15-17) are bit-packed: no buffer format has that layout (ml_dtypes
   * stores float6_* and float4_e2m1fn one per byte), so no format maps to them. */
  BF_DTYPE_NONE = 255, /* not a single scalar (a struct, padding, bytes, a pointer, ...) */
} BfDTypeCode;

typedef struct {
  /* One of BfDTypeCode. */
  uint8_t code;
  /* Width of one lane in bits (8, 16, 32, 64, 128); 0 when code is BF_DTYPE_NONE. */
  uint8_t bits;
  /* Number of lanes; 1 for every format the buffer protocol can carry. */
  uint16_t lanes;
} BfDataType;

/* ---------------------------------------------------------------------------------------------
 * BfBuffer: a description of one strided array in memory. Owned by whoever filled it; the core
 * copies nothing out of it except into the Py_buffer it fills, whose pointers then point into the
 * same storage. So: on the export side every pointer below must stay valid, and its contents
 * unchanged, until the producer's release for that export has run.
 * ------------------------------------------------------------------------------------------- */

typedef struct {
  /* Address of the element at index (0, ..., 0). May be NULL only if the array has no elements.
   * Owned by the producer. */
  void *data;
  /* Size of one element in bytes; must equal the size the format implies (>= 1). */
  int64_t itemsize;
  /* PEP 3118 format of one element, NUL-terminated (struct-module syntax, including "T{...}",
   * "(n,m)" sub-arrays and the extension form "[module$qualname$param]"). NULL means "B".
   * Owned by the producer (a string literal is ideal). */
  const char *format;
  /* Number of dimensions, 0 (a scalar) to BF_MAX_NDIM. */
  int32_t ndim;
  /* Nonzero: consumers must not write through `data`; WRITABLE requests are refused. */
  int32_t readonly;
  /* ndim extents, each >= 0, in elements. NULL only if ndim == 0. Owned by the producer. */
  const int64_t *shape;
  /* ndim steps between neighbouring elements of each dimension, in BYTES; may be negative or zero.
   * NULL means C-contiguous (the core then computes them when a consumer asks for strides).
   * Owned by the producer. */
  const int64_t *strides;
  /* NULL (no indirection, the common case) or ndim entries: for each dimension, a negative value
   * means "no indirection"; a value >= 0 means that after applying that dimension's stride the
   * pointer found there is dereferenced and this many bytes added (PIL-style arrays, PEP 3118).
   * Owned by the producer. */
  const int64_t *suboffsets;
  /* Where the memory lives: {BF_DEVICE_CPU, 0} for ordinary host memory. */
  BfDevice device;
} BfBuffer;

/* ---------------------------------------------------------------------------------------------
 * Formats
 * ------------------------------------------------------------------------------------------- */

typedef struct {
  /* Size in bytes of one item the format describes (struct.calcsize of it). */
  int64_t itemsize;
  /* Alignment in bytes the format asks for (1 for standard-size "<", ">", "=", "!" formats). */
  int64_t alignment;
  /* Byte order of the first field after canonicalisation: '<' little, '>' big, '@' native with
   * native alignment, '=' native with standard sizes, or '|' when order does not matter (one-byte
   * items, bool, padding, bytes). */
  char byteorder;
  /* Nonzero when every multi-byte scalar in the format is in this machine's byte order. */
  uint8_t native_order;
  /* Number of top-level fields (1 for a scalar; the member count of a "T{...}"). */
  int32_t nfields;
  /* The element type when the whole item is one scalar (e.g. "<f", "=f", "@f", "f" -> float32),
   * else {BF_DTYPE_NONE, 0, 0}. Extension formats map here too: "[ml_dtypes$bfloat16$]" -> bfloat16. */
  BfDataType dtype;
} BfFormatInfo;

/* ---------------------------------------------------------------------------------------------
 * Errors: every function that returns int returns 0 on success and -1 on failure, with a Python
 * exception set (so it must be called holding the GIL, and the caller propagates the -1).
 * ------------------------------------------------------------------------------------------- */

typedef enum {
  BF_ERROR_BUFFER = 1,  /* BufferError: the export or request cannot be honoured */
  BF_ERROR_VALUE = 2,   /* ValueError: a malformed argument (e.g. a bad format string) */
  BF_ERROR_TYPE = 3,    /* TypeError: the object does not support what was asked */
  BF_ERROR_INDEX = 4,   /* IndexError */
  BF_ERROR_MEMORY = 5,  /* MemoryError */
  BF_ERROR_RUNTIME = 6, /* RuntimeError */
} BfErrorKind;

/* An acquisition of a consumer view: owns one successful PyObject_GetBuffer. Opaque. */
typedef struct BfAcquisition BfAcquisition;

/* Opaque CPython object (PyObject in Python.h). */
struct _object;

/* ---------------------------------------------------------------------------------------------
 * Tables: a producer whose columns Arrow consumers read in place (install_table_interop).
 * ------------------------------------------------------------------------------------------- */

typedef struct {
  /* The column's name, UTF-8, NUL-terminated. Copied by the core. */
  const char *name;
  /* PEP 3118 format of one element: a native scalar Arrow has a fixed-width type for. */
  const char *format;
  /* The column's `length` elements, contiguous. NULL only when length is 0. Owned by the
   * producer; must not move or be freed until the matching BfReleaseTable call. */
  const void *data;
} BfColumn;

/* Describe `table`'s columns (all of `*length` rows) into `columns` (room for `capacity`) and
 * lock them against resizing and freeing. Returns the number of columns; when that exceeds
 * `capacity`, nothing was written or locked (call again with room). -1 with a Python exception
 * set on failure (nothing locked). Called holding the GIL. */
typedef int64_t (*BfDescribeTable)(struct _object *table, BfColumn *columns, int64_t capacity,
                                   int64_t *length);
/* One column of one chunk of an Arrow table acquired by acquire_arrow_table. */
typedef struct {
  /* The column's first value of this chunk (offsets applied), or NULL when `format` is NULL. */
  const void *values;
  /* PEP 3118 format of the values, or NULL: the column has no buffer layout (see `refusal`). */
  const char *format;
  /* Why the column cannot be viewed as a buffer (names its Arrow type), or NULL. */
  const char *refusal;
  /* Rows in this chunk; bytes per value. */
  int64_t length;
  int64_t itemsize;
  /* Arrow's validity bitmap (bit i of the bitmap, LSB first, at bit `validity_offset + i`), or
   * NULL when every value is valid; and the number of nulls (-1: not computed by the producer). */
  const uint8_t *validity;
  int64_t validity_offset;
  int64_t null_count;
} BfArrowChunk;

/* An Arrow table acquired for reading in place (acquire_arrow_table). Valid, with everything it
 * points to, until its acquisition's count drops to zero. */
typedef struct {
  int64_t ncolumns;
  int64_t nchunks;
  int64_t nrows;              /* over every chunk */
  const char *const *names;   /* ncolumns UTF-8 names */
  const BfArrowChunk *chunks; /* chunks[chunk * ncolumns + column] */
} BfArrowTable;

/* Undo one successful BfDescribeTable: called exactly once per lock, holding the GIL, from any
 * thread, when the last Arrow array or stream built on that description is released. */
typedef void (*BfReleaseTable)(struct _object *table);

/* ---------------------------------------------------------------------------------------------
 * BfApi: the function table. Fields are only ever appended, with a minor version bump: read a
 * field only if version_minor is at least the minor that appended it (marked below). `size` is
 * sizeof(BfApi) as the core was compiled.
 * ------------------------------------------------------------------------------------------- */

typedef struct {
  /* == BF_API_VERSION_MAJOR of the core that built this table. */
  uint16_t version_major;
  /* BF_API_VERSION_MINOR of that core. */
  uint16_t version_minor;
  /* sizeof(BfApi) as the core was compiled. */
  uint32_t size;

  /* --- export side (call holding the GIL) --- */

  /* Fill `view` (a Py_buffer *) for a request `flags` (BF_BUF_*) from `desc`, which describes the
   * memory of `exporter`. Validates `desc` first: ndim outside 0..BF_MAX_NDIM, a negative extent,
   * a size that overflows, an itemsize that disagrees with the format, an invalid format, NULL
   * data with a nonzero size, or memory on a device the CPU does not address are refused with
   * BufferError naming the problem. Then applies the
   * flags as CPython defines them (WRITABLE, FORMAT, ND, STRIDES, C/F/ANY_CONTIGUOUS checked
   * against the real strides, INDIRECT vs suboffsets). On success view->obj holds a new reference
   * to `exporter`; the pointers of `desc` are referenced, not copied (except when the producer
   * gave strides == NULL and the consumer asked for strides at ndim >= 2: then the strides live
   * in the core, held until release_buffer). A descriptor equal in content (its fields, the
   * values its shape and strides point at, its format's text) to one already validated for the
   * same flags reuses that outcome, so handing the same descriptor on every export costs no
   * revalidation, while changing it between exports (resizing in place) is always seen. Returns
   * 0, or -1 with an exception set and view->obj == NULL. */
  int (*export_buffer)(struct _object *exporter, void *view, const BfBuffer *desc, int flags);

  /* Undo what export_buffer holds for `view` (call it exactly once per successful
   * export_buffer, from the exporter's bf_releasebuffer slot). Does not touch view->obj: CPython
   * drops that reference itself after the slot returns. Does nothing when view->internal is NULL
   * (the core holds nothing for such a view; a producer may skip the call). */
  void (*release_buffer)(void *view);

  /* --- consumer side --- */

  /* Acquire a view of any object exporting the buffer protocol with request `flags`, describe it
   * in *out and store a new acquisition (reference count 1) in *acq. The pointers in *out stay
   * valid until that acquisition's count drops to zero. GIL required. Returns 0 or -1. */
  int (*acquire)(struct _object *obj, int flags, BfBuffer *out, BfAcquisition **acq);

  /* Add a reference to an acquisition. Atomic; needs no GIL. */
  void (*acquisition_incref)(BfAcquisition *acq);

  /* Drop a reference; the last one releases the underlying Py_buffer exactly once (taking the GIL
   * itself if the calling thread does not hold it). NULL is ignored. */
  void (*acquisition_decref)(BfAcquisition *acq);

  /* The Python object whose export an acquisition holds (a borrowed reference). */
  struct _object *(*acquisition_object)(BfAcquisition *acq);

  /* --- formats and errors --- */

  /* Parse and validate a PEP 3118 format (NULL means "B"); fill *out. Invalid formats: -1 with a
   * ValueError naming the offending position. GIL required. */
  int (*parse_format)(const char *format, BfFormatInfo *out);

  /* Set the current Python exception: `kind` is a BfErrorKind, `message` UTF-8. GIL required.
   * Always returns -1, so `return api->set_error(...)` reads naturally. */
  int (*set_error)(int kind, const char *message);

  /* --- DLPack and Arrow: version 1.1 (present when version_minor >= 1) --- */

  /* Give `type` (whose instances export the buffer protocol) the methods __dlpack__,
   * __dlpack_device__, __arrow_c_schema__, __arrow_c_array__ and __arrow_c_stream__ (1-D: a
   * primitive array; N-D C-contiguous: arrow.fixed_shape_tensor), each built on one buffer export
   * of the instance (so the producer's release runs once per capsule, when its consumer is done).
   * Also __reduce_ex__ (pickling: the export as a numpy array, its memory out of band at protocol
   * 5; the type itself when it has __from_buffer__) and a short __repr__ (unless the type has a
   * __repr__ method of its own), both implemented by the Python module bufferable.exports.
   * GIL required. Returns 0, or -1 (TypeError if `type` is not a buffer-exporting type). */
  int (*install_interop)(struct _object *type);

  /* Like acquire, but through DLPack: uses the C exchange API of obj's type when it has one
   * (`__dlpack_c_exchange_api__`), else calls obj.__dlpack__(max_version=(1, 1)) (falling back to
   * the legacy call), requires CPU memory, converts element strides to bytes and the data type to
   * a format ("f", "?", "[ml_dtypes$bfloat16$]", ...). The acquisition owns the managed tensor and
   * calls its deleter exactly once, when its count drops to zero. GIL required. */
  int (*acquire_dlpack)(struct _object *obj, int flags, BfBuffer *out, BfAcquisition **acq);

  /* Like acquire, through the Arrow PyCapsule interface: calls obj.__arrow_c_array__() and
   * describes the values of a 1-D fixed-width primitive array (offset applied; always read-only;
   * an array with nulls, and every other layout, dictionary-encoded included, is refused with
   * BufferError naming the Arrow type). The acquisition owns the moved ArrowArray
   * and calls its release callback exactly once. GIL required. */
  int (*acquire_arrow)(struct _object *obj, int flags, BfBuffer *out, BfAcquisition **acq);

  /* --- tables: version 1.2 (present when version_minor >= 2) --- */

  /* Give `type` the Arrow PyCapsule methods of a table: __arrow_c_schema__ (a struct with one
   * field per column), __arrow_c_array__ (a struct array whose children point at the columns'
   * memory) and __arrow_c_stream__ (one such record batch). Each array or stream call describes
   * the instance once through `describe` (which locks it) and calls `release` exactly once when
   * the last array, child array or stream built on it is released; a schema call releases at
   * once. A requested_schema naming a subset of the columns (same names, same types) is
   * honoured; any other is answered with the full schema. Also __reduce_ex__ (pickled as the
   * pyarrow.Table over the columns) and a short __repr__, as install_interop gives them.
   * GIL required. Returns 0 or -1. */
  int (*install_table_interop)(struct _object *type, BfDescribeTable describe,
                               BfReleaseTable release);

  /* Acquire an Arrow table for reading in place: obj.__arrow_c_stream__() (every batch is read
   * now), else obj.__arrow_c_array__() giving a struct array (a record batch); a stream of a
   * non-struct type is a table of one column. *table describes it; the acquisition (count 1)
   * owns the stream's or array's export and releases every batch exactly once when its count
   * drops to zero. Columns that are not primitive fixed-width arrays are described with a
   * `refusal` rather than refused here. GIL required. Returns 0, or -1 (TypeError without the
   * methods, BufferError for a table with row-level nulls or a failed stream). */
  int (*acquire_arrow_table)(struct _object *obj, BfAcquisition **acq, const BfArrowTable **table);

  /* --- errors that travel through code that cannot carry a Python exception: version 1.3
   * (present when version_minor >= 3) --- */

  /* Record, for the calling thread, which Python exception the producer's error whose text is
   * `message` (UTF-8) stands for: `exception` itself when not NULL (a new reference is taken, GIL
   * required), else a new exception of class `kind` (a BfErrorKind). The record replaces the
   * thread's previous one. Without an exception it needs no GIL, so a worker thread may record. */
  void (*note_error)(int kind, const char *message, struct _object *exception);

  /* Set the current Python exception for a producer's error whose text is `message`, and clear
   * the thread's record: if the record is for this very text, the recorded exception object (the
   * same object, KeyboardInterrupt included) or one of the recorded class; otherwise a new
   * exception of class `default_kind` (a BfErrorKind, or 0 for Exception), never a class guessed
   * from the text. GIL required. Returns -1. */
  int (*raise_error)(const char *message, int default_kind);

  /* Re-key the calling thread's record from the text `message` to `new_message` (an error that
   * was reworded keeps its class; an exception object recorded for it is raised as a new
   * exception of its class with the new text, caused by the original, or as the original itself
   * when it is not an Exception, e.g. KeyboardInterrupt). No record for `message`: nothing. */
  void (*reword_error)(const char *message, const char *new_message);

  /* --- version 1.4 (present when version_minor >= 4) --- */

  /* Drop the calling thread's record, if any, and the reference it holds to an exception object
   * (a producer that recorded an error, then handled it and returned normally, calls it so the
   * record cannot lend its class to a later error of the same text). A pending Python exception is
   * left as it is. Takes the GIL only if a recorded exception object must be released. */
  void (*forget_error)(void);
} BfApi;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* BUFFERABLE_H */
/* clang-format on */
