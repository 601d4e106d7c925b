"""CMIS module management: conversions checked against hand-computed bytes."""

import pytest

from instruments.cmis import CmisModule, SimulatedBus
from optics.errors import ConnectionLost, GarbledReply, InstrumentError, InstrumentTimeout, InvalidParameter


def _module():
    bus = SimulatedBus()
    bus.poke(None, 3, bytes([0x06]))                    # module state 3 = ModuleReady (bits 3-1)
    bus.poke(None, 14, bytes([0x19, 0x80]))             # 0x1980 = 6528 -> 6528/256 = 25.5 degC
    bus.poke(None, 16, bytes([0x80, 0xE8]))             # 0x80E8 = 33000 -> 3.3000 V
    bus.poke(0x00, 129, b"ACME PHOTONICS  ")
    bus.poke(0x00, 148, b"OSFP-800G-DR8   ")
    bus.poke(0x00, 164, b"A1")
    bus.poke(0x00, 166, b"SN0123456789    ")
    bus.poke(0x00, 182, b"26112301")
    bus.poke(0x01, 160, bytes([0x08]))                  # bits 4-3 = 01 -> bias x2
    bus.poke(0x11, 128, bytes([0x14, 0x44, 0x47, 0x12]))
    bus.poke(0x11, 147, bytes([0b1000_0001]))           # LOS on lanes 1 and 8
    tx = [0x2710] + [0] * 7                             # lane 1: 10000 x 0.1 uW = 1 mW
    bias = [0x1F40] + [0] * 7                           # lane 1: 8000 x 2 uA = 16 mA (x2 scale -> 32 mA)
    rx = [0] * 7 + [0x03E8]                             # lane 8: 1000 x 0.1 uW = 100 uW
    raw = b"".join(v.to_bytes(2, "big") for v in tx + bias + rx)
    bus.poke(0x11, 154, raw)
    return bus, CmisModule(bus)


def test_module_level_monitors():
    bus, mod = _module()
    assert mod.temperature_c == 25.5
    assert mod.vcc_v == pytest.approx(3.3, abs=1e-12)
    assert mod.module_state == "ModuleReady"
    assert mod.flat_memory is False


@pytest.mark.parametrize("raw, expected", [(b"\xf6\x00", -10.0), (b"\xff\xff", -1 / 256), (b"\x7f\xff", 32767 / 256)])
def test_temperature_is_signed(raw, expected):
    bus = SimulatedBus()
    bus.poke(None, 14, raw)
    assert CmisModule(bus).temperature_c == expected


def test_identity_strings():
    _, mod = _module()
    assert mod.vendor_name == "ACME PHOTONICS"
    assert mod.vendor_part_number == "OSFP-800G-DR8"
    assert mod.vendor_revision == "A1"
    assert mod.vendor_serial_number == "SN0123456789"
    assert mod.date_code == "26112301"


def test_lane_monitors_si_units():
    bus, mod = _module()
    lanes = mod.lane_monitors()
    assert lanes.tx_power_w[0] == pytest.approx(1e-3, rel=1e-12)
    assert lanes.tx_bias_a[0] == pytest.approx(32e-3, rel=1e-12)
    assert lanes.rx_power_w[7] == pytest.approx(100e-6, rel=1e-12)
    assert lanes.tx_power_w[1:] == (0.0,) * 7 and len(lanes.rx_power_w) == 8
    assert (bus.lower[126], bus.lower[127]) == (0, 0x11)     # bank 0, page 11h selected


def test_data_path_states_and_los():
    _, mod = _module()
    states = mod.data_path_states()
    # byte 128 = 0x14: lane 1 low nibble 4, lane 2 high nibble 1
    assert states[:4] == ("DPActivated", "DPDeactivated", "DPActivated", "DPActivated")
    assert states[4:6] == ("DPInitialized", "DPActivated")   # byte 130 = 0x47
    assert states[6:] == ("DPInit", "DPDeactivated")          # byte 131 = 0x12: lane 7 = 2, lane 8 = 1
    assert mod.rx_los() == (True, False, False, False, False, False, False, True)


