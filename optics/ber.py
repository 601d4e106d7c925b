"""PAM4 bit and symbol error ratios: counted, statistical (any depth) and bathtub curves.

Three estimates, all at one sampling phase unless stated:

**Counted** (:func:`count_errors`): decide every symbol with three thresholds, compare with
the known pattern after alignment (:func:`optics.timing.recover_timing`), and count symbol
and bit errors.  A symbol's value is the recorded sample nearest its sampling instant
(:func:`optics.timing.sample_symbols`), so the count is that of the samples' own noise at
any sampling phase, and any record of at least one pattern period is counted.  Bits
follow the IEEE 802.3 120.5.7.1 Gray map (first bit is the MSB):
``0 -> 00, 1 -> 01, 2 -> 11, 3 -> 10``.  The confidence interval is Clopper-Pearson
(exact binomial): ``[B(a/2; k, n-k+1), B(1-a/2; k+1, n-k)]`` with ``B`` the beta quantile
and ``a = 1 - confidence``; for ``k = 0`` the one-sided upper bound ``1 - a^(1/n)`` (about
``3/n`` at 95 %) is given and the lower bound is 0.

**Statistical** (:func:`statistical_ber`, :func:`estimate_ber`): the sample value of a
symbol is split into a deterministic part (the level plus inter-symbol interference, ISI)
and Gaussian noise.  The deterministic parts of each level ``k`` form a histogram
``h_k(y)``; the probability of deciding region ``j`` when ``k`` was sent is, summed over the
bins, ``P(k -> j) = sum_y h_k(y) [Phi((t_{j+1} - y)/sigma_k) - Phi((t_j - y)/sigma_k)]``
(``t_0 = -inf``, ``t_4 = +inf``), evaluated with upper/lower Gaussian tails so that
probabilities down to 1e-300 keep full relative precision.  Then
``SER = sum_{k != j} P(k -> j) / N`` and ``BER = sum_{k != j} D(k, j) P(k -> j) / (2 N)``
with ``D`` the Gray bit distance (``BER ~ SER/2`` when only adjacent errors occur).  This is
the optical analogue of the IEEE 802.3 Annex 93A statistical eye and of the TDECQ
histogram-plus-Gaussian SER (research notes §4), with no Monte Carlo: BER of 1e-15 and
below is as cheap as 1e-3.  For equally spaced levels without ISI it reduces to
``SER = 1.5 Q(d/sigma)`` (``d`` half the level spacing).

:func:`estimate_ber` obtains the ISI/noise split from the waveform by least squares: the
eye-centre sample of symbol ``i`` is modelled as ``m(s_i) + sum_{j != 0} c_j(s_{i+j})``
(one mean per level plus an additive contribution of each neighbouring symbol that may
depend non-linearly on its value; 3 pre- and 3 post-cursors, 22 coefficients).  The fitted
values are the deterministic part, the residual's standard deviation per level is
``sigma_k``.  The symbols are the known pattern or, without one, the decisions at the eye
centre.  ISI that is not additive over neighbours ends up in the noise term (pessimistic).

**Bathtub** (:func:`bathtub`): the statistical BER versus sampling phase, one least-squares
solve for all phases, thresholds fixed at their centre-phase values.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.special import betaincinv, ndtr

from optics import validate
from optics.errors import InvalidParameter, InvalidWaveform
from optics.levels import _readonly, measure_levels, pattern_level_means
from optics.timing import SymbolTiming, _timing_and_centre_values, recover_timing, sample_symbols, symbols_of

if TYPE_CHECKING:
    from optics.levels import Pam4Levels
    from optics.waveform import Waveform

#: Bits of each PAM4 symbol, IEEE 802.3 120.5.7.1 Gray map, first bit (MSB) first.
GRAY_BITS = np.array([[0, 0], [0, 1], [1, 1], [1, 0]], dtype=np.uint8)

#: Gray bit distance between symbols i and j.
BIT_DISTANCE = np.array([[int(np.sum(GRAY_BITS[i] != GRAY_BITS[j])) for j in range(4)]
                         for i in range(4)])

#: Neighbouring symbols in the ISI model of :func:`estimate_ber` (pre, post).
ISI_SPAN = (3, 3)


# --- counted -----------------------------------------------------------------------------
def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) confidence interval of a binomial proportion ``k/n``.

    Parameters
    ----------
    k : int
        Errors counted, ``0 <= k <= n``.
    n : int
        Trials (bits or symbols), ``n >= 1``.
    confidence : float, optional
        Confidence level in (0, 1), default 0.95.

    Returns
    -------
    (lower, upper) : tuple of float
        Two-sided interval; for ``k = 0`` the lower bound is 0 and the upper bound is the
        one-sided ``1 - (1 - confidence)^(1/n)``.

    Raises
    ------
    InvalidParameter, InvalidType
        ``k``, ``n`` or ``confidence`` out of range.

    Examples
    --------
    >>> [round(v, 5) for v in clopper_pearson(5, 100)]
    [0.01643, 0.11283]
    """
    n = validate.integer("n", n, 1)
    k = validate.integer("k", k, 0, n)
    c = validate.in_range("confidence", confidence, 0.0, 1.0, low_inclusive=False,
                          high_inclusive=False)
    a = 1.0 - c
    if k == 0:
        return 0.0, float(-math.expm1(math.log(a) / n))
    # quantiles of Beta(k, n-k+1) and Beta(k+1, n-k): the inverse regularized incomplete beta
    lo = float(betaincinv(k, n - k + 1, a / 2))
    hi = 1.0 if k == n else float(betaincinv(k + 1, n - k, 1 - a / 2))
    return lo, hi


