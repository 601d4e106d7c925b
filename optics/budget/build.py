"""Entry points: :func:`link_budget` and its sweeps over reach and temperature.

:func:`link_budget` computes the standard-allocations column
(:func:`~optics.budget.standard.standard_budget`) and a physics column from a pluggable provider
(default :class:`~optics.budget.closed_form.ClosedFormPhysics`) side by side;
:func:`budget_vs_reach` and :func:`budget_vs_temperature` repeat it over a list of reaches or
temperatures and return a :class:`~optics.budget.ledger.BudgetSweep`.

Examples
--------
>>> b = link_budget("400GBASE-DR4", reach_m=500.0)
>>> abs(b.standard.margin_db) < 1e-9
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from optics import validate
from optics.budget.closed_form import ClosedFormPhysics
from optics.budget.conditions import T_REF_C, LinkConditions, ProposalAllocations
from optics.budget.end_of_life import EndOfLife, check_end_of_life
from optics.budget.ledger import BudgetColumn, BudgetSweep, LinkBudget, PhysicsProvider
from optics.budget.standard import standard_budget
from optics.errors import InvalidParameter, InvalidType
from optics.phy import PhySpec, load_phy


def link_budget(
    phy: str | PhySpec,
    *,
    reach_m: float | None = None,
    connectors: int | None = None,
    temperature_c: float = T_REF_C,
    physics: PhysicsProvider | None = None,
    allow_proposal: bool = False,
    proposal_allocations: ProposalAllocations | None = None,
    end_of_life: EndOfLife | None = None,
    **conditions: Any,
) -> LinkBudget:
    """Budget of ``phy`` from the standard's allocations and from physics, side by side.

    Parameters
    ----------
    phy : str or PhySpec
        PHY name or spec; needs Tx OMA, TDECQ, stressed sensitivity rows and [budget].
    reach_m : float, optional
        Fibre length, m [the PHY's reach].
    connectors : int, optional
        Number of connections [None: the standard's connection allocation].
    temperature_c : float
        Module temperature, °C [25].
    physics : callable, optional
        ``provider(spec, conditions) -> BudgetColumn`` [``ClosedFormPhysics()``]; pass
        :class:`~optics.budget.model_physics.ModelPhysics` for the link models (the ``optics budget``
        default where a preset exists).
    allow_proposal : bool
        Budget a PHY whose table has only task-force PROPOSAL rows (802.3dj 200 G/lane) from those
        rows and :class:`ProposalAllocations` [False: such a PHY is a SpecError].  Every line so
        built is marked PROPOSAL (``BudgetItem.proposal``, ``LinkBudget.proposal``, text output).
    proposal_allocations : ProposalAllocations, optional
        Fall-back proposal numbers [``ProposalAllocations()``]; needs ``allow_proposal=True``.
    end_of_life : EndOfLife, optional
        Add the end-of-life column (the physics column with the lasers aged,
        :mod:`optics.budget.model_end_of_life`); needs ``physics`` to be a provider that ages its
        lasers, :class:`~optics.budget.model_physics.ModelPhysics` [None: no such column].
    **conditions
        ``fiber_attenuation_db_per_km``, ``connector_loss_db`` overrides (see LinkConditions).

    Raises
    ------
    SpecError
        Unknown PHY, or a PHY whose table lacks the rows a budget needs (e.g. 802.3dj PHYs
        without ``allow_proposal``).
    InvalidParameter, InvalidType
        Bad conditions, or ``end_of_life`` with a provider other than :class:`ModelPhysics`.
    """
    eol = check_end_of_life(end_of_life)
    spec = phy if isinstance(phy, PhySpec) else load_phy(phy)
    cond = LinkConditions(reach_m=spec.reach_m if reach_m is None else reach_m, connectors=connectors,
                          temperature_c=temperature_c, allow_proposal=allow_proposal,
                          proposal_allocations=proposal_allocations, **conditions)
    provider = physics if physics is not None else ClosedFormPhysics()
    # a provider that ages its lasers has an end_of_life_column method (the link models' ModelPhysics)
    aged_column = getattr(provider, "end_of_life_column", None)
    if eol is not None and not callable(aged_column):
        raise InvalidType("the end-of-life column needs the link models (ModelPhysics, or a provider with an "
                          f"end_of_life_column method), got {type(provider).__name__}")
    standard = standard_budget(spec, cond)  # first: a PHY the standard cannot budget fails before any simulation
    col = provider(spec, cond)
    if not isinstance(col, BudgetColumn):
        raise InvalidParameter(f"physics provider returned {type(col).__name__}, expected BudgetColumn")
    eol_col = None if eol is None else aged_column(spec, cond, col, eol)
    return LinkBudget(spec.name, cond, standard, col, eol_col)


def budget_vs_reach(phy: str | PhySpec, reaches_m: Sequence[float], **kwargs: Any) -> BudgetSweep:
    """Margins over a list of reaches (m); other keywords as :func:`link_budget`.

    Pass one provider instance (e.g. ``physics=ModelPhysics()``) so that what does not change
    with reach is computed once.
    """
    spec = phy if isinstance(phy, PhySpec) else load_phy(phy)
    xs = tuple(float(x) for x in validate.finite_array("reaches_m", reaches_m))
    res = [link_budget(spec, reach_m=x, **kwargs) for x in xs]
    return BudgetSweep(spec.name, "reach_m", xs, tuple(r.standard.margin_db for r in res),
                       tuple(r.physics.margin_db for r in res), any(r.proposal for r in res),
                       res[0].physics.method if res else "closed-form physics")


def budget_vs_temperature(phy: str | PhySpec, temperatures_c: Sequence[float], **kwargs: Any) -> BudgetSweep:
    """Margins over a list of temperatures (°C); other keywords as :func:`link_budget`."""
    spec = phy if isinstance(phy, PhySpec) else load_phy(phy)
    xs = tuple(float(x) for x in validate.finite_array("temperatures_c", temperatures_c))
    res = [link_budget(spec, temperature_c=x, **kwargs) for x in xs]
    return BudgetSweep(spec.name, "temperature_c", xs, tuple(r.standard.margin_db for r in res),
                       tuple(r.physics.margin_db for r in res), any(r.proposal for r in res),
                       res[0].physics.method if res else "closed-form physics")
