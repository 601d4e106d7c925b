"""The transmitter behind the virtual bench: the :class:`Transmitter` interface
:class:`~instruments.virtual.physics.BenchLink` uses.  Its implementations are models: a lane of
a population module (:class:`~instruments.virtual.model_transmitter.ModelTransmitter`, through
:mod:`models.population`) or the reference transmitter of :mod:`models.reference_transmitter`
(``SimpleTransmitter``, its former name here)."""

from __future__ import annotations

from typing import Protocol


from models.reference_transmitter import ReferenceTransmitter
from optics.waveform import Waveform


# --- transmitter --------------------------------------------------------------------------
class Transmitter(Protocol):
    """What :class:`BenchLink` needs from a transmitter model (temperatures in °C).

    Implementations: :class:`models.reference_transmitter.ReferenceTransmitter`,
    :class:`instruments.virtual.model_transmitter.ModelTransmitter` (:mod:`models.population`).
    """

    @property
    def symbol_rate_baud(self) -> float:
        """Symbol rate, Bd."""

    def waveform(self, temperature_c: float) -> Waveform:
        """Optical power waveform (W), one or more whole periods of a known pattern."""

    def average_power_w(self, temperature_c: float) -> float:
        """Average launched power, W."""

    def oma_outer_w(self, temperature_c: float) -> float:
        """Outer OMA ``P3 - P0``, W."""

    def wavelength_m(self, temperature_c: float) -> float:
        """Lasing wavelength, m."""


#: The bench's reference transmitter is the models' (:class:`models.reference_transmitter.ReferenceTransmitter`);
#: the old name is kept for bench scripts.
SimpleTransmitter = ReferenceTransmitter
