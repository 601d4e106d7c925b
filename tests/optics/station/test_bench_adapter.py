"""The station's bench: lane switch through the bench's optical-switch driver, the module's CMIS bus
from the bench, and only the instruments a plan needs started."""

import dataclasses
import math

import numpy as np
import pytest

from instruments.bench import BenchConfig
from instruments.cmis import CmisModule
from instruments.keysight.n773x import OpticalSwitch
from optics.station.bench_adapter import ManualLaneSwitch, ModuleLink, open_bench
from models.population import lane_tx_waveform
from optics.station.dut import nominal_module, with_lane

FAST = dataclasses.replace(BenchConfig.default(),
                           physics=dataclasses.replace(BenchConfig.default().physics, time_scale=1000.0))
IL_DB = 1.5          # attenuator insertion loss (PathParams default)


def record_power_dbm(module, lane: int, t: float = 25.0) -> float:
    """The mean power of the lane's Tx record (the models' waveform), dBm."""
    return 10 * math.log10(float(np.mean(lane_tx_waveform(module, lane, t).samples)) / 1e-3)


def test_lane_switch_is_the_switch_driver_and_moves_the_physics():
    module = with_lane(nominal_module("SNSW", n_lanes=3), 2, "weak laser", {"laser.slope_efficiency_w_per_a": 0.1})
    with open_bench(FAST, module=module, needed=("power_meter",)) as bench:
        assert set(bench.virtual.servers) == {"power_meter", "switch"}          # only what is needed
        assert isinstance(bench.lane_switch, OpticalSwitch) and isinstance(bench.module, CmisModule)
        assert "N7734A" in bench.identify()["lane_switch"]
        port = bench.get("power_meter").port(1)
        for lane in (2, 1):
            bench.lane_switch.select(lane)
            assert bench.link.lane == lane and bench.virtual.instruments["switch"].routes == {1: lane + 1, 2: lane + 1}
            got_dbm = 10 * math.log10(port.power_w / 1e-3)
            assert got_dbm == pytest.approx(record_power_dbm(module, lane) - IL_DB, abs=0.01)
        # the neighbour's APC holds its set point; the weak laser (a third of the slope) would need
        # I_th + P_set/η > I_max, so it runs at I_max and launches η (I_max − I_th) at the chip
        # temperature of a 25 °C case (the die's solved temperature, models.chip_temperature)
        from models.thermal import chip_temperature_c

        weak = module.module.lanes[2].transmitter.laser
        dt = chip_temperature_c(module.module, 25.0) - weak.temperature_ref_c
        eta = 0.1 * math.exp(-dt / weak.t1_k)
        i_th = weak.threshold_current_a * math.exp(dt / weak.t0_k)
        expected_db = 10 * math.log10(eta * (weak.max_bias_current_a - i_th) / weak.apc_power_w)   # -2.4 dB
        assert record_power_dbm(module, 2) - record_power_dbm(module, 1) == pytest.approx(expected_db, abs=0.05)
        assert bench.module.vendor_serial_number == "SNSW"
        # the module swapped in the virtual socket: the CMIS identity follows
        bench.link.insert(nominal_module("SNNEXT", n_lanes=3))
        assert bench.module.vendor_serial_number == "SNNEXT" and bench.link.lane == 0


def test_bench_file_without_switch_or_module_gets_the_virtual_ones(tmp_path):
    path = tmp_path / "bench.toml"
    path.write_text('[virtual]\ntime_scale = 1000.0\n[instruments.scope]\n[instruments.power_meter]\n')
    with open_bench(path, module=nominal_module("SNOLD", n_lanes=2), needed=()) as bench:
        assert set(bench.virtual.servers) == {"switch"} and bench.instruments == {}
        bench.lane_switch.select(1)
        assert bench.link.lane == 1 and bench.module.vendor_serial_number == "SNOLD"


def test_real_scope_bench_without_switch_uses_manual_lanes(tmp_path):
    path = tmp_path / "bench.toml"
    path.write_text('[instruments.scope]\nresource = "TCPIP::192.0.2.1::hislip0::INSTR"\n')
    with open_bench(path, needed=(), manual_lanes=True) as bench:
        assert isinstance(bench.lane_switch, ManualLaneSwitch)
        assert bench.module is None and bench.link is None and bench.virtual is None
    with open_bench(path, needed=()) as bench:
        assert bench.lane_switch is None


def test_module_link_is_a_thin_adapter_on_the_public_lane_api():
    module = nominal_module("SNML", n_lanes=2)
    link = ModuleLink(module=module)
    assert link.n_lanes == 2 and link.dut.serial == "SNML"
    link.select_lane(1)
    assert link.lanes[1].receiver is module.module.lanes[1].receiver      # the lane's model receiver
    assert 10 * math.log10(link.tx_average_power_w(25.0) / 1e-3) == pytest.approx(record_power_dbm(module, 1),
                                                                              abs=0.02)
