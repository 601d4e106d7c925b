"""Tests of optics.eye: density folding, eye heights/widths against closed forms, plots."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from scipy.special import ndtri  # noqa: E402

from optics import Waveform  # noqa: E402
from optics.errors import InvalidParameter  # noqa: E402
from optics.eye import POINTS_PER_UI, eye_density, measure_eye, plot_eye  # noqa: E402
from optics.timing import recover_timing  # noqa: E402

P_W = np.array([0.2e-3, 0.6e-3, 1.0e-3, 1.4e-3])


def step_wf(n_sym, sps=9, noise_w=0.0, seed=0, pattern=False):
    """Rectangular PAM4 with white noise; odd sps puts the eye centre on a sample."""
    rng = np.random.default_rng(seed)
    sym = rng.integers(0, 4, n_sym)
    x = np.repeat(P_W[sym], sps) + noise_w * rng.standard_normal(n_sym * sps)
    return Waveform(samples=x, sample_rate_hz=sps * 1e9, symbol_rate_baud=1e9,
                    pattern=sym.astype(np.uint8) if pattern else None)


def test_noiseless_eye_height_is_the_level_spacing():
    eye = measure_eye(step_wf(2000, sps=16))
    np.testing.assert_allclose(eye.heights, 0.4e-3, rtol=1e-9)
    np.testing.assert_allclose(eye.levels, P_W, rtol=1e-9)
    # closed only within one sample interval (1/16 UI) of the crossing
    assert np.all(eye.widths_ui > 1 - 1 / 16) and np.all(eye.widths_ui <= 1.0)
    np.testing.assert_allclose(eye.centre_phases_ui, 0.5, atol=1 / 32)


def test_gaussian_eye_height_at_1e_3_empirical():
    sigma = 2e-5
    eye = measure_eye(step_wf(60_000, noise_w=sigma, seed=1), probability=1e-3)
    assert eye.method == "empirical"
    # each eye: spacing - 2 Qinv(1e-3) sigma = 0.4 mW - 6.18 * 20 uW = 0.2764 mW
    expected = 0.4e-3 + 2 * ndtri(1e-3) * sigma
    # quantile std ~0.1 sigma per edge with 15k samples per level: allow 3 %
    np.testing.assert_allclose(eye.heights, expected, rtol=0.03)


def test_gaussian_eye_height_extrapolated_to_1e_9():
    sigma = 2e-5
    eye = measure_eye(step_wf(40_000, noise_w=sigma, seed=2), probability=1e-9)
    assert eye.method == "gaussian"
    expected = 0.4e-3 + 2 * ndtri(1e-9) * sigma  # Qinv(1e-9) = 5.998
    np.testing.assert_allclose(eye.heights, expected, rtol=0.02)


def test_closed_eye_has_negative_height_and_zero_width():
    eye = measure_eye(step_wf(20_000, noise_w=8e-5, seed=3), probability=1e-6)
    # 0.4 mW - 2 * 4.75 * 80 uW < 0
    assert np.all(eye.heights < 0)
    np.testing.assert_array_equal(eye.widths_ui, 0.0)


def test_density_counts_every_interpolated_point():
    wf = step_wf(500, sps=40)
    t = recover_timing(wf)
    d = eye_density(wf, t, n_ui=2, n_amplitude_bins=64)
    assert d.counts.shape == (64, 2 * POINTS_PER_UI)
    assert d.counts.sum() == t.n_symbols * POINTS_PER_UI
    # at the eye centre column all points sit in the 4 level rows
    centre_col = d.counts[:, POINTS_PER_UI // 2]
    assert np.count_nonzero(centre_col) == 4


def test_display_upsampling_keeps_white_noise_uniform():
    # linear interpolation half-way between independent samples has std sigma/sqrt(2);
    # the band-limited upsampling used for the density eye keeps every phase at sigma
    # (to within the filter's pass-band ripple and the 1 % sampling error of the std)
    from optics.eye import POINTS_PER_UI, _display_samples

    x = np.random.default_rng(5).standard_normal(100_000)
    up, sps_up, centre_up = _display_samples(x, 5.0, 2.0)
    k = int(round(sps_up / 5.0))
    assert k == int(np.ceil(POINTS_PER_UI / 5.0)) and centre_up == pytest.approx(2.0 * k)
    stds = np.array([up[j + 100 * k : -100 * k : k].std() for j in range(k)])
    np.testing.assert_allclose(stds, 1.0, rtol=0.05)


def test_plots_return_axes():
    wf = step_wf(500, sps=8, noise_w=1e-5)
    ax = plot_eye(wf, levels=P_W, thresholds=[0.4e-3, 0.8e-3, 1.2e-3],
                  windows_ui=[(0.45, 0.04), (0.55, 0.04)])
    assert ax.get_xlabel().startswith("time")
    assert len(ax.lines) == 7  # 4 level + 3 threshold lines
    assert len(ax.patches) == 4  # 2 windows x 2 UI
    ax2 = measure_eye(wf).plot()
    assert "eye heights" in ax2.get_title()
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.mark.parametrize("kw", [{"probability": 0.0}, {"probability": 0.3}, {"n_phases": 32}])
def test_bad_parameters(kw):
    with pytest.raises(InvalidParameter):
        measure_eye(step_wf(200), **kw)
