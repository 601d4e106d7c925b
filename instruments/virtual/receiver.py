"""The receiver of the virtual bench: the closed-form PAM4 BER (:func:`pam4_ber`) and what
reaches the receiver (:class:`ReceivedSignal`)."""

from __future__ import annotations

import dataclasses
import math

import scipy.special

from instruments.virtual.bench_params import w_to_dbm
from optics import validate


# --- receiver --------------------------------------------------------------------------------
def pam4_ber(oma_outer_w: float, *, responsivity_a_per_w: float, noise_current_a_rms: float) -> float:
    """Bit error ratio of a Gray-coded PAM4 receiver with Gaussian noise.

    Equally spaced levels with thresholds midway: each of the 3 eyes is ``R·OMA/3`` high,
    so the distance to a threshold is ``d = R·OMA/6``.  With ``M = 4`` levels,
    ``SER = 2 (M-1)/M · Q(d/σ) = 1.5 Q(d/σ)`` and, Gray-coded, ``BER = SER / log2 M``
    (one bit per symbol error).  ``Q(x) = erfc(x/√2)/2``.  (Proakis, *Digital
    Communications*, 5th ed., §4.3-2, PAM symbol error probability.)

    Parameters
    ----------
    oma_outer_w : float
        Received outer OMA, W (>= 0; 0 gives 0.375).
    responsivity_a_per_w, noise_current_a_rms : float
        Photodiode responsivity (A/W) and rms noise current (A).

    Returns
    -------
    float
        BER in [0, 0.375].

    Examples
    --------
    >>> round(pam4_ber(0.0, responsivity_a_per_w=0.8, noise_current_a_rms=3e-6), 3)
    0.375
    """
    oma = validate.non_negative("oma_outer_w", oma_outer_w, "W")
    r = validate.positive("responsivity_a_per_w", responsivity_a_per_w, "A/W")
    sigma = validate.positive("noise_current_a_rms", noise_current_a_rms, "A")
    q = r * oma / 6.0 / sigma
    ser = 1.5 * 0.5 * float(scipy.special.erfc(q / math.sqrt(2.0)))
    return ser / 2.0


@dataclasses.dataclass(frozen=True)
class ReceivedSignal:
    """What reaches the receiver (after the attenuator and the receive path)."""

    average_power_w: float
    oma_outer_w: float
    ber: float
    loss_of_signal: bool

    @property
    def average_power_dbm(self) -> float:
        """Average power in dBm."""
        return w_to_dbm(self.average_power_w)
