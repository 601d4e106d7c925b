"""What a station writes: one :class:`RunRecord` per module run and one
:class:`MeasurementRecord` per measured value.

The field set follows the OpenHTF measurement model (name, value, unit, limits, outcome)
extended with what a transceiver line needs for traceability: serial, plan and its hash,
step, lane, case temperature, margin, instrument identities and the toolkit version.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import math
import time
import unicodedata
from collections.abc import Mapping
from typing import Any

from optics.errors import InvalidParameter


class Outcome(str, enum.Enum):
    """Outcome of one measurement or of a whole run."""

    PASS = "PASS"
    FAIL = "FAIL"
    MARGINAL = "MARGINAL"
    ERROR = "ERROR"
    NOT_TESTED = "NOT_TESTED"

    @classmethod
    def parse(cls, value: Outcome | str) -> Outcome:
        """Accept an :class:`Outcome` or its name, case-insensitive."""
        if isinstance(value, Outcome):
            return value
        try:
            return cls(str(value).upper())
        except ValueError:
            allowed = ", ".join(o.value for o in cls)
            raise InvalidParameter(f"unknown outcome {value!r}; allowed: {allowed}") from None


class RunStatus(str, enum.Enum):
    """Life cycle of a run: ``running`` until the runner closes it."""

    RUNNING = "running"
    COMPLETE = "complete"
    INCOMPLETE = "incomplete"


#: Longest serial number a run accepts (characters).  CMIS and SFF-8636 hold a module's vendor
#: serial in 16 ASCII bytes; the cap leaves room for a line's own prefixes (lot, site).
MAX_SERIAL_LENGTH = 64

#: Unicode categories a serial may not contain: controls (``Cc``: NUL, tab, CR, LF, ESC ...),
#: format characters (``Cf``: zero-width spaces, bidirectional overrides, BOM), surrogates
#: (``Cs``: undecodable bytes of a command line) and line / paragraph separators (``Zl``, ``Zp``).
SERIAL_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})

_CATEGORY_NAMES = {"Cc": "control", "Cf": "format", "Cs": "surrogate (undecodable byte)", "Zl": "line separator",
                   "Zp": "paragraph separator"}


def validate_serial(serial: object) -> str:
    r"""Return ``serial`` if it can name a module in the results, else raise.

    A serial goes into the database, report file names, CSV cells and terminal lines: it
    must be a non-empty string of at most :data:`MAX_SERIAL_LENGTH` characters, without
    leading or trailing whitespace and without any character of the Unicode categories
    :data:`SERIAL_FORBIDDEN_CATEGORIES` (a scanner's CR or tab, an escape sequence, a
    zero-width or bidirectional-override character that makes two serials look alike).
    Inner spaces are allowed.

    Parameters
    ----------
    serial : str
        The serial as scanned or typed.

    Returns
    -------
    str
        ``serial``, unchanged.

    Raises
    ------
    InvalidParameter
        The serial is not a string, is empty, too long, padded with whitespace or holds a
        forbidden character; the message shows it with such characters escaped (``repr``).

    Examples
    --------
    >>> validate_serial("DR8-0001")
    'DR8-0001'
    >>> validate_serial("DR8\x1b[2J")         # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    optics.errors.InvalidParameter: serial 'DR8\x1b[2J' contains the control character '\x1b' (U+001B, ...
    """
    if not isinstance(serial, str):
        raise InvalidParameter(f"serial must be a string, got {type(serial).__name__} {serial!r}")
    if not serial or not serial.strip():
        raise InvalidParameter(f"serial must be a non-empty string, got {serial!r}")
    for index, char in enumerate(serial):
        category = unicodedata.category(char)
        if category in SERIAL_FORBIDDEN_CATEGORIES:
            raise InvalidParameter(
                f"serial {serial!r} contains the {_CATEGORY_NAMES[category]} character {char!r} (U+{ord(char):04X}, "
                f"category {category}) at index {index}; a serial may not contain control, format or separator "
                "characters")
    if serial != serial.strip():
        raise InvalidParameter(f"serial {serial!r} has leading or trailing whitespace; give it without")
    if len(serial) > MAX_SERIAL_LENGTH:
        raise InvalidParameter(f"serial {serial[:20]!r}... is {len(serial)} characters long; at most "
                               f"{MAX_SERIAL_LENGTH} are allowed")
    return serial


def plan_hash(text: str | bytes) -> str:
    """SHA-256 (hex) of a plan file's bytes, stored with every record of a run."""
    data = text.encode() if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


def now_s() -> float:
    """Wall-clock time stamp in s since the epoch (UTC)."""
    return time.time()


