"""Per-level statistics of a record with independent noise per sample, at any sampling phase.

Issue 11, item 1: an equivalent-time scope record (or a model) has white noise, one
independent draw per sample.  The statistics of the eye-centre values (level sigmas,
counted and statistical BER, eye heights) must be those of the recorded samples wherever
the eye centre falls between two samples; a value interpolated half-way between two samples
has ``1/sqrt(2)`` of their noise and flatters the BER by orders of magnitude.

The references are closed forms for equally spaced PAM4 levels (half spacing ``d``) with
Gaussian noise ``sigma`` and no ISI at the sampling instant, Gray coding, all four symbols
(almost exactly) equally likely as in PRBS13Q:

* level sigma = ``sigma``;
* ``SER = 2 (1 - 1/4) Q(d/sigma) = 1.5 Q(d/sigma)``, and ``BER = SER/2`` (an adjacent-level
  error costs one of the two bits; two-level errors, ``Q(3 d/sigma)``, are negligible);
* eye height at tail probability ``p``: ``2 d - 2 Q^-1(p) sigma``.
"""

import numpy as np
import pytest
from scipy.special import ndtr, ndtri
from scipy.stats import binom

from optics import Waveform
from optics.ber import count_errors, estimate_ber
from optics.eye import measure_eye
from optics.levels import measure_levels
from optics.patterns import pattern
from optics.timing import recover_timing

LEVELS_W = np.array([0.2e-3, 0.6e-3, 1.0e-3, 1.4e-3])
HALF_SPACING_W = 0.2e-3
#: the issue's noise: d/sigma = 3.2, closed-form BER 5.2e-4
SIGMA_W = HALF_SPACING_W / 3.2
EDGE_UI = 0.1  # Gaussian edges: 20-80 % in 0.17 UI, no ISI within +-0.06 UI of the centre
BAUD = 53.125e9


def soft_edged_pam4(sym, sps, centre_offset_samples, sigma_w, seed):
    """Periodic PAM4 record whose eye centres lie ``centre_offset_samples`` after a sample.

    Symbol k is centred at sample ``3 + centre_offset_samples + k sps``; the waveform is
    evaluated analytically (erf edges of rms width EDGE_UI) at each sample, then white
    Gaussian noise, one independent draw per sample, is added.
    """
    n_sym = sym.size
    a = LEVELS_W[sym]
    start = 3.0 + centre_offset_samples - 0.5 * sps  # first sample of symbol 0
    u = (np.arange(n_sym * sps) - start) / sps  # time in UI from the start of symbol 0
    k = np.floor(u).astype(np.int64)
    here = a[k % n_sym]
    nxt = a[(k + 1) % n_sym]
    prev = a[(k - 1) % n_sym]
    x = here + (nxt - here) * ndtr((u - (k + 1)) / EDGE_UI) + (prev - here) * ndtr((k - u) / EDGE_UI)
    x += sigma_w * np.random.default_rng(seed).standard_normal(x.size)
    return Waveform(samples=x, sample_rate_hz=sps * BAUD, symbol_rate_baud=BAUD,
                    pattern=pattern("PRBS13Q"))


def closed_form_ser(sigma_w):
    return 1.5 * ndtr(-HALF_SPACING_W / sigma_w)


CASES = [(sps, off) for sps in (8, 16, 32) for off in (0.0, 0.25, 0.5, 0.75)]


@pytest.mark.parametrize("sps, offset", CASES)
def test_per_level_statistics_agree_with_the_closed_form(sps, offset):
    # PRBS13Q x 5: ~10 000 symbols per level
    wf = soft_edged_pam4(np.tile(pattern("PRBS13Q"), 5), sps, offset, SIGMA_W,
                         seed=sps * 100 + int(offset * 4))
    timing = recover_timing(wf)
    lv = measure_levels(wf, timing)
    n_level = timing.n_symbols / 4
    ser = closed_form_ser(SIGMA_W)  # 1.03e-3

    # level sigmas: a sigma estimate has a relative std of 1/sqrt(2 n) = 0.7 %
    np.testing.assert_allclose(lv.sigmas, SIGMA_W, rtol=4.0 / np.sqrt(2 * n_level))
    np.testing.assert_allclose(lv.levels, LEVELS_W, atol=4 * SIGMA_W / np.sqrt(n_level))

    # counted: ~42 symbol errors expected; exact binomial bounds
    c = count_errors(wf, timing, levels=lv)
    lo, hi = binom.interval(0.9999, c.n_symbols, ser)
    assert lo <= c.symbol_errors <= hi, (c.symbol_errors, c.n_symbols * ser)
    assert c.bit_errors == c.symbol_errors  # adjacent errors only: one bit each

    # statistical: d ln Q / d ln sigma = (d/sigma)^2 + 1 = 11, so a sigma estimated to
    # 0.7 % (1 std) gives the BER to 8 %; allowed 30 %
    r = estimate_ber(wf, timing, levels=lv)
    np.testing.assert_allclose(r.sigmas, SIGMA_W, rtol=4.0 / np.sqrt(2 * n_level))
    assert r.ber == pytest.approx(ser / 2, rel=0.3)

    # eye heights at p = 1e-3 (empirical quantiles): an empirical p-quantile of n samples
    # has a std of sqrt(p (1-p)/n)/phi(Q^-1(p)) sigma = 0.093 sigma here, a height (the
    # difference of two) 0.13 sigma; allowed 4 of them
    p = 1e-3
    eye = measure_eye(wf, timing, probability=p, levels=lv, n_phases=9)
    assert eye.method == "empirical"
    expected = 2 * HALF_SPACING_W - 2 * (-ndtri(p)) * SIGMA_W  # 0.069 d
    np.testing.assert_allclose(eye.heights, expected, atol=0.53 * SIGMA_W)


def test_issue_reproduction_half_way_between_samples_through_analyze():
    # the issue: PRBS13Q x 20 at 16 samples/UI, soft edges, eye centre exactly half-way
    # between two samples, sigma = d/3.2 -> closed-form BER 5.2e-4; it counted 0 errors and
    # estimated 2e-6 (the noise of the interpolated values was sigma/sqrt(2)).  Here x 10
    # (~84 errors expected, 0.4 with the interpolated values).
    from optics.analyze import analyze

    wf = soft_edged_pam4(np.tile(pattern("PRBS13Q"), 10), 16, 0.5, SIGMA_W, seed=7)
    r = analyze(wf, reference_filter=False, run_tdecq=False)
    ser = closed_form_ser(SIGMA_W)
    lo, hi = binom.interval(0.9999, r.ber_counted.n_symbols, ser)
    assert lo <= r.ber_counted.symbol_errors <= hi
    assert r.metrics()["ber_estimate"] == pytest.approx(ser / 2, rel=0.2)
    np.testing.assert_allclose(r.levels.sigmas, SIGMA_W, rtol=0.02)
