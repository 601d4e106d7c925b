"""Tests of optics.analyze: metric keys and values against constructed waveforms."""

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from scipy.ndimage import gaussian_filter1d  # noqa: E402

from optics import Waveform  # noqa: E402
from optics.analyze import analyze  # noqa: E402
from optics.errors import InvalidParameter, InvalidType, InvalidWaveform  # noqa: E402

P_W = np.array([0.3e-3, 0.7e-3, 1.1e-3, 1.5e-3])
OPTICAL_KEYS = {"tdecq_db", "ceq_db", "oma_outer_dbm", "oma_outer_w", "extinction_ratio_db",
                "average_power_dbm", "average_power_w", "rlm", "levels_w", "eye_heights",
                "eye_widths_ui", "ber_estimate", "ber_counted", "ser"}


def pam4(n_rep=2, levels=P_W, quantity="optical_power", noise_w=10e-6, seed=0, sps=8):
    rng = np.random.default_rng(seed)
    pat = rng.integers(0, 4, 2047).astype(np.uint8)
    x = gaussian_filter1d(np.repeat(levels[np.tile(pat, n_rep)], sps).astype(float), 1.5,
                          mode="wrap")
    x = x + noise_w * rng.standard_normal(x.size)
    return Waveform(samples=x, sample_rate_hz=sps * 53.125e9, symbol_rate_baud=53.125e9,
                    pattern=pat, quantity=quantity)


@pytest.fixture(scope="module")
def optical_result():
    return analyze(pam4())


def test_optical_metric_keys_and_values(optical_result):
    r = optical_result
    m = r.metrics()
    assert set(m) == OPTICAL_KEYS
    # constructed: OMA 1.2 mW, ER 10log10(1.5/0.3) = 6.99 dB, P_ave = mean of the samples
    assert m["oma_outer_w"] == pytest.approx(1.2e-3, rel=0.01)
    assert m["oma_outer_dbm"] == pytest.approx(10 * math.log10(1.2), abs=0.05)
    assert m["extinction_ratio_db"] == pytest.approx(10 * math.log10(5.0), abs=0.05)
    assert m["average_power_w"] == pytest.approx(float(np.mean(r.waveform.samples)), rel=1e-12)
    assert m["average_power_dbm"] == pytest.approx(10 * math.log10(m["average_power_w"] / 1e-3))
    assert m["rlm"] == pytest.approx(1.0, abs=0.01)
    assert len(m["levels_w"]) == 4 and np.all(np.diff(m["levels_w"]) > 0)
    assert m["ber_counted"] == 0.0  # eye Q ~ 0.2 mW / 10 uW: no errors in 8k bits
    assert 0 <= m["ber_estimate"] < 1e-15
    assert len(m["eye_heights"]) == 3 and len(m["eye_widths_ui"]) == 3
    assert 0 < m["tdecq_db"] < 3 and m["ceq_db"] >= 0


def test_tdecq_is_the_tdecq_module_value(optical_result):
    from optics.tdecq import tdecq

    direct = tdecq(optical_result.waveform)
    assert optical_result.metrics()["tdecq_db"] == pytest.approx(direct.tdecq_db, rel=1e-9)


def test_to_dict_and_text(optical_result):
    d = optical_result.to_dict()
    assert d["quantity"] == "optical_power" and d["levels_method"] == "pattern-runs"
    assert d["n_bits"] == 2 * d["n_symbols"]
    text = optical_result.to_text()
    for word in ("TDECQ", "OMA_outer", "extinction ratio", "RLM", "BER (counted)"):
        assert word in text


def test_plot_draws_eye_and_tdecq(optical_result):
    from matplotlib.figure import Figure

    fig = optical_result.plot(Figure())
    assert len(fig.axes) == 2


def test_voltage_waveform_has_no_dbm_er_or_tdecq():
    v = np.array([-0.3, -0.1, 0.1, 0.3])
    r = analyze(pam4(levels=v, quantity="voltage", noise_w=5e-3))
    m = r.metrics()
    assert {"levels_v", "oma_outer_v", "average_v", "rlm"} <= set(m)
    assert not any(k.endswith("_dbm") or k.endswith("_w") for k in m)
    assert "tdecq_db" not in m and "extinction_ratio_db" not in m
    assert m["oma_outer_v"] == pytest.approx(0.6, rel=0.01)
    assert "optical-power" in r.tdecq_note
    assert "not an optical-power waveform" in r.to_text()


