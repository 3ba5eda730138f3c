// arrow.h -- the Arrow PyCapsule interface methods of buffer exports (arrow.cpp); the consumer
// side is acquire_arrow (arrow_import.cpp, declared in core.h).
#pragma once

#include "core.h"

namespace bf {

// __arrow_c_schema__(): METH_NOARGS.
PyObject *arrow_schema_method(PyObject *self, PyObject *unused);
// __arrow_c_array__(requested_schema=None): METH_FASTCALL | METH_KEYWORDS.
PyObject *arrow_array_method(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                             PyObject *kwnames);
// __arrow_c_stream__(requested_schema=None): METH_FASTCALL | METH_KEYWORDS.
PyObject *arrow_stream_method(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                              PyObject *kwnames);

}  // namespace bf
