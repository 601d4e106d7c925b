"""Linear-pluggable (LPO) lane pieces of models.link: host channel from a Touchstone file in the
transmitter, and level pre-distortion computed from the modulator's own transfer.

Independent references: scikit-rf's own mixed-mode SDD21 of the bundled host channel (for the
drive's loss at Nyquist) and the closed-form inverse of the quadrature MZM's sine (for the
pre-distorted levels).
"""

from __future__ import annotations

import dataclasses
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import skrf

import models
from models.config import load_link, loads_link
from models.electrical import Pam4Driver, TouchstoneChannel
from models.link import SimulationSettings, Transmitter, simulate_lane
from models.modulator import MachZehnderModulator
from models.presets import preset
from optics.errors import ConfigError, InvalidParameter, InvalidType

S4P = Path(__file__).resolve().parents[1] / "data" / "touchstone" / "host-smt-io-4in-42ghz.s4p"
BAUD = 53.125e9


@pytest.fixture(scope="module")
def host() -> TouchstoneChannel:
    return TouchstoneChannel.from_file(S4P)


def skrf_sdd21_db(freq_hz: float) -> float:
    """SDD21 (dB) of pair (1,3)->(2,4) straight from scikit-rf, linearly interpolated in dB."""
    net = skrf.Network(str(S4P))
    sub = skrf.network.subnetwork(net, [0, 2, 1, 3])
    sub.se2gmm(p=2)
    return float(np.interp(freq_hz, sub.f, 20.0 * np.log10(np.abs(sub.s[:, 1, 0]))))


# --- host channel in the transmitter --------------------------------------------------------
def test_drive_attenuated_at_nyquist_by_host_channel_loss(host):
    rng = np.random.default_rng(7)
    sym = rng.integers(0, 4, 4096).astype(np.uint8)
    sps = 8
    base = Transmitter()
    with_ch = dataclasses.replace(base, host_channel=host)
    v0, _ = base.drive(sym, BAUD, sps)
    v1, wf1 = with_ch.drive(sym, BAUD, sps)
    s0, s1 = np.fft.rfft(v0), np.fft.rfft(v1)
    k = sym.size // 2  # bin k of an n_sym*sps record is k*baud/n_sym: baud/2
    f = np.fft.rfftfreq(v0.size, 1.0 / (BAUD * sps))
    assert f[k] == pytest.approx(BAUD / 2, rel=1e-12)
    loss_db = -20.0 * math.log10(abs(s1[k]) / abs(s0[k]))
    ref_db = -skrf_sdd21_db(BAUD / 2)
    # 8.457 dB (TouchstoneChannel) vs scikit-rf's SDD21: the same data, interpolated in |H| vs dB
    # over one 10 MHz step: within 0.01 dB
    assert ref_db == pytest.approx(8.46, abs=0.05)
    assert loss_db == pytest.approx(ref_db, abs=0.01)
    assert loss_db == pytest.approx(host.insertion_loss_db(BAUD / 2), abs=1e-9)
    # low frequencies pass: DC loss of the file is 0.08 dB
    assert -20.0 * math.log10(abs(s1[1]) / abs(s0[1])) == pytest.approx(-skrf_sdd21_db(f[1]), abs=0.02)
    assert wf1.meta["host_channel"] == S4P.name


def test_host_channel_worsens_tx_tdecq(host):
    lane = preset("400GBASE-DR4").lanes[0]
    st = SimulationSettings(pattern="PRBS13Q", samples_per_symbol=16, count_errors=False)
    res = {}
    for label, ch in (("none", None), ("host", host)):
        tx = dataclasses.replace(lane.transmitter, host_channel=ch)
        r = simulate_lane(dataclasses.replace(lane, transmitter=tx), symbol_rate_baud=BAUD, settings=st,
                          rng=np.random.default_rng(1))
        res[label] = r.metrics["tdecq_db"]
    # measured: ~1.3 dB without, ~5 dB with 8.5 dB of host-channel loss at Nyquist (no FFE)
    assert res["none"] < 2.5
    assert res["host"] > res["none"] + 2.0


def test_transfer_cache_tells_host_channel_apart(host):
    lane = preset("400GBASE-DR4").lanes[0]
    st = SimulationSettings(pattern="PRBS9Q", n_symbols=2044, samples_per_symbol=8, compute_tdecq=False)
    sym = st.symbols()
    cache: dict = {}
    out = []
    for ch in (None, host, None):
        tx = dataclasses.replace(lane.transmitter, host_channel=ch)
        r = simulate_lane(dataclasses.replace(lane, transmitter=tx), symbol_rate_baud=BAUD, settings=st,
                          rng=np.random.default_rng(3), symbols=sym, metrics=False, cache=cache)
        out.append(np.asarray(r.tx_waveform.samples))
    assert np.max(np.abs(out[0] - out[1])) > 0.05 * np.ptp(out[0])
    np.testing.assert_array_equal(out[0], out[2])


