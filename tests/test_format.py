"""The PEP 3118 format grammar (cpp/src/format.cpp): sizes against struct and numpy, alignment,
dtypes, canonical forms, layout equality, fields, extension types and every class of error."""
import ctypes
import re
import struct
import sys

import numpy as np
import pytest

from bufferable import _core, _testing

parse = _core.parse_format
Format = _core.Format

LITTLE = sys.byteorder == "little"
NATIVE = "<" if LITTLE else ">"
ORDERS = ["", "@", "=", "<", ">", "!", "^"]
# Every struct code of this Python (3.14 added 'F' and 'D'); ours accepts those in every version.
STRUCT_CODES = "xcbB?hHiIlLqQnNefdspP" + ("FD" if sys.version_info >= (3, 14) else "")
NATIVE_ONLY = "nNP"

# DLPack codes (bufferable.h BfDTypeCode).
INT, UINT, FLOAT, BFLOAT, COMPLEX, BOOL = 0, 1, 2, 4, 5, 6
F8 = dict(float8_e3m4=7, float8_e4m3=8, float8_e4m3b11fnuz=9, float8_e4m3fn=10, float8_e4m3fnuz=11,
          float8_e5m2=12, float8_e5m2fnuz=13, float8_e8m0fnu=14)


def numpy_pep3118(fmt):
    """numpy's own PEP 3118 parser (private API): a change in numpy fails here, clearly."""
    try:
        from numpy._core._internal import _dtype_from_pep3118
    except ImportError as e:  # pragma: no cover - depends on numpy's internals
        pytest.fail(f"numpy._core._internal._dtype_from_pep3118 is gone ({e}); update numpy_pep3118")
    return _dtype_from_pep3118(fmt)


def info(fmt):
    """The C entry point bf::parse_format (fast path included) as a tuple."""
    return _testing.format_info(fmt.encode())


# --- every struct code in every byte order --------------------------------------------------------

@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("code", STRUCT_CODES)
@pytest.mark.parametrize("count", ["", "0", "1", "3", "17"])
def test_single_code_against_struct(order, code, count):
    fmt = order + count + code
    if order == "^":  # not struct's: native sizes, no alignment
        f = parse(fmt)
        assert f.itemsize == struct.calcsize("@" + count + code) and f.alignment == 1
        return
    try:
        expected = struct.calcsize(fmt)
    except struct.error:
        assert code in NATIVE_ONLY and order in "=<>!"
        with pytest.raises(ValueError, match=r"at position %d: '%s' needs native sizes" % (len(fmt) - 1, code)):
            parse(fmt)
        return
    f = parse(fmt)
    assert f.itemsize == expected
    assert info(fmt)[0] == expected


@pytest.mark.parametrize("code", STRUCT_CODES)
def test_native_alignment_is_structs(code):
    align = struct.calcsize("b" + code) - struct.calcsize(code)  # struct pads 'b' to code's alignment
    assert parse(code).alignment == max(align, 1) == parse("@" + code).alignment
    for order in "=<>!^":
        if code not in NATIVE_ONLY or order == "^":
            assert parse(order + code).alignment == 1


@pytest.mark.parametrize("fmt", [
    "ib", "bi", "b0i", "0i", "bih", "3b2h5q", "?d", "cdb", "hbbq", "b3s i", "2p b d", "xxi", "x3xq",
    "b  h\ti\nq", "<ib", ">bq", "!h3s2x", "=?", "@bPb", "bnbN", "10s3p", "e b e", "bfbd",
    "< i", "@", "", " ", "lL", "<lL", "bl",
])
def test_struct_formats(fmt):
    assert parse(fmt).itemsize == struct.calcsize(fmt)
    assert info(fmt)[0] == struct.calcsize(fmt)


