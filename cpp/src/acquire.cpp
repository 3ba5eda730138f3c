// acquire.cpp -- the consumer side: any Python exporter -> BfBuffer + acquisition; inspect().
//
// Lifetime design
// ---------------
// An acquisition (BfAcquisition) owns exactly one successful PyObject_GetBuffer(): the Py_buffer
// lives inside the acquisition, so the BfBuffer handed to the consumer can point at its shape,
// strides and suboffsets arrays (or at the exporter's, which the Py_buffer keeps alive through
// view.obj). Invariants:
//
//   (1) refcount >= 1 while anyone may read through the BfBuffer; it starts at 1 (the caller of
//       acquire()), acquisition_incref()/decref() change it atomically, so views living on
//       different threads (a Mojo MemoryView and its slices) may share one acquisition without
//       holding the GIL.
//   (2) The decref that takes the count from 1 to 0 is the only one that sees 0 (acq_rel
//       fetch_sub), so PyBuffer_Release() runs exactly once, and nothing touches the acquisition
//       after it. That decref takes the GIL itself (PyGILState_Ensure) when the calling thread
//       does not hold it. If the interpreter is already finalizing and the thread holds no GIL, the
//       release is skipped and the Py_buffer leaked: taking the GIL then would hang or crash.
//   (3) The acquisition itself is plain C++ heap memory (new/delete), never Python memory, so it
//       can be freed by whichever thread drops the last reference. Buffer-protocol acquisitions
//       are recycled: the last decref, which holds the GIL while it releases, puts the block on a
//       short free list that acquire() (GIL held too) takes from, so a steady acquire/release
//       loop allocates nothing; the GIL guards the list.
//
// acquire() always asks the exporter for the format (flags | PyBUF_FORMAT), so the BfBuffer's
// format and itemsize agree (numpy keeps the real itemsize even when no format is requested).
// An export without a shape (the request lacked PyBUF_ND) is described as what PEP 3118 says it
// is, a 1-D C-contiguous run: ndim = 1, shape = {len / itemsize}, strides = NULL; the one extent
// is stored inside the acquisition.
//
// Foreign acquisitions (acquisition_new_foreign, for DLPack and Arrow imports) follow the same
// invariants with release(owner) in place of PyBuffer_Release and a strong reference to the
// source object in place of view.obj.
#include "core.h"

#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>

#include <atomic>
#include <new>
#include <optional>
#include <string>

struct BfAcquisition {
  std::atomic<intptr_t> refcount{1};
  Py_buffer view{};
  int64_t shape1 = 0;  // the synthesised extent of a shapeless export (see above)
  // Foreign acquisitions (DLPack, Arrow): release(owner) replaces PyBuffer_Release(&view).
  void *owner = nullptr;
  void (*release)(void *owner) = nullptr;
  PyObject *obj = nullptr;  // strong reference (foreign only; view.obj otherwise)
};

