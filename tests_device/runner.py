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
            fn()
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


def main(*names):
    results = [0, 0]
    for name in names:
        run_module(name, results)
    print("%d passed, %d failed" % (results[0], results[1]))
    if results[1] or not results[0]:
        raise SystemExit(1)


if __name__ == "__main__":
    main(*sys.argv[1:])
