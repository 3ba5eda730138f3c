// api.cpp -- PLACEHOLDER until the C API table lands.
#include "core.h"
namespace bf {
int set_error(int, const char *message) { PyErr_SetString(PyExc_RuntimeError, message); return -1; }
void bind_api(nb::module_ &) {}
}
