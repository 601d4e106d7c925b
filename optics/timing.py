"""Symbol-clock recovery and pattern alignment for PAM4 waveforms.

Given a :class:`~optics.Waveform` with a known symbol rate (any real number of samples per
symbol, at least 2), :func:`recover_timing` finds

1. the **sampling phase**, by the spectral-line method: the squared slope ``|dx/dt|^2`` of
   a random-data waveform is a cyclostationary signal whose strongest periodic part is a
   line at the baud frequency; its phase gives the mean time of the symbol transitions
   (the eye crossings), and the eye centre lies half a unit interval (UI) after them
   (square-law feed-forward timing estimation in the manner of Oerder and Meyr, applied
   to the slope and evaluated on the whole record at once).  The symbol rate itself is
   searched within +-200 ppm of the nominal one (zero-padded FFT of block sums of the same
   product, then one exact evaluation): a real-time capture whose clock differs by 100 ppm
   drifts 6.5 UI over 65535 symbols.  The refined rate is used only when its line is at
   least 2 % stronger than at the nominal rate, so a waveform at the exact rate (models,
   pattern-locked captures) keeps it;
2. whether there is a **PAM4 eye** at all: the spectral line must stand clearly above the
   noise, and the samples taken at the eye centre must form four separated clusters
   (:func:`optics.level_clusters.cluster_levels`,
   :func:`optics.level_clusters.eye_valley_ratios`).  With a
   known pattern a closed eye is accepted (e.g. ISI that the TDECQ reference equalizer
   removes) provided the pattern aligns and the mean eye-centre values of symbols 0..3 are
   four ordered, distinct levels;
3. when ``wf.pattern`` is known, the **pattern offset**: the index in the pattern of the
   first sampled symbol, from the peak of the circular cross-correlation (by FFT) of the
   sampled values with the pattern, which must be decisive.  A pattern array holding more
   than one period (the symbols sent during a record) is aligned with its period
   (:func:`pattern_period`), so a record of any length of at least one period aligns;
4. when there is no eye at the given rate, whether there is one at **half or twice** it
   (a PAM4 bit rate given as the symbol rate, or half the rate): the error then says that
   the symbol rate looks wrong and where the record's clock line is.  Without a pattern,
   twice the true rate gives an eye whose every symbol is sampled twice; that is caught
   too (decided symbols equal in pairs) and checked at half the rate.

The value of a symbol is always a recorded sample, the one nearest the sampling instant
(:func:`sample_symbols`), never a value interpolated between two samples, whose
independent noise it would average down.

The eye centre returned is the midpoint between crossings (0.5 UI), the reference time the
IEEE 802.3 TDECQ windows (0.45/0.55 UI) are placed around; metrics that want the phase of
largest opening search around it with :func:`sample_symbols` and ``phase_ui``.

References
----------
M. Oerder and H. Meyr, "Digital filter and square timing recovery", IEEE Trans. Commun.
36(5), 1988 (spectral-line timing estimation); IEEE 802.3-2022 clause 121.8.5 (TDECQ eye
timing).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import scipy.fft

from optics import validate
from optics.errors import InvalidWaveform, NoEyeFound
from optics.level_clusters import MAX_VALLEY_RATIO, cluster_levels, eye_valley_ratios
from optics.waveform import MIN_SAMPLES_PER_SYMBOL, Waveform

#: Fewest whole symbols for which timing, levels and eyes are estimated.
MIN_SYMBOLS = 64

#: The baud spectral line must exceed this many times its noise-only RMS value.
LINE_SNR_MIN = 4.0

#: Smallest normalised correlation of sampled symbols with the known pattern.
PATTERN_CORRELATION_MIN = 0.5

#: The second-highest pattern correlation peak must be below this fraction of the highest.
PATTERN_SECOND_PEAK_MAX = 0.8

#: The symbol rate is searched within this offset from ``wf.symbol_rate_baud`` (ppm).
MAX_RATE_OFFSET_PPM = 200.0

#: A searched symbol rate replaces the nominal one only if its line is this much stronger.
RATE_GAIN_MIN = 1.02

#: Largest allowed deviation of the crossing phase of a record segment from the mean (UI).
MAX_PHASE_SPREAD_UI = 0.25

#: Smallest allowed phase coherence of the segments (0.8: a linear drift of about +-0.17 UI).
MIN_PHASE_COHERENCE = 0.8

#: Multiples of the given symbol rate at which a record without an eye is timed again, to
#: tell the user that the rate looks wrong (the bit rate of PAM4 given as its symbol rate,
#: or half the rate).
RATE_MULTIPLES_TRIED = (0.5, 2.0)

#: Without a pattern, an eye whose decided symbols repeat in pairs (2i, 2i+1) more often
#: than this is checked at half the rate (random data: about 1/4).
MAX_PAIRED_FRACTION = 0.9

#: With a known pattern, each gap between the mean levels of symbols 0..3 must exceed this
#: fraction of the mean gap (rejects NRZ sent with a PAM4 pattern, inverted signals).
MIN_LEVEL_GAP_FRACTION = 0.2


@dataclasses.dataclass(frozen=True)
class SymbolTiming:
    """Recovered symbol clock of a waveform.

    Attributes
    ----------
    samples_per_symbol : float
        Samples per unit interval: sample rate / symbol rate, with the symbol rate found
        within +-``MAX_RATE_OFFSET_PPM`` of ``wf.symbol_rate_baud`` (equal to
        ``wf.samples_per_symbol`` unless the record drifts, e.g. a free-running capture).
    centre_index : float
        Fractional sample index of the eye centre of the first symbol, in ``[0, sps)``.
    n_symbols : int
        Symbols whose centre +- 0.5 UI lies in the record, counted from ``centre_index``.
    pattern_offset : int or None
        Index in ``wf.pattern`` of the symbol sent in the first slot, within the pattern's
        period (:func:`pattern_period`); None without pattern.
    """

    samples_per_symbol: float
    centre_index: float
    n_symbols: int
    pattern_offset: int | None

    def centres(self) -> np.ndarray:
        """Fractional sample indices of the ``n_symbols`` eye centres."""
        return self.centre_index + self.samples_per_symbol * np.arange(self.n_symbols)


def _check_sampling(wf: Waveform) -> float:
    sps = wf.samples_per_symbol
    if sps < MIN_SAMPLES_PER_SYMBOL:  # Waveform already enforces this; kept for clarity
        raise InvalidWaveform(
            f"{sps:.3g} samples per symbol; at least {MIN_SAMPLES_PER_SYMBOL:g} are needed"
        )
    n_sym = wf.n_samples / sps
    if n_sym < MIN_SYMBOLS + 1:
        raise InvalidWaveform(
            f"the record holds {n_sym:.1f} symbols at {wf.symbol_rate_baud:g} Bd; "
            f"at least {MIN_SYMBOLS + 1} are needed for timing recovery"
        )
    return sps


def _block_length(sps: float) -> int:
    # blocks short enough that a MAX_RATE_OFFSET_PPM offset turns the phase by < 0.1 cycle
    return int(np.clip(0.1 * sps / (MAX_RATE_OFFSET_PPM * 1e-6), 64, 4096))


def _baud_line(x: np.ndarray, sps: float) -> tuple[complex, float, np.ndarray, int]:
    """Return the baud-frequency Fourier coefficient of ``|dx|^2``, its noise RMS, block sums.

    ``c = sum_n d[n]^2 exp(-j 2 pi (n + 1/2)/sps)`` with ``d[n] = x[n+1] - x[n]``, located
    at ``n + 1/2``.  The sum is blocked (``n = a*B + b``) so it costs one matrix-vector
    product instead of 2 N sines and cosines; the per-block terms ``z_a`` (with
    ``c = sum_a z_a``) are returned for the symbol-rate search.  For white ``d`` the noise
    RMS of ``|c|`` is ``sqrt(sum d^4)``.
    """
    d = np.diff(x)
    if d.size == 0:
        return 0j, 0.0, np.zeros(1, dtype=complex), _block_length(sps)
    peak = max(float(d.max()), -float(d.min()))
    # |dx|^2 is scaled to a peak of 1 when its 4th power could overflow or underflow: the
    # phase and the line-to-noise ratio are scale-free (Waveform samples, |x| <= 1e60, never
    # need it)
    if peak > 0.0 and not 1e-60 < peak < 1e60:
        d *= 1.0 / peak
    d2 = np.square(d, out=d)
    n = d2.size
    block = _block_length(sps)
    n_full, rest = divmod(n, block)
    b = np.arange(block)
    ang_b = -2.0 * np.pi * (np.mod(b + 0.5, sps) / sps)
    basis = np.empty((block, 2))
    basis[:, 0] = np.cos(ang_b)
    basis[:, 1] = np.sin(ang_b)
    # blocks of the record as rows (a view, no copy), the last partial block on its own
    sums = np.empty((n_full + (rest > 0), 2))
    sums[:n_full] = d2[: n_full * block].reshape(n_full, block) @ basis
    if rest:
        sums[n_full] = d2[n_full * block:] @ basis[:rest]
    inner = sums[:, 0] + 1j * sums[:, 1]
    a_start = np.arange(inner.size) * float(block)
    ang_a = -2.0 * np.pi * (np.mod(a_start, sps) / sps)
    z = inner * np.exp(1j * ang_a)
    noise = math.sqrt(float(np.dot(d2, d2)))
    return complex(np.sum(z)), noise, z, block


def _rate_offset(z: np.ndarray, block: int, sps: float) -> float:
    """Frequency offset (cycles/sample) of the strongest line within +-MAX_RATE_OFFSET_PPM.

    ``c(delta) ~ sum_a z_a exp(-j 2 pi delta a B)`` is evaluated by a zero-padded FFT of the
    block terms, and the peak refined by a parabola through the three largest bins.
    """
    n_fft = 1 << int(np.ceil(np.log2(max(16 * z.size, 64))))
    spec = np.abs(np.fft.fft(z, n_fft))
    freqs = np.fft.fftfreq(n_fft, d=float(block))  # cycles/sample
    limit = MAX_RATE_OFFSET_PPM * 1e-6 / sps
    ok = np.abs(freqs) <= limit
    idx = np.flatnonzero(ok)
    k = int(idx[np.argmax(spec[idx])])
    if 0 < k < n_fft - 1:
        y0, y1, y2 = spec[k - 1], spec[k], spec[(k + 1) % n_fft]
        den = y0 - 2 * y1 + y2
        shift = 0.5 * (y0 - y2) / den if den < 0 else 0.0
    else:
        shift = 0.0
    return float(freqs[k] + shift / (n_fft * block))


def _phase_spread_ui(z: np.ndarray, c: complex, n_sym: float) -> tuple[float, float]:
    """Phase consistency of the baud line over the record.

    The block terms are grouped into up to 32 segments of at least 64 symbols; at the right
    symbol rate every segment sees the same crossing phase.  Returns the largest deviation
    (UI) of a segment's phase from the whole record's, and the coherence
    ``|sum_k s_k| / sum_k |s_k|`` of the segment sums (1 when aligned, about
    ``sin(2 pi a)/(2 pi a)`` for a linear drift of +-a UI).  (0, 1) when too short to split.
    """
    n_seg = int(min(32, n_sym // 64, z.size))
    if n_seg < 2:
        return 0.0, 1.0
    seg = np.array([part.sum() for part in np.array_split(z, n_seg)])
    dev = np.angle(seg * np.conj(c)) / (2.0 * np.pi)
    total = float(np.sum(np.abs(seg)))
    coherence = abs(complex(np.sum(seg))) / total if total > 0 else 0.0
    return float(np.max(np.abs(dev))), coherence


def _centre_from_line(c: complex, sps: float) -> float:
    """Eye-centre index in [0, sps): half a UI after the crossing that the line's phase gives."""
    crossing = -np.angle(c) * sps / (2.0 * np.pi)
    centre = float(np.mod(crossing + 0.5 * sps, sps))
    return 0.0 if centre >= sps else centre  # rounding guard for np.mod returning sps


