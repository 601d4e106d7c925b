"""Yield prediction with a population's burn-in: removed modules are a line of the failure Pareto."""

from pathlib import Path

from models.population import load_population
from optics.volume.evaluate import BURN_IN_FALLOUT, YieldJob, evaluate_module
from optics.volume.summary import YieldSummary

PLAN = Path(__file__).resolve().parents[3] / "plans" / "800g-dr8.toml"


def test_burn_in_fallout_modules_are_not_tested(tmp_path):
    pop_file = tmp_path / "pop.toml"
    pop_file.write_text('design = "800GBASE-DR8"\nserial_prefix = "BI"\nseed = 5\n'
                        '[burn_in]\nhours = 200.0\ntemperature_c = 125.0\nweak_fraction = 0.3\n')
    pop = load_population(pop_file)
    failed = [k for k in range(30) if pop.burn_in_lasers_failed(k).any()]
    assert len(failed) >= 3
    job = YieldJob.from_files(pop_file, PLAN)
    summary = YieldSummary()
    for k in failed[:3]:
        out = evaluate_module(job, k)
        assert out.verdict == "FAIL" and not out.passed and "burn-in fallout" in out.defects
        assert [r.name for r in out.records] == [BURN_IN_FALLOUT]
        summary.add(out)
    assert {row["measurement"]: row["fraction"] for row in summary.pareto()} == {BURN_IN_FALLOUT: 1.0}
    assert summary.yield_fraction == 0.0
