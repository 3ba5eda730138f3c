// scalar_types.cpp -- see scalar_types.h.
#include "scalar_types.h"

#include <cstring>

namespace bf {
namespace {

// Arrow's booleans are bit-packed, and it has no complex, bfloat16 or float8 primitive: no entry.
constexpr ScalarType kScalarTypes[] = {
    {{BF_DTYPE_BOOL, 8, 1}, "?", nullptr},
    {{BF_DTYPE_INT, 8, 1}, "b", "c"},
    {{BF_DTYPE_UINT, 8, 1}, "B", "C"},
    {{BF_DTYPE_INT, 16, 1}, "h", "s"},
    {{BF_DTYPE_UINT, 16, 1}, "H", "S"},
    {{BF_DTYPE_INT, 32, 1}, "i", "i"},
    {{BF_DTYPE_UINT, 32, 1}, "I", "I"},
    {{BF_DTYPE_INT, 64, 1}, "q", "l"},
    {{BF_DTYPE_UINT, 64, 1}, "Q", "L"},
    {{BF_DTYPE_FLOAT, 16, 1}, "e", "e"},
    {{BF_DTYPE_FLOAT, 32, 1}, "f", "f"},
    {{BF_DTYPE_FLOAT, 64, 1}, "d", "g"},
    {{BF_DTYPE_COMPLEX, 64, 1}, "Zf", nullptr},
    {{BF_DTYPE_COMPLEX, 128, 1}, "Zd", nullptr},
    {{BF_DTYPE_BFLOAT, 16, 1}, "[ml_dtypes$bfloat16$]", nullptr},
    {{BF_DTYPE_FLOAT8_E3M4, 8, 1}, "[ml_dtypes$float8_e3m4$]", nullptr},
    {{BF_DTYPE_FLOAT8_E4M3, 8, 1}, "[ml_dtypes$float8_e4m3$]", nullptr},
    {{BF_DTYPE_FLOAT8_E4M3B11FNUZ, 8, 1}, "[ml_dtypes$float8_e4m3b11fnuz$]", nullptr},
    {{BF_DTYPE_FLOAT8_E4M3FN, 8, 1}, "[ml_dtypes$float8_e4m3fn$]", nullptr},
    {{BF_DTYPE_FLOAT8_E4M3FNUZ, 8, 1}, "[ml_dtypes$float8_e4m3fnuz$]", nullptr},
    {{BF_DTYPE_FLOAT8_E5M2, 8, 1}, "[ml_dtypes$float8_e5m2$]", nullptr},
    {{BF_DTYPE_FLOAT8_E5M2FNUZ, 8, 1}, "[ml_dtypes$float8_e5m2fnuz$]", nullptr},
    {{BF_DTYPE_FLOAT8_E8M0FNU, 8, 1}, "[ml_dtypes$float8_e8m0fnu$]", nullptr},
};

}  // namespace

const ScalarType *scalar_by_dtype(BfDataType dtype) {
  for (const ScalarType &s : kScalarTypes)
    if (s.dtype.code == dtype.code && s.dtype.bits == dtype.bits && s.dtype.lanes == dtype.lanes)
      return &s;
  return nullptr;
}

const ScalarType *scalar_by_letter(const char *f) {
  if (f == nullptr) f = "B";
  const bool little = PY_LITTLE_ENDIAN;
  if (f[0] == '@' || f[0] == '=' || (little && f[0] == '<') || (!little && f[0] == '>')) ++f;
  if (f[0] == '\0' || f[1] != '\0') return nullptr;
  for (const ScalarType &s : kScalarTypes)
    if (s.format[0] == f[0] && s.format[1] == '\0') return &s;
  return nullptr;
}

const ScalarType *scalar_by_arrow(const char *arrow) {
  for (const ScalarType &s : kScalarTypes)
    if (s.arrow != nullptr && std::strcmp(s.arrow, arrow) == 0) return &s;
  return nullptr;
}

}  // namespace bf
