"""``optics simulate --json``: each MZM lane's bias loop at its chip temperature; TOML access."""

import json

import pytest

from models.config import load_link
from models.presets import preset
from optics.cli import main
from optics.errors import OpticsError

SMALL = ["--pattern", "PRBS9Q", "--symbols", "2044", "--samples-per-symbol", "8", "--no-tdecq"]


def test_json_reports_the_mzm_bias_loop_per_lane(capsys):
    rc = main(["simulate", "--preset", "400GBASE-DR4", "--temperature-c", "70", "--json", *SMALL])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    tx = preset("400GBASE-DR4").lanes[0].transmitter
    for lane in out["lanes"]:
        t_chip = lane["chip_temperature_c"]
        st = tx.modulator.bias_state(t_chip, tx.laser.wavelength_at(t_chip))
        assert lane["mzm_bias_error_rad"] == pytest.approx(st.error_rad, rel=1e-12) and st.error_rad > 0.0
        assert lane["mzm_bias_v"] == pytest.approx(st.bias_v, rel=1e-12)
        assert lane["mzm_bias_limited"] is False


def test_ring_lanes_have_no_mzm_fields(capsys):
    rc = main(["simulate", "--preset", "1.6T-DR8-MRM-CPO", "--json", *SMALL])
    out = json.loads(capsys.readouterr().out)
    assert rc in (0, 1) and all("mzm_bias_error_rad" not in lane for lane in out["lanes"])


def test_link_file_sets_the_bias_loop_and_a_narrow_range_is_reported(tmp_path, capsys):
    link = tmp_path / "link.toml"
    link.write_text('preset = "400GBASE-DR4"\n[modulator]\nbias_max_v = 0.1\n', encoding="utf-8")
    rc = main(["simulate", str(link), "--temperature-c", "70", "--json", *SMALL])
    out = json.loads(capsys.readouterr().out)
    assert rc in (0, 1)
    assert all(lane["mzm_bias_limited"] is True and abs(lane["mzm_bias_v"]) == pytest.approx(0.1)
               for lane in out["lanes"])


def test_link_file_rejects_a_bad_bias_loop_gain_naming_file_and_table(tmp_path):
    link = tmp_path / "link.toml"
    link.write_text('preset = "400GBASE-DR4"\n[modulator]\nbias_loop_gain = -1.0\n', encoding="utf-8")
    with pytest.raises(OpticsError, match=r"link\.toml: \[modulator\]: bias_loop_gain = -1\.0 is outside"):
        load_link(link)
