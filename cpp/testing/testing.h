// testing.h -- what the translation units of bufferable._testing share: the core's C API, which
// they use exactly as any C/C++ producer or consumer does (the capsule bufferable._core._C_API),
// never the core's internals.
#pragma once

#include <Python.h>
#include <nanobind/nanobind.h>

#include <bufferable/bufferable.h>

namespace bf_testing {
namespace nb = nanobind;

// The core's table, loaded by load_api() (version 1.1 or later, checked there).
const BfApi &api();
// Imports bufferable._core and checks its table's version; raises ImportError-worthy errors.
void load_api();

// A tuple of `n` values; tuple_or_none gives None when `values` is NULL.
nb::object int_tuple(const int64_t *values, int n);
nb::object tuple_or_none(const int64_t *values, int n);

// producer.cpp: bufferable._testing.Producer and its allocation counters.
void bind_producer(nb::module_ &m);
// acquisition.cpp: _Acquisition (a held consumer acquisition) and format_info.
void bind_acquisition(nb::module_ &m);

}  // namespace bf_testing
