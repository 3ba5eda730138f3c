// acquire.cpp -- PLACEHOLDER until the consumer side lands.
#include "core.h"
namespace bf {
int acquire(PyObject *, int, BfBuffer *, BfAcquisition **) { PyErr_SetString(PyExc_BufferError, "acquire not built yet"); return -1; }
void acquisition_incref(BfAcquisition *) {}
void acquisition_decref(BfAcquisition *) {}
PyObject *acquisition_object(BfAcquisition *) { return nullptr; }
void bind_acquire(nb::module_ &) {}
}
