// scalar_types.h -- the one table of scalar element types: every PEP 3118 struct code and
// ml_dtypes extension type the grammar knows, with its sizes and alignment, and the DLPack data
// type and Arrow format it translates to. format.cpp's grammar, DLPack and Arrow all read it:
// supporting another element type is one row in scalar_types.cpp.
#pragma once

#include "core.h"

#include <cstddef>

namespace bf {

struct ScalarType {
  // The item's spelling: a struct code ("f"; "Zf" for the two-letter complex codes) or an
  // extension type ("[ml_dtypes$bfloat16$]"). A string literal.
  const char *format;
  // Size and alignment in '@' mode (what the C compiler says, as _struct.c's native table).
  int64_t native_size, native_align;
  // Size in the standard modes ('<', '>', '=', '!'; alignment 1); 0 when the code exists only
  // with native sizes ('n', 'N', 'P').
  int64_t standard_size;
  // The DLPack type code (BF_DTYPE_NONE: not a single number: bytes, padding, pointers...).
  uint8_t code;
  // The DLPack data type of one native-size item: {code, bits, 1}, or {BF_DTYPE_NONE, 0, 0}.
  BfDataType dtype;
  // Whether this is the format DLPack and Arrow data types translate to (one per data type).
  bool canonical;
  // The Arrow C Data Interface format, or NULL (no fixed-width primitive).
  const char *arrow;
};

// The DLPack data type of an item of `size` bytes with type code `code`: {code, size * 8, 1}, or
// {BF_DTYPE_NONE, 0, 0} when code is BF_DTYPE_NONE or the width does not fit DLPack's 8 bits.
constexpr BfDataType data_type(uint8_t code, int64_t size) {
  return (code == BF_DTYPE_NONE || size * 8 > 255) ? BfDataType{BF_DTYPE_NONE, 0, 0}
                                                   : BfDataType{code, uint8_t(size * 8), 1};
}

// The row of a struct code (`sub` is the letter after 'Z', else 0), or NULL for an unknown code.
const ScalarType *scalar_by_code(char code, char sub);
// The row of the extension type `module$qualname`, or NULL (then only a registered extension can
// give its size).
const ScalarType *scalar_by_extension(const char *module, size_t nmodule, const char *qualname,
                                      size_t nqualname);
// The canonical row of a DLPack data type, or NULL.
const ScalarType *scalar_by_dtype(BfDataType dtype);
// The canonical row of a one-letter native format ("f", "<d" on little-endian, "=i", "@q"), or
// NULL for anything else (including 'l', 'n', ... whose size depends on the prefix: ask the
// parser).
const ScalarType *scalar_by_letter(const char *format);
// The canonical row of an Arrow format string, or NULL.
const ScalarType *scalar_by_arrow(const char *arrow);

}  // namespace bf
