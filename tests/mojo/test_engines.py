"""Mojo objects beyond one process, with the real engines: multiprocessing pools and shared memory,
Ray (one node, then two nodes on this machine) and Dask (`LocalCluster(processes=True)`).

Each scenario runs as a user runs it: a driver script started with this venv's python by its path
and the venv off PATH (conftest.ide_environment), importing the README's modules (grid, matrix,
particles, trades) as the README builds them. A driver prints one JSON line of what it saw; the
tests assert on it. Every cluster is started and shut down by the driver that uses it, within the
driver's time limit, and listens on loopback only (tests/conftest.py; the two-node cluster
on 127.0.0.2). Where memory is checked, an address is looked up in /proc/self/maps: Ray's
object store is a shared mapping of /dev/shm/plasma*."""

from __future__ import annotations

import json
import shutil
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import run_like_an_ide

pytest.importorskip("ray", reason="the test extra installs ray")
pytest.importorskip("distributed", reason="the test extra installs dask[distributed]")

COMMON = '''
import json, sys
import numpy as np

def mapping(address):
    """The file behind the mapping holding `address` ('' for anonymous memory)."""
    with open("/proc/self/maps") as maps:
        for line in maps:
            span, *rest = line.split()
            low, high = (int(x, 16) for x in span.split("-"))
            if low <= address < high:
                return rest[4] if len(rest) > 4 else ""
    return None

def in_object_store(array):
    return "/dev/shm/plasma" in (mapping(array.ctypes.data) or "")

def report(**seen):
    print(json.dumps(seen))
'''


