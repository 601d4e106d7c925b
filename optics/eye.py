"""PAM4 eye diagrams: density folding, eye heights and widths, and the eye plot.

Time in this module is measured in unit intervals (UI) **from the eye crossing**: the
crossings are at 0, 1, 2 UI and the eye centres (:attr:`SymbolTiming.centre_index`) at 0.5
and 1.5 UI.  The TDECQ histogram windows (0.45 and 0.55 UI, IEEE 802.3 121.8.5) use the
same frame.

Eye height and width definitions (per adjacent level pair, "eye k" lies between levels
``k-1`` and ``k``, k = 1, 2, 3; results are indexed 0..2 for the lower, middle and upper eye):

- at sampling phase ``phi`` the *top of level j* is the ``1 - p`` quantile and the *bottom
  of level j* the ``p`` quantile of the samples of the symbols sent at level ``j`` (known
  pattern) or decided at level ``j`` at the eye centre (no pattern); a symbol's sample at
  ``phi`` is the recorded one nearest it (:func:`optics.timing.sample_symbols`: values
  interpolated between samples would have less noise than the samples), so the heights
  hold the noise of real samples and the widths resolve one sample spacing;
- **eye height** ``EH_k = bottom(k, phi) - top(k-1, phi)`` at ``phi = 0.5 UI``; negative
  means closed at that probability;
- **eye width** is the length, in UI, of the interval of phases around the centre over which
  ``EH_k > 0``, with linear interpolation of the two zero crossings; 0 if closed at the
  centre, at most 1.

With enough samples (``p * n_level >= 10``) the quantiles are empirical; otherwise (deep
probabilities such as 1e-6 or 1e-12) they are Gaussian extrapolations,
``top = mu + Qinv(p) sigma`` and ``bottom = mu - Qinv(p) sigma`` with the level's mean and
standard deviation at that phase ("method" reports which one).
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.special import ndtri

from optics import validate
from optics.levels import Pam4Levels, _readonly, cluster_levels
from optics.timing import SymbolTiming, recover_timing, sample_symbols, symbols_of

if TYPE_CHECKING:
    from optics.waveform import Waveform

#: Interpolated points per UI of the density eye.
POINTS_PER_UI = 64

_DISPLAY = {"W": (1e3, "mW"), "V": (1e3, "mV"), "A": (1e3, "mA")}


@dataclasses.dataclass(frozen=True, eq=False)
class EyeDensity:
    """A folded eye: sample counts on a (amplitude, time) grid.

    Attributes
    ----------
    counts : numpy.ndarray
        Shape (n_amplitude_bins, n_time_bins), how many interpolated points fell in each bin.
    time_edges_ui : numpy.ndarray
        Time bin edges in UI from the eye crossing (0 .. n_ui).
    amplitude_edges : numpy.ndarray
        Amplitude bin edges in the waveform's SI unit.
    unit : str
        SI unit of the amplitude ("W", "V" or "A").
    """

    counts: np.ndarray
    time_edges_ui: np.ndarray
    amplitude_edges: np.ndarray
    unit: str

    def plot(self, ax: Any = None) -> Any:
        """Draw the density as an image (log colour scale); returns the Axes."""
        ax = _axes(ax)
        scale, label = _DISPLAY.get(self.unit, (1.0, self.unit))
        c = np.ma.masked_equal(self.counts.astype(float), 0.0)
        ax.imshow(
            np.ma.log10(c),
            origin="lower",
            aspect="auto",
            cmap="viridis",
            interpolation="nearest",
            extent=(
                self.time_edges_ui[0],
                self.time_edges_ui[-1],
                self.amplitude_edges[0] * scale,
                self.amplitude_edges[-1] * scale,
            ),
        )
        ax.set_xlabel("time (UI; sampling instant at 0.5)")
        ax.set_ylabel(f"amplitude ({label})")
        return ax


def _axes(ax: Any) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(7, 4.5))
    return ax


def _display_samples(x: np.ndarray, sps: float, centre: float) -> tuple[np.ndarray, float, float]:
    """Samples for the density eye: band-limited upsampling when there are < POINTS_PER_UI (64) per UI.

    Linear interpolation between independent noise samples lowers the noise of the
    interpolated points and would draw stripes; polyphase (windowed-sinc) upsampling by
    ``k = ceil(POINTS_PER_UI/sps)`` keeps the noise uniform, after which linear interpolation is
    between strongly correlated samples.  Returns samples, samples per UI, centre index.
    """
    if sps >= POINTS_PER_UI:
        return x, sps, centre
    from scipy.signal import resample_poly

    k = int(math.ceil(POINTS_PER_UI / sps))
    return resample_poly(x, k, 1, padtype="line"), sps * k, centre * k


def eye_density(
    wf: Waveform,
    timing: SymbolTiming | None = None,
    *,
    n_ui: int = 2,
    n_amplitude_bins: int = 256,
) -> EyeDensity:
    """Fold a waveform into a density (persistence) eye ``n_ui`` unit intervals wide.

    The waveform is linearly interpolated at ``POINTS_PER_UI`` = 64 phases per UI of every
    symbol and the points are counted on a (amplitude, time) grid.  A waveform with fewer
    than 64 samples per UI is first upsampled by a polyphase windowed-sinc filter
    (:func:`scipy.signal.resample_poly`), for display only: the metrics use the samples.

    Parameters
    ----------
    wf : Waveform
        Waveform with ``symbol_rate_baud``.
    timing : SymbolTiming, optional
        Recovered here when omitted.
    n_ui : int, optional
        Width of the eye in UI, 1..4 (default 2).
    n_amplitude_bins : int, optional
        Number of amplitude bins, 16..4096 (default 256).

    Returns
    -------
    EyeDensity

    Raises
    ------
    InvalidParameter
        ``n_ui`` or ``n_amplitude_bins`` out of range.
    InvalidWaveform, NoEyeFound
        From :func:`optics.timing.recover_timing`.
    """
    n_ui = validate.integer("n_ui", n_ui, 1, 4)
    n_amp = validate.integer("n_amplitude_bins", n_amplitude_bins, 16, 4096)
    if timing is None:
        timing = recover_timing(wf)
    x, sps, centre = _display_samples(wf.samples, timing.samples_per_symbol, timing.centre_index)
    pts = POINTS_PER_UI
    # point m of UI-slot i lies at (i + m/P) UI after the crossing before symbol 0's centre
    offsets = (np.arange(pts) / pts - 0.5) * sps
    idx = centre + sps * np.arange(timing.n_symbols)[:, None] + offsets[None, :]
    idx = np.clip(idx.ravel(), 0.0, x.size - 1)
    i0 = np.minimum(idx.astype(np.int64), x.size - 2)
    y = x[i0] + (idx - i0) * (x[i0 + 1] - x[i0])
    tcol = np.tile(np.arange(pts), timing.n_symbols) + pts * (
        np.repeat(np.arange(timing.n_symbols), pts) % n_ui
    )
    lo, hi = float(x.min()), float(x.max())
    pad = 0.05 * (hi - lo) if hi > lo else 1e-12 + abs(lo) * 0.05
    edges = np.linspace(lo - pad, hi + pad, n_amp + 1)
    arow = np.clip(((y - edges[0]) / (edges[-1] - edges[0]) * n_amp).astype(np.int64), 0, n_amp - 1)
    n_t = pts * n_ui
    counts = np.bincount(arow * n_t + tcol, minlength=n_amp * n_t).reshape(n_amp, n_t)
    return EyeDensity(
        counts=counts,
        time_edges_ui=np.linspace(0.0, float(n_ui), n_t + 1),
        amplitude_edges=edges,
        unit=wf.unit,
    )


@dataclasses.dataclass(frozen=True, eq=False)
class EyeResult:
    """Eye heights and widths of the three PAM4 eyes at one probability.

    Attributes
    ----------
    heights : numpy.ndarray
        Shape (3,): eye heights (lower, middle, upper eye) in the waveform's unit; negative
        when closed at ``probability``.
    widths_ui : numpy.ndarray
        Shape (3,): eye widths in UI (0 .. 1).
    centre_phases_ui : numpy.ndarray
        Shape (3,): middle of each eye's open phase interval, UI from the crossing (nan-free:
        0.5 for a closed eye).
    probability : float
        Tail probability per level at which heights and widths are taken.
    method : str
        ``"empirical"`` (quantiles of the samples) or ``"gaussian"`` (extrapolated).
    levels : numpy.ndarray
        Shape (4,): level means at the eye centre.
    thresholds : numpy.ndarray
        Shape (3,): mid-level thresholds.
    density : EyeDensity
        The folded 2-UI density eye, for :meth:`plot`.
    unit : str
        SI unit of heights and levels.
    """

    heights: np.ndarray
    widths_ui: np.ndarray
    centre_phases_ui: np.ndarray
    probability: float
    method: str
    levels: np.ndarray
    thresholds: np.ndarray
    density: EyeDensity
    unit: str

    def __post_init__(self) -> None:
        for name in ("heights", "widths_ui", "centre_phases_ui", "levels", "thresholds"):
            object.__setattr__(self, name, _readonly(getattr(self, name)))

    def to_dict(self) -> dict[str, object]:
        """Plain-Python view (metric names of API.md: ``eye_heights``, ``eye_widths_ui``)."""
        return {
            "eye_heights": self.heights.tolist(),
            "eye_widths_ui": self.widths_ui.tolist(),
            "eye_probability": self.probability,
            "eye_method": self.method,
        }

    def plot(self, ax: Any = None) -> Any:
        """Draw the density eye with level and threshold lines and the eye heights."""
        ax = self.density.plot(ax)
        scale, _ = _DISPLAY.get(self.unit, (1.0, self.unit))
        _decorate(ax, self.levels, self.thresholds, None, self.density.time_edges_ui[-1], scale)
        for k in range(3):
            if self.heights[k] > 0:
                mid = self.thresholds[k]
                t = self.centre_phases_ui[k]
                ax.annotate(
                    "",
                    xy=(t, (mid + self.heights[k] / 2) * scale),
                    xytext=(t, (mid - self.heights[k] / 2) * scale),
                    arrowprops={"arrowstyle": "<->", "color": "white", "lw": 1.0},
                )
        ax.set_title(
            "eye heights "
            + ", ".join(f"{h * scale:.3g}" for h in self.heights)
            + f" {_DISPLAY.get(self.unit, (1, self.unit))[1]} at p = {self.probability:g}"
        )
        return ax


def _decorate(ax: Any, levels: Any, thresholds: Any, windows_ui: Any, n_ui: float, scale: float) -> None:
    if levels is not None:
        for v in np.asarray(levels, dtype=float):
            ax.axhline(v * scale, color="tab:orange", lw=0.8, ls="--")
    if thresholds is not None:
        for v in np.asarray(thresholds, dtype=float):
            ax.axhline(v * scale, color="tab:red", lw=0.8)
    if windows_ui:
        for centre, width in windows_ui:
            for k in range(int(round(n_ui))):
                ax.axvspan(centre + k - width / 2, centre + k + width / 2, facecolor="none",
                           edgecolor="red", lw=1.0, ls="--")


def _symbol_groups(wf: Waveform, timing: SymbolTiming, levels: np.ndarray | None) -> np.ndarray:
    """Symbols sent (known pattern) or decided at the eye centre (no pattern)."""
    sent = symbols_of(wf, timing)
    if sent is not None:
        return sent
    centre = sample_symbols(wf, timing)
    if levels is None:
        levels, _, _ = cluster_levels(centre)
    thr = 0.5 * (np.asarray(levels)[1:] + np.asarray(levels)[:-1])
    return np.searchsorted(thr, centre).astype(np.uint8)


def _edges(
    values: np.ndarray, groups: list[np.ndarray], p: float, gaussian: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Bottom (p quantile) and top (1 - p quantile) of each level at one phase."""
    bottom = np.empty(4)
    top = np.empty(4)
    z = -ndtri(p)
    for j, g in enumerate(groups):
        v = values[g]
        if gaussian:
            mu, sd = v.mean(), v.std()
            bottom[j], top[j] = mu - z * sd, mu + z * sd
        else:
            bottom[j], top[j] = np.quantile(v, [p, 1.0 - p])
    return bottom, top