def test_long_and_long_double():
    assert parse("l").itemsize == ctypes.sizeof(ctypes.c_long)
    assert parse("<l").itemsize == 4 and parse("=L").itemsize == 4
    assert parse("g").itemsize == ctypes.sizeof(ctypes.c_longdouble) == np.dtype(np.longdouble).itemsize
    assert parse("g").alignment == ctypes.alignment(ctypes.c_longdouble) == np.dtype(np.longdouble).alignment
    assert parse("Zg").itemsize == 2 * parse("g").itemsize == np.dtype(np.clongdouble).itemsize
    # ctypes exports '<g' for c_longdouble although long double has no standard size.
    assert memoryview(ctypes.c_longdouble()).format in ("<g", ">g")
    assert parse(memoryview(ctypes.c_longdouble()).format).itemsize == ctypes.sizeof(ctypes.c_longdouble)


# --- dtypes ------------------------------------------------------------------------------------------

L = ctypes.sizeof(ctypes.c_long) * 8


@pytest.mark.parametrize("fmt,dtype", [
    ("?", (BOOL, 8, 1)), ("b", (INT, 8, 1)), ("B", (UINT, 8, 1)), ("h", (INT, 16, 1)), ("H", (UINT, 16, 1)),
    ("i", (INT, 32, 1)), ("I", (UINT, 32, 1)), ("l", (INT, L, 1)), ("L", (UINT, L, 1)),
    ("<l", (INT, 32, 1)), (">L", (UINT, 32, 1)), ("q", (INT, 64, 1)), ("Q", (UINT, 64, 1)),
    ("n", (INT, 64, 1)), ("N", (UINT, 64, 1)), ("e", (FLOAT, 16, 1)), ("f", (FLOAT, 32, 1)),
    ("d", (FLOAT, 64, 1)), ("g", (FLOAT, 128, 1)), ("Zf", (COMPLEX, 64, 1)), ("Zd", (COMPLEX, 128, 1)),
    ("F", (COMPLEX, 64, 1)), ("D", (COMPLEX, 128, 1)),
    ("<f", (FLOAT, 32, 1)), ("=f", (FLOAT, 32, 1)), ("@f", (FLOAT, 32, 1)), (">f", (FLOAT, 32, 1)),
    ("1f", (FLOAT, 32, 1)), ("T{f}", (FLOAT, 32, 1)), ("T{f:x:}", (FLOAT, 32, 1)), ("T{T{<d}}", (FLOAT, 64, 1)),
    ("(1)f", (FLOAT, 32, 1)), ("f0x", (FLOAT, 32, 1)),
    ("[ml_dtypes$bfloat16$]", (BFLOAT, 16, 1)), (">[ml_dtypes$bfloat16$]", (BFLOAT, 16, 1)),
    *[(f"[ml_dtypes${n}$]", (c, 8, 1)) for n, c in F8.items()],
    ("2f", None), ("(2)f", None), ("s", None), ("3s", None), ("x", None), ("c", None), ("P", None),
    ("p", None), ("O", None), ("w", None), ("Zg", None), ("T{ff}", None), ("T{fi}", None), ("fx", None),
    ("bi", None), ("0f", None), ("", None), ("[ml_dtypes$int4$]", None), ("[ml_dtypes$float4_e2m1fn$]", None),
])
def test_dtype(fmt, dtype):
    f = parse(fmt)
    assert f.dtype == dtype
    assert info(fmt)[5] == (dtype or (255, 0, 0))


@pytest.mark.parametrize("fmt,byteorder,native", [
    ("f", "@", True), ("@f", "@", True), ("=f", "=", True), ("<f", "<", LITTLE), (">f", ">", not LITTLE),
    ("!f", ">", not LITTLE), ("^f", "^", True), ("b", "|", True), (">b", "|", True), ("<?", "|", True),
    ("10s", "|", True), ("x", "|", True), ("", "|", True), ("T{b<h>i}", "<", False),
    ("T{<b>h}", ">", not LITTLE), (">[ml_dtypes$float8_e5m2$]", "|", True),
    (">[ml_dtypes$bfloat16$]", ">", not LITTLE), ("<i>i", "<", False),
])
def test_byteorder(fmt, byteorder, native):
    f = parse(fmt)
    assert (f.byteorder, f.native_order) == (byteorder, native)
    assert info(fmt)[2:4] == (byteorder, native)


