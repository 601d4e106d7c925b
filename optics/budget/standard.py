"""The standard-allocations column of a link budget (:func:`standard_budget`).

The worst compliant transmitter launches OMA_outer = (OMA - TDECQ)_min + TDECQ_max (e.g.
400GBASE-DR4: -2.2 + 3.4 = 1.2 dBm, :func:`worst_case_tx_oma_dbm`); the channel loses fibre
attenuation × reach + connections; the MPI/DGD allocation is subtracted; the receiver must work
at the stressed sensitivity (measured with SECQ = TDECQ_max, so the TDECQ allocation sits inside
it).  Dispersion, RIN and ER penalties are not separate allocations in 802.3: TDECQ is measured
through fibre at the dispersion extremes with the ORL applied, and the OMA - TDECQ floor depends
on ER.  At the PHY's reach and default allocations the margin is ~0.

A PHY whose table holds only task-force PROPOSAL rows (802.3dj 200 Gb/s lanes) has no standard
budget; with ``allow_proposal`` the proposal rows are used, and where the table has no row at all
:class:`~optics.budget.conditions.ProposalAllocations`.  The row helpers here are shared with the
physics columns.
"""

from __future__ import annotations

from optics.budget.conditions import T_REF_C, LinkConditions, ProposalAllocations
from optics.budget.ledger import BudgetColumn, BudgetItem, _margin
from optics.errors import InvalidType, SpecError
from optics.phy import LimitRow, PhySpec
from optics.phy.dispersion import dispersion_limits


def _rows(spec: PhySpec, metric: str, allow_proposal: bool, allow_draft: bool = False) -> tuple[LimitRow, ...]:
    """Rows on ``metric`` by authority, published > draft > proposal: the published
    (verified/unverified) ones; only if none, the draft ones when ``allow_draft`` or
    ``allow_proposal`` (which admits drafts too); only if none of those either, the task-force
    proposal ones when ``allow_proposal``.  A proposal row never overrides a draft row of the same
    metric (1.6TBASE-DR8: the D1.3 draft's TDECQ 3.4 dB, not the blog's 3.0 dB)."""
    rows = spec.rows_for(metric)
    firm = tuple(r for r in rows if not r.proposal)
    if firm:
        return firm
    drafts = tuple(r for r in rows if r.draft)
    if drafts and (allow_draft or allow_proposal):
        return drafts
    if allow_proposal:
        return tuple(r for r in rows if r.proposal)
    return firm


def _row_value(spec: PhySpec, metric: str, side: str, allow_proposal: bool = False,
               allow_draft: bool = False) -> tuple[float, LimitRow] | None:
    for r in _rows(spec, metric, allow_proposal, allow_draft):
        b = getattr(r, side)
        if isinstance(b, float):
            return b, r
    return None


def _single(spec: PhySpec, metric: str, side: str, allow_proposal: bool = False, allow_draft: bool = False) -> float:
    got = _row_value(spec, metric, side, allow_proposal, allow_draft)
    if got is None:
        hint = ""
        if not allow_draft and not allow_proposal and any(r.draft for r in spec.rows_for(metric)):
            hint = (" (the table has DRAFT/PROPOSAL rows: allow_draft=True (--allow-draft) uses the draft ones, "
                    "allow_proposal=True (--allow-proposal) all of them)")
        elif not allow_proposal and any(r.proposal for r in spec.rows_for(metric)):
            hint = " (the table has a task-force PROPOSAL row: allow_proposal=True, or --allow-proposal on the command line, uses it)"
        raise SpecError(f"{spec.name}: no numeric {side} row for {metric}; a standard budget needs it{hint}")
    return got[0]


