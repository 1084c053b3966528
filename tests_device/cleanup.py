"""What an interrupted run of the device tests left on the rig, removed before
the next one (the host runs clean() first: test_device_suite.py): module files
and certificates whose names the tests use (rig.FILE_PREFIX, rig.PREFIX), the
board files they write (rig.BOARD_FILES) and the settings of the profiles they
use (rig.PROFILES, reset). Pre-installed roots and profile 0 are left alone.
Prints `LEFTOVER <what>` for each thing removed, then `CLEAN <count>`.
"""

import os

import rig


def clean():
    m = rig.module()
    m.at.command("+CMEE=2")
    found = 0
    for name in rig.module_files():
        if name.startswith(rig.FILE_PREFIX):
            rig.delete_module_file(name)
            print("LEFTOVER module file %s" % name)
            found += 1
    for entry in m.certs.list():
        if entry.name.startswith(rig.PREFIX):
            m.certs.remove(entry.kind, entry.name)
            print("LEFTOVER %s %s" % (entry.kind, entry.name))
            found += 1
    for name in rig.BOARD_FILES:
        try:
            os.remove(name)
        except OSError:
            continue
        print("LEFTOVER board file %s" % name)
        found += 1
    for n in rig.PROFILES:
        m.profile(n).reset()
    print("CLEAN %d" % found)
    return found
