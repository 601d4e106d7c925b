"""The TDECQ measurement :func:`tdecq` (method: see :mod:`optics.tdecq`)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.optimize

from optics.equalizer import check_precursors, noise_autocorrelation
from optics.errors import InvalidType, InvalidWaveform, NoEyeFound
from optics.reference_receiver import bessel_thomson
from optics.tdecq.clock import _check_timing, _rephase, _timing_by_pattern
from optics.tdecq.result import TDECQResult, TDECQSettings
from optics.tdecq.search import NEIGHBOUR_MARGIN, _Engine
from optics.tdecq.ser import (
    DEFAULT_TARGET_SER,
    HISTOGRAM_BINS,
    _distances,
    _histogram,
    _solve_sigma,
    _window_ser,
    q_target,
)
from optics.tdecq.windows import MIN_RECORD_SAMPLES_PER_UI, _upsample, _WindowSamples
from optics.waveform import Waveform

#: Fewest whole symbols (after the FFE span is removed) TDECQ is computed from.
MIN_SYMBOLS = 500

#: Eye-centre walk: False (default) optimises the taps at each window position at most once
#: per measurement; True optimises a position again whenever the walk comes back to it (the
#: slower search of earlier versions, kept as the reference the tests compare against: the
#: same TDECQ within 0.005 dB on population lanes).
REOPTIMISE_VISITED = False


def _nominal_levels(p_ave: float, oma: float) -> np.ndarray:
    return p_ave + oma * (np.arange(4) - 1.5) / 3.0


def tdecq(
    wf: Waveform,
    *,
    reference_filter: bool = True,
    bandwidth_hz: float | None = None,
    filter_order: int = 4,
    n_taps: int = 5,
    n_precursors: int | None = None,
    taps: Any = None,
    optimize_taps: bool = True,
    target_ser: float = DEFAULT_TARGET_SER,
    sigma_scope: float = 0.0,
    window_width_ui: float = 0.04,
    window_spacing_ui: float = 0.10,
    optimize_eye_centre: bool = True,
    eye_centre_range_ui: float = 0.10,
    optimize_thresholds: bool = False,
    threshold_range_oma: float = 0.05,
    timing: Any = None,
) -> TDECQResult:
    """Measure TDECQ of a PAM4 waveform (IEEE 802.3 clause 121.8.5).

    ``TDECQ = 10 log10( OMA_outer / (6 Q_t sqrt(sigma_G^2 + sigma_S^2)) )`` dB; see the
    module documentation for every step and which of them are reconstructions.

    Parameters
    ----------
    wf : Waveform
        PAM4 waveform with ``symbol_rate_baud``; ``pattern`` (e.g. SSPRQ) recommended so
        OMA_outer comes from long runs.  At least 500 symbols.  The histograms hold its
        recorded samples (module notes, step 4): at >= 25 samples/UI those inside each
        0.04 UI window; with fewer, the two samples around each window centre, which widens
        the window to about one sample spacing.
    reference_filter : bool, optional
        Apply the Bessel-Thomson reference receiver (default True).  False for a waveform
        already captured through it (``bandwidth_hz`` is still used for C_eq).
    bandwidth_hz : float, optional
        Reference-receiver -3 dB bandwidth in Hz (default baud/2, 26.5625 GHz at 53.125 GBd).
    filter_order : int, optional
        Bessel-Thomson order (default 4).
    n_taps : int, optional
        Reference FFE taps, 1..41 (default 5; 1 = no equalizer).  Taps always sum to 1.
    n_precursors : int, optional
        Index of the main cursor (default ``(n_taps - 1)//2``, i.e. 2 for 5 taps;
        UNVERIFIED against the standard, see :func:`optics.equalizer.default_precursors`).
    taps : sequence of float, optional
        Reference FFE taps (``n_taps`` values summing to 1): the starting point of the
        search, or, with ``optimize_taps=False``, the taps used as given (e.g. to reproduce
        an instrument's equalizer).  Default: constrained least-squares (MMSE) taps.
    optimize_taps : bool, optional
        Minimise TDECQ over the taps (default True); False keeps the starting taps.
    target_ser : float, optional
        Target SER in (0, 0.75) (default 4.8e-4); ``Q_t = Q^-1(target_ser/1.5)``.
    sigma_scope : float, optional
        Scope (O/E + oscilloscope) noise RMS sigma_S credited, unit of ``wf``, >= 0.
    window_width_ui, window_spacing_ui : float, optional
        Histogram window width (0.04 UI) and centre spacing (0.10 UI: windows at 0.45 and
        0.55 UI from the crossing).  The spacing is rounded to a multiple of width/4; the
        result reports the centres used.
    optimize_eye_centre : bool, optional
        Move both windows together by up to ``eye_centre_range_ui`` (default 0.1 UI,
        UNVERIFIED range) in steps of ``window_width_ui/4`` to minimise TDECQ.
    optimize_thresholds : bool, optional
        Move each threshold by up to ``threshold_range_oma * OMA_outer`` (default 0.05,
        UNVERIFIED range) to minimise TDECQ (default False: fixed IEEE thresholds).
    timing : optics.timing.SymbolTiming, optional
        The symbol timing :func:`optics.timing.recover_timing` returned for ``wf`` itself,
        when the caller already has it (saves most of a second timing recovery).  Its rate
        and pattern alignment are reused; with ``reference_filter`` the clock phase is
        re-measured on the filtered waveform (one pass of the baud-line estimate of
        :mod:`optics.timing`; the filter moves the eye centre by a fraction of a sample,
        e.g. 0.24 samples at 32 samples/UI), so the result equals that without
        ``timing``.  Default: recovered here.

    Returns
    -------
    TDECQResult

    Raises
    ------
    InvalidWaveform
        No symbol rate, too few symbols, zero or negative OMA_outer.
    NoEyeFound
        No PAM4 eye at the symbol rate (:func:`optics.timing.recover_timing`).  With a
        known ``pattern``, an eye closed only before equalization is still measured: the
        symbol clock then comes from the spectral line and the pattern alignment.
    InvalidParameter, InvalidType
        A setting out of range (message names it), an unknown keyword (TypeError); a
        ``timing`` that is not a ``SymbolTiming`` of ``wf`` (rate off by more than 200 ppm,
        centre outside ``[0, sps)``, symbol count or pattern alignment not of this record).

    Examples
    --------
    >>> import numpy as np
    >>> from optics import Waveform
    >>> rng = np.random.default_rng(5)
    >>> sym = rng.integers(0, 4, 4000)
    >>> levels = np.array([0.2e-3, 0.6e-3, 1.0e-3, 1.4e-3])
    >>> wf = Waveform(samples=np.repeat(levels[sym], 16), sample_rate_hz=16 * 53.125e9,
    ...               symbol_rate_baud=53.125e9, pattern=sym)
    >>> res = tdecq(wf)
    >>> 0.0 < res.tdecq_db < 1.0, round(sum(res.taps), 12)
    (True, 1.0)
    """
    from optics.levels import measure_levels
    from optics.timing import recover_timing, symbols_of

    if not isinstance(wf, Waveform):
        raise InvalidType(f"wf must be an optics.Waveform, got {type(wf).__name__}")
    st = TDECQSettings(
        reference_filter=reference_filter, bandwidth_hz=bandwidth_hz, filter_order=filter_order,
        n_taps=n_taps, n_precursors=n_precursors, taps=taps, optimize_taps=optimize_taps,
        target_ser=target_ser, sigma_scope=sigma_scope, window_width_ui=window_width_ui,
        window_spacing_ui=window_spacing_ui, optimize_eye_centre=optimize_eye_centre,
        eye_centre_range_ui=eye_centre_range_ui, optimize_thresholds=optimize_thresholds,
        threshold_range_oma=threshold_range_oma,
    )
    baud = wf.require_symbol_rate()
    bw = 0.5 * baud if st.bandwidth_hz is None else float(st.bandwidth_hz)
    n_sym_total = wf.n_symbols
    if n_sym_total < MIN_SYMBOLS + st.n_taps:
        raise InvalidWaveform(
            f"the record holds {n_sym_total:.0f} symbols; TDECQ needs at least "
            f"{MIN_SYMBOLS + st.n_taps} (with a {st.n_taps}-tap equalizer)"
        )
    main = check_precursors(st.n_precursors, st.n_taps)
    q_t = q_target(st.target_ser)

    given = None if timing is None else _check_timing(wf, timing)
    filt = bessel_thomson(wf, bw, st.filter_order) if st.reference_filter else wf
    try:
        timing = (recover_timing(filt) if given is None
                  else _rephase(filt, given) if st.reference_filter else given)
    except NoEyeFound:
        # the unequalized eye may be closed by ISI that the reference FFE removes; with a
        # known pattern, time and align on the pattern instead
        if filt.pattern is None:
            raise
        timing = _timing_by_pattern(filt)
    lv = measure_levels(filt, timing)
    oma = float(lv.oma_outer)
    p_ave = float(lv.average)
    if not oma > 0.0:
        raise InvalidWaveform(f"OMA_outer = {oma:.4g} {wf.unit}: must be > 0 for TDECQ")
    thresholds = p_ave + oma * np.array([-1.0, 0.0, 1.0]) / 3.0

    # the recorded samples near both windows at every eye-centre shift
    step = 0.25 * st.window_width_ui
    n_shift = int(round(st.eye_centre_range_ui / step)) if st.optimize_eye_centre else 0
    left_c = int(round(-0.5 * st.window_spacing_ui / step))
    right_c = int(round(0.5 * st.window_spacing_ui / step))
    half = 0.5 * st.window_width_ui
    x = filt.samples
    sps = timing.samples_per_symbol
    centre = timing.centre_index
    if sps < MIN_RECORD_SAMPLES_PER_UI:
        factor = int(math.ceil(MIN_RECORD_SAMPLES_PER_UI / sps))
        x = _upsample(x, factor)
        sps *= factor
        centre *= factor
    samples = _WindowSamples(
        x, sps, centre, timing.n_symbols,
        0.5 + (left_c - n_shift) * step - half, 0.5 + (right_c + n_shift) * step + half,
        st.n_taps, main)
    if samples.rows < MIN_SYMBOLS:
        raise InvalidWaveform(
            f"only {samples.rows} whole symbols usable after timing recovery; "
            f"TDECQ needs at least {MIN_SYMBOLS}"
        )
    r = noise_autocorrelation(st.n_taps, symbol_rate_baud=baud, bandwidth_hz=bw,
                              order=st.filter_order)
    eng = _Engine(samples, st.n_taps, main, r, thresholds, st.target_ser, left_c, right_c,
                  n_shift, step, st.window_width_ui)

    nominal = _nominal_levels(p_ave, oma)
    sent = symbols_of(filt, timing)
    row_symbols = None
    if sent is not None:  # known pattern: the symbol sent in each row
        row_symbols = sent[samples.first_symbol: samples.first_symbol + eng.rows]

    def search_shift(cost_at: Any, start: int, coarse: bool) -> int:
        """Shift (steps) of least ``cost_at(shift)``: coarse scan, then a local walk.

        Shifts whose windows hold the same samples (:meth:`_Engine.key`) share one cost;
        the walk steps to the nearest shift with other samples, so it crosses the plateaus
        a sparse record makes.
        """
        cache: dict[Any, float] = {}

        def cost(sh: int) -> float:
            k = eng.key(sh)
            if k not in cache:
                cache[k] = cost_at(sh)
            return cache[k]

        h = start
        if coarse:
            cand = sorted({0, *range(0, n_shift + 1, 4), *range(0, -n_shift - 1, -4)}, key=abs)
            h = min(cand, key=cost)  # min() keeps the first (smallest |shift|) of equal costs
        while True:
            nbrs = [v for v in (eng.next_distinct(h, -1), eng.next_distinct(h, 1))
                    if v is not None]
            nxt = min(nbrs, key=cost, default=h)
            if cost(nxt) < cost(h) - 1e-9:
                h = nxt
            else:
                return h

    def optimise_taps(c: np.ndarray, shift: int) -> np.ndarray:
        if st.n_taps == 1 or not st.optimize_taps:
            return c
        return eng.taps_from_free(eng.minimise(np.delete(c, main), eng.basis(shift)))

    if st.taps is not None or st.n_taps == 1:
        # fixed starting taps: best shift for them, then (optionally) optimise the taps
        taps = np.array(st.taps) if st.taps is not None else np.ones(1)
        fixed = taps.copy()
        shift = search_shift(lambda sh: eng.cost(fixed, sh), 0, True) if n_shift else 0
        taps = optimise_taps(taps, shift)
    else:
        # the windows' best position and the taps are coupled: search the shift with
        # least-squares taps re-fitted at every candidate, optimise the taps there, then
        # try the neighbouring shifts carrying over the optimiser's correction to LS
        def ls_cost(sh: int) -> float:
            return eng.cost(eng.ls_taps(sh, nominal, row_symbols), sh)

        shift = search_shift(ls_cost, 0, True) if n_shift else 0
        taps = optimise_taps(eng.ls_taps(shift, nominal, row_symbols), shift)
        if st.optimize_taps and n_shift:
            current = eng.last_cost     # the cost where the search stopped
            # positions whose taps were optimised already: the search left them for a lower
            # cost, so optimising them again (from another start) would not win
            optimised = {eng.key(shift)}
            for _ in range(4):
                delta = taps - eng.ls_taps(shift, nominal, row_symbols)  # sums to 0
                best = None
                for nb in (eng.next_distinct(shift, -1), eng.next_distinct(shift, 1)):
                    if nb is None or (eng.key(nb) in optimised and not REOPTIMISE_VISITED):
                        continue
                    trial = eng.ls_taps(nb, nominal, row_symbols) + delta
                    # the cost is bumpy in the shift: optimise wherever the carried-over taps
                    # come close, not only where they already win
                    if not eng.cost(trial, nb) < current + NEIGHBOUR_MARGIN:
                        continue
                    cand = optimise_taps(trial, nb)
                    optimised.add(eng.key(nb))
                    cand_cost = eng.last_cost
                    if cand_cost < current - 1e-6 and (best is None or cand_cost < best[0]):
                        best = (cand_cost, nb, cand)
                if best is None:
                    break
                current, shift, taps = best

    (y_l, w_l), (y_r, w_r) = eng.equalized_windows(taps, shift, {})

    # optional threshold adjustment
    if st.optimize_thresholds and st.threshold_range_oma > 0:
        lim = st.threshold_range_oma * oma
        hist_l = _histogram(y_l, HISTOGRAM_BINS, w_l)[:2]
        hist_r = _histogram(y_r, HISTOGRAM_BINS, w_r)[:2]

        def th_cost(off: np.ndarray) -> float:
            th = thresholds + off
            s = min(_solve_sigma(*_distances(*hist_l, th)[:2], st.target_ser),
                    _solve_sigma(*_distances(*hist_r, th)[:2], st.target_ser))
            return -math.log(s) if s > 0 else 1e3

        res = scipy.optimize.minimize(
            th_cost, np.zeros(3), method="Nelder-Mead", bounds=[(-lim, lim)] * 3,
            options={"xatol": 1e-4 * oma, "fatol": 1e-7,
                     "initial_simplex": np.vstack([np.zeros(3), 0.2 * lim * np.eye(3)])},
        )
        if res.fun < th_cost(np.zeros(3)):
            thresholds = thresholds + res.x
            eng.thresholds = thresholds

    s_eff = min(eng.sigma(y_l, w_l), eng.sigma(y_r, w_r))
    ceq = eng.ceq(taps)
    closed = not s_eff > 0.0
    if closed:
        sigma_g = 0.0
        tdecq_db = math.inf
        s_eval = 1e-12 * oma
    else:
        sigma_g = s_eff / ceq
        noise = math.sqrt(sigma_g**2 + st.sigma_scope**2)
        tdecq_db = 10.0 * math.log10(oma / (6.0 * q_t * noise))
        s_eval = s_eff
    ser_l = _window_ser(y_l, w_l, thresholds, s_eval)
    ser_r = _window_ser(y_r, w_r, thresholds, s_eval)
    both = np.concatenate((y_l, y_r))
    both_w = np.concatenate([np.ones(y.size) if w is None else w
                             for y, w in ((y_l, w_l), (y_r, w_r))])
    region = np.searchsorted(np.sort(thresholds), both)
    counts = np.bincount(region, weights=both_w, minlength=4)
    nominal = _nominal_levels(p_ave, oma)
    eq_levels = np.where(counts > 0, np.bincount(region, weights=both * both_w, minlength=4)
                         / np.where(counts > 0, counts, 1.0), nominal)
    centres = (
        float(0.5 + (left_c + shift) * step),
        float(0.5 + (right_c + shift) * step),
    )
    return TDECQResult(
        tdecq_db=float(tdecq_db),
        ceq=float(ceq),
        ceq_db=float(10.0 * math.log10(ceq)),
        taps=tuple(float(v) for v in taps),
        n_precursors=main,
        sigma_g=float(sigma_g),
        sigma_scope=float(st.sigma_scope),
        thresholds=tuple(float(v) for v in np.sort(thresholds)),
        levels=tuple(float(v) for v in eq_levels),
        window_centres_ui=centres,
        window_width_ui=float(st.window_width_ui),
        oma_outer=oma,
        average_power=p_ave,
        q_t=q_t,
        target_ser=float(st.target_ser),
        ser_left=float(ser_l),
        ser_right=float(ser_r),
        eye_closed=closed,
        bandwidth_hz=bw,
        reference_filter=st.reference_filter,
        unit=wf.unit,
        waveform=filt,
        timing=timing,
    )
