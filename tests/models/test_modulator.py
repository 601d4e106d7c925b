"""Tests of models.modulator: MZM transfer and bandwidth, ring Lorentzian and lock, ideal IM, chirp."""

import math

import numpy as np
import pytest

from models.laser import DfbLaser, OpticalField
from models.modulator import (
    ElectroAbsorptionModulatedLaser,
    IdealIntensityModulator,
    MachZehnderModulator,
    MicroringModulator,
)
from optics.errors import InvalidParameter
from optics.waveform import Waveform

FS = 1e12


def cw(n=4096, power_w=1e-3, wavelength_m=1311e-9):
    return OpticalField(field=np.full(n, math.sqrt(power_w), dtype=complex), sample_rate_hz=FS,
                        wavelength_m=wavelength_m)


def volts(v):
    return Waveform(samples=np.asarray(v, dtype=float), sample_rate_hz=FS, quantity="voltage")


def test_mzm_quadrature_sine_law():
    # P = IL·P_in/2·(1 + sin(πV/Vπ)) at φ_b = −π/4 (reference §2.1), negligible static floor
    mzm = MachZehnderModulator(vpi_l_v_m=0.02, length_m=4e-3, insertion_loss_db=3.0, static_extinction_db=100.0)
    assert mzm.vpi_v == pytest.approx(5.0)
    v = np.linspace(-2.0, 2.0, 41)
    expected = 10 ** -0.3 * 0.5 * (1 + np.sin(math.pi * v / 5.0))
    np.testing.assert_allclose(mzm.power_transfer(v), expected, rtol=1e-9, atol=1e-10)  # δ² = 1e-10 floor
    # DC drive through modulate() gives the same power
    out = mzm.modulate(cw(), volts(np.full(4096, 1.3)))
    assert out.average_power_w == pytest.approx(1e-3 * 10 ** -0.3 * 0.5 * (1 + math.sin(math.pi * 1.3 / 5)), rel=1e-9)


def test_mzm_static_extinction_floor():
    mzm = MachZehnderModulator(static_extinction_db=25.0)
    v = np.linspace(-mzm.vpi_v, mzm.vpi_v, 20001)
    p = mzm.power_transfer(v)
    assert 10 * math.log10(p.max() / p.min()) == pytest.approx(25.0, abs=0.01)


@pytest.mark.parametrize("shape", ["first-order", "skin-effect", "bessel4"])
def test_mzm_eo_bandwidth_is_3db_point_small_signal(shape):
    n = 2000  # 0.5 GHz bins
    f3 = 30e9
    mzm = MachZehnderModulator(eo_bandwidth_hz=f3, eo_shape=shape, static_extinction_db=100.0)
    t = np.arange(n) / FS
    out = mzm.modulate(cw(n), volts(0.01 * np.sin(2 * math.pi * f3 * t))).power_w
    tone = np.abs(np.fft.rfft(out)[round(f3 * n / FS)]) * 2 / n
    # DC small-signal slope at quadrature: dP/dV = IL·P_in/2·π/Vπ
    slope = 10 ** (-mzm.insertion_loss_db / 10) * 1e-3 / 2 * math.pi / mzm.vpi_v
    assert tone / (0.01 * slope) == pytest.approx(10 ** (-3 / 20), rel=0.01)


def test_chirp_definition_alpha_equals_2p_dphi_dp():
    # α = 2P (dφ/dt)/(dP/dt) (Koch & Bowers) measured numerically on a slow sine
    n = 4000
    t = np.arange(n) / FS
    mod = IdealIntensityModulator(extinction_ratio_db=6.0, chirp_alpha=1.5)
    out = mod.modulate(cw(n), volts(0.4 * np.sin(2 * math.pi * 1e9 * t)))
    p = out.power_w
    phi = np.unwrap(np.angle(out.field))
    dp, dphi = np.gradient(p), np.gradient(phi)
    sel = np.abs(dp) > 0.5 * np.abs(dp).max()
    sel[:2] = sel[-2:] = False  # one-sided differences at the ends
    np.testing.assert_allclose(2 * p[sel] * dphi[sel] / dp[sel], 1.5, rtol=1e-3)


def test_ideal_modulator_extinction_and_errors():
    mod = IdealIntensityModulator(extinction_ratio_db=4.0, swing_v=2.0)
    out = mod.modulate(cw(4), volts([-1.0, -1.0, 1.0, 1.0])).power_w
    assert 10 * math.log10(out[2] / out[0]) == pytest.approx(4.0, abs=1e-9)
    with pytest.raises(InvalidParameter, match="extinction_ratio_db"):
        IdealIntensityModulator(extinction_ratio_db=0.0)
    with pytest.raises(InvalidParameter, match="negative power"):
        mod.modulate(cw(4), volts([-3.0, 0.0, 0.0, 0.0]))


