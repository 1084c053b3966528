# `make storm`: the library against foreign 3GPP URCs (ubxsim --urcs): 1000
# imports and 1000 profile reads with URCs between the lines of every response
# and inside every '>' transfer, plus a URC at every line boundary of every
# command family on each module model. `make test` runs it with 200 of each.
# STORM_RATE / STORM_SEED choose another URC rate and seed.

.PHONY: storm

storm: $(STAMP)
	STORM_IMPORTS=$${STORM_IMPORTS:-1000} STORM_READS=$${STORM_READS:-1000} \
	  $(VPY) -m pytest -s -p no:cacheprovider tests_host/test_urc_storm.py