def test_c_entry_point_matches_the_binding():
    for fmt in ["B", "<i", "T{i:a:d:b:}", "3x", "(2,2)Zd", "^q", "!H", "P", "x", "c", "s", "?", "O", "w"]:
        f = parse(fmt)
        dt = f.dtype or (255, 0, 0)
        assert info(fmt) == (f.itemsize, f.alignment, f.byteorder, f.native_order, f.nfields, dt), fmt
    assert parse(None).canonical == "@B" and parse(None).itemsize == 1
    assert parse(b"<i").itemsize == 4


# --- T{}, shapes, Z, strings against numpy -------------------------------------------------------

NUMPY_FORMATS = [
    "T{i:a:b:b:}", "T{b:a:i:b:}", "T{ib}", "T{bi}", "2T{ib}", "T{(2)T{bi}}", "T{T{b}d}", "T{}", "T{b:a:}",
    "(2)f", "(2,3)d", "(2)3f", "(0)f", "( 2 , 3 )h", "(2)<f", "(3)T{<b>h}", "Zf", "Zd", "Zg", "<Zd", ">Zf",
    "10s", "(2)5s", "T{3s:a:i:b:}", "T{<b}i", "T{i<b}", "T{bT{d}b}", "^T{bd}", "T{^bd}", "i:a:", "x:a:",
    "T{i::}", "T{=3w:a:2s:b:?:c:}", "3w", "T{b3w}", "T{h:y:xxxxxxd:z:}", "T{(2)T{h:y:xxxxxxd:z:}:x:}",
    "T{>i:a:b:b:(2,3)=d:c:}", "T{?:a:e:b:}", "T{b:a:T{b:a:T{q:a:}:b:}:c:}", "T{bg}", "T{bZd}",
]


@pytest.mark.parametrize("fmt", NUMPY_FORMATS)
def test_against_numpy(fmt):
    dt = numpy_pep3118(fmt)
    # numpy pads the top level like a struct; we pad only T{} (the top level follows struct), so
    # numpy's itemsize of a format is ours of the format wrapped in T{}.
    assert parse("T{" + fmt + "}").itemsize == dt.itemsize
    f = parse(fmt)
    assert dt.itemsize in (f.itemsize, f.itemsize + (-f.itemsize) % f.alignment)


def test_numpy_struct_offsets():
    fmt = "T{b:a:i:b:T{h:x:d:y:}:c:(2)Zf:d:}"
    dt = numpy_pep3118(fmt)
    f = parse(fmt)
    assert [x.name for x in f.fields] == list(dt.names)
    assert [x.offset for x in f.fields] == [dt.fields[n][1] for n in dt.names]
    inner = f.fields[2]
    assert inner.code == "T" and [x.offset for x in inner.fields] == [0, 8]
    assert inner.itemsize == dt["c"].itemsize == 16
    assert f.itemsize == dt.itemsize and f.alignment == 8


@pytest.mark.parametrize("dtype", [
    np.dtype([("a", "i4"), ("b", "i1")], align=True), np.dtype([("a", ">i4"), ("b", "i1"), ("c", "(2,3)f8")]),
    np.dtype("c16"), np.dtype("clongdouble"), np.dtype([("a", "U3"), ("b", "S2"), ("c", "?")]),
    np.dtype([("x", [("y", "i2"), ("z", "f8")], (2,))], align=True), np.dtype("V7"),
    np.dtype((np.float32, (3, 2))),
    np.dtype("S5"), np.dtype(">i8"), np.dtype("?"), np.dtype("U4"),
])
def test_numpy_exports(dtype):
    m = memoryview(np.zeros(3, dtype))
    assert parse(m.format).itemsize == m.itemsize


