"""ubxsec.rotate against a pretend module on the scripted FakeUart: each
step, resume() from each stage, and every journal failure."""

import os

import ubxsec
from ubxsec import rotate
from ubxsec.pem import new_md5
from ubxsec.rotate import JournalError, NoRoom, Rotation, RotationError, gen_name
from fakeuart import FakeUart, PromptReply, reply, OK
from checks import exists, raises, remove, scratch_path

PATH = scratch_path("ubxsec_unit_rotate.json")
TMP = PATH + ".tmp"
KINDS = ("CA", "CC", "PK")
# small DER SEQUENCEs: what import_bytes checks
NEW_CA = b"\x30\x03\x02\x01\x07"
NEW_CC = b"\x30\x03\x02\x01\x08"
NEW_PK = b"\x30\x03\x02\x01\x09"


def _hex(d):
    return "%02x" * len(d) % tuple(d)


def md5_of(data):
    h = new_md5()
    h.update(data)
    return _hex(h.digest())


class Pretend:
    """A module as far as rotation needs: +USECMNG 0/2/3/4 and +USECPRF."""

    def __init__(self, entries=(("CA", "MyCA"), ("CC", "MyCC"), ("PK", "MyPK"))):
        self.entries = []   # [kind, name, md5], in import order
        for kind, name in entries:
            self.entries.append([kind, name, md5_of(name.encode())])
        self.prof = {}
        for p in range(5):
            self.prof[p] = {}
        self.prof[2] = {3: "MyCA", 5: "MyCC", 6: "MyPK", 0: 1}
        self.log = []       # the commands, as text

    def find(self, name):
        for e in self.entries:
            if e[1] == name:
                return e
        return None

    def __call__(self, line):
        text = line.decode()
        self.log.append(text)
        if text.startswith("AT+USECMNG="):
            return self.usecmng([_val(f) for f in text[11:].split(",")])
        if text.startswith("AT+USECPRF="):
            return self.usecprf([_val(f) for f in text[11:].split(",")])
        return OK

    def usecmng(self, f):
        op = f[0]
        if op == 0:
            kind, name = KINDS[f[1]], f[2]
            if self.find(name) is None and len(self.entries) >= 10:
                return reply("+CME ERROR: memory full")

            def store(data):
                e = self.find(name)
                if e is None:
                    self.entries.append([kind, name, md5_of(data)])
                else:
                    e[:] = [kind, name, md5_of(data)]
                return reply('+USECMNG: 0,%d,"%s","%s"' % (f[1], name, md5_of(data)), "OK")
            return PromptReply(b">", f[3], store)
        if op == 3:   # AT+USECMNG=3[,<type>]: every entry, or those of one kind
            want = ("CA", "CC", "PK", "SC")[f[1]] if len(f) > 1 else None
            out = []
            for kind, name, _ in self.entries + [["CA", "PreRoot", None]]:
                if want is None or kind == want:
                    out.append('"PK","%s"' % name if kind == "PK" else
                               '"%s","%s","cn","2030/01/01"' % (kind, name) if name != "PreRoot"
                               else '"CA","PreRoot","pre","2030/01/01 00:00:00"')
            return reply(*(out + ["OK"]))
        if f[2] == "PreRoot":   # a pre-installed root: listed, never removed
            return reply("+CME ERROR: 3") if op == 2 else \
                reply('+USECMNG: 4,0,"PreRoot","%s"' % md5_of(b"pre"), "OK")
        e = self.find(f[2])
        if e is None or e[0] != KINDS[f[1]]:
            return reply("+CME ERROR: 22")
        if op == 2:
            self.entries.remove(e)
            return OK
        return reply('+USECMNG: 4,%d,"%s","%s"' % (f[1], e[1], e[2]), "OK")

    def usecprf(self, f):
        p = self.prof[f[0]]
        if len(f) == 1:
            self.prof[f[0]] = {}
            return OK
        op = f[1]
        if op == 13:
            if len(f) == 3:
                return reply("+USECPRF: %d,13,%d,%d" % (f[0], f[2], 0 if f[2] == 0 else 1), "OK")
            return OK
        if len(f) > 2:
            p[op] = f[2] if op != 12 else f[2:]
            return OK
        v = p.get(op, _DEFAULTS[op])
        if op == 12:
            v = '"%s",%d' % tuple(v)
        elif op == 9:
            v = '"%s"' % v
        elif isinstance(v, str):
            v = '"%s"' % v
        return reply("+USECPRF: %d,%d,%s" % (f[0], op, v), "OK")


