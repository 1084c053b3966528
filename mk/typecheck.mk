# The published MicroPython stubs the library is type-checked against (make test runs
# tests_host/test_typecheck.py). One directory per port: their modules clash in one
# environment. Pinned to the MicroPython release the rig runs.
STUBS_DIR  := build/stubs
STUBS_rp2   := micropython-rp2-rpi-pico-stubs==1.29.0.post1
STUBS_stm32 := micropython-stm32-stubs==1.29.0.post1

.PHONY: stubs
stubs: $(STUBS_DIR)/rp2/.installed $(STUBS_DIR)/stm32/.installed
test: stubs

$(STUBS_DIR)/%/.installed: mk/typecheck.mk $(STAMP)
	rm -rf $(STUBS_DIR)/$*
	$(VPY) -m pip install -q --no-deps --target $(STUBS_DIR)/$* $(STUBS_$*) micropython-stdlib-stubs==1.29.0.post2
	touch $@
