"""Optical link budgets of an IEEE 802.3 PHY: the standard's allocations and closed-form physics.

A budget is a ledger from transmitter OMA to receiver sensitivity; the margin (dB) is

    margin = P_tx,OMA - channel insertion loss - penalties - receiver sensitivity.

Two columns are computed side by side:

**Standard allocations** (:func:`standard_budget`).  The worst compliant transmitter launches
OMA_outer = (OMA - TDECQ)_min + TDECQ_max (e.g. 400GBASE-DR4: -2.2 + 3.4 = 1.2 dBm); the channel
loses fibre attenuation × reach + connections; the MPI/DGD allocation is subtracted; the
receiver must work at the stressed sensitivity (measured with SECQ = TDECQ_max, so the TDECQ
allocation sits inside it).  Dispersion, RIN and ER penalties are not separate allocations in
802.3: TDECQ is measured through fibre at the dispersion extremes with the ORL applied, and the
OMA - TDECQ floor depends on ER.  At the PHY's reach and default allocations the margin is ~0.

**Physics** (a pluggable provider; default :class:`ClosedFormPhysics`).  Closed-form penalty
estimates, each documented where it is computed: ER (OMA vs average power), dispersion
(small-signal power fading at the Nyquist frequency), RIN and MPI (Q degradation by added
Gaussian noise), the transmitter's own eye closure, and a thermal-noise-limited receiver.
A provider is any callable ``provider(spec, conditions) -> BudgetColumn``.

**Link-model physics** (:class:`optics.budget.model_physics.ModelPhysics`, the ``optics budget``
default where ``models.presets`` has the PHY).  Tx OMA and power, the dispersion penalty (TDECQ through the
worst-case fibre minus back-to-back) and the receiver sensitivity (a simulated search for the
BER limit, or the closed form of the model receiver's noise) come from simulating the PHY's
preset module with :func:`models.link.simulate` and measuring it with ``optics``; channel loss
and MPI from the model ``Channel``.

**Task-force proposals** (802.3dj 200 Gb/s lanes).  A PHY whose table holds only PROPOSAL rows
has no standard budget; ``allow_proposal=True`` computes one anyway from the proposal rows, and
where the table has no row at all from :class:`ProposalAllocations` (numbers of a published
task-force case study, each documented).  Every ledger line built from such a value has
``proposal=True`` and is shown as PROPOSAL in text, dict and record output.

Modules
-------
``conditions``
    :class:`LinkConditions`, :class:`ProposalAllocations`, ``T_REF_C``.
``ledger``
    :class:`BudgetItem`, :class:`BudgetColumn`, :class:`LinkBudget`, :class:`BudgetSweep`
    (text, dict, records, plot) and ``PhysicsProvider``.
``standard``
    :func:`standard_budget`, :func:`worst_case_tx_oma_dbm` and the PHY-table row helpers.
``closed_form``
    The penalty formulas (:func:`q_inverse_for_ser`, :func:`q_for_ber`,
    :func:`bt4_noise_bandwidth_hz`, :func:`er_penalty_db`, :func:`noise_penalty_db`,
    :func:`rin_relative_variance`, :func:`mpi_relative_variance`,
    :func:`dispersion_fading_penalty_db`) and :class:`ClosedFormPhysics`.
``end_of_life``
    :class:`EndOfLife`: the age of the lasers for the end-of-life column,
    ``link_budget(..., end_of_life=EndOfLife())``.
``build``
    :func:`link_budget`, :func:`budget_vs_reach`, :func:`budget_vs_temperature`.

Every name of those modules is re-exported here: ``from optics.budget import link_budget`` etc.

Two modules of this package belong to the application layer above the analysis core (they run
the link models, :mod:`models`), so this package does not import them; import them by name:

``model_physics``
    :class:`~optics.budget.model_physics.ModelPhysics`,
    :func:`~optics.budget.model_physics.receiver_sensitivity_oma_dbm`,
    :func:`~optics.budget.model_physics.has_model_preset`.
``model_end_of_life``
    :func:`~optics.budget.model_end_of_life.end_of_life_column`: the physics column with the
    lasers aged (:mod:`models.aging`), which ``ModelPhysics.end_of_life_column`` gives.

Examples
--------
>>> b = link_budget("400GBASE-DR4", reach_m=500.0)
>>> abs(b.standard.margin_db) < 1e-9
True
"""


from __future__ import annotations

# Re-exported so that every name of the former single-module ``optics.budget`` stays importable.
import dataclasses  # noqa: F401
import math  # noqa: F401
from collections.abc import Callable, Sequence  # noqa: F401
from typing import Any  # noqa: F401

import numpy as np  # noqa: F401
from scipy import integrate, special  # noqa: F401

from optics import validate  # noqa: F401
from optics.budget.build import budget_vs_reach, budget_vs_temperature, link_budget
from optics.budget.closed_form import (
    C_M_PER_S,
    ClosedFormPhysics,
    bt4_noise_bandwidth_hz,
    dispersion_fading_penalty_db,
    er_penalty_db,
    mpi_relative_variance,
    noise_penalty_db,
    q_for_ber,
    q_inverse_for_ser,
    rin_relative_variance,
)
from optics.budget.conditions import T_REF_C, LinkConditions, ProposalAllocations
from optics.budget.end_of_life import END_OF_LIFE_METHOD, EndOfLife, check_end_of_life  # noqa: F401
from optics.budget.ledger import BudgetColumn, BudgetItem, BudgetSweep, LinkBudget, PhysicsProvider, _margin, _shown
from optics.budget.standard import (
    _channel_items,
    _mpi_dgd,
    _row_value,
    _rows,
    _sensitivity,
    _single,
    _tx_oma,
    standard_budget,
    worst_case_tx_oma_dbm,
)
from optics.errors import InvalidParameter, InvalidType, SpecError  # noqa: F401
from optics.phy import LimitRow, PhySpec, load_phy  # noqa: F401
from optics.phy.dispersion import LAMBDA0_RANGE_NM, dispersion_limits, dispersion_ps_per_nm_km  # noqa: F401