def test_noisy_driver_path_applies_the_same_host_channel(host):
    # the jitter/noise path (Pam4Driver.drive, then EO and host channel) against the one-pass path
    from models.link import transmitter_transfer

    sym = np.random.default_rng(5).integers(0, 4, 2048).astype(np.uint8)
    quiet = Transmitter(host_channel=host, level_predistortion="auto")
    noisy = dataclasses.replace(quiet, driver=dataclasses.replace(quiet.driver, noise_rms_v=1e-9))
    t0, _ = transmitter_transfer(quiet, sym, BAUD, 8)
    t1, _ = transmitter_transfer(noisy, sym, BAUD, 8, rng=np.random.default_rng(0))
    np.testing.assert_allclose(t1, t0, atol=1e-7 * np.max(np.abs(t0)))


def test_host_channel_type_checked():
    with pytest.raises(InvalidType, match="host_channel"):
        Transmitter(host_channel=str(S4P))


# --- level pre-distortion ---------------------------------------------------------------------
def compressed_mzm_lane():
    lane = preset("400GBASE-DR4").lanes[0]
    mzm = MachZehnderModulator(length_m=8e-3)  # Vpi = 2.5 V, swing 2.2 V: outer levels compressed
    return dataclasses.replace(lane, transmitter=dataclasses.replace(lane.transmitter, modulator=mzm))


def test_auto_levels_match_closed_form_inverse_of_sine():
    lane = compressed_mzm_lane()
    tx = dataclasses.replace(lane.transmitter, level_predistortion="auto")
    vpi, a = tx.modulator.vpi_v, tx.driver.swing_v / 2.0
    # quadrature MZM: P ∝ 1 + k·sin(πv/Vπ) (k = (1-δ²)/(1+δ²)); equal spacing needs
    # sin(πv1/Vπ) = -sin(πA/Vπ)/3  ->  v1 = -(Vπ/π)·asin(sin(πA/Vπ)/3)
    v1 = -(vpi / math.pi) * math.asin(math.sin(math.pi * a / vpi) / 3.0)
    levels = tx.effective_driver.levels
    assert levels[0] == 0.0 and levels[3] == 1.0
    assert levels[1] == pytest.approx((v1 + a) / (2 * a), abs=1e-9)
    assert levels[2] == pytest.approx(1.0 - levels[1], abs=1e-9)
    assert tx.driver.level_predistortion is None  # the given driver is untouched


def test_auto_predistortion_brings_measured_rlm_to_one():
    lane = compressed_mzm_lane()
    st = SimulationSettings(pattern="PRBS13Q", samples_per_symbol=16, count_errors=False)
    rlm = {}
    for lp in (None, "auto"):
        tx = dataclasses.replace(lane.transmitter, level_predistortion=lp)
        r = simulate_lane(dataclasses.replace(lane, transmitter=tx), symbol_rate_baud=BAUD, settings=st,
                          rng=np.random.default_rng(2))
        rlm[lp] = r.metrics["rlm"]
    # static closed form without pre-distortion (802.3 RLM of sin levels): 0.64; measured with
    # the EO/driver bandwidth about 0.69; with "auto" about 0.96 (the remaining gap is ISI)
    assert rlm[None] < 0.75
    assert rlm["auto"] > 0.94
    assert abs(1.0 - rlm["auto"]) < 0.25 * abs(1.0 - rlm[None])


def test_explicit_levels_and_bad_predistortion():
    tx = Transmitter(level_predistortion=[0.0, 0.3, 0.7, 1.0])
    assert tx.level_predistortion == (0.0, 0.3, 0.7, 1.0)
    assert tx.effective_driver.levels == (0.0, 0.3, 0.7, 1.0)
    with pytest.raises(InvalidParameter, match="level_predistortion"):
        Transmitter(level_predistortion="automatic")
    with pytest.raises(InvalidParameter, match="level_predistortion"):
        Transmitter(level_predistortion=(0.0, 0.5, 1.0))
    with pytest.raises(InvalidParameter, match="both"):
        Transmitter(driver=Pam4Driver(swing_v=1.0, rise_time_s=8e-12, level_predistortion=(0, 0.3, 0.7, 1)),
                    level_predistortion="auto")
    # swing beyond Vpi: the transfer turns over, no pre-distortion can equalise it
    with pytest.raises(InvalidParameter, match="monotonic"):
        Transmitter(driver=Pam4Driver(swing_v=3.0, rise_time_s=8e-12),
                    modulator=MachZehnderModulator(length_m=8e-3), level_predistortion="auto")