def clock_phase(samples: np.ndarray, samples_per_symbol: float) -> tuple[float, float]:
    """Eye-centre sample index and line strength at a KNOWN samples-per-symbol.

    The same estimate :func:`recover_timing` makes (the baud-rate Fourier line of the
    squared slope ``|x[n+1] - x[n]|^2``), without its rate search or checks: for callers that
    already know the rate, e.g. to re-measure the phase after a filter has delayed the eye.

    Returns
    -------
    centre_index : float
        Fractional sample index of the eye centre, in ``[0, samples_per_symbol)``.
    line_snr : float
        Strength of the line over its noise level (0 for a constant record); below
        ``LINE_SNR_MIN`` there is no usable clock.
    """
    sps = validate.positive("samples_per_symbol", samples_per_symbol)
    x = validate.finite_array("samples", samples, min_size=2)
    c, noise, _, _ = _baud_line(x, sps)
    if noise == 0.0:
        return 0.0, 0.0
    return _centre_from_line(c, sps), abs(c) / noise


def n_whole_symbols(n_samples: int, samples_per_symbol: float, centre_index: float) -> int:
    """Whole symbols in a record from ``centre_index`` on (the last one's far edge inside it)."""
    return _n_symbols(n_samples, samples_per_symbol, centre_index)


