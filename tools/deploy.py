"""`make mpy` / `make deploy`: compile lib/ubxsec and put it on a board.

    python tools/deploy.py mpy [--arch armv6m]      # -> build/mpy/ubxsec/*.mpy
    PORT=/dev/ttyACM0 BOARD=pico python tools/deploy.py deploy [--tests]

deploy asks the board which .mpy it loads (sys.implementation._mpy: version
and native architecture, so @micropython.viper/native code is compiled for
the board's CPU with mpy-cross -march) and where its files go (the lib
directory from sys.path, the working directory from os.getcwd(): /lib and /
on rp2, /flash/lib and /flash on stm32) and, without BOARD, which board it
is (os.uname().machine or sys.implementation._machine), compiles for it and copies
<lib>/ubxsec/*.mpy, <lib>/boards/<board>.py and <cwd>/board.py (the one line
that selects the board), and with --tests the tests_device files to <cwd>/tests.
"""

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests_host"))

import harness  # noqa: E402

BUILD = ROOT / "build" / "mpy"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("mpy", "deploy"))
    parser.add_argument("--arch", default=os.environ.get("ARCH") or None,
                        help="mpy-cross -march (mpy only; default: portable bytecode)")
    parser.add_argument("--port", default=os.environ.get("PORT", ""), help="mpremote connect string")
    parser.add_argument("--board", default=os.environ.get("BOARD") or None,
                        help="board file in boards/ (default: the one the board names itself, "
                             "harness.BOARD_RULES)")
    parser.add_argument("--tests", action="store_true", help="also copy tests_device to <cwd>/tests")
    args = parser.parse_args(argv)
    try:
        if args.action == "mpy":
            out = harness.compile_lib((harness.MPY_MAJOR, args.arch), BUILD)
            size = sum(p.stat().st_size for p in out.glob("*.mpy"))
            print("%s: %d .mpy files, %d bytes" % (out.relative_to(ROOT), len(list(out.glob("*.mpy"))), size))
            return 0
        if not args.port:
            print("deploy: set PORT to the board's mpremote connect string (e.g. PORT=/dev/ttyACM0 or a0)",
                  file=sys.stderr)
            return 2
        target = harness.Target(args.port)
        out = harness.compile_lib(target.mpy_info(), BUILD)
        args.board = harness.deploy(target, out, args.board,
                                    tests_dir=harness.TESTS_DEVICE if args.tests else None)
        where = target.layout()
        print("deployed ubxsec (.mpy %s, %s) to %s/ubxsec and board %s on %s; %s: %s"
              % (harness.mpy_opt(), target.mpy_info()[1] or "bytecode", where.lib, args.board, args.port,
                 where.path("board.py"), harness.board_line(args.board).strip()))
        return 0
    except harness.HarnessError as exc:
        print("%s: %s" % (args.action, exc), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
