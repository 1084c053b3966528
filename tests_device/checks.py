"""Helpers shared by the device tests: assertions MicroPython's lack of
pytest leaves to us, and the test data that lives in tests_device/data/."""

try:
    _HERE = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
except NameError:  # a frozen or pasted module has no __file__
    _HERE = "."


def raises(exc_type, fn, *args, **kw):
    """Call fn; return the exc_type it raised, or fail if it raised nothing."""
    try:
        fn(*args, **kw)
    except exc_type as exc:
        return exc
    raise AssertionError("%s not raised" % exc_type.__name__)


def data_path(name):
    return _HERE + "/data/" + name


def data_file(name):
    with open(data_path(name), "rb") as f:
        return f.read()


def wire(*cmds):
    """The bytes the engine writes for these commands (text after "AT")."""
    return b"".join(b"AT" + c.encode() + b"\r" for c in cmds)


def scratch_path(name):
    """Where a test may write a file: /tmp where the board has one, else the
    working directory."""
    import os
    try:
        os.stat("/tmp")
        return "/tmp/" + name
    except OSError:
        return name


def exists(path):
    import os
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def remove(*paths):
    """Remove each path that exists."""
    import os
    for p in paths:
        try:
            os.remove(p)
        except OSError:
            pass
