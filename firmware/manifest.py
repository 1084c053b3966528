# Freezes ubxsec into a board image, on top of the port's own manifest.
#   make firmware BOARD=RPI_PICO MICROPY=/path/to/micropython
# Paths are relative to this file.
include("$(PORT_DIR)/boards/manifest.py")
package("ubxsec", base_path="../lib")
