"""Tests of models.power: module power, energy per bit, TEC and ring-heater models.

Second paths: per-bit figures summed by hand from the parameters; the Peltier COP written
out here from Goldsmid's closed form; the ring-heater table of the reference file (§6);
the industry module powers of the reference file (§5).
"""

from __future__ import annotations

import dataclasses
import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from models.power import (  # noqa: E402
    ARCHITECTURES,
    BLOCKS,
    LaserParams,
    ModulePowerParams,
    PowerBreakdown,
    RingHeaterParams,
    TecParams,
    module_power,
    plot_breakdowns,
    preset_params,
    ring_heater_power_w,
    tec_cop_max,
    tec_power_w,
)
from optics.errors import InvalidParameter, InvalidType  # noqa: E402


def _per_bit_by_hand(p: ModulePowerParams, n_lanes: int, rate: float) -> float:
    """Sum of each block's own pJ/bit figure, written from the parameters (no TEC)."""
    agg = n_lanes * rate
    n_lasers = math.ceil(n_lanes / p.laser.lanes_per_laser)
    laser = n_lasers * p.laser.optical_power_w / p.laser.wall_plug_efficiency / agg * 1e12
    on_module = (
        p.driver_energy_pj_per_bit
        + p.tia_energy_pj_per_bit
        + p.dsp_energy_pj_per_bit
        + p.modulator_bias_w_per_lane / rate * 1e12
        + p.heater_power_w_per_lane / rate * 1e12
        + p.controller_w / agg * 1e12
        + (0.0 if p.laser.external else laser)
    )
    conversion = on_module * (1 / p.conversion_efficiency - 1)
    return on_module + conversion + (laser if p.laser.external else 0.0)


@pytest.mark.parametrize("arch", ARCHITECTURES)
@pytest.mark.parametrize("n_lanes, rate", [(8, 100e9), (4, 106.25e9), (8, 200e9), (5, 50e9)])
def test_energy_per_bit_two_paths(arch, n_lanes, rate):
    b = module_power(arch, n_lanes=n_lanes, lane_rate_bps=rate)
    assert b.energy_pj_per_bit == pytest.approx(b.total_w / (n_lanes * rate) * 1e12, rel=1e-12)
    assert b.energy_pj_per_bit == pytest.approx(sum(b.blocks_pj_per_bit.values()), rel=1e-12)
    assert b.energy_pj_per_bit == pytest.approx(_per_bit_by_hand(preset_params(arch), n_lanes, rate), rel=1e-12)
    assert set(b.blocks_w) == set(BLOCKS)
    assert all(v >= 0 for v in b.blocks_w.values())


def test_800g_dsp_module_in_realistic_range():
    # reference §5: 800G pluggable 14-16 W (Broadcom) [S]; 13-14 W with 5 nm DSP, 12 W claimed [S2]
    b7 = module_power("dsp", n_lanes=8, lane_rate_bps=100e9, dsp_node="7nm")
    b5 = module_power("dsp", n_lanes=8, lane_rate_bps=100e9, dsp_node="5nm")
    assert 12.0 <= b7.total_w <= 18.0
    assert 11.5 <= b5.total_w <= 15.0 and b5.total_w < b7.total_w
    # the DSP is "about 50 %" of a DSP module [S] (Nagarajan, JLT 2021)
    assert 0.4 <= b7.blocks_w["dsp"] / b7.total_w <= 0.6
    # 1.6T DR8 with a 5 nm DSP: "25-30 W" [S2]
    b16 = module_power("dsp", n_lanes=8, lane_rate_bps=200e9, dsp_node="5nm")
    assert 20.0 <= b16.total_w <= 32.0


