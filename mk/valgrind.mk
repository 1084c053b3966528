# valgrind: the bench's instruction counts (bench/run.py, results.json "cpu",
# checked by tests_host/test_bench_smoke.py). From Debian, as root, when missing.
.PHONY: valgrind

valgrind:
	@command -v valgrind >/dev/null || { [ "$$(id -u)" = 0 ] \
	  && apt-get update -qq && apt-get install -y -qq valgrind >/dev/null; } \
	  || { echo "valgrind is missing and only root can install it: apt-get install valgrind" \
	       "(or make bench BENCH_ARGS=--no-valgrind)"; exit 1; }

test: valgrind
ifeq ($(findstring --no-valgrind,$(BENCH_ARGS)),)
bench: valgrind
endif
