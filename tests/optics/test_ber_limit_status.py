"""A draft / proposal pre-FEC BER limit (``[phy] ber_limit_status``): judged and shown, deciding only
with its flag, like a draft / proposal row (issue 15: 1.6TBASE-DR8's 802.3dj draft BER limit)."""

from __future__ import annotations

import pytest

from optics.errors import SpecError
from optics.phy import load_phy, load_spec_file
from optics.verdict import FAIL, NOT_TESTED, PASS, BerCheck

HEAD = """
schema = 1
[phy]
name = "TEST-PHY"
standard = "test"
lanes = 1
modulation = "PAM4"
symbol_rate_baud = 53.125e9
reach_m = 500
wavelength_windows_nm = [[1304.5, 1317.5]]
{extra}
[sources]
s = "a source"
[[row]]
metric = "tdecq_db"
label = "TDECQ"
group = "tx"
unit = "dB"
max = 3.4
clause = "x"
source = "s"
verified = false
"""


def _spec(tmp_path, extra):
    p = tmp_path / "t.toml"
    p.write_text(HEAD.format(extra=extra))
    return load_spec_file(p)


def test_the_1_6t_table_has_the_draft_ber_limit_with_its_source():
    spec = load_phy("1.6TBASE-DR8")
    # reference notes (ieee802.3dj-draft-notes.md): Table 174A-1, optical link share 2.28e-4, low confidence
    assert (spec.ber_limit, spec.ber_limit_status) == (2.28e-4, "draft")
    assert "174A-1" in spec.ber_limit_source and "low confidence" in spec.ber_limit_source
    d = spec.to_dict()
    assert d["ber_limit_status"] == "draft" and "174A" in d["ber_limit_source"]
    assert "BER limit 0.000228 [DRAFT]" in spec.to_text()
    # a published limit is unchanged: no status
    assert load_phy("400GBASE-DR4").ber_limit_status is None


@pytest.mark.parametrize("ber, expected", [(2.0e-4, PASS), (2.28e-4, PASS), (3.0e-4, FAIL), (None, NOT_TESTED)])
def test_a_draft_ber_limit_decides_only_with_allow_draft(ber, expected):
    spec = load_phy("1.6TBASE-DR8")
    advisory = BerCheck.from_spec(ber, spec)
    assert advisory.status == expected and not advisory.decides and advisory.flag == "--allow-draft"
    reason = advisory.reason()
    assert reason.kind == "advisory" and reason.flag == "--allow-draft" and reason.row_status == "DRAFT"
    for flags in ({"allow_draft": True}, {"allow_proposal": True}):        # proposal admits drafts too
        decided = BerCheck.from_spec(ber, spec, **flags)
        assert decided.status == expected and decided.decides and decided.flag is None
        assert (decided.reason() is None) == (expected != NOT_TESTED)
    assert advisory.to_record()["row_status"] == "DRAFT" and advisory.to_record()["decides"] is False


def test_a_proposal_ber_limit_needs_allow_proposal(tmp_path):
    spec = _spec(tmp_path, 'ber_limit = 2.4e-4\nber_limit_status = "proposal"\nber_limit_source = "s"')
    assert spec.ber_limit_source == "a source"
    assert not BerCheck.from_spec(1e-3, spec, allow_draft=True).decides
    check = BerCheck.from_spec(1e-3, spec, allow_proposal=True)
    assert check.decides and check.status == FAIL
    published = BerCheck.from_spec(1e-3, _spec(tmp_path, "ber_limit = 2.4e-4"))
    assert published.decides and published.status == FAIL and published.to_record()["row_status"] is None


@pytest.mark.parametrize("extra, match", [
    ('ber_limit = 2.4e-4\nber_limit_status = "final"\nber_limit_source = "s"', r"ber_limit_status = 'final'; allowed: draft, proposal"),
    ('ber_limit = 2.4e-4\nber_limit_status = "draft"', r"ber_limit_source = None must name an entry of \[sources\] \(s\)"),
    ('ber_limit = 2.4e-4\nber_limit_status = "draft"\nber_limit_source = "zz"', r"ber_limit_source = 'zz'"),
    ('ber_limit_status = "draft"\nber_limit_source = "s"', r"describe a ber_limit, which is missing"),
])
def test_bad_ber_limit_status_is_refused(tmp_path, extra, match):
    with pytest.raises(SpecError, match=match):
        _spec(tmp_path, extra)
