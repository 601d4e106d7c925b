"""A receiver-sensitivity bench and a reference TDECQ, end to end through the real drivers.

Everything goes through pyvisa + pyvisa-py over TCP to the virtual bench and through the
drivers of :mod:`instruments`; the expected values are closed forms evaluated here from the
bench *configuration* and the *meter readings*, never from the bench's internals:

* PAM4 with Gaussian noise, Gray code (Proakis, *Digital Communications*, 5th ed., §4.3-2):
  ``SER = 2 (M-1)/M Q(d/σ) = 1.5 Q(R·OMA/(6 σ))``, ``BER = SER/2``;
* outer OMA from average power and extinction ratio ``r``: ``OMA = 2 P (r - 1)/(r + 1)``;
* TDECQ of a noise-only ideal eye (IEEE 802.3 121.8.5.3, ``σ_ideal = OMA/(6 Q_t)``,
  ``Q_t = 3.414`` for SER 4.8e-4): the tolerable added noise is
  ``σ_G² = σ_ideal² - σ_tx² - σ_S²``, so without a scope-noise credit
  ``TDECQ = -5 log10(1 - (σ_tx² + σ_S²)/σ_ideal²)`` and with it
  ``10 log10(σ_ideal/sqrt(σ_G² + σ_S²)) = -5 log10(1 - σ_tx²/σ_ideal²)``.
"""

import math

import numpy as np
import pytest
from scipy.stats import norm

from instruments.bench import BenchConfig, VirtualBench
from instruments.virtual.physics import BenchLink, BenchParams, ScopeParams
from optics.errors import ConfigError, InvalidParameter, InvalidType
from optics.patterns import pattern

#: IEEE 802.3 121.8.5.3: Q_t for the target SER 4.8e-4.
Q_T = 3.414
BAUD = 53.125e9


def _closed_form_ber(oma_w: float, responsivity: float, noise_a: float) -> float:
    return 0.75 * norm.sf(responsivity * oma_w / (6.0 * noise_a))


def test_q_t_is_the_ser_target():
    # SER = 1.5 Q(Q_t) = 4.8e-4 for an ideal PAM4 eye: the IEEE value is that root
    assert norm.isf(4.8e-4 / 1.5) == pytest.approx(Q_T, abs=1e-3)


# --- 1. the scope behind the attenuator: power, OMA, BER and TDECQ move together ----------------
SIGMA_TX_REL = 0.3  # σ_tx / σ_ideal of the transmitter
SIGMA_S_W = 1.2e-6  # the scope's own noise σ_S
SPLIT = 0.5
SENS_CONFIG = {
    "virtual": {
        "transmitter": {"pattern_name": "PRBS13Q", "samples_per_symbol": 16, "bandwidth_limited": False,
                        "noise_per_symbol": True, "noise_rms_rel_oma": SIGMA_TX_REL / (6 * Q_T)},
        "scope": {"position": "receiver", "splitter_ratio": SPLIT, "splitter_excess_loss_db": 0.3,
                  "noise_rms_w": SIGMA_S_W},
    },
    "instruments": {"scope": {}, "power_meter": {}, "attenuator": {}, "bert": {}},
}


