# `make test-models`: the whole device suite on every simulator model
# (tests_host/test_device_models.py); `make test` runs a sample of the files
# on the models listed in its SAMPLED table (sara-u2), to keep CI short.
.PHONY: test-models

test-models: $(STAMP)
	DEVICE_MODELS_FULL=1 $(VPY) -m pytest tests_host/test_device_models.py