def test_snapshot_has_identity_and_lanes():
    _, mod = _module()
    snap = mod.snapshot()
    assert snap["vendor_serial_number"] == "SN0123456789"
    assert snap["tx_power_w"][0] == pytest.approx(1e-3)


def test_flat_memory_has_no_page_11h():
    bus, mod = _module()
    bus.poke(None, 2, bytes([0x80]))
    with pytest.raises(InstrumentError, match="flat memory"):
        mod.lane_monitors()


def test_bus_faults_are_typed():
    bus, mod = _module()
    bus.fault = "nak"
    with pytest.raises(ConnectionLost, match="no ACK"):
        _ = mod.temperature_c
    bus.fault = "timeout"
    with pytest.raises(InstrumentTimeout):
        _ = mod.vcc_v
    with pytest.raises(ConnectionLost):
        _ = CmisModule(SimulatedBus(address=0x51)).temperature_c


def test_bad_arguments():
    bus, mod = _module()
    with pytest.raises(InvalidParameter):
        CmisModule(bus, n_lanes=17)
    with pytest.raises(InvalidParameter):
        CmisModule(bus, n_lanes=0)
    with pytest.raises(InvalidParameter):
        mod.read_page(0x11, 100, 4)
    with pytest.raises(InvalidParameter):
        mod.read_lower(120, 10)
    with pytest.raises(InvalidParameter):
        bus.read(0x50, 250, 10)


def _sixteen_lane_module(banks_code=0x01):
    bus, _ = _module()
    bus.poke(0x01, 142, bytes([banks_code]))           # 01h:142 bits 1-0: 01 = banks 0 and 1
    # bank 1 of page 11h holds lanes 9..16 at the same offsets as lanes 1..8 in bank 0
    bus.poke(0x11, 128, bytes([0x41, 0x44, 0x44, 0x74]), bank=1)   # lane 9 = 1, lane 10 = 4 ... lane 16 = 7
    bus.poke(0x11, 147, bytes([0b0000_0010]), bank=1)                # LOS on lane 10
    tx = [0] * 7 + [0x1388]                             # lane 16: 5000 x 0.1 uW = 0.5 mW
    bias = [0x0FA0] + [0] * 7                           # lane 9: 4000 x 2 uA x2 = 16 mA
    rx = [0] + [0x07D0] + [0] * 6                       # lane 10: 2000 x 0.1 uW = 200 uW
    bus.poke(0x11, 154, b"".join(v.to_bytes(2, "big") for v in tx + bias + rx), bank=1)
    return bus, CmisModule(bus, n_lanes=16)


def test_lanes_9_to_16_are_read_from_bank_1():
    bus, mod = _sixteen_lane_module()
    lanes = mod.lane_monitors()
    assert len(lanes.tx_power_w) == 16
    assert lanes.tx_power_w[0] == pytest.approx(1e-3, rel=1e-12)        # lane 1, bank 0
    assert lanes.tx_power_w[15] == pytest.approx(0.5e-3, rel=1e-12)     # lane 16, bank 1
    assert lanes.tx_bias_a[8] == pytest.approx(16e-3, rel=1e-12)        # lane 9
    assert lanes.rx_power_w[9] == pytest.approx(200e-6, rel=1e-12)      # lane 10
    assert lanes.rx_power_w[7] == pytest.approx(100e-6, rel=1e-12)      # lane 8 still from bank 0
    states = mod.data_path_states()
    assert states[8:10] == ("DPDeactivated", "DPActivated") and states[15] == "DPInitialized"
    los = mod.rx_los()
    assert los[0] and los[7] and los[9] and not los[8] and len(los) == 16


def test_lanes_9_to_16_need_bank_1_advertised():
    _, mod = _sixteen_lane_module(banks_code=0x00)
    with pytest.raises(InstrumentError, match="bank"):
        mod.lane_monitors()


