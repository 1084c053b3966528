# `make hosts MAP=name=ip:port`: where the simulated module's HTTPS requests
# to `name` go (the simulator's control verb "hosts", on `make board`'s
# control socket); `MAP=name=` removes the name. Prints the host map.
# A simulated module has no network: this is how a rig started by hand
# reaches a local server (`make demo PORT=... BOARD=virtual` maps its own).
MAP ?=

.PHONY: hosts

hosts: setup
	@test -S $(BOARD_CTL) || { echo "hosts: no simulator running: start 'make board' in another terminal"; exit 2; }
	@$(VPY) -c 'import json, re, socket, sys; \
	  m = re.fullmatch(r"([A-Za-z0-9.-]+)=(?:([0-9.]+):([0-9]+))?", sys.argv[2]); \
	  m or (print("usage: make hosts MAP=name=ip:port (MAP=name= removes it)"), sys.exit(2)); \
	  name, ip, port = m.groups(); \
	  s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); \
	  s.sendall(json.dumps({"verb": "hosts", "map": {name: [ip, int(port)] if ip else None}}).encode() + b"\n"); \
	  r = json.loads(s.makefile().readline()); r["ok"] or (print("refused: " + r["error"]), sys.exit(1)); \
	  [print("%s -> %s:%s" % (n, a[0], a[1])) for n, a in sorted(r["result"].items())]' \
	  $(BOARD_CTL) '$(MAP)'
