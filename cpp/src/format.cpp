// format.cpp -- PLACEHOLDER until the format grammar lands.
#include "core.h"
namespace bf {
int parse_format(const char *, BfFormatInfo *) { PyErr_SetString(PyExc_ValueError, "format grammar not built yet"); return -1; }
void bind_format(nb::module_ &) {}
}
