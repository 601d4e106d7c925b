"""Temperature drift of a link module and sweeps over the case-temperature classes.

What the case temperature ``T_case`` changes, with the model equations in the component
modules.  The photonic die sits at ``T_chip = T_case + R_chip * P_die(T_chip)``, solved from
the heat dissipated on it (:func:`chip_temperature_c`, implemented in
:mod:`models.chip_temperature`: lasers and MZM bias on a pluggable's die, ring heaters and the
stacked driver/TIA IC on a CPO engine's; ``R_chip`` 19 / 1.5 K/W, ASSUMPTIONS), unless the
module fixes ``chip_temperature_rise_k`` (then ``T_case + rise``):

* laser: threshold ``I_th(T) = I_th,ref·e^{ΔT/T0}``, slope ``η_ref·e^{−ΔT/T1}`` → output
  power; wavelength ``+dλ/dT`` (0.09 nm/K) → fibre dispersion at the new wavelength
  (:mod:`models.laser`);
* microring: resonance ``+0.07 nm/K``; the heater holds the lock while the needed
  red-shift ``λ_laser − detuning − λ_res(T)`` lies within ``[0, η_h·P_max]``; outside it the
  lock is lost and the lane fails (:meth:`models.modulator.MicroringModulator.lock`);
* photodiode dark current ``×k`` per 10 K (:mod:`models.receiver`);
* module power: laser output and ring-heater power feed :func:`models.power.module_power`;
  a laser held at its own temperature (the CPO external source) needs a TEC whose power
  grows with ``|T_case − T_held|`` (:func:`models.power.tec_hold_power_w`).

Case-temperature classes (QSFP-DD MSA via qats.com, ``silicon-photonics-parameters.md`` §6):
commercial 0-70 °C, extended −5-85 °C, industrial −40-85 °C.

Examples
--------
>>> from models.presets import preset
>>> from models.thermal import drift_table
>>> rows = [r for r in drift_table(preset("400GBASE-DR4"), [0.0, 70.0]) if r["lane"] == "lane 0"]
>>> dt_chip = rows[1]["chip_temperature_c"] - rows[0]["chip_temperature_c"]   # 70 K of case + more rise
>>> round(dt_chip, 2), round((rows[1]["wavelength_m"] - rows[0]["wavelength_m"]) / dt_chip * 1e9, 6)   # nm/K
(72.39, 0.09)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from models.chip_temperature import chip_temperature_c, heater_power_w_per_lane
from models.link import LinkModule, ModuleResult, SimulationSettings, module_power_at, simulate_many
from models.modulator import MicroringModulator
from optics import validate
from optics.errors import InvalidParameter

#: Case-temperature classes in °C (min, max).
TEMPERATURE_CLASSES: dict[str, tuple[float, float]] = {
    "commercial": (0.0, 70.0),
    "extended": (-5.0, 85.0),
    "industrial": (-40.0, 85.0),
}

#: Columns of a sweep row (per temperature and lane), in order.
SWEEP_COLUMNS: tuple[str, ...] = (
    "temperature_c", "lane", "link_failed", "chip_temperature_c", "wavelength_m", "laser_power_w",
    "laser_bias_a", "heater_power_w", "dark_current_a", "tdecq_db", "oma_outer_dbm", "extinction_ratio_db",
    "average_power_dbm", "receive_power_dbm", "ber_estimate", "ber_counted", "module_power_w",
    "energy_pj_per_bit", "failure",
)


def temperature_points(spec: str | tuple[float, float], n: int = 15) -> np.ndarray:
    """``n`` equally spaced case temperatures (°C) over a class name or a ``(min, max)`` pair."""
    if isinstance(spec, str):
        if spec not in TEMPERATURE_CLASSES:
            raise InvalidParameter(f"unknown temperature class {spec!r}; allowed: {', '.join(TEMPERATURE_CLASSES)}")
        lo, hi = TEMPERATURE_CLASSES[spec]
    else:
        lo, hi = (validate.real("temperature_min_c", spec[0]), validate.real("temperature_max_c", spec[1]))
        if hi < lo:
            raise InvalidParameter(f"temperature range ({lo}, {hi}) °C: max must not be below min")
    n = validate.integer("n", n, 1, 1000)
    return np.linspace(lo, hi, n)


def parse_range(text: str) -> np.ndarray:
    """Temperatures from ``"A:B:STEP"`` (°C, inclusive of B when it falls on the grid) or a class name."""
    if text in TEMPERATURE_CLASSES:
        return temperature_points(text, 15)
    parts = text.split(":")
    try:
        a, b, step = (float(p) for p in parts)
    except ValueError:
        raise InvalidParameter(
            f"temperature sweep {text!r} must be A:B:STEP in °C (e.g. 0:70:5) or one of {', '.join(TEMPERATURE_CLASSES)}"
        ) from None
    if step <= 0 or b < a or not all(math.isfinite(x) for x in (a, b, step)):
        raise InvalidParameter(f"temperature sweep {text!r}: need STEP > 0 and B >= A")
    n = int(math.floor((b - a) / step + 1e-9)) + 1
    if n > 1000:
        raise InvalidParameter(f"temperature sweep {text!r} has {n} points; at most 1000")
    return a + step * np.arange(n)


def static_module_power(module: LinkModule, case_temperature_c: float) -> Any:
    """Module power (:class:`models.power.PowerBreakdown`) at case temperature ``case_temperature_c``
    (°C) without a waveform simulation: :func:`models.link.module_power_at` with the lasers and
    heaters at the chip temperature (:func:`chip_temperature_c`, :func:`heater_power_w_per_lane`)
    and the electronics at their self-consistent junction temperature; the DC-DC losses are in
    its ``power_conversion`` block, so ``module_w`` is what the module draws from its supply.
    None when the lasers give no light.

    Examples
    --------
    >>> from models.presets import preset
    >>> m = preset("800GBASE-DR8")
    >>> static_module_power(m, 70.0).module_w > static_module_power(m, 0.0).module_w
    True
    """
    t_chip = chip_temperature_c(module, case_temperature_c)
    return module_power_at(module, t_chip, heater_power_w_per_lane(module, t_chip),
                           case_temperature_c=float(case_temperature_c))


def drift_table(module: LinkModule, temperatures_c: Sequence[float]) -> list[dict[str, Any]]:
    """Static drift per case temperature and lane (no waveform simulation, fast).

    Columns: ``temperature_c, lane, chip_temperature_c, wavelength_m, laser_power_w,
    laser_bias_a, threshold_current_a, heater_power_w, ring_locked, dark_current_a``
    (``laser_bias_a``: the bias at the chip temperature, :meth:`models.laser.DfbLaser.bias_current_at`).
    """
    rows = []
    for t in temperatures_c:
        tc = chip_temperature_c(module, float(t))
        for lane in module.lanes:
            tx = lane.transmitter
            lam = tx.laser.wavelength_at(tc)
            heater, locked = 0.0, True
            if isinstance(tx.modulator, MicroringModulator):
                lk = tx.modulator.lock(lam, tc)
                heater, locked = lk.heater_power_w, lk.locked
            rows.append({
                "temperature_c": float(t),
                "lane": lane.name,
                "chip_temperature_c": tc,
                "wavelength_m": lam,
                "laser_power_w": tx.laser.output_power_w(tc),
                "laser_bias_a": tx.laser.bias_current_at(tc),
                "threshold_current_a": tx.laser.threshold_current_at(tc),
                "heater_power_w": heater,
                "ring_locked": locked,
                "dark_current_a": lane.receiver.photodiode.dark_current_at(tc),
            })
    return rows


@dataclasses.dataclass(frozen=True, eq=False)
class TemperatureSweep:
    """Result of :func:`sweep_temperature`.

    Attributes
    ----------
    module_name : str
    results : tuple of ModuleResult
        One per temperature (waveforms only with ``keep_waveforms``).
    rows : tuple of dict
        One row per temperature and lane, keys :data:`SWEEP_COLUMNS`.
    """

    module_name: str
    results: tuple[ModuleResult, ...]
    rows: tuple[dict[str, Any], ...]

    @property
    def temperatures_c(self) -> np.ndarray:
        """Case temperatures in °C."""
        return np.array([r.temperature_c for r in self.results])

    def to_frame(self) -> Any:
        """The rows as a ``pandas.DataFrame`` (raises ImportError without pandas)."""
        import pandas as pd

        return pd.DataFrame(list(self.rows), columns=list(SWEEP_COLUMNS))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``name``, ``sweep`` (one :meth:`ModuleResult.to_dict` per temperature)."""
        return {"name": self.module_name, "sweep": [r.to_dict() for r in self.results]}

    def plot(self, axes: Any = None) -> Any:
        """Plot TDECQ, OMA, BER, laser power and heater/module power versus case temperature.

        Parameters
        ----------
        axes : sequence of 4 matplotlib Axes, optional
            Created (2×2 figure) when omitted.

        Returns
        -------
        matplotlib.figure.Figure
        """
        import matplotlib.pyplot as plt

        if axes is None:
            fig, axes = plt.subplots(2, 2, figsize=(10, 7), sharex=True)
            axes = axes.ravel()
        else:
            fig = axes[0].figure
        lanes = sorted({r["lane"] for r in self.rows}, key=lambda s: [r["lane"] for r in self.rows].index(s))
        series = (("tdecq_db", "TDECQ (dB)", False), ("oma_outer_dbm", "OMA outer (dBm)", False),
                  ("ber_estimate", "BER estimate", True))
        for ax, (key, label, logy) in zip(axes[:3], series):
            for lane in lanes:
                pts = [(r["temperature_c"], r[key]) for r in self.rows if r["lane"] == lane and r[key] is not None]
                if pts and (not logy or any(v > 0 for _, v in pts)):
                    x, y = zip(*[(t, v) for t, v in pts if (v > 0 or not logy)])
                    ax.plot(x, y, marker="o", ms=3, label=lane)
            ax.set_ylabel(label)
            if logy:
                ax.set_yscale("log")
            failed = sorted({r["temperature_c"] for r in self.rows if r["link_failed"]})
            for t in failed:
                ax.axvline(t, color="r", alpha=0.3)
        if axes[0].get_legend_handles_labels()[0]:
            axes[0].legend(fontsize="x-small")
        t = self.temperatures_c
        axes[3].plot(t, [r.module_power_w if r.module_power_w is not None else np.nan for r in self.results],
                     marker="o", label="module power (W)")
        heater = []
        for tt in t:
            vals = [r2["heater_power_w"] for r2 in self.rows
                    if r2["temperature_c"] == tt and not r2["link_failed"] and r2["heater_power_w"] is not None]
            heater.append(float(np.mean(vals)) * 1e3 if vals else np.nan)
        axes[3].plot(t, heater, marker="s", label="ring heater per lane (mW)")
        axes[3].set_ylabel("power")
        axes[3].legend(fontsize="x-small")
        for ax in axes[2:]:
            ax.set_xlabel("case temperature (°C)")
        fig.suptitle(f"{self.module_name}: temperature sweep (red: link failed)")
        fig.tight_layout()
        return fig


