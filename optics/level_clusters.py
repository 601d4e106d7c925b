"""Four PAM4 levels found in eye-centre samples without a pattern: k-means and eye valleys.

What :func:`optics.timing.recover_timing` needs to tell an open PAM4 eye from noise, NRZ
or a wrong symbol rate, and what :func:`optics.levels.measure_levels` uses for its
``"histogram"`` levels.  It sits below both (it imports neither), so that levels may
depend on timing without timing depending on levels.

- :func:`cluster_levels` splits 1-D samples into four clusters by Lloyd's k-means,
  started from the quartiles of the sorted samples;
- :func:`eye_valley_ratios` compares the sample density inside each eye with that at its
  two levels (near 0 for an open eye, about ``2 exp(-Q^2/2)`` for Gaussian levels of
  per-eye Q factor ``Q``).
"""

from __future__ import annotations

import math

import numpy as np

from optics.errors import InvalidWaveform, NoEyeFound

#: Largest allowed ratio of the sample density between two levels to that at the levels;
#: above it the eye is taken as closed (about a per-eye Q of 1.4 for Gaussian levels).
MAX_VALLEY_RATIO = 0.75

_KMEANS_MAX_ITER = 100


def cluster_levels(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split 1-D samples into four clusters by k-means (Lloyd), lowest first.

    Parameters
    ----------
    values : numpy.ndarray
        Eye-centre samples, at least 8.

    Returns
    -------
    levels : numpy.ndarray
        The 4 cluster means, increasing.
    sigmas : numpy.ndarray
        The 4 cluster standard deviations.
    thresholds : numpy.ndarray
        The 3 decision thresholds (midpoints between adjacent means).

    Raises
    ------
    InvalidWaveform
        Fewer than 8 samples.
    NoEyeFound
        Fewer than four distinct levels (e.g. NRZ without noise, a constant).
    """
    x = np.sort(np.asarray(values, dtype=np.float64))
    n = x.size
    if n < 8:
        raise InvalidWaveform(f"{n} samples are too few to find 4 levels (at least 8 needed)")
    span = x[-1] - x[0]
    if span <= 0:
        raise NoEyeFound("the samples at the eye centre are all equal: no PAM4 levels")
    z = (x - x[0]) / span  # normalised to [0, 1] for well-conditioned sums
    cs = np.concatenate(([0.0], np.cumsum(z)))
    # start from the means of the four quartile slices of the sorted samples
    start = (np.arange(5) * n) // 4
    means = (cs[start[1:]] - cs[start[:-1]]) / np.diff(start)
    thr = 0.5 * (means[1:] + means[:-1])
    bounds = None
    for _ in range(_KMEANS_MAX_ITER):
        new = np.concatenate(([0], np.searchsorted(z, thr, side="right"), [n]))
        counts = np.diff(new)
        if np.any(counts == 0):
            raise NoEyeFound(
                "fewer than 4 distinct levels at the eye centre: not a PAM4 signal "
                f"(cluster sizes {counts.tolist()})"
            )
        means = (cs[new[1:]] - cs[new[:-1]]) / counts
        thr = 0.5 * (means[1:] + means[:-1])
        if bounds is not None and np.array_equal(new, bounds):
            break
        bounds = new
    parts = [x[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:])]
    levels = np.array([p.mean() for p in parts])
    sigmas = np.array([p.std() for p in parts])
    return levels, sigmas, 0.5 * (levels[1:] + levels[:-1])


def eye_valley_ratios(values: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Ratio of the sample density inside each of the 3 eyes to that at its two levels.

    For each eye ``k`` (between levels ``k-1`` and ``k``) with gap ``g``, samples are
    counted in windows of width ``0.2 g`` centred on the two levels and at 0.3, 0.4, 0.5,
    0.6, 0.7 of the gap; the ratio is the smallest in-eye count over the smaller level
    count.  Near 0 for an open eye; about ``2 exp(-Q^2/2)`` for Gaussian levels of per-eye
    Q factor ``Q = g/(2 sigma)``; >= 1 for a unimodal distribution (noise, a level split
    in two).

    Returns
    -------
    numpy.ndarray
        Three ratios (inf when a level window is empty).
    """
    x = np.sort(np.asarray(values, dtype=np.float64))
    lv = np.asarray(levels, dtype=np.float64)
    out = np.empty(3)
    for k in range(3):
        lo, hi = lv[k], lv[k + 1]
        g = hi - lo
        half = 0.1 * g

        def count(c: float) -> int:
            return int(np.searchsorted(x, c + half, "right") - np.searchsorted(x, c - half, "left"))

        peak = min(count(lo), count(hi))
        valley = min(count(lo + f * g) for f in (0.3, 0.4, 0.5, 0.6, 0.7))
        out[k] = valley / peak if peak > 0 else math.inf
    return out


__all__ = ["MAX_VALLEY_RATIO", "cluster_levels", "eye_valley_ratios"]