_DEFAULTS = {0: 0, 1: 0, 2: 0, 3: "", 4: "", 5: "", 6: "", 9: "", 10: "", 11: 0,
             12: ["", 0], 14: 0, 15: "", 16: 0}


def _val(s):
    if s.startswith('"'):
        return s[1:-1]
    return int(s) if s.isdigit() else s


def rig(pretend=None):
    """(pretend module, fake uart, ubxsec.Module, Rotation) with no journal."""
    _clean()
    pretend = pretend or Pretend()
    uart = FakeUart(pretend)
    m = ubxsec.Module(uart, timeout_ms=300)
    m.at.quiet_ms = 5
    return pretend, uart, m, Rotation(m, PATH)


def _clean():
    rotate._hook = None
    remove(PATH, TMP)


def refs(pretend):
    p = pretend.prof[2]
    return [p.get(3), p.get(5), p.get(6)]


def names(pretend):
    return [e[1] for e in pretend.entries]


def writes(pretend):
    """The setting writes and imports/removals sent so far."""
    return [c for c in pretend.log if c.startswith(("AT+USECMNG=0", "AT+USECMNG=2"))
            or c.startswith("AT+USECPRF=") and c.count(",") >= 2]


class Cut(BaseException):
    """A power cut: nothing of the library handles it."""


def cut_at(step, nth=1):
    """Hook raising Cut at the nth journal step named step."""
    seen = [0]

    def hook(name):
        if name == step:
            seen[0] += 1
            if seen[0] == nth:
                raise Cut(step)
    rotate._hook = hook


# -- names -----------------------------------------------------------------

def test_generation_names_fit_every_model():
    assert gen_name(2, "ca", 7) == "p2-CA-g7"
    assert gen_name(0, "client_key", 1) == "p0-PK-g1"
    # the spec model's 30 characters, for any generation a module can reach
    assert len(gen_name(4, "client_cert", 10 ** 22)) <= 30


def test_generation_number_follows_the_highest_listed():
    pretend = Pretend((("CA", "MyCA"), ("CC", "MyCC"), ("PK", "MyPK"), ("CA", "p2-CA-g4"),
                       ("CA", "p3-CA-g9"), ("CA", "p2-XX-g8")))
    pretend, uart, m, r = rig(pretend)
    got = r.begin(2, ca=NEW_CA)
    assert got == {"ca": "p2-CA-g5"}, got
    _clean()


# -- begin -------------------------------------------------------------------

def test_begin_imports_verified_and_leaves_the_profile():
    pretend, uart, m, r = rig()
    got = r.begin(2, client_cert=NEW_CC, client_key=NEW_PK)
    assert got == {"client_cert": "p2-CC-g1", "client_key": "p2-PK-g1"}, got
    assert pretend.find("p2-CC-g1")[2] == md5_of(NEW_CC)
    assert pretend.find("p2-PK-g1")[2] == md5_of(NEW_PK)
    assert refs(pretend) == ["MyCA", "MyCC", "MyPK"]
    assert not [c for c in writes(pretend) if c.startswith("AT+USECPRF")]
    st = rotate.load(PATH)
    assert st["stage"] == rotate.IMPORTED
    assert st["roles"]["client_key"] == ["MyPK", "p2-PK-g1", md5_of(NEW_PK)]
    _clean()


def test_begin_cert_without_key_refused_before_any_command():
    pretend, uart, m, r = rig()
    raises(ValueError, r.begin, 2, client_cert=NEW_CC)
    raises(ValueError, r.begin, 2, client_key=NEW_PK)
    raises(ValueError, r.begin, 2)
    assert pretend.log == [] and not exists(PATH)


