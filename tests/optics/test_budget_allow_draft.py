"""Link budgets from DRAFT rows: only with allow_draft / --allow-draft (proposal rows keep needing
allow_proposal / --allow-proposal)."""

import dataclasses

import pytest

from optics.budget import ClosedFormPhysics, link_budget
from optics.cli import main
from optics.errors import InvalidType, SpecError
from optics.phy import load_phy

DR4 = load_phy("400GBASE-DR4")


def copy_with_rows(**flags):
    """400GBASE-DR4 with every row turned into a draft (or proposal) row of the same number."""
    rows = tuple(dataclasses.replace(r, verified=False, **flags) for r in DR4.rows)
    return dataclasses.replace(DR4, name=f"DR4-{'-'.join(flags)}", rows=rows)


def test_a_draft_only_table_budgets_only_with_allow_draft():
    draft = copy_with_rows(draft=True)
    assert all(r.draft and r.proposal for r in draft.rows)
    with pytest.raises(SpecError, match="allow_draft"):
        link_budget(draft, physics=ClosedFormPhysics())
    b = link_budget(draft, physics=ClosedFormPhysics(), allow_draft=True)
    firm = link_budget(DR4, physics=ClosedFormPhysics())
    # by hand (the DR4 [budget] note): 1.2 dBm Tx OMA at TDECQ 3.4 - 3.0 dB IL - 0.1 dB MPI/DGD
    # - (-1.9 dBm stressed sensitivity) = 0.0 dB at the reach; the same numbers as the firm table
    assert b.standard.margin_db == pytest.approx(0.0, abs=1e-9)
    assert b.standard.margin_db == pytest.approx(firm.standard.margin_db, abs=1e-12)
    assert b.physics.margin_db == pytest.approx(firm.physics.margin_db, abs=1e-12)
    assert b.proposal and not firm.proposal  # draft lines are marked (as PROPOSAL: not published)
    assert b.to_dict()["conditions"]["allow_draft"] is True
    # allow_proposal, as before, uses draft rows too
    assert link_budget(draft, physics=ClosedFormPhysics(), allow_proposal=True).standard.margin_db == \
        pytest.approx(0.0, abs=1e-9)


def test_proposal_rows_still_need_allow_proposal():
    prop = copy_with_rows(proposal=True)
    with pytest.raises(SpecError, match="allow_proposal"):
        link_budget(prop, physics=ClosedFormPhysics(), allow_draft=True)
    assert link_budget(prop, physics=ClosedFormPhysics(), allow_proposal=True).standard.margin_db == \
        pytest.approx(0.0, abs=1e-9)
    # 1.6TBASE-DR8 has draft TDECQ/ER rows but no OMA or stressed-sensitivity row of any kind:
    # draft rows alone cannot budget it; the proposal fall-backs need --allow-proposal
    with pytest.raises(SpecError, match="allow_proposal"):
        link_budget("1.6TBASE-DR8", physics=ClosedFormPhysics(), allow_draft=True)
    with pytest.raises(InvalidType, match="allow_draft"):
        link_budget(DR4, physics=ClosedFormPhysics(), allow_draft="yes")


def test_cli_allow_draft(capsys):
    assert main(["budget", "--phy", "1.6TBASE-DR8", "--physics", "closed-form", "--allow-draft"]) == 2
    assert "allow_proposal" in capsys.readouterr().err
    code = main(["budget", "--phy", "1.6TBASE-DR8", "--physics", "closed-form", "--allow-draft",
                 "--allow-proposal", "--json"])
    out = capsys.readouterr().out
    assert code in (0, 1) and '"allow_draft": true' in out
