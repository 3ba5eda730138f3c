"""Records: Mojo structs exported as numpy structured arrays with the format derived by reflection
(format_of[T]), Records[T] (growable, refuses size changes while exported), rank-2 record exports,
and bufferable.asarray building structured dtypes from the core's parse where numpy's parser is
wrong. tests/mojo/modules/bfrecords.mojo is the only module that binds these record types."""

from __future__ import annotations

import random
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest

import bufferable
from bufferable.testing import Producer


@pytest.fixture(scope="module")
def rec(mojo_module):
    return mojo_module(Path(__file__).resolve().parent / "modules" / "bfrecords.mojo")


def dt(names, formats, offsets, itemsize):
    return np.dtype({"names": names, "formats": formats, "offsets": offsets, "itemsize": itemsize})


TRAILING = dt(["value", "tag"], ["<f8", "i1"], [0, 8], 16)
EXPECTED = {
    # name: (format_of[T](), dtype numpy must see)
    "Particles": ("T{(4)f:pos:d:mass:i:id:?:alive:3x}",
                  dt(["pos", "mass", "id", "alive"], [("<f4", (4,)), "<f8", "<i4", "?"],
                     [0, 16, 24, 28], 32)),
    "InnerPads": ("T{b:tag:7xd:value:}", dt(["tag", "value"], ["i1", "<f8"], [0, 8], 16)),
    "TrailingPads": ("T{d:value:b:tag:7x}", TRAILING),
    "NestedRecords": ("T{h:kind:6xT{d:value:b:tag:7x}:inner:?:flag:7x}",
                      dt(["kind", "inner", "flag"], ["<i2", TRAILING, "?"], [0, 8, 24], 32)),
    "ArrayRecords": ("T{(2)d:v:(3)h:a:(2)?:flags:?:b:b:i8:B:u8:xH:u16:2xI:u32:4xq:i64:Q:u64:"
                     "q:n:e:h:2xf:f:8x}",
                     dt(["v", "a", "flags", "b", "i8", "u8", "u16", "u32", "i64", "u64", "n", "h",
                         "f"],
                        [("<f8", (2,)), ("<i2", (3,)), ("?", (2,)), "?", "i1", "u1", "<u2", "<u4",
                         "<i8", "<u8", "<i8", "<f2", "<f4"],
                        [0, 16, 22, 24, 25, 26, 28, 32, 40, 48, 56, 64, 68], 80)),
    "OneFields": ("T{f:x:}", dt(["x"], ["<f4"], [0], 4)),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_format_and_dtype_match_the_mojo_layout(rec, name):
    fmt, expected = EXPECTED[name]
    records = getattr(rec, name)(3)
    got_format, size = records.format()
    assert got_format == fmt
    assert size == expected.itemsize == bufferable.parse_format(fmt).itemsize
    view = memoryview(records)
    assert (view.format, view.itemsize, view.shape) == (fmt, size, (3,))
    for array in (np.asarray(records), bufferable.asarray(records)):
        assert array.dtype == expected
        assert array.dtype.itemsize == size
        assert {k: v[1] for k, v in array.dtype.fields.items()} == {
            k: v[1] for k, v in expected.fields.items()}
        assert array.shape == (3,)
        del array
    del view
    assert records.exports() == 0


def test_writes_are_seen_both_ways_without_a_copy(rec):
    r = rec.Particles(4)
    a = np.asarray(r)
    address = a.__array_interface__["data"][0]
    a["mass"] = [1.0, 2.0, 3.0, 4.0]
    a["pos"][2] = [1, 2, 3, 4]
    a["id"][3] = -7
    a["alive"][1] = True
    assert rec.particle_get(r, 2) == ((1.0, 2.0, 3.0, 4.0), 3.0, 0, False)
    assert rec.particle_get(r, 3)[2] == -7 and rec.particle_get(r, 1)[3] is True
    assert rec.particle_get(r, -1)[1] == 4.0  # negative indices count from the end
    rec.particle_scale_mass(r, 10.0)  # Mojo writes through Records.__getitem__ references
    assert a["mass"].tolist() == [10.0, 20.0, 30.0, 40.0]
    assert np.asarray(r).__array_interface__["data"][0] == address
    with pytest.raises(IndexError, match="out of range"):
        rec.particle_get(r, 4)
    with pytest.raises(IndexError, match="out of range"):
        rec.particle_get(r, -5)
    del a
    assert r.exports() == 0


def test_to_numpy_hands_records_over(rec):
    a = rec.particles_to_numpy(5)
    assert a.dtype == EXPECTED["Particles"][1]
    assert a["id"].tolist() == [0, 1, 2, 3, 4]
    assert a["mass"].tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert a["alive"].tolist() == [True, False, True, False, True]
    assert a["pos"][3].tolist() == [3.0, 3.5, -3.0, 1.0]
    a["mass"][0] = 9.5  # writable: the array owns the Records through its base
    assert a["mass"][0] == 9.5


def test_empty_records(rec):
    r = rec.Particles(0)
    a = np.asarray(r)
    assert a.shape == (0,) and a.dtype == EXPECTED["Particles"][1]
    assert memoryview(r).nbytes == 0
    del a
    assert r.length() == 0 and r.exports() == 0


def test_rank_two_with_negative_strides(rec):
    g = rec.ParticleGrid(3, 4)
    a = np.asarray(g)
    assert a.shape == (3, 4) and a.strides == (-4 * 32, 32)
    assert a.dtype == EXPECTED["Particles"][1]
    # rows are exported last first: row 0 of the view is the last row in memory
    assert a["id"].tolist() == [[8, 9, 10, 11], [4, 5, 6, 7], [0, 1, 2, 3]]
    assert bufferable.asarray(g)["mass"][0, 1] == 9.0


@pytest.mark.parametrize("action", ["resize", "reserve", "append_default"])
def test_size_changes_are_refused_while_exported(rec, action):
    r = rec.Particles(3)
    a = np.asarray(r)
    a["id"] = [5, 6, 7]
    args = () if action == "append_default" else (100,)
    with pytest.raises(BufferError, match="while it is exported"):
        getattr(r, action)(*args)
    assert r.length() == 3 and a["id"].tolist() == [5, 6, 7]
    del a
    getattr(r, action)(*args)  # allowed once the export is gone
    b = np.asarray(r)
    assert b["id"][:3].tolist() == [5, 6, 7]
    assert len(b) == {"resize": 100, "reserve": 3, "append_default": 4}[action]


def test_resize_validates_length(rec):
    r = rec.Particles(2)
    with pytest.raises(ValueError, match="negative length"):
        r.resize(-1)
    r.resize(0)
    assert r.length() == 0


@pytest.mark.parametrize("name", ["Particles", "OneFields"])
def test_dlpack_and_arrow_refuse_records(rec, name):
    """Even a one-field record (T{f:x:}, whose item is one float32) is a record: DLPack has no
    record type, and Arrow would need a copy into one array per field."""
    pa = pytest.importorskip("pyarrow")
    r = getattr(rec, name)(3)
    for call in (lambda: np.from_dlpack(r), r.__dlpack__):
        with pytest.raises(BufferError, match=r"DLPack has no record type: format 'T\{.*' is a struct"):
            call()
    for call in (lambda: pa.array(r), r.__arrow_c_array__, r.__arrow_c_stream__):
        with pytest.raises(BufferError, match="is a struct .*Arrow keeps one array per field, so an "
                                              "array of records would need a copy"):
            call()
    assert r.exports() == 0
    assert np.asarray(r).shape == (3,)  # the buffer protocol itself is fine


# --- numpy's PEP 3118 parser against format_of's formats -------------------------------------

_SCALARS = [("?", 1, "?"), ("b", 1, "i1"), ("B", 1, "u1"), ("h", 2, "<i2"), ("H", 2, "<u2"),
            ("i", 4, "<i4"), ("I", 4, "<u4"), ("q", 8, "<i8"), ("Q", 8, "<u8"), ("e", 2, "<f2"),
            ("f", 4, "<f4"), ("d", 8, "<f8")]


def _layout(rng, depth):
    """A random struct laid out as Mojo lays it out (C rules; SIMD aligned to its size), with
    the format format_of derives for it and the dtype numpy must read."""
    fields, position, align = [], 0, 1
    for index in range(rng.randint(1, 4)):
        kind = rng.random()
        if kind < 0.2 and depth < 2:
            fmt, dtype, size, alignment = _layout(rng, depth + 1)
            code = fmt
        else:
            letter, size1, npcode = rng.choice(_SCALARS)
            if kind < 0.6:
                count, alignment = 1, size1
            elif kind < 0.8:
                count = rng.choice([2, 4, 8])
                alignment = size1 * count  # SIMD
            else:
                count, alignment = rng.randint(2, 5), size1  # Array
            size = size1 * count
            code = letter if count == 1 else f"({count}){letter}"
            dtype = npcode if count == 1 else (npcode, (count,))
        offset = -(-position // alignment) * alignment
        fields.append((offset - position, code, f"f{index}", dtype, offset))
        position, align = offset + size, max(align, alignment)
    total = -(-position // align) * align

    def pad(n):
        return "" if n == 0 else "x" if n == 1 else f"{n}x"

    fmt = "T{" + "".join(f"{pad(p)}{c}:{n}:" for p, c, n, _, _ in fields) + pad(total - position)
    fmt += "}"
    dtype = dt([f[2] for f in fields], [f[3] for f in fields], [f[4] for f in fields], total)
    return fmt, dtype, total, align


def test_numpy_reads_every_generated_format_of_layout():
    """Claim in bufferable.records: numpy reads format_of's formats (explicit padding) correctly,
    so np.asarray(records) needs no help; 600 generated layouts (inner, trailing and nested
    padding, SIMD, arrays, every scalar) against the dtype the layout implies."""
    rng = random.Random(13)
    for _ in range(600):
        fmt, expected, total, _ = _layout(rng, 0)
        assert bufferable.parse_format(fmt).itemsize == total, fmt
        p = Producer((2,), fmt)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert np.asarray(memoryview(p)).dtype == expected, fmt
        assert bufferable.asarray(p).dtype == expected, fmt


# Struct formats numpy refuses or misreads (not ones format_of produces): asarray builds the dtype
# from the core's parse over the same memory.
NUMPY_WRONG = {
    "db": dt(["f0", "f1"], ["<f8", "i1"], [0, 8], 9),                       # numpy: itemsize 16
    "T{d:a:}T{b:b:}": dt(["f0", "f1"], [dt(["a"], ["<f8"], [0], 8),
                                         dt(["b"], ["i1"], [0], 1)], [0, 8], 9),
    "T{d:a:b:b:}3x": dt(["a", "b"], ["<f8", "i1"], [0, 8], 19),            # numpy: itemsize 24
    "2T{b:a:}": dt(["f0"], [(dt(["a"], ["i1"], [0], 1), (2,))], [0], 2),   # numpy: itemsize 1
}


@pytest.mark.parametrize("fmt", sorted(NUMPY_WRONG))
def test_asarray_uses_the_core_parse_where_numpy_is_wrong(fmt):
    expected = NUMPY_WRONG[fmt]
    p = Producer((3,), fmt)
    try:
        numpy_dtype = np.asarray(memoryview(p)).dtype
    except (RuntimeError, ValueError):
        numpy_dtype = None
    assert numpy_dtype != expected  # numpy's parser really gets it wrong (see bufferable.records)
    a = bufferable.asarray(p)
    assert a.dtype == expected and a.shape == (3,)
    assert a.__array_interface__["data"][0] == bufferable.inspect(p).address
    raw = np.asarray(memoryview(p).cast("B"))
    a.view(np.uint8).reshape(-1)[:] = np.arange(raw.size, dtype=np.uint8)
    assert raw.tolist() == list(range(raw.size))  # same memory
    del a, raw


UNSUPPORTED = """
from bufferable import format_of

struct Labelled:
    var x: Float64
    var label: String

def main():
    print(format_of[Labelled]())
"""


def test_unsupported_field_is_a_compile_error_naming_it(tmp_path, mojo_compiler):
    source = tmp_path / "labelled.mojo"
    source.write_text(UNSUPPORTED)
    result = subprocess.run(
        [mojo_compiler, "build", "-I", bufferable.mojo_path(), str(source), "-o",
         str(tmp_path / "labelled")], capture_output=True, text=True, timeout=600)
    assert result.returncode != 0
    assert "field 'label' of labelled.Labelled has type String, which has no PEP 3118 format" in (
        result.stdout + result.stderr)


# --- RecordView: Mojo reads structured buffers in place ---------------------------------------

PARTICLE = EXPECTED["Particles"][1]
PARTICLE_ALIGNED = np.dtype([("pos", "<f4", (4,)), ("mass", "<f8"), ("id", "<i4"),
                             ("alive", "?")], align=True)


def particles(n, dtype=PARTICLE):
    a = np.zeros(n, dtype)
    a["pos"] = np.arange(4 * n, dtype=np.float32).reshape(n, 4)
    a["mass"] = np.arange(n) * 1.5
    a["id"] = np.arange(n) * 10
    a["alive"] = np.arange(n) % 3 == 0
    return a


@pytest.mark.parametrize("dtype", [PARTICLE, PARTICLE_ALIGNED], ids=["offsets", "align"])
def test_record_view_reads_and_writes_numpy_in_place(rec, dtype):
    assert dtype == PARTICLE  # align=True gives Mojo's layout
    a = particles(6, dtype)
    assert rec.total_mass(a) == a["mass"].sum()
    assert rec.particle_ids(a) == ([0, 10, 20, 30, 40, 50], [50, 40, 30, 20, 10, 0], [10, 30, 50])
    assert rec.get_particle(a, -2) == a["mass"][-2]
    expected = particles(6, dtype)
    rec.move_particles(a, 0.5)  # Mojo writes through v[i] references
    assert (a["pos"] == expected["pos"] + np.float32([0.5, 1.0, 1.5, 0])).all()
    assert (a["id"] == -expected["id"]).all() and (a["alive"] == ~expected["alive"]).all()
    assert (a["mass"] == expected["mass"]).all()
    # strided and reversed numpy views: any strides, same memory
    assert rec.particle_ids(a[::-2]) == ([-50, -30, -10], [-10, -30, -50], [-30])
    assert rec.total_mass(a[1::2]) == a["mass"][1::2].sum()


def test_record_view_round_trip_numpy_mojo_numpy(rec):
    r = rec.Particles(4)
    a = np.asarray(r)  # Mojo -> numpy
    a["mass"] = [1, 2, 3, 4]
    assert rec.total_mass(r) == 10.0  # the Records export read back by RecordView
    assert rec.total_mass(a) == 10.0  # numpy's own export of it
    rec.move_particles(a, 1.0)  # numpy -> RecordView writes -> seen by numpy and Records
    assert a["pos"][0].tolist() == [1.0, 2.0, 3.0, 0.0]
    assert rec.particle_get(r, 0)[0] == (1.0, 2.0, 3.0, 0.0)
    del a
    assert r.exports() == 0


def test_record_view_rank_two(rec):
    g = np.zeros((3, 4), PARTICLE)
    g["id"] = np.arange(12).reshape(3, 4)
    assert rec.grid_ids(g) == ([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]], 8)
    assert rec.grid_ids(g[::-1, ::3]) == ([[8, 11], [4, 7], [0, 3]], 0)
    assert rec.grid_ids(g.T) == ([[0, 4, 8], [1, 5, 9], [2, 6, 10], [3, 7, 11]], 3)
    assert rec.grid_ids(rec.ParticleGrid(2, 2)) == ([[2, 3], [0, 1]], 0)  # Mojo's rank-2 export


def test_record_view_nested_and_every_scalar(rec):
    n = rec.NestedRecords(3)
    a = np.asarray(n)
    a["kind"] = [1, 2, 3]
    a["inner"]["value"] = [0.5, 1.5, 2.5]
    a["flag"] = [True, False, True]
    assert rec.nested_sum(a) == 0.5 + 1.5 + 2.5 + 6 + 2
    assert a["inner"]["value"].tolist() == [1.0, 3.0, 5.0]
    plain = np.zeros(2, EXPECTED["NestedRecords"][1])  # numpy's own struct, same layout
    assert rec.nested_sum(plain) == 0.0
    # numpy's format for it puts the inner trailing padding after "T{...}" too, which every
    # parser (numpy's own included) reads as padding twice; only the array's dtype is right
    assert memoryview(plain).format == "T{h:kind:xxxxxxT{d:value:b:tag:}:inner:xxxxxxx?:flag:}"
    with pytest.raises(ValueError, match="field 'flag': the buffer has bool at offset 31"):
        rec.view_nested(memoryview(plain))
    assert rec.view_arrays(np.zeros(5, EXPECTED["ArrayRecords"][1])) == 5
    assert rec.view_one_field(np.zeros(7, EXPECTED["OneFields"][1])) == 7
    assert rec.view_one_field(np.zeros(7, np.float32)) == 7  # an unnamed field matches by type
    assert rec.view_particles(rec.Particles(0)) == 0  # empty
    del a
    assert n.exports() == 0


def _particle_like(**changes):
    fields = {"pos": (("<f4", (4,)), 0), "mass": ("<f8", 16), "id": ("<i4", 24),
              "alive": ("?", 28)}
    fields.update(changes)
    names = list(fields)
    return np.dtype({"names": names, "formats": [fields[k][0] for k in names],
                     "offsets": [fields[k][1] for k in names], "itemsize": 32})


MISMATCHES = [
    (_particle_like(mass=("<i4", 16)),
     "ValueError", "field 'mass': the buffer has int32 at offset 16, Particle has float64 at offset 16"),
    (_particle_like(mass=("<f8", 16), id=("<i4", 28), alive=("?", 24)),
     None, None),  # numpy refuses out-of-order fields itself (checked below)
    (_particle_like(id=("<i2", 26)),
     "ValueError", "field 'id': the buffer has int16 at offset 26, Particle has int32 at offset 24"),
    (_particle_like(pos=(("<f4", (3,)), 0)),
     "ValueError", "field 'pos': the buffer has float32[3] at offset 0, Particle has float32[4] at offset 0"),
    (_particle_like(mass=(">f8", 16)),
     "ValueError", "field 'mass': the buffer has big-endian float64 at offset 16, Particle has float64 at offset 16"),
    (np.dtype({"names": ["pos", "mass", "ident", "alive"], "formats": [("<f4", (4,)), "<f8", "<i4", "?"],
               "offsets": [0, 16, 24, 28], "itemsize": 32}),
     "ValueError", "field 2 of Particle is 'id', the buffer names it 'ident'"),
    (np.dtype([("pos", "<f4", (4,)), ("mass", "<f8"), ("id", "<i4"), ("alive", "?")]),
     "ValueError", "the buffer's records are 29 bytes (format 'T{(4)=f:pos:d:mass:i:id:?:alive:}'), Particle is 32"),
    (np.dtype({"names": ["pos", "mass", "id"], "formats": [("<f4", (4,)), "<f8", "<i4"],
               "offsets": [0, 16, 24], "itemsize": 32}),
     "ValueError", "the buffer has 3 fields, Particle has 4"),
    (np.dtype(np.float64), "ValueError", "the buffer's records are 8 bytes (format 'd'), Particle is 32"),
]


@pytest.mark.parametrize("case", range(len(MISMATCHES)))
def test_record_view_mismatch_messages(rec, case):
    dtype, kind, message = MISMATCHES[case]
    if kind is None:
        with pytest.raises(ValueError, match="overlapping or out-of-order"):
            rec.view_particles(np.zeros(3, dtype))  # numpy itself refuses to export it
        return
    with pytest.raises(getattr(__builtins__, kind, None) or ValueError) as info:
        rec.view_particles(np.zeros(3, dtype))
    assert type(info.value) is ValueError
    assert str(info.value) == f"RecordView[Particle, 1, mut=False]: {message}"


def test_record_view_nested_mismatch_names_the_path(rec):
    bad = np.dtype({"names": ["kind", "inner", "flag"],
                    "formats": ["<i2", np.dtype({"names": ["value", "tag"], "formats": ["<f8", "<i4"],
                                                 "offsets": [0, 8], "itemsize": 16}), "?"],
                    "offsets": [0, 8, 24], "itemsize": 32})
    with pytest.raises(ValueError) as info:
        rec.view_nested(np.zeros(2, bad))
    assert str(info.value) == ("RecordView[Nested, 1, mut=False]: field 'inner.tag': the buffer has "
                               "int32 at offset 8, Nested has int8 at offset 8")


def test_record_view_refusals(rec):
    a = particles(3)
    with pytest.raises(ValueError, match=r"the buffer has 2 dimensions, expected 1"):
        rec.view_particles(np.zeros((2, 2), PARTICLE))
    with pytest.raises(IndexError, match="index 3 out of range for axis 0 of extent 3"):
        rec.get_particle(a, 3)
    with pytest.raises(IndexError, match="index -4 out of range"):
        rec.get_particle(a, -4)
    ro = particles(3)
    ro.flags.writeable = False
    assert rec.view_particles(ro) == 3
    with pytest.raises(BufferError, match="read-only; a mutable view needs a writable buffer"):
        rec.view_particles_mut(ro)
    with pytest.raises(TypeError):
        rec.view_particles(3.5)


def test_buffer_from_a_span_of_records(rec):
    s = rec.SpanExport(4, 4)
    a = np.asarray(s)
    assert a.dtype == EXPECTED["InnerPads"][1] and not a.flags.writeable
    assert a["tag"].tolist() == [0, 1, 2, 3] and a["value"].tolist() == [0.0, 0.25, 0.5, 0.75]
    del a
    assert s.live() == 0
    for claimed in (3, 5):
        wrong = rec.SpanExport(4, claimed)
        with pytest.raises(ValueError, match=f"the shape holds {claimed} records, the span has 4"):
            memoryview(wrong)
        assert wrong.live() == 0


@pytest.mark.parametrize("length", [-1, 2**62, 2**59])
def test_sizes_that_do_not_fit_are_refused(rec, length):
    """A record count whose byte size overflows (or a negative one) is refused before anything is
    allocated (List allocated the wrapped size and wrote past it)."""
    with pytest.raises(ValueError, match="negative|overflow"):
        rec.Particles(length)
    r = rec.Particles(2)
    for method in (r.resize, r.reserve):
        with pytest.raises(ValueError, match="negative|overflow"):
            method(length)
    assert r.length() == 2


# --- RecordView over unaligned memory (what engines deliver) -----------------------------------


def at_misalignment(dtype, shape, misalignment, modulus=16):
    """An array of ``dtype`` over a zeroed bytearray, its data address ``misalignment`` modulo
    ``modulus`` (whatever the allocator's alignment); returns (array, the bytearray)."""
    n = int(np.prod(shape))
    raw = bytearray(n * dtype.itemsize + 2 * modulus)
    base = np.frombuffer(raw, np.uint8).__array_interface__["data"][0]
    offset = (misalignment - base) % modulus + modulus
    a = np.frombuffer(raw, dtype, count=n, offset=offset).reshape(shape)
    assert a.__array_interface__["data"][0] % modulus == misalignment
    return a, raw


def as_tuples(a):
    return [(tuple(p["pos"].tolist()), float(p["mass"]), int(p["id"]), bool(p["alive"])) for p in a]


def expected_after(raw, a, change):
    """The bytes ``raw`` must hold after ``change`` (a numpy edit) is made through ``a``, a view
    of ``raw``: the same edit made on a copy."""
    copy = bytearray(raw)
    offset = a.__array_interface__["data"][0] - np.frombuffer(raw, np.uint8).__array_interface__["data"][0]
    change(np.ndarray(a.shape, a.dtype, buffer=copy, offset=offset, strides=a.strides))
    return copy


def moved(p, mass, id_):
    """What store_particle writes: pos + 1, the given mass and id, alive negated."""
    p["pos"] += 1
    p["mass"], p["id"], p["alive"] = mass, id_, not p["alive"]


@pytest.mark.parametrize("misalignment", [1, 4, 8, 13])
def test_record_view_reads_and_writes_unaligned_records(rec, misalignment):
    a, raw = at_misalignment(PARTICLE, (6,), misalignment)
    a[...] = particles(6)
    assert rec.view_particles(a) == 6
    assert rec.records_aligned(a) is False
    assert rec.loaded_particles(a) == as_tuples(a)  # v.load(i): a copy, by unaligned loads
    assert rec.loaded_particles(a[::-2]) == as_tuples(a[::-2])
    # A reference cannot point at an unaligned record: refused, naming the way that works.
    with pytest.raises(BufferError, match=r"RecordView\[Particle, 1, mut=False\]: the buffer's records are "
                       r"not aligned to 16 bytes, as references to Particle need .* use v\.load\(i\)"):
        rec.total_mass(a)
    with pytest.raises(BufferError, match=r"use v\.load\(i\) .* v\.store\(i, value\)"):
        rec.move_particles(a, 1.0)
    expected = expected_after(raw, a, lambda e: moved(e[4], 9.5, -7))
    rec.store_particle(a, 4, 9.5, -7)  # load, change, store: exactly these bytes change
    assert raw == expected
    expected = expected_after(raw, a, lambda e: moved(e[-1], 0.25, 3))
    rec.store_particle(a, -1, 0.25, 3)
    assert raw == expected
    with pytest.raises(IndexError, match="index 6 out of range"):
        rec.store_particle(a, 6, 0.0, 0)


def test_record_view_unaligned_rank_two_and_read_only(rec):
    g, raw = at_misalignment(PARTICLE, (3, 4), 6)
    g["id"] = np.arange(12).reshape(3, 4)
    assert rec.loaded_grid_ids(g) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
    assert rec.loaded_grid_ids(g.T[::-1]) == g.T[::-1]["id"].tolist()
    g.flags.writeable = False
    assert rec.loaded_grid_ids(g) == g["id"].tolist()
    ro = g.reshape(12)
    assert rec.loaded_particles(ro) == as_tuples(ro)
    with pytest.raises(BufferError, match="read-only; a mutable view needs a writable buffer"):
        rec.store_particle(ro, 0, 1.0, 1)
    with pytest.raises(BufferError, match="read-only"):
        rec.view_particles_mut(ro)


@pytest.mark.parametrize("misalignment", [0, 1, 8])
def test_record_view_strides_that_are_not_whole_records(rec, misalignment):
    """A Particle field of packed outer records: 33 or 40 bytes apart, not a multiple of 16."""
    for pitch in (33, 40):
        outer = np.dtype({"names": ["tag", "p"], "formats": ["u1", PARTICLE], "offsets": [0, 1],
                          "itemsize": pitch})
        o, raw = at_misalignment(outer, (5,), (misalignment - 1) % 16)
        o["p"] = particles(5)
        o["tag"] = 0xAB
        p = o["p"]
        assert p.strides == (pitch,)
        assert rec.records_aligned(p) is False
        assert rec.loaded_particles(p) == as_tuples(p)
        expected = expected_after(raw, p, lambda e: moved(e[1], -1.0, 99))
        rec.store_particle(p, 1, -1.0, 99)
        assert raw == expected and (o["tag"] == 0xAB).all()


def test_record_view_aligned_strides_need_not_be_whole_records(rec):
    """48 bytes apart: not whole 32-byte records, but every record aligned to 16: references."""
    p = Producer((3,), "T{(4)f:pos:d:mass:i:id:?:alive:3x}", strides=(48,))
    assert rec.view_particles(p) == 3 and rec.records_aligned(p) is True
    assert rec.total_mass(p) == 0.0
    del p
    o = np.zeros(4, np.dtype({"names": ["p"], "formats": [PARTICLE], "offsets": [0], "itemsize": 48}))
    o["p"] = particles(4)
    assert rec.total_mass(o["p"]) == o["p"]["mass"].sum()  # references, 48 bytes apart
    rec.move_particles(o["p"], 1.0)
    assert o["p"]["id"].tolist() == [0, -10, -20, -30]


def test_record_view_store_writes_fields_not_padding(rec):
    """numpy lets a field of an outer record sit in Particle's trailing padding: store writes
    Particle's fields only, so that field survives (a byte-wise copy of the whole struct wrote the
    padding of a Mojo value, which holds anything, over it)."""
    outer = np.dtype({"names": ["p", "tag"], "formats": [PARTICLE, "u1"], "offsets": [0, 30],
                      "itemsize": 33})
    o, raw = at_misalignment(outer, (4,), 3)
    o["p"] = particles(4)
    o["tag"] = 0xAB
    p = o["p"]
    expected = expected_after(raw, p, lambda e: moved(e[2], 5.0, 5))
    rec.store_particle(p, 2, 5.0, 5)
    assert raw == expected and (o["tag"] == 0xAB).all()


@pytest.mark.parametrize("misalignment", [0, 5])
def test_record_view_store_of_nested_records_keeps_every_padding_byte(rec, misalignment):
    """Nested records (padding between fields, inside the inner record and at the end), their
    padding bytes filled with 0xEE: load, change, store changes the fields' bytes and no other."""
    dtype = EXPECTED["NestedRecords"][1]
    a, raw = at_misalignment(dtype, (3,), misalignment, modulus=8)
    raw[:] = b"\xee" * len(raw)
    a["kind"], a["inner"]["value"], a["inner"]["tag"], a["flag"] = [1, 2, 3], [0.5, 1.5, 2.5], 7, True

    def change(e):
        e["kind"][1] += 1
        e["inner"]["value"][1] *= 2
        e["flag"][1] = False

    expected = expected_after(raw, a, change)
    rec.nested_store(a, 1)
    assert raw == expected
