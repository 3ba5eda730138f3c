// format.h -- the structured result of the PEP 3118 format grammar (format.cpp), for the parts of
// the core that need more than BfFormatInfo (asarray, DLPack, Arrow). The grammar itself and the
// rules for sizes and alignment are documented at the top of format.cpp.
#pragma once

#include "core.h"

#include <string>
#include <vector>

namespace bf {

// One item of a format: a scalar code, 's'/'p' bytes, 'x' padding, a nested "T{...}" or an
// extension type "[module$qualname$param]", with its optional "(n,m)" shape, count and ":name:".
struct FormatNode {
  char code = 0;     // the struct letter; 'T' for a nested struct; '[' for an extension
  char sub = 0;      // the letter after 'Z' ('f', 'd' or 'g'); 0 otherwise
  char order = '@';  // byte-order char in effect: '@' '=' '<' '>' '^' ('!' is kept as '>')
  bool has_name = false;
  std::string name;            // the field name (meaningful when has_name; may be empty, as numpy)
  std::string ext;             // "[module$qualname$param]" for code '['
  int64_t offset = 0;          // bytes from the start of the enclosing item (struct or format)
  int64_t count = 1;           // repeat count as written ('s', 'p', 'x': the number of bytes)
  std::vector<int64_t> shape;  // the "(n,m)" sub-array shape as written
  int64_t elemsize = 0;        // one element: the scalar, the struct, or 1 for 's'/'p'/'x'
  int64_t size = 0;            // the whole item: elemsize * count * prod(shape)
  int64_t align = 1;           // the alignment used to place it (1 unless laid out in '@' mode)
  BfDataType dtype{BF_DTYPE_NONE, 0, 0};  // the scalar type of one element, NONE if it has none
  std::vector<FormatNode> children;       // the members of a 'T'
};

struct FormatTree {
  char start_order = '@';         // byte order in effect before the first item
  std::vector<FormatNode> items;  // the top-level items, padding included
};

// Parse `len` bytes of `format` (NUL bytes inside are an error). Fills *out and, if `tree` is not
// NULL, *tree. Returns 0, or -1 with a ValueError set naming the offending position.
int parse_format(const char *format, size_t len, BfFormatInfo *out, FormatTree *tree);

// The canonical spelling of a parsed format (see "Canonical form" in format.cpp).
std::string canonical_format(const FormatTree &tree);

// Whether two parsed formats describe the same memory layout: the same itemsize and the same
// scalars (kind, size, resolved byte order) at the same offsets; names, nesting, counts,
// alignment requests and padding spelling do not matter.
bool formats_equivalent(const BfFormatInfo &a, const FormatTree &ta, const BfFormatInfo &b,
                        const FormatTree &tb);

}  // namespace bf
