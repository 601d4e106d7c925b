"""A bench transmitter backed by the link models of :mod:`models.link` instead of the stand-in.

:class:`ModelTransmitter` implements :class:`instruments.virtual.physics.Transmitter` with one
lane of a :class:`models.link.LinkModule` (e.g. ``models.presets.preset("400GBASE-DR4")``):
the waveform is the lane's Tx output from :func:`models.link.simulate_lane` at chip
temperature ``T_case + module.chip_temperature_rise_k``; average power and outer OMA are
measured on it with :func:`optics.levels.measure_levels`; the wavelength is the laser's
``wavelength_at`` the chip temperature.  Select it in a bench TOML with
``[virtual] model_preset = "400GBASE-DR4"`` (and ``model_lane``).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np

from optics import validate
from optics.errors import InvalidParameter
from optics.waveform import Waveform

#: Temperature bin of the waveform cache, K.
TEMPERATURE_STEP_K = 0.25


class ModelTransmitter:
    """One lane of a :mod:`models` link module as the bench transmitter.

    Parameters
    ----------
    module : models.link.LinkModule or str
        The module, or a :func:`models.presets.preset` name.
    lane : int
        Lane index, 0-based.
    pattern_name : str
        Test pattern (default ``"PRBS13Q"``).
    samples_per_symbol : int
        Samples per symbol, 4..64 (default 16).
    seed : int
        Seed; the generator of a temperature bin is ``default_rng([seed, round(4 T) + 10000])``.

    Raises
    ------
    InvalidParameter
        Unknown preset, lane out of range.
    """

    def __init__(self, module: Any, *, lane: int = 0, pattern_name: str = "PRBS13Q",
                 samples_per_symbol: int = 16, seed: int = 1) -> None:
        from models.link import SimulationSettings
        from models.presets import preset

        self.module = preset(module) if isinstance(module, str) else module
        self.lane_index = validate.integer("lane", lane, 0, self.module.n_lanes - 1)
        self.lane = self.module.lanes[self.lane_index]
        self.seed = validate.integer("seed", seed, 0)
        self._settings = SimulationSettings(pattern=pattern_name, samples_per_symbol=samples_per_symbol,
                                            compute_tdecq=False, count_errors=False)
        self._symbols = self._settings.symbols()
        self._cache: OrderedDict[float, tuple[Waveform, float, float]] = OrderedDict()

    @property
    def symbol_rate_baud(self) -> float:
        """Lane symbol rate, Bd."""
        return float(self.module.symbol_rate_baud)

    def _chip_c(self, temperature_c: float) -> float:
        t = validate.in_range("temperature_c", temperature_c, -60.0, 150.0, unit="°C")
        return t + self.module.chip_temperature_rise_k

    def _entry(self, temperature_c: float) -> tuple[Waveform, float, float]:
        import dataclasses

        from models.link import simulate_lane
        from optics.levels import measure_levels

        t = round(temperature_c / TEMPERATURE_STEP_K) * TEMPERATURE_STEP_K
        hit = self._cache.get(t)
        if hit is not None:
            return hit
        seed = [self.seed, int(round(4.0 * t)) + 10000]
        settings = dataclasses.replace(self._settings, temperature_c=t)
        result = simulate_lane(self.lane, symbol_rate_baud=self.symbol_rate_baud, settings=settings,
                               rng=np.random.default_rng(seed), chip_temperature_c=self._chip_c(t),
                               symbols=self._symbols, metrics=False)
        if result.tx_waveform is None:
            raise InvalidParameter(f"lane {self.lane.name!r} gives no light at {t:g} °C")
        wf = result.tx_waveform.with_meta(source="virtual-bench", model="models.link", seed=seed,
                                          temperature_c=float(t), preset=self.module.name)
        levels = measure_levels(wf)
        entry = (wf, float(levels.average), float(levels.oma_outer))
        self._cache[t] = entry
        while len(self._cache) > 32:
            self._cache.popitem(last=False)
        return entry

    def waveform(self, temperature_c: float) -> Waveform:
        """The lane's Tx output (W), one pattern period, at case temperature ``temperature_c``."""
        return self._entry(temperature_c)[0]

    def average_power_w(self, temperature_c: float) -> float:
        """Average launched power, W (measured on the waveform)."""
        return self._entry(temperature_c)[1]

    def oma_outer_w(self, temperature_c: float) -> float:
        """Outer OMA, W (measured on the waveform)."""
        return self._entry(temperature_c)[2]

    def wavelength_m(self, temperature_c: float) -> float:
        """Laser wavelength at the chip temperature, m."""
        return float(self.lane.transmitter.laser.wavelength_at(self._chip_c(temperature_c)))


__all__ = ["ModelTransmitter", "TEMPERATURE_STEP_K"]
