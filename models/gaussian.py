"""Standard normal draws for a link's noise (laser RIN, shot noise, TIA noise).

Box–Muller transform (G. E. P. Box and M. E. Muller, "A note on the generation of random
normal deviates", Ann. Math. Statist. 29(2), 610 (1958)): for independent uniforms
``U1 ∈ (0, 1]`` and ``U2 ∈ [0, 1)``,

``Z1 = sqrt(−2 ln U1)·cos(2π U2)``,  ``Z2 = sqrt(−2 ln U1)·sin(2π U2)``

are independent standard normals.  The uniforms of the radius are ``Generator.random``
doubles (steps of 2^-53, so ``|Z| <= 8.57``: the truncated tail, ``P(|Z| > 8.57) ≈ 1e-17``,
is never reached in a record); those of the angle are single-precision ones (steps of 2^-24,
half the generator output each).  The radius is computed in float64 and the cosine and sine
of the angle in float32 (numpy's SIMD kernels), which moves each draw by about 1e-7 of its
value, far below the accuracy of any noise parameter; ``dtype=float32`` returns the same
draws rounded to single precision without a float64 array (for the single-precision
channel).  Vectorised this way, in cache-sized pieces, it takes about a third of the time of
``Generator.standard_normal`` (ziggurat, one draw at a time) on this project's machines:
2^20 draws in 3.3 ms (float64) or 2.7 ms (float32) against 8-9 ms
(``benchmarks/bench_models.py`` [1a] prints the figures).

Every noise source of the signal chain (:meth:`models.laser.DfbLaser.rin_draws`,
:meth:`models.receiver.Receiver.detect`, :func:`models.response.white_noise_spectrum`, the
one-pass channel of :mod:`models.lane_simulation`) draws through :func:`standard_normal`, so
the block-by-block and the one-pass simulations of a lane see the same noise for one seed.
"""

from __future__ import annotations

import math

import numpy as np

from optics.errors import InvalidParameter

_TWO_PI_F32 = np.float32(2.0 * math.pi)

#: Draws made at a time by :func:`standard_normal`: the uniforms, radii and angles of a piece
#: (0.5 MB) stay in the L2 cache, which makes 2^20 draws about twice as fast as in one pass.
PIECE = 1 << 16


def standard_normal(
    rng: np.random.Generator, size: int | tuple[int, ...], *, out: np.ndarray | None = None,
    dtype: type = np.float64,
) -> np.ndarray:
    """``size`` standard normal draws from ``rng`` by the Box–Muller transform.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the uniforms.  The draws are made in pieces of :data:`PIECE` (the last one
        shorter); a piece of ``K`` draws takes ``ceil(K/2)`` doubles for the radii, then
        ``ceil(K/2)`` single-precision uniforms for the angles (for odd ``K`` the last sine
        value is dropped).
    size : int or tuple of int
        Shape of the result.
    out : ndarray, optional
        C-contiguous array of that shape and of ``dtype`` to write the draws into.
    dtype : numpy dtype
        float64 (default) or float32: the same draws, rounded to single precision (the radius
        is rounded before its square root; each draw within a few float32 ulps of the float64 one).

    Returns
    -------
    ndarray
        The draws (``out`` if given).  In each piece the first ``ceil(K/2)`` are the cosine
        branch, the rest the sine branch of the same radii.

    Raises
    ------
    InvalidParameter
        A negative size, a dtype other than float32/float64, or an ``out`` of the wrong shape,
        type or layout.
    """
    shape = (int(size),) if np.ndim(size) == 0 else tuple(int(s) for s in size)  # type: ignore[arg-type]
    if any(s < 0 for s in shape):
        raise InvalidParameter(f"size = {size} must not be negative")
    dt = np.dtype(dtype)
    if dt not in (np.float64, np.float32):
        raise InvalidParameter(f"dtype = {dt} is not supported; float64 or float32")
    n = math.prod(shape)
    if out is not None and (out.shape != shape or out.dtype != dt or not out.flags.c_contiguous):
        raise InvalidParameter(
            f"out must be a C-contiguous {dt} array of shape {shape}, got {out.dtype} {out.shape}"
        )
    flat = np.empty(n, dtype=dt) if out is None else out.reshape(n)
    # in pieces of PIECE draws, so that the temporaries stay in cache
    half = min(PIECE, n + 1) // 2
    radius = np.empty(half)
    angle = np.empty(half, dtype=np.float32)
    trig = np.empty(half, dtype=np.float32)
    for lo in range(0, n, PIECE):
        size = min(PIECE, n - lo)
        m = (size + 1) // 2
        r, a, t = radius[:m], angle[:m], trig[:m]
        rng.random(out=r)
        np.subtract(1.0, r, out=r)  # (0, 1]: no log(0)
        np.log(r, out=r)
        r *= -2.0
        if dt == np.float32:
            r = r.astype(np.float32)
        np.sqrt(r, out=r)
        rng.random(out=a, dtype=np.float32)
        a *= _TWO_PI_F32
        np.multiply(r, np.cos(a, out=t), out=flat[lo: lo + m])
        k = size - m
        np.multiply(r[:k], np.sin(a[:k], out=t[:k]), out=flat[lo + m: lo + size])
    return flat.reshape(shape) if out is None else out
