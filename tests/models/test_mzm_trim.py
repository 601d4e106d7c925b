"""The presets' MZM bias loops are trimmed at each module's own die temperature at its trim case
temperature (models.presets.trimmed_at_case): zero residual there, the loop's closed form away from it."""

from __future__ import annotations

import dataclasses
import math

import pytest

from models.chip_temperature import chip_temperature_c
from models.link import SimulationSettings, simulate
from models.modulator import MachZehnderModulator
from models.presets import MZM_TRIM_CASE_C, list_presets, preset, trimmed_at_case

MZM_PRESETS = [n for n in list_presets()
               if isinstance(preset(n).lanes[0].transmitter.modulator, MachZehnderModulator)]


def _closed_form_error_rad(mzm, t_chip, t_trim, wavelength_m):
    """Residual of a proportional loop of gain G: the open-loop drift pi dn/dT dL (T - T_trim)/lambda over 1 + G."""
    drift = math.pi * mzm.dn_dt_per_k * mzm.arm_imbalance_m * (t_chip - t_trim) / wavelength_m
    return drift / (1.0 + mzm.bias_loop_gain)


@pytest.mark.parametrize("name", MZM_PRESETS)
def test_trim_is_the_die_temperature_at_the_trim_case(name):
    m = preset(name)
    t_trim = chip_temperature_c(m, MZM_TRIM_CASE_C)
    assert MZM_TRIM_CASE_C + 3.0 < t_trim < MZM_TRIM_CASE_C + 12.0     # the die sits above the case
    for lane in m.lanes:
        mzm, laser = lane.transmitter.modulator, lane.transmitter.laser
        assert mzm.temperature_ref_c == t_trim and mzm.arm_imbalance_m > 0.0
        lam = laser.wavelength_at(t_trim)
        st = mzm.bias_state(t_trim, lam)
        assert st.error_rad == 0.0 and st.bias_v == 0.0 and not st.limited
        assert mzm.at_temperature(t_trim, lam) is mzm          # nothing moves at the trim
        # away from the trim the residual is the loop's closed form (it grows with |T_chip - T_trim|)
        errors = []
        for t_case in (0.0, 45.0, 70.0, 85.0):
            t_chip = chip_temperature_c(m, t_case)
            lam = laser.wavelength_at(t_chip)
            e = mzm.bias_state(t_chip, lam).error_rad
            assert e == pytest.approx(_closed_form_error_rad(mzm, t_chip, t_trim, lam), rel=1e-12, abs=1e-15)
            errors.append(abs(e))
        assert errors[0] > 0.0 and errors[1] < errors[2] < errors[3]


def test_four_lane_modules_are_no_longer_trimmed_at_the_eight_lane_die():
    # DR4 and FR4 dies sit near 30 °C at 25 °C case, DR8 ones near 35 °C (twice the lasers on the die)
    dr4, fr4, dr8 = (preset(n) for n in ("400GBASE-DR4", "400GBASE-FR4", "800GBASE-DR8"))
    t = [x.lanes[0].transmitter.modulator.temperature_ref_c for x in (dr4, fr4, dr8)]
    assert t[0] == pytest.approx(29.9, abs=0.1) and t[1] == pytest.approx(29.4, abs=0.1)
    assert t[2] == pytest.approx(35.1, abs=0.1)
    # another trim case moves the trim with the die
    hot = trimmed_at_case(dr4, 70.0)
    assert hot.lanes[0].transmitter.modulator.temperature_ref_c == chip_temperature_c(dr4, 70.0)
    # a ring lane is left alone
    cpo = preset("1.6T-DR8-MRM-CPO")
    assert trimmed_at_case(cpo, 40.0).lanes[0].transmitter.modulator == cpo.lanes[0].transmitter.modulator


def test_simulated_lane_reports_no_bias_error_at_the_trim_case():
    m = preset("400GBASE-DR4")
    out = {}
    for t_case in (MZM_TRIM_CASE_C, 70.0):
        # lane 0 alone, its die held at the four-lane module's (a one-lane module's die is colder)
        mod = dataclasses.replace(m, lanes=[m.lanes[0]], chip_temperature_rise_k=chip_temperature_c(m, t_case) - t_case)
        s = SimulationSettings(pattern="PRBS9Q", n_symbols=2044, samples_per_symbol=8, temperature_c=t_case,
                               compute_tdecq=False, count_errors=False)
        out[t_case] = simulate(mod, s, seed=3).lanes[0].metrics
    assert out[MZM_TRIM_CASE_C]["mzm_bias_error_rad"] == 0.0
    mzm, laser = m.lanes[0].transmitter.modulator, m.lanes[0].transmitter.laser
    t70 = out[70.0]["chip_temperature_c"]
    assert t70 == pytest.approx(chip_temperature_c(m, 70.0), abs=1e-12)
    assert out[70.0]["mzm_bias_error_rad"] == pytest.approx(
        _closed_form_error_rad(mzm, t70, mzm.temperature_ref_c, laser.wavelength_at(t70)), rel=1e-12)
