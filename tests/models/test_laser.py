"""Tests of models.laser against the reference T0 table, the L-I equation and the RIN definition."""

import dataclasses
import math

import numpy as np
import pytest

from models.laser import DfbLaser, OpticalField, rin_variance
from models.response import apply_lowpass
from optics.errors import InvalidParameter, InvalidType

# I_th(T)/I_th(25 °C) from silicon-photonics-parameters.md §1 (given to 2 decimals).
T0_TABLE = {
    50.0: (0.61, 1.0, 1.65, 2.46, 3.32),
    64.0: (0.68, 1.0, 1.48, 2.02, 2.55),
    100.0: (0.78, 1.0, 1.28, 1.57, 1.82),
}
TEMPS = (0.0, 25.0, 50.0, 70.0, 85.0)


@pytest.mark.parametrize("t0", sorted(T0_TABLE))
def test_threshold_follows_reference_t0_table(t0):
    laser = DfbLaser(threshold_current_a=10e-3, t0_k=t0, temperature_ref_c=25.0)
    for t, ratio in zip(TEMPS, T0_TABLE[t0]):
        # table rounded to 0.01 -> tolerance 0.006
        assert laser.threshold_current_at(t) / 10e-3 == pytest.approx(ratio, abs=0.006)


def test_worked_cc_dfb_threshold_data():
    # Chang Gung CC-DFB: 5.3 mA at 20 °C, 15.8 mA at 90 °C -> T0 = 64 K (reference §1)
    laser = DfbLaser(threshold_current_a=5.3e-3, temperature_ref_c=20.0, t0_k=64.0)
    assert laser.threshold_current_at(90.0) == pytest.approx(15.8e-3, rel=0.01)


def test_slope_drop_over_60k_is_about_one_db_for_t1_260k():
    laser = DfbLaser(t1_k=260.0)
    drop_db = 10 * math.log10(laser.slope_efficiency_at(85.0) / laser.slope_efficiency_at(25.0))
    assert drop_db == pytest.approx(-1.0, abs=0.01)  # reference: "−1 dB over 60 K"


def test_li_curve_and_electrical_power():
    laser = DfbLaser(threshold_current_a=8e-3, slope_efficiency_w_per_a=0.3, bias_current_a=0.1,
                     forward_voltage_v=1.2, series_resistance_ohm=4.0)
    assert laser.output_power_w(25.0) == pytest.approx(0.3 * 0.092, rel=1e-12)
    assert laser.electrical_power_w() == pytest.approx(0.1 * 1.2 + 0.01 * 4.0, rel=1e-12)
    assert laser.wall_plug_efficiency(25.0) == pytest.approx(0.0276 / 0.16, rel=1e-12)
    # hotter: threshold up, slope down -> less power
    assert laser.output_power_w(70.0) < laser.output_power_w(25.0)


def test_with_output_power_inverts_li():
    laser = DfbLaser().with_output_power(20e-3, temperature_c=50.0)
    assert laser.output_power_w(50.0) == pytest.approx(20e-3, rel=1e-12)


def test_below_threshold_gives_no_light():
    laser = DfbLaser(threshold_current_a=20e-3, bias_current_a=25e-3, t0_k=50.0)
    assert laser.output_power_w(85.0) == 0.0  # I_th(85) = 20 mA·e^(1.2) = 66 mA
    with pytest.raises(InvalidParameter, match="threshold"):
        laser.emit(64, 1e12, temperature_c=85.0)


def test_wavelength_drift_slope():
    laser = DfbLaser(wavelength_m=1311e-9, wavelength_drift_m_per_k=0.09e-9)
    slope = (laser.wavelength_at(70.0) - laser.wavelength_at(0.0)) / 70.0
    assert slope == pytest.approx(0.09e-9, rel=1e-9)
    assert laser.emit(8, 1e12, temperature_c=35.0).wavelength_m == pytest.approx(1311.9e-9, rel=1e-12)


