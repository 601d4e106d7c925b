"""The bench's safe state at the end of every station run, confirmed instrument by instrument.

What each instrument is asked to do (:func:`make_safe`), in this order::

    bert            pattern-generator output off, global outputs off (its driver's shutdown)
    attenuator      every shutter closed (its driver's shutdown)
    other drivers   their own shutdown(), if they have one (supply and SMU outputs off;
                    nothing to do on a scope or a power meter)
    thermal         set point to the bench's ambient, air flow off -- only if the run drove it
    lane switch     its shutdown (forgets the position)

Every instrument gets its turn whatever the one before did.  One attempt is the whole list of
that instrument's commands followed by reading back each safe-state setting its driver can
read (:data:`SAFE_READBACK`: ``output_enabled``, ``global_outputs_enabled``, ``shutter_open``,
``flow_on``, on the instrument and on each of its ``CHANNELS``).  An attempt that fails with an
instrument fault (``ConnectionLost``, ``InstrumentTimeout``, ``GarbledReply``, a SCPI error, an
``OSError``) or reads back a setting that is not safe is repeated, after a short pause
(:data:`RETRY_PAUSES_S`) and, when the transport failed, a fresh session
(:meth:`~optics.station.bench_adapter.StationBench.reconnect`: same instrument, identity
checked), up to :data:`ATTEMPTS` attempts in all.  Every command of the safe state is
idempotent, so repeating one whose reply was lost is harmless.

An instrument is *confirmed* safe when an attempt completed and everything read back was in
its safe value; a setting the driver cannot read (the ThermoStream's set point) counts as
done when its command and the error check after it completed.  An instrument that is not
confirmed after the last attempt -- or whose fault is no instrument fault (a driver lacking
a method), which is not repeated -- is reported with what was not confirmed and why; the
runner then ends the run ERROR with a record naming it (:mod:`optics.station.runner`).

A ``KeyboardInterrupt`` or ``SystemExit`` (a second Ctrl-C, SIGTERM) arriving during the safe
state is held back, counted as a failed attempt of the instrument it interrupted, and
returned so that the caller can close the run first and re-raise it after.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from typing import Any

from instruments.scpi.properties import ScpiProperty
from optics.errors import ConnectionLost, GarbledReply, InstrumentError, InstrumentTimeout

#: Attempts per instrument (the first one and the retries after it).
ATTEMPTS = 3
#: Pause before the 2nd, 3rd ... attempt, s.
RETRY_PAUSES_S = (0.1, 0.4)
#: Safe-state settings confirmed by reading them back, with their safe value.
SAFE_READBACK: Mapping[str, bool] = {"output_enabled": False, "global_outputs_enabled": False,
                                     "shutter_open": False, "flow_on": False}
#: Faults after which the session is replaced before the next attempt.
TRANSPORT_FAULTS: tuple[type[BaseException], ...] = (ConnectionLost, InstrumentTimeout, GarbledReply, OSError)
#: Instruments made safe first (light and drive signals), in this order.
FIRST = ("bert", "attenuator")


@dataclasses.dataclass(frozen=True)
class InstrumentSafety:
    """How one instrument was made safe.

    Attributes
    ----------
    name : str
        Bench name (``bert``, ``attenuator``, ``thermal``, ``lane_switch`` ...).
    what : str
        What its safe state is (e.g. "set point 25 °C, air flow off").
    confirmed : bool
        An attempt completed and every setting read back was safe.
    attempts : int
        Attempts made (1 .. :data:`ATTEMPTS`).
    read_back : tuple of str
        The settings read back on the confirming (or last) attempt, e.g.
        ``"channel 1 shutter_open = False"``.
    history : tuple of str
        What went wrong on each failed attempt, in order.
    """

    name: str
    what: str
    confirmed: bool
    attempts: int
    read_back: tuple[str, ...] = ()
    history: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line: the instrument, its state and, if it took retries or failed, why."""
        tries = f"{self.attempts} attempt{'s' if self.attempts > 1 else ''}"
        if self.confirmed:
            return f"{self.name} ({self.what}) confirmed after {tries}; before: " + " | ".join(self.history)
        return (f"{self.name} NOT confirmed safe ({self.what}) after {tries}: " + " | ".join(self.history)
                + "; check it by hand")


@dataclasses.dataclass(frozen=True)
class SafeStateReport:
    """The outcome of :func:`make_safe`: one entry per instrument and a held-back interrupt."""

    instruments: tuple[InstrumentSafety, ...]
    interrupt: BaseException | None = None

    @property
    def unconfirmed(self) -> tuple[InstrumentSafety, ...]:
        """The instruments that could not be confirmed safe."""
        return tuple(i for i in self.instruments if not i.confirmed)

    @property
    def retried(self) -> tuple[InstrumentSafety, ...]:
        """Instruments confirmed safe, but only after a failed attempt."""
        return tuple(i for i in self.instruments if i.confirmed and i.attempts > 1)


@dataclasses.dataclass(frozen=True)
class _Action:
    name: str
    what: str
    steps: tuple[Callable[[Any], None], ...]


