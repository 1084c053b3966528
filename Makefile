# Every target installs what it needs: a fresh clone runs `make demo` / `make test` as is.
PY      ?= python3
VENV    := .venv
VPY     := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
APT_PKGS := socat

.PHONY: all setup test demo bench board clean

include mk/board.mk

all: test

$(STAMP): requirements.txt sim/pyproject.toml
	@command -v socat >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then (apt-get update -qq && apt-get install -y -qq $(APT_PKGS)) >/dev/null; \
	  else echo "note: socat not found; install it with: sudo apt-get install $(APT_PKGS)"; fi; }
	test -x $(VPY) || $(PY) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q -r requirements.txt
	$(VPY) -m pip install -q -e sim
	touch $(STAMP)

setup: $(STAMP)

test: $(STAMP)
	$(VPY) -m pytest tests_host

clean:
	rm -rf $(VENV) .pytest_cache build
