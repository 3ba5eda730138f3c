// api.cpp -- the BfApi function table, published as the capsule bufferable._core._C_API, and the
// error helper every C entry point uses.
//
// The table is static and constant: Mojo and C/C++ producers read the pointer once and keep it
// for the life of the process (the core module is never unloaded). The entries are thin C-ABI
// trampolines over the C++ functions, which take Py_buffer * where the header says void *.
#include "core.h"

#include <cstddef>
#include <cstring>

namespace bf {

int set_error(int kind, const char *message) {
  PyObject *type;
  switch (kind) {
    case BF_ERROR_BUFFER: type = PyExc_BufferError; break;
    case BF_ERROR_VALUE: type = PyExc_ValueError; break;
    case BF_ERROR_TYPE: type = PyExc_TypeError; break;
    case BF_ERROR_INDEX: type = PyExc_IndexError; break;
    case BF_ERROR_MEMORY: type = PyExc_MemoryError; break;
    case BF_ERROR_RUNTIME: type = PyExc_RuntimeError; break;
    default:
      PyErr_Format(PyExc_SystemError, "bufferable set_error: unknown error kind %d (message: %s)",
                   kind, message ? message : "(null)");
      return -1;
  }
  // Decode as UTF-8, replacing invalid bytes rather than failing while reporting a failure.
  PyObject *msg = PyUnicode_DecodeUTF8(message ? message : "", message ? (Py_ssize_t) strlen(message) : 0,
                                       "replace");
  if (!msg) return -1;
  PyErr_SetObject(type, msg);
  Py_DECREF(msg);
  return -1;
}

namespace {

extern "C" {
int c_export_buffer(PyObject *exporter, void *view, const BfBuffer *desc, int flags) {
  return export_buffer(exporter, (Py_buffer *) view, desc, flags);
}
void c_release_buffer(void *view) { release_buffer((Py_buffer *) view); }
int c_acquire(PyObject *obj, int flags, BfBuffer *out, BfAcquisition **acq) {
  return acquire(obj, flags, out, acq);
}
void c_acquisition_incref(BfAcquisition *acq) { acquisition_incref(acq); }
void c_acquisition_decref(BfAcquisition *acq) { acquisition_decref(acq); }
PyObject *c_acquisition_object(BfAcquisition *acq) { return acquisition_object(acq); }
int c_parse_format(const char *format, BfFormatInfo *out) { return parse_format(format, out); }
int c_set_error(int kind, const char *message) { return set_error(kind, message); }
int c_install_interop(PyObject *type) { return install_interop(type); }
int c_acquire_dlpack(PyObject *obj, int flags, BfBuffer *out, BfAcquisition **acq) {
  return acquire_dlpack(obj, flags, out, acq);
}
int c_acquire_arrow(PyObject *obj, int flags, BfBuffer *out, BfAcquisition **acq) {
  return acquire_arrow(obj, flags, out, acq);
}
int c_install_table_interop(PyObject *type, BfDescribeTable describe, BfReleaseTable release) {
  return install_table_interop(type, describe, release);
}
int c_acquire_arrow_table(PyObject *obj, BfAcquisition **acq, const BfArrowTable **table) {
  return acquire_arrow_table(obj, acq, table);
}
}

const BfApi api_table = {
    BF_API_VERSION_MAJOR,
    BF_API_VERSION_MINOR,
    (uint32_t) sizeof(BfApi),
    c_export_buffer,
    c_release_buffer,
    c_acquire,
    c_acquisition_incref,
    c_acquisition_decref,
    c_acquisition_object,
    c_parse_format,
    c_set_error,
    c_install_interop,
    c_acquire_dlpack,
    c_acquire_arrow,
    c_install_table_interop,
    c_acquire_arrow_table,
};

// Offsets Mojo (api.mojo) mirrors for the 1.2 entries.
static_assert(offsetof(BfApi, install_table_interop) == 96, "BfApi layout (Mojo mirrors it)");
static_assert(offsetof(BfApi, acquire_arrow_table) == 104, "BfApi layout (Mojo mirrors it)");
static_assert(sizeof(BfColumn) == 24 && sizeof(BfArrowChunk) == 64 &&
                  offsetof(BfArrowChunk, null_count) == 56 && sizeof(BfArrowTable) == 40 &&
                  offsetof(BfArrowTable, chunks) == 32,
              "table structs (table.mojo and table_view.mojo read them by offset)");

}  // namespace

void bind_api(nb::module_ &m) {
  PyObject *capsule = PyCapsule_New((void *) &api_table, BF_API_CAPSULE_NAME, nullptr);
  if (!capsule) throw nb::python_error();
  m.attr("_C_API") = nb::steal(capsule);
  m.attr("API_VERSION") = nb::make_tuple(BF_API_VERSION_MAJOR, BF_API_VERSION_MINOR);
}

}  // namespace bf
