"""Link simulation: transmitter → channel → receiver per lane, and modules of N lanes.

A :class:`Lane` is a :class:`Transmitter` (PAM4 driver, CW laser, modulator; optionally a
host channel from a Touchstone file and level pre-distortion, as in a linear pluggable (LPO)
lane), a :class:`~models.fiber.Channel` and a :class:`~models.receiver.Receiver`.  A
:class:`LinkModule` is N lanes on their wavelength grid plus a power model
(:mod:`models.power`).  :func:`simulate` runs every lane at one case temperature and
returns, per lane, the optical waveform at the Tx output and the electrical waveform after
the receiver, both :class:`optics.Waveform`, plus the metrics measured on them by
:mod:`optics` (never re-implemented here):

* Tx (optical, W): ``average_power``, ``oma_outer``, ``extinction_ratio_db``, ``rlm``,
  ``levels_w`` (:func:`optics.levels.measure_levels`) and ``tdecq_db``/``ceq_db``
  (:func:`optics.tdecq.tdecq`, reference receiver at baud/2);
* Rx (V): ``ber_counted`` (:func:`optics.ber.count_errors`) and ``ber_estimate``
  (:func:`optics.ber.estimate_ber`).

Temperatures: the case temperature ``T_case`` is an input; lasers, rings and photodiodes sit
at the die temperature ``T_chip = T_case + R_chip * P_die(T_chip)``, solved from the heat
dissipated on the die (:func:`models.thermal.chip_temperature_c`), or at
``T_case + chip_temperature_rise_k`` when the module fixes its rise (the reference notes
quote "the laser sees about −5…95 °C" for a 0–70 °C case).

All filtering is circular (FFT) on a record of whole pattern periods, so the pattern repeats
seamlessly; randomness comes from ``numpy.random.SeedSequence(seed)`` spawned per lane.

This module is the public facade; the code lives in

* :mod:`models.lane`: :class:`Transmitter`, :class:`Lane`, :class:`LinkModule`,
  :class:`SimulationSettings`, :class:`LaneResult`, :class:`ModuleResult` and dBm helpers;
* :mod:`models.lane_metrics`: :func:`tx_metrics`, :func:`scale_tx_metrics`,
  :func:`rx_metrics`, :func:`module_power_at`;
* :mod:`models.lane_simulation`: :func:`transmitter_transfer`, :func:`simulate_lane`,
  :func:`channel_and_receiver`;
* :mod:`models.simulation`: :func:`simulate`, :func:`simulate_many` and their worker pool
  (whose state, ``_POOL_STATE``, lives there only).
"""

from __future__ import annotations

# Names this module held before the split (imports included), kept for code that reaches
# them through ``models.link``.  Mutable state (_SINGLE_CACHE, _POOL_STATE) is the same
# object as in its home module; rebinding it here would have no effect there.
import dataclasses  # noqa: F401
import math  # noqa: F401
from collections.abc import Mapping, Sequence  # noqa: F401
from types import MappingProxyType  # noqa: F401
from typing import Any  # noqa: F401

import numpy as np  # noqa: F401
import scipy.fft as sfft  # noqa: F401

from models import power as power_model  # noqa: F401
from models import response  # noqa: F401
from models.electrical import Pam4Driver, TouchstoneChannel, gaussian_response, predistortion_levels  # noqa: F401
from models.fiber import Channel  # noqa: F401
from models.lane import (
    PREDISTORTION_MODES,
    Lane,
    LaneResult,
    LinkModule,
    Modulator,
    ModuleResult,
    SimulationSettings,
    Transmitter,
    check_modulator_sampling,
    dbm_to_w,
    host_channel_response,
    w_to_dbm,
)
from models.lane_metrics import (  # noqa: F401
    _TX_KEYS_DBM,
    _TX_KEYS_SAME,
    _TX_KEYS_W,
    _failed_metrics,
    _tx_reference,
    module_power_at,
    rx_metrics,
    scale_tx_metrics,
    tx_metrics,
)
from models.lane_simulation import (  # noqa: F401
    _SINGLE_CACHE,
    _as_single,
    _channel_and_receiver,
    _period_fast,
    channel_and_receiver,
    simulate_lane,
    transmitter_transfer,
)
from models.laser import DfbLaser, OpticalField  # noqa: F401
from models.modulator import IdealIntensityModulator, MachZehnderModulator, MicroringModulator  # noqa: F401
from models.receiver import Receiver, adapt_ffe_taps, apply_ffe_taps  # noqa: F401
from models.simulation import (  # noqa: F401
    _POOL_STATE,
    PARALLEL_MIN_SAMPLES,
    _lane_job,
    _pack_waveform,
    _prepare_transmitters,
    _resolve_workers,
    _unpack_waveform,
    _worker_job,
    simulate,
    simulate_many,
)
from optics import validate  # noqa: F401
from optics.errors import InvalidParameter, InvalidType, InvalidWaveform  # noqa: F401
from optics.waveform import Quantity, Waveform  # noqa: F401

__all__ = [
    "channel_and_receiver",
    "Lane",
    "LaneResult",
    "LinkModule",
    "ModuleResult",
    "OpticalField",
    "PREDISTORTION_MODES",
    "SimulationSettings",
    "Transmitter",
    "dbm_to_w",
    "host_channel_response",
    "module_power_at",
    "rx_metrics",
    "scale_tx_metrics",
    "simulate",
    "simulate_lane",
    "simulate_many",
    "tx_metrics",
    "w_to_dbm",
]
