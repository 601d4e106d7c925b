"""IEEE 802.3 test patterns: PRBSn bit streams, their Gray-coded PAM4 forms and SSPRQ.

Every pattern here is a plain ``numpy.ndarray`` of ``uint8``: bits (0/1) for
:func:`prbs_bits`, PAM4 symbols (0..3, 0 = lowest level) for everything else.  A known
pattern is what :class:`optics.Waveform` carries in its ``pattern`` field.

Definitions and where they come from
------------------------------------
The register convention is the one IEEE 802.3 draws for its generators: stages
``S0 .. S(n-1)``, the feedback bit enters ``S0`` and ``Sk`` moves to ``S(k+1)`` on each
clock; the transmitted bit is the feedback bit (not the bit falling out of the register).
With ``p[i]`` the i-th generated bit this is the recurrence

    p[i] = XOR_{t in taps} p[i - t],      taps = exponents of G(x) other than 0,

and the register content before the first output bit is ``Sk = p[-1-k]``.  A ``seed`` is
that content as an integer with ``S0`` in the least significant bit.

============  ===========================  ==============================================
pattern       generator polynomial         source (see also the module-level notes)
============  ===========================  ==============================================
PRBS7         1 + x^6 + x^7                ITU-T O.150 / common usage
PRBS9         1 + x^5 + x^9                IEEE 802.3 Table 68-6 (d(n) = d(n-9) + d(n-5))
PRBS11        1 + x^9 + x^11               IEEE 802.3 Eq. (72-1)
PRBS13        1 + x + x^2 + x^12 + x^13    IEEE 802.3 94.2.9.1 / 120.5.11.2.1
PRBS15        1 + x^14 + x^15              ITU-T O.150 / common usage
PRBS23        1 + x^18 + x^23              ITU-T O.150 5.6
PRBS31        1 + x^28 + x^31              IEEE 802.3 Figure 49-9 (with output inverter)
============  ===========================  ==============================================

* PRBS31 is transmitted *inverted* (the inverter at the output of Figure 49-9).  With the
  all-ones seed the first 50 PRBS31Q symbols reproduce the example printed in
  IEEE 802.3-2022 120.5.11.2.2 (checked in the tests).
* The PRBS13Q seed is the one of 120.5.11.2.1, ``S0 .. S12 = 0000010101011``; it
  reproduces the first 46 symbols of the example printed there (checked in the tests).
  The same seed appears in the IEEE 802.3 COM code (``PRBS13Q.m``).
* Other orders default to the all-ones seed (no IEEE seed is defined for them here).
  PRBS15 and PRBS23 are *not* inverted; ITU-T O.150 inverts them, IEEE 802.3 usage was
  not confirmed.
* PRBSnQ (120.5.7.1 Gray map, 120.5.11.2.x): consecutive bit pairs, the first bit of a
  pair is the MSB, ``00 -> 0, 01 -> 1, 11 -> 2, 10 -> 3``.  Because 2^n - 1 is odd, the
  symbol period is 2^n - 1 *symbols* (two bit periods).
* SSPRQ (120.5.11.2.3, Table 120-2): three PRBS31 sections (Figure 49-9 generator, seeds
  ``0x00000002, 0x34013FF7, 0x0CCCCCCC``, lengths ``10924, 10922, 10922`` bits) form a
  32768-bit block ``A``.  The pattern is ``A, A, A[1:], A[:-1]`` (131070 bits), Gray
  coded to 65535 symbols, with symbols 16384..32767 and 49151..65534 inverted
  (``s -> 3 - s``).  The result is tested against the SHA-256, the first 64 symbols and
  the level counts that two independent public projects report for IEEE's
  machine-readable ``SSPRQ_sequence.csv``, and a third public copy (Nubis-Communications/
  SignalIntegrity ``SSPRQ.txt``) is the same cycle started 44229 symbols later.  The clause
  text itself was not available.

Examples
--------
>>> from optics import patterns
>>> patterns.pattern("PRBS13Q")[:8]
array([1, 0, 3, 1, 3, 2, 0, 2], dtype=uint8)
>>> patterns.ssprq().size
65535
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from optics.errors import InvalidParameter, InvalidType

#: Feedback taps (exponents of the generator polynomial other than 0) per PRBS order.
PRBS_TAPS: dict[int, tuple[int, ...]] = {
    7: (6, 7),
    9: (5, 9),
    11: (9, 11),
    13: (1, 2, 12, 13),
    15: (14, 15),
    23: (18, 23),
    31: (28, 31),
}

#: Orders whose output is inverted (IEEE 802.3 Figure 49-9 PRBS31 generator).
INVERTED_ORDERS: frozenset[int] = frozenset({31})

#: PRBS13 seed of IEEE 802.3 120.5.11.2.1, S0..S12 = 0000010101011 (S0 is the LSB here).
PRBS13Q_SEED = 0b1101010100000

#: SSPRQ sections (seed, length in bits) of IEEE 802.3 Table 120-2.
SSPRQ_SECTIONS: tuple[tuple[int, int], ...] = (
    (0x00000002, 10924),
    (0x34013FF7, 10922),
    (0x0CCCCCCC, 10922),
)

#: SSPRQ length in symbols (2**16 - 1).
SSPRQ_LENGTH = 65535

#: Pattern names accepted by :func:`pattern` (case-insensitive).
PATTERN_NAMES: tuple[str, ...] = tuple(f"PRBS{n}Q" for n in PRBS_TAPS) + ("SSPRQ",)

# Gray map of 120.5.7.1, indexed by 2*MSB + LSB: 00->0, 01->1, 10->3, 11->2.
_GRAY_FROM_BINARY = np.array([0, 1, 3, 2], dtype=np.uint8)
# Inverse: symbol -> (MSB, LSB).
_BITS_OF_SYMBOL = np.array([[0, 0], [0, 1], [1, 1], [1, 0]], dtype=np.uint8)

# Largest block length the doubled recurrence uses, and the longest stream we agree to build.
_MAX_BLOCK = 1 << 16
_MAX_BITS = 1 << 31


def _check_order(order: Any) -> int:
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)):
        raise InvalidType(f"PRBS order must be an integer, got {order!r} ({type(order).__name__})")
    order = int(order)
    if order not in PRBS_TAPS:
        allowed = ", ".join(str(k) for k in PRBS_TAPS)
        raise InvalidParameter(f"PRBS order {order} is not supported; allowed orders: {allowed}")
    return order


def _check_count(name: str, value: Any, default: int, order: int, unit: str,
                 limit: int = _MAX_BITS // 2) -> int:
    if value is None:
        if default > limit:
            raise InvalidParameter(
                f"one period of PRBS{order} is {default} {unit}, too long to build as one "
                f"array; give {name} explicitly (at most {limit})"
            )
        return default
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidType(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    value = int(value)
    if not 1 <= value <= limit:
        raise InvalidParameter(f"{name} = {value} is outside the allowed range [1, {limit}]")
    return value


def _check_seed(seed: Any, order: int) -> int:
    if seed is None:
        return PRBS13Q_SEED if order == 13 else (1 << order) - 1
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise InvalidType(f"seed must be an integer, got {seed!r} ({type(seed).__name__})")
    seed = int(seed)
    if not 1 <= seed < (1 << order):
        raise InvalidParameter(
            f"seed = {seed} is outside the allowed range [1, {(1 << order) - 1}] for PRBS{order} "
            "(the all-zero register never leaves zero)"
        )
    return seed


def _lfsr_bits(order: int, seed: int, n_bits: int) -> np.ndarray:
    """Generated bits ``p[0..n_bits)`` of the Fibonacci LFSR (before any output inverter).

    Uses the identity G(x)^(2^k) = G(x^(2^k)) over GF(2): a sequence obeying
    ``p[i] = XOR p[i - t]`` also obeys ``p[i] = XOR p[i - t * 2^k]``, whose smallest delay
    is 2^k, so blocks of 2^k bits are computed with one vectorised XOR per tap.  The block
    length doubles as soon as enough history exists.
    """
    taps = PRBS_TAPS[order]
    total = order + n_bits
    buf = np.empty(total, dtype=np.uint8)
    # History: S_k = p[-1-k] sits at buffer index order-1-k.
    buf[:order] = [(seed >> (order - 1 - j)) & 1 for j in range(order)]
    pos, step = order, 1
    while pos < total:
        while step < _MAX_BLOCK and pos >= 2 * step * order:
            step *= 2
        m = min(step, total - pos)
        t0 = taps[0] * step
        out = buf[pos : pos + m]
        np.copyto(out, buf[pos - t0 : pos - t0 + m])
        for t in taps[1:]:
            d = t * step
            np.bitwise_xor(out, buf[pos - d : pos - d + m], out=out)
        pos += m
    return buf[order:]


def prbs_bits(order: int, n_bits: int | None = None, *, seed: int | None = None) -> np.ndarray:
    """PRBSn bit stream with the IEEE 802.3 generator polynomial.

    Parameters
    ----------
    order : int
        7, 9, 11, 13, 15, 23 or 31 (polynomials in the module docstring).
    n_bits : int, optional
        Number of bits, default one period ``2**order - 1`` (PRBS31 needs an explicit
        ``n_bits``: one period is 2 GiB).  Longer requests continue the sequence.
    seed : int, optional
        Register content ``S0..S(n-1)`` before the first output bit, ``S0`` in the least
        significant bit; 1 .. 2**order - 1.  Default: the 120.5.11.2.1 seed for PRBS13,
        all ones otherwise.

    Returns
    -------
    numpy.ndarray of uint8
        Bits 0/1 in transmission order (PRBS31 after the Figure 49-9 output inverter).

    Raises
    ------
    InvalidParameter
        Unsupported order (the message lists the allowed ones), seed out of range, bit
        count out of range.
    InvalidType
        Non-integer order, count or seed.

    Examples
    --------
    >>> prbs_bits(7)[:10]
    array([0, 0, 0, 0, 0, 0, 1, 0, 0, 0], dtype=uint8)
    """
    order = _check_order(order)
    n_bits = _check_count("n_bits", n_bits, (1 << order) - 1, order, "bits")
    seed = _check_seed(seed, order)
    bits = _lfsr_bits(order, seed, n_bits)
    if order in INVERTED_ORDERS:
        np.bitwise_xor(bits, 1, out=bits)
    return bits


def gray_encode(bits: Any) -> np.ndarray:
    """Gray-map bit pairs to PAM4 symbols (IEEE 802.3 120.5.7.1).

    The first bit of each pair is the MSB: ``00 -> 0, 01 -> 1, 11 -> 2, 10 -> 3``.

    Parameters
    ----------
    bits : array_like of int
        1-D, even length, values 0 or 1.

    Returns
    -------
    numpy.ndarray of uint8
        ``len(bits) // 2`` symbols 0..3.

    Raises
    ------
    InvalidParameter
        Not 1-D, odd length, or values other than 0/1.

    Examples
    --------
    >>> gray_encode([0, 0, 0, 1, 1, 1, 1, 0])
    array([0, 1, 2, 3], dtype=uint8)
    """
    arr = np.asarray(bits)
    if arr.ndim != 1:
        raise InvalidParameter(f"bits must be 1-D, got shape {arr.shape}")
    if arr.size % 2:
        raise InvalidParameter(f"bits must have an even length (bit pairs), got {arr.size}")
    if arr.size and not (np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool):
        raise InvalidParameter(f"bits must be integers 0 or 1, got dtype {arr.dtype}")
    if arr.size and (arr.min() < 0 or arr.max() > 1):
        raise InvalidParameter(f"bits must be 0 or 1, got values from {arr.min()} to {arr.max()}")
    b = arr.astype(np.uint8, copy=False)
    return _GRAY_FROM_BINARY[(b[0::2] << 1) | b[1::2]]


def gray_decode(symbols: Any) -> np.ndarray:
    """Bits of PAM4 symbols under the 120.5.7.1 Gray map (inverse of :func:`gray_encode`).

    Parameters
    ----------
    symbols : array_like of int
        1-D, values 0..3.

    Returns
    -------
    numpy.ndarray of uint8
        ``2 * len(symbols)`` bits, MSB of each symbol first.

    Raises
    ------
    InvalidParameter
        Not 1-D, or values outside 0..3.

    Examples
    --------
    >>> gray_decode([0, 1, 2, 3])
    array([0, 0, 0, 1, 1, 1, 1, 0], dtype=uint8)
    """
    arr = np.asarray(symbols)
    if arr.ndim != 1:
        raise InvalidParameter(f"symbols must be 1-D, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise InvalidParameter(f"symbols must be integers 0..3, got dtype {arr.dtype}")
    if arr.size and (arr.min() < 0 or arr.max() > 3):
        raise InvalidParameter(f"symbols must be in 0..3, got values from {arr.min()} to {arr.max()}")
    return _BITS_OF_SYMBOL[arr.astype(np.intp, copy=False)].reshape(-1)


def prbs_q(order: int, n_symbols: int | None = None, *, seed: int | None = None) -> np.ndarray:
    """PRBSnQ: Gray-coded PAM4 symbols from the PRBSn bit stream (120.5.11.2.x).

    Parameters
    ----------
    order : int
        7, 9, 11, 13, 15, 23 or 31.
    n_symbols : int, optional
        Number of symbols, default one period ``2**order - 1`` symbols (two bit periods).
        PRBS31Q needs an explicit ``n_symbols``.
    seed : int, optional
        As for :func:`prbs_bits` (PRBS13Q defaults to the 120.5.11.2.1 seed).

    Returns
    -------
    numpy.ndarray of uint8
        Symbols 0..3.

    Raises
    ------
    InvalidParameter, InvalidType
        As for :func:`prbs_bits`.

    Examples
    --------
    >>> prbs_q(13).size
    8191
    """
    order = _check_order(order)
    # two bits per symbol: the bit stream limit halves the symbol count
    n_symbols = _check_count("n_symbols", n_symbols, (1 << order) - 1, order, "symbols",
                             _MAX_BITS // 4)
    return gray_encode(prbs_bits(order, 2 * n_symbols, seed=seed))


@functools.lru_cache(maxsize=1)
def _ssprq_period() -> np.ndarray:
    block = np.concatenate([prbs_bits(31, n, seed=s) for s, n in SSPRQ_SECTIONS])
    bits = np.concatenate([block, block, block[1:], block[:-1]])
    sym = gray_encode(bits)
    half = block.size // 2  # 16384 symbols per repetition of the block
    sym[half : 2 * half] = 3 - sym[half : 2 * half]
    sym[SSPRQ_LENGTH - half :] = 3 - sym[SSPRQ_LENGTH - half :]
    sym.setflags(write=False)
    return sym


def ssprq() -> np.ndarray:
    """SSPRQ, the 65535-symbol short stress pattern random quaternary (120.5.11.2.3).

    Built as described in the module docstring from three PRBS31 sections.  It is not
    equiprobable: one period holds 15215 symbols each of levels 0 and 3 and 17553 / 17552
    of levels 1 and 2 (outer levels 23.2 %, inner 26.8 %).

    Returns
    -------
    numpy.ndarray of uint8
        65535 symbols 0..3 (a fresh, writable copy).

    Examples
    --------
    >>> s = ssprq()
    >>> s.size, int((s == 0).sum())
    (65535, 15215)
    """
    return _ssprq_period().copy()


def pattern(name: str, n_symbols: int | None = None) -> np.ndarray:
    """A named PAM4 test pattern.

    Parameters
    ----------
    name : str
        ``"PRBS7Q"``, ``"PRBS9Q"``, ``"PRBS11Q"``, ``"PRBS13Q"``, ``"PRBS15Q"``, ``"PRBS23Q"``,
        ``"PRBS31Q"`` or ``"SSPRQ"``, case-insensitive.
    n_symbols : int, optional
        Number of symbols; default one period (PRBS31Q needs it).  SSPRQ longer than one
        period repeats.

    Returns
    -------
    numpy.ndarray of uint8
        Symbols 0..3.

    Raises
    ------
    InvalidParameter
        Unknown name (the message lists the allowed names) or bad ``n_symbols``.

    Examples
    --------
    >>> pattern("ssprq", 10)
    array([2, 2, 2, 2, 2, 2, 2, 2, 2, 2], dtype=uint8)
    """
    if not isinstance(name, str):
        raise InvalidType(f"pattern name must be a string, got {name!r} ({type(name).__name__})")
    key = name.strip().upper()
    if key == "SSPRQ":
        if n_symbols is None:
            return ssprq()
        n = _check_count("n_symbols", n_symbols, SSPRQ_LENGTH, 31, "symbols")
        return np.resize(_ssprq_period(), n)
    if key.startswith("PRBS") and key.endswith("Q") and key[4:-1].isdigit():
        order = int(key[4:-1])
        if order in PRBS_TAPS:
            return prbs_q(order, n_symbols)
    raise InvalidParameter(f"unknown pattern {name!r}; allowed names: {', '.join(PATTERN_NAMES)}")


__all__ = [
    "INVERTED_ORDERS",
    "PATTERN_NAMES",
    "PRBS13Q_SEED",
    "PRBS_TAPS",
    "SSPRQ_LENGTH",
    "SSPRQ_SECTIONS",
    "gray_decode",
    "gray_encode",
    "pattern",
    "prbs_bits",
    "prbs_q",
    "ssprq",
]
