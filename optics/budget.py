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

**Link-model physics** (:class:`ModelPhysics`, the ``optics budget`` default where
``models.presets`` has the PHY).  Tx OMA and power, the dispersion penalty (TDECQ through the
worst-case fibre minus back-to-back) and the receiver sensitivity (a simulated search for the
BER limit, or the closed form of the model receiver's noise) come from simulating the PHY's
preset module with :func:`models.link.simulate` and measuring it with ``optics``; channel loss
and MPI from the model ``Channel``.

**Task-force proposals** (802.3dj 200 Gb/s lanes).  A PHY whose table holds only PROPOSAL rows
has no standard budget; ``allow_proposal=True`` computes one anyway from the proposal rows, and
where the table has no row at all from :class:`ProposalAllocations` (numbers of a published
task-force case study, each documented).  Every ledger line built from such a value has
``proposal=True`` and is shown as PROPOSAL in text, dict and record output.

Examples
--------
>>> b = link_budget("400GBASE-DR4", reach_m=500.0)
>>> abs(b.standard.margin_db) < 1e-9
True
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import integrate, special

from optics import validate
from optics.errors import InvalidParameter, InvalidType, SpecError
from optics.phy import LimitRow, PhySpec, load_phy
from optics.phy.dispersion import LAMBDA0_RANGE_NM, dispersion_limits, dispersion_ps_per_nm_km

C_M_PER_S = 299_792_458.0
#: Reference temperature of the physics assumptions, °C.
T_REF_C = 25.0


# --------------------------------------------------------------------------------------
# closed forms
# --------------------------------------------------------------------------------------
def q_inverse_for_ser(ser: float) -> float:
    """Q_t with 1.5·Q(Q_t) = SER (Gray PAM4, equally spaced levels).

    >>> round(q_inverse_for_ser(4.8e-4), 4)
    3.4141
    """
    ser = validate.in_range("ser", ser, 0.0, 1.5, low_inclusive=False, high_inclusive=False)
    return float(math.sqrt(2.0) * special.erfcinv(2.0 * ser / 1.5))


def bt4_noise_bandwidth_hz(f3db_hz: float) -> float:
    """Noise-equivalent bandwidth of the 4th-order Bessel-Thomson reference receiver, Hz.

    ENBW = ∫0^∞ |H(f)|² df for H(y) = 105/(105 + 105y + 45y² + 10y³ + y⁴), y = j·2.1139·f/f3dB
    (802.3 reference receiver, 121.8.5 / reference notes §2.1).  About 1.046·f3dB.
    """
    f3db_hz = validate.positive("f3db_hz", f3db_hz, "Hz")
    k = 2.113917674904216  # -3 dB point of the delay-normalised BT4

    def h2(x: float) -> float:
        y = 1j * k * x
        return abs(105.0 / (105.0 + 105.0 * y + 45.0 * y**2 + 10.0 * y**3 + y**4)) ** 2

    val = integrate.quad(h2, 0.0, 1.0)[0] + integrate.quad(h2, 1.0, np.inf, limit=200)[0]
    return float(val * f3db_hz)


def er_penalty_db(extinction_ratio_db: float) -> float:
    """OMA lost to a finite extinction ratio at fixed average power, relative to infinite ER, dB.

    OMA = 2·P_ave·(ER − 1)/(ER + 1) (ER linear), so the penalty is 10·log10((ER + 1)/(ER − 1)).
    Source: standard OMA/ER relations (e.g. Agrawal, *Fiber-Optic Communication Systems*, §5.4).

    >>> round(er_penalty_db(5.0), 3)
    2.844
    """
    er_db = validate.positive("extinction_ratio_db", extinction_ratio_db, "dB")
    er = 10.0 ** (er_db / 10.0)
    return 10.0 * math.log10((er + 1.0) / (er - 1.0))


def noise_penalty_db(relative_variance: float, q_t: float) -> float | None:
    """Optical power penalty of added Gaussian noise proportional to the signal, dB.

    With noise σ_x = OMA·sqrt(relative_variance) on each level and the PAM4 decision distance
    OMA/6, keeping Q = Q_t needs OMA² (1/36 − Q_t²·v) = Q_t²·σ_rx², i.e.

        penalty = −5·log10(1 − 36·Q_t²·v).

    This is the PAM4 form of the RIN penalty of Agrawal §5.4.5 (−5·log10(1 − r²Q²) for NRZ).
    Returns None when 36·Q_t²·v >= 1 (no power overcomes the noise: an error floor).
    """
    v = validate.non_negative("relative_variance", relative_variance)
    x = 36.0 * q_t**2 * v
    if x >= 1.0:
        return None
    return -5.0 * math.log10(1.0 - x)


def rin_relative_variance(rin_db_per_hz: float, noise_bandwidth_hz: float) -> float:
    """σ²/OMA² of RIN_OMA integrated over the receiver noise bandwidth: 10^(RIN/10)·B_n."""
    rin = validate.real("rin_db_per_hz", rin_db_per_hz)
    return 10.0 ** (rin / 10.0) * validate.positive("noise_bandwidth_hz", noise_bandwidth_hz, "Hz")


def mpi_relative_variance(crosstalk_db: float, extinction_ratio_db: float) -> float:
    """σ²/OMA² of multi-path interference beat noise on the top level (Gaussian approximation).

    Two fields of power P and X·P with random phase beat to an intensity noise of variance
    2·X·P² (Gimlett & Cheung, J. Lightwave Technol. 7(6), 1989).  On the top PAM4 level
    P3 = OMA·ER/(ER − 1), so σ²/OMA² = 2·X·(ER/(ER − 1))².  The Gaussian approximation is
    pessimistic: the real beat noise is bounded.
    """
    x = 10.0 ** (validate.real("crosstalk_db", crosstalk_db) / 10.0)
    er = 10.0 ** (validate.positive("extinction_ratio_db", extinction_ratio_db, "dB") / 10.0)
    return 2.0 * x * (er / (er - 1.0)) ** 2


def dispersion_fading_penalty_db(
    dispersion_ps_per_nm: float, wavelength_m: float, frequency_hz: float, chirp_alpha: float = 0.0
) -> float | None:
    """Eye-amplitude penalty of fibre dispersion from small-signal power fading, dB.

    An intensity-modulated carrier through fibre of accumulated dispersion D·L has the response
    H(f) = cos θ − α·sin θ with θ = π·λ²·D·L·f²/c (Devaux et al., J. Lightwave Technol. 11(12),
    1993; reference notes silicon-photonics §4; α sign conventions differ).  Evaluated at the
    Nyquist frequency baud/2 and without equalization, the penalty −10·log10|H| (photocurrent
    ∝ optical power) is a conservative ISI estimate.  Returns None at or past the first notch.
    """
    dl_s_per_m = validate.real("dispersion_ps_per_nm", dispersion_ps_per_nm) * 1e-12 / 1e-9
    lam = validate.positive("wavelength_m", wavelength_m, "m")
    f = validate.non_negative("frequency_hz", frequency_hz, "Hz")
    theta = math.pi * lam**2 * dl_s_per_m * f**2 / C_M_PER_S
    if abs(theta) >= math.pi / 2:
        return None
    h = math.cos(theta) - validate.real("chirp_alpha", chirp_alpha) * math.sin(theta)
    if h <= 0.0:
        return None
    return -10.0 * math.log10(h)


# --------------------------------------------------------------------------------------
# ledger objects
# --------------------------------------------------------------------------------------
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
    """

    reach_m: float
    connectors: int | None = None
    temperature_c: float = T_REF_C
    fiber_attenuation_db_per_km: float | None = None
    connector_loss_db: float | None = None
    allow_proposal: bool = False
    proposal_allocations: ProposalAllocations | None = None

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


@dataclasses.dataclass(frozen=True)
class BudgetItem:
    """One ledger line: a power (dBm, sign +1), a loss or penalty (dB, sign −1) or info (sign 0).

    ``value`` is None when a penalty is unbounded (an error floor or a dispersion notch).
    ``proposal`` is True when the value comes from a task-force proposal, not a standard.
    """

    name: str
    label: str
    value: float | None
    unit: str
    sign: int
    basis: str
    verified: bool = False
    proposal: bool = False


@dataclasses.dataclass(frozen=True)
class BudgetColumn:
    """A ledger and its margin (dB); ``margin_db`` is None when a penalty is unbounded."""

    method: str
    items: tuple[BudgetItem, ...]
    margin_db: float | None
    notes: tuple[str, ...] = ()

    def item(self, name: str) -> BudgetItem:
        """The ledger line called ``name``."""
        for it in self.items:
            if it.name == name:
                return it
        raise InvalidParameter(f"no budget item {name!r}; items: {', '.join(i.name for i in self.items)}")

    @property
    def proposal(self) -> bool:
        """True when any ledger line uses a task-force PROPOSAL value."""
        return any(i.proposal for i in self.items)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"method": self.method, "margin_db": self.margin_db, "proposal": self.proposal,
                "notes": list(self.notes), "items": [dataclasses.asdict(i) for i in self.items]}


def _margin(items: Sequence[BudgetItem]) -> float | None:
    total = 0.0
    for it in items:
        if it.sign == 0:
            continue
        if it.value is None:
            return None
        total += it.sign * it.value
    return total


def _shown(x: float) -> float:
    """For display only: print rounding noise around zero as 0.000, not -0.000."""
    return 0.0 if abs(x) < 5e-4 else x


PhysicsProvider = Callable[[PhySpec, LinkConditions], BudgetColumn]


# --------------------------------------------------------------------------------------
# standard allocations
# --------------------------------------------------------------------------------------
def _rows(spec: PhySpec, metric: str, allow_proposal: bool) -> tuple[LimitRow, ...]:
    """Rows on ``metric``: the non-proposal ones; only if none, the proposal ones (when allowed)."""
    rows = spec.rows_for(metric)
    firm = tuple(r for r in rows if not r.proposal)
    if firm or not allow_proposal:
        return firm
    return tuple(r for r in rows if r.proposal)


def _row_value(spec: PhySpec, metric: str, side: str, allow_proposal: bool = False) -> tuple[float, LimitRow] | None:
    for r in _rows(spec, metric, allow_proposal):
        b = getattr(r, side)
        if isinstance(b, float):
            return b, r
    return None


def _single(spec: PhySpec, metric: str, side: str, allow_proposal: bool = False) -> float:
    got = _row_value(spec, metric, side, allow_proposal)
    if got is None:
        hint = ""
        if not allow_proposal and any(r.proposal for r in spec.rows_for(metric)):
            hint = " (the table has a task-force PROPOSAL row: allow_proposal=True, or --allow-proposal on the command line, uses it)"
        raise SpecError(f"{spec.name}: no numeric {side} row for {metric}; a standard budget needs it{hint}")
    return got[0]


def _tx_oma(spec: PhySpec, allow_proposal: bool, prop: ProposalAllocations) -> tuple[float, bool, bool, str]:
    """(worst compliant Tx OMA dBm, verified, proposal, basis); see :func:`worst_case_tx_oma_dbm`."""
    got = _row_value(spec, "tdecq_db", "max", allow_proposal)
    if got is None:
        _single(spec, "tdecq_db", "max", allow_proposal)  # raises with the hint
    tdecq_max, trow = got  # type: ignore[misc]
    er_cases = [40.0]
    er = _row_value(spec, "extinction_ratio_db", "min", allow_proposal)
    if er is not None:
        er_cases.append(er[0])
    used = [trow]
    oma_rows = [(r, add) for metric, add in (("oma_outer_dbm", 0.0), ("oma_minus_tdecq_dbm", tdecq_max))
                for r in _rows(spec, metric, allow_proposal) if r.min is not None]
    if not oma_rows:
        if not allow_proposal:
            raise SpecError(f"{spec.name}: no OMA_outer or OMA - TDECQ row; a standard budget needs one")
        value = prop.oma_minus_tdecq_dbm + tdecq_max
        return (value, False, True,
                f"(OMA - TDECQ) floor {prop.oma_minus_tdecq_dbm:g} dBm (ProposalAllocations) + TDECQ max {tdecq_max:g} dB")
    floors = []
    for er_db in er_cases:
        vals = {"tdecq_db": tdecq_max, "extinction_ratio_db": er_db}
        floors.append(max(r.bounds(vals)[0] + add for r, add in oma_rows))
    used += [r for r, _ in oma_rows]
    return (min(floors), all(r.verified for r in used), any(r.proposal for r in used),
            "max(OMA_outer min, (OMA - TDECQ) min + TDECQ max)")


def worst_case_tx_oma_dbm(
    spec: PhySpec, *, allow_proposal: bool = False, proposal_allocations: ProposalAllocations | None = None
) -> float:
    """Lowest OMA_outer a compliant transmitter may launch: at TDECQ max, over the ER cases, dBm.

    max(OMA_outer min, (OMA − TDECQ) min + TDECQ max), minimised over ER = ER_min and ER → large
    (for the ER-dependent floors).  400GBASE-DR4: max(max(−0.8, −2.2 + 3.4), −2.2 + 3.4) = 1.2 dBm.
    With ``allow_proposal`` PROPOSAL rows count, and a table without OMA rows uses
    ``ProposalAllocations.oma_minus_tdecq_dbm`` + TDECQ max (1.6TBASE-DR8: −1.2 + 3.0 = 1.8 dBm).

    Raises
    ------
    SpecError
        If the PHY has no TDECQ max or no OMA rows (without ``allow_proposal``).
    """
    if not isinstance(allow_proposal, bool):
        raise InvalidType(f"allow_proposal must be True or False, got {allow_proposal!r}")
    prop = proposal_allocations if proposal_allocations is not None else ProposalAllocations()
    return _tx_oma(spec, allow_proposal, prop)[0]


def _channel_items(spec: PhySpec, cond: LinkConditions) -> list[BudgetItem]:
    """Fibre and connection losses: the [budget] allocations, or (PROPOSAL) split from the IL row."""
    prop = cond.proposal
    if spec.budget is not None:
        alloc = spec.budget
        att = alloc.fiber_attenuation_db_per_km if cond.fiber_attenuation_db_per_km is None else cond.fiber_attenuation_db_per_km
        per = alloc.connector_loss_db if cond.connector_loss_db is None else cond.connector_loss_db
        conn_alloc, verified, proposal = alloc.connection_allocation_db, alloc.verified, False
        alloc_basis = "standard connection and splice allocation"
    elif cond.allow_proposal:
        il = _row_value(spec, "channel_insertion_loss_db", "max", True)
        if il is None:
            raise SpecError(f"{spec.name}: no [budget] allocations and no channel insertion loss row")
        att = prop.fiber_attenuation_db_per_km if cond.fiber_attenuation_db_per_km is None else cond.fiber_attenuation_db_per_km
        per = prop.connector_loss_db if cond.connector_loss_db is None else cond.connector_loss_db
        conn_alloc = il[0] - att * spec.reach_m / 1000.0
        if conn_alloc < 0.0:
            raise SpecError(f"{spec.name}: channel insertion loss {il[0]:g} dB is less than the fibre loss "
                            f"{att:g} dB/km x {spec.reach_m:g} m; no connection allocation is left")
        verified, proposal = False, True
        alloc_basis = f"IL max {il[0]:g} dB - {att:g} dB/km x {spec.reach_m:g} m (PROPOSAL split)"
    else:
        hint = (" (its rows are task-force PROPOSALs: allow_proposal=True budgets them)"
                if any(r.proposal for r in spec.rows) else "")
        raise SpecError(f"{spec.name}: the PHY file has no [budget] allocations{hint}")
    fibre = att * cond.reach_m / 1000.0
    if cond.connectors is None:
        conn, conn_basis = conn_alloc, alloc_basis
    else:
        conn, conn_basis = cond.connectors * per, f"{cond.connectors} x {per:g} dB per connection"
    return [
        BudgetItem("fiber_loss", "Fibre attenuation", fibre, "dB", -1,
                   f"{att:g} dB/km x {cond.reach_m:g} m", verified, proposal),
        BudgetItem("connection_loss", "Connections and splices", conn, "dB", -1, conn_basis, verified, proposal),
    ]


def _mpi_dgd(spec: PhySpec, cond: LinkConditions) -> tuple[float, bool, bool, str]:
    """(MPI/DGD allocation dB, verified, proposal, basis)."""
    if spec.budget is not None:
        return spec.budget.mpi_dgd_allocation_db, spec.budget.verified, False, "PHY [budget] allocation (see note)"
    prop = cond.proposal
    return prop.mpi_dgd_allocation_db, False, True, "ProposalAllocations (task-force case study)"


def _sensitivity(spec: PhySpec, cond: LinkConditions, tdecq_max: float) -> tuple[float, bool, bool, str, str]:
    """(stressed sensitivity dBm, verified, proposal, label, basis)."""
    got = _row_value(spec, "stressed_rx_sensitivity_oma_dbm", "max", cond.allow_proposal)
    if got is not None:
        rows = _rows(spec, "stressed_rx_sensitivity_oma_dbm", cond.allow_proposal)
        return (got[0], all(r.verified for r in rows), any(r.proposal for r in rows),
                "Rx stressed sensitivity OMA_outer", "PHY table")
    rxs = _row_value(spec, "rx_sensitivity_oma_dbm", "max", True) if cond.allow_proposal else None
    if rxs is None:
        _single(spec, "stressed_rx_sensitivity_oma_dbm", "max", cond.allow_proposal)  # raises
    stress = cond.proposal.rx_sensitivity_stress_db
    return (rxs[0] + tdecq_max - stress, False, True,  # type: ignore[index]
            "Rx sensitivity OMA_outer at SECQ = TDECQ max",
            f"RxS {rxs[0]:g} dBm (table) + TDECQ max {tdecq_max:g} - RxS stress {stress:g} dB (PROPOSAL)")  # type: ignore[index]


def standard_budget(spec: PhySpec, cond: LinkConditions) -> BudgetColumn:
    """Budget from the standard's allocations (see module docstring); margin in dB.

    margin = OMA_tx,min(TDECQ_max) − (fibre + connections) − MPI/DGD allocation − stressed sensitivity.

    With ``cond.allow_proposal`` PROPOSAL rows and :class:`ProposalAllocations` fill in what the
    table lacks; those lines carry ``proposal=True``.

    Raises
    ------
    SpecError
        If the table lacks a row the budget needs (without ``allow_proposal``: any PROPOSAL-only row).
    """
    ap = cond.allow_proposal
    got = _row_value(spec, "tdecq_db", "max", ap)
    tdecq_max = _single(spec, "tdecq_db", "max", ap) if got is None else got[0]
    t_rows = _rows(spec, "tdecq_db", ap)
    tx, tx_verified, tx_prop, tx_basis = _tx_oma(spec, ap, cond.proposal)
    sens, sens_verified, sens_prop, sens_label, sens_basis = _sensitivity(spec, cond, tdecq_max)
    chan = _channel_items(spec, cond)
    mpi, mpi_verified, mpi_prop, mpi_basis = _mpi_dgd(spec, cond)
    il = sum(i.value for i in chan)
    notes = []
    beyond = cond.reach_m > spec.reach_m
    items = [
        BudgetItem("tx_oma", "Tx OMA_outer (worst compliant, at TDECQ max)", tx, "dBm", +1,
                   tx_basis, tx_verified, tx_prop),
    ]
    avg = _row_value(spec, "average_power_dbm", "min", ap)
    if avg is not None:
        a_rows = _rows(spec, "average_power_dbm", ap)
        items.append(BudgetItem("tx_average_power_min", "Tx average launch power (min, info)", avg[0], "dBm", 0,
                                "PHY table", all(r.verified for r in a_rows), any(r.proposal for r in a_rows)))
    items += chan
    il_row = _row_value(spec, "channel_insertion_loss_db", "max", ap)
    if il_row is not None:
        items.append(BudgetItem("channel_il_max", "Channel insertion loss limit (info)", il_row[0], "dB", 0,
                                "PHY table", il_row[1].verified, il_row[1].proposal))
        if il > il_row[0] + 1e-9:
            notes.append(f"channel insertion loss {il:.2f} dB exceeds the {il_row[0]:g} dB limit")
    if spec.dispersion is not None:
        d = dispersion_limits(spec.dispersion.window_nm, cond.reach_m,
                              s0_ps_per_nm2_km=spec.dispersion.s0_ps_per_nm2_km,
                              lambda0_range_nm=spec.dispersion.lambda0_range_nm)
        basis = f"D = S0/4 (λ - λ0^4/λ^3) over {d.window_nm[0]:g}-{d.window_nm[1]:g} nm and {cond.reach_m:g} m"
        items += [
            BudgetItem("dispersion_min", "Channel dispersion, most negative (info)", d.min_ps_per_nm, "ps/nm", 0, basis),
            BudgetItem("dispersion_max", "Channel dispersion, most positive (info)", d.max_ps_per_nm, "ps/nm", 0, basis),
        ]
    items += [
        BudgetItem("dispersion_penalty", "Dispersion penalty", 0.0, "dB", -1,
                   "inside TDECQ (measured through fibre at the dispersion extremes)"
                   + ("; NOT covered beyond the PHY reach" if beyond else ""),
                   not beyond and not any(r.proposal for r in t_rows), any(r.proposal for r in t_rows)),
        BudgetItem("mpi_dgd_penalty", "MPI/DGD allocation", mpi, "dB", -1, mpi_basis, mpi_verified, mpi_prop),
        BudgetItem("rin_penalty", "RIN penalty", 0.0, "dB", -1, "inside TDECQ (RIN_xOMA limit, ORL applied)",
                   not tx_prop, tx_prop),
        BudgetItem("er_penalty", "ER penalty", 0.0, "dB", -1, "inside the ER-dependent OMA - TDECQ floor",
                   not tx_prop, tx_prop),
        BudgetItem("tdecq_allocation", "TDECQ allocation (info)", tdecq_max, "dB", 0,
                   "inside the stressed sensitivity (SECQ = TDECQ max)", all(r.verified for r in t_rows),
                   any(r.proposal for r in t_rows)),
        BudgetItem("rx_sensitivity", sens_label, sens, "dBm", -1, sens_basis, sens_verified, sens_prop),
    ]
    if beyond:
        notes.append(f"reach {cond.reach_m:g} m exceeds the PHY reach {spec.reach_m:g} m: dispersion is "
                     "outside the range TDECQ is tested over")
    if cond.temperature_c != T_REF_C:
        notes.append("standard allocations hold over the whole operating temperature range")
    if any(i.proposal for i in items):
        notes.append(f"PROPOSAL: lines marked PROPOSAL use task-force numbers, not a published standard "
                     f"(fall-backs: {cond.proposal.source}); advisory only")
    if not all(i.verified for i in items if i.sign != 0):
        notes.append("some allocations are UNVERIFIED (see each item's basis)")
    if spec.budget is not None and spec.budget.note:
        notes.append(f"allocations: {spec.budget.note}")
    return BudgetColumn("standard allocations", tuple(items), _margin(items), tuple(notes))


# --------------------------------------------------------------------------------------
# physics (closed forms)
# --------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, kw_only=True)
class ClosedFormPhysics:
    """Closed-form physics budget provider (callable ``(spec, conditions) -> BudgetColumn``).

    Parameters (defaults in brackets; each a documented assumption, not a standard value)
    ----------------------------------------------------------------------------------------
    tx_oma_outer_dbm : float or None
        Tx OMA at 25 °C [None: the worst compliant OMA of the PHY table].
    extinction_ratio_db : float
        Tx outer ER, dB [5.0].  Sets the average power, the ER penalty and the MPI level.
    tx_closure_db : float or None
        The transmitter's own eye closure (TECQ-like), dB [None: TDECQ max of the table].
    rin_db_per_hz : float or None
        RIN_OMA, dB/Hz [None: the table's limit].
    mpi_crosstalk_db : float or None
        Interferer/signal power ratio X, dB [None: Tx reflectance + Rx reflectance − 2·IL,
        the double reflection between transmitter and receiver (table values)].
    chirp_alpha : float
        Transmitter chirp factor for the fading model [0].
    responsivity_a_per_w : float
        Photodiode responsivity [0.7 A/W, typical Ge PD at 1310 nm; UNVERIFIED].
    tia_noise_a_per_rthz : float
        Input-referred TIA noise density [15 pA/√Hz; reference notes: typically 10-20].
    rx_implementation_penalty_db : float
        Receiver penalty beyond thermal noise (ISI, PD, noise shape) [2.0 dB; reference notes §3:
        a measured 112G receiver sits 1-3 dB above its noise-only estimate].
    ser_target : float or None
        SER for Q_t [None: the table's, or 4.8e-4].
    slope_t1_k : float
        Laser slope-efficiency temperature constant T1, P ∝ exp(−ΔT/T1) [260 K; reference notes].
    wavelength_drift_m_per_k : float
        Laser wavelength drift [0.09e-9 m/K; reference notes].
    """

    tx_oma_outer_dbm: float | None = None
    extinction_ratio_db: float = 5.0
    tx_closure_db: float | None = None
    rin_db_per_hz: float | None = None
    mpi_crosstalk_db: float | None = None
    chirp_alpha: float = 0.0
    responsivity_a_per_w: float = 0.7
    tia_noise_a_per_rthz: float = 15e-12
    rx_implementation_penalty_db: float = 2.0
    ser_target: float | None = None
    slope_t1_k: float = 260.0
    wavelength_drift_m_per_k: float = 0.09e-9

    def __post_init__(self) -> None:
        if self.tx_oma_outer_dbm is not None:
            validate.in_range("tx_oma_outer_dbm", self.tx_oma_outer_dbm, -40.0, 30.0, unit="dBm")
        validate.in_range("extinction_ratio_db", self.extinction_ratio_db, 0.0, 40.0, low_inclusive=False, unit="dB")
        if self.tx_closure_db is not None:
            validate.non_negative("tx_closure_db", self.tx_closure_db, "dB")
        if self.rin_db_per_hz is not None:
            validate.in_range("rin_db_per_hz", self.rin_db_per_hz, -200.0, -60.0, unit="dB/Hz")
        if self.mpi_crosstalk_db is not None:
            validate.in_range("mpi_crosstalk_db", self.mpi_crosstalk_db, -200.0, 0.0, unit="dB")
        validate.real("chirp_alpha", self.chirp_alpha)
        validate.positive("responsivity_a_per_w", self.responsivity_a_per_w, "A/W")
        validate.positive("tia_noise_a_per_rthz", self.tia_noise_a_per_rthz, "A/sqrt(Hz)")
        validate.non_negative("rx_implementation_penalty_db", self.rx_implementation_penalty_db, "dB")
        if self.ser_target is not None:
            validate.in_range("ser_target", self.ser_target, 0.0, 0.1, low_inclusive=False)
        validate.positive("slope_t1_k", self.slope_t1_k, "K")
        validate.non_negative("wavelength_drift_m_per_k", self.wavelength_drift_m_per_k, "m/K")

    def _table(self, spec: PhySpec, metric: str, side: str, default: float | None,
               allow_proposal: bool = False) -> float | None:
        got = _row_value(spec, metric, side, allow_proposal)
        return default if got is None else got[0]

    def worst_dispersion_ps_per_nm(self, spec: PhySpec, cond: LinkConditions) -> tuple[float, float]:
        """(|D·L| worst case, wavelength) over the lanes at the laser temperature, ps/nm and m.

        Each lane's laser sits at its window centre at 25 °C and drifts by
        ``wavelength_drift_m_per_k``·(T − 25 °C); λ0 is the worst case in 1300-1324 nm.
        """
        worst = (0.0, spec.wavelength_windows_m[0][0])
        for lo, hi in spec.wavelength_windows_m:
            lam_m = 0.5 * (lo + hi) + self.wavelength_drift_m_per_k * (cond.temperature_c - T_REF_C)
            lam_nm = lam_m * 1e9
            d = max(abs(dispersion_ps_per_nm_km(lam_nm, l0, spec.dispersion.s0_ps_per_nm2_km
                                                  if spec.dispersion else 0.093)) for l0 in LAMBDA0_RANGE_NM)
            dl = d * cond.reach_m / 1000.0
            if dl >= worst[0]:
                worst = (dl, lam_m)
        return worst

    def __call__(self, spec: PhySpec, cond: LinkConditions) -> BudgetColumn:
        """The physics ledger for ``spec`` under ``cond`` (see class docstring)."""
        ser = self.ser_target or spec.ser_target or 4.8e-4
        q_t = q_inverse_for_ser(ser)
        baud = spec.symbol_rate_baud
        b_n = bt4_noise_bandwidth_hz(baud / 2.0)
        ap = cond.allow_proposal
        if self.tx_oma_outer_dbm is not None:
            oma25, oma_prop = self.tx_oma_outer_dbm, False
        else:
            oma25, _, oma_prop, _ = _tx_oma(spec, ap, cond.proposal)
        d_t = cond.temperature_c - T_REF_C
        thermal_db = -10.0 * math.log10(math.e) * d_t / self.slope_t1_k
        er_pen = er_penalty_db(self.extinction_ratio_db)
        # average power that gives the 25 °C OMA: OMA = P_ave + 3.01 dB - ER penalty
        p_ave25 = oma25 - 10.0 * math.log10(2.0) + er_pen
        chan = _channel_items(spec, cond)
        il = sum(i.value for i in chan)
        dl, lam = self.worst_dispersion_ps_per_nm(spec, cond)
        disp = dispersion_fading_penalty_db(dl, lam, baud / 2.0, self.chirp_alpha)
        rin = self.rin_db_per_hz if self.rin_db_per_hz is not None else self._table(spec, "rin_db_per_hz", "max", -136.0, ap)
        if self.mpi_crosstalk_db is not None:
            x_db, x_basis = self.mpi_crosstalk_db, "given"
        else:
            rt = self._table(spec, "tx_reflectance_db", "max", -26.0, ap)
            rr = self._table(spec, "rx_reflectance_db", "max", -26.0, ap)
            x_db, x_basis = rt + rr - 2.0 * il, f"Tx refl. {rt:g} + Rx refl. {rr:g} - 2 x IL {il:.2f} dB"
        v_rin = rin_relative_variance(rin, b_n)
        v_mpi = mpi_relative_variance(x_db, self.extinction_ratio_db)
        p_rin = noise_penalty_db(v_rin, q_t)
        p_both = noise_penalty_db(v_rin + v_mpi, q_t)
        p_mpi = None if p_both is None or p_rin is None else p_both - p_rin
        if self.tx_closure_db is not None:
            closure, closure_prop = self.tx_closure_db, False
        else:
            closure = _single(spec, "tdecq_db", "max", ap)
            closure_prop = any(r.proposal for r in _rows(spec, "tdecq_db", ap))
        sens_w = 6.0 * q_t * self.tia_noise_a_per_rthz * math.sqrt(b_n) / self.responsivity_a_per_w
        sens_dbm = 10.0 * math.log10(sens_w / 1e-3) + self.rx_implementation_penalty_db
        items = [
            BudgetItem("tx_average_power", "Tx average power", p_ave25, "dBm", +1,
                       f"gives OMA {oma25:.2f} dBm at 25 °C with ER {self.extinction_ratio_db:g} dB",
                       proposal=oma_prop),
            BudgetItem("oma_infinite_er", "OMA at infinite ER = 2 x P_ave", 10.0 * math.log10(2.0), "dB", +1,
                       "OMA = 2 P_ave (ER - 1)/(ER + 1)"),
            BudgetItem("er_penalty", "ER penalty", er_pen, "dB", -1, "10 log10((ER + 1)/(ER - 1)), ER linear"),
            BudgetItem("thermal_tx_change", "Tx power change with temperature", thermal_db, "dB", +1,
                       f"-10 log10(e) (T - 25 °C)/T1, T1 = {self.slope_t1_k:g} K"),
            *chan,
            BudgetItem("dispersion_penalty", "Dispersion penalty", disp, "dB", -1,
                       f"-10 log10|cos θ - α sin θ| at baud/2, |D L| = {dl:.3g} ps/nm at {lam * 1e9:.1f} nm"),
            BudgetItem("rin_penalty", "RIN penalty", p_rin, "dB", -1,
                       f"-5 log10(1 - 36 Q_t^2 RIN B_n), RIN {rin:g} dB/Hz, B_n {b_n / 1e9:.2f} GHz, Q_t {q_t:.4f}"),
            BudgetItem("mpi_penalty", "MPI penalty (increment over RIN)", p_mpi, "dB", -1,
                       f"beat noise 2X (ER/(ER-1))^2 OMA^2, X = {x_db:.1f} dB ({x_basis})"),
            BudgetItem("tx_closure", "Tx eye closure (TDECQ allocation)", closure, "dB", -1,
                       "given" if self.tx_closure_db is not None else "TDECQ max of the PHY table",
                       proposal=closure_prop),
            BudgetItem("rx_sensitivity", "Rx sensitivity OMA_outer", sens_dbm, "dBm", -1,
                       f"6 Q_t i_n sqrt(B_n)/R + {self.rx_implementation_penalty_db:g} dB; i_n "
                       f"{self.tia_noise_a_per_rthz * 1e12:g} pA/rtHz, R {self.responsivity_a_per_w:g} A/W"),
        ]
        notes = ["closed-form estimates (see basis of each item); TIA noise is taken as temperature independent"]
        if any(i.proposal for i in items):
            notes.append("PROPOSAL: Tx OMA, eye closure or channel lines use task-force numbers; advisory only")
        if disp is None:
            notes.append("dispersion: past the first power-fading notch at baud/2 (eye closed without EQ)")
        if p_rin is None or p_mpi is None:
            notes.append("RIN/MPI noise alone exceeds the Q_t budget (error floor)")
        return BudgetColumn("closed-form physics", tuple(items), _margin(items), tuple(notes))


# --------------------------------------------------------------------------------------
# physics from the link models (models/)
# --------------------------------------------------------------------------------------
#: ``BudgetColumn.method`` of :class:`ModelPhysics`.
MODEL_PHYSICS_METHOD = "link-model physics"


def q_for_ber(ber: float) -> float:
    """Q with BER = 0.75·Q(Q): Gray-coded PAM4, equally spaced levels, adjacent-level errors.

    SER = 1.5·Q(d/σ) for PAM4 with half level spacing d (3 inner levels, 2 tails each, over 4
    levels) and one bit error per symbol error with Gray coding, so BER = SER/2 = 0.75·Q(d/σ)
    (802.3 120.5 Gray map; same relation as :func:`q_inverse_for_ser` with SER = 2·BER).

    >>> round(q_for_ber(2.4e-4), 4)
    3.4141
    """
    ber = validate.in_range("ber", ber, 0.0, 0.375, low_inclusive=False, high_inclusive=False)
    return float(math.sqrt(2.0) * special.erfcinv(2.0 * ber / 0.75))


def receiver_sensitivity_oma_dbm(receiver: Any, ber: float) -> float:
    """OMA_outer at which a thermal-noise-limited model receiver reaches ``ber``, dBm.

    With the TIA's input-referred rms noise σ = i_n·sqrt(ENBW) (``receiver.tia.noise_rms_a()``,
    the noise the model adds, filtered by the TIA response only), photodiode responsivity R and
    four equally spaced levels (half spacing R·OMA/6 at the decision):

        OMA_sens = 6·Q·σ/R,   0.75·Q(Q) = BER.

    Shot noise, dark current and inter-symbol interference are neglected (the simulated search of
    :class:`ModelPhysics` includes them).  Source: Agrawal, *Fiber-Optic Communication Systems*,
    §4.5, in its PAM4 form.

    Parameters
    ----------
    receiver : models.receiver.Receiver
        The model receiver (photodiode + TIA).
    ber : float
        Pre-FEC BER limit, 0 < BER < 0.375.

    Raises
    ------
    InvalidType
        ``receiver`` is not a model Receiver.
    InvalidParameter
        BER out of range, or a noiseless TIA (no finite sensitivity).

    Examples
    --------
    >>> from models.receiver import Receiver
    >>> round(receiver_sensitivity_oma_dbm(Receiver(), 2.4e-4), 2)
    -12.28
    """
    from models.receiver import Receiver

    if not isinstance(receiver, Receiver):
        raise InvalidType(f"receiver must be a models.receiver.Receiver, got {type(receiver).__name__}")
    sigma = receiver.tia.noise_rms_a()
    if sigma <= 0.0:
        raise InvalidParameter("receiver TIA input_noise_density_a_per_rthz = 0: a noiseless receiver has no sensitivity")
    oma_w = 6.0 * q_for_ber(ber) * sigma / receiver.photodiode.responsivity_a_per_w
    return 10.0 * math.log10(oma_w / 1e-3)


def has_model_preset(phy: str | PhySpec) -> bool:
    """True when ``models.presets`` has a link module for the PHY (name compared case-insensitively)."""
    from models.presets import list_presets

    name = phy.name if isinstance(phy, PhySpec) else str(phy)
    return name.strip().upper() in {p.upper() for p in list_presets()}


def _lambda0_for_dispersion_m(wavelength_m: float, d_ps_per_nm_km: float, s0: float) -> float:
    """λ0 with D(λ; λ0) = d for the 802.3 fibre model: λ0⁴ = λ³·(λ − 4d/S0) (λ in nm)."""
    lam = wavelength_m * 1e9
    inner = lam - 4.0 * d_ps_per_nm_km / s0
    if inner <= 0.0:
        raise InvalidParameter(f"dispersion {d_ps_per_nm_km:g} ps/(nm km) at {lam:.1f} nm cannot be made with S0 = {s0:g}")
    return (lam**3 * inner) ** 0.25 * 1e-9


@dataclasses.dataclass(frozen=True, kw_only=True)
class ModelPhysics:
    """Physics budget provider backed by the link models (callable ``(spec, conditions) -> BudgetColumn``).

    Pluggable like :class:`ClosedFormPhysics` (``link_budget(..., physics=ModelPhysics())``).  Every
    number comes from :func:`models.link.simulate` of the PHY's preset module (or ``module``),
    measured with :mod:`optics`, on a short pattern:

    * **Tx OMA_outer and average power**: the module simulated at the case temperature; the
      lane with the lowest OMA_outer is budgeted (its ER and back-to-back TDECQ shown as info).
    * **Channel**: fibre attenuation × reach with the model ``Fiber``'s dB/km, and the model
      ``Channel``'s connections (or ``connectors`` × the PHY's per-connection loss).
    * **Dispersion penalty**: TDECQ (121.8.5, :func:`optics.tdecq.tdecq`) of the optical signal
      after a fibre with the PHY's worst-case dispersion at that reach (802.3 fibre model: most
      negative D on the shortest-wavelength lane, most positive on the longest; the fibre's λ0 is
      chosen so that D·L equals it at the lane's laser wavelength) minus TDECQ back-to-back, the
      worse of the two.  The optical signal is read through an ideal probe receiver (1 A/W,
      1 Ω, 300 GHz, noiseless) and no receiver DSP.
    * **MPI**: the Gaussian beat-noise penalty of the model ``Channel``'s MPI ratio ε = R²
      (:func:`mpi_relative_variance`, :func:`noise_penalty_db`); 0 without reflectors.
    * **Rx sensitivity** (OMA_outer at the PHY's pre-FEC BER limit): ``sensitivity="search"``
      simulates the budgeted lane back-to-back (no fibre, no connections) at a set received
      average power (``SimulationSettings.rx_power_dbm``) and finds, by secant steps on
      10·log10 Q(BER) vs power, the power where the statistical BER estimate
      (:func:`optics.ber.estimate_ber`, including the receiver DSP FFE of 200 G lanes) equals
      the limit; the OMA is that power plus the lane's OMA/P_ave ratio.  It includes shot noise,
      RIN and the lane's own ISI.  ``sensitivity="closed-form"`` uses
      :func:`receiver_sensitivity_oma_dbm` (thermal noise only).  The other is shown as info
      (search mode only).

    margin = OMA_tx − fibre − connections − dispersion penalty − MPI penalty − sensitivity.

    Results that do not depend on the reach (Tx metrics, back-to-back TDECQ, sensitivity) are
    cached per temperature in the instance, so a reach sweep with one instance simulates them
    once.  Cost per budget point about 0.5-3 s (PRBS13Q, 16 samples/UI; 4 CWDM lanes cost most).

    Parameters
    ----------
    module : models.link.LinkModule or None
        The module to budget [None: ``models.presets.preset(PHY name)``].
    sensitivity : str
        ``"search"`` [default] or ``"closed-form"``.
    pattern : str
        Test pattern of the simulations ["PRBS13Q"].
    samples_per_symbol : int
        8..64 [16].
    seed : int
        Seed of every simulation (same noise draws at every reach and power) [1].
    search_tolerance_db : float
        Stop the sensitivity search when 10·log10 Q is this close to the target, dB [0.01].

    Raises
    ------
    InvalidParameter, InvalidType
        Bad parameters.  Calling it on a PHY without a preset (and no ``module``) raises SpecError.

    Examples
    --------
    >>> b = link_budget("400GBASE-DR4", physics=ModelPhysics())   # about 1.5 s
    >>> b.physics.method, round(b.physics.item("fiber_loss").value, 3)
    ('link-model physics', 0.2)
    """

    module: Any = None
    sensitivity: str = "search"
    pattern: str = "PRBS13Q"
    samples_per_symbol: int = 16
    seed: int = 1
    search_tolerance_db: float = 0.01
    _cache: dict[Any, Any] = dataclasses.field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        from models.link import LinkModule

        if self.module is not None and not isinstance(self.module, LinkModule):
            raise InvalidType(f"module must be a models.link.LinkModule or None, got {type(self.module).__name__}")
        if self.sensitivity not in ("search", "closed-form"):
            raise InvalidParameter(f"sensitivity = {self.sensitivity!r}; allowed: 'search', 'closed-form'")
        if not isinstance(self.pattern, str):
            raise InvalidType(f"pattern must be a pattern name, got {type(self.pattern).__name__}")
        validate.integer("samples_per_symbol", self.samples_per_symbol, 8, 64)
        validate.integer("seed", self.seed, 0, 2**63 - 1)
        validate.in_range("search_tolerance_db", self.search_tolerance_db, 1e-4, 0.5, unit="dB")

    # ---------------------------------------------------------------- model access
    def module_for(self, spec: PhySpec) -> Any:
        """The link module budgeted for ``spec`` (``module`` or the PHY's preset).

        Raises
        ------
        SpecError
            No preset for the PHY and no ``module`` given.
        """
        if self.module is not None:
            return self.module
        key = ("module", spec.name)
        if key not in self._cache:
            from models.presets import list_presets, preset

            if not has_model_preset(spec):
                raise SpecError(f"{spec.name}: no link-model preset (presets: {', '.join(list_presets())}); "
                                "use the closed-form physics or pass ModelPhysics(module=...)")
            self._cache[key] = preset(spec.name)
        return self._cache[key]

    def _settings(self, temperature_c: float, **kw: Any) -> Any:
        from models.link import SimulationSettings

        return SimulationSettings(pattern=self.pattern, samples_per_symbol=self.samples_per_symbol,
                                  temperature_c=temperature_c, count_errors=False, **kw)

    def tx_lanes(self, spec: PhySpec, temperature_c: float) -> list[dict[str, Any]]:
        """Tx metrics of each distinct lane at ``temperature_c`` (simulated once, cached).

        Lanes with equal transmitter and receiver are simulated once, each on its own (same seed,
        so the same noise draws as its dispersion probes) back-to-back into the probe receiver.
        Each dict holds ``index`` (lane number in the module), ``name`` and the lane's
        :func:`models.link.simulate` metrics (Tx metrics measured by ``optics``).
        """
        key = ("tx", spec.name, float(temperature_c))
        if key in self._cache:
            return self._cache[key]
        module = self.module_for(spec)
        index: list[int] = []
        for i, lane in enumerate(module.lanes):
            if not any(_same_parts(lane, module.lanes[j]) for j in index):
                index.append(i)
        out = []
        for i in index:
            res = self._probe(spec, i, None, temperature_c, metrics=True)
            out.append({"index": i, "name": res.name, "metrics": dict(res.metrics)})
            # the back-to-back probe waveform, for its TDECQ if asked (probe_tdecq_db)
            self._cache[("probe wf", spec.name, i, float(temperature_c))] = res.rx_waveform
        self._cache[key] = out
        return out

    def _lane_module(self, spec: PhySpec, lane_index: int, *, channel: Any, receiver: Any = None,
                     rx_ffe: bool = True) -> Any:
        module = self.module_for(spec)
        lane = module.lanes[lane_index]
        lane = dataclasses.replace(lane, channel=channel, receiver=lane.receiver if receiver is None else receiver)
        return dataclasses.replace(module, lanes=[lane], rx_ffe_taps=module.rx_ffe_taps if rx_ffe else 0)

    def _probe(self, spec: PhySpec, lane_index: int, fiber: Any, temperature_c: float, *, metrics: bool) -> Any:
        """Simulate one lane into the ideal probe receiver (optical power in V = W), no Rx DSP."""
        from models.fiber import Channel, Fiber
        from models.link import simulate
        from models.receiver import Photodiode, Receiver, Tia

        probe = Receiver(
            photodiode=Photodiode(responsivity_a_per_w=1.0, dark_current_a=0.0, bandwidth_hz=300e9, shot_noise=False),
            tia=Tia(transimpedance_ohm=1.0, input_noise_density_a_per_rthz=0.0, bandwidth_hz=300e9, overload_current_a=1.0),
        )
        fib = Fiber(length_m=0.0, attenuation_db_per_km=0.0) if fiber is None else fiber
        mod = self._lane_module(spec, lane_index, channel=Channel(fiber=fib, n_connectors=0), receiver=probe, rx_ffe=False)
        return simulate(mod, self._settings(temperature_c, compute_tdecq=False), seed=self.seed, metrics=metrics).lanes[0]

    def probe_tdecq_db(self, spec: PhySpec, lane_index: int, dispersion_ps_per_nm: float, reach_m: float,
                       temperature_c: float, wavelength_m: float) -> float | None:
        """TDECQ (dB) of lane ``lane_index``'s optical signal after ``dispersion_ps_per_nm`` over ``reach_m``.

        The fibre's λ0 is set so that D·L equals the target at ``wavelength_m`` (802.3 fibre
        model, S0 of the model fibre); zero dispersion or reach is back-to-back.  The optical
        power is read through an ideal probe receiver (1 A/W, 1 Ω, 300 GHz, noiseless) without
        receiver DSP.  None if the eye is closed.  Cached per lane, dispersion, reach, temperature.
        """
        from models.fiber import S0_IEEE_PS_PER_NM2_KM, Fiber

        from optics.errors import InvalidWaveform
        from optics.tdecq import tdecq

        b2b = dispersion_ps_per_nm == 0.0 or reach_m == 0.0
        key = ("probe", spec.name, lane_index, 0.0 if b2b else round(dispersion_ps_per_nm, 9),
               0.0 if b2b else float(reach_m), float(temperature_c))
        if key in self._cache:
            return self._cache[key]
        wkey = ("probe wf", spec.name, lane_index, float(temperature_c))
        if b2b and wkey in self._cache:
            wf = self._cache.pop(wkey)
        else:
            fib = None
            if not b2b:
                d_km = dispersion_ps_per_nm / (reach_m / 1000.0)
                fib = Fiber(length_m=reach_m, attenuation_db_per_km=0.0,
                            zero_dispersion_wavelength_m=_lambda0_for_dispersion_m(wavelength_m, d_km, S0_IEEE_PS_PER_NM2_KM))
            wf = self._probe(spec, lane_index, fib, temperature_c, metrics=False).rx_waveform
        value: float | None
        if wf is None:
            value = None
        else:
            try:
                value = float(tdecq(wf.replace(quantity="optical_power")).tdecq_db)
            except InvalidWaveform:
                value = None
        self._cache[key] = value
        return value

    def ber_limit(self, spec: PhySpec) -> float:
        """The PHY's pre-FEC BER limit (``ber_limit``, else SER target / 2, else 2.4e-4)."""
        if spec.ber_limit is not None:
            return float(spec.ber_limit)
        if spec.ser_target is not None:
            return float(spec.ser_target) / 2.0
        return 2.4e-4

    def closed_form_sensitivity_oma_dbm(self, spec: PhySpec, lane_index: int = 0) -> float:
        """:func:`receiver_sensitivity_oma_dbm` of the lane's model receiver at the PHY's BER limit."""
        return receiver_sensitivity_oma_dbm(self.module_for(spec).lanes[lane_index].receiver, self.ber_limit(spec))

    def search_sensitivity(self, spec: PhySpec, lane_index: int, temperature_c: float) -> dict[str, Any]:
        """Received OMA_outer (dBm) at which lane ``lane_index`` back-to-back reaches the BER limit.

        Returns a dict with ``oma_dbm``, ``rx_power_dbm`` (average power at that point),
        ``ber`` (the statistical estimate there), ``n_simulations`` and ``converged``.
        Cached per lane and temperature.

        Raises
        ------
        InvalidParameter
            The search leaves the simulator's −40..20 dBm range (an error floor above the limit).
        """
        key = ("sens", spec.name, lane_index, float(temperature_c))
        if key in self._cache:
            return self._cache[key]
        from models.fiber import Channel, Fiber
        from models.link import simulate

        tx = next(t for t in self.tx_lanes(spec, temperature_c) if t["index"] == lane_index)["metrics"]
        ratio_db = tx["oma_outer_dbm"] - tx["average_power_dbm"]
        ber_t = self.ber_limit(spec)
        target = 10.0 * math.log10(q_for_ber(ber_t))
        mod = self._lane_module(spec, lane_index, channel=Channel(fiber=Fiber(length_m=0.0), n_connectors=0))
        # start near the answer: this lane's result at the nearest temperature searched, else the closed form
        done = [(abs(k[3] - temperature_c), v["rx_power_dbm"]) for k, v in self._cache.items()
                if k[0] == "sens" and k[1] == spec.name and k[2] == lane_index]
        p = min(done)[1] if done else self.closed_form_sensitivity_oma_dbm(spec, lane_index) - ratio_db + 0.5
        pts: list[tuple[float, float]] = []
        best: tuple[float, float, float] | None = None  # (|f|, p, ber)
        n = 0
        for n in range(1, 16):
            if not -40.0 <= p <= 20.0:
                raise InvalidParameter(f"{spec.name}: Rx sensitivity search left -40..20 dBm (at {p:.1f} dBm); "
                                       f"the BER limit {ber_t:g} may be below an error floor")
            res = simulate(mod, self._settings(temperature_c, compute_tdecq=False, rx_power_dbm=p), seed=self.seed)
            ber = res.lanes[0].metrics.get("ber_estimate")
            if ber is None or ber >= 0.3:
                p += 3.0
                continue
            if ber <= 1e-200:
                p -= 3.0
                continue
            f = 10.0 * math.log10(q_for_ber(ber)) - target
            if best is None or abs(f) < best[0]:
                best = (abs(f), p, ber)
            if abs(f) <= self.search_tolerance_db:
                break
            slope = 1.0
            if pts and p != pts[-1][0] and f != pts[-1][1]:
                slope = min(3.0, max(0.3, (f - pts[-1][1]) / (p - pts[-1][0])))
            pts.append((p, f))
            p -= f / slope
        if best is None:
            raise InvalidParameter(f"{spec.name}: Rx sensitivity search found no open eye between -40 and 20 dBm")
        out = {"oma_dbm": best[1] + ratio_db, "rx_power_dbm": best[1], "ber": best[2], "n_simulations": n,
               "converged": best[0] <= self.search_tolerance_db}
        self._cache[key] = out
        return out

    # ---------------------------------------------------------------- ledger
    def __call__(self, spec: PhySpec, cond: LinkConditions) -> BudgetColumn:
        """The link-model ledger for ``spec`` under ``cond`` (see class docstring)."""
        module = self.module_for(spec)
        t_c = cond.temperature_c
        lanes = self.tx_lanes(spec, t_c)
        failed = [t for t in lanes if t["metrics"].get("link_failed") or t["metrics"].get("tx_eye_closed")
                  or t["metrics"].get("oma_outer_dbm") is None]
        notes = [f"link models: {module.name} ({module.n_lanes} lanes, {len(lanes)} distinct), {self.pattern}, "
                 f"{self.samples_per_symbol} samples/UI, seed {self.seed}, case {t_c:g} °C"]
        if failed:
            why = "; ".join(f"{t['name']}: {t['metrics'].get('failure') or t['metrics'].get('tx_error') or 'eye closed'}"
                            for t in failed)
            notes.append(f"no budget: {why}")
            items = (BudgetItem("tx_oma", "Tx OMA_outer (model)", None, "dBm", +1, f"link failed ({why})"),)
            return BudgetColumn(MODEL_PHYSICS_METHOD, items, None, tuple(notes))
        worst = min(lanes, key=lambda t: t["metrics"]["oma_outer_dbm"])
        wm, wi = worst["metrics"], worst["index"]
        lane = module.lanes[wi]
        ch = lane.channel
        # channel: the model Fiber's attenuation, the model Channel's connections
        att = ch.fiber.attenuation_db_per_km if cond.fiber_attenuation_db_per_km is None else cond.fiber_attenuation_db_per_km
        fibre = att * cond.reach_m / 1000.0
        if cond.connectors is None:
            conn = ch.connector_loss_db * ch.n_connectors + ch.splice_loss_db * ch.n_splices
            conn_basis = (f"model Channel: {ch.n_connectors} x {ch.connector_loss_db:g} dB"
                          + (f" + {ch.n_splices} x {ch.splice_loss_db:g} dB splices" if ch.n_splices else ""))
        else:
            if cond.connector_loss_db is not None:
                per = cond.connector_loss_db
            elif spec.budget is not None:
                per = spec.budget.connector_loss_db
            else:
                per = ch.connector_loss_db
            conn, conn_basis = cond.connectors * per, f"{cond.connectors} x {per:g} dB per connection"
        # dispersion: worst-case D of the PHY at this reach, through the model, TDECQ - B2B
        disp, disp_basis = self._dispersion_penalty(spec, lanes, cond)
        # MPI from the model channel
        eps = ch.mpi_ratio
        q_b = q_for_ber(self.ber_limit(spec))
        er_db = wm.get("extinction_ratio_db")
        if eps > 0.0 and er_db is not None and er_db > 0.0:
            mpi = noise_penalty_db(mpi_relative_variance(10.0 * math.log10(eps), er_db), q_b)
            mpi_basis = (f"model Channel MPI ratio {10.0 * math.log10(eps):.1f} dB (reflectance {ch.reflectance_db:g} dB x 2), "
                         f"-5 log10(1 - 36 Q^2 v), v = 2X (ER/(ER-1))^2, ER {er_db:.2f} dB")
        else:
            mpi, mpi_basis = 0.0, "model Channel has no reflectors (reflectance_db None)"
        # receiver sensitivity
        cf = self.closed_form_sensitivity_oma_dbm(spec, wi)
        rx = lane.receiver
        cf_basis = (f"6 Q sigma/R, Q {q_b:.4f} (BER {self.ber_limit(spec):g}), sigma = i_n sqrt(ENBW) "
                    f"{rx.tia.noise_rms_a() * 1e6:.3g} uA, R {rx.photodiode.responsivity_a_per_w:g} A/W; thermal noise only")
        sens_items: list[BudgetItem] = []
        if self.sensitivity == "search":
            s = self.search_sensitivity(spec, wi, t_c)
            sens_items.append(BudgetItem(
                "rx_sensitivity", "Rx sensitivity OMA_outer (simulated search)", s["oma_dbm"], "dBm", -1,
                f"B2B {worst['name']} at BER estimate {s['ber']:.3g} (limit {self.ber_limit(spec):g}), "
                f"P_ave {s['rx_power_dbm']:.2f} dBm, {s['n_simulations']} simulations"))
            sens_items.append(BudgetItem("rx_sensitivity_closed_form", "Rx sensitivity OMA_outer, closed form (info)",
                                         cf, "dBm", 0, cf_basis))
            if not s["converged"]:
                notes.append("Rx sensitivity search did not reach its tolerance; the closest point is used")
        else:
            sens_items.append(BudgetItem("rx_sensitivity", "Rx sensitivity OMA_outer (closed form)", cf, "dBm", -1, cf_basis))
        items = [
            BudgetItem("tx_oma", "Tx OMA_outer (model, lowest lane)", wm["oma_outer_dbm"], "dBm", +1,
                       f"simulated {worst['name']} at case {t_c:g} °C, measured by optics.levels"),
            BudgetItem("tx_average_power", "Tx average power (model, info)", wm["average_power_dbm"], "dBm", 0,
                       "same lane"),
            BudgetItem("tx_extinction_ratio", "Tx extinction ratio (model, info)", er_db, "dB", 0, "same lane"),
            BudgetItem("tx_tdecq", "Tx TDECQ back-to-back (model, info)",
                       self.probe_tdecq_db(spec, wi, 0.0, 0.0, t_c, wm["wavelength_m"]), "dB", 0,
                       "optics.tdecq of the Tx output (probe receiver); its closure is inside the simulated sensitivity"),
            BudgetItem("fiber_loss", "Fibre attenuation", fibre, "dB", -1, f"{att:g} dB/km x {cond.reach_m:g} m"),
            BudgetItem("connection_loss", "Connections and splices", conn, "dB", -1, conn_basis),
            BudgetItem("dispersion_penalty", "Dispersion penalty (TDECQ - B2B)", disp, "dB", -1, disp_basis),
            BudgetItem("mpi_penalty", "MPI penalty", mpi, "dB", -1, mpi_basis),
            BudgetItem("rin_penalty", "RIN penalty", 0.0, "dB", -1,
                       "inside the simulation (laser RIN in the Tx waveform)"
                       + (" and so in the searched sensitivity" if self.sensitivity == "search"
                          else "; NOT in the closed-form sensitivity")),
            *sens_items,
        ]
        notes.append("Rx sensitivity: " + ("simulated search (statistical BER estimate; shot noise, RIN, ISI, Rx FFE "
                                           "included), closed form shown as info" if self.sensitivity == "search"
                                           else "closed form from the model receiver (thermal noise only)"))
        if disp is None:
            notes.append("dispersion: the eye after the fibre is closed (TDECQ not measurable)")
        elif disp < 0.0:
            notes.append(f"dispersion penalty {disp:.3f} dB < 0: TDECQ after the fibre is within its measurement "
                         "scatter of back-to-back (the reference equaliser absorbs this dispersion); kept as measured")
        if any(i.value is None for i in items if i.sign != 0):
            notes.append("an unbounded penalty: no margin")
        return BudgetColumn(MODEL_PHYSICS_METHOD, tuple(items), _margin(items), tuple(notes))

    def _dispersion_penalty(self, spec: PhySpec, lanes: list[dict[str, Any]],
                            cond: LinkConditions) -> tuple[float | None, str]:
        """(TDECQ at the worst-case dispersion − TDECQ back-to-back, basis), worse of the two extremes."""
        t_c, reach = cond.temperature_c, cond.reach_m
        if reach == 0.0:
            return 0.0, "no fibre (reach 0 m)"
        by_lambda = sorted(lanes, key=lambda t: t["metrics"]["wavelength_m"])
        if spec.dispersion is not None:
            d = dispersion_limits(spec.dispersion.window_nm, reach, s0_ps_per_nm2_km=spec.dispersion.s0_ps_per_nm2_km,
                                  lambda0_range_nm=spec.dispersion.lambda0_range_nm)
            cases = [(by_lambda[0], d.min_ps_per_nm), (by_lambda[-1], d.max_ps_per_nm)]
            src = "PHY worst case (802.3 fibre model)"
        else:
            module = self.module_for(spec)
            cases = []
            for t in lanes:
                fib = dataclasses.replace(module.lanes[t["index"]].channel.fiber, length_m=reach)
                cases.append((t, fib.dispersion_ps_per_nm(t["metrics"]["wavelength_m"])))
            src = "model fibre (no PHY dispersion data)"
        worst: tuple[float, str] | None = None
        for t, dl in cases:
            lam = t["metrics"]["wavelength_m"]
            b2b = self.probe_tdecq_db(spec, t["index"], 0.0, 0.0, t_c, lam)
            far = self.probe_tdecq_db(spec, t["index"], dl, reach, t_c, lam)
            if b2b is None or far is None:
                return None, f"eye closed at {dl:.3g} ps/nm ({t['name']})"
            pen = far - b2b
            basis = (f"TDECQ {far:.3f} dB at {dl:.3g} ps/nm - {b2b:.3f} dB B2B, {t['name']} "
                     f"at {lam * 1e9:.1f} nm; {src}")
            if worst is None or pen > worst[0]:
                worst = (pen, basis)
        return worst if worst is not None else (0.0, "no lanes")


def _same_parts(a: Any, b: Any) -> bool:
    """True when two lanes have equal transmitter and receiver (identity if not comparable)."""
    try:
        return bool(a.transmitter == b.transmitter and a.receiver == b.receiver)
    except (ValueError, TypeError):
        return a.transmitter is b.transmitter and a.receiver is b.receiver


# --------------------------------------------------------------------------------------
# public entry points
# --------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class LinkBudget:
    """Side-by-side budget of one PHY under one set of conditions."""

    phy: str
    conditions: LinkConditions
    standard: BudgetColumn
    physics: BudgetColumn

    @property
    def proposal(self) -> bool:
        """True when either column uses a task-force PROPOSAL value."""
        return self.standard.proposal or self.physics.proposal

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"phy": self.phy, "proposal": self.proposal, "conditions": dataclasses.asdict(self.conditions),
                "standard": self.standard.to_dict(), "physics": self.physics.to_dict()}

    def to_text(self) -> str:
        """Both ledgers as aligned text."""
        c = self.conditions
        conn = "standard allocation" if c.connectors is None else f"{c.connectors} connectors"
        lines = [f"{self.phy} link budget: reach {c.reach_m:g} m, {conn}, {c.temperature_c:g} °C"]
        if self.proposal:
            lines.append("  PROPOSAL: built from task-force proposal numbers, not a published standard; advisory only")
        for col in (self.standard, self.physics):
            lines.append(f"  [{col.method}]" + ("  PROPOSAL values" if col.proposal else ""))
            for it in col.items:
                sign = {1: "+", -1: "-", 0: " "}[it.sign]
                val = "unbounded" if it.value is None else f"{_shown(it.value):8.3f}"
                if it.proposal:
                    flag = "  PROPOSAL"
                else:
                    flag = "" if it.verified or col is self.physics else "  UNVERIFIED"
                lines.append(f"    {sign} {it.label:48s} {val:>9s} {it.unit:4s} {it.basis}{flag}")
            m = "n/a (unbounded penalty)" if col.margin_db is None else f"{_shown(col.margin_db):.3f} dB"
            lines.append(f"    = margin {m}")
            lines += [f"    note: {n}" for n in col.notes]
        return "\n".join(lines)

    def to_records(self) -> list[dict[str, Any]]:
        """One flat dict per ledger line of both columns."""
        return [{"phy": self.phy, "method": col.method, "column_proposal": col.proposal, **dataclasses.asdict(it)}
                for col in (self.standard, self.physics) for it in col.items]


def link_budget(
    phy: str | PhySpec,
    *,
    reach_m: float | None = None,
    connectors: int | None = None,
    temperature_c: float = T_REF_C,
    physics: PhysicsProvider | None = None,
    allow_proposal: bool = False,
    proposal_allocations: ProposalAllocations | None = None,
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
        :class:`ModelPhysics` for the link models (the ``optics budget`` default where a preset exists).
    allow_proposal : bool
        Budget a PHY whose table has only task-force PROPOSAL rows (802.3dj 200 G/lane) from those
        rows and :class:`ProposalAllocations` [False: such a PHY is a SpecError].  Every line so
        built is marked PROPOSAL (``BudgetItem.proposal``, ``LinkBudget.proposal``, text output).
    proposal_allocations : ProposalAllocations, optional
        Fall-back proposal numbers [``ProposalAllocations()``]; needs ``allow_proposal=True``.
    **conditions
        ``fiber_attenuation_db_per_km``, ``connector_loss_db`` overrides (see LinkConditions).

    Raises
    ------
    SpecError
        Unknown PHY, or a PHY whose table lacks the rows a budget needs (e.g. 802.3dj PHYs
        without ``allow_proposal``).
    InvalidParameter, InvalidType
        Bad conditions.
    """
    spec = phy if isinstance(phy, PhySpec) else load_phy(phy)
    cond = LinkConditions(reach_m=spec.reach_m if reach_m is None else reach_m, connectors=connectors,
                          temperature_c=temperature_c, allow_proposal=allow_proposal,
                          proposal_allocations=proposal_allocations, **conditions)
    provider = physics if physics is not None else ClosedFormPhysics()
    standard = standard_budget(spec, cond)  # first: a PHY the standard cannot budget fails before any simulation
    col = provider(spec, cond)
    if not isinstance(col, BudgetColumn):
        raise InvalidParameter(f"physics provider returned {type(col).__name__}, expected BudgetColumn")
    return LinkBudget(spec.name, cond, standard, col)


@dataclasses.dataclass(frozen=True)
class BudgetSweep:
    """Margins (dB) of both columns over a swept condition (reach in m or temperature in °C)."""

    phy: str
    variable: str
    values: tuple[float, ...]
    standard_margin_db: tuple[float | None, ...]
    physics_margin_db: tuple[float | None, ...]
    proposal: bool = False
    physics_method: str = "closed-form physics"

    def to_records(self) -> list[dict[str, Any]]:
        """One dict per point (``proposal`` True when built from task-force PROPOSAL values)."""
        return [{"phy": self.phy, self.variable: x, "standard_margin_db": s, "physics_margin_db": p,
                 "proposal": self.proposal, "physics_method": self.physics_method}
                for x, s, p in zip(self.values, self.standard_margin_db, self.physics_margin_db)]

    def to_text(self) -> str:
        """Aligned table."""
        def f(v: float | None) -> str:
            return "unbounded" if v is None else f"{_shown(v):.3f}"

        lines = [f"{self.phy}: margin vs {self.variable}" + ("  (PROPOSAL values, advisory)" if self.proposal else "")
                 + f"  [physics: {self.physics_method}]",
                 f"  {self.variable:>14s}  {'standard dB':>12s}  {'physics dB':>12s}"]
        lines += [f"  {x:14g}  {f(s):>12s}  {f(p):>12s}"
                  for x, s, p in zip(self.values, self.standard_margin_db, self.physics_margin_db)]
        return "\n".join(lines)

    def plot(self, ax: Any = None) -> Any:
        """Plot both margins against the swept variable; returns the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        x = np.asarray(self.values, dtype=float)
        for label, ys in (("standard allocations", self.standard_margin_db), (self.physics_method, self.physics_margin_db)):
            y = np.array([np.nan if v is None else v for v in ys], dtype=float)
            ax.plot(x, y, marker="o", label=label)
        ax.axhline(0.0, color="k", lw=0.8)
        ax.set_xlabel(self.variable.replace("_", " "))
        ax.set_ylabel("margin (dB)")
        ax.set_title(f"{self.phy} link margin" + (" (PROPOSAL values)" if self.proposal else ""))
        ax.legend()
        return ax


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
