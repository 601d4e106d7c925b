"""The stressed receiver test signal's calibration check: its SECQ against the PHY's SECQ rows.

A stressed receiver sensitivity test (IEEE 802.3 121.8.9 style) first calibrates its stressed
source: ISI (slow edges, a channel) and noise are set until the closure of the signal that
reaches the receiver under test, measured with the PHY's transmitter-test method, equals the
PMD's value (SECQ; 1.6TBASE-DR8's draft: at least 3.4 dB).  :func:`check_stressed_signal` takes
a capture of that signal (a scope's record, or a model's waveform: the same
:class:`~optics.waveform.Waveform`), measures its SECQ with :func:`optics.tdecq.variants.secq`
and the PHY's TDECQ method (reference receiver, equaliser, target SER), and judges the PHY's
``secq_db`` rows (:func:`optics.verdict.evaluate`, receiver scope).  The number it reports is
what a station plan's ``reference_secq_db`` states for its SECQ-dependent sensitivity limits.

Examples
--------
>>> import numpy as np
>>> from optics import Waveform
>>> rng = np.random.default_rng(1)
>>> sym = rng.integers(0, 4, 4000)
>>> x = np.repeat(np.array([0.2e-3, 0.6e-3, 1.0e-3, 1.4e-3])[sym], 16)
>>> wf = Waveform(samples=x + 1.5e-4 * rng.standard_normal(x.size), sample_rate_hz=16 * 53.125e9,
...               symbol_rate_baud=53.125e9, pattern=sym)
>>> r = check_stressed_signal(wf)          # white noise: SECQ from the noise alone
>>> 1.0 < r.secq_db < 6.0, r.verdict is None
(True, True)
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from optics.errors import InvalidParameter, InvalidType
from optics.waveform import Quantity, Waveform


@dataclasses.dataclass(frozen=True)
class StressedSignalCheck:
    """Result of :func:`check_stressed_signal`.

    Attributes
    ----------
    secq : optics.tdecq.TDECQResult
        The SECQ measurement (``secq.tdecq_db`` is the SECQ, dB).
    verdict : optics.verdict.Verdict or None
        The PHY's ``secq_db`` rows judged (None without a PHY).
    method : dict or None
        The PHY's TDECQ method the SECQ was measured with (None: the 121.8.5 defaults).
    note : str
        Why a PHY was given but nothing was judged (it has no ``secq_db`` row); empty otherwise.
    """

    secq: Any
    verdict: Any = None
    method: Any = None
    note: str = ""

    @property
    def secq_db(self) -> float:
        """SECQ, dB (inf for a closed eye)."""
        return float(self.secq.tdecq_db)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: ``secq_db`` (None for a closed eye), the equaliser taps, the method and the verdict."""
        out: dict[str, Any] = {
            "secq_db": self.secq_db if math.isfinite(self.secq_db) else None,
            "secq_taps": [float(v) for v in self.secq.taps],
            "secq_n_precursors": int(self.secq.n_precursors),
            "oma_outer_w": float(self.secq.oma_outer),
        }
        if self.method is not None:
            out["tdecq_method"] = self.method
        if self.verdict is not None:
            out["verdict"] = self.verdict.to_dict()
        if self.note:
            out["note"] = self.note
        return out

    def to_text(self) -> str:
        """A short report: the SECQ, the taps and the verdict (with its reasons)."""
        value = f"{self.secq_db:.2f} dB" if math.isfinite(self.secq_db) else "closed eye (inf)"
        lines = [f"stressed receiver test signal: SECQ {value} "
                 f"({len(self.secq.taps)}-tap reference equaliser, {self.secq.n_precursors} precursor(s))",
                 f"  station plan setting: reference_secq_db = {self.secq_db:.2f}" if math.isfinite(self.secq_db)
                 else "  no SECQ-dependent limit can use a closed eye"]
        if self.verdict is not None:
            lines.append(self.verdict.to_text())
        if self.note:
            lines.append(f"  {self.note}")
        return "\n".join(lines)


def check_stressed_signal(
    wf: Waveform,
    phy: Any = None,
    *,
    reference_filter: bool = True,
    tdecq_options: dict[str, Any] | None = None,
    guard_band_db: float = 0.0,
    allow_draft: bool = False,
    allow_proposal: bool = False,
) -> StressedSignalCheck:
    """SECQ of a stressed receiver test signal and the verdict of the PHY's SECQ rows.

    Parameters
    ----------
    wf : Waveform
        Optical-power record of the stressed signal as it reaches the receiver under test,
        with ``symbol_rate_baud`` (and its ``pattern``, recommended).
    phy : str or PhySpec, optional
        The PHY: its TDECQ method measures the SECQ and its ``secq_db`` rows are judged (the
        only rows required; e.g. 1.6TBASE-DR8's draft "SECQ >= 3.4 dB", which decides only
        with ``allow_draft``).  Without it: the 121.8.5 defaults and no verdict.
    reference_filter : bool, optional
        Apply the reference receiver (default True); False for a record captured through it.
    tdecq_options : dict, optional
        Keyword arguments of :func:`optics.tdecq.tdecq`; they win over the PHY's method.
    guard_band_db, allow_draft, allow_proposal
        As for :func:`optics.verdict.evaluate`.

    Returns
    -------
    StressedSignalCheck

    Raises
    ------
    InvalidType
        ``wf`` is not a Waveform.
    InvalidParameter
        ``wf`` is not an optical-power record.
    InvalidWaveform, NoEyeFound, SpecError
        From the SECQ measurement or an unknown PHY.
    """
    from optics.tdecq.variants import secq
    from optics.verdict import evaluate

    if not isinstance(wf, Waveform):
        raise InvalidType(f"check_stressed_signal needs an optics.Waveform, got {type(wf).__name__}")
    if wf.quantity is not Quantity.OPTICAL_POWER:
        raise InvalidParameter(f"SECQ is the closure of an optical signal; the record is {wf.quantity.label} "
                               f"({wf.unit})")
    spec = None
    if phy is not None:
        from optics.phy import PhySpec, load_phy

        spec = phy if isinstance(phy, PhySpec) else load_phy(phy)
    from optics.phy.method import phy_tdecq_options

    # the caller's keywords, then the PHY's method, then its target SER (as optics.analyze)
    method = None if spec is None else spec.tdecq_method
    options = phy_tdecq_options(spec, tdecq_options)
    options["reference_filter"] = reference_filter
    result = secq(wf, **options)            # the method is in the options already
    verdict, note = None, ""
    if spec is not None and spec.rows_for("secq_db"):
        # the calibration check: the PHY's SECQ rows alone (not the receiver rows it conditions)
        only = dataclasses.replace(spec, rows=tuple(r for r in spec.rows if r.metric == "secq_db"))
        verdict = evaluate({"secq_db": result.tdecq_db}, only, scope="rx", require=["secq_db"],
                           guard_band_db=guard_band_db, allow_draft=allow_draft, allow_proposal=allow_proposal)
    elif spec is not None:
        note = (f"PHY {spec.name} has no secq_db row: the SECQ is reported for the SECQ-dependent limits "
                "(a station plan's reference_secq_db), not judged")
    return StressedSignalCheck(result, verdict, None if method is None else method.to_dict(), note)


__all__ = ["StressedSignalCheck", "check_stressed_signal"]
