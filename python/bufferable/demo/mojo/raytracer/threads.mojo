"""Run one function on several POSIX threads at once and wait for all of them.

The `mojo` 1.2.0 package on PyPI ships no `parallelize` (it moved to the MAX
`max.algorithm` package, which is not installed with `pip install mojo`), and
the stdlib's task runtime is private. POSIX threads are a stable C API that
every Linux and macOS Python process already links, so the renderer uses them
directly.
"""

from std.ffi import c_int, external_call
from std.memory.alloc import Layout, alloc

comptime ThreadArgument = OpaquePointer[MutUntrackedOrigin]
"""The single argument every thread receives."""

comptime ThreadEntry = def(ThreadArgument) abi("C") thin -> ThreadArgument
"""A function a POSIX thread can start in."""


def run_on_threads(
    entry: ThreadEntry, argument: ThreadArgument, thread_count: Int
):
    """Runs `entry(argument)` on `thread_count` threads and waits for them.

    The calling thread is one of the `thread_count`. If the system refuses to
    start a thread, fewer threads run, so `entry` must be written as a loop
    that takes work items from shared state until none is left (then any
    number of threads, even one, does all the work).

    Args:
        entry: The function each thread runs.
        argument: Passed unchanged to every call of `entry`.
        thread_count: How many threads to use, the caller's included.
    """
    var extra_threads = max(thread_count - 1, 0)
    # pthread_t is an unsigned long on Linux and a pointer on macOS: 8 bytes.
    var handles = alloc(Layout[UInt64](count=max(extra_threads, 1))).into_managed()
    var handle_pointer = handles.unsafe_ptr()
    var started = 0
    for i in range(extra_threads):
        var status = external_call["pthread_create", c_int](
            handle_pointer.unsafe_offset(i), Int(0), entry, argument
        )
        if status != 0:
            break
        started += 1
    _ = entry(argument)
    for i in range(started):
        _ = external_call["pthread_join", c_int](
            handle_pointer.unsafe_offset(i)[], Int(0)
        )
