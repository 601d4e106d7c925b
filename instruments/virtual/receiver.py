"""What reaches the receiver of the virtual bench (:class:`ReceivedSignal`).

The BER is the models' (:func:`models.receiver.pam4_ber`) for the routed lane's receiver: a
population module's own model receiver, or the :class:`~instruments.virtual.bench_params.ReceiverParams`
receiver (:meth:`~instruments.virtual.bench_params.ReceiverParams.model`)."""

from __future__ import annotations

import dataclasses
from instruments.virtual.bench_params import w_to_dbm


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
