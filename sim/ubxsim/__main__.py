"""Command line: python -m ubxsim --link PATH [--baud N] [--state DIR] [--model NAME] ..."""

import argparse
import json
import os
import signal
import sys

from . import FAMILIES, build_device
from .control import ControlServer, parse_address
from .engine import Engine
from .faults import Faults, FaultSpecError
from .link import PtyLink
from .models import DEFAULT as DEFAULT_MODEL, MODELS
from .urcs import UrcSource


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="ubxsim", description=__doc__)
    parser.add_argument("--link", required=True, help="symlink to create to the pty slave")
    parser.add_argument("--baud", type=int, default=115200, help="UART pacing, 0 = unpaced")
    parser.add_argument("--state", help="directory for persistent state (default: memory)")
    parser.add_argument("--guard-seconds", type=float, default=20.0,
                        help="data-phase guard timer (the spec's 20 s)")
    parser.add_argument("--control", help="the JSON control channel: a unix socket path, or "
                        "tcp:PORT (127.0.0.1), or tcp:HOST:PORT (then each request needs the "
                        "token printed at start); PORT 0: any free one")
    parser.add_argument("--faults", help="fault spec as JSON (see ubxsim.faults)")
    parser.add_argument("--boot-seconds", type=float, default=0.25,
                        help="time a restart keeps the module deaf")
    parser.add_argument("--families", default=",".join(FAMILIES),
                        help="comma-separated command families to load")
    parser.add_argument("--model", default=DEFAULT_MODEL, choices=sorted(MODELS),
                        help="module series to behave as (default: the spec to the letter)")
    parser.add_argument("--urcs", type=float, default=0.0, metavar="RATE",
                        help="foreign URCs (+CEREG, RING...): probability 0..1 at each "
                             "opportunity (see ubxsim.urcs); 0 = none")
    parser.add_argument("--urcs-seed", type=int, default=0, help="seed of the URC choices")
    parser.add_argument("--urcs-idle", type=float, default=0.0, metavar="PER_SECOND",
                        help="foreign URCs on an idle line, on average per second")
    parser.add_argument("--verbose", action="store_true", help="log events to stderr")
    args = parser.parse_args(argv)
    if not 0 <= args.urcs <= 1 or not 0 <= args.urcs_idle <= 100:
        parser.error("--urcs: a probability within 0..1; --urcs-idle: 0..100 a second")
    if args.baud < 0 or args.guard_seconds <= 0 or args.boot_seconds < 0:
        parser.error("--baud, --guard-seconds and --boot-seconds must not be negative")
    if args.control:
        try:
            parse_address(args.control)
        except ValueError as exc:
            parser.error(str(exc))
    try:
        args.faults = Faults(json.loads(args.faults) if args.faults else None)
    except (ValueError, FaultSpecError) as exc:
        parser.error("--faults: %s" % exc)
    args.families = tuple(f for f in args.families.split(",") if f)
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.state:
        os.makedirs(args.state, exist_ok=True)
    device = build_device(args.state, families=args.families, model=args.model)
    log = (lambda msg: print("ubxsim: " + msg, file=sys.stderr, flush=True)) if args.verbose else None
    link = PtyLink(args.link)
    engine = Engine(device, link, baud=args.baud, guard_seconds=args.guard_seconds,
                    faults=args.faults, boot_seconds=args.boot_seconds, log=log,
                    urcs=UrcSource(args.urcs, args.urcs_seed, args.urcs_idle))
    control = None

    def on_signal(signum, frame):
        engine.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        if args.control:
            control = ControlServer(args.control, engine, device)
            control.start()
        engine.start()
        print("ubxsim ready %s" % args.link, flush=True)
        if control is not None and control.path is None:
            # the second line: where the control channel listens (and its token)
            print("ubxsim control %s%s" % (control.address, " token " + control.token
                                           if control.token else ""), flush=True)
        engine.run()
    finally:
        if control is not None:
            control.close()
        link.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