def _actions(bench: Any, *, ambient_c: float, thermal_touched: bool) -> list[_Action]:
    names = [n for n in FIRST if n in bench.instruments]
    names += [n for n in bench.instruments if n not in FIRST and n != "thermal"]
    out = []
    for name in names:
        if name == "bert":
            out.append(_Action(name, "pattern-generator output and global outputs off",
                               (lambda b: setattr(b, "output_enabled", False), lambda b: b.shutdown())))
        elif name == "attenuator":
            out.append(_Action(name, "shutters closed", (lambda a: a.shutdown(),)))
        elif callable(getattr(bench.instruments[name], "shutdown", None)):
            out.append(_Action(name, "its driver's shutdown", (lambda i: i.shutdown(),)))
    if "thermal" in bench.instruments and thermal_touched:
        out.append(_Action("thermal", f"set point to ambient, {ambient_c:g} °C; air flow off",
                           (lambda t: t.set_temperature(ambient_c), lambda t: t.shutdown())))
    if bench.lane_switch is not None:
        out.append(_Action("lane_switch", "released", (lambda s: s.shutdown(),)))
    return out


def _driver(bench: Any, name: str) -> Any:
    return bench.lane_switch if name == "lane_switch" else bench.instruments[name]


def _readable(owner: type, attr: str) -> bool:
    """Whether ``owner`` defines ``attr`` as a property that can be read (no I/O to find out)."""
    descriptor = getattr(owner, attr, None)
    if isinstance(descriptor, ScpiProperty):
        return descriptor.get_cmd is not None
    return isinstance(descriptor, property) and descriptor.fget is not None


def read_back(driver: Any) -> tuple[list[str], list[str]]:
    """Read every safe-state setting ``driver`` can read (:data:`SAFE_READBACK`).

    Parameters
    ----------
    driver : object
        An instrument driver; its ``CHANNELS`` (with ``channel(n)``), if it has them, are read too.

    Returns
    -------
    safe, unsafe : list of str
        ``"<where> <setting> = <value>"`` for each setting read, split by whether it holds its
        safe value.
    """
    targets: list[tuple[str, Any]] = [("", driver)]
    channels = getattr(type(driver), "CHANNELS", None)
    if channels and callable(getattr(driver, "channel", None)):
        targets += [(f"channel {n} ", driver.channel(n)) for n in channels]
    safe: list[str] = []
    unsafe: list[str] = []
    for where, obj in targets:
        for attr, value in SAFE_READBACK.items():
            if _readable(type(obj), attr):
                got = getattr(obj, attr)
                (safe if got == value else unsafe).append(f"{where}{attr} = {got}")
    return safe, unsafe


def _run_steps(driver: Any, steps: tuple[Callable[[Any], None], ...]) -> None:
    """Every step, even after one failed; then the first failure is raised."""
    first: BaseException | None = None
    for step in steps:
        try:
            step(driver)
        except BaseException as exc:  # keep going: the next command may still make it safer
            if first is None:
                first = exc
    if first is not None:
        raise first


def make_safe(bench: Any, *, ambient_c: float, thermal_touched: bool,
              sleep: Callable[[float], None] = time.sleep) -> SafeStateReport:
    """Bring every instrument of ``bench`` to its safe state and confirm it (see the module docstring).

    Parameters
    ----------
    bench : StationBench
        The run's bench (:class:`~optics.station.bench_adapter.StationBench`).
    ambient_c : float
        Where the thermal head is sent, °C.
    thermal_touched : bool
        Whether the run drove the thermal forcer (only then is it sent to ambient and its air
        flow switched off).
    sleep : callable
        ``sleep(s)`` between attempts (tests pass a recorder).

    Returns
    -------
    SafeStateReport
        Per instrument: confirmed or not, attempts, what was read back, what went wrong; and
        the first ``KeyboardInterrupt`` / ``SystemExit`` received (not raised).
    """
    results = []
    interrupt: BaseException | None = None
    for action in _actions(bench, ambient_c=ambient_c, thermal_touched=thermal_touched):
        history: list[str] = []
        safe: list[str] = []
        confirmed = False
        fresh_session = False
        attempt = 0
        while attempt < ATTEMPTS:
            attempt += 1
            phase = f"attempt {attempt}"
            try:
                if attempt > 1:
                    sleep(RETRY_PAUSES_S[min(attempt - 2, len(RETRY_PAUSES_S) - 1)])
                if fresh_session:
                    phase = f"attempt {attempt}, reconnecting"
                    bench.reconnect(action.name)
                    phase = f"attempt {attempt}"
                driver = _driver(bench, action.name)
                _run_steps(driver, action.steps)
                safe, unsafe = read_back(driver)
            except BaseException as exc:  # every instrument gets its chance, interrupts included
                history.append(f"{phase}: {type(exc).__name__}: {exc}")
                if not isinstance(exc, Exception) and interrupt is None:
                    interrupt = exc
                if isinstance(exc, Exception) and not isinstance(exc, (InstrumentError, OSError)):
                    break  # no instrument fault (a driver lacking a method): repeating cannot help
                # a lost or garbled exchange, or one cut short by an interrupt: a new session
                fresh_session = not isinstance(exc, Exception) or isinstance(exc, TRANSPORT_FAULTS)
                continue
            fresh_session = False
            if not unsafe:
                confirmed = True
                break
            history.append(f"{phase}: read back {', '.join(unsafe)}")
        results.append(InstrumentSafety(name=action.name, what=action.what, confirmed=confirmed,
                                        attempts=attempt, read_back=tuple(safe), history=tuple(history)))
    return SafeStateReport(instruments=tuple(results), interrupt=interrupt)


__all__ = ["ATTEMPTS", "FIRST", "InstrumentSafety", "RETRY_PAUSES_S", "SAFE_READBACK", "SafeStateReport",
           "TRANSPORT_FAULTS", "make_safe", "read_back"]
