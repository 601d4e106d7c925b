import textwrap

import pytest

from optics.errors import ConfigError
from optics.station.plan import load_plan

ROWS = {"800GBASE-DR8": ["average_power_dbm", "oma_outer_dbm", "extinction_ratio_db", "tdecq_db",
                          "rx_sensitivity_oma_dbm"]}


def phy_rows(name):
    if name not in ROWS:
        raise KeyError(f"unknown PHY {name!r}; did you mean 800GBASE-DR8?")
    return ROWS[name]


GOOD = textwrap.dedent(
    """\
    name = "dr8"
    phy = "800GBASE-DR8"
    lanes = 8
    temperatures_c = [25.0, 70.0]
    guard_band = 0.2

    [[step]]
    name = "tx"
    kind = "tx"
    retries = 1
    limits = ["average_power_dbm", "tdecq_db"]
    guard_bands = { tdecq_db = 0.3 }

    [[step]]
    name = "rx"
    kind = "rx_sensitivity"
    limits = ["rx_sensitivity_oma_dbm"]
    settings = { ber_threshold = 2.4e-4 }
    """
)


def write(tmp_path, text):
    p = tmp_path / "plan.toml"
    p.write_text(text)
    return p


def test_good_plan(tmp_path):
    plan = load_plan(write(tmp_path, GOOD), phy_rows=phy_rows)
    assert plan.lanes == 8 and plan.temperatures_c == (25.0, 70.0)
    tx, rx = plan.steps
    assert tx.guard_band("tdecq_db", plan.guard_band) == 0.3
    assert tx.guard_band("average_power_dbm", plan.guard_band) == 0.2
    assert rx.settings["ber_threshold"] == 2.4e-4
    assert set(plan.instruments) == {"scope", "power_meter", "attenuator", "bert", "thermal"}
    assert len(plan.sha256) == 64


@pytest.mark.parametrize(
    "old, new, match",
    [
        ("lanes = 8", "lanez = 8", r"plan.toml:3: unknown key 'lanez'"),
        ('kind = "rx_sensitivity"', 'kind = "rx_sensitivity"\nbogus = 1', r"plan.toml:17: \[\[step\]\] #2: unknown key 'bogus'"),
        ('limits = ["rx_sensitivity_oma_dbm"]', 'limits = ["tdecq_db"]', r"plan.toml:17: .*'tdecq_db' is not measured by a 'rx_sensitivity' step"),
        ('"average_power_dbm", "tdecq_db"]', '"average_power_dbm", "rlm"]', r"plan.toml:11: .*'rlm' names no row of PHY 800GBASE-DR8"),
        ('phy = "800GBASE-DR8"', 'phy = "800GBASE-DR"', r"plan.toml:2: phy = '800GBASE-DR'.*did you mean"),
        ("lanes = 8", "lanes = 0", r"lanes = 0 must be an integer in \[1, 32\]"),
        ("retries = 1", "retries = -1", r"plan.toml:10: .*retries = -1"),
        ('kind = "tx"', 'kind = "eye"', r"kind = 'eye'; allowed"),
    ],
)
def test_bad_plans_name_file_key_and_line(tmp_path, old, new, match):
    assert old in GOOD
    with pytest.raises(ConfigError, match=match):
        load_plan(write(tmp_path, GOOD.replace(old, new, 1)), phy_rows=phy_rows)


def test_bench_lacking_an_instrument(tmp_path):
    with pytest.raises(ConfigError, match=r"step 'rx'.*needs instrument\(s\) bert"):
        load_plan(write(tmp_path, GOOD), phy_rows=phy_rows,
                  bench_instruments=["scope", "power_meter", "attenuator", "thermal"])


def test_syntax_error_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="TOML syntax error"):
        load_plan(write(tmp_path, "name = \n"), phy_rows=phy_rows)
    with pytest.raises(ConfigError, match="cannot read plan"):
        load_plan(tmp_path / "nope.toml", phy_rows=phy_rows)


