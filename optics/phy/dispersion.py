"""Chromatic-dispersion limits of a PHY channel from the fibre dispersion model of IEEE 802.3.

802.3 specifies the worst-case dispersion of single-mode fibre as

.. math:: D(\\lambda) = \\frac{S_0}{4}\\left(\\lambda - \\frac{\\lambda_0^4}{\\lambda^3}\\right)
          \\quad \\mathrm{ps/(nm\\,km)}

with the zero-dispersion wavelength :math:`\\lambda_0` anywhere in 1300-1324 nm and the slope
:math:`S_0 \\le` 0.093 ps/(nm²·km) (IEC 60793-2-50 B1.3 / ITU-T G.652; 802.3 uses 0.093, the
fibre data sheets 0.092).  The most negative channel dispersion is at the shortest wavelength of
the PHY's window with :math:`\\lambda_0` = 1324 nm, the most positive at the longest wavelength
with :math:`\\lambda_0` = 1300 nm; both scale with the reach.
"""

from __future__ import annotations

import dataclasses

from optics import validate
from optics.errors import InvalidParameter, InvalidType

#: IEEE 802.3 worst-case zero-dispersion slope, ps/(nm^2 km).
S0_IEEE_PS_PER_NM2_KM = 0.093
#: Zero-dispersion wavelength range of G.652 fibre, nm.
LAMBDA0_RANGE_NM = (1300.0, 1324.0)


def dispersion_ps_per_nm_km(wavelength_nm: float, lambda0_nm: float, s0_ps_per_nm2_km: float) -> float:
    """Fibre dispersion D(λ) = S0/4·(λ − λ0⁴/λ³) in ps/(nm·km) (802.3 fibre model).

    >>> round(dispersion_ps_per_nm_km(1310.0, 1310.0, 0.093), 12)
    0.0
    """
    lam = validate.positive("wavelength_nm", wavelength_nm, "nm")
    lam0 = validate.positive("lambda0_nm", lambda0_nm, "nm")
    s0 = validate.positive("s0_ps_per_nm2_km", s0_ps_per_nm2_km, "ps/(nm^2 km)")
    return s0 / 4.0 * (lam - lam0**4 / lam**3)


@dataclasses.dataclass(frozen=True)
class DispersionLimits:
    """Worst-case channel dispersion over a wavelength window and reach, ps/nm."""

    min_ps_per_nm: float
    max_ps_per_nm: float
    window_nm: tuple[float, float]
    reach_m: float
    s0_ps_per_nm2_km: float
    lambda0_range_nm: tuple[float, float]


def dispersion_limits(
    window_nm: tuple[float, float],
    reach_m: float,
    *,
    s0_ps_per_nm2_km: float = S0_IEEE_PS_PER_NM2_KM,
    lambda0_range_nm: tuple[float, float] = LAMBDA0_RANGE_NM,
) -> DispersionLimits:
    """Most negative and most positive channel dispersion for a window and a reach.

    Parameters
    ----------
    window_nm : (float, float)
        Shortest and longest wavelength of the PHY (all lanes), nm.
    reach_m : float
        Fibre length, m.
    s0_ps_per_nm2_km : float
        Zero-dispersion slope, default 0.093 (802.3).
    lambda0_range_nm : (float, float)
        Range of the zero-dispersion wavelength, default 1300-1324 nm.

    Returns
    -------
    DispersionLimits
        min = D(λ_short; λ0_max)·L, max = D(λ_long; λ0_min)·L, in ps/nm.

    Examples
    --------
    >>> d = dispersion_limits((1304.5, 1317.5), 500.0)
    >>> round(d.min_ps_per_nm, 2), round(d.max_ps_per_nm, 2)
    (-0.93, 0.8)
    """
    for name, pair in (("window_nm", window_nm), ("lambda0_range_nm", lambda0_range_nm)):
        if isinstance(pair, (str, bytes)) or not hasattr(pair, "__len__") or len(pair) != 2:
            raise InvalidType(f"{name} must be a pair (low_nm, high_nm), got {pair!r}")
    lo = validate.positive("window_nm[0]", window_nm[0], "nm")
    hi = validate.positive("window_nm[1]", window_nm[1], "nm")
    if lo > hi:
        raise InvalidParameter(f"window_nm = {window_nm!r} must be (shortest, longest)")
    l0lo = validate.positive("lambda0_range_nm[0]", lambda0_range_nm[0], "nm")
    l0hi = validate.positive("lambda0_range_nm[1]", lambda0_range_nm[1], "nm")
    if l0lo > l0hi:
        raise InvalidParameter(f"lambda0_range_nm = {lambda0_range_nm!r} must be (low, high)")
    length_km = validate.non_negative("reach_m", reach_m, "m") / 1000.0
    d_min = dispersion_ps_per_nm_km(lo, l0hi, s0_ps_per_nm2_km) * length_km
    d_max = dispersion_ps_per_nm_km(hi, l0lo, s0_ps_per_nm2_km) * length_km
    return DispersionLimits(
        min_ps_per_nm=d_min,
        max_ps_per_nm=d_max,
        window_nm=(lo, hi),
        reach_m=length_km * 1000.0,
        s0_ps_per_nm2_km=float(s0_ps_per_nm2_km),
        lambda0_range_nm=(float(l0lo), float(l0hi)),
    )
