"""optics.periodic_fft: the Good-Thomas real DFT is the DFT (numpy's, at each bin's frequency)."""

import numpy as np
import pytest

from optics import periodic_fft


@pytest.mark.parametrize("n", [16 * 8191, 257 * 32, 8 * 127, 1 << 12, 3 * 5 * 7])
def test_real_spectrum_is_the_dft_at_the_bin_frequencies(n):
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n)
    spec = periodic_fft.real_spectrum(x)
    freqs = periodic_fft.real_spectrum_freqs(n, 1.0)       # cycles per sample
    assert spec.shape == freqs.shape
    k = np.rint(freqs * n).astype(np.int64) % n            # the DFT bin each entry stands for
    ref = np.fft.fft(x)[k]
    np.testing.assert_allclose(spec, ref, rtol=0.0, atol=1e-9 * np.abs(ref).max())
    # every bin of the real DFT's half spectrum appears, itself or as its conjugate n - k
    assert set(np.minimum(k, n - k).ravel().tolist()) == set(range(n // 2 + 1))


@pytest.mark.parametrize("n", [16 * 8191, 257 * 32, 1 << 12])
def test_real_inverse_undoes_real_spectrum(n):
    x = np.random.default_rng(1).standard_normal(n)
    y = periodic_fft.real_inverse(periodic_fft.real_spectrum(x), n)
    np.testing.assert_allclose(y, x, rtol=0.0, atol=1e-12)


def test_plan_only_for_slow_lengths():
    assert periodic_fft.pfa_plan(1 << 17) is None                # a fast length: the plain rfft
    n1, n2, imap, _ = periodic_fft.pfa_plan(16 * 8191)
    assert (n1, n2) == (8191, 16)
    assert np.array_equal(np.sort(imap.ravel()), np.arange(16 * 8191))   # a permutation