def test_settings_and_thermal_are_checked(tmp_path):
    plan = load_plan(write(tmp_path, GOOD + "\n[thermal]\nsoak_s = 10\nwindow_k = 0.5\n"), phy_rows=phy_rows)
    assert plan.thermal == {"soak_s": 10.0, "window_k": 0.5}
    with pytest.raises(ConfigError, match=r"plan.toml:18: \[\[step\]\] #2: unknown setting 'ber_treshold'.*allowed: ber_threshold"):
        load_plan(write(tmp_path, GOOD.replace("ber_threshold", "ber_treshold")), phy_rows=phy_rows)
    with pytest.raises(ConfigError, match=r"setting ber_threshold = 'low' must be of type float"):
        load_plan(write(tmp_path, GOOD.replace("2.4e-4", '"low"')), phy_rows=phy_rows)
    with pytest.raises(ConfigError, match=r"plan.toml:21: \[thermal\]: unknown key 'soak'"):
        load_plan(write(tmp_path, GOOD + "\n[thermal]\nsoak = 10\n"), phy_rows=phy_rows)
    with pytest.raises(ConfigError, match=r"\[thermal\]: timeout_s = -1 must be a number"):
        load_plan(write(tmp_path, GOOD + "\n[thermal]\ntimeout_s = -1\n"), phy_rows=phy_rows)


def test_the_shipped_plan_is_valid_against_the_package_phy_tables():
    from optics.station.demo import DEFAULT_PLAN

    plan = load_plan(DEFAULT_PLAN, bench_instruments=["scope", "power_meter", "attenuator", "bert", "thermal"])
    assert plan.phy == "800GBASE-DR8" and plan.lanes == 8 and plan.temperatures_c == (25.0, 70.0)
    assert [s.kind for s in plan.steps] == ["tx", "rx_sensitivity"]


def test_example_plan_is_the_packaged_plan():
    from pathlib import Path

    from optics.station.demo import DEFAULT_PLAN

    example = Path(__file__).resolve().parents[3] / "plans" / "800g-dr8.toml"
    assert DEFAULT_PLAN.read_bytes() == example.read_bytes()


@pytest.mark.parametrize(
    "setting, match",
    [
        ("ber_threshold = 0.7", r"plan.toml:18: \[\[step\]\] #2: setting ber_threshold = 0.7 must be in \[1e-15, 0.5\]"),
        ("ber_threshold = 0.0", r"ber_threshold = 0.0 must be in"),
        ("gate_time_s = 0", r"gate_time_s = 0 must be in \[0.001, 1e\+06\] s"),
        ("coarse_step_db = 0", r"coarse_step_db = 0 must be in"),
        ("max_points = 1", r"max_points = 1 must be in \[2, 1000\]"),
        ("refine_points = -1", r"refine_points = -1 must be in \[0, 20\]"),
        ("symbol_rate_baud = -53e9", r"symbol_rate_baud = -53000000000.0 must be in \[1e\+09, 3e\+11\] Bd"),
        ("ber_threshold = nan", r"ber_threshold = nan must be in"),
    ],
)
def test_setting_values_out_of_range_fail_at_load(tmp_path, setting, match):
    """A plan whose settings cannot work is refused before any instrument is touched, not
    discovered lane by lane as ERROR records after the bench was set up."""
    text = GOOD.replace("settings = { ber_threshold = 2.4e-4 }", f"settings = {{ {setting} }}")
    with pytest.raises(ConfigError, match=match):
        load_plan(write(tmp_path, text), phy_rows=phy_rows)


