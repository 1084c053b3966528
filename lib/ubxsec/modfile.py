"""The module's own file system as an import source (package ubxsec-modfile):
AT+UDWNFILE writes a file there, +USECMNG op code 1 imports it.

    certs.upload("/ca.pem", "ca.pem")     # byte for byte; returns the size
    certs.import_from_module_file("ca.pem", CA, "ThawteCA",
                                  expect_md5=certs.der_md5("/ca.pem"))

Certs.upload(), Certs.import_from_module_file() and Certs.der_md5() (the
MD5 to expect, computed here) import this module on first use and call the
functions here with the Certs as `certs`; without this package they raise
ImportError naming it.
"""

from micropython import const

from .certs import (KINDS, PK, _buffer_len, _check_size, _hex, _md5_answer, _md5_text, _open,
                    _password_param, _redact, _source, _Source, _verify, kind_code)
from .errors import AtError, _refused
from .params import quoted

_NAME_MAX = const(200)      # as certs' (no series takes more)
_FILENAME_MAX = const(63)
_SCRATCH = const(64)  # der_md5 of a file: what is read and hashed at a time


def import_from_module_file(certs, filename, kind, name, password=None, expect_md5=None):
    """Certs.import_from_module_file(): op code 1; the module's MD5,
    checked against expect_md5 if given (VerifyError)."""
    code = kind_code(kind)
    cmd = "+USECMNG=1,%d,%s,%s%s" % (code, quoted(name, _NAME_MAX, "name", 1),
                                     quoted(filename, _FILENAME_MAX, "filename", 1),
                                     _password_param(code, password))
    if expect_md5 is not None:
        expect_md5 = _md5_text(expect_md5, ValueError)
    got = _md5_answer(certs._cmd("import %s %r from module file %r" % (KINDS[code], name, filename),
                                 cmd, code == PK, _redact(password)), 1, code, name)
    _verify(got, expect_md5 or got, name)
    return got


def upload(certs, src, module_filename):
    """Certs.upload(): AT+UDWNFILE, byte for byte; returns the size."""
    cmd = "+UDWNFILE=%s," % quoted(module_filename, _FILENAME_MAX, "filename", 1)
    what = "upload to module file %r" % module_filename
    if not isinstance(src, str):
        size = _check_size(_buffer_len(src))
        source = _source(src, 0)
    else:
        f, size = _open(src)
        source = _Source(f)
    try:
        _check_size(size)
        certs.at.command_with_data(cmd + str(size), size, source.fill, certs._data_ms(size))
    except AtError as exc:
        raise _refused(exc, what)
    finally:
        if source.reader is not None:
            source.reader.close()
    return size


def der_md5(certs, src, kind):
    """Certs.der_md5(): the MD5 (hex) of the DER an import would store,
    src checked as that import checks it."""
    code = kind_code(kind)
    if not isinstance(src, str):
        return _hex(certs._inspect(src, code, None)[2])
    f, left, source = certs._open_source(src, code, None)
    with f:
        view = memoryview(bytearray(_SCRATCH))
        while left:
            n = source.fill(view if left >= _SCRATCH else view[:left])
            if not n:
                raise OSError("file shrank")
            left -= n
        return _hex(source.digest())
