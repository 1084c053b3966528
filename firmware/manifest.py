# ubxsec, frozen into a board image. `make firmware` includes this file after
# the board's own manifest (see mk/deploy.mk); to use it by hand, add to your
# board's manifest:  include("<this checkout>/firmware/manifest.py")
# Paths are relative to this file.
# opt=3 as micropython-lib's own manifests: no line numbers, smaller bytecode
package("ubxsec", base_path="../lib", opt=3)
