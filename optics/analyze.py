"""One call for the whole PAM4 transmitter analysis of a waveform.

:func:`analyze` runs, on one :class:`~optics.Waveform` from a model, a file or a scope:

1. symbol timing and pattern alignment (:mod:`optics.timing`), recovered once and handed
   to every step below (TDECQ and the transition time re-phase it on the filtered
   waveform, :func:`optics.timing.rephase_timing`);
2. levels, OMA_outer, ER, average power and RLM (:mod:`optics.levels`);
3. eye heights and widths (:mod:`optics.eye`);
4. TDECQ and C_eq (:func:`optics.tdecq.tdecq`, optical-power waveforms only) and, when a
   back-to-back record of the same transmitter is given (``tecq_waveform``), its TECQ
   (:func:`optics.tdecq.variants.tecq`, the same method) so that the PHY's ``tecq_db`` and
   ``|TDECQ - TECQ|`` (``tdecq_tecq_difference_db``) rows are judged;
5. the statistical BER (:func:`optics.ber.estimate_ber`) and, when the pattern is known,
   the counted BER with its confidence interval (:func:`optics.ber.count_errors`);
6. optionally a PHY verdict (:func:`optics.verdict.evaluate`, transmitter rows).

Metric names follow the cross-team contract (unit in the suffix).  Only optical-power
waveforms get dBm values, ER and TDECQ; a voltage (current) waveform reports its levels,
OMA and average in V (A) under ``levels_v``, ``oma_outer_v``, ``average_v`` (``_a``).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from optics import validate
from optics.ber import CountedBer, StatisticalBer, count_errors, estimate_ber
from optics.errors import InvalidWaveform, value_text
from optics.eye import EyeResult, measure_eye
from optics.levels import Pam4Levels, measure_levels
from optics.timing import SymbolTiming, recover_timing, rephase_timing
from optics.waveform import Quantity, Waveform

_SUFFIX = {Quantity.OPTICAL_POWER: "w", Quantity.VOLTAGE: "v", Quantity.CURRENT: "a"}


def _dbm(p_w: float) -> float | None:
    return 10.0 * math.log10(p_w / 1e-3) if p_w > 0 else None


def _finite(x: float | None) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


@dataclasses.dataclass(frozen=True, eq=False)
class AnalysisResult:
    """Everything :func:`analyze` measured on one waveform.

    Attributes
    ----------
    waveform : Waveform
        The analysed waveform.
    timing : SymbolTiming
        Recovered symbol clock and pattern offset.
    levels : Pam4Levels
        Levels, outer levels, average.
    eye : EyeResult
        Eye heights and widths at ``eye.probability``.
    ber_estimate : StatisticalBer
        Statistical BER at the eye centre.
    ber_counted : CountedBer or None
        Counted BER when the pattern is known.
    tdecq : TDECQResult or None
        TDECQ result (optical-power waveforms with :mod:`optics.tdecq` available).
    tdecq_note : str
        Why ``tdecq`` is None (empty otherwise).
    verdict : Verdict or None
        PHY verdict when ``phy`` was given.
    tdecq_method : dict or None
        The PHY's transmitter-test method TDECQ was measured with (``phy`` given and its table
        has one: :meth:`optics.phy.method.TdecqMethod.to_dict`); None: the clause 121.8.5
        defaults of :func:`optics.tdecq.tdecq` (or the caller's ``tdecq_options``).
    transition : TransitionTime or None
        Transmitter transition time (:func:`optics.transition.transition_time`) of an
        optical-power waveform with a known pattern, through the same reference receiver
        as TDECQ; None otherwise (``transition.note`` says why a time is missing).
    tecq : TDECQResult or None
        TECQ of the back-to-back record (``tecq_waveform`` given and measurable).
    tecq_note : str
        Why ``tecq`` is None when a back-to-back record was given (empty otherwise).
    """

    waveform: Waveform = dataclasses.field(repr=False)
    timing: SymbolTiming
    levels: Pam4Levels
    eye: EyeResult
    ber_estimate: StatisticalBer
    ber_counted: CountedBer | None
    tdecq: Any
    tdecq_note: str
    verdict: Any
    transition: Any = None
    tdecq_method: Any = None
    tecq: Any = None
    tecq_note: str = ""

    @property
    def is_optical(self) -> bool:
        """True for an optical-power waveform (W)."""
        return self.waveform.quantity is Quantity.OPTICAL_POWER

    def metrics(self) -> dict[str, object]:
        """The metrics under their cross-team names (input of :func:`optics.verdict.evaluate`).

        Optical power: ``tdecq_db, ceq_db, oma_outer_dbm, oma_outer_w, extinction_ratio_db,
        average_power_dbm, average_power_w, rlm, levels_w, eye_heights, eye_widths_ui,
        ber_estimate`` and, with a known pattern, ``ber_counted, ser`` and (when the pattern
        has long 0 ↔ 3 edges) ``transition_time_s``; with a back-to-back record ``tecq_db``.
        A closed-eye TDECQ or TECQ (infinite) is given as None.  Voltage/current: ``oma_outer_v``, ``average_v``,
        ``levels_v`` (``_a``) instead of the W/dBm keys, no ER or TDECQ.
        """
        lv = self.levels
        out: dict[str, object] = {}
        if self.is_optical:
            if self.tdecq is not None:
                out["tdecq_db"] = _finite(self.tdecq.tdecq_db)
                out["ceq_db"] = _finite(self.tdecq.ceq_db)
            if self.tecq is not None:
                out["tecq_db"] = _finite(self.tecq.tdecq_db)
            out["oma_outer_dbm"] = _dbm(lv.oma_outer)
            out["oma_outer_w"] = lv.oma_outer
            out["extinction_ratio_db"] = lv.extinction_ratio_db if lv.p0 > 0 else None
            out["average_power_dbm"] = _dbm(lv.average)
            out["average_power_w"] = lv.average
            out["rlm"] = lv.rlm
            out["levels_w"] = [float(v) for v in lv.levels]
            if self.transition is not None and self.transition.transition_time_s is not None:
                out["transition_time_s"] = self.transition.transition_time_s
        else:
            sfx = _SUFFIX[self.waveform.quantity]
            out[f"oma_outer_{sfx}"] = lv.oma_outer
            out[f"average_{sfx}"] = lv.average
            out["rlm"] = lv.rlm
            out[f"levels_{sfx}"] = [float(v) for v in lv.levels]
        out["eye_heights"] = [float(v) for v in self.eye.heights]
        out["eye_widths_ui"] = [float(v) for v in self.eye.widths_ui]
        out["ber_estimate"] = self.ber_estimate.ber
        if self.ber_counted is not None:
            out["ber_counted"] = self.ber_counted.ber
            out["ser"] = self.ber_counted.ser
        return out

    def to_dict(self) -> dict[str, object]:
        """JSON-ready view: :meth:`metrics` plus context (rate, symbols, methods, verdict)."""
        out = self.metrics()
        wf = self.waveform
        out.update(
            {
                "quantity": wf.quantity.label,
                "unit": wf.unit,
                "symbol_rate_baud": wf.symbol_rate_baud,
                "sample_rate_hz": wf.sample_rate_hz,
                "n_symbols": self.timing.n_symbols,
                "pattern_offset": self.timing.pattern_offset,
                "levels_method": self.levels.method,
                "eye_probability": self.eye.probability,
                "ber_estimate_per_eye": [float(v) / 2 for v in self.ber_estimate.ser_per_eye],
            }
        )
        if self.ber_counted is not None:
            out["ber_counted_interval"] = list(self.ber_counted.ber_interval)
            out["bit_errors"] = self.ber_counted.bit_errors
            out["n_bits"] = self.ber_counted.n_bits
        if self.tdecq_note:
            out["tdecq_note"] = self.tdecq_note
        if self.tdecq is not None:
            out["tdecq_taps"] = [float(v) for v in self.tdecq.taps]
            out["tdecq_n_precursors"] = int(self.tdecq.n_precursors)
        if self.tdecq_method is not None:
            out["tdecq_method"] = self.tdecq_method
        if self.tecq is not None:
            out["tecq_taps"] = [float(v) for v in self.tecq.taps]
        if self.tecq_note:
            out["tecq_note"] = self.tecq_note
        if self.transition is not None:
            out["transition"] = self.transition.to_dict()
        if self.verdict is not None:
            out["verdict"] = self.verdict.to_dict()
        return out

    def to_text(self) -> str:
        """A readable table of the results (values in display units)."""
        m = self.metrics()
        wf = self.waveform
        rows: list[tuple[str, str, str]] = []

        def add(name: str, value: Any, unit: str = "", fmt: str = "{:.3f}") -> None:
            if value is None:
                rows.append((name, "n/a", unit))
            else:
                text = fmt.format(value)
                if text.startswith("-") and float(text) == 0.0:  # no "-0.00"
                    text = text[1:]
                rows.append((name, text, unit))

        if self.is_optical:
            if self.tdecq is not None:
                add("TDECQ", m["tdecq_db"], "dB", "{:.2f}")
                add("10log10(Ceq)", m["ceq_db"], "dB", "{:.2f}")
            else:
                rows.append(("TDECQ", "n/a", self.tdecq_note))
            if self.tecq is not None:
                add("TECQ", m["tecq_db"], "dB (back-to-back record)", "{:.2f}")
            elif self.tecq_note:
                rows.append(("TECQ", "n/a", self.tecq_note))
            add("OMA_outer", m["oma_outer_dbm"], "dBm", "{:.2f}")
            add("OMA_outer", _milli(m["oma_outer_w"]), "mW")
            add("extinction ratio", m["extinction_ratio_db"], "dB", "{:.2f}")
            add("average power", m["average_power_dbm"], "dBm", "{:.2f}")
            add("average power", _milli(m["average_power_w"]), "mW")
            tr = self.transition
            if tr is not None and tr.transition_time_s is not None:
                rows.append(("transition time", f"{tr.transition_time_s * 1e12:.2f}",
                             f"ps (rise {tr.rise_time_s * 1e12:.2f}, fall {tr.fall_time_s * 1e12:.2f}; "
                             f"{tr.n_rising}+{tr.n_falling} edges)"))
            elif tr is not None:
                rows.append(("transition time", "n/a", tr.note))
            unit = "mW"
        else:
            sfx = _SUFFIX[wf.quantity]
            unit = "m" + wf.unit
            add("OMA_outer", _milli(m[f"oma_outer_{sfx}"]), unit)
            add("average", _milli(m[f"average_{sfx}"]), unit)
            rows.append(("(dBm, ER, TDECQ)", "skipped", f"not an optical-power waveform ({wf.unit})"))
        add("RLM", m["rlm"], "", "{:.3f}")
        rows.append(("levels", ", ".join(f"{v * 1e3:.4g}" for v in self.levels.levels),
                     f"{unit} ({self.levels.method})"))
        rows.append(("eye heights", ", ".join(f"{v * 1e3:.4g}" for v in self.eye.heights),
                     f"{unit} at p = {self.eye.probability:g}"))
        rows.append(("eye widths", ", ".join(f"{v:.3f}" for v in self.eye.widths_ui), "UI"))
        add("BER (statistical)", m["ber_estimate"], "", "{:.3g}")
        if self.ber_counted is not None:
            c = self.ber_counted
            lo, hi = c.ber_interval
            rows.append(("BER (counted)", f"{c.ber:.3g}",
                         f"{c.bit_errors} errors in {c.n_bits} bits, {c.confidence:.0%} CI "
                         f"[{lo:.3g}, {hi:.3g}]"))
        rows.append(("symbols analysed", str(self.timing.n_symbols),
                     f"at {wf.symbol_rate_baud / 1e9:g} GBd, {self.timing.samples_per_symbol:.4g} "
                     "samples/UI"))
        w1 = max(len(r[0]) for r in rows)
        w2 = max(len(r[1]) for r in rows)
        text = "\n".join(f"{a:<{w1}}  {b:>{w2}}  {c}".rstrip() for a, b, c in rows)
        if self.verdict is not None:
            text += "\n\n" + self.verdict.to_text()
        return text

    def plot(self, fig: Any = None) -> Any:
        """Draw the eye (left) and the TDECQ eye or nothing (right); returns the Figure."""
        if fig is None:
            import matplotlib.pyplot as plt

            fig = plt.figure(figsize=(12, 4.5))
        n = 2 if self.tdecq is not None else 1
        ax = fig.add_subplot(1, n, 1)
        self.eye.plot(ax)
        ax.set_title(f"eye, {self.waveform.symbol_rate_baud / 1e9:g} GBd: " + ax.get_title())
        if self.tdecq is not None:
            ax2 = fig.add_subplot(1, n, 2)
            self.tdecq.plot(ax2)
            ax2.set_title(f"TDECQ reference receiver + FFE: {self.tdecq.tdecq_db:.2f} dB")
        fig.tight_layout()
        return fig


def _milli(v: Any) -> float:
    """SI value to milli-units for display (W -> mW, V -> mV)."""
    return float(v) * 1e3


def analyze(
    wf: Waveform,
    *,
    reference_filter: bool = True,
    phy: Any = None,
    eye_probability: float = 1e-3,
    run_tdecq: bool = True,
    tdecq_options: dict[str, Any] | None = None,
    guard_band_db: float = 0.0,
    allow_draft: bool = False,
    allow_proposal: bool = False,
    tecq_waveform: Waveform | None = None,
) -> AnalysisResult:
    """Run the full PAM4 analysis of a waveform.

    Parameters
    ----------
    wf : Waveform
        PAM4 waveform with ``symbol_rate_baud`` (``pattern`` for OMA from long runs,
        counted BER and TDECQ as specified).
    reference_filter : bool, optional
        Apply the TDECQ Bessel-Thomson reference receiver (default True); False for a
        waveform already captured through it.
    phy : str or PhySpec, optional
        PHY name (e.g. ``"400GBASE-DR4"``): its target SER is used for TDECQ and a
        transmitter verdict is attached (rows this analysis measures are required).
    eye_probability : float, optional
        Tail probability of eye heights and widths (default 1e-3).
    run_tdecq : bool, optional
        Compute TDECQ (default True; only for optical-power waveforms).
    tdecq_options : dict, optional
        Extra keyword arguments of :func:`optics.tdecq.tdecq`.
    guard_band_db : float, optional
        Guard band of the verdict, dB.
    allow_draft, allow_proposal : bool, optional
        Let the PHY's DRAFT / PROPOSAL rows decide the verdict (default False: advisory;
        :func:`optics.verdict.evaluate`).
    tecq_waveform : Waveform, optional
        The same transmitter recorded back-to-back (without the test fibre): its TECQ is
        measured with the TDECQ settings above (:func:`optics.tdecq.variants.tecq`, its own
        timing recovered), reported as ``tecq_db`` and required by the verdict, so the PHY's
        ``tecq_db`` and ``tdecq_tecq_difference_db`` rows are judged (NOT TESTED without it).
        Same symbol rate and quantity (optical power) as ``wf``; ``run_tdecq`` must be on.

    Returns
    -------
    AnalysisResult

    Raises
    ------
    InvalidWaveform
        No symbol rate, too few samples per symbol or symbols, pattern not found.
    NoEyeFound
        No PAM4 eye at the symbol rate.
    SpecError
        Unknown PHY.
    InvalidParameter, InvalidType
        A ``tecq_waveform`` that is no Waveform, not optical power, at another symbol rate than
        ``wf``, marked as having passed a dispersive channel, or given with ``run_tdecq=False``.

    Examples
    --------
    >>> import numpy as np
    >>> from optics import Waveform
    >>> rng = np.random.default_rng(0)
    >>> p = np.array([0.3e-3, 0.7e-3, 1.1e-3, 1.5e-3])
    >>> x = np.repeat(p[rng.integers(0, 4, 4000)], 9) + 20e-6 * rng.standard_normal(36000)
    >>> r = analyze(Waveform(samples=x, sample_rate_hz=9e9, symbol_rate_baud=1e9),
    ...             run_tdecq=False)
    >>> round(r.metrics()["extinction_ratio_db"], 1), round(r.metrics()["rlm"], 2)
    (7.0, 1.0)
    """
    eye_probability = validate.in_range("eye_probability", eye_probability, 0.0, 0.25,
                                        low_inclusive=False, high_inclusive=False)
    if not isinstance(wf, Waveform):
        from optics.errors import InvalidType

        raise InvalidType(f"analyze needs an optics.Waveform, got {type(wf).__name__}")
    _check_tecq_waveform(tecq_waveform, wf, run_tdecq)
    timing = recover_timing(wf)
    levels = measure_levels(wf, timing)
    eye = measure_eye(wf, timing, probability=eye_probability, levels=levels)
    ber_est = estimate_ber(wf, timing, levels=levels)
    counted = count_errors(wf, timing, levels=levels) if wf.pattern is not None else None

    spec = None
    if phy is not None:
        from optics.phy import PhySpec, load_phy

        spec = phy if isinstance(phy, PhySpec) else load_phy(phy)

    # the TDECQ settings: the caller's keywords, then the PHY's transmitter-test method
    # (reference receiver, FFE, target SER, windows); the transition time below uses the
    # same reference receiver
    from optics.phy.method import phy_tdecq_options

    options = phy_tdecq_options(spec, tdecq_options)
    method = spec.tdecq_method.to_dict() if spec is not None and spec.tdecq_method is not None else None

    result_tecq, tecq_note = None, ""
    if tecq_waveform is not None:
        # the back-to-back record: same method, its own timing (options hold no timing yet)
        result_tecq, tecq_note = _tecq(tecq_waveform, reference_filter, options)

    result_tdecq, note = None, ""
    if not run_tdecq:
        note = "not requested"
    elif wf.quantity is not Quantity.OPTICAL_POWER:
        note = "TDECQ is defined for optical-power waveforms only"
    else:
        try:
            from optics.tdecq import tdecq
        except ImportError:
            note = "optics.tdecq is not available in this installation"
        else:
            options.setdefault("timing", timing)  # its rate and alignment, not recovered again
            try:
                result_tdecq = tdecq(wf, reference_filter=reference_filter, **options)
            except InvalidWaveform as exc:  # e.g. fewer symbols than TDECQ needs
                note = f"not computed: {exc}"

    transition = None
    if wf.pattern is not None and wf.quantity is Quantity.OPTICAL_POWER:
        transition = _transition(wf, timing, levels, reference_filter, result_tdecq, options)
    result = AnalysisResult(
        waveform=wf,
        timing=timing,
        levels=levels,
        eye=eye,
        ber_estimate=ber_est,
        ber_counted=counted,
        tdecq=result_tdecq,
        tdecq_note=note,
        verdict=None,
        transition=transition,
        tdecq_method=method if result_tdecq is not None else None,
        tecq=result_tecq,
        tecq_note=tecq_note,
    )
    if spec is None:
        return result
    return dataclasses.replace(result, verdict=_verdict(result, spec, guard_band_db,
                                                        allow_draft=allow_draft, allow_proposal=allow_proposal))


def _check_tecq_waveform(tecq_wf: Any, wf: Waveform, run_tdecq: bool) -> None:
    """Refuse a back-to-back record TECQ cannot be compared with ``wf``'s TDECQ on."""
    if tecq_wf is None:
        return
    from optics.errors import InvalidParameter, InvalidType

    if not isinstance(tecq_wf, Waveform):
        raise InvalidType(f"tecq_waveform must be an optics.Waveform, got {type(tecq_wf).__name__}")
    if not run_tdecq:
        raise InvalidParameter("tecq_waveform given with run_tdecq=False: TECQ is compared with the TDECQ")
    for which, w in (("wf", wf), ("tecq_waveform", tecq_wf)):
        if w.quantity is not Quantity.OPTICAL_POWER:
            raise InvalidParameter(f"TECQ needs optical-power records; {which} is {w.quantity.label} ({w.unit})")
    if tecq_wf.symbol_rate_baud != wf.symbol_rate_baud:
        raise InvalidParameter(
            f"tecq_waveform symbol rate {value_text(tecq_wf.symbol_rate_baud)} Bd differs from the waveform's "
            f"{value_text(wf.symbol_rate_baud)} Bd: the back-to-back record must be the same transmitter")


