"""optics.stressed_signal: the SECQ calibration check of a stressed receiver test signal.

Independent reference: a noise-only PAM4 signal (no ISI, a one-tap equaliser) has the closed-form
closure ``-5 log10(1 - (sigma_n / sigma_ideal)^2)`` with ``sigma_ideal = OMA / (6 Q_t)`` and
``Q_t = Q^-1(SER_t / 1.5)`` (the TDECQ method's definition, reference notes section 2.1), computed
here with scipy; the PHY's draft row (1.6TBASE-DR8: SECQ >= 3.4 dB, D1.3) judges it.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.special import ndtri

from optics import Waveform
from optics.cli import main
from optics.errors import InvalidParameter, InvalidType
from optics.io import write_npz
from optics.phy import load_phy
from optics.stressed_signal import check_stressed_signal
from optics.tdecq import tdecq

BAUD = 106.25e9
SPS = 8
P0, OMA = 0.2e-3, 0.9e-3
ONE_TAP = {"n_taps": 1, "n_precursors": 0}
PER_LEVEL = 10000


def _noise_only(ratio: float, seed: int = 1) -> tuple[Waveform, float]:
    """PAM4 levels with Gaussian noise of ``ratio`` x sigma_ideal per symbol (flat within the UI)
    at the 1.6T method's target SER, and the closed-form SECQ of that signal."""
    target = load_phy("1.6TBASE-DR8").tdecq_method.tdecq_options()["target_ser"]
    q_t = -ndtri(target / 1.5)
    sigma_n = ratio * OMA / (6.0 * q_t)
    rng = np.random.default_rng(seed)
    per_level = PER_LEVEL
    sym = np.repeat(np.arange(4), per_level)
    # each level's noise is the Gaussian quantile set (no sampling scatter in the tails), shuffled
    noise = np.tile(ndtri((np.arange(per_level) + 0.5) / per_level), 4)
    order = rng.permutation(sym.size)
    sym, noise = sym[order], noise[order]
    values = P0 + sym * OMA / 3.0 + sigma_n * noise
    wf = Waveform(samples=np.repeat(values, SPS), sample_rate_hz=SPS * BAUD, symbol_rate_baud=BAUD,
                  pattern=sym.astype(np.uint8))
    return wf, -5.0 * math.log10(1.0 - ratio**2)


@pytest.mark.parametrize("ratio, outcome", [(0.7, "FAIL"), (0.9, "PASS")])
def test_secq_is_the_closed_form_and_the_draft_row_judges_it(ratio, outcome):
    wf, closed = _noise_only(ratio)
    check = check_stressed_signal(wf, "1.6TBASE-DR8", reference_filter=False, tdecq_options=ONE_TAP,
                                  allow_draft=True)
    # the same number as the TDECQ machinery called directly with the PHY's target SER
    assert check.secq_db == tdecq(wf, reference_filter=False, target_ser=4.8e-4, **ONE_TAP).tdecq_db
    assert check.secq.oma_outer == pytest.approx(OMA, rel=1e-2)      # measured on the noisy levels
    if ratio <= 0.7:
        # 10 000 quantiles a level: within 0.02 dB of the closed form (measured 1.442 vs 1.462 dB)
        assert check.secq_db == pytest.approx(closed, abs=0.03)
    else:
        # so much noise that 7e-5 of the samples sit beyond a threshold: the method's label-free
        # histogram counts them as 0.5 errors, not ~1, so its closure is below the closed form
        # (3.48 vs 3.61 dB), never above it
        assert closed - 0.2 < check.secq_db < closed
    (row,) = [r for r in check.verdict.rows if r.row.metric == "secq_db"]
    assert row.value == check.secq_db and row.min == 3.4 and row.row.status == "DRAFT" and row.decides
    assert check.verdict.outcome == outcome and row.status == outcome
    # without --allow-draft the draft row is judged but does not decide, and the reason says so
    advisory = check_stressed_signal(wf, "1.6TBASE-DR8", reference_filter=False, tdecq_options=ONE_TAP)
    assert advisory.verdict.outcome == "INCOMPLETE"
    assert [(x.metric, x.flag) for x in advisory.verdict.reasons()] == [("secq_db", "--allow-draft")]


def test_the_phys_method_measures_it_and_a_phy_without_a_secq_row_only_reports_it():
    wf, _ = _noise_only(0.8, seed=3)
    check = check_stressed_signal(wf, "1.6TBASE-DR8", reference_filter=False)
    assert len(check.secq.taps) == 15 and check.secq.n_precursors == 3      # the draft's 15-tap FFE
    assert check.method["n_taps"] == 15 and check.to_dict()["secq_taps"] == list(check.secq.taps)
    plain = check_stressed_signal(wf, "400GBASE-DR4", reference_filter=False)
    assert plain.verdict is None and "reference_secq_db" in plain.note and len(plain.secq.taps) == 5
    assert f"reference_secq_db = {plain.secq_db:.2f}" in plain.to_text()


def test_bad_input_is_refused():
    wf, _ = _noise_only(0.5)
    with pytest.raises(InvalidType, match="Waveform"):
        check_stressed_signal(np.zeros(10))
    volts = Waveform(samples=wf.samples, sample_rate_hz=wf.sample_rate_hz, symbol_rate_baud=BAUD,
                     quantity="voltage")
    with pytest.raises(InvalidParameter, match="optical"):
        check_stressed_signal(volts)


def test_cli_analyze_stressed_signal(tmp_path, capsys):
    wf, closed = _noise_only(0.7)
    path = write_npz(wf, tmp_path / "srs.npz")
    # the CLI applies the reference receiver; compare with the function on the same record
    want = check_stressed_signal(wf, "1.6TBASE-DR8", allow_draft=True)
    code = main(["analyze", str(path), "--stressed-signal", "--phy", "1.6TBASE-DR8", "--allow-draft", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert doc["secq_db"] == pytest.approx(want.secq_db, abs=1e-12)
    assert code == (1 if want.verdict.outcome == "FAIL" else 0)
    assert doc["verdict"]["outcome"] == want.verdict.outcome and doc["file"] == str(path)
    assert main(["analyze", str(path), "--stressed-signal"]) == 0
    assert "SECQ" in capsys.readouterr().out
    assert main(["analyze", str(path), "--stressed-signal", "--tecq-capture", str(path)]) == 2
    assert "--stressed-signal" in capsys.readouterr().err