namespace bf {

bool interpreter_finalizing() {
#if PY_VERSION_HEX >= 0x030D0000
  return Py_IsFinalizing();
#else
  return _Py_IsFinalizing();
#endif
}

namespace {

// Released buffer-protocol acquisitions kept for reuse (invariant 3); guarded by the GIL.
constexpr int kRecycled = 16;
BfAcquisition *recycled[kRecycled];
int recycled_count = 0;

BfAcquisition *new_acquisition() {
  if (recycled_count > 0) {
    BfAcquisition *a = recycled[--recycled_count];
    a->refcount.store(1, std::memory_order_relaxed);
    return a;
  }
  return new (std::nothrow) BfAcquisition();
}

// Called holding the GIL; `a` has released its export and is not foreign.
void recycle(BfAcquisition *a) {
  if (recycled_count < kRecycled) {
    a->view = Py_buffer{};
    a->shape1 = 0;
    recycled[recycled_count++] = a;
  } else {
    delete a;
  }
}

}  // namespace

int acquire(PyObject *obj, int flags, BfBuffer *out, BfAcquisition **acq) {
  if (!obj || !out || !acq) {
    PyErr_SetString(PyExc_ValueError, "acquire: obj, out and acq must not be NULL");
    return -1;
  }
  *acq = nullptr;
  BfAcquisition *a = new_acquisition();
  if (!a) return PyErr_NoMemory(), -1;
  if (PyObject_GetBuffer(obj, &a->view, flags | PyBUF_FORMAT) < 0) {
    recycle(a);
    return -1;
  }
  const Py_buffer &v = a->view;
  if (v.ndim < 0 || v.ndim > BF_MAX_NDIM || v.itemsize < 1) {
    PyErr_Format(PyExc_BufferError, "acquire: %s exported ndim %d and itemsize %zd",
                 Py_TYPE(obj)->tp_name, v.ndim, v.itemsize);
    PyBuffer_Release(&a->view);
    recycle(a);
    return -1;
  }
  out->data = v.buf;
  out->itemsize = v.itemsize;
  out->format = v.format;
  out->readonly = v.readonly;
  out->device = BfDevice{BF_DEVICE_CPU, 0};
  out->suboffsets = (const int64_t *) v.suboffsets;
  if (v.shape || (v.ndim == 0 && v.len == v.itemsize)) {
    out->ndim = v.ndim;
    out->shape = (const int64_t *) v.shape;
    out->strides = (const int64_t *) v.strides;
  } else {  // shapeless export: one C-contiguous run of items
    a->shape1 = v.len / v.itemsize;
    out->ndim = 1;
    out->shape = &a->shape1;
    out->strides = nullptr;
  }
  *acq = a;
  return 0;
}

void acquisition_incref(BfAcquisition *acq) {
  if (acq) acq->refcount.fetch_add(1, std::memory_order_relaxed);
}

void acquisition_decref(BfAcquisition *acq) {
  if (!acq || acq->refcount.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  bool released = false;
  auto release = [acq, &released] {
    released = true;
    if (acq->release) {
      acq->release(acq->owner);
      Py_XDECREF(acq->obj);
      delete acq;
    } else {
      PyBuffer_Release(&acq->view);
      recycle(acq);  // the GIL is held here
    }
  };
  release_with_gil(release);  // (invariant 2)
  if (!released) delete acq;  // interpreter finalizing: the Py_buffer is leaked, the block freed
}

PyObject *acquisition_object(BfAcquisition *acq) {
  return !acq ? nullptr : acq->release ? acq->obj : acq->view.obj;
}

BfAcquisition *acquisition_new_foreign(PyObject *obj, void *owner, void (*release)(void *)) {
  if (!release) {
    PyErr_SetString(PyExc_ValueError, "acquisition_new_foreign: release must not be NULL");
    return nullptr;
  }
  BfAcquisition *a = new (std::nothrow) BfAcquisition();
  if (!a) return PyErr_NoMemory(), nullptr;
  a->owner = owner;
  a->release = release;
  a->obj = Py_XNewRef(obj);
  return a;
}

namespace {

// A tuple of ints, or None; named so in the generated stubs (nb::typed changes nothing at run time).
using OptionalInts = nb::typed<nb::object, std::optional<nb::typed<nb::tuple, int, nb::ellipsis>>>;

OptionalInts tuple_or_none(const Py_ssize_t *values, int n) {
  if (!values) return nb::none();
  PyObject *t = PyTuple_New(n);
  if (!t) throw nb::python_error();
  for (int i = 0; i < n; ++i) {
    PyObject *item = PyLong_FromSsize_t(values[i]);
    if (!item) {
      Py_DECREF(t);
      throw nb::python_error();
    }
    PyTuple_SET_ITEM(t, i, item);
  }
  return nb::steal(t);
}

// What one export contained, copied out before the export is released.
struct BufferInfo {
  std::optional<std::string> format;
  Py_ssize_t itemsize, nbytes;
  int ndim;
  OptionalInts shape, strides, suboffsets;
  nb::object exporter;
  bool readonly, c_contiguous, f_contiguous;
  uintptr_t address;

  nb::typed<nb::dict, nb::str, nb::object> as_dict() const {
    nb::dict d;
    d["format"] = format;
    d["itemsize"] = itemsize;
    d["ndim"] = ndim;
    d["shape"] = shape;
    d["strides"] = strides;
    d["suboffsets"] = suboffsets;
    d["readonly"] = readonly;
    d["nbytes"] = nbytes;
    d["c_contiguous"] = c_contiguous;
    d["f_contiguous"] = f_contiguous;
    d["address"] = address;
    return d;
  }
};

// RAII over one PyObject_GetBuffer.
struct ScopedBuffer {
  Py_buffer view{};
  bool held = false;
  ScopedBuffer(PyObject *obj, int flags) {
    if (PyObject_GetBuffer(obj, &view, flags) < 0) throw nb::python_error();
    held = true;
  }
  ~ScopedBuffer() {
    if (held) PyBuffer_Release(&view);
  }
};

BufferInfo inspect(nb::handle obj, int flags) {
  ScopedBuffer b(obj.ptr(), flags);
  const Py_buffer &v = b.view;
  BufferInfo r;
  if (v.format) r.format = std::string(v.format);
  r.itemsize = v.itemsize;
  r.nbytes = v.len;
  r.ndim = v.ndim;
  r.shape = tuple_or_none(v.shape, v.ndim);
  r.strides = tuple_or_none(v.strides, v.ndim);
  r.suboffsets = tuple_or_none(v.suboffsets, v.ndim);
  r.exporter = nb::borrow(v.obj);
  r.readonly = v.readonly != 0;
  if (!v.shape && v.ndim > 1) {  // a malformed export: PyBuffer_IsContiguous would read shape
    r.c_contiguous = r.f_contiguous = !v.strides && !v.suboffsets;
  } else {
    r.c_contiguous = PyBuffer_IsContiguous(&v, 'C');
    r.f_contiguous = PyBuffer_IsContiguous(&v, 'F');
  }
  r.address = (uintptr_t) v.buf;
  return r;
}

}  // namespace

void bind_acquire(nb::module_ &m) {
  nb::class_<BufferInfo>(m, "BufferInfo",
                         "What one buffer export contained (returned by bufferable.inspect). The "
                         "export is released before this object is returned.")
      .def_ro("format", &BufferInfo::format, "PEP 3118 format, or None if the exporter gave NULL.")
      .def_ro("itemsize", &BufferInfo::itemsize, "Size of one item in bytes.")
      .def_ro("ndim", &BufferInfo::ndim, "Number of dimensions the exporter reported.")
      .def_ro("shape", &BufferInfo::shape, "Tuple of extents, or None if the exporter gave NULL.")
      .def_ro("strides", &BufferInfo::strides, "Tuple of byte strides, or None (C-contiguous).")
      .def_ro("suboffsets", &BufferInfo::suboffsets,
              "Tuple of suboffsets, or None (no indirection).")
      .def_ro("readonly", &BufferInfo::readonly, "True if the export is read-only.")
      .def_ro("nbytes", &BufferInfo::nbytes, "Py_buffer.len: product(shape) * itemsize.")
      .def_ro("c_contiguous", &BufferInfo::c_contiguous,
              "CPython's PyBuffer_IsContiguous(view, 'C').")
      .def_ro("f_contiguous", &BufferInfo::f_contiguous,
              "CPython's PyBuffer_IsContiguous(view, 'F').")
      .def_ro("address", &BufferInfo::address, "Py_buffer.buf as an integer.")
      .def_ro("exporter", &BufferInfo::exporter, "Py_buffer.obj: the object that exported.")
      .def("as_dict", &BufferInfo::as_dict, "The fields (all but exporter) as a dict.")
      .def("__repr__", [](const BufferInfo &r) {
        nb::dict d = r.as_dict();
        std::string s = "BufferInfo(";
        bool first = true;
        for (const char *k : {"format", "itemsize", "ndim", "shape", "strides", "suboffsets",
                              "readonly", "nbytes", "c_contiguous", "f_contiguous"}) {
          if (!first) s += ", ";
          first = false;
          s += k;
          s += "=";
          s += nb::repr(d[k]).c_str();
        }
        return s + ")";
      });

  m.def("inspect", &inspect, nb::arg("obj"), nb::arg("flags") = (int) PyBUF_FULL_RO,
        "inspect(obj, flags=BufferFlags.FULL_RO) -> BufferInfo\n\n"
        "Request a buffer from ``obj`` with PyObject_GetBuffer(obj, flags) and report what the "
        "export really contained: format, itemsize, ndim, shape, strides, suboffsets, readonly, "
        "nbytes (len), C/Fortran contiguity and the address. Fields the exporter left NULL are "
        "None. The export is released before returning. An exporter that refuses the request "
        "raises its own exception (BufferError, or ValueError for numpy), unchanged.");
}

}  // namespace bf
