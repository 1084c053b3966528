"""ubxsec: the Device and data security AT commands of a u-blox module.

    from machine import UART
    import ubxsec
    m = ubxsec.Module(UART(1, 115200, rxbuf=1024))
    m.chip_id()
    m.certs.import_file("ca.pem", ubxsec.CA, "MyCA")   # streamed, MD5 verified
    p = m.profile(2); p.validation_level(1); p.ca_name("MyCA")

Every exception is at the top level (ubxsec.CmeError ...); certificate
kinds are ubxsec.CA, CC, PK, SC (or the strings "CA", "CC", "PK", "SC").
"""

from typing import Any, Callable, Final

from .certs import Certs
from .errors import AtError as AtError
from .errors import AtTimeout as AtTimeout
from .errors import CmeError as CmeError
from .errors import ProtocolError as ProtocolError
from .errors import RingOverflow as RingOverflow
from .errors import TransferError as TransferError
from .errors import UbxError as UbxError
from .errors import VerifyError as VerifyError
from .profiles import SecurityProfile

__version__: Final[str]

CA: Final = 0
"""Certificate kind: trusted root CA certificate."""
CC: Final = 1
"""Certificate kind: client certificate."""
PK: Final = 2
"""Certificate kind: client private key."""
SC: Final = 3
"""Certificate kind: server certificate (for pinning)."""

class Module:
    """One u-blox module on a UART: builds the RX ring, attaches the UART
    IRQ (IRQ_RXIDLE, else IRQ_RX, else the engine polls) and the AT engine.

    rx_size: RX ring bytes; timeout_ms: default command timeout (imports
    get longer ones, from their size and the baud rate); chunk: bytes per
    piece of a '>' transfer; trace: a ubxsec.trace.Trace or None;
    irq_hard: run the ring's IRQ handler as a hard IRQ; line_max: the
    longest answer line kept (8300 to read session data back).
    """

    uart: Any
    irq_mode: str
    def __init__(self, uart: Any, *, rx_size: int = 1024, timeout_ms: int = 5000,
                 chunk: int = 256, trace: Any = None, irq_hard: bool = False,
                 line_max: int = 512) -> None: ...
    def start(self) -> None:
        """Echo off, verbose +CME errors. Optional: the first command does it."""
    def close(self) -> None:
        """Detach the IRQ handler."""
    def chip_id(self) -> str:
        """The module's immutable chip ID (AT+USECCHIP)."""
    @property
    def certs(self) -> Certs:
        """Certificates and keys on the module (AT+USECMNG)."""
    def profile(self, n: int) -> SecurityProfile:
        """Security profile n, 0-4 (AT+USECPRF)."""
    def on_urc(self, prefix: str, handler: Callable[[str], Any] | None) -> None:
        """Call handler(line) for each received line starting with prefix;
        None removes it. A URC without a handler is counted and dropped."""
    def poll(self) -> int:
        """Dispatch URCs that arrived while idle; returns how many other
        lines were dropped."""

def extension(name: str) -> Any:
    """ubxsec.<name>, the module of an extension package (lib/ubxsec-NAME.json),
    imported on first use; ImportError naming the package to install if it
    is missing or older than the core."""
