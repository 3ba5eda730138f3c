"""Timing shared by every benchmark in this directory (bench_*.py and run.py).

The machines these run on are shared and noisy, so every comparison is measured the same way:

- each callable is timed in loops long enough to swamp the timer's resolution (``calibrate``);
- the callables of one comparison are timed in alternating rounds (``interleaved``), so a burst of
  background load hits every side alike instead of one side's whole measurement;
- the best round wins (the least disturbed one: noise only ever adds time), and the rounds of
  cheap statements are spread over a fraction of a second (``span``), so one burst of load on a
  shared machine cannot disturb them all;
- ratios are only taken between numbers measured in the same run.

``timeit`` does the looping (it turns the garbage collector off while it times).
"""
from __future__ import annotations

import time
import timeit
from typing import Callable, Sequence

__all__ = ["calibrate", "interleaved", "paired", "best", "format_seconds"]


def calibrate(fn: Callable[[], object], min_time: float = 0.005, max_number: int = 10**7) -> int:
    """The number of calls of ``fn`` per timed loop so that one loop lasts at least ``min_time``
    seconds (a power of two; 1 for a callable slower than ``min_time``).

    A loop only counts as long enough if a second loop of the same number of calls is too: on a
    loaded machine one preemption (or a pending garbage collection) inside a single 200 ns call
    would otherwise stop the growth at ``number == 1``, and every round would then time one call
    whose code and data the other callables of the round have evicted from the caches (measured:
    ``np.asarray(Grid)`` 700 ns that way, 240 ns in loops)."""
    timer = timeit.Timer(fn)
    number = 1
    while number < max_number and (timer.timeit(number) < min_time or timer.timeit(number) < min_time):
        number *= 2
    return number


def interleaved(
    fns: Sequence[Callable[[], object]],
    *,
    repeat: int = 15,
    min_time: float = 0.005,
    numbers: Sequence[int] | None = None,
    budget: float | None = None,
    min_rounds: int = 3,
    span: float = 0.0,
) -> list[float]:
    """Best time per call, in seconds, of each of ``fns``, measured in rounds that each time every
    callable once (one loop of its calibrated number of calls) before the next round.

    Args:
        fns: Callables without arguments (the statements to compare).
        repeat: Rounds; the best (smallest) per-call time of each callable over the rounds wins.
        min_time: Shortest loop, in seconds, when calibrating (see :func:`calibrate`).
        numbers: Calls per loop for each callable, instead of calibrating.
        budget: If given, stop starting new rounds once this many seconds have been spent (but
            run at least ``min_rounds``): cheap statements get every round, a 256 MiB copy fewer.
        min_rounds: The fewest rounds when ``budget`` cuts the measurement short.
        span: Keep starting rounds beyond ``repeat`` until this many seconds have passed (within
            ``budget``), so that the rounds of cheap statements are spread over time and one burst
            of load on the machine cannot disturb all of them.
    """
    timers = [timeit.Timer(fn) for fn in fns]
    if numbers is None:
        numbers = [calibrate(fn, min_time) for fn in fns]
    best_times = [float("inf")] * len(fns)
    start = time.perf_counter()
    round_ = 0
    while True:
        elapsed = time.perf_counter() - start
        if round_ >= repeat and elapsed >= span:
            break
        if budget is not None and round_ >= min_rounds and elapsed > budget:
            break
        for i, timer in enumerate(timers):
            best_times[i] = min(best_times[i], timer.timeit(numbers[i]) / numbers[i])
        round_ += 1
    return best_times


def paired(
    a: Callable[[], object],
    b: Callable[[], object],
    *,
    repeat: int = 15,
    min_time: float = 0.005,
    number: int | None = None,
    budget: float | None = None,
    span: float = 0.0,
) -> tuple[float, float]:
    """(best per-call seconds of ``a``, of ``b``), measured interleaved (see :func:`interleaved`);
    ``number`` fixes the calls per loop of both instead of calibrating."""
    numbers = None if number is None else [number, number]
    t_a, t_b = interleaved([a, b], repeat=repeat, min_time=min_time, numbers=numbers, budget=budget, span=span)
    return t_a, t_b


def best(fn: Callable[[], object], *, repeat: int = 15, min_time: float = 0.005, number: int | None = None) -> float:
    """Best per-call seconds of one callable (prefer :func:`interleaved` for comparisons)."""
    numbers = None if number is None else [number]
    return interleaved([fn], repeat=repeat, min_time=min_time, numbers=numbers)[0]


def format_seconds(seconds: float) -> str:
    """``seconds`` with a unit that keeps three or four significant digits (s, ms, us, ns)."""
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    if seconds >= 1e-6:
        return f"{seconds * 1e6:.2f} us"
    return f"{seconds * 1e9:.0f} ns"
