"""The virtual module's CMIS Tx-bias monitor reports the models' APC laser bias at the module
temperature (issue 13 item 1)."""

import math

import pytest

from instruments.cmis import CmisModule
from instruments.virtual.cmis_module import VirtualCmisBus
from instruments.virtual.model_transmitter import population_lanes
from instruments.virtual.physics import BenchLink, BenchParams
from models.population import PopulationModule
from models.presets import preset


def _apc_bias_a(t_chip_c: float) -> float:
    """I_th(T) + P_set/η(T) of the preset's 40 mW laser (8 mA, T0 64 K, 0.3 W/A, T1 260 K at 25 °C)."""
    d = t_chip_c - 25.0
    return 8e-3 * math.exp(d / 64.0) + 0.04 / (0.3 * math.exp(-d / 260.0))


def test_cmis_tx_bias_is_the_apc_bias_at_the_module_temperature():
    module = PopulationModule.of_design(preset("800GBASE-DR8"), seed=1)
    link = BenchLink(BenchParams(time_scale=1.0))
    link.insert_module(population_lanes(module))
    mod = CmisModule(VirtualCmisBus(link), n_lanes=8)
    assert mod.tx_bias_scale == 2                       # 262 mA full scale: the APC bias fits
    biases = []
    for setpoint in (25.0, 70.0):
        link.set_thermal(setpoint_c=setpoint, flow_on=True)
        link.advance(600.0)
        t = link.module_temperature_c
        assert t == pytest.approx(setpoint, abs=0.05)
        mon = mod.lane_monitors()
        for k in range(8):
            assert mon.tx_bias_a[k] == pytest.approx(_apc_bias_a(t + 10.0), abs=4e-6)     # LSB 2 µA x 2
        biases.append(mon.tx_bias_a[0])
    assert biases[1] - biases[0] == pytest.approx(_apc_bias_a(80.0) - _apc_bias_a(35.0), abs=1e-5)  # +36 mA
