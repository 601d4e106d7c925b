"""Faults a virtual instrument commits on request, armed from Python or over SCPI.

Every virtual instrument holds one :class:`FaultPlan` (``instrument.faults``), shared by all
connections of its server, so a fault armed on one connection strikes the next one as well
(a ``drop`` can be watched from a fresh session).  The server (:mod:`instruments.virtual.server`)
applies the plan to each program message (one line) it serves; the instrument's command table
holds the SCPI interface, so a script can arm faults from outside the process:

``:VIRTual:FAULt <kind>,<count>[,<delay_s>]``
    Arm ``kind`` for the next ``count`` events (``INFinity``: until cleared).  ``delay_s``
    (s, unit suffixes such as ``250MS`` accepted) only for ``slow`` and ``timeout``.
``:VIRTual:FAULt?``
    The armed faults as a quoted string, ``"slow,2,0.25;drop,1"`` (``""`` for none): each
    entry holds the parameters that would arm what is left of it (counts not yet used).
``:VIRTual:FAULt:CLEar``
    Disarm every fault.

========  ==========================================================================
kind      what the next ``count`` events suffer
========  ==========================================================================
timeout   query replies are not sent (the client times out); with ``delay_s`` the
          connection also stalls that long first (what it is sent meanwhile waits)
slow      query replies are sent ``delay_s`` late (default :data:`DEFAULT_SLOW_DELAY_S`)
drop      program messages close their connection, unexecuted
garbage   query replies are replaced by :data:`GARBAGE_REPLY`
error     program messages queue ``-200,"Execution error;injected fault"`` after they run
invalid   numeric replies carry the instrument's invalid marker (``9.91E+37``, SCPI-99
          §7.2.1.5 "not a number") in place of every number; a numeric reply is one made
          of numbers only, not of integers alone, so states, counts, ``*OPC?`` and the
          error queue stay intact; binary blocks are left alone
========  ==========================================================================

The fault commands themselves are never struck by a fault nor use up a count, so
``:VIRT:FAUL:CLE`` always gets through.
"""

from __future__ import annotations

import dataclasses
import enum
import re
import threading

from instruments.virtual.grammar import INVALID_VALUE, Args, CommandError, parse_message, quoted
from optics import validate
from optics.errors import InvalidParameter

#: What a garbled reply looks like on the wire (printable, so it reaches the parser).
GARBAGE_REPLY = b"#?\x15GARBLED~~%%;;,,\x7f!"
#: Delay of a ``slow`` fault armed without ``delay_s``, s.
DEFAULT_SLOW_DELAY_S = 0.5
#: Largest ``delay_s`` accepted, s.
MAX_DELAY_S = 3600.0
#: Largest finite ``count`` accepted over SCPI.
MAX_COUNT = 1_000_000_000
#: The SCPI error an ``error`` fault queues by default (SCPI-99 Vol. 2 §21.8, SYSTem:ERRor).
DEFAULT_ERROR_CODE = -200
DEFAULT_ERROR_MESSAGE = "Execution error;injected fault"

#: The invalid-value reply of SCPI-99 §7.2.1.5 ("not a number"), ``9.91E+37``.
SCPI_INVALID_REPLY = f"{INVALID_VALUE:.2E}"

#: Root mnemonics of the fault commands (short and long form).
_ROOTS = ("VIRT", "VIRTUAL")
_NUMBER = re.compile(rb"^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$")
_REAL = re.compile(rb"[.eE]")
_SEPARATORS = re.compile(rb"([,;])")


class FaultKind(enum.Enum):
    """Ways a virtual instrument can be told to misbehave (see the module docstring)."""

    TIMEOUT = "timeout"
    SLOW = "slow"
    DROP = "drop"
    GARBAGE = "garbage"
    ERROR = "error"
    INVALID = "invalid"
    #: The earlier name of ``TIMEOUT`` (``"no_reply"`` is accepted as well).
    NO_REPLY = "timeout"

    @classmethod
    def _missing_(cls, value: object) -> FaultKind | None:
        if isinstance(value, str):
            text = value.strip().lower()
            if text == "no_reply":
                return cls.TIMEOUT
            for kind in cls:
                if kind.value == text:
                    return kind
        return None


#: Kinds that take a ``delay_s``.
DELAYED_KINDS = frozenset({FaultKind.SLOW, FaultKind.TIMEOUT})


