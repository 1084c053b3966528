"""Minimal test runner for MicroPython: runs every `test_*` function of the
named modules and ends with the line `N passed, N failed`.

A function named `xfail_*` pins a known defect: it runs, its failure is
printed as `xfail` and not counted; once it passes (the defect is fixed) it
counts as failed, so that it is renamed `test_*`.

    import runner; runner.main("test_at", "test_certs")

A failing run raises SystemExit(1) after the summary, so that `micropython`
and `mpremote run` exit non-zero.
"""

import sys


def run_module(name, results):
    mod = __import__(name)
    for attr in sorted(dir(mod)):
        xfail = attr.startswith("xfail_")
        if not (xfail or attr.startswith("test_")):
            continue
        fn = getattr(mod, attr)
        if not callable(fn):
            continue
        label = "%s.%s" % (name, attr)
        try:
            res = fn()
            if hasattr(res, "send"):  # an async test: a coroutine to run
                _run_coro(res)
        except Exception as exc:  # noqa: BLE001 - report every failure
            if xfail:
                print("xfail %s: %s: %s" % (label, type(exc).__name__, exc))
                continue
            results[1] += 1
            print("FAIL %s: %s: %s" % (label, type(exc).__name__, exc))
            sys.print_exception(exc) if hasattr(sys, "print_exception") else None
        else:
            if xfail:
                results[1] += 1
                print("FAIL %s: passes now: rename it test_%s" % (label, attr[6:]))
                continue
            results[0] += 1
            print("ok %s" % label)


def _run_coro(coro):
    import asyncio
    run = getattr(asyncio, "run", None)
    if run is None:  # wasm32: only main_async() under runPythonAsync can
        coro.close()
        raise RuntimeError("no asyncio.run here: run this file with main_async()")
    run(coro)


async def main_async(*names):
    """main() for a port whose asyncio has no run() (wasm32: the JavaScript
    event loop drives it; `await runner.main_async(...)` in runPythonAsync):
    async tests are awaited."""
    results = [0, 0]
    for name in names:
        mod = __import__(name)
        for attr in sorted(dir(mod)):
            fn = getattr(mod, attr)
            if not attr.startswith("test_") or not callable(fn):
                continue
            try:
                res = fn()
                if hasattr(res, "send"):
                    await res
            except Exception as exc:  # noqa: BLE001
                results[1] += 1
                print("FAIL %s.%s: %s: %s" % (name, attr, type(exc).__name__, exc))
            else:
                results[0] += 1
                print("ok %s.%s" % (name, attr))
    print("%d passed, %d failed" % (results[0], results[1]))
    if results[1] or not results[0]:
        raise SystemExit(1)


def main(*names):
    results = [0, 0]
    for name in names:
        run_module(name, results)
    print("%d passed, %d failed" % (results[0], results[1]))
    if results[1] or not results[0]:
        raise SystemExit(1)


if __name__ == "__main__":
    main(*sys.argv[1:])
