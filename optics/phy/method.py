"""The transmitter-test method of a PHY: how its TDECQ (and TECQ, SECQ) is measured.

Each PHY table may carry a ``[tdecq_method]`` section; :func:`parse_method` turns it into a
frozen :class:`TdecqMethod` with the reference receiver (Bessel-Thomson order and -3 dB
bandwidth), the reference FFE (taps, precursors, tap constraints; a DFE only where a source
puts one in the method), the target SER and the histogram windows, each with its source,
status and confidence.  :meth:`TdecqMethod.tdecq_options` gives the keyword arguments of
:func:`optics.tdecq.tdecq` that measure with it.

The toolkit's TDECQ has no DFE and only the sum-to-1 tap constraint: a table whose method
needs more (``dfe_taps > 0``) is refused, and a draft that merely *discusses* a DFE records
that in ``dfe_note`` with its source.

Statuses: ``verified`` (quoted from a copy of the standard), ``unverified`` (a published
clause, values not checked against its text), ``draft`` (an unapproved draft of the
standard, e.g. IEEE P802.3dj D1.3-D3.2), ``proposal`` (task-force material).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from optics.errors import SpecError

#: Allowed ``status`` values of a method (and their order of authority).
METHOD_STATUSES = ("verified", "unverified", "draft", "proposal")

#: Most FFE taps :func:`optics.tdecq.tdecq` accepts (``optics.equalizer.MAX_TAPS``).
MAX_METHOD_TAPS = 41

_KEYS = {
    "name", "clause", "reference_receiver_order", "reference_bandwidth_hz", "reference_bandwidth_fraction",
    "n_taps", "n_precursors", "tap_constraints", "dfe_taps", "dfe_note", "target_ser", "window_width_ui",
    "window_spacing_ui", "source", "status", "confidence", "unverified_fields", "note",
}
_REQUIRED = ("clause", "n_taps", "target_ser", "source", "status", "confidence")


@dataclasses.dataclass(frozen=True, kw_only=True)
class TdecqMethod:
    """A PHY's TDECQ method (frozen).  Build it from a table with :func:`parse_method`.

    Parameters
    ----------
    name : str
        Short title, e.g. ``"802.3 121.8.5 (5-tap FFE)"``.
    clause : str
        Clause(s) of the method.
    reference_receiver_order : int
        Bessel-Thomson order of the reference receiver, 1..10 (4 in every 802.3 PAM4 clause).
    reference_bandwidth_hz : float
        Its -3 dB bandwidth, Hz (from ``reference_bandwidth_fraction`` x the PHY's symbol
        rate when the table gives a fraction).
    reference_bandwidth_fraction : float or None
        The bandwidth as a fraction of the signalling rate when the table gives it so (0.5).
    n_taps : int
        Reference FFE taps, 1..41.
    n_precursors : int or None
        Main-cursor index (None: :func:`optics.equalizer.default_precursors`).
    tap_constraints : str
        The constraints on the taps the measurement applies (always: they sum to 1), and those
        a source names that it does not (say so).
    dfe_taps : int
        DFE taps of the method: always 0 (the toolkit's TDECQ has no DFE).
    dfe_note : str
        A DFE a draft discusses but the method does not contain, with its source.
    target_ser : float
        Target SER of the sigma search, in (0, 0.75).
    window_width_ui, window_spacing_ui : float
        Histogram window width and centre spacing, UI.
    source : str
        Full citation of where the method's numbers were seen.
    status : {"verified", "unverified", "draft", "proposal"}
        See the module notes.
    confidence : str
        ``high``, ``medium`` or ``low`` (the reference notes' scale), with words if needed.
    unverified_fields : tuple of str
        Fields whose value no source gives (assumptions).
    note : str
        Free text.
    """

    name: str
    clause: str
    reference_receiver_order: int = 4
    reference_bandwidth_hz: float
    reference_bandwidth_fraction: float | None = None
    n_taps: int
    n_precursors: int | None = None
    tap_constraints: str = "taps sum to 1 (unity DC gain)"
    dfe_taps: int = 0
    dfe_note: str = ""
    target_ser: float
    window_width_ui: float = 0.04
    window_spacing_ui: float = 0.10
    source: str
    status: str
    confidence: str
    unverified_fields: tuple[str, ...] = ()
    note: str = ""

    def __post_init__(self) -> None:
        for key, lo, hi in (("reference_receiver_order", 1, 10), ("n_taps", 1, MAX_METHOD_TAPS)):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                raise SpecError(f"{key} = {v!r}; allowed: an integer {lo}..{hi}")
        if self.n_precursors is not None:
            v = self.n_precursors
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < self.n_taps:
                raise SpecError(f"n_precursors = {v!r}; allowed: an integer 0..{self.n_taps - 1} (n_taps - 1)")
        if isinstance(self.dfe_taps, bool) or not isinstance(self.dfe_taps, int) or self.dfe_taps != 0:
            raise SpecError(
                f"dfe_taps = {self.dfe_taps!r}; allowed: 0 (the toolkit's TDECQ has no DFE; record a DFE a "
                "draft discusses in dfe_note)")
        _in_range("reference_bandwidth_hz", self.reference_bandwidth_hz, 0.0, math.inf, "Hz")
        if self.reference_bandwidth_fraction is not None:
            _in_range("reference_bandwidth_fraction", self.reference_bandwidth_fraction, 0.0, 2.0, "of the baud rate")
        _in_range("target_ser", self.target_ser, 0.0, 0.75, "")
        _in_range("window_width_ui", self.window_width_ui, 0.0, 0.5, "UI")
        _in_range("window_spacing_ui", self.window_spacing_ui, 0.0, 0.8, "UI", low_open=False)
        if self.window_spacing_ui + self.window_width_ui > 0.9:
            raise SpecError(f"window_spacing_ui + window_width_ui = {self.window_spacing_ui + self.window_width_ui:g} "
                            "UI; allowed: at most 0.9 UI (the windows stay inside the eye)")
        if self.status not in METHOD_STATUSES:
            raise SpecError(f"status = {self.status!r}; allowed: {', '.join(METHOD_STATUSES)}")

    @property
    def decisive(self) -> bool:
        """True for a verified or published (unverified) method; False for a draft or proposal."""
        return self.status in ("verified", "unverified")

    def tdecq_options(self) -> dict[str, Any]:
        """Keyword arguments of :func:`optics.tdecq.tdecq` measuring with this method."""
        return {
            "bandwidth_hz": self.reference_bandwidth_hz,
            "filter_order": self.reference_receiver_order,
            "n_taps": self.n_taps,
            "n_precursors": self.n_precursors,
            "target_ser": self.target_ser,
            "window_width_ui": self.window_width_ui,
            "window_spacing_ui": self.window_spacing_ui,
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``tdecq_method`` of ``optics phys --json`` and ``optics analyze --json``)."""
        d = dataclasses.asdict(self)
        d["unverified_fields"] = list(self.unverified_fields)
        d["filter_order"] = self.reference_receiver_order
        return d

    def to_text(self) -> str:
        """One or two lines for the PHY table's text output."""
        pre = "centred" if self.n_precursors is None else str(self.n_precursors)
        frac = (f" (= {self.reference_bandwidth_fraction:g} x baud)" if self.reference_bandwidth_fraction is not None
                else "")
        text = (f"TDECQ method [{self.status.upper()}, confidence {self.confidence}]: {self.name}; clause "
                f"{self.clause}; BT{self.reference_receiver_order} at {self.reference_bandwidth_hz / 1e9:.6g} GHz"
                f"{frac}; {self.n_taps}-tap FFE ({pre} precursors; {self.tap_constraints}); DFE taps "
                f"{self.dfe_taps}; target SER {self.target_ser:g}; windows {self.window_width_ui:g} UI at "
                f"+-{self.window_spacing_ui / 2:g} UI")
        if self.dfe_note:
            text += f"\n    DFE: {self.dfe_note}"
        if self.unverified_fields:
            text += f"\n    no source for: {', '.join(self.unverified_fields)}"
        return text


def default_method(symbol_rate_baud: float) -> TdecqMethod:
    """The method :func:`optics.tdecq.tdecq` uses without a PHY: 802.3 121.8.5 as reconstructed
    (BT4 at baud/2, 5-tap FFE with the main cursor centred, SER 4.8e-4, 0.04 UI windows 0.10 UI apart).
    """
    return TdecqMethod(
        name="802.3 121.8.5 defaults (no PHY given)", clause="121.8.5", reference_bandwidth_hz=0.5 * symbol_rate_baud,
        reference_bandwidth_fraction=0.5, n_taps=5, target_ser=4.8e-4,
        source="optics.tdecq defaults (IEEE 802.3 121.8.5 as reconstructed in the reference notes, section 2)",
        status="unverified", confidence="high",
        unverified_fields=("n_taps", "reference_bandwidth_fraction", "n_precursors"),
    )


def _in_range(key: str, value: Any, lo: float, hi: float, unit: str, low_open: bool = True) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SpecError(f"{key} must be a finite number, got {value!r}")
    low_ok = value > lo if low_open else value >= lo
    if not (low_ok and value < hi):
        bracket = "(" if low_open else "["
        raise SpecError(f"{key} = {value!r} {unit}".rstrip() + f"; allowed: {bracket}{lo:g}, {hi:g})")


def parse_method(table: Any, sources: Mapping[str, str], symbol_rate_baud: float) -> TdecqMethod:
    """Build a :class:`TdecqMethod` from a parsed ``[tdecq_method]`` table.

    ``reference_bandwidth_hz`` or ``reference_bandwidth_fraction`` (of ``symbol_rate_baud``)
    gives the reference receiver; ``source`` is an id of the table's ``[sources]``.

    Raises
    ------
    SpecError
        Unknown or missing keys, a bad type, a value out of its range (message names the key,
        the value and the allowed range), an unknown source id.
    """
    if not isinstance(table, dict):
        raise SpecError("must be a table")
    extra = sorted(set(table) - _KEYS)
    if extra:
        raise SpecError(f"unknown key(s) {', '.join(extra)}; allowed: {', '.join(sorted(_KEYS))}")
    missing = [k for k in _REQUIRED if k not in table]
    if missing:
        raise SpecError(f"missing {', '.join(missing)}")
    has_hz, has_frac = "reference_bandwidth_hz" in table, "reference_bandwidth_fraction" in table
    if has_hz == has_frac:
        raise SpecError("give exactly one of reference_bandwidth_hz and reference_bandwidth_fraction")
    src = table["source"]
    if src not in sources:
        raise SpecError(f"source {src!r} is not in [sources] ({', '.join(sorted(sources))})")
    for key in ("name", "clause", "tap_constraints", "dfe_note", "status", "confidence", "note"):
        if key in table and not isinstance(table[key], str):
            raise SpecError(f"{key} must be a string, got {table[key]!r}")
    fields = table.get("unverified_fields", [])
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise SpecError(f"unverified_fields must be a list of field names, got {fields!r}")
    known = {f.name for f in dataclasses.fields(TdecqMethod)}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise SpecError(f"unverified_fields names unknown field(s) {', '.join(unknown)}")
    if has_frac:
        frac = table["reference_bandwidth_fraction"]
        _in_range("reference_bandwidth_fraction", frac, 0.0, 2.0, "of the baud rate")
        bw, frac = float(frac) * symbol_rate_baud, float(frac)
    else:
        bw, frac = table["reference_bandwidth_hz"], None
        _in_range("reference_bandwidth_hz", bw, 0.0, math.inf, "Hz")
        bw = float(bw)
    floats = {}
    for key in ("target_ser", "window_width_ui", "window_spacing_ui"):
        if key in table:
            v = table[key]
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise SpecError(f"{key} must be a number, got {v!r}")
            floats[key] = float(v)
    n_taps = table["n_taps"]
    return TdecqMethod(
        name=table.get("name", f"{n_taps}-tap FFE, clause {table['clause']}"), clause=table["clause"],
        reference_receiver_order=table.get("reference_receiver_order", 4), reference_bandwidth_hz=bw,
        reference_bandwidth_fraction=frac, n_taps=n_taps, n_precursors=table.get("n_precursors"),
        tap_constraints=table.get("tap_constraints", "taps sum to 1 (unity DC gain)"),
        dfe_taps=table.get("dfe_taps", 0), dfe_note=table.get("dfe_note", ""), **floats,
        source=sources[src], status=table["status"], confidence=table["confidence"],
        unverified_fields=tuple(fields), note=table.get("note", ""),
    )


#: Precursors of a station / prediction step whose settings and PHY method do not fix them: the
#: station's own default (it has always sent ``:NPRecursors 1`` for the 5-tap FFE), kept so that
#: 100 Gb/s-per-lane results do not move.  (:func:`optics.tdecq.tdecq` without ``n_precursors``
#: centres the main cursor instead: 2 of 5.)
STEP_DEFAULT_PRECURSORS = 1

#: Taps of a step without ``tdecq_taps`` and without a PHY method (802.3 121.8.5).
STEP_DEFAULT_TAPS = 5

#: The target SER, histogram windows and Bessel-Thomson order a FlexDCA TDECQ measurement uses:
#: no SCPI command to change them is known (``reference/instruments-scpi-and-stations.md`` §1.1
#: lists the SIRC rate/bandwidth, ``:TAPS:COUNt``, ``:NPRecursors`` and ``:TSPacing:TPUI`` only),
#: so the scope measures with the clause 121.8.5 values (SER 4.8e-4, 0.04 UI windows 0.10 UI
#: apart, BT4 SIRC), and so does the prediction of what it measures.
SCOPE_FIXED_OPTIONS: Mapping[str, Any] = {
    "target_ser": 4.8e-4, "window_width_ui": 0.04, "window_spacing_ui": 0.10, "filter_order": 4,
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class StepTdecq:
    """The TDECQ settings of a station ``tx`` step: what the scope is told and measures with.

    Made by :func:`step_tdecq`, the one resolution used by the station
    (:mod:`optics.station.steps`) and by the yield prediction (:mod:`optics.volume.evaluate`),
    so that the two cannot diverge.

    Parameters
    ----------
    n_taps, n_precursors : int
        Reference FFE taps and precursors (``:TAPS:COUNt``, ``:NPRecursors``).
    bandwidth_hz : float
        -3 dB bandwidth of the SIRC reference receiver, Hz (``:SIRC:FBANdwidth``).
    method : TdecqMethod or None
        The PHY's method the settings come from (None: the 121.8.5 defaults).
    not_applied : tuple of str
        Fields of ``method`` a FlexDCA cannot be told (no known SCPI), each with the value the
        method asks for and the one measured with (e.g. ``"target_ser 0.0096 (measured at
        0.00048)"``); empty when the scope measures exactly with the method.
    """

    n_taps: int
    n_precursors: int
    bandwidth_hz: float
    method: TdecqMethod | None = None
    not_applied: tuple[str, ...] = ()

    def tdecq_options(self) -> dict[str, Any]:
        """Keyword arguments of :func:`optics.tdecq.tdecq` measuring as the scope does."""
        return {"bandwidth_hz": self.bandwidth_hz, "n_taps": self.n_taps, "n_precursors": self.n_precursors,
                **SCOPE_FIXED_OPTIONS}

    def note(self) -> str:
        """Text for the TDECQ record ("" when the scope measures exactly with the method)."""
        if not self.not_applied:
            return ""
        return ("PHY TDECQ method not fully applied (no known FlexDCA SCPI for: "
                + "; ".join(self.not_applied) + ")")


def phy_tdecq_options(spec: Any, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Keyword arguments of :func:`optics.tdecq.tdecq` for a measurement against PHY ``spec``: the
    caller's ``options`` first, then the PHY's method (:meth:`TdecqMethod.tdecq_options`), then
    the PHY's target SER (``spec.ser_target``); ``spec`` None gives the caller's options.

    Examples
    --------
    >>> from optics.phy import load_phy
    >>> phy_tdecq_options(load_phy("1.6TBASE-DR8"), {"n_taps": 5})["n_taps"]
    5
    """
    out = dict(options or {})
    if spec is None:
        return out
    if spec.tdecq_method is not None:
        for key, value in spec.tdecq_method.tdecq_options().items():
            out.setdefault(key, value)
    if spec.ser_target is not None:
        out.setdefault("target_ser", spec.ser_target)
    return out


def resolve_ffe(settings: Mapping[str, Any], method: TdecqMethod | None) -> tuple[int, int]:
    """``(n_taps, n_precursors)`` of a ``tx`` step: its settings first, then the PHY's method,
    then :data:`STEP_DEFAULT_TAPS` / :data:`STEP_DEFAULT_PRECURSORS` (the rules of
    :func:`step_tdecq`, which also checks the precursors are below the taps; the plan loader
    uses this to check a plan against its PHY's method before any instrument is touched).

    Raises
    ------
    InvalidParameter
        A setting that is not an integer in range (taps 1..41, precursors 0..40).

    Examples
    --------
    >>> resolve_ffe({"tdecq_precursors": 7}, None)
    (5, 7)
    """
    from optics import validate

    given_taps = settings.get("tdecq_taps")
    if given_taps is not None:
        n_taps = validate.integer("tdecq_taps", given_taps, 1, MAX_METHOD_TAPS)
    else:
        n_taps = method.n_taps if method is not None else STEP_DEFAULT_TAPS
    given_pre = settings.get("tdecq_precursors")
    if given_pre is not None:
        n_pre = validate.integer("tdecq_precursors", given_pre, 0, MAX_METHOD_TAPS - 1)
    elif method is not None and method.n_precursors is not None and n_taps == method.n_taps:
        n_pre = method.n_precursors
    else:
        n_pre = STEP_DEFAULT_PRECURSORS
    return n_taps, n_pre


def step_tdecq(settings: Mapping[str, Any], method: TdecqMethod | None, symbol_rate_baud: float) -> StepTdecq:
    """Resolve a ``tx`` step's TDECQ settings: step settings first, then the PHY's method, then
    the defaults.

    * taps: ``settings["tdecq_taps"]``, else ``method.n_taps``, else 5;
    * precursors: ``settings["tdecq_precursors"]``, else ``method.n_precursors`` when the taps
      are the method's and it fixes them, else :data:`STEP_DEFAULT_PRECURSORS` (1);
    * reference bandwidth: the method's (its fraction x ``symbol_rate_baud`` when it gives a
      fraction, so a step at another rate scales it), else ``symbol_rate_baud / 2``;
    * target SER, windows and filter order: those of :data:`SCOPE_FIXED_OPTIONS`; the method's
      values that differ are listed in :attr:`StepTdecq.not_applied`.

    Parameters
    ----------
    settings : mapping
        The step's settings (``tdecq_taps``, ``tdecq_precursors`` are read; others ignored).
    method : TdecqMethod or None
        The plan's PHY method (``PhySpec.tdecq_method``).
    symbol_rate_baud : float
        The step's symbol rate, Bd.

    Raises
    ------
    InvalidParameter
        Precursors not below the taps, taps out of 1..41, a non-integer setting, a bad rate.

    Examples
    --------
    >>> step_tdecq({}, None, 53.125e9).tdecq_options()["n_taps"]
    5
    """
    from optics import validate
    from optics.errors import InvalidParameter

    baud = validate.positive("symbol_rate_baud", symbol_rate_baud, "Bd")
    n_taps, n_pre = resolve_ffe(settings, method)
    if n_pre >= n_taps:
        raise InvalidParameter(f"tdecq_precursors = {n_pre} must be below tdecq_taps = {n_taps} (0..{n_taps - 1})")
    if method is None:
        return StepTdecq(n_taps=n_taps, n_precursors=n_pre, bandwidth_hz=0.5 * baud)
    if method.reference_bandwidth_fraction is not None:
        bw = method.reference_bandwidth_fraction * baud
    else:
        bw = method.reference_bandwidth_hz
    asked = {"target_ser": method.target_ser, "window_width_ui": method.window_width_ui,
             "window_spacing_ui": method.window_spacing_ui, "filter_order": method.reference_receiver_order}
    not_applied = tuple(f"{key} {asked[key]:g} (measured at {fixed:g})" for key, fixed in SCOPE_FIXED_OPTIONS.items()
                        if not math.isclose(float(asked[key]), float(fixed), rel_tol=1e-12))
    return StepTdecq(n_taps=n_taps, n_precursors=n_pre, bandwidth_hz=float(bw), method=method,
                     not_applied=not_applied)
