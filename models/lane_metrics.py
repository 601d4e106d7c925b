"""Metrics of simulated lanes, all measured by :mod:`optics` (never re-implemented here).

* Tx (optical, W): ``average_power``, ``oma_outer``, ``extinction_ratio_db``, ``rlm``,
  ``levels_w`` (:func:`optics.levels.measure_levels`) and ``tdecq_db``/``ceq_db``
  (:func:`optics.tdecq.tdecq`, reference receiver at baud/2); :func:`scale_tx_metrics`
  derives them for a Tx waveform scaled by a laser-power ratio;
* Rx (V): ``ber_counted`` (:func:`optics.ber.count_errors`) and ``ber_estimate``
  (:func:`optics.ber.estimate_ber`);
* module power at temperature (:func:`module_power_at`, :mod:`models.power`) and the laser's
  bias at the chip temperature (:func:`laser_state`).

Public through :mod:`models.link`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from models import power as power_model
from models.lane import Lane, LaneResult, LinkModule, w_to_dbm
from models.modulator import MicroringModulator
from optics import validate
from optics.errors import InvalidParameter, InvalidWaveform
from optics.waveform import Waveform


def tx_metrics(tx_wf: Waveform, *, compute_tdecq: bool = True, tdecq_method: Any = None,
               compliance: Any = None) -> dict[str, Any]:
    """Transmitter metrics of an optical waveform, measured by :mod:`optics`.

    Returns ``average_power_w/_dbm, oma_outer_w/_dbm, extinction_ratio_db, rlm, levels_w``
    and (if ``compute_tdecq``) ``tdecq_db, ceq_db``, the reference FFE ``tdecq_taps`` and
    ``tdecq_n_precursors``, and ``transition_time_s``
    (:func:`optics.transition.transition_time`, None when the pattern has no long 0 ↔ 3
    edges, e.g. PRBS13Q).  A waveform without an open eye gives
    ``tx_eye_closed = True`` and None for the eye metrics (the error text in ``tx_error``).

    ``tdecq_method`` (an :class:`optics.phy.method.TdecqMethod`, e.g. a PHY's
    ``tdecq_method``) measures TDECQ with that method (reference receiver, FFE taps and
    precursors, target SER, windows: :meth:`~optics.phy.method.TdecqMethod.tdecq_options`) and
    adds ``tdecq_method`` (its :meth:`~optics.phy.method.TdecqMethod.to_dict`), as
    ``optics analyze --phy`` does; None (default): the clause 121.8.5 defaults of
    :func:`optics.tdecq.tdecq`, results unchanged.

    ``compliance`` (a :class:`models.compliance.ComplianceChannel`, e.g. a PHY's
    :func:`models.compliance.compliance_channel`): ``tdecq_db`` (and ``ceq_db`` and the taps)
    is measured after that compliance fibre (:func:`models.compliance.through_compliance_fibre`),
    as 802.3 measures TDECQ, and ``tecq_db`` on the back-to-back record (TECQ,
    :func:`optics.tdecq.variants.tecq`, the same method); ``tdecq_dispersion_ps_per_nm`` says
    through what.  None (default): no compliance channel, ``tdecq_db`` is measured on the
    back-to-back record (what a TECQ is; no ``tecq_db`` key).
    """
    from optics.levels import measure_levels
    from optics.tdecq import tdecq
    from optics.timing import recover_timing

    try:
        timing = recover_timing(tx_wf)
        lv = measure_levels(tx_wf, timing)
    except InvalidWaveform as exc:  # includes NoEyeFound
        return {"tx_eye_closed": True, "tx_error": str(exc), "tdecq_db": None, "oma_outer_dbm": None,
                "extinction_ratio_db": None, "average_power_dbm": w_to_dbm(float(np.mean(tx_wf.samples)))}
    out: dict[str, Any] = {
        "tx_eye_closed": False,
        "average_power_w": float(lv.average),
        "average_power_dbm": w_to_dbm(float(lv.average)),
        "oma_outer_w": lv.oma_outer,
        "oma_outer_dbm": w_to_dbm(lv.oma_outer) if lv.oma_outer > 0 else None,
        "extinction_ratio_db": lv.extinction_ratio_db if lv.p0 > 0 else None,
        "rlm": float(lv.rlm),
        "levels_w": [float(x) for x in lv.levels],
    }
    out["tdecq_db"] = out["ceq_db"] = out["transition_time_s"] = None
    if compute_tdecq:
        from optics.transition import transition_time

        try:
            out["transition_time_s"] = transition_time(tx_wf).transition_time_s
        except InvalidWaveform as exc:
            out["tx_error"] = str(exc)
        options = {} if tdecq_method is None else tdecq_method.tdecq_options()
        try:
            if compliance is not None:
                from models.compliance import through_compliance_fibre
                from optics.tdecq.variants import tecq

                out["tecq_db"] = None
                out["tdecq_dispersion_ps_per_nm"] = float(compliance.dispersion_ps_per_nm)
                out["tecq_db"] = float(tecq(tx_wf, timing=timing, **options).tdecq_db)
                res = tdecq(through_compliance_fibre(tx_wf, compliance), **options)
            else:
                res = tdecq(tx_wf, timing=timing, **options)
        except InvalidWaveform as exc:
            out.update(tdecq_db=None, ceq_db=None, tx_error=str(exc))
        else:
            out["tdecq_db"] = float(res.tdecq_db)
            out["ceq_db"] = float(res.ceq_db)
            out["tdecq_taps"] = [float(c) for c in res.taps]
            out["tdecq_n_precursors"] = int(res.n_precursors)
        if tdecq_method is not None:
            out["tdecq_method"] = tdecq_method.to_dict()
    return out


#: Keys of :func:`tx_metrics` that scale with the optical power (W) or shift with it (dBm).
_TX_KEYS_W = ("average_power_w", "oma_outer_w")
_TX_KEYS_DBM = ("average_power_dbm", "oma_outer_dbm")
_TX_KEYS_SAME = ("tx_eye_closed", "extinction_ratio_db", "rlm", "tdecq_db", "ceq_db", "transition_time_s")
#: Keys of :func:`tx_metrics` given only with a TDECQ (or a PHY method), unchanged by scaling:
#: the FFE that minimises TDECQ of ``k x`` is that of ``x`` (TDECQ is scale-free).
_TX_KEYS_OPTIONAL = ("tdecq_taps", "tdecq_n_precursors", "tdecq_method", "tecq_db", "tdecq_dispersion_ps_per_nm")


def scale_tx_metrics(metrics: Mapping[str, Any], k: float) -> dict[str, Any]:
    """:func:`tx_metrics` of a Tx waveform scaled by ``k`` > 0, from those of the unscaled one.

    Powers, OMA and levels scale by ``k`` (dBm values shift by ``10·log10 k``); the extinction
    ratio, RLM, TDECQ and Ceq are ratios of optical powers and do not change, nor does the
    transition time (between fixed fractions of the swing) (TDECQ: OMA over
    the noise the equalised eye tolerates, both proportional to ``k``; checked against a full
    measurement in tests/models/test_link.py).  Only open eyes with a TDECQ (or none asked
    for) are accepted.

    Raises
    ------
    InvalidParameter
        ``k`` not positive, or reference metrics of a closed eye / a failed TDECQ.
    """
    k = validate.positive("k", k)
    if metrics.get("tx_eye_closed", True) or "tx_error" in metrics:
        raise InvalidParameter("scale_tx_metrics needs the metrics of an open eye with no tx_error")
    out = {key: metrics[key] for key in _TX_KEYS_SAME}
    out.update({key: metrics[key] for key in _TX_KEYS_OPTIONAL if key in metrics})
    for key in _TX_KEYS_W:
        out[key] = metrics[key] * k
    db = 10.0 * math.log10(k)
    for key in _TX_KEYS_DBM:
        out[key] = None if metrics[key] is None else metrics[key] + db
    out["levels_w"] = [x * k for x in metrics["levels_w"]]
    return out


def rx_metrics(rx_wf: Waveform, *, count_errors: bool = True) -> dict[str, Any]:
    """Receiver metrics of the electrical waveform, measured by :mod:`optics.ber`.

    ``ber_estimate`` (statistical, :func:`optics.ber.estimate_ber`) and, if
    ``count_errors``, ``ber_counted``, ``bit_errors``, ``n_bits`` (:func:`optics.ber.count_errors`).
    A closed eye gives ``ber_estimate = None`` and ``rx_eye_closed = True``.
    """
    from optics import ber
    from optics.levels import measure_levels
    from optics.timing import recover_timing

    try:
        timing = recover_timing(rx_wf)
        lv = measure_levels(rx_wf, timing)
    except InvalidWaveform:  # includes NoEyeFound
        return {"ber_estimate": None, "ber_counted": None, "rx_eye_closed": True}
    out: dict[str, Any] = {"ber_estimate": float(ber.estimate_ber(rx_wf, timing, levels=lv).ber), "rx_eye_closed": False}
    if count_errors:
        c = ber.count_errors(rx_wf, timing, levels=lv)
        out.update(ber_counted=c.ber, bit_errors=c.bit_errors, n_bits=c.n_bits)
    return out


def module_power_at(
    module: LinkModule, chip_temperature_c: float, heater_power_w_per_lane: float = 0.0, *,
    case_temperature_c: float | None = None,
) -> Any:
    """Module power (:func:`models.power.module_power_at_case`) with the lasers, heaters and
    electronics at temperature.

    The laser block uses the first lane's laser model at ``chip_temperature_c``: its optical
    output and its electrical power ``I(T)·V_f + I(T)²R_s`` (passed as an effective forward
    voltage), ``I(T)`` the bias it takes there (:meth:`models.laser.DfbLaser.bias_current_at`:
    under APC it rises with temperature); lasers are shared as in the transmitter.  The DSP,
    driver and TIA sit at the junction temperature solved self-consistently from the case
    temperature (default the case temperature at which the die sits at ``chip_temperature_c``,
    :func:`models.chip_temperature.case_temperature_c`), the parameter set's thermal
    resistance and the power the module dissipates (:func:`models.power.solve_self_heating`).
    A laser held at its own temperature (``held_temperature_c``) sits on a TEC holding that
    set point against the case temperature (:func:`models.power.tec_hold_power_w`).  Returns
    None if the laser gives no light.
    """
    params = module.power_params
    if isinstance(params, str):
        params = power_model.preset_params(params)
    tx = module.lanes[0].transmitter
    laser = tx.laser
    p_opt = laser.output_power_w(chip_temperature_c)
    if p_opt <= 0.0:
        return None
    lp = dataclasses.replace(params.laser, lanes_per_laser=tx.lasers_shared_by)
    params = dataclasses.replace(params, laser=lp)
    if laser.held_temperature_c is not None:
        params = dataclasses.replace(params, tec=dataclasses.replace(
            params.tec, cooled=True, set_point_c=laser.held_temperature_c))
    i = laser.bias_current_at(chip_temperature_c)
    v_eff = laser.electrical_power_w(chip_temperature_c) / i
    if case_temperature_c is None:
        from models.chip_temperature import case_temperature_c as case_of_chip

        case_temperature_c = case_of_chip(module, chip_temperature_c)
    t_case = case_temperature_c
    return power_model.module_power_at_case(
        params,
        case_temperature_c=t_case,
        n_lanes=module.n_lanes,
        lane_rate_bps=module.payload_rate_bps / module.n_lanes,
        heater_power_w_per_lane=heater_power_w_per_lane,
        laser_optical_power_w=p_opt,
        laser_bias_current_a=i,
        laser_forward_voltage_v=v_eff,
    )


def laser_state(lane: Lane, chip_temperature_c: float) -> dict[str, Any]:
    """The lane laser's drive at ``chip_temperature_c`` (°C): ``laser_bias_a`` (A, the APC bias
    or the constant current, :meth:`models.laser.DfbLaser.bias_current_at`) and
    ``laser_apc_limited`` (the APC servo at its current limit: power below the set point)."""
    laser = lane.transmitter.laser
    return {"laser_bias_a": laser.bias_current_at(chip_temperature_c),
            "laser_apc_limited": laser.apc_limited(chip_temperature_c)}


def _tx_reference(res: LaneResult) -> tuple[dict[str, Any], float] | None:
    """Tx metrics of a lane result that :func:`scale_tx_metrics` can reuse, with their laser power."""
    m = res.metrics
    if m.get("link_failed", True) or m.get("tx_eye_closed", True) or "tx_error" in m:
        return None
    keys = _TX_KEYS_W + _TX_KEYS_DBM + _TX_KEYS_SAME + ("levels_w",)
    ref = {key: m[key] for key in keys}
    ref.update({key: m[key] for key in _TX_KEYS_OPTIONAL if key in m})
    return ref, float(m["laser_power_w"])


def _failed_metrics(lane: Lane, t_chip: float, message: str) -> dict[str, Any]:
    tx = lane.transmitter
    heater = None
    if isinstance(tx.modulator, MicroringModulator):
        heater = tx.modulator.lock(tx.laser.wavelength_at(t_chip), t_chip).heater_power_w
    return {
        "link_failed": True,
        "failure": message,
        "wavelength_m": tx.laser.wavelength_at(t_chip),
        "laser_power_w": tx.laser.output_power_w(t_chip),
        **laser_state(lane, t_chip),
        "heater_power_w": heater,
        "chip_temperature_c": t_chip,
        "tdecq_db": None,
        "oma_outer_dbm": None,
        "extinction_ratio_db": None,
        "average_power_dbm": None,
        "ber_estimate": None,
        "ber_counted": None,
    }
