// testing.cpp -- PLACEHOLDER until the testing Producer lands.
#include "core.h"
namespace bf { void bind_testing(nb::module_ &) {} }
