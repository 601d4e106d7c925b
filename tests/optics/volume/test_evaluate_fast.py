"""The fast lane path of yield prediction against the slow reference path it replaced.

Fast (what :func:`optics.volume.evaluate.evaluate_module` runs): the Tx record without the
channel and receiver, the reference filter through the Good-Thomas DFT with a kept response,
one timing recovery for levels and TDECQ, least-squares taps from per-column moments, each
eye-centre position optimised once.  Reference (kept for this test): the full lane
simulation, the filter as numpy's FFT times the closed-form Bessel-Thomson response, levels
and TDECQ each recovering their own timing, least squares on the samples, every revisited
position re-optimised.  TDECQ and Ceq agree within 0.005 dB (the speed target's tolerance),
the levels to rounding.
"""

from __future__ import annotations

import numpy as np
import pytest

from models.link import simulate_lane
from models.thermal import chip_temperature_c
from models.population import _tx_settings, lane_seed, lane_tx_waveform
from optics.levels import measure_levels
from optics.reference_receiver import bessel_thomson_response
from optics.tdecq import measure as tdecq_measure
from optics.tdecq import search as tdecq_search
from optics.tdecq import tdecq
from optics.volume.evaluate import YieldJob, _tx_metrics, context

PLAN = "optics/station/plans/800g-dr8.toml"


@pytest.fixture(scope="module")
def job():
    from pathlib import Path

    return YieldJob.from_files("800g-dr8", Path(__file__).resolve().parents[3] / PLAN)


def _reference(pm, lane, t):
    """Tx record from the full lane simulation (seeded as lane_tx_waveform seeds it), numpy
    FFT filter, levels and TDECQ each with their own timing, the reference search."""
    mod = pm.module
    settings = _tx_settings("PRBS13Q", 16)
    res = simulate_lane(mod.lanes[lane], symbol_rate_baud=mod.symbol_rate_baud, settings=settings,
                        rng=np.random.default_rng(lane_seed(pm, lane, t, population_seed=pm.population_seed)),
                        chip_temperature_c=chip_temperature_c(mod, t), symbols=settings.symbols(),
                        metrics=False)
    wf = res.tx_waveform
    x = np.asarray(wf.samples)
    f = np.fft.rfftfreq(x.size, wf.dt_s)
    filt = wf.with_samples(np.fft.irfft(np.fft.rfft(x) * bessel_thomson_response(f, 0.5 * wf.symbol_rate_baud),
                                        x.size))
    lv = measure_levels(filt)
    return wf, lv, tdecq(filt, reference_filter=False, n_taps=5, n_precursors=1)


def _compare(job, cases, monkeypatch):
    ctx = context(job)
    step = next(s for s in ctx.plan.steps if s.kind == "tx")
    worst = 0.0
    for k, lane, t in cases:
        pm = ctx.population.module(k)
        wf = lane_tx_waveform(pm, lane, t)
        fast, extra, _ = _tx_metrics(wf, step)
        with monkeypatch.context() as m:
            m.setattr(tdecq_measure, "REOPTIMISE_VISITED", True)
            m.setattr(tdecq_search, "LS_FROM_MOMENTS", False)
            ref_wf, lv, ref = _reference(pm, lane, t)
        assert np.array_equal(wf.samples, ref_wf.samples)                     # the same Tx record
        assert fast["average_power_dbm"] == pytest.approx(10 * np.log10(lv.average / 1e-3), abs=1e-9)
        assert fast["oma_outer_dbm"] == pytest.approx(10 * np.log10(lv.oma_outer / 1e-3), abs=1e-9)
        assert fast["extinction_ratio_db"] == pytest.approx(lv.extinction_ratio_db, abs=1e-9)
        assert extra["rlm"] == pytest.approx(lv.rlm, abs=1e-9)
        assert fast["tdecq_db"] == pytest.approx(ref.tdecq_db, abs=0.005)
        assert fast["ceq_db"] == pytest.approx(ref.ceq_db, abs=0.005)
        worst = max(worst, abs(fast["tdecq_db"] - ref.tdecq_db))
    return worst


def test_fast_lane_path_equals_the_reference_on_population_lanes(job, monkeypatch):
    _compare(job, [(1, 0, 25.0), (2, 5, 70.0), (3, 7, 25.0)], monkeypatch)


@pytest.mark.slow
def test_fast_lane_path_equals_the_reference_on_20_population_lanes(job, monkeypatch):
    cases = [(k, (3 * k) % 8, 25.0 if k % 2 else 70.0) for k in range(4, 24)]
    _compare(job, cases, monkeypatch)