def rephase_timing(filtered: Waveform, timing: SymbolTiming) -> SymbolTiming:
    """The timing of a filtered copy of a waveform, from the timing of the original.

    A filter (the TDECQ reference receiver, an equalizer) keeps the symbol rate and the
    pattern but moves the eye centre by a fraction of a UI; instead of a second
    :func:`recover_timing`, the rate and the pattern alignment of ``timing`` are kept and
    only the clock phase is measured again on ``filtered`` (:func:`clock_phase`, one pass
    of the baud-line estimate at the known rate).  The pattern offset moves by the whole
    symbols the eye centre moved (e.g. one when it wraps around the start of the UI).

    Parameters
    ----------
    filtered : Waveform
        The filtered waveform (same sample rate and length as the original).
    timing : SymbolTiming
        :func:`recover_timing` of the original waveform.

    Returns
    -------
    SymbolTiming

    Raises
    ------
    NoEyeFound
        No baud-rate line in the filtered waveform.
    """
    sps = float(timing.samples_per_symbol)
    centre, line_snr = clock_phase(filtered.samples, sps)
    if line_snr < LINE_SNR_MIN:
        raise NoEyeFound(
            f"no symbol-rate spectral line at {filtered.symbol_rate_baud:g} Bd in the filtered "
            "waveform: wrong symbol rate, or not a data signal"
        )
    n_sym = _n_symbols(filtered.n_samples, sps, centre)
    offset = timing.pattern_offset
    if offset is not None and filtered.pattern is not None:
        # slot 0 of the new timing is slot k of the given one
        k = int(round((centre - float(timing.centre_index)) / sps))
        offset = (int(offset) + k) % pattern_period(filtered.pattern)
    return SymbolTiming(sps, centre, n_sym, offset)


