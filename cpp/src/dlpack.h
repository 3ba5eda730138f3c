// dlpack.h -- DLPack export methods (dlpack.cpp) and import for consumers.
#pragma once

#include "core.h"
#include "interop_abi.h"

namespace bf {

// __dlpack__(*, stream=None, max_version=None, dl_device=None, copy=None) for any exporter:
// METH_FASTCALL | METH_KEYWORDS.
PyObject *dlpack_method(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames);
// __dlpack_device__(): METH_NOARGS, the device of the exporter's descriptor ((kDLCPU, 0) for host
// memory).
PyObject *dlpack_device_method(PyObject *self, PyObject *unused);
// The instance `self` as an owned versioned managed tensor (one buffer export, released by the
// tensor's deleter): the exchange API's managed_tensor_from_py_object_no_sync.
int dlpack_managed_tensor(PyObject *self, abi::DLManagedTensorVersioned **out);
// The interned name "__dlpack_c_exchange_api__" (NULL with an exception if interning failed).
PyObject *exchange_attribute();
// Set `type.__dlpack_c_exchange_api__` to the core's exchange table (see interop_abi.h).
int install_exchange_api(PyObject *type);
// The DLPack data type of a buffer export's format; BufferError when it has none.
int dlpack_dtype(const Py_buffer &view, abi::DLDataType &dtype);

}  // namespace bf
