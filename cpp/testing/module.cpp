// module.cpp -- bufferable._testing: the test helpers (bufferable.testing), kept out of the shipped
// core as CPython keeps _testbuffer apart from memoryobject.c. Built on the C contract alone: it
// reads the core's BfApi capsule once, as a C/C++ producer does.
#include "testing.h"

namespace bf_testing {
namespace {
const BfApi *table = nullptr;
}

const BfApi &api() { return *table; }

void load_api() {
  nb::object capsule = nb::module_::import_("bufferable._core").attr("_C_API");
  auto *t = static_cast<const BfApi *>(PyCapsule_GetPointer(capsule.ptr(), BF_API_CAPSULE_NAME));
  if (t == nullptr) throw nb::python_error();
  if (t->version_major != BF_API_VERSION_MAJOR || t->version_minor < BF_API_VERSION_MINOR) {
    PyErr_Format(PyExc_ImportError,
                 "bufferable._testing needs the core's C API %d.%d or a later 1.x, found %d.%d",
                 BF_API_VERSION_MAJOR, BF_API_VERSION_MINOR, t->version_major, t->version_minor);
    throw nb::python_error();
  }
  table = t;
}

}  // namespace bf_testing

NB_MODULE(_testing, m) {
  m.doc() =
      "bufferable's test helpers (bufferable.testing): Producer, _Acquisition, format_info; "
      "built on the core's C API.";
  bf_testing::load_api();
  bf_testing::bind_producer(m);
  bf_testing::bind_acquisition(m);
}
