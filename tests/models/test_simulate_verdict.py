"""``optics simulate`` judges every lane against the PHY (IEEE 802.3 rows + pre-FEC BER)."""

import json

from optics.cli import main

SMALL = ["--symbols", "8191", "--pattern", "PRBS13Q", "--samples-per-symbol", "16"]


def run_json(capsys, *args):
    code = main(["simulate", "--preset", "400GBASE-DR4", *SMALL, "--json", *args])
    return code, json.loads(capsys.readouterr().out)


def test_preset_is_judged_against_its_phy(capsys):
    code, doc = run_json(capsys)
    assert doc["phy"] == "400GBASE-DR4"
    for lane in doc["lanes"]:
        rows = {r["metric"]: r for r in lane["verdict_rows"]}
        # independent reading of the 400GBASE-DR4 table copy: TDECQ <= 3.4 dB, ER >= 3.5 dB
        assert rows["tdecq_db"]["status"] == ("PASS" if lane["tdecq_db"] <= 3.4 else "FAIL")
        assert rows["extinction_ratio_db"]["status"] == ("PASS" if lane["extinction_ratio_db"] >= 3.5 else "FAIL")
        assert rows["ber"]["max"] == 2.4e-4
    assert doc["verdict"] in ("PASS", "MARGINAL")
    assert code == 0


def test_starved_receiver_fails_on_ber_and_exits_1(capsys):
    code, doc = run_json(capsys, "--rx-power-dbm", "-16")
    bers = [lane["ber_estimate"] for lane in doc["lanes"]]
    assert all(b > 2.4e-4 for b in bers)
    assert all(lane["verdict"] == "FAIL" for lane in doc["lanes"])
    assert doc["verdict"] == "FAIL" and code == 1


def test_verdict_can_be_switched_off_and_text_shows_it(capsys):
    _, doc = run_json(capsys, "--phy", "none")
    assert "verdict" not in doc
    assert main(["simulate", "--preset", "400GBASE-DR4", *SMALL]) == 0
    assert "verdict against 400GBASE-DR4" in capsys.readouterr().out
