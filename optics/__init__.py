"""optics: the shared PAM4 analysis pipeline for simulated and measured optical links.

The central object is :class:`optics.Waveform`; models, instrument drivers and file readers
produce it and every metric in this package consumes it.
"""

from optics.errors import OpticsError
from optics.waveform import Quantity, Waveform

__version__ = "0.1.0"

__all__ = ["OpticsError", "Quantity", "Waveform", "__version__"]
