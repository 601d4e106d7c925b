"""Laser aging (wear-out under automatic power control) and a burn-in screen for infant mortality.

Aging (:class:`LaserAging`, :func:`aged_laser`).  A laser held at constant output by its APC
loop (:class:`models.laser.DfbLaser` with ``apc_power_w``) needs more current as it wears
out.  The gradual-degradation law (M. Fukuda, *Reliability and Degradation of Semiconductor
Lasers and LEDs*, Artech House 1991, ch. 4; the form Telcordia GR-468-CORE uses to
extrapolate operating-current drift)::

    ΔI/I_0 = δ_ref · (t_eq / t_ref)^m,        t_eq = t · AF(T)
    AF(T)  = exp(E_a/k_B · (1/T_ref − 1/T))    (Arrhenius, T in kelvin)

``t_eq`` is the time at the reference temperature that does the same damage as ``t`` hours at
``T``.  The end of life is the bias rise ``ΔI/I_0 = EOL`` (+20 %: the operating-current
criterion commonly applied to APC lasers in GR-468-CORE qualification), reached after
``t_EOL(T) = t_ref (EOL/δ_ref)^(1/m) / AF(T)``.  The degradation is put into the laser as a
threshold rise: at the aging temperature ``T_a`` the threshold grows by ``δ·I_0(T_a)``, so
the APC bias there rises by exactly that and at other temperatures by
``δ·I_0(T_a)·exp((T − T_a)/T0)`` (the threshold's own temperature law).

Values: ``m = 0.5`` (square-root law of gradual degradation, Fukuda ch. 4); ``E_a = 0.5 eV``
(ASSUMPTION within the 0.3-0.7 eV reported for InP DFB wear-out); ``δ_ref = 8 %`` after
100 000 h at a 55 °C chip (ASSUMPTION, UNVERIFIED: no vendor qualification data here), i.e.
end of life after 625 000 h at 55 °C, 179 000 h at 80 °C.

Burn-in (:class:`BurnInScreen`, :meth:`BurnInScreen.screen`).  A small share ``f_w`` of the
dies belongs to a weak (freak) subpopulation with a Weibull life of decreasing hazard
(shape ``β < 1``: infant mortality; W. Nelson, *Applied Life Data Analysis*, Wiley 1982,
ch. 2; the bimodal "freak" model of Jensen and Petersen, *Burn-in*, Wiley 1982)::

    F_w(t) = 1 − exp(−(t/η)^β)

A burn-in of ``t_b`` hours at ``T_b`` ages every die by ``t_b·AF(T_b)`` reference hours; the
weak dies that fail are removed (fallout ``f_w·F_w(t_eq)``), the survivors are shipped with
the weak share ``f_w (1 − F_w(t_eq)) / (1 − f_w F_w(t_eq))`` (the escapes), and a shipped
die fails in its first ``t_f`` field hours with probability
``escape · (F_w(t_eq + t_f·AF_f) − F_w(t_eq)) / (1 − F_w(t_eq))``.  The main population's
wear-out (above) is slow enough to neglect during burn-in.  ``f_w = 1 %``, ``η = 2000 h``,
``β = 0.5`` and ``E_a = 0.7 eV`` are ASSUMPTIONS (UNVERIFIED).

Examples
--------
>>> round(arrhenius_factor(85.0, 25.0, 0.5), 1)
26.1
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from models.laser import DfbLaser
from optics import validate
from optics.errors import InvalidType

#: Boltzmann constant in eV/K (CODATA 2018, exact).
BOLTZMANN_EV_PER_K = 8.617333262e-5
_KELVIN = 273.15


def arrhenius_factor(temperature_c: float, reference_temperature_c: float, activation_energy_ev: float) -> float:
    """Acceleration factor ``AF = exp(E_a/k_B · (1/T_ref − 1/T))`` of ``T`` over ``T_ref`` (°C in, K inside).

    Raises
    ------
    InvalidParameter
        Temperatures outside -60...300 °C or a negative activation energy.
    """
    t = validate.in_range("temperature_c", temperature_c, -60.0, 300.0, unit="°C") + _KELVIN
    t_ref = validate.in_range("reference_temperature_c", reference_temperature_c, -60.0, 300.0, unit="°C") + _KELVIN
    ea = validate.non_negative("activation_energy_ev", activation_energy_ev, "eV")
    return math.exp(ea / BOLTZMANN_EV_PER_K * (1.0 / t_ref - 1.0 / t))


@dataclasses.dataclass(frozen=True, kw_only=True)
class LaserAging:
    """Wear-out of an APC laser: its bias rise with hours at temperature (module docstring).

    Parameters
    ----------
    activation_energy_ev : float
        ``E_a`` in eV, >= 0 (0.5, ASSUMPTION).
    reference_temperature_c : float
        Chip temperature ``T_ref`` (°C) of the reference figure (55).
    reference_hours : float
        ``t_ref`` in h, > 0 (100 000).
    bias_increase_at_reference : float
        ``δ_ref``: fractional bias rise after ``reference_hours`` at ``reference_temperature_c``,
        > 0 (0.08, ASSUMPTION).
    exponent : float
        ``m`` of ``t^m``, (0, 2] (0.5, Fukuda).
    end_of_life_increase : float
        End-of-life criterion: fractional bias rise, > 0 (0.2: +20 %).
    """

    activation_energy_ev: float = 0.5
    reference_temperature_c: float = 55.0
    reference_hours: float = 1e5
    bias_increase_at_reference: float = 0.08
    exponent: float = 0.5
    end_of_life_increase: float = 0.2

    def __post_init__(self) -> None:
        validate.non_negative("activation_energy_ev", self.activation_energy_ev, "eV")
        validate.in_range("reference_temperature_c", self.reference_temperature_c, -60.0, 300.0, unit="°C")
        validate.positive("reference_hours", self.reference_hours, "h")
        validate.positive("bias_increase_at_reference", self.bias_increase_at_reference)
        validate.in_range("exponent", self.exponent, 0.0, 2.0, low_inclusive=False)
        validate.positive("end_of_life_increase", self.end_of_life_increase)

    def equivalent_hours(self, hours: float, temperature_c: float) -> float:
        """``t · AF(T)``: hours at ``reference_temperature_c`` doing the damage of ``hours`` at ``temperature_c``."""
        h = validate.non_negative("hours", hours, "h")
        return h * arrhenius_factor(temperature_c, self.reference_temperature_c, self.activation_energy_ev)

    def bias_increase(self, hours: float, temperature_c: float) -> float:
        """``ΔI/I_0 = δ_ref (t_eq/t_ref)^m`` after ``hours`` at chip temperature ``temperature_c`` (°C)."""
        t_eq = self.equivalent_hours(hours, temperature_c)
        return self.bias_increase_at_reference * (t_eq / self.reference_hours) ** self.exponent

    def hours_to_end_of_life(self, temperature_c: float) -> float:
        """``t_EOL = t_ref (EOL/δ_ref)^(1/m) / AF(T)`` in h at chip temperature ``temperature_c``."""
        t_eq = self.reference_hours * (self.end_of_life_increase / self.bias_increase_at_reference) ** (
            1.0 / self.exponent)
        return t_eq / arrhenius_factor(temperature_c, self.reference_temperature_c, self.activation_energy_ev)


def aged_laser(laser: DfbLaser, hours: float, *, temperature_c: float, aging: LaserAging | None = None) -> DfbLaser:
    """``laser`` after ``hours`` of operation at chip temperature ``temperature_c`` (°C).

    The threshold at ``temperature_c`` rises by ``δ·I_0`` (``δ`` from
    :meth:`LaserAging.bias_increase`, ``I_0`` the bias the new laser needs there: the APC bias
    without its current limit, or the constant current), so an APC laser's bias there rises by
    ``δ·I_0`` (and its power falls once that reaches the current limit); a constant-current
    laser loses ``η·δ·I_0`` of power.

    Raises
    ------
    InvalidParameter, InvalidType
        Negative hours, temperatures out of range, ``laser`` not a DfbLaser.

    Examples
    --------
    >>> laser = DfbLaser(apc_power_w=0.04)
    >>> old = aged_laser(laser, 1e5, temperature_c=55.0)      # δ = 8 % at the reference
    >>> round(old.bias_current_at(55.0) / laser.bias_current_at(55.0), 6)
    1.08
    """
    if not isinstance(laser, DfbLaser):
        raise InvalidType(f"laser must be a models.laser.DfbLaser, got {type(laser).__name__}")
    a = LaserAging() if aging is None else aging
    if not isinstance(a, LaserAging):
        raise InvalidType(f"aging must be LaserAging, got {type(a).__name__}")
    t = validate.in_range("temperature_c", temperature_c, -60.0, 300.0, unit="°C")
    delta = a.bias_increase(hours, t)
    if laser.apc_power_w is not None:
        i0 = laser.threshold_current_at(t) + laser.apc_power_w / laser.slope_efficiency_at(t)
    else:
        i0 = laser.bias_current_a
    d_ith_ref = delta * i0 * math.exp(-(t - laser.temperature_ref_c) / laser.t0_k)
    return dataclasses.replace(laser, threshold_current_a=laser.threshold_current_a + d_ith_ref)


@dataclasses.dataclass(frozen=True)
class BurnInResult:
    """Result of :meth:`BurnInScreen.screen` (fractions of dies, hours at the reference temperature).

    Attributes
    ----------
    equivalent_hours : float
        ``t_b·AF(T_b)``.
    fallout_fraction : float
        Dies that fail during burn-in, ``f_w F_w(t_eq)``.
    escape_fraction : float
        Weak dies among the shipped ones.
    weak_removed_fraction : float
        ``F_w(t_eq)``: share of the weak subpopulation the burn-in removes.
    """

    equivalent_hours: float
    fallout_fraction: float
    escape_fraction: float
    weak_removed_fraction: float


@dataclasses.dataclass(frozen=True, kw_only=True)
class BurnInScreen:
    """Infant-mortality subpopulation and its burn-in screen (module docstring).

    Parameters
    ----------
    weak_fraction : float
        ``f_w``, share of weak dies, [0, 1) (0.01, ASSUMPTION).
    weak_characteristic_hours : float
        Weibull scale ``η`` in h at ``reference_temperature_c``, > 0 (2000, ASSUMPTION).
    weak_shape : float
        Weibull shape ``β``, (0, 1] for infant mortality (0.5, ASSUMPTION).
    activation_energy_ev : float
        ``E_a`` of the weak dies' failure mechanism in eV, >= 0 (0.7, ASSUMPTION).
    reference_temperature_c : float
        Temperature (°C) of ``η`` (55).
    """

    weak_fraction: float = 0.01
    weak_characteristic_hours: float = 2000.0
    weak_shape: float = 0.5
    activation_energy_ev: float = 0.7
    reference_temperature_c: float = 55.0

    def __post_init__(self) -> None:
        validate.in_range("weak_fraction", self.weak_fraction, 0.0, 1.0, high_inclusive=False)
        validate.positive("weak_characteristic_hours", self.weak_characteristic_hours, "h")
        validate.in_range("weak_shape", self.weak_shape, 0.0, 1.0, low_inclusive=False)
        validate.non_negative("activation_energy_ev", self.activation_energy_ev, "eV")
        validate.in_range("reference_temperature_c", self.reference_temperature_c, -60.0, 300.0, unit="°C")

    def weak_failed_fraction(self, reference_hours: float) -> float:
        """``F_w(t) = 1 − exp(−(t/η)^β)`` after ``reference_hours`` at the reference temperature."""
        t = validate.non_negative("reference_hours", reference_hours, "h")
        return -math.expm1(-((t / self.weak_characteristic_hours) ** self.weak_shape))

    def screen(self, hours: float, temperature_c: float) -> BurnInResult:
        """Burn-in of ``hours`` at ``temperature_c`` (°C): fallout and escapes (module docstring)."""
        h = validate.non_negative("hours", hours, "h")
        t_eq = h * arrhenius_factor(temperature_c, self.reference_temperature_c, self.activation_energy_ev)
        f = self.weak_failed_fraction(t_eq)
        fallout = self.weak_fraction * f
        escape = self.weak_fraction * (1.0 - f) / (1.0 - fallout)
        return BurnInResult(t_eq, fallout, escape, f)

    def field_failure_fraction(self, hours: float, temperature_c: float, *, field_hours: float,
                               field_temperature_c: float) -> float:
        """Shipped dies (after the burn-in) that fail within ``field_hours`` at ``field_temperature_c``.

        ``escape · (F_w(t_eq + t_f AF_f) − F_w(t_eq)) / (1 − F_w(t_eq))``.

        Raises
        ------
        InvalidParameter
            Negative hours or temperatures out of range.
        """
        res = self.screen(hours, temperature_c)
        tf = validate.non_negative("field_hours", field_hours, "h") * arrhenius_factor(
            field_temperature_c, self.reference_temperature_c, self.activation_energy_ev)
        f0 = res.weak_removed_fraction
        if f0 >= 1.0:
            return 0.0
        f1 = self.weak_failed_fraction(res.equivalent_hours + tf)
        return res.escape_fraction * (f1 - f0) / (1.0 - f0)


def aged_module(module: Any, hours: float, *, temperature_c: float, aging: LaserAging | None = None) -> Any:
    """Copy of a :class:`models.lane.LinkModule` with every lane's laser :func:`aged_laser`."""
    lanes = [dataclasses.replace(lane, transmitter=dataclasses.replace(
        lane.transmitter, laser=aged_laser(lane.transmitter.laser, hours, temperature_c=temperature_c, aging=aging)))
        for lane in module.lanes]
    return dataclasses.replace(module, lanes=lanes)


__all__ = [
    "BOLTZMANN_EV_PER_K",
    "BurnInResult",
    "BurnInScreen",
    "LaserAging",
    "aged_laser",
    "aged_module",
    "arrhenius_factor",
]
