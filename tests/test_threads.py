"""Threads: 8 threading.Thread workers export and release the same objects concurrently for a
bounded time (about 2 s), then every count must be exact.

Why this holds: every export and release runs inside a C slot (bf_getbuffer/bf_releasebuffer)
called with the GIL held, and the core never releases the GIL inside them, so two threads never
interleave inside one export or one release; the per-object counters (Producer.gets/releases,
a Mojo ExportCounter) are plain integers protected by the GIL. The one path that runs without the
GIL is acquisition_decref from a native thread (Acquisition.decref_in_thread): the reference count
is atomic and the last reference takes the GIL itself before releasing the export. The switch
interval is cut to 10 microseconds during the run so that Python threads interleave between
bytecodes as often as the interpreter allows. (A free-threaded CPython would need atomic counters
in the producers; this suite runs on the GIL build the project supports.)

Each worker also owns one element (its index) of the shared memory: it writes a new value through
one export and must read it back through a fresh export, also after another thread's successful
resize() moved the storage, so a resize that lost data or moved memory under a live view shows.
"""
from __future__ import annotations

import random
import sys
import threading
import time

import numpy as np
import pytest

from bufferable import BufferFlags
from bufferable.testing import Acquisition, Producer, export_totals, live_allocations

THREADS = 8
SECONDS = 2.0
OPS = ("memoryview", "numpy", "dlpack", "acquire", "acquire-thread", "hold", "drop", "write",
       "resize")


def calibrate(make, counters):
    """Gets and refusals one of each export op costs on a fresh object (single-threaded), so the
    totals after the concurrent run can be predicted exactly (numpy, e.g., may retry a request)."""
    cost = {}
    for op in ("memoryview", "numpy", "dlpack", "acquire"):
        obj = make()
        g0, r0, f0 = counters(obj)
        export(obj, op)
        g, r, f = counters(obj)
        assert g - g0 == r - r0  # released already
        cost[op] = (g - g0, f - f0)
    return cost


def export(obj, op):
    """Make one export of obj and return the consumer holding it."""
    if op == "memoryview":
        return memoryview(obj)
    if op == "numpy":
        return np.asarray(obj)
    if op == "dlpack":
        return np.from_dlpack(obj)
    return Acquisition(obj, BufferFlags.RECORDS_RO)


def read(holder):
    if isinstance(holder, Acquisition):
        return holder.desc["shape"]
    return np.asarray(holder).sum()


