"""The yield summary's burn-in line: screened modules against the model, the survivors' yield."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from scipy import stats

from models.population import load_population
from optics.cli import main
from optics.volume.evaluate import BURN_IN_FALLOUT, ModuleOutcome, Record
from optics.volume.report import to_html
from optics.volume.summary import YieldSummary

HERE = Path(__file__).parent
PLAN = HERE / "dr8-2lanes-25c.toml"
# a heavy burn-in of a population with many weak dies: most modules are screened (fast), a few tested
POP = """design = "800GBASE-DR8"
serial_prefix = "BI"
seed = 7
[burn_in]
hours = 1000.0
temperature_c = 150.0
weak_fraction = 0.6
"""


def _outcome(k: int, verdict: str, *, screened: bool = False) -> ModuleOutcome:
    if screened:
        recs = (Record("burn_in", BURN_IN_FALLOUT, None, None, None, "FAIL", None, None, None, 0.0),)
    else:
        recs = (Record("tx", "tdecq_db", 0, 25.0, 2.0, verdict, None, 3.4, 1.4, 0.3),)
    return ModuleOutcome(index=k, serial=f"X{k}", verdict=verdict, defects="", records=recs, seconds=0.0)


def test_counts_fraction_interval_and_survivor_yield_by_hand():
    s = YieldSummary(burn_in_expected=0.25)
    outs = [_outcome(0, "FAIL", screened=True), _outcome(1, "PASS"), _outcome(2, "FAIL"),
            _outcome(3, "FAIL", screened=True), _outcome(4, "MARGINAL"), _outcome(5, "PASS")]
    for o in outs:
        s.add(o)
    d = s.to_dict()
    assert d["burn_in"]["screened"] == 2 and d["burn_in"]["fraction"] == pytest.approx(2 / 6)
    assert d["burn_in"]["expected"] == 0.25
    # Clopper-Pearson by its beta-quantile definition
    assert d["burn_in"]["fraction_ci95"] == pytest.approx([stats.beta.ppf(0.025, 2, 5), stats.beta.ppf(0.975, 3, 4)])
    assert d["yield"] == pytest.approx(3 / 6)
    assert d["yield_survivors"] == pytest.approx(3 / 4)
    assert d["yield_survivors_ci95"] == pytest.approx([stats.beta.ppf(0.025, 3, 2), stats.beta.ppf(0.975, 4, 1)])
    # screened modules were tested at no temperature: the 25 °C yield is that of the 4 tested
    assert d["by_temperature"] == [{"temperature_c": 25.0, "yield": 0.75, "modules": 4}]
    assert "burn-in: 2 screened" in s.to_text() and "yield of the 4 tested: 75.0 %" in s.to_text()
    page = to_html(s, title="t")
    assert "Burn-in screened 2 modules, 33.33 %" in page and "Yield of the 4 modules tested: 75.00 %" in page


def test_no_burn_in_no_line_and_survivors_are_everyone():
    s = YieldSummary()
    for o in (_outcome(0, "PASS"), _outcome(1, "FAIL")):
        s.add(o)
    d = s.to_dict()
    assert d["burn_in"] is None and "burn-in" not in s.to_text()
    assert d["yield_survivors"] == d["yield"] == 0.5
    with pytest.raises(ValueError, match="burn_in_expected"):
        YieldSummary(burn_in_expected=1.5)


def test_cli_burn_in_counts_match_the_records_and_the_model(tmp_path, capsys):
    pop_file = tmp_path / "bi.toml"
    pop_file.write_text(POP)
    n = 12
    args = ["yield", "--population", str(pop_file), "--plan", str(PLAN), "--modules", str(n), "--workers", "1",
            "--per-module", "--json", "--quiet"]
    assert main(args) == 0
    d = json.loads(capsys.readouterr().out)
    per = d["per_module"]
    screened = [m for m in per if BURN_IN_FALLOUT in m["failed"]]
    # the population's own draw, module by module
    pop = load_population(pop_file)
    assert {m["index"] for m in screened} == {k for k in range(n) if pop.burn_in_lasers_failed(k).any()}
    assert 0 < len(screened) < n
    bi = d["burn_in"]
    assert bi["screened"] == len(screened) and bi["fraction"] == pytest.approx(len(screened) / n)
    # the model: 2 lasers (one per 4 lanes), each weak with 0.6 and failing with F_w(t_eq)
    af = math.exp(0.7 / 8.617333262e-5 * (1 / 328.15 - 1 / 423.15))
    f_w = 1 - math.exp(-((1000.0 * af / 2000.0) ** 0.5))
    assert bi["expected"] == pytest.approx(1 - (1 - 0.6 * f_w) ** 2, rel=1e-12)
    lo, hi = bi["fraction_ci95"]
    assert lo < bi["fraction"] < hi
    passes = sum(m["verdict"] in ("PASS", "MARGINAL") for m in per)
    assert d["yield_survivors"] == pytest.approx(passes / (n - len(screened)))
    assert d["yield"] == pytest.approx(passes / n)
