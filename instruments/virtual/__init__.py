"""A virtual test bench: SCPI servers on 127.0.0.1 that behave like the real optical test gear.

Every virtual instrument speaks its vendor's real command set (short/long forms, unit
suffixes, error queue, binary blocks) over a raw TCP socket that pyvisa-py opens as
``TCPIP::127.0.0.1::<port>::SOCKET``, so the drivers in :mod:`instruments` are tested
unchanged.  All instruments of a bench share one physical link,
:class:`~instruments.virtual.physics.BenchLink`: the thermal forcer heats the module, the
attenuator sets what the power meter and the BERT receive, the scope sees the transmitter
waveform, and its metrics are computed by :mod:`optics` on the very samples it exports.
A multi-lane device under test (:meth:`BenchLink.insert_module`) is reached lane by lane
through a virtual 1xN optical switch (:class:`N7734A`), and its CMIS management interface
is a simulated I2C bus whose monitors follow the same physics (:class:`VirtualCmisBus`).

Modules: :mod:`~instruments.virtual.grammar` (SCPI parsing and formatting),
:mod:`~instruments.virtual.server` (engine, TCP server, fault injection),
:mod:`~instruments.virtual.physics` (the link) with its parts
:mod:`~instruments.virtual.bench_params` (parameter sets), :mod:`~instruments.virtual.transmitter`,
:mod:`~instruments.virtual.receiver` and :mod:`~instruments.virtual.dut`, and one module per
instrument.
:class:`instruments.bench.VirtualBench` starts a whole bench.
"""

from instruments.virtual.attenuator import N7764A
from instruments.virtual.bert import M8040A
from instruments.virtual.cmis_module import VirtualCmisBus
from instruments.virtual.flexdca import FlexDCA
from instruments.virtual.optical_switch import N7734A
from instruments.virtual.osa import AQ6370
from instruments.virtual.physics import BenchLink, BenchParams, DutIdentity, DutLane
from instruments.virtual.pm100d import PM100D
from instruments.virtual.power_meter import Keysight8163B, N7744A, N7745A
from instruments.virtual.server import FaultKind, ScpiServer, VirtualInstrument
from instruments.virtual.smu import Keithley2400
from instruments.virtual.supply import E36312A
from instruments.virtual.thermostream import ThermoStream

__all__ = [
    "AQ6370",
    "BenchLink",
    "BenchParams",
    "DutIdentity",
    "DutLane",
    "E36312A",
    "FaultKind",
    "FlexDCA",
    "Keithley2400",
    "Keysight8163B",
    "M8040A",
    "N7744A",
    "N7734A",
    "N7745A",
    "N7764A",
    "PM100D",
    "ScpiServer",
    "ThermoStream",
    "VirtualCmisBus",
    "VirtualInstrument",
]
