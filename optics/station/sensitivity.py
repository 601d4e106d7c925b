"""Receiver sensitivity: sweep the attenuator until the counted BER crosses a threshold.

The search works on a callable ``measure(attenuation_db) -> SweepPoint`` (the runner's,
which sets the attenuator, reads the power meter and runs a BERT gate), so it is tested
without instruments.

Method
------
1. Coarse sweep: from ``start_db`` step the attenuation by ``step_db`` (up while the BER is
   below the threshold, down while above) until two neighbouring points bracket it.
2. Bisection in attenuation until the bracket is at most ``resolution_db`` wide and its
   lower end has counted errors (a point without errors has no ``log10(BER)``).
3. Refinement: ``refine_points`` times, interpolate the crossing in ``log10(BER)`` versus
   received OMA (dBm) between the bracketing points and measure there; the new point
   replaces the bracket end on its side.
4. The sensitivity is the linear interpolation of ``log10(BER)`` against received OMA (dBm)
   between the final bracket -- near the crossing ``log BER`` is close to linear in dB
   over a fraction of a dB (IEEE 802.3 121.8.9 / 124.8.9 define sensitivity as the OMA at
   which the BER equals the threshold; interpolation between measured points as in
   Keysight application note 5992-1340, "receiver sensitivity sweep").
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

from optics import validate
from optics.errors import InvalidParameter, MeasurementInvalid


@dataclasses.dataclass(frozen=True)
class SweepPoint:
    """One BER point of a sensitivity sweep.

    Attributes
    ----------
    attenuation_db : float
        Attenuator setting, dB.
    oma_dbm, average_power_dbm : float
        Received outer OMA and average power at the receiver input, dBm.
    ber : float
        Counted bit error ratio.
    errors, bits : int
        Error and compared-bit counts (``ber = errors / bits``).
    """

    attenuation_db: float
    oma_dbm: float
    average_power_dbm: float
    ber: float
    errors: int
    bits: int

    def to_dict(self) -> dict[str, float]:
        """Plain dictionary (for JSON)."""
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class SensitivityResult:
    """Outcome of :func:`find_sensitivity`.

    Attributes
    ----------
    oma_dbm, average_power_dbm : float
        Received OMA and average power at which the BER equals ``threshold``, dBm.
    threshold : float
        The BER threshold.
    points : tuple of SweepPoint
        Every point measured, in order (the sensitivity curve).
    """

    oma_dbm: float
    average_power_dbm: float
    threshold: float
    points: tuple[SweepPoint, ...]


class NoCrossing(MeasurementInvalid):
    """The BER did not cross the threshold within the attenuator range.

    Attributes
    ----------
    side : str
        ``"minimum"``: BER at or above the threshold even at the least attenuation (the most
        received power); ``"maximum"``: below it even at the most attenuation.
    last : SweepPoint
        The point measured at that end of the range.
    points : tuple of SweepPoint
        Every point measured.
    """

    def __init__(self, message: str, *, side: str, last: SweepPoint, points: tuple[SweepPoint, ...]) -> None:
        super().__init__(message)
        self.side = side
        self.last = last
        self.points = points


def _interp(a: SweepPoint, b: SweepPoint, threshold: float, attr: str) -> float:
    ya, yb = math.log10(a.ber), math.log10(b.ber)
    xa, xb = getattr(a, attr), getattr(b, attr)
    if yb == ya:
        return 0.5 * (xa + xb)
    return xa + (math.log10(threshold) - ya) * (xb - xa) / (yb - ya)


def _check_point(p: SweepPoint, att: float) -> None:
    """Refuse a point the search cannot use: no bits compared (loss of sync counts 0 errors,
    which is not an error-free point), a non-finite or inconsistent count or power."""
    where = f"at {att:.2f} dB attenuation"
    if not (isinstance(p.bits, (int,)) or float(p.bits).is_integer()) or p.bits <= 0:
        raise MeasurementInvalid(f"no bits compared {where} (bits = {p.bits}): the error detector lost sync "
                                 "or the gate did not run")
    if not math.isfinite(p.ber) or not 0.0 <= p.ber <= 1.0:
        raise MeasurementInvalid(f"BER {p.ber} {where}: not a bit error ratio")
    if not 0 <= p.errors <= p.bits or abs(p.ber - p.errors / p.bits) > 1e-9 + 1e-6 * p.ber:
        raise MeasurementInvalid(f"BER {p.ber:g} {where} does not match its count of {p.errors} errors in "
                                 f"{p.bits} bits")
    for name, v in (("received OMA", p.oma_dbm), ("received average power", p.average_power_dbm)):
        if not math.isfinite(v):
            raise MeasurementInvalid(f"{name} {v} dBm {where}")


def find_sensitivity(
    measure: Callable[[float], SweepPoint],
    *,
    threshold: float,
    start_db: float,
    step_db: float = 1.0,
    refine_points: int = 2,
    resolution_db: float = 0.5,
    max_points: int = 20,
    min_db: float = 0.0,
    max_db: float = 45.0,
) -> SensitivityResult:
    """Find the received OMA at which the BER equals ``threshold``.

    Parameters
    ----------
    measure : callable
        ``measure(attenuation_db) -> SweepPoint``.
    threshold : float
        BER threshold, in (0, 0.5).
    start_db : float
        First attenuation, dB, in [min_db, max_db].
    step_db : float
        Coarse step, dB (> 0).
    refine_points : int
        Interpolated points measured after the bracket is found (>= 0).
    resolution_db : float
        Widest bracket (attenuation, dB) refinement starts from (> 0).
    max_points : int
        Most points measured in all (>= 2).
    min_db, max_db : float
        Attenuator range, dB.

    Returns
    -------
    SensitivityResult

    Raises
    ------
    NoCrossing
        No crossing within the attenuator range (its end measured), with the side and the
        last point.
    MeasurementInvalid
        No crossing within ``max_points`` points; a point
        without compared bits (loss of sync), with a non-finite power or with a BER that does
        not match its error count.
    InvalidParameter
        Bad arguments.

    Examples
    --------
    >>> import math
    >>> def meas(att):  # log10(BER) = -6 + (att - 10): crossing at 1e-4 is att = 12 dB
    ...     ber = 10.0 ** (-6 + (att - 10.0))
    ...     return SweepPoint(att, -att, -att - 1, ber, int(ber * 1e10), 10**10)
    >>> round(find_sensitivity(meas, threshold=1e-4, start_db=9.0).oma_dbm, 6)
    -12.0
    """
    validate.in_range("threshold", threshold, 1e-15, 0.5)
    validate.positive("step_db", step_db, "dB")
    validate.integer("refine_points", refine_points, 0, 20)
    validate.positive("resolution_db", resolution_db, "dB")
    validate.integer("max_points", max_points, 2, 1000)
    if not min_db <= start_db <= max_db:
        raise InvalidParameter(f"start_db = {start_db} dB outside the attenuator range [{min_db}, {max_db}] dB")
    points: list[SweepPoint] = []

    def take(att: float) -> SweepPoint:
        if len(points) >= max_points:
            raise MeasurementInvalid(
                f"no BER crossing of {threshold:g} found within {max_points} points "
                f"(attenuation {min(p.attenuation_db for p in points):.2f}..{max(p.attenuation_db for p in points):.2f} dB)")
        p = measure(float(att))
        _check_point(p, float(att))
        points.append(p)
        return p

    p = take(start_db)
    direction = 1.0 if p.ber < threshold else -1.0
    prev = p
    while True:
        att = prev.attenuation_db + direction * step_db
        if att > max_db + 1e-9 or att < min_db - 1e-9:
            edge = max_db if direction > 0 else min_db
            if abs(prev.attenuation_db - edge) > 1e-9:
                att = edge            # the end of the range itself is measured before concluding
            else:
                side = "maximum" if direction > 0 else "minimum"
                raise NoCrossing(
                    f"BER did not cross {threshold:g} before the attenuator's {side} "
                    f"({edge:g} dB); last BER {prev.ber:.3g} at {prev.attenuation_db:.2f} dB",
                    side=side, last=prev, points=tuple(points))
        cur = take(att)
        if (cur.ber >= threshold) != (prev.ber >= threshold):
            break
        prev = cur
    good, bad = (prev, cur) if prev.ber < threshold else (cur, prev)   # good: below threshold
    # a bracket end without errors cannot be interpolated in log(BER), and a wide bracket
    # interpolates poorly (log BER is curved in dBm): bisect first
    while good.errors == 0 or abs(good.attenuation_db - bad.attenuation_db) > resolution_db + 1e-9:
        mid = take(0.5 * (good.attenuation_db + bad.attenuation_db))
        if mid.ber >= threshold:
            bad = mid
        else:
            good = mid
    for _ in range(refine_points):
        oma = _interp(good, bad, threshold, "oma_dbm")
        att = _interp(good, bad, threshold, "attenuation_db")
        lo, hi = sorted((good.attenuation_db, bad.attenuation_db))
        if not lo < att < hi or abs(oma - good.oma_dbm) < 1e-3 or abs(oma - bad.oma_dbm) < 1e-3:
            break
        q = take(att)
        if q.ber >= threshold:
            bad = q
        elif q.errors > 0:
            good = q
        else:
            break
    return SensitivityResult(
        oma_dbm=_interp(good, bad, threshold, "oma_dbm"),
        average_power_dbm=_interp(good, bad, threshold, "average_power_dbm"),
        threshold=float(threshold),
        points=tuple(points),
    )


__all__ = ["NoCrossing", "SensitivityResult", "SweepPoint", "find_sensitivity"]