@dataclasses.dataclass(frozen=True)
class Fault:
    """One armed fault.

    Attributes
    ----------
    kind : FaultKind
        What goes wrong.
    remaining : int or None
        Events still to strike (None: until cleared).
    delay_s : float
        Delay of a ``slow`` reply or stall of a ``timeout``, s (0 for the other kinds).
    code, message
        The SCPI error an ``error`` fault queues.
    """

    kind: FaultKind
    remaining: int | None
    delay_s: float = 0.0
    code: int = DEFAULT_ERROR_CODE
    message: str = DEFAULT_ERROR_MESSAGE

    def describe(self) -> str:
        """The ``:VIRTual:FAULt`` parameters that arm this fault (``slow,2,0.25``)."""
        count = "INF" if self.remaining is None else str(self.remaining)
        text = f"{self.kind.value},{count}"
        if self.kind in DELAYED_KINDS and (self.kind is FaultKind.SLOW or self.delay_s > 0):
            text += f",{self.delay_s:g}"
        return text


class FaultPlan:
    """The faults armed on one virtual instrument, in arming order; thread-safe.

    A kind armed twice strikes with its first entry until that one is used up.

    Examples
    --------
    >>> plan = FaultPlan()
    >>> _ = plan.arm("slow", count=2, delay_s=0.25)
    >>> plan.describe()
    'slow,2,0.25'
    >>> plan.take(FaultKind.SLOW).delay_s
    0.25
    >>> plan.describe()
    'slow,1,0.25'
    """

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def arm(
        self,
        kind: FaultKind | str,
        *,
        count: int | None = 1,
        delay_s: float | None = None,
        code: int = DEFAULT_ERROR_CODE,
        message: str = DEFAULT_ERROR_MESSAGE,
    ) -> Fault:
        """Arm a fault for the next ``count`` events and return it.

        Parameters
        ----------
        kind : FaultKind or str
            ``"timeout"`` (also ``"no_reply"``), ``"slow"``, ``"drop"``, ``"garbage"``,
            ``"error"`` or ``"invalid"`` (case-insensitive).
        count : int or None
            Events affected, 1 .. :data:`MAX_COUNT`, or None for "until cleared".
        delay_s : float, optional
            ``slow``: delay of each reply, s (default :data:`DEFAULT_SLOW_DELAY_S`);
            ``timeout``: stall before the swallowed reply, s (default 0).  Both within
            [0, :data:`MAX_DELAY_S`]; not allowed for the other kinds.
        code, message
            The SCPI error of an ``error`` fault (code a non-zero integer in -32768..32767).

        Raises
        ------
        InvalidParameter
            Unknown kind, count outside its range, a delay out of range or given to a kind
            without one, a zero or out-of-range error code.
        """
        fk = _kind(kind)
        if count is not None:
            validate.integer("count", count, 1, MAX_COUNT)
        if delay_s is None:
            delay = DEFAULT_SLOW_DELAY_S if fk is FaultKind.SLOW else 0.0
        elif fk not in DELAYED_KINDS:
            raise InvalidParameter(f"delay_s = {delay_s!r}: only slow and timeout faults take a delay, not {fk.value}")
        else:
            delay = validate.in_range("delay_s", delay_s, 0.0, MAX_DELAY_S, unit="s")
        code = validate.integer("code", code, -32768, 32767)
        if code == 0:
            raise InvalidParameter("code = 0 means 'No error'; an error fault needs a non-zero SCPI error code")
        fault = Fault(fk, None if count is None else int(count), delay, code, str(message))
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """Disarm every fault."""
        with self._lock:
            self._faults.clear()

    def take(self, kind: FaultKind) -> Fault | None:
        """Use one event of the first armed fault of ``kind``; return it (None if none is armed)."""
        if not self._faults:  # fast path, no lock: the common case of nothing armed
            return None
        with self._lock:
            for i, fault in enumerate(self._faults):
                if fault.kind is kind:
                    if fault.remaining is not None:
                        if fault.remaining <= 1:
                            del self._faults[i]
                        else:
                            self._faults[i] = dataclasses.replace(fault, remaining=fault.remaining - 1)
                    return fault
        return None

    def is_armed(self, kind: FaultKind) -> bool:
        """True if a fault of ``kind`` is armed."""
        if not self._faults:
            return False
        with self._lock:
            return any(f.kind is kind for f in self._faults)

    @property
    def armed(self) -> tuple[Fault, ...]:
        """The armed faults, in arming order."""
        with self._lock:
            return tuple(self._faults)

    def describe(self) -> str:
        """The armed faults as ``kind,count[,delay_s]`` entries joined by ``;`` (``""``: none)."""
        return ";".join(f.describe() for f in self.armed)


