"""Tests of ``optics analyze`` and ``optics demo`` (in-process, plus one subprocess --help)."""

import json
import math
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from optics import Waveform  # noqa: E402
from optics.cli import main  # noqa: E402
from optics.io import write_csv  # noqa: E402

JSON_KEYS = {"tdecq_db", "ceq_db", "oma_outer_dbm", "oma_outer_w", "extinction_ratio_db",
             "average_power_dbm", "rlm", "levels_w", "ber_estimate", "ber_counted"}


def make_wf(scale=1.0, symbol_rate=True, seed=0):
    rng = np.random.default_rng(seed)
    pat = rng.integers(0, 4, 1023).astype(np.uint8)
    lv = scale * np.array([0.3e-3, 0.7e-3, 1.1e-3, 1.5e-3])
    x = np.convolve(np.repeat(lv[np.tile(pat, 2)], 8), np.ones(4) / 4, mode="same")
    x = x + scale * 10e-6 * rng.standard_normal(x.size)
    return Waveform(samples=x, sample_rate_hz=8 * 53.125e9,
                    symbol_rate_baud=53.125e9 if symbol_rate else None, pattern=pat)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    return {
        "good": write_csv(make_wf(), d / "good.csv"),
        "weak": write_csv(make_wf(scale=0.1), d / "weak.csv"),
        "norate": write_csv(make_wf(symbol_rate=False), d / "norate.csv"),
        "dir": d,
    }


