"""A hypothesis state machine over one exporter (a bufferable.testing.Producer or a Mojo struct),
shared by tests/test_stateful.py and tests/mojo/test_mojo_stateful.py.

The machine keeps a *model* of the exporter's memory: a numpy array with the exporter's own shape,
strides and offset over a bytearray, so aliasing (zero strides) and reversed dimensions behave
exactly as in the real memory. Every consumer it creates is a Holder that pairs the consumer
object with the matching view of the model. Rules export (memoryview, np.asarray, np.from_dlpack,
pyarrow.array, bufferable.testing.Acquisition via the buffer protocol, DLPack or Arrow), derive
views (slices, transposes, views of views, acquisitions of a memoryview), write through a writable
consumer, release (drop a holder, memoryview.release(), Acquisition.decref/decref_in_thread),
resize the exporter (BufferError while any export is live, data kept; else it succeeds) and drop
the machine's reference to the exporter while consumers still read its memory.

After every step the invariants check: every holder reads what the model says; the exporter's
live-export count equals the number of distinct exports the live holders keep alive; gets and
releases match the successful exports and the exports that died, exactly; a refused request
counts as a refusal and changes nothing else. Two more rules: `reinit` calls `__init__` again on the
live exporter (refused while exported, the model replaced otherwise), and `device_export` makes an
exporter whose descriptor places its memory on a device and checks that every buffer consumer is
refused while DLPack carries the device. `Subject` adapts the machine to one exporter type.
"""
from __future__ import annotations

import abc
import collections
import ctypes
import itertools
import os
import sys

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (RuleBasedStateMachine, initialize, invariant, precondition, rule,
                                 run_state_machine_as_test)

from bufferable import BufferFlags
from bufferable.testing import Acquisition

try:
    import pyarrow as pa
except ImportError:  # pragma: no cover - pyarrow is a test dependency
    pa = None

# BUFFERABLE_STATEFUL_FRACTION scales the number of examples and the required step count (the
# valgrind script runs a tenth); the default 1 is what CI runs: at least 10,000 steps per machine.
FRACTION = float(os.environ.get("BUFFERABLE_STATEFUL_FRACTION", "1"))
MIN_STEPS = max(1, int(10_000 * FRACTION))


def machine_settings(max_examples: int, **changes) -> settings:
    """Derandomized settings for a full run: max_examples scaled by FRACTION, 60 steps at most per
    example, no example database, no deadline (valgrind and the debug allocator are slow)."""
    return settings(max_examples=max(1, round(max_examples * FRACTION)), stateful_step_count=60,
                    derandomize=True, database=None, deadline=None,
                    suppress_health_check=list(HealthCheck), print_blob=True, **changes)


def run_counted(machine, max_examples: int) -> int:
    """Run `machine` derandomized until one run reaches MIN_STEPS steps (doubling the examples if
    a hypothesis version draws shorter runs than the one these defaults were sized on); returns
    the steps of that run, which `machine.summary()` details."""
    for _ in range(4):
        machine.reset_counts()
        run_state_machine_as_test(machine, settings=machine_settings(max_examples))
        if machine.steps >= MIN_STEPS:
            break
        max_examples *= 2
    return machine.steps


MAX_HOLDERS = 10
VALUES = st.integers(0, 100)  # representable in every dtype the layouts use
INDEX = st.integers(0, 10**6)  # picks among the current holders / elements (modulo)
SLICE = st.tuples(st.none() | st.integers(-5, 5), st.none() | st.integers(-5, 5),
                  st.sampled_from([None, 1, 2, 3, -1, -2]))

# Requests for Acquisition(via="buffer"); the core adds FORMAT.
ACQUIRE_FLAGS = [
    BufferFlags.FULL_RO, BufferFlags.FULL, BufferFlags.RECORDS, BufferFlags.RECORDS_RO,
    BufferFlags.STRIDED_RO, BufferFlags.C_CONTIGUOUS, BufferFlags.F_CONTIGUOUS,
    BufferFlags.ANY_CONTIGUOUS, BufferFlags.ND, BufferFlags.SIMPLE, BufferFlags.WRITABLE,
    BufferFlags.C_CONTIGUOUS | BufferFlags.WRITABLE,
]


