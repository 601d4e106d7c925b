"""Conditions of a link budget: reach, connectors, temperature, and the task-force fall-backs.

:class:`LinkConditions` says where the link runs (reach, connections, case temperature, fibre
loss overrides) and whether task-force PROPOSAL values may be used; :class:`ProposalAllocations`
holds the documented fall-back numbers of a PROPOSAL budget (802.3dj 200 Gb/s lanes) where a PHY
table has no row.  ``T_REF_C`` is the reference temperature (25 °C) of the physics assumptions.
"""

from __future__ import annotations

import dataclasses

from optics import validate
from optics.errors import InvalidParameter, InvalidType


#: Reference temperature of the physics assumptions, °C.
T_REF_C = 25.0


@dataclasses.dataclass(frozen=True, kw_only=True)
class ProposalAllocations:
    """Fall-back numbers of a PROPOSAL budget where a PHY table has no row (802.3dj 200 G/lane).

    Source: C. Cole, 802.3 B400G task-force case study for a 200 G DRn
    (ieee802.org/3/B400G/email/msg01599), quoted in the reference notes §1.4.  These are
    task-force PROPOSAL numbers, not limits of a published standard; a budget built from them is
    advisory.  Rows present in the PHY table (proposal or not) always take precedence.

    Parameters (defaults in brackets)
    ----------
    oma_minus_tdecq_dbm : float
        Tx OMA_outer floor at zero eye closure [−1.2 dBm: the case study's "Tx spec equation at
        TECQ = 0"].  The worst compliant Tx launches this + TDECQ max, with slope 1 in TDECQ as
        in 802.3's OMA − TDECQ rows; the case study's columns (OMA min 1.3 dBm at TDECQ 2.5 dB,
        3.8 dBm at 5.0 dB) agree with slope 1, but the equation itself is not quoted: UNVERIFIED.
    mpi_dgd_allocation_db : float
        MPI/DGD penalty allocation [0.1 dB, case study].
    fiber_attenuation_db_per_km : float
        Fibre loss used to split a channel insertion-loss row into fibre and connections
        [0.5 dB/km, the value of the 802.3 DR-family tables here; UNVERIFIED for 802.3dj].
    connector_loss_db : float
        Loss per connection for an explicit connector count [0.5 dB, as the DR-family tables].
    rx_sensitivity_stress_db : float
        Eye closure of the test signal at which a receiver-sensitivity (RxS) row holds
        [1.5 dB: inferred from the case study, whose RxS −2.8 dBm equals −1.2 + 1.5 − 3.0 − 0.1,
        i.e. the worst Tx at TECQ 1.5 dB through the worst channel; UNVERIFIED].  With no stressed
        sensitivity row the budget uses RxS + (TDECQ max − this), the sensitivity at a closure of
        TDECQ max.
    """

    oma_minus_tdecq_dbm: float = -1.2
    mpi_dgd_allocation_db: float = 0.1
    fiber_attenuation_db_per_km: float = 0.5
    connector_loss_db: float = 0.5
    rx_sensitivity_stress_db: float = 1.5
    source: str = "C. Cole, 802.3 B400G case study for a 200G DRn (ieee802.org/3/B400G/email/msg01599): PROPOSAL"

    def __post_init__(self) -> None:
        validate.in_range("oma_minus_tdecq_dbm", self.oma_minus_tdecq_dbm, -40.0, 30.0, unit="dBm")
        validate.non_negative("mpi_dgd_allocation_db", self.mpi_dgd_allocation_db, "dB")
        validate.non_negative("fiber_attenuation_db_per_km", self.fiber_attenuation_db_per_km, "dB/km")
        validate.non_negative("connector_loss_db", self.connector_loss_db, "dB")
        validate.non_negative("rx_sensitivity_stress_db", self.rx_sensitivity_stress_db, "dB")
        if not isinstance(self.source, str):
            raise InvalidType(f"source must be a string, got {type(self.source).__name__}")


@dataclasses.dataclass(frozen=True, kw_only=True)
class LinkConditions:
    """Where the link runs: reach, connectors, temperature and fibre loss.

    Parameters
    ----------
    reach_m : float
        Fibre length, m (>= 0).
    connectors : int or None
        Number of connections; None uses the standard's total connection allocation.
    temperature_c : float
        Module case temperature, °C (-40..125); used by the physics column only.
    fiber_attenuation_db_per_km, connector_loss_db : float or None
        Override the PHY's budget allocations (None = PHY file values).
    allow_proposal : bool
        Use task-force PROPOSAL rows, and :class:`ProposalAllocations` where the table has no
        row, instead of refusing the budget [False].  Lines so built are marked PROPOSAL.
    proposal_allocations : ProposalAllocations or None
        The fall-back proposal numbers [None: ``ProposalAllocations()``]; needs ``allow_proposal``.
    allow_draft : bool
        Use the table's DRAFT rows (unapproved standard draft numbers) where it has no published
        row [False]; task-force PROPOSAL rows and :class:`ProposalAllocations` still need
        ``allow_proposal`` (which, as before, uses draft and proposal rows alike).  Lines so built
        are marked PROPOSAL (the budget knows no separate draft mark).
    """

    reach_m: float
    connectors: int | None = None
    temperature_c: float = T_REF_C
    fiber_attenuation_db_per_km: float | None = None
    connector_loss_db: float | None = None
    allow_proposal: bool = False
    proposal_allocations: ProposalAllocations | None = None
    allow_draft: bool = False

    def __post_init__(self) -> None:
        validate.non_negative("reach_m", self.reach_m, "m")
        if self.connectors is not None:
            validate.integer("connectors", self.connectors, 0, 100)
        validate.in_range("temperature_c", self.temperature_c, -40.0, 125.0, unit="°C")
        if self.fiber_attenuation_db_per_km is not None:
            validate.non_negative("fiber_attenuation_db_per_km", self.fiber_attenuation_db_per_km, "dB/km")
        if self.connector_loss_db is not None:
            validate.non_negative("connector_loss_db", self.connector_loss_db, "dB")
        if not isinstance(self.allow_proposal, bool):
            raise InvalidType(f"allow_proposal must be True or False, got {self.allow_proposal!r}")
        if not isinstance(self.allow_draft, bool):
            raise InvalidType(f"allow_draft must be True or False, got {self.allow_draft!r}")
        if self.proposal_allocations is not None:
            if not isinstance(self.proposal_allocations, ProposalAllocations):
                raise InvalidType("proposal_allocations must be a ProposalAllocations, got "
                                  f"{type(self.proposal_allocations).__name__}")
            if not self.allow_proposal:
                raise InvalidParameter("proposal_allocations given with allow_proposal=False; "
                                       "set allow_proposal=True to use proposal values")

    @property
    def proposal(self) -> ProposalAllocations:
        """The proposal fall-back numbers in force (defaults when none were given)."""
        return self.proposal_allocations if self.proposal_allocations is not None else ProposalAllocations()
