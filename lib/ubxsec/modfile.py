"""The module's own file system as an import source (package ubxsec-modfile):
AT+UDWNFILE writes a file there, +USECMNG op code 1 imports it.

    certs.upload("/ca.pem", "ca.pem")     # byte for byte; returns the size
    certs.import_from_module_file("ca.pem", CA, "ThawteCA",
                                  expect_md5=certs.der_md5("/ca.pem"))

Certs.upload(), Certs.import_from_module_file() and Certs.der_md5() (the
MD5 to expect, computed here) import this module on first use and call the
functions here with the Certs as `certs`; without this package they raise
ImportError naming it. Like the core's methods, upload() and
import_from_module_file() return at.run() of a generator over the engine's
exchanges (a value on Module, an awaitable on ubxsec.aio's engine). Only
the public names of ubxsec.certs and ubxsec.errors are used.
"""

from micropython import const

from .certs import (KINDS, PK, Source, check_size, inspect, kind_code, md5_answer, md5_text,
                    memory_source, open_file, open_source, password_param, to_hex)
from .errors import VerifyError, named
from .params import quoted

_NAME_MAX = const(200)      # as certs' (no series takes more)
_FILENAME_MAX = const(63)
_SCRATCH = const(64)  # der_md5 of a file: what is read and hashed at a time


def import_from_module_file(certs, filename, kind, name, password=None, expect_md5=None,
                            replace=False):
    """Certs.import_from_module_file(): op code 1; the module's MD5,
    checked against expect_md5 if given (VerifyError). As a stream import,
    an entry of another kind under that name is refused unless replace."""
    code = kind_code(kind)
    cmd = "+USECMNG=1,%d,%s,%s%s" % (code, quoted(name, _NAME_MAX, "name", 1),
                                     quoted(filename, _FILENAME_MAX, "filename", 1),
                                     password_param(code, password))
    if expect_md5 is not None:
        expect_md5 = md5_text(expect_md5, ValueError)
    at = certs.at
    what = "import %s %r from module file %r" % (KINDS[code], name, filename)
    gen = at.exchange(cmd, secret=code == PK, redact=(password,) if password else None)
    return at.run(_import(certs, named(gen, what), code, name, expect_md5, replace, what))


def _import(certs, gen, code, name, expect_md5, replace, what):
    if not replace:   # as a stream import: the module keeps one entry per name
        yield from certs.check_replace(code, name, what)
    got = md5_answer((yield from gen), 1, code, name)
    if expect_md5 and got != expect_md5:
        raise VerifyError("module has MD5 %s for %r, expected %s" % (got, name, expect_md5))
    return got


def upload(certs, src, module_filename):
    """Certs.upload(): AT+UDWNFILE, byte for byte; returns the size."""
    cmd = "+UDWNFILE=%s," % quoted(module_filename, _FILENAME_MAX, "filename", 1)
    if not isinstance(src, str):
        if not isinstance(src, (bytes, bytearray, memoryview)):
            raise ValueError("data: bytes, bytearray or memoryview")
        size = check_size(len(src))
        source = memory_source(src, 0)
    else:
        f, size = open_file(src)
        source = Source(f)
        try:
            check_size(size)
        except ValueError:
            f.close()
            raise
    at = certs.at
    return at.run(_upload(named(at.exchange_data(cmd + str(size), size, source.fill,
                                                 certs.transfer_ms(size)),
                                "upload to module file %r" % module_filename),
                          source, size))


def _upload(gen, source, size):
    try:
        yield from gen
    finally:
        if source.reader is not None:
            source.reader.close()
    return size


def der_md5(certs, src, kind=0):
    """Certs.der_md5(): the MD5 (hex) of the DER an import would store,
    src checked as that import checks it (no command: a plain value)."""
    code = kind_code(kind)
    if not isinstance(src, str):
        return to_hex(inspect(src, code, None)[2])
    f, left, source = open_source(src, code, None)
    with f:
        view = memoryview(bytearray(_SCRATCH))
        while left:
            n = source.fill(view if left >= _SCRATCH else view[:left])
            if not n:
                raise OSError("file shrank")
            left -= n
        return to_hex(source.digest())
