"""Host-channel loss as a population parameter: the drawn loss at Nyquist is the module's."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from models.electrical import TouchstoneChannel
from models.population import load_population, loads_population
from optics.cli import main
from optics.errors import ConfigError

S4P = Path(__file__).resolve().parents[1] / "data" / "touchstone" / "host-smt-io-4in-42ghz.s4p"
LINK = 'preset = "800GBASE-DR8"\n[transmitter]\nhost_channel_touchstone = "host.s4p"\n'
POP = """link = "link.toml"
seed = 3
[[spread]]
parameter = "host_channel.insertion_loss_db"
level = "lane"
distribution = "truncnormal"
sigma_rel = 0.1
low_rel = 0.7
high_rel = 1.3
"""


@pytest.fixture(scope="module")
def design_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("host")
    shutil.copy(S4P, d / "host.s4p")
    (d / "link.toml").write_text(LINK)
    (d / "pop.toml").write_text(POP)
    return d


def test_drawn_loss_is_the_module_channel_loss_at_nyquist(design_dir):
    pop = load_population(design_dir / "pop.toml")
    f_n = pop.base.symbol_rate_baud / 2          # 26.5625 GHz, inside the file's 0-42 GHz
    nominal = TouchstoneChannel.from_file(S4P)
    il0_n = nominal.insertion_loss_db(f_n)
    assert 5.0 < il0_n < 15.0                    # a 4-inch Megtron 6 trace and connector at 26.6 GHz
    f_other = np.array([5e9, 13e9, 40e9])
    il0_other = nominal.insertion_loss_db(f_other)
    for k in (0, 1, 2):
        m = pop.module(k)
        drawn = m.values["host_channel.insertion_loss_db"]
        assert len(set(drawn)) == 8              # lane-level draws
        for lane, want in zip(m.module.lanes, drawn):
            ch = lane.transmitter.host_channel
            assert ch.insertion_loss_db(f_n) == pytest.approx(want, rel=1e-9)
            # the loss in dB scales by the same factor at every frequency (|H|^s)
            assert ch.insertion_loss_db(f_other) == pytest.approx(il0_other * want / il0_n, rel=1e-6)
            assert 0.7 * il0_n <= want <= 1.3 * il0_n


def test_listed_with_its_nominal_and_refused_without_a_host_channel(design_dir, capsys):
    assert main(["yield", "--list-parameters", str(design_dir / "link.toml"), "--json"]) == 0
    rows = {r["parameter"]: r for r in json.loads(capsys.readouterr().out)}
    f_n = 53.125e9 / 2
    assert rows["host_channel.insertion_loss_db"]["unit"] == "dB"
    assert rows["host_channel.insertion_loss_db"]["nominal"] == pytest.approx(
        TouchstoneChannel.from_file(S4P).insertion_loss_db(f_n), rel=1e-12)
    assert main(["yield", "--list-parameters", "800GBASE-DR8", "--json"]) == 0
    assert "host_channel.insertion_loss_db" not in capsys.readouterr().out
    with pytest.raises(ConfigError, match="unknown parameter 'host_channel.insertion_loss_db'"):
        loads_population(POP.replace('link = "link.toml"', 'design = "800GBASE-DR8"'))


def test_out_of_range_loss_is_refused_with_its_line(design_dir):
    text = POP.replace("sigma_rel = 0.1\nlow_rel = 0.7\nhigh_rel = 1.3", "sigma = 1.0\nlow = 0.0\nhigh = 80.0")
    with pytest.raises(ConfigError, match=r"pop.toml:4: .*80 dB, outside host_channel.insertion_loss_db's allowed range"):
        loads_population(text, source="pop.toml", base_dir=design_dir)


def test_the_drawn_loss_reaches_the_lane_output(design_dir):
    # more host-channel loss low-passes the drive: the Tx record's mean slew falls monotonically
    from models.population import lane_tx_waveform, with_values

    m = load_population(design_dir / "pop.toml").module(0)
    slew = []
    for loss_db in (4.0, 8.0, 16.0):
        wf = lane_tx_waveform(with_values(m, 0, "loss", {"host_channel.insertion_loss_db": loss_db}), 0, 25.0,
                              samples_per_symbol=8)
        slew.append(float(np.abs(np.diff(np.asarray(wf.samples))).mean()))
    assert slew[0] > slew[1] > slew[2] and slew[0] > 1.5 * slew[2]
