# make doctor CONFIG=file [MODEL=name] [CHECK_URL=https://host/ [PROFILE=n]]
#   a provisioning config checked on the host (tools/doctor.py): keys against
#   certificates, chains, expiry, every module model's limits; one line per
#   problem with its fix; exit status 1 on an error. make provision runs the
#   same checks first. CONFIG defaults as for make provision.
.PHONY: doctor
MODEL     ?=
CHECK_URL ?=
PROFILE   ?=

doctor: $(STAMP)
	@$(VPY) tools/doctor.py $(CONFIG) $(if $(MODEL),--model $(MODEL)) \
	    $(if $(CHECK_URL),--check-url $(CHECK_URL)) $(if $(PROFILE),--profile $(PROFILE))
