"""CMIS module management: conversions checked against hand-computed bytes."""

import pytest

from instruments.cmis import CmisModule, SimulatedBus
from optics.errors import ConnectionLost, InstrumentError, InstrumentTimeout, InvalidParameter


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
        CmisModule(bus, n_lanes=9)
    with pytest.raises(InvalidParameter):
        mod.read_page(0x11, 100, 4)
    with pytest.raises(InvalidParameter):
        mod.read_lower(120, 10)
    with pytest.raises(InvalidParameter):
        bus.read(0x50, 250, 10)
