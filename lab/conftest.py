"""`make test-lab`: one labgrid place per pytest-xdist worker.

Worker gwK runs the whole device suite (--dist each) on the K+1th place of
$LAB_PLACES: its LG_PLACE is set before labgrid's plugin reads lab/env.yaml.
Before any test, the place must be acquired by this client (user and host,
as labgrid-client names them): anything else is refused, so a run never
shares a board with whoever holds it. The board port and the module side
come from the place (PORT, RIG_CONTROL), and each worker writes its own
JUnit XML, $LAB_JUNIT_DIR/junit-<place>.xml.
"""

import getpass
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

_place = None
_reports = []


def place_for(worker, places):
    """The place of xdist worker `worker` (gw0, gw1, ...; None: not a worker)."""
    if not places:
        raise pytest.UsageError("LAB_PLACES is empty: run through `make test-lab`")
    if worker is None:
        return places[0]
    index = int(worker[2:])
    if index >= len(places):
        raise pytest.UsageError("worker %s has no place (places: %s): run with -n %d"
                                % (worker, " ".join(places), len(places)))
    return places[index]


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    global _place
    _place = place_for(os.environ.get("PYTEST_XDIST_WORKER"), os.environ.get("LAB_PLACES", "").split())
    os.environ["LG_PLACE"] = _place


def acquired_by(place):
    """Who holds place ("host/user") or None, from labgrid-client show."""
    client = Path(sys.executable).parent / "labgrid-client"
    proc = subprocess.run([str(client), "-p", place, "show"], capture_output=True, text=True, timeout=60)
    if proc.returncode:
        raise pytest.UsageError("labgrid-client -p %s show: %s" % (place, (proc.stderr or proc.stdout).strip()))
    found = re.search(r"^\s*acquired:\s*(\S+)", proc.stdout, re.M)
    return None if not found or found.group(1) == "None" else found.group(1)


def me():
    return "%s/%s" % (os.environ.get("LG_HOSTNAME") or socket.gethostname(),
                      os.environ.get("LG_USERNAME") or getpass.getuser())


@pytest.fixture(scope="session", autouse=True)
def lab_place(request):
    """This worker's place, checked as acquired here; PORT and RIG_CONTROL set from it."""
    holder = acquired_by(_place)
    if holder != me():   # every test of this worker errors with this, none runs
        pytest.fail("place %s is not acquired by this client (%s; it is %s): acquire it first "
                    "(make test-lab does)" % (_place, me(), "held by " + holder if holder else "free"),
                    pytrace=False)
    from labgrid.resource import NetworkSerialPort, RemotePlace
    target = request.getfixturevalue("target")
    port = target.get_resource(NetworkSerialPort)
    tags = target.get_resource(RemotePlace).tags
    os.environ["PORT"] = "rfc2217://%s:%d" % (port.host, port.port)
    if tags.get("control_port"):
        os.environ["RIG_CONTROL"] = "tcp:%s:%s" % (port.host, tags["control_port"])
    return _place


def pytest_runtest_logreport(report):
    if report.when == "call" or report.outcome != "passed":
        _reports.append(report)


def pytest_sessionfinish(session):
    """This worker's JUnit XML (xdist's controller would merge every place's)."""
    out = os.environ.get("LAB_JUNIT_DIR")
    if not out or os.environ.get("PYTEST_XDIST_WORKER") is None:
        return
    suite = ElementTree.Element("testsuite", name="device-suite-" + _place, tests=str(
        len({r.nodeid for r in _reports})))
    counts = {"failures": 0, "skipped": 0, "errors": 0}
    for report in _reports:
        case = ElementTree.SubElement(suite, "testcase", classname=_place, name=report.nodeid,
                                      time="%.3f" % report.duration)
        if report.failed:
            kind = "failure" if report.when == "call" else "error"
            counts["failures" if kind == "failure" else "errors"] += 1
            ElementTree.SubElement(case, kind, message=report.when).text = str(report.longrepr)[-8000:]
        elif report.skipped:
            counts["skipped"] += 1
            ElementTree.SubElement(case, "skipped", message=str(report.longrepr)[-500:])
    for key, value in counts.items():
        suite.set(key, str(value))
    Path(out).mkdir(parents=True, exist_ok=True)
    ElementTree.ElementTree(suite).write(str(Path(out) / ("junit-%s.xml" % _place)),
                                         encoding="utf-8", xml_declaration=True)