def test_numpy_export_without_trailing_padding():
    # numpy exports this aligned dtype (itemsize 24) as 'T{B:a:xxxxxxxL:b:>e:c:}': its last byte
    # order is '>', so by numpy's own parser too the format describes 18 bytes, not 24. The format
    # and Py_buffer.itemsize of a numpy export can disagree; we follow the grammar.
    dt = np.dtype([("a", "u1"), ("b", "<u8"), ("c", ">f2")], align=True)
    m = memoryview(np.zeros(3, dt))
    assert m.itemsize == 24
    assert parse(m.format).itemsize == numpy_pep3118(m.format).itemsize == 18


def test_ctypes_exports():
    class S(ctypes.Structure):
        _fields_ = [("a", ctypes.c_double), ("b", ctypes.c_int), ("c", ctypes.c_int)]
    m = memoryview(S())
    f = parse(m.format)
    assert f.itemsize == ctypes.sizeof(S) and [x.name for x in f.fields] == ["a", "b", "c"]
    assert parse(memoryview((ctypes.c_short * 4)()).format).itemsize == 2


def test_alignment():
    assert parse("T{bd}").alignment == 8 and parse("T{bd}").itemsize == 16
    assert parse("bd").alignment == 8 and parse("bd").itemsize == 16
    assert parse("db").itemsize == 9  # struct: no trailing padding at the top level
    assert parse("T{db}").itemsize == 16  # a struct member: padded, as C and numpy
    assert parse("<bd").alignment == 1 and parse("<bd").itemsize == 9
    assert parse("^bd").alignment == 1 and parse("^bd").itemsize == 9
    assert parse("b<d").itemsize == 9 and parse("b<d").alignment == 1
    assert parse("<b@d").itemsize == 16 and parse("<b@d").alignment == 8
    assert parse("T{bT{bh}}").itemsize == 6 and parse("T{bT{bh}}").fields[1].offset == 2
    assert parse("3T{bi}").itemsize == 24 and parse("3T{ib}").itemsize == 24
    assert parse("T{<bi}").itemsize == 5  # the byte order holds across '}' (numpy's rule)


# --- extension types -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", [
    "bfloat16", *F8, "float6_e2m3fn", "float6_e3m2fn", "float4_e2m1fn", "int2", "int4", "uint2", "uint4"])
def test_ml_dtypes(name):
    ml_dtypes = pytest.importorskip("ml_dtypes")
    dt = np.dtype(getattr(ml_dtypes, name))
    fmt = f"[ml_dtypes${name}$]"
    f = parse(fmt)
    assert (f.itemsize, f.alignment) == (dt.itemsize, dt.alignment)
    assert f.fields[0].code == fmt and f.canonical == "@" + fmt
    assert dt.itemsize == dt.alignment and parse("T{b" + fmt + "}").itemsize == 2 * dt.itemsize
    assert parse("(2,2)<3" + fmt + ":v:").itemsize == 12 * dt.itemsize


def test_extension_registry():
    with pytest.raises(ValueError, match=r"position 1: unknown extension type '\[mylib\$Pixel\$rgb\]'"):
        parse("b[mylib$Pixel$rgb]")
    _core.register_format_extension("mylib", "Pixel", 4, 2)
    f = parse("b[mylib$Pixel$rgb]")
    assert (f.itemsize, f.alignment, f.dtype) == (6, 2, None)
    assert parse("<b[mylib$Pixel$]").itemsize == 5
    with pytest.raises(ValueError, match="alignment"):
        _core.register_format_extension("mylib", "Bad", 6, 4)
    with pytest.raises(ValueError, match="built in"):
        _core.register_format_extension("ml_dtypes", "bfloat16", 4)
    with pytest.raises(ValueError, match="dotted identifiers"):
        _core.register_format_extension("my lib", "X", 1)


# --- canonical form, equality, fields, repr --------------------------------------------------------

