# The virtual rig by hand (included from the main Makefile, which has VPY and `setup`).
#   make board                   simulator + virtual board; prints how to connect; Ctrl-C stops
#                                (one rig per BOARD_DIR: a second is refused, a killed one cleaned up)
#   make repl                    mpremote's REPL on the running virtual board
#   make urc LINE='+UUSECPRF: 2,0,1'   the module sends that URC (control socket)
#   make rig-reset               forget the rigs' module state and flash (not .venv)
# The module's state and the board's flash live in build/vboard (make board) and
# build/rig (make demo/provision without PORT) and survive restarts.
# VBOARD=wasm32: the 32-bit board (boards/wasm32) instead of the unix port.

BOARD_DIR  ?= $(CURDIR)/build/vboard
RIG_DIR    ?= build/rig
BOARD_BAUD ?= 115200
BOARD_HEAP ?= 192K
BOARD_TTY  := $(patsubst $(CURDIR)/%,%,$(BOARD_DIR))/board.tty
BOARD_CTL  := $(patsubst $(CURDIR)/%,%,$(BOARD_DIR))/control.sock
MPREMOTE   := $(VENV)/bin/mpremote
LINE       ?=
# more simulator options, e.g. SIM_ARGS=--verbose (its event log: ubxsim.log)
SIM_ARGS   ?=

.PHONY: board repl urc rig-reset

# One rig per directory: $(BOARD_PIDS) holds "shell simulator board" while one
# runs. A live shell there is a running rig: refused (another BOARD_DIR starts
# an independent one). A dead shell is a killed run: whatever of its simulator
# and board still runs (checked by its command line, so a reused pid is left
# alone) is stopped and its links are removed.
BOARD_PIDS := $(BOARD_DIR)/rig.pids

board: setup
	@mkdir -p $(BOARD_DIR)
	@if [ -f $(BOARD_PIDS) ]; then \
	  read shell sim brd < $(BOARD_PIDS) || true; \
	  ours() { [ -n "$$1" ] && tr '\0' ' ' < /proc/$$1/cmdline 2>/dev/null | grep -qF "$(BOARD_DIR)/"; }; \
	  if ours "$$shell"; then \
	    echo "make board: a rig is already running in $(BOARD_DIR) (make board pid $$shell, simulator $$sim, board $$brd; REPL on $(BOARD_TTY))."; \
	    echo "  Use it, stop it first (Ctrl-C in its terminal), or start an independent one: make board BOARD_DIR=<another directory>"; \
	    exit 2; fi; \
	  stopped=; for p in $$sim $$brd; do ours $$p && kill $$p && stopped="$$stopped $$p"; done; \
	  for i in $$(seq 50); do alive=; for p in $$stopped; do kill -0 $$p 2>/dev/null && alive=1; done; \
	    [ -z "$$alive" ] && break; sleep 0.1; done; \
	  for p in $$stopped; do kill -0 $$p 2>/dev/null && kill -9 $$p; done; \
	  rm -f $(BOARD_PIDS) $(BOARD_DIR)/board.tty $(BOARD_DIR)/module.tty $(BOARD_DIR)/control.sock; \
	  echo "make board: cleaned up a stale rig in $(BOARD_DIR) (a killed run: stopped$${stopped:- nothing, its processes had ended}; removed its links)"; \
	fi
	@# one log per process, overwritten by the next run
	@set -e; \
	$(VPY) -m ubxsim --link $(BOARD_DIR)/module.tty --baud $(BOARD_BAUD) \
	    --state $(BOARD_DIR)/module --control $(BOARD_CTL) $(SIM_ARGS) \
	    > $(BOARD_DIR)/ubxsim.out 2> $(BOARD_DIR)/ubxsim.log & sim=$$!; brd=; \
	trap 'kill $$sim $$brd 2>/dev/null; wait 2>/dev/null; rm -f $(BOARD_PIDS); exit 0' INT TERM; \
	echo "$$$$ $$sim" > $(BOARD_PIDS); \
	for i in $$(seq 100); do grep -q "ubxsim ready" $(BOARD_DIR)/ubxsim.out 2>/dev/null && break; \
	    kill -0 $$sim 2>/dev/null || { cat $(BOARD_DIR)/ubxsim.log; rm -f $(BOARD_PIDS); exit 1; }; sleep 0.1; done; \
	$(VPY) boards/$(if $(filter wasm32,$(VBOARD)),wasm32,unix)/launch.py --link $(BOARD_TTY) --flash $(BOARD_DIR)/flash \
	    --uart $(BOARD_DIR)/module.tty --heapsize $(BOARD_HEAP) \
	    > $(BOARD_DIR)/vboard.out 2> $(BOARD_DIR)/vboard.log & brd=$$!; \
	for i in $$(seq 300); do grep -q "vboard ready" $(BOARD_DIR)/vboard.out 2>/dev/null && break; \
	    kill -0 $$brd 2>/dev/null || { cat $(BOARD_DIR)/vboard.log; kill $$sim; rm -f $(BOARD_PIDS); exit 1; }; sleep 0.1; done; \
	echo "$$$$ $$sim $$brd" > $(BOARD_PIDS); \
	echo "virtual board up: UART 0 wired to the module simulator (state in $(BOARD_DIR))"; \
	echo "  REPL:    make repl   (or: $(MPREMOTE) connect $(BOARD_TTY) repl)"; \
	echo "  deploy:  make deploy PORT=$(BOARD_TTY)   (the board names itself: BOARD=virtual)"; \
	echo "  URC:     make urc LINE='+UUSECPRF: 2,0,1'   (control socket $(BOARD_CTL))"; \
	echo "Ctrl-C to stop"; \
	wait $$brd; kill $$sim 2>/dev/null; wait 2>/dev/null; rm -f $(BOARD_PIDS)

repl: setup
	@test -e $(BOARD_TTY) || { echo "repl: no virtual board running: start 'make board' in another terminal"; exit 2; }
	$(MPREMOTE) connect $(BOARD_TTY) repl

urc: setup
	@test -S $(BOARD_CTL) || { echo "urc: no simulator running: start 'make board' in another terminal"; exit 2; }
	@test -n "$(LINE)" || { echo "usage: make urc LINE='+UUSECPRF: 2,0,1'"; exit 2; }
	@$(VPY) -c 'import json, socket, sys; s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); \
	  s.sendall(json.dumps({"verb": "urc", "line": sys.argv[2]}).encode() + b"\n"); \
	  r = json.loads(s.makefile().readline()); print("sent" if r["ok"] else "refused: " + r["error"]); \
	  sys.exit(0 if r["ok"] else 1)' $(BOARD_CTL) '$(LINE)'

rig-reset:
	@if [ -e $(BOARD_TTY) ] || [ -S $(BOARD_CTL) ]; then \
	  echo "rig-reset: stop 'make board' first (Ctrl-C in its terminal)"; exit 2; fi
	rm -rf $(BOARD_DIR) $(RIG_DIR)
	@echo "rig reset: the next run starts with a factory module and an erased flash"
