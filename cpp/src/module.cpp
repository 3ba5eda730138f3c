// module.cpp -- bufferable._core: binds each concern of the core.
#include "core.h"

NB_MODULE(_core, m) {
  m.doc() =
      "bufferable's C++ core: Py_buffer export, the PEP 3118 format grammar, consumer views, "
      "and the C API capsule (_C_API) that Mojo and C/C++ producers call.";
  bf::bind_format(m);
  bf::bind_acquire(m);
  bf::bind_interop(m);
  bf::bind_api(m);
}