@pytest.mark.parametrize("fmt,canonical", [
    ("<1i", "<i"), ("i", "@i"), ("!h", ">h"), ("ii", "@2i"), ("<1i1i", "<2i"), ("xx", "@2x"), ("", "@"),
    ("<", "<"), (" < i  h ", "<ih"), ("2s2s", "@2s2s"), ("T{ i:a: }", "@T{i:a:}"), ("i:a:i", "@i:a:i"),
    ("(2)<1f", "(2)<f"), ("<(2)f", "(2)<f"), ("T{<b>h}", "<T{b>h}"), ("3T{ib}", "@3T{ib}"), ("Zf Zf", "@2Zf"),
    ("[ml_dtypes$bfloat16$]2[ml_dtypes$bfloat16$]", "@3[ml_dtypes$bfloat16$]"), ("=i<i=i", "=i<i=i"),
    ("0i i", "@i"), ("b0i", "@b0i"),
])
def test_canonical(fmt, canonical):
    f = parse(fmt)
    assert f.canonical == canonical
    g = parse(canonical)
    assert g.canonical == canonical and g == f
    assert (g.itemsize, g.alignment, g.byteorder, g.native_order, g.dtype) == \
        (f.itemsize, f.alignment, f.byteorder, f.native_order, f.dtype)


def test_equality():
    native_f = ["f", "@f", "=f", NATIVE + "f", "^f", "1f", "T{f}", "T{f:x:}", "(1)f"]
    for a in native_f:
        for b in native_f:
            assert parse(a) == parse(b), (a, b)
    other = ">f" if LITTLE else "<f"
    assert parse(other) != parse("f") and parse("f") != parse("i") and parse("f") != parse("d")
    assert parse("ii") == parse("2i") == parse("T{i:a:i:b:}") == parse("(2)i") == parse("<(2)i" if LITTLE else ">2i")
    assert parse("2s2s") == parse("4s") == parse("4c")
    assert parse("ib") != parse("T{ib}")  # 5 vs 8 bytes
    assert parse("i3x") == parse("ixxx") == parse("T{i}3x") and parse("ixxx") != parse("ib2x")
    assert parse("q") == parse("n") and parse("l") == parse("q") and parse("<l") == parse("<i")
    assert parse("Zd") == parse("D") and parse("Zf") != parse("2f")
    assert parse("1000000i") == parse("T{500000i 500000i}")
    big = "100000T{ib}"  # past the flattening budget: falls back to canonical strings
    assert parse(big) == parse(big) and parse(big) != parse("100000T{bi}")
    assert parse("f") != "f" and hash(parse("f")) == hash(parse("<f"))


def test_fields():
    f = parse("T{<i:a:(2,3)d:b:10s:c:3x T{h:x:}:d: [ml_dtypes$bfloat16$]}")
    a, b, c, d, e = f.fields
    assert (a.name, a.offset, a.code, a.shape, a.count, a.byteorder, a.itemsize, a.fields) == \
        ("a", 0, "i", (), 1, "<", 4, None)
    assert (b.name, b.offset, b.code, b.shape, b.itemsize) == ("b", 4, "d", (2, 3), 48)
    assert (c.code, c.count, c.shape, c.itemsize, c.byteorder) == ("s", 10, (), 10, "|")
    assert (d.name, d.code, d.offset, d.byteorder) == ("d", "T", 65, "<")
    assert [(x.name, x.code, x.offset, x.itemsize) for x in d.fields] == [("x", "h", 0, 2)]
    assert (e.name, e.code, e.offset) == (None, "[ml_dtypes$bfloat16$]", 67)
    assert f.nfields == 5 and info("T{<i:a:(2,3)d:b:}")[4] == 2
    g = parse("3f:v: 2x b")
    assert [(x.code, x.shape) for x in g.fields] == [("f", (3,)), ("b", ())] and g.nfields == 2
    assert parse("x:pad:").fields[0].count == 1 and parse("T{i}:s:").fields[0].name == "s"
    assert parse("T{i:a:}").fields == parse("T{i:a:}").fields
    assert parse("T{i:a:}").fields[0] != parse("T{i:b:}").fields[0]


