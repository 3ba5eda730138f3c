"""Arrow streams and N-D tensors of core exports, read by real pyarrow, Polars and DuckDB: the
same memory (addresses checked), exact get/release counts, streams dropped half-read."""
import gc
import time

import numpy as np
import pytest

from bufferable.testing import Producer

pa = pytest.importorskip("pyarrow")
pl = pytest.importorskip("polars")
duckdb = pytest.importorskip("duckdb")


#: DuckDB before 2.0 (1.5 is the last for Python 3.10) takes any object with `__arrow_c_schema__`
#: for a schema, an empty table, and releases a pyarrow table it scanned with a filter from a
#: thread of its own, a moment after the query returned.
DUCKDB_1 = int(duckdb.__version__.split(".")[0]) < 2


def duckdb_source(obj):
    """What DuckDB's SQL reads `obj` through: `obj` itself; with DuckDB 1 (the refusal pinned
    here), a pyarrow table viewing it."""
    if not DUCKDB_1:
        return obj
    with pytest.raises(duckdb.InvalidInputException, match="at least one column"):
        duckdb.arrow(obj)
    return pa.table(obj)


class Counted(Producer):
    """A Producer that counts the exports its test makes through numpy to write it."""

    numpy_writes = 0

    def write(self, index, value):
        self.numpy_writes += 1
        np.asarray(self)[index] = value


def filled(shape, fmt="d"):
    p = Counted(shape, fmt)
    p.write(..., np.arange(int(np.prod(shape))).reshape(shape))
    return p


def balanced(p, gets):
    """No export of p is live and `gets` were made besides the writes through numpy."""
    gc.collect()
    return p.live_exports == 0 and p.gets == p.releases == gets + p.numpy_writes


def test_stream_is_one_batch_with_one_column():
    p = filled((5,))
    reader = pa.RecordBatchReader.from_stream(p)
    assert reader.schema == pa.schema([pa.field("value", pa.float64(), nullable=False)])
    batch = reader.read_next_batch()
    assert batch.num_rows == 5 and batch.column(0).buffers()[1].address == p.address
    with pytest.raises(StopIteration):
        reader.read_next_batch()
    del reader
    assert p.live_exports == 1  # the batch still points into the Producer
    del batch
    assert balanced(p, gets=1)


def test_pa_table_is_zero_copy():
    p = filled((1000,), "i")
    t = pa.table(p)
    assert t.column_names == ["value"] and t.num_rows == 1000
    assert t.column(0).chunk(0).buffers()[1].address == p.address
    p.write(7, -1)
    assert t.column(0)[7].as_py() == -1  # the same memory
    del t
    assert balanced(p, gets=1)


def test_streams_dropped_unread_or_half_read_release_once():
    p = filled((4,))
    capsule = p.__arrow_c_stream__()  # never consumed
    assert p.live_exports == 1
    del capsule
    assert balanced(p, gets=1)
    reader = pa.RecordBatchReader.from_stream(p)  # consumed, no batch read
    del reader
    assert balanced(p, gets=2)
    reader = pa.RecordBatchReader.from_stream(p)
    batch = reader.read_next_batch()  # read, end of stream never asked for
    del reader
    assert p.live_exports == 1
    del batch
    assert balanced(p, gets=3)


def test_requested_schema_honoured_without_a_copy():
    p = filled((3,), "q")
    plain = pa.chunked_array(p, type=pa.int64())  # the column's own type: a plain stream
    assert plain.type == pa.int64() and plain.chunk(0).buffers()[1].address == p.address
    renamed = pa.RecordBatchReader.from_stream(
        p, schema=pa.schema([("price", pa.int64())])).read_all()
    assert renamed.column_names == ["price"]
    assert renamed.column(0).chunk(0).buffers()[1].address == p.address
    other = pa.RecordBatchReader._import_from_c_capsule(
        p.__arrow_c_stream__(pa.schema([("a", pa.int8()), ("b", pa.int8())]).__arrow_c_schema__()))
    assert other.schema.names == ["value"]  # cannot be honoured without a copy: ours
    del plain, renamed, other
    assert balanced(p, gets=3)


def test_bad_requested_schema_for_streams():
    p = filled((3,))
    with pytest.raises(TypeError, match="requested_schema"):
        p.__arrow_c_stream__(42)
    with pytest.raises(TypeError, match="one optional argument"):
        p.__arrow_c_stream__(None, None)
    assert balanced(p, gets=0)


def test_polars_series_is_zero_copy():
    p = filled((6,))
    s = pl.Series(p)
    assert s.to_list() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert s.to_numpy().ctypes.data == p.address
    p.write(0, 7)
    assert s[0] == 7.0
    del s
    assert balanced(p, gets=1)


def _duckdb(sql, p):
    """`sql` over `p` (named p in it) in a frame of its own: DuckDB finds `p` through the caller's
    frame locals, a snapshot that keeps every local of the frame alive (a pyarrow table viewing
    `p`, with DuckDB 1) until the frame dies."""
    p = duckdb_source(p)
    return duckdb.sql(sql).fetchall()


def test_duckdb_sql_over_a_producer():
    p = filled((100,))
    assert _duckdb("select sum(value), count(*) from p", p) == [(4950.0, 100)]
    p.write(slice(None), 1.0)
    assert _duckdb("select sum(value) from p where value > 0", p) == [(100.0,)]
    gc.collect()
    for _ in range(500 if DUCKDB_1 else 0):  # DuckDB 1's scan threads let go of the table
        if p.live_exports == 0:
            break
        time.sleep(0.01)
        gc.collect()
    assert p.live_exports == 0 and p.gets == p.releases > 0


@pytest.mark.parametrize("shape,fmt", [((4, 3), "f"), ((2, 3, 2), "i"), ((0, 5), "d"),
                                       ((3, 1), "q")])
def test_fixed_shape_tensor_round_trip(shape, fmt):
    p = filled(shape, fmt)
    arr = pa.array(p)
    assert isinstance(arr.type, pa.FixedShapeTensorType)
    assert arr.type.shape == list(shape[1:]) and len(arr) == shape[0]
    back = arr.to_numpy_ndarray()
    np.testing.assert_array_equal(back, np.asarray(p))
    if back.size:
        assert back.ctypes.data == p.address and arr.storage.values.buffers()[1].address == p.address
    schema = pa.DataType._import_from_c_capsule(p.__arrow_c_schema__())
    assert schema == arr.type
    table = pa.table(p)  # the stream carries the tensor column too
    assert table.column(0).type == arr.type
    del arr, back, table
    assert balanced(p, gets=4)  # array, comparison, schema, stream


def test_tensor_needs_c_order():
    p = Counted((3, 4), "d", strides=(8, 24))
    with pytest.raises(BufferError, match="C-contiguous"):
        pa.array(p)
    assert balanced(p, gets=1)