def sweep_temperature(
    module: LinkModule,
    temperatures_c: Sequence[float] | str,
    settings: SimulationSettings | None = None,
    *,
    seed: int | None = 0,
    metrics: bool = True,
    keep_waveforms: bool = False,
    workers: int | None = None,
    reuse_tx_metrics: bool = True,
) -> TemperatureSweep:
    """Simulate ``module`` at each case temperature and tabulate the metrics.

    Parameters
    ----------
    module : LinkModule
    temperatures_c : sequence of float or str
        Case temperatures in °C, or a class name (``"commercial"``, ``"extended"``,
        ``"industrial"``: 15 points).
    settings : SimulationSettings, optional
        Everything but the temperature (which is replaced).
    seed : int or None
        Same seed at every temperature, so the differences come from temperature.
    metrics : bool
        Measure the waveforms (default True).
    keep_waveforms : bool
        Keep every lane's waveforms in ``results`` (default False: 32 MB per lane at
        SSPRQ × 32 samples/UI).
    workers : int or None
        Worker processes for the (temperature, lane) simulations, see
        :func:`models.link.simulate_many` (default None: one per CPU core for long records).
        The results do not depend on it.
    reuse_tx_metrics : bool
        Measure each lane's Tx metrics (TDECQ...) at the first temperature only and scale
        them by the laser-power ratio elsewhere (exact with a fixed ``seed``: the Tx
        waveform is the same up to that factor; see :func:`models.link.simulate_many`).

    Returns
    -------
    TemperatureSweep
        A lane that fails (ring lock lost, laser below threshold) is a row with
        ``link_failed = True`` and the reason in ``failure``.
    """
    temps = temperature_points(temperatures_c) if isinstance(temperatures_c, str) else [
        validate.in_range("temperature_c", t, -60.0, 150.0, unit="°C") for t in temperatures_c
    ]
    if len(temps) == 0:
        raise InvalidParameter("temperatures_c is empty")
    settings = SimulationSettings() if settings is None else settings
    all_settings = [dataclasses.replace(settings, temperature_c=float(t)) for t in temps]
    results = simulate_many(module, all_settings, seed=seed, metrics=metrics, keep_waveforms=keep_waveforms,
                            workers=workers, reuse_tx_metrics=reuse_tx_metrics)
    rows: list[dict[str, Any]] = []
    for t, res in zip(temps, results):
        for lane, lr in zip(module.lanes, res.lanes):
            m = lr.metrics
            row = {c: m.get(c) for c in SWEEP_COLUMNS}
            row.update(
                temperature_c=float(t),
                lane=lr.name,
                laser_bias_a=lane.transmitter.laser.bias_current_at(chip_temperature_c(module, float(t))),
                dark_current_a=lane.receiver.photodiode.dark_current_at(chip_temperature_c(module, float(t))),
                module_power_w=res.module_power_w,
                energy_pj_per_bit=res.energy_pj_per_bit,
                failure=m.get("failure"),
                link_failed=bool(m.get("link_failed", False)),
            )
            rows.append(row)
    return TemperatureSweep(module.name, tuple(results), tuple(rows))


__all__ = [
    "chip_temperature_c",
    "heater_power_w_per_lane",
    "static_module_power",
    "SWEEP_COLUMNS",
    "TEMPERATURE_CLASSES",
    "TemperatureSweep",
    "drift_table",
    "parse_range",
    "sweep_temperature",
    "temperature_points",
]