def _n_symbols(n_samples: int, sps: float, centre: float) -> int:
    # the last symbol's centre + 0.5 UI must not pass the last sample
    return int(math.floor((n_samples - 1 - centre - 0.5 * sps) / sps)) + 1


def sample_symbols(wf: Waveform, timing: SymbolTiming, phase_ui: float = 0.0) -> np.ndarray:
    """Return one recorded sample per symbol: the one nearest ``centre + phase_ui * sps``.

    No value is interpolated between samples.  Interpolating between the two samples
    around an instant averages their noise: with independent noise per sample (an
    equivalent-time scope record, a simulation's white noise) the value half-way between
    them has ``1/sqrt(2)`` of the noise of a real sample, and every statistic taken from
    it (level sigmas, counted and statistical BER, eye heights) would depend on where the
    eye centre falls between samples.  The nearest sample is at most half a sample period
    (``0.5/sps`` UI) from the instant asked for, as with the recorded samples of the TDECQ
    histogram windows.

    Parameters
    ----------
    wf : Waveform
        The waveform the timing was recovered from.
    timing : SymbolTiming
        From :func:`recover_timing`.
    phase_ui : float, optional
        Sampling phase relative to the eye centre, in UI, within ``[-0.5, 0.5]``.

    Returns
    -------
    numpy.ndarray
        ``timing.n_symbols`` values in the unit of ``wf``: ``x[floor(t + 1/2)]`` at the
        instants ``t = centre_index + (k + phase_ui) * sps`` (a tie goes to the later
        sample).  An instant before the first sample (possible only for the first symbol at
        negative phase) takes the first sample.

    Raises
    ------
    InvalidParameter
        ``phase_ui`` outside ``[-0.5, 0.5]``.

    Examples
    --------
    >>> import numpy as np
    >>> from optics import Waveform
    >>> wf = Waveform(samples=np.arange(40.0), sample_rate_hz=4e9, symbol_rate_baud=1e9)
    >>> sample_symbols(wf, SymbolTiming(4.0, 1.5, 9, None)).tolist()    # ties: later sample
    [2.0, 6.0, 10.0, 14.0, 18.0, 22.0, 26.0, 30.0, 34.0]
    >>> sample_symbols(wf, SymbolTiming(4.0, 1.4, 9, None), 0.25)[:3].tolist()
    [2.0, 6.0, 10.0]
    """
    phase = validate.in_range("phase_ui", phase_ui, -0.5, 0.5, unit="UI")
    sps = timing.samples_per_symbol
    x = wf.samples
    n_sym = timing.n_symbols
    start = timing.centre_index + phase * sps
    if float(sps).is_integer() and n_sym > 0:
        # whole samples per symbol: every instant has the same fraction, so one strided
        # slice replaces the gather (same samples as the general rule below)
        step = int(sps)
        first = int(math.floor(start + 0.5))
        last = first + step * (n_sym - 1)
        if first >= 0 and last <= wf.n_samples - 1:
            return x[first: last + 1: step].copy()
    idx = np.floor(start + sps * np.arange(n_sym) + 0.5)
    return x[np.clip(idx, 0, wf.n_samples - 1).astype(np.int64)]


