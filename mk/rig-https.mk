# make rig-https   (with `make board` running) https://server.test/ for the
#   virtual rig through the simulator's host map; its root CA goes to
#   build/vboard/rig-root.pem for the board. Ctrl-C stops. tools/rig_https.py
.PHONY: rig-https

rig-https: $(STAMP)
	@$(VPY) tools/rig_https.py --control $(BOARD_CTL) --root $(BOARD_DIR)/rig-root.pem