def test_lpo_and_cpo_below_dsp():
    dsp = module_power("dsp")
    lpo = module_power("lpo")
    cpo = module_power("cpo")
    assert lpo.total_w < dsp.total_w and lpo.blocks_w["dsp"] == 0.0
    # 800G LPO 5-8 W [S2] (gazettabyte)
    assert 5.0 <= lpo.total_w <= 8.0
    # CPO 5.5 W per 800G = 6.9 pJ/bit (Broadcom) [S], ~5.6 pJ/bit (NVIDIA): allow 3-8 pJ/bit
    assert 3.0 <= cpo.energy_pj_per_bit <= 8.0
    assert cpo.energy_pj_per_bit < lpo.energy_pj_per_bit < dsp.energy_pj_per_bit
    assert cpo.off_module == ("laser", "tec")
    assert cpo.module_w == pytest.approx(cpo.total_w - cpo.blocks_w["laser"])


def test_tec_zero_when_uncooled_and_rising_with_delta_t():
    base = preset_params("dsp")
    assert module_power(base, tec_delta_t_k=40.0).blocks_w["tec"] == 0.0  # not cooled
    cooled = dataclasses.replace(base, tec=TecParams(cooled=True))
    dts = np.arange(0.0, 61.0, 5.0)
    p = np.array([module_power(cooled, tec_delta_t_k=dt).blocks_w["tec"] for dt in dts])
    assert p[0] == 0.0
    assert np.all(np.diff(p) > 0)


def test_tec_cop_against_goldsmid_closed_form():
    # COP at optimum current: (T_c/dT) (g - T_h/T_c) / (g + 1), g = sqrt(1 + Z T_m)  (Goldsmid 2010)
    z, th, dt = 2.4e-3, 343.15, 30.0
    tc = th - dt
    g = math.sqrt(1 + z * (th + tc) / 2)
    cop = (tc / dt) * (g - th / tc) / (g + 1)
    assert tec_cop_max(dt, hot_side_c=70.0, figure_of_merit_per_k=z) == pytest.approx(cop, rel=1e-12)
    tec = TecParams(cooled=True, delta_t_k=dt, cop_fraction=0.5, heat_leak_w_per_k=0.01)
    assert tec_power_w(0.8, tec) == pytest.approx((0.8 + 0.3) / (0.5 * cop), rel=1e-12)
    # beyond dT_max ~ Z T_c^2 / 2 (about 100 K here) the cooler cannot pump: a clear error
    with pytest.raises(InvalidParameter, match="beyond the TEC's reach"):
        tec_cop_max(120.0)
    with pytest.raises(InvalidParameter, match="delta_t_k"):
        TecParams(cooled=True, delta_t_k=-5.0)


def test_tec_heat_load_is_laser_dissipation():
    p = dataclasses.replace(preset_params("dsp"), tec=TecParams(cooled=True, delta_t_k=25.0))
    b = module_power(p, n_lanes=8)
    n_lasers = 2
    heat = n_lasers * (0.1 / 0.2 - 0.1) + 0.01 * 25.0
    expected = heat / (0.5 * tec_cop_max(25.0))
    assert b.blocks_w["tec"] == pytest.approx(expected, rel=1e-12)


def test_ring_heater_linear_with_documented_slope():
    # reference §6: 70 K x 0.07 nm/K = 4.9 nm -> 49 mW at 0.1 nm/mW, 19.6 mW at 0.25 nm/mW
    p = RingHeaterParams(ring_shift_nm_per_k=0.07, heater_efficiency_nm_per_mw=0.1, park_temperature_c=85.0)
    assert ring_heater_power_w(15.0, p) == pytest.approx(0.049, rel=1e-12)
    p25 = dataclasses.replace(p, heater_efficiency_nm_per_mw=0.25)
    assert ring_heater_power_w(15.0, p25) == pytest.approx(0.0196, rel=1e-12)
    t = np.linspace(0.0, 85.0, 18)
    w = ring_heater_power_w(t, p)
    slope = np.polyfit(t, w, 1)[0]
    assert slope == pytest.approx(-0.07 / 0.1 * 1e-3, rel=1e-9)  # -0.7 mW/K
    assert p.slope_w_per_k == pytest.approx(-0.7e-3, rel=1e-12)
    assert np.max(np.abs(w - np.polyval(np.polyfit(t, w, 1), t))) < 1e-12  # exactly linear
    # a co-drifting uncooled DFB (0.09 nm/K) reverses the need: park at the coldest point
    dfb = RingHeaterParams(laser_shift_nm_per_k=0.09, park_temperature_c=0.0)
    assert ring_heater_power_w(70.0, dfb) == pytest.approx(70 * 0.02 / 0.1 * 1e-3, rel=1e-12)