def symbols_of(wf: Waveform, timing: SymbolTiming) -> np.ndarray | None:
    """Return the known symbol sent in each of the ``timing.n_symbols`` slots, or None.

    The pattern repeats with its period (:func:`pattern_period`: the whole ``wf.pattern``,
    or its first period when the array holds several, e.g. the symbols written for a record
    of 8.4 periods), starting at ``timing.pattern_offset``.  None when the waveform carries
    no pattern or the timing has no pattern offset.
    """
    if wf.pattern is None or timing.pattern_offset is None:
        return None
    base = _pattern_entry(wf.pattern).base
    # the period rotated to the offset, repeated cyclically to the length (a copy, no gather)
    return np.resize(np.roll(base, -(timing.pattern_offset % base.size)), timing.n_symbols)


#: A pattern array is read as repeats of a shorter period only when the repeated part
#: (array length minus period) holds at least this many symbols: 4^-64 is the chance that
#: the ends of an unrepeated PAM4 pattern agree that far.
MIN_PATTERN_REPEAT_SYMBOLS = 64


class _PatternEntry:
    """A pattern's first period (read-only) and, once asked for, its zero-mean spectrum."""

    __slots__ = ("base", "_spectrum")

    def __init__(self, base: np.ndarray) -> None:
        base.setflags(write=False)
        self.base = base
        self._spectrum: tuple[np.ndarray, np.ndarray] | None = None

    def spectrum(self) -> tuple[np.ndarray, np.ndarray]:
        """The period less its mean (float64) and its ``rfft``."""
        if self._spectrum is None:
            p0 = self.base.astype(np.float64) - float(self.base.mean())
            spec = scipy.fft.rfft(p0)
            for arr in (p0, spec):
                arr.setflags(write=False)
            self._spectrum = (p0, spec)
        return self._spectrum


_PATTERNS: dict[tuple[str, bytes], _PatternEntry] = {}

#: Shifts at which the pattern's first 32 symbols recur that are checked as its period.
_PERIOD_CANDIDATES = 16


def _smallest_period(p: np.ndarray) -> int:
    """Smallest ``P`` with ``p[i + P] == p[i]`` for every ``i`` and at least
    ``MIN_PATTERN_REPEAT_SYMBOLS`` repeated symbols; ``p.size`` when there is none.

    Candidates are the shifts at which the first 32 symbols recur (32 symbols of 2 bits
    packed into one 64-bit word per position, five shifted ORs); the first few are checked
    against the whole array.  O(n): 50 ms for the 8.4 M symbols of PRBS23Q.
    """
    n = p.size
    if n <= MIN_PATTERN_REPEAT_SYMBOLS or not np.issubdtype(p.dtype, np.integer) \
            or int(p.min()) < 0 or int(p.max()) > 3:
        return n
    words = p.astype(np.uint64)
    span = 1
    while span < 32:  # words[i] packs symbols i .. i + 2 span - 1
        words = words[:-span] | (words[span:] << np.uint64(2 * span))
        span *= 2
    for lag in (np.flatnonzero(words[1:] == words[0]) + 1)[:_PERIOD_CANDIDATES]:
        if n - lag < MIN_PATTERN_REPEAT_SYMBOLS:
            break
        if np.array_equal(p[lag:], p[: n - lag]):
            return int(lag)
    return n


def _pattern_entry(pattern: np.ndarray) -> _PatternEntry:
    """The period (and spectrum) of a pattern; the last 4 patterns are kept, by content."""
    p = np.asarray(pattern)
    key = (p.dtype.str, p.tobytes())
    entry = _PATTERNS.get(key)
    if entry is None:
        entry = _PatternEntry(np.array(p[: _smallest_period(p)]))
        if len(_PATTERNS) >= 4:
            _PATTERNS.pop(next(iter(_PATTERNS)))
        _PATTERNS[key] = entry
    return entry


def pattern_period(pattern: np.ndarray) -> int:
    """Length of the pattern's period: ``pattern.size``, or less when the array repeats.

    A pattern array may hold more than one period: the symbols sent during a whole record
    (``patterns.pattern("PRBS13Q", n)``, a generator's symbol file) repeat every 8191
    symbols whatever their number.  Aligned as if it were one period, such an array is
    found at several equally good offsets (the record matches it a period further on as
    well); the record is aligned with, and counted against, its period instead.

    Parameters
    ----------
    pattern : numpy.ndarray
        Symbols 0..3 (any other values: no period is looked for).

    Returns
    -------
    int
        The smallest ``P`` with ``pattern[i + P] == pattern[i]`` wherever both exist and at
        least ``MIN_PATTERN_REPEAT_SYMBOLS`` (64) symbols repeated; ``pattern.size`` if
        there is none.

    Examples
    --------
    >>> from optics.patterns import pattern
    >>> pattern_period(pattern("PRBS9Q")), pattern_period(pattern("PRBS9Q", 1300))
    (511, 511)
    """
    return int(_pattern_entry(pattern).base.size)