def test_phy_verdict_pass_and_fail():
    good = analyze(pam4(n_rep=1), phy="400GBASE-DR4")
    assert good.verdict is not None
    assert good.verdict.outcome in ("PASS", "MARGINAL")
    # 10x less light: OMA_outer 1.2 mW -> -9.2 dBm, far below the -0.8 dBm minimum
    weak = pam4(n_rep=1)
    weak = weak.with_samples(weak.samples * 0.1)
    bad = analyze(weak, phy="400GBASE-DR4")
    assert bad.verdict.outcome == "FAIL"


def test_without_pattern_no_counted_ber():
    wf = pam4().replace(pattern=None)
    m = analyze(wf, run_tdecq=False).metrics()
    assert "ber_counted" not in m and "tdecq_db" not in m
    assert m["oma_outer_w"] == pytest.approx(1.2e-3, rel=0.05)  # histogram method


def test_bad_input():
    wf = pam4(n_rep=1)
    with pytest.raises(InvalidWaveform, match="symbol rate"):
        analyze(wf.replace(symbol_rate_baud=None))
    with pytest.raises(InvalidType):
        analyze(wf.samples)
    with pytest.raises(InvalidParameter):
        analyze(wf, eye_probability=0.5)


def test_closed_eye_fails_the_verdict_instead_of_passing():
    """A TDECQ that cannot close (infinite) must fail the TDECQ row, not drop out of it."""
    import dataclasses as dc

    import numpy as np

    from optics.analyze import _verdict
    from optics.phy import load_phy
    from optics.tdecq import TDECQResult

    rng = np.random.default_rng(3)
    symbols = rng.integers(0, 4, 4000)
    levels = np.array([0.2e-3, 0.6e-3, 1.0e-3, 1.4e-3])
    wf = Waveform(samples=np.repeat(levels[symbols], 8), sample_rate_hz=8 * 26.5625e9,
                  symbol_rate_baud=26.5625e9, pattern=symbols)
    res = analyze(wf, reference_filter=False)
    assert res.tdecq is not None
    closed = dc.replace(res, tdecq=dc.replace(res.tdecq, tdecq_db=float("inf"), eye_closed=True))
    verdict = _verdict(closed, load_phy("400GBASE-DR4"), 0.0)
    assert verdict.outcome == "FAIL"
    missing = dc.replace(res, tdecq=None, tdecq_note="not computed")
    assert _verdict(missing, load_phy("400GBASE-DR4"), 0.0).outcome == "INCOMPLETE"


def test_negative_mean_optical_waveform_gives_a_verdict_not_an_error():
    import numpy as np

    from optics.patterns import prbs_q

    sym = prbs_q(13)
    wf = Waveform(samples=np.repeat(-0.6e-3 + sym * 0.4e-3 / 3, 16), sample_rate_hz=16 * 26.5625e9,
                  symbol_rate_baud=26.5625e9, pattern=sym)
    res = analyze(wf, phy="400GBASE-DR4", run_tdecq=False)
    assert res.verdict.outcome == "INCOMPLETE"


def test_timing_of_large_samples_has_no_overflow():
    import numpy as np

    from optics.errors import InvalidWaveform
    from optics.patterns import prbs_q
    from optics.timing import recover_timing
    from optics.waveform import MAX_ABS_SAMPLE

    sym = prbs_q(13)
    wf = Waveform(samples=np.repeat(sym * MAX_ABS_SAMPLE / 3, 8), sample_rate_hz=8e9,
                  symbol_rate_baud=1e9, pattern=sym)
    assert recover_timing(wf).pattern_offset is not None
    with pytest.raises(InvalidWaveform, match="allowed range"):
        Waveform(samples=np.repeat(sym * 1e297, 8), sample_rate_hz=8e9)