def test_ring_heater_beyond_range_raises():
    p = RingHeaterParams(tuning_range_nm=4.9, park_temperature_c=85.0)
    lo, hi = p.temperature_range_c()
    assert lo == pytest.approx(15.0) and hi == pytest.approx(85.0)
    assert ring_heater_power_w(15.0, p) == pytest.approx(0.049)
    with pytest.raises(InvalidParameter, match="tuning range"):
        ring_heater_power_w(14.0, p)
    with pytest.raises(InvalidParameter, match="heaters only heat"):
        ring_heater_power_w(np.array([20.0, 90.0]), p)


def test_heater_and_laser_drive_are_inputs():
    b0 = module_power("cpo")
    b1 = module_power("cpo", heater_power_w_per_lane=ring_heater_power_w(15.0))
    assert b1.blocks_w["ring_heater"] == pytest.approx(8 * 0.049)
    assert b1.total_w > b0.total_w
    b2 = module_power("dsp", laser_bias_current_a=0.3, laser_forward_voltage_v=1.6)
    assert b2.blocks_w["laser"] == pytest.approx(2 * 0.3 * 1.6)
    b3 = module_power("dsp", laser_optical_power_w=0.05)
    assert b3.blocks_w["laser"] == pytest.approx(2 * 0.05 / 0.2)


def test_to_dict_and_plot():
    b = module_power("dsp")
    d = b.to_dict()
    assert d["total_w"] == pytest.approx(sum(d["blocks_w"].values()))
    assert d["aggregate_rate_bps"] == 800e9 and d["architecture"] == "dsp"
    ax = b.plot()
    assert ax.get_ylabel() == "power (W)"
    ax2 = plot_breakdowns([module_power(a) for a in ARCHITECTURES], per_bit=True)
    heights = [p.get_height() for p in ax2.patches]
    assert sum(heights) == pytest.approx(sum(module_power(a).energy_pj_per_bit for a in ARCHITECTURES))
    import matplotlib.pyplot as plt

    plt.close("all")


def test_power_rejects_bad_input():
    with pytest.raises(InvalidParameter, match="allowed: dsp, lpo, cpo"):
        module_power("coherent")
    with pytest.raises(InvalidParameter, match="dsp_node"):
        module_power("dsp", dsp_node="10nm")
    with pytest.raises(InvalidParameter, match="n_lanes"):
        module_power("dsp", n_lanes=0)
    with pytest.raises(InvalidParameter, match="lane_rate_bps"):
        module_power("dsp", lane_rate_bps=0.0)
    with pytest.raises(InvalidParameter, match="no DSP"):
        dataclasses.replace(preset_params("lpo"), dsp_energy_pj_per_bit=5.0)
    with pytest.raises(InvalidParameter, match="external"):
        dataclasses.replace(preset_params("cpo"), laser=LaserParams(optical_power_w=0.1, wall_plug_efficiency=0.2))
    with pytest.raises(InvalidParameter, match="wall_plug_efficiency"):
        LaserParams(optical_power_w=0.1, wall_plug_efficiency=1.5)
    with pytest.raises(InvalidParameter, match="both"):
        LaserParams(optical_power_w=0.1, wall_plug_efficiency=0.2, bias_current_a=0.2)
    with pytest.raises(InvalidParameter, match="below the optical output"):
        LaserParams(optical_power_w=0.1, wall_plug_efficiency=0.2, bias_current_a=0.01, forward_voltage_v=1.5)
    with pytest.raises(TypeError):
        TecParams(coolled=True)  # typo'd keyword
    with pytest.raises(InvalidType):
        module_power(42)
    with pytest.raises(InvalidParameter, match="heater_power_w_per_lane"):
        module_power("cpo", heater_power_w_per_lane=-0.01)
    assert isinstance(module_power("lpo"), PowerBreakdown)


