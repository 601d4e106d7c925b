"""I2C transports for CMIS modules: the abstract bus and a simulated, paged memory map.

A real bus (pyftdi, smbus2, Aardvark, SONiC) subclasses :class:`I2CBus` and maps its
faults onto the toolkit's errors: an address NAK -> :class:`~optics.errors.ConnectionLost`,
a clock-stretch or bus timeout -> :class:`~optics.errors.InstrumentTimeout`.
"""

from __future__ import annotations

import abc

from optics.errors import ConnectionLost, InstrumentTimeout, InvalidParameter

#: CMIS two-wire address (7-bit) of the module management interface.
CMIS_ADDRESS = 0x50
#: Lower-memory bytes selecting the bank (126) and page (127) seen at 128..255.
BANK_SELECT, PAGE_SELECT = 126, 127


def _check_span(offset: int, length: int) -> None:
    if not (isinstance(offset, int) and isinstance(length, int)) or offset < 0 or length < 1 or offset + length > 256:
        raise InvalidParameter(f"I2C access at offset {offset!r}, length {length!r} leaves the 0..255 byte window")


class I2CBus(abc.ABC):
    """Byte access to devices on a two-wire bus (7-bit addresses, 8-bit offsets)."""

    name: str = "i2c"

    @abc.abstractmethod
    def read(self, address: int, offset: int, length: int) -> bytes:
        """Read ``length`` bytes starting at ``offset`` of device ``address``."""

    @abc.abstractmethod
    def write(self, address: int, offset: int, data: bytes) -> None:
        """Write ``data`` starting at ``offset`` of device ``address``."""


class SimulatedBus(I2CBus):
    """A CMIS memory map held in dicts: lower page plus (bank, page) upper pages.

    Bytes 0..127 are the lower memory; 128..255 show the upper page selected by bytes 126
    (bank) and 127 (page), as on a paged CMIS module.  Unwritten bytes read as 0.

    Parameters
    ----------
    address : int
        The address the simulated module answers on (others NAK).
    name : str
        Named in errors.

    Attributes
    ----------
    fault : {None, "nak", "timeout"}
        Make every access fail like a missing module or a hung bus.
    """

    def __init__(self, address: int = CMIS_ADDRESS, name: str = "sim-i2c") -> None:
        self.address = address
        self.name = name
        self.lower = bytearray(128)
        self.pages: dict[tuple[int, int], bytearray] = {}
        self.fault: str | None = None

    def page(self, page: int, bank: int = 0) -> bytearray:
        """The 128 bytes of upper ``page`` in ``bank`` (created on first use)."""
        return self.pages.setdefault((bank, page), bytearray(128))

    def poke(self, page: int | None, offset: int, data: bytes, bank: int = 0) -> None:
        """Store ``data`` at ``offset`` (0..127 lower memory if ``page`` is None, else 128..255)."""
        if page is None:
            self.lower[offset : offset + len(data)] = data
        else:
            self.page(page, bank)[offset - 128 : offset - 128 + len(data)] = data

    def check_access(self, address: int) -> None:
        """Raise as the bus would for an access to ``address`` (an armed :attr:`fault`, no such device).

        Subclasses that compute the memory map on access call this first, so a silent
        module stays silent.

        Raises
        ------
        ConnectionLost
            NAK: ``fault == "nak"`` or ``address`` is not the simulated module's.
        InstrumentTimeout
            ``fault == "timeout"``.
        """
        if self.fault == "timeout":
            raise InstrumentTimeout(f"{self.name}: device 0x{address:02X} did not release the bus")
        if self.fault == "nak" or address != self.address:
            raise ConnectionLost(f"{self.name}: no ACK from device 0x{address:02X} (module absent?)")

    _check = check_access

    def _upper(self) -> bytearray:
        return self.page(self.lower[PAGE_SELECT], self.lower[BANK_SELECT])

    def read(self, address: int, offset: int, length: int) -> bytes:
        self._check(address)
        _check_span(offset, length)
        out = bytearray()
        for i in range(offset, offset + length):
            out.append(self.lower[i] if i < 128 else self._upper()[i - 128])
        return bytes(out)

    def write(self, address: int, offset: int, data: bytes) -> None:
        self._check(address)
        _check_span(offset, len(data))
        for i, b in enumerate(data, start=offset):
            if i < 128:
                self.lower[i] = b
            else:
                self._upper()[i - 128] = b


__all__ = ["BANK_SELECT", "CMIS_ADDRESS", "I2CBus", "PAGE_SELECT", "SimulatedBus"]
