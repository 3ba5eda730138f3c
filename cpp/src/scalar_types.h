// scalar_types.h -- the one table of scalar element types the core translates between the three
// vocabularies it speaks: PEP 3118 formats, DLPack data types and Arrow format strings.
#pragma once

#include "core.h"

namespace bf {

struct ScalarType {
  BfDataType dtype;     // DLPack's (code, bits, lanes = 1)
  const char *format;   // the canonical native PEP 3118 format (a string literal)
  const char *arrow;    // the Arrow C Data Interface format, or NULL (no fixed-width primitive)
};

// The entry for a DLPack data type, or NULL.
const ScalarType *scalar_by_dtype(BfDataType dtype);
// The entry for a one-letter native format ("f", "<d" on little-endian, "=i", "@q"), or NULL for
// anything else (including 'l', 'n', ... whose size depends on the prefix: ask the parser).
const ScalarType *scalar_by_letter(const char *format);
// The entry for an Arrow format string, or NULL.
const ScalarType *scalar_by_arrow(const char *arrow);

}  // namespace bf
