# Deploying, packaging and the two user-facing flows (included by the Makefile).
#   make mpy                                  lib/ubxsec -> build/mpy/ubxsec/*.mpy
#   make deploy PORT=/dev/ttyACM0 BOARD=pico  compile for the board and copy it there
#   make firmware BOARD=pico MICROPY=~/micropython   an image with ubxsec frozen in
#   make demo [PORT=... BOARD=...]            the spec's example, step by step
#   make provision [CONFIG=file] [PORT=...]   certificates and profiles, idempotent
#   make package-json                         regenerate package.json for mip
PORT     ?=
BOARD    ?=
CONFIG   ?= examples/provision.json
MICROPY  ?=
export PORT BOARD

# MicroPython's name and port for a board file of boards/ (or a MicroPython board name)
FW_BOARD_pico          := RPI_PICO
FW_BOARD_nucleo_f411re := NUCLEO_F411RE
FW_BOARD = $(or $(FW_BOARD_$(BOARD)),$(BOARD))
FW_PORT  = $(if $(filter RPI_PICO%,$(FW_BOARD)),rp2,stm32)

.PHONY: mpy deploy firmware demo provision package-json

mpy: $(STAMP)
	$(VPY) tools/deploy.py mpy

deploy: $(STAMP)
	$(VPY) tools/deploy.py deploy

firmware:
	@test -n "$(MICROPY)" && test -d "$(MICROPY)/ports/$(FW_PORT)" || { \
	  echo "usage: make firmware BOARD=pico|nucleo_f411re|<MicroPython board> MICROPY=<micropython checkout>"; exit 2; }
	@test -n "$(BOARD)" || { echo "firmware: set BOARD (pico, nucleo_f411re, or a MicroPython board name)"; exit 2; }
	$(MAKE) -C "$(MICROPY)/mpy-cross"
	$(MAKE) -C "$(MICROPY)/ports/$(FW_PORT)" BOARD=$(FW_BOARD) submodules
	$(MAKE) -C "$(MICROPY)/ports/$(FW_PORT)" BOARD=$(FW_BOARD) FROZEN_MANIFEST=$(abspath firmware/manifest.py)
	@echo "image: $(MICROPY)/ports/$(FW_PORT)/build-$(FW_BOARD)/ (firmware.uf2 for rp2, firmware.dfu/.hex for stm32)"

demo: $(STAMP)
	$(VPY) tools/demo.py

provision: $(STAMP)
	$(VPY) tools/provision.py $(CONFIG)

package-json: $(STAMP)
	$(VPY) tools/package_json.py
