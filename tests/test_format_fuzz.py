"""Fuzz of the format grammar, reproducible (derandomized hypothesis, no database).

11,300 cases per run: 600 struct formats, 600 formats of the full grammar and 300 of numpy's dialect
from hypothesis strategies, each with 7 (3 for numpy's) seeded mutations -- byte insertions,
deletions, replacements, or random bytes -- and 500 garbage strings from hypothesis. Oracles:
  * struct.calcsize accepts -> we accept, with the same itemsize;
  * numpy's PEP 3118 parser accepts -> we accept, and its itemsize is ours of "T{" fmt "}"
    (numpy pads the top level as a struct; we follow struct there, see format.cpp);
  * we reject -> ValueError "invalid format '...' at position N: ...", never anything else;
  * the C entry point (bf::parse_format, with its fast path) agrees with the Python binding;
  * canonical forms reparse to the same layout.
"""
import random
import re
import struct

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

from bufferable import _core, _testing  # noqa: E402

parse = _core.parse_format

def fuzz(n):
    return settings(max_examples=n, derandomize=True, database=None, deadline=None, print_blob=True,
                    suppress_health_check=list(HealthCheck))

ERROR = re.compile(r"^invalid format '.*' at position \d+: .+$", re.S)


def numpy_itemsize(fmt):
    """numpy's private PEP 3118 parser; None where it refuses the format or does not define it:
    numpy stops silently at a '}' that closes nothing ("i}junk" is "i" to it) and at the end of
    an unclosed "T{", so strings with unbalanced braces are left out."""
    depth = 0
    for ch in fmt:
        depth += (ch == "{") - (ch == "}")
        if depth < 0:
            return None
    if depth:
        return None
    try:
        from numpy._core._internal import _dtype_from_pep3118
    except ImportError as e:  # pragma: no cover - depends on numpy's internals
        pytest.fail(f"numpy._core._internal._dtype_from_pep3118 is gone ({e})")
    try:
        return _dtype_from_pep3118(fmt).itemsize
    except (ValueError, NotImplementedError, RuntimeError, TypeError, KeyError, IndexError,
            OverflowError, MemoryError):
        return None


def struct_itemsize(fmt):
    try:
        return struct.calcsize(fmt)
    except (struct.error, OverflowError, ValueError):
        return None


def check(fmt):
    """Parse `fmt` (str or bytes) and check it against every oracle. Returns the Format or None."""
    raw = fmt.encode("utf-8", "surrogatepass") if isinstance(fmt, str) else fmt
    try:
        f = parse(fmt)
    except ValueError as e:
        assert ERROR.match(str(e)), str(e)
        f = None
    except Exception as e:  # noqa: BLE001 - anything but ValueError is a bug
        pytest.fail(f"{fmt!r}: {type(e).__name__}: {e}")
    # The C entry point takes NUL-terminated bytes.
    if b"\x00" not in raw:
        try:
            c = _testing.format_info(raw)
        except ValueError:
            c = None
        assert (c is None) == (f is None), fmt
        if f is not None:
            assert c == (f.itemsize, f.alignment, f.byteorder, f.native_order, f.nfields,
                         f.dtype or (255, 0, 0)), fmt
    expected = struct_itemsize(fmt)
    if expected is not None:
        assert f is not None, f"struct accepts {fmt!r} ({expected} bytes), we refuse it"
        assert f.itemsize == expected, fmt
    text = fmt if isinstance(fmt, str) else None
    if text is not None and text.isascii() and "\x00" not in text:
        n = numpy_itemsize(text)
        if n is not None:
            assert f is not None, f"numpy accepts {text!r}, we refuse it"
            assert parse("T{" + text + "}").itemsize == n, text
    if f is not None:
        g = parse(f.canonical)
        assert g == f and g.itemsize == f.itemsize and g.alignment == f.alignment, fmt
        assert g.canonical == f.canonical, fmt
    return f


# --- strategies --------------------------------------------------------------------------------------

WS = st.sampled_from(["", "", "", " ", "\t", "\n  "])
STD_CODES = "xcbB?hHiIlLqQefdsp"
NATIVE_CODES = STD_CODES + "nNP"


@st.composite
def struct_formats(draw):
    order = draw(st.sampled_from(["", "@", "=", "<", ">", "!"]))
    codes = NATIVE_CODES if order in ("", "@") else STD_CODES
    items = draw(st.lists(st.tuples(WS, st.sampled_from(["", "", "0", "1", "2", "3", "7", "12"]),
                                    st.sampled_from(codes)), max_size=8))
    return order + "".join(w + n + c for w, n, c in items) + draw(WS)


