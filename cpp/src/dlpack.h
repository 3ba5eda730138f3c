// dlpack.h -- DLPack export methods (dlpack.cpp) and import for consumers.
#pragma once

#include "core.h"
#include "interop_abi.h"

namespace bf {

// __dlpack__(*, stream=None, max_version=None, dl_device=None, copy=None) for any exporter:
// METH_FASTCALL | METH_KEYWORDS.
PyObject *dlpack_method(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames);
// __dlpack_device__(): METH_NOARGS, always (kDLCPU, 0).
PyObject *dlpack_device_method(PyObject *self, PyObject *unused);
// The DLPack data type of a buffer export's format; BufferError when it has none.
int dlpack_dtype(const Py_buffer &view, abi::DLDataType &dtype);

}  // namespace bf
