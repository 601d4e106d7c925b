"""``analyze(wf, tecq_waveform=...)`` and ``optics analyze --tecq-capture``: the PHY's TECQ and
|TDECQ - TECQ| rows are judged from a back-to-back record (issue 15)."""

from __future__ import annotations

import json
import math
import tomllib
from importlib import resources

import numpy as np
import pytest
import scipy.special

from optics import Waveform
from optics.analyze import analyze
from optics.cli import main
from optics.errors import InvalidParameter
from optics.io import write_npz
from optics.patterns import prbs_q
from optics.phy import load_phy
from optics.phy.spec import parse_spec
from optics.tdecq import tdecq

BAUD = 106.25e9
SPS = 16
LEVELS_W = np.array([0.2e-3, 0.5e-3, 0.8e-3, 1.1e-3])


def _pair(noise_w: float = 3.0e-5, pole_fraction: float = 0.4, seed: int = 3) -> tuple[Waveform, Waveform]:
    """``(back_to_back, after_channel)``: ISI-free PAM4 (PRBS13Q x 2) with white Gaussian noise
    (the transmitter without the fibre), and the same symbols through a one-pole response (the
    ISI a dispersive test fibre adds) with the same noise draw added after it."""
    sym = np.tile(prbs_q(13), 2)
    clean = np.repeat(LEVELS_W[sym], SPS)
    noise = noise_w * np.random.default_rng(seed).standard_normal(clean.size)
    f = np.fft.rfftfreq(clean.size, 1.0 / (SPS * BAUD))
    isi = np.fft.irfft(np.fft.rfft(clean) / (1.0 + 1j * f / (pole_fraction * BAUD)), clean.size)
    make = lambda x: Waveform(samples=x, sample_rate_hz=SPS * BAUD, symbol_rate_baud=BAUD, pattern=sym)  # noqa: E731
    return make(clean + noise), make(isi + noise)


def _closed_form_db(noise_w: float, target_ser: float) -> float:
    """TDECQ of an ISI-free eye with white noise sigma_n, no reference filter:
    -5 log10(1 - (sigma_n Q_t / d)^2), d = OMA/6, 1.5 Q(Q_t) = SER_t."""
    d = (LEVELS_W[3] - LEVELS_W[0]) / 6.0
    q_t = -scipy.special.ndtri(target_ser / 1.5)
    return -5.0 * math.log10(1.0 - (noise_w * q_t / d) ** 2)


def _dr8_with_tecq_rows(tecq_max: float, difference_max: float):
    """1.6TBASE-DR8's packaged table plus a TECQ and a |TDECQ - TECQ| row (TEST rows: no public
    source gives these limits, see the reference notes)."""
    text = resources.files("optics.phy").joinpath("data/1.6tbase-dr8.toml").read_text(encoding="utf-8")
    text += f"""
[[row]]
metric = "tecq_db"
label = "TECQ (max), test row"
group = "tx"
unit = "dB"
max = {tecq_max}
clause = "test"
source = "d13"
verified = false

[[row]]
metric = "tdecq_tecq_difference_db"
label = "|TDECQ - TECQ| (max), test row"
group = "tx"
unit = "dB"
max = {difference_max}
clause = "test"
source = "d13"
verified = false
"""
    return parse_spec(tomllib.loads(text), "test-1.6tbase-dr8.toml", text)


def _row(verdict, metric):
    rows = [r for r in verdict.rows if r.row.metric == metric]
    assert len(rows) == 1, metric
    return rows[0]


