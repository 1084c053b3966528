# make nitz [TIME=2026-12-07T10:00:00Z] [TZ=4]   (with `make board` running)
#   network time reaches the simulated module: its clock is set (TIME, UTC,
#   default the host's now; TZ in quarter hours) and +CTZV / +CTZE go out
#   as AT+CTZR asks. Control verb "nitz" (sim/ubxsim/clock.py).
.PHONY: nitz
TIME ?=
TZ   ?= 0

nitz: $(STAMP)
	@test -S $(BOARD_CTL) || { echo "nitz: no simulator running: start 'make board' in another terminal"; exit 2; }
	@$(VPY) -c 'import json, socket, sys; s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); \
	  req = {"verb": "nitz", "tz": int(sys.argv[3])}; req.update({"time": sys.argv[2]} if sys.argv[2] else {}); \
	  s.sendall(json.dumps(req).encode() + b"\n"); r = json.loads(s.makefile().readline()); \
	  print("module clock %s (network time)" % r["result"]["cclk"] if r["ok"] else "refused: " + r["error"]); \
	  sys.exit(0 if r["ok"] else 1)' $(BOARD_CTL) '$(TIME)' '$(TZ)'
