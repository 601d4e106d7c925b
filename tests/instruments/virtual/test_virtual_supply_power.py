"""The virtual supply's current is the models' module power over the voltage (one physics)."""

import pytest

from instruments.virtual.physics import BenchLink, BenchParams
from instruments.virtual.supply import E36312A
from models.presets import preset
from models.thermal import static_module_power



def test_supply_current_is_models_power_over_voltage_at_two_temperatures():
    link = BenchLink(BenchParams(model_preset="800GBASE-DR8", time_scale=1.0))
    module = preset("800GBASE-DR8")
    ps = E36312A(link)
    ps.voltage[1], ps.current[1], ps.output[1] = 3.3, 5.0, True
    currents = {}
    for t in (25.0, 70.0):
        link.set_thermal(setpoint_c=t, flow_on=True)
        link.advance(1e4)                                      # soaked: 250 time constants
        v, i = ps.operating_point(1)
        expected_w = static_module_power(module, t).module_w
        assert v == 3.3 and i == pytest.approx(expected_w / 3.3, rel=1e-12)
        currents[t] = i
    # the module draws more hot (APC bias, leakage): about 14 W at 70 °C against 11.6 W at 25 °C
    assert currents[70.0] > currents[25.0] * 1.1
    assert link.module_power_w() == pytest.approx(static_module_power(module, 70.0).module_w, rel=1e-12)