EXT = ["[ml_dtypes$bfloat16$]", "[ml_dtypes$float8_e4m3fn$]", "[ml_dtypes$float8_e5m2$]", "[ml_dtypes$int4$]"]
GRAMMAR_CODES = list("xcbB?hHiIlLqQefdspuw") + ["Zf", "Zd"]
NATIVE_EXTRA = list("nNPOg") + ["Zg"]


@st.composite
def grammar_formats(draw, depth=0, names=None):
    """A valid format of the full grammar (returns the string)."""
    out = []
    for i in range(draw(st.integers(0, 5 if depth == 0 else 3))):
        part = draw(WS)
        kind = draw(st.integers(0, 9))
        code = draw(st.sampled_from(GRAMMAR_CODES + NATIVE_EXTRA)) if kind > 1 else None
        # Native-only codes get their own explicit native order so that they stay valid.
        orders = ["@", "^"] if code in NATIVE_EXTRA else ["", "", "", "@", "=", "<", ">", "!", "^"]
        order = draw(st.sampled_from(orders))
        shape = draw(st.sampled_from(["", "", "", "(2)", "(0)", "(1,3)", "(2, 2)"]))
        if draw(st.booleans()):
            part += shape + order
        else:
            part += order + shape
        part += draw(st.sampled_from(["", "", "", "0", "1", "2", "5"]))
        if kind == 0 and depth < 4:
            part += "T{" + draw(grammar_formats(depth=depth + 1)) + "}"
        elif kind == 1 or kind == 0:
            part += draw(st.sampled_from(EXT))
        else:
            part += code
        if draw(st.integers(0, 3)) == 0:
            part += ":f%d_%d:" % (depth, i)
        out.append(part)
    return "".join(out)


@st.composite
def numpy_formats(draw, depth=0):
    """Formats in numpy's dialect (no whitespace, shape before order, numpy's codes)."""
    out = []
    for i in range(draw(st.integers(1 if depth == 0 else 0, 4))):
        part = draw(st.sampled_from(["", "", "(2)", "(1,3)", "(0)"]))
        order = draw(st.sampled_from(["", "", "@", "=", "<", ">", "!", "^"]))
        part += order + draw(st.sampled_from(["", "", "0", "1", "3"]))
        if draw(st.integers(0, 5)) == 0 and depth < 3:
            part += "T{" + draw(numpy_formats(depth=depth + 1)) + "}"
        else:
            part += draw(st.sampled_from(list("xbB?hHiIlLqQefdsw") + ["Zf", "Zd"]))
        if draw(st.booleans()):
            part += ":n%d_%d:" % (depth, i)
        out.append(part)
    return "".join(out)


ALPHABET = list("@=<>!^()T{}[]$:,xcbB?hHiIlLqQnNefdgFDZspPuwO0123456789 \t") + ["\x00", "\xff", "é", "y"]


def variants(fmt, n):
    """`n` mutations of `fmt` from a PRNG seeded by it (hypothesis draws are costly, these are
    not): 1 to 4 byte insertions, deletions or replacements each; every 4th is random bytes."""
    rng = random.Random(fmt)
    for i in range(n):
        if i % 4 == 3:
            yield bytes(rng.randrange(256) for _ in range(rng.randrange(24)))
            continue
        s = list(fmt)
        for _ in range(rng.randint(1, 4)):
            op, at = rng.randrange(3), rng.randint(0, len(s))
            if op == 0:
                s.insert(at, rng.choice(ALPHABET))
            elif at < len(s):
                if op == 1:
                    del s[at]
                else:
                    s[at] = rng.choice(ALPHABET)
        yield "".join(s)


# --- the fuzz ----------------------------------------------------------------------------------------
# Cases per run: 600 x (1 + 7) + 600 x (1 + 7) + 300 x (1 + 3) + 300 + 200 = 11,300.

@fuzz(600)
@given(struct_formats())
def test_fuzz_struct_formats(fmt):
    f = check(fmt)
    assert f is not None and f.itemsize == struct.calcsize(fmt)
    for v in variants(fmt, 7):
        check(v)


@fuzz(600)
@given(grammar_formats())
def test_fuzz_grammar_formats(fmt):
    assert check(fmt) is not None, fmt
    for v in variants(fmt, 7):
        check(v)


@fuzz(300)
@given(numpy_formats())
def test_fuzz_numpy_dialect(fmt):
    f = check(fmt)
    assert f is not None, fmt
    for v in variants(fmt, 3):
        check(v)
    n = numpy_itemsize(fmt)
    hypothesis.assume(n is not None)  # numpy refuses a few, e.g. "(2)0T{}"
    assert parse("T{" + fmt + "}").itemsize == n


@fuzz(300)
@given(st.binary(max_size=40))
def test_fuzz_garbage_bytes(raw):
    check(raw)


@fuzz(200)
@given(st.text(alphabet=st.sampled_from(ALPHABET), max_size=40))
def test_fuzz_garbage_grammar_chars(fmt):
    check(fmt)
