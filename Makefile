# Every target installs what it needs: a fresh clone runs `make demo` / `make test` as is.
# Everything comes from PyPI into .venv: the simulator and the virtual board use Python's
# own pty support, so no Debian package is needed beyond python3 and python3-venv.
PY      ?= python3
VENV    := .venv
VPY     := $(VENV)/bin/python
STAMP   := $(VENV)/.installed

.PHONY: all setup test clean
.DEFAULT_GOAL := test

include mk/*.mk

all: test

$(STAMP): requirements.txt sim/pyproject.toml
	@# a bare Debian python3 lacks ensurepip: python3-venv brings it (root only)
	test -x $(VPY) || $(PY) -m venv $(VENV) || { rm -rf $(VENV); \
	  [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null \
	  && $(PY) -m venv $(VENV); }
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q -r requirements.txt
	$(VPY) -m pip install -q -e sim
	touch $(STAMP)

setup: $(STAMP)

test: $(STAMP)
	$(VPY) -m pytest tests_host

clean:
	rm -rf $(VENV) .pytest_cache build
