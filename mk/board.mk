# The virtual rig by hand (included from the main Makefile, which has VPY and `setup`).
#   make board                   simulator + virtual board; prints how to connect; Ctrl-C stops
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

.PHONY: board repl urc rig-reset

board: setup
	@mkdir -p $(BOARD_DIR)
	@# one log per process, overwritten by the next run
	@set -e; \
	$(VPY) -m ubxsim --link $(BOARD_DIR)/module.tty --baud $(BOARD_BAUD) \
	    --state $(BOARD_DIR)/module --control $(BOARD_CTL) \
	    > $(BOARD_DIR)/ubxsim.out 2> $(BOARD_DIR)/ubxsim.log & sim=$$!; brd=; \
	trap 'kill $$sim $$brd 2>/dev/null; wait 2>/dev/null; exit 0' INT TERM; \
	for i in $$(seq 100); do grep -q "ubxsim ready" $(BOARD_DIR)/ubxsim.out 2>/dev/null && break; \
	    kill -0 $$sim 2>/dev/null || { cat $(BOARD_DIR)/ubxsim.log; exit 1; }; sleep 0.1; done; \
	$(VPY) boards/$(if $(filter wasm32,$(VBOARD)),wasm32,unix)/launch.py --link $(BOARD_TTY) --flash $(BOARD_DIR)/flash \
	    --uart $(BOARD_DIR)/module.tty --heapsize $(BOARD_HEAP) \
	    > $(BOARD_DIR)/vboard.out 2> $(BOARD_DIR)/vboard.log & brd=$$!; \
	for i in $$(seq 300); do grep -q "vboard ready" $(BOARD_DIR)/vboard.out 2>/dev/null && break; \
	    kill -0 $$brd 2>/dev/null || { cat $(BOARD_DIR)/vboard.log; kill $$sim; exit 1; }; sleep 0.1; done; \
	echo "virtual board up: UART 0 wired to the module simulator (state in $(BOARD_DIR))"; \
	echo "  REPL:    make repl   (or: $(MPREMOTE) connect $(BOARD_TTY) repl)"; \
	echo "  deploy:  make deploy PORT=$(BOARD_TTY) BOARD=virtual"; \
	echo "  URC:     make urc LINE='+UUSECPRF: 2,0,1'   (control socket $(BOARD_CTL))"; \
	echo "Ctrl-C to stop"; \
	wait $$brd; kill $$sim 2>/dev/null; wait 2>/dev/null

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