def expect_buffer_request(flags: int, readonly: bool, model: np.ndarray) -> bool:
    """Whether an export of memory laid out as `model` must honour `flags` (CPython's rules)."""
    def has(mask):
        return flags & mask == mask

    c_ok, f_ok = model.flags.c_contiguous, model.flags.f_contiguous
    if has(BufferFlags.WRITABLE) and readonly:
        return False
    if has(BufferFlags.C_CONTIGUOUS) and not c_ok:
        return False
    if has(BufferFlags.F_CONTIGUOUS) and not f_ok:
        return False
    if has(BufferFlags.ANY_CONTIGUOUS) and not (c_ok or f_ok):
        return False
    if not has(BufferFlags.STRIDES) and not c_ok:
        return False
    return True


def dlpack_device_of(capsule) -> tuple:
    """The (device_type, device_id) of an unconsumed versioned DLPack capsule's DLTensor (read in
    place: DLManagedTensorVersioned puts it at byte 40)."""
    get = ctypes.pythonapi.PyCapsule_GetPointer
    get.restype, get.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    address = get(capsule, b"dltensor_versioned")
    device = (ctypes.c_int32 * 2).from_address(address + 40)
    return device[0], device[1]


def raw_view(desc: dict, dtype: np.dtype) -> np.ndarray:
    """A numpy view of the memory an Acquisition describes (valid while it is held)."""
    shape = tuple(desc["shape"] or ())
    itemsize = desc["itemsize"]
    strides = desc["strides"]
    if strides is None:
        strides, step = [], itemsize
        for n in reversed(shape):
            strides.insert(0, step)
            step *= max(n, 1)
    if 0 in shape:
        return np.empty(shape, dtype)
    lo = sum((n - 1) * s for n, s in zip(shape, strides) if s < 0)
    hi = sum((n - 1) * s for n, s in zip(shape, strides) if s > 0) + itemsize
    memory = (ctypes.c_char * (hi - lo)).from_address(desc["address"] + lo)
    return np.ndarray(shape, dtype, buffer=memory, offset=-lo, strides=tuple(strides))


class Holder:
    """One live consumer: `obj` and the view of the model it must read.

    key: the root export it keeps alive (one exporter get); pins: the memoryview holder whose
    own export it holds (that memoryview's release() must then fail), or None.
    """

    _ids = itertools.count()

    def __init__(self, obj, kind, key, model, writable, pins=None, dtype=None):
        self.obj, self.kind, self.key, self.model = obj, kind, key, model
        self.writable, self.pins = writable, pins
        self.dtype = model.dtype if dtype is None else dtype
        self.id = next(self._ids)

    def read(self) -> np.ndarray:
        if self.kind == "memoryview":
            return np.asarray(self.obj)
        if self.kind == "numpy":
            return self.obj
        if self.kind == "arrow":
            if isinstance(self.obj.type, pa.FixedShapeTensorType):
                return self.obj.to_numpy_ndarray()  # N-D: the tensor over the same memory
            return self.obj.to_numpy(zero_copy_only=True)
        return raw_view(self.obj.desc, self.dtype)  # acquisition

    def write(self, index, value):
        if self.kind == "memoryview" and self.obj.format.startswith("T{"):
            np.asarray(self.obj)[index] = value  # memoryview cannot assign a struct item
        elif self.kind == "memoryview":
            self.obj[index] = float(value) if self.obj.format[-1] in "efd" else value
        elif self.kind == "numpy":
            self.obj[index] = value
        else:  # acquisition: through the raw pointer, as Mojo's MemoryView writes
            raw_view(self.obj.desc, self.dtype)[index] = value