def test_rin_variance_matches_definition():
    fs, n = 2e12, 2**19
    laser = DfbLaser(rin_db_per_hz=-140.0, rin_bandwidth_hz=300e9)
    light = laser.emit(n, fs, rng=np.random.default_rng(1))
    p = light.power_w
    rel = p / p.mean() - 1.0
    # whole band: var = RIN·B_rin (n²/4 term adds < 1 %); 2^19 samples at f_low/fs = 0.45: ±1 %
    assert np.var(rel) == pytest.approx(rin_variance(-140.0, 300e9), rel=0.04)
    # in a 20 GHz Gaussian band the variance is RIN·ENBW (ENBW = f3·½·sqrt(π/(0.3 ln10))):
    # the flat low-frequency PSD is the definition of RIN; sinc⁴(20/900) roll-off < 1 %
    filt = apply_lowpass(rel, fs, 20e9, "gaussian")
    enbw = 20e9 * 0.5 * math.sqrt(math.pi / (0.3 * math.log(10)))
    assert np.var(filt) == pytest.approx(10 ** (-14.0) * enbw, rel=0.1)


def test_emit_without_rng_is_noiseless_and_seeded_is_reproducible():
    laser = DfbLaser()
    a = laser.emit(1000, 1e12)
    assert np.ptp(a.power_w) == 0.0
    b = laser.emit(1000, 1e12, rng=np.random.default_rng(7)).field
    c = laser.emit(1000, 1e12, rng=np.random.default_rng(7)).field
    np.testing.assert_array_equal(b, c)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"bias_current_a": -1e-3}, "bias_current_a"),
        ({"t0_k": 0.0}, "t0_k"),
        ({"slope_efficiency_w_per_a": -0.1}, "slope_efficiency_w_per_a"),
        ({"rin_db_per_hz": -50.0}, "rin_db_per_hz"),
        ({"wavelength_m": 1311.0}, "wavelength_m"),
    ],
)
def test_bad_parameters_name_the_parameter(kwargs, name):
    with pytest.raises(InvalidParameter, match=name):
        DfbLaser(**kwargs)


def test_typo_keyword_is_type_error():
    with pytest.raises(TypeError):
        DfbLaser(bias_curent_a=0.1)
    with pytest.raises(InvalidType):
        DfbLaser(t0_k="64")


def test_optical_field_to_waveform():
    f = OpticalField(field=np.full(16, 1e-3**0.5), sample_rate_hz=1e12, wavelength_m=1.31e-6)
    wf = f.to_waveform()
    assert wf.unit == "W" and wf.samples.mean() == pytest.approx(1e-3)
    assert wf.meta["wavelength_m"] == 1.31e-6


def test_skip_rin_advances_the_generator_like_rin_noise():
    laser = DfbLaser()
    for n, fs in ((1 << 14, 1e12), (64, 1e9)):  # interpolated RIN, and white RIN at the full rate
        a, b = np.random.default_rng(8), np.random.default_rng(8)
        laser.rin_noise(n, fs, a)
        laser.skip_rin(n, fs, b)
        assert a.standard_normal() == b.standard_normal()


def test_rin_noise_in_parts_equals_the_whole_record():
    from models.laser import DfbLaser

    laser = DfbLaser(rin_db_per_hz=-140.0, rin_bandwidth_hz=20e9)
    n, fs = 10_000, 200e9
    draws = laser.rin_draws(n, fs, np.random.default_rng(3))
    whole = laser.rin_noise(n, fs, draws=draws)
    np.testing.assert_array_equal(whole, laser.rin_noise(n, fs, rng=np.random.default_rng(3)))
    parts = np.concatenate([laser.rin_noise(n, fs, draws=draws, start=a, stop=b)
                            for a, b in ((0, 3333), (3333, 9000), (9000, n))])
    np.testing.assert_array_equal(parts, whole)
    amp = laser.amplitude(n, fs, rin=whole.copy())
    np.testing.assert_array_equal(amp, laser.amplitude(n, fs, rng=np.random.default_rng(3)))
    with pytest.raises(InvalidParameter, match="start, stop"):
        laser.rin_noise(n, fs, draws=draws, start=5, stop=5)
    with pytest.raises(InvalidParameter, match="draws has shape"):
        laser.rin_noise(n, fs, draws=draws[:-1])
    with pytest.raises(InvalidParameter, match="rin has shape"):
        laser.amplitude(n, fs, rin=whole[:-1])
    with pytest.raises(InvalidParameter, match="rng or draws"):
        laser.rin_noise(n, fs)


