# Mutation testing: is each rule of lib/ubxsec and sim/ubxsim held by a test?
#   make mutants   every mutant of tools/mutant_list.py on a scratch copy of the
#                  tree, against the tests it names; table in tests_host/mutants.md
# Not part of `make test` (a few minutes); make test only checks that every
# mutant's anchor still applies (tests_host/test_mutants.py).

.PHONY: mutants

mutants: $(STAMP)
	$(VPY) tools/mutants.py --out tests_host/mutants.md
