"""Assertion helpers shared by the device tests (MicroPython has no pytest.raises)."""


def raises(exc_type, fn, *args, **kw):
    """Call fn; return the exc_type it raised, or fail if it raised nothing."""
    try:
        fn(*args, **kw)
    except exc_type as exc:
        return exc
    raise AssertionError("%s not raised" % exc_type.__name__)
