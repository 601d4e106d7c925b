"""Read a CMIS module's identity and digital diagnostics (DDM) in SI units.

Memory map (OIF-CMIS 5.x; checked against the SONiC ``sonic_xcvr`` CMIS map, ethtool
``cmis.h`` and a public CMIS 5.2 page-00h table):

=====================  =================  ====================================================
Quantity               Location           Encoding
=====================  =================  ====================================================
Module state           lower 3, bits 3-1  1 LowPwr, 2 PwrUp, 3 Ready, 4 PwrDn, 5 Fault
Flat memory            lower 2, bit 7     1 = flat (no upper pages beyond 00h)
Temperature            lower 14-15        signed 16 bit, 1/256 degC
Vcc                    lower 16-17        unsigned 16 bit, 100 uV
Vendor name            page 00h 129-144   ASCII, space padded
Vendor OUI             page 00h 145-147
Vendor part number     page 00h 148-163   ASCII
Vendor revision        page 00h 164-165   ASCII
Vendor serial number   page 00h 166-181   ASCII
Date code              page 00h 182-189   ASCII YYMMDD + lot
Banks supported        page 01h 142 b1-0  0: bank 0, 1: banks 0-1, 2: banks 0-3
Tx bias scale          page 01h 160 b4-3  00b x1, 01b x2, 10b x4, 11b reserved (refused)
Data-path state        page 11h 128-131   4 bits per lane (lane 1 = low nibble of 128)
Rx LOS                 page 11h 147       bit per lane
Tx power lane k        page 11h 154+2k    unsigned 16 bit, 0.1 uW
Tx bias lane k         page 11h 170+2k    unsigned 16 bit, 2 uA x scale
Rx power lane k        page 11h 186+2k    unsigned 16 bit, 0.1 uW
=====================  =================  ====================================================

All multi-byte values are big-endian.  Page 11h is banked: bank 0 holds lanes 1-8, bank 1
lanes 9-16 at the same offsets (lane 9 where lane 1 is); 16-lane reads need bank 1 advertised
at 01h:142.  Offsets checked against ethtool ``cmis.h`` (0x8E banks, 0xA0 bias multiplier,
0x9A/0xAA/0xBA monitors).  The brief's guess "148-163 name" was wrong: 148-163 is
the part number; the name is 129-144.

Fields confirmed by: sonic-net/sonic-platform-common ``sonic_xcvr`` CMIS memory map
(lower page, page 00h identity, page 11h monitors and states); ethtool ``cmis.h``; a public
transcription of OIF-CMIS 5.2 tables (§8.4.7 "Supported Monitors Advertisement": page 01h
byte 160 bits 4-3 ``TxBiasCurrentScalingFactor`` = "multiplier for 2 uA bias current
increment used in Tx bias current monitor and threshold registers", 00b x1, 01b x2, 10b x4,
**11b reserved**; Table 8-82 "Media Lane-Specific Monitors": Tx/Rx power in 0.1 uW, bias in
2 uA times that multiplier); the Linux ``qsfp`` debug driver, which prints code 3 as
"Reserved".  A module advertising the reserved code 3 makes :attr:`CmisModule.tx_bias_scale`
and :meth:`CmisModule.lane_monitors` raise :class:`~optics.errors.GarbledReply`: the bias
current cannot be scaled.  (SONiC reads code 3 as x1; that is a guess that would report a
bias current a factor 1, 2 or 4 off, so it is not followed.)
"""

from __future__ import annotations

import dataclasses

from instruments.cmis.bus import BANK_SELECT, CMIS_ADDRESS, I2CBus
from optics.errors import GarbledReply, InstrumentError, InvalidParameter

#: CMIS data-path states (Table 8-10 of CMIS 5).
DATA_PATH_STATES = {
    1: "DPDeactivated",
    2: "DPInit",
    3: "DPDeinit",
    4: "DPActivated",
    5: "DPTxTurnOn",
    6: "DPTxTurnOff",
    7: "DPInitialized",
}
MODULE_STATES = {1: "ModuleLowPwr", 2: "ModulePwrUp", 3: "ModuleReady", 4: "ModulePwrDn", 5: "ModuleFault"}

#: Tx bias multipliers by the code at page 01h byte 160, bits 4-3 (CMIS 5.2 §8.4.7; 3 is reserved).
TX_BIAS_SCALES = {0b00: 1, 0b01: 2, 0b10: 4}

#: Units of the lane monitors.
POWER_LSB_W = 0.1e-6
BIAS_LSB_A = 2e-6
TEMPERATURE_LSB_C = 1.0 / 256.0
VCC_LSB_V = 100e-6


