# Robustness runs beyond the short slices in `make test` (tests_host/test_robust_*.py).
#   make soak   1000 seeded fault-injected imports and 10000 soak transactions
#   make fuzz   at least a million fuzz cases through the AT engine's parsing
# Figures (faults by kind, false successes, recoveries, heap drift, cases run)
# are printed; ROBUST_SEED / FUZZ_SEED choose other seeds.

.PHONY: soak fuzz

soak: $(STAMP)
	ROBUST_IMPORTS=$${ROBUST_IMPORTS:-1000} SOAK_TRANSACTIONS=$${SOAK_TRANSACTIONS:-10000} \
	  $(VPY) -m pytest -s -p no:cacheprovider --timeout=3600 \
	  tests_host/test_robust_faults.py::test_fault_injected_imports tests_host/test_robust_soak.py

fuzz: $(STAMP)
	FUZZ_CASES=$${FUZZ_CASES:-1000000} FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-5000} \
	  $(VPY) -m pytest -s -p no:cacheprovider --timeout=7200 tests_host/test_robust_fuzz.py