def test_tecq_rows_are_judged_against_independently_computed_values():
    b2b, wf = _pair()
    method = load_phy("1.6TBASE-DR8").tdecq_method
    # independent: TDECQ of each record by optics.tdecq.tdecq with the method's keywords, and the
    # closed form of the ISI-free back-to-back eye
    opts = method.tdecq_options()
    tecq_ref = tdecq(b2b, reference_filter=False, **opts).tdecq_db
    tdecq_ref = tdecq(wf, reference_filter=False, **opts).tdecq_db
    assert tecq_ref == pytest.approx(_closed_form_db(3.0e-5, method.target_ser), abs=0.08)
    assert tdecq_ref > tecq_ref + 0.5                     # the channel's ISI closes the eye further
    diff = tdecq_ref - tecq_ref
    # limits placed either side of the independent values: TECQ passes, the difference fails
    spec = _dr8_with_tecq_rows(tecq_max=round(tecq_ref + 0.3, 2), difference_max=round(diff - 0.3, 2))
    res = analyze(wf, reference_filter=False, phy=spec, tecq_waveform=b2b)
    assert res.metrics()["tecq_db"] == pytest.approx(tecq_ref, abs=1e-9)
    assert res.metrics()["tdecq_db"] == pytest.approx(tdecq_ref, abs=1e-9)
    t_row, d_row = _row(res.verdict, "tecq_db"), _row(res.verdict, "tdecq_tecq_difference_db")
    assert t_row.value == pytest.approx(tecq_ref, abs=1e-9) and t_row.status == "PASS"
    assert d_row.value == pytest.approx(diff, abs=1e-9) and d_row.status == "FAIL"
    assert len(res.tecq.taps) == method.n_taps              # the PHY's 15-tap method, as TDECQ
    # swapped limits: TECQ fails, the difference passes
    spec = _dr8_with_tecq_rows(tecq_max=round(tecq_ref - 0.3, 2), difference_max=round(diff + 0.3, 2))
    res = analyze(wf, reference_filter=False, phy=spec, tecq_waveform=b2b)
    assert _row(res.verdict, "tecq_db").status == "FAIL"
    assert _row(res.verdict, "tdecq_tecq_difference_db").status == "PASS"


def test_without_a_back_to_back_record_the_tecq_rows_are_not_tested():
    b2b, wf = _pair()
    spec = _dr8_with_tecq_rows(tecq_max=5.0, difference_max=5.0)
    res = analyze(wf, reference_filter=False, phy=spec)
    assert "tecq_db" not in res.metrics()
    assert _row(res.verdict, "tecq_db").status == "NOT TESTED"
    assert _row(res.verdict, "tdecq_tecq_difference_db").status == "NOT TESTED"


def test_a_back_to_back_record_that_cannot_be_compared_is_refused():
    b2b, wf = _pair()
    other_rate = Waveform(samples=np.asarray(b2b.samples), sample_rate_hz=SPS * 53.125e9,
                          symbol_rate_baud=53.125e9, pattern=b2b.pattern)
    with pytest.raises(InvalidParameter, match="tecq_waveform symbol rate 53125000000.0 Bd differs"):
        analyze(wf, tecq_waveform=other_rate)
    with pytest.raises(InvalidParameter, match="back-to-back.*-2.5 ps/nm"):
        analyze(wf, tecq_waveform=b2b.replace(meta={"dispersion_ps_per_nm": -2.5}))
    with pytest.raises(InvalidParameter, match="run_tdecq=False"):
        analyze(wf, tecq_waveform=b2b, run_tdecq=False)


def test_cli_tecq_capture(tmp_path, capsys):
    b2b, wf = _pair()
    f_wf, f_b2b = write_npz(wf, tmp_path / "tx.npz"), write_npz(b2b, tmp_path / "b2b.npz")
    assert main(["analyze", str(f_wf), "--tecq-capture", str(f_b2b), "--phy", "1.6TBASE-DR8",
                 "--no-reference-filter", "--json"]) in (0, 1)
    out = json.loads(capsys.readouterr().out)
    opts = load_phy("1.6TBASE-DR8").tdecq_method.tdecq_options()
    assert out["tecq_db"] == pytest.approx(tdecq(b2b, reference_filter=False, **opts).tdecq_db, abs=1e-6)
    assert out["tecq_file"] == str(f_b2b) and len(out["tecq_taps"]) == 15
    main(["analyze", str(f_wf), "--tecq-capture", str(f_b2b), "--no-reference-filter"])
    assert "TECQ" in capsys.readouterr().out