@dataclasses.dataclass(frozen=True)
class CountedBer:
    """Errors counted against the known pattern.

    Attributes
    ----------
    n_symbols, symbol_errors, n_bits, bit_errors : int
        Symbols and bits compared, and errors found.
    ser, ber : float
        ``symbol_errors / n_symbols`` and ``bit_errors / n_bits``.
    ber_interval, ser_interval : tuple of float
        Clopper-Pearson intervals at ``confidence``.
    confidence : float
        Confidence level of the intervals.
    phase_ui : float
        Sampling phase relative to the eye centre, in UI.
    thresholds : tuple of float
        The three decision thresholds used (unit of the waveform).
    """

    n_symbols: int
    symbol_errors: int
    n_bits: int
    bit_errors: int
    ser: float
    ber: float
    ber_interval: tuple[float, float]
    ser_interval: tuple[float, float]
    confidence: float
    phase_ui: float
    thresholds: tuple[float, float, float]

    def to_dict(self) -> dict[str, object]:
        """Plain-Python view for JSON."""
        return dataclasses.asdict(self)


def decide(values: np.ndarray, thresholds: Any) -> np.ndarray:
    """Decide PAM4 symbols 0..3 from sample values with three increasing thresholds.

    A value on a threshold goes to the level above it.  Returns uint8 symbols, one per value.

    Raises
    ------
    InvalidParameter
        Thresholds not three finite increasing values, or a value that is NaN or infinite.
    """
    thr = np.asarray(thresholds, dtype=np.float64)
    if thr.shape != (3,) or not np.all(np.isfinite(thr)) or not np.all(np.diff(thr) > 0):
        raise InvalidParameter(f"thresholds must be 3 finite increasing values, got {thr.tolist()}")
    v = np.asarray(values)
    if v.size and not np.isfinite(v).all():
        bad = v.ravel()[~np.isfinite(v.ravel())][0]
        raise InvalidParameter(f"values must be finite; found {bad} (a NaN or infinite sample)")
    # the number of thresholds at or below each value (searchsorted, side="right")
    got = (v >= thr[0]).view(np.uint8)
    got += v >= thr[1]
    got += v >= thr[2]
    return got


