// format.cpp -- the one PEP 3118 format grammar of bufferable: parse, validate, lay out,
// canonicalise; bf::parse_format for the C contract and _core.parse_format / Format / Field.
//
// Grammar (whitespace `ws` is allowed between items and around byte orders and shapes, never
// inside a count, between a count and its code, or between a code and its ":name:"):
//
//   format    := [order] body                      (a leading order may stand alone: "<" is valid)
//   body      := { ws | item }
//   item      := [order] [shape] [order] [count] type [":" name ":"]
//   order     := "@" | "=" | "<" | ">" | "!" | "^"
//   shape     := "(" ws dim ws { "," ws dim ws } ")"            (1 to 64 dims, each >= 0)
//   count     := digit { digit }                                 (>= 0, < 2**63)
//   type      := code | "Z" ("f"|"d"|"g") | "T{" body "}" | "[" module "$" qualname "$" param "]"
//   code      := "x" | "c" | "?" | "b" | "B" | "h" | "H" | "i" | "I" | "l" | "L" | "q" | "Q"
//              | "n" | "N" | "e" | "f" | "d" | "g" | "F" | "D" | "s" | "p" | "P"
//              | "u" | "w" | "O"        (UCS-2, UCS-4 characters; a PyObject *, as PEP 3118/numpy)
//   name      := any bytes but ":" (possibly empty, as numpy); unique within one body
//   module, qualname := identifier { "." identifier };  param := any bytes but "[" and "]"
//
// A byte order is sticky: it holds for everything after it, across "T{" and "}", until the next
// one (numpy's rule; struct only allows one at the start). "!" is ">". "@" (the default) means
// native order, native sizes and native alignment; "^" native order and sizes, no alignment;
// "=", "<", ">" standard sizes (struct's table: l/L 4 bytes), no alignment. n, N and P exist
// only with native sizes ("@" or "^"), as in struct; O (a pointer) is pointer-sized in every mode,
// as numpy takes "=O". g and Zg have no standard size; as ctypes exports "<g", they keep the
// native long double size there (numpy refuses them). 'F'/'D' are struct's complex codes of
// Python 3.14 (= "Zf"/"Zd"). Nesting of "T{" is limited to 64 levels; no recursion beyond that.
//
// Layout (itemsize and alignment):
//   * A count repeats the code: "3f" is 3 floats; for 's' and 'p' it is the number of bytes of one
//     string, for 'u'/'w' the characters of one string (numpy 'U'), for 'x' the number of pad
//     bytes. A shape multiplies: "(2,3)4f" is 24 floats.
//   * In '@' mode an item starts at the next multiple of its alignment (the C alignment of the
//     scalar; the largest alignment of a T{}'s '@' members; 1 for s, p, x, c) -- also with a
//     count of 0, as struct ("b0i" is 4 bytes). The other modes never pad.
//   * The top level is never padded at its end: itemsize == struct.calcsize for every format struct
//     accepts ("ib" is 5). A T{...} whose closing byte order is '@' is padded at its end to its
//     alignment, as a C struct and numpy's PEP 3118 parser do ("T{ib}" is 8), and is aligned in
//     its parent like any member. These are numpy's _dtype_from_pep3118 rules (T{}, Z, shapes),
//     so numpy's dtype.itemsize of a format equals our itemsize of "T{" + format + "}".
//   * alignment = the largest alignment of the items laid out in '@' mode, 1 if there are none.
//   * The codes' sizes, alignments and DLPack types are the rows of the scalar table
//     (scalar_types.cpp), extension types included: ml_dtypes' bfloat16 (2 bytes, alignment 2),
//     float8_* (1), float6_* and float4_e2m1fn (1 byte each, as ml_dtypes stores them), int2, int4,
//     uint2, uint4 (1 byte each, unpacked). Any other (module, qualname) must first be registered
//     with _core.register_format_extension(module, qualname, itemsize, alignment=1); an unknown
//     one is a ValueError. ml_dtypes types take no param. DLPack dtypes: bfloat16 -> (BFLOAT, 16),
//     float8_* -> (FLOAT8_*, 8); the sub-byte types (int2/int4/uint2/uint4/float6/float4) have no
//     dtype: DLPack's sub-byte types are packed, these are one per byte.
//
// Canonical form: the items re-spelt with the byte order written before the first item and again
// wherever it changes ('!' as '>'), after a shape if the item has one (numpy's order: "(2)<f");
// counts of 1 dropped; whitespace dropped; runs of adjacent unnamed, unshaped items of the same
// code and order merged ("<1i1i" -> "<2i", "xx" -> "@2x"; not 's', 'p', 'T'). An empty format is
// its byte order alone ("" -> "@"). It parses to the same itemsize, alignment and layout.
#include "format.h"
#include "scalar_types.h"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <unordered_set>

#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/variant.h>

#include <optional>
#include <variant>

