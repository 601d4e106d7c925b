"""A bench transmitter backed by the link models: one lane of a module of a population.

:class:`ModelTransmitter` implements :class:`instruments.virtual.transmitter.Transmitter` with
lane ``lane`` of a :class:`models.population.PopulationModule` (or of a design's own module,
e.g. ``models.presets.preset("400GBASE-DR4")``): the waveform is
:func:`models.population.lane_tx_waveform` -- the same record yield prediction
(:mod:`optics.volume`) measures for that serial, lane and temperature; average power and outer
OMA are measured on it with :func:`optics.levels.measure_levels`; the wavelength is the laser's
``wavelength_at`` the chip temperature.  A bench TOML selects it with
``[virtual] model_preset = "400GBASE-DR4"`` (and ``model_lane``), or puts a population's
modules in the socket with ``[virtual] population = "800g-dr8"``.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from optics import validate
from optics.errors import InvalidParameter
from optics.waveform import Waveform


class ModelTransmitter:
    """One lane of a :mod:`models` module as the bench transmitter.

    Parameters
    ----------
    module : models.population.PopulationModule, models.link.LinkModule or str
        A population's module, a design's module, or a :func:`models.presets.preset` name.
    lane : int
        Lane index, 0-based.
    pattern_name : str
        Test pattern (default ``"PRBS13Q"``).
    samples_per_symbol : int
        Samples per symbol, 4..64 (default 16).
    seed : int
        Noise seed of a design's module (a population module has its own, from its serial).

    Raises
    ------
    InvalidParameter
        Unknown preset, lane out of range.
    """

    def __init__(self, module: Any, *, lane: int = 0, pattern_name: str = "PRBS13Q",
                 samples_per_symbol: int = 16, seed: int = 1) -> None:
        from models.population import PopulationModule
        from models.presets import preset

        if isinstance(module, str):
            module = preset(module)
        if not isinstance(module, PopulationModule):
            module = PopulationModule.of_design(module, seed=validate.integer("seed", seed, 0))
        self.population_module = module
        self.module = module.module
        self.lane_index = validate.integer("lane", lane, 0, self.module.n_lanes - 1)
        self.lane = self.module.lanes[self.lane_index]
        self.pattern_name = str(pattern_name)
        self.samples_per_symbol = validate.integer("samples_per_symbol", samples_per_symbol, 4, 64)
        self._cache: OrderedDict[float, tuple[Waveform, float, float]] = OrderedDict()

    @property
    def symbol_rate_baud(self) -> float:
        """Lane symbol rate, Bd."""
        return float(self.module.symbol_rate_baud)

    def chip_temperature_c(self, temperature_c: float) -> float:
        """The module's chip temperature (°C) at case temperature ``temperature_c`` (°C), solved
        from the heat on the die (:func:`models.thermal.chip_temperature_c`)."""
        from models.thermal import chip_temperature_c

        return chip_temperature_c(self.module, temperature_c)

    @property
    def chip_temperature_rise_k(self) -> float:
        """Chip temperature above the case at 25 °C case, K (it grows with the heat on the die:
        :meth:`chip_temperature_c`)."""
        return self.chip_temperature_c(25.0) - 25.0

    def _entry(self, temperature_c: float) -> tuple[Waveform, float, float]:
        from models.population import TEMPERATURE_STEP_K, lane_tx_waveform
        from optics.levels import measure_levels

        t = validate.in_range("temperature_c", temperature_c, -60.0, 150.0, unit="°C")
        t = round(t / TEMPERATURE_STEP_K) * TEMPERATURE_STEP_K
        hit = self._cache.get(t)
        if hit is not None:
            return hit
        wf = lane_tx_waveform(self.population_module, self.lane_index, t, pattern=self.pattern_name,
                              samples_per_symbol=self.samples_per_symbol)
        if wf is None:
            raise InvalidParameter(f"lane {self.lane.name!r} of {self.population_module.serial} gives no light "
                                   f"at {t:g} °C")
        wf = wf.with_meta(source="virtual-bench", preset=self.module.name)
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

    def bias_current_a(self, temperature_c: float) -> float:
        """Laser bias in A at case temperature ``temperature_c`` (°C): the bias the laser takes
        at the chip temperature (:meth:`models.laser.DfbLaser.bias_current_at`; under automatic
        power control it rises with temperature), what the module's CMIS Tx-bias monitor reports."""
        t = validate.in_range("temperature_c", temperature_c, -60.0, 150.0, unit="°C")
        return float(self.lane.transmitter.laser.bias_current_at(self.chip_temperature_c(t)))

    def wavelength_m(self, temperature_c: float) -> float:
        """Laser wavelength at the chip temperature, m."""
        t = validate.in_range("temperature_c", temperature_c, -60.0, 150.0, unit="°C")
        return float(self.lane.transmitter.laser.wavelength_at(self.chip_temperature_c(t)))


def population_lanes(module: Any, *, pattern_name: str = "PRBS13Q", samples_per_symbol: int = 16) -> list[Any]:
    """The :class:`~instruments.virtual.dut.DutLane` of every lane of a population module:
    its :class:`ModelTransmitter`, its model receiver (at the chip temperature), the laser bias
    it reports (``tx_bias_a``: the bias at 25 °C case within the lane's 131 mA field; the CMIS
    monitor reads :meth:`ModelTransmitter.bias_current_a` at the module temperature)."""
    from instruments.virtual.dut import DutLane

    out = []
    for k, lane in enumerate(module.module.lanes):
        tx = ModelTransmitter(module, lane=k, pattern_name=pattern_name, samples_per_symbol=samples_per_symbol)
        out.append(DutLane(tx, lane.receiver, tx_bias_a=min(0.131, tx.bias_current_a(25.0)),
                           chip_temperature_rise_k=tx.chip_temperature_rise_k))
    return out


__all__ = ["ModelTransmitter", "population_lanes"]