def test_laser_drive_override_of_one_quantity_keeps_the_other():
    # a thermal sweep feeds the bias current; the forward voltage stays the parameter set's
    p = dataclasses.replace(
        preset_params("dsp"),
        laser=LaserParams(optical_power_w=0.1, wall_plug_efficiency=0.2, lanes_per_laser=4,
                          bias_current_a=0.5, forward_voltage_v=1.5),
    )
    assert module_power(p, laser_bias_current_a=0.6).blocks_w["laser"] == pytest.approx(2 * 0.6 * 1.5, rel=1e-12)
    assert module_power(p, laser_forward_voltage_v=1.6).blocks_w["laser"] == pytest.approx(2 * 0.5 * 1.6, rel=1e-12)
    with pytest.raises(InvalidParameter, match="both"):      # the preset has no I-V drive to complete
        module_power("dsp", laser_bias_current_a=0.6)


def test_power_never_returns_inf_and_refuses_strings():
    with pytest.raises(InvalidParameter, match="finite"):
        module_power("dsp", n_lanes=10**30, lane_rate_bps=1e300)
    with pytest.raises(InvalidParameter, match="finite"):
        tec_power_w(1e308, TecParams(cooled=True, delta_t_k=30.0))
    with pytest.raises(InvalidType, match="temperature_c"):
        ring_heater_power_w("20")


def test_tec_cop_max_equals_numerical_optimum_of_the_peltier_balance():
    # Independent route: the Peltier cooler energy balance (Goldsmid 2010, ch. 2)
    #   Q_c = S I T_c - I^2 R / 2 - K dT,   P = S I dT + I^2 R,   Z = S^2 / (R K)
    # maximised over the current I numerically (no closed form used).
    import scipy.optimize

    s_seebeck, r_ohm = 0.05, 2.0
    z = 2.4e-3
    k = s_seebeck**2 / (r_ohm * z)
    th = 70.0 + 273.15
    for dt in (5.0, 30.0, 55.0):
        tc = th - dt

        def neg_cop(i, tc=tc, dt=dt):
            qc = s_seebeck * i * tc - 0.5 * i**2 * r_ohm - k * dt
            return -qc / (s_seebeck * i * dt + i**2 * r_ohm)

        res = scipy.optimize.minimize_scalar(neg_cop, bounds=(1e-3, s_seebeck * tc / r_ohm), method="bounded",
                                             options={"xatol": 1e-10})
        assert tec_cop_max(dt, hot_side_c=70.0, figure_of_merit_per_k=z) == pytest.approx(-res.fun, rel=1e-6)


# --- leakage and self-heating ---------------------------------------------------------------------
def test_leakage_factor_against_its_equation():
    from models.power import LeakageParams

    lk = LeakageParams(leakage_fraction=0.3, temperature_ref_c=50.0, leakage_temperature_k=20.0)
    for t in (0.0, 50.0, 90.0):
        assert lk.factor(t) == pytest.approx(0.7 + 0.3 * math.exp((t - 50.0) / 20.0), rel=1e-12)
    # the default doubles the leakage every 25 K: 0.8 + 0.2 * 2 at 95 °C
    assert LeakageParams().factor(95.0) == pytest.approx(1.2, rel=1e-12)
    b_nom = module_power("dsp")
    b_hot = module_power("dsp", junction_temperature_c=95.0)
    for block in ("dsp", "driver", "tia"):
        assert b_hot.blocks_w[block] == pytest.approx(1.2 * b_nom.blocks_w[block], rel=1e-12)
    assert b_hot.blocks_w["laser"] == b_nom.blocks_w["laser"]
    with pytest.raises(InvalidParameter, match="leakage_fraction"):
        LeakageParams(leakage_fraction=1.0)