namespace bf {
namespace {

constexpr int kMaxDepth = 64;
constexpr bool kLittle = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;
constexpr BfDataType kNone{BF_DTYPE_NONE, 0, 0};

inline bool is_order(char c) {
  return c == '@' || c == '=' || c == '<' || c == '>' || c == '!' || c == '^';
}
inline bool is_ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
// Codes whose count is a length (bytes, pad bytes, characters), not a repetition.
inline bool is_len_code(char c) { return c == 's' || c == 'p' || c == 'x' || c == 'u' || c == 'w'; }
inline bool native_sizes(char order) { return order == '@' || order == '^'; }
inline bool native_order(char order) {
  return order == '@' || order == '=' || order == '^' || order == (kLittle ? '<' : '>');
}

struct Scalar {
  int64_t size, align;
  BfDataType dt;
};

// The size/alignment/dtype of a struct code, from the scalar table (scalar_types.cpp). Returns 1,
// 0 for an unknown code, or -1 for a code that exists only with native sizes.
int scalar_info(char c, char sub, bool native, Scalar &r) {
  const ScalarType *t = scalar_by_code(c, sub);
  if (t == nullptr) return 0;
  if (native) {
    r.size = t->native_size;
    r.align = t->native_align;
  } else {
    if (t->standard_size == 0) return -1;
    r.size = t->standard_size;
    r.align = 1;
  }
  r.dt = data_type(t->code, r.size);
  return 1;
}

// Extension types: the scalar table's ml_dtypes rows, then what register_format_extension added.
struct ExtType {
  std::string module, qualname;
  int64_t size, align;
  BfDataType dt;
};
std::vector<ExtType> &ext_registry() {
  static std::vector<ExtType> r;
  return r;
}  // GIL-guarded

inline bool span_eq(const char *p, size_t n, const char *lit) {
  return strlen(lit) == n && memcmp(p, lit, n) == 0;
}

inline bool mul_ok(int64_t a, int64_t b, int64_t &r) { return !__builtin_mul_overflow(a, b, &r); }
inline bool add_ok(int64_t a, int64_t b, int64_t &r) { return !__builtin_add_overflow(a, b, &r); }
inline int64_t sat2(int64_t a) {
  return a > 2 ? 2 : a;
}  // counts of leaves only matter as 0, 1, many

// The offset of the first byte of s[0, n) that is not part of valid UTF-8 (as Python decodes it:
// no overlong forms, no surrogates, nothing above U+10FFFF), or n when all of it is valid.
size_t utf8_invalid_at(const char *s, size_t n) {
  const unsigned char *u = reinterpret_cast<const unsigned char *>(s);
  size_t i = 0;
  while (i < n) {
    unsigned char c = u[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = c >= 0xC2 && c <= 0xDF   ? 2
                 : c >= 0xE0 && c <= 0xEF ? 3
                 : c >= 0xF0 && c <= 0xF4 ? 4
                                          : 0;
    if (len == 0 || i + len > n) return i;
    unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
    if (c == 0xE0)
      lo = 0xA0;
    else if (c == 0xED)
      hi = 0x9F;
    else if (c == 0xF0)
      lo = 0x90;
    else if (c == 0xF4)
      hi = 0x8F;
    if (u[i + 1] < lo || u[i + 1] > hi) return i;
    for (size_t k = 2; k < len; ++k)
      if ((u[i + k] & 0xC0) != 0x80) return i;
    i += len;
  }
  return n;
}

struct Parser {
  Parser(const char *s_, size_t n_) : s(s_), n(n_) {}
  const char *s;
  size_t n, pos = 0;
  char order = '@';
  size_t err_pos = 0;
  char err[200];
  // Summary of the scalar leaves, for BfFormatInfo.dtype/byteorder/native_order.
  int64_t nscalar = 0;  // elements with a dtype, saturated at 2
  bool other = false;   // bytes that are not such an element (s, p, c, P, x, Zg, int4, ...)
  BfDataType dt = kNone;
  int64_t dt_size = 0;
  char first_order = 0;  // the order of the first multi-byte element, 0 if none yet
  bool all_native = true;

  bool fail(size_t at, const char *fmt, ...) __attribute__((format(printf, 3, 4))) {
    err_pos = at;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, sizeof err, fmt, ap);
    va_end(ap);
    return false;
  }
  bool too_large(size_t at) { return fail(at, "the item would be larger than 2**63-1 bytes"); }
  void skip_ws() {
    while (pos < n && is_ws(s[pos])) ++pos;
  }
  void set_order(char c) { order = c == '!' ? '>' : c; }

  // A printable rendering of the byte at `at` for messages.
  const char *show(size_t at, char *buf) {
    unsigned char c = at < n ? (unsigned char) s[at] : 0;
    if (at >= n)
      snprintf(buf, 16, "end of format");
    else if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\')
      snprintf(buf, 16, "'%c'", c);
    else
      snprintf(buf, 16, "'\\x%02x'", c);
    return buf;
  }

  bool number(int64_t &v, const char *what) {
    size_t start = pos;
    v = 0;
    for (; pos < n && is_digit(s[pos]); ++pos) {
      int d = s[pos] - '0';
      if (v > (INT64_MAX - d) / 10) return fail(start, "%s too large", what);
      v = v * 10 + d;
    }
    return true;
  }

  bool shape(int64_t *dims, int &ndim) {
    size_t open = pos++;
    for (;;) {
      skip_ws();
      if (pos >= n || !is_digit(s[pos])) {
        char b[16];
        return fail(pos, "expected a dimension in the shape opened at position %zu, found %s", open,
                    show(pos, b));
      }
      if (ndim == BF_MAX_NDIM) return fail(pos, "a shape has more than %d dimensions", BF_MAX_NDIM);
      if (!number(dims[ndim++], "dimension")) return false;
      skip_ws();
      if (pos < n && s[pos] == ',') {
        ++pos;
        continue;
      }
      if (pos < n && s[pos] == ')') {
        ++pos;
        return true;
      }
      char b[16];
      return fail(pos, "expected ',' or ')' in the shape opened at position %zu, found %s", open,
                  show(pos, b));
    }
  }

  bool ident_path(const char *what) {
    for (;;) {
      if (pos >= n || !(s[pos] == '_' || ((s[pos] | 0x20) >= 'a' && (s[pos] | 0x20) <= 'z'))) {
        char b[16];
        return fail(pos, "expected a %s (a dotted identifier) in an extension type, found %s", what,
                    show(pos, b));
      }
      while (pos < n && (s[pos] == '_' || is_digit(s[pos]) ||
                         ((s[pos] | 0x20) >= 'a' && (s[pos] | 0x20) <= 'z')))
        ++pos;
      if (pos < n && s[pos] == '.') {
        ++pos;
        continue;
      }
      return true;
    }
  }

  // "[module$qualname$param]": size, alignment and dtype from the tables.
  bool extension(Scalar &r) {
    size_t open = pos++;
    size_t m0 = pos;
    if (!ident_path("module name")) return false;
    size_t m1 = pos;
    if (pos >= n || s[pos] != '$') {
      char b[16];
      return fail(pos, "expected '$' after the module name, found %s", show(pos, b));
    }
    size_t q0 = ++pos;
    if (!ident_path("qualified name")) return false;
    size_t q1 = pos;
    if (pos >= n || s[pos] != '$') {
      char b[16];
      return fail(pos, "expected '$' after the qualified name, found %s", show(pos, b));
    }
    size_t p0 = ++pos;
    while (pos < n && s[pos] != ']' && s[pos] != '[') ++pos;
    if (pos >= n) return fail(open, "extension type not closed by ']'");
    if (s[pos] == '[') return fail(pos, "'[' inside an extension type");
    if (size_t bad = p0 + utf8_invalid_at(s + p0, pos - p0); bad != pos)
      return fail(bad, "extension parameter is not valid UTF-8");
    size_t p1 = pos++;
    int len = int(std::min<size_t>(pos - open, 120));
    if (const ScalarType *e = scalar_by_extension(s + m0, m1 - m0, s + q0, q1 - q0)) {
      if (p1 != p0)
        return fail(p0, "the ml_dtypes type '%.*s' takes no parameter", int(q1 - q0), s + q0);
      r.size = e->native_size;
      r.align = e->native_align;
      r.dt = e->dtype;
      return true;
    }
    for (const ExtType &e : ext_registry())
      if (span_eq(s + m0, m1 - m0, e.module.c_str()) &&
          span_eq(s + q0, q1 - q0, e.qualname.c_str())) {
        r.size = e.size;
        r.align = e.align;
        r.dt = e.dt;
        return true;
      }
    return fail(open,
                "unknown extension type '%.*s' (its size is unknown: register it with "
                "bufferable._core.register_format_extension)",
                len, s + open);
  }

  // Record `k` elements (k saturated) of a leaf for the dtype/byte-order summary.
  void leaf(char code, const Scalar &sc, int64_t k) {
    if (k == 0) return;
    bool bytes = code == 'x' || code == 's' || code == 'p' || code == 'c';
    if (sc.size > 1 && !bytes) {
      if (!first_order) first_order = order;
      if (!native_order(order)) all_native = false;
    }
    if (sc.dt.code != BF_DTYPE_NONE && !bytes) {
      nscalar = sat2(nscalar + k);
      if (dt.code == BF_DTYPE_NONE) {
        dt = sc.dt;
        dt_size = sc.size;
      }
    } else {
      other = true;
    }
  }

  struct Body {
    int64_t size = 0, align = 1;
    int32_t nfields = 0, unwrap = -1;
  };

  // A body: the top level (depth 0) or the inside of a T{ } (its '{' consumed). `mult` is the
  // (saturated) number of times the body occurs in the item.
  bool body(int depth, int64_t mult, Body &b, std::vector<FormatNode> *out) {
    std::unordered_set<std::string_view> names;  // the names of this body (duplicate check)
    for (;;) {
      skip_ws();
      if (pos >= n) {
        if (depth > 0) return fail(pos, "expected '}'");
        break;
      }
      if (s[pos] == '}') {
        if (depth == 0) return fail(pos, "'}' without a matching 'T{'");
        ++pos;
        break;
      }
      if (is_order(s[pos])) {
        set_order(s[pos++]);
        skip_ws();
      }
      int64_t dims[BF_MAX_NDIM];
      int ndim = 0;
      if (pos < n && s[pos] == '(') {
        if (!shape(dims, ndim)) return false;
        skip_ws();
        if (pos < n && is_order(s[pos])) {
          set_order(s[pos++]);
          skip_ws();
        }
      }
      int64_t count = 1;
      size_t count_pos = pos;
      if (pos < n && is_digit(s[pos])) {
        if (!number(count, "repeat count")) return false;
        if (pos >= n || is_ws(s[pos]))
          return fail(pos, "repeat count at position %zu is not followed by a type code",
                      count_pos);
      }
      // Elements of this item: prod(shape), times count unless the count is a byte length.
      size_t code_pos = pos;
      char c = pos < n ? s[pos] : 0;
      bool bytes_count = is_len_code(c);
      int64_t k = bytes_count ? 1 : count, ksat = sat2(k);
      for (int i = 0; i < ndim; ++i) {
        if (!mul_ok(k, dims[i], k)) return fail(code_pos, "too many elements in one item");
        ksat = sat2(ksat * sat2(dims[i]));
      }
      FormatNode node;
      Scalar sc{};
      char sub = 0;
      int32_t inner_fields = -1;
      char open_order = order;  // a T{}'s own order is the one at its '{'
      if (pos >= n || s[pos] == '}' || is_ws(s[pos])) {
        return fail(pos, pos < n ? "expected a type code, found '}'"
                                 : "expected a type code, found end of format");
      } else if (c == 'T') {
        if (pos + 1 >= n || s[pos + 1] != '{') {
          char bb[16];
          return fail(pos + 1, "expected '{' after 'T', found %s", show(pos + 1, bb));
        }
        if (depth + 1 > kMaxDepth)
          return fail(pos, "T{...} nested deeper than %d levels", kMaxDepth);
        pos += 2;
        Body inner;
        if (!body(depth + 1, sat2(mult * ksat), inner, out ? &node.children : nullptr))
          return false;
        sc = Scalar{inner.size, inner.align, kNone};
        inner_fields = inner.nfields;
      } else if (c == '[') {
        if (!extension(sc)) return false;
        if (out) node.ext.assign(s + code_pos, pos - code_pos);
        leaf(c, sc, sat2(mult * ksat));
      } else {
        if (c == 'Z') {
          sub = pos + 1 < n ? s[pos + 1] : 0;
          if (sub != 'f' && sub != 'd' && sub != 'g') {
            char bb[16];
            return fail(pos + 1, "expected 'f', 'd' or 'g' after 'Z', found %s", show(pos + 1, bb));
          }
        }
        int r = scalar_info(c, sub, native_sizes(order), sc);
        if (r == 0) {
          char bb[16];
          if (is_order(c))
            return fail(pos, "byte order %s after a repeat count or twice before an item",
                        show(pos, bb));
          if (c == '(') return fail(pos, "a shape must come before the repeat count");
          return fail(pos, "unknown type code %s", show(pos, bb));
        }
        if (r < 0)
          return fail(pos, "'%s%c' needs native sizes ('@' or '^'), not '%c'", c == 'Z' ? "Z" : "",
                      c == 'Z' ? sub : c, order);
        pos += sub ? 2 : 1;
        leaf(c, sc, sat2(mult * (bytes_count ? sat2(count) * ksat : ksat)));
      }
      // ":name:"
      const char *name = nullptr;
      size_t name_len = 0;
      if (pos < n && s[pos] == ':') {
        size_t colon = pos++;
        while (pos < n && s[pos] != ':') ++pos;
        if (pos >= n) return fail(colon, "field name not closed by ':'");
        name = s + colon + 1;
        name_len = pos - colon - 1;
        if (size_t bad = utf8_invalid_at(name, name_len); bad != name_len)
          return fail(colon + 1 + bad, "field name is not valid UTF-8");
        if (!names.emplace(name, name_len).second)
          return fail(colon + 1, "duplicate field name '%.*s'", int(std::min<size_t>(name_len, 80)),
                      name);
        ++pos;
      }
      // Layout: align in '@' mode (the order in effect, as numpy: for a T{} the one at its '}').
      int64_t elem = sc.size, total;
      if (!mul_ok(elem, bytes_count ? count : 1, elem) || !mul_ok(elem, k, total))
        return too_large(code_pos);
      if (order == '@') {
        int64_t a = sc.align, pad = (a - b.size % a) % a;
        if (!add_ok(b.size, pad, b.size)) return too_large(code_pos);
        b.align = std::max(b.align, a);
      }
      int64_t offset = b.size;
      if (!add_ok(b.size, total, b.size)) return too_large(code_pos);
      if (c != 'x' || name) {
        b.nfields++;
        b.unwrap = (b.nfields == 1 && c == 'T' && count == 1 && ndim == 0 && !name && offset == 0)
                       ? inner_fields
                       : -1;
      }
      if (out) {
        node.code = c;
        node.sub = sub;
        node.order = c == 'T' ? open_order : order;
        if (name) {
          node.has_name = true;
          node.name.assign(name, name_len);
        }
        node.offset = offset;
        node.count = count;
        node.shape.assign(dims, dims + ndim);
        node.elemsize = sc.size;
        node.size = total;
        node.align = order == '@' ? sc.align : 1;
        node.dtype = sc.dt;
        out->push_back(std::move(node));
      }
    }
    if (depth > 0 &&
        order == '@') {  // a T{} laid out in '@' mode ends at a multiple of its alignment
      int64_t pad = (b.align - b.size % b.align) % b.align;
      if (!add_ok(b.size, pad, b.size)) return too_large(pos - 1);
    }
    return true;
  }
};

// "invalid format '<escaped>' at position N: message"; N counts characters (UTF-8 sequences).
void raise_format_error(const char *s, size_t n, const Parser &p) {
  char shown[260];
  size_t o = 0, limit = 200;
  for (size_t i = 0; i < n && o + 8 < sizeof shown; ++i) {
    if (i == limit) {
      memcpy(shown + o, "...", 3);
      o += 3;
      break;
    }
    unsigned char c = (unsigned char) s[i];
    if (c == '\\' || c == '\'') {
      shown[o++] = '\\';
      shown[o++] = char(c);
    } else if (c >= 0x20 && c < 0x7f)
      shown[o++] = char(c);
    else
      o += snprintf(shown + o, sizeof shown - o, "\\x%02x", c);
  }
  shown[o] = 0;
  size_t chars = 0;
  for (size_t i = 0; i < p.err_pos && i < n; ++i) chars += ((unsigned char) s[i] & 0xC0) != 0x80;
  PyErr_Format(PyExc_ValueError, "invalid format '%s' at position %zu: %s", shown, chars, p.err);
}

}  // namespace

int parse_format(const char *s, size_t n, BfFormatInfo *out, FormatTree *tree) {
  Parser p{s, n};
  if (const void *nul = memchr(s, 0, n)) {
    p.fail(size_t((const char *) nul - s), "embedded NUL character");
    raise_format_error(s, n, p);
    return -1;
  }
  if (n > 0 && is_order(s[0])) p.set_order(s[p.pos++]);  // struct: a leading order may stand alone
  char start = p.order;
  Parser::Body b;
  if (!p.body(0, 1, b, tree ? &tree->items : nullptr)) {
    if (tree) tree->items.clear();
    raise_format_error(s, n, p);
    return -1;
  }
  if (tree) tree->start_order = start;
  out->itemsize = b.size;
  out->alignment = b.align;
  out->byteorder = p.first_order ? p.first_order : '|';
  out->native_order = p.all_native;
  out->nfields = b.unwrap >= 0 && b.nfields == 1 ? b.unwrap : b.nfields;
  out->dtype = (p.nscalar == 1 && !p.other && b.size == p.dt_size) ? p.dt : kNone;
  return 0;
}

int parse_format(const char *format, BfFormatInfo *out) {
  if (!format) format = "B";
  // Fast path, no allocation: "[order]code" for a one-letter code.
  const char *c = format;
  char order = '@';
  if (is_order(*c)) order = *c == '!' ? '>' : *c, ++c;
  if (*c && !c[1] && *c != 'Z') {
    Scalar sc;
    if (scalar_info(*c, 0, native_sizes(order), sc) == 1) {
      bool bytes = *c == 'x' || *c == 's' || *c == 'p' || *c == 'c';
      out->itemsize = sc.size;
      out->alignment = order == '@' ? sc.align : 1;
      out->byteorder = sc.size > 1 ? order : '|';
      out->native_order = sc.size > 1 ? native_order(order) : 1;
      out->nfields = *c == 'x' ? 0 : 1;
      out->dtype = bytes ? kNone : sc.dt;
      return 0;
    }
  }
  return parse_format(format, strlen(format), out, nullptr);
}

// ---------------------------------------------------------------------------------------------
// Canonical form and layout equivalence
// ---------------------------------------------------------------------------------------------

namespace {

bool mergeable(const FormatNode &a) {
  return !a.has_name && a.shape.empty() && a.code != 'T' && (a.code == 'x' || !is_len_code(a.code));
}
bool same_code(const FormatNode &a, const FormatNode &b) {
  return mergeable(b) && a.code == b.code && a.sub == b.sub && a.order == b.order && a.ext == b.ext;
}

// The order a T{}'s first scalar uses (its own for an empty T{}): written before "T{" so that the
// canonical form starts with its byte order; the order at a non-empty "T{" itself has no effect.
char lead_order(const FormatNode &a) {
  return a.code == 'T' && !a.children.empty() ? lead_order(a.children[0]) : a.order;
}

void emit(const std::vector<FormatNode> &items, char &cur, std::string &o) {
  for (size_t i = 0; i < items.size(); ++i) {
    const FormatNode &a = items[i];
    int64_t count = a.count;
    if (mergeable(a))
      while (i + 1 < items.size() && same_code(a, items[i + 1])) count += items[++i].count;
    if (!a.shape.empty()) {
      o += '(';
      for (size_t d = 0; d < a.shape.size(); ++d) o += (d ? "," : "") + std::to_string(a.shape[d]);
      o += ')';
    }
    if (lead_order(a) != cur) o += (cur = lead_order(a));
    if (count != 1) o += std::to_string(count);
    if (a.code == 'T') {
      o += "T{";
      emit(a.children, cur, o);
      o += '}';
    } else if (a.code == '[')
      o += a.ext;
    else {
      o += a.code;
      if (a.sub) o += a.sub;
    }
    if (a.has_name) {
      o += ':';
      o += a.name;
      o += ':';
    }
  }
}

// Flattened scalars: runs of equal, adjacent elements.
struct Run {
  int64_t offset, size, n;
  char kind, order;
  const std::string *ext;
  bool operator==(const Run &r) const {
    return offset == r.offset && size == r.size && n == r.n && kind == r.kind && order == r.order &&
           (kind != '[' || *ext == *r.ext);
  }
};

struct Flattener {
  std::vector<Run> runs;
  int64_t budget = 1 << 20;  // element visits; past it the caller falls back to canonical strings