# --- TOML ------------------------------------------------------------------------------------
LPO_TOML = """
preset = "400GBASE-DR4"
[transmitter]
host_channel_touchstone = "ch/host.s4p"
host_channel_differential = true
level_predistortion = {lp}
"""


def write_link(tmp_path: Path, text: str) -> Path:
    (tmp_path / "ch").mkdir(exist_ok=True)
    shutil.copy(S4P, tmp_path / "ch" / "host.s4p")
    p = tmp_path / "link.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_toml_host_channel_relative_to_file_and_predistortion(tmp_path, host, monkeypatch):
    monkeypatch.chdir(tmp_path.parent)  # relative paths must not depend on the working directory
    cfg = load_link(write_link(tmp_path, LPO_TOML.format(lp='"auto"')))
    txs = [lane.transmitter for lane in cfg.module.lanes]
    assert all(tx.host_channel is txs[0].host_channel for tx in txs)  # one object: shared transfer cache
    ch = txs[0].host_channel
    assert ch.mode == "differential"
    assert ch.insertion_loss_db(BAUD / 2) == pytest.approx(host.insertion_loss_db(BAUD / 2), abs=1e-12)
    assert txs[0].level_predistortion == "auto"
    # the same transmitter built in Python
    ref = dataclasses.replace(preset("400GBASE-DR4").lanes[0].transmitter, host_channel=host, level_predistortion="auto")
    assert txs[0].effective_driver == ref.effective_driver
    cfg2 = load_link(write_link(tmp_path, LPO_TOML.format(lp="[0.0, 0.35, 0.65, 1.0]")))
    assert cfg2.module.lanes[0].transmitter.effective_driver.levels == (0.0, 0.35, 0.65, 1.0)
    se = load_link(write_link(tmp_path, LPO_TOML.format(lp='"auto"').replace("= true", "= false")))
    assert se.module.lanes[0].transmitter.host_channel.mode == "single-ended"


def test_toml_string_paths_relative_to_base_dir(tmp_path):
    write_link(tmp_path, "")
    cfg = loads_link(LPO_TOML.format(lp='"auto"'), base_dir=tmp_path)
    assert cfg.module.lanes[0].transmitter.host_channel is not None


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('[transmitter]\nhost_channel_file = "x.s4p"\n', "unknown key 'host_channel_file'.*host_channel_touchstone"),
        ('[transmitter]\nhost_channel = "x.s4p"\n', "unknown key 'host_channel'"),
        ('[transmitter]\nhost_channel_touchstone = "missing.s4p"\n', "missing.s4p"),
        ('[transmitter]\nhost_channel_differential = false\n', "needs host_channel_touchstone"),
        ('[transmitter]\nhost_channel_touchstone = "ch/host.s4p"\nhost_channel_differential = "yes"\n', "true or false"),
        ('[transmitter]\nlevel_predistortion = "automatic"\n', "level_predistortion.*'auto'"),
        ('[transmitter]\nlevel_predistortion = [0.0, 0.5, 1.0]\n', "level_predistortion"),
        ('[driver]\nlevel_predistortion = [0.0, 0.3, 0.7, 1.0]\n[transmitter]\nlevel_predistortion = "auto"\n', "both"),
    ],
)
def test_toml_bad_keys(tmp_path, text, match):
    p = write_link(tmp_path, 'preset = "400GBASE-DR4"\n' + text)
    with pytest.raises(ConfigError, match=match) as exc:
        load_link(p)
    assert "link.toml" in str(exc.value)


def test_unreadable_touchstone_is_config_error(tmp_path):
    (tmp_path / "bad.s4p").write_text("not a touchstone file\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="bad.s4p"):
        loads_link('preset = "400GBASE-DR4"\n[transmitter]\nhost_channel_touchstone = "bad.s4p"\n', base_dir=tmp_path)


def test_example_lpo_file_loads_with_user_supplied_channel(tmp_path):
    example = Path(models.__file__).parent / "data" / "example-dr4-lpo.toml"
    with pytest.raises(ConfigError, match="host-channel.s4p"):
        load_link(example)  # the file is not shipped: the message names what to provide
    shutil.copy(example, tmp_path / example.name)
    shutil.copy(S4P, tmp_path / "host-channel.s4p")
    cfg = load_link(tmp_path / example.name)
    tx = cfg.module.lanes[0].transmitter
    assert tx.host_channel is not None and tx.level_predistortion == "auto"
    assert cfg.module.n_lanes == 4 and cfg.module.rx_ffe_taps == 9
