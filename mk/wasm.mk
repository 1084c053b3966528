# The 32-bit virtual board (boards/wasm32): MicroPython's WebAssembly port, an
# npm package pinned in boards/wasm32/package-lock.json, run by node.
#   make wasm32        install node (Debian's nodejs/npm, only if missing) and the port
#   make board VBOARD=wasm32 / make demo VBOARD=wasm32   use it instead of the unix board
# `make test`, `make demo` and `make bench` install it first.
WASM_DIR   := build/wasm32
WASM_STAMP := $(WASM_DIR)/.installed
# VBOARD=unix64|wasm32 picks the virtual board of demo/board/bench runs, and
# restricts `make test`'s device tests to it (unset: both boards)
export VBOARD

.PHONY: wasm32

$(WASM_STAMP): boards/wasm32/package.json boards/wasm32/package-lock.json
	@command -v node >/dev/null && command -v npm >/dev/null || { \
	  [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null; } \
	  || { echo "wasm32: node and npm are missing: install Debian's nodejs and npm (as root)"; exit 1; }
	mkdir -p $(WASM_DIR)
	cp boards/wasm32/package.json boards/wasm32/package-lock.json $(WASM_DIR)/
	cd $(WASM_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

wasm32: $(WASM_STAMP)

# every target that starts a virtual board may start this one
test demo bench board: $(WASM_STAMP)