def test_transition_time_with_ssprq_and_its_absence_without_long_edges(optical_result):
    from optics.patterns import pattern
    from optics.transition import transition_time

    sym = pattern("SSPRQ")
    x = gaussian_filter1d(np.repeat(P_W[sym], 16).astype(float), 3.0, mode="wrap")
    wf = Waveform(samples=x, sample_rate_hz=16 * 53.125e9, symbol_rate_baud=53.125e9, pattern=sym)
    r = analyze(wf, run_tdecq=False, phy="400GBASE-DR4")
    m = r.metrics()
    direct = transition_time(wf)
    assert m["transition_time_s"] == direct.transition_time_s and 5e-12 < direct.transition_time_s < 17e-12
    row = [x for x in r.verdict.to_records() if x["metric"] == "transition_time_s"][0]
    assert row["status"] != "NOT TESTED" and row["value"] == m["transition_time_s"]
    assert "transition time" in r.to_text() and r.to_dict()["transition"]["n_rising"] == 2
    # a random 2047-symbol pattern has no 5 zeros straight into 6 threes: no number, a reason
    assert "transition_time_s" not in optical_result.metrics()
    assert optical_result.transition.transition_time_s is None
    assert "no rising edge" in optical_result.to_text()


@pytest.mark.parametrize("reference_filter", [True, False])
def test_analyze_recovers_the_timing_once(monkeypatch, reference_filter):
    # issue 11 item 3: the timing is recovered once per waveform and handed on (levels, eye,
    # BER, TDECQ and the transition time; through the reference filter only the clock phase
    # is measured again)
    import sys

    import optics.timing

    original = optics.timing.recover_timing
    calls = []

    def counting(wf):
        calls.append(wf.n_samples)
        return original(wf)

    for name, module in list(sys.modules.items()):
        if name.split(".")[0] in ("optics", "models") and \
                getattr(module, "recover_timing", None) is original:
            monkeypatch.setattr(module, "recover_timing", counting)
    r = analyze(pam4(), reference_filter=reference_filter)
    assert len(calls) == 1
    assert r.tdecq is not None and r.transition is not None and r.ber_counted is not None
    # handing the timing on changes no result: TDECQ and the transition time as recovered
    # from scratch
    from optics.tdecq import tdecq
    from optics.transition import transition_time

    assert r.tdecq.tdecq_db == pytest.approx(
        tdecq(r.waveform, reference_filter=reference_filter).tdecq_db, rel=1e-9)
    direct = transition_time(r.waveform, reference_filter=reference_filter)
    assert (r.transition.n_rising, r.transition.n_falling) == (direct.n_rising, direct.n_falling)
    assert r.transition.p0 == pytest.approx(direct.p0, rel=1e-9)


def test_a_pattern_array_of_several_periods_gives_the_one_period_results():
    # the symbols sent during the record (3.4 periods) as the pattern, instead of its period
    from optics.patterns import pattern

    sym = pattern("PRBS9Q")
    x = gaussian_filter1d(np.repeat(P_W[np.tile(sym, 4)], 8).astype(float), 1.5, mode="wrap")
    x = x + 10e-6 * np.random.default_rng(3).standard_normal(x.size)
    one = Waveform(samples=x, sample_rate_hz=8 * 53.125e9, symbol_rate_baud=53.125e9, pattern=sym)
    many = one.replace(pattern=pattern("PRBS9Q", int(3.4 * sym.size)))
    a, b = analyze(one).to_dict(), analyze(many).to_dict()
    assert a == b and a["n_bits"] > 0 and a["tdecq_db"] > 0


@pytest.mark.parametrize("factor, word", [(2.0, "half"), (0.5, "twice")])
def test_analyze_names_a_symbol_rate_twice_or_half_the_true_one(factor, word):
    from optics.errors import NoEyeFound

    wf = pam4()
    with pytest.raises(NoEyeFound, match=f"clock line is at 53.125 GBd, {word} the given "
                                         f"{53.125 * factor:g} GBd: is the symbol rate right"):
        analyze(wf.replace(symbol_rate_baud=wf.symbol_rate_baud * factor))
