"""The module file system (device.fs) and its AT commands.

    AT+UDWNFILE=<filename>,<size>[,<tag>]  `>` then exactly <size> bytes; an
                                           existing file is appended to
    AT+ULSTFILE= | AT+ULSTFILE=0           +ULSTFILE: "a","b"   (+ULSTFILE: when empty)
    AT+ULSTFILE=1                          +ULSTFILE: <free bytes>
    AT+ULSTFILE=2,<filename>               +ULSTFILE: <size>
    AT+UDELFILE=<filename>[,<tag>]
    AT+URDFILE=<filename>[,<tag>]          +URDFILE: "<filename>",<size>,"<raw bytes>"

A file system that has never been listed (AT+ULSTFILE) is "unused"
(FileStore.used False): a series may refuse imports until then (models.py,
SARA-R422's 1912). The flag persists like the files, in a file `used`.

Only the "USER" tag (the default) is supported. Files persist in the state
directory: <sha1 of name>.dat holds the data, <sha1>.name the name (written
last, so a half-written file is never listed).
"""

import hashlib
import os

from .cme import CmeError, INCORRECT_PARAMETERS, MEMORY_FULL, NOT_FOUND, NOT_SUPPORTED
from .command import ACTION, SET, TEST, Prompt, quote

MAX_NAME = 248
CAPACITY = 1024 * 1024
USER_TAG = "USER"
USED_FLAG = "used"   # no ".name" suffix: never taken for a file


def check_name(name):
    if not isinstance(name, str) or not 1 <= len(name) <= MAX_NAME:
        raise CmeError(INCORRECT_PARAMETERS, "file name must be 1..%d characters" % MAX_NAME)
    if any(ch == '"' or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in name):
        raise CmeError(INCORRECT_PARAMETERS, "file name holds a quote or control character")
    return name


class FileStore:
    def __init__(self, directory=None, capacity=CAPACITY):
        self.directory = directory
        self.capacity = capacity
        self._files = {}
        self.used = False
        if directory is not None:
            self._load()
            self.used = os.path.exists(os.path.join(directory, USED_FLAG))

    # ---- Python API for other families ---------------------------------
    def names(self):
        return sorted(self._files)

    def read(self, name):
        try:
            return self._files[name]
        except KeyError:
            raise CmeError(NOT_FOUND, "no file %r" % name) from None

    def size(self, name):
        return len(self.read(name))

    def mark_used(self):
        if self.used:
            return
        if self.directory is not None:
            _atomic_write(os.path.join(self.directory, USED_FLAG), b"1\n")
        self.used = True

    def free(self):
        return self.capacity - sum(len(d) for d in self._files.values())

    def write(self, name, data):
        check_name(name)
        data = bytes(data)
        old = len(self._files.get(name, b""))
        if len(data) - old > self.free():
            raise CmeError(MEMORY_FULL, "file system full")
        self._files[name] = data
        self._persist(name)

    def append(self, name, data):
        self.write(name, self._files.get(name, b"") + bytes(data))

    def delete(self, name):
        self.read(name)
        del self._files[name]
        if self.directory is not None:
            key = self._key(name)
            for suffix in (".name", ".dat"):
                try:
                    os.unlink(os.path.join(self.directory, key + suffix))
                except FileNotFoundError:
                    pass

    # ---- persistence -----------------------------------------------------
    @staticmethod
    def _key(name):
        return hashlib.sha1(name.encode("latin-1")).hexdigest()

    def _persist(self, name):
        if self.directory is None:
            return
        key = self._key(name)
        _atomic_write(os.path.join(self.directory, key + ".dat"), self._files[name])
        _atomic_write(os.path.join(self.directory, key + ".name"), name.encode("latin-1"))

    def _load(self):
        for entry in os.listdir(self.directory):
            if not entry.endswith(".name"):
                continue
            key = entry[:-5]
            try:
                with open(os.path.join(self.directory, entry), "rb") as f:
                    name = f.read().decode("latin-1")
                with open(os.path.join(self.directory, key + ".dat"), "rb") as f:
                    self._files[name] = f.read()
            except FileNotFoundError:
                continue


def _atomic_write(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _name_and_tag(params, extra=0):
    """<filename>[,extra ints...][,<tag>] -> (name, extras)."""
    if not 1 + extra <= len(params) <= 2 + extra:
        raise CmeError(INCORRECT_PARAMETERS, "wrong number of parameters")
    name = params[0]
    if not isinstance(name, str):
        raise CmeError(INCORRECT_PARAMETERS, "file name must be a quoted string")
    check_name(name)
    if len(params) == 2 + extra and params[-1] not in (None, USER_TAG):
        raise CmeError(NOT_SUPPORTED, "only the USER tag is supported")
    return name, params[1:1 + extra]


def udwnfile(device, kind, params):
    if kind == TEST:
        return []
    if kind != SET:
        raise CmeError(INCORRECT_PARAMETERS)
    name, (size,) = _name_and_tag(params, extra=1)
    if not isinstance(size, int) or size < 1:
        raise CmeError(INCORRECT_PARAMETERS, "size must be a positive number")
    store = device.fs
    if size > store.free():
        raise CmeError(MEMORY_FULL, "file system full")

    def on_data(data):
        store.append(name, data)
        return []
    return Prompt(size, on_data)


def ulstfile(device, kind, params):
    store = device.fs
    store.mark_used()
    if kind == TEST:
        return ["+ULSTFILE: (0-2)"]
    if kind == ACTION or (kind == SET and params in ([None], [0])):
        names = store.names()
        return ["+ULSTFILE:" + (" " + ",".join(quote(n) for n in names) if names else "")]
    if kind == SET and params == [1]:
        return ["+ULSTFILE: %d" % store.free()]
    if kind == SET and len(params) == 2 and params[0] == 2 and isinstance(params[1], str):
        return ["+ULSTFILE: %d" % store.size(check_name(params[1]))]
    raise CmeError(INCORRECT_PARAMETERS)


def udelfile(device, kind, params):
    if kind == TEST:
        return []
    if kind != SET:
        raise CmeError(INCORRECT_PARAMETERS)
    name, _ = _name_and_tag(params)
    device.fs.delete(name)
    return []


def urdfile(device, kind, params):
    if kind == TEST:
        return []
    if kind != SET:
        raise CmeError(INCORRECT_PARAMETERS)
    name, _ = _name_and_tag(params)
    data = device.fs.read(name)
    head = ('+URDFILE: "%s",%d,"' % (name, len(data))).encode("latin-1")
    return [head + data + b'"']


def register(device):
    store = device.fs = FileStore(device.state_path("fs"))
    # control verbs: inspect or seed the file system without the AT path
    device.controls["fs_list"] = store.names
    device.controls["fs_read"] = lambda name: store.read(name).decode("latin-1")
    device.controls["fs_write"] = lambda name, data: store.write(name, data.encode("latin-1"))
    device.register("+UDWNFILE", udwnfile)
    device.register("+ULSTFILE", ulstfile)
    device.register("+UDELFILE", udelfile)
    device.register("+URDFILE", urdfile)
