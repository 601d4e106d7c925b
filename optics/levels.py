"""PAM4 levels, per-level noise, OMA_outer, extinction ratio and RLM.

:func:`measure_levels` turns a waveform (and its recovered :class:`~optics.timing.SymbolTiming`)
into a small frozen :class:`Pam4Levels`.  Two ways to find the levels:

``"pattern-runs"`` (``wf.pattern`` known and aligned)
    The four levels and their standard deviations are the statistics of the eye-centre
    samples grouped by the symbol sent (for each symbol the recorded sample nearest its eye
    centre, :func:`optics.timing.sample_symbols`: no value interpolated between two samples,
    whose independent noise would average down, so a sigma is the noise of real samples at
    any sampling phase).  The outer levels ``P0`` and ``P3`` used for
    OMA_outer and ER follow IEEE 802.3 121.8.4 / 802.3 §2.4 of our notes: the mean of the
    waveform over the *central portion of long runs* of 0s and of 3s.  The rule used here:
    every run of at least ``RUN_MIN_SYMBOLS`` = 4 equal outer symbols contributes all its
    samples within +-1 UI of the run's middle (the central 2 UI), and ``P0``/``P3`` is the
    mean over all those samples.  The exact run lengths and window of the standard
    (recalled as "central 2 UI of a run of 7 threes / 6 zeros") are UNVERIFIED.  When the
    record holds no such run of an outer symbol, that level falls back to its eye-centre
    mean and the method is reported as ``"pattern-centres"``.
``"histogram"`` (no pattern)
    The eye-centre samples are split into four clusters by 1-D k-means (Lloyd's algorithm
    on the sorted samples, started from the quartiles); levels and sigmas are the cluster
    means and standard deviations, ``P0``/``P3`` the outer cluster means.  With
    inter-symbol interference the outer clusters are pulled inwards, so this OMA is a
    little smaller than the long-run one.

Average power is the mean of all samples.  Definitions (IEEE 802.3-2022 121.8.4, Annex 120D;
research notes ``ieee802.3-pam4-optics.md`` §2.4):

- ``OMA_outer = P3 - P0``
- ``ER = 10 log10(P3 / P0)`` dB
- RLM (Annex 120D form): ``V_mid = (V0 + V3)/2``, ``ES1 = (V1 - V_mid)/(V0 - V_mid)``,
  ``ES2 = (V2 - V_mid)/(V3 - V_mid)``, ``RLM = min(3 ES1, 3 ES2, 2 - 3 ES1, 2 - 3 ES2)``;
  1 for equally spaced levels.  The notes mark it UNVERIFIED; the same equation, numbered
  (120D-5), is reproduced in Anritsu's PAM4 PPG (MU196020A) product introduction, which
  makes it a [S] for the Annex 120D (electrical) form.  Whether an optical clause uses
  another RLM form is not checked here.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from optics.errors import InvalidWaveform, NoEyeFound
from optics.level_clusters import MAX_VALLEY_RATIO, cluster_levels, eye_valley_ratios
from optics.timing import SymbolTiming, recover_timing, sample_symbols, symbols_of

if TYPE_CHECKING:
    from optics.waveform import Waveform

#: Shortest run of equal outer symbols whose centre is used for P0 / P3.
RUN_MIN_SYMBOLS = 4


def _readonly(a: Any) -> np.ndarray:
    """A read-only float64 copy of ``a`` (array fields of the frozen results here, in
    :mod:`optics.eye` and in :mod:`optics.ber`)."""
    a = np.array(a, dtype=np.float64, copy=True)
    a.setflags(write=False)
    return a


@dataclasses.dataclass(frozen=True, eq=False)
class Pam4Levels:
    """Measured PAM4 levels of a waveform (SI unit of the waveform: W, V or A).

    Attributes
    ----------
    levels : numpy.ndarray
        Shape (4,): mean eye-centre value of symbols 0..3, increasing.
    sigmas : numpy.ndarray
        Shape (4,): standard deviation of each level at the eye centre (noise plus ISI).
    p0, p3 : float
        Outer levels used for OMA_outer and ER (long-run means when the pattern is known).
    average : float
        Mean of all samples (average power P_ave for an optical-power waveform).
    method : str
        ``"pattern-runs"``, ``"pattern-centres"`` (pattern known, no long runs) or
        ``"histogram"``.
    """

    levels: np.ndarray
    sigmas: np.ndarray
    p0: float
    p3: float
    average: float
    method: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "levels", _readonly(self.levels))
        object.__setattr__(self, "sigmas", _readonly(self.sigmas))

    @property
    def oma_outer(self) -> float:
        """Outer optical modulation amplitude ``P3 - P0`` (unit of the waveform)."""
        return float(self.p3 - self.p0)

    @property
    def extinction_ratio_db(self) -> float:
        """Outer extinction ratio ``10 log10(P3/P0)`` in dB.

        Raises
        ------
        InvalidWaveform
            ``P0 <= 0`` (e.g. an AC-coupled or electrical waveform): ER is undefined.
        """
        if self.p0 <= 0 or self.p3 <= self.p0:
            raise InvalidWaveform(
                f"extinction ratio needs P3 > P0 > 0, got P0 = {self.p0:.4g}, P3 = {self.p3:.4g}: "
                "not an optical-power waveform with a DC level"
            )
        return 10.0 * math.log10(self.p3 / self.p0)

    @property
    def rlm(self) -> float:
        """Ratio of level mismatch, Annex 120D form (1 for equally spaced levels).

        Raises
        ------
        InvalidWaveform
            ``V3 <= V0``.
        """
        v0, v1, v2, v3 = (float(v) for v in self.levels)
        if not v3 > v0:
            raise InvalidWaveform(f"RLM needs V3 > V0, got levels {self.levels.tolist()}")
        vmid = 0.5 * (v0 + v3)
        es1 = (v1 - vmid) / (v0 - vmid)
        es2 = (v2 - vmid) / (v3 - vmid)
        return min(3 * es1, 3 * es2, 2 - 3 * es1, 2 - 3 * es2)

    @property
    def thresholds(self) -> np.ndarray:
        """Midpoint decision thresholds between adjacent levels (3 values)."""
        return 0.5 * (self.levels[1:] + self.levels[:-1])

    def to_dict(self) -> dict[str, object]:
        """Plain-Python view (lists and floats) for JSON."""
        return {
            "levels": self.levels.tolist(),
            "sigmas": self.sigmas.tolist(),
            "p0": self.p0,
            "p3": self.p3,
            "average": self.average,
            "method": self.method,
        }


def _run_means(wf: Waveform, timing: SymbolTiming, sent: np.ndarray, symbol: int, average: float) -> float | None:
    """Mean of the samples in the central 2 UI of every run of >= RUN_MIN_SYMBOLS ``symbol``,
    less ``average``.

    The runs are disjoint, so the sample ranges are gathered and summed directly: the cost is
    that of the samples in the runs, not of the whole record.
    """
    is_sym = np.concatenate(([False], sent == symbol, [False]))
    edges = np.flatnonzero(np.diff(is_sym.astype(np.int8)))
    starts, ends = edges[0::2], edges[1::2]
    lengths = ends - starts
    keep = lengths >= RUN_MIN_SYMBOLS
    if not np.any(keep):
        return None
    sps = timing.samples_per_symbol
    mid = timing.centre_index + (starts[keep] + 0.5 * lengths[keep] - 0.5) * sps
    lo = np.clip(np.ceil(mid - sps), 0, wf.n_samples - 1).astype(np.int64)
    hi = np.clip(np.floor(mid + sps), 0, wf.n_samples - 1).astype(np.int64)
    n = hi - lo + 1
    first = np.cumsum(n) - n  # where each range starts in the gathered array
    idx = np.arange(int(np.sum(n)), dtype=np.int64) + np.repeat(lo - first, n)
    return float(np.sum(wf.samples[idx] - average) / idx.size)


def pattern_level_means(values: np.ndarray, sent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean eye-centre value of each PAM4 symbol sent, and how often each was sent.

    The levels of the ``"pattern-runs"`` and ``"pattern-centres"`` methods of
    :func:`measure_levels` (whose midpoints are :attr:`Pam4Levels.thresholds`), without the
    outer levels, noise and average that need the whole record.

    Parameters
    ----------
    values : numpy.ndarray
        One eye-centre value per symbol (:func:`optics.timing.sample_symbols`).
    sent : numpy.ndarray
        The symbol (0..3) sent in each slot (:func:`optics.timing.symbols_of`), same length.

    Returns
    -------
    levels : numpy.ndarray
        Shape (4,): mean value of symbols 0..3, increasing.
    counts : numpy.ndarray
        Shape (4,): occurrences of symbols 0..3.

    Raises
    ------
    InvalidWaveform
        A symbol sent fewer than twice.
    NoEyeFound
        Means not increasing (inverted or mis-mapped signal).
    """
    counts = np.bincount(sent, minlength=4)
    if counts.size != 4 or np.any(counts < 2):
        raise InvalidWaveform(
            f"each PAM4 symbol must occur at least twice in the record, counts are {counts.tolist()}"
        )
    levels = np.bincount(sent, weights=values, minlength=4) / counts
    if not np.all(np.diff(levels) > 0):
        raise NoEyeFound(
            f"the mean levels of symbols 0..3 are not increasing ({levels.tolist()}): inverted or "
            "mis-mapped signal"
        )
    return levels, counts


