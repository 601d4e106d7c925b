"""The README's Python example runs as written (on a capture file made here)."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_first_look_example_runs(tmp_path, monkeypatch, capsys):
    from models.link import SimulationSettings, simulate
    from models.presets import preset
    from optics.io import write_csv

    # stand-in for a scope capture: a simulated lane written in the CSV export form
    lane = simulate(preset("400GBASE-DR4"), SimulationSettings(n_symbols=8191, pattern="PRBS13Q",
                                                               samples_per_symbol=16),
                    seed=3).lanes[0]
    write_csv(lane.tx_waveform, tmp_path / "capture.csv")
    monkeypatch.chdir(tmp_path)
    blocks = [b for b in _python_blocks() if "TCPIP::" not in b]
    assert blocks, "README lost its example"
    code = blocks[0].replace("SimulationSettings()", "SimulationSettings(n_symbols=8191, pattern='PRBS13Q', "
                                                      "samples_per_symbol=16)")
    exec(compile(code, str(README), "exec"), {})
    out = capsys.readouterr().out
    assert out.count("TDECQ") >= 2


@pytest.mark.parametrize("command", ["analyze", "simulate", "phys", "budget", "bench", "station", "lot", "demo"])
def test_readme_names_every_command(command):
    assert f"optics {command}" in README.read_text()
