"""The labgrid places this client has acquired, as rigs for the tools
(`make station LAB=1`): one JSON line each, {"place", "port", "control"}:
the place's NetworkSerialPort as an rfc2217:// URL and its module side
(tag control_port: the simulator's TCP control channel on the same host),
or null. Runs on build/venv-lab's python (labgrid and PyYAML); the
coordinator is $LG_COORDINATOR. A place acquired by someone else is left
out: labgrid-client env refuses it."""

import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

CLIENT = str(Path(sys.executable).parent / "labgrid-client")


def client(*args):
    return subprocess.run([CLIENT] + list(args), capture_output=True, text=True, timeout=60)


def main():
    listed = client("places", "--acquired")
    if listed.returncode:
        print("places: %s" % (listed.stderr or listed.stdout).strip(), file=sys.stderr)
        return 1
    for name in listed.stdout.split():
        env = client("-p", name, "env")
        if env.returncode:
            continue                       # not acquired by this client
        resources = yaml.safe_load(env.stdout)["targets"][name]["resources"]
        ports = [r["NetworkSerialPort"] for r in resources if "NetworkSerialPort" in r]
        if not ports:
            continue
        port = ports[0]
        tag = re.search(r"\bcontrol_port=(\d+)", client("-p", name, "show").stdout)
        print(json.dumps({"place": name, "port": "rfc2217://%s:%d" % (port["host"], port["port"]),
                          "control": "tcp:%s:%s" % (port["host"], tag.group(1)) if tag else None}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