def test_attenuation_sweep_moves_meter_scope_oma_and_ber_together():
    cfg = BenchConfig.from_dict(SENS_CONFIG, source="sensitivity-test")
    tx, rx, path = cfg.physics.transmitter, cfg.physics.receiver, cfg.physics.path
    er = 10 ** (tx.extinction_ratio_db / 10)
    atts = np.arange(6.0, 12.0)  # 6 points, BER ~1e-8 .. 3e-2
    rows = []
    with VirtualBench(cfg) as bench:
        opm, voa = bench.connect("power_meter"), bench.connect("attenuator")
        bert = bench.connect("bert", poll_interval_s=0.01)
        dca = bench.connect("scope", measurement_timeout_s=5.0, poll_interval_s=0.01)
        try:
            port, ch = opm.port(1), voa.channel(1)
            ch.shutter_open = True
            dca.lock_pattern(symbol_rate_baud=BAUD, pattern_length=8191)
            dca.configure_tdecq(n_taps=5, n_precursors=2)
            bert.symbol_rate_baud = BAUD
            bert.coding = "PAM4"
            bert.set_pattern("PRBS13Q")
            bert.output_enabled = True
            bert.global_outputs_enabled = True
            for att in atts:
                ch.attenuation_db = float(att)
                meter_w = port.power_w
                dca.acquire(1)
                oma_w = dca.measure_outer_oma_w()
                scope_avg_w = dca.measure_average_power_w()
                tdecq_db = dca.measure_tdecq_db()
                ber = bert.measure_ber(0.1)
                rows.append((meter_w, oma_w, scope_avg_w, tdecq_db, ber))
            # the scope's export at the lowest power, analysed with the σ_S credit
            from optics.tdecq import tdecq

            wf = dca.read_pattern_waveform(pattern=pattern("PRBS13Q"))
            credited = tdecq(wf, reference_filter=False, sigma_scope=SIGMA_S_W).tdecq_db
            uncredited = tdecq(wf, reference_filter=False).tdecq_db
        finally:
            for inst in (opm, voa, bert, dca):
                inst.close()
    meter_dbm = np.array([10 * math.log10(r[0] / 1e-3) for r in rows])
    oma_dbm = np.array([10 * math.log10(r[1] / 1e-3) for r in rows])
    scope_dbm = np.array([10 * math.log10(r[2] / 1e-3) for r in rows])
    tdecqs = np.array([r[3] for r in rows])
    # power meter and scope OMA: -1 dB per dB of attenuation, and dB-for-dB with each other
    assert np.polyfit(atts, meter_dbm, 1)[0] == pytest.approx(-1.0, abs=0.005)
    assert np.polyfit(meter_dbm, oma_dbm, 1)[0] == pytest.approx(1.0, abs=0.01)
    # absolute: both splitter arms carry the same excess loss, so scope/meter = r/(1-r) (+ paths)
    arms_db = 10 * math.log10(SPLIT / (1 - SPLIT)) + path.meter_path_loss_db - path.scope_path_loss_db
    np.testing.assert_allclose(scope_dbm - meter_dbm, arms_db, atol=0.02)
    # OMA dB-for-dB with the meter at every point, within +-0.04 dB (the OMA of one
    # pattern record carries the noise of its long-run symbols: ~0.01 dB rms here)
    oma_offset_db = arms_db + 10 * math.log10(2 * (er - 1) / (er + 1))
    np.testing.assert_allclose(oma_dbm - meter_dbm, oma_offset_db, atol=0.04)
    # BER: monotonic, and the closed form at the received OMA derived from the meter reading
    bers = [r[4].ber for r in rows]
    assert all(b2 > b1 for b1, b2 in zip(bers, bers[1:]))
    for (meter_w, *_, result) in rows:
        p_rx = meter_w * 10 ** ((path.meter_path_loss_db - path.rx_path_loss_db) / 10)
        expected = _closed_form_ber(2 * p_rx * (er - 1) / (er + 1), rx.responsivity_a_per_w, rx.noise_current_a_rms)
        mean_errors = expected * result.compared_bits
        # Poisson count (4 sigma) plus 3 % for the meter's reading noise through a steep Q
        assert result.ber == pytest.approx(expected, rel=4 / math.sqrt(mean_errors) + 0.03)
    # TDECQ: the scope's σ_S counts against the eye, more as the OMA falls
    sigma_ideal = np.array([r[1] for r in rows]) / (6 * Q_T)
    expected_tdecq = -5 * np.log10(1 - SIGMA_TX_REL**2 - (SIGMA_S_W / sigma_ideal) ** 2)
    np.testing.assert_allclose(tdecqs, expected_tdecq, atol=0.08)
    assert np.all(np.diff(tdecqs) > 0) and tdecqs[-1] - tdecqs[0] > 0.6
    # the export is what the scope measured; credited with σ_S it is the transmitter's alone
    assert uncredited == pytest.approx(tdecqs[-1], abs=0.02)
    assert credited == pytest.approx(-5 * math.log10(1 - SIGMA_TX_REL**2), abs=0.08)


def test_scope_without_own_noise_keeps_tdecq_under_attenuation():
    """σ_S = 0: TDECQ is normalised by OMA, so attenuating the signal leaves it alone."""
    params = BenchParams(
        transmitter=BenchConfig.from_dict(SENS_CONFIG).physics.transmitter,
        scope=ScopeParams(position="receiver", splitter_ratio=0.2),
    )
    link = BenchLink(params)
    from instruments.virtual.flexdca import FlexDCA

    dca = FlexDCA(link)
    dca.execute(":TIM:SRAT 53.125E9;:TRIG:PLEN 8191;:TRIG:PLOC ON;:LTES:ACQ:STAT ON")
    values = []
    for att in (0.0, 12.0):
        link.set_attenuation(att)
        dca.execute(":ACQ:RUN")
        values.append(float(dca.handle(":MEAS:EYE:TDEQ?").decode()))
    assert values[1] == pytest.approx(values[0], abs=0.02)
    assert values[0] == pytest.approx(-5 * math.log10(1 - SIGMA_TX_REL**2), abs=0.06)
    # a closed shutter leaves the scope without signal
    link.set_shutter(False)
    dca.execute(":ACQ:RUN")
    assert dca.handle(":MEAS:EYE:TDEQ:STAT:REAS?") == b'"No signal on the source"'
    assert dca.handle(":MEAS:EYE:TDEQ?") == b"9.91E+37"