def _tecq(tecq_wf: Waveform, reference_filter: bool, options: dict[str, Any]) -> tuple[Any, str]:
    """TECQ of the back-to-back record with the TDECQ ``options``; ``(result, "")`` or ``(None, why)``."""
    from optics.tdecq.variants import tecq

    try:
        return tecq(tecq_wf, reference_filter=reference_filter, **options), ""
    except InvalidWaveform as exc:  # e.g. fewer symbols than TDECQ needs
        return None, f"not computed: {exc}"


def _transition(wf: Waveform, timing: SymbolTiming, levels: Pam4Levels, reference_filter: bool,
                result_tdecq: Any, tdecq_options: dict[str, Any]) -> Any:
    """Transition time of ``wf`` from the timing already recovered (None without an eye).

    Without the reference filter the waveform's own timing and levels are used.  Through
    it, the filtered waveform and its timing that TDECQ used when its filter was the
    default one (``optics.transition``'s: 4th order at half the symbol rate); else the
    waveform is filtered here and the timing re-phased on it
    (:func:`optics.timing.rephase_timing`), never recovered again.
    """
    from optics.reference_receiver import bessel_thomson
    from optics.transition import transition_time

    try:
        if not reference_filter:
            return transition_time(wf, timing, levels, reference_filter=False)
        default_filter = (tdecq_options.get("bandwidth_hz") in (None, 0.5 * wf.symbol_rate_baud)
                          and tdecq_options.get("filter_order", 4) == 4)
        if (result_tdecq is not None and result_tdecq.reference_filter and default_filter
                and result_tdecq.waveform is not None and result_tdecq.timing is not None):
            seen, seen_timing = result_tdecq.waveform, result_tdecq.timing
        else:
            seen = bessel_thomson(wf)
            seen_timing = rephase_timing(seen, timing)
        return transition_time(seen, seen_timing, reference_filter=False)
    except InvalidWaveform:  # the filtered record has no recoverable eye: no time to give
        return None