def hammer(objects, counters, resize, make, *, seconds=SECONDS, threads=THREADS, seed=0):
    """Run `threads` workers over `objects` for `seconds`; check and return the tallies.

    objects: shared exporters (1-D, writable, at least `threads` int32-compatible elements);
    counters(obj) -> (gets, releases, refusals or 0); resize(obj) resizes keeping the data (raises
    BufferError while exported); make() builds a fresh object like them, for calibration.
    """
    cost = calibrate(make, counters)
    start = {id(o): counters(o) for o in objects}
    ops = [{id(o): dict.fromkeys(OPS, 0) for o in objects} for _ in range(threads)]
    resized = [[0, 0] for _ in range(threads)]  # (successes, BufferError refusals)
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads)
    stop = time.monotonic() + seconds

    def worker(t):
        rng = random.Random(seed * 1000 + t)
        held = []
        mine = {}  # the value this thread last wrote at index t (at first: what is there)
        try:
            for o in objects:
                mine[id(o)] = int(np.asarray(o)[t])
                ops[t][id(o)]["numpy"] += 1
            barrier.wait()
            while time.monotonic() < stop:
                obj = objects[rng.randrange(len(objects))]
                op = rng.choice(OPS)
                tally = ops[t][id(obj)]
                if op in ("memoryview", "numpy", "dlpack", "acquire"):
                    h = export(obj, op)
                    read(h)
                    tally[op] += 1
                    if isinstance(h, Acquisition):
                        h.decref()
                    elif isinstance(h, memoryview) and rng.random() < 0.5:
                        h.release()
                    del h
                elif op == "acquire-thread":  # released by a native thread without the GIL
                    h = Acquisition(obj, BufferFlags.RECORDS_RO)
                    tally["acquire"] += 1
                    h.decref_in_thread()
                    assert h.held == 0
                elif op == "hold" and len(held) < 3:  # exports that overlap other threads' work
                    kind = rng.choice(("memoryview", "numpy", "acquire"))
                    held.append(export(obj, kind))
                    tally[kind] += 1
                elif op == "drop" and held:  # one held export, or (sometimes) all of them
                    gone = [held.pop(rng.randrange(len(held)))]
                    if rng.random() < 0.3:
                        gone += held
                        held.clear()
                    for h in gone:
                        if isinstance(h, Acquisition):
                            h.decref()
                    del gone, h
                elif op == "write":
                    a = np.asarray(obj)
                    tally["numpy"] += 1
                    assert a[t] == mine[id(obj)], (a[t], mine[id(obj)])  # survived resizes
                    mine[id(obj)] = (mine[id(obj)] + 1) % 1000
                    a[t] = mine[id(obj)]
                    del a
                    m = memoryview(obj)
                    tally["memoryview"] += 1
                    assert m[t] == mine[id(obj)]
                    m.release()
                elif op == "resize":
                    try:
                        resize(obj)
                    except BufferError:
                        resized[t][1] += 1
                    else:
                        resized[t][0] += 1
            for h in held:
                if isinstance(h, Acquisition):
                    h.decref()
            held.clear()
        except BaseException as e:  # reported by the main thread
            errors.append(e)
            barrier.abort()

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        pool = [threading.Thread(target=worker, args=(t,), name=f"hammer-{t}") for t in range(threads)]
        for th in pool:
            th.start()
        for th in pool:
            th.join(seconds + 60)
        assert not any(th.is_alive() for th in pool), "a worker did not finish"
    finally:
        sys.setswitchinterval(interval)
    if errors:
        raise errors[0]

    total_ops = 0
    for o in objects:
        g0, r0, f0 = start[id(o)]
        g, r, f = counters(o)
        made = {op: sum(ops[t][id(o)][op] for t in range(threads)) for op in cost}
        total_ops += sum(made.values())
        want_gets = sum(n * cost[op][0] for op, n in made.items())
        want_refusals = sum(n * cost[op][1] for op, n in made.items())
        assert g - g0 == want_gets, (g - g0, want_gets, made)
        assert r - r0 == want_gets, (r - r0, want_gets)  # every export released exactly once
        assert f - f0 == want_refusals
    successes = sum(s for s, _ in resized)
    refusals = sum(f for _, f in resized)
    assert refusals > 0, "no resize ever met a live export: the threads did not overlap"
    return total_ops, successes, refusals


def producer_counters(p):
    return p.gets, p.releases, p.refusals


def test_eight_threads_share_producers():
    alloc0 = live_allocations()
    totals0 = export_totals()
    objects = [Producer(64, "i"), Producer(16, "q"), Producer(8, "i", strides=(-4,)),
               Producer(32, "h")]
    sizes = {id(p): p.nbytes for p in objects}

    def resize(p):
        p.resize(sizes[id(p)] + random.randrange(0, 64))  # the layout's bytes are kept

    def make():
        return Producer(64, "i")

    ops, grown, refused = hammer(objects, producer_counters, resize, make)
    print(f"\n{THREADS} threads, {SECONDS} s: {ops} exports over {len(objects)} Producers, "
          f"{grown} resizes, {refused} refused while exported")
    assert all(p.live_exports == 0 for p in objects)
    gets, releases = export_totals()
    assert gets - totals0[0] == releases - totals0[1]
    del objects
    assert live_allocations() == alloc0


def test_release_from_native_threads_while_others_export():
    """decref_in_thread from several Python threads at once: each native thread takes the GIL
    itself; the count is exact and the Producer is freed once the last acquisition is gone."""
    p = Producer(32, "d")
    acqs = [Acquisition(p, BufferFlags.RECORDS_RO) for _ in range(64)]
    for a in acqs:
        for _ in range(3):
            a.incref()
    assert p.live_exports == 64

    def work(chunk):
        for a in chunk:
            for _ in range(4):
                a.decref_in_thread()
            memoryview(p).release()

    pool = [threading.Thread(target=work, args=(acqs[i::THREADS],)) for i in range(THREADS)]
    for th in pool:
        th.start()
    for th in pool:
        th.join(60)
    assert p.live_exports == 0 and p.gets == p.releases == 64 + 64
    with pytest.raises(ValueError, match="no reference"):
        acqs[0].decref()
