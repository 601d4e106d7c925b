"""`optics yield` burn-in / aging options and the plan's [burn_in]: command line > plan > population."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from models.aging import BurnInScreen
from optics.cli import main
from optics.errors import InvalidParameter
from optics.volume.evaluate import YieldJob, context

HERE = Path(__file__).parent
PLAN = HERE / "dr8-2lanes-25c.toml"
POP_BI = 'design = "800GBASE-DR8"\nseed = 3\n[burn_in]\nhours = 24.0\ntemperature_c = 100.0\nweak_fraction = 0.2\n'
POP_PLAIN = 'design = "800GBASE-DR8"\nseed = 3\n'


def _files(tmp_path: Path, pop_text: str, plan_burn_in: str = "") -> tuple[Path, Path]:
    pop = tmp_path / "pop.toml"
    pop.write_text(pop_text)
    plan = tmp_path / "plan.toml"
    plan.write_text(PLAN.read_text() + plan_burn_in)
    return pop, plan


def _fallout(weak: float, hours: float, temp_c: float, n_lasers: int = 2) -> float:
    """By hand: Arrhenius (0.7 eV, 55 °C reference), Weibull η = 2000 h, β = 0.5."""
    af = math.exp(0.7 / 8.617333262e-5 * (1 / 328.15 - 1 / (temp_c + 273.15)))
    return 1 - (1 - weak * (1 - math.exp(-((hours * af / 2000.0) ** 0.5)))) ** n_lasers


def test_precedence_command_line_then_plan_then_population(tmp_path):
    pop, plan = _files(tmp_path, POP_BI, '\n[burn_in]\nhours = 96.0\ntemperature_c = 125.0\n')
    p = context(YieldJob.from_files(pop, PLAN)).population       # the population's own
    assert p.burn_in[1:] == (24.0, 100.0)
    assert p.burn_in_fallout_expected() == pytest.approx(_fallout(0.2, 24.0, 100.0), rel=1e-12)
    p = context(YieldJob.from_files(pop, plan)).population       # the plan's conditions, the population's dies
    assert p.burn_in[1:] == (96.0, 125.0) and p.burn_in[0].weak_fraction == 0.2
    assert p.burn_in_fallout_expected() == pytest.approx(_fallout(0.2, 96.0, 125.0), rel=1e-12)
    p = context(YieldJob.from_files(pop, plan, burn_in_hours=10.0)).population    # each value on its own
    assert p.burn_in[1:] == (10.0, 125.0)
    p = context(YieldJob.from_files(pop, plan, burn_in_hours=0.0, burn_in_temperature_c=150.0)).population
    assert p.burn_in_fallout_expected() == 0.0


def test_plan_burn_in_enables_a_screen_for_a_population_without_one(tmp_path):
    pop, plan = _files(tmp_path, POP_PLAIN, '\n[burn_in]\nhours = 48.0\ntemperature_c = 125.0\n')
    assert context(YieldJob.from_files(pop, PLAN)).population.burn_in is None
    p = context(YieldJob.from_files(pop, plan)).population
    assert p.burn_in[0] == BurnInScreen()
    assert p.burn_in_fallout_expected() == pytest.approx(_fallout(0.01, 48.0, 125.0), rel=1e-12)
    failed = [k for k in range(400) if p.module(k).burn_in_failed]
    assert 0 < len(failed) < 40          # 1.5 % of 400 = 6 expected


def test_aging_flags(tmp_path):
    pop, _ = _files(tmp_path, POP_PLAIN + '[aging]\nhours = 1000.0\ntemperature_c = 55.0\n')
    p = context(YieldJob.from_files(pop, PLAN, age_hours=50000.0)).population
    assert p.aging == (50000.0, 55.0)
    p = context(YieldJob.from_files(pop, PLAN, age_hours=50000.0, age_temperature_c=80.0)).population
    assert p.aging == (50000.0, 80.0)
    pop2, _ = _files(tmp_path, POP_PLAIN)
    with pytest.raises(InvalidParameter, match="--age-temperature-c"):
        YieldJob.from_files(pop2, PLAN, age_hours=1000.0)


@pytest.mark.parametrize("args, words", [
    (["--burn-in-hours", "-1", "--burn-in-temperature-c", "125"], "--burn-in-hours = -1.0 h is outside the allowed range [0.0, 10000.0]"),
    (["--burn-in-hours", "48", "--burn-in-temperature-c", "250"], "--burn-in-temperature-c = 250.0 °C is outside"),
    (["--burn-in-hours", "48"], "give --burn-in-temperature-c too"),
    (["--age-hours", "2e6", "--age-temperature-c", "55"], "--age-hours = 2000000.0 h is outside the allowed range [0.0, 1000000.0]"),
    (["--age-hours", "1e4", "--age-temperature-c", "170"], "--age-temperature-c = 170.0 °C is outside"),
])
def test_bad_values_are_one_line_errors(tmp_path, capsys, args, words):
    pop, _ = _files(tmp_path, POP_PLAIN)
    assert main(["yield", "--population", str(pop), "--plan", str(PLAN), "--modules", "1", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("optics yield: error:") and words in err


def test_cli_flag_screens_modules_of_a_population_without_burn_in(tmp_path, capsys):
    pop, _ = _files(tmp_path, POP_PLAIN)
    # 10^4 h at 200 °C: F_w ~ 1, so a module is screened with 1 - (1 - 0.01)^2 ~ 2 %: mostly tested, slow;
    # take 3 modules that the default screen removes, found from the population itself
    p = context(YieldJob.from_files(pop, PLAN, burn_in_hours=1e4, burn_in_temperature_c=200.0)).population
    hit = [k for k in range(2000) if p.burn_in_lasers_failed(k).any()][:3]
    assert len(hit) == 3
    for k in hit:
        assert main(["yield", "--population", str(pop), "--plan", str(PLAN), "--modules", "1", "--first", str(k),
                     "--workers", "1", "--json", "--quiet", "--burn-in-hours", "1e4",
                     "--burn-in-temperature-c", "200"]) == 0
        d = json.loads(capsys.readouterr().out)
        assert d["burn_in"]["screened"] == 1 and d["yield"] == 0.0
        assert d["burn_in"]["expected"] == pytest.approx(_fallout(0.01, 1e4, 200.0), rel=1e-12)
