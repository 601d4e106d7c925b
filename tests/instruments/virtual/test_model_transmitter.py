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
from models.thermal import chip_temperature_c


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
        # the chip temperature solved from the heat on the die (models.thermal.chip_temperature_c):
        # 19 K/W times two 40 mW lasers (I·1.2 V + I²·4 Ω − 40 mW each) and 8 × 10 mW of MZM bias
        t_chip = chip_temperature_c(module.module, t)
        i = _apc_bias_a(t_chip)
        assert t_chip - t == pytest.approx(19.0 * (2 * (i * 1.2 + i * i * 4.0 - 0.04) + 8 * 0.01), rel=1e-6)
        for k in range(8):
            assert mon.tx_bias_a[k] == pytest.approx(i, abs=4e-6)     # LSB 2 µA x 2
        biases.append((mon.tx_bias_a[0], t_chip))
    (cold, t_cold), (hot, t_hot) = biases
    assert hot - cold == pytest.approx(_apc_bias_a(t_hot) - _apc_bias_a(t_cold), abs=1e-5)  # +39 mA
    assert t_hot - 70.0 > t_cold - 25.0          # the hotter lasers draw more bias and heat the die more
