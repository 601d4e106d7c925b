"""Tests of models.config: TOML link files onto the dataclasses, strict keys."""

import pytest

from models.config import load_link, loads_link
from models.modulator import MicroringModulator
from optics.errors import ConfigError

FULL = """
name = "toy"
symbol_rate_baud = 53.125e9
payload_rate_bps = 200e9
n_lanes = 2
wavelengths_m = [1291e-9, 1311e-9]
chip_temperature_rise_k = 5.0

[driver]
swing_v = 2.0
rise_time_s = 6e-12
ffe_taps = [-0.1, 1.0]

[laser]
output_power_w = 0.01
rin_db_per_hz = -150.0

[modulator]
type = "microring"
loaded_q = 4000.0
shift_m_per_v = 4e-11

[fiber]
length_m = 1000.0

[channel]
n_connectors = 4

[tia]
input_noise_density_a_per_rthz = 15e-12

[simulation]
pattern = "PRBS13Q"
samples_per_symbol = 16
temperature_c = 40.0
"""


def test_full_file_maps_onto_dataclasses():
    cfg = loads_link(FULL)
    m = cfg.module
    assert m.name == "toy" and m.n_lanes == 2 and m.chip_temperature_rise_k == 5.0
    lane = m.lanes[1]
    assert lane.transmitter.laser.wavelength_m == 1311e-9
    assert lane.transmitter.laser.output_power_w(25.0) == pytest.approx(0.01)
    assert lane.transmitter.driver.ffe_taps == (-0.1, 1.0)
    assert isinstance(lane.transmitter.modulator, MicroringModulator)
    assert lane.transmitter.modulator.loaded_q == 4000.0
    assert lane.channel.fiber.length_m == 1000.0 and lane.channel.n_connectors == 4
    assert lane.receiver.tia.input_noise_density_a_per_rthz == 15e-12
    assert cfg.settings.samples_per_symbol == 16 and cfg.settings.temperature_c == 40.0


def test_preset_with_overrides_keeps_lane_wavelengths():
    cfg = loads_link('preset = "400GBASE-FR4"\n[fiber]\nlength_m = 1500.0\n[laser]\nrin_db_per_hz = -150.0\n')
    lams = [lane.transmitter.laser.wavelength_m for lane in cfg.module.lanes]
    assert lams == pytest.approx([1271e-9, 1291e-9, 1311e-9, 1331e-9])
    assert all(lane.channel.fiber.length_m == 1500.0 for lane in cfg.module.lanes)
    # the preset's worst-case λ0 per lane is kept
    assert cfg.module.lanes[0].channel.fiber.zero_dispersion_wavelength_m == 1324e-9


@pytest.mark.parametrize(
    "text, words",
    [
        ('preset = "400GBASE-DR4"\n[fiber]\nlenght_m = 3.0\n', ["[fiber]", "lenght_m", "length_m"]),
        ('preset = "400GBASE-DR4"\nfoo = 1\n', ["top level", "foo"]),
        ('preset = "400GBASE-DR4"\n[reciever]\nx = 1\n', ["[reciever]"]),
        ('preset = "400GBASE-DR4"\n[modulator]\ntype = "eam"\n', ["eam", "mzm"]),
        ('preset = "400GBASE-DR4"\n[tia]\nbandwidth_hz = -1.0\n', ["[tia]", "bandwidth_hz"]),
        ('preset = "400GBASE-DR4"\n[simulation]\nsamples_per_symbol = 1\n', ["samples_per_symbol"]),
        ('preset = "NOPE"\n', ["NOPE", "400GBASE-DR4"]),
        ("n_lanes = 2\n", ["symbol_rate_baud"]),
        ("this is = not toml", ["TOML"]),
    ],
)
def test_bad_files_raise_config_error_naming_table_and_key(text, words):
    with pytest.raises(ConfigError) as err:
        loads_link(text, source="link.toml")
    msg = str(err.value)
    assert "link.toml" in msg
    for w in words:
        assert w in msg


def test_load_link_from_file(tmp_path):
    p = tmp_path / "dr4.toml"
    p.write_text('preset = "400GBASE-DR4"\n[channel]\nconnector_loss_db = 0.3\n', encoding="utf-8")
    cfg = load_link(p)
    assert cfg.module.lanes[0].channel.connector_loss_db == 0.3 and cfg.source == str(p)
    p.write_text('preset = "400GBASE-DR4"\n[channel]\nconector_loss_db = 0.3\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="dr4.toml.*conector_loss_db"):
        load_link(p)


def test_shipped_example_file_loads_and_runs():
    import dataclasses
    from pathlib import Path

    import models
    from models.link import simulate
    from models.modulator import IdealIntensityModulator

    cfg = load_link(Path(models.__file__).parent / "data" / "example-fr4-eml.toml")
    mod = cfg.module.lanes[0].transmitter.modulator
    assert isinstance(mod, IdealIntensityModulator) and mod.chirp_alpha == 0.5
    small = dataclasses.replace(cfg.settings, pattern="PRBS9Q", n_symbols=2044, samples_per_symbol=8,
                                compute_tdecq=False)
    res = simulate(cfg.module, small)
    assert res.ok
    # ER set by the modulator (5 dB) is what optics measures at the Tx (driver rise time: ±0.3 dB)
    assert res.lanes[0].metrics["extinction_ratio_db"] == pytest.approx(5.0, abs=0.3)
