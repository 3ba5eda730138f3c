// api.cpp -- the BfApi function table, published as the capsule bufferable._core._C_API, the
// error helper every C entry point uses, and the per-thread error records (note_error,
// raise_error, reword_error) that let a producer's error keep its Python class, or its very
// exception object, through code that can only carry text (a Mojo `Error`); forget_error drops
// a record whose error was handled.
//
// A record is (text, class, exception object or NULL), one per thread, replaced by the next
// note. raise_error only honours it for the exact text it was noted for, so the class of an error
// whose text a user wrote is never guessed: a plain Exception unless the caller says otherwise.
//
// The table is static and constant: Mojo and C/C++ producers read the pointer once and keep it
// for the life of the process (the core module is never unloaded). The entries are thin C-ABI
// trampolines over the C++ functions, which take Py_buffer * where the header says void *.
#include "core.h"

#include <cstddef>
#include <cstring>
#include <string>

namespace bf {

// The layouts other languages mirror field for field (mojo/bufferable: api.mojo's BfApi,
// FormatInfo, DataType and PyBufferView, buffer.mojo's Buffer, table.mojo's and table_view.mojo's
// column and chunk records; tests/test_c_api.py's ctypes structures). A change here must change
// them too; these make the compiler say so.
#define BF_AT(type, field, offset) \
  static_assert(offsetof(type, field) == (offset), #type "." #field)
BF_AT(BfApi, version_major, 0);
BF_AT(BfApi, version_minor, 2);
BF_AT(BfApi, size, 4);
BF_AT(BfApi, export_buffer, 8);
BF_AT(BfApi, release_buffer, 16);
BF_AT(BfApi, acquire, 24);
BF_AT(BfApi, acquisition_incref, 32);
BF_AT(BfApi, acquisition_decref, 40);
BF_AT(BfApi, acquisition_object, 48);
BF_AT(BfApi, parse_format, 56);
BF_AT(BfApi, set_error, 64);
BF_AT(BfApi, install_interop, 72);
BF_AT(BfApi, acquire_dlpack, 80);
BF_AT(BfApi, acquire_arrow, 88);
BF_AT(BfApi, install_table_interop, 96);
BF_AT(BfApi, acquire_arrow_table, 104);
BF_AT(BfApi, note_error, 112);
BF_AT(BfApi, raise_error, 120);
BF_AT(BfApi, reword_error, 128);
BF_AT(BfApi, forget_error, 136);
static_assert(sizeof(BfApi) == 144, "sizeof(BfApi)");
BF_AT(BfBuffer, data, 0);
BF_AT(BfBuffer, itemsize, 8);
BF_AT(BfBuffer, format, 16);
BF_AT(BfBuffer, ndim, 24);
BF_AT(BfBuffer, readonly, 28);
BF_AT(BfBuffer, shape, 32);
BF_AT(BfBuffer, strides, 40);
BF_AT(BfBuffer, suboffsets, 48);
BF_AT(BfBuffer, device, 56);
static_assert(sizeof(BfBuffer) == 64, "sizeof(BfBuffer)");
BF_AT(BfDataType, code, 0);
BF_AT(BfDataType, bits, 1);
BF_AT(BfDataType, lanes, 2);
static_assert(sizeof(BfDataType) == 4, "sizeof(BfDataType)");
BF_AT(BfFormatInfo, itemsize, 0);
BF_AT(BfFormatInfo, alignment, 8);
BF_AT(BfFormatInfo, byteorder, 16);
BF_AT(BfFormatInfo, native_order, 17);
BF_AT(BfFormatInfo, nfields, 20);
BF_AT(BfFormatInfo, dtype, 24);
static_assert(sizeof(BfFormatInfo) == 32, "sizeof(BfFormatInfo)");
BF_AT(BfColumn, name, 0);
BF_AT(BfColumn, format, 8);
BF_AT(BfColumn, data, 16);
static_assert(sizeof(BfColumn) == 24, "sizeof(BfColumn)");
BF_AT(BfArrowChunk, values, 0);
BF_AT(BfArrowChunk, format, 8);
BF_AT(BfArrowChunk, refusal, 16);
BF_AT(BfArrowChunk, length, 24);
BF_AT(BfArrowChunk, itemsize, 32);
BF_AT(BfArrowChunk, validity, 40);
BF_AT(BfArrowChunk, validity_offset, 48);
BF_AT(BfArrowChunk, null_count, 56);
static_assert(sizeof(BfArrowChunk) == 64, "sizeof(BfArrowChunk)");
BF_AT(BfArrowTable, ncolumns, 0);
BF_AT(BfArrowTable, nchunks, 8);
BF_AT(BfArrowTable, nrows, 16);
BF_AT(BfArrowTable, names, 24);
BF_AT(BfArrowTable, chunks, 32);
static_assert(sizeof(BfArrowTable) == 40, "sizeof(BfArrowTable)");
BF_AT(Py_buffer, buf, 0);
BF_AT(Py_buffer, obj, 8);
BF_AT(Py_buffer, len, 16);
BF_AT(Py_buffer, itemsize, 24);
BF_AT(Py_buffer, readonly, 32);
BF_AT(Py_buffer, ndim, 36);
BF_AT(Py_buffer, format, 40);
BF_AT(Py_buffer, shape, 48);
BF_AT(Py_buffer, strides, 56);
BF_AT(Py_buffer, suboffsets, 64);
BF_AT(Py_buffer, internal, 72);
static_assert(sizeof(Py_buffer) == 80, "sizeof(Py_buffer)");
#undef BF_AT

namespace {

PyObject *class_of(int kind) {
  switch (kind) {
    case BF_ERROR_BUFFER: return PyExc_BufferError;
    case BF_ERROR_VALUE: return PyExc_ValueError;
    case BF_ERROR_TYPE: return PyExc_TypeError;
    case BF_ERROR_INDEX: return PyExc_IndexError;
    case BF_ERROR_MEMORY: return PyExc_MemoryError;
    case BF_ERROR_RUNTIME: return PyExc_RuntimeError;
    default: return nullptr;
  }
}

// Decode as UTF-8, replacing invalid bytes rather than failing while reporting a failure.
PyObject *message_object(const char *message) {
  return PyUnicode_DecodeUTF8(message ? message : "", message ? (Py_ssize_t) strlen(message) : 0,
                              "replace");
}

int set_class(PyObject *type, const char *message) {
  PyObject *msg = message_object(message);
  if (!msg) return -1;
  PyErr_SetObject(type, msg);
  Py_DECREF(msg);
  return -1;
}

struct ErrorRecord {
  bool set = false;
  bool reworded = false;
  int kind = 0;
  std::string text;
  PyObject *exception = nullptr;  // strong reference (taken and dropped under the GIL)
};
thread_local ErrorRecord record;

void clear_record() {
  record.set = false;
  if (PyObject *exc = record.exception) {
    record.exception = nullptr;
    release_with_gil([exc] { Py_DECREF(exc); });
  }
}

}  // namespace

int set_error(int kind, const char *message) {
  PyObject *type = class_of(kind);
  if (!type) {
    PyErr_Format(PyExc_SystemError, "bufferable set_error: unknown error kind %d (message: %s)",
                 kind, message ? message : "(null)");
    return -1;
  }
  return set_class(type, message);
}

void note_error(int kind, const char *message, PyObject *exception) {
  clear_record();
  try {
    record.text = message ? message : "";
  } catch (...) {  // out of memory: no record, the error becomes a plain one
    return;
  }
  record.kind = kind;
  record.reworded = false;
  record.exception = Py_XNewRef(exception);
  record.set = true;
}

void reword_error(const char *message, const char *new_message) {
  if (!record.set || !message || record.text != message) return;
  try {
    record.text = new_message ? new_message : "";
    record.reworded = true;
  } catch (...) { clear_record(); }
}

void forget_error() { clear_record(); }

int raise_error(const char *message, int default_kind) {
  if (!record.set || !message || record.text != message) {
    clear_record();
    PyObject *type = class_of(default_kind);
    return set_class(type ? type : PyExc_Exception, message);
  }
  const int kind = record.kind;
  const bool reworded = record.reworded;
  PyObject *exc = record.exception;  // our reference, now the caller's
  record.exception = nullptr;
  record.set = false;
  if (!exc) {
    PyObject *type = class_of(kind);
    return set_class(type ? type : PyExc_Exception, message);
  }
  PyObject *type = (PyObject *) Py_TYPE(exc);
  if (reworded && PyObject_IsInstance(exc, PyExc_Exception) == 1) {
    // The same class with the new text, raised from the original.
    PyObject *msg = message_object(message);
    PyObject *again = msg ? PyObject_CallOneArg(type, msg) : nullptr;
    Py_XDECREF(msg);
    if (again && PyExceptionInstance_Check(again)) {
      PyException_SetCause(again, exc);  // steals exc
      PyErr_SetObject(type, again);
      Py_DECREF(again);
      return -1;
    }
    Py_XDECREF(again);
    PyErr_Clear();  // the class cannot be built from a message: raise the original itself
  }
  PyErr_Restore(Py_NewRef(type), exc, PyException_GetTraceback(exc));
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
void c_note_error(int kind, const char *message, PyObject *exception) {
  note_error(kind, message, exception);
}
int c_raise_error(const char *message, int default_kind) {
  return raise_error(message, default_kind);
}
void c_reword_error(const char *message, const char *new_message) {
  reword_error(message, new_message);
}
void c_forget_error() { forget_error(); }
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
    // clang-format off: the entries grouped by the minor version that appended them
    BF_API_VERSION_MAJOR, BF_API_VERSION_MINOR, (uint32_t) sizeof(BfApi),
    // 1.0
    c_export_buffer, c_release_buffer, c_acquire, c_acquisition_incref, c_acquisition_decref,
    c_acquisition_object, c_parse_format, c_set_error,
    // 1.1
    c_install_interop, c_acquire_dlpack, c_acquire_arrow,
    // 1.2
    c_install_table_interop, c_acquire_arrow_table,
    // 1.3
    c_note_error, c_raise_error, c_reword_error,
    // 1.4
    c_forget_error,
    // clang-format on
};

}  // namespace

void bind_api(nb::module_ &m) {
  PyObject *capsule = PyCapsule_New((void *) &api_table, BF_API_CAPSULE_NAME, nullptr);
  if (!capsule) throw nb::python_error();
  m.attr("_C_API") = nb::steal(capsule);
  m.attr("API_VERSION") = nb::make_tuple(BF_API_VERSION_MAJOR, BF_API_VERSION_MINOR);
}

}  // namespace bf