def test_monitor_edge_values():
    bus = SimulatedBus()
    bus.poke(None, 16, b"\xff\xff")                   # 65535 x 100 uV = 6.5535 V
    bus.poke(0x01, 160, bytes([0x10]))                 # bits 4-3 = 10 -> bias x4
    ones = (0xFFFF).to_bytes(2, "big")
    bus.poke(0x11, 154, ones * 8 + ones * 8 + bytes(16))
    mod = CmisModule(bus)
    assert mod.vcc_v == pytest.approx(6.5535, abs=1e-12)
    lanes = mod.lane_monitors()
    assert lanes.tx_power_w[0] == pytest.approx(6.5535e-3, rel=1e-12)   # 0xFFFF x 0.1 uW
    assert lanes.tx_bias_a[7] == pytest.approx(65535 * 2e-6 * 4, rel=1e-12)
    assert lanes.rx_power_w == (0.0,) * 8
    bus.poke(None, 14, b"\x80\x00")                   # most negative: -32768/256 = -128 degC
    assert mod.temperature_c == -128.0
    bus.poke(0x01, 160, bytes([0x18]))                 # reserved scale code 3
    with pytest.raises(InstrumentError, match="reserved"):
        mod.lane_monitors()


class _FlakyBus(SimulatedBus):
    """NAKs the n-th read only (a module that drops off mid-transaction once)."""

    def __init__(self, fail_at):
        super().__init__()
        self.reads, self.fail_at = 0, fail_at

    def read(self, address, offset, length):
        self.reads += 1
        if self.reads == self.fail_at:
            raise ConnectionLost(f"{self.name}: NAK at byte {offset}")
        return super().read(address, offset, length)


def test_nak_mid_read_is_typed_and_next_read_works():
    src, _ = _module()
    bus = _FlakyBus(fail_at=3)
    bus.lower[:] = src.lower
    bus.pages = {k: bytearray(v) for k, v in src.pages.items()}
    mod = CmisModule(bus)
    # reads: 1 flat-memory byte, 2 bias scale (01h), 3 flat-memory byte before page 11h -> NAK
    with pytest.raises(ConnectionLost, match="NAK"):
        mod.lane_monitors()
    assert mod.lane_monitors().tx_power_w[0] == pytest.approx(1e-3, rel=1e-12)


@pytest.mark.parametrize(("byte", "scale"), [(0x00, 1), (0x08, 2), (0x10, 4), (0xE7, 1), (0x0F, 2)])
def test_tx_bias_scale_codes(byte, scale):
    # CMIS 5.2 §8.4.7: 01h:160 bits 4-3 = 00b x1, 01b x2, 10b x4; the other bits are no part of it
    bus = SimulatedBus()
    bus.poke(0x01, 160, bytes([byte]))
    bus.poke(0x11, 170, (1000).to_bytes(2, "big"))      # lane 1 bias: 1000 x 2 uA x scale
    mod = CmisModule(bus, n_lanes=1)
    assert mod.tx_bias_scale == scale
    assert mod.lane_monitors().tx_bias_a == (pytest.approx(1000 * 2e-6 * scale, rel=1e-12),)


@pytest.mark.parametrize("byte", [0x18, 0xFF])
def test_reserved_tx_bias_scale_code_3_is_a_typed_error_naming_the_defined_codes(byte):
    # 11b is reserved (CMIS 5.2 §8.4.7); SONiC reads it as x1, which may be 2x or 4x off: refuse
    bus = SimulatedBus()
    bus.poke(0x01, 160, bytes([byte]))
    mod = CmisModule(bus, n_lanes=1)
    for read in (lambda: mod.tx_bias_scale, mod.lane_monitors):
        with pytest.raises(GarbledReply, match=rf"0x{byte:02X}.*= 11b, reserved.*00b \(x1\), 01b \(x2\), 10b \(x4\)"):
            read()