def test_eml_source_emits_modulated_light():
    eml = ElectroAbsorptionModulatedLaser(
        laser=DfbLaser(), modulator=IdealIntensityModulator(extinction_ratio_db=5.0, swing_v=1.0)
    )
    out = eml.modulate(volts(np.repeat([-0.5, 0.5], 64)))
    p = out.power_w
    assert 10 * math.log10(p[100] / p[10]) == pytest.approx(5.0, abs=1e-6)
    assert out.wavelength_m == pytest.approx(1311e-9)


# --- microring --------------------------------------------------------------------------
def _fwhm_m(ring, n=400001):
    d = np.linspace(-ring.fsr_m / 2, ring.fsr_m / 2, n)
    t = ring.power_transmission(d)
    t = t / t.max()
    half = 0.5 * (1.0 + t.min())
    inside = d[t < half]
    return inside[-1] - inside[0]


@pytest.mark.parametrize("q, coupling", [(3000, "under"), (5000, "under"), (8000, "over"), (10000, "under")])
def test_ring_fwhm_is_lambda_over_q(q, coupling):
    ring = MicroringModulator(loaded_q=q, coupling=coupling, fsr_m=8.7e-9)
    # reference table: FWHM 0.44/0.26/0.16/0.13 nm for Q 3000/5000/8000/10000 at 1310 nm.
    # λ/Q is the Lorentzian (high-finesse) limit: allow 1 % (finesse here >= 20).
    assert _fwhm_m(ring) == pytest.approx(ring.resonance_wavelength_m / q, rel=0.01)


def test_ring_extinction_and_fsr_periodicity():
    ring = MicroringModulator(extinction_db=12.0, insertion_loss_db=0.0)
    t_res = float(ring.power_transmission(0.0))
    t_off = float(ring.power_transmission(ring.fsr_m / 2))
    assert -10 * math.log10(t_res) == pytest.approx(12.0, abs=1e-9)
    assert t_off > 0.97
    d = np.linspace(-1e-9, 1e-9, 11)
    np.testing.assert_allclose(ring.power_transmission(d), ring.power_transmission(d + ring.fsr_m), rtol=1e-9)


def test_ring_photon_lifetime_bandwidth():
    ring = MicroringModulator(loaded_q=5000, resonance_wavelength_m=1310e-9, rc_bandwidth_hz=1e15)
    # reference table: f0/Q = 46 GHz at Q = 5000
    assert ring.photon_lifetime_bandwidth_hz == pytest.approx(45.8e9, rel=0.01)
    assert ring.eo_bandwidth_hz == pytest.approx(ring.photon_lifetime_bandwidth_hz, rel=1e-6)


def test_ring_thermal_drift_and_heater_lock():
    ring = MicroringModulator()  # 1309.9 nm at 25 °C, 0.07 nm/K, 0.1 nm/mW, 60 mW, detuning 0.12 nm
    laser = DfbLaser()  # 1311 nm at 25 °C, 0.09 nm/K
    slope = (ring.unheated_resonance_at(85.0) - ring.unheated_resonance_at(25.0)) / 60.0
    assert slope == pytest.approx(0.07e-9, rel=1e-9)
    lk25 = ring.lock(laser.wavelength_at(25.0), 25.0)
    assert lk25.locked and lk25.heater_power_w == pytest.approx(9.8e-3, rel=1e-6)  # 0.98 nm / 0.1 nm/mW
    lk85 = ring.lock(laser.wavelength_at(85.0), 85.0)
    # laser +5.4 nm, ring +4.2 nm -> 2.18 nm -> 21.8 mW; slope 0.2 mW/K
    assert lk85.locked and lk85.heater_power_w == pytest.approx(21.8e-3, rel=1e-6)
    cold = ring.lock(laser.wavelength_at(-40.0), -40.0)
    assert not cold.locked and "red" in cold.reason


def test_ring_beyond_heater_range_fails_the_modulation():
    ring = MicroringModulator(max_heater_power_w=5e-3)  # needs 9.8 mW at 25 °C
    lk = ring.lock(1311e-9, 25.0)
    assert not lk.locked and "beyond the range" in lk.reason
    with pytest.raises(InvalidParameter, match="lock lost"):
        ring.modulate(cw(), volts(np.zeros(4096)), temperature_c=25.0)