class Subject(abc.ABC):
    """Adapts the machine to one exporter type (override every method that raises)."""

    layouts: list = []
    #: Exports are records (a T{...} format): DLPack and Arrow must refuse them.
    records = False

    def readonly(self, layout) -> bool:
        """Whether exports of `layout` are read-only."""
        return False

    @abc.abstractmethod
    def make(self, layout):
        """A new exporter for `layout` with known contents; returns (obj, model bytes or None,
        model array with the exporter's layout)."""

    @abc.abstractmethod
    def is_subject(self, obj) -> bool:
        """Whether obj is an exporter this Subject makes (to find it again through consumers)."""

    @abc.abstractmethod
    def counters(self, obj):
        """(gets, releases, live) of obj."""

    def refusals(self, obj):
        """Requests the exporter counted as refused, or None if it does not count them."""
        return None

    @abc.abstractmethod
    def resize_args(self, layout):
        """A strategy of arguments to `resize`."""

    @abc.abstractmethod
    def expected_resize_error(self, arg, live, layout):
        """The exception class resize(arg) must raise, or None."""

    @abc.abstractmethod
    def resize(self, obj, arg, model_bytes, model):
        """Resize obj (may raise); returns the new (model_bytes, model) on success."""

    def check_own(self, obj, model_bytes, model) -> None:
        """Check the memory as the exporter itself sees it (not through an export)."""

    def reference(self, obj):
        """A weak reference to obj, or None if the type has none."""
        return None

    def reinit_args(self, layout):
        """A strategy of arguments to `reinit`."""
        return st.just(layout)

    def expected_reinit_error(self, arg, live):
        """The exception class `obj.__init__(...)` again must raise, or None."""
        return BufferError if live else None

    @abc.abstractmethod
    def reinit(self, obj, arg):
        """Call obj.__init__ again (may raise); returns the new (model_bytes, model)."""

    @abc.abstractmethod
    def on_device(self, layout, device):
        """A new exporter like `layout` whose descriptor says its memory is on `device`; returns
        (obj, counters function)."""

    def check_gone(self, weak) -> None:
        """Called once the exporter and all its consumers are unreachable."""


