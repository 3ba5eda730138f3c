// core.h -- what the core's translation units share. Each .cpp owns one concern and binds its own
// Python API from a bind_* function that module.cpp calls.
#pragma once

#include <Python.h>
#include <nanobind/nanobind.h>

#include <bufferable/bufferable.h>

namespace bf {
namespace nb = nanobind;

// Set a Python exception of class `type` and return -1 (`return fail_with(...)` in a C-ABI
// function): PyErr_SetString for a plain message, PyErr_Format when arguments follow.
inline int fail_with(PyObject *type, const char *message) {
  PyErr_SetString(type, message);
  return -1;
}
template <class... Args>
int fail_with(PyObject *type, const char *format, Args... args) {
  PyErr_Format(type, format, args...);
  return -1;
}

static_assert(sizeof(Py_ssize_t) == sizeof(int64_t),
              "BfBuffer shape/strides are int64_t and are handed to Py_buffer without a copy");

// export.cpp: BfBuffer -> Py_buffer (the producer side of the contract).
int export_buffer(PyObject *exporter, Py_buffer *view, const BfBuffer *desc, int flags);
void release_buffer(Py_buffer *view);
// Whether `desc` (memory the core describes for a consumer: a DLPack or Arrow import) is truthful
// and satisfies request `flags` by the export rules; 0, or -1 with BufferError. `owner` is any
// live object (it is referenced and released again).
int check_request(PyObject *owner, const BfBuffer *desc, int flags);
// Whether the CPU addresses memory on `device` (CPU, CUDA pinned host memory): the only memory the
// buffer protocol carries; export_buffer refuses any other device with BufferError.
inline bool host_memory(BfDevice device) {
  return device.device_type == BF_DEVICE_CPU || device.device_type == BF_DEVICE_CUDA_HOST;
}
// One export of `exporter` for DLPack: PyObject_GetBuffer(exporter, view, flags), except that
// export_buffer then accepts memory on any device and reports the descriptor's device in *device
// ({BF_DEVICE_CPU, 0} for an exporter that does not export through the core).
int export_any_device(PyObject *exporter, Py_buffer *view, int flags, BfDevice *device);

// Run `release` (which undoes an export: PyBuffer_Release, a foreign deleter) from any thread:
// directly when this thread holds the GIL, else taking it. If the interpreter is finalizing and
// this thread holds no GIL, `release` is skipped and the export leaked: taking the GIL then could
// hang or crash (a consumer that outlives Python). Py_IsInitialized() is no test for this: it
// turns false early in Py_FinalizeEx, while module globals, and the exports they hold, still
// have to be released.
bool interpreter_finalizing();
template <class Release>
void release_with_gil(Release &&release) {
  if (PyGILState_Check()) {
    release();
  } else if (!interpreter_finalizing()) {
    PyGILState_STATE st = PyGILState_Ensure();
    release();
    PyGILState_Release(st);
  }
}

// acquire.cpp: any Python exporter -> BfBuffer + acquisition (the consumer side), and inspect().
int acquire(PyObject *obj, int flags, BfBuffer *out, BfAcquisition **acq);
void acquisition_incref(BfAcquisition *acq);
void acquisition_decref(BfAcquisition *acq);
PyObject *acquisition_object(BfAcquisition *acq);
// An acquisition that owns something other than a Py_buffer (a DLPack managed tensor, an Arrow
// array): the decref that drops the count to zero calls release(owner) exactly once, holding the
// GIL, then drops the strong reference to `obj` (may be NULL) that acquisition_object returns.
// Count starts at 1. NULL + MemoryError on failure.
BfAcquisition *acquisition_new_foreign(PyObject *obj, void *owner, void (*release)(void *owner));
void bind_acquire(nb::module_ &m);

// format.cpp: the PEP 3118 format grammar. parse_format sets ValueError on a bad format.
int parse_format(const char *format, BfFormatInfo *out);
void bind_format(nb::module_ &m);

// interop_methods.cpp: the DLPack and Arrow methods for any buffer-exporting type.
// install_methods adds a NULL-terminated table's methods to a type; a __repr__ is left out when
// the type binds one of its own (anything but the wrapper CPython makes for a tp_repr slot).
int install_interop(PyObject *type);
int install_methods(PyObject *type, PyMethodDef *methods);
// python_methods.cpp: __repr__ and __reduce_ex__, delegated to bufferable.exports.
extern PyMethodDef buffer_python_methods[];
extern PyMethodDef table_python_methods[];
void bind_interop(nb::module_ &m);

// dlpack.cpp / arrow.cpp, consumer side: a foreign export as an acquisition (see bufferable.h).
int acquire_dlpack(PyObject *obj, int flags, BfBuffer *out, BfAcquisition **acq);
int acquire_arrow(PyObject *obj, int flags, BfBuffer *out, BfAcquisition **acq);
// arrow_table.cpp: the Arrow methods of a table type (see bufferable.h).
int install_table_interop(PyObject *type, BfDescribeTable describe, BfReleaseTable release);
// arrow_table_import.cpp: an Arrow table read in place (see bufferable.h).
int acquire_arrow_table(PyObject *obj, BfAcquisition **acq, const BfArrowTable **table);

// api.cpp: the BfApi table and its capsule; error helpers.
int set_error(int kind, const char *message);
void note_error(int kind, const char *message, PyObject *exception);
int raise_error(const char *message, int default_kind);
void reword_error(const char *message, const char *new_message);
void forget_error();
void bind_api(nb::module_ &m);

}  // namespace bf