def align_pattern(values: np.ndarray, pattern: np.ndarray) -> tuple[int, float, float]:
    """Find where ``values`` (one per symbol) sit in the periodic ``pattern``.

    The circular cross-correlation ``r[k] = sum_i v[i] p[(i + k) mod L]`` of the zero-mean
    values (folded modulo the pattern period ``L`` when longer, whatever their number of
    periods) with the zero-mean period is computed by FFT; its peak gives the offset.

    Parameters
    ----------
    values : numpy.ndarray
        Sampled symbol values (any monotonic mapping of the symbols).
    pattern : numpy.ndarray
        The known pattern, symbols 0..3; an array of several periods is aligned with its
        period (:func:`pattern_period`).

    Returns
    -------
    offset : int
        Index in ``pattern`` (in its first period) of the symbol in ``values[0]``.
    correlation : float
        Normalised (Pearson) correlation at the peak, <= 1.
    second_peak_ratio : float
        Second-highest correlation divided by the highest (1 when ambiguous).
    """
    v = np.asarray(values, dtype=np.float64)
    p0, p_spectrum = _pattern_entry(pattern).spectrum()
    length = p0.size
    m = min(v.size, length)
    v0 = v - v.mean()
    # fold modulo the pattern length: whole periods summed as rows, the remainder added
    n_full = v0.size // length
    if n_full:
        folded = v0[: n_full * length].reshape(n_full, length).sum(axis=0)
    else:
        folded = np.zeros(length)
    rest = v0[n_full * length:]
    folded[: rest.size] += rest
    corr = scipy.fft.irfft(np.conj(scipy.fft.rfft(folded)) * p_spectrum, n=length)
    k = int(np.argmax(corr))
    peak = float(corr[k])
    # a whole period of the rotated pattern has the pattern's own norm
    seg = p0 if m == length else p0[(k + np.arange(m)) % length]
    denom = float(np.linalg.norm(folded[:m]) * np.linalg.norm(seg))
    rho = peak / denom if denom > 0 else 0.0
    if length > 1 and peak > 0:
        others = [part.max() for part in (corr[:k], corr[k + 1:]) if part.size]
        second = float(max(others)) / peak
    else:
        second = 1.0
    return k, rho, second


def recover_timing(wf: Waveform) -> SymbolTiming:
    """Recover the symbol clock phase (and pattern offset) of a PAM4 waveform.

    Parameters
    ----------
    wf : Waveform
        Must carry ``symbol_rate_baud`` (>= 2 samples per symbol, non-integer allowed) and
        at least ``MIN_SYMBOLS + 1`` = 65 symbols.  ``wf.pattern``, if given, is aligned.

    Returns
    -------
    SymbolTiming

    Raises
    ------
    InvalidWaveform
        No symbol rate, fewer than 2 samples per symbol, fewer than 65 symbols, or a known
        pattern that is not found (decisively) in the sampled symbols.
    NoEyeFound
        No baud-rate spectral line within +-200 ppm of the symbol rate (wrong symbol rate,
        noise, a sine), a line whose phase wanders over the record (wrong rate), no four
        separated levels at the eye centre (not PAM4, e.g. NRZ, or too noisy) without a
        pattern that aligns, or symbol means that are not four ordered levels.  When the
        record times as PAM4 at half or twice the given rate, the message says so instead
        ("the record's clock line is at 26.5625 GBd, half the given 53.125 GBd: is the
        symbol rate right?"); that also replaces a result at twice the true rate without
        a pattern (every symbol sampled twice).

    Notes
    -----
    Phase: with ``d[n] = x[n+1] - x[n]`` and
    ``c = sum_n d[n]^2 exp(-j 2 pi (n + 1/2)/sps)``, the mean crossing time is
    ``t_x = -arg(c) sps / (2 pi)`` (samples) and the eye centre ``t_x + sps/2`` (modulo
    ``sps``).  Accuracy is a few thousandths of a UI on records of thousands of symbols.
    The record is cut into up to 32 segments of >= 64 symbols whose line phases must agree
    (each within 0.25 UI of the whole, coherence >= 0.8).  The cost is O(N): about 30 ms
    for 2.1 M samples (two passes, about 60 ms, when the rate is refined).

    Examples
    --------
    >>> import numpy as np
    >>> from optics import Waveform
    >>> rng = np.random.default_rng(1)
    >>> sym = rng.integers(0, 4, 500)
    >>> wf = Waveform(samples=np.repeat(sym * 1e-3, 8) + 2e-5 * rng.standard_normal(4000),
    ...               sample_rate_hz=8e9, symbol_rate_baud=1e9, quantity="optical_power")
    >>> t = recover_timing(wf)
    >>> round(t.centre_index, 1), t.n_symbols
    (3.5, 499)
    """
    return _timing_and_centre_values(wf)[0]


