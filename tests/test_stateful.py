"""Stateful test of the core's exporter: a hypothesis state machine (tests/_stateful.py) exports,
slices, writes, releases, resizes and deletes a bufferable.testing.Producer, checking after every
step the contents every consumer reads, the live-export count, gets/releases/refusals exactly, and
that resize is refused (data kept) while any export is live. Derandomized, so a run is
reproducible; the steps are counted and must reach 10,000 per run."""
from __future__ import annotations

import ctypes
import gc
import os
import subprocess
import sys
import traceback
from pathlib import Path

import numpy as np
from hypothesis import Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import run_state_machine_as_test

from bufferable.testing import Acquisition, Producer, live_allocations

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _stateful import MIN_STEPS, ExportMachine, Subject, machine_settings, run_counted  # noqa: E402

EXAMPLES = 260  # ~12,900 steps with hypothesis 6.170


# shape, format, strides (None: C-contiguous, stated as NULL), offset (None: smallest), readonly
LAYOUTS = [
    dict(shape=(12,), format="i", strides=None, offset=None, readonly=False),
    dict(shape=(3, 4), format="d", strides=(-8, 24), offset=128, readonly=False),  # the bug report's
    dict(shape=(4, 3), format="h", strides=(0, 2), offset=None, readonly=False),  # broadcast rows
    dict(shape=(5,), format="q", strides=None, offset=None, readonly=True),
    dict(shape=(2, 3, 2), format="B", strides=(1, 2, 6), offset=None, readonly=False),  # Fortran
    dict(shape=(3, 2), format="f", strides=(-8, -4), offset=None, readonly=False),  # a[::-1, ::-1]
    dict(shape=(0, 3), format="f", strides=None, offset=None, readonly=False),
    dict(shape=(), format="d", strides=None, offset=None, readonly=False),
]


def storage(p: Producer) -> bytes:
    """The Producer's whole allocation, read directly (not through an export)."""
    return ctypes.string_at(p.address - p.offset, p.nbytes)


class ProducerSubject(Subject):
    """bufferable.testing.Producer with the LAYOUTS above."""

    layouts = LAYOUTS

    def readonly(self, layout):
        return layout["readonly"]

    def make(self, layout):
        self.allocations0 = live_allocations()
        p = Producer(layout["shape"], layout["format"], strides=layout["strides"],
                     offset=layout["offset"], readonly=layout["readonly"])
        self.required = p.nbytes
        model_bytes = bytearray(p.nbytes)
        model = self._model(layout, p.offset, model_bytes)
        model[...] = np.arange(model.size, dtype=model.dtype).reshape(model.shape) % 100 + 1
        ctypes.memmove(p.address - p.offset, bytes(model_bytes), p.nbytes)  # known contents
        return p, model_bytes, model

    @staticmethod
    def _model(layout, offset, model_bytes):
        dtype = np.dtype(layout["format"])
        return np.ndarray(layout["shape"], dtype, buffer=model_bytes, offset=offset,
                          strides=layout["strides"])

    def is_subject(self, obj):
        return isinstance(obj, Producer)

    def counters(self, p):
        return p.gets, p.releases, p.live_exports

    def refusals(self, p):
        return p.refusals

    def resize_args(self, layout):
        return st.integers(-8, 64)  # bytes beyond what the layout needs (< 0: too small)

    def expected_resize_error(self, extra, live, layout):
        if live:
            return BufferError
        return ValueError if extra < 0 else None

    def resize(self, p, extra, model_bytes, model):
        old_address, old_offset = p.address, p.offset
        p.resize(self.required + extra)
        assert p.address != old_address and p.offset == old_offset  # the storage moved
        n = self.required + extra
        fresh = bytearray(n)
        fresh[: min(n, len(model_bytes))] = model_bytes[:n]
        layout = dict(shape=model.shape, format=model.dtype.str, strides=model.strides)
        return fresh, self._model(layout, p.offset, fresh)

    def check_own(self, p, model_bytes, model):
        assert p.nbytes == len(model_bytes)
        assert storage(p) == bytes(model_bytes), "the Producer's storage differs from the model"

    def reference(self, p):
        import weakref

        return weakref.ref(p)

    def expected_reinit_error(self, arg, live):
        return TypeError  # nanobind refuses __init__ on an initialized instance, exported or not

    def reinit(self, p, layout):
        import warnings

        with warnings.catch_warnings():  # nanobind also warns about the attempt
            warnings.simplefilter("ignore", RuntimeWarning)
            p.__init__(layout["shape"], layout["format"])

    def on_device(self, layout, device):
        p = Producer(layout["shape"], layout["format"], strides=layout["strides"],
                     offset=layout["offset"], readonly=layout["readonly"], device=device)
        return p, self.counters

    def check_gone(self, weak):
        assert weak() is None, "the Producer outlived every reference to it"
        assert live_allocations() == self.allocations0, "the Producer's memory was not freed"


