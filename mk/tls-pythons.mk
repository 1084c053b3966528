# `make test-tls-pythons`: the simulator's TLS tests on every other CPython
# installed under pyenv, 3.11 and later (TLS_PYTHONS=... to choose), each in a venv of its own
# under build/ with the few PyPI packages those tests import. Opt-in: not part
# of `make test`, as each new venv downloads its packages. The simulator
# processes of the wire tests still run on the project's .venv; the TLS client,
# the libssl bridge and the test server run on the Python under test.
TLS_PYTHONS ?= $(wildcard $(HOME)/.pyenv/versions/3.*/bin/python3)
TLS_TESTS   := tests_host/test_sim_tls.py tests_host/test_sim_libssl.py tests_host/test_tls_pairs.py
TLS_PKGS    := pytest pytest-timeout pyserial "cryptography>=41" certifi

.PHONY: test-tls-pythons

test-tls-pythons: $(STAMP)
	@set -e; own=$$($(VPY) -c 'import sys; print("%d.%d" % sys.version_info[:2])'); ran=""; \
	for py in $(TLS_PYTHONS); do \
	  v=$$($$py -c 'import sys; print("%d.%d" % sys.version_info[:2])'); \
	  [ "$$v" = "$$own" ] && continue; venv=build/venv-py$$v; \
	  $$py -c 'import sys; sys.exit(sys.version_info < (3, 11))' || continue; \
	  test -f $$venv/.installed || { $$py -m venv $$venv && \
	    $$venv/bin/python -m pip install -q $(TLS_PKGS) && touch $$venv/.installed; }; \
	  echo "== TLS tests on Python $$v ($$py)"; \
	  UBX_MICROPYTHON=$(CURDIR)/$(VENV)/bin/micropython $$venv/bin/python -m pytest -q $(TLS_TESTS); \
	  ran="$$ran $$v"; \
	done; \
	if [ -n "$$ran" ]; then echo "TLS tests passed on Python$$ran (and $$own: make test)"; \
	else echo "no CPython other than $$own found (set TLS_PYTHONS)"; fi
