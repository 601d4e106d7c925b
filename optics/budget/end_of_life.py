"""End-of-life column of a link budget: the link-model ledger with the lasers aged.

:class:`EndOfLife` says how old the lasers are: ``hours`` of operation at a chip temperature
``temperature_c`` (defaults: the budget's chip temperature, and the hours the wear-out model
of :mod:`models.aging` takes there to reach its end-of-life criterion, a bias rise of
``LaserAging.end_of_life_increase`` = +20 %).  :func:`end_of_life_column` ages every lane's
laser by :func:`models.aging.aged_module` and simulates the aged transmitters with the same
:class:`~optics.budget.model_physics.ModelPhysics` settings and seed.

What changes at end of life (the ledger's equation is the begin-of-life one):

* **Die temperature**: the aged lasers draw more current and dissipate more on the die, so
  the aged module's die sits warmer, ``T' = T_case + R_chip·P_die,EOL(T')``
  (:func:`models.thermal.chip_temperature_c` of the aged module; 400GBASE-DR4 at 70 °C case
  with a 200 mA limit: 77.7 against 76.6 °C).  Begin-of-life quantities are at ``T``, the
  module's die temperature, end-of-life ones at ``T'``.
* **Laser**: the threshold has risen by ``δ·I_0(T_a)`` (``δ`` the bias rise of
  :meth:`models.aging.LaserAging.bias_increase`).  Under automatic power control the bias at
  the aged die temperature ``T'`` rises to
  ``I_EOL = I_BOL(T') + δ·I_0(T_a)·exp((T' − T_a)/T0)`` and the launch power holds, as long as
  ``I_EOL`` stays within the driver's limit ``I_max``; beyond it the power falls to
  ``P_EOL = η(T')·(I_max − I_th,EOL(T'))`` (:mod:`models.laser`).
* **Tx OMA**: the modulator passes a share of the laser's power that changes only with its
  own temperature (the MZM's Vπ(T) and bias loop: < 0.002 dB over the ~1 K the aged die
  warms), so ``OMA_EOL ≈ OMA_BOL + 10·log10(P_EOL(T')/P_BOL(T))`` dB; the simulated aged
  transmitter measures it.
* **Unchanged** (stated as assumptions): the channel, the dispersion penalty (TDECQ does not
  depend on the signal's scale), the MPI penalty (its ER is unchanged), the receiver
  sensitivity (photodiode and TIA are taken not to age).

The aging cost is ``margin_BOL − margin_EOL`` = ``OMA_BOL − OMA_EOL`` (while the APC holds, only
the MZM's change on the warmer aged die: about −0.002 dB).
The column also shows the laser bias at begin and end of life, the driver's limit and the
electrical power of the module at both (:func:`models.thermal.static_module_power`: the
aged lasers draw more).

Examples
--------
>>> from optics.budget import link_budget, ModelPhysics
>>> b = link_budget("400GBASE-DR4", physics=ModelPhysics(sensitivity="closed-form"),
...                 end_of_life=EndOfLife())
>>> abs(b.end_of_life.item("aging_penalty").value) < 0.01   # the APC holds the launch power
True
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from optics import validate
from optics.budget.conditions import LinkConditions
from optics.budget.ledger import BudgetColumn, BudgetItem, _margin
from optics.errors import InvalidParameter, InvalidType
from optics.phy import PhySpec

#: ``BudgetColumn.method`` of the end-of-life column.
END_OF_LIFE_METHOD = "link-model physics at end of life"


@dataclasses.dataclass(frozen=True, kw_only=True)
class EndOfLife:
    """Age of the lasers for the end-of-life column.

    Parameters
    ----------
    hours : float or None
        Hours of operation, >= 0 [None: the hours to the end-of-life criterion of ``aging`` at
        ``temperature_c``, :meth:`models.aging.LaserAging.hours_to_end_of_life`].
    temperature_c : float or None
        Laser chip temperature during those hours, °C, -40...150 [None: the budget's chip
        temperature, the begin-of-life module's die at the budget's case temperature].
    aging : models.aging.LaserAging or None
        Wear-out model [None: ``LaserAging()``, its values and sources in :mod:`models.aging`].
    """

    hours: float | None = None
    temperature_c: float | None = None
    aging: Any = None

    def __post_init__(self) -> None:
        if self.hours is not None:
            validate.in_range("hours", self.hours, 0.0, 1e8, unit="h")
        if self.temperature_c is not None:
            validate.in_range("temperature_c", self.temperature_c, -40.0, 150.0, unit="°C")
        if self.aging is not None:
            from models.aging import LaserAging

            if not isinstance(self.aging, LaserAging):
                raise InvalidType(f"aging must be a models.aging.LaserAging or None, got {type(self.aging).__name__}")

    def resolve(self, chip_temperature_c: float) -> tuple[float, float, Any]:
        """``(hours, aging temperature °C, LaserAging)`` for a budget whose chip sits at ``chip_temperature_c``."""
        from models.aging import LaserAging

        aging = self.aging if self.aging is not None else LaserAging()
        t_a = chip_temperature_c if self.temperature_c is None else float(self.temperature_c)
        hours = aging.hours_to_end_of_life(t_a) if self.hours is None else float(self.hours)
        return hours, t_a, aging


def _dbm(w: float) -> float | None:
    return 10.0 * math.log10(w / 1e-3) if w > 0.0 else None


def end_of_life_column(physics: Any, spec: PhySpec, cond: LinkConditions, begin: BudgetColumn,
                       eol: EndOfLife) -> BudgetColumn:
    """The end-of-life ledger of ``spec`` under ``cond`` (module docstring).

    Parameters
    ----------
    physics : ModelPhysics
        The provider of the begin-of-life column ``begin`` (its module, pattern, seed).
    spec, cond
        As for the provider.
    begin : BudgetColumn
        The begin-of-life column it returned.
    eol : EndOfLife

    Raises
    ------
    InvalidType
        ``physics`` is not a :class:`~optics.budget.model_physics.ModelPhysics` or ``eol``
        not an :class:`EndOfLife`.
    """
    from models.aging import aged_module
    from models.thermal import chip_temperature_c, static_module_power

    from optics.budget.model_physics import ModelPhysics

    if not isinstance(physics, ModelPhysics):
        raise InvalidType("the end-of-life column needs the link models (ModelPhysics), got "
                          f"{type(physics).__name__}")
    if not isinstance(eol, EndOfLife):
        raise InvalidType(f"end_of_life must be an EndOfLife, got {type(eol).__name__}")
    module = physics.module_for(spec)
    t_case = cond.temperature_c
    t_chip = chip_temperature_c(module, t_case)
    hours, t_age, aging = eol.resolve(t_chip)
    key = ("eol physics", spec.name, hours, t_age, aging)
    aged_physics = physics._cache.get(key)
    if aged_physics is None:
        aged = aged_module(module, hours, temperature_c=t_age, aging=aging)
        aged_physics = dataclasses.replace(physics, module=aged)
        physics._cache[key] = aged_physics
    aged = aged_physics.module_for(spec)
    where = f"{hours:.4g} h at a {t_age:g} °C chip ({aging.bias_increase(hours, t_age) * 100:.1f} % bias rise there)"
    oma_bol = begin.item("tx_oma").value
    if oma_bol is None:
        return BudgetColumn(END_OF_LIFE_METHOD, begin.items, None,
                            (f"lasers aged {where}", "no begin-of-life budget, so none at end of life"))
    lanes = aged_physics.tx_lanes(spec, t_case)
    ok = [t for t in lanes if t["metrics"].get("oma_outer_dbm") is not None and not t["metrics"].get("link_failed")]
    notes = [f"lasers aged {where} (models.aging; wear-out values are ASSUMPTIONS there)",
             "unchanged from begin of life (assumptions): channel, dispersion penalty (TDECQ is scale-invariant), "
             "MPI penalty, Rx sensitivity (receiver not aged)"]
    if not ok:
        why = "; ".join(f"{t['name']}: {t['metrics'].get('failure') or 'eye closed'}" for t in lanes)
        items = (BudgetItem("tx_oma", "Tx OMA_outer at end of life (model)", None, "dBm", +1, f"link failed ({why})"),)
        return BudgetColumn(END_OF_LIFE_METHOD, items, None, tuple(notes + [f"no budget: {why}"]))
    worst = min(ok, key=lambda t: t["metrics"]["oma_outer_dbm"])
    i = worst["index"]
    new_laser, old_laser = module.lanes[i].transmitter.laser, aged.lanes[i].transmitter.laser
    oma_eol = float(worst["metrics"]["oma_outer_dbm"])
    # the aged module's die runs warmer (its lasers dissipate more): end of life at its own temperature
    t_eol = chip_temperature_c(aged, t_case)
    i_bol, i_eol = new_laser.bias_current_at(t_chip), old_laser.bias_current_at(t_eol)
    p_bol, p_eol = new_laser.output_power_w(t_chip), old_laser.output_power_w(t_eol)
    limit = new_laser.max_bias_current_a
    pw_bol, pw_eol = static_module_power(module, t_case), static_module_power(aged, t_case)
    apc = "APC at its current limit: power falls" if old_laser.apc_limited(t_eol) else (
        "APC holds the launch power" if new_laser.apc_power_w is not None else "constant current: power falls")
    info = [
        BudgetItem("chip_temperature_bol", "Die temperature, begin of life (info)", t_chip, "°C", 0,
                   f"case {t_case:g} °C + R_chip P_die (models.thermal.chip_temperature_c)"),
        BudgetItem("chip_temperature_eol", "Die temperature, end of life (info)", t_eol, "°C", 0,
                   "the aged module's die: its lasers dissipate more"),
        BudgetItem("laser_bias_bol", "Laser bias, begin of life (info)", i_bol * 1e3, "mA", 0,
                   f"{worst['name']} at a {t_chip:g} °C chip (models.laser bias_current_at)"),
        BudgetItem("laser_bias_eol", "Laser bias, end of life (info)", i_eol * 1e3, "mA", 0,
                   f"{apc}; +{(i_eol / i_bol - 1.0) * 100:.1f} % at a {t_eol:g} °C chip"),
        BudgetItem("laser_bias_limit", "Laser driver current limit (info)", None if limit is None else limit * 1e3,
                   "mA", 0, "max_bias_current_a of the laser (none: no limit)"),
        BudgetItem("laser_power_bol", "Laser output, begin of life (info)", _dbm(p_bol), "dBm", 0, "models.laser"),
        BudgetItem("laser_power_eol", "Laser output, end of life (info)", _dbm(p_eol), "dBm", 0,
                   "P = min(P_set, eta(T') (I_max - I_th,EOL(T'))) at the aged die's T'"),
        BudgetItem("module_power_bol", "Module power, begin of life (info)",
                   None if pw_bol is None else pw_bol.module_w, "W", 0, "models.power at the case temperature"),
        BudgetItem("module_power_eol", "Module power, end of life (info)",
                   None if pw_eol is None else pw_eol.module_w, "W", 0, "the aged lasers' bias"),
        BudgetItem("aging_penalty", "Aging cost: OMA_BOL - OMA_EOL (info)", oma_bol - oma_eol, "dB", 0,
                   "simulated; closed form 10 log10(P_BOL(T)/P_EOL(T')) of the laser output = "
                   + ("n/a (no light)" if p_eol <= 0.0 else f"{round(10.0 * math.log10(p_bol / p_eol), 3) + 0.0:.3f} dB")),
    ]
    losses = [it for it in begin.items if it.sign == -1]
    items = [BudgetItem("tx_oma", "Tx OMA_outer at end of life (model, lowest lane)", oma_eol, "dBm", +1,
                        f"simulated aged {worst['name']} at case {t_case:g} °C, measured by optics.levels"),
             *losses, *info]
    if any(it.value is None for it in items if it.sign != 0):
        notes.append("an unbounded penalty: no margin")
    return BudgetColumn(END_OF_LIFE_METHOD, tuple(items), _margin(items), tuple(notes))


def check_end_of_life(value: Any) -> EndOfLife | None:
    """``value`` if it is None or an :class:`EndOfLife`; else InvalidParameter."""
    if value is None or isinstance(value, EndOfLife):
        return value
    raise InvalidParameter(f"end_of_life must be an EndOfLife or None, got {value!r}")


__all__ = ["END_OF_LIFE_METHOD", "EndOfLife", "check_end_of_life", "end_of_life_column"]
