"""Stateful test of a Mojo exporter: the state machine of tests/_stateful.py (the one that drives
bufferable.testing.Producer in tests/test_stateful.py) over bftest.Vector, a resizable Mojo List of
Int32 whose ExportCounter Python reads through stats() and whose resize() must raise BufferError
while any export is live (keeping its data). After every step: what each consumer reads equals the
model, and what Vector.get reads from the Mojo side too; the counter's live/acquired/released are
exact. Derandomized; the steps are counted and must reach 10,000 per run."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _stateful import MIN_STEPS, ExportMachine, Subject, run_counted  # noqa: E402

EXAMPLES = 260  # ~11,300 steps with hypothesis 6.170


class MojoSubject(Subject):
    """What the Mojo exporters here share: an ExportCounter read through stats(), and resize(n)
    refused with BufferError while exported, ValueError for n < 0."""

    def counters(self, obj):
        live, acquired, released = obj.stats()
        return acquired, released, live

    def resize_args(self, n):
        return st.integers(-1, 12)

    def expected_resize_error(self, n, live, layout):
        if live:
            return BufferError
        return ValueError if n < 0 else None


class VectorSubject(MojoSubject):
    """bftest.Vector(n): Int32 values 0..n-1; resize(n) keeps a prefix and fills with -1."""

    layouts = [0, 1, 5, 12]  # initial lengths

    def __init__(self, vector_type, device_type):
        self.Vector = vector_type
        self.OnDevice = device_type

    def make(self, n):
        v = self.Vector(n)
        return v, None, np.arange(n, dtype=np.int32)

    def is_subject(self, obj):
        return type(obj) is self.Vector

    def resize(self, v, n, model_bytes, model):
        v.resize(n)
        kept = model[:n]
        return None, np.concatenate([kept, np.full(n - len(kept), -1, np.int32)])

    def reinit_args(self, n):
        return st.integers(0, 12)

    def reinit(self, v, n):
        v.__init__(n)  # a new Vector(n) in place of the old value
        return None, np.arange(n, dtype=np.int32)

    def on_device(self, layout, device):
        def counters(d):
            live, acquired, released = d.stats()
            return acquired, released, live

        return self.OnDevice(*device), counters

    def check_own(self, v, model_bytes, model):
        assert [v.get(i) for i in range(len(model))] == model.tolist()
        try:
            v.get(len(model))
        except IndexError:
            pass
        else:
            raise AssertionError("Vector.get past the end did not raise IndexError")


def check_reinit_and_device(outcomes):
    """__init__ again was both refused (while exported) and done (unexported), and exporters on a
    device were tried, each often."""
    refused = outcomes["reinit refused (BufferError)"]
    assert refused > MIN_STEPS // 100 and outcomes["reinit"] - refused > MIN_STEPS // 100
    assert outcomes["device_export refused"] > MIN_STEPS // 100


def test_mojo_vector_state_machine(bftest):
    class VectorMachine(ExportMachine):
        subject = VectorSubject(bftest.Vector, bftest.OnDevice)

    run_counted(VectorMachine, EXAMPLES)
    print(f"\nMojo Vector state machine: {VectorMachine.summary()}")
    assert VectorMachine.steps >= MIN_STEPS, VectorMachine.steps
    assert VectorMachine.outcomes["resize refused (BufferError)"] > MIN_STEPS // 100
    assert VectorMachine.outcomes["write via numpy"] > MIN_STEPS // 100
    check_reinit_and_device(VectorMachine.outcomes)


def test_eight_threads_share_a_mojo_vector(bftest):
    """tests/test_threads.py's workers on Mojo Vectors: exports, releases (incl. from native
    threads), writes read back through fresh exports, resizes refused while exported; exact
    ExportCounter figures at the end."""
    import random

    from test_threads import SECONDS, THREADS, hammer

    Vector = bftest.Vector
    objects = [Vector(16), Vector(64)]
    lengths = {id(v): len(np.asarray(v)) for v in objects}

    def counters(v):
        live, acquired, released = v.stats()
        assert acquired - released == live
        return acquired, released, 0

    def resize(v):  # grows or shrinks the tail; indices < 16 (the workers' own) are kept
        v.resize(lengths[id(v)] + random.randrange(0, 9))

    ops, grown, refused = hammer(objects, counters, resize, lambda: Vector(16), seed=1)
    print(f"\n{THREADS} threads, {SECONDS} s: {ops} exports over {len(objects)} Mojo Vectors, "
          f"{grown} resizes, {refused} refused while exported")
    for v in objects:
        live, acquired, released = v.stats()
        assert live == 0 and acquired == released > 0


class RecordsSubject(MojoSubject):
    """bfrecords.Particles(n): a Mojo Records[Particle] (32-byte records: pos (4)f, mass d, id i,
    alive ?, 3 padding bytes) exported as a numpy structured array; resize(n) keeps a prefix and
    adds zeroed records, and must raise BufferError while any export is live. DLPack and Arrow
    must refuse every record export."""

    layouts = [0, 1, 5, 12]  # initial lengths
    records = True

    def __init__(self, module):
        self.module = module
        self.dtype = np.asarray(module.Particles(0)).dtype

    def make(self, n):
        r = self.module.Particles(n)
        model = np.zeros(n, self.dtype)
        model["mass"] = np.arange(n) * 0.5
        model["id"] = np.arange(n)
        model["pos"][:, 1] = np.arange(n)
        view = np.asarray(r)
        view[...] = model
        del view
        return r, None, model

    def is_subject(self, obj):
        return type(obj) is self.module.Particles

    def resize(self, r, n, model_bytes, model):
        r.resize(n)
        resized = np.zeros(n, self.dtype)  # (np.concatenate would drop the padding)
        resized[:min(n, len(model))] = model[:n]
        return None, resized

    def reinit_args(self, n):
        return st.integers(0, 12)

    def reinit(self, r, n):
        r.__init__(n)  # n default (zeroed) records in place of the old value
        return None, np.zeros(n, self.dtype)

    def on_device(self, layout, device):
        from bufferable.testing import Producer  # records of this format, said to be on a device

        p = Producer((layout,), memoryview(self.module.Particles(0)).format, device=device)
        return p, lambda q: (q.gets, q.releases, q.live_exports)

    def check_own(self, r, model_bytes, model):
        for i, record in enumerate(model):
            assert self.module.particle_get(r, i) == (tuple(float(x) for x in record["pos"]),
                                                      float(record["mass"]), int(record["id"]),
                                                      bool(record["alive"]))
        try:
            self.module.particle_get(r, len(model))
        except IndexError:
            pass
        else:
            raise AssertionError("Records index past the end did not raise IndexError")


def test_mojo_records_state_machine(mojo_module):
    module = mojo_module(Path(__file__).resolve().parent / "modules" / "bfrecords.mojo")

    class RecordsMachine(ExportMachine):
        subject = RecordsSubject(module)

    run_counted(RecordsMachine, EXAMPLES)
    print(f"\nMojo Records state machine: {RecordsMachine.summary()}")
    assert RecordsMachine.steps >= MIN_STEPS, RecordsMachine.steps
    assert RecordsMachine.outcomes["resize refused (BufferError)"] > MIN_STEPS // 100
    assert RecordsMachine.outcomes["export dlpack refused"] > MIN_STEPS // 100
    assert RecordsMachine.outcomes["write via numpy"] > MIN_STEPS // 100
    check_reinit_and_device(RecordsMachine.outcomes)
