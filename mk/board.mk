# `make board`: the module simulator and the virtual board wired together.
# Prints the mpremote connect string and runs until Ctrl-C. VBOARD=wasm32: the
# 32-bit board (boards/wasm32) instead of the unix port.
# Included from the main Makefile (needs VPY and the `setup` target from there).

BOARD_DIR  ?= $(CURDIR)/build/vboard
BOARD_BAUD ?= 115200
BOARD_HEAP ?= 192K

.PHONY: board

board: setup
	@mkdir -p $(BOARD_DIR)
	@set -e; \
	$(VPY) -m ubxsim --link $(BOARD_DIR)/module.tty --baud $(BOARD_BAUD) \
	    --state $(BOARD_DIR)/module > $(BOARD_DIR)/ubxsim.out 2> $(BOARD_DIR)/ubxsim.log & sim=$$!; \
	trap 'kill $$sim $$brd 2>/dev/null; wait 2>/dev/null; exit 0' INT TERM; \
	for i in $$(seq 100); do grep -q "ubxsim ready" $(BOARD_DIR)/ubxsim.out 2>/dev/null && break; \
	    kill -0 $$sim 2>/dev/null || { cat $(BOARD_DIR)/ubxsim.log; exit 1; }; sleep 0.1; done; \
	$(VPY) boards/$(if $(filter wasm32,$(VBOARD)),wasm32,unix)/launch.py --link $(BOARD_DIR)/board.tty --flash $(BOARD_DIR)/flash \
	    --uart $(BOARD_DIR)/module.tty --heapsize $(BOARD_HEAP) \
	    > $(BOARD_DIR)/vboard.out 2> $(BOARD_DIR)/vboard.log & brd=$$!; \
	for i in $$(seq 300); do grep -q "vboard ready" $(BOARD_DIR)/vboard.out 2>/dev/null && break; \
	    kill -0 $$brd 2>/dev/null || { cat $(BOARD_DIR)/vboard.log; kill $$sim; exit 1; }; sleep 0.1; done; \
	echo "virtual board up (simulator on $(BOARD_DIR)/module.tty, UART 0 of the board)"; \
	echo "mpremote connect $(BOARD_DIR)/board.tty"; \
	echo "Ctrl-C to stop"; \
	wait $$brd; kill $$sim 2>/dev/null; wait 2>/dev/null
