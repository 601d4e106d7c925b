"""The device under test's management interface on the virtual bench: a CMIS memory map on a
simulated I2C bus that follows the bench physics.

:class:`VirtualCmisBus` is a :class:`~instruments.cmis.bus.SimulatedBus` whose memory map is
refreshed from a :class:`~instruments.virtual.physics.BenchLink` on every read, so
:class:`~instruments.cmis.module.CmisModule` reads what a real module would report:

=========================  ===========================  ====================================
Monitor / field            Location (CMIS 5)            Value on the virtual bench
=========================  ===========================  ====================================
Module state               lower 3, bits 3-1            3 (ModuleReady)
Temperature                lower 14-15, 1/256 °C        ``link.module_temperature_c``
Vcc                        lower 16-17, 100 µV          ``link.dut.vcc_v``
Identity                   page 00h 129-189             ``link.dut`` (:class:`DutIdentity`)
Data-path state            page 11h 128-131             4 (DPActivated) on every lane
Rx LOS                     page 11h 147, bit per lane   set unless the lane is the routed
                                                        Rx lane and its power is above the
                                                        receiver's LOS threshold
Tx power lane k            page 11h 154+2k, 0.1 µW      ``link.lane_tx_power_w(k)``
Tx bias scale              page 01h 160, bits 4-3       01b (x2: 4 µA steps, up to 262 mA)
Tx bias lane k             page 11h 170+2k, 2 µA x 2    the lane transmitter's
                                                        ``bias_current_a(T)`` at the module
                                                        temperature if it has one (a models
                                                        lane: the APC bias), else
                                                        ``link.lanes[k].tx_bias_a``
Rx power lane k            page 11h 186+2k, 0.1 µW      ``link.lane_rx_power_w(k)``
=========================  ===========================  ====================================

Encodings as in :mod:`instruments.cmis.module` (OIF-CMIS 5.x, checked there against
ethtool ``cmis.h`` and the SONiC CMIS map).  Monitors saturate at the top of their 16-bit
field (6.5535 mW, 262.14 mA at the x2 bias scale), as a real module's do.  Lanes 9..16 are not mapped (bank 1 is
not advertised).
"""

from __future__ import annotations

from typing import Any

from instruments.cmis.bus import CMIS_ADDRESS, SimulatedBus
from instruments.cmis.module import BIAS_LSB_A, POWER_LSB_W, TEMPERATURE_LSB_C, VCC_LSB_V
from optics.errors import InvalidType

#: Lanes the bank-0 page 11h holds.
MAPPED_LANES = 8


#: The Tx bias multiplier the virtual module advertises (code 01b at page 01h byte 160, bits 4-3).
TX_BIAS_SCALE = 2


def _u16(value: float, lsb: float) -> bytes:
    return max(0, min(65535, int(round(value / lsb)))).to_bytes(2, "big")


class VirtualCmisBus(SimulatedBus):
    """A CMIS module's I2C bus whose memory map follows a bench's physics.

    Parameters
    ----------
    link : BenchLink
        The bench physics (module temperature, the inserted device's lanes and identity).
    address : int
        Address the module answers on (default 0x50).

    Attributes
    ----------
    fault : {None, "nak", "timeout"}
        Inherited: make the module silent or hang the bus.

    Examples
    --------
    >>> from instruments.cmis import CmisModule
    >>> from instruments.virtual.physics import BenchLink
    >>> CmisModule(VirtualCmisBus(BenchLink()), n_lanes=1).temperature_c
    25.0
    """

    def __init__(self, link: Any, *, address: int = CMIS_ADDRESS) -> None:
        if not hasattr(link, "module_temperature_c") or not hasattr(link, "lanes"):
            raise InvalidType(f"link must be a BenchLink, got {type(link).__name__}")
        super().__init__(address=address, name="virtual-cmis")
        self.link = link
        self.poke(None, 3, bytes([3 << 1]))  # ModuleReady, paged memory (byte 2 bit 7 = 0)
        self.poke(0x01, 160, bytes([0b01 << 3]))  # TxBiasCurrentScalingFactor x2 (TX_BIAS_SCALE)
        self._identity_of: Any = None

    def _ascii(self, page: int, offset: int, text: str, length: int) -> None:
        self.poke(page, offset, text.encode("ascii", "replace")[:length].ljust(length, b" "))

    def refresh(self) -> None:
        """Write the present identity and monitors into the memory map."""
        link = self.link
        dut = link.dut
        if self._identity_of is not dut:
            self._ascii(0, 129, dut.vendor_name, 16)
            self._ascii(0, 148, dut.part_number, 16)
            self._ascii(0, 164, dut.revision, 2)
            self._ascii(0, 166, dut.serial, 16)
            self._ascii(0, 182, dut.date_code, 8)
            self._identity_of = dut
        t = link.module_temperature_c
        self.poke(None, 14, int(round(t / TEMPERATURE_LSB_C)).to_bytes(2, "big", signed=True))
        self.poke(None, 16, _u16(dut.vcc_v, VCC_LSB_V))
        n = min(MAPPED_LANES, link.n_lanes)
        raw = bytearray(48)
        los = 0
        rx_los_dbm = link.params.receiver.los_threshold_dbm
        for k in range(n):
            raw[2 * k:2 * k + 2] = _u16(link.lane_tx_power_w(k, t), POWER_LSB_W)
            bias_at = getattr(link.lanes[k].transmitter, "bias_current_a", None)
            bias_a = bias_at(t) if callable(bias_at) else link.lanes[k].tx_bias_a
            raw[16 + 2 * k:18 + 2 * k] = _u16(bias_a, BIAS_LSB_A * TX_BIAS_SCALE)
            rx_w = link.lane_rx_power_w(k)
            raw[32 + 2 * k:34 + 2 * k] = _u16(rx_w, POWER_LSB_W)
            if rx_w <= 1e-3 * 10.0 ** (rx_los_dbm / 10.0):
                los |= 1 << k
        self.poke(0x11, 154, bytes(raw))
        self.poke(0x11, 147, bytes([los]))
        self.poke(0x11, 128, bytes([0x44] * 4))  # DPActivated on lanes 1..8

    def read(self, address: int, offset: int, length: int) -> bytes:
        """Read after refreshing the map (a silent module stays silent)."""
        self.check_access(address)
        self.refresh()
        return super().read(address, offset, length)


__all__ = ["MAPPED_LANES", "VirtualCmisBus"]
