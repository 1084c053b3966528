# OPT: mpy-cross's optimisation level for what deploy, demo, provision and the
# HIL suite compile. Unset: -O3, as shipped (no line numbers in the bytecode).
#   make deploy PORT=... OPT=0    tracebacks from library code show line numbers
# The tools read it as $MPY_OPT (tests_host/harness.py, mpy_opt()).
OPT ?=
ifneq ($(strip $(OPT)),)
export MPY_OPT := $(OPT)
endif