def _open_interval(phases: np.ndarray, h: np.ndarray, i_centre: int) -> tuple[float, float]:
    """Width and midpoint of the interval around ``i_centre`` where ``h > 0``."""
    if h[i_centre] <= 0:
        return 0.0, float(phases[i_centre])
    lo = i_centre
    while lo > 0 and h[lo - 1] > 0:
        lo -= 1
    hi = i_centre
    while hi < h.size - 1 and h[hi + 1] > 0:
        hi += 1
    left = phases[lo]
    if lo > 0:  # zero crossing between lo-1 (closed) and lo (open)
        left = phases[lo - 1] + (phases[lo] - phases[lo - 1]) * (-h[lo - 1]) / (h[lo] - h[lo - 1])
    right = phases[hi]
    if hi < h.size - 1:
        right = phases[hi] + (phases[hi + 1] - phases[hi]) * h[hi] / (h[hi] - h[hi + 1])
    return float(right - left), float(0.5 * (left + right))


def measure_eye(
    wf: Waveform,
    timing: SymbolTiming | None = None,
    *,
    probability: float = 1e-3,
    levels: Pam4Levels | None = None,
    n_phases: int = 33,
) -> EyeResult:
    """Measure the heights and widths of the three PAM4 eyes at a tail probability.

    Parameters
    ----------
    wf : Waveform
        PAM4 waveform with ``symbol_rate_baud`` (``pattern`` optional).
    timing : SymbolTiming, optional
        Recovered here when omitted.
    probability : float, optional
        Per-level tail probability ``p`` in (0, 0.25) (default 1e-3).  Deep values are
        reached by Gaussian extrapolation (see the module notes).
    levels : Pam4Levels, optional
        Used for the thresholds and to decide symbols when no pattern is known.
    n_phases : int, optional
        Sampling phases across the UI for the widths, odd, 9..257 (default 33, i.e. a
        1/32 UI grid, interpolated at the edges).

    Returns
    -------
    EyeResult

    Raises
    ------
    InvalidParameter
        ``probability`` or ``n_phases`` out of range.
    InvalidWaveform, NoEyeFound
        From timing recovery.

    Examples
    --------
    >>> import numpy as np
    >>> from optics import Waveform
    >>> rng = np.random.default_rng(0)
    >>> lv = np.array([0.2e-3, 0.6e-3, 1.0e-3, 1.4e-3])
    >>> wf = Waveform(samples=np.repeat(lv[rng.integers(0, 4, 2000)], 16), sample_rate_hz=16e9,
    ...               symbol_rate_baud=1e9)
    >>> eye = measure_eye(wf)       # ideal steps: open wherever the nearest sample is inside
    >>> np.round(eye.heights * 1e3, 3).tolist(), eye.widths_ui.round(2).tolist()
    ([0.4, 0.4, 0.4], [0.97, 0.97, 0.97])
    """
    p = validate.in_range("probability", probability, 0.0, 0.25, low_inclusive=False,
                          high_inclusive=False)
    n_phases = validate.integer("n_phases", n_phases, 9, 257)
    if n_phases % 2 == 0:
        from optics.errors import InvalidParameter

        raise InvalidParameter(f"n_phases must be odd (to include the centre), got {n_phases}")
    if timing is None:
        timing = recover_timing(wf)
    lv_arr = None if levels is None else np.asarray(levels.levels)
    sym = _symbol_groups(wf, timing, lv_arr)
    groups = [np.flatnonzero(sym == j) for j in range(4)]
    counts = np.array([g.size for g in groups])
    if np.any(counts < 2):
        from optics.errors import NoEyeFound

        raise NoEyeFound(f"each PAM4 level needs at least 2 symbols, got {counts.tolist()}")
    gaussian = bool(p * counts.min() < 10)
    phases = np.linspace(-0.5, 0.5, n_phases)
    i_c = n_phases // 2
    heights = np.empty((n_phases, 3))
    for i, ph in enumerate(phases):
        v = sample_symbols(wf, timing, float(ph))
        bottom, top = _edges(v, groups, p, gaussian)
        heights[i] = bottom[1:] - top[:-1]
        if i == i_c:
            centre_values = v
    widths = np.empty(3)
    mids = np.empty(3)
    for k in range(3):
        widths[k], mid = _open_interval(phases, heights[:, k], i_c)
        mids[k] = mid + 0.5
    lv_centre = np.array([centre_values[g].mean() for g in groups])
    thr = 0.5 * (lv_centre[1:] + lv_centre[:-1]) if levels is None else levels.thresholds
    return EyeResult(
        heights=heights[i_c],
        widths_ui=widths,
        centre_phases_ui=mids,
        probability=p,
        method="gaussian" if gaussian else "empirical",
        levels=lv_centre,
        thresholds=thr,
        density=eye_density(wf, timing),
        unit=wf.unit,
    )