def test_begin_no_room_refused_before_any_change():
    pretend = Pretend([("CA", "MyCA"), ("CC", "MyCC"), ("PK", "MyPK")]
                      + [("CA", "x%d" % i) for i in range(6)])    # 9 of 10
    pretend, uart, m, r = rig(pretend)
    exc = raises(NoRoom, r.begin, 2, client_cert=NEW_CC, client_key=NEW_PK)
    assert "needs 2 free entries" in str(exc) and "9 of 10" in str(exc), exc
    assert writes(pretend) == [] and not exists(PATH)
    r.begin(2, ca=NEW_CA)    # one entry still fits (pre-installed roots do not count)
    _clean()


def test_begin_module_full_undoes_what_it_imported():
    pretend = Pretend([("CA", "MyCA"), ("CC", "MyCC"), ("PK", "MyPK")]
                      + [("CA", "x%d" % i) for i in range(6)])
    pretend, uart, m, r = rig(pretend)
    r.slots = 11   # the library believes there is room; the module refuses the key
    raises(ubxsec.CmeError, r.begin, 2, client_cert=NEW_CC, client_key=NEW_PK)
    assert "p2-CC-g1" not in names(pretend) and len(pretend.entries) == 9
    assert not exists(PATH) and not exists(TMP)
    _clean()


def test_begin_profile_without_the_role_refused():
    pretend = Pretend()
    pretend.prof[2] = {3: "MyCA"}
    pretend, uart, m, r = rig(pretend)
    exc = raises(RotationError, r.begin, 2, client_cert=NEW_CC, client_key=NEW_PK)
    assert "client_cert_name" in str(exc), exc
    assert writes(pretend) == [] and not exists(PATH)


def test_begin_refused_while_a_rotation_is_open():
    pretend, uart, m, r = rig()
    r.begin(2, ca=NEW_CA)
    exc = raises(RotationError, Rotation(m, PATH).begin, 2, ca=NEW_CA)
    assert "in progress" in str(exc)
    _clean()


# -- switch, commit, rollback ------------------------------------------------

def test_switch_then_commit_removes_the_old_generation():
    pretend, uart, m, r = rig()
    r.begin(2, client_cert=NEW_CC, client_key=NEW_PK)
    assert names(pretend)[:3] == ["MyCA", "MyCC", "MyPK"]
    r.switch()
    assert refs(pretend) == ["MyCA", "p2-CC-g1", "p2-PK-g1"]
    assert "MyCC" in names(pretend)    # until commit the old generation stays
    assert rotate.load(PATH)["stage"] == rotate.SWITCHED
    r.commit()
    assert names(pretend) == ["MyCA", "p2-CC-g1", "p2-PK-g1"], names(pretend)
    assert not exists(PATH) and not exists(TMP)
    raises(RotationError, r.commit)
    _clean()


def test_commit_keeps_what_another_profile_uses():
    pretend, uart, m, r = rig()
    pretend.prof[3] = {3: "MyCA"}
    r.begin(2, ca=NEW_CA)
    r.switch()
    r.commit()
    assert "MyCA" in names(pretend) and refs(pretend)[0] == "p2-CA-g1"
    _clean()


def test_commit_leaves_a_pre_installed_root():
    pretend, uart, m, r = rig()
    pretend.prof[2][3] = "PreRoot"
    r.begin(2, ca=NEW_CA)
    r.switch()
    r.commit()
    assert refs(pretend)[0] == "p2-CA-g1" and not exists(PATH)
    assert "AT+USECMNG=2,0,\"PreRoot\"" in pretend.log   # tried: the module refused
    _clean()


def test_rollback_after_switch():
    pretend, uart, m, r = rig()
    r.begin(2, ca=NEW_CA)
    r.switch()
    r.rollback()
    assert refs(pretend) == ["MyCA", "MyCC", "MyPK"]
    assert names(pretend) == ["MyCA", "MyCC", "MyPK"]
    assert not exists(PATH)
    _clean()


def test_commit_before_switch_refused():
    pretend, uart, m, r = rig()
    raises(RotationError, r.switch)
    r.begin(2, ca=NEW_CA)
    exc = raises(RotationError, r.commit)
    assert "imported" in str(exc)
    assert "MyCA" in names(pretend)
    _clean()