def _timing_and_centre_values(wf: Waveform) -> tuple[SymbolTiming, np.ndarray]:
    """:func:`recover_timing`, and the eye-centre values it sampled (phase 0, one per symbol)."""
    sps = _check_sampling(wf)
    try:
        timing, values, levels = _recover(wf, sps)
    except InvalidWaveform as exc:  # NoEyeFound included
        hint = _other_rate_hint(wf, RATE_MULTIPLES_TRIED, f"none at {_gbd(wf.symbol_rate_baud)}")
        if hint:
            raise NoEyeFound(hint) from exc
        raise
    if levels is not None and _paired_fraction(values, levels) > MAX_PAIRED_FRACTION:
        # an eye, but every symbol repeats its neighbour: the record may be timed at twice
        # its rate (each symbol sampled twice); without a pattern to disagree, ask half it
        hint = _other_rate_hint(wf, (0.5,), f"at {_gbd(wf.symbol_rate_baud)} each symbol "
                                "would be sampled twice")
        if hint:
            raise NoEyeFound(hint)
    return timing, values


def _paired_fraction(values: np.ndarray, levels: np.ndarray) -> float:
    """Largest fraction of the pairs (2i, 2i+1) or (2i+1, 2i+2) of equal decided symbols.

    About 1/4 for random PAM4 data at its rate; near 1 for a record timed at twice its
    symbol rate, whose every symbol is sampled twice.
    """
    sym = np.searchsorted(0.5 * (levels[1:] + levels[:-1]), values)
    same = sym[1:] == sym[:-1]
    if same.size < 2:
        return 0.0
    return float(max(np.mean(same[0::2]), np.mean(same[1::2])))


def _gbd(rate_baud: float) -> str:
    return f"{rate_baud / 1e9:.6g} GBd"


def _other_rate_hint(wf: Waveform, factors: tuple[float, ...], why: str) -> str:
    """What to say when the record times as PAM4 at another multiple of its given rate.

    A symbol rate given twice the true one (e.g. the bit rate of PAM4) or half of it gives
    no eye at the given rate (or, twice the rate without a pattern, an eye whose every
    symbol is sampled twice); the record is timed at each of ``factors`` times it (where
    that leaves >= 2 samples per symbol and >= 65 symbols) and the first rate that gives
    an eye (or aligns the pattern) is named, with ``why`` the given rate is not taken.
    '' when none does.
    """
    baud = float(wf.symbol_rate_baud)
    for factor in factors:
        sps = wf.samples_per_symbol / factor
        if sps < MIN_SAMPLES_PER_SYMBOL or wf.n_samples / sps < MIN_SYMBOLS + 1:
            continue
        try:
            timing, values, levels = _recover(wf.replace(symbol_rate_baud=baud * factor), sps)
        except InvalidWaveform:
            continue
        if levels is not None and _paired_fraction(values, levels) > MAX_PAIRED_FRACTION:
            continue  # timed at twice the rate there as well
        found = wf.sample_rate_hz / timing.samples_per_symbol
        word = {0.5: "half", 2.0: "twice"}.get(factor, f"{factor:g} times")
        return (
            f"the record's clock line is at {_gbd(found)}, {word} the given {_gbd(baud)}: is "
            f"the symbol rate right? (its samples form a PAM4 eye at {_gbd(found)}; {why})"
        )
    return ""


