"""Parsing of instrument replies: numbers, booleans, IEEE 488.2 blocks, ``*IDN?`` strings.

Every parser raises :class:`~optics.errors.GarbledReply` (a reply that cannot be read) or
:class:`~optics.errors.MeasurementInvalid` (a well-formed reply that is the instrument's
"no valid value" marker), naming the command and the resource, so that a bad reading can
never leak into an analysis as a number.

Invalid-value markers handled here
----------------------------------
``9.91E+37``
    Keysight scopes (FlexDCA, Infiniium) and many SCPI boxes: "measurement not available".
``9.9E+37`` / ``NAN`` / ``nan``
    SCPI-99 §7.2.1.5 "not a number" (9.91E37) and the IEEE forms some firmware prints.
``-------``
    Anritsu MP1900A/MP1800A (quoted) for a result with no value.
Instrument-specific markers (``-210`` dBm of the AQ6370, ``> 1e20`` under-range of Keysight
power meters) are handled by those drivers, since the same number is valid elsewhere.
"""

from __future__ import annotations

import dataclasses
import math
import re

import numpy as np

from optics.errors import GarbledReply, MeasurementInvalid

#: Replies meaning "no valid value" on (nearly) every SCPI instrument.
SCPI_INVALID = 9.91e37

_DASHES = re.compile(r"^-{3,}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _where(command: str | None, resource: str | None) -> str:
    parts = []
    if command:
        parts.append(f"to {command!r}")
    if resource:
        parts.append(f"from {resource}")
    return (" " + " ".join(parts)) if parts else ""


def strip_reply(reply: str) -> str:
    """Return ``reply`` without surrounding white space, line ends and one pair of quotes."""
    text = reply.strip().strip("\x00").strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    return text


def parse_float(reply: str, *, command: str | None = None, resource: str | None = None) -> float:
    """Parse one numeric reply into a float.

    Parameters
    ----------
    reply : str
        Raw reply text (``"+1.234560E-03"``, ``"-3.2"``, ``"\\"1.0E-12\\""``).
    command, resource : str, optional
        Named in the error message.

    Returns
    -------
    float
        The finite value.

    Raises
    ------
    MeasurementInvalid
        The reply is an invalid-value marker (``9.91E+37``, ``9.9E+37``, ``NAN``, ``-------``).
    GarbledReply
        The reply is empty or not a number.

    Examples
    --------
    >>> parse_float("+1.234560E-03")
    0.00123456
    """
    text = strip_reply(reply)
    if _DASHES.match(text):
        raise MeasurementInvalid(f"no valid value ({text!r}) in reply{_where(command, resource)}")
    if text.upper() in ("NAN", "+NAN", "-NAN", "INF", "+INF", "-INF", "NAN.0"):
        raise MeasurementInvalid(f"no valid value ({text!r}) in reply{_where(command, resource)}")
    if not _NUMBER.match(text):
        raise GarbledReply(f"expected a number, got {reply!r}{_where(command, resource)}")
    value = float(text)
    if not math.isfinite(value) or abs(value) >= 9.9e37:
        raise MeasurementInvalid(
            f"instrument reported 'no valid value' ({text}){_where(command, resource)}"
        )
    return value


def parse_int(reply: str, *, command: str | None = None, resource: str | None = None) -> int:
    """Parse an integer reply (``"+5"``, ``"5"``, ``"5.0E+00"`` accepted when integral)."""
    value = parse_float(reply, command=command, resource=resource)
    if value != round(value):
        raise GarbledReply(f"expected an integer, got {reply!r}{_where(command, resource)}")
    return int(round(value))


def parse_bool(reply: str, *, command: str | None = None, resource: str | None = None) -> bool:
    """Parse ``1/0/ON/OFF/TRUE/FALSE`` (any case) into a bool."""
    text = strip_reply(reply).upper()
    if text in ("1", "ON", "TRUE", "+1"):
        return True
    if text in ("0", "OFF", "FALSE", "+0"):
        return False
    raise GarbledReply(f"expected 0/1/ON/OFF, got {reply!r}{_where(command, resource)}")


def parse_floats(reply: str, *, command: str | None = None, resource: str | None = None) -> np.ndarray:
    """Parse a comma-separated list of numbers into a float64 array (markers raise)."""
    text = strip_reply(reply)
    if not text:
        raise GarbledReply(f"expected a list of numbers, got an empty reply{_where(command, resource)}")
    return np.array([parse_float(t, command=command, resource=resource) for t in text.split(",")])


# --- IEEE 488.2 definite-length blocks ---------------------------------------------------
def parse_ieee_block(data: bytes, *, command: str | None = None, resource: str | None = None) -> bytes:
    """Return the payload of an IEEE 488.2 definite-length arbitrary block.

    The block is ``#<n><len><payload>``: one digit ``n`` (1..9) giving how many digits
    ``len`` has, then ``len`` payload bytes (IEEE 488.2-1992 §8.7.9).  A trailing line end
    (``\\n`` or ``\\r\\n``) is allowed; anything else after the payload is refused.

    Raises
    ------
    GarbledReply
        No ``#`` header, a bad digit count or length, or fewer or more payload bytes than
        announced.

    Examples
    --------
    >>> parse_ieee_block(b"#14abcd\\n")
    b'abcd'
    """
    start = data.find(b"#")
    if start < 0 or start > 2 or len(data) < start + 2:
        raise GarbledReply(f"expected an IEEE 488.2 block starting with '#'{_where(command, resource)}")
    ndig_char = data[start + 1 : start + 2]
    if not ndig_char.isdigit() or ndig_char == b"0":
        raise GarbledReply(
            f"IEEE block header digit must be 1..9 (indefinite '#0' not supported), got "
            f"{ndig_char!r}{_where(command, resource)}"
        )
    ndig = int(ndig_char)
    length_txt = data[start + 2 : start + 2 + ndig]
    if len(length_txt) != ndig or not length_txt.isdigit():
        raise GarbledReply(f"IEEE block length field {length_txt!r} is not {ndig} digits{_where(command, resource)}")
    length = int(length_txt)
    begin = start + 2 + ndig
    payload = data[begin : begin + length]
    if len(payload) != length:
        raise GarbledReply(
            f"IEEE block announced {length} bytes but held {len(payload)}{_where(command, resource)}"
        )
    tail = data[begin + length :]
    if tail not in (b"", b"\n", b"\r\n"):
        raise GarbledReply(
            f"IEEE block is longer than the {length} bytes announced ({len(tail)} more bytes)"
            f"{_where(command, resource)}"
        )
    return payload


def ieee_block(payload: bytes) -> bytes:
    """Build an IEEE 488.2 definite-length block ``#<n><len><payload>`` (no line end)."""
    length = str(len(payload)).encode()
    return b"#" + str(len(length)).encode() + length + payload


def block_values(
    payload: bytes, datatype: str, *, big_endian: bool = False, command: str | None = None,
    resource: str | None = None,
) -> np.ndarray:
    """Interpret a block payload as an array of ``datatype`` (struct code ``f``, ``d``, ``i``...)."""
    dtype = np.dtype(datatype).newbyteorder(">" if big_endian else "<")
    if len(payload) % dtype.itemsize:
        raise GarbledReply(
            f"block of {len(payload)} bytes is not a whole number of {dtype.itemsize}-byte "
            f"values{_where(command, resource)}"
        )
    return np.frombuffer(payload, dtype=dtype).astype(np.float64 if dtype.kind == "f" else np.int64)


# --- *IDN? -------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Identity:
    """The four fields of an IEEE 488.2 ``*IDN?`` reply.

    Attributes
    ----------
    vendor, model, serial, firmware : str
        Manufacturer, model, serial number and firmware revision.
    raw : str
        The reply as received.
    """

    vendor: str
    model: str
    serial: str
    firmware: str
    raw: str

    def __str__(self) -> str:
        return self.raw


def parse_idn(reply: str, *, resource: str | None = None) -> Identity:
    """Parse ``"Keysight Technologies,N1000A,MY1234,A.06.00"`` into an :class:`Identity`.

    Raises
    ------
    GarbledReply
        Fewer than 2 comma-separated fields (IEEE 488.2 §10.14 requires 4), an empty vendor
        or model field, or control characters in the reply.
    """
    text = strip_reply(reply)
    fields = [f.strip() for f in text.split(",")]
    if len(fields) < 2 or not fields[0] or not fields[1] or _CONTROL.search(text):
        raise GarbledReply(
            f"*IDN? reply {reply!r} does not have the vendor,model,serial,firmware form"
            f"{_where('*IDN?', resource)}"
        )
    fields += [""] * (4 - len(fields))
    return Identity(vendor=fields[0], model=fields[1], serial=fields[2], firmware=",".join(fields[3:]), raw=text)


# --- SCPI error queue ----------------------------------------------------------------------
_ERR = re.compile(r'^\s*([+-]?\d+)\s*(?:,\s*"?(.*?)"?\s*)?$', re.S)


def parse_error(reply: str, *, resource: str | None = None) -> tuple[int, str]:
    """Parse a ``:SYST:ERR?`` reply ``+0,"No error"`` / ``-113,"Undefined header"``."""
    m = _ERR.match(reply.strip())
    if not m:
        raise GarbledReply(f"error-queue reply {reply!r} is not '<code>,\"<message>\"'{_where(':SYST:ERR?', resource)}")
    return int(m.group(1)), (m.group(2) or "").strip()


__all__ = [
    "SCPI_INVALID",
    "Identity",
    "block_values",
    "ieee_block",
    "parse_bool",
    "parse_error",
    "parse_float",
    "parse_floats",
    "parse_idn",
    "parse_ieee_block",
    "parse_int",
    "strip_reply",
]
