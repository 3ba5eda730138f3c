// producer.cpp -- bufferable._testing.Producer: an exporter of any layout, built on the contract.
//
// Producer exports exactly as a Mojo or C producer does: its bf_getbuffer slot hands a BfBuffer
// to the core's api->export_buffer() and its bf_releasebuffer slot calls api->release_buffer(). It
// owns zero-initialised memory large enough for the layout it was given, counts successful exports
// (gets), releases and refused requests, and refuses to move its memory while exports are live.
//
// Memory: `storage` holds element 0 at byte `offset` (offset >= how far negative strides reach
// before element 0). For an indirect (PIL-style) layout, storage holds the outermost segment and
// every pointer slot in it points into a separate data block; a dimension d with
// suboffsets[d] >= 0 ends a segment: the pointer found after applying stride d is dereferenced
// and suboffsets[d] added. Blocks never move, so resize() only has to copy `storage`.
//
// Every allocation goes through Mem, which counts live allocations globally: tests check that the
// count returns to where it was, i.e. that memory is freed, and freed once.
#include "testing.h"

#include <nanobind/stl/string.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <utility>
#include <vector>

namespace bf_testing {
namespace {

std::atomic<int64_t> live_allocations{0}, live_bytes{0};
int64_t total_gets = 0, total_releases = 0;  // over all Producers ever (GIL-protected)

// An owned, zero-filled, counted allocation.
struct Mem {
  char *ptr = nullptr;
  int64_t size = 0;
  Mem() = default;
  explicit Mem(int64_t n) : size(n) {
    ptr = n < 0 ? nullptr : (char *) std::calloc((size_t) std::max<int64_t>(n, 1), 1);
    if (!ptr) {
      PyErr_Format(PyExc_MemoryError, "cannot allocate %lld bytes for a test Producer",
                   (long long) n);
      throw nb::python_error();
    }
    ++live_allocations;
    live_bytes += n;
  }
  Mem(Mem &&o) noexcept : ptr(std::exchange(o.ptr, nullptr)), size(std::exchange(o.size, 0)) {}
  Mem &operator=(Mem &&o) noexcept {
    std::swap(ptr, o.ptr);
    std::swap(size, o.size);
    return *this;
  }
  Mem(const Mem &) = delete;
  ~Mem() {
    if (!ptr) return;
    std::free(ptr);
    --live_allocations;
    live_bytes -= size;
  }
};

[[noreturn]] void fail(PyObject *type, const std::string &msg) {
  PyErr_SetString(type, msg.c_str());
  throw nb::python_error();
}

// One Python int (any __index__ object but bool) -> int64, with messages that name the argument.
int64_t int_arg(nb::handle h, const std::string &what) {
  if (PyBool_Check(h.ptr()) || !PyIndex_Check(h.ptr()))
    fail(PyExc_TypeError, what + " must be an int, not " + Py_TYPE(h.ptr())->tp_name);
  nb::object idx = nb::steal(PyNumber_Index(h.ptr()));
  if (!idx) throw nb::python_error();
  int overflow = 0;
  long long v = PyLong_AsLongLongAndOverflow(idx.ptr(), &overflow);
  if (overflow) fail(PyExc_ValueError, what + " does not fit in 64 bits");
  if (v == -1 && PyErr_Occurred()) throw nb::python_error();
  return v;
}

// A Python str -> UTF-8 bytes for a C string: TypeError for other types, ValueError for a string
// that UTF-8 cannot encode (lone surrogates) or that holds a NUL (C would silently truncate it).
std::string str_arg(nb::handle h, const char *what) {
  if (!PyUnicode_Check(h.ptr()))
    fail(PyExc_TypeError, std::string(what) + " must be a str, not " + Py_TYPE(h.ptr())->tp_name);
  Py_ssize_t n = 0;
  const char *u = PyUnicode_AsUTF8AndSize(h.ptr(), &n);
  if (!u) {
    PyErr_Clear();
    fail(PyExc_ValueError, std::string(what) + " is not encodable as UTF-8");
  }
  std::string out(u, (size_t) n);
  if (out.find('\0') != std::string::npos)
    fail(PyExc_ValueError, std::string(what) + " contains a NUL character");
  return out;
}

// A Python sequence of ints (or one int when allow_scalar) -> int64 values, with messages that
// name the argument and the position.
std::vector<int64_t> int_list(nb::handle h, const char *what, bool allow_scalar = false) {
  std::vector<int64_t> out;
  nb::object scalar;  // keeps the one-element tuple alive
  if (allow_scalar && PyIndex_Check(h.ptr()) && !PySequence_Check(h.ptr()))
    h = scalar = nb::make_tuple(h);
  if (PyUnicode_Check(h.ptr()) || PyBytes_Check(h.ptr()) || !PySequence_Check(h.ptr()))
    fail(PyExc_TypeError,
         std::string(what) + " must be a sequence of ints, not " + Py_TYPE(h.ptr())->tp_name);
  nb::object seq = nb::steal(PySequence_Fast(h.ptr(), what));
  if (!seq) throw nb::python_error();
  Py_ssize_t n = PySequence_Fast_GET_SIZE(seq.ptr());
  for (Py_ssize_t i = 0; i < n; ++i)
    out.push_back(int_arg(PySequence_Fast_GET_ITEM(seq.ptr(), i),
                          std::string(what) + "[" + std::to_string(i) + "]"));
  return out;
}

// Byte offsets that the indices of dims [a, b) reach from index 0: lowest and highest.
struct Reach {
  int64_t lo = 0, hi = 0;
};
Reach reach(const std::vector<int64_t> &shape, const std::vector<int64_t> &strides, int a, int b) {
  Reach r;
  for (int d = a; d < b; ++d) {
    int64_t step;
    if (__builtin_mul_overflow(shape[d] - 1, strides[d], &step) ||
        __builtin_add_overflow(step < 0 ? r.lo : r.hi, step, step < 0 ? &r.lo : &r.hi))
      fail(PyExc_ValueError, "layout too large: strides * shape overflow 64 bits");
  }
  return r;
}

struct Producer {
  std::vector<int64_t> shape, strides, suboffsets;
  std::string format;
  bool null_format = false, null_data = false, null_shape = false, has_strides = false;
  int64_t itemsize = 1, offset = 0, required = 0;  // required: bytes the layout needs in storage
  int ndim = 0;
  bool readonly = false;
  BfDevice device{BF_DEVICE_CPU, 0};  // where the descriptor says the memory is
  Mem storage;
  std::vector<Mem> blocks;  // data blocks of an indirect layout
  BfBuffer desc{};
  int64_t gets = 0, releases = 0, refusals = 0;

