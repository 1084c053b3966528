# Power cuts during credential rotation (tools/powercut.py), on the virtual rig.
#   make powercut                every cut point of a CA rotation and of a client
#                                certificate+key rotation, on both virtual boards
#   make powercut VBOARD=wasm32  one board; POWERCUT_ARGS=--sample 10 a spread sample
# Prints `N cut points: N consistent, 0 broken` per board and in total; fails on
# a broken one. `make test` runs a few cut points (tests_host/test_powercut.py).
POWERCUT_ARGS ?=

.PHONY: powercut

powercut: $(STAMP) $(if $(filter unix64,$(VBOARD)),,wasm32)
	$(VPY) tools/powercut.py --quiet --board $(or $(VBOARD),all) $(POWERCUT_ARGS)