# -- test --------------------------------------------------------------------

def test_test_on_a_scratch_profile():
    pretend, uart, m, r = rig()
    pretend.prof[2][4] = "server.test"
    seen = []

    def check(pid):
        seen.append((pid, dict(pretend.prof[pid])))
    r.begin(2, ca=NEW_CA)
    raises(ValueError, r.test, check, 2)     # the live profile is no scratch
    r.test(check, scratch_profile=4)
    pid, prof = seen[0]
    assert pid == 4 and prof[3] == "p2-CA-g1" and prof[5] == "MyCC" and prof[4] == "server.test", prof
    assert pretend.prof[4] == {}        # reset afterwards
    assert refs(pretend)[0] == "MyCA"
    assert rotate.load(PATH)["stage"] == rotate.TESTED
    r.switch()
    r.commit()
    _clean()


def test_failing_check_rolls_back():
    pretend, uart, m, r = rig()
    r.begin(2, ca=NEW_CA)

    def check(pid):
        raise OSError("TLS handshake refused")
    exc = raises(RotationError, r.test, check, 4)
    assert "TLS handshake refused" in str(exc) and "rolled back" in str(exc), exc
    assert names(pretend) == ["MyCA", "MyCC", "MyPK"] and refs(pretend)[0] == "MyCA"
    assert pretend.prof[4] == {} and not exists(PATH)
    r2 = Rotation(m, PATH)
    r2.begin(2, ca=NEW_CA)
    raises(RotationError, r2.test, lambda pid: False)
    assert names(pretend) == ["MyCA", "MyCC", "MyPK"]
    _clean()


# -- resume ------------------------------------------------------------------

def test_resume_without_journal():
    pretend, uart, m, r = rig()
    assert Rotation.resume(m, PATH) is None
    assert writes(pretend) == []


def test_resume_before_switch_rolls_back():
    pretend, uart, m, r = rig()
    r.begin(2, client_cert=NEW_CC, client_key=NEW_PK)   # then the power goes
    assert Rotation.resume(m, PATH) == "rolled back"
    assert names(pretend) == ["MyCA", "MyCC", "MyPK"] and refs(pretend)[1:] == ["MyCC", "MyPK"]
    assert not exists(PATH)
    _clean()


def test_resume_cut_during_import_rolls_back():
    pretend, uart, m, r = rig()
    cut_at("renamed", 2)    # the journal after the imports
    raises(Cut, r.begin, 2, client_cert=NEW_CC, client_key=NEW_PK)
    rotate._hook = None
    assert rotate.load(PATH)["stage"] == rotate.IMPORTED
    assert Rotation.resume(m, PATH) == "rolled back"
    assert names(pretend) == ["MyCA", "MyCC", "MyPK"]
    _clean()


def test_resume_half_switched_finishes():
    pretend, uart, m, r = rig()
    r.begin(2, client_cert=NEW_CC, client_key=NEW_PK)
    cut_at("renamed", 1)
    raises(Cut, r.switch)     # SWITCHING journaled, nothing set yet
    rotate._hook = None
    pretend.prof[2][5] = "p2-CC-g1"   # and the certificate set: a new cert, an old key
    assert Rotation.resume(m, PATH) == "committed"
    assert refs(pretend) == ["MyCA", "p2-CC-g1", "p2-PK-g1"]
    assert names(pretend) == ["MyCA", "p2-CC-g1", "p2-PK-g1"]
    assert not exists(PATH)
    _clean()


def test_resume_switching_with_a_bad_new_entry_rolls_back():
    pretend, uart, m, r = rig()
    r.begin(2, ca=NEW_CA)
    cut_at("renamed", 1)
    raises(Cut, r.switch)
    rotate._hook = None
    pretend.find("p2-CA-g1")[2] = "0" * 32     # not what was verified
    assert Rotation.resume(m, PATH) == "rolled back"
    assert refs(pretend)[0] == "MyCA" and "p2-CA-g1" not in names(pretend)
    _clean()