def test_repr():
    assert repr(parse("<f")) == "Format('<f', itemsize=4, alignment=1, byteorder='<', dtype=float32)"
    assert repr(parse("T{i:a:}b")) == "Format('T{i:a:}b', itemsize=5, alignment=4, byteorder='@', nfields=2)"
    assert repr(parse("3s:n:").fields[0]) == \
        "Field(name='n', offset=0, code='s', shape=(), count=3, byteorder='|', itemsize=3)"
    assert Format("<f") == parse("<f") and Format(None).itemsize == 1


def test_sticky_byte_order_is_numpys():
    assert parse("T{<b}i").itemsize == numpy_pep3118("T{<b}i").itemsize == 5
    f = parse("T{<b}i")
    assert f.fields[1].byteorder == "<" and f.fields[1].offset == 1


# --- errors -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt,pos,message", [
    ("T{i:x", 3, "field name not closed by ':'"),
    ("T{i", 3, "expected '}'"),
    ("T{i:a:", 6, "expected '}'"),
    ("i}", 1, "'}' without a matching 'T{'"),
    ("T", 1, "expected '{' after 'T', found end of format"),
    ("Tx", 1, "expected '{' after 'T', found 'x'"),
    ("3 f", 1, "repeat count at position 0 is not followed by a type code"),
    ("3", 1, "repeat count at position 0 is not followed by a type code"),
    ("i<", 2, "expected a type code, found end of format"),
    ("T{i<}", 4, "expected a type code, found '}'"),
    ("3<f", 1, "byte order '<' after a repeat count"),
    ("3(2)f", 1, "a shape must come before the repeat count"),
    ("y", 0, "unknown type code 'y'"),
    ("ii&", 2, "unknown type code '&'"),
    ("i\x01", 1, "unknown type code '\\\\x01'"),
    ("Zq", 1, "expected 'f', 'd' or 'g' after 'Z', found 'q'"),
    ("Z", 1, "expected 'f', 'd' or 'g' after 'Z', found end of format"),
    ("<n", 1, "'n' needs native sizes"),
    ("=P", 1, "'P' needs native sizes"),
    ("(2", 2, "expected ',' or '\\)' in the shape opened at position 0"),
    ("()f", 1, "expected a dimension"),
    ("(2,)f", 3, "expected a dimension"),
    ("(-1)f", 1, "expected a dimension"),
    ("(" + "1," * 64 + "1)f", 129, "more than 64 dimensions"),
    ("99999999999999999999b", 0, "repeat count too large"),
    ("(99999999999999999999)b", 1, "dimension too large"),
    ("9223372036854775807q", 19, "larger than 2\\*\\*63-1 bytes"),
    ("(4294967296,4294967296)b", 23, "too many elements"),
    ("9223372036854775807sb", 20, "larger than 2\\*\\*63-1 bytes"),
    ("T{a:i:}", 2, "unknown type code 'a'"),
    ("T{i:a:b:a:}", 8, "duplicate field name 'a'"),
    ("T{" * 65 + "}" * 65, 128, "nested deeper than 64 levels"),
    ("[ml_dtypes$bfloat16$", 0, "extension type not closed by ']'"),
    ("[ml_dtypes$bfloat16$x]", 20, "takes no parameter"),
    ("[ml_dtypes$bfloat16]", 19, "expected '\\$' after the qualified name"),
    ("[$x$]", 1, "expected a module name"),
    ("[m$1x$]", 3, "expected a qualified name"),
    ("[a$b$[c]]", 5, "'\\[' inside an extension type"),
    ("[nolib$Thing$]", 0, "unknown extension type '\\[nolib\\$Thing\\$\\]'"),
    ("i\x00", 1, "embedded NUL character"),
    ("é?", 0, "unknown type code '\\\\xc3'"),
    ("ié", 1, "unknown type code"),
])
def test_errors(fmt, pos, message):
    with pytest.raises(ValueError) as exc:
        parse(fmt)
    text = str(exc.value)
    assert text.startswith("invalid format '"), text
    assert re.search(r"at position %d: .*%s" % (pos, message), text), text
    if "\x00" not in fmt:
        with pytest.raises(ValueError):
            info(fmt)


