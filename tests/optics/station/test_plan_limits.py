"""Plans that cannot judge are refused at load: steps without limits (unless the plan says it is a
characterisation plan), guard bands that are not finite or leave no value that could PASS.

Limit windows are the published 800GBASE-DR8 / 400GBASE-DR4 transmitter rows (IEEE 802.3df
clause 124, 802.3bs clause 121): average launch power -2.9 .. 4.0 dBm, OMA_outer -0.8 .. 4.2 dBm.
"""

import dataclasses
import math
import textwrap
from pathlib import Path

import numpy as np
import pytest

from instruments.bench import BenchConfig
from optics.errors import ConfigError
from optics.station.bench_adapter import open_bench
from models.population import lane_tx_waveform
from optics.station.dut import nominal_module
from optics.station.plan import load_plan
from optics.station.records import Outcome, RunStatus
from optics.station.runner import run_plan
from optics.station.store import SQLiteStore

ROOT = Path(__file__).resolve().parents[3]

HEAD = textwrap.dedent("""\
    name = "limits"
    phy = "{phy}"
    lanes = 1
    guard_band = {guard}
    {extra}
    """)

TX = textwrap.dedent("""\
    [[step]]
    name = "tx"
    kind = "tx"
    {limits}
    guard_bands = {{ {gbs} }}
    settings = {{ export_eye = false }}
    """)

RX = textwrap.dedent("""\
    [[step]]
    name = "rx"
    kind = "rx_sensitivity"
    limits = ["rx_sensitivity_oma_dbm"]
    settings = { reference_secq_db = 1.0 }
    """)

DDM = '[[step]]\nname = "ddm"\nkind = "ddm"\n'


def plan_text(*, phy="800GBASE-DR8", guard="0.2", extra="", limits='limits = ["average_power_dbm", "oma_outer_dbm"]',
              gbs="", steps=None):
    body = steps if steps is not None else TX.format(limits=limits, gbs=gbs)
    return HEAD.format(phy=phy, guard=guard, extra=extra) + "\n" + body


def load(tmp_path, text):
    p = tmp_path / "plan.toml"
    p.write_text(text)
    return load_plan(p)


def line_of(text, fragment):
    return next(i for i, ln in enumerate(text.splitlines(), 1) if fragment in ln)


@pytest.mark.parametrize("limits", ["limits = []", ""])
def test_a_tx_step_without_limits_is_refused_naming_its_line(tmp_path, limits):
    """162 records 'no limit in the plan' and exit 0: a measuring step that judges nothing is a
    plan error, named at the step's limits (or its header when it has none)."""
    text = plan_text(limits=limits) + "\n" + RX
    where = line_of(text, "limits = []") if limits else line_of(text, "[[step]]")
    with pytest.raises(ConfigError, match=rf"plan.toml:{where}: \[\[step\]\] #1: step 'tx' \(kind 'tx'\) has no "
                                          r"limits.*average_power_dbm.*characterisation = true"):
        load(tmp_path, text)


def test_an_rx_step_without_limits_is_refused_next_to_a_judged_tx_step(tmp_path):
    text = plan_text() + "\n" + RX.replace('limits = ["rx_sensitivity_oma_dbm"]\n', "")
    with pytest.raises(ConfigError, match=r"\[\[step\]\] #2: step 'rx' \(kind 'rx_sensitivity'\) has no limits"):
        load(tmp_path, text)


def test_a_plan_of_monitor_reads_only_is_refused_unless_it_is_a_characterisation_plan(tmp_path):
    text = plan_text(steps=DDM)
    with pytest.raises(ConfigError, match=rf"plan.toml:{line_of(text, '[[step]]')}: no step of plan 'limits' "
                                          r"judges anything \(its steps: ddm \(ddm\)"):
        load(tmp_path, text)
    assert load(tmp_path, plan_text(steps=DDM, extra="characterisation = true")).characterisation is True


def test_characterisation_must_be_a_boolean(tmp_path):
    with pytest.raises(ConfigError, match=r"plan.toml:5: characterisation = 'yes' must be true or false"):
        load(tmp_path, plan_text(extra='characterisation = "yes"'))