class ProducerMachine(ExportMachine):
    subject = ProducerSubject()


def test_producer_state_machine():
    run_counted(ProducerMachine, EXAMPLES)
    print(f"\nProducer state machine: {ProducerMachine.summary()}")
    assert ProducerMachine.steps >= MIN_STEPS, ProducerMachine.steps
    assert ProducerMachine.outcomes["reinit refused (TypeError)"] > MIN_STEPS // 100
    assert ProducerMachine.outcomes["device_export refused"] > MIN_STEPS // 100


def release_kept_failures() -> None:
    """Hypothesis keeps the exceptions of failing examples (and so the machine's frames, and the
    Producers in their locals, until exit, where nanobind reports them as leaked): clear the
    locals of every kept traceback that runs through the state machine's code."""
    for obj in gc.get_objects():
        if isinstance(obj, BaseException) and obj.__traceback__ is not None:
            tb = obj.__traceback__
            while tb is not None and not tb.tb_frame.f_code.co_filename.endswith("stateful.py"):
                tb = tb.tb_next
            if tb is not None:
                traceback.clear_frames(obj.__traceback__)


def failure_of(machine) -> str:
    """Run a deliberately broken machine briefly (no shrinking) and return the text of its
    failure (every exception in the chain: a failed step is followed by a failing teardown)."""
    quick = settings(machine_settings(1), max_examples=30, stateful_step_count=20,
                     print_blob=False, report_multiple_bugs=False, phases=[Phase.generate])
    instances = []

    class Tracked(machine):
        def __init__(self):
            super().__init__()
            instances.append(self)

    Tracked.reset_counts()
    try:
        run_state_machine_as_test(Tracked, settings=quick)
    except AssertionError as e:
        texts, err = [], e
        while err is not None:
            texts.append(str(err))
            traceback.clear_frames(err.__traceback__)  # hypothesis keeps the failure: free locals
            err = err.__context__
        return "\n".join(texts)
    finally:
        for m in instances:  # hypothesis may keep the failing machine: drop its consumers
            m.holders.clear()
            m.obj = None
        release_kept_failures()
    raise AssertionError(f"{machine.__name__}: the invariants missed a deliberate bug")


def check_machine_catches_a_wrong_model():
    """The machine is not vacuous: when the model disagrees with the memory (one element off),
    the contents invariant fails."""

    class Broken(ProducerSubject):
        def make(self, layout):
            p, model_bytes, model = super().make(layout)
            if model.size:
                model.flat[0] += 1
            return p, model_bytes, model

    class BrokenMachine(ExportMachine):
        subject = Broken()

    assert "the model" in failure_of(BrokenMachine)


def check_machine_catches_a_leaked_export():
    """...and when a consumer leaves the model but stays alive (a leaked export), the
    live-export invariant fails."""
    hidden = []

    class Leaky(ExportMachine):
        subject = ProducerSubject()

        def _forget(self, holder):
            hidden.append(holder.obj)  # the export stays alive behind the model's back
            super()._forget(holder)

    try:
        assert "live exports" in failure_of(Leaky)
    finally:
        while hidden:  # (no loop variable left holding the last one)
            if isinstance(hidden[-1], Acquisition) and hidden[-1].held:
                hidden[-1].decref()
            hidden.pop()


def test_machine_catches_deliberate_bugs():
    """The two broken machines above must fail. They run in a child interpreter: hypothesis keeps
    the failures it saw (and the Producers their frames reference) until the process exits."""
    code = ("import test_stateful as t; t.check_machine_catches_a_wrong_model(); "
            "t.check_machine_catches_a_leaked_export(); print('caught both')")
    run = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parent,
                         capture_output=True, text=True, timeout=600, env=dict(os.environ))
    assert run.returncode == 0 and "caught both" in run.stdout, run.stdout + run.stderr