def _tx_oma(spec: PhySpec, allow_proposal: bool, prop: ProposalAllocations,
            allow_draft: bool = False) -> tuple[float, bool, bool, str]:
    """(worst compliant Tx OMA dBm, verified, proposal, basis); see :func:`worst_case_tx_oma_dbm`."""
    got = _row_value(spec, "tdecq_db", "max", allow_proposal, allow_draft)
    if got is None:
        _single(spec, "tdecq_db", "max", allow_proposal, allow_draft)  # raises with the hint
    tdecq_max, trow = got  # type: ignore[misc]
    er_cases = [40.0]
    er = _row_value(spec, "extinction_ratio_db", "min", allow_proposal, allow_draft)
    if er is not None:
        er_cases.append(er[0])
    used = [trow]
    oma_rows = [(r, add) for metric, add in (("oma_outer_dbm", 0.0), ("oma_minus_tdecq_dbm", tdecq_max))
                for r in _rows(spec, metric, allow_proposal, allow_draft) if r.min is not None]
    if not oma_rows:
        if not allow_proposal:
            hint = (" (allow_proposal=True / --allow-proposal takes the ProposalAllocations OMA - TDECQ floor)"
                    if allow_draft else "")
            raise SpecError(f"{spec.name}: no OMA_outer or OMA - TDECQ row; a standard budget needs one{hint}")
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
    spec: PhySpec, *, allow_proposal: bool = False, proposal_allocations: ProposalAllocations | None = None,
    allow_draft: bool = False,
) -> float:
    """Lowest OMA_outer a compliant transmitter may launch: at TDECQ max, over the ER cases, dBm.

    max(OMA_outer min, (OMA − TDECQ) min + TDECQ max), minimised over ER = ER_min and ER → large
    (for the ER-dependent floors).  400GBASE-DR4: max(max(−0.8, −2.2 + 3.4), −2.2 + 3.4) = 1.2 dBm.
    With ``allow_proposal`` PROPOSAL rows count, and a table without OMA rows uses
    ``ProposalAllocations.oma_minus_tdecq_dbm`` + TDECQ max (1.6TBASE-DR8: −1.2 + 3.4 = 2.2 dBm, the
    draft's TDECQ max taking precedence over the blog's 3.0 dB proposal row).

    Raises
    ------
    SpecError
        If the PHY has no TDECQ max or no OMA rows (without ``allow_proposal``).
    """
    for name, flag in (("allow_proposal", allow_proposal), ("allow_draft", allow_draft)):
        if not isinstance(flag, bool):
            raise InvalidType(f"{name} must be True or False, got {flag!r}")
    prop = proposal_allocations if proposal_allocations is not None else ProposalAllocations()
    return _tx_oma(spec, allow_proposal, prop, allow_draft)[0]


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
    got = _row_value(spec, "stressed_rx_sensitivity_oma_dbm", "max", cond.allow_proposal, cond.allow_draft)
    if got is not None:
        rows = _rows(spec, "stressed_rx_sensitivity_oma_dbm", cond.allow_proposal, cond.allow_draft)
        return (got[0], all(r.verified for r in rows), any(r.proposal for r in rows),
                "Rx stressed sensitivity OMA_outer", "PHY table")
    rxs = _row_value(spec, "rx_sensitivity_oma_dbm", "max", True) if cond.allow_proposal else None
    if rxs is None:
        _single(spec, "stressed_rx_sensitivity_oma_dbm", "max", cond.allow_proposal, cond.allow_draft)  # raises
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
    ap, ad = cond.allow_proposal, cond.allow_draft
    got = _row_value(spec, "tdecq_db", "max", ap, ad)
    tdecq_max = _single(spec, "tdecq_db", "max", ap, ad) if got is None else got[0]
    t_rows = _rows(spec, "tdecq_db", ap, ad)
    tx, tx_verified, tx_prop, tx_basis = _tx_oma(spec, ap, cond.proposal, ad)
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
    avg = _row_value(spec, "average_power_dbm", "min", ap, ad)
    if avg is not None:
        a_rows = _rows(spec, "average_power_dbm", ap, ad)
        items.append(BudgetItem("tx_average_power_min", "Tx average launch power (min, info)", avg[0], "dBm", 0,
                                "PHY table", all(r.verified for r in a_rows), any(r.proposal for r in a_rows)))
    items += chan
    il_row = _row_value(spec, "channel_insertion_loss_db", "max", ap, ad)
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