def test_self_heating_linear_case_matches_its_closed_form_and_converges_geometrically():
    from models.power import solve_self_heating

    p0, k, r, t_case = 12.0, 0.3, 2.0, 40.0          # R k = 0.6
    sol = solve_self_heating(lambda t: p0 + k * (t - t_case), t_case, r, tolerance_k=1e-9)
    t_exact = t_case + r * p0 / (1.0 - r * k)          # 40 + 24 / 0.4 = 100 °C
    assert sol.temperature_c == pytest.approx(t_exact, abs=1e-8)
    assert sol.power_w == pytest.approx(p0 + k * (t_exact - t_case), rel=1e-9)
    # error e_n = (R k)^n e_0, e_0 = t_exact - t_case: steps until the step (R k)^n e_0 (1 - R k) <= tol
    n_expected = math.ceil(math.log(1e-9 / ((t_exact - t_case) * (1 - r * k))) / math.log(r * k))
    assert abs(sol.iterations - n_expected) <= 1
    # no resistance: the case temperature itself
    assert solve_self_heating(lambda t: 5.0, 25.0, 0.0).temperature_c == 25.0


def test_self_heating_runaway_and_bad_power_are_refused():
    from models.power import solve_self_heating

    with pytest.raises(InvalidParameter, match="runaway"):
        solve_self_heating(lambda t: 10.0 + 1.0 * (t - 25.0), 25.0, 1.0)     # R k = 1
    with pytest.raises(InvalidParameter, match="runaway"):
        solve_self_heating(lambda t: math.exp(t / 10.0), 25.0, 1.0)
    with pytest.raises(InvalidParameter, match="finite power"):
        solve_self_heating(lambda t: float("nan"), 25.0, 1.0)
    with pytest.raises(InvalidParameter, match="thermal_resistance_k_per_w"):
        solve_self_heating(lambda t: 1.0, 25.0, -1.0)


def test_module_power_at_case_is_self_consistent_and_rises_with_temperature():
    from models.power import module_power_at_case

    p = preset_params("dsp")
    powers = []
    for t_case in (0.0, 35.0, 70.0):
        b = module_power_at_case(p, case_temperature_c=t_case, n_lanes=8, lane_rate_bps=100e9)
        # T_j = T_case + R_th (module power - launched light), and the blocks are those at T_j
        assert b.junction_temperature_c == pytest.approx(t_case + 0.5 * b.dissipated_w, abs=1e-5)
        again = module_power(p, n_lanes=8, lane_rate_bps=100e9, junction_temperature_c=b.junction_temperature_c)
        assert again.total_w == pytest.approx(b.total_w, rel=1e-12)
        assert b.launched_power_w == pytest.approx(2 * 0.1, rel=1e-12)
        powers.append(b.total_w)
    assert powers[0] < powers[1] < powers[2]
    with pytest.raises(InvalidParameter, match="junction_temperature_c"):
        module_power_at_case(p, case_temperature_c=25.0, junction_temperature_c=50.0)


# --- a TEC holding a laser at its set point (issue 13 item 2) ---------------------------------
def _goldsmid_cop(hot_c: float, dt_k: float, z: float = 2.4e-3) -> float:
    """Optimum-current cooling COP (Goldsmid 2010), written out: (T_c/dT)(g − T_h/T_c)/(g + 1)."""
    th = hot_c + 273.15
    tc = th - dt_k
    g = math.sqrt(1 + z * (th + tc) / 2)
    return (tc / dt_k) * (g - th / tc) / (g + 1)