def count_errors(
    wf: Waveform,
    timing: SymbolTiming | None = None,
    *,
    thresholds: Any = None,
    phase_ui: float = 0.0,
    confidence: float = 0.95,
    levels: Pam4Levels | None = None,
) -> CountedBer:
    """Count symbol and bit errors of a PAM4 waveform against its known pattern.

    Parameters
    ----------
    wf : Waveform
        Waveform with ``symbol_rate_baud`` and ``pattern``.
    timing : SymbolTiming, optional
        Recovered (and the pattern aligned) when omitted.
    thresholds : array of 3, optional
        Decision thresholds; default midway between the measured levels.
    phase_ui : float, optional
        Sampling phase relative to the eye centre, UI in [-0.5, 0.5].
    confidence : float, optional
        Confidence level of the Clopper-Pearson intervals (default 0.95).
    levels : Pam4Levels, optional
        Measured levels (for the default thresholds); measured when omitted.

    Returns
    -------
    CountedBer

    Raises
    ------
    InvalidWaveform
        No known pattern, it is not found in the waveform, or a given ``timing`` without
        its pattern offset.
    NoEyeFound
        No PAM4 eye at the symbol rate.

    Notes
    -----
    The default thresholds are the midpoints of the mean eye-centre values of symbols 0..3
    (:func:`optics.levels.pattern_level_means`), the ``thresholds`` of
    :func:`optics.levels.measure_levels` for a waveform with a known pattern.
    """
    if wf.pattern is None:
        raise InvalidWaveform("counting errors needs the known pattern (Waveform.pattern)")
    centre = None  # the eye-centre values (phase 0), when timing recovery sampled them
    if timing is None:
        timing, centre = _timing_and_centre_values(wf)
    sent = symbols_of(wf, timing)
    if sent is None:
        raise InvalidWaveform("counting errors needs a timing with the pattern aligned (pattern_offset)")
    if thresholds is None:
        if levels is None:
            # the pattern levels of measure_levels (the thresholds need nothing else)
            if centre is None:
                centre = sample_symbols(wf, timing)
            thresholds = midway_thresholds(centre, sent)
        else:
            thresholds = levels.thresholds
    values = centre if centre is not None and phase_ui == 0.0 else sample_symbols(wf, timing, phase_ui)
    return count_symbol_errors(values, sent, thresholds, confidence=confidence, phase_ui=phase_ui)


def midway_thresholds(values: np.ndarray, sent: np.ndarray) -> np.ndarray:
    """Thresholds midway between the mean eye-centre values of symbols 0..3 sent (the
    default of :func:`count_errors`, as :attr:`optics.levels.Pam4Levels.thresholds`)."""
    means = pattern_level_means(values, sent)[0]
    return 0.5 * (means[1:] + means[:-1])


def count_symbol_errors(values: np.ndarray, sent: np.ndarray, thresholds: Any, *,
                        confidence: float = 0.95, phase_ui: float = 0.0) -> CountedBer:
    """:func:`count_errors` of decision-instant values already taken: one value per symbol
    (``values``), the symbols sent (``sent``, 0..3, same length) and the thresholds.

    ``phase_ui`` is only recorded in the result (the phase the values were taken at).
    """
    values = np.asarray(values)
    sent = np.asarray(sent)
    if values.shape != sent.shape or values.ndim != 1:
        raise InvalidParameter(f"values {values.shape} and sent {sent.shape} must be 1-D of one length")
    got = decide(values, thresholds)
    n = int(sent.size)
    wrong = got != sent
    sym_err = int(np.count_nonzero(wrong))
    bit_err = int(np.sum(BIT_DISTANCE[sent[wrong], got[wrong]]))
    return CountedBer(
        n_symbols=n,
        symbol_errors=sym_err,
        n_bits=2 * n,
        bit_errors=bit_err,
        ser=sym_err / n,
        ber=bit_err / (2 * n),
        ber_interval=clopper_pearson(bit_err, 2 * n, confidence),
        ser_interval=clopper_pearson(sym_err, n, confidence),
        confidence=float(confidence),
        phase_ui=float(phase_ui),
        thresholds=tuple(float(t) for t in np.asarray(thresholds, dtype=float)),
    )