def utc_text(t: float | None) -> str:
    """``YYYY-MM-DD hh:mm:ss UTC`` of a time stamp in s since the epoch ('' for None)."""
    if t is None:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(t))


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunRecord:
    """One run of a test plan on one module.

    Parameters
    ----------
    run_id : str
        Unique identifier (a UUID string).
    serial : str
        Module serial number as scanned or given.
    plan_name, plan_hash : str
        Plan name and SHA-256 of the plan file.
    station_id : str
        Name of the station (host name by default).
    started_at_s : float
        Start time, s since the epoch.
    toolkit_version : str
        Version of this toolkit that took the data.
    bench : mapping
        Instrument names to identities (``*IDN?`` replies) and resource strings.
    status : RunStatus
        ``running`` until closed; ``complete`` or ``incomplete`` after.
    outcome : Outcome or None
        Overall outcome once the run is closed.
    ended_at_s : float or None
        End time once closed.
    pid, host : int, str
        Process and host that own a running run; a run whose process is gone is incomplete.
    note : str
        Why a run ended early, if it did.
    heartbeat_at_s, lease_expires_at_s : float or None
        Last sign of life of the station running the run and the end of its lease, s since
        the epoch (kept by :class:`~optics.station.store.SQLiteStore`); a ``running`` run whose
        lease expired is incomplete.  ``None`` for a run not stored yet.

    The serial is checked by :func:`validate_serial` when a run is stored, not here, so
    that runs stored before that check existed can still be read.
    """

    run_id: str
    serial: str
    plan_name: str
    plan_hash: str
    station_id: str
    started_at_s: float
    toolkit_version: str
    bench: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    status: RunStatus = RunStatus.RUNNING
    outcome: Outcome | None = None
    ended_at_s: float | None = None
    pid: int = 0
    host: str = ""
    note: str = ""
    heartbeat_at_s: float | None = None
    lease_expires_at_s: float | None = None

    def __post_init__(self) -> None:
        if not self.serial or not str(self.serial).strip():
            raise InvalidParameter("serial must be a non-empty string")
        object.__setattr__(self, "status", RunStatus(self.status))
        if self.outcome is not None:
            object.__setattr__(self, "outcome", Outcome.parse(self.outcome))


@dataclasses.dataclass(frozen=True, kw_only=True)
class MeasurementRecord:
    """One measured value with its limits and outcome.

    ``value`` is ``None`` only for an ERROR record (the step failed before a value existed);
    ``margin`` is the distance to the nearest limit in the measurement's unit, positive
    inside the limits.
    """

    run_id: str
    serial: str
    step: str
    name: str
    value: float | None
    unit: str
    outcome: Outcome
    lane: int | None = None
    temperature_c: float | None = None
    low_limit: float | None = None
    high_limit: float | None = None
    margin: float | None = None
    spec_ref: str = ""
    verified: bool = True
    instruments: Mapping[str, str] = dataclasses.field(default_factory=dict)
    taken_at_s: float = dataclasses.field(default_factory=now_s)
    message: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "outcome", Outcome.parse(self.outcome))
        for field in ("value", "low_limit", "high_limit", "margin", "temperature_c"):
            v = getattr(self, field)
            if v is not None:
                v = float(v)
                if not math.isfinite(v):
                    raise InvalidParameter(f"{field} of measurement {self.name!r} is {v!r}; it must be finite")
                object.__setattr__(self, field, v)
        if self.value is None and self.outcome not in (Outcome.ERROR, Outcome.NOT_TESTED):
            raise InvalidParameter(
                f"measurement {self.name!r} has no value but outcome {self.outcome.value}; "
                "only ERROR or NOT_TESTED records may lack a value"
            )
        if (
            self.low_limit is not None
            and self.high_limit is not None
            and self.low_limit > self.high_limit
        ):
            raise InvalidParameter(
                f"measurement {self.name!r}: low_limit {self.low_limit} > high_limit {self.high_limit}"
            )


def judge(
    value: float,
    low: float | None,
    high: float | None,
    guard_band: float = 0.0,
) -> tuple[Outcome, float | None]:
    """Outcome and margin of ``value`` against ``[low, high]``.

    The margin is the distance to the nearest limit (positive inside).  A value inside the
    limits but closer than ``guard_band`` to one of them is MARGINAL.

    Raises
    ------
    InvalidParameter
        Non-finite value, negative guard band or ``low > high``.
    """
    v = float(value)
    if not math.isfinite(v):
        raise InvalidParameter(f"value must be finite, got {v!r}")
    if guard_band < 0:
        raise InvalidParameter(f"guard_band = {guard_band} must be >= 0")
    if low is not None and high is not None and low > high:
        raise InvalidParameter(f"low limit {low} > high limit {high}")
    margins = []
    if low is not None:
        margins.append(v - low)
    if high is not None:
        margins.append(high - v)
    if not margins:
        return Outcome.PASS, None
    margin = min(margins)
    if margin < 0:
        return Outcome.FAIL, margin
    if margin < guard_band:
        return Outcome.MARGINAL, margin
    return Outcome.PASS, margin