@dataclasses.dataclass(frozen=True)
class LaneMonitors:
    """Per-lane monitors of one module (lists indexed lane 1 -> element 0)."""

    tx_power_w: tuple[float, ...]
    rx_power_w: tuple[float, ...]
    tx_bias_a: tuple[float, ...]


class CmisModule:
    """A CMIS module (QSFP-DD, OSFP, QSFP112...) on an :class:`I2CBus`.

    Parameters
    ----------
    bus : I2CBus
        The transport.
    address : int
        7-bit address, 0x50.
    n_lanes : int
        Host/media lanes to report (1..16; 8 for 800G modules; 9..16 are read from bank 1).

    Raises
    ------
    ConnectionLost, InstrumentTimeout
        From the bus, on any access (module absent, bus hung).

    Examples
    --------
    >>> from instruments.cmis import SimulatedBus
    >>> bus = SimulatedBus()
    >>> bus.poke(None, 14, bytes([0x19, 0x80]))       # 25.5 degC
    >>> CmisModule(bus).temperature_c
    25.5
    """

    def __init__(self, bus: I2CBus, *, address: int = CMIS_ADDRESS, n_lanes: int = 8) -> None:
        if isinstance(n_lanes, bool) or not isinstance(n_lanes, int) or not 1 <= n_lanes <= 16:
            raise InvalidParameter(f"n_lanes = {n_lanes!r} must be an integer in 1..16")
        self.bus = bus
        self.address = address
        self.n_lanes = n_lanes

    # --- raw access --------------------------------------------------------------------
    def read_lower(self, offset: int, length: int) -> bytes:
        """Read lower memory (0..127)."""
        if offset + length > 128:
            raise InvalidParameter(f"lower memory read {offset}+{length} passes byte 127")
        return self.bus.read(self.address, offset, length)

    def read_page(self, page: int, offset: int, length: int, *, bank: int = 0) -> bytes:
        """Select ``bank``/``page`` (bytes 126, 127 in one write) and read 128..255 bytes of it."""
        if offset < 128 or offset + length > 256:
            raise InvalidParameter(f"upper-page read {offset}+{length} must lie in 128..255")
        if page != 0 and self.flat_memory:
            raise InstrumentError(f"{self.bus.name}: module has flat memory; page {page:02X}h does not exist")
        self.bus.write(self.address, BANK_SELECT, bytes([bank, page]))
        return self.bus.read(self.address, offset, length)

    def _u16(self, data: bytes, i: int = 0) -> int:
        return int.from_bytes(data[i : i + 2], "big", signed=False)

    # --- module level ------------------------------------------------------------------
    @property
    def flat_memory(self) -> bool:
        """True if the module has flat memory (lower byte 2, bit 7)."""
        return bool(self.bus.read(self.address, 2, 1)[0] & 0x80)

    @property
    def module_state(self) -> str:
        """Module state name (lower byte 3, bits 3-1)."""
        code = (self.read_lower(3, 1)[0] >> 1) & 0x07
        return MODULE_STATES.get(code, f"reserved({code})")

    @property
    def temperature_c(self) -> float:
        """Module temperature in degC: signed 16 bit at bytes 14-15, LSB 1/256 degC."""
        return int.from_bytes(self.read_lower(14, 2), "big", signed=True) * TEMPERATURE_LSB_C

    @property
    def vcc_v(self) -> float:
        """Supply voltage in V: unsigned 16 bit at bytes 16-17, LSB 100 uV."""
        return self._u16(self.read_lower(16, 2)) * VCC_LSB_V

    def _ascii(self, offset: int, length: int) -> str:
        return self.read_page(0x00, offset, length).decode("ascii", errors="replace").strip(" \x00")

    @property
    def vendor_name(self) -> str:
        """Vendor name (page 00h bytes 129-144)."""
        return self._ascii(129, 16)

    @property
    def vendor_part_number(self) -> str:
        """Vendor part number (page 00h bytes 148-163)."""
        return self._ascii(148, 16)

    @property
    def vendor_revision(self) -> str:
        """Vendor revision (page 00h bytes 164-165)."""
        return self._ascii(164, 2)

    @property
    def vendor_serial_number(self) -> str:
        """Vendor serial number (page 00h bytes 166-181)."""
        return self._ascii(166, 16)

    @property
    def date_code(self) -> str:
        """Manufacturing date code YYMMDD[lot] (page 00h bytes 182-189)."""
        return self._ascii(182, 8)

    # --- lanes -------------------------------------------------------------------------
    @property
    def tx_bias_scale(self) -> int:
        """Tx bias multiplier 1, 2 or 4 (page 01h byte 160, bits 4-3; :data:`TX_BIAS_SCALES`).

        Raises
        ------
        GarbledReply
            The module advertises the reserved code 11b: the multiplier is undefined, so
            no bias current can be reported (CMIS 5.2 §8.4.7).
        """
        byte = self.read_page(0x01, 160, 1)[0]
        code = (byte >> 3) & 0x03
        scale = TX_BIAS_SCALES.get(code)
        if scale is None:
            raise GarbledReply(
                f"{self.bus.name}: page 01h byte 160 = 0x{byte:02X} advertises TxBiasCurrentScalingFactor "
                f"(bits 4-3) = {code:02b}b, reserved in CMIS 5.2; defined are 00b (x1), 01b (x2), 10b (x4), "
                "so the Tx bias monitor cannot be scaled"
            )
        return scale

    @property
    def banks_supported(self) -> int:
        """Number of banks of the lane pages (1, 2 or 4; page 01h byte 142, bits 1-0)."""
        code = self.read_page(0x01, 142, 1)[0] & 0x03
        if code == 3:
            raise InstrumentError(f"{self.bus.name}: reserved banks-supported code 3 at 01h:142")
        return 1 << code

    def _lane_banks(self) -> list[tuple[int, int]]:
        """``(bank, lanes in it)`` for the ``n_lanes`` requested; checks bank 1 is advertised."""
        n_banks = (self.n_lanes + 7) // 8
        if n_banks > 1 and self.banks_supported < n_banks:
            raise InstrumentError(
                f"{self.bus.name}: {self.n_lanes} lanes need bank 1 (lanes 9-16) but the module advertises "
                f"{self.banks_supported} bank(s) at 01h:142"
            )
        return [(b, min(8, self.n_lanes - 8 * b)) for b in range(n_banks)]

    def lane_monitors(self) -> LaneMonitors:
        """Read Tx power, Rx power (W) and Tx bias (A) of every lane from page 11h (banks 0, 1).

        Tx bias = raw x 2 uA x :attr:`tx_bias_scale`.

        Raises
        ------
        GarbledReply
            The reserved Tx bias scale code (see :attr:`tx_bias_scale`).
        """
        scale = self.tx_bias_scale
        tx: list[float] = []
        bias: list[float] = []
        rx: list[float] = []
        for bank, n in self._lane_banks():
            raw = self.read_page(0x11, 154, 48, bank=bank)  # 154..201: tx power, bias, rx power
            tx += [self._u16(raw, 2 * k) * POWER_LSB_W for k in range(n)]
            bias += [self._u16(raw, 16 + 2 * k) * BIAS_LSB_A * scale for k in range(n)]
            rx += [self._u16(raw, 32 + 2 * k) * POWER_LSB_W for k in range(n)]
        return LaneMonitors(tx_power_w=tuple(tx), rx_power_w=tuple(rx), tx_bias_a=tuple(bias))

    def data_path_states(self) -> tuple[str, ...]:
        """Data-path state of each lane (page 11h bytes 128-131, 4 bits per lane; banks 0, 1)."""
        out = []
        for bank, n in self._lane_banks():
            raw = self.read_page(0x11, 128, 4, bank=bank)
            for k in range(n):
                code = (raw[k // 2] >> (4 * (k % 2))) & 0x0F
                out.append(DATA_PATH_STATES.get(code, f"reserved({code})"))
        return tuple(out)

    def rx_los(self) -> tuple[bool, ...]:
        """Rx loss-of-signal flag per lane (page 11h byte 147, latched; banks 0, 1)."""
        out = []
        for bank, n in self._lane_banks():
            bits = self.read_page(0x11, 147, 1, bank=bank)[0]
            out += [bool(bits >> k & 1) for k in range(n)]
        return tuple(out)

    def snapshot(self) -> dict[str, object]:
        """Identity and diagnostics in one dict (for station records)."""
        lanes = self.lane_monitors()
        return {
            "vendor_name": self.vendor_name,
            "vendor_part_number": self.vendor_part_number,
            "vendor_serial_number": self.vendor_serial_number,
            "module_state": self.module_state,
            "temperature_c": self.temperature_c,
            "vcc_v": self.vcc_v,
            "tx_power_w": list(lanes.tx_power_w),
            "rx_power_w": list(lanes.rx_power_w),
            "tx_bias_a": list(lanes.tx_bias_a),
            "data_path_states": list(self.data_path_states()),
        }


__all__ = ["DATA_PATH_STATES", "MODULE_STATES", "TX_BIAS_SCALES", "CmisModule", "LaneMonitors"]
