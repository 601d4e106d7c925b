"""TECQ and SECQ: the TDECQ procedure (:func:`optics.tdecq.tdecq`) on other signals.

Both are named entry points on the same machinery (reference receiver, reference FFE, the
sigma search at the target SER); what differs is the signal measured and the metric name the
verdict rows use:

* **TDECQ** (``tdecq_db``): the transmitter through the compliance fibre (the dispersion
  extremes of the PMD; 802.3 121.8.5, 124.8.5, 140.7.5, 180.9.x).
* **TECQ** (``tecq_db``, 802.3cu / 802.3dj): the same transmitter measured *back-to-back*,
  without the test fibre's dispersion (reference notes section 2.1 step 10: "TDECQ without
  the dispersive fiber"; its definition and the ``|TDECQ - TECQ|`` limits are UNVERIFIED).
  :func:`tecq` refuses a record whose metadata says it passed a dispersive channel
  (``meta["dispersion_ps_per_nm"]`` non-zero, as :mod:`models` marks a received waveform).
* **SECQ** (``secq_db``, 802.3 121.8.9 / 122.8.9 style stressed receiver conformance):
  the closure of the *stressed receiver test signal* at the receiver input, measured with
  the transmitter's reference receiver and equaliser (reference notes 2.1 step 10: "SECQ
  applies the same procedure to the stressed-receiver conformance signal").  The stressed
  source is calibrated until SECQ equals the PMD's value (3.4 dB in the 802.3 100 G/lane and
  the 802.3dj D1.3 tables): :func:`calibrate_secq` does that calibration by adding Gaussian
  noise.  The calibration tolerance of the standard was not found (the tables say so); the
  tolerance here is the caller's (default :data:`SECQ_CALIBRATION_TOLERANCE_DB`, an
  ASSUMPTION).

``method`` (a PHY's :class:`optics.phy.method.TdecqMethod`) gives the keyword arguments of
:func:`optics.tdecq.tdecq` (reference receiver, FFE taps/precursors, target SER, windows);
keywords the caller gives win.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import scipy.optimize

from optics import validate
from optics.errors import InvalidParameter, InvalidType
from optics.tdecq.measure import tdecq
from optics.tdecq.result import TDECQResult
from optics.waveform import Waveform

#: Metric name of each variant (the PHY table rows' names).
VARIANT_METRICS: Mapping[str, str] = {"tdecq": "tdecq_db", "tecq": "tecq_db", "secq": "secq_db"}

#: Metadata key with which a record declares the channel dispersion it passed (ps/nm).
DISPERSION_META_KEY = "dispersion_ps_per_nm"

#: Default tolerance of :func:`calibrate_secq`, dB (ASSUMPTION: no source for the standard's).
SECQ_CALIBRATION_TOLERANCE_DB = 0.05


def _options(method: Any, options: Mapping[str, Any]) -> dict[str, Any]:
    """The caller's keywords, then the method's."""
    out = dict(options)
    if method is not None:
        if not hasattr(method, "tdecq_options"):
            raise InvalidType(f"method must be an optics.phy.method.TdecqMethod or None, got {type(method).__name__}")
        for key, value in method.tdecq_options().items():
            out.setdefault(key, value)
    return out


def _closure(wf: Waveform, method: Any, options: Mapping[str, Any], *, back_to_back: bool = False) -> TDECQResult:
    """:func:`optics.tdecq.tdecq` of ``wf`` with the method and the caller's keywords; with
    ``back_to_back`` a record marked as having passed dispersion is refused (TECQ)."""
    if not isinstance(wf, Waveform):
        raise InvalidType(f"wf must be an optics.Waveform, got {type(wf).__name__}")
    disp = wf.meta.get(DISPERSION_META_KEY) if back_to_back and wf.meta else None
    if disp is not None and float(disp) != 0.0:
        raise InvalidParameter(
            f"TECQ is measured back-to-back, but the record passed {float(disp):g} ps/nm of dispersion "
            f"(meta {DISPERSION_META_KEY!r}); its closure is a TDECQ: use optics.tdecq.tdecq")
    return tdecq(wf, **_options(method, options))


def tecq(wf: Waveform, *, method: Any = None, **options: Any) -> TDECQResult:
    """TECQ: TDECQ of a transmitter measured back-to-back (no test fibre's dispersion).

    The number is :func:`optics.tdecq.tdecq` of the back-to-back record with the PHY's
    method (``method``) and ``options``; the verdict rows call it ``tecq_db``.

    Parameters
    ----------
    wf : Waveform
        Back-to-back optical-power record of the transmitter.
    method : TdecqMethod, optional
        The PHY's transmitter-test method.
    **options
        Keyword arguments of :func:`optics.tdecq.tdecq` (they win over ``method``'s).

    Returns
    -------
    TDECQResult

    Raises
    ------
    InvalidParameter
        ``wf.meta["dispersion_ps_per_nm"]`` is non-zero: the record passed a dispersive
        channel, so its closure is a TDECQ, not a TECQ.
    InvalidWaveform, InvalidType
        As :func:`optics.tdecq.tdecq`.

    Examples
    --------
    >>> from optics.tdecq.variants import tecq  # doctest: +SKIP
    >>> tecq(back_to_back, method=load_phy("800GBASE-DR4").tdecq_method).tdecq_db  # doctest: +SKIP
    """
    return _closure(wf, method, options, back_to_back=True)


def secq(wf: Waveform, *, method: Any = None, **options: Any) -> TDECQResult:
    """SECQ: the closure of the stressed receiver test signal, by the TDECQ procedure.

    ``wf`` is the stressed signal as it reaches the receiver under test (after the stressed
    source's ISI, noise and any channel); the number is :func:`optics.tdecq.tdecq` of it with
    the PHY's method; the verdict rows call it ``secq_db`` (e.g. the 802.3dj draft's
    "SECQ 3.4 dB" condition, or the ``max(-4.4, secq_db - 5.8)`` sensitivity equation).

    Parameters
    ----------
    wf : Waveform
        Optical-power record of the stressed receiver test signal.
    method : TdecqMethod, optional
        The PHY's transmitter-test method (the reference receiver and equaliser SECQ uses).
    **options
        Keyword arguments of :func:`optics.tdecq.tdecq` (they win over ``method``'s).

    Returns
    -------
    TDECQResult

    Raises
    ------
    InvalidWaveform, InvalidType
        As :func:`optics.tdecq.tdecq`.
    """
    return _closure(wf, method, options)


@dataclasses.dataclass(frozen=True)
class SecqCalibration:
    """Result of :func:`calibrate_secq`.

    Attributes
    ----------
    waveform : Waveform
        The calibrated stressed signal (``wf`` plus the noise), ``meta["secq_noise_rms"]``
        and ``meta["secq_target_db"]`` added.
    noise_rms : float
        RMS of the added white Gaussian noise, in the waveform's unit (W for optical power).
    secq_db : float
        SECQ of the calibrated signal, dB.
    target_db, tolerance_db : float
        What it was calibrated to, dB.
    result : TDECQResult
        The SECQ measurement of the calibrated signal.
    evaluations : int
        SECQ measurements the calibration took.
    """

    waveform: Waveform
    noise_rms: float
    secq_db: float
    target_db: float
    tolerance_db: float
    result: TDECQResult
    evaluations: int


def calibrate_secq(
    wf: Waveform,
    target_db: float,
    *,
    rng: np.random.Generator,
    method: Any = None,
    tolerance_db: float = SECQ_CALIBRATION_TOLERANCE_DB,
    max_evaluations: int = 40,
    **options: Any,
) -> SecqCalibration:
    """Add white Gaussian noise to a stressed signal until its SECQ is ``target_db``.

    The stressed-receiver calibration of 802.3 (121.8.9 style): the stressed source's ISI is
    set (``wf``: e.g. a transmitter with slow edges), then its noise is raised until SECQ
    reaches the PMD's value.  One draw ``z`` of unit white noise (from ``rng``) is scaled:
    ``x + s z``; ``s`` is found by Brent's method on ``SECQ(s) - target_db`` (SECQ grows with
    ``s``) until within ``tolerance_db / 2``.

    Parameters
    ----------
    wf : Waveform
        The stressed signal before its noise (optical power), with its pattern.
    target_db : float
        SECQ to reach, dB, in (0, 20).
    rng : numpy.random.Generator
        Source of the noise draw (explicit randomness).
    method : TdecqMethod, optional
        The PHY's method (reference receiver, equaliser, target SER).
    tolerance_db : float, optional
        Accepted ``|SECQ - target_db|``, dB, in (0, 1] (default 0.05 dB, an ASSUMPTION).
    max_evaluations : int, optional
        Most SECQ measurements, 4..200 (default 40).
    **options
        Keyword arguments of :func:`optics.tdecq.tdecq`.

    Returns
    -------
    SecqCalibration

    Raises
    ------
    InvalidParameter
        A target or tolerance out of range; the signal without noise already has an SECQ
        above ``target_db + tolerance_db`` (less ISI is needed, noise cannot lower it); no
        noise level within the evaluations reaches the target within the tolerance.
    InvalidType
        ``rng`` not a numpy Generator.
    """
    target_db = validate.in_range("target_db", target_db, 0.0, 20.0, low_inclusive=False, unit="dB")
    tolerance_db = validate.in_range("tolerance_db", tolerance_db, 0.0, 1.0, low_inclusive=False, unit="dB")
    max_evaluations = validate.integer("max_evaluations", max_evaluations, 4, 200)
    if not isinstance(rng, np.random.Generator):
        raise InvalidType(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    opts = _options(method, options)
    x = np.asarray(wf.samples, dtype=float)
    z = rng.standard_normal(x.size)
    count = 0
    seen: dict[float, TDECQResult] = {}

    def measure(s: float) -> TDECQResult:
        nonlocal count
        if s not in seen:
            count += 1
            seen[s] = tdecq(wf.with_samples(x + s * z) if s > 0 else wf, **opts)
        return seen[s]

    def excess(s: float) -> float:
        v = measure(s).tdecq_db
        return (v if math.isfinite(v) else 100.0) - target_db

    base = measure(0.0)
    if excess(0.0) > tolerance_db:
        raise InvalidParameter(
            f"the signal without added noise already has SECQ {base.tdecq_db:.3f} dB > target {target_db:g} "
            f"+ {tolerance_db:g} dB: reduce its ISI (noise can only raise SECQ)")
    if abs(excess(0.0)) <= 0.5 * tolerance_db:
        best = 0.0
    else:
        lo, hi = 0.0, 0.01 * base.oma_outer
        while excess(hi) < 0.0:
            lo, hi = hi, 2.0 * hi
            if count >= max_evaluations:
                raise InvalidParameter(f"no noise up to {hi:.3g} {wf.unit} RMS reached SECQ {target_db:g} dB")
        try:
            best = scipy.optimize.brentq(
                excess, lo, hi, xtol=1e-12 * base.oma_outer, rtol=1e-6,
                maxiter=max(1, max_evaluations - count))
        except RuntimeError:
            best = min(seen, key=lambda s: abs(excess(s)))
        # brentq converges on s; keep the measured point nearest to the target
        best = min(seen, key=lambda s: abs(excess(s)))
    res = measure(best)
    if not abs(res.tdecq_db - target_db) <= tolerance_db:
        raise InvalidParameter(
            f"SECQ calibration reached {res.tdecq_db:.3f} dB, not {target_db:g} +- {tolerance_db:g} dB, in "
            f"{count} evaluations (SECQ steps with the noise level; raise tolerance_db or max_evaluations)")
    meta = dict(wf.meta or {})
    meta.update(secq_noise_rms=float(best), secq_target_db=float(target_db))
    out_wf = wf.with_samples(x + best * z, meta=meta) if best > 0 else wf.replace(meta=meta)
    return SecqCalibration(waveform=out_wf, noise_rms=float(best), secq_db=float(res.tdecq_db),
                           target_db=float(target_db), tolerance_db=float(tolerance_db), result=res,
                           evaluations=count)


__all__ = ["VARIANT_METRICS", "SecqCalibration", "calibrate_secq", "secq", "tecq"]