def plot_eye(
    wf: Waveform,
    *,
    ax: Any = None,
    timing: SymbolTiming | None = None,
    levels: Pam4Levels | np.ndarray | None = None,
    thresholds: Any = None,
    windows_ui: Any = None,
    n_ui: int = 2,
) -> Any:
    """Draw a density (persistence) eye of any waveform, with optional overlays.

    Parameters
    ----------
    wf : Waveform
        Waveform with ``symbol_rate_baud``.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.
    timing : SymbolTiming, optional
        Recovered when omitted.
    levels : Pam4Levels or array of 4, optional
        Level lines (dashed).
    thresholds : array of 3, optional
        Decision threshold lines.
    windows_ui : list of (centre_ui, width_ui), optional
        Histogram windows (e.g. TDECQ's 0.45 and 0.55 UI, 0.04 UI wide), UI from the
        crossing; drawn in every UI of the plot.
    n_ui : int, optional
        Width of the plot in UI (default 2).

    Returns
    -------
    matplotlib.axes.Axes
    """
    density = eye_density(wf, timing, n_ui=n_ui)
    ax = density.plot(ax)
    scale, _ = _DISPLAY.get(wf.unit, (1.0, wf.unit))
    if isinstance(levels, Pam4Levels):
        levels = levels.levels
    _decorate(ax, levels, thresholds, windows_ui, float(n_ui), scale)
    return ax


__all__ = ["POINTS_PER_UI", "EyeDensity", "EyeResult", "eye_density", "measure_eye", "plot_eye"]
