"""ubxsec: the Device and data security AT commands of a u-blox module.

    from machine import UART
    import ubxsec
    m = ubxsec.Module(UART(1, 115200, rxbuf=1024))
    print(m.chip_id())
    m.certs.import_file("ca.pem", ubxsec.CA, "MyCA")   # kinds CA, CC, PK, SC
    try:
        m.profile(2).tls_version(4)
    except ubxsec.CmeError as e:                      # every exception is here
        print(e.code, e)

Module builds the RX ring, attaches the UART IRQ (IRQ_RXIDLE if the UART has
it, else IRQ_RX, else none: the engine then polls the UART while it waits),
and the AT engine. The engine also polls while waiting even with an IRQ, so a
dropped IRQ event (soft handlers queue at most a few) delays nothing.
start(), or the first command, sends ATE0 and AT+CMEE=2 (echo is tolerated
until then); they are sent again after every resynchronisation, in case the
module restarted.

Memory: the ring (rx_size bytes), the engine's line buffer (line_max
bytes), its chunk buffer (chunk bytes, for '>' transfers) and two 64-byte
scratch buffers are allocated once, here. The modules for certificates,
profiles, the chip ID and the trace are imported on first use.
line_max=512 holds every answer of the spec except session data read back
from a profile (AT+USECPRF=<id>,13,<tag>: base64 up to 8192 characters):
SessionKeeper.capture()/save() and SecurityProfile.session_data(tag) need
Module(uart, line_max=8300), which costs those 8300 bytes of RAM for as
long as the Module lives (a longer answer is dropped whole and raises
ProtocolError, the engine staying in sync).
"""

# every exception at the top: ubxsec.CmeError, ubxsec.AtTimeout ... (errors'
# __all__: its refused() and named() are for the command families)
from .errors import *  # noqa: F401,F403

__version__ = "0.2.0"

# certificate kinds (the spec's <type>): m.certs.import_file("ca.pem", ubxsec.CA, "MyCA")
CA = 0
CC = 1
PK = 2
SC = 3


class Module:
    def __init__(self, uart, *, rx_size=1024, timeout_ms=5000, chunk=256, trace=None,
                 irq_hard=False, line_max=512):
        # irq_hard: run the ring's handler as a hard IRQ (it allocates
        # nothing); the default soft handler is scheduled by the port.
        # line_max: longest received line; raise it to read session data
        # (base64 up to 8192 characters) back from the module.
        # imported here, not at the top: dir(ubxsec) shows the API only
        from .ring import Ring
        from .at import AtEngine
        self.uart = uart
        self.ring = Ring(rx_size, uart)
        self.at = AtEngine(uart, self.ring, timeout_ms=timeout_ms, chunk=chunk, trace=trace,
                           line_max=line_max)
        self.at.set_startup(("E0", "+CMEE=2"))
        # last: a bad argument above leaves no handler attached
        self.irq_mode = self._attach(uart, irq_hard)
        self._certs = None

    def _attach(self, uart, hard):
        """Hook the ring's handler to the UART IRQ; returns the trigger's name
        or "poll"."""
        irq = getattr(uart, "irq", None)
        for name in ("IRQ_RXIDLE", "IRQ_RX"):
            trigger = getattr(uart, name, None)
            if irq and trigger is not None:
                try:
                    irq(handler=self.ring.irq_handler, trigger=trigger, hard=hard)
                    return name
                except (TypeError, ValueError, OSError):
                    pass  # this port refuses it: try the next, or poll
        return "poll"

    def start(self):
        """Echo off, verbose +CME errors. Optional: the first command does it."""
        self.at.start()

    def close(self):
        """Detach the IRQ handler."""
        if self.irq_mode != "poll":
            self.uart.irq(handler=None)
            self.irq_mode = "poll"

    def chip_id(self):
        from .chip import chip_id  # loaded on first use, as certs/profiles
        return self.at.run(chip_id(self.at))

    @property
    def certs(self):
        if self._certs is None:
            from .certs import Certs
            self._certs = Certs(self.at, self._baud())
        return self._certs

    def _baud(self):
        """The UART's baud rate from its repr ("UART(0, baudrate=115200, ...)"
        on every port); 9600 if it does not say (import timeouts then err
        long). A method: dir(ubxsec) shows the API only."""
        r = repr(self.uart)
        i = j = r.find("baudrate=") + 9
        while r[j:j + 1].isdigit():
            j += 1
        return int(r[i:j]) if j > i > 8 else 9600

    def profile(self, n):
        from .profiles import SecurityProfile
        return SecurityProfile(self.at, n)

    def on_urc(self, prefix, handler):
        self.at.on_urc(prefix, handler)

    def poll(self):
        return self.at.poll()


def extension(name):
    """ubxsec.<name>, the module of an extension package (lib/ubxsec-NAME.json),
    imported on first use; ImportError naming the package to install if it
    is missing (or cannot be imported: one older than the core). The core's
    thin methods (Certs.upload, SecurityProfile.apply, ...) load theirs
    through it; an extension of its own is loaded the same way."""
    try:
        return __import__("ubxsec." + name, None, None, (name,))
    except ImportError as exc:  # its text tells a missing module from a stale one
        raise ImportError("ubxsec.%s: install its package, lib/ubxsec-%s.json (%s)"
                          % (name, name, exc))
