"""Command line: ``optics phys`` and ``optics budget``."""

import json

import pytest

from optics.cli import COMMAND_MODULES, main


def test_registered():
    assert "phys" in COMMAND_MODULES and "budget" in COMMAND_MODULES


def test_phys_lists_all(capsys):
    assert main(["phys"]) == 0
    out = capsys.readouterr().out
    for name in ("400GBASE-DR4", "400GBASE-FR4", "400GBASE-LR4-6", "800GBASE-DR8", "800GBASE-DR8-2",
                 "800GBASE-DR4", "800GBASE-FR4", "1.6TBASE-DR8", "100GBASE-DR"):
        assert name in out
    assert main(["phys", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {d["name"] for d in data} >= {"400GBASE-DR4", "1.6TBASE-DR8"}


def test_phys_table_text_marks_unverified(capsys):
    assert main(["phys", "400gbase-dr4"]) == 0
    out = capsys.readouterr().out
    assert "max(-0.8, -2.2 + tdecq_db)" in out
    line = [ln for ln in out.splitlines() if "transition time" in ln][0]
    assert "UNVERIFIED" in line and "17" in line  # shown in ps
    assert main(["phys", "800GBASE-DR4"]) == 0
    assert "PROPOSAL" in capsys.readouterr().out


def test_phys_json(capsys):
    assert main(["phys", "400GBASE-FR4", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["name"] == "400GBASE-FR4" and d["lanes"] == 4
    row = [r for r in d["rows"] if r["metric"] == "oma_minus_tdecq_dbm"][0]
    assert row["min"] == "-1.7 if extinction_ratio_db >= 4.5 else -1.6" and row["verified"] is True
    disp = [r for r in d["rows"] if r["metric"] == "chromatic_dispersion_ps_per_nm"][0]
    assert disp["min"] == pytest.approx(-11.87, abs=0.01) and disp["verified"] is False


def test_phys_unknown_name(capsys):
    assert main(["phys", "400GBASE-DR"]) == 2
    err = capsys.readouterr().err
    assert "400GBASE-DR4" in err and "did you mean" in err


def test_budget_text_json_and_exit_codes(capsys):
    assert main(["budget", "--phy", "400GBASE-DR4", "--reach-m", "300", "--connectors", "2"]) == 0
    out = capsys.readouterr().out
    assert "= margin 1.850 dB" in out  # 1.2 - (0.15 + 1.0) - 0.1 + 1.9
    assert main(["budget", "--phy", "400GBASE-DR4", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["standard"]["margin_db"] == pytest.approx(0.0, abs=1e-9)
    assert d["conditions"]["reach_m"] == 500.0
    # negative standard margin -> exit 1
    assert main(["budget", "--phy", "400GBASE-DR4", "--reach-m", "3000"]) == 1
    capsys.readouterr()
    assert main(["budget", "--phy", "400GBASE-DR4", "--reach-m", "-1"]) == 2
    assert "reach_m" in capsys.readouterr().err
    assert main(["budget", "--phy", "800GBASE-DR4"]) == 2


def test_budget_sweeps(capsys):
    # the standard column is what this test checks; closed-form physics keeps it fast
    # (the link-model physics column has its own tests in test_budget.py)
    assert main(["budget", "--phy", "400GBASE-FR4", "--sweep", "reach", "--physics", "closed-form", "--json"]) == 0
    recs = json.loads(capsys.readouterr().out)
    assert len(recs) == 9 and recs[-1]["reach_m"] == 4000.0
    assert recs[-1]["standard_margin_db"] == pytest.approx(-1.0, abs=1e-9)  # 2 km beyond: -0.5 dB/km
    assert main(["budget", "--phy", "400GBASE-DR4", "--sweep", "temperature", "--physics", "closed-form"]) == 0
    assert "margin vs temperature_c" in capsys.readouterr().out