def test_resume_switched_commits():
    pretend, uart, m, r = rig()
    r.begin(2, ca=NEW_CA)
    r.switch()
    assert Rotation.resume(m, PATH) == "committed"
    assert sorted(names(pretend)) == ["MyCC", "MyPK", "p2-CA-g1"], names(pretend)
    assert refs(pretend)[0] == "p2-CA-g1" and not exists(PATH)
    _clean()


def test_resume_cut_in_commit_finishes():
    pretend, uart, m, r = rig()
    r.begin(2, ca=NEW_CA)
    r.switch()
    cut_at("remove", 1)     # COMMITTING journaled, old removed, journal not yet
    raises(Cut, r.commit)
    rotate._hook = None
    assert "MyCA" not in names(pretend)
    assert Rotation.resume(m, PATH) == "committed"
    assert not exists(PATH)
    _clean()


def test_resume_cut_in_rollback_finishes():
    pretend, uart, m, r = rig()
    r.begin(2, ca=NEW_CA)
    r.switch()
    cut_at("remove", 1)
    raises(Cut, r.rollback)
    rotate._hook = None
    assert Rotation.resume(m, PATH) == "rolled back"
    assert refs(pretend)[0] == "MyCA" and "p2-CA-g1" not in names(pretend)
    _clean()


# -- the journal -------------------------------------------------------------

def _journaled():
    pretend, uart, m, r = rig()
    r.begin(2, ca=NEW_CA)
    with open(PATH) as f:
        text = f.read()
    return pretend, m, text


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def _refused(m, pretend, text, word):
    _write(PATH, text)
    n = len(pretend.log)
    exc = raises(JournalError, Rotation.resume, m, PATH)
    assert word in str(exc) and PATH in str(exc), exc
    assert len(pretend.log) == n    # not acted on: not one command
    assert exists(PATH)


def test_journal_format_and_checksum():
    pretend, m, text = _journaled()
    head = text.split("\n")[0].split(" ")
    assert head[:2] == ["ubxsec-rotate", "1"] and int(head[3]) == len(text) - len(text.split("\n")[0]) - 1
    assert len(text) < 400, len(text)
    _clean()


def test_journal_corrupt_is_reported_not_acted_on():
    pretend, m, text = _journaled()
    i = text.find("MyCA")
    _refused(m, pretend, text[:i] + "MyCB" + text[i + 4:], "checksum")
    _clean()


def test_journal_truncated_is_reported():
    pretend, m, text = _journaled()
    _refused(m, pretend, text[:len(text) - 9], "truncated")
    _clean()


def test_journal_foreign_is_reported():
    pretend, m, text = _journaled()
    _refused(m, pretend, '{"v": 1, "id": 2, "tag": 3, "data": ["x"]}', "not a rotation journal")
    _refused(m, pretend, "", "not a rotation journal")
    _clean()


def test_journal_right_sum_wrong_content_is_reported():
    pretend, m, text = _journaled()
    _refused(m, pretend, rotate._pack({"stage": "sideways", "roles": {}}), "content unknown")
    _clean()


def test_journal_lone_tmp():
    pretend, m, text = _journaled()
    os.rename(PATH, TMP)    # FAT: the old journal removed, the rename not done
    assert rotate.load(PATH)["stage"] == rotate.IMPORTED
    assert Rotation.resume(m, PATH) == "rolled back"
    _clean()
    pretend, uart, m, r = rig()
    _write(TMP, text[:50])  # cut while the first journal was written: nothing done yet
    assert Rotation.resume(m, PATH) is None
    assert not exists(TMP) and writes(pretend) == []
    _clean()


def test_journal_half_written_tmp_beside_a_whole_journal():
    pretend, m, text = _journaled()
    _write(TMP, text[:40])
    assert rotate.load(PATH)["stage"] == rotate.IMPORTED
    _clean()


def test_journal_read_back_mismatch_raises():
    pretend, uart, m, r = rig()

    def hook(name):
        if name == "renamed":
            _write(PATH, "garbage")
    rotate._hook = hook
    exc = raises(JournalError, r.begin, 2, ca=NEW_CA)
    assert "read back" in str(exc), exc
    assert writes(pretend) == []   # stopped before the first import
    _clean()


