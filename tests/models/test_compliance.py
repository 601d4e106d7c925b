"""The compliance channel of the transmitter test (models.compliance) against closed forms, and the
one code path of the virtual bench's scope and the yield prediction (issue 15)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from instruments.virtual.bench_params import ScopeParams
from instruments.virtual.physics import BenchLink, BenchParams
from models.compliance import ComplianceChannel, compliance_channel, fading_angle_rad, through_compliance_fibre
from optics import Waveform
from optics.errors import InvalidParameter, InvalidType
from optics.phy import load_phy
from optics.tdecq import tdecq

C = 299_792_458.0


def _d_ps_per_nm_km(lam_nm: float, lam0_nm: float, s0: float = 0.093) -> float:
    """802.3 fibre model by hand: D = S0/4 (λ - λ0^4/λ^3)."""
    return s0 / 4.0 * (lam_nm - lam0_nm**4 / lam_nm**3)


@pytest.mark.parametrize("name, lam_nm, lam0_nm, km", [
    ("1.6TBASE-DR8", 1304.5, 1324.0, 0.5),      # |D(1304.5; 1324)| > D(1317.5; 1300): the negative extreme
    ("800GBASE-DR8", 1304.5, 1324.0, 0.5),
    ("400GBASE-FR4", 1264.5, 1324.0, 2.0),      # CWDM: -11.9 ps/nm (reference notes: FR4 datasheet -11.9/+6.7)
])
def test_the_compliance_fibre_is_the_larger_dispersion_extreme(name, lam_nm, lam0_nm, km):
    ch = compliance_channel(load_phy(name))
    assert ch.dispersion_ps_per_nm == pytest.approx(_d_ps_per_nm_km(lam_nm, lam0_nm) * km, rel=1e-12)
    assert ch.wavelength_m == pytest.approx(lam_nm * 1e-9, rel=1e-12)
    if name == "400GBASE-FR4":
        assert ch.dispersion_ps_per_nm == pytest.approx(-11.9, abs=0.05)


def _tone(f_hz: float, depth: float = 0.02, fs: float = 400e9, n: int = 4000) -> Waveform:
    t = np.arange(n) / fs
    return Waveform(samples=1e-3 * (1.0 + depth * np.cos(2 * math.pi * f_hz * t)), sample_rate_hz=fs)


@pytest.mark.parametrize("disp", [-200.0, 150.0, -40.0])
def test_a_small_intensity_tone_fades_by_cos_theta(disp):
    """Chirp-free small-signal transfer of a fibre: H(f) = cos θ, θ = π λ² D L f² / c (Wang &
    Petermann 1992), computed here by hand; the record is periodic (20 GHz x 4000 / 400 GS/s)."""
    ch = ComplianceChannel(dispersion_ps_per_nm=disp, wavelength_m=1310e-9)
    f = 20e9
    out = through_compliance_fibre(_tone(f), ch)
    x = np.asarray(out.samples)
    amp = 2.0 * abs(np.fft.rfft(x)[int(round(f * x.size / out.sample_rate_hz))]) / x.size / 1e-3
    theta = math.pi * (1310e-9) ** 2 * disp * 1e-3 * f**2 / C
    assert fading_angle_rad(ch, f) == pytest.approx(theta, rel=1e-12)
    # second-order terms of a 2 % tone: ~depth^2 relative
    assert amp / 0.02 == pytest.approx(abs(math.cos(theta)), abs=2e-3)
    assert np.mean(x) == pytest.approx(1e-3, rel=1e-9)         # dispersion is lossless: power kept
    assert out.meta["dispersion_ps_per_nm"] == disp


def test_both_signs_close_a_chirp_free_eye_alike_and_zero_is_the_record_itself():
    rng = np.random.default_rng(2)
    p = 1e-3 * (1.0 + 0.5 * rng.random(2048))
    wf = Waveform(samples=p, sample_rate_hz=400e9)
    plus = through_compliance_fibre(wf, ComplianceChannel(dispersion_ps_per_nm=30.0, wavelength_m=1310e-9))
    minus = through_compliance_fibre(wf, ComplianceChannel(dispersion_ps_per_nm=-30.0, wavelength_m=1310e-9))
    assert np.max(np.abs(plus.samples - minus.samples)) < 1e-15       # |E(-D)|^2 = |conj E(+D)|^2
    assert np.max(np.abs(plus.samples - p)) > 1e-6
    zero = through_compliance_fibre(wf, ComplianceChannel(dispersion_ps_per_nm=0.0, wavelength_m=1310e-9))
    assert np.array_equal(zero.samples, p)


def test_bad_input_is_refused():
    wf = Waveform(samples=np.array([1e-3, -1e-6] * 64), sample_rate_hz=1e11)
    ch = ComplianceChannel(dispersion_ps_per_nm=-1.0, wavelength_m=1310e-9)
    with pytest.raises(InvalidParameter, match="negative optical power"):
        through_compliance_fibre(wf, ch)
    with pytest.raises(InvalidType, match="ComplianceChannel"):
        through_compliance_fibre(Waveform(samples=np.ones(128) * 1e-3, sample_rate_hz=1e11), -1.0)
    with pytest.raises(InvalidParameter, match="dispersion_ps_per_nm"):
        ComplianceChannel(dispersion_ps_per_nm=float("nan"), wavelength_m=1310e-9)
    with pytest.raises(InvalidParameter, match="compliance_wavelength_m"):
        ScopeParams(compliance_wavelength_m=2e-6)
    assert compliance_channel(dataclasses.replace(load_phy("1.6TBASE-DR8"), dispersion=None)) is None


def test_the_bench_scope_measures_tdecq_through_its_spool_and_the_rest_back_to_back():
    """The virtual bench with a -60 ps/nm spool: the scope's TDECQ record is the transmitter through
    models.compliance (the prediction's code path), OMA on the back-to-back record."""
    spool = ComplianceChannel(dispersion_ps_per_nm=-60.0, wavelength_m=1304.5e-9)
    params = dataclasses.replace(BenchParams(), scope=ScopeParams(
        compliance_dispersion_ps_per_nm=spool.dispersion_ps_per_nm, compliance_wavelength_m=spool.wavelength_m))
    link = BenchLink(params)
    tx = link.transmitter_waveform()
    b2b = link.scope_waveform()
    via_spool = link.scope_waveform(compliance=True)
    expected = through_compliance_fibre(tx.with_samples(tx.samples * link.scope_input_factor()), spool)
    assert np.max(np.abs(via_spool.samples - expected.samples.astype(np.float32))) <= 1e-9 * np.max(tx.samples)
    assert np.max(np.abs(via_spool.samples - b2b.samples)) > 1e-3 * np.max(b2b.samples)
    assert tdecq(via_spool).tdecq_db > tdecq(b2b).tdecq_db
    # no spool: the TDECQ path is the back-to-back record
    plain = BenchLink()
    assert np.array_equal(plain.scope_waveform(compliance=True).samples, plain.scope_waveform().samples)


def test_the_station_notes_a_bench_spool_that_is_not_the_phys_compliance_fibre():
    import types

    from optics.station.steps import spool_note

    spec = load_phy("800GBASE-DR8")
    want = compliance_channel(spec)

    def bench(d, lam=1311e-9):
        return types.SimpleNamespace(link=types.SimpleNamespace(params=types.SimpleNamespace(
            scope=ScopeParams(compliance_dispersion_ps_per_nm=d, compliance_wavelength_m=lam))))

    assert spool_note(bench(want.dispersion_ps_per_nm, want.wavelength_m), spec, "tx") == ""
    note = spool_note(bench(0.0), spec, "tx")
    assert "through a 0 ps/nm spool" in note and "-0.9273 ps/nm at 1304.5 nm" in note
    assert spool_note(types.SimpleNamespace(), spec, "tx") == ""          # a real bench: nothing to see
