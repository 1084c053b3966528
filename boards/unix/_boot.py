# The virtual board's start-up, run at every (soft) reset before the REPL:
# the unix port's own counterpart of a board's frozen _boot.py.
#
# - Mounts the flash: littlefs2 on a file-backed block device the size of a
#   Pico's flash filesystem, at "/" in place of the host's filesystem; with
#   VBOARD_MOUNT=/flash at /flash alone, as stm32 does (nothing at "/": making
#   a directory there fails with ENODEV, as on the board).
# - Mounts the wiring (a host directory of links to the ptys) at /dev, so
#   that UART(0) opens /dev/uart0. /dev is not part of the flash.
# - Installs the board's driver modules (vuart) into /lib when they differ.
# - sys.path = ['', '.frozen', '/lib'], cwd "/" (or ['', '.frozen', '/flash',
#   '/flash/lib'], cwd "/flash").
# - Runs /boot.py, then /main.py unless this is a reset from the raw REPL
#   (as a board does), in __main__'s globals.
#
# Settings come from the launcher's environment: VBOARD_FLASH (image file),
# VBOARD_WIRING (directory), VBOARD_DRIVERS (directory of .py files),
# VBOARD_REPL ("raw" or "friendly"), VBOARD_MOUNT ("/" or "/flash"); VBOARD_BOOTED and VBOARD_RESET are the
# markers to print (the launcher strips them) when the boot is done and when
# boot.py/main.py raised SystemExit (a soft reset on a board: the unix port
# would go on to its REPL, so the launcher restarts it).


def _vboard_mount():
    """Returns (raw, markers); raises on any failure (the launcher stops)."""
    import os
    import sys
    import vfs

    _BLOCK = 4096

    class FileFlash:
        """A flash chip in a host file: 4 KB erase blocks, byte-addressed writes."""

        def __init__(self, f, blocks):
            self._f = f
            self._blocks = blocks
            self._erased = bytearray(b"\xff" * 256)

        def readblocks(self, block, buf, off=0):
            self._f.seek(block * _BLOCK + off)
            self._f.readinto(buf)

        def writeblocks(self, block, buf, off=None):
            if off is None:
                self.ioctl(6, block)
                off = 0
            self._f.seek(block * _BLOCK + off)
            self._f.write(buf)

        def ioctl(self, op, arg):
            if op == 4:   # block count
                return self._blocks
            if op == 5:   # block size
                return _BLOCK
            if op == 6:   # erase
                self._f.seek(arg * _BLOCK)
                for _ in range(_BLOCK // 256):
                    self._f.write(self._erased)
                return 0
            return 0  # init, deinit, sync: the file is written through

    env = os.getenv
    image = env("VBOARD_FLASH")
    if not image:
        raise SystemExit("VBOARD_FLASH is not set: start the board with boards/unix/launch.py")
    wiring = env("VBOARD_WIRING")
    drivers_dir = env("VBOARD_DRIVERS")
    raw = env("VBOARD_REPL") == "raw"
    top = (env("VBOARD_MOUNT") or "/").rstrip("/")   # "" (the root) or "/flash"
    if top not in ("", "/flash"):
        raise SystemExit("VBOARD_MOUNT: / or /flash, not %r" % top)
    markers = (env("VBOARD_BOOTED") or "", env("VBOARD_RESET") or "")

    # Everything from the host is read before its filesystem goes away.
    flash_file = open(image, "r+b")
    blocks = flash_file.seek(0, 2) // _BLOCK
    drivers = []
    if drivers_dir:
        for name in os.listdir(drivers_dir):
            if name.endswith(".py"):
                with open(drivers_dir + "/" + name, "rb") as f:
                    drivers.append((name, f.read()))

    bdev = FileFlash(flash_file, blocks)
    vfs.umount("/")
    try:
        fs = vfs.VfsLfs2(bdev, progsize=256)
    except OSError:
        vfs.VfsLfs2.mkfs(bdev, progsize=256)
        fs = vfs.VfsLfs2(bdev, progsize=256)
    vfs.mount(fs, top or "/")
    if wiring:
        vfs.mount(vfs.VfsPosix(wiring), "/dev")
    os.chdir(top or "/")

    lib = top + "/lib"
    try:
        os.mkdir(lib)
    except OSError:
        pass
    for name, data in drivers:
        path = lib + "/" + name
        try:
            with open(path, "rb") as f:
                same = f.read() == data
        except OSError:
            same = False
        if not same:
            with open(path, "wb") as f:
                f.write(data)
    del drivers

    sys.path[:] = ["", ".frozen", top, lib] if top else ["", ".frozen", lib]
    sys.argv[:] = []
    return raw, markers


def _vboard_run(main_globals, raw, markers):
    import os
    import sys

    main_globals.pop("__file__", None)   # the REPL of a board has none

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
            return True   # a board soft-resets
        except BaseException as exc:   # a board prints the traceback and goes on
            sys.print_exception(exc)
        return False

    booted, reset = markers
    if run("boot.py"):
        sys.stdout.write(reset)
        return
    sys.stdout.write(booted)
    if not raw and run("main.py"):
        sys.stdout.write(reset)


try:
    _vboard_args = _vboard_mount()
except Exception as _exc:  # noqa: BLE001 - never leave a REPL on the host's filesystem
    import sys
    import vfs

    sys.print_exception(_exc)
    print("vboard: boot failed")
    try:
        vfs.umount("/")
    except OSError:
        pass
    raise SystemExit(1)
_vboard_run(globals(), *_vboard_args)
del _vboard_mount, _vboard_run, _vboard_args
import gc as _gc  # noqa: E402 - leave the REPL a collected heap, as a fresh board
_gc.collect()
del _gc