def _kind(kind: FaultKind | str) -> FaultKind:
    if isinstance(kind, FaultKind):
        return kind
    try:
        return FaultKind(kind)
    except ValueError:
        allowed = ", ".join(k.value for k in FaultKind)
        raise InvalidParameter(f"unknown fault kind {kind!r}; allowed: {allowed}") from None


# --- SCPI interface --------------------------------------------------------------------------
#: ``:VIRTual:FAULt`` kind options (whole words only, any case).
_KIND_OPTIONS = tuple(k.value.upper() for k in FaultKind)


def add_fault_commands(instrument) -> None:
    """Register ``:VIRTual:FAULt``, ``:VIRTual:FAULt?`` and ``:VIRTual:FAULt:CLEar``.

    ``instrument`` is a :class:`~instruments.virtual.server.VirtualInstrument` with a
    :class:`FaultPlan` in ``instrument.faults``.  Bad parameters queue the standard errors:
    -109/-108 parameter count, -224 unknown kind, -104/-222 count or delay not a number or out
    of range, -108 a delay for a kind without one.
    """
    plan: FaultPlan = instrument.faults

    def arm(req) -> None:
        args: Args = req.args
        args.expect(2, 3)
        kind = FaultKind(args.choice(0, _KIND_OPTIONS).lower())
        count = _scpi_count(args)
        delay = None
        if args.has(2):
            if kind not in DELAYED_KINDS:
                raise CommandError(-108, f"{kind.value} takes no delay_s (only slow and timeout do)")
            delay = args.number(2, units="S", low=0.0, high=MAX_DELAY_S)
        plan.arm(kind, count=count, delay_s=delay)

    def query(req) -> str:
        req.args.expect(0)
        return quoted(plan.describe())

    def clear(req) -> None:
        req.args.expect(0)
        plan.clear()

    instrument.add(":VIRTual:FAULt", set=arm, query=query)
    instrument.add(":VIRTual:FAULt:CLEar", set=clear)


def _scpi_count(args: Args) -> int | None:
    if args.token(1).strip().upper() in ("INF", "INFINITY"):
        return None
    return args.integer(1, low=1, high=MAX_COUNT)


def is_fault_command(line: bytes) -> bool:
    """True if the program message ``line`` holds only ``:VIRTual:...`` commands.

    Such messages are exempt from the faults (and use none up), so a script can always
    inspect or clear them.  A message that does not parse is not exempt.
    """
    if b"VIRT" not in line.upper():
        return False
    try:
        commands = parse_message(line.decode("latin-1").rstrip("\r"))
    except CommandError:
        return False
    return bool(commands) and all(not c.common and c.mnemonics[0] in _ROOTS for c in commands)


def invalidated(reply: bytes, marker: bytes) -> bytes | None:
    """``reply`` with every number replaced by ``marker``, or None if it is not numeric.

    A numeric reply is one or more numbers separated by ``,`` or ``;`` with at least one
    written as a real (a point or an exponent): measurement and setting values, not
    booleans, states, counts or strings.  Binary blocks (``#...``) are not numeric.

    Examples
    --------
    >>> invalidated(b"+1.234560E-03,-2.5", b"9.91E+37")
    b'9.91E+37,9.91E+37'
    >>> invalidated(b'+0,"No error"', b"9.91E+37") is None
    True
    """
    if reply[:1] == b"#":
        return None
    parts = _SEPARATORS.split(reply)
    values = parts[0::2]
    if not all(_NUMBER.match(v) for v in values) or not any(_REAL.search(v) for v in values):
        return None
    parts[0::2] = [marker] * len(values)
    return b"".join(parts)


__all__ = [
    "DEFAULT_ERROR_CODE",
    "DEFAULT_ERROR_MESSAGE",
    "DEFAULT_SLOW_DELAY_S",
    "DELAYED_KINDS",
    "Fault",
    "FaultKind",
    "FaultPlan",
    "GARBAGE_REPLY",
    "MAX_COUNT",
    "MAX_DELAY_S",
    "SCPI_INVALID_REPLY",
    "add_fault_commands",
    "invalidated",
    "is_fault_command",
]
