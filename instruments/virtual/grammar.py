"""SCPI grammar for the virtual instruments: headers, parameters, replies and binary blocks.

Command tables are written in the vendor's notation (IEEE 488.2 / SCPI-99 §6):

* upper case = short form, whole word = long form: ``ATTenuation`` accepts ``ATT`` and
  ``ATTENUATION`` in any case, nothing in between;
* ``#`` after a mnemonic = optional numeric suffix (``INPut#`` accepts ``INP``, ``INP1``,
  ``INPUT3``; the default is 1); ``#@`` = a suffix plus one letter, FlexDCA style
  (``CHANnel#@`` accepts ``CHAN1A``, ``CHANNEL4B``);
* ``[:NODE]`` = optional node(s): ``:SYSTem:ERRor[:NEXT]`` accepts ``:SYST:ERR`` and
  ``:SYST:ERR:NEXT``.

A program message is split at ``;`` (outside quotes).  A command that follows another one
without a leading colon is relative to the previous command's header path (SCPI-99
§6.2.4: ``:SENS:WAV:CENT 1550NM;SPAN 10NM`` sets ``:SENS:WAV:SPAN``); common commands
(``*OPC?``) do not change the path.

Numeric parameters take unit suffixes and the SCPI engineering multipliers (SCPI-99
§7.7.3: EX, PE, T, G, MA = mega, K, M = milli, U, N, P, F, A) case-insensitively, with the
two historical exceptions: ``MHZ`` is megahertz and, for a value in amperes, ``MA`` is
milliampere.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Sequence

import numpy as np

#: Standard SCPI error messages (SCPI-99 Vol. 2 §21.8) used by the virtual instruments.
STANDARD_ERRORS: dict[int, str] = {
    0: "No error",
    -100: "Command error",
    -101: "Invalid character",
    -102: "Syntax error",
    -104: "Data type error",
    -108: "Parameter not allowed",
    -109: "Missing parameter",
    -113: "Undefined header",
    -114: "Header suffix out of range",
    -131: "Invalid suffix",
    -138: "Suffix not allowed",
    -200: "Execution error",
    -221: "Settings conflict",
    -222: "Data out of range",
    -223: "Too much data",
    -224: "Illegal parameter value",
    -230: "Data corrupt or stale",
    -350: "Queue overflow",
    -400: "Query error",
}

#: Longest error text (description plus device-dependent info) a ``:SYSTem:ERRor?`` reply
#: carries, characters (SCPI-99 Vol. 2 §21.8, SYSTem:ERRor: at most 255).
MAX_ERROR_TEXT = 255
#: Longest excerpt of a client's text (a header, a parameter) quoted in an error message.
MAX_QUOTED_TEXT = 40

#: Reply of Keysight (and SCPI-99 §7.2.1.5) for a value that is not available.
INVALID_VALUE = 9.91e37

#: SCPI engineering multipliers (SCPI-99 §7.7.3); "MA" is mega, "M" is milli.
MULTIPLIERS: dict[str, float] = {
    "EX": 1e18,
    "PE": 1e15,
    "T": 1e12,
    "G": 1e9,
    "MA": 1e6,
    "K": 1e3,
    "M": 1e-3,
    "U": 1e-6,
    "N": 1e-9,
    "P": 1e-12,
    "F": 1e-15,
    "A": 1e-18,
}

#: Units that take no multiplier.
_LOGARITHMIC_UNITS = frozenset({"DB", "DBM", "DBW", "PCT"})


def excerpt(text: str, limit: int = MAX_QUOTED_TEXT) -> str:
    """Return ``text`` cut to its first ``limit`` characters plus ``...`` when longer.

    For quoting what a client sent in an error message without echoing a huge line.

    Examples
    --------
    >>> excerpt(":SENS:POW:WAV", 8)
    ':SENS:PO...'
    """
    return text if len(text) <= limit else text[:limit] + "..."


def error_text(message: str) -> str:
    """Return an error-queue text cut to :data:`MAX_ERROR_TEXT` characters (ending ``...``)."""
    message = str(message)
    if len(message) <= MAX_ERROR_TEXT:
        return message
    return message[: MAX_ERROR_TEXT - 3] + "..."


class CommandError(Exception):
    """A SCPI error raised while executing a command; the server queues it.

    Parameters
    ----------
    code : int
        SCPI error number (negative for standard errors).
    detail : str, optional
        Appended to the standard message after ``;`` as instruments do
        (``-222,"Data out of range;attenuation 99 dB > 45 dB"``).
    """

    def __init__(self, code: int, detail: str = "") -> None:
        self.code = int(code)
        base = STANDARD_ERRORS.get(self.code, "Device-specific error")
        self.message = f"{base};{detail}" if detail else base
        super().__init__(f"{self.code},{self.message}")


# --- header patterns ------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Node:
    """One mnemonic of a header pattern: short and long form and its suffix kind."""

    short: str
    long: str
    suffix: str  # "" (none), "#" (optional number) or "#@" (number and letter)

    def match(self, typed: str) -> tuple[bool, int | str | None]:
        """Return ``(matched, suffix_value)`` for one typed mnemonic (upper case)."""
        m = _TYPED.match(typed)
        if m is None:
            return False, None
        alpha, digits, letter = m.group(1), m.group(2), m.group(3)
        if alpha not in (self.short, self.long):
            return False, None
        if self.suffix == "":
            return (not digits and not letter), None
        if self.suffix == "#":
            if letter:
                return False, None
            return True, int(digits) if digits else 1
        if not digits or not letter:
            return False, None
        return True, f"{int(digits)}{letter}"


_TYPED = re.compile(r"^([A-Z_%*]+)(?:(\d+)([A-Z]?))?$")
_NODE = re.compile(r"^([A-Za-z_%*]+?)(#@|#)?$")


@dataclasses.dataclass(frozen=True)
class HeaderPattern:
    """A parsed command-table header: groups of nodes, each group required or optional."""

    text: str
    groups: tuple[tuple[tuple[Node, ...], bool], ...]  # (nodes, optional)

    def match(self, typed: Sequence[str]) -> tuple[int | str, ...] | None:
        """Match typed mnemonics (upper case); return the suffix values or None."""
        return _match_groups(self.groups, 0, typed, 0)


def _match_groups(groups, gi: int, typed: Sequence[str], ti: int):
    if gi == len(groups):
        return () if ti == len(typed) else None
    nodes, optional = groups[gi]
    if ti + len(nodes) <= len(typed):
        values = []
        ok = True
        for k, node in enumerate(nodes):
            matched, value = node.match(typed[ti + k])
            if not matched:
                ok = False
                break
            if value is not None:
                values.append(value)
        if ok:
            rest = _match_groups(groups, gi + 1, typed, ti + len(nodes))
            if rest is not None:
                return tuple(values) + rest
    if optional:
        rest = _match_groups(groups, gi + 1, typed, ti)
        if rest is not None:
            # an omitted numbered node counts as suffix 1
            defaults = tuple(1 if n.suffix == "#" else None for n in nodes if n.suffix)
            if any(d is None for d in defaults):
                return None
            return defaults + rest
    return None


def parse_pattern(text: str) -> HeaderPattern:
    """Parse a command-table header such as ``[:SENSe]#:POWer:WAVelength``.

    Raises
    ------
    ValueError
        Malformed pattern (a programming error in a command table).
    """
    groups: list[tuple[tuple[Node, ...], bool]] = []
    rest = text.strip()
    if rest.endswith("?"):
        raise ValueError(f"command pattern {text!r}: give query and set handlers, not '?'")
    while rest:
        if rest.startswith("["):
            end = rest.find("]")
            if end < 0:
                raise ValueError(f"unbalanced '[' in command pattern {text!r}")
            inner, rest = rest[1:end], rest[end + 1 :]
            # a numeric suffix written after the bracket applies to its last node
            if rest.startswith("#"):
                inner, rest = inner + "#", rest[1:]
            groups.append((_parse_nodes(inner, text), True))
        else:
            nxt = rest.find("[", 1)
            chunk, rest = (rest, "") if nxt < 0 else (rest[:nxt], rest[nxt:])
            groups.append((_parse_nodes(chunk, text), False))
    if not groups:
        raise ValueError("empty command pattern")
    return HeaderPattern(text=text, groups=tuple(groups))


def _parse_nodes(chunk: str, text: str) -> tuple[Node, ...]:
    nodes = []
    for word in chunk.strip(":").split(":"):
        m = _NODE.match(word)
        if m is None:
            raise ValueError(f"bad mnemonic {word!r} in command pattern {text!r}")
        name, suffix = m.group(1), m.group(2) or ""
        short = "".join(c for c in name if not c.islower())
        if not short:
            short = name.upper()
        nodes.append(Node(short=short, long=name.upper(), suffix=suffix))
    return tuple(nodes)


# --- program messages -------------------------------------------------------------------
def split_outside_quotes(text: str, sep: str) -> list[str]:
    """Split ``text`` at ``sep`` where it is not inside quotes or parentheses."""
    parts, buf, quote, depth = [], [], "", 0
    for c in text:
        if quote:
            buf.append(c)
            if c == quote:
                quote = ""
            continue
        if c in "\"'":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth = max(0, depth - 1)
        elif c == sep and depth == 0:
            parts.append("".join(buf))
            buf = []
            continue
        buf.append(c)
    parts.append("".join(buf))
    return parts


@dataclasses.dataclass(frozen=True)
class ParsedCommand:
    """One command of a program message after header resolution."""

    common: bool  # a ``*XXX`` IEEE 488.2 common command
    mnemonics: tuple[str, ...]  # upper case, absolute path
    query: bool
    args: tuple[str, ...]
    text: str


def parse_message(message: str) -> list[ParsedCommand]:
    """Split a program message into commands and resolve relative headers.

    Raises
    ------
    CommandError
        ``-102`` for an empty header or unbalanced quotes.
    """
    commands = []
    path: tuple[str, ...] = ()
    for index, unit in enumerate(split_outside_quotes(message, ";")):
        unit = unit.strip()
        if not unit:
            if index == 0 and message.strip() == "":
                continue
            raise CommandError(-102, "empty command")
        m = re.match(r"^(\S+)\s*(.*)$", unit, re.S)
        header, argtext = m.group(1), m.group(2).strip()
        query = header.endswith("?")
        if query:
            header = header[:-1]
        args = tuple(a.strip() for a in split_outside_quotes(argtext, ",")) if argtext else ()
        if any(a == "" for a in args):
            raise CommandError(-102, f"empty parameter in {excerpt(unit)!r}")
        if header.startswith("*"):
            commands.append(ParsedCommand(True, (header.upper(),), query, args, unit))
            continue
        absolute = header.startswith(":") or index == 0
        words = tuple(w.upper() for w in header.lstrip(":").split(":"))
        if any(w == "" for w in words):
            raise CommandError(-102, f"bad header {excerpt(header)!r}")
        full = words if absolute else path + words
        path = full[:-1]
        commands.append(ParsedCommand(False, full, query, args, unit))
    return commands


# --- parameters -------------------------------------------------------------------------
_NUMBER = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*([A-Za-z%]*)$")


def unit_scale(suffix: str, units: Sequence[str]) -> tuple[float, str]:
    """Return ``(multiplier, unit)`` for a typed suffix given the accepted base units.

    Raises
    ------
    CommandError
        ``-131`` if the suffix is not one of the units (with an allowed multiplier).
    """
    s = suffix.upper()
    for unit in units:
        u = unit.upper()
        if s == u:
            return 1.0, u
        if u in _LOGARITHMIC_UNITS:
            continue
        if u == "HZ" and s == "MHZ":
            return 1e6, u
        if u == "OHM" and s == "MOHM":
            return 1e6, u
        if s.endswith(u):
            prefix = s[: -len(u)]
            if u == "A" and prefix == "M":
                return 1e-3, u
            if prefix in MULTIPLIERS:
                return MULTIPLIERS[prefix], u
    raise CommandError(-131, f"{excerpt(suffix)!r} is not a unit of {'/'.join(units)}")


class Args:
    """The parameters of one command with typed, validating accessors.

    Every accessor raises :class:`CommandError` with the standard code: ``-109`` missing,
    ``-104`` wrong type, ``-131``/``-138`` bad unit suffix, ``-222`` out of range, ``-224``
    not one of the allowed values.
    """

    def __init__(self, tokens: Sequence[str]) -> None:
        self.tokens = tuple(tokens)

    def __len__(self) -> int:
        return len(self.tokens)

    def expect(self, low: int, high: int | None = None) -> None:
        """Check the number of parameters is within ``[low, high]`` (-109 / -108)."""
        high = low if high is None else high
        if len(self.tokens) < low:
            raise CommandError(-109, f"{low} parameter(s) expected, got {len(self.tokens)}")
        if len(self.tokens) > high:
            raise CommandError(-108, f"at most {high} parameter(s) expected, got {len(self.tokens)}")

    def token(self, i: int) -> str:
        """Return the raw text of parameter ``i`` (-109 if absent)."""
        if i >= len(self.tokens):
            raise CommandError(-109, f"parameter {i + 1} missing")
        return self.tokens[i]

    def has(self, i: int) -> bool:
        """True if parameter ``i`` was given."""
        return i < len(self.tokens)

    def number(
        self,
        i: int,
        *,
        units: str | Sequence[str] | None = None,
        low: float = -math.inf,
        high: float = math.inf,
        default: float | None = None,
        scale_without_unit: float = 1.0,
    ) -> float:
        """Return parameter ``i`` as a float in the base unit.

        ``MIN``/``MAX`` give ``low``/``high`` (when finite), ``DEF`` gives ``default``.
        """
        return self.quantity(
            i, units=units, low=low, high=high, default=default, scale_without_unit=scale_without_unit
        )[0]

    def quantity(
        self,
        i: int,
        *,
        units: str | Sequence[str] | None = None,
        low: float = -math.inf,
        high: float = math.inf,
        default: float | None = None,
        scale_without_unit: float = 1.0,
    ) -> tuple[float, str | None]:
        """Return ``(value, unit)`` for parameter ``i``; ``unit`` is the typed base unit or None."""
        text = self.token(i)
        key = text.upper()
        if key in ("MIN", "MINIMUM") and math.isfinite(low):
            return low, None
        if key in ("MAX", "MAXIMUM") and math.isfinite(high):
            return high, None
        if key in ("DEF", "DEFAULT") and default is not None:
            return float(default), None
        m = _NUMBER.match(text)
        if m is None:
            raise CommandError(-104, f"{excerpt(text)!r} is not a number")
        value = float(m.group(1))
        suffix = m.group(2)
        unit: str | None = None
        if suffix:
            if not units:
                raise CommandError(-138, f"{excerpt(text)!r} takes no unit")
            scale, unit = unit_scale(suffix, [units] if isinstance(units, str) else list(units))
            value *= scale
        else:
            value *= scale_without_unit
        if not math.isfinite(value):
            raise CommandError(-222, f"{excerpt(text)!r} is not finite")
        if not (low <= value <= high):
            raise CommandError(-222, f"{value:g} outside [{low:g}, {high:g}]")
        return value, unit

    def integer(self, i: int, *, low: int | None = None, high: int | None = None) -> int:
        """Return parameter ``i`` as an int (a number with no fraction)."""
        lo = -math.inf if low is None else low
        hi = math.inf if high is None else high
        value = self.number(i, low=lo, high=hi)
        if value != round(value):
            raise CommandError(-104, f"{excerpt(self.tokens[i])!r} is not an integer")
        return int(round(value))

    def boolean(self, i: int) -> bool:
        """Return parameter ``i`` as a bool: ``ON``/``OFF``/``1``/``0`` (any number: != 0)."""
        text = self.token(i).upper()
        if text == "ON":
            return True
        if text == "OFF":
            return False
        m = _NUMBER.match(text)
        if m is None or m.group(2):
            raise CommandError(-224, f"{excerpt(self.tokens[i])!r} is not ON, OFF, 1 or 0")
        return round(float(m.group(1))) != 0

    def choice(self, i: int, options: Iterable[str]) -> str:
        """Return the short form (upper case) of the option parameter ``i`` matches.

        ``options`` are written in vendor notation (``"OSCilloscope"``); short and long
        forms are accepted, case-insensitively.
        """
        text = self.token(i).upper()
        listed = []
        for option in options:
            short = "".join(c for c in option if not c.islower()) or option.upper()
            listed.append(option)
            if text in (short.upper(), option.upper()):
                return short.upper()
        raise CommandError(-224, f"{excerpt(self.tokens[i])!r} not one of {', '.join(listed)}")

    def string(self, i: int) -> str:
        """Return the quoted string parameter ``i`` without its quotes (-104 if unquoted)."""
        text = self.token(i)
        if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
            q = text[0]
            return text[1:-1].replace(q + q, q)
        raise CommandError(-104, f"{excerpt(text)!r} is not a quoted string")

    def channel_list(self, i: int) -> list[int]:
        """Return the channels of a ``(@1,2)`` / ``(@1:3)`` channel list."""
        text = self.token(i).replace(" ", "")
        if not (text.startswith("(@") and text.endswith(")")):
            raise CommandError(-104, f"{excerpt(text)!r} is not a channel list (@n)")
        out: list[int] = []
        for part in text[2:-1].split(","):
            try:
                if ":" in part:
                    a, b = part.split(":")
                    out.extend(range(int(a), int(b) + 1))
                else:
                    out.append(int(part))
            except ValueError:
                raise CommandError(-104, f"{excerpt(text)!r} is not a channel list (@n)") from None
        return out


# --- replies ------------------------------------------------------------------------------
def nr3(value: float) -> str:
    """Format a float the Keysight way (``+1.234560E-03``); non-finite gives ``9.91E+37``."""
    value = float(value)
    if not math.isfinite(value):
        return "9.91E+37"
    return f"{value:+.6E}"


def nr1(value: int) -> str:
    """Format an integer (``42``, ``-3``)."""
    return str(int(value))


def boolean(value: bool) -> str:
    """Format a boolean as ``1``/``0``."""
    return "1" if value else "0"


def quoted(text: str) -> str:
    """Format a string reply in double quotes (embedded quotes doubled)."""
    return '"' + str(text).replace('"', '""') + '"'


def definite_block(payload: bytes) -> bytes:
    """Wrap bytes in an IEEE 488.2 definite-length block ``#<n><len><payload>``.

    Raises
    ------
    ValueError
        Payload longer than 10**9 - 1 bytes (the length needs more than 9 digits).
    """
    length = str(len(payload))
    if len(length) > 9:
        raise ValueError(f"block of {len(payload)} bytes too long for a definite-length header")
    return b"#" + str(len(length)).encode() + length.encode() + payload


def float32_block(values: np.ndarray, *, big_endian: bool) -> bytes:
    """Return ``values`` as a definite-length block of float32 in the given byte order."""
    dtype = ">f4" if big_endian else "<f4"
    return definite_block(np.asarray(values, dtype=np.float64).astype(dtype).tobytes())


def float64_block(values: np.ndarray, *, big_endian: bool) -> bytes:
    """Return ``values`` as a definite-length block of float64 in the given byte order."""
    dtype = ">f8" if big_endian else "<f8"
    return definite_block(np.asarray(values, dtype=np.float64).astype(dtype).tobytes())


__all__ = [
    "Args",
    "CommandError",
    "HeaderPattern",
    "INVALID_VALUE",
    "MAX_ERROR_TEXT",
    "MAX_QUOTED_TEXT",
    "MULTIPLIERS",
    "Node",
    "ParsedCommand",
    "STANDARD_ERRORS",
    "boolean",
    "definite_block",
    "error_text",
    "excerpt",
    "float32_block",
    "float64_block",
    "nr1",
    "nr3",
    "parse_message",
    "parse_pattern",
    "quoted",
    "split_outside_quotes",
    "unit_scale",
]
