# `make hil-twice`: the whole device suite twice in a row on one rig whose module
# keeps its state (tests_host/test_device_suite_rerun.py); `make test` runs it
# with the files that write to the module's file system and drive its module side.
.PHONY: hil-twice

hil-twice: $(STAMP)
	HIL_RERUN=all $(VPY) -m pytest -q tests_host/test_device_suite_rerun.py
