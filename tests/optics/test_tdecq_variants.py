"""TECQ and SECQ entry points (optics.tdecq.variants) against independent references (issue 15)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.special

from optics import Waveform
from optics.errors import InvalidParameter
from optics.patterns import prbs_q
from optics.phy import load_phy
from optics.tdecq import tdecq
from optics.tdecq.variants import calibrate_secq, secq, tecq

BAUD = 53.125e9
SPS = 16
LEVELS_W = np.array([0.2e-3, 0.5e-3, 0.8e-3, 1.1e-3])     # equally spaced: OMA 0.9 mW, d = OMA/6


def _ideal(noise_w: float = 0.0, seed: int = 1, meta: dict | None = None) -> Waveform:
    """An ISI-free PAM4 staircase (PRBS13Q x 2) with white Gaussian noise per sample."""
    sym = np.tile(prbs_q(13), 2)
    x = np.repeat(LEVELS_W[sym], SPS)
    x = x + noise_w * np.random.default_rng(seed).standard_normal(x.size)
    return Waveform(samples=x, sample_rate_hz=SPS * BAUD, symbol_rate_baud=BAUD, pattern=sym, meta=meta or {})


def _closed_form_db(noise_w: float, target_ser: float = 4.8e-4) -> float:
    """TDECQ of an ISI-free eye with white Gaussian noise sigma_n (no reference filter):
    the tolerated extra noise s obeys 1.5 Q(d / sqrt(sigma_n^2 + s^2)) = SER_t, so
    s = sqrt((d/Q_t)^2 - sigma_n^2) and TDECQ = 10log10((d/Q_t)/s) = -5log10(1 - (sigma_n Q_t/d)^2)."""
    d = (LEVELS_W[3] - LEVELS_W[0]) / 6.0
    q_t = -scipy.special.ndtri(target_ser / 1.5)
    return -5.0 * math.log10(1.0 - (noise_w * q_t / d) ** 2)


def test_tecq_of_a_back_to_back_record_is_its_tdecq_with_the_phy_method(isi_lane):
    wf = isi_lane(BAUD, seed=4, sps=SPS, periods=2)
    method = load_phy("800GBASE-DR4").tdecq_method
    r = tecq(wf, method=method)
    assert len(r.taps) == 15
    assert r.tdecq_db == tdecq(wf, **method.tdecq_options()).tdecq_db
    # caller's keywords win over the method's
    assert len(tecq(wf, method=method, n_taps=5, n_precursors=2).taps) == 5


def test_tecq_refuses_a_record_that_passed_dispersion():
    wf = _ideal(2e-5, meta={"dispersion_ps_per_nm": -2.3})
    with pytest.raises(InvalidParameter, match="TECQ is measured back-to-back.*-2.3 ps/nm"):
        tecq(wf)
    assert math.isfinite(tecq(_ideal(2e-5, meta={"dispersion_ps_per_nm": 0.0})).tdecq_db)


@pytest.mark.parametrize("noise_w", [2.0e-5, 3.5e-5])
def test_secq_of_a_noisy_ideal_eye_matches_the_closed_form(noise_w):
    r = secq(_ideal(noise_w), reference_filter=False)
    # tolerance: the finite record's tail statistics at SER 4.8e-4 (measured: +0.0002 dB at 20 uW, -0.009 dB at 35 uW)
    assert r.tdecq_db == pytest.approx(_closed_form_db(noise_w), abs=0.06)


def test_secq_calibration_reaches_the_target_within_its_tolerance():
    target = 3.4                                 # SECQ of the 802.3 stressed receiver tables
    cal = calibrate_secq(_ideal(), target, rng=np.random.default_rng(7), reference_filter=False,
                         tolerance_db=0.05)
    assert abs(cal.secq_db - target) <= 0.05
    # an independent measurement of the calibrated signal agrees
    assert secq(cal.waveform, reference_filter=False).tdecq_db == pytest.approx(cal.secq_db, abs=1e-9)
    # and the noise found is the closed form's sigma_n for 3.4 dB: (d/Q_t) sqrt(1 - 10^(-3.4/5))
    d = (LEVELS_W[3] - LEVELS_W[0]) / 6.0
    q_t = -scipy.special.ndtri(4.8e-4 / 1.5)
    expected = d / q_t * math.sqrt(1.0 - 10.0 ** (-target / 5.0))
    assert cal.noise_rms == pytest.approx(expected, rel=0.05)   # measured +2.8 % (finite tails)
    assert cal.waveform.meta["secq_target_db"] == target


def test_secq_calibration_refuses_a_signal_already_beyond_the_target():
    with pytest.raises(InvalidParameter, match="already has SECQ"):
        calibrate_secq(_ideal(3.8e-5), 1.0, rng=np.random.default_rng(0), reference_filter=False)
    with pytest.raises(InvalidParameter, match="target_db"):
        calibrate_secq(_ideal(), -1.0, rng=np.random.default_rng(0))
