"""Mojo tables (`add_table_protocol`), through tests/mojo/modules/tables/bftables.mojo (bound as
the README binds its Trades table): a struct of three columns read in place by pyarrow, Polars
and DuckDB (addresses checked), its lock counted exactly (batches never consumed, streams dropped
half-read, columns moved out of their batch, releases from another thread), resizes and a second
`__init__` refused while a batch lives, the type's reference count stable, the compile-time errors
for fields that are not columns; TableView over tables, batches and sliced struct arrays."""

import gc
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import numpy as np

import bufferable
from bufferable.build import compiler_environment

pa = pytest.importorskip("pyarrow")
pl = pytest.importorskip("polars")
duckdb = pytest.importorskip("duckdb")

SOURCE = Path(__file__).resolve().parent / "modules" / "tables" / "bftables.mojo"


@pytest.fixture(scope="module")
def m(mojo_module):
    return mojo_module(SOURCE)


def unlocked(p, locks):
    """No live lock, and `locks` taken (and released) in all."""
    gc.collect()
    return p.stats() == (0, locks, locks)


def test_pa_table_reads_the_columns_in_place(m):
    p = m.Prices(1000)
    t = pa.table(p)
    assert t.schema == pa.schema([pa.field("id", pa.int64(), False),
                                  pa.field("price", pa.float64(), False),
                                  pa.field("qty", pa.int32(), False)])
    for name in ("id", "price", "qty"):
        assert t.column(name).chunk(0).buffers()[1].address == p.address(name)
    assert t.column("price").to_pylist()[:3] == [0.0, 0.5, 1.0]
    p.set_price(1, 99.0)
    assert t.column("price")[1].as_py() == 99.0  # the same memory
    assert p.stats() == (1, 1, 0)
    del t
    assert unlocked(p, 1)


def test_polars_dataframe_reads_the_columns_in_place(m):
    p = m.Prices(100)
    df = pl.DataFrame(p)
    assert df.columns == ["id", "price", "qty"] and df.height == 100
    assert df["price"].to_numpy().ctypes.data == p.address("price")
    assert df["qty"].sum() == sum(i % 7 for i in range(100))
    del df
    assert unlocked(p, 1)


def _duckdb(p):
    """DuckDB finds `p` in this frame's locals (its own frame: see test_mojo_interop)."""
    return duckdb.sql("select sum(price), max(id), count(*) from p where qty > 3").fetchall()


def test_duckdb_sql_over_a_mojo_table(m):
    p = m.Prices(70)
    expected = sum(i * 0.5 for i in range(70) if i % 7 > 3)
    assert _duckdb(p) == [(expected, 69, 30)]
    gc.collect()
    live, taken, released = p.stats()
    assert live == 0 and taken == released >= 1


def test_resize_refused_while_a_batch_lives(m):
    p = m.Prices(5)
    batch = pa.record_batch(p)
    with pytest.raises(BufferError, match="exported"):
        p.resize(10)
    assert batch.num_rows == 5  # untouched
    del batch
    gc.collect()
    p.resize(10)
    assert pa.table(p).num_rows == 10
    assert unlocked(p, 2)


def test_unconsumed_and_half_read_exports_release_once(m):
    p = m.Prices(4)
    pair = p.__arrow_c_array__()  # never consumed
    assert p.stats() == (1, 1, 0)
    del pair
    assert unlocked(p, 1)
    stream = p.__arrow_c_stream__()  # never consumed
    del stream
    assert unlocked(p, 2)
    reader = pa.RecordBatchReader.from_stream(p)  # consumed, no batch read
    del reader
    assert unlocked(p, 3)
    reader = pa.RecordBatchReader.from_stream(p)
    batch = reader.read_next_batch()  # end of stream never asked for
    del reader
    with pytest.raises(BufferError):
        p.resize(1)
    del batch
    assert unlocked(p, 4)
    p.__arrow_c_schema__()  # a schema locks nothing beyond the call
    assert unlocked(p, 5)


def test_a_column_moved_out_of_its_batch_keeps_the_lock(m):
    p = m.Prices(6)
    batch = pa.record_batch(p)
    qty = batch.column("qty")
    del batch
    gc.collect()
    assert p.stats()[0] == 1 and qty.to_pylist() == [0, 1, 2, 3, 4, 5]
    del qty
    assert unlocked(p, 1)