# --- statistical ---------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, eq=False)
class StatisticalBer:
    """Statistical (histogram plus Gaussian noise) error ratios.

    Attributes
    ----------
    ser, ber : float
        Symbol and bit error ratios (Gray map).
    ser_per_eye : numpy.ndarray
        Shape (3,): probability per symbol of crossing each threshold (lower, middle, upper
        eye), summed over both directions; adds up to ``ser`` when errors are adjacent.
    thresholds : numpy.ndarray
        Shape (3,): thresholds used.
    sigmas : numpy.ndarray
        Shape (4,): Gaussian noise standard deviation of each level.
    """

    ser: float
    ber: float
    ser_per_eye: np.ndarray
    thresholds: np.ndarray
    sigmas: np.ndarray

    def __post_init__(self) -> None:
        for name in ("ser_per_eye", "thresholds", "sigmas"):
            object.__setattr__(self, name, _readonly(getattr(self, name)))

    def to_dict(self) -> dict[str, object]:
        """Plain-Python view for JSON."""
        return {
            "ser": self.ser,
            "ber": self.ber,
            "ser_per_eye": self.ser_per_eye.tolist(),
            "thresholds": self.thresholds.tolist(),
            "sigmas": self.sigmas.tolist(),
        }


def _z(t: np.ndarray, y: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """``(t - y)/sigma`` with shape (4, len(t), len(y)); sigma = 0 gives +-inf (0 at t = y)."""
    diff = t[None, :, None] - y[None, None, :]
    s = sigma[:, None, None]
    safe = np.where(s > 0, s, 1.0)
    inf = np.where(diff > 0, np.inf, np.where(diff < 0, -np.inf, 0.0))
    return np.where(s > 0, diff / safe, inf)


def statistical_ber(
    histograms: Any, bin_centres: Any, thresholds: Any, sigmas: Any
) -> StatisticalBer:
    """SER and BER of PAM4 level histograms with added Gaussian noise, to any depth.

    Parameters
    ----------
    histograms : array, shape (4, n_bins)
        Non-negative weights (counts) of the deterministic sample value of each level
        0..3 in each bin; normalised here over all four levels together (so unequal level
        probabilities, e.g. SSPRQ, are respected).
    bin_centres : array, shape (n_bins,)
        Bin centre values (unit of the waveform).
    thresholds : array of 3
        Increasing decision thresholds.
    sigmas : float or array of 4
        Gaussian noise standard deviation of each level, >= 0.

    Returns
    -------
    StatisticalBer

    Raises
    ------
    InvalidParameter
        Shapes, negative weights or sigmas, thresholds not increasing, all-zero histogram.

    Notes
    -----
    See the module notes for the equation.  Cost: 4 x 3 x n_bins Gaussian tails
    (about 0.1 ms for 256 bins).

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.special import ndtr
    >>> h = np.eye(4)                                  # one bin per level, no ISI
    >>> r = statistical_ber(h, [0.0, 2.0, 4.0, 6.0], [1.0, 3.0, 5.0], 0.25)
    >>> bool(np.isclose(r.ser, 1.5 * ndtr(-4.0), rtol=1e-9))
    True
    """
    h = np.asarray(histograms, dtype=np.float64)
    y = np.asarray(bin_centres, dtype=np.float64)
    if h.ndim != 2 or h.shape[0] != 4 or y.shape != (h.shape[1],):
        raise InvalidParameter(
            f"histograms must have shape (4, n_bins) and bin_centres (n_bins,), got {h.shape} "
            f"and {y.shape}"
        )
    if not np.all(np.isfinite(h)) or np.any(h < 0) or h.sum() <= 0:
        raise InvalidParameter("histograms must be finite, non-negative and not all zero")
    if not np.all(np.isfinite(y)):
        raise InvalidParameter("bin_centres must be finite")
    thr = np.asarray(thresholds, dtype=np.float64)
    decide(np.zeros(1), thr)  # validates shape and order
    sig = np.broadcast_to(np.asarray(sigmas, dtype=np.float64), (4,)).copy()
    if not np.all(np.isfinite(sig)) or np.any(sig < 0):
        raise InvalidParameter(f"sigmas must be finite and >= 0, got {sig.tolist()}")
    w = h / h.sum()
    z = _z(thr, y, sig)  # (level, threshold, bin)
    below = ndtr(z)  # P(y + n < t)
    above = ndtr(-z)  # P(y + n > t)
    # P(k -> j): j > k from upper tails, j < k from lower tails (full relative precision)
    p = np.zeros((4, 4))
    for k in range(4):
        for j in range(4):
            if j > k:
                tail = above[k, j - 1] - (above[k, j] if j < 3 else 0.0)
            elif j < k:
                tail = below[k, j] - (below[k, j - 1] if j > 0 else 0.0)
            else:
                continue
            p[k, j] = float(np.dot(w[k], tail))
    ser = float(p.sum())
    ber = float(np.sum(p * BIT_DISTANCE) / 2.0)
    per_eye = np.array(
        [float(np.dot(w[e], above[e, e]) + np.dot(w[e + 1], below[e + 1, e])) for e in range(3)]
    )
    return StatisticalBer(ser=ser, ber=ber, ser_per_eye=per_eye, thresholds=thr, sigmas=sig)


def _isi_design(symbols: np.ndarray) -> tuple[np.ndarray, slice]:
    """Design matrix of the ISI model: one-hot of s_i, plus one-hot (1..3) of each s_{i+j}."""
    pre, post = ISI_SPAN
    n = symbols.size
    core = slice(pre, n - post)
    m = n - pre - post
    cols = [(symbols[core] == k).astype(np.float64) for k in range(4)]
    for j in range(-pre, post + 1):
        if j != 0:
            nb = symbols[pre + j : pre + j + m]
            cols.extend((nb == k).astype(np.float64) for k in range(1, 4))
    return np.column_stack(cols), core


def isi_and_noise(
    values: np.ndarray, symbols: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split sampled values into deterministic (level + linear ISI) parts and noise.

    Parameters
    ----------
    values : numpy.ndarray
        Shape (n,) or (n, n_phases): samples of each symbol (at one or several phases).
    symbols : numpy.ndarray
        Shape (n,): the symbol (0..3) of each slot.

    Returns
    -------
    deterministic : numpy.ndarray
        Fitted values for the slots ``3 .. n-4`` (the ends lack neighbours).
    sigmas : numpy.ndarray
        Shape (4,) or (4, n_phases): residual standard deviation per level.
    core_symbols : numpy.ndarray
        Symbols of those slots.
    """
    v = np.asarray(values, dtype=np.float64)
    s = np.asarray(symbols)
    pre, post = ISI_SPAN
    if v.ndim not in (1, 2) or s.ndim != 1 or v.shape[0] != s.size:
        raise InvalidParameter(
            f"values must have shape (n,) or (n, n_phases) and symbols (n,), got {v.shape} "
            f"and {s.shape}"
        )
    n_min = pre + post + 2 * (4 + 3 * (pre + post))  # twice the 22 coefficients, plus ends
    if s.size < n_min:
        raise InvalidWaveform(f"{s.size} symbols are too few for the ISI fit (at least {n_min})")
    if not np.issubdtype(s.dtype, np.integer) or s.min() < 0 or s.max() > 3:
        raise InvalidParameter("symbols must be integers 0..3")
    counts = np.bincount(s, minlength=4)
    v2 = v.reshape(v.shape[0], -1)
    if np.any(counts < 2):
        raise InvalidWaveform(f"each level needs at least 2 symbols, got {counts.tolist()}")
    a, core = _isi_design(s)
    # normal equations (22 x 22, 0/1 columns: well conditioned)
    try:
        coef = np.linalg.solve(a.T @ a, a.T @ v2[core])
    except np.linalg.LinAlgError:
        coef, *_ = np.linalg.lstsq(a, v2[core], rcond=None)
    fit = a @ coef
    res = v2[core] - fit
    sc = s[core]
    sig = np.array([np.sqrt(np.mean(res[sc == k] ** 2, axis=0)) for k in range(4)])
    if v.ndim == 1:
        return fit[:, 0], sig[:, 0], sc
    return fit, sig, sc


def level_histograms(
    det: np.ndarray, sym: np.ndarray, n_bins: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per-level histograms of deterministic sample values on common bins.

    Parameters
    ----------
    det : numpy.ndarray
        Deterministic (level + ISI) value of each symbol, e.g. from :func:`isi_and_noise`.
    sym : numpy.ndarray
        Symbol (0..3) of each value.
    n_bins : int
        Number of equal bins spanning ``det.min()`` .. ``det.max()``.

    Returns
    -------
    histograms : numpy.ndarray
        Shape (4, n_bins), counts (input of :func:`statistical_ber`).
    bin_centres : numpy.ndarray
        Shape (n_bins,).
    """
    lo, hi = float(det.min()), float(det.max())
    span = hi - lo if hi > lo else max(abs(hi), 1e-30)
    first = lo - 1e-9 * span
    width = span * (1 + 2e-9) / n_bins
    b = np.clip(((det - first) / width).astype(np.int64), 0, n_bins - 1)
    h = np.bincount(sym.astype(np.int64) * n_bins + b, minlength=4 * n_bins).reshape(4, n_bins)
    return h, first + (np.arange(n_bins) + 0.5) * width


def _symbols_for(wf: Waveform, timing: SymbolTiming, levels: Pam4Levels) -> np.ndarray:
    sent = symbols_of(wf, timing)
    if sent is not None:
        return sent
    return decide(sample_symbols(wf, timing), levels.thresholds)


def _statistical_inputs(
    wf: Waveform, timing: SymbolTiming | None, levels: Pam4Levels | None, thresholds: Any
) -> tuple[SymbolTiming, Any, np.ndarray]:
    """Timing, decision thresholds and symbols of :func:`estimate_ber` and :func:`bathtub`.

    Timing and levels are recovered when omitted; the thresholds default to the levels'
    midpoints; the symbols are the known pattern or the eye-centre decisions.
    """
    if timing is None:
        timing = recover_timing(wf)
    if levels is None:
        levels = measure_levels(wf, timing)
    thr = levels.thresholds if thresholds is None else thresholds
    return timing, thr, _symbols_for(wf, timing, levels)


def estimate_ber(
    wf: Waveform,
    timing: SymbolTiming | None = None,
    *,
    phase_ui: float = 0.0,
    thresholds: Any = None,
    levels: Pam4Levels | None = None,
    n_bins: int = 256,
) -> StatisticalBer:
    """Statistical BER of a PAM4 waveform (ISI histogram plus Gaussian noise), any depth.

    Parameters
    ----------
    wf : Waveform
        Waveform with ``symbol_rate_baud`` (``pattern`` optional: without it the symbols
        are the decisions at the eye centre).
    timing : SymbolTiming, optional
        Recovered when omitted.
    phase_ui : float, optional
        Sampling phase relative to the eye centre, UI in [-0.5, 0.5].
    thresholds : array of 3, optional
        Decision thresholds; default midway between the measured levels.
    levels : Pam4Levels, optional
        Measured when omitted.
    n_bins : int, optional
        Histogram bins for the deterministic part, 16..4096 (default 256).

    Returns
    -------
    StatisticalBer

    Raises
    ------
    InvalidWaveform, NoEyeFound
        From timing and level recovery.

    Examples
    --------
    >>> import numpy as np
    >>> from optics import Waveform
    >>> rng = np.random.default_rng(0)
    >>> lv = np.array([0.2e-3, 0.6e-3, 1.0e-3, 1.4e-3])
    >>> x = np.repeat(lv[rng.integers(0, 4, 20000)], 9) + 40e-6 * rng.standard_normal(180000)
    >>> r = estimate_ber(Waveform(samples=x, sample_rate_hz=9e9, symbol_rate_baud=1e9))
    >>> f"{r.ser:.1e}"   # closed form 1.5 Q(0.2e-3/40e-6) = 4.3e-07 (sigma from 20k symbols)
    '4.6e-07'
    """
    n_bins = validate.integer("n_bins", n_bins, 16, 4096)
    timing, thr, sym = _statistical_inputs(wf, timing, levels, thresholds)
    values = sample_symbols(wf, timing, phase_ui)
    det, sig, sc = isi_and_noise(values, sym)
    h, centres = level_histograms(det, sc, n_bins)
    return statistical_ber(h, centres, thr, sig)


@dataclasses.dataclass(frozen=True, eq=False)
class Bathtub:
    """Statistical BER versus sampling phase.

    Attributes
    ----------
    phases_ui : numpy.ndarray
        Sampling phases, UI from the eye crossing (0.5 is the eye centre).
    ber : numpy.ndarray
        Statistical BER at each phase.
    ser_per_eye : numpy.ndarray
        Shape (n_phases, 3): threshold-crossing probability of each eye.
    """

    phases_ui: np.ndarray
    ber: np.ndarray
    ser_per_eye: np.ndarray

    def __post_init__(self) -> None:
        for name in ("phases_ui", "ber", "ser_per_eye"):
            object.__setattr__(self, name, _readonly(getattr(self, name)))

    def eye_width_ui(self, ber_target: float = 1e-12) -> float:
        """Width (UI) of the phase interval around the centre where ``ber <= ber_target``.

        Linear interpolation of ``log10(ber)`` at the two edges; 0 when the centre fails.
        """
        target = validate.in_range("ber_target", ber_target, 0.0, 0.5, low_inclusive=False)
        lg = np.log10(np.maximum(self.ber, 1e-300)) - math.log10(target)
        i_c = int(np.argmin(np.abs(self.phases_ui - 0.5)))
        from optics.eye import _open_interval

        width, _ = _open_interval(self.phases_ui, -lg, i_c)
        return width

    def plot(self, ax: Any = None) -> Any:
        """Draw log10(BER) versus phase (total and per eye); returns the Axes."""
        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(figsize=(6, 4))
        floor = 1e-300
        ax.semilogy(self.phases_ui, np.maximum(self.ber, floor), "k-", lw=1.5, label="BER")
        for e, name in enumerate(("lower", "middle", "upper")):
            ax.semilogy(self.phases_ui, np.maximum(self.ser_per_eye[:, e] / 2, floor), lw=0.8,
                        label=f"{name} eye")
        ax.set_ylim(1e-18, 1.0)
        ax.set_xlabel("sampling phase (UI from crossing)")
        ax.set_ylabel("BER")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize="small")
        return ax

    def to_dict(self) -> dict[str, object]:
        """Plain-Python view for JSON."""
        return {"phases_ui": self.phases_ui.tolist(), "ber": self.ber.tolist()}


def bathtub(
    wf: Waveform,
    timing: SymbolTiming | None = None,
    *,
    n_phases: int = 41,
    thresholds: Any = None,
    levels: Pam4Levels | None = None,
    n_bins: int = 256,
) -> Bathtub:
    """Statistical BER versus sampling phase across one UI (a bathtub curve).

    Parameters
    ----------
    wf : Waveform
        Waveform with ``symbol_rate_baud``.
    timing : SymbolTiming, optional
        Recovered when omitted.
    n_phases : int, optional
        Phases from 0 to 1 UI after the crossing, 5..257 (default 41).
    thresholds : array of 3, optional
        Fixed decision thresholds; default midway between the centre levels.
    levels : Pam4Levels, optional
        Measured when omitted.
    n_bins : int, optional
        Histogram bins per phase (default 256).

    Returns
    -------
    Bathtub

    Raises
    ------
    InvalidWaveform, NoEyeFound
        From timing and level recovery.
    """
    n_phases = validate.integer("n_phases", n_phases, 5, 257)
    timing, thr, sym = _statistical_inputs(wf, timing, levels, thresholds)
    phases = np.linspace(-0.5, 0.5, n_phases)
    v = np.column_stack([sample_symbols(wf, timing, float(p)) for p in phases])
    det, sig, sc = isi_and_noise(v, sym)
    ber = np.empty(n_phases)
    per_eye = np.empty((n_phases, 3))
    for i in range(n_phases):
        h, centres = level_histograms(det[:, i], sc, n_bins)
        r = statistical_ber(h, centres, thr, sig[:, i])
        ber[i] = r.ber
        per_eye[i] = r.ser_per_eye
    return Bathtub(phases_ui=phases + 0.5, ber=ber, ser_per_eye=per_eye)


__all__ = [
    "BIT_DISTANCE",
    "GRAY_BITS",
    "Bathtub",
    "CountedBer",
    "StatisticalBer",
    "bathtub",
    "clopper_pearson",
    "count_errors",
    "count_symbol_errors",
    "decide",
    "estimate_ber",
    "isi_and_noise",
    "level_histograms",
    "midway_thresholds",
    "statistical_ber",
]
