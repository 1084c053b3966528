# Mutation testing: is each rule of lib/ubxsec and sim/ubxsim held by a test?
#   make mutants   every mutant of tools/mutant_list.py on a scratch copy of the
#                  tree, against the tests it names; table in tests_host/mutants.md
# Not part of `make test` (a few minutes); make test only checks that every
# mutant's anchor still applies (tests_host/test_mutants.py).

.PHONY: mutants

# the engine's mutants run twice: through the blocking front end (with every
# other mutant) and through ubxsec.aio (tests_host/mutants-aio.md)
mutants: $(STAMP)
	$(VPY) tools/mutants.py --out tests_host/mutants.md
	$(VPY) tools/mutants.py --only 'at-*' --front aio --out tests_host/mutants-aio.md