def test_ring_modulates_on_its_slope():
    ring = MicroringModulator()
    out = ring.modulate(cw(), volts(np.repeat([-1.0, 1.0], 2048)), temperature_c=25.0).power_w
    # locked: resonance at 1311 − 0.12 nm; +1 V moves it 25 pm further from the laser (blue),
    # −1 V 25 pm towards it (hand computation)
    for idx, volt in ((1000, -1.0), (3000, 1.0)):
        detuning = 1311e-9 - (1311e-9 - 0.12e-9 - 25e-12 * volt)
        assert out[idx] == pytest.approx(1e-3 * float(ring.power_transmission(detuning)), rel=1e-4)
    assert out[3000] > out[1000]  # higher drive, more light


@pytest.mark.parametrize(
    "cls, kwargs, name",
    [
        (MachZehnderModulator, {"length_m": -1e-3}, "length_m"),
        (MachZehnderModulator, {"eo_bandwidth_hz": 0.0}, "eo_bandwidth_hz"),
        (MachZehnderModulator, {"eo_shape": "brickwall"}, "eo_shape"),
        (MicroringModulator, {"loaded_q": 10.0}, "loaded_q"),
        (MicroringModulator, {"max_heater_power_w": -1.0}, "max_heater_power_w"),
        (MicroringModulator, {"extinction_db": -3.0}, "extinction_db"),
    ],
)
def test_bad_parameters(cls, kwargs, name):
    with pytest.raises(InvalidParameter, match=name):
        cls(**kwargs)


def test_sample_rate_below_twice_bandwidth_is_rejected():
    mzm = MachZehnderModulator(eo_bandwidth_hz=45e9)
    light = OpticalField(field=np.ones(64, complex), sample_rate_hz=80e9, wavelength_m=1.31e-6)
    drive = Waveform(samples=np.zeros(64), sample_rate_hz=80e9, quantity="voltage")
    with pytest.raises(InvalidParameter, match="eo_bandwidth_hz"):
        mzm.modulate(light, drive)


def test_drive_mismatch_is_rejected():
    with pytest.raises(InvalidParameter, match="does not match"):
        MachZehnderModulator().modulate(cw(100), volts(np.zeros(50)))


# --- MZM temperature: bias drift and its loop, Vπ and bandwidth -------------------------------

def _closed_form_levels(vpi_v, phi_rad, v):
    # P = P0/2·(1 + cos(π·V/Vπ + φ)) (lossless, infinite static extinction): φ = 2θ-offset; the set
    # point φ_b = −π/4 is φ = −π/2 (rising slope), a bias error ε of θ is 2ε of φ
    return 0.5 * (1.0 + np.cos(math.pi * np.asarray(v) / vpi_v + phi_rad))


def test_mzm_thermal_drift_is_thermo_optic_phase_of_the_arm_imbalance():
    # dΔφ/dT = 2π/λ·dn/dT·ΔL for the arms' difference; θ is half of it.  Open loop (tiny gain):
    # ΔL = 100 µm, 1.8e-4 /K, 1310 nm, +10 K: Δφ = 2π·1.8e-4·1e-4·10/1.31e-6 = 0.8633 rad
    mzm = MachZehnderModulator(arm_imbalance_m=100e-6, temperature_ref_c=30.0, bias_loop_gain=1e-12)
    st = mzm.bias_state(40.0, 1.31e-6)
    d_phi = 2 * math.pi / 1.31e-6 * 1.8e-4 * 100e-6 * 10.0
    assert d_phi == pytest.approx(0.8633, abs=1e-4)
    assert st.drift_rad == pytest.approx(d_phi / 2, rel=1e-12)
    assert st.error_rad == pytest.approx(d_phi / 2, rel=1e-9) and st.limited is False  # the loop does ~nothing
    assert mzm.bias_state(30.0).drift_rad == 0.0


def test_mzm_bias_loop_residual_and_levels_match_the_closed_form():
    # loop gain G: residual ε = Δθ/(1+G); the operating levels and ER are those of
    # P = P0/2·(1 + cos(πV/Vπ − π/2 + 2ε)) at the four PAM4 drive voltages
    mzm = MachZehnderModulator(vpi_l_v_m=0.02, length_m=4e-3, insertion_loss_db=0.0, static_extinction_db=100.0,
                               arm_imbalance_m=80e-6, temperature_ref_c=35.0, bias_loop_gain=19.0,
                               bias_vpi_v=3.0, bias_max_v=3.0)
    t_hot = 80.0
    drift = math.pi * 1.8e-4 * 80e-6 * (t_hot - 35.0) / 1.31e-6
    eps = drift / 20.0
    st = mzm.bias_state(t_hot, 1.31e-6)
    assert st.error_rad == pytest.approx(eps, rel=1e-12) and not st.limited
    assert st.bias_v == pytest.approx(-(drift - eps) * 2 * 3.0 / math.pi, rel=1e-12)
    hot = mzm.at_temperature(t_hot, 1.31e-6)
    v = np.array([-1.2, -0.4, 0.4, 1.2])
    want = _closed_form_levels(5.0, -math.pi / 2 + 2 * eps, v)
    np.testing.assert_allclose(hot.power_transfer(v), want, rtol=1e-9, atol=1e-10)
    er = 10 * math.log10(want[3] / want[0])
    er0 = 10 * math.log10(_closed_form_levels(5.0, -math.pi / 2, v[3]) / _closed_form_levels(5.0, -math.pi / 2, v[0]))
    got = hot.power_transfer(v)
    assert 10 * math.log10(got[3] / got[0]) == pytest.approx(er, abs=1e-6)
    assert er < er0 - 0.1  # the bias moved towards the peak: the top level compresses, ER falls
    # the same operating point drives modulate(): a DC drive gives the closed-form power
    out = hot.modulate(cw(), volts(np.full(4096, 0.4)))
    assert out.average_power_w == pytest.approx(1e-3 * want[2], rel=1e-9)