class ExportMachine(RuleBasedStateMachine):
    """See the module docstring. Subclasses set `subject` (a Subject instance)."""

    subject: Subject
    steps = 0  # rules run, over every example (the figure the tests assert and print)
    outcomes: collections.Counter  # rule or outcome name -> times (set by reset_counts)

    @classmethod
    def reset_counts(cls):
        """Zero the step count and the per-outcome tally (call before a run)."""
        cls.steps = 0
        cls.outcomes = collections.Counter()

    @classmethod
    def summary(cls) -> str:
        """The step count and what the steps did, for the test's output."""
        return f"{cls.steps} steps: " + ", ".join(f"{k} {v}" for k, v in sorted(cls.outcomes.items()))

    def __init__(self):
        super().__init__()
        self.holders: list[Holder] = []
        self.obj = None
        self.weak = None
        self.keys = itertools.count()
        self.expected_gets = 0
        self.expected_releases = 0
        self.expected_refusals = 0
        self.dead_keys: set[int] = set()

    # ---- helpers -------------------------------------------------------------------------------

    def _step(self):
        type(self).steps += 1
        type(self).outcomes[sys._getframe(1).f_code.co_name] += 1

    def _tally(self, outcome):
        type(self).outcomes[outcome] += 1

    def _target(self):
        """The exporter, while the machine or a consumer can still reach it."""
        if self.obj is not None:
            return self.obj
        if self.weak is not None:
            return self.weak()
        for h in self.holders:  # no weak reference: follow a consumer back to its exporter
            o = h.obj
            for _ in range(16):
                if isinstance(o, memoryview):
                    o = o.obj
                elif isinstance(o, np.ndarray):
                    o = o.base
                elif isinstance(o, Acquisition):
                    o = o.obj
                else:
                    break
                if self.subject.is_subject(o):
                    return o
        return None

    def _new_subject(self, layout):
        self.layout = layout
        self.obj, self.model_bytes, self.model = self.subject.make(layout)
        self.weak = self.subject.reference(self.obj)
        self.gets0, self.releases0, _ = self.subject.counters(self.obj)
        self.refusals0 = self.subject.refusals(self.obj)
        self.expected_gets = self.expected_releases = self.expected_refusals = 0
        self.dead_keys = set()

    def _live_keys(self):
        return {h.key for h in self.holders}

    def _forget(self, holder):
        self.holders.remove(holder)
        if holder.key not in self._live_keys():
            self.expected_releases += 1
            self.dead_keys.add(holder.key)

    def _pick(self, i, kinds=None, writable=None):
        cands = [h for h in self.holders if (kinds is None or h.kind in kinds)
                 and (writable is None or h.writable == writable)]
        return cands[i % len(cands)] if cands else None

    def _exported(self, obj, kind, model, writable):
        self.expected_gets += 1
        self.holders.append(Holder(obj, kind, next(self.keys), model, writable))

    def _sync_after_foreign_refusal(self, before):
        """DLPack/Arrow refusals may export and release once inside the call: accept that pair."""
        gets, releases, live = self.subject.counters(self._target())
        dg, dr = gets - before[0], releases - before[1]
        assert dg == dr and dg <= 1, f"refused foreign export left {dg} gets, {dr} releases"
        self.expected_gets += dg
        self.expected_releases += dr

    # ---- lifecycle -------------------------------------------------------------------------------

    @initialize(layout=st.data())
    def start(self, layout):
        self._step()
        self._new_subject(layout.draw(st.sampled_from(self.subject.layouts), label="layout"))

    @precondition(lambda self: self.obj is None and not self.holders)
    @rule(layout=st.data())
    def new_subject(self, layout):
        """The previous exporter is gone with all its consumers: it must be freed; start anew."""
        self._step()
        self.subject.check_gone(self.weak)
        self._new_subject(layout.draw(st.sampled_from(self.subject.layouts), label="layout"))

    @precondition(lambda self: self.obj is not None and self.holders)
    @rule()
    def delete_subject(self):
        """Drop the machine's reference while consumers live: they keep the memory valid."""
        self._step()
        self.obj = None

    # ---- exports -------------------------------------------------------------------------------

    @precondition(lambda self: self.obj is not None and len(self.holders) < MAX_HOLDERS)
    @rule(kind=st.sampled_from(["memoryview", "numpy", "dlpack"]))
    def export(self, kind):
        self._step()
        if kind == "memoryview":
            mv = memoryview(self.obj)
            assert mv.obj is self.obj and mv.shape == self.model.shape
            self._exported(mv, "memoryview", self.model, not mv.readonly)
        elif kind == "numpy":
            a = np.asarray(self.obj)
            assert a.shape == self.model.shape
            assert a.strides == self.model.strides or a.size == 0
            self._exported(a, "numpy", self.model, a.flags.writeable)
        elif self.subject.records:
            before = self.subject.counters(self.obj)
            try:
                np.from_dlpack(self.obj)
            except BufferError as e:
                assert "DLPack" in str(e)
            else:
                raise AssertionError("np.from_dlpack accepted a record export")
            self._sync_after_foreign_refusal(before)
            self._tally("export dlpack refused")
            return
        else:
            a = np.from_dlpack(self.obj)
            assert a.shape == self.model.shape
            self._exported(a, "numpy", self.model, a.flags.writeable)
        assert self.holders[-1].writable == (not self.layout_readonly())

    def layout_readonly(self):
        return self.subject.readonly(self.layout)

    @precondition(lambda self: self.obj is not None and len(self.holders) < MAX_HOLDERS)
    @rule()
    def export_arrow(self):
        self._step()
        assert pa is not None
        target = self.obj
        before = self.subject.counters(target)
        if not self.subject.records and self.model.ndim >= 1 and self.model.flags.c_contiguous:
            arr = pa.array(target)  # 1-D: a primitive array; N-D: arrow.fixed_shape_tensor
            assert len(arr) == self.model.shape[0]
            self._exported(arr, "arrow", self.model, False)
        else:
            try:
                pa.array(target)
            except BufferError as e:
                assert "Arrow" in str(e)
            else:
                raise AssertionError(f"pyarrow.array accepted {self.model.shape} {self.model.strides}")
            self._sync_after_foreign_refusal(before)
            self._tally("export_arrow refused")

    @precondition(lambda self: self.obj is not None and len(self.holders) < MAX_HOLDERS)
    @rule(flags=st.sampled_from(ACQUIRE_FLAGS))
    def acquire(self, flags):
        self._step()
        readonly = self.layout_readonly()
        if expect_buffer_request(flags, readonly, self.model):
            acq = Acquisition(self.obj, flags, via="buffer")
            desc = acq.desc
            assert desc["readonly"] == readonly
            model = self.model
            if tuple(desc["shape"] or ()) != model.shape:  # no ND: one C-contiguous run
                assert model.flags.c_contiguous
                model = model.reshape(desc["shape"] or ())
            self._exported(acq, "acquisition", model, bool(flags & BufferFlags.WRITABLE))
        else:
            try:
                Acquisition(self.obj, flags, via="buffer")
            except BufferError:
                pass
            else:
                raise AssertionError(f"request {flags!r} honoured on {self.model.strides}")
            self.expected_refusals += 1
            self._tally("acquire refused")

    @precondition(lambda self: self.obj is not None and len(self.holders) < MAX_HOLDERS)
    @rule(writable=st.booleans(), via=st.sampled_from(["dlpack", "arrow"]))
    def acquire_foreign(self, writable, via):
        self._step()
        flags = BufferFlags.RECORDS if writable else BufferFlags.RECORDS_RO
        readonly = self.layout_readonly()
        ok = not (writable and readonly) and not self.subject.records
        if via == "arrow" and ok:
            ok = not writable and self.model.ndim == 1 and self.model.flags.c_contiguous
        before = self.subject.counters(self.obj)
        if ok:
            acq = Acquisition(self.obj, flags, via=via)
            assert tuple(acq.desc["shape"] or ()) == self.model.shape
            self._exported(acq, "acquisition", self.model, via == "dlpack" and not readonly)
        else:
            try:
                Acquisition(self.obj, flags, via=via)
            except BufferError:
                pass
            else:
                raise AssertionError(f"{via} acquisition honoured (writable={writable})")
            self._sync_after_foreign_refusal(before)
            self._tally("acquire_foreign refused")

    # ---- derived views (no new export of the subject) ------------------------------------------

    @precondition(lambda self: any(h.kind in ("memoryview", "numpy") for h in self.holders)
                  and len(self.holders) < MAX_HOLDERS)
    @rule(i=INDEX, sl=SLICE, transpose=st.booleans())
    def slice(self, i, sl, transpose):
        self._step()
        h = self._pick(i, kinds=("memoryview", "numpy"))
        if h.model.ndim == 0:
            return
        s = slice(*sl)
        obj, model = h.obj[s], h.model[s]
        if h.kind == "numpy" and transpose:
            obj, model = obj.T, model.T
        self.holders.append(Holder(obj, h.kind, h.key, model, h.writable, h.pins))

    @precondition(lambda self: any(h.kind in ("memoryview", "numpy") for h in self.holders)
                  and len(self.holders) < MAX_HOLDERS)
    @rule(i=INDEX, how=st.sampled_from(["memoryview", "numpy", "acquisition"]))
    def view_of_view(self, i, how):
        """A consumer of a consumer: memoryview(x), np.asarray(x), or an Acquisition of x."""
        self._step()
        h = self._pick(i, kinds=("memoryview", "numpy"))
        if how == "memoryview":
            self.holders.append(Holder(memoryview(h.obj), "memoryview", h.key, h.model, h.writable, h.pins))
        elif how == "numpy":
            self.holders.append(Holder(np.asarray(h.obj), "numpy", h.key, h.model, h.writable, h.pins))
        else:
            acq = Acquisition(h.obj, BufferFlags.FULL_RO)
            pins = h if h.kind == "memoryview" else h.pins
            self.holders.append(Holder(acq, "acquisition", h.key, h.model, False, pins, h.dtype))

    # ---- writes --------------------------------------------------------------------------------

    @precondition(lambda self: any(h.writable for h in self.holders))
    @rule(i=INDEX, j=INDEX, value=VALUES)
    def write(self, i, j, value):
        """Write one element through a writable consumer; the model (and so every other
        consumer, and the exporter itself) must see it."""
        self._step()
        h = self._pick(i, writable=True)
        if h.model.size == 0:
            return
        index = np.unravel_index(j % h.model.size, h.model.shape)
        index = tuple(int(k) for k in index)
        h.write(index, value)
        h.model[index] = value
        self._tally(f"write via {h.kind}")

    # ---- releases ------------------------------------------------------------------------------

    @precondition(lambda self: self.holders)
    @rule(i=INDEX)
    def drop(self, i):
        self._step()
        h = self._pick(i)
        self._forget(h)

    @precondition(lambda self: any(h.kind == "memoryview" for h in self.holders))
    @rule(i=INDEX)
    def release_memoryview(self, i):
        """memoryview.release(): refused while its own export is held, else ends this view."""
        self._step()
        h = self._pick(i, kinds=("memoryview",))
        if any(o.pins is h for o in self.holders):
            try:
                h.obj.release()
            except BufferError as e:
                assert "exported" in str(e)
            else:
                raise AssertionError("memoryview.release() succeeded while exported")
            self._tally("release_memoryview refused")
            return
        h.obj.release()
        try:
            h.obj.tolist()
        except ValueError:
            pass
        else:
            raise AssertionError("a released memoryview can still be read")
        self._forget(h)

    @precondition(lambda self: any(h.kind == "acquisition" for h in self.holders))
    @rule(i=INDEX, how=st.sampled_from(["decref", "thread", "incref-decref"]))
    def release_acquisition(self, i, how):
        self._step()
        h = self._pick(i, kinds=("acquisition",))
        acq = h.obj
        if how == "incref-decref":  # a shared reference changes nothing
            acq.incref()
            assert acq.held == 2
            acq.decref()
            assert acq.held == 1
            return
        if how == "thread":
            acq.decref_in_thread()
        else:
            acq.decref()
        assert acq.held == 0
        try:
            acq.desc
        except ValueError:
            pass
        else:
            raise AssertionError("an acquisition with no reference still describes memory")
        self._forget(h)

    # ---- resize ----------------------------------------------------------------------------------

    @precondition(lambda self: self.obj is not None)
    @rule(data=st.data())
    def resize(self, data):
        self._step()
        arg = data.draw(self.subject.resize_args(self.layout), label="resize")
        live = len(self._live_keys())
        expected = self.subject.expected_resize_error(arg, live, self.layout)
        if expected is not None:
            before = self.model.copy()
            try:
                self.subject.resize(self.obj, arg, self.model_bytes, self.model)
            except expected:
                pass
            else:
                raise AssertionError(f"resize({arg}) with {live} live exports did not raise")
            assert np.array_equal(self.model, before)  # (the invariants check the memory)
            self._tally(f"resize refused ({expected.__name__})")
            return
        self.model_bytes, self.model = self.subject.resize(self.obj, arg, self.model_bytes, self.model)

    # ---- __init__ again, memory on a device ---------------------------------------------------

    @precondition(lambda self: self.obj is not None)
    @rule(data=st.data())
    def reinit(self, data):
        """obj.__init__(...) again: refused while any export is live (a consumer still reads the
        memory), else the exporter holds the new value and its counters start again."""
        self._step()
        arg = data.draw(self.subject.reinit_args(self.layout), label="reinit")
        live = len(self._live_keys())
        expected = self.subject.expected_reinit_error(arg, live)
        if expected is not None:
            before = self.model.copy()
            try:
                self.subject.reinit(self.obj, arg)
            except expected:
                pass
            else:
                raise AssertionError(f"__init__ again with {live} live exports did not raise")
            assert np.array_equal(self.model, before)
            self._tally(f"reinit refused ({expected.__name__})")
            return
        assert not self.holders
        self.model_bytes, self.model = self.subject.reinit(self.obj, arg)
        self.gets0, self.releases0, _ = self.subject.counters(self.obj)
        self.refusals0 = self.subject.refusals(self.obj)
        self.expected_gets = self.expected_releases = self.expected_refusals = 0
        self.dead_keys = set()

    @precondition(lambda self: not self.holders)  # (between exports: keeps it a few % of steps)
    @rule(layout=st.data(), device=st.sampled_from([(2, 0), (2, 3), (4, 1), (13, 0)]))
    def device_export(self, layout, device):
        """An exporter whose memory is on a device: every buffer consumer is refused with
        BufferError naming the device, __dlpack_device__ and the capsule carry it, and each export
        made is released."""
        self._step()
        obj, counters = self.subject.on_device(
            layout.draw(st.sampled_from(self.subject.layouts), label="layout"), device)
        for consume in (memoryview, lambda o: Acquisition(o, BufferFlags.FULL_RO), pa.array):
            try:
                consume(obj)
            except BufferError as e:
                assert consume is pa.array or f"device {device}" in str(e), str(e)
            else:
                raise AssertionError(f"memory on device {device} was exported as host memory")
        assert obj.__dlpack_device__() == device
        if getattr(self.subject, "records", False):  # DLPack has no record types
            try:
                obj.__dlpack__(max_version=(1, 1))
            except BufferError:
                pass
            else:
                raise AssertionError("a record export went out through DLPack")
        else:
            capsule = obj.__dlpack__(max_version=(1, 1))
            assert dlpack_device_of(capsule) == device
            del capsule
        gets, releases, live = counters(obj)
        assert live == 0 and gets == releases >= 2, (gets, releases, live)
        self._tally("device_export refused")

    # ---- invariants ------------------------------------------------------------------------------

    @invariant()
    def contents_match_the_model(self):
        for h in self.holders:
            got = h.read()
            want = h.model
            if got.shape != want.shape:
                got = got.reshape(want.shape)
            assert np.array_equal(got, want), f"{h.kind} reads {got!r}, the model says {want!r}"
        target = self._target()
        if target is not None:
            self.subject.check_own(target, self.model_bytes, self.model)

    @invariant()
    def counters_are_exact(self):
        target = self._target()
        if target is None:  # gone, or (no weak reference) only reachable through Arrow arrays
            assert self.weak is None or not self.holders, "consumers outlived their exporter"
            return
        gets, releases, live = self.subject.counters(target)
        keys = self._live_keys()
        assert live == len(keys), f"live exports {live}, consumers hold {len(keys)}"
        assert gets - self.gets0 == self.expected_gets, \
            f"gets {gets - self.gets0}, successful exports {self.expected_gets}"
        assert releases - self.releases0 == self.expected_releases, \
            f"releases {releases - self.releases0}, exports that died {self.expected_releases}"
        assert gets - releases == live, f"gets - releases = {gets - releases}, live exports {live}"
        refusals = self.subject.refusals(target)
        if refusals is not None:
            assert refusals - self.refusals0 == self.expected_refusals, \
                f"refusals {refusals - self.refusals0}, refused requests {self.expected_refusals}"

    def teardown(self):
        """Every consumer released: no live export, gets == releases, the memory freed."""
        self.holders.clear()  # (no gc.collect: every release must follow from reference counts)
        target = self._target()
        if target is not None:
            gets, releases, live = self.subject.counters(target)
            assert live == 0 and gets - self.gets0 == releases - self.releases0 == self.expected_gets, \
                f"at teardown: live exports {live}, gets {gets - self.gets0}, releases " \
                f"{releases - self.releases0}, successful exports {self.expected_gets}"
        del target
        self.obj = None
        self.subject.check_gone(self.weak)
