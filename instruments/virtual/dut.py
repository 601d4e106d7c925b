"""The device under test of the virtual bench: its lanes (:class:`DutLane`) and management
identity (:class:`DutIdentity`)."""

from __future__ import annotations

import dataclasses
from typing import Any

from instruments.virtual.bench_params import ReceiverParams
from instruments.virtual.transmitter import Transmitter
from optics import validate
from optics.errors import InvalidParameter, InvalidType


# --- the device under test -------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class DutLane:
    """One lane of a multi-lane device under test: its transmitter and its receiver.

    Parameters
    ----------
    transmitter : Transmitter
        What the scope, power meters and OSA see when this lane is routed to them.
    receiver : models.receiver.Receiver or ReceiverParams
        The lane's receiver (what the BERT's signal reaches when this lane is routed): a
        module's model receiver, or the bench's parameter set (:meth:`ReceiverParams.model`).
    tx_bias_a : float
        Laser bias current the module reports for this lane (CMIS monitor), A.
    chip_temperature_rise_k : float
        The receiver's chip temperature above the module (case) temperature, K (its dark current).
    """

    transmitter: Transmitter
    receiver: Any
    tx_bias_a: float = 40e-3
    chip_temperature_rise_k: float = 0.0

    def __post_init__(self) -> None:
        from models.receiver import Receiver

        if not isinstance(self.receiver, (ReceiverParams, Receiver)):
            raise InvalidType(f"receiver must be a models.receiver.Receiver or a ReceiverParams, "
                              f"got {type(self.receiver).__name__}")
        validate.in_range("chip_temperature_rise_k", self.chip_temperature_rise_k, 0.0, 60.0, unit="K")
        for name in ("waveform", "average_power_w", "oma_outer_w", "wavelength_m"):
            if not callable(getattr(self.transmitter, name, None)):
                raise InvalidType(f"transmitter {type(self.transmitter).__name__} has no {name}() (see Transmitter)")
        validate.in_range("tx_bias_a", self.tx_bias_a, 0.0, 0.131, unit="A")

    def model_receiver(self) -> Any:
        """The lane's receiver as a :class:`models.receiver.Receiver`."""
        return self.receiver.model() if isinstance(self.receiver, ReceiverParams) else self.receiver

    def chip_temperature_c(self, module_temperature_c: float) -> float:
        """The receiver chip's temperature (°C) at module (case) temperature ``module_temperature_c``:
        the model transmitter's chip temperature solved from the heat on the die when it has one
        (:meth:`~instruments.virtual.model_transmitter.ModelTransmitter.chip_temperature_c`), else
        the case temperature plus ``chip_temperature_rise_k``."""
        solved = getattr(self.transmitter, "chip_temperature_c", None)
        if callable(solved):
            return float(solved(module_temperature_c))
        return float(module_temperature_c) + self.chip_temperature_rise_k


@dataclasses.dataclass(frozen=True, kw_only=True)
class DutIdentity:
    """What a module reports about itself on its management interface (CMIS page 00h).

    ``vcc_v`` is the supply voltage its monitor reads, V.
    """

    serial: str = "VIRTUAL00001"
    vendor_name: str = "OPTICS-SIM"
    part_number: str = "VIRTUAL-DUT"
    revision: str = "A1"
    date_code: str = "261123  "
    vcc_v: float = 3.3

    def __post_init__(self) -> None:
        for name, length in (("serial", 16), ("vendor_name", 16), ("part_number", 16), ("revision", 2),
                             ("date_code", 8)):
            value = getattr(self, name)
            if not isinstance(value, str) or len(value) > length:
                raise InvalidParameter(f"{name} = {value!r} must be a string of at most {length} characters")
        validate.in_range("vcc_v", self.vcc_v, 0.0, 6.5, unit="V")


#: ``select_lane`` sides: both switches, only the transmit or only the receive direction.
LANE_SIDES = ("both", "tx", "rx")
