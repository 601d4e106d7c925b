"""Tests of ``optics simulate`` (command line of the link models)."""

import json

import pytest

from optics.cli import main

SMALL = ["--pattern", "PRBS9Q", "--symbols", "2044", "--samples-per-symbol", "8", "--no-tdecq"]


def test_preset_json(capsys):
    rc = main(["simulate", "--preset", "400GBASE-DR4", "--json", *SMALL])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert len(out["lanes"]) == 4
    for lane in out["lanes"]:
        for key in ("tdecq_db", "oma_outer_dbm", "extinction_ratio_db", "average_power_dbm", "ber_estimate",
                    "ber_counted"):
            assert key in lane
    assert out["module_power_w"] > 0 and out["energy_pj_per_bit"] == pytest.approx(
        out["module_power_w"] / 400e9 * 1e12)


def test_tdecq_and_table_output(capsys):
    rc = main(["simulate", "--preset", "400GBASE-DR4", "--pattern", "PRBS13Q", "--samples-per-symbol", "8",
               "--temperature-c", "50"])
    text = capsys.readouterr().out
    assert rc == 0 and "TDECQ" in text and "at 50 °C" in text and "module power" in text


def test_link_file_and_plot(tmp_path, capsys):
    link = tmp_path / "link.toml"
    link.write_text('preset = "400GBASE-DR4"\n[fiber]\nlength_m = 200.0\n', encoding="utf-8")
    rc = main(["simulate", str(link), "--json", "--rx-power-dbm", "-6", "--plot", str(tmp_path / "fig"),
               "--pattern", "PRBS9Q", "--symbols", "2044", "--samples-per-symbol", "8"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert out["lanes"][0]["receive_power_dbm"] == pytest.approx(-6.0)
    assert (tmp_path / "fig" / "eye_lane0.png").exists()


def test_sweep_json(capsys):
    rc = main(["simulate", "--preset", "400GBASE-DR4", "--sweep-temperature", "0:70:70", "--json", *SMALL])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and [d["temperature_c"] for d in out["sweep"]] == [0.0, 70.0]


def test_errors_exit_2(tmp_path, capsys):
    assert main(["simulate", "--preset", "NOPE"]) == 2
    assert "NOPE" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text('preset = "400GBASE-DR4"\n[laser]\nbias_curent_a = 0.1\n', encoding="utf-8")
    assert main(["simulate", str(bad)]) == 2
    assert "bias_curent_a" in capsys.readouterr().err


def test_failed_link_exits_1(capsys):
    rc = main(["simulate", "--preset", "400GBASE-DR4", "--rx-power-dbm", "10", *SMALL])
    assert rc == 1 and "overload" in capsys.readouterr().out


def test_json_reports_each_lanes_apc_laser_bias(capsys):
    import math

    rc = main(["simulate", "--preset", "400GBASE-DR4", "--temperature-c", "60", "--json", *SMALL])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    # the 40 mW APC set point needs I_th(T) + P/η(T) at the chip (L-I written out); the chip sits
    # 19 K/W times its heat above the case: the one laser of the four lanes (I·1.2 V + I²·4 Ω
    # − 40 mW) and 4 × 10 mW of MZM bias (models.power.CHIP_THERMAL, the fixed point)
    t_chip = out["lanes"][0]["chip_temperature_c"]
    d = t_chip - 25.0
    expected = 8e-3 * math.exp(d / 64.0) + 0.04 / (0.3 * math.exp(-d / 260.0))
    assert t_chip - 60.0 == pytest.approx(19.0 * (expected * 1.2 + expected**2 * 4.0 - 0.04 + 4 * 0.01), rel=1e-6)
    for lane in out["lanes"]:
        assert lane["laser_bias_a"] == pytest.approx(expected, rel=1e-12)
        assert lane["laser_apc_limited"] is False
    assert out["junction_temperature_c"] > 60.0
    sweep = main(["simulate", "--preset", "400GBASE-DR4", "--sweep-temperature", "0:70:70", "--json", *SMALL])
    doc = json.loads(capsys.readouterr().out)
    assert sweep == 0
    cold, hot = (d["lanes"][0]["laser_bias_a"] for d in doc["sweep"])
    assert hot > cold


def test_laser_age_hours_needs_more_bias_and_power(capsys):
    import math

    base = ["simulate", "--preset", "400GBASE-DR4", "--temperature-c", "45", "--json", *SMALL]
    assert main(base) == 0
    new = json.loads(capsys.readouterr().out)
    assert main([*base, "--laser-age-hours", "100000"]) == 0
    old = json.loads(capsys.readouterr().out)
    # 100 000 h at the 55 °C reference: the threshold rises by 8 % of the new bias at 55 °C,
    # carried to each module's chip temperature by exp(ΔT/T0) (the aged laser's chip is a little hotter)
    i0 = 8e-3 * math.exp(30 / 64) + 0.04 / (0.3 * math.exp(-30 / 260))

    def bias(t_chip, aged):
        d = t_chip - 25.0
        shift = 0.08 * i0 * math.exp((t_chip - 55.0) / 64.0) if aged else 0.0
        return 8e-3 * math.exp(d / 64.0) + shift + 0.04 / (0.3 * math.exp(-d / 260.0))

    t_new, t_old = new["lanes"][0]["chip_temperature_c"], old["lanes"][0]["chip_temperature_c"]
    assert t_old > t_new > 45.0
    assert new["lanes"][0]["laser_bias_a"] == pytest.approx(bias(t_new, False), rel=1e-9)
    assert old["lanes"][0]["laser_bias_a"] == pytest.approx(bias(t_old, True), rel=1e-9)
    assert old["module_power_w"] > new["module_power_w"]
    assert old["laser_age_hours"] == 100000 and old["laser_hours_to_end_of_life"] == pytest.approx(625_000.0)
    # the APC holds the laser's power exactly; the launch moves only with the modulator at the
    # aged module's slightly hotter chip (its extra bias heats the die)
    assert old["lanes"][0]["laser_power_w"] == pytest.approx(new["lanes"][0]["laser_power_w"], rel=1e-9)
    assert old["lanes"][0]["average_power_dbm"] == pytest.approx(new["lanes"][0]["average_power_dbm"], abs=0.02)
    assert main([*base, "--laser-age-hours", "-5"]) == 2
    assert "hours" in capsys.readouterr().err


def test_sweep_text_starts_with_one_summary_table(capsys):
    args = ["simulate", "--preset", "400GBASE-DR4", "--sweep-temperature", "0:70:70", *SMALL]
    assert main([*args, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    first_detail = next(i for i, line in enumerate(lines) if line.endswith("°C case"))
    summary = lines[:first_detail]
    assert summary[0].startswith("400GBASE-DR4: verdicts against 400GBASE-DR4 over 2 temperature(s)")
    head = summary[1].split()
    assert head[:2] == ["T", "°C"] and "module" in head
    rows = [line.split() for line in summary[2:] if line.strip()]
    assert len(rows) == 2
    log_units = {"dB", "dBm", "dB/Hz"}
    for row, point in zip(rows, doc["sweep"]):
        assert float(row[0]) == point["temperature_c"]
        # one verdict per lane, then the module's, as in the JSON (--no-tdecq: TDECQ NOT TESTED)
        assert row[1:2 + len(point["lanes"])] == [lane["verdict"] for lane in point["lanes"]] + [point["verdict"]]
        assert point["verdict"] == "INCOMPLETE"
        # the worst margin: the smallest margin of the judged dB rows of all lanes' records
        judged = [(r["margin"], r["metric"], lane["name"]) for lane in point["lanes"] for r in lane["verdict_rows"]
                  if r.get("unit") in log_units and r["status"] in ("PASS", "MARGINAL", "FAIL")
                  and r["margin"] is not None]
        margin, metric, lane_name = min(judged)
        text = " ".join(row[2 + len(point["lanes"]):])
        assert text.startswith(f"{margin:+.2f} ") and metric in text and f"({lane_name})" in text
    # the per-temperature details (and their reasons) follow
    assert sum(line.endswith("°C case") for line in lines) == 2
    assert any(line.strip().startswith("why INCOMPLETE") for line in lines[first_detail:])