  bool push(int64_t offset, char kind, int64_t size, char order, int64_t n,
            const std::string *ext) {
    if (n == 0) return true;
    if (--budget < 0 || runs.size() > (1u << 16)) return false;
    if (!runs.empty()) {
      Run &l = runs.back();
      if (l.kind == kind && l.size == size && l.order == order && (kind != '[' || *l.ext == *ext) &&
          l.offset + l.n * l.size == offset) {
        l.n += n;
        return true;
      }
    }
    runs.push_back(Run{offset, size, n, kind, order, ext});
    return true;
  }

  bool walk(const std::vector<FormatNode> &items, int64_t base) {
    for (const FormatNode &a : items) {
      int64_t k = 1;
      for (int64_t d : a.shape) k *= d;  // cannot overflow: checked by the parser
      int64_t off = base + a.offset;
      char order =
          a.elemsize <= 1 ? '|' : (native_order(a.order) ? (kLittle ? '<' : '>') : a.order);
      char kind;
      switch (a.code) {
        case 'x': continue;
        case 'T': {
          int64_t reps = k * a.count, step = reps ? a.size / reps : 0;
          for (int64_t e = 0; e < reps; ++e) {
            if (--budget < 0 || !walk(a.children, off + e * step)) return false;
          }
          continue;
        }
        case 's':
        case 'c':
          if (!push(off, 's', 1, '|', k * a.count, nullptr)) return false;
          continue;
        case 'p':
          for (int64_t e = 0; e < k; ++e)
            if (!push(off + e * a.count, 'p', a.count, '|', 1, nullptr)) return false;
          continue;
        case 'u':
        case 'w':
          if (!push(off, a.code, a.elemsize, order, k * a.count, nullptr)) return false;
          continue;
        case 'P':
        case 'O': kind = a.code; break;
        case '[': kind = '['; break;
        case '?': kind = '?'; break;
        case 'e':
        case 'f':
        case 'd':
        case 'g': kind = 'f'; break;
        case 'F':
        case 'D':
        case 'Z': kind = 'z'; break;
        case 'B':
        case 'H':
        case 'I':
        case 'L':
        case 'Q':
        case 'N': kind = 'u'; break;
        default: kind = 'i';
      }
      if (!push(off, kind, a.elemsize, order, k * a.count, kind == '[' ? &a.ext : nullptr))
        return false;
    }
    return true;
  }
};

}  // namespace

std::string canonical_format(const FormatTree &tree) {
  std::string o;
  char cur = 0;
  emit(tree.items, cur, o);
  if (o.empty()) o += tree.start_order;
  return o;
}

bool formats_equivalent(const BfFormatInfo &a, const FormatTree &ta, const BfFormatInfo &b,
                        const FormatTree &tb) {
  if (a.itemsize != b.itemsize) return false;
  Flattener fa, fb;
  if (fa.walk(ta.items, 0) && fb.walk(tb.items, 0)) return fa.runs == fb.runs;
  return canonical_format(ta) == canonical_format(tb);
}

// ---------------------------------------------------------------------------------------------
// Python: parse_format, Format, Field, register_format_extension
// ---------------------------------------------------------------------------------------------

namespace {

struct PyFormat {
  std::string text;
  BfFormatInfo info{};
  FormatTree tree;
};

struct PyField {
  FormatNode node;
};

const char *dtype_name(BfDataType dt) {
  switch (dt.code) {
    case BF_DTYPE_INT:
      return dt.bits == 8 ? "int8" : dt.bits == 16 ? "int16" : dt.bits == 32 ? "int32" : "int64";
    case BF_DTYPE_UINT:
      return dt.bits == 8    ? "uint8"
             : dt.bits == 16 ? "uint16"
             : dt.bits == 32 ? "uint32"
                             : "uint64";
    case BF_DTYPE_FLOAT:
      return dt.bits == 16   ? "float16"
             : dt.bits == 32 ? "float32"
             : dt.bits == 64 ? "float64"
                             : "float128";
    case BF_DTYPE_COMPLEX: return dt.bits == 64 ? "complex64" : "complex128";
    case BF_DTYPE_BOOL: return "bool";
    case BF_DTYPE_BFLOAT: return "bfloat16";
    case BF_DTYPE_FLOAT8_E3M4: return "float8_e3m4";
    case BF_DTYPE_FLOAT8_E4M3: return "float8_e4m3";
    case BF_DTYPE_FLOAT8_E4M3B11FNUZ: return "float8_e4m3b11fnuz";
    case BF_DTYPE_FLOAT8_E4M3FN: return "float8_e4m3fn";
    case BF_DTYPE_FLOAT8_E4M3FNUZ: return "float8_e4m3fnuz";
    case BF_DTYPE_FLOAT8_E5M2: return "float8_e5m2";
    case BF_DTYPE_FLOAT8_E5M2FNUZ: return "float8_e5m2fnuz";
    case BF_DTYPE_FLOAT8_E8M0FNU: return "float8_e8m0fnu";
  }
  return nullptr;
}

// Return and argument types the generated stubs name (nb::typed changes nothing at run time).
using FieldList = nb::typed<nb::list, PyField>;
using DType = nb::typed<nb::object, std::optional<nb::typed<nb::tuple, int, int, int>>>;
using FormatArg = nb::typed<nb::handle, std::variant<nb::str, nb::bytes>>;
using Equality = nb::typed<nb::object, bool>;

DType dtype_tuple(BfDataType dt) {
  if (dt.code == BF_DTYPE_NONE) return nb::none();
  return nb::make_tuple(int(dt.code), int(dt.bits), int(dt.lanes));
}

// The byte order of a field: that of its first multi-byte scalar, '|' if it has none.
char node_order(const FormatNode &a) {
  if (a.code == 'T') {
    for (const FormatNode &c : a.children)
      if (char o = node_order(c); o != '|') return o;
    return '|';
  }
  bool bytes = a.code == 'x' || a.code == 's' || a.code == 'p' || a.code == 'c';
  return bytes || a.elemsize <= 1 ? '|' : a.order;
}

FieldList field_list(const std::vector<FormatNode> &items) {
  nb::list l;
  for (const FormatNode &a : items)
    if (a.code != 'x' || a.has_name) l.append(nb::cast(PyField{a}));
  return l;
}

std::string str_of(nb::handle h) { return nb::cast<std::string>(nb::repr(h)); }

std::string field_repr(const FormatNode &a) {
  std::string r =
      "Field(name=" + (a.has_name ? str_of(nb::str(a.name.c_str(), a.name.size())) : "None");
  r += ", offset=" + std::to_string(a.offset) + ", code=";
  PyField f{a};
  r += str_of(nb::cast(f).attr("code"));
  r += ", shape=" + str_of(nb::cast(f).attr("shape"));
  if (is_len_code(a.code)) r += ", count=" + std::to_string(a.count);
  r += std::string(", byteorder='") + node_order(a) + "', itemsize=" + std::to_string(a.size) + ")";
  return r;
}

bool nodes_equal(const std::vector<FormatNode> &x, const std::vector<FormatNode> &y);
bool node_equal(const FormatNode &a, const FormatNode &b) {
  return a.code == b.code && a.sub == b.sub && node_order(a) == node_order(b) &&
         a.has_name == b.has_name && a.name == b.name && a.ext == b.ext && a.offset == b.offset &&
         a.count == b.count && a.shape == b.shape && a.size == b.size &&
         nodes_equal(a.children, b.children);
}
bool nodes_equal(const std::vector<FormatNode> &x, const std::vector<FormatNode> &y) {
  if (x.size() != y.size()) return false;
  for (size_t i = 0; i < x.size(); ++i)
    if (!node_equal(x[i], y[i])) return false;
  return true;
}

// str, bytes or None ("B") -> parsed Format; raises ValueError.
void parse_into(PyFormat &f, nb::handle fmt) {
  const char *s;
  Py_ssize_t n;
  if (fmt.is_none()) {
    s = "B";
    n = 1;
  } else if (PyUnicode_Check(fmt.ptr())) {
    if (!(s = PyUnicode_AsUTF8AndSize(fmt.ptr(), &n))) throw nb::python_error();
  } else if (PyBytes_Check(fmt.ptr())) {
    s = PyBytes_AS_STRING(fmt.ptr());
    n = PyBytes_GET_SIZE(fmt.ptr());
  } else
    throw nb::type_error("a format is a str, bytes or None");
  f.text.assign(s, size_t(n));
  if (parse_format(f.text.data(), f.text.size(), &f.info, &f.tree) != 0) throw nb::python_error();
}

}  // namespace

void bind_format(nb::module_ &m) {
  nb::class_<PyField>(m, "Field", "One field of a parsed format (see Format.fields); immutable.")
      .def_prop_ro(
          "name",
          [](const PyField &f) -> nb::typed<nb::object, std::optional<nb::str>> {
            return f.node.has_name ? nb::object(nb::str(f.node.name.c_str(), f.node.name.size()))
                                   : nb::none();
          },
          "The ':name:' of the field, or None.")
      .def_prop_ro(
          "offset", [](const PyField &f) { return f.node.offset; },
          "Bytes from the start of the enclosing item (the format, or the parent T{}).")
      .def_prop_ro(
          "code",
          [](const PyField &f) -> std::string {
            if (f.node.code == '[') return f.node.ext;
            std::string c(1, f.node.code);
            if (f.node.sub) c += f.node.sub;
            return c;
          },
          "The struct letter ('Zf' for complex), 'T' for a nested struct, or the "
          "'[module$qualname$param]' text.")
      .def_prop_ro(
          "shape",
          [](const PyField &f) -> nb::typed<nb::tuple, int64_t, nb::ellipsis> {
            nb::list l;
            for (int64_t d : f.node.shape) l.append(d);
            if (!is_len_code(f.node.code) && f.node.count != 1) l.append(f.node.count);
            return nb::tuple(l);
          },
          "The sub-array shape: '(n,m)' followed by the repeat count unless it is 1 ('3f' -> "
          "(3,)); () if none.")
      .def_prop_ro(
          "count",
          [](const PyField &f) { return is_len_code(f.node.code) ? f.node.count : int64_t(1); },
          "For 's', 'p', 'x' the number of bytes of one string/pad, for 'u', 'w' of characters; 1 "
          "otherwise.")
      .def_prop_ro(
          "byteorder", [](const PyField &f) { return std::string(1, node_order(f.node)); },
          "'<', '>', '@', '=', '^', or '|' when the order does not matter.")
      .def_prop_ro(
          "itemsize", [](const PyField &f) { return f.node.size; },
          "Bytes of the whole field (all of its shape).")
      .def_prop_ro(
          "fields",
          [](const PyField &f) -> nb::typed<nb::object, std::optional<FieldList>> {
            return f.node.code == 'T' ? nb::object(field_list(f.node.children)) : nb::none();
          },
          "For a nested struct ('T') the list of its fields, else None.")
      .def("__eq__",
           [](const PyField &a, nb::handle b) -> Equality {
             if (!nb::isinstance<PyField>(b)) return nb::borrow(Py_NotImplemented);
             return nb::bool_(node_equal(a.node, nb::cast<const PyField &>(b).node));
           })
      .def("__hash__",
           [](const PyField &f) {
             return nb::hash(nb::make_tuple(f.node.offset, f.node.size, int(f.node.code)));
           })
      .def("__repr__", [](const PyField &f) { return field_repr(f.node); });

  nb::class_<PyFormat>(
      m, "Format",
      "A parsed, validated PEP 3118 format (immutable). Format(fmt) == parse_format(fmt).")
      .def(
          "__init__",
          [](PyFormat *self, FormatArg fmt) {
            PyFormat f;
            parse_into(f, fmt);
            new (self) PyFormat(std::move(f));
          },
          nb::arg("format").none())
      .def_prop_ro(
          "format", [](const PyFormat &f) { return nb::str(f.text.c_str(), f.text.size()); },
          "The string as given.")
      .def_prop_ro(
          "itemsize", [](const PyFormat &f) { return f.info.itemsize; },
          "Bytes per item (struct.calcsize).")
      .def_prop_ro(
          "alignment", [](const PyFormat &f) { return f.info.alignment; },
          "Alignment the item asks for (1 unless '@').")
      .def_prop_ro(
          "byteorder", [](const PyFormat &f) { return std::string(1, f.info.byteorder); },
          "Order of the first multi-byte scalar: '<', '>', '@', '=', '^', or '|' if there is none.")
      .def_prop_ro(
          "native_order", [](const PyFormat &f) { return bool(f.info.native_order); },
          "True when every multi-byte scalar is in this machine's byte order.")
      .def_prop_ro(
          "nfields", [](const PyFormat &f) { return f.info.nfields; }, "len(fields).")
      .def_prop_ro(
          "dtype", [](const PyFormat &f) { return dtype_tuple(f.info.dtype); },
          "(code, bits, lanes) in DLPack's encoding when the item is one scalar, else None.")
      .def_prop_ro(
          "canonical", [](const PyFormat &f) { return canonical_format(f.tree); },
          "The canonical spelling (explicit byte order, counts folded, no whitespace).")
      .def_prop_ro(
          "fields",
          [](const PyFormat &f) {
            const auto &it = f.tree.items;
            // A format that is exactly one unnamed, unrepeated T{...} lists that struct's members.
            std::vector<const FormatNode *> fs;
            for (const FormatNode &a : it)
              if (a.code != 'x' || a.has_name) fs.push_back(&a);
            if (fs.size() == 1 && fs[0]->code == 'T' && !fs[0]->has_name && fs[0]->count == 1 &&
                fs[0]->shape.empty() && fs[0]->offset == 0)
              return field_list(fs[0]->children);
            return field_list(it);
          },
          "The fields: a list of Field (unnamed 'x' padding is not a field).")
      .def(
          "__eq__",
          [](const PyFormat &a, nb::handle b) -> Equality {
            if (!nb::isinstance<PyFormat>(b)) return nb::borrow(Py_NotImplemented);
            const PyFormat &fb = nb::cast<const PyFormat &>(b);
            return nb::bool_(formats_equivalent(a.info, a.tree, fb.info, fb.tree));
          },
          "Whether both describe the same memory layout (same itemsize and scalars at the same "
          "offsets, "
          "byte orders resolved; names, nesting and alignment requests ignored).")
      .def("__hash__", [](const PyFormat &f) { return nb::hash(nb::int_(f.info.itemsize)); })
      .def("__repr__", [](const PyFormat &f) {
        std::string r = "Format(" + str_of(nb::str(f.text.c_str(), f.text.size())) +
                        ", itemsize=" + std::to_string(f.info.itemsize) +
                        ", alignment=" + std::to_string(f.info.alignment) + ", byteorder='" +
                        f.info.byteorder + "'";
        if (const char *dn = dtype_name(f.info.dtype))
          r += std::string(", dtype=") + dn;
        else
          r += ", nfields=" + std::to_string(f.info.nfields);
        return r + ")";
      });

  m.def(
      "parse_format",
      [](FormatArg fmt) {
        PyFormat f;
        parse_into(f, fmt);
        return f;
      },
      nb::arg("format").none(),
      "Parse and validate a PEP 3118 format (str, bytes, or None for 'B'); ValueError names the "
      "position.");

  m.def(
      "register_format_extension",
      [](const std::string &module, const std::string &qualname, int64_t itemsize,
         int64_t alignment) {
        auto dotted = [](const std::string &t) {
          Parser p{t.data(), t.size()};
          return !t.empty() && p.ident_path("name") && p.pos == t.size();
        };
        if (!dotted(module) || !dotted(qualname))
          throw nb::value_error("module and qualname must be dotted identifiers");
        if (itemsize < 1) throw nb::value_error("itemsize must be >= 1");
        if (alignment < 1 || (alignment & (alignment - 1)) || alignment > itemsize ||
            itemsize % alignment)
          throw nb::value_error("alignment must be a power of two dividing itemsize");
        if (scalar_by_extension(module.data(), module.size(), qualname.data(), qualname.size()))
          throw nb::value_error("this extension type is built in and cannot be redefined");
        for (ExtType &e : ext_registry())
          if (e.module == module && e.qualname == qualname) {
            e.size = itemsize;
            e.align = alignment;
            return;
          }
        ext_registry().push_back(ExtType{module, qualname, itemsize, alignment, kNone});
      },
      nb::arg("module"), nb::arg("qualname"), nb::arg("itemsize"), nb::arg("alignment") = 1,
      "Declare the size of an extension type '[module$qualname$param]' so formats using it parse.");
}

}  // namespace bf