def test_tec_hold_power_cools_above_heats_below_and_idles_in_between():
    from models.power import tec_hold_power_w

    tec = TecParams(cooled=True, set_point_c=35.0, cop_fraction=0.5, heat_leak_w_per_k=0.01)
    q = 0.38
    # cooling at 70 °C ambient: pump Q plus the leak G·35 K up 35 K, hot side at the ambient
    assert tec_hold_power_w(q, 70.0, tec) == pytest.approx((q + 0.01 * 35) / (0.5 * _goldsmid_cop(70.0, 35.0)),
                                                           rel=1e-12)
    # heating at −40 °C: the leak G·75 K exceeds the laser's own heat; heating COP = cooling COP + 1
    # at hot side = the set point (Q_h = Q_c + P)
    assert tec_hold_power_w(q, -40.0, tec) == pytest.approx(
        (0.01 * 75 - q) / (0.5 * (_goldsmid_cop(35.0, 75.0) + 1.0)), rel=1e-12)
    # below the set point while the laser's heat still exceeds the leak: it flows out, 0 W
    for t in (35.0, 25.0, 35.0 - q / 0.01 + 1e-6):
        assert tec_hold_power_w(q, t, tec) == 0.0
    p = [tec_hold_power_w(q, t, tec) for t in (40.0, 50.0, 60.0, 70.0)]
    assert np.all(np.diff(p) > 0)                # grows with |T_ambient − T_held|
    assert tec_hold_power_w(q, 70.0, dataclasses.replace(tec, cooled=False)) == 0.0
    with pytest.raises(InvalidParameter, match="set_point_c"):
        tec_hold_power_w(q, 70.0, TecParams(cooled=True))
    with pytest.raises(InvalidParameter, match="set_point_c"):
        TecParams(cooled=True, set_point_c=150.0)
    with pytest.raises(InvalidParameter, match="heat_load_w"):
        tec_hold_power_w(-0.1, 70.0, tec)


def test_cpo_module_power_shows_the_tec_holding_the_external_laser():
    from models.presets import CPO_LASER_HELD_C, preset
    from models.thermal import static_module_power

    assert CPO_LASER_HELD_C == 35.0
    m = preset("1.6T-DR8-MRM-CPO")
    # the 60 mW source (one for 8 lanes) at its 35 °C: I_th(35) + P/η(35), heat I·1.2 V + I²·4 Ω − P
    i = 8e-3 * math.exp(10 / 64) + 0.06 / (0.3 * math.exp(-10 / 260))
    heat = i * 1.2 + i * i * 4.0 - 0.06
    by_t = {t: static_module_power(m, t) for t in (0.0, 25.0, 35.0, 50.0, 70.0)}
    for t in (0.0, 25.0, 35.0):                  # 0.01 W/K × ≤ 35 K never outweighs the laser's heat
        assert by_t[t].blocks_w["tec"] == 0.0
    for t in (50.0, 70.0):
        expected = (heat + 0.01 * (t - 35.0)) / (0.5 * _goldsmid_cop(t, t - 35.0))
        assert by_t[t].blocks_w["tec"] == pytest.approx(expected, rel=1e-9)
    assert by_t[70.0].blocks_w["tec"] > by_t[50.0].blocks_w["tec"] > 1.0 * 0.25
    # off the module (in the external source): in the total, not in what the module draws
    assert "tec" in by_t[70.0].off_module
    assert by_t[70.0].total_w - by_t[70.0].module_w == pytest.approx(
        by_t[70.0].blocks_w["laser"] + by_t[70.0].blocks_w["tec"], rel=1e-12)
    # pluggables hold no laser: no TEC
    assert static_module_power(preset("800GBASE-DR8"), 70.0).blocks_w["tec"] == 0.0


def test_module_power_tec_ambient_and_delta_t_are_exclusive():
    p = dataclasses.replace(preset_params("cpo"), tec=TecParams(cooled=True, set_point_c=35.0))
    with pytest.raises(InvalidParameter, match="not both"):
        module_power(p, tec_ambient_c=50.0, tec_delta_t_k=10.0)
    assert module_power(p, tec_ambient_c=50.0).blocks_w["tec"] > 0.0
    assert module_power(p).blocks_w["tec"] == 0.0           # no ambient: the fixed delta_t_k (0 K)
