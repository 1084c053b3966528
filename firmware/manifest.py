# ubxsec, frozen into a board image. `make firmware` includes this file after
# the board's own manifest (see mk/deploy.mk); to use it by hand, add to your
# board's manifest:  include("<this checkout>/firmware/manifest.py")
# Paths are relative to this file.
package("ubxsec", base_path="../lib")