def _recover(wf: Waveform, sps: float) -> tuple[SymbolTiming, np.ndarray, np.ndarray | None]:
    """Timing and eye-centre values at the waveform's rate (+-200 ppm), ``sps`` checked;
    and, without a pattern, the four cluster levels of the open eye."""
    x = wf.samples
    c, noise, z, block = _baud_line(x, sps)
    if noise == 0.0:
        raise NoEyeFound("the waveform is constant: no transitions, no eye")
    # symbol-rate search within +-MAX_RATE_OFFSET_PPM: a free-running capture drifts
    delta = _rate_offset(z, block, sps)
    if abs(delta) * wf.n_samples > 0.05:  # refine only if it drifts > 0.05 UI over the record
        sps_new = 1.0 / (1.0 / sps + delta)
        c_new, noise_new, z_new, _ = _baud_line(x, sps_new)
        if abs(c_new) > RATE_GAIN_MIN * abs(c):
            if abs(delta) * sps > 0.95 * MAX_RATE_OFFSET_PPM * 1e-6:
                raise NoEyeFound(
                    f"the symbol rate seems to differ from {wf.symbol_rate_baud:g} Bd by "
                    f"{MAX_RATE_OFFSET_PPM:g} ppm or more (the largest offset searched): wrong "
                    "symbol rate"
                )
            sps, c, noise, z = sps_new, c_new, noise_new, z_new
    line_snr = abs(c) / noise
    if line_snr < LINE_SNR_MIN:
        raise NoEyeFound(
            f"no symbol-rate spectral line at {wf.symbol_rate_baud:g} Bd +- "
            f"{MAX_RATE_OFFSET_PPM:g} ppm (strength {line_snr:.2g} times its noise level, at "
            f"least {LINE_SNR_MIN:g} needed): wrong symbol rate, or not a data signal"
        )
    drift, coherence = _phase_spread_ui(z, c, wf.n_samples / sps)
    if drift > MAX_PHASE_SPREAD_UI or coherence < MIN_PHASE_COHERENCE:
        raise NoEyeFound(
            f"the symbol-clock phase wanders by up to {drift:.2f} UI over the record at "
            f"{wf.symbol_rate_baud:g} Bd (coherence {coherence:.2f}; at most "
            f"{MAX_PHASE_SPREAD_UI:g} UI and at least {MIN_PHASE_COHERENCE:g} needed): wrong "
            "symbol rate, or not a data signal"
        )
    centre = _centre_from_line(c, sps)
    timing = SymbolTiming(sps, centre, _n_symbols(wf.n_samples, sps, centre), None)

    values = sample_symbols(wf, timing)
    if wf.pattern is None:
        closed, levels = _closed_eye_message(values, wf.symbol_rate_baud)
        if closed:
            raise NoEyeFound(closed)
        return timing, values, levels

    offset, rho, second = align_pattern(values, wf.pattern)
    if rho < PATTERN_CORRELATION_MIN or second > PATTERN_SECOND_PEAK_MAX:
        found = (
            f"the known {pattern_period(wf.pattern)}-symbol pattern was not found in the "
            f"{timing.n_symbols} sampled symbols (correlation {rho:.2f}, at least "
            f"{PATTERN_CORRELATION_MIN:g} needed; second peak {second:.2f} of the first, at "
            f"most {PATTERN_SECOND_PEAK_MAX:g} allowed)"
        )
        closed, _ = _closed_eye_message(values, wf.symbol_rate_baud)  # only to explain the failure
        if closed:
            raise NoEyeFound(f"{closed}; and {found}")
        raise InvalidWaveform(f"{found}: wrong pattern, inverted signal or too short a record")
    timing = dataclasses.replace(timing, pattern_offset=offset)
    # a closed eye is accepted when the pattern aligns (ISI an equalizer may remove), but
    # the mean eye-centre values of symbols 0..3 must still be four ordered, distinct levels
    sent = symbols_of(wf, timing)
    counts = np.bincount(sent, minlength=4)
    if np.any(counts == 0):
        raise InvalidWaveform(f"the record does not hold all four symbols: {counts.tolist()}")
    means = np.bincount(sent, weights=values, minlength=4) / counts
    gaps = np.diff(means)
    if not np.all(gaps > MIN_LEVEL_GAP_FRACTION * (means[3] - means[0]) / 3.0):
        raise NoEyeFound(
            f"the mean levels of symbols 0..3 are {np.round(means, 6).tolist()} {wf.unit}: not "
            f"four ordered levels (each gap at least {MIN_LEVEL_GAP_FRACTION:g} of the mean "
            "gap), so not PAM4 (e.g. NRZ), inverted or mis-mapped"
        )
    return timing, values, None


def _closed_eye_message(values: np.ndarray, baud: float | None) -> tuple[str, np.ndarray | None]:
    """Why the eye-centre samples show no open PAM4 eye ('' if they do), and the 4 levels."""
    try:
        levels, _, _ = cluster_levels(values)
    except NoEyeFound as exc:
        return str(exc), None
    ratios = eye_valley_ratios(values, levels)
    if np.any(ratios > MAX_VALLEY_RATIO):
        worst = int(np.argmax(ratios))
        return (
            f"no open PAM4 eye at {baud:g} Bd: the histogram at the eye centre does not show 4 "
            f"separated levels (valley/peak ratio {ratios[worst]:.2f} in eye {worst + 1}, at "
            f"most {MAX_VALLEY_RATIO:g} allowed); wrong symbol rate, not PAM4 (e.g. NRZ) or "
            "too noisy"
        ), levels
    return "", levels


__all__ = [
    "MIN_SYMBOLS",
    "SymbolTiming",
    "align_pattern",
    "clock_phase",
    "n_whole_symbols",
    "pattern_period",
    "recover_timing",
    "rephase_timing",
    "sample_symbols",
    "symbols_of",
]
