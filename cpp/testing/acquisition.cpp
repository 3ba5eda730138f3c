// acquisition.cpp -- bufferable._testing._Acquisition, a Python handle on one consumer acquisition
// of the core (api->acquire, acquire_dlpack, acquire_arrow), for tests of the consumer side and
// its lifetime rules; and format_info, the core's api->parse_format as a tuple.
#include "testing.h"

#include <nanobind/stl/string.h>

#include <string>
#include <thread>

namespace bf_testing {

nb::object int_tuple(const int64_t *values, int n) {
  nb::list items;
  for (int i = 0; i < n; ++i) items.append(values[i]);
  return nb::tuple(items);
}

nb::object tuple_or_none(const int64_t *values, int n) {
  return values ? int_tuple(values, n) : nb::none();
}

namespace {

struct TestAcquisition {
  BfAcquisition *acq = nullptr;
  BfBuffer desc{};
  intptr_t held = 0;  // references this Python object owns

  // via: "buffer" (acquire), "dlpack" (acquire_dlpack) or "arrow" (acquire_arrow).
  TestAcquisition(nb::handle obj, int flags, const std::string &via) {
    auto *how = via == "buffer"   ? api().acquire
                : via == "dlpack" ? api().acquire_dlpack
                : via == "arrow"  ? api().acquire_arrow
                                  : nullptr;
    if (!how) throw nb::value_error("via must be 'buffer', 'dlpack' or 'arrow'");
    if (how(obj.ptr(), flags, &desc, &acq) < 0) throw nb::python_error();
    held = 1;
  }
  ~TestAcquisition() {
    while (held > 0) {
      --held;
      api().acquisition_decref(acq);
    }
  }
  void check() const {
    if (held <= 0) throw nb::value_error("this acquisition holds no reference any more");
  }
};

}  // namespace

void bind_acquisition(nb::module_ &m) {
  nb::class_<TestAcquisition>(m, "_Acquisition",
                              "Testing handle on one acquisition of the core (consumer side).")
      .def(nb::init<nb::handle, int, const std::string &>(), nb::arg("obj"),
           nb::arg("flags") = (int) PyBUF_FULL_RO, nb::arg("via") = "buffer")
      .def(
          "incref",
          [](TestAcquisition &t) {
            t.check();
            api().acquisition_incref(t.acq);
            ++t.held;
          },
          "Add a reference (acquisition_incref).")
      .def(
          "decref",
          [](TestAcquisition &t) {
            t.check();
            --t.held;
            api().acquisition_decref(t.acq);
          },
          "Drop a reference (acquisition_decref); the last one releases the export.")
      .def(
          "decref_in_thread",
          [](TestAcquisition &t) {
            t.check();
            --t.held;
            BfAcquisition *acq = t.acq;
            auto decref = api().acquisition_decref;
            nb::gil_scoped_release unlocked;  // the thread must take the GIL by itself
            std::thread([acq, decref] { decref(acq); }).join();
          },
          "Drop a reference from a new native thread that does not hold the GIL.")
      .def_prop_ro(
          "held", [](const TestAcquisition &t) { return t.held; },
          "References this handle still owns.")
      .def_prop_ro(
          "obj",
          [](const TestAcquisition &t) {
            t.check();
            return nb::borrow(api().acquisition_object(t.acq));
          },
          "acquisition_object(): the exporter whose export is held.")
      .def_prop_ro(
          "desc",
          [](const TestAcquisition &t) -> nb::typed<nb::dict, nb::str, nb::object> {
            t.check();
            const BfBuffer &d = t.desc;
            nb::dict r;
            r["address"] = (uintptr_t) d.data;
            r["itemsize"] = d.itemsize;
            r["format"] = d.format ? nb::object(nb::str(d.format)) : nb::none();
            r["ndim"] = d.ndim;
            r["readonly"] = (bool) d.readonly;
            r["shape"] = tuple_or_none(d.shape, d.ndim);
            r["strides"] = tuple_or_none(d.strides, d.ndim);
            r["suboffsets"] = tuple_or_none(d.suboffsets, d.ndim);
            r["device"] = nb::make_tuple(d.device.device_type, d.device.device_id);
            return r;
          },
          "The BfBuffer the acquisition filled in, as a dict.");

  m.def(
      "format_info",
      [](nb::bytes fmt) -> nb::typed<nb::tuple, int64_t, int64_t, nb::str, bool, int64_t,
                                     nb::typed<nb::tuple, int, int, int>> {
        BfFormatInfo i{};
        if (api().parse_format(fmt.c_str(), &i) != 0) throw nb::python_error();
        return nb::make_tuple(
            i.itemsize, i.alignment, std::string(1, i.byteorder), bool(i.native_order), i.nfields,
            nb::make_tuple(int(i.dtype.code), int(i.dtype.bits), int(i.dtype.lanes)));
      },
      nb::arg("format"),
      "format_info(format: bytes) -> (itemsize, alignment, byteorder, native_order, nfields, "
      "(code, bits, lanes))\n\nThe core's C entry point parse_format (its fast path included), as "
      "a "
      "tuple; ValueError for an invalid format.");
}

}  // namespace bf_testing
