"""`optics yield`: the command line of yield prediction."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from optics.cli import main

HERE = Path(__file__).parent
PLAN = HERE / "dr8-2lanes-25c.toml"


def test_list_parameters_names_units_ranges_and_the_design_values(capsys):
    assert main(["yield", "--list-parameters", "800GBASE-DR8", "--json"]) == 0
    rows = {r["parameter"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["laser.slope_efficiency_w_per_a"]["unit"] == "W/A"
    assert rows["tia.input_noise_density_a_per_rthz"]["nominal"] == 12e-12
    assert rows["modulator.eo_bandwidth_hz"]["nominal"] == 45e9          # the preset's MZM
    assert rows["photodiode.responsivity_a_per_w"]["high"] == 1.6
    assert main(["yield", "--list-parameters", "800GBASE-DR8"]) == 0
    assert "module.chip_temperature_rise_k" in capsys.readouterr().out


def test_json_summary_with_per_module_verdicts_and_report(tmp_path, capsys):
    args = ["yield", "--population", str(HERE / "defective-dr8.toml"), "--plan", str(PLAN), "--modules", "4",
            "--workers", "1", "--per-module", "--json", "--quiet", "--report", str(tmp_path / "rep")]
    assert main(args) == 0
    d = json.loads(capsys.readouterr().out)
    for key in ("modules", "yield", "yield_ci95", "failures", "seconds", "modules_per_s", "per_module",
                "by_temperature", "measurements", "guard_bands"):
        assert key in d
    assert d["modules"] == 4 and len(d["per_module"]) == 4 and d["interrupted"] is False
    n_pass = sum(m["verdict"] in ("PASS", "MARGINAL") for m in d["per_module"])
    assert d["yield"] == n_pass / 4
    assert [m["serial"] for m in d["per_module"]] == [f"TDR8{k:06d}" for k in range(4)]
    # the plan's [repeatability] drives the escape analysis; the command line overrides a value
    assert d["guard_bands"]["repeatability"]["tdecq_db"] == 0.15
    assert (tmp_path / "rep" / "yield.html").read_text().count("data:image/png") >= 5
    assert json.loads((tmp_path / "rep" / "yield.json").read_text())["modules"] == 4


@pytest.mark.parametrize("args, words", [
    (["--repeatability", "tdecq_db"], "NAME=SIGMA"),
    (["--repeatability", "tdecq_db=-1"], "NAME=SIGMA"),
    (["--modules", "0"], "--modules 0"),
])
def test_bad_options_are_one_line_errors(capsys, args, words):
    assert main(["yield", "--population", "800g-dr8", "--plan", str(PLAN), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("optics yield: error:") and words in err


def test_unknown_population_is_named(capsys):
    assert main(["yield", "--population", "no-such", "--plan", str(PLAN)]) == 2
    assert "no-such" in capsys.readouterr().err


def test_repeatability_from_a_station_database(tmp_path, capsys):
    """A station's retests (the same serial twice on the virtual line) set the repeatability the
    escape analysis uses, over the plan's stated values."""
    from optics.station.repeatability import repeatability_sigma
    from optics.station.store import open_store

    bench = tmp_path / "bench.toml"
    bench.write_text(f'[virtual]\npopulation = "{HERE / "defective-dr8.toml"}"\ntime_scale = 1000.0\n')
    db = tmp_path / "line.sqlite"
    for _ in range(2):
        assert main(["station", "run", "--plan", str(PLAN), "--bench", str(bench), "--serial", "TDR8000001",
                     "--db", str(db), "--quiet"]) == 0
    capsys.readouterr()
    with open_store(db, read_only=True) as store:
        sigma = repeatability_sigma(store, plan_name="800G-DR8-2L")
    assert main(["yield", "--population", str(HERE / "defective-dr8.toml"), "--plan", str(PLAN), "--modules", "1",
                 "--workers", "1", "--json", "--quiet", "--repeatability-db", str(db)]) == 0
    rep = json.loads(capsys.readouterr().out)["guard_bands"]["repeatability"]
    assert rep["tdecq_db"] == sigma["tdecq_db"] != 0.15          # the station's, not the plan's
    assert rep["rx_sensitivity_oma_dbm"] == sigma["rx_sensitivity_oma_dbm"]
    assert main(["yield", "--population", "800g-dr8", "--plan", str(PLAN), "--golden", "X"]) == 2
    assert "--golden needs --repeatability-db" in capsys.readouterr().err