def test_release_from_another_thread(m):
    p = m.Prices(8)
    held = [pa.table(p) for _ in range(4)]
    assert p.stats()[0] == 4

    def drop():
        while held:
            held.pop()
            gc.collect()

    threads = [threading.Thread(target=drop) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert unlocked(p, 4)


def test_requested_schema_selects_columns(m):
    p = m.Prices(3)
    wanted = pa.schema([pa.field("qty", pa.int32(), False), pa.field("id", pa.int64(), False)])
    t = pa.RecordBatchReader.from_stream(p, schema=wanted).read_all()
    assert t.column_names == ["qty", "id"]
    assert t.column("id").chunk(0).buffers()[1].address == p.address("id")
    other = pa.RecordBatchReader._import_from_c_capsule(
        p.__arrow_c_stream__(pa.schema([("id", pa.float32())]).__arrow_c_schema__()))
    assert other.schema.names == ["id", "price", "qty"]  # a cast is not ours to make
    del t, other
    assert unlocked(p, 2)


def test_columns_of_different_lengths_are_refused(m):
    p = m.Prices(3)
    p.drop_last_price()
    with pytest.raises(ValueError, match="'price' has 2 rows"):
        pa.table(p)
    assert unlocked(p, 0)


BAD_FIELD = """
from std.python import PythonObject
from std.python.bindings import PythonModuleBuilder
from bufferable import ExportCounter, add_table_protocol

struct Bad(Writable):
    var ok: List[Float64]
    var {field}
    var exports: ExportCounter

    def write_to(self, mut w: Some[Writer]):
        w.write("Bad")

@export
def PyInit_bad() abi("C") -> PythonObject:
    try:
        var m = PythonModuleBuilder("bad")
        add_table_protocol[Bad](m.add_type[Bad]("Bad"))
        return m.finalize()
    except:
        return PythonObject()
"""


def compile_errors(tmp_path, mojo_compiler, source: str) -> str:
    """Builds `source` as bad.mojo, which must fail; returns the compiler's output."""
    src = tmp_path / "bad.mojo"
    src.write_text(source)
    out = subprocess.run([mojo_compiler, "build", "-I", bufferable.mojo_path(), str(src),
                          "--emit", "shared-lib", "-o", str(tmp_path / "bad.so")],
                         capture_output=True, text=True, env=compiler_environment())
    assert out.returncode != 0
    return out.stdout + out.stderr


@pytest.mark.parametrize("field,message", [
    ("flags: List[Bool]", "column 'flags' of .*Bad is List\\[Bool\\]; Arrow booleans are bit-packed"),
    ("names: List[String]", "field 'names' of .*Bad has type .*String"),
])
def test_fields_without_an_arrow_type_are_compile_errors(tmp_path, mojo_compiler, field,
                                                         message):
    output = compile_errors(tmp_path, mojo_compiler, BAD_FIELD.format(field=field))
    assert re.search(message, output), output


def test_a_table_without_an_export_counter_is_a_compile_error_naming_it(tmp_path,
                                                                         mojo_compiler):
    source = BAD_FIELD.format(field="qty: List[Int32]").replace(
        "    var exports: ExportCounter\n", "")
    output = compile_errors(tmp_path, mojo_compiler, source)
    assert re.search(r"add_table_protocol: \S*Bad needs a field of type ExportCounter", output), output
    assert "rebind" not in output, output


# --- __init__ called again on a live table -------------------------------------------------------


def _pa_table(p):
    return pa.table(p)


def _reader(p):
    return pa.RecordBatchReader.from_stream(p)


def _capsule(p):
    return p.__arrow_c_stream__()


def _polars(p):
    return pl.DataFrame(p)


def _as_table(held):
    """What a holder of one lock reads, as a pyarrow Table (the lock moves with the batch)."""
    if isinstance(held, pa.Table):
        return held
    if isinstance(held, pa.RecordBatchReader):
        return held.read_all()
    if isinstance(held, pl.DataFrame):
        return held.to_arrow()
    return pa.RecordBatchReader._import_from_c_capsule(held).read_all()


def addresses(p):
    return [p.address(name) for name in ("id", "price", "qty")]


@pytest.mark.parametrize("hold", [_pa_table, _reader, _capsule, _polars])
def test_reinit_refused_while_arrow_data_lives(m, hold):
    p = m.Prices(1000)
    held = hold(p)
    where, gone = addresses(p), m.destroyed()
    with pytest.raises(BufferError, match=r"__init__ again on a \S*Prices while it is exported "
                                          r"\(1 live export\)"):
        p.__init__(10)
    assert m.destroyed() == gone and addresses(p) == where and p.stats() == (1, 1, 0)
    table = _as_table(held)  # read after the refusal: the columns were neither freed nor reset
    assert table.column("id").to_pylist() == list(range(1000))
    assert table.column("price").to_pylist() == [i * 0.5 for i in range(1000)]
    with pytest.raises(BufferError):
        p.resize(5)  # the lock survived the refusal
    del held, table
    assert unlocked(p, 1)
    p.__init__(10)  # released: allowed, the old value destroyed once
    assert m.destroyed() == gone + 1 and p.stats() == (0, 0, 0)
    assert pa.table(p).column("id").to_pylist() == list(range(10))


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def test_reinit_of_an_unexported_table_destroys_the_old_one(m):
    p = m.Prices(100_000)  # 2 MB of columns
    pa.table(p)  # a lock taken and released: the new value's counter starts again
    gone, rss = m.destroyed(), _rss()
    for _ in range(200):
        p.__init__(100_000)
    assert m.destroyed() - gone == 200  # every replaced value destroyed once: nothing leaked
    assert _rss() - rss < 64 << 20  # 400 MB if the columns leaked
    p.__init__(3)
    assert p.stats() == (0, 0, 0)
    assert pa.table(p).column("price").to_pylist() == [0.0, 0.5, 1.0]
    del p
    gc.collect()
    assert m.destroyed() - gone == 202


def test_failed_reinit_keeps_the_table(m):
    p = m.Prices(4)
    pa.table(p)
    where, gone = addresses(p), m.destroyed()
    with pytest.raises(ValueError, match="negative row count"):
        p.__init__(-1)
    assert m.destroyed() == gone and addresses(p) == where and p.stats() == (0, 1, 1)
    assert pa.table(p).column("id").to_pylist() == [0, 1, 2, 3]


def test_initializer_declared_after_add_table_protocol_is_guarded(m):
    t = m.Late(3)
    table = pa.table(t)
    with pytest.raises(BufferError, match="exported"):
        t.__init__(5)
    assert table.column("x").to_pylist() == [1.0] * 3
    del table
    gc.collect()
    t.__init__(5)
    assert pa.table(t).num_rows == 5


def test_table_type_reference_count_is_stable(m):
    gc.collect()
    before = sys.getrefcount(m.Prices)
    for _ in range(20_000):
        m.Prices(1)
    p = m.Prices(2)
    for _ in range(100):
        p.__init__(1)
    del p
    gc.collect()
    after = sys.getrefcount(m.Prices)  # not inside assert: pytest's rewrite holds one more
    assert after == before  # was +20,001: one leaked per instance


# --- TableView: Mojo reads Arrow tables in place -----------------------------------------------


def test_mojo_sums_a_polars_column_in_place(m):
    df = pl.DataFrame({"price": np.arange(1000, dtype=np.float64), "n": np.arange(1000)})
    assert m.sum_column(df, "price") == 499500.0
    assert m.describe(df) == (1000, 2, 1, ["price", "n"])
    assert m.column_address(df, 0, "float64") == df["price"].to_numpy().ctypes.data
    assert m.column_address(df, 1, "int64") == df["n"].to_numpy().ctypes.data


def test_mojo_sums_a_duckdb_result_in_place(m):
    rel = duckdb.sql("select i::DOUBLE as x, i as k from range(100) t(i)")
    assert m.sum_column(rel, "x") == 4950.0
    assert m.describe(rel)[:3] == (100, 2, 1)


def test_table_view_of_pyarrow_tables_and_batches(m):
    t = pa.table({"a": np.arange(5, dtype=np.float64), "b": np.arange(5, dtype=np.int32)})
    assert m.sum_column(t, "a") == 10.0
    assert m.column_address(t, 1, "int32") == t.column("b").chunk(0).buffers()[1].address
    assert m.sum_column(t.to_batches()[0], "a") == 10.0  # a struct __arrow_c_array__
    sliced = t.slice(2)  # offsets applied
    assert m.sum_column(sliced, "a") == 9.0
    assert m.column_address(sliced, 0, "float64") == t.column("a").chunk(0).buffers()[1].address + 16


def test_table_view_of_a_mojo_table_and_a_producer_releases_once(m):
    p = m.Prices(10)
    assert m.sum_column(p, "price") == 22.5
    assert unlocked(p, 1)
    assert m.keep_column(p, "price") == 22.5  # the view outlives its TableView
    assert unlocked(p, 2)
    from bufferable.testing import Producer
    q = Producer((4,), "d")
    assert m.sum_column(q, "value") == 0.0 and q.gets == q.releases == 1 and q.live_exports == 0


def test_table_view_refusals(m):
    with pytest.raises(BufferError, match="1 null"):
        m.sum_column(pa.table({"a": [1.0, None, 3.0]}), "a")
    assert m.valid_sum(pa.table({"a": [1.0, None, 3.0]}), "a") == (4.0, 1)
    dictionary = pa.table({"a": pa.array([1.5, 2.5, 1.5]).dictionary_encode()})
    with pytest.raises(BufferError, match="dictionary"):
        m.sum_column(dictionary, "a")
    with pytest.raises(BufferError, match="'string'|'u'"):
        m.sum_column(pa.table({"a": ["x"]}), "a")
    chunked = pa.concat_tables([pa.table({"a": [1.0]}), pa.table({"a": [2.0, 3.0]})])
    with pytest.raises(BufferError, match="2 chunks"):
        m.sum_column(chunked, "a")
    assert m.sum_column(chunked, "a", 0) == 1.0 and m.sum_column(chunked, "a", 1) == 5.0
    with pytest.raises(IndexError, match="chunk 2"):
        m.sum_column(chunked, "a", 2)
    with pytest.raises(ValueError, match="no column 'zz'"):
        m.sum_column(pa.table({"a": [1.0]}), "zz")
    with pytest.raises(ValueError, match="int64, not float64"):
        m.sum_column(pa.table({"a": [1]}), "a")
    with pytest.raises(TypeError, match="not an Arrow table"):
        m.sum_column(3, "a")


NULL_ROWS = (2, 9, 13)


def _with_nulls():
    """20 rows of float64 v = row, null at NULL_ROWS; w = row, without nulls."""
    return (pa.array([None if i in NULL_ROWS else float(i) for i in range(20)]),
            pa.array(np.arange(20, dtype=np.float64)))


def _expected(start, length):
    valid = [i not in NULL_ROWS for i in range(start, start + length)]
    return (valid.count(False), valid)


SLICES = [(3, 5), (10, 3), (1, 9), (5, 11), (11, 9)]  # without and with nulls, offsets % 8 != 0


@pytest.mark.parametrize("start,length", SLICES)
def test_table_view_of_a_sliced_struct_array_counts_the_slice_nulls(m, start, length):
    v, w = _with_nulls()
    s = pa.StructArray.from_arrays([v, w], names=["v", "w"]).slice(start, length)
    assert m.validity(s, "v") == _expected(start, length)
    assert m.validity(s, "w") == (0, [True] * length)
    expected = sum(i for i in range(start, start + length) if i not in NULL_ROWS)
    assert m.valid_sum(s, "v") == (expected, _expected(start, length)[0])
    if _expected(start, length)[0] == 0:
        assert m.sum_column(s, "v") == expected  # no null in the slice: viewable
    else:
        with pytest.raises(BufferError, match=f"has {_expected(start, length)[0]} null"):
            m.sum_column(s, "v")


@pytest.mark.parametrize("start,length", SLICES)
def test_table_view_of_sliced_tables_and_batches(m, start, length):
    v, w = _with_nulls()
    t = pa.table({"v": v, "w": w})
    assert m.validity(t.slice(start, length), "v") == _expected(start, length)  # a stream
    batch = t.to_batches()[0].slice(start, length)
    assert m.validity(batch, "v") == _expected(start, length)  # a struct __arrow_c_array__
    chunked = pa.concat_tables([t.slice(0, start), t.slice(start, length)])
    assert m.validity(chunked, "v", 1) == _expected(start, length)
    assert m.validity(chunked, "v", 0) == _expected(0, start)


def test_table_view_type_mismatch_names_the_column(m):
    with pytest.raises(ValueError) as error:
        m.sum_column(pa.table({"venue": pa.array([1, 2], pa.int32())}), "venue")
    assert type(error.value) is ValueError
    assert str(error.value) == "TableView: column 'venue' is int32, not float64"
    with pytest.raises(ValueError) as error:
        m.sum_column(pa.table({"it's": pa.array([1], pa.int8())}), "it's")
    assert str(error.value) == """TableView: column "it's" is int8, not float64"""


@pytest.mark.parametrize("name", ["a\x00b", "\x00", "tab\there", "new\nline", "back\\slash"])
def test_column_names_in_messages_show_whole(m, name):
    with pytest.raises(ValueError) as error:
        m.sum_column(pa.table({"x": [1.0]}), name)
    assert type(error.value) is ValueError
    assert str(error.value) == f"TableView: no column {name!r} (columns: 'x')"
    t = pa.table({name: pa.array([1], pa.int32())})
    shown = name.split("\x00")[0]  # Arrow's C interface ends a name at its NUL
    with pytest.raises(ValueError) as error:
        m.sum_column(t, shown)
    assert str(error.value) == f"TableView: column {shown!r} is int32, not float64"


class _ArrowAnswer:
    """A table-like object whose __arrow_c_array__ answers `answer` (a broken producer)."""

    def __init__(self, answer):
        self.answer = answer

    def __arrow_c_array__(self, requested_schema=None):
        return self.answer


def test_table_view_of_a_malformed_arrow_answer_is_a_type_error(m):
    schema, array = pa.record_batch({"a": [1.0]}).__arrow_c_array__()
    for answer in [None, (schema,), (array, schema), (schema, array, schema)]:
        with pytest.raises(TypeError, match=r"__arrow_c_array__\(\) must return a tuple"):
            m.sum_column(_ArrowAnswer(answer), "a")
