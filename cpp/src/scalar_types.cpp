// scalar_types.cpp -- the scalar element-type table (see scalar_types.h) and its lookups.
#include "scalar_types.h"

#include <array>
#include <cstring>

namespace bf {
namespace {

constexpr ScalarType row(const char *format, int64_t native_size, int64_t native_align,
                         int64_t standard_size, uint8_t code, bool canonical,
                         const char *arrow = nullptr) {
  return ScalarType{format,        native_size, native_align,
                    standard_size, code,        data_type(code, native_size),
                    canonical,     arrow};
}

// An ml_dtypes extension type: its size in every mode, aligned to its size.
constexpr ScalarType ml_dtypes(const char *format, int64_t size, uint8_t code) {
  return row(format, size, size, size, code, code != BF_DTYPE_NONE);
}

constexpr bool kCanonical = true;
constexpr bool kAlias = false;  // another spelling of a canonical type, or no data type at all

// Arrow's booleans are bit-packed, and it has no complex, bfloat16 or float8 primitive: no entry.
// The sub-byte ml_dtypes types (float6_*, float4_e2m1fn, int2, int4, uint2, uint4) are stored one
// per byte, unlike DLPack's packed ones: no data type.
constexpr ScalarType kScalarTypes[] = {
    // format, native size and alignment, standard size, DLPack code, canonical, Arrow
    row("?", sizeof(bool), alignof(bool), 1, BF_DTYPE_BOOL, kCanonical),
    row("c", 1, 1, 1, BF_DTYPE_NONE, kAlias),
    row("s", 1, 1, 1, BF_DTYPE_NONE, kAlias),
    row("p", 1, 1, 1, BF_DTYPE_NONE, kAlias),
    row("x", 1, 1, 1, BF_DTYPE_NONE, kAlias),
    row("b", 1, 1, 1, BF_DTYPE_INT, kCanonical, "c"),
    row("B", 1, 1, 1, BF_DTYPE_UINT, kCanonical, "C"),
    row("h", sizeof(short), alignof(short), 2, BF_DTYPE_INT, kCanonical, "s"),
    row("H", sizeof(short), alignof(short), 2, BF_DTYPE_UINT, kCanonical, "S"),
    row("i", sizeof(int), alignof(int), 4, BF_DTYPE_INT, kCanonical, "i"),
    row("I", sizeof(int), alignof(int), 4, BF_DTYPE_UINT, kCanonical, "I"),
    row("l", sizeof(long), alignof(long), 4, BF_DTYPE_INT, kAlias),
    row("L", sizeof(long), alignof(long), 4, BF_DTYPE_UINT, kAlias),
    row("q", sizeof(long long), alignof(long long), 8, BF_DTYPE_INT, kCanonical, "l"),
    row("Q", sizeof(long long), alignof(long long), 8, BF_DTYPE_UINT, kCanonical, "L"),
    row("n", sizeof(Py_ssize_t), alignof(Py_ssize_t), 0, BF_DTYPE_INT, kAlias),
    row("N", sizeof(size_t), alignof(size_t), 0, BF_DTYPE_UINT, kAlias),
    row("e", 2, alignof(short), 2, BF_DTYPE_FLOAT, kCanonical, "e"),  // struct aligns 'e' as short
    row("f", sizeof(float), alignof(float), 4, BF_DTYPE_FLOAT, kCanonical, "f"),
    row("d", sizeof(double), alignof(double), 8, BF_DTYPE_FLOAT, kCanonical, "g"),
    // long double has no standard size; ctypes nevertheless exports "<g": the native size.
    row("g", sizeof(long double), alignof(long double), sizeof(long double), BF_DTYPE_FLOAT,
        kAlias),
    row("F", 2 * sizeof(float), alignof(float), 8, BF_DTYPE_COMPLEX, kAlias),
    row("D", 2 * sizeof(double), alignof(double), 16, BF_DTYPE_COMPLEX, kAlias),
    row("Zf", 2 * sizeof(float), alignof(float), 8, BF_DTYPE_COMPLEX, kCanonical),
    row("Zd", 2 * sizeof(double), alignof(double), 16, BF_DTYPE_COMPLEX, kCanonical),
    row("Zg", 2 * sizeof(long double), alignof(long double), 2 * sizeof(long double),
        BF_DTYPE_COMPLEX, kAlias),
    row("P", sizeof(void *), alignof(void *), 0, BF_DTYPE_NONE, kAlias),
    row("O", sizeof(void *), alignof(void *), sizeof(void *), BF_DTYPE_NONE,
        kAlias),                               // numpy: '=O'
    row("u", 2, 2, 2, BF_DTYPE_NONE, kAlias),  // UCS-2 and UCS-4 characters (PEP 3118; numpy 'U')
    row("w", 4, 4, 4, BF_DTYPE_NONE, kAlias),
    ml_dtypes("[ml_dtypes$bfloat16$]", 2, BF_DTYPE_BFLOAT),
    ml_dtypes("[ml_dtypes$float8_e3m4$]", 1, BF_DTYPE_FLOAT8_E3M4),
    ml_dtypes("[ml_dtypes$float8_e4m3$]", 1, BF_DTYPE_FLOAT8_E4M3),
    ml_dtypes("[ml_dtypes$float8_e4m3b11fnuz$]", 1, BF_DTYPE_FLOAT8_E4M3B11FNUZ),
    ml_dtypes("[ml_dtypes$float8_e4m3fn$]", 1, BF_DTYPE_FLOAT8_E4M3FN),
    ml_dtypes("[ml_dtypes$float8_e4m3fnuz$]", 1, BF_DTYPE_FLOAT8_E4M3FNUZ),
    ml_dtypes("[ml_dtypes$float8_e5m2$]", 1, BF_DTYPE_FLOAT8_E5M2),
    ml_dtypes("[ml_dtypes$float8_e5m2fnuz$]", 1, BF_DTYPE_FLOAT8_E5M2FNUZ),
    ml_dtypes("[ml_dtypes$float8_e8m0fnu$]", 1, BF_DTYPE_FLOAT8_E8M0FNU),
    ml_dtypes("[ml_dtypes$float6_e2m3fn$]", 1, BF_DTYPE_NONE),
    ml_dtypes("[ml_dtypes$float6_e3m2fn$]", 1, BF_DTYPE_NONE),
    ml_dtypes("[ml_dtypes$float4_e2m1fn$]", 1, BF_DTYPE_NONE),
    ml_dtypes("[ml_dtypes$int2$]", 1, BF_DTYPE_NONE),
    ml_dtypes("[ml_dtypes$int4$]", 1, BF_DTYPE_NONE),
    ml_dtypes("[ml_dtypes$uint2$]", 1, BF_DTYPE_NONE),
    ml_dtypes("[ml_dtypes$uint4$]", 1, BF_DTYPE_NONE),
};

constexpr int kRows = int(sizeof(kScalarTypes) / sizeof(kScalarTypes[0]));

// The row of each one-letter struct code, by letter (-1: none): the grammar's hot path.
constexpr std::array<signed char, 128> letter_index() {
  std::array<signed char, 128> index{};
  for (signed char &i : index) i = -1;
  for (int r = 0; r < kRows; ++r) {
    const char *f = kScalarTypes[r].format;
    if (f[0] != '\0' && f[1] == '\0') index[(unsigned char) f[0] & 127] = (signed char) r;
  }
  return index;
}
constexpr std::array<signed char, 128> kByLetter = letter_index();
static_assert(kRows < 128, "kByLetter stores row numbers in a signed char");

constexpr char kMlDtypesPrefix[] = "[ml_dtypes$";

}  // namespace

const ScalarType *scalar_by_code(char code, char sub) {
  if (code == 'Z') {
    for (const ScalarType &s : kScalarTypes)
      if (s.format[0] == 'Z' && s.format[1] == sub && s.format[2] == '\0') return &s;
    return nullptr;
  }
  const unsigned char c = (unsigned char) code;
  if (c >= 128 || kByLetter[c] < 0) return nullptr;
  return &kScalarTypes[kByLetter[c]];
}

const ScalarType *scalar_by_extension(const char *module, size_t nmodule, const char *qualname,
                                      size_t nqualname) {
  const size_t nprefix = sizeof(kMlDtypesPrefix) - 1;
  // "[ml_dtypes$" names the module ml_dtypes; the qualified name follows, then "$]".
  if (nmodule != nprefix - 2 || std::memcmp(module, kMlDtypesPrefix + 1, nmodule) != 0)
    return nullptr;
  for (const ScalarType &s : kScalarTypes) {
    if (std::strncmp(s.format, kMlDtypesPrefix, nprefix) != 0) continue;
    const char *name = s.format + nprefix;
    if (std::strncmp(name, qualname, nqualname) == 0 && std::strcmp(name + nqualname, "$]") == 0)
      return &s;
  }
  return nullptr;
}

const ScalarType *scalar_by_dtype(BfDataType dtype) {
  for (const ScalarType &s : kScalarTypes)
    if (s.canonical && s.dtype.code == dtype.code && s.dtype.bits == dtype.bits &&
        s.dtype.lanes == dtype.lanes)
      return &s;
  return nullptr;
}

const ScalarType *scalar_by_letter(const char *f) {
  if (f == nullptr) f = "B";
  const bool little = PY_LITTLE_ENDIAN;
  if (f[0] == '@' || f[0] == '=' || (little && f[0] == '<') || (!little && f[0] == '>')) ++f;
  if (f[0] == '\0' || f[1] != '\0') return nullptr;
  const ScalarType *s = scalar_by_code(f[0], 0);
  return s != nullptr && s->canonical ? s : nullptr;
}

const ScalarType *scalar_by_arrow(const char *arrow) {
  for (const ScalarType &s : kScalarTypes)
    if (s.arrow != nullptr && std::strcmp(s.arrow, arrow) == 0) return &s;
  return nullptr;
}

}  // namespace bf
