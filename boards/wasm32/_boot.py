# Runs in __main__ at every (soft) reset of the wasm32 board, before the REPL:
# what a board's firmware does between reset and prompt. board.mjs sets
# _wasm32_raw (the reset happened in the raw REPL: main.py does not run) and
# _wasm32_mount: "/" (as rp2: sys.path ['', '.frozen', '/lib']) or "/flash"
# (as stm32: nothing at "/", sys.path ['', '.frozen', '/flash', '/flash/lib']).
#
# The board's files are in emscripten's /flash; they are mounted at "/" through
# _Flash, which gives OSError the errno numbers MicroPython's errno module (and
# mpremote) use: the port's VfsPosix reports emscripten's own (ENOENT is 44).
# /dev (emscripten's, with uart0) is a second mount, as on the unix board.

class _Flash:
    # emscripten errno -> MicroPython's errno (Linux numbering)
    _ERRNO = {44: 2, 20: 17, 54: 20, 31: 21, 55: 39, 2: 13, 8: 9, 28: 22, 29: 5,
              43: 19, 51: 28, 6: 11, 63: 1, 75: 18, 69: 30}

    def __init__(self, fs):
        self._fs = fs

    def _call(self, fn, *args):
        try:
            return fn(*args)
        except OSError as exc:
            code = exc.errno
            raise OSError(self._ERRNO.get(code, code)) from None

    def mount(self, readonly, mkfs):
        pass

    def umount(self):
        pass

    def open(self, path, mode):
        return self._call(self._fs.open, path, mode)

    def ilistdir(self, path):
        return iter(self._call(lambda: list(self._fs.ilistdir(path))))

    def stat(self, path):
        return self._call(self._fs.stat, path)

    def statvfs(self, path):
        return self._call(self._fs.statvfs, path)

    def mkdir(self, path):
        return self._call(self._fs.mkdir, path)

    def rmdir(self, path):
        return self._call(self._fs.rmdir, path)

    def remove(self, path):
        return self._call(self._fs.remove, path)

    def rename(self, old, new):
        return self._call(self._fs.rename, old, new)

    def chdir(self, path):
        return self._call(self._fs.chdir, path)

    def getcwd(self):
        return self._call(self._fs.getcwd)


def _wasm32_boot(main_globals, raw, mount):
    import os
    import sys
    import vfs

    top = "" if mount == "/" else mount
    vfs.umount("/")
    vfs.mount(_Flash(vfs.VfsPosix("/flash")), mount)
    vfs.mount(vfs.VfsPosix("/dev"), "/dev")
    sys.path[:] = ["", ".frozen", top, top + "/lib"] if top else ["", ".frozen", "/lib"]
    os.chdir(mount)

    def run(path):
        try:
            os.stat(path)
        except OSError:
            return
        try:
            with open(path) as f:
                source = f.read()
            exec(source, main_globals)
        except SystemExit:
            pass
        except BaseException as exc:   # a board prints the traceback and goes on
            sys.print_exception(exc)

    run("boot.py")
    if not raw:
        run("main.py")


_wasm32_boot(globals(), _wasm32_raw, _wasm32_mount)
del _wasm32_boot, _wasm32_raw, _wasm32_mount, _Flash
import gc as _gc  # noqa: E402 - leave the REPL a collected heap, as a fresh board
_gc.collect()
del _gc
