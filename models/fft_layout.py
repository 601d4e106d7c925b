"""Four-step FFT of a long record, left in its transposed ("four-step") layout.

The link filters a whole circular record with one forward transform, a multiply by a response
and one inverse transform.  Only the product matters, so the spectrum need not be in the usual
bin order: it can stay in whatever layout the transform leaves it in, as long as the response
is laid out the same way.  For a long record of fast length ``N = N1·N2`` (2^20 samples in the
BER benchmark) the four-step algorithm (D. H. Bailey, "FFTs in external or hierarchical
memory", J. Supercomputing 4, 23 (1990); also W. M. Gentleman and G. Sande, 1966) works on
short transforms that fit in cache:

With ``x`` read as an ``N1 × N2`` array, ``x[a, b] = x[N2·a + b]``,

``X[k1 + N1·k2] = Σ_b W_N2^(b·k2) · W_N^(b·k1) · Σ_a x[a, b] W_N1^(a·k1)``,  ``W_M = exp(−2πj/M)``:

1. ``N2`` transforms of length ``N1`` down the columns,
2. a multiply by the twiddle factors ``W_N^(b·k1)``,
3. ``N1`` transforms of length ``N2`` along the rows,

which leaves ``X[k1 + N1·k2]`` at ``[k1, k2]``.  The usual last step, a transpose into bin
order, is skipped; the inverse undoes steps 3, 2, 1 in that order and returns the samples in
time order.  Real records (:meth:`FourStep.real_forward`) take real column transforms and keep
the rows ``k1 <= N1/2``.  The column transforms run in place on a copy whose rows are padded
(:data:`ROW_PAD`): with rows of a power of two elements, a column's elements fall into the
same few cache sets and the strided pass runs at half speed.  On this project's 2-core
machines a 2^20-point complex64 transform pair takes about 0.4 of the time of one 1-D
pocketfft call each way, a float32 real pair about 0.55 of it (``benchmarks/bench_models.py``
[1b]), and the short transforms split over threads (``workers``).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import scipy.fft as sfft

from models import gaussian
from optics import validate
from optics.errors import InvalidParameter

#: Records shorter than this are transformed in one 1-D call (they fit in cache anyway).
MIN_FOUR_STEP_LENGTH = 1 << 17

#: Extra elements per row of the buffers the column transforms run on.  A row of a power of
#: two elements puts the elements of a column at addresses that map to the same few cache
#: sets; with padded rows the strided column pass runs about twice as fast (in place).
ROW_PAD = 8


@functools.lru_cache(maxsize=8)
def four_step_split(n: int) -> tuple[int, int] | None:
    """``(N1, N2)`` with ``N1·N2 = n`` and ``N1`` the divisor nearest ``sqrt(n)``, or None.

    None for records shorter than :data:`MIN_FOUR_STEP_LENGTH` or whose length is not a fast
    FFT length (those use :func:`models.response.pfa_plan` or a plain transform).
    """
    n = validate.integer("n", n, 1)
    if n < MIN_FOUR_STEP_LENGTH or sfft.next_fast_len(n) != n:
        return None
    root = math.isqrt(n)
    for d in range(root, 1, -1):
        if n % d == 0:
            n1, n2 = n // d, d  # N1 >= N2: the strided column pass has the shorter batch
            return (n1, n2) if n2 >= 16 else None
    return None


class FourStep:
    """The four-step transform pair of one record length (module docstring).

    Parameters
    ----------
    n : int
        Record length; :func:`four_step_split` must accept it.

    Raises
    ------
    InvalidParameter
        ``n`` has no four-step split.
    """

    def __init__(self, n: int) -> None:
        split = four_step_split(n)
        if split is None:
            raise InvalidParameter(
                f"n = {n} has no four-step split: a fast FFT length of at least {MIN_FOUR_STEP_LENGTH} is needed"
            )
        self.n = int(n)
        self.n1, self.n2 = split
        self._twiddles: dict[tuple[np.dtype, bool], np.ndarray] = {}

    def twiddle(self, dtype: type = np.complex128, *, conjugate: bool = False) -> np.ndarray:
        """``W_N^(b·k1)`` (or its conjugate) as an ``N1 × N2`` array of ``dtype`` (read-only, kept)."""
        key = (np.dtype(dtype), conjugate)
        tw = self._twiddles.get(key)
        if tw is None:
            k1 = np.arange(self.n1, dtype=np.int64)[:, None]
            b = np.arange(self.n2, dtype=np.int64)[None, :]
            # exact integer product modulo N, then one rounding of the angle
            angle = (k1 * b % self.n) * ((2.0 if conjugate else -2.0) * math.pi / self.n)
            tw = np.empty((self.n1, self.n2), dtype=np.complex128)
            np.cos(angle, out=tw.real)
            np.sin(angle, out=tw.imag)
            tw = tw.astype(key[0], copy=False)
            tw.setflags(write=False)
            self._twiddles[key] = tw
        return tw

    def frequencies(self) -> np.ndarray:
        """Frequency (cycles/sample, in ``[-1/2, 1/2)``) of each ``[k1, k2]`` entry of the layout."""
        k1 = np.arange(self.n1)[:, None]
        k2 = np.arange(self.n2)[None, :]
        return sfft.fftfreq(self.n, 1.0)[k1 + self.n1 * k2]

    def _padded(self, values: np.ndarray, rows: int) -> np.ndarray:
        """``values`` (``rows × N2``) copied into a new buffer whose rows are :data:`ROW_PAD`
        elements longer, as an ``rows × N2`` view of it."""
        buf = np.empty((rows, self.n2 + ROW_PAD), dtype=values.dtype)
        view = buf[:, : self.n2]
        np.copyto(view, values)
        return view

    def _time_order(self, rows: np.ndarray, dtype: np.dtype) -> np.ndarray:
        """The ``N1 × N2`` rows copied into one new record of ``n`` samples (an array of its own)."""
        out = np.empty(self.n, dtype=dtype)
        np.copyto(out.reshape(self.n1, self.n2), rows, casting="same_kind")
        return out

    def _in_place(self, fn, a: np.ndarray, axis: int, workers: int) -> np.ndarray:
        out = fn(a, axis=axis, workers=workers, overwrite_x=True)
        if not np.shares_memory(out, a):  # pocketfft works in place on these strides; kept safe
            np.copyto(a, out)
        return a

    def forward(self, x: np.ndarray, *, workers: int = 1, overwrite_x: bool = False) -> np.ndarray:
        """The DFT of the complex record ``x`` (length ``n``) in the ``N1 × N2`` four-step layout.

        The result is a view of a buffer with padded rows (see :data:`ROW_PAD`); ``x`` is never
        changed (``overwrite_x`` is accepted for the common signature).
        """
        a = self._padded(x.reshape(self.n1, self.n2), self.n1)
        self._in_place(sfft.fft, a, 0, workers)
        a *= self.twiddle(a.dtype)
        return self._in_place(sfft.fft, a, 1, workers)

    def inverse(self, spec: np.ndarray, *, workers: int = 1, as_rows: bool = False) -> np.ndarray:
        """The record (length ``n``, time order) whose :meth:`forward` is ``spec`` (overwritten).

        ``as_rows``: the record as an ``N1 × N2`` view of consecutive rows of ``N2`` samples
        (time order row by row) in a padded buffer, without the copy into one contiguous array.
        """
        base = spec.base
        if base is None or base.shape != (self.n1, self.n2 + ROW_PAD) or not spec.flags.writeable:
            spec = self._padded(spec, self.n1)
        a = self._in_place(sfft.ifft, spec, 1, workers)
        a *= self.twiddle(a.dtype, conjugate=True)
        self._in_place(sfft.ifft, a, 0, workers)
        return a if as_rows else self._time_order(a, a.dtype)

    # --- real records: the column transforms are real (rfft), half the rows are kept ----------
    @property
    def real_ok(self) -> bool:
        """True when real records can use :meth:`real_forward` (``N1`` even)."""
        return self.n1 % 2 == 0

    @property
    def real_shape(self) -> tuple[int, int]:
        """Shape ``(N1/2 + 1, N2)`` of :meth:`real_forward`'s layout."""
        return self.n1 // 2 + 1, self.n2

    def real_forward(self, x: np.ndarray, *, workers: int = 1) -> np.ndarray:
        """The DFT of the real record ``x`` at the bins ``k1 + N1·k2`` with ``k1 <= N1/2``.

        The column transforms of step 1 are real, so rows ``k1 > N1/2`` are the conjugates of
        rows ``N1 − k1`` and are never formed; every other bin of the spectrum is in the
        ``(N1/2 + 1) × N2`` result once (rows 0 and ``N1/2`` hold both ``k`` and ``N − k``).
        """
        # (a record of n samples, or its N1 × N2 rows)
        a = sfft.rfft(self._padded(x.reshape(self.n1, self.n2), self.n1), axis=0, workers=workers)
        a *= self.twiddle(a.dtype)[: self.n1 // 2 + 1]
        return sfft.fft(a, axis=1, workers=workers, overwrite_x=True)

    def real_inverse(self, spec: np.ndarray, *, workers: int = 1, dtype: type | None = None) -> np.ndarray:
        """The real record whose :meth:`real_forward` is ``spec`` (overwritten), in time order.

        Exact for the spectrum of a real record times a Hermitian response: the rows it holds
        are then those of a real record's column transforms, which ``irfft`` inverts.
        ``dtype``: of the returned record (default: the transform's precision), converted in
        the one copy into time order.
        """
        a = sfft.ifft(spec, axis=1, workers=workers, overwrite_x=True)
        a *= self.twiddle(a.dtype, conjugate=True)[: self.n1 // 2 + 1]
        # the real column transforms written into padded rows (numpy's irfft takes ``out``;
        # scipy's would write power-of-two rows, at about three times the cost)
        out = np.empty((self.n1, self.n2 + ROW_PAD), dtype=np.float32 if a.dtype == np.complex64 else np.float64)
        view = out[:, : self.n2]
        np.fft.irfft(a, n=self.n1, axis=0, out=view)
        return self._time_order(view, view.dtype if dtype is None else dtype)

    def real_frequencies(self) -> np.ndarray:
        """Frequency (cycles/sample) of each entry of :meth:`real_forward`'s layout."""
        return self.frequencies()[: self.n1 // 2 + 1]

    def real_white_noise(self, sigma: float, rng: np.random.Generator, *, dtype: type = np.complex128) -> np.ndarray:
        """:meth:`real_forward` of a real white Gaussian record of rms ``sigma`` (``dtype``:
        complex128, or complex64 for the same draws in single precision).

        Drawn in the layout: rows ``1 ... N1/2 − 1`` hold independent bins (no bin's conjugate
        partner is among them), complex Gaussian with ``E|X|² = N·σ²``.  Row 0 is the row
        transform of the column sums ``Σ_a x[a, b]`` and row ``N1/2`` that of
        ``Σ_a (−1)^a x[a, b]`` times its twiddles ``exp(−jπ b/N2)``; both sums are real and
        independent with variance ``N1·σ²``.  ``N`` standard normals in all, in this order:
        the interior bins as (real, imaginary) pairs in row order (drawn straight into the
        array), row 0's sums, row ``N1/2``'s sums.
        """
        rows, n2 = self.real_shape
        cdt = np.dtype(dtype)
        rdt = np.float64 if cdt == np.complex128 else np.float32
        if cdt not in (np.complex128, np.complex64):
            raise InvalidParameter(f"dtype = {cdt} is not supported; complex128 or complex64")
        out = np.empty((rows, n2), dtype=cdt)
        interior = out[1:-1].view(rdt).reshape(-1)  # contiguous (re, im) pairs
        gaussian.standard_normal(rng, interior.size, out=interior, dtype=rdt)
        interior *= rdt(sigma * math.sqrt(self.n / 2.0))
        col = sigma * math.sqrt(self.n1)
        out[0] = sfft.fft(col * gaussian.standard_normal(rng, n2))
        b = np.arange(n2)
        out[-1] = sfft.fft(col * gaussian.standard_normal(rng, n2) * np.exp(-1j * math.pi * b / n2))
        return out


@functools.lru_cache(maxsize=2)
def four_step(n: int) -> FourStep | None:
    """The (kept) :class:`FourStep` of length ``n``, or None when it has no split."""
    return FourStep(n) if four_step_split(n) is not None else None