  Producer() = default;
  Producer(Producer &&o) noexcept  // (only before the first export: the counters start at 0)
      : shape(std::move(o.shape)),
        strides(std::move(o.strides)),
        suboffsets(std::move(o.suboffsets)),
        format(std::move(o.format)),
        null_format(o.null_format),
        null_data(o.null_data),
        null_shape(o.null_shape),
        has_strides(o.has_strides),
        itemsize(o.itemsize),
        offset(o.offset),
        required(o.required),
        ndim(o.ndim),
        readonly(o.readonly),
        device(o.device),
        storage(std::move(o.storage)),
        blocks(std::move(o.blocks)) {
    link();
  }

  // Point the descriptor at the members (after construction, move or resize).
  void link() {
    desc.data = null_data ? nullptr : storage.ptr + offset;
    desc.itemsize = itemsize;
    desc.format = null_format ? nullptr : format.c_str();
    desc.ndim = ndim;
    desc.readonly = readonly;
    desc.shape = null_shape ? nullptr : shape.data();
    desc.strides = has_strides ? strides.data() : nullptr;
    desc.suboffsets = suboffsets.empty() ? nullptr : suboffsets.data();
    desc.device = device;
  }

  int64_t live() const { return gets - releases; }
};

// Lays out a checked Producer: validates, sizes and allocates (see the header comment).
void build(Producer &p, nb::handle shape_h, nb::handle format_h, nb::handle strides_h,
           nb::handle offset_h, nb::handle suboffsets_h, bool readonly, nb::handle device_h) {
  if (!device_h.is_none()) {  // (type, id): any pair of int32, stated as is in the descriptor
    if (!PyTuple_Check(device_h.ptr()) || PyTuple_GET_SIZE(device_h.ptr()) != 2)
      fail(PyExc_TypeError, std::string("device must be a (device_type, device_id) tuple, not ") +
                                Py_TYPE(device_h.ptr())->tp_name);
    int64_t v[2];
    for (int i = 0; i < 2; ++i) {
      v[i] = int_arg(PyTuple_GET_ITEM(device_h.ptr(), i),
                     std::string("device[") + std::to_string(i) + "]");
      if (v[i] < INT32_MIN || v[i] > INT32_MAX)
        fail(PyExc_ValueError, "device values must fit in 32 bits");
    }
    p.device = BfDevice{(int32_t) v[0], (int32_t) v[1]};
  }
  p.format = str_arg(format_h, "format");
  BfFormatInfo info;
  if (api().parse_format(p.format.c_str(), &info) < 0) throw nb::python_error();  // ValueError
  p.itemsize = info.itemsize;
  p.readonly = readonly;

  p.shape = int_list(shape_h, "shape", true);
  if (p.shape.size() > BF_MAX_NDIM)
    fail(PyExc_ValueError, "shape has " + std::to_string(p.shape.size()) + " dimensions; at most " +
                               std::to_string(BF_MAX_NDIM) + " are allowed");
  p.ndim = (int) p.shape.size();
  bool empty = false;
  int64_t nbytes = p.itemsize;
  for (int d = 0; d < p.ndim; ++d) {
    if (p.shape[d] < 0)
      fail(PyExc_ValueError,
           "shape[" + std::to_string(d) + "] = " + std::to_string(p.shape[d]) + " is negative");
    empty |= p.shape[d] == 0;
    if (__builtin_mul_overflow(nbytes, std::max<int64_t>(p.shape[d], 1), &nbytes))
      fail(PyExc_ValueError, "layout too large: product(shape) * itemsize overflows 64 bits");
  }

  p.has_strides = !strides_h.is_none();
  if (p.has_strides) {
    p.strides = int_list(strides_h, "strides");
    if ((int) p.strides.size() != p.ndim)
      fail(PyExc_ValueError, "strides has " + std::to_string(p.strides.size()) +
                                 " entries but shape has " + std::to_string(p.ndim));
  } else {  // C-contiguous; the descriptor still says strides = NULL (the core computes them)
    p.strides.assign(p.ndim, 0);
    int64_t step = p.itemsize;  // cannot overflow: bounded by nbytes above
    for (int d = p.ndim - 1; d >= 0; --d) {
      p.strides[d] = step;
      step *= std::max<int64_t>(p.shape[d], 1);
    }
  }

  std::vector<int> cuts;  // indirect dimensions: each ends a segment
  if (!suboffsets_h.is_none()) {
    p.suboffsets = int_list(suboffsets_h, "suboffsets");
    if ((int) p.suboffsets.size() != p.ndim)
      fail(PyExc_ValueError, "suboffsets has " + std::to_string(p.suboffsets.size()) +
                                 " entries but shape has " + std::to_string(p.ndim));
    if (!p.has_strides)
      fail(PyExc_ValueError,
           "suboffsets need explicit strides (the stride of an indirect "
           "dimension steps between pointers)");
    for (int d = 0; d < p.ndim; ++d)
      if (p.suboffsets[d] >= 0) cuts.push_back(d);
  }
  const int nseg = (int) cuts.size() + 1;
  auto seg_begin = [&](int j) { return j == 0 ? 0 : cuts[j - 1] + 1; };
  auto seg_end = [&](int j) { return j < nseg - 1 ? cuts[j] + 1 : p.ndim; };
  auto slot = [&](int j) { return j < nseg - 1 ? (int64_t) sizeof(char *) : p.itemsize; };

  Reach top = empty ? Reach{} : reach(p.shape, p.strides, 0, seg_end(0));
  if (offset_h.is_none())
    p.offset = -top.lo;
  else {
    p.offset =
        int_arg(offset_h, "offset");  // one int (not a sequence: offset=() read past its end)
    if (p.offset < 0)
      fail(PyExc_ValueError, "offset must be >= 0, got " + std::to_string(p.offset));
    if (p.offset + top.lo < 0)
      fail(PyExc_ValueError, "offset " + std::to_string(p.offset) +
                                 " is too small: negative strides "
                                 "reach " +
                                 std::to_string(-top.lo) + " bytes before element 0");
  }
  if (empty)
    p.required = p.offset;
  else if (__builtin_add_overflow(p.offset, top.hi + slot(0), &p.required))
    fail(PyExc_ValueError, "layout too large: its byte extent overflows 64 bits");
  p.storage = Mem(p.required);
  if (empty || cuts.empty()) return;

  // Indirect layout: fill the pointer slots of segment j (at `origin`), each with a new block
  // holding segment j + 1, recursively.
  int64_t budget = 1 << 16;
  auto fill = [&](auto &&self, int j, char *origin) -> void {
    if (j == nseg - 1) return;
    std::vector<int64_t> offs{0};
    for (int d = seg_begin(j); d < seg_end(j); ++d) {
      std::vector<int64_t> next;
      for (int64_t o : offs)
        for (int64_t i = 0; i < p.shape[d]; ++i) next.push_back(o + i * p.strides[d]);
      if ((budget -= (int64_t) next.size()) < 0)
        fail(PyExc_ValueError, "indirect layout too large for a test producer");
      offs = std::move(next);
    }
    std::sort(offs.begin(), offs.end());
    offs.erase(std::unique(offs.begin(), offs.end()), offs.end());
    for (size_t k = 1; k < offs.size(); ++k)
      if (offs[k] - offs[k - 1] < (int64_t) sizeof(char *))
        fail(PyExc_ValueError, "suboffsets: the pointers of indirect dimension " +
                                   std::to_string(cuts[j]) +
                                   " overlap (its stride is smaller than a pointer)");
    const int64_t sub = p.suboffsets[cuts[j]];
    const Reach r = reach(p.shape, p.strides, seg_begin(j + 1), seg_end(j + 1));
    for (int64_t o : offs) {
      int64_t pad = -r.lo;  // block + pad is the pointer; block + pad + sub is index 0 of j + 1
      p.blocks.emplace_back(pad + sub + r.hi + slot(j + 1));
      char *target = p.blocks.back().ptr + pad;
      std::memcpy(origin + o, &target, sizeof target);
      self(self, j + 1, target + sub);
    }
  };
  fill(fill, 0, p.storage.ptr + p.offset);
}

int producer_getbuffer(PyObject *self, Py_buffer *view, int flags) {
  if (!nb::inst_ready(self)) {
    view->obj = nullptr;
    PyErr_SetString(PyExc_BufferError, "Producer is not initialised");
    return -1;
  }
  Producer *p = nb::inst_ptr<Producer>(self);
  if (api().export_buffer(self, view, &p->desc, flags) < 0) {
    ++p->refusals;
    return -1;
  }
  ++p->gets;
  ++total_gets;
  return 0;
}

void producer_releasebuffer(PyObject *self, Py_buffer *view) {
  api().release_buffer(view);
  ++nb::inst_ptr<Producer>(self)->releases;
  ++total_releases;
}

PyType_Slot producer_slots[] = {{Py_bf_getbuffer, (void *) producer_getbuffer},
                                {Py_bf_releasebuffer, (void *) producer_releasebuffer},
                                {0, nullptr}};

nb::object tuple_of(const std::vector<int64_t> &v) { return int_tuple(v.data(), (int) v.size()); }

}  // namespace

void bind_producer(nb::module_ &t) {
  nb::class_<Producer>(
      t, "Producer", nb::type_slots(producer_slots), nb::is_weak_referenceable(),
      R"(Producer(shape, format="B", *, strides=None, offset=None, suboffsets=None, readonly=False, device=None)

An exporter of any layout, for tests: it owns zero-initialised memory large enough for the layout
and exports it through bufferable's C contract (api->export_buffer), exactly as a Mojo or C producer.

shape: extents (a sequence of ints, or one int). format: PEP 3118 format of one item; its size is
the itemsize. strides: byte steps per dimension (negative and zero allowed), or None for a
C-contiguous layout, which the descriptor then states as strides = NULL. offset: byte position of
element 0 in the allocation; None means the smallest that fits negative strides. suboffsets: None,
or one int per dimension; a dimension with suboffset >= 0 is indirect (PIL-style): the stride steps
between pointers to separately allocated blocks and the suboffset is added after dereferencing.
device: None (the CPU, (1, 0)) or a DLPack (device_type, device_id) the descriptor states for the
memory (which stays host memory: only what the core does with the claim is tested).

Counters: gets (successful exports), releases, refusals, live_exports.
resize(nbytes) reallocates the storage (see its docstring).)")
      .def(
          "__init__",
          [](Producer *self, nb::handle shape, nb::handle format, nb::handle strides,
             nb::handle offset, nb::handle suboffsets, bool readonly, nb::handle device) {
            Producer p;
            build(p, shape, format, strides, offset, suboffsets, readonly, device);
            new (self) Producer(std::move(p));  // links the descriptor
          },
          nb::arg("shape").none(), nb::arg("format").none() = "B", nb::kw_only(),
          nb::arg("strides").none() = nb::none(), nb::arg("offset").none() = nb::none(),
          nb::arg("suboffsets").none() = nb::none(), nb::arg("readonly") = false,
          nb::arg("device").none() = nb::none())
      .def_static(
          "lying",
          [](nb::handle shape_h, nb::handle format_h, nb::handle itemsize_h, nb::handle ndim_h,
             nb::handle strides_h, nb::handle suboffsets_h, bool null_data, bool null_shape,
             bool readonly, int64_t nbytes) {
            Producer p;
            p.null_format = format_h.is_none();
            if (!p.null_format) p.format = str_arg(format_h, "format");
            p.shape = int_list(shape_h, "shape", true);
            if (ndim_h.is_none())
              p.ndim = (int) p.shape.size();
            else {
              const int64_t ndim = int_arg(ndim_h, "ndim");
              if (ndim < INT32_MIN || ndim > INT32_MAX)
                fail(PyExc_ValueError, "ndim must fit in 32 bits (the descriptor's int32_t)");
              p.ndim = (int) ndim;
            }
            if (itemsize_h.is_none()) {
              BfFormatInfo info;
              if (api().parse_format(p.null_format ? "B" : p.format.c_str(), &info) < 0) {
                PyErr_Clear();
                p.itemsize = 1;
              } else
                p.itemsize = info.itemsize;
            } else
              p.itemsize = int_arg(itemsize_h, "itemsize");
            p.has_strides = !strides_h.is_none();
            if (p.has_strides) p.strides = int_list(strides_h, "strides");
            if (!suboffsets_h.is_none()) p.suboffsets = int_list(suboffsets_h, "suboffsets");
            // Pad the arrays to ndim so the core never reads past them (only ndim may lie
            // about their length when it is outside 0..BF_MAX_NDIM, which the core refuses first).
            if (p.ndim >= 0 && p.ndim <= BF_MAX_NDIM) {
              if ((int) p.shape.size() < p.ndim) p.shape.resize(p.ndim, 1);
              if (p.has_strides && (int) p.strides.size() < p.ndim)
                p.strides.resize(p.ndim, p.itemsize);
              if (!p.suboffsets.empty() && (int) p.suboffsets.size() < p.ndim)
                p.suboffsets.resize(p.ndim, -1);
            }
            if (p.shape.empty()) p.shape.push_back(0);  // a valid pointer even for ndim 0
            p.null_data = null_data;
            p.null_shape = null_shape;
            p.readonly = readonly;
            if (nbytes < 0) fail(PyExc_ValueError, "nbytes must be >= 0");
            p.storage = Mem(nbytes);
            p.required = nbytes;
            return p;  // moved into the new instance, whose move constructor links it
          },
          nb::arg("shape"), nb::arg("format").none() = "B", nb::kw_only(),
          nb::arg("itemsize").none() = nb::none(), nb::arg("ndim").none() = nb::none(),
          nb::arg("strides").none() = nb::none(), nb::arg("suboffsets").none() = nb::none(),
          nb::arg("null_data") = false, nb::arg("null_shape") = false, nb::arg("readonly") = false,
          nb::arg("nbytes") = 64,
          "Producer.lying(shape, format='B', *, itemsize=None, ndim=None, strides=None, "
          "suboffsets=None, null_data=False, null_shape=False, readonly=False, nbytes=64)\n\n"
          "A Producer whose descriptor is taken verbatim, unchecked, so tests can show that the "
          "core refuses lies at export time (negative or overflowing shape, ndim outside 0..64, "
          "an itemsize that disagrees with the format, an invalid or NULL format, NULL data or "
          "shape). It owns `nbytes` bytes of memory (none if null_data). Only export it in "
          "ways the core should refuse, or with layouts that fit in `nbytes`.")
      .def(
          "resize",
          [](Producer &p, int64_t nbytes) {
            if (p.live() > 0)
              fail(PyExc_BufferError, "cannot resize a Producer while " + std::to_string(p.live()) +
                                          " export(s) of its memory are live");
            if (nbytes < p.required)
              fail(PyExc_ValueError, "resize(" + std::to_string(nbytes) +
                                         "): the layout needs at least " +
                                         std::to_string(p.required) + " bytes");
            Mem fresh(nbytes);
            std::memcpy(fresh.ptr, p.storage.ptr, (size_t) std::min(nbytes, p.storage.size));
            p.storage = std::move(fresh);
            p.link();
          },
          nb::arg("nbytes"),
          "resize(nbytes)\n\n"
          "Move the storage to a new allocation of `nbytes` bytes, as a growing container would. "
          "The layout (shape, strides, offset, format) is unchanged, so `nbytes` must still hold "
          "it (else ValueError); the first min(old, new) bytes are kept and new bytes are zero. "
          "The address always changes. For an indirect layout only the outermost pointer table "
          "moves (its pointers stay valid). Raises BufferError while exports are live, keeping "
          "the data, as bytearray does.")
      .def(
          "rewrite_in_place",
          [](Producer &p, nb::handle shape_h, nb::handle format_h, nb::handle strides_h,
             nb::handle itemsize_h) {
            if (!shape_h.is_none()) {
              std::vector<int64_t> v = int_list(shape_h, "shape");
              if (v.size() != p.shape.size())
                fail(PyExc_ValueError, "rewrite_in_place: shape must keep its length");
              std::copy(v.begin(), v.end(), p.shape.begin());
            }
            if (!strides_h.is_none()) {
              std::vector<int64_t> v = int_list(strides_h, "strides");
              if (!p.has_strides || v.size() != p.strides.size())
                fail(PyExc_ValueError,
                     "rewrite_in_place: strides must exist and keep their length");
              std::copy(v.begin(), v.end(), p.strides.begin());
            }
            if (!format_h.is_none()) {
              std::string f = str_arg(format_h, "format");
              if (p.null_format || f.size() > p.format.size())
                fail(PyExc_ValueError, "rewrite_in_place: the format must exist and not grow");
              std::memcpy(p.format.data(), f.c_str(), f.size() + 1);  // same buffer
            }
            if (!itemsize_h.is_none())
              p.desc.itemsize = p.itemsize = int_arg(itemsize_h, "itemsize");
          },
          nb::kw_only(), nb::arg("shape").none() = nb::none(),
          nb::arg("format").none() = nb::none(), nb::arg("strides").none() = nb::none(),
          nb::arg("itemsize").none() = nb::none(),
          "rewrite_in_place(*, shape=None, format=None, strides=None, itemsize=None)\n\n"
          "Overwrite what the descriptor's shape, strides and format point at, at the same "
          "addresses (and its itemsize), unchecked: a producer that changes its descriptor "
          "between exports without moving it, or lies. The core must judge the new contents.")
      .def_prop_ro(
          "gets", [](const Producer &p) { return p.gets; }, "Successful exports so far.")
      .def_prop_ro(
          "releases", [](const Producer &p) { return p.releases; }, "Releases so far.")
      .def_prop_ro(
          "refusals", [](const Producer &p) { return p.refusals; },
          "Export requests the core refused so far.")
      .def_prop_ro(
          "live_exports", [](const Producer &p) { return p.live(); },
          "gets - releases: exports currently alive.")
      .def_prop_ro(
          "address", [](const Producer &p) { return (uintptr_t) p.desc.data; },
          "Address of element 0 (Py_buffer.buf; for an indirect layout, its first pointer table).")
      .def_prop_ro(
          "nbytes", [](const Producer &p) { return p.storage.size; },
          "Size of the storage in bytes (what resize changes).")
      .def_prop_ro(
          "offset", [](const Producer &p) { return p.offset; },
          "Byte position of element 0 in the storage: address - offset is the storage start.")
      .def_prop_ro(
          "itemsize", [](const Producer &p) { return p.itemsize; }, "Bytes per item.")
      .def_prop_ro(
          "format",
          [](const Producer &p) {
            return p.null_format ? nb::none() : nb::object(nb::str(p.format.c_str()));
          },
          "The format in the descriptor.")
      .def_prop_ro(
          "shape", [](const Producer &p) { return tuple_of(p.shape); }, "Extents.")
      .def_prop_ro(
          "strides",
          [](const Producer &p) { return p.has_strides ? tuple_of(p.strides) : nb::none(); },
          "Byte strides as given, or None (the descriptor states strides = NULL).")
      .def_prop_ro(
          "suboffsets",
          [](const Producer &p) {
            return p.suboffsets.empty() ? nb::none() : tuple_of(p.suboffsets);
          },
          "Suboffsets as given, or None.")
      .def_prop_ro(
          "readonly", [](const Producer &p) { return p.readonly; },
          "True if exports are read-only.")
      .def_prop_ro(
          "device",
          [](const Producer &p) -> nb::typed<nb::tuple, int, int64_t> {
            return nb::make_tuple(p.device.device_type, p.device.device_id);
          },
          "The (device_type, device_id) the descriptor states.")
      .def("__repr__", [](const Producer &p) {
        return "<Producer shape=" + std::string(nb::repr(tuple_of(p.shape)).c_str()) + " format='" +
               p.format + "' live_exports=" + std::to_string(p.live()) + ">";
      });

  // DLPack and Arrow come from the core's shared methods, built on the buffer export above.
  if (api().install_interop(t.attr("Producer").ptr()) != 0) throw nb::python_error();

  t.def(
      "live_allocations", [] { return live_allocations.load(); },
      "Number of memory blocks all Producers currently own (freed exactly once when they die).");
  t.def(
      "export_totals",
      []() -> nb::typed<nb::tuple, int64_t, int64_t> {
        return nb::make_tuple(total_gets, total_releases);
      },
      "(gets, releases) summed over every Producer that ever existed in this process.");
  t.def(
      "live_allocation_bytes", [] { return live_bytes.load(); },
      "Total bytes all Producers currently own.");
}

}  // namespace bf_testing