@pytest.mark.parametrize("rin_bandwidth_hz", [20e9, 100e9])  # interpolated RIN, and white RIN at the full rate
def test_amplitude_from_draws_equals_scaled_amplitude_in_any_parts(rin_bandwidth_hz):
    laser = DfbLaser(rin_db_per_hz=-140.0, rin_bandwidth_hz=rin_bandwidth_hz)
    n, fs = 10_000, 200e9
    draws = laser.rin_draws(n, fs, np.random.default_rng(4))
    scale = 0.47
    ref = scale * laser.amplitude(n, fs, temperature_c=40.0, rin=laser.rin_noise(n, fs, draws=draws))
    parts = np.concatenate([laser.amplitude_from_draws(n, fs, draws, temperature_c=40.0, start=a, stop=b, scale=scale)
                            for a, b in ((0, 4999), (4999, 5000), (5000, n))])
    # the affine map applied to the knots before interpolating: equal up to rounding
    np.testing.assert_allclose(parts, ref, rtol=1e-14, atol=0)
    assert np.std(parts) > 1e-4 * np.mean(parts)  # the RIN is there
    with pytest.raises(InvalidParameter, match="draws has shape"):
        laser.amplitude_from_draws(n, fs, draws[:-1])
    with pytest.raises(InvalidParameter, match="start, stop"):
        laser.amplitude_from_draws(n, fs, draws, start=10, stop=n + 1)
    with pytest.raises(InvalidParameter, match="no light"):
        DfbLaser(bias_current_a=1e-3).amplitude_from_draws(n, fs, draws)


def test_power_waveform_is_what_to_waveform_makes():
    from models.laser import power_waveform

    rng = np.random.default_rng(6)
    f = OpticalField(field=rng.standard_normal(64) + 1j * rng.standard_normal(64), sample_rate_hz=8e9,
                     wavelength_m=1.31e-6, symbol_rate_baud=1e9, pattern=np.arange(8) % 4, meta={"a": 1})
    ref = f.to_waveform(b=2)
    wf = power_waveform(np.abs(f.field) ** 2, sample_rate_hz=8e9, wavelength_m=1.31e-6, symbol_rate_baud=1e9,
                        pattern=np.arange(8) % 4, meta={"a": 1, "b": 2})
    np.testing.assert_allclose(wf.samples, ref.samples, rtol=1e-15)
    assert dict(wf.meta) == dict(ref.meta) and wf.unit == "W" and wf.symbol_rate_baud == 1e9


def test_knots_interpolate_alike_in_any_pieces_and_in_single_precision():
    from models.laser import Knots

    laser = DfbLaser(rin_db_per_hz=-130.0, rin_bandwidth_hz=30e9)
    n, fs = 50_000, 400e9  # 11 250 knot intervals: positions up to 1e4, fractions to 1e-16
    knots = laser.amplitude_knots(n, fs, laser.rin_draws(n, fs, np.random.default_rng(2)), scale=0.8)
    whole = knots.at(0, n)
    pieces = np.concatenate([knots.at(a, min(n, a + 4096)) for a in range(0, n, 4096)])
    np.testing.assert_array_equal(pieces, whole)
    single = np.concatenate([knots.at(a, min(n, a + 4096), dtype=np.float32) for a in range(0, n, 4096)])
    assert single.dtype == np.float32
    # the fraction is formed in double precision: the float32 values are the float64 ones rounded
    np.testing.assert_allclose(single, whole, rtol=3e-7, atol=0)
    # second method: numpy.interp at the knot positions j·n/n_low
    n_low = knots.values.size - 1
    j = np.arange(0, n_low, 97)
    pos = np.round(j * n / n_low).astype(int)
    np.testing.assert_allclose(whole[pos], np.interp(pos * n_low / n, np.arange(n_low + 1), knots.values), rtol=1e-11)
    with pytest.raises(InvalidParameter, match="knots needed"):
        Knots(values=np.ones(2), n_samples=10)
    with pytest.raises(InvalidParameter, match="samples needed"):
        Knots(values=np.ones(9), n_samples=10, at_samples=True)
    with pytest.raises(InvalidParameter, match="start, stop"):
        knots.at(5, 5)


# --- automatic power control -------------------------------------------------------------------
def _apc_closed_form(laser, t):
    """I_APC(T) = I_th,ref e^{(T-T_ref)/T0} + P_set / (η_ref e^{-(T-T_ref)/T1}), written out."""
    d = t - laser.temperature_ref_c
    return laser.threshold_current_a * math.exp(d / laser.t0_k) + laser.apc_power_w / (
        laser.slope_efficiency_w_per_a * math.exp(-d / laser.t1_k))