def test_tx_range_settings(tmp_path):
    tx = 'guard_bands = { tdecq_db = 0.3 }\nsettings = { n_patterns = 0 }'
    with pytest.raises(ConfigError, match=r"\[\[step\]\] #1: setting n_patterns = 0 must be in \[1, 1e\+06\]"):
        load_plan(write(tmp_path, GOOD.replace("guard_bands = { tdecq_db = 0.3 }", tx)), phy_rows=phy_rows)
    tx = 'guard_bands = { tdecq_db = 0.3 }\nsettings = { tdecq_taps = 5, tdecq_precursors = 5 }'
    with pytest.raises(ConfigError, match=r"tdecq_precursors = 5 must be below tdecq_taps = 5"):
        load_plan(write(tmp_path, GOOD.replace("guard_bands = { tdecq_db = 0.3 }", tx)), phy_rows=phy_rows)


def test_a_limit_equation_input_the_step_cannot_supply_fails_at_load(tmp_path):
    """800GBASE-DR8 sensitivity limit is max(-4.4, SECQ - 5.8): an Rx step without
    reference_secq_db would sweep every lane and then record 'not judged' ERRORs."""
    text = GOOD.replace("settings = { ber_threshold = 2.4e-4 }", "settings = { gate_time_s = 0.01 }")
    with pytest.raises(ConfigError, match=r"plan.toml:17: \[\[step\]\] #2: limit 'rx_sensitivity_oma_dbm' "
                                          r"is max\(-4.4, secq_db - 5.8\): it needs secq_db.*reference_secq_db"):
        load_plan(write(tmp_path, text))
    ok = load_plan(write(tmp_path, text.replace("gate_time_s = 0.01", "reference_secq_db = 1.0")))
    assert ok.steps[1].settings["reference_secq_db"] == 1.0


def _tx_plan(tmp_path, phy, settings):
    text = textwrap.dedent(
        f"""\
        name = "p"
        phy = "{phy}"
        [[step]]
        name = "tx"
        kind = "tx"
        limits = ["tdecq_db"]
        settings = {{ {settings} }}
        """
    )
    return load_plan(write(tmp_path, text))


def test_tdecq_precursors_are_checked_against_the_phy_methods_taps(tmp_path):
    """1.6TBASE-DR8's method has a 15-tap FFE: 7 precursors are valid there (the plan's step
    measures with 15 taps, optics.phy.method.step_tdecq), not refused against a 5-tap default."""
    from optics.phy import load_phy
    from optics.phy.method import step_tdecq

    assert load_phy("1.6TBASE-DR8").tdecq_method.n_taps == 15
    plan = _tx_plan(tmp_path, "1.6TBASE-DR8", "tdecq_precursors = 7")
    spec = load_phy("1.6TBASE-DR8")
    resolved = step_tdecq(plan.steps[0].settings, spec.tdecq_method, spec.symbol_rate_baud)
    assert (resolved.n_taps, resolved.n_precursors) == (15, 7)
    # 15 precursors of the method's 15 taps: refused, naming where the taps come from
    with pytest.raises(ConfigError, match=r"plan.toml:7: .*tdecq_precursors = 15 must be below tdecq_taps = 15 "
                                          r"\(PHY 1.6TBASE-DR8's TDECQ method"):
        _tx_plan(tmp_path, "1.6TBASE-DR8", "tdecq_precursors = 15")
    # a 100 Gb/s-per-lane PHY keeps the 5-tap FFE: 7 precursors refused there
    with pytest.raises(ConfigError, match=r"tdecq_precursors = 7 must be below tdecq_taps = 5"):
        _tx_plan(tmp_path, "800GBASE-DR8", "tdecq_precursors = 7")
    # explicit taps win over the method
    with pytest.raises(ConfigError, match=r"tdecq_precursors = 7 must be below tdecq_taps = 7$"):
        _tx_plan(tmp_path, "1.6TBASE-DR8", "tdecq_taps = 7, tdecq_precursors = 7")
    assert _tx_plan(tmp_path, "1.6TBASE-DR8", "tdecq_taps = 9, tdecq_precursors = 7").steps[0].settings[
        "tdecq_taps"] == 9