def measure_levels(wf: Waveform, timing: SymbolTiming | None = None) -> Pam4Levels:
    """Measure the PAM4 levels, their noise, the outer levels and the average.

    Parameters
    ----------
    wf : Waveform
        A PAM4 waveform with ``symbol_rate_baud`` (and, for the run-based outer levels,
        ``pattern``).
    timing : SymbolTiming, optional
        From :func:`optics.timing.recover_timing`; recovered here when omitted.

    Returns
    -------
    Pam4Levels

    Raises
    ------
    InvalidWaveform
        Too few samples/symbols (see :func:`optics.timing.recover_timing`).
    NoEyeFound
        No four separated levels, or levels out of order for the known pattern.

    Examples
    --------
    >>> import numpy as np
    >>> from optics import Waveform
    >>> rng = np.random.default_rng(2)
    >>> sym = rng.integers(0, 4, 1000)
    >>> p = np.array([0.3e-3, 0.7e-3, 1.1e-3, 1.5e-3])
    >>> wf = Waveform(samples=np.repeat(p[sym], 8), sample_rate_hz=8e9, symbol_rate_baud=1e9)
    >>> lv = measure_levels(wf)
    >>> round(lv.oma_outer * 1e3, 3), round(lv.extinction_ratio_db, 2), round(lv.rlm, 3)
    (1.2, 6.99, 1.0)
    """
    if timing is None:
        timing = recover_timing(wf)
    values = sample_symbols(wf, timing)
    average = float(np.mean(wf.samples))
    sent = symbols_of(wf, timing)
    if sent is None:
        levels, sigmas, _ = cluster_levels(values)
        ratios = eye_valley_ratios(values, levels)
        if np.any(ratios > MAX_VALLEY_RATIO):
            raise NoEyeFound(
                f"no four separated PAM4 levels (valley/peak ratios {np.round(ratios, 2).tolist()}, "
                f"at most {MAX_VALLEY_RATIO:g} allowed)"
            )
        return Pam4Levels(
            levels=levels,
            sigmas=sigmas,
            p0=float(levels[0]),
            p3=float(levels[3]),
            average=average,
            method="histogram",
        )

    levels, counts = pattern_level_means(values, sent)
    sq = np.bincount(sent, weights=(values - levels[sent]) ** 2, minlength=4)
    sigmas = np.sqrt(sq / counts)
    r0 = _run_means(wf, timing, sent, 0, average)
    r3 = _run_means(wf, timing, sent, 3, average)
    method = "pattern-runs" if (r0 is not None and r3 is not None) else "pattern-centres"
    p0 = average + r0 if r0 is not None else float(levels[0])
    p3 = average + r3 if r3 is not None else float(levels[3])
    return Pam4Levels(
        levels=levels, sigmas=sigmas, p0=p0, p3=p3, average=average, method=method
    )


__all__ = [
    "MAX_VALLEY_RATIO",
    "RUN_MIN_SYMBOLS",
    "Pam4Levels",
    "cluster_levels",
    "eye_valley_ratios",
    "measure_levels",
    "pattern_level_means",
]