def test_apc_holds_the_set_power_with_the_closed_form_bias():
    laser = DfbLaser(apc_power_w=40e-3, max_bias_current_a=0.3)
    for t in (0.0, 25.0, 50.0, 80.0, 95.0):
        assert laser.bias_current_at(t) == pytest.approx(_apc_closed_form(laser, t), rel=1e-12)
        assert laser.output_power_w(t) == pytest.approx(40e-3, rel=1e-12)
        assert not laser.apc_limited(t)
        i = _apc_closed_form(laser, t)
        assert laser.electrical_power_w(t) == pytest.approx(i * 1.2 + i * i * 4.0, rel=1e-12)
    # 25 °C: 8 mA + 40 mW / 0.3 W/A = 141.33 mA; the bias rises with temperature
    assert laser.bias_current_at(25.0) == pytest.approx(8e-3 + 40e-3 / 0.3, rel=1e-12)
    assert laser.bias_current_at(80.0) > laser.bias_current_at(25.0) > laser.bias_current_at(0.0)
    # the field the lane simulation draws carries the set power at any temperature
    amp = laser.amplitude(64, 1e12, temperature_c=70.0)
    assert float(np.mean(amp**2)) == pytest.approx(40e-3, rel=1e-12)


def test_apc_at_its_current_limit_loses_power_by_the_closed_form():
    laser = DfbLaser(apc_power_w=40e-3, max_bias_current_a=0.16)
    # needed bias crosses 160 mA between 25 °C (141 mA) and 80 °C (184 mA)
    assert not laser.apc_limited(25.0) and laser.apc_limited(80.0)
    t = 80.0
    eta = 0.3 * math.exp(-(t - 25.0) / 260.0)
    ith = 8e-3 * math.exp((t - 25.0) / 64.0)
    assert laser.bias_current_at(t) == 0.16
    assert laser.output_power_w(t) == pytest.approx(eta * (0.16 - ith), rel=1e-12)
    assert laser.output_power_w(t) < 40e-3


def test_apc_parameters_are_checked_and_with_output_power_sets_the_set_point():
    with pytest.raises(InvalidParameter, match="max_bias_current_a.*apc_power_w"):
        DfbLaser(max_bias_current_a=0.2)
    with pytest.raises(InvalidParameter, match="apc_power_w"):
        DfbLaser(apc_power_w=0.0)
    with pytest.raises(InvalidParameter, match="max_bias_current_a"):
        DfbLaser(apc_power_w=1e-3, max_bias_current_a=-0.1)
    apc = DfbLaser().with_output_power(20e-3).with_apc(max_bias_current_a=0.2)
    assert apc.apc_power_w == pytest.approx(20e-3, rel=1e-12)
    moved = apc.with_output_power(30e-3)
    assert moved.apc_power_w == 30e-3 and moved.output_power_w(60.0) == pytest.approx(30e-3, rel=1e-12)
    # constant current stays constant current
    cc = DfbLaser(bias_current_a=0.1)
    assert cc.bias_current_at(70.0) == 0.1 and not cc.apc_limited(70.0)
    with pytest.raises(InvalidParameter, match="no light"):
        DfbLaser(bias_current_a=1e-3).with_apc(max_bias_current_a=0.2)


def test_a_held_laser_ignores_the_chip_temperature():
    """``held_temperature_c``: threshold, slope, wavelength and APC bias at the set point."""
    free = DfbLaser().with_output_power(20e-3).with_apc(max_bias_current_a=None)
    held = dataclasses.replace(free, held_temperature_c=40.0)
    for t_chip in (0.0, 40.0, 95.0):
        assert held.own_temperature_c(t_chip) == 40.0
        assert held.wavelength_at(t_chip) == free.wavelength_at(40.0)
        assert held.threshold_current_at(t_chip) == free.threshold_current_at(40.0)
        assert held.bias_current_at(t_chip) == pytest.approx(8e-3 * math.exp(15 / 64) + 0.02 / (0.3 * math.exp(-15 / 260)),
                                                             rel=1e-12)
    assert free.wavelength_at(95.0) - free.wavelength_at(0.0) == pytest.approx(95 * 0.09e-9, rel=1e-9)
    with pytest.raises(InvalidParameter, match="held_temperature_c"):
        DfbLaser(held_temperature_c=200.0)