def test_json_keys_and_exit_0(files, capsys):
    assert main(["analyze", str(files["good"]), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert JSON_KEYS <= set(out)
    assert len(out["levels_w"]) == 4
    assert out["oma_outer_w"] == pytest.approx(1.2e-3, rel=0.02)


def test_table_and_plot(files, capsys):
    png = files["dir"] / "eye.png"
    assert main(["analyze", str(files["good"]), "--plot", str(png)]) == 0
    text = capsys.readouterr().out
    assert "TDECQ" in text and "OMA_outer" in text and "eye plot saved" in text
    assert png.stat().st_size > 10_000


def test_no_reference_filter_option(files, capsys):
    assert main(["analyze", str(files["good"]), "--no-reference-filter", "--json"]) == 0
    assert "tdecq_db" in json.loads(capsys.readouterr().out)


def test_phy_pass_is_0_and_fail_is_1(files, capsys):
    assert main(["analyze", str(files["good"]), "--phy", "400GBASE-DR4", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["verdict"]["outcome"] in ("PASS", "MARGINAL")
    assert main(["analyze", str(files["weak"]), "--phy", "400GBASE-DR4"]) == 1
    assert "FAIL" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--phy", "NO-SUCH-PHY"], "NO-SUCH-PHY"),
        (["--symbol-rate", "51e9"], "spectral line"),  # 4 % off: no eye
        (["--symbol-rate", "-5"], "--symbol-rate"),
        (["--plot", "eye.xyz"], "unsupported image type"),
    ],
)
def test_errors_exit_2_with_one_line(files, capsys, argv, message):
    assert main(["analyze", str(files["good"]), *argv]) == 2
    err = capsys.readouterr().err
    assert message.lower() in err.lower()
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("rate, text", [(np.float64(-5.0), "-5.0"), (np.float64("inf"), "inf")])
def test_bad_symbol_rate_of_a_script_is_a_plain_number(files, rate, text):
    from optics.cli.analyze import analyze_file
    from optics.errors import InvalidParameter

    with pytest.raises(InvalidParameter, match=rf"positive number of Bd, got {text}$"):
        analyze_file(files["good"], symbol_rate_baud=rate)


def test_missing_file_and_missing_rate_exit_2(files, capsys):
    assert main(["analyze", str(files["dir"] / "nope.csv")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["analyze", str(files["norate"])]) == 2
    assert "--symbol-rate" in capsys.readouterr().err
    assert main(["analyze", str(files["norate"]), "--symbol-rate", "53.125e9", "--json"]) == 0


def test_demo_writes_csv_and_plot(tmp_path, capsys):
    assert main(["demo", "--waveform", "--out-dir", str(tmp_path), "--samples-per-symbol", "4", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (tmp_path / "waveform.csv").exists() and (tmp_path / "eye.png").exists()
    # the models' DR4 lane: the analysed average power is the record's mean power
    from optics.cli.demo import demo_waveform

    wf = demo_waveform(seed=1, samples_per_symbol=4)
    assert out["average_power_dbm"] == pytest.approx(10 * math.log10(float(np.mean(wf.samples)) / 1e-3), abs=0.05)
    assert 3.5 < out["extinction_ratio_db"] < 8.0 and out["tdecq_db"] < 3.4   # a compliant DR4 lane
    assert out["ber_counted"] == 0.0


def test_help_subprocess():
    res = subprocess.run([sys.executable, "-m", "optics", "--help"], capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 0
    assert "analyze" in res.stdout and "demo" in res.stdout


def test_demo_runs_the_station_lot(tmp_path, capsys, monkeypatch):
    import optics.station.demo as station_demo

    calls = []
    real = station_demo.run_demo_lot

    def small_lot(out_dir, n_modules, seed, out=None):
        calls.append((out_dir, n_modules, seed))
        # the real thing on a 1-lane, 1-temperature plan keeps this test fast
        plan = tmp_path / "p.toml"
        plan.write_text(station_demo.DEFAULT_PLAN.read_text().replace("lanes = 8", "lanes = 1")
                        .replace("temperatures_c = [25.0, 70.0]", "temperatures_c = [25.0]"))
        return real(out_dir, n_modules=n_modules, seed=seed, plan=plan, out=out)

    monkeypatch.setattr(station_demo, "run_demo_lot", small_lot)
    assert main(["demo", "--modules", "2", "--seed", "3", "--out-dir", str(tmp_path / "lot"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert calls == [(str(tmp_path / "lot"), 2, 3)]
    # two modules of the 800G-DR8 population (seed 3): the first with a defect on lane 0, then module 0
    assert len(doc["modules"]) == 2 and all(m["serial"].startswith("DR8P") for m in doc["modules"])
    assert [m["outcome"] for m in doc["modules"]] == [m["predicted"] for m in doc["modules"]]
    n_pass = sum(m["outcome"] in ("PASS", "MARGINAL") for m in doc["modules"])
    assert doc["stats"]["n_modules"] == 2 and doc["stats"]["yield"] == n_pass / 2


def make_16t_wf(p0_w=0.5e-3, p3_w=1.0e-3, seed=0):
    """A clean 106.25 GBd PAM4 capture (8 samples/UI) with ER = 10 log10(p3/p0) (3.01 dB here)."""
    rng = np.random.default_rng(seed)
    pat = rng.integers(0, 4, 1023).astype(np.uint8)
    lv = np.linspace(p0_w, p3_w, 4)
    x = np.convolve(np.repeat(lv[np.tile(pat, 2)], 8), np.ones(3) / 3, mode="same")
    x = x + 5e-6 * rng.standard_normal(x.size)
    return Waveform(samples=x, sample_rate_hz=8 * 106.25e9, symbol_rate_baud=106.25e9)


@pytest.fixture(scope="module")
def low_er_16t(tmp_path_factory):
    return write_csv(make_16t_wf(), tmp_path_factory.mktemp("cli16t") / "low_er.csv")


def test_draft_rows_decide_only_with_allow_draft(low_er_16t, capsys):
    # ER 10log10(1.0/0.5) = 3.01 dB < the 802.3dj draft 3.5 dB (reference notes, D1.3): that draft
    # row fails, nothing else does; without --allow-draft it cannot make the verdict FAIL
    assert main(["analyze", str(low_er_16t), "--phy", "1.6TBASE-DR8", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)["verdict"]
    fails = [r for r in doc["rows"] if r["status"] == "FAIL"]
    assert [(r["metric"], r["row_status"], r["decides"]) for r in fails] == [("extinction_ratio_db", "DRAFT", False)]
    assert fails[0]["value"] == pytest.approx(10 * math.log10(2.0), abs=0.1)
    assert doc["outcome"] == "INCOMPLETE" and doc["allow_draft"] is False
    flags = {r["flag"] for r in doc["reasons"] if r["kind"] == "advisory"}
    assert flags == {"--allow-draft", "--allow-proposal"}
    assert main(["analyze", str(low_er_16t), "--phy", "1.6TBASE-DR8", "--allow-draft", "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)["verdict"]
    assert doc["outcome"] == "FAIL" and doc["reasons"] == []
    # --allow-proposal admits drafts too (a proposal has less authority than a draft): the failing
    # draft ER row decides, and the draft TDECQ row supersedes the proposal's
    assert main(["analyze", str(low_er_16t), "--phy", "1.6TBASE-DR8", "--allow-proposal", "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)["verdict"]
    decides = {(r["metric"], r["row_status"]): r["decides"] for r in doc["rows"]}
    assert decides[("extinction_ratio_db", "DRAFT")] and decides[("tdecq_db", "DRAFT")]
    assert not decides[("tdecq_db", "PROPOSAL")]
    assert [r["superseded_by"] for r in doc["rows"] if r["row_status"] == "PROPOSAL" and r["metric"] == "tdecq_db"] \
        == ["draft"]
    assert doc["outcome"] == "FAIL"


def test_text_ends_with_the_reasons(low_er_16t, capsys):
    assert main(["analyze", str(low_er_16t), "--phy", "1.6TBASE-DR8"]) == 0
    text = capsys.readouterr().out.rstrip().splitlines()
    start = text.index("  why INCOMPLETE:")
    block = text[start + 1:]
    assert block and all(line.startswith("    ") for line in block)  # nothing after the block
    assert any("extinction_ratio_db: FAIL [DRAFT]" in line and "--allow-draft" in line for line in block)
    assert main(["analyze", str(low_er_16t), "--phy", "1.6TBASE-DR8", "--allow-draft"]) == 1
    assert "why " not in capsys.readouterr().out


def test_allow_draft_needs_a_phy(low_er_16t, capsys):
    assert main(["analyze", str(low_er_16t), "--allow-draft"]) == 2
    assert "--phy" in capsys.readouterr().err