def test_journal_write_steps_in_order():
    pretend, uart, m, r = rig()
    steps = []
    rotate._hook = steps.append
    r.begin(2, ca=NEW_CA)
    assert steps[:5] == ["open", "opened", "half", "written", "renamed"], steps
    _clean()


def test_journal_not_written_from_a_urc_handler():
    pretend, uart, m, r = rig()
    r.begin(2, ca=NEW_CA)
    got = []

    def handler(line):
        got.append(raises(RuntimeError, r.switch))
    m.on_urc("+XURC:", handler)
    uart.inject(b"\r\n+XURC: 1\r\n")
    m.poll()
    assert got and "busy" in str(got[0]), got
    assert rotate.load(PATH)["stage"] == rotate.IMPORTED
    _clean()


# -- the journal on a board's file systems ------------------------------------

class RamDisk:
    """A block device in RAM (the block protocol of vfs.VfsLfs2 / VfsFat)."""

    def __init__(self, blocks, size=512):
        self.size = size
        self.data = bytearray(blocks * size)

    def readblocks(self, n, buf, off=0):
        a = n * self.size + off
        buf[:] = self.data[a:a + len(buf)]

    def writeblocks(self, n, buf, off=None):
        a = n * self.size + (off or 0)
        self.data[a:a + len(buf)] = buf

    def ioctl(self, op, arg):
        if op == 4:
            return len(self.data) // self.size
        if op == 5:
            return self.size
        return 0


def _on_fs(kind, blocks):
    """Mount a fresh file system of vfs.<kind> at /rt_<kind>; its mount
    point, or None where the port has none (the wasm32 board has neither)."""
    try:
        import vfs
    except ImportError:
        return None
    cls = getattr(vfs, kind, None)
    if cls is None:
        return None
    disk = RamDisk(blocks)
    cls.mkfs(disk)
    where = "/rt_" + kind
    vfs.mount(cls(disk), where)
    return where


def _umount(where):
    import vfs
    vfs.umount(where)


def test_journal_on_littlefs_and_fat_survives_a_cut_in_each_write():
    import sys
    tried = []
    for kind, blocks in (("VfsLfs2", 64), ("VfsFat", 128)):
        where = _on_fs(kind, blocks)
        if where is None:
            continue
        tried.append(kind)
        path = where + "/rotate.json"
        try:
            for step in ("opened", "half", "written", "renamed"):
                pretend, uart, m, r = rig()
                r = Rotation(m, path)
                r.begin(2, ca=NEW_CA)
                cut_at(step, 1)
                raises(Cut, r.switch)   # cut inside the SWITCHING write (or just after)
                rotate._hook = None
                want = "committed" if step == "renamed" else "rolled back"
                assert Rotation.resume(m, path) == want, (kind, step)
                assert refs(pretend)[0] == ("p2-CA-g1" if want == "committed" else "MyCA")
                assert os.listdir(where) == [], (kind, step, os.listdir(where))
        finally:
            rotate._hook = None
            _umount(where)
    if sys.platform == "linux":   # the unix port: both built in
        assert tried == ["VfsLfs2", "VfsFat"], tried


class _FatOs:
    """os whose rename refuses an existing target (FAT's rule on ports whose
    driver does not remove it first)."""

    def __init__(self):
        self.refused = 0

    def rename(self, a, b):
        if exists(b):
            self.refused += 1
            raise OSError(17)
        os.rename(a, b)

    def remove(self, p):
        os.remove(p)


def test_journal_where_rename_refuses_an_existing_target():
    fat = _FatOs()
    rotate.os = fat
    try:
        pretend, uart, m, r = rig()
        r.begin(2, ca=NEW_CA)
        assert fat.refused == 1 and rotate.load(PATH)["stage"] == rotate.IMPORTED
        cut_at("fat", 1)     # the old journal removed, the new one not renamed yet
        raises(Cut, r.switch)
        rotate._hook = None
        assert not exists(PATH) and exists(TMP)
        assert rotate.load(PATH)["stage"] == rotate.SWITCHING   # the lone whole .tmp
        assert Rotation.resume(m, PATH) == "committed"
        assert refs(pretend)[0] == "p2-CA-g1" and not exists(PATH) and not exists(TMP)
    finally:
        rotate.os = os
        _clean()
