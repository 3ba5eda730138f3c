// core.h -- what the core's translation units share. Each .cpp owns one concern and binds its own
// Python API from a bind_* function that module.cpp calls.
#pragma once

#include <Python.h>
#include <nanobind/nanobind.h>

#include <bufferable/bufferable.h>

namespace bf {
namespace nb = nanobind;

static_assert(sizeof(Py_ssize_t) == sizeof(int64_t),
              "BfBuffer shape/strides are int64_t and are handed to Py_buffer without a copy");

// export.cpp: BfBuffer -> Py_buffer (the producer side of the contract).
int export_buffer(PyObject *exporter, Py_buffer *view, const BfBuffer *desc, int flags);
void release_buffer(Py_buffer *view);
void bind_export(nb::module_ &m);

// acquire.cpp: any Python exporter -> BfBuffer + acquisition (the consumer side), and inspect().
int acquire(PyObject *obj, int flags, BfBuffer *out, BfAcquisition **acq);
void acquisition_incref(BfAcquisition *acq);
void acquisition_decref(BfAcquisition *acq);
PyObject *acquisition_object(BfAcquisition *acq);
// An acquisition that owns something other than a Py_buffer (a DLPack managed tensor, an Arrow
// array): the decref that drops the count to zero calls release(owner) exactly once, holding the
// GIL, then drops the strong reference to `obj` (may be NULL) that acquisition_object returns.
// Count starts at 1. acquisition_scratch gives 2 * BF_MAX_NDIM int64_t owned by the acquisition
// (e.g. shape and byte strides converted from elements), valid until it dies. NULL + MemoryError
// on failure.
BfAcquisition *acquisition_new_foreign(PyObject *obj, void *owner, void (*release)(void *owner));
int64_t *acquisition_scratch(BfAcquisition *acq);
void bind_acquire(nb::module_ &m);

// format.cpp: the PEP 3118 format grammar. parse_format sets ValueError on a bad format.
int parse_format(const char *format, BfFormatInfo *out);
void bind_format(nb::module_ &m);

// testing.cpp: bufferable._core.testing.Producer, an exporter built on the contract.
void bind_testing(nb::module_ &m);

// api.cpp: the BfApi table and its capsule; error helpers.
int set_error(int kind, const char *message);
void bind_api(nb::module_ &m);

}  // namespace bf
