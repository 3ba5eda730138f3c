// python_methods.cpp -- the methods of exporting types that are written in Python
// (bufferable.exports): a short __repr__ and __reduce_ex__ (pickling), for buffer exporters and
// for table types. Each is a C method that imports bufferable.exports on its first call and
// delegates to it, so installing them imports nothing: a type made while the package is being
// imported (or by stubgen, with no package at all) gets them as well, and a module built against
// an older bufferable gets them from the installed core.
#include "core.h"

namespace bf {
namespace {

// Calls bufferable.exports.<name>(*args). The module is imported once and kept.
PyObject *call_exports(const char *name, PyObject *const *args, size_t nargs) {
  static PyObject *exports = nullptr;
  if (exports == nullptr && (exports = PyImport_ImportModule("bufferable.exports")) == nullptr)
    return nullptr;
  PyObject *function = PyObject_GetAttrString(exports, name);
  if (function == nullptr) return nullptr;
  PyObject *result = PyObject_Vectorcall(function, args, nargs, nullptr);
  Py_DECREF(function);
  return result;
}

template <const char *kName>
PyObject *delegate_noargs(PyObject *self, PyObject *) {
  return call_exports(kName, &self, 1);
}

template <const char *kName>
PyObject *delegate_o(PyObject *self, PyObject *arg) {
  PyObject *args[2] = {self, arg};
  return call_exports(kName, args, 2);
}

constexpr char kBufferRepr[] = "buffer_repr", kReduceBuffer[] = "reduce_buffer";
constexpr char kTableRepr[] = "table_repr", kReduceTable[] = "reduce_table";

}  // namespace

// CPython keeps pointers into these tables inside the method descriptors: they must be static.
PyMethodDef buffer_python_methods[] = {
    {"__repr__", (PyCFunction) delegate_noargs<kBufferRepr>, METH_NOARGS,
     PyDoc_STR("__repr__()\n--\n\n<module.Type shape=(...) format='...'>: the export, never its "
               "data.")},
    {"__reduce_ex__", (PyCFunction) delegate_o<kReduceBuffer>, METH_O,
     PyDoc_STR("__reduce_ex__(protocol)\n--\n\nPickles the exported memory as the numpy array "
               "bufferable.asarray views (out of band at protocol 5), or as the type itself when "
               "it binds __from_buffer__ (see bufferable.exports).")},
    {nullptr, nullptr, 0, nullptr}};

PyMethodDef table_python_methods[] = {
    {"__repr__", (PyCFunction) delegate_noargs<kTableRepr>, METH_NOARGS,
     PyDoc_STR("__repr__()\n--\n\n<module.Type rows=N columns=[...]>: the table, never its "
               "data.")},
    {"__reduce_ex__", (PyCFunction) delegate_o<kReduceTable>, METH_O,
     PyDoc_STR("__reduce_ex__(protocol)\n--\n\nPickles the table as the pyarrow.Table over its "
               "columns (their buffers out of band at protocol 5).")},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace bf
