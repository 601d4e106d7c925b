"""The station's and the yield prediction's TDECQ settings come from one resolution
(:func:`optics.phy.method.step_tdecq`): the PHY's method, explicit step settings first (issue 15)."""

from __future__ import annotations

import types

import pytest

from models.compliance import compliance_channel, through_compliance_fibre
from optics.errors import InvalidParameter
from optics.phy import load_phy
from optics.phy.method import STEP_DEFAULT_PRECURSORS, step_tdecq
from optics.reference_receiver import bessel_thomson
from optics.tdecq import tdecq
from optics.timing import recover_timing
from optics.volume.evaluate import _tx_metrics


def test_a_200g_phy_gives_the_15_tap_method_and_step_settings_win():
    spec = load_phy("1.6TBASE-DR8")
    s = step_tdecq({}, spec.tdecq_method, spec.symbol_rate_baud)
    assert (s.n_taps, s.n_precursors) == (15, 3)
    assert s.bandwidth_hz == pytest.approx(0.5 * spec.symbol_rate_baud)   # BT4 at baud/2 (table fraction 0.5)
    assert s.not_applied == ()            # the 1.6T draft method asks SER 4.8e-4: what the DCA measures with
    explicit = step_tdecq({"tdecq_taps": 7, "tdecq_precursors": 2}, spec.tdecq_method, spec.symbol_rate_baud)
    assert (explicit.n_taps, explicit.n_precursors) == (7, 2)
    # taps given alone: the method's precursors belong to its own length, so the step default is used
    assert step_tdecq({"tdecq_taps": 5}, spec.tdecq_method, spec.symbol_rate_baud).n_precursors == STEP_DEFAULT_PRECURSORS
    # a step at another rate scales a fractional bandwidth
    assert step_tdecq({}, spec.tdecq_method, 113.4375e9).bandwidth_hz == pytest.approx(56.71875e9)


def test_a_100g_phy_resolves_exactly_to_the_defaults_without_a_phy():
    for name in ("400GBASE-DR4", "100GBASE-DR", "800GBASE-DR8"):
        spec = load_phy(name)
        with_phy = step_tdecq({}, spec.tdecq_method, spec.symbol_rate_baud)
        without = step_tdecq({}, None, spec.symbol_rate_baud)
        assert with_phy.tdecq_options() == without.tdecq_options()
        assert with_phy.not_applied == ()


def test_a_method_field_the_scope_cannot_be_told_is_named():
    spec = load_phy("800GBASE-FR4")          # inner-FEC class: target SER 9.6e-3
    s = step_tdecq({}, spec.tdecq_method, spec.symbol_rate_baud)
    assert s.tdecq_options()["target_ser"] == 4.8e-4
    assert len(s.not_applied) == 1 and s.not_applied[0].startswith("target_ser 0.0096")
    assert "no known FlexDCA SCPI" in s.note()


def test_bad_step_settings_are_refused():
    spec = load_phy("1.6TBASE-DR8")
    with pytest.raises(InvalidParameter, match="tdecq_precursors = 15 must be below tdecq_taps = 15"):
        step_tdecq({"tdecq_precursors": 15}, spec.tdecq_method, spec.symbol_rate_baud)
    with pytest.raises(InvalidParameter, match="tdecq_taps"):
        step_tdecq({"tdecq_taps": 42}, None, 53.125e9)


def test_prediction_measures_200g_with_15_taps_and_100g_unchanged(isi_lane):
    step = types.SimpleNamespace(settings={})
    wf = isi_lane(106.25e9, seed=5)
    spec = load_phy("1.6TBASE-DR8")
    metrics, _extra, _notes = _tx_metrics(wf, step, spec)
    # TDECQ after the PHY's compliance fibre (models.compliance), 15 taps, 3 precursors
    fibre = bessel_thomson(through_compliance_fibre(wf, compliance_channel(spec)))
    direct15 = tdecq(fibre, reference_filter=False, timing=recover_timing(fibre), n_taps=15, n_precursors=3)
    assert metrics["tdecq_db"] == pytest.approx(direct15.tdecq_db, abs=1e-9)
    five, _, _ = _tx_metrics(wf, step, None)
    assert metrics["tdecq_db"] != five["tdecq_db"]
    # 100 Gb/s per lane: the PHY's method gives the numbers of the call without one but for the
    # compliance fibre's TDECQ (-0.927 ps/nm: < 0.01 dB at 53 GBd); OMA, ER, power identical (TP2)
    wf100 = isi_lane(53.125e9, seed=5)
    with_phy, _, _ = _tx_metrics(wf100, step, load_phy("400GBASE-DR4"))
    without, _, _ = _tx_metrics(wf100, step, None)
    assert with_phy.keys() == without.keys()
    for key in with_phy:
        if key in ("tdecq_db", "ceq_db"):
            assert with_phy[key] == pytest.approx(without[key], abs=0.01)
        else:
            assert with_phy[key] == without[key], key


class _Scope:
    """Records what the station tells the scope."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []

    def lock_pattern(self, **kw):
        self.calls.append(("lock_pattern", kw))

    def set_reference_receiver(self, **kw):
        self.calls.append(("set_reference_receiver", kw))

    def configure_tdecq(self, **kw):
        self.calls.append(("configure_tdecq", kw))

    def write_checked(self, command):
        self.calls.append(("write", {"command": command}))


def _tx_setup(phy: str, settings: dict) -> tuple[_Scope, list[str]]:
    from optics.station.steps import _Run

    scope = _Scope()
    run = object.__new__(_Run)          # only the state tx_setup uses
    run.spec, run.notes, run._ready = load_phy(phy), [], set()
    run.bench = types.SimpleNamespace(get=lambda name: scope, instruments={})
    run.tx_setup(types.SimpleNamespace(name="tx", settings=settings))
    return scope, run.notes


def test_station_tells_the_scope_the_phy_method():
    scope, notes = _tx_setup("1.6TBASE-DR8", {})
    calls = dict(scope.calls[:3])
    assert calls["configure_tdecq"] == {"n_taps": 15, "n_precursors": 3}
    assert calls["set_reference_receiver"]["bandwidth_hz"] == pytest.approx(53.125e9)
    assert notes == []
    scope, _ = _tx_setup("1.6TBASE-DR8", {"tdecq_taps": 5, "tdecq_precursors": 1})
    assert dict(scope.calls[:3])["configure_tdecq"] == {"n_taps": 5, "n_precursors": 1}
    # 100 G/lane: what the station always sent (5 taps, 1 precursor, SIRC at baud/2)
    scope, _ = _tx_setup("400GBASE-DR4", {})
    calls = dict(scope.calls[:3])
    assert calls["configure_tdecq"] == {"n_taps": 5, "n_precursors": 1}
    assert calls["set_reference_receiver"]["bandwidth_hz"] == 0.5 * load_phy("400GBASE-DR4").symbol_rate_baud
    _, notes = _tx_setup("800GBASE-FR4", {})
    assert len(notes) == 1 and "target_ser" in notes[0]
