"""Transmitter transition time of a PAM4 waveform: 20 %–80 % of its long 0 ↔ 3 edges.

The IEEE 802.3 PAM4 optical clauses (802.3cd onwards; the 800GBASE-DR8 and 400GBASE-DR4
tables of ``optics/phy/data`` carry the row, 17 ps max at 53.125 GBd) limit the
*transmitter transition time*.  The measurement as Keysight FlexDCA implements it ("IEEE
802.3cd PAM Transition Time", FlexDCA user guide, Eye/Mask mode, PAM measurements):

1. the waveform is observed through the reference receiver (the 4th-order Bessel-Thomson
   filter of TDECQ, :func:`optics.reference_receiver.bessel_thomson`);
2. the edges used are the rising edges from a run of at least 5 symbols 0 into a run of at
   least 6 symbols 3, and the falling edges from at least 5 threes into at least 6 zeros
   (``min_leading`` / ``min_lagging``: shorter runs leave the edge mid-transition);
3. the time from 20 % to 80 % of the way from the average level 0 to the average level 3 is
   measured, with those levels found as for OMA_outer (the long-run levels ``P0`` and ``P3``
   of :func:`optics.levels.measure_levels`);
4. the transition time is that of the slower of the (averaged) rising and falling edges.

Here every qualifying edge of the record (all pattern repetitions) is taken at the same
position relative to its symbol boundary, interpolated linearly between samples, and the
edges are averaged (as a pattern-locked scope averages them), which removes the noise but
keeps the edge shape.  The 20 % and 80 % times are the crossings nearest the 50 % crossing,
interpolated linearly between points spaced ``1/POINTS_PER_UI`` UI apart.  The exact run
lengths and the clause text are UNVERIFIED (the standard was not read); they follow the
FlexDCA defaults above and are parameters.

SSPRQ has two rising and two falling edges of that kind per period; PRBS13Q has none
(its longest runs are 7 symbols, never 5 zeros straight into 6 threes): without edges the
result says so instead of giving a number.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

from optics import validate
from optics.errors import InvalidWaveform
from optics.levels import Pam4Levels, measure_levels
from optics.timing import SymbolTiming, recover_timing, symbols_of

if TYPE_CHECKING:
    from optics.waveform import Waveform

#: Points per UI at which the averaged edge is evaluated.
POINTS_PER_UI = 64

#: Fractions of the way from level 0 to level 3 between which the transition is timed.
LOW_FRACTION, HIGH_FRACTION = 0.2, 0.8


@dataclasses.dataclass(frozen=True)
class TransitionTime:
    """Transition times of a waveform's long 0 → 3 and 3 → 0 edges.

    Attributes
    ----------
    transition_time_s : float or None
        The slower of ``rise_time_s`` and ``fall_time_s``; None without edges of one kind.
    rise_time_s, fall_time_s : float or None
        20 %–80 % time of the averaged rising / falling edge; None when the record has no
        such edge.
    n_rising, n_falling : int
        Edges averaged.
    p0, p3 : float
        The levels the fractions refer to (unit of the waveform).
    note : str
        Why a time is missing, else ''.
    """

    transition_time_s: float | None
    rise_time_s: float | None
    fall_time_s: float | None
    n_rising: int
    n_falling: int
    p0: float
    p3: float
    note: str = ""

    def to_dict(self) -> dict[str, object]:
        """Plain-Python view for JSON."""
        return dataclasses.asdict(self)


def _runs(sent: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Symbol, start index and length of each run of equal symbols."""
    change = np.flatnonzero(np.diff(sent)) + 1
    starts = np.concatenate(([0], change))
    lengths = np.diff(np.concatenate((starts, [sent.size])))
    return sent[starts], starts, lengths


def _edge_boundaries(sent: np.ndarray, first: int, second: int, min_leading: int, min_lagging: int) -> np.ndarray:
    """Symbol indices where a run of >= ``min_leading`` ``first`` meets >= ``min_lagging`` ``second``."""
    sym, starts, lengths = _runs(sent)
    ok = (sym[:-1] == first) & (lengths[:-1] >= min_leading) & (sym[1:] == second) & (lengths[1:] >= min_lagging)
    return starts[1:][ok]


def _averaged_edge(x: np.ndarray, timing: SymbolTiming, boundaries: np.ndarray,
                   offsets_ui: np.ndarray) -> np.ndarray:
    """Mean over the edges of the waveform at ``boundary + offsets`` (linear interpolation)."""
    sps = timing.samples_per_symbol
    # the boundary between symbols b-1 and b lies half a UI before the centre of symbol b
    t0 = timing.centre_index + (boundaries - 0.5) * sps
    pos = t0[:, None] + offsets_ui[None, :] * sps
    i0 = np.floor(pos).astype(np.int64)
    frac = pos - i0
    return np.mean(x[i0] + frac * (x[i0 + 1] - x[i0]), axis=0)


def _crossing(y: np.ndarray, t: np.ndarray, level: float, first: int, step: int) -> float | None:
    """Time at which ``y`` crosses ``level``, in the first segment ``[i, i+1]`` met walking from
    segment ``first`` by ``step`` (±1); linear between the points."""
    i = first
    while 0 <= i < y.size - 1:
        a, b = y[i], y[i + 1]
        if (a - level) * (b - level) <= 0 and a != b:
            return float(t[i] + (level - a) / (b - a) * (t[i + 1] - t[i]))
        i += step
    return None


