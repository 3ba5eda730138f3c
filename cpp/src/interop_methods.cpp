// interop_methods.cpp -- gives a type that exports the buffer protocol the DLPack and Arrow
// methods (__dlpack__, __dlpack_device__, __arrow_c_schema__, __arrow_c_array__,
// __arrow_c_stream__), and the Python-written __repr__ and __reduce_ex__ (python_methods.cpp).
// They are plain C functions over the type's own buffer export, so installing them is all a
// producer does: the testing Producer and Mojo's Bufferable types (through
// BfApi.install_interop) share them.
#include "arrow.h"
#include "dlpack.h"

#include <cstring>

namespace bf {
namespace {

// CPython keeps pointers into this table inside the method descriptors: it must be static.
PyMethodDef interop_methods[] = {
    {"__dlpack__", (PyCFunction) (void (*)(void)) dlpack_method, METH_FASTCALL | METH_KEYWORDS,
     PyDoc_STR("__dlpack__(*, stream=None, max_version=None, dl_device=None, copy=None)\n--\n\n"
               "Export as a DLPack capsule without a copy (unless copy=True): versioned when "
               "max_version >= (1, 0), legacy otherwise.")},
    {"__dlpack_device__", (PyCFunction) dlpack_device_method, METH_NOARGS,
     PyDoc_STR("__dlpack_device__()\n--\n\nThe DLPack device of the memory: (1, 0) for the CPU.")},
    {"__arrow_c_schema__", (PyCFunction) arrow_schema_method, METH_NOARGS,
     PyDoc_STR("__arrow_c_schema__()\n--\n\nThe Arrow schema of this 1-D export, as an "
               "'arrow_schema' PyCapsule.")},
    {"__arrow_c_array__", (PyCFunction) (void (*)(void)) arrow_array_method,
     METH_FASTCALL | METH_KEYWORDS,
     PyDoc_STR("__arrow_c_array__(requested_schema=None)\n--\n\nExport this 1-D buffer as an "
               "Arrow array without a copy: a tuple of 'arrow_schema' and 'arrow_array' "
               "PyCapsules.")},
    {"__arrow_c_stream__", (PyCFunction) (void (*)(void)) arrow_stream_method,
     METH_FASTCALL | METH_KEYWORDS,
     PyDoc_STR("__arrow_c_stream__(requested_schema=None)\n--\n\nExport this buffer as an "
               "Arrow stream of one record batch with one column, 'value', without a copy: an "
               "'arrow_array_stream' PyCapsule.")},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

int install_interop(PyObject *type) {
  if (!PyType_Check(type)) {
    PyErr_Format(PyExc_TypeError, "install_interop() needs a type, got %R", type);
    return -1;
  }
  auto *tp = reinterpret_cast<PyTypeObject *>(type);
  if (tp->tp_as_buffer == nullptr || tp->tp_as_buffer->bf_getbuffer == nullptr) {
    PyErr_Format(PyExc_TypeError, "install_interop(): %R does not export the buffer protocol",
                 type);
    return -1;
  }
  if (install_methods(type, interop_methods) != 0 ||
      install_methods(type, buffer_python_methods) != 0)
    return -1;
  return install_exchange_api(type);
}

int install_methods(PyObject *type, PyMethodDef *methods) {
  auto *tp = reinterpret_cast<PyTypeObject *>(type);
  for (PyMethodDef *def = methods; def->ml_name != nullptr; ++def) {
    if (std::strcmp(def->ml_name, "__repr__") == 0) {
      PyObject *own = PyDict_GetItemString(tp->tp_dict, "__repr__");  // borrowed
      if (own != nullptr && !Py_IS_TYPE(own, &PyWrapperDescr_Type)) continue;
    }
    PyObject *descr = PyDescr_NewMethod(tp, def);
    if (descr == nullptr) return -1;
    int rc = PyObject_SetAttrString(type, def->ml_name, descr);
    Py_DECREF(descr);
    if (rc != 0) return -1;
  }
  return 0;
}

void bind_interop(nb::module_ &m) {
  m.def(
      "install_interop",
      [](nb::handle type) {
        if (install_interop(type.ptr()) != 0) throw nb::python_error();
      },
      nb::arg("type"),
      "Give ``type`` (which must export the buffer protocol) ``__dlpack__``, "
      "``__dlpack_device__``,\n"
      "``__arrow_c_schema__``, ``__arrow_c_array__`` and ``__arrow_c_stream__``, all built on its\n"
      "buffer export.");
}

}  // namespace bf