def test_error_message_shape():
    with pytest.raises(ValueError, match=r"^invalid format 'T\{i' at position 3: expected '\}'$"):
        parse("T{i")
    with pytest.raises(ValueError, match=r"^invalid format 'x{200}\.\.\.' at position 202: unknown type code 'y'$"):
        parse("x" * 201 + "?y")
    with pytest.raises(TypeError):
        parse(3)


def test_never_crashes_on_pathological_input():
    for fmt in ["T{" * 100000, "(" * 100000, "}" * 1000, "9" * 100000, "[" * 1000, ":" * 1000,
                "T{" * 64 + "}" * 64 + "}", "(1," + "1," * 10000 + "1)f", "x" * 10 ** 6 + "y"]:
        with pytest.raises(ValueError):
            parse(fmt)
    assert parse("T{" * 64 + "}" * 64).itemsize == 0
    assert parse("b" * 100000).itemsize == 100000
    assert parse("".join("b:a%d:" % i for i in range(3000))).nfields == 3000


# --- field names that are not UTF-8, and formats with many named fields ---------------------------

@pytest.mark.parametrize("fmt, pos", [
    (b"d:\xff:", 2),
    (b"d:ok:i:a\xc3:", 8),
    (b"T{d:\xe9t\xe9:}", 4),
    (b"d:\xed\xa0\x80:", 2),          # an encoded surrogate is not UTF-8 either
])
def test_field_name_not_utf8_is_refused_at_parse_time(fmt, pos):
    with pytest.raises(ValueError, match=r"at position %d: field name is not valid UTF-8" % pos):
        parse(fmt)
    with pytest.raises(ValueError):
        _testing.format_info(fmt)
    # A UTF-8 name is a name like any other, and everything about it reads back.
    f = parse("d:\u00e9t\u00e9:i:\u2603:".encode())
    assert [x.name for x in f.fields] == ["\u00e9t\u00e9", "\u2603"]
    assert parse(f.canonical) == f and "\u2603" in repr(f.fields[1]) and f.format == "d:\u00e9t\u00e9:i:\u2603:"


def test_extension_parameter_not_utf8_is_refused_at_parse_time():
    _core.register_format_extension("bf_test_utf8", "Thing", 4)
    assert parse(b"[bf_test_utf8$Thing$\xc3\xa9]").fields[0].code == "[bf_test_utf8$Thing$\u00e9]"
    with pytest.raises(ValueError, match=r"at position 20: extension parameter is not valid UTF-8"):
        parse(b"[bf_test_utf8$Thing$\xff]")


def _scaling(function, small, large, rounds=7):
    """Best time of function(large) / best time of function(small), the two interleaved so that
    the machine's load weighs on both."""
    import time
    best = [float("inf"), float("inf")]
    for _ in range(rounds):
        for k, argument in enumerate((small, large)):
            t0 = time.perf_counter()
            function(argument)
            best[k] = min(best[k], time.perf_counter() - t0)
    return best[1] / best[0]


def test_many_named_fields_parse_in_linear_time():
    # Parsing is linear in the number of fields: 8x the fields cost about 8x the time (measured
    # 9-12x: caches), where a duplicate-name check that rescans the names costs 64x (measured
    # 260x). The sizes stay small (a few ms) so that the ratio measures the algorithm, not the
    # memory hierarchy; the best of three measurements discounts a busy machine.
    small, large = 2000, 16000
    fmt = lambda n: "".join("b:f%d:" % i for i in range(n))  # noqa: E731
    for function, convert in [(parse, str), (_testing.format_info, str.encode)]:  # Format; the export path
        ratio = min(_scaling(function, convert(fmt(small)), convert(fmt(large))) for _ in range(3))
        assert ratio < 32, (function, ratio)
    assert parse(fmt(large)).nfields == large
    # Nested bodies keep their own names: the same name in two structs is not a duplicate.
    assert parse("T{b:a:b:b:}:x:T{b:a:b:b:}:y:").nfields == 2
    with pytest.raises(ValueError, match="duplicate field name 'f3'"):
        parse(fmt(small) + "T{b:f3:}:g:b:f3:")
