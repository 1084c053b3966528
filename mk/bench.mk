# `make bench`: benchmarks on the virtual rig (simulator on a pty, library in
# the MicroPython unix port); writes bench/results.json and prints a table
# with PASS/FAIL per budget. BENCH_ARGS=--strict makes a failed budget fail
# the target; BENCH_ARGS=--no-valgrind skips the instruction counts (valgrind
# itself is installed by mk/valgrind.mk).
.PHONY: bench
BENCH_ARGS ?=

bench: $(STAMP)
	$(VPY) bench/run.py $(BENCH_ARGS)