def _edge_time(edge: np.ndarray, t_ui: np.ndarray, rising: bool) -> float | None:
    """20 %–80 % time (UI) of a normalised edge (0 at level 0, 1 at level 3)."""
    y = edge if rising else 1.0 - edge  # a falling edge timed as the rise of its mirror
    # the segment crossing 50 % nearest the boundary (t = 0)
    cands = np.flatnonzero((y[:-1] - 0.5) * (y[1:] - 0.5) <= 0)
    if cands.size == 0:
        return None
    k = int(cands[np.argmin(np.abs(t_ui[cands]))])
    t_low = _crossing(y, t_ui, LOW_FRACTION, k, -1)
    t_high = _crossing(y, t_ui, HIGH_FRACTION, k, +1)
    if t_low is None or t_high is None:
        return None
    return t_high - t_low


def transition_time(
    wf: Waveform,
    timing: SymbolTiming | None = None,
    levels: Pam4Levels | None = None,
    *,
    reference_filter: bool = True,
    bandwidth_hz: float | None = None,
    min_leading: int = 5,
    min_lagging: int = 6,
) -> TransitionTime:
    """Transmitter transition time: 20 %–80 % of the slower averaged long 0 ↔ 3 edge.

    Parameters
    ----------
    wf : Waveform
        PAM4 waveform with ``symbol_rate_baud`` and its known ``pattern`` (simulated or
        captured; any quantity, in practice optical power).
    timing, levels : optional
        Of the waveform as observed (after the reference filter when it is applied);
        recovered / measured when omitted.  Given ones are used as they are.
    reference_filter : bool
        Observe through the 4th-order Bessel-Thomson reference receiver (default True).
    bandwidth_hz : float, optional
        Its -3 dB frequency (default half the symbol rate, as for TDECQ).
    min_leading, min_lagging : int
        Shortest runs before and after an edge that is used, symbols, 1..64 (default 5
        and 6).

    Returns
    -------
    TransitionTime

    Raises
    ------
    InvalidWaveform
        No known pattern (the edges are found in it), or what
        :func:`optics.timing.recover_timing` raises.
    InvalidParameter
        Run lengths outside 1..64, a non-positive bandwidth.

    Examples
    --------
    >>> import numpy as np
    >>> from optics import Waveform
    >>> from optics.patterns import pattern
    >>> sym = pattern("SSPRQ")
    >>> wf = Waveform(samples=np.repeat(np.array([0.2, 0.6, 1.0, 1.4])[sym] * 1e-3, 16),
    ...               sample_rate_hz=16e9, symbol_rate_baud=1e9, pattern=sym)
    >>> r = transition_time(wf, reference_filter=False)     # ideal steps: one sample period
    >>> r.n_rising, r.n_falling, round(r.transition_time_s * 1e12)
    (2, 2, 38)
    """
    from optics.reference_receiver import bessel_thomson

    lead = validate.integer("min_leading", min_leading, 1, 64)
    lag = validate.integer("min_lagging", min_lagging, 1, 64)
    if wf.pattern is None:
        raise InvalidWaveform("the transition time needs the known pattern (Waveform.pattern) to find its long edges")
    seen = bessel_thomson(wf, bandwidth_hz) if reference_filter else wf
    if timing is None:
        timing = recover_timing(seen)
    if levels is None:
        levels = measure_levels(seen, timing)
    sent = symbols_of(seen, timing)
    if sent is None:
        raise InvalidWaveform("the timing has no pattern offset: the edges cannot be found")
    p0, p3 = float(levels.p0), float(levels.p3)
    swing = p3 - p0
    if not swing > 0:
        raise InvalidWaveform(f"level 3 ({p3:.4g}) is not above level 0 ({p0:.4g}): no edges to time")
    ui_s = timing.samples_per_symbol / seen.sample_rate_hz
    # edges whose +-(lead, lag) UI window lies inside the record
    span = max(lead, lag) + 1
    t_ui = np.arange(-POINTS_PER_UI * min(lead, 3), POINTS_PER_UI * min(lag, 3) + 1) / POINTS_PER_UI
    times: dict[bool, float | None] = {}
    counts: dict[bool, int] = {}
    for rising, (a, b) in ((True, (0, 3)), (False, (3, 0))):
        bounds = _edge_boundaries(sent, a, b, lead, lag)
        bounds = bounds[(bounds >= span) & (bounds <= sent.size - span)]
        counts[rising] = int(bounds.size)
        if bounds.size == 0:
            times[rising] = None
            continue
        edge = (_averaged_edge(seen.samples, timing, bounds, t_ui) - p0) / swing
        t = _edge_time(edge, t_ui, rising)
        times[rising] = None if t is None else t * ui_s
    notes = []
    for rising, (name, a, b) in ((True, ("rising", 0, 3)), (False, ("falling", 3, 0))):
        if times[rising] is None:
            why = "its 20-80 % crossings not found" if counts[rising] else "none in the record"
            notes.append(f"no {name} edge ({lead}+ symbols {a} into {lag}+ symbols {b}): {why}")
    note = "; ".join(notes)
    rise, fall = times[True], times[False]
    slowest = None if rise is None or fall is None else max(rise, fall)
    return TransitionTime(transition_time_s=slowest, rise_time_s=rise, fall_time_s=fall,
                          n_rising=counts[True], n_falling=counts[False], p0=p0, p3=p3, note=note)


__all__ = ["HIGH_FRACTION", "LOW_FRACTION", "POINTS_PER_UI", "TransitionTime", "transition_time"]