def test_a_characterisation_plan_loads_and_runs(tmp_path):
    """Declared, a plan without limits runs: every value recorded, none judged (no limits in the
    record), the module's physics in the values, the run complete."""
    plan = load(tmp_path, plan_text(limits="", extra="characterisation = true", guard="0"))
    assert plan.characterisation is True and plan.steps[0].limits == ()
    module = nominal_module("SNCHAR", n_lanes=1)
    fast = dataclasses.replace(BenchConfig.default(),
                               physics=dataclasses.replace(BenchConfig.default().physics, time_scale=1000.0))
    with open_bench(fast, module=module, needed=plan.instruments) as bench, \
            SQLiteStore(tmp_path / "r.sqlite") as store:
        result = run_plan(plan, bench, store, serial="SNCHAR")
    assert result.status is RunStatus.COMPLETE and result.outcome is Outcome.PASS
    by = {r.name: r for r in result.records if r.step == "tx"}
    assert {"average_power_dbm", "oma_outer_dbm", "extinction_ratio_db", "tdecq_db", "rlm"} <= set(by)
    assert all(r.low_limit is None and r.high_limit is None and r.value is not None for r in by.values())
    # independent: the lane's launch power at the bench's 25 °C ambient
    p_dbm = 10 * math.log10(float(np.mean(lane_tx_waveform(module, 0, 25.0).samples)) / 1e-3)
    assert by["average_power_dbm"].value == pytest.approx(p_dbm, abs=0.15)


@pytest.mark.parametrize("guard, gbs, match", [
    ("nan", "", r"plan.toml:4: guard_band = nan must be a finite number >= 0"),
    ("inf", "", r"plan.toml:4: guard_band = inf must be a finite number >= 0"),
    ("-0.1", "", r"plan.toml:4: guard_band = -0.1 must be a finite number >= 0"),
    ("0.2", "average_power_dbm = nan", r"plan.toml:11: \[\[step\]\] #1: guard band average_power_dbm = nan must be "
                                       r"a finite number >= 0"),
    ("0.2", "oma_outer_dbm = inf", r"guard band oma_outer_dbm = inf must be a finite number >= 0"),
    ("0.2", "oma_outer_dbm = -1.0", r"guard band oma_outer_dbm = -1.0 must be a finite number >= 0"),
])
def test_guard_bands_must_be_finite_and_non_negative(tmp_path, guard, gbs, match):
    with pytest.raises(ConfigError, match=match):
        load(tmp_path, plan_text(guard=guard, gbs=gbs))


def test_a_plan_guard_band_leaving_no_pass_window_is_refused(tmp_path):
    """OMA_outer -0.8 .. 4.2 dBm is 5 dB wide: a guard band g on each limit leaves
    [-0.8 + g, 4.2 - g], which holds no value that could PASS once g >= 2.5 dB."""
    with pytest.raises(ConfigError, match=r"plan.toml:4: \[\[step\]\] #1: guard_band = 2.5 dB leaves no value of "
                                          r"'oma_outer_dbm' that could PASS: its 800GBASE-DR8 window is "
                                          r"\[-0.8, 4.2\] dBm, 5 dB wide.*< 2.5 dB"):
        load(tmp_path, plan_text(guard="2.5"))
    assert load(tmp_path, plan_text(guard="2.45")).guard_band == 2.45
    # the per-limit guard band overrides the plan's: OMA gets 0.5 dB, and 2.5 dB on average
    # power (-2.9 .. 4 dBm, 6.9 dB wide) leaves [-0.4, 1.5] dBm
    assert load(tmp_path, plan_text(guard="2.5", gbs="oma_outer_dbm = 0.5")).steps[0].guard_bands == {
        "oma_outer_dbm": 0.5}


@pytest.mark.parametrize("phy", ["800GBASE-DR8", "400GBASE-DR4"])
def test_a_step_guard_band_leaving_no_pass_window_is_refused(tmp_path, phy):
    """Average launch power -2.9 .. 4.0 dBm (6.9 dB wide): one row in 800GBASE-DR8, a max row and
    a min row in 400GBASE-DR4, judged as one window; 3.45 dB on each limit closes it."""
    text = plan_text(phy=phy, limits='limits = ["average_power_dbm"]', gbs="average_power_dbm = 3.45")
    with pytest.raises(ConfigError, match=rf"plan.toml:{line_of(text, 'guard_bands')}: \[\[step\]\] #1: guard band "
                                          rf"average_power_dbm = 3.45 dB leaves no value.*its {phy} window is "
                                          r"\[-2.9, 4\] dBm, 6.9 dB wide"):
        load(tmp_path, text)
    assert load(tmp_path, text.replace("3.45", "3.4")).steps[0].guard_bands == {"average_power_dbm": 3.4}


def test_the_shipped_plans_still_load():
    paths = sorted((ROOT / "plans").glob("*.toml")) + sorted((ROOT / "optics" / "station" / "plans").glob("*.toml"))
    assert len(paths) >= 2
    for p in paths:
        plan = load_plan(p)
        assert not plan.characterisation and all(s.limits for s in plan.steps), p
