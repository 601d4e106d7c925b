"""The toolkit's exception hierarchy.

Every error raised on purpose by ``optics``, ``models`` or ``instruments`` derives from
:class:`OpticsError`, and also from the built-in exception a caller would expect
(``ValueError`` for a bad value, ``TypeError`` for a wrong type, ``TimeoutError`` for an
instrument that does not answer), so ``except ValueError`` keeps working.

Messages name the offending value and the allowed range.
"""

from __future__ import annotations


class OpticsError(Exception):
    """Base class of every error the toolkit raises on purpose."""


# --- bad input ---------------------------------------------------------------------
class InvalidParameter(OpticsError, ValueError):
    """A parameter value is outside its allowed range or otherwise meaningless."""


class InvalidType(OpticsError, TypeError):
    """A parameter has the wrong type (or an unknown keyword was given)."""


class InvalidWaveform(InvalidParameter):
    """Samples, rates or pattern of a waveform cannot be analysed."""


class NoEyeFound(InvalidWaveform):
    """No open PAM4 eye at the given symbol rate (wrong rate, not PAM4, too noisy)."""


class FileFormatError(OpticsError, ValueError):
    """A file is truncated, has an unknown header or unit, or is not of the expected form."""


class ConfigError(OpticsError, ValueError):
    """A TOML configuration (link, plan, bench) has unknown keys or invalid values."""


# --- specifications and verdicts -----------------------------------------------------
class SpecError(OpticsError, ValueError):
    """A PHY specification table is malformed, or an unknown PHY was named."""


class UnitError(OpticsError, ValueError):
    """A quantity carries a unit that does not match what is expected."""


# --- instruments ---------------------------------------------------------------------
class InstrumentError(OpticsError):
    """Base class of every fault reported by, or about, a piece of test gear."""


class InstrumentTimeout(InstrumentError, TimeoutError):
    """The instrument did not answer within its timeout."""


class ConnectionLost(InstrumentError, ConnectionError):
    """The connection to the instrument was refused, dropped or never established.

    Attributes
    ----------
    command_sent : bool or None
        ``False`` when the transport knows that none of the failed command was sent (the
        dropped connection was noticed before sending: repeating it on a new session is
        safe); ``True`` when it was sent (its effect on the instrument is unknown); ``None``
        when unknown.  Set by :class:`~instruments.scpi.adapters.VisaAdapter`.
    """

    command_sent: bool | None = None


class WrongInstrument(ConnectionLost):
    """After reconnecting, a different instrument (vendor, model or serial) answers.

    Attributes
    ----------
    expected, found : str
        The ``*IDN?`` replies of the instrument the driver was talking to and of the one that
        answers now.
    """

    def __init__(self, message: str, *, expected: str = "", found: str = "") -> None:
        super().__init__(message)
        self.expected = expected
        self.found = found


class GarbledReply(InstrumentError, ValueError):
    """A reply could not be parsed, or was the instrument's 'no valid value' marker."""


class ScpiError(InstrumentError):
    """The instrument's SCPI error queue reported one or more errors.

    Parameters
    ----------
    code : int
        SCPI error number (negative for standard errors).
    message : str
        The instrument's error text.
    command : str, optional
        The command after which the error was read.
    """

    def __init__(self, code: int, message: str, command: str | None = None) -> None:
        self.code = int(code)
        self.message = message
        self.command = command
        where = f" after {command!r}" if command else ""
        super().__init__(f"SCPI error {self.code}, {message!r}{where}")


class SafetyLimitError(InstrumentError, ValueError):
    """A setting was refused before sending because it exceeds a configured safety limit."""


class MeasurementInvalid(InstrumentError):
    """The instrument reported its measurement as invalid or never became valid."""


def value_text(value: object) -> str:
    """``repr(value)`` for an error message, a NumPy scalar shown as the Python value it holds.

    NumPy 2 prints its scalars as ``np.float64(inf)``; a message names the value a user
    wrote or measured, so it shows ``inf``, ``0.5`` or ``3`` instead.  Anything else is
    shown as ``repr`` shows it.

    Parameters
    ----------
    value : object
        The value to show.

    Returns
    -------
    str

    Examples
    --------
    >>> import numpy as np
    >>> value_text(np.float64("inf")), value_text(np.int64(3)), value_text("abc")
    ('inf', '3', "'abc'")
    """
    item = getattr(value, "item", None)
    if type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 0 and callable(item):
        value = item()
    return repr(value)


__all__ = [
    "OpticsError",
    "InvalidParameter",
    "InvalidType",
    "InvalidWaveform",
    "NoEyeFound",
    "FileFormatError",
    "ConfigError",
    "SpecError",
    "UnitError",
    "InstrumentError",
    "InstrumentTimeout",
    "ConnectionLost",
    "WrongInstrument",
    "GarbledReply",
    "ScpiError",
    "SafetyLimitError",
    "MeasurementInvalid",
    "value_text",
]
