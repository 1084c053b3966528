# The board side of the power-cut harness (tools/powercut.py): runs on a
# virtual board (unix64 or wasm32) from its flash directory as pcboard.py,
# with its settings in pc.json there:
#   mode "setup"   import the old generation (MyCA, MyCC, MyPK), configure profile 2
#   mode "rotate"  run one rotation ("ca" or "client"); every event is numbered:
#                  before and after each AT command, inside each '>' data phase
#                  (after 1, half, all but 1 and all bytes), each journal step.
#                  At event number `cut` the flash is flushed (wasm32), "CUT n label"
#                  printed and the board spins until the harness kills it.
#   mode "resume"  what the module holds, Rotation.resume(), what it holds then and
#                  an HTTPS GET through profile 2: one "REPORT {json}" line.
import json
import time

import ubxsec
from ubxsec import rotate
from ubxsec.rotate import Rotation, https_check

cfg = json.load(open("pc.json"))
PROFILE = 2
_events = [0]
_BLOCK = 4096


class FileFlash:
    """unix64: the board's flash, a littlefs2 image in flash.img (as
    boards/unix/_boot.py mounts it): 4 KB erase blocks, written through to
    the host file, so a SIGKILL leaves exactly what littlefs had written."""

    def __init__(self, f, blocks):
        self.f = f
        self.blocks = blocks

    def readblocks(self, block, buf, off=0):
        self.f.seek(block * _BLOCK + off)
        self.f.readinto(buf)

    def writeblocks(self, block, buf, off=None):
        if off is None:
            self.ioctl(6, block)
            off = 0
        self.f.seek(block * _BLOCK + off)
        self.f.write(buf)

    def ioctl(self, op, arg):
        if op == 4:
            return self.blocks
        if op == 5:
            return _BLOCK
        if op == 6:
            self.f.seek(arg * _BLOCK)
            self.f.write(b"\xff" * _BLOCK)
        return 0


def mount_flash():
    """unix64: mount flash.img at /flash (made and filled with the *.pem of
    the host directory the first time) and work there; wasm32 already runs
    on its flash."""
    import os
    try:
        import vfs
        vfs.VfsLfs2  # noqa: B018 (probes the port for littlefs)
    except (ImportError, AttributeError):
        return
    try:
        f = open("flash.img", "r+b")
        fresh = False
    except OSError:
        f = open("flash.img", "w+b")
        f.write(b"\xff" * (64 * _BLOCK))
        fresh = True
    dev = FileFlash(f, f.seek(0, 2) // _BLOCK)
    if fresh:
        vfs.VfsLfs2.mkfs(dev, progsize=256)
    vfs.mount(vfs.VfsLfs2(dev, progsize=256), "/flash")
    if fresh:
        for name in os.listdir():
            if name.endswith(".pem"):
                with open(name, "rb") as a, open("/flash/" + name, "wb") as b:
                    b.write(a.read())
    os.chdir("/flash")


mount_flash()


def _flush_flash():
    try:
        import js
    except ImportError:   # unix64: every write went to the host file already
        return
    js.globalThis.vboardSaveFlash()


def event(label, settle=False):
    n = _events[0]
    _events[0] = n + 1
    if n == cfg["cut"]:
        if settle:   # let the module act on what it got, as it would before the cut
            time.sleep_ms(300)
        _flush_flash()
        print("CUT %d %s" % (n, label))
        while True:
            time.sleep_ms(1000)


class CutUart:
    """The board's UART with the cut points on its write side."""

    def __init__(self, u):
        self.u = u
        self.left = 0    # bytes of a '>' data phase still to go
        self.size = 0

    def __getattr__(self, name):
        return getattr(self.u, name)

    def write(self, buf, *a):
        if len(a) == 2:
            off, n = a
        elif a:
            off, n = 0, a[0]
        else:
            off, n = 0, len(buf)
        if isinstance(buf, bytes) and buf[off:off + 2] == b"AT":
            self.left = 0
            cmd = bytes(buf[off:off + n])
            label = cmd[:40].decode().strip()
            event("before " + label)
            w = self.u.write(buf, off, n)
            if cmd.startswith(b"AT+USECMNG=0,"):
                self.left = self.size = int(cmd.split(b",")[3].split(b"\r")[0])
            event("after " + label, True)
            return w
        if not self.left:
            return self.u.write(buf, off, n)
        done = self.size - self.left
        total = 0
        for t in (1, self.size // 2, self.size - 1, self.size):
            if done < t <= done + n:
                k = t - (done + total)
                if k > 0:
                    total += self.u.write(buf, off + total, k)
                event("data %d/%d" % (t, self.size), True)
        if total < n:
            total += self.u.write(buf, off + total, n - total)
        self.left -= total
        return total


def journal_step(name):
    event("journal " + name)


def uart():
    from vuart import UART
    return UART(cfg["uart"], baudrate=115200, rxbuf=1024, timeout=0)


def snapshot(m):
    p = m.profile(PROFILE)
    refs = [p.ca_name(), p.client_cert_name(), p.client_key_name()]
    names = [e.name for e in m.certs.list()]
    md5 = []
    for kind, name in zip(("CA", "CC", "PK"), refs):
        try:
            md5.append(m.certs.md5(kind, name))
        except ubxsec.UbxError:
            md5.append(None)
    return {"refs": refs, "md5": md5, "names": names}


def files():
    out = []
    for name in ("rotate.json", "rotate.json.tmp"):
        try:
            open(name).close()
            out.append(name)
        except OSError:
            pass
    return out


def main():
    mode = cfg["mode"]
    if mode == "rotate":
        m = ubxsec.Module(CutUart(uart()))
        rotate._hook = journal_step
        r = Rotation(m)
        if cfg["rot"] == "ca":
            r.begin(PROFILE, ca="newca.pem")
            if cfg.get("scratch") is not None:
                r.test(https_check(m, cfg["url"]), scratch_profile=cfg["scratch"])
        else:
            r.begin(PROFILE, client_cert="newcc.pem", client_key="newpk.pem")
        r.switch()
        r.commit()
        print("EVENTS %d" % _events[0])
        return
    m = ubxsec.Module(uart())
    if mode == "setup":
        for path, kind, name in (("oldca.pem", "CA", "MyCA"), ("oldcc.pem", "CC", "MyCC"),
                                 ("oldpk.pem", "PK", "MyPK")):
            m.certs.import_file(path, kind, name)
        p = m.profile(PROFILE)
        p.reset()
        p.validation_level(1)
        p.ca_name("MyCA")
        p.client_cert_name("MyCC")
        p.client_key_name("MyPK")
        https_check(m, cfg["url"])(PROFILE)
        print("SETUP done")
        return
    report = {"files_before": files(), "before": snapshot(m)}
    try:
        report["resume"] = Rotation.resume(m)
    except Exception as exc:
        report["error"] = "%s: %s" % (type(exc).__name__, exc)
    report["after"] = snapshot(m)
    report["files_after"] = files()
    try:
        https_check(m, cfg["url"])(PROFILE)
        report["tls"] = "ok"
    except Exception as exc:
        report["tls"] = "%s: %s" % (type(exc).__name__, exc)
    print("REPORT " + json.dumps(report))


main()
