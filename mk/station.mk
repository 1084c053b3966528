# A provisioning station (tools/station.py): every board at once, with the
# checks and idempotence of `make provision`, live progress per board and one
# JSON record per device (keyed by chip ID) in RECORD; rerun, it resumes.
#   make station CONFIG=site.json PORTS="/dev/ttyACM0 /dev/ttyACM1 rfc2217://lab:4001"
#   make station CONFIG=site.json LAB=1      every labgrid place this client has acquired
PORTS  ?=
LAB    ?=
RECORD ?= build/station/records.jsonl

.PHONY: station

station: $(STAMP)
	@test -n "$(strip $(PORTS))$(filter 1,$(LAB))" || { echo "usage: make station CONFIG=<file> PORTS=\"p1 p2 ...\" (or LAB=1)"; exit 2; }
	$(VPY) tools/station.py $(CONFIG) --record $(RECORD) $(if $(JOBS),--jobs $(JOBS)) $(if $(filter 1,$(LAB)),--lab,--ports $(PORTS))
