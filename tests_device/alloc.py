"""Heap bytes a call allocates, on any port: measured(fn, *args) -> (result, bytes).

- micropython.mem_total() where the port has it (unix): it counts every
  allocation, a call frame put on the heap and freed at return included.
- Elsewhere gc.mem_alloc() before and after, with collection disabled so that
  nothing is reclaimed between the two readings (the WebAssembly port: its
  call frames live on its pystack, never on the heap, so the delta is every
  byte the call allocates).
- Never heap_lock() alone: under it a port quietly puts a frame it would have
  put on the heap on the C stack, and the test passes where the board allocates.
"""

import gc
import micropython


def _call(fn, args):
    # star-args calls build their argument array on the heap: spell out the
    # arities the tests use
    n = len(args)
    if n == 0:
        return fn()
    if n == 1:
        return fn(args[0])
    if n == 2:
        return fn(args[0], args[1])
    if n == 3:
        return fn(args[0], args[1], args[2])
    if n == 4:
        return fn(args[0], args[1], args[2], args[3])
    raise TypeError("measured(): at most 4 arguments")


def measured(fn, *args):
    total = getattr(micropython, "mem_total", None)
    if total is not None:
        before = total()
        result = _call(fn, args)
        return result, total() - before
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        before = gc.mem_alloc()
        result = _call(fn, args)
        spent = gc.mem_alloc() - before
    finally:
        if was_enabled:
            gc.enable()
    return result, spent


def allocated(fn, *args):
    """Only the bytes."""
    return measured(fn, *args)[1]