def _verdict(result: AnalysisResult, spec: Any, guard_band_db: float, *, allow_draft: bool = False,
             allow_proposal: bool = False) -> Any:
    """Transmitter verdict; the rows on metrics this analysis gives are required."""
    from optics.phy.limits import METRICS, with_derived
    from optics.verdict import evaluate

    metrics = dict(result.metrics())
    for key, value in list(metrics.items()):
        # A negative mean "power" (AC-coupled O/E, scope offset) is no absolute power:
        # the rows on it are not tested (0 W, a dead laser, stays and fails).
        if key.endswith("_w") and isinstance(value, (int, float)) and value < 0:
            metrics[key] = None
    if result.tdecq is not None and not math.isfinite(result.tdecq.tdecq_db):
        # A closed eye has no finite TDECQ: it fails the TDECQ rows, it is not "not tested".
        metrics["tdecq_db"] = result.tdecq.tdecq_db
    if result.tecq is not None and not math.isfinite(result.tecq.tdecq_db):
        metrics["tecq_db"] = result.tecq.tdecq_db
    scalars = {k: float(v) for k, v in metrics.items()
               if isinstance(v, (int, float)) and math.isfinite(v)}
    measured = set(with_derived(scalars))
    tx_metrics = {row.metric for row in spec.rows_in("tx")}
    # What this analysis is meant to measure is required even when it could not be
    # computed (then NOT TESTED makes the verdict INCOMPLETE, never PASS).
    expected = set(_CORE_TX_METRICS) if result.waveform.quantity is Quantity.OPTICAL_POWER else set()
    if result.tecq is not None or result.tecq_note:    # a back-to-back record was given
        expected |= {"tecq_db", "tdecq_tecq_difference_db"}
    require = sorted(((measured | expected) & tx_metrics) & set(METRICS))
    return evaluate(metrics, spec, scope="tx", guard_band_db=guard_band_db, require=require,
                    allow_draft=allow_draft, allow_proposal=allow_proposal)


#: Transmitter metrics an analysis of an optical waveform always aims to give.
_CORE_TX_METRICS = ("tdecq_db", "oma_outer_dbm", "extinction_ratio_db", "average_power_dbm")


__all__ = ["AnalysisResult", "analyze"]
