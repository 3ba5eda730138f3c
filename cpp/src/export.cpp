// export.cpp -- PLACEHOLDER until the export engine lands.
#include "core.h"
namespace bf {
int export_buffer(PyObject *, Py_buffer *view, const BfBuffer *, int) { view->obj = nullptr; PyErr_SetString(PyExc_BufferError, "export engine not built yet"); return -1; }
void release_buffer(Py_buffer *) {}
void bind_export(nb::module_ &) {}
}
