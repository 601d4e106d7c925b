"""Tests of optics.patterns against independent references.

References used (none of them computed by optics.patterns):

* IEEE 802.3-2022 120.5.11.2.1 / 120.5.11.2.2 example symbols for PRBS13Q (seed
  S0..S12 = 0000010101011) and PRBS31Q (all-ones seed), as quoted by a public test suite
  (IMDD patterns, julia/test) that cites those subclauses.
* SHA-256, first 64 symbols and level counts of IEEE's machine-readable SSPRQ sequence
  (``SSPRQ_sequence.csv``), as pinned by two public projects that checked their SSPRQ
  against that file.
* The first 40 symbols of ``SignalIntegrity/Lib/Prbs/SSPRQ.txt`` in the public repository
  Nubis-Communications/SignalIntegrity (an SSPRQ stored as levels -1..1, starting at
  another phase of the cycle).
* A naive bit-at-a-time shift register written below from the register drawing
  (feedback into S0, taps XORed), to check the fast block generator.
* Properties of maximal-length sequences: every non-zero n-bit window once per period,
  2**(n-1) ones, longest runs n ones / n-1 zeros.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from optics import patterns
from optics.errors import InvalidParameter, InvalidType

# IEEE 802.3-2022 120.5.11.2.1 (PRBS13Q) and 120.5.11.2.2 (PRBS31Q, all-ones seed) examples.
PRBS13Q_EXAMPLE = "1031320220111130103121231210012102121023131112"
PRBS31Q_EXAMPLE = "22222222222222012222222222220002222222222201201222"
# Published SSPRQ: SHA-256 of the 65535 symbols as uint8, first 64 symbols, level counts.
SSPRQ_SHA256 = "f17f5effb8e68863e5355258186456e1c3b3c48b5519c1a0c46dac855fae3582"
SSPRQ_PREFIX = "2222222222222132222222222221221222222222213213222222222122222122"
SSPRQ_COUNTS = [15215, 17553, 17552, 15215]
# Nubis-Communications/SignalIntegrity SSPRQ.txt, first 40 values mapped -1, -1/3, 1/3, 1 -> 0..3.
SSPRQ_OTHER_PHASE = "0013122220331222311022202020223131312033"


def naive_lfsr(order: int, taps: tuple[int, ...], seed: int, n: int, invert: bool) -> np.ndarray:
    """Bit-at-a-time Fibonacci register: state[k] = S_k, feedback XOR of S_(t-1) into S0."""
    state = [(seed >> k) & 1 for k in range(order)]
    out = []
    for _ in range(n):
        fb = 0
        for t in taps:
            fb ^= state[t - 1]
        out.append(fb ^ 1 if invert else fb)
        state = [fb] + state[:-1]
    return np.array(out, dtype=np.uint8)


def symbols_str(sym: np.ndarray) -> str:
    return "".join(str(int(s)) for s in sym)


# --- the standard's own examples -------------------------------------------------------
def test_prbs13q_reproduces_the_ieee_example():
    assert symbols_str(patterns.prbs_q(13, len(PRBS13Q_EXAMPLE))) == PRBS13Q_EXAMPLE


def test_prbs13q_default_seed_is_the_clause_120_seed():
    # S0..S12 = 0000010101011 written S0 first; S0 is the least significant bit.
    seed = int("0000010101011"[::-1], 2)
    assert patterns.PRBS13Q_SEED == seed
    assert np.array_equal(patterns.prbs_q(13, 100), patterns.prbs_q(13, 100, seed=seed))


def test_prbs31q_with_all_ones_seed_reproduces_the_ieee_example():
    got = patterns.prbs_q(31, len(PRBS31Q_EXAMPLE), seed=(1 << 31) - 1)
    assert symbols_str(got) == PRBS31Q_EXAMPLE


def test_ssprq_matches_the_published_sequence():
    s = patterns.ssprq()
    assert s.dtype == np.uint8 and s.size == 65535
    assert symbols_str(s[:64]) == SSPRQ_PREFIX
    assert hashlib.sha256(s.tobytes()).hexdigest() == SSPRQ_SHA256


def test_ssprq_contains_a_second_published_copy_at_one_phase():
    """Another public SSPRQ file starts elsewhere in the cycle: its first 40 symbols must
    occur exactly once in the cyclic pattern (40 random symbols match by chance w.p. 4^-40).
    The offset found, 44229, is recorded so that a change of phase is noticed."""
    s = patterns.ssprq()
    cyc = np.concatenate([s, s[:39]])
    want = np.frombuffer(SSPRQ_OTHER_PHASE.encode(), dtype=np.uint8) - ord("0")
    windows = np.lib.stride_tricks.sliding_window_view(cyc, want.size)
    assert np.flatnonzero((windows == want).all(axis=1)).tolist() == [44229]


def test_ssprq_is_not_equiprobable():
    """Literature (Li, JLT 2023): SSPRQ is not equiprobable; outer levels are rarer."""
    counts = np.bincount(patterns.ssprq(), minlength=4)
    assert counts.tolist() == SSPRQ_COUNTS
    p = counts / 65535
    assert p[0] == pytest.approx(0.232166, abs=1e-6)
    assert p[1] == pytest.approx(0.267842, abs=1e-6)


def test_ssprq_sections_obey_the_prbs31_recurrence_with_inverter():
    """Each section q satisfies q[i] = 1 ^ q[i-28] ^ q[i-31] (inverted output, Figure 49-9)."""
    for seed, n in patterns.SSPRQ_SECTIONS:
        q = patterns.prbs_bits(31, n, seed=seed).astype(int)
        assert np.array_equal(q[31:], 1 ^ q[3:-28] ^ q[:-31])
    assert sum(n for _, n in patterns.SSPRQ_SECTIONS) == 32768


def test_ssprq_returns_an_independent_copy():
    a = patterns.ssprq()
    a[:] = 0
    assert symbols_str(patterns.ssprq()[:4]) == "2222"


# --- generator against the naive register -----------------------------------------------
@pytest.mark.parametrize("order", sorted(patterns.PRBS_TAPS))
def test_fast_generator_matches_bit_by_bit_register(order):
    taps = patterns.PRBS_TAPS[order]
    for seed in (1, (1 << order) - 1, 0b1011 % (1 << order) or 1):
        n = 3000
        ref = naive_lfsr(order, taps, seed, n, invert=order in patterns.INVERTED_ORDERS)
        assert np.array_equal(patterns.prbs_bits(order, n, seed=seed), ref), (order, seed)


def test_long_prbs31_obeys_its_recurrence():
    """2e6 bits span many block doublings of the fast generator."""
    q = patterns.prbs_bits(31, 2_000_000).astype(np.uint8)
    assert np.array_equal(q[31:], 1 ^ q[3:-28] ^ q[:-31])


# --- maximal-length properties ---------------------------------------------------------
def _windows(bits: np.ndarray, n: int) -> np.ndarray:
    """Integer value of every cyclic n-bit window of one period."""
    wrapped = np.concatenate([bits, bits[: n - 1]]).astype(np.int64)
    vals = np.zeros(bits.size, dtype=np.int64)
    for k in range(n):
        vals = (vals << 1) | wrapped[k : k + bits.size]
    return vals


def _max_runs(bits: np.ndarray) -> tuple[int, int]:
    """Longest cyclic runs of ones and of zeros."""
    b = np.roll(bits, -int(np.flatnonzero(np.diff(bits))[0]) - 1).astype(np.int8)  # start at a change
    edges = np.flatnonzero(np.diff(np.concatenate([[1 - b[0]], b, [1 - b[-1]]])))
    lengths = np.diff(edges)
    values = b[edges[:-1]]
    return int(lengths[values == 1].max()), int(lengths[values == 0].max())


@pytest.mark.parametrize("order", [7, 9, 11, 13, 15, 23])
def test_one_period_is_a_maximal_length_sequence(order):
    period = (1 << order) - 1
    bits = patterns.prbs_bits(order)
    assert bits.size == period
    counts = np.bincount(_windows(bits, order), minlength=1 << order)
    assert counts[0] == 0 and np.all(counts[1:] == 1)  # every state once: period is 2^n - 1
    assert int(bits.sum()) == 1 << (order - 1)
    assert _max_runs(bits) == (order, order - 1)
    # the stream continues periodically
    assert np.array_equal(patterns.prbs_bits(order, 2 * period)[period:], bits)


def test_prbs_q_period_is_two_bit_periods():
    q = patterns.prbs_q(9, 2 * 511)
    assert np.array_equal(q[:511], q[511:])
    assert not np.array_equal(q[:255], q[255:510])  # half a symbol period does not repeat
    assert patterns.prbs_q(13).size == 8191


@pytest.mark.parametrize("name", [f"PRBS{n}Q" for n in (7, 9, 11, 13, 15)])
def test_prbs_q_levels_are_almost_equiprobable(name):
    """One PRBSnQ period takes every cyclic 2-bit window of the bit period once (2 is
    invertible modulo the odd 2^n - 1).  In an m-sequence the window 00 occurs 2^(n-2) - 1
    times and 01, 11, 10 occur 2^(n-2) times each."""
    n = int(name[4:-1])
    counts = np.bincount(patterns.pattern(name), minlength=4)
    assert counts.tolist() == [(1 << (n - 2)) - 1] + [1 << (n - 2)] * 3


# --- Gray map ----------------------------------------------------------------------------
def test_gray_map_table_of_clause_120():
    assert patterns.gray_encode([0, 0, 0, 1, 1, 1, 1, 0]).tolist() == [0, 1, 2, 3]
    assert patterns.gray_decode([0, 1, 2, 3]).tolist() == [0, 0, 0, 1, 1, 1, 1, 0]


def test_gray_round_trip_and_single_bit_neighbours():
    rng = np.random.default_rng(7)
    bits = rng.integers(0, 2, 10_000).astype(np.uint8)
    assert np.array_equal(patterns.gray_decode(patterns.gray_encode(bits)), bits)
    sym = np.arange(4)
    b = patterns.gray_decode(sym).reshape(4, 2)
    assert all(int(np.sum(b[k] != b[k + 1])) == 1 for k in range(3))  # adjacent levels differ by 1 bit


# --- names and bad input -----------------------------------------------------------------
def test_pattern_names_are_case_insensitive_and_repeat_ssprq():
    assert np.array_equal(patterns.pattern(" prbs13q "), patterns.prbs_q(13))
    long = patterns.pattern("SSPRQ", 65535 + 10)
    assert np.array_equal(long[65535:], long[:10])
    assert patterns.pattern("PRBS31Q", 1000).size == 1000


def test_unknown_name_lists_allowed_names():
    with pytest.raises(InvalidParameter, match="allowed names: PRBS7Q.*SSPRQ"):
        patterns.pattern("PRBS8Q")
    with pytest.raises(InvalidType):
        patterns.pattern(13)


def test_bad_order_lists_allowed_orders():
    with pytest.raises(InvalidParameter, match="allowed orders: 7, 9, 11, 13, 15, 23, 31"):
        patterns.prbs_bits(10)
    with pytest.raises(InvalidType):
        patterns.prbs_bits(7.0)


@pytest.mark.parametrize("kwargs", [dict(seed=0), dict(seed=128), dict(n_bits=0)])
def test_bad_seed_or_length_raises(kwargs):
    with pytest.raises(InvalidParameter):
        patterns.prbs_bits(7, **{"n_bits": 10, **kwargs})


def test_prbs31_needs_an_explicit_length():
    with pytest.raises(InvalidParameter, match="give n_bits"):
        patterns.prbs_bits(31)
    with pytest.raises(InvalidParameter, match="give n_symbols"):
        patterns.pattern("PRBS31Q")


@pytest.mark.parametrize("bad", [[0, 1, 1], [0, 2], [[0, 1]], [0.5, 1.0]])
def test_gray_encode_rejects_bad_bits(bad):
    with pytest.raises(InvalidParameter):
        patterns.gray_encode(bad)


@pytest.mark.parametrize("bad", [[4], [-1], [[1]], [1.5]])
def test_gray_decode_rejects_bad_symbols(bad):
    with pytest.raises(InvalidParameter):
        patterns.gray_decode(bad)


def test_prbs_q_length_limit_names_n_symbols():
    # 2 bits per symbol: 2**29 + 1 symbols needs more bits than prbs_bits builds; the error
    # named the internal "n_bits" instead of the caller's n_symbols and its real limit
    with pytest.raises(InvalidParameter, match=r"n_symbols = 536870913 .*\[1, 536870912\]"):
        patterns.prbs_q(31, 2**29 + 1)
