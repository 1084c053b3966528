# `make storm`: the library against foreign 3GPP URCs (ubxsim --urcs): 200
# imports and 200 profile reads with URCs between the lines of every response
# and inside every '>' transfer, plus a URC at every line boundary of every
# command family on each module model. `make test` runs a 20/20 slice.
# STORM_RATE / STORM_SEED choose another URC rate and seed.

.PHONY: storm

storm: $(STAMP)
	STORM_IMPORTS=$${STORM_IMPORTS:-200} STORM_READS=$${STORM_READS:-200} \
	  $(VPY) -m pytest -s -p no:cacheprovider tests_host/test_urc_storm.py