def test_mzm_bias_loop_out_of_range_is_limited_and_says_so():
    mzm = MachZehnderModulator(arm_imbalance_m=200e-6, temperature_ref_c=25.0, bias_loop_gain=math.inf,
                               bias_vpi_v=3.0, bias_max_v=1.0)
    # within range with an ideal loop: no error
    ok = mzm.bias_state(30.0)
    assert ok.error_rad == pytest.approx(0.0, abs=1e-15) and not ok.limited
    st = mzm.bias_state(85.0)
    drift = math.pi * 1.8e-4 * 200e-6 * 60.0 / 1.31e-6
    # clipped at −1 V: correction −π·1/(2·3) of θ
    assert st.limited and st.bias_v == -1.0
    assert st.error_rad == pytest.approx(drift - math.pi / 6, rel=1e-12)
    assert "bias_max_v" in st.reason and "85" in st.reason


def test_mzm_at_reference_temperature_is_itself_and_vpi_bandwidth_scale():
    mzm = MachZehnderModulator(arm_imbalance_m=50e-6, temperature_ref_c=35.0, vpi_l_tempco_per_k=-3e-4,
                               eo_bandwidth_tempco_per_k=-1e-3)
    assert mzm.temperature_dependent
    assert mzm.at_temperature(35.0) is mzm
    hot = mzm.at_temperature(75.0)
    assert hot.vpi_l_v_m == pytest.approx(0.02 * (1 - 3e-4 * 40), rel=1e-12)
    assert hot.eo_bandwidth_hz == pytest.approx(45e9 * (1 - 1e-3 * 40), rel=1e-12)
    assert hot.bias_phase_rad == pytest.approx(-math.pi / 4 + mzm.bias_state(75.0).error_rad, rel=1e-12)
    # the copy is the operating point: temperature-independent, and at its own temperature itself
    assert not hot.temperature_dependent and hot.at_temperature(75.0) is hot
    # the EO cache key ignores the bias: a drift-only change keeps the drive filter
    drift_only = MachZehnderModulator(arm_imbalance_m=50e-6, temperature_ref_c=35.0)
    assert drift_only.at_temperature(75.0).eo_key == drift_only.eo_key
    assert hot.eo_key != mzm.eo_key
    # a balanced MZM does not drift
    assert MachZehnderModulator().at_temperature(85.0) == MachZehnderModulator()


@pytest.mark.parametrize(
    "kwargs, name",
    [({"arm_imbalance_m": 0.1}, "arm_imbalance_m"), ({"dn_dt_per_k": -1e-4}, "dn_dt_per_k"),
     ({"bias_loop_gain": 0.0}, "bias_loop_gain"), ({"bias_vpi_v": 0.0}, "bias_vpi_v"),
     ({"bias_max_v": -1.0}, "bias_max_v"), ({"vpi_l_tempco_per_k": 0.1}, "vpi_l_tempco_per_k"),
     ({"eo_bandwidth_tempco_per_k": float("nan")}, "eo_bandwidth_tempco_per_k"),
     ({"temperature_ref_c": 500.0}, "temperature_ref_c")],
)
def test_bad_mzm_temperature_parameters(kwargs, name):
    with pytest.raises(InvalidParameter, match=name):
        MachZehnderModulator(**kwargs)


def test_mzm_temperature_errors():
    mzm = MachZehnderModulator(arm_imbalance_m=50e-6, vpi_l_tempco_per_k=-0.02)
    with pytest.raises(InvalidParameter, match="temperature_c"):
        mzm.bias_state(float("nan"))
    with pytest.raises(InvalidParameter, match="wavelength_m"):
        mzm.bias_state(30.0, 1.31)
    with pytest.raises(InvalidParameter, match="non-positive"):
        mzm.at_temperature(80.0)  # 1 − 0.02·55 < 0