def run_driver(tmp_path: Path, name: str, code: str, *args: str, timeout: float = 300) -> dict:
    """Run a driver script (COMMON + `code`) like an IDE would; its last stdout line is JSON."""
    script = tmp_path / f"{name}.py"
    script.write_text(COMMON + textwrap.dedent(code))
    process = run_like_an_ide(script, *args, cwd=tmp_path, timeout=timeout)
    assert process.returncode == 0, (process.stdout[-3000:], process.stderr[-6000:])
    return json.loads(process.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def modules(readme_modules, tmp_path_factory) -> tuple[Path, Path]:
    """(folder with grid, matrix, particles; folder with trades only), so that a test can show a
    module reaching workers through one route and not the other."""
    main = tmp_path_factory.mktemp("modules")
    extra = tmp_path_factory.mktemp("extra-modules")
    for path in readme_modules.glob("*.so"):
        shutil.copy(path, (extra if path.name.startswith("trades.") else main) / path.name)
    return main, extra


# ---------------------------------------------------------------------------------------------
# multiprocessing


MULTIPROCESSING = '''
import multiprocessing
from multiprocessing import shared_memory
main, extra = sys.argv[1:3]
sys.path[:0] = [main, extra]
import grid, matrix, particles, trades

def total(x):
    import grid
    return grid.total(x)

def make_matrix(n):
    import matrix
    m = matrix.Matrix(n, n)
    np.asarray(m)[:] = n
    return m

def make_records(n):
    import particles
    return particles.make(n).base.obj   # the Mojo Records behind the array

def make_table(n):
    import trades
    return trades.Trades(n)

def total_of_shared(name, shape):
    shm = shared_memory.SharedMemory(name=name)
    try:
        view = np.ndarray(shape, np.float64, buffer=shm.buf)
        result = grid.total(view)  # Mojo reads the shared memory itself
        view[0, 0] = -1.0          # and a write lands in it
        del view
        return result
    finally:
        shm.close()

if __name__ == "__main__":
    seen = {}
    for kind in ("spawn", "forkserver"):
        context = multiprocessing.get_context(kind)
        grids = []
        for n in (1, 2, 3):
            g = grid.Grid(n, n)
            np.asarray(g)[:] = 1.0
            grids.append(g)
        with context.Pool(2) as pool:
            totals = pool.map(total, grids)                       # Grids sent to workers
            matrices = pool.map(make_matrix, [2, 3])              # Matrices sent back
            records = pool.apply(make_records, (4,))              # a structured array back
            table = pool.apply(make_table, (5,))                  # a pyarrow.Table back
        shm = shared_memory.SharedMemory(create=True, size=6 * 8)
        try:
            view = np.ndarray((2, 3), np.float64, buffer=shm.buf)
            view[:] = 2.0
            with context.Pool(1) as pool:
                shared_total = pool.apply(total_of_shared, (shm.name, (2, 3)))
            first = float(view[0, 0])
            del view
        finally:
            shm.close()
            shm.unlink()
        seen[kind] = dict(
            totals=totals,
            matrices=[(type(m).__name__, float(np.asarray(m).sum())) for m in matrices],
            records=[str(records.dtype.names), records["mass"].tolist()],
            table=[type(table).__name__, table.num_rows, table.column_names],
            shared_total=shared_total, shared_first=first)
    report(**seen)
'''


def test_process_pools_carry_mojo_objects_and_read_shared_memory_in_place(tmp_path, modules):
    seen = run_driver(tmp_path, "pools", MULTIPROCESSING, *map(str, modules))
    for kind in ("spawn", "forkserver"):
        assert seen[kind] == dict(
            totals=[1.0, 4.0, 9.0],
            matrices=[["Matrix", 8.0], ["Matrix", 27.0]],
            records=["('pos', 'mass', 'id', 'alive')", [10.0, 0.5, 1.0, 1.5]],
            table=["Table", 5, ["id", "price", "qty"]],
            shared_total=12.0, shared_first=-1.0), kind


# ---------------------------------------------------------------------------------------------
# Ray on one node


RAY = '''
import ray
import pyarrow as pa
main, extra = sys.argv[1:3]
sys.path[:0] = [main, extra]
import grid, matrix, particles, trades

# Two routes to the workers: a shared folder on PYTHONPATH, and a working_dir uploaded to them.
ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR",
         runtime_env={"env_vars": {"PYTHONPATH": main}, "working_dir": extra})
try:
    seen = {}
    g = grid.Grid(512, 256)
    np.asarray(g)[:] = np.arange(512 * 256).reshape(512, 256)
    ref = ray.put(g)
    a = ray.get(ref)
    seen["grid"] = [type(a).__name__, bool(a.flags.writeable), in_object_store(a),
                    a.ctypes.data % 64, bool((a == np.asarray(g)).all())]

    records = particles.make(6).base.obj          # the Mojo Records behind the array
    r = ray.get(ray.put(records))
    seen["records"] = [str(r.dtype.names), in_object_store(r), r["id"].tolist()]

    table = ray.get(ray.put(trades.Trades(1000)))
    price = table.column("price").chunks[0]
    seen["table"] = [type(table).__name__, table.num_rows, float(price.to_numpy().sum()),
                     in_object_store(np.frombuffer(price.buffers()[1], np.uint8))]

    @ray.remote
    def total_in_place(x):
        import grid  # from the job's PYTHONPATH
        return grid.total(x), in_object_store(x), bool(x.flags.writeable)

    seen["task"] = ray.get(total_in_place.remote(ref))

    @ray.remote
    def make_matrix(n):
        import matrix
        m = matrix.Matrix(n, n)
        np.asarray(m)[:] = 2.0
        return m

    m = ray.get(make_matrix.remote(3))
    seen["returned"] = [type(m).__name__, float(np.asarray(m).sum())]

    @ray.remote
    def from_the_working_dir(n):
        import trades  # not on PYTHONPATH: from the working_dir's copy on the node
        return trades.Trades(n), trades.__file__.startswith(extra)

    table, from_the_original = ray.get(from_the_working_dir.remote(7))
    seen["working_dir"] = [table.num_rows, from_the_original]
finally:
    ray.shutdown()
report(**seen)
'''


@pytest.fixture(scope="module")
def ray_seen(tmp_path_factory, modules) -> dict:
    return run_driver(tmp_path_factory.mktemp("ray"), "ray_driver", RAY, *map(str, modules))


def test_ray_get_is_a_read_only_view_of_the_object_store(ray_seen):
    assert ray_seen["grid"] == ["ndarray", False, True, 0, True]


def test_ray_carries_records_and_tables_in_the_object_store(ray_seen):
    assert ray_seen["records"] == ["('pos', 'mass', 'id', 'alive')", True, [0, 1, 2, 3, 4, 5]]
    assert ray_seen["table"] == ["Table", 1000, 1.5 * 999 * 1000 / 2, True]


def test_a_ray_task_sums_the_store_in_place_in_mojo_and_returns_a_mojo_object(ray_seen):
    assert ray_seen["task"] == [float(sum(range(512 * 256))), True, False]
    assert ray_seen["returned"] == ["Matrix", 18.0]


def test_ray_workers_import_mojo_modules_from_the_working_dir(ray_seen):
    assert ray_seen["working_dir"] == [7, False]


# ---------------------------------------------------------------------------------------------
# Ray on two nodes of this machine


RAY_TWO_NODES = '''
import os, socket, subprocess
# Two nodes need Ray's multi-node mode, which maps 127.0.0.1 to the machine's network address;
# 127.0.0.2 is loopback too and is taken as it is.
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "1"
HOST = "127.0.0.2"
import ray
main = sys.argv[1]
sys.path.insert(0, main)
import grid, matrix

ray_cli = os.path.join(os.path.dirname(sys.executable), "ray")
os.environ["RAY_AUTH_MODE"] = "disabled"  # a cluster on loopback, for this test only
with socket.socket() as s:
    s.bind((HOST, 0))
    port = s.getsockname()[1]
address = f"{HOST}:{port}"
common = ["--num-cpus=1", "--object-store-memory=100000000", "--disable-usage-stats"]
try:
    for start in (["--head", f"--port={port}", "--include-dashboard=false",
                   '--resources={"head": 1}'],
                  [f"--address={address}", '--resources={"second": 1}']):
        started = subprocess.run([ray_cli, "start", f"--node-ip-address={HOST}", *start,
                                  *common], capture_output=True, text=True, timeout=120)
        assert started.returncode == 0, started.stdout + started.stderr
    ray.init(address=address, logging_level="ERROR", _node_ip_address=HOST,
             runtime_env={"env_vars": {"PYTHONPATH": main}})
    g = grid.Grid(1024, 512)                      # 4 MiB, put on the head node
    np.asarray(g)[:] = 1.0
    ref = ray.put(g)

    @ray.remote(resources={"second": 1})
    def on_the_second_node(x):
        import grid, matrix
        m = matrix.Matrix(2, 2)
        np.asarray(m)[:] = grid.total(x)          # Mojo reads the transferred object in place
        return ray.get_runtime_context().get_node_id(), in_object_store(x), m

    node, in_store, m = ray.get(on_the_second_node.remote(ref))
    here = ray.get_runtime_context().get_node_id()
    alive = [n for n in ray.nodes() if n["Alive"]]
    nodes = sorted(n["Resources"].get("second", 0) for n in alive)
    report(nodes=nodes, addresses=sorted({n["NodeManagerAddress"] for n in alive}), crossed=node != here, in_store=in_store, returned=type(m).__name__,
           value=float(np.asarray(m)[0, 0]))
finally:
    ray.shutdown()
    subprocess.run([ray_cli, "stop", "--force"], capture_output=True, timeout=120)
'''


def test_a_mojo_object_crosses_two_ray_nodes(tmp_path, modules):
    seen = run_driver(tmp_path, "ray_two_nodes", RAY_TWO_NODES, str(modules[0]), timeout=400)
    assert seen == dict(nodes=[0, 1], addresses=["127.0.0.2"], crossed=True, in_store=True,
                        returned="Matrix", value=1024.0 * 512)


# ---------------------------------------------------------------------------------------------
# Dask


DASK = '''
main, extra = sys.argv[1:3]
sys.path.insert(0, main)  # before the cluster: its workers inherit sys.path
import grid, matrix, particles
from dask.distributed import Client, LocalCluster
import dask.array as da

def total(x):
    import grid
    return grid.total(x), x.ctypes.data % 8

def make_matrix(n):
    import matrix
    m = matrix.Matrix(n, n)
    np.asarray(m)[:] = 3.0
    return m

def heaviest(records):
    import particles
    return particles.heaviest(records), records.ctypes.data % 8

def block_totals(block):
    import grid
    return np.full((1, 1), grid.total(block))

def table_rows(n):
    import trades  # sent by upload_file
    return trades.Trades(n)

if __name__ == "__main__":
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        seen = {}
        g = grid.Grid(100, 100)
        np.asarray(g)[:] = 1.0
        remote = client.scatter(g)
        seen["scatter"] = client.submit(total, remote).result()
        m = client.submit(make_matrix, 4).result()
        seen["gather"] = [type(m).__name__, float(np.asarray(m).sum())]
        records = particles.make(8).base.obj
        seen["records"] = client.submit(heaviest, client.scatter(records)).result()
        x = da.from_array(np.arange(64.0 * 64).reshape(64, 64), chunks=(16, 32))
        sums = x.map_blocks(block_totals, chunks=(1, 1)).compute()
        seen["map_blocks"] = [sums.shape, float(sums.sum())]
        client.upload_file(sys.argv[3])
        table = client.submit(table_rows, 9).result()
        seen["upload_file"] = [type(table).__name__, table.num_rows]
    report(**seen)
'''


@pytest.fixture(scope="module")
def dask_seen(tmp_path_factory, modules) -> dict:
    trades_module = next(modules[1].glob("trades.*"))
    return run_driver(tmp_path_factory.mktemp("dask"), "dask_driver", DASK, *map(str, modules),
                      str(trades_module))


def test_dask_scatter_and_mojo_reading_what_arrives(dask_seen):
    total, alignment = dask_seen["scatter"]
    assert total == 100.0 * 100  # whatever the address % 8 of what arrived
    assert 0 <= alignment < 8


def test_dask_gathers_mojo_objects_and_records(dask_seen):
    assert dask_seen["gather"] == ["Matrix", 48.0]
    assert dask_seen["records"][0] == 0  # the heaviest live particle of particles.make(8)


def test_dask_map_blocks_with_a_mojo_kernel(dask_seen):
    assert dask_seen["map_blocks"] == [[4, 2], float(sum(range(64 * 64)))]


def test_dask_upload_file_sends_a_mojo_module_to_running_workers(dask_seen):
    assert dask_seen["upload_file"] == ["Table", 9]
