"""Fast real DFTs of a record of any length (a record taken as one period of a periodic signal).

Pattern-locked records are whole periods of a PRBS/SSPRQ pattern, so their lengths carry
the pattern's large prime factors (PRBS13Q: 8191 symbols, prime; SSPRQ: 65535 =
3·5·17·257), which pocketfft's 1-D transform handles slowly (131 056 = 16·8191 samples:
~17 ms per ``rfft``).  When ``n = n1·n2`` with coprime ``n1, n2``, the length-``n`` DFT is a
2-D DFT of the record permuted by the Good-Thomas map (:func:`pfa_plan`): one rfft of
131 056 samples ~17 ms, its 2-D form ~3 ms on this machine.
The spectrum then lives in the 2-D layout; :func:`real_spectrum` / :func:`real_inverse`
are a forward/inverse pair in it and :func:`real_spectrum_freqs` gives each bin's frequency,
so a response ``H(f)`` is applied by one multiplication in that layout.

The link models (:mod:`models.response`) use the same plan.

References
----------
I. J. Good, "The interaction algorithm and practical Fourier analysis", J. R. Stat. Soc. B
20 (1958); L. H. Thomas, "Using a computer to solve problems in physics" (1963).
"""

from __future__ import annotations

import functools

import numpy as np
import scipy.fft as sfft

#: Prime factors that pocketfft transforms with its own fast passes; a length with a larger
#: prime factor (SSPRQ: 65535 = 3·5·17·257) is split by :func:`pfa_plan`.
FAST_PRIMES = (2, 3, 5, 7, 11)


def prime_powers(n: int) -> list[int]:
    """The prime-power factors ``p^k`` of ``n`` (pairwise coprime), largest prime last."""
    out = []
    p = 2
    while p * p <= n:
        if n % p == 0:
            q = 1
            while n % p == 0:
                n //= p
                q *= p
            out.append(q)
        p += 1
    if n > 1:
        out.append(n)
    return out


def pfa_split(n: int) -> tuple[int, int] | None:
    """Coprime ``(n1, n2)`` with ``n = n1·n2`` for the Good-Thomas map, or None.

    ``n1`` is the prime power of the largest prime factor when that prime is not one of
    pocketfft's fast radices (``n2`` then holds every other factor, e.g. SSPRQ × 32 samples:
    ``257 × 8160``: the slow length-257 pass runs over 8160 short columns and the real
    transform along the long, smooth axis); otherwise, for a length that is still not a fast
    FFT length, the power of two against the odd rest.
    """
    if n < 4 or sfft.next_fast_len(n) == n:
        return None
    pp = prime_powers(n)
    if len(pp) < 2:
        return None
    big = pp[-1]
    if all(big % p for p in FAST_PRIMES):
        return big, n // big
    n1 = n & -n
    return (n1, n // n1) if 1 < n1 < n else None


@functools.lru_cache(maxsize=4)
def pfa_plan(n: int) -> tuple[int, int, np.ndarray, np.ndarray] | None:
    """Good-Thomas prime-factor plan for ``n = n1·n2`` with coprime n1, n2 (:func:`pfa_split`).

    The DFT of length n equals the 2-D DFT of ``x[(n2·i1 + n1·i2) mod n]`` with output index
    ``k = (k1·n2·(n2⁻¹ mod n1) + k2·n1·(n1⁻¹ mod n2)) mod n``.  Used when n is not a fast FFT
    length, where the 2-D transform is 2-6× faster than the 1-D one on this hardware.
    Returns None when it does not apply.  Plan: ``(n1, n2, input map, frequency of each 2-D
    bin in cycles/sample)``, both maps of shape ``(n1, n2)`` (read-only).
    """
    split = pfa_split(n)
    if split is None:
        return None
    n1, n2 = split
    i1 = np.arange(n1, dtype=np.int64)[:, None]
    i2 = np.arange(n2, dtype=np.int64)[None, :]
    imap = (n2 * i1 + n1 * i2) % n
    kmap = (i1 * (n2 * pow(n2, -1, n1)) + i2 * (n1 * pow(n1, -1, n2))) % n
    fmap = sfft.fftfreq(n, 1.0)[kmap]
    imap.setflags(write=False)
    fmap.setflags(write=False)
    return n1, n2, imap, fmap


def real_spectrum(x: np.ndarray, *, workers: int = 1) -> np.ndarray:
    """Half spectrum of a real record: ``rfft2`` in :func:`pfa_plan` order, else ``rfft(x)``."""
    plan = pfa_plan(x.size)
    if plan is not None:
        return sfft.rfft2(x[plan[2]], workers=workers)
    return sfft.rfft(x, workers=workers)


def real_inverse(spec: np.ndarray, n: int, *, workers: int = 1) -> np.ndarray:
    """Inverse of :func:`real_spectrum` for a record of ``n`` samples (float64, time order;
    ``spec`` is overwritten)."""
    plan = pfa_plan(n)
    if plan is None:
        return sfft.irfft(spec, n, overwrite_x=True, workers=workers)
    out = np.empty(n, dtype=np.float64)
    out[plan[2]] = sfft.irfft2(spec, s=(plan[0], plan[1]), overwrite_x=True, workers=workers)
    return out


def real_spectrum_freqs(n: int, sample_rate_hz: float) -> np.ndarray:
    """Frequencies (Hz) of the bins of :func:`real_spectrum` (negative ones included in 2-D)."""
    plan = pfa_plan(n)
    if plan is not None:
        return plan[3][:, : plan[1] // 2 + 1] * sample_rate_hz
    return sfft.rfftfreq(n, 1.0 / sample_rate_hz)


__all__ = ["FAST_PRIMES", "pfa_plan", "pfa_split", "prime_powers", "real_inverse", "real_spectrum",
           "real_spectrum_freqs"]