def test_scope_noise_compensation_credits_sigma_s():
    base = BenchConfig.from_dict(SENS_CONFIG).physics
    from instruments.virtual.flexdca import FlexDCA

    readings = []
    for compensate in (False, True):
        scope = ScopeParams(position="receiver", noise_rms_w=SIGMA_S_W, noise_compensation=compensate)
        link = BenchLink(BenchParams(transmitter=base.transmitter, scope=scope))
        link.set_attenuation(10.0)
        dca = FlexDCA(link)
        dca.execute(":TIM:SRAT 53.125E9;:TRIG:PLEN 8191;:TRIG:PLOC ON;:LTES:ACQ:STAT ON;:ACQ:RUN")
        readings.append(float(dca.handle(":MEAS:EYE:TDEQ?").decode()))
    assert readings[0] > readings[1] + 0.2
    assert readings[1] == pytest.approx(-5 * math.log10(1 - SIGMA_TX_REL**2), abs=0.08)


def test_default_scope_sees_the_transmitter_directly():
    link = BenchLink()
    before = link.scope_power_w()
    meter = link.meter_power_w()
    link.set_attenuation(20.0)
    assert link.scope_power_w() == before  # unchanged by the attenuator
    assert link.meter_power_w() == pytest.approx(meter / 100, rel=1e-12)
    # behind the attenuator: scope arm r, through arm 1 - r, both with the excess loss
    link2 = BenchLink(BenchParams(scope=ScopeParams(position="receiver", splitter_ratio=0.1,
                                                     splitter_excess_loss_db=1.0)))
    il = 10 ** (-1.0 / 10)
    assert link2.scope_power_w() == pytest.approx(link2.attenuator_output_w() * 0.1 * il, rel=1e-12)
    assert link2.meter_power_w() == pytest.approx(link2.attenuator_output_w() * 0.9 * il, rel=1e-12)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"position": "rx"}, InvalidParameter),
        ({"splitter_ratio": 1.0}, InvalidParameter),
        ({"splitter_ratio": 0.0}, InvalidParameter),
        ({"splitter_excess_loss_db": -0.1}, InvalidParameter),
        ({"noise_rms_w": -1e-6}, InvalidParameter),
        ({"noise_bandwidth_hz": 0.0}, InvalidParameter),
        ({"noise_compensation": "yes"}, InvalidType),
        ({"splitter": 0.5}, TypeError),
    ],
)
def test_scope_params_reject_bad_values(kwargs, error):
    with pytest.raises(error):
        ScopeParams(**kwargs)


def test_bench_toml_scope_table(tmp_path):
    path = tmp_path / "bench.toml"
    path.write_text('[virtual.scope]\nposition = "receiver"\nsplitter_ratio = 0.1\nnoise_rms_w = 2e-6\n')
    from instruments.bench import load_bench_config

    scope = load_bench_config(path).physics.scope
    assert (scope.position, scope.splitter_ratio, scope.noise_rms_w) == ("receiver", 0.1, 2e-6)
    path.write_text('[virtual.scope]\nposition = "middle"\n')
    with pytest.raises(ConfigError, match="virtual.scope"):
        load_bench_config(path)
    path.write_text('[virtual.scope]\nsplit_ratio = 0.1\n')
    with pytest.raises(ConfigError, match="virtual.scope.split_ratio"):
        load_bench_config(path)


# --- 2. a waveform whose TDECQ is known: ideal levels + noise, σ/σ_ideal = 0.5 --------------------
def test_scope_and_optics_tdecq_agree_on_noise_only_waveform():
    from optics.tdecq import tdecq

    ratio = 0.5
    expected = -5 * math.log10(1 - ratio**2)  # 0.6247 dB
    assert expected == pytest.approx(0.625, abs=1e-3)
    cfg = BenchConfig.from_dict({
        "virtual": {"transmitter": {"bandwidth_limited": False, "noise_per_symbol": True,
                                    "noise_rms_rel_oma": ratio / (6 * Q_T)}},
        "instruments": {"scope": {}},
    })
    with VirtualBench(cfg) as bench:
        dca = bench.connect("scope", measurement_timeout_s=5.0, poll_interval_s=0.01)
        try:
            dca.lock_pattern(symbol_rate_baud=BAUD, pattern_length=8191)
            dca.default_channel.reference_receiver = False
            assert dca.default_channel.reference_receiver is False
            dca.configure_tdecq(n_taps=5, n_precursors=2)
            dca.acquire(1)
            reported = dca.measure_tdecq_db()
            wf = dca.read_pattern_waveform(pattern=pattern("PRBS13Q"))
        finally:
            dca.close()
    ours = tdecq(wf, reference_filter=False, n_taps=5, n_precursors=2).tdecq_db
    assert reported == pytest.approx(expected, abs=0.1)
    assert ours == pytest.approx(expected, abs=0.1)
    assert reported == pytest.approx(ours, abs=0.02)
